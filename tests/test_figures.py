"""Every figure the claim runner draws is slide-ready (issue 15): 1920 x 1080 pixels, no text under
14 pt, both axes labelled on every axes that holds data (tables, simplices and colour bars declared
as such), and the instance it shows stated on the figure.

Each claim with a figure runs its check at a tiny size and draws into a temporary folder; the
rules are checked on the :class:`~proofs_checks.scaffold.figures.FigureRecord` the gallery keeps
for every saved figure (and the pixel size on the PNG itself).
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import matplotlib
import pytest

from proofs_checks.scaffold.claim import CheckContext
from proofs_checks.scaffold.figures import MIN_FONT, Gallery, caption, exempt
from proofs_checks.scaffold.registry import all_claims, claim_rng

matplotlib.use("Agg")

CLAIMS = [c for c in all_claims() if c.figure is not None]
#: Instances per claim: tiny, the figures only need something to draw (opt-success: problems).
SIZE = {"opt-success": 2, "U-catalog": 3, "U-converse": 3, "zoo-no-consistency": 2}
DEFAULT_SIZE = 6
#: The axes drawn without axis labels on purpose, figure by figure (``exempt`` in the code).
EXEMPT = {
    "u_forward_properties": {"table"},
    "opt_success_h_variants": {"table"},
    "zoo_minimizers_simplex": {"table"},
    "nlhf_is_wro": {"simplex"},
    "mitigations": {"simplex"},
    "sppo_average": {"simplex"},
    "online_trajectories": {"simplex"},
    "in_group_judge_is_nlhf": {"simplex"},
}
#: Claims that may legitimately draw nothing on a tiny run (no witness found to draw).
MAY_DRAW_NOTHING = {"DPO-no-correspondence", "SFT-no-correspondence"}
#: Claims with many figures: drawn and recorded but not written as PNGs (the PNG size is checked
#: on every other claim's files; the recorded size is the figure's size at DPI either way).
NO_PNG = {"U-catalog", "opt-success"}


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR)."""
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    w, h = struct.unpack(">II", head[16:24])
    return w, h


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_every_figure_is_slide_ready(claim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # opt-success writes its run records under reports/
    n = SIZE.get(claim.id, DEFAULT_SIZE)
    result = claim.check(CheckContext(instances=n, seed=0, rng=claim_rng(0, claim.id)))
    gallery = Gallery(tmp_path / "figures", save=claim.id not in NO_PNG)
    gallery.outdir.mkdir()
    assert claim.figure is not None
    claim.figure(result, gallery)
    if claim.id not in MAY_DRAW_NOTHING:
        assert gallery.records, f"{claim.id} drew no figure"
    if gallery.save:
        assert [r.path for r in gallery.records] == gallery.paths
    for rec in gallery.records:
        where = f"{claim.id}: {rec.name}"
        assert rec.pixels == (1920, 1080), where
        if gallery.save:
            assert _png_size(rec.path) == (1920, 1080), where
        assert rec.min_font >= MIN_FONT, f"{where}: {rec.smallest_text!r} at {rec.min_font} pt"
        assert rec.caption.strip(), f"{where}: no instance caption"
        with_data = [a for a in rec.axes if a.has_data]
        assert with_data, f"{where}: no axes with data"
        for ax in with_data:
            if ax.kind == "plot":
                assert ax.xlabel and ax.ylabel, f"{where}: axes {ax.title!r} lacks an axis label"
            elif ax.kind == "colorbar":
                assert ax.xlabel or ax.ylabel, f"{where}: a colour bar without a label"
            else:
                assert ax.kind in EXEMPT.get(rec.name, set()), (
                    f"{where}: axes {ax.title!r} declared {ax.kind!r} but not listed in EXEMPT"
                )


def test_the_gallery_records_what_breaks_the_rules(tmp_path):
    gallery = Gallery(tmp_path)
    with gallery.new("bad", size=(8, 6)) as (fig, axes):
        axes.plot([0, 1], [0, 1])
        axes.text(0.5, 0.5, "tiny", fontsize=6)
    with gallery.new("good", ncols=2, instance={"beta": Fraction(1, 10)}) as (fig, (ax, tx)):
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        exempt(tx, "table")
        tx.set_axis_off()
        tx.table(cellText=[["1"]], loc="center")
    bad, good = gallery.records
    assert bad.pixels == (960, 720) and bad.caption == "" and bad.min_font == 6
    assert bad.smallest_text == "tiny"
    assert [(a.xlabel, a.ylabel, a.has_data, a.kind) for a in bad.axes] == [("", "", True, "plot")]
    assert good.pixels == (1920, 1080) and _png_size(good.path) == (1920, 1080)
    assert good.caption == caption({"beta": Fraction(1, 10)}) == r"Instance: $\beta$ = 1/10"
    assert [a.kind for a in good.axes] == ["plot", "table"]
    assert good.min_font >= MIN_FONT


def test_exempt_accepts_only_declared_kinds():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        with pytest.raises(ValueError, match="kind"):
            exempt(ax, "anything")
    finally:
        plt.close(fig)
