"""One figure helper for every claim: size, fonts, layout, saving and closing in one place.

A claim's ``figure(result, gallery)`` draws each of its figures inside :meth:`Gallery.new`::

    def figure(result, gallery):
        with gallery.new("wr_basic_covariance", size=(4.5, 4.5)) as (fig, ax):
            ax.scatter(...)

On leaving the block the figure is laid out, saved as ``<name>.png`` in the gallery's folder at
:data:`DPI` and closed; :attr:`Gallery.paths` lists what was written.  ``simplex_xy`` (the
3-response simplex in the plane) is :func:`theory.plot.simplex_xy`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from theory.plot import simplex_xy

__all__ = ["Gallery", "DPI", "STYLE", "simplex_xy"]

#: Resolution of every saved figure.
DPI = 120
#: The house style (matplotlib rc parameters) every figure is drawn in.
STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "savefig.dpi": DPI,
}


class Gallery:
    """Where a claim's figures go: a folder, and the list of files written to it."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = Path(outdir)
        self.paths: list[Path] = []

    @contextmanager
    def new(
        self,
        name: str,
        *,
        size: tuple[float, float] = (6.4, 4.8),
        nrows: int = 1,
        ncols: int = 1,
        **subplots: Any,
    ) -> Iterator[tuple[Any, Any]]:
        """A new figure ``(fig, axes)`` drawn in :data:`STYLE`, saved as ``name.png`` on exit."""
        import matplotlib.pyplot as plt

        with plt.rc_context(STYLE):  # type: ignore[arg-type]
            fig, axes = plt.subplots(nrows, ncols, figsize=size, **subplots)
            try:
                yield fig, axes
                fig.tight_layout()
                path = self.outdir / f"{name}.png"
                fig.savefig(path, dpi=DPI)
                self.paths.append(path)
            finally:
                plt.close(fig)
