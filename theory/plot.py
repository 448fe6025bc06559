"""Pictures people use directly: the 3-response simplex and preference tournaments.

With ``K = 3`` responses a model ``pi`` (one prompt) is a point of the triangle (the 2-simplex).
Barycentric coordinates put response 0 at ``(0, 0)``, response 1 at ``(1, 0)`` and response 2 at
``(1/2, sqrt(3)/2)`` (:data:`CORNERS`), so the point of ``pi`` is ``pi @ CORNERS``
(:func:`simplex_xy`) and every corner is the point mass on its response.

On that triangle this module draws

- a heat map (and contours) of any function of the model: the win rate ``WR(pi; q)`` against an
  anchor ``q`` (:func:`win_rate_map`), an objective, a loss (:func:`simplex_heatmap`);
- marked points (:func:`simplex_points`: an SFT target, a maximal lottery, a data distribution),
  paths with a start marker and a direction arrow (:func:`simplex_path`: trajectories; the WRO
  optimum as ``beta`` varies, :func:`wro_path`) and sets of models (:func:`simplex_set`: the convex
  hull of the given models, e.g. DPO minimizers);

and, for any ``K``, a preference tournament (:func:`tournament`: an arrow from ``i`` to ``j`` when
``P[i, j] > 1/2``, as wide as ``P[i, j] - 1/2`` and labelled with ``P[i, j]``).

Every function draws on the Matplotlib ``Axes`` it is given (a new figure when ``ax`` is None)
and returns that ``Axes``.  Matplotlib is imported inside the functions, so ``import theory``
stays light.  Bad input raises the library's named errors: a point that is not a probability
vector over 3 responses (:class:`~theory.errors.NotAProbabilityVectorError`,
:class:`~theory.errors.ShapeMismatchError`), a ``P`` that is not a preference matrix (of shape
``3 x 3`` where the simplex needs one: :class:`~theory.errors.NotAPreferenceMatrixError`,
:class:`~theory.errors.ShapeMismatchError`).  Notation: docs/notation.md.

>>> from fractions import Fraction as F
>>> simplex_xy([F(1, 2), F(1, 2), 0]).tolist()
[[0.5, 0.0]]
>>> barycentric(simplex_xy([F(1, 4), F(1, 4), F(1, 2)])).round(12).tolist()
[[0.25, 0.25, 0.5]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InvalidParameterError, ShapeMismatchError
from .numbers import format_number
from .preferences import validate_preference_matrix
from .simplex import validate_model

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "CORNERS",
    "CORNER_LABELS",
    "label_number",
    "simplex_xy",
    "barycentric",
    "triangle_grid",
    "simplex_axes",
    "simplex_heatmap",
    "win_rate_map",
    "simplex_points",
    "simplex_path",
    "simplex_set",
    "wro_path",
    "tournament",
]

#: Where the point masses on responses 0, 1, 2 sit in the plane (rows).
CORNERS = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])
#: Default corner labels: the responses ``y`` of docs/notation.md.
CORNER_LABELS = ("$y=0$", "$y=1$", "$y=2$")


def _points3(p: Any, name: str) -> np.ndarray:
    """Validate one probability vector or a stack ``(n, 3)`` of them; return float ``(n, 3)``."""
    arr = validate_model(p, name=name)
    if arr.shape[1] != 3:
        raise ShapeMismatchError(f"{name} has {arr.shape[1]} responses, expected 3 (the simplex)")
    return np.asarray(arr, dtype=float)


def _matrix3(P: Any) -> np.ndarray:
    """Validate a ``3 x 3`` preference matrix (exactness kept)."""
    arr = validate_preference_matrix(P)
    if arr.shape != (3, 3):
        raise ShapeMismatchError(f"P has shape {arr.shape}, expected (3, 3) (the simplex)")
    return arr


def label_number(v: Any) -> str:
    """A number as a label: an exact value as ``p/q`` (``1`` for ``Fraction(1)``), a float with
    3 significant digits.

    >>> from fractions import Fraction
    >>> label_number(Fraction(2, 3)), label_number(2 / 3), label_number(10)
    ('2/3', '0.667', '10')
    """
    if isinstance(v, float | np.floating):
        return f"{float(v):.3g}"
    return str(format_number(v))


def _new_axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=(5, 4.5))
    return new


def simplex_xy(p: Any) -> np.ndarray:
    """Points ``(n, 2)`` in the plane of probability vectors over 3 responses: ``p @ CORNERS``.

    ``p``: one probability vector ``(3,)`` or a stack ``(n, 3)``, exact or float (validated).

    >>> simplex_xy([[1, 0, 0], [0, 1, 0]]).tolist()
    [[0.0, 0.0], [1.0, 0.0]]
    """
    return _points3(p, "p") @ CORNERS


def barycentric(xy: Any) -> np.ndarray:
    """The inverse of :func:`simplex_xy`: plane points ``(n, 2)`` -> barycentric ``(n, 3)``.

    ``p_2 = 2 y / sqrt(3)``, ``p_1 = x - p_2 / 2``, ``p_0 = 1 - p_1 - p_2`` (no validation: a point
    outside the triangle gets a negative coordinate).

    >>> barycentric([[0.5, 0.0]]).tolist()
    [[0.5, 0.5, 0.0]]
    """
    a = np.atleast_2d(np.asarray(xy, dtype=float))
    if a.ndim != 2 or a.shape[1] != 2:
        raise ShapeMismatchError(f"xy has shape {a.shape}, expected (n, 2)")
    p2 = 2 * a[:, 1] / np.sqrt(3)
    p1 = a[:, 0] - p2 / 2
    return np.column_stack([1 - p1 - p2, p1, p2])


def triangle_grid(n: int, *, margin: float = 0.0) -> np.ndarray:
    """The grid ``{(i, j, k) / n : i + j + k = n}`` of the simplex, ``((n+1)(n+2)/2, 3)``.

    ``margin > 0`` shrinks it towards the centre (``(1 - 3 margin) p + margin``) so that every
    point has full support (for functions that are infinite on the boundary).

    >>> triangle_grid(1).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    if not isinstance(n, int | np.integer) or n < 1:
        raise InvalidParameterError(f"n = {n!r}, expected an integer >= 1")
    if not 0 <= margin < 1 / 3:
        raise InvalidParameterError(f"margin = {margin!r}, expected 0 <= margin < 1/3")
    pts = [(n - j - k, j, k) for k in range(n + 1) for j in range(n + 1 - k)]
    grid = np.array(pts, dtype=float) / n
    return (1 - 3 * margin) * grid + margin


def simplex_axes(
    ax: Axes | None = None, *, labels: Sequence[str] = CORNER_LABELS, title: str | None = None
) -> Axes:
    """Draw the empty triangle with its corners labelled (``labels[i]`` at the point mass on
    response ``i``) and return the Axes (equal aspect, no frame)."""
    if len(labels) != 3:
        raise ShapeMismatchError(f"labels has {len(labels)} entries, expected 3")
    ax = _new_axes(ax)
    ring = np.vstack([CORNERS, CORNERS[:1]])
    ax.plot(ring[:, 0], ring[:, 1], color="black", lw=1, gid="simplex-outline")
    offsets = [(-0.04, -0.06, "right"), (0.04, -0.06, "left"), (0.0, 0.04, "center")]
    for (x, y), (dx, dy, ha), text in zip(CORNERS, offsets, labels, strict=True):
        ax.text(x + dx, y + dy, text, ha=ha, va="center", gid="corner-label")
    ax.set_xlim(-0.15, 1.15)
    ax.set_ylim(-0.12, np.sqrt(3) / 2 + 0.1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title is not None:
        ax.set_title(title)
    return ax


def simplex_heatmap(
    f: Callable[[np.ndarray], Any],
    ax: Axes | None = None,
    *,
    resolution: int = 40,
    margin: float = 0.0,
    levels: int | Sequence[float] | None = None,
    cmap: str = "viridis",
    colorbar: bool = True,
    label: str | None = None,
    labels: Sequence[str] = CORNER_LABELS,
) -> Axes:
    """A heat map of ``f(pi)`` over the simplex, with optional contour lines.

    ``f`` maps a float probability vector ``(3,)`` to a number (a win rate, an objective, a
    loss). It is evaluated at :func:`triangle_grid` ``(resolution, margin)``; the colours are
    interpolated between those values (a ``tripcolor`` whose array is the values, in grid order).
    Triangles touching a non-finite value are left blank. ``levels`` adds contour lines (a count
    or the values), ``label`` names the colour bar.
    """
    import matplotlib.tri as mtri

    ax = simplex_axes(ax, labels=labels)
    grid = triangle_grid(resolution, margin=margin)
    values = np.array([float(f(p)) for p in grid])
    xy = grid @ CORNERS
    tri = mtri.Triangulation(xy[:, 0], xy[:, 1])
    bad = ~np.isfinite(values)
    if bad.all():
        raise InvalidParameterError("f is not finite at any grid point")
    if bad.any():
        tri.set_mask(bad[tri.triangles].any(axis=1))
    shown = np.where(bad, np.nanmin(np.where(bad, np.nan, values)), values)
    mesh = ax.tripcolor(tri, shown, shading="gouraud", cmap=cmap, gid="heatmap")
    if levels is not None:
        cs = ax.tricontour(tri, shown, levels=levels, colors="white", linewidths=0.8)
        ax.clabel(cs, fontsize=8, fmt="%.3g")
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, shrink=0.8, label=label)
    return ax


def win_rate_map(
    P: Any,
    anchor: Any,
    ax: Axes | None = None,
    *,
    h: Any = "identity",
    levels: int | Sequence[float] | None = (0.5,),
    **kwargs: Any,
) -> Axes:
    """Heat map of the h-win rate ``WR_h(pi; q) = pi^T h(P) q`` against a fixed anchor ``q``
    (docs/theory.md, Definitions), with the contour ``WR = 1/2`` by default.

    ``P``: a ``3 x 3`` preference matrix; ``anchor``: the probability vector ``q``; other keywords
    go to :func:`simplex_heatmap` (the colour bar is labelled ``WR(pi; q)`` unless given).
    """
    from .winrate import h_win_rate

    P = _matrix3(P)
    q = _points3(anchor, "anchor")[0]
    Pf = np.asarray(P, dtype=float)
    sub = "" if h == "identity" else "_{" + (h if isinstance(h, str) else "h") + "}"
    kwargs.setdefault("label", r"$\mathrm{WR}" + sub + r"(\pi; q)$")
    return simplex_heatmap(lambda p: h_win_rate(Pf, p, q, h), ax, levels=levels, **kwargs)


def simplex_points(
    points: Any,
    ax: Axes | None = None,
    *,
    names: Sequence[str] | None = None,
    label: str | None = None,
    marker: str = "o",
    color: str | None = None,
    size: float = 60,
) -> Axes:
    """Mark models on the simplex (a ``scatter`` whose offsets are :func:`simplex_xy` of the
    points). ``names`` writes a name beside each point; ``label`` goes to the legend.

    Draws on the triangle already on ``ax`` (a new one, via :func:`simplex_axes`, when None).
    """
    xy = simplex_xy(points)
    if names is not None and len(names) != len(xy):
        raise ShapeMismatchError(f"names has {len(names)} entries, expected {len(xy)}")
    ax = simplex_axes() if ax is None else ax
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=size,
        marker=marker,
        color=color,
        label=label,
        edgecolors="black",
        zorder=5,
        gid="points",
    )
    for (x, y), name in zip(xy, names or [], strict=False):
        ax.annotate(name, (x, y), xytext=(6, 6), textcoords="offset points", zorder=6)
    return ax


def simplex_path(
    path: Any,
    ax: Axes | None = None,
    *,
    label: str | None = None,
    color: str | None = None,
    arrow: bool = True,
    start: bool = True,
) -> Axes:
    """Draw a sequence of models ``(n, 3)`` as a line (a trajectory, an optimum path), with a
    hollow circle at the start and an arrow head on the last segment (the direction).

    The line's data are :func:`simplex_xy` of the path, in order.
    """
    xy = simplex_xy(path)
    ax = simplex_axes() if ax is None else ax
    (line,) = ax.plot(xy[:, 0], xy[:, 1], color=color, label=label, lw=1.8, zorder=4, gid="path")
    c = line.get_color()
    if start:
        ax.plot(xy[:1, 0], xy[:1, 1], "o", mfc="white", mec=c, ms=7, zorder=5, gid="path-start")
    if arrow and len(xy) >= 2 and not np.allclose(xy[-2], xy[-1]):
        ax.annotate(
            "",
            xy=tuple(xy[-1]),
            xytext=tuple(xy[-2]),
            zorder=5,
            arrowprops={"arrowstyle": "-|>", "color": c, "lw": 1.8},
        )
    return ax


def _hull(xy: np.ndarray) -> np.ndarray:
    """Convex hull (Andrew's monotone chain), counter-clockwise, no repeated end point."""
    pts = sorted({(round(x, 12), round(y, 12)) for x, y in xy})
    if len(pts) <= 2:
        return np.array(pts)

    def half(seq: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for p in seq:
            while (
                len(out) >= 2
                and (
                    (out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                    - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])
                )
                <= 0
            ):
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def simplex_set(
    models: Any,
    ax: Axes | None = None,
    *,
    label: str | None = None,
    color: str = "tab:red",
    alpha: float = 0.3,
) -> Axes:
    """Shade the convex hull of a set of models ``(n, 3)`` (a point or a segment when the models
    span no area), e.g. samples of the DPO minimizer set. The polygon's vertices are the hull of
    :func:`simplex_xy` of the models, counter-clockwise."""
    from matplotlib.patches import Polygon

    hull = _hull(simplex_xy(models))
    ax = simplex_axes() if ax is None else ax
    if len(hull) >= 3:
        ax.add_patch(
            Polygon(hull, closed=True, color=color, alpha=alpha, label=label, zorder=3, gid="set")
        )
    else:
        ax.plot(
            hull[:, 0],
            hull[:, 1],
            "-o",
            color=color,
            lw=4,
            alpha=max(alpha, 0.6),
            label=label,
            zorder=3,
            gid="set",
        )
    return ax


def wro_path(
    P: Any,
    anchor: Any,
    betas: Sequence[Any],
    pi_ref: Any = None,
    ax: Axes | None = None,
    *,
    h: Any = "identity",
    label: str | None = r"WRO optimum $\pi^*_\beta$",
    color: str | None = "tab:orange",
) -> Axes:
    """Draw the WRO optimum ``pi*_beta ∝ pi_ref exp(g / beta)``, ``g = h(P) q``, as ``beta``
    runs through ``betas`` (docs/wro.md), with the first and last ``beta`` written at the ends.

    ``anchor`` is a fixed ``q`` or ``"self"`` (the NLHF equilibrium path); every ``beta`` must be
    positive (at ``beta = 0`` the optimum can be a set). Computed by
    :func:`theory.wro.wro_optimum`.
    """
    from .wro import wro_optimum

    P = _matrix3(P)
    if len(betas) < 2:
        raise InvalidParameterError(f"betas has {len(betas)} values, expected at least 2")
    path = np.array(
        [np.asarray(wro_optimum(P, anchor, b, pi_ref, h).pi, dtype=float) for b in betas]
    ).reshape(len(betas), 3)
    ax = simplex_path(path, ax, label=label, color=color)
    for b, (x, y) in ((betas[0], path[0] @ CORNERS), (betas[-1], path[-1] @ CORNERS)):
        ax.annotate(
            rf"$\beta={label_number(b)}$",
            (x, y),
            xytext=(6, -12),
            textcoords="offset points",
            fontsize=8,
            gid="beta-label",
        )
    return ax


def tournament(
    P: Any,
    ax: Axes | None = None,
    *,
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> Axes:
    """Draw who beats whom: responses on a circle, an arrow ``i -> j`` for each pair with
    ``P[i, j] > 1/2`` (ties drawn as a dashed line), as wide as ``P[i, j] - 1/2`` and labelled
    with ``P[i, j]`` (exact fractions as ``p/q``).

    ``P``: a ``K x K`` preference matrix, any ``K >= 2``. Each arrow's ``gid`` is ``"i->j"``.
    """
    P = validate_preference_matrix(P)
    K = P.shape[0]
    names = list(labels) if labels is not None else [f"$y={i}$" for i in range(K)]
    if len(names) != K:
        raise ShapeMismatchError(f"labels has {len(names)} entries, expected K = {K}")
    ax = _new_axes(ax)
    angle = np.pi / 2 + 2 * np.pi * np.arange(K) / K
    pos = np.column_stack([np.cos(angle), np.sin(angle)])
    for i, j in zip(*np.triu_indices(K, 1), strict=True):
        _tournament_edge(ax, P, pos, int(i), int(j))
    for (x, y), name in zip(pos, names, strict=True):
        ax.text(
            x,
            y,
            name,
            ha="center",
            va="center",
            fontsize=11,
            gid="node",
            bbox={"boxstyle": "circle", "fc": "lightyellow", "ec": "black"},
        )
    ax.set_xlim(-1.4, 1.4)
    ax.set_ylim(-1.4, 1.4)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title if title is not None else r"$i \to j$: $P[i, j] > 1/2$")
    return ax


def _tournament_edge(ax: Axes, P: np.ndarray, pos: np.ndarray, i: int, j: int) -> None:
    """The edge between responses ``i`` and ``j`` of :func:`tournament`: an arrow from the winner
    (a dashed line for a tie) as wide as ``P[win, lose] - 1/2``, labelled with that entry."""
    from matplotlib.patches import FancyArrowPatch

    pij = P[i, j]
    win, lose, p = (i, j, pij) if pij >= P[j, i] else (j, i, P[j, i])
    tie = p == P[lose, win]
    strength = float(p) - 0.5
    arrow = FancyArrowPatch(
        pos[win],
        pos[lose],
        shrinkA=18,
        shrinkB=18,
        arrowstyle="-" if tie else "-|>",
        mutation_scale=14,
        lw=1 + 8 * strength,
        ls="--" if tie else "-",
        color="tab:blue",
        gid=f"{win}->{lose}",
    )
    ax.add_patch(arrow)
    mid = 0.6 * pos[win] + 0.4 * pos[lose]
    ax.text(
        mid[0],
        mid[1],
        label_number(p),
        ha="center",
        va="center",
        fontsize=9,
        bbox={"fc": "white", "ec": "none", "pad": 1},
        gid=f"P[{win},{lose}]",
    )
