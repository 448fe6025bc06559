"""The claim scaffold: tally merging, instance cells, verdicts, controls, the CLI's exit codes,
its path validation and its behaviour on interrupt."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofs_checks.scaffold import (
    CheckResult,
    Claim,
    Control,
    Counts,
    Max,
    Min,
    Samples,
    Tally,
    cells,
    cli,
    counts,
    maximum,
    minimum,
    samples,
    split,
    verdict_of,
)
from proofs_checks.scaffold.runner import run_claim


@dataclass
class Stats(Tally):
    n: int = 0
    worst: Max = maximum()
    best: Min = minimum()
    points: Samples = samples(3)
    by_family: Counts = counts()


def _chunk(values: list[float], start: int) -> Stats:
    """A tally of one chunk of values, ``start`` their position among all."""
    t = Stats()
    for i, v in enumerate(values):
        t.n += 1
        t.worst.add(v)
        t.best.add(v)
        t.points.add(v)
        t.by_family.add("even" if int(v) % 2 == 0 else "odd")
        if v > 5:
            t.witness.offer((round(v), start + i), {"v": v})
    return t


@given(st.lists(st.integers(0, 10), max_size=12), st.integers(0, 12))
def test_merging_chunks_equals_one_tally_of_all(values, cut):
    vals = [float(v) for v in values]
    cut = min(cut, len(vals))
    whole = _chunk(vals, 0)
    merged = _chunk(vals[:cut], 0).merge(_chunk(vals[cut:], cut))
    assert merged.summary() == whole.summary()
    assert merged.witness.size == whole.witness.size
    assert merged.witness.value == whole.witness.value
    assert merged.witness.count == whole.witness.count


def test_merge_rules_one_by_one():
    a, b = Stats(n=2), Stats(n=3)
    a.worst.add(1.0, np.array([4.0, 2.0]))
    b.worst.add(3.0)
    a.points.add(1, 2)
    b.points.add(3, 4)
    a.witness.offer((2, 0), {"who": "a"})
    b.witness.offer((2, 1), {"who": "b"})  # a tie: the earlier chunk's witness stays
    m = a.merge(b)
    assert m.n == 5 and m.worst.value == 4.0 and m.best.value is None
    assert m.points.values == [1, 2, 3] and m.points.offered == 4
    assert m.witness.value == {"who": "a"} and m.witness.count == 2
    with pytest.raises(TypeError):
        a.merge(Tally())


def test_cells_reproduce_the_per_axis_draws():
    n = 50
    drawn = list(cells(np.random.default_rng(3), n, K=range(2, 6), h=("id", "logit")))
    rng = np.random.default_rng(3)
    Ks, hs = rng.integers(2, 6, size=n), rng.integers(0, 2, size=n)
    assert sum(c.n for c in drawn) == n
    for c in drawn:
        assert np.all(Ks[c.index] == c.K)
        assert np.all(hs[c.index] == ("id", "logit").index(c.h))
    with pytest.raises(AttributeError):
        _ = drawn[0].beta


def test_split_sums_to_n():
    assert split(7, [2, 1]) == [5, 2]
    assert sum(split(1001, [3, 3, 1])) == 1001


def _claim(found: bool, *, expected="holds", controls=(), raises=False) -> Claim:
    def check(ctx):
        if raises:
            raise ZeroDivisionError("boom")
        return CheckResult(observed="o", instances=ctx.instances, found=found)

    return Claim("WR-basic", "s", expected, check, controls=controls)


def test_verdicts_follow_runner_md():
    assert verdict_of("holds", CheckResult("o", 1, found=False)) == "agrees"
    assert verdict_of("holds", CheckResult("o", 1, found=True)) == "disagrees"
    assert verdict_of("counterexample", CheckResult("o", 1, found=True)) == "agrees"
    assert verdict_of("holds", CheckResult("o", 1, False, inconclusive=True)) == "inconclusive"
    assert verdict_of("holds", None) == "invalid"


def test_a_missed_control_or_a_crash_makes_the_run_invalid():
    missed = Control("never fires", lambda rng: False)
    fires = Control("fires", lambda rng: True)
    raising = Control("raises", lambda rng: 1 / 0)
    ok = run_claim(_claim(False, controls=(fires,)), instances=1, seed=0, figures_dir=None)
    assert ok.verdict == "agrees"
    for ctl in (missed, raising):
        run = run_claim(_claim(False, controls=(fires, ctl)), instances=1, seed=0, figures_dir=None)
        assert run.verdict == "invalid"
    crashed = run_claim(_claim(False, raises=True), instances=1, seed=0, figures_dir=None)
    assert crashed.verdict == "invalid" and "ZeroDivisionError: boom" in crashed.error
    assert json.dumps(crashed.as_dict())


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ([_claim(False)], 0),
        ([_claim(True)], 1),
        ([_claim(False, raises=True)], 3),
        ([_claim(True), _claim(False, raises=True)], 1),
    ],
)
def test_exit_status(monkeypatch, capsys, claims, status):
    monkeypatch.setattr(cli, "all_claims", lambda: claims)
    assert cli.main(["--no-figures"]) == status
    assert f"exit status {status}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [["--seed", "-5"], ["--instances", "0"], ["--only", "nope"], ["--bogus"]],
)
def test_usage_errors_exit_2(monkeypatch, argv):
    monkeypatch.setattr(cli, "all_claims", lambda: [_claim(False)])
    with pytest.raises(SystemExit) as info:
        cli.main([*argv, "--no-figures"])
    assert info.value.code == 2


def test_bad_output_paths_are_refused_before_any_work(monkeypatch, tmp_path):
    ran = []
    monkeypatch.setattr(cli, "all_claims", lambda: [_claim(False)])
    monkeypatch.setattr(cli, "run_claims", lambda *a, **k: ran.append(1))
    a_file = tmp_path / "file"
    a_file.write_text("x")
    bad = [
        ["--json", str(tmp_path)],  # a folder
        ["--figures", str(a_file)],  # a file
        ["--json", str(a_file / "under_a_file.json")],
    ]
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        bad.append(["--figures", str(locked / "figs")])
    for argv in bad:
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code == 2, argv
    assert not ran


def test_interrupt_writes_the_partial_report_and_exits_130(monkeypatch, tmp_path, capsys):
    def interrupted(ctx):
        raise KeyboardInterrupt

    second = Claim("U-forward", "s", "holds", interrupted)
    monkeypatch.setattr(cli, "all_claims", lambda: [_claim(False), second])
    out = tmp_path / "r.json"
    assert cli.main(["--no-figures", "--json", str(out)]) == 130
    report = json.loads(out.read_text())
    assert report["complete"] is False
    assert [c["id"] for c in report["claims"]] == ["WR-basic"]
    assert "interrupted after 1 of 2 claims" in capsys.readouterr().err


def test_duplicate_ids_run_once(monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "all_claims", lambda: [_claim(False)])
    out = tmp_path / "r.json"
    cli.main(["--only", "WR-basic", "WR-basic", "--no-figures", "--json", str(out)])
    assert len(json.loads(out.read_text())["claims"]) == 1


def test_only_the_canonical_run_refreshes_the_gallery():
    parse = cli.build_parser().parse_args
    assert cli.figures_dir_for(parse([])) == cli.GALLERY
    for argv in (["--seed", "1"], ["--quick"], ["--instances", "5"], ["--only", "WR-basic"]):
        assert cli.figures_dir_for(parse(argv)) == cli.SCRATCH_FIGURES
    assert cli.figures_dir_for(parse(["--no-figures"])) is None


def test_fractions_survive_in_the_report(monkeypatch, capsys):
    def check(ctx):
        return CheckResult("o", 1, found=True, counterexample={"x": Fraction(1, 3)})

    monkeypatch.setattr(cli, "all_claims", lambda: [Claim("WR-basic", "s", "holds", check)])
    assert cli.main(["--no-figures"]) == 1
    assert '"1/3"' in capsys.readouterr().out


def test_result_from_a_tally_refuses_to_overwrite_a_statistic():
    t = Stats(n=2)
    t.witness.offer((1,), {"x": 1})
    r = t.result(5, "seen", extra=[1, 2])
    assert r.found and r.counterexample == {"x": 1} and r.instances == 5
    assert r.details["n"] == 2 and r.details["extra"] == [1, 2]
    with pytest.raises(ValueError, match="overwrite"):
        t.result(5, "seen", n=3)


def test_a_figure_that_fails_makes_the_run_invalid_not_a_crash(tmp_path):
    def figure(result, gallery):
        raise RuntimeError("no ink")

    claim = Claim("WR-basic", "s", "holds", _claim(False).check, figure)
    run = run_claim(claim, instances=1, seed=0, figures_dir=tmp_path)
    assert run.verdict == "invalid" and run.error.startswith("figure: RuntimeError: no ink")
