"""One figure helper for every claim: size, fonts, layout, the instance caption, saving, closing.

A claim's ``figure(result, gallery)`` draws each of its figures inside :meth:`Gallery.new`::

    def figure(result, gallery):
        with gallery.new("wr_basic_covariance", instance={"K": 3, "beta": Fraction(1, 10)}) as (
            fig,
            ax,
        ):
            ax.scatter(...)

Every figure is slide-ready by default: 16:9 at :data:`SIZE` inches and :data:`DPI` dots per
inch (1920 x 1080 pixels), drawn in :data:`STYLE` (no text under :data:`MIN_FONT` points), laid out
by Matplotlib's constrained layout, with the instance it shows written as a caption along its
bottom edge (``instance=``: a dict ``name -> value``, names in the paper's notation via
:data:`NOTATION`, values exact via :func:`~proofs_checks.common.text.format_exact`; or a
ready string).  On leaving the block the figure is saved as ``<name>.png`` in the gallery's
folder and closed; :attr:`Gallery.paths` lists what was written and :attr:`Gallery.records`
what each figure holds (:class:`FigureRecord`: its axes' labels, its smallest font, its caption),
so a test can check the rules (``tests/test_figures.py``).

An axes drawn without axis labels on purpose (a table, the 3-response simplex, a tournament) is
declared with :func:`exempt` (:func:`draw_table` draws a table and declares it); every other
axes that holds data should label both axes, and every colour should be labelled (a legend or a
direct label).  :func:`tex` writes an exact number in mathtext (``\\frac{p}{q}``).
``simplex_xy`` (the 3-response simplex in the plane) is :func:`theory.plot.simplex_xy`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from theory.plot import simplex_xy

from ..common.text import format_exact

__all__ = [
    "Gallery",
    "FigureRecord",
    "AxesRecord",
    "DPI",
    "SIZE",
    "MIN_FONT",
    "STYLE",
    "NOTATION",
    "EXEMPT_KINDS",
    "caption",
    "tex",
    "exempt",
    "draw_table",
    "simplex_xy",
]

#: Resolution of every saved figure.
DPI = 120
#: The default size in inches: 16:9, which at :data:`DPI` is 1920 x 1080 pixels.
SIZE = (16.0, 9.0)
#: The smallest font size (points) any text of a figure may have at :data:`SIZE`.
MIN_FONT = 14.0
#: The house style (matplotlib rc parameters) every figure is drawn in: no font under MIN_FONT.
STYLE: dict[str, Any] = {
    "font.size": 18,
    "axes.titlesize": 20,
    "axes.labelsize": 18,
    "xtick.labelsize": 16,
    "ytick.labelsize": 16,
    "legend.fontsize": 16,
    "legend.title_fontsize": 16,
    "figure.titlesize": 22,
    "lines.linewidth": 2.2,
    "lines.markersize": 8,
    "axes.grid": False,
    "savefig.dpi": DPI,
}
#: Code names -> the paper's notation (mathtext) for instance captions.
NOTATION: dict[str, str] = {
    "P": "$P$",
    "mu": r"$\mu$",
    "mu0": r"$\mu_0$",
    "mu1": r"$\mu_1$",
    "pi": r"$\pi$",
    "pi_ref": r"$\pi_{\mathrm{ref}}$",
    "pi_a": r"$\pi_a$",
    "pi_b": r"$\pi_b$",
    "q": "$q$",
    "rho": r"$\rho$",
    "beta": r"$\beta$",
    "h": "$h$",
    "K": "$K$",
    "M": "$M$",
    "eta": r"$\eta$",
    "eps": r"$\varepsilon$",
    "n": "$n$",
    "r": "$r$",
}
#: What :func:`exempt` accepts: axes that carry no axis labels on purpose.
EXEMPT_KINDS = ("table", "simplex", "diagram")
#: Caption font size (points).
CAPTION_FONT = 16


def caption(instance: Mapping[str, Any] | str, prefix: str = "Instance: ") -> str:
    """The instance caption: ``prefix`` then ``"name = value; ..."`` with names in the paper's
    notation (:data:`NOTATION`; other names as given) and values written exactly (``1/3``,
    ``[1/2, 1/2]``); a string is returned as it is.

    >>> from fractions import Fraction as F
    >>> caption({"beta": F(1, 10), "mu": [F(1, 2), F(1, 2)]})
    'Instance: $\\\\beta$ = 1/10;  $\\\\mu$ = [1/2, 1/2]'
    >>> caption({"first": {"K": 2, "y": 1}})
    'Instance: first = ($K$ = 2, y = 1)'
    >>> caption("10 random instances")
    '10 random instances'
    """
    if isinstance(instance, str):
        return instance
    parts = [f"{NOTATION.get(k, k)} = {_value(v)}" for k, v in instance.items()]
    return prefix + ";  ".join(parts)


def _value(v: Any) -> str:
    """A caption value: exact numbers as :func:`format_exact` writes them, a dict as
    ``(name = value, ...)`` (never a Python repr)."""
    if isinstance(v, Mapping):
        return "(" + ", ".join(f"{NOTATION.get(k, k)} = {_value(x)}" for k, x in v.items()) + ")"
    return format_exact(v, 3)


def tex(v: Any) -> str:
    """A number in mathtext: an exact rational as ``\\frac{p}{q}`` (signed; integers plain),
    anything else as :func:`~proofs_checks.common.text.format_exact` writes it.

    >>> from fractions import Fraction as F
    >>> tex(F(-1, 3)), tex(F(2)), tex(0.25)
    ('-\\\\frac{1}{3}', '2', '0.25')
    """
    if isinstance(v, Fraction | int | np.integer) and not isinstance(v, bool):
        f = Fraction(int(v)) if isinstance(v, np.integer) else Fraction(v)
        sign, a = ("-" if f < 0 else ""), abs(f)
        if a.denominator == 1:
            return sign + str(a.numerator)
        return sign + f"\\frac{{{a.numerator}}}{{{a.denominator}}}"
    return format_exact(v, 3)


def exempt(ax: Any, kind: str) -> Any:
    """Declare that ``ax`` has no axis labels on purpose (``kind``: one of :data:`EXEMPT_KINDS`:
    a table, the 3-response simplex, a diagram such as a tournament); returns ``ax``."""
    if kind not in EXEMPT_KINDS:
        raise ValueError(f"kind = {kind!r}, expected one of {EXEMPT_KINDS}")
    ax.set_gid(f"exempt:{kind}")
    return ax


def draw_table(
    ax: Any,
    rows: Sequence[Sequence[str]],
    header: Sequence[str],
    *,
    colours: Sequence[Sequence[str]] | None = None,
    widths: Sequence[float] | None = None,
    fontsize: float = 16,
) -> Any:
    """Draw a table filling ``ax`` (header row first; ``colours`` the body cells' colours,
    ``widths`` the relative column widths) at ``fontsize`` points, declare ``ax`` a table
    (:func:`exempt`) and return the Matplotlib ``Table``."""
    exempt(ax, "table")
    ax.set_axis_off()
    total = sum(widths) if widths else len(header)
    table = ax.table(
        cellText=[list(r) for r in rows],
        cellColours=[list(c) for c in colours] if colours else None,
        colLabels=list(header),
        colWidths=[w / total for w in widths] if widths else None,
        cellLoc="center",
        bbox=[0, 0, 1, 1],
    )
    table.auto_set_font_size(False)
    table.set_fontsize(fontsize)
    for (r, _c), cell in table.get_celld().items():
        if r == 0:
            cell.set_text_props(weight="bold")
    return table


@dataclass(frozen=True)
class AxesRecord:
    """One axes of a saved figure: its title and axis labels, whether it holds data, and its
    kind: ``"plot"``, ``"colorbar"`` (one label suffices) or what :func:`exempt` declared."""

    title: str
    xlabel: str
    ylabel: str
    has_data: bool
    kind: str


@dataclass(frozen=True)
class FigureRecord:
    """One saved figure: its file, size in pixels, instance caption, axes, and the smallest font
    size (points) of any visible text on it (``smallest_text`` is that text)."""

    name: str
    path: Path
    pixels: tuple[int, int]
    caption: str
    axes: tuple[AxesRecord, ...]
    min_font: float
    smallest_text: str


class Gallery:
    """Where a claim's figures go: a folder, the files written to it and what each holds.

    ``save=False`` draws and records every figure but writes no file (a test of the rules that
    need not pay for the PNGs); :attr:`paths` then stays empty.
    """

    def __init__(self, outdir: Path, *, save: bool = True) -> None:
        self.outdir = Path(outdir)
        self.save = save
        self.paths: list[Path] = []
        self.records: list[FigureRecord] = []

    @contextmanager
    def new(
        self,
        name: str,
        *,
        size: tuple[float, float] = SIZE,
        nrows: int = 1,
        ncols: int = 1,
        instance: Mapping[str, Any] | str | None = None,
        **subplots: Any,
    ) -> Iterator[tuple[Any, Any]]:
        """A new figure ``(fig, axes)`` drawn in :data:`STYLE` with constrained layout, the
        ``instance`` caption (:func:`caption`) along its bottom edge; saved as ``name.png`` on
        exit and recorded in :attr:`records`."""
        import matplotlib.pyplot as plt

        text = "" if instance is None else caption(instance)
        with plt.rc_context(STYLE):  # type: ignore[arg-type]
            fig, axes = plt.subplots(nrows, ncols, figsize=size, layout="constrained", **subplots)
            try:
                yield fig, axes
                if text:
                    _add_caption(fig, text)
                path = self.outdir / f"{name}.png"
                if self.save:
                    fig.savefig(path, dpi=DPI)
                    self.paths.append(path)
                self.records.append(_record(fig, name, path, text))
            finally:
                plt.close(fig)


def _add_caption(fig: Any, text: str) -> None:
    """Write ``text`` (wrapped to the figure's width) along the bottom edge and keep the axes
    above it."""
    width_px = fig.get_size_inches()[0] * DPI
    chars = int(width_px / (0.54 * CAPTION_FONT * DPI / 72)) - 2
    text = "\n".join(_wrap(line, chars) for line in text.split("\n"))
    lines = text.count("\n") + 1
    height = (lines * CAPTION_FONT * 1.6 + 12) / (72 * fig.get_size_inches()[1])
    fig.text(0.01, 0.008, text, ha="left", va="bottom", fontsize=CAPTION_FONT, gid="caption")
    fig.get_layout_engine().set(rect=(0, height, 1, 1 - height))


def _visible_len(word: str) -> int:
    """About how many characters ``word`` shows (mathtext commands, braces and ``$`` dropped)."""
    return len(re.sub(r"\\[a-zA-Z]+|[{}$_^]", "", word)) if "$" in word else len(word)


def _wrap(line: str, chars: int) -> str:
    """Greedy word wrap of ``line`` at about ``chars`` visible characters; words inside ``$...$``
    are never split from each other."""
    words = re.findall(r"\$[^$]*\$\S*|\S+", line)
    out: list[str] = []
    current, n = "", 0
    for w in words:
        k = _visible_len(w)
        if current and n + 1 + k > chars:
            out.append(current)
            current, n = w, k
        else:
            current, n = (f"{current} {w}" if current else w), n + (1 if current else 0) + k
    out.append(current)
    return "\n".join(out)


def _record(fig: Any, name: str, path: Path, text: str) -> FigureRecord:
    """What the saved figure holds (read after drawing, so the fonts are the final ones)."""
    w, h = (round(v * DPI) for v in fig.get_size_inches())
    sizes = [(t.get_fontsize(), t.get_text()) for t in _texts(fig)]
    smallest = min(sizes, default=(float("inf"), ""))
    axes = tuple(_axes_record(ax) for ax in fig.axes if ax.get_visible())
    return FigureRecord(name, path, (w, h), text, axes, float(smallest[0]), smallest[1])


def _texts(fig: Any) -> Iterator[Any]:
    """Every text the saved figure shows (visible, non-empty; table cells included; the tick
    labels of an axes drawn without axes, which Matplotlib keeps invisible in effect, left out)."""
    from matplotlib.table import Table
    from matplotlib.text import Text

    hidden = {
        id(t)
        for ax in fig.axes
        if not ax.axison or not ax.get_visible()
        for axis in (ax.xaxis, ax.yaxis)
        for t in axis.findobj(Text)
    }
    for t in fig.findobj(Text):
        if id(t) not in hidden and t.get_visible() and t.get_text().strip():
            yield t
    for table in fig.findobj(Table):
        for cell in table.get_celld().values():
            if cell.get_text().get_text().strip():
                yield cell.get_text()


def _axes_record(ax: Any) -> AxesRecord:
    gid = ax.get_gid() or ""
    kind = gid.split(":", 1)[1] if gid.startswith("exempt:") else "plot"
    if getattr(ax, "_colorbar", None) is not None:
        kind = "colorbar"
    has_data = bool(ax.lines or ax.collections or ax.patches or ax.images or ax.tables)
    # a twin axes (twinx/twiny) shares its other axis, and that axis's label, with its sibling
    xlabel = ax.get_xlabel() or next(
        (a.get_xlabel() for a in ax.get_shared_x_axes().get_siblings(ax) if a.get_xlabel()), ""
    )
    ylabel = ax.get_ylabel() or next(
        (a.get_ylabel() for a in ax.get_shared_y_axes().get_siblings(ax) if a.get_ylabel()), ""
    )
    return AxesRecord(ax.get_title(), xlabel, ylabel, has_data, kind)
