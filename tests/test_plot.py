"""theory.plot: tested on the data each function draws, and on bad input."""

import subprocess
import sys
from fractions import Fraction as F

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given  # noqa: E402

from theory import (
    bradley_terry_from_strengths,
    cyclic,
    h_win_rate,
    rock_paper_scissors,
    total_order,
    uniform,
    win_rate,
    wro_optimum,
)
from theory.errors import (  # noqa: E402
    InvalidParameterError,
    NotAPreferenceMatrixError,
    NotAProbabilityVectorError,
    ShapeMismatchError,
)
from theory.plot import (  # noqa: E402
    CORNERS,
    barycentric,
    simplex_axes,
    simplex_heatmap,
    simplex_path,
    simplex_points,
    simplex_set,
    simplex_xy,
    tournament,
    triangle_grid,
    win_rate_map,
    wro_path,
)
from theory.strategies import simplex_vectors  # noqa: E402

Q = [F(1, 2), F(1, 4), F(1, 4)]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def by_gid(artists, gid):
    return [a for a in artists if a.get_gid() == gid]


def test_import_theory_does_not_import_matplotlib():
    code = "import sys, theory, theory.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_corners_are_point_masses_and_centroid():
    assert np.allclose(simplex_xy(np.eye(3, dtype=int)), CORNERS)
    # the uniform model sits at the centroid (1/2, sqrt(3)/6), by hand
    assert np.allclose(simplex_xy(uniform(3)), [[0.5, np.sqrt(3) / 6]])
    # an exact point: (1/4, 1/4, 1/2) -> x = 1/4 + 1/4 = 1/2, y = sqrt(3)/4
    assert np.allclose(simplex_xy(Q[::-1]), [[0.25 + 0.25, np.sqrt(3) / 4]])


@given(simplex_vectors(3))
def test_barycentric_inverts_simplex_xy(p):
    assert np.allclose(barycentric(simplex_xy(p))[0], p)


def test_triangle_grid():
    g = triangle_grid(4)
    assert g.shape == (15, 3)
    assert np.allclose(g.sum(axis=1), 1)
    assert {tuple(np.round(4 * r).astype(int)) for r in g} == {
        (i, j, 4 - i - j) for i in range(5) for j in range(5 - i)
    }
    assert triangle_grid(3, margin=0.1).min() == pytest.approx(0.1)
    with pytest.raises(InvalidParameterError):
        triangle_grid(0)
    with pytest.raises(InvalidParameterError):
        triangle_grid(3, margin=0.5)


@pytest.mark.parametrize(
    "bad, error",
    [
        ([F(1, 2), F(1, 2)], ShapeMismatchError),  # two responses
        ([0.5, 0.25, 0.125, 0.125], ShapeMismatchError),  # four
        ([0.5, 0.6, 0.0], NotAProbabilityVectorError),  # sums to 1.1
        ([-0.5, 1.0, 0.5], NotAProbabilityVectorError),  # negative entry
        ([[[1, 0, 0]]], ShapeMismatchError),  # rank 3
    ],
)
def test_bad_points_raise_named_errors(bad, error):
    with pytest.raises(error):
        simplex_xy(bad)
    with pytest.raises(error):
        simplex_points(bad)
    with pytest.raises(error):
        simplex_path(bad)


def test_bad_matrices_raise_named_errors():
    with pytest.raises(ShapeMismatchError):
        win_rate_map(total_order(4), uniform(3))
    with pytest.raises(NotAPreferenceMatrixError):
        win_rate_map([[F(1, 2), F(2, 3), 0], [0, F(1, 2), 0], [1, 1, F(1, 2)]], uniform(3))
    with pytest.raises(NotAPreferenceMatrixError):
        tournament([[F(1, 2), 1], [1, F(1, 2)]])
    with pytest.raises(ShapeMismatchError):
        wro_path(total_order(2), [1, 0], [1, 2])
    with pytest.raises(ShapeMismatchError):
        win_rate_map(rock_paper_scissors(), [F(1, 2), F(1, 2)])


def heat_values(ax):
    (mesh,) = by_gid(ax.collections, "heatmap")
    tri = mesh._triangulation
    points = barycentric(np.column_stack([tri.x, tri.y]))
    points = np.clip(points, 0, None)  # -1e-17 from rounding
    return points / points.sum(axis=1, keepdims=True), np.asarray(mesh.get_array())


def test_win_rate_map_values_are_win_rates():
    P = rock_paper_scissors()
    ax = win_rate_map(P, Q, resolution=6)
    points, values = heat_values(ax)
    assert len(values) == 28  # (6 + 1)(6 + 2) / 2 grid points
    # every value is pi^T P q, computed here with the exact library call on the exact grid point
    for p, v in zip(points, values, strict=True):
        exact = [F(round(6 * t), 6) for t in p]
        assert v == pytest.approx(float(win_rate(P, exact, Q)))
    # the corners, by hand (0 beats 1, 1 beats 2, 2 beats 0; a tie counts 1/2): y = 0 beats
    # q's 1 (1/4) and ties its 0 (1/2 * 1/2) -> 1/2; y = 1: 1/4 + 1/8 = 3/8; y = 2: 1/2 + 1/8 = 5/8
    for corner, by_hand in zip(np.eye(3), [0.5, 0.375, 0.625], strict=True):
        (k,) = np.flatnonzero(np.all(np.isclose(points, corner), axis=1))
        assert values[k] == pytest.approx(by_hand)
    # the colour bar names the quantity in the paper's notation
    assert ax.figure.axes[-1].get_ylabel() == r"$\mathrm{WR}(\pi; q)$"


def test_heatmap_of_any_function_and_blank_where_infinite():
    B = bradley_terry_from_strengths([1, 2, 4])
    ax = win_rate_map(B, Q, h="logit", resolution=4, levels=None)
    points, values = heat_values(ax)
    for p, v in zip(points, values, strict=True):
        assert v == pytest.approx(float(h_win_rate(np.asarray(B, float), p, Q, "logit")))
    # logit-WR of a Bradley-Terry P is E_pi[r] - E_q[r] (docs/theory.md, RLHF): at the corner
    # y = 2 it is log 4 - (1/2 log 1 + 1/4 log 2 + 1/4 log 4) = (5/4) log 2, by hand
    (k,) = np.flatnonzero(np.all(np.isclose(points, [0, 0, 1]), axis=1))
    assert values[k] == pytest.approx(1.25 * np.log(2))
    assert ax.figure.axes[-1].get_ylabel() == r"$\mathrm{WR}_{logit}(\pi; q)$"

    # -log pi(0) is infinite on the edge pi(0) = 0: those vertices' triangles are blanked
    with np.errstate(divide="ignore"):
        ax2 = simplex_heatmap(lambda p: -np.log(p[0]), resolution=3, colorbar=False)
    pts, vals = heat_values(ax2)
    mask = by_gid(ax2.collections, "heatmap")[0]._triangulation.mask
    edge = np.isclose(pts[:, 0], 0)
    # of the 9 small triangles, 5 have a vertex on that edge (3 along it, 2 between them)
    assert mask is not None and mask.sum() == 5
    with np.errstate(divide="ignore"):
        assert np.allclose(vals[~edge], -np.log(pts[~edge, 0]))

    ax3 = simplex_heatmap(lambda p: p[0] - p[2], resolution=2, levels=[0.0], colorbar=False)
    pts, vals = heat_values(ax3)
    assert np.allclose(vals, pts[:, 0] - pts[:, 2])
    with pytest.raises(InvalidParameterError):
        simplex_heatmap(lambda p: np.inf, resolution=2)


def test_points_are_drawn_where_the_models_are():
    ax = simplex_axes(labels=("rock", "scissors", "paper"))
    assert [t.get_text() for t in by_gid(ax.texts, "corner-label")] == [
        "rock",
        "scissors",
        "paper",
    ]
    simplex_points([Q, uniform(3)], ax, names=["q", "uniform"], label="two models")
    (sc,) = by_gid(ax.collections, "points")
    # (1/2, 1/4, 1/4) -> x = 1/4 + 1/8 = 3/8, y = sqrt(3)/8; the centroid (1/2, sqrt(3)/6)
    assert np.allclose(sc.get_offsets(), [[3 / 8, np.sqrt(3) / 8], [0.5, np.sqrt(3) / 6]])
    assert [t.get_text() for t in ax.texts if t.get_text() in ("q", "uniform")] == ["q", "uniform"]
    with pytest.raises(ShapeMismatchError):
        simplex_points([Q, Q], ax, names=["only one"])


def test_path_line_start_and_direction():
    path = [[1, 0, 0], [F(1, 2), F(1, 2), 0], [0, 0, 1]]
    ax = simplex_path(path, label="trajectory")
    (line,) = by_gid(ax.lines, "path")
    assert np.allclose(line.get_xydata(), [[0, 0], [0.5, 0], [0.5, np.sqrt(3) / 2]])
    (start,) = by_gid(ax.lines, "path-start")
    assert np.allclose(start.get_xydata(), [[0, 0]])
    (arrow,) = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert np.allclose(arrow.xy, [0.5, np.sqrt(3) / 2])  # the head is at the last model


def test_set_is_the_convex_hull():
    inner = [F(1, 3)] * 3
    models = [[1, 0, 0], [0, 1, 0], [0, 0, 1], inner]
    ax = simplex_set(models, label="set")
    (poly,) = by_gid(ax.patches, "set")
    verts = poly.get_xy()[:-1]  # closed polygon: the first vertex repeats
    assert sorted(map(tuple, np.round(verts, 9))) == sorted(map(tuple, np.round(CORNERS, 9)))
    # a segment (collinear models) is drawn as a line through its two ends
    ax2 = simplex_set([[1, 0, 0], [F(1, 2), F(1, 2), 0], [0, 1, 0]])
    (seg,) = by_gid(ax2.lines, "set")
    assert np.allclose(seg.get_xydata(), [[0, 0], [1, 0]])


def test_wro_path_follows_the_closed_form():
    P, ref = rock_paper_scissors(), uniform(3)
    betas = [F(1, 10), F(1, 2), 2, 10]
    ax = wro_path(P, Q, betas, ref)
    (line,) = by_gid(ax.lines, "path")
    # independent: pi* ∝ pi_ref exp(P q / beta), written out here
    g = np.asarray(P, float) @ np.asarray(Q, float)
    expected = []
    for b in betas:
        w = np.exp(g / float(b))
        expected.append(w / w.sum())
    assert np.allclose(line.get_xydata(), np.array(expected) @ CORNERS)
    assert [t.get_text() for t in by_gid(ax.texts, "beta-label")] == [
        r"$\beta=1/10$",
        r"$\beta=10$",
    ]
    # large beta -> pi_ref: the last point is near the centroid
    assert np.allclose(line.get_xydata()[-1], [0.5, np.sqrt(3) / 6], atol=0.02)
    assert np.allclose(wro_optimum(P, Q, 2, ref).pi, expected[2])
    with pytest.raises(InvalidParameterError):
        wro_path(P, Q, [1], ref)


def test_tournament_arrows_point_from_winner_to_loser():
    ax = tournament(rock_paper_scissors(), labels=["R", "S", "P"])
    arrows = {p.get_gid() for p in ax.patches if p.get_gid() and "->" in p.get_gid()}
    # rock (0) beats scissors (1), scissors (1) beats paper (2), paper (2) beats rock (0)
    assert arrows == {"0->1", "1->2", "2->0"}
    assert sorted(t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("P[")) == [
        "1",
        "1",
        "1",
    ]
    assert [t.get_text() for t in by_gid(ax.texts, "node")] == ["R", "S", "P"]


def test_tournament_strength_and_ties():
    P = np.array(
        [[F(1, 2), F(2, 3), F(1, 2)], [F(1, 3), F(1, 2), F(9, 10)], [F(1, 2), F(1, 10), F(1, 2)]],
        dtype=object,
    )
    ax = tournament(P)
    arrows = {p.get_gid(): p for p in ax.patches if p.get_gid() and "->" in p.get_gid()}
    assert set(arrows) == {"0->1", "1->2", "0->2"}  # 0 ~ 2 is a tie, drawn dashed
    assert arrows["0->2"].get_linestyle() == "--"
    # stronger preference, wider arrow: 9/10 > 2/3
    assert arrows["1->2"].get_linewidth() > arrows["0->1"].get_linewidth()
    labels = {t.get_gid(): t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("P[")}
    assert labels == {"P[0,1]": "2/3", "P[1,2]": "9/10", "P[0,2]": "1/2"}
    # float preferences are labelled with 3 significant digits
    axf = tournament(np.array([[0.5, 2 / 3], [1 / 3, 0.5]]))
    assert [t.get_text() for t in axf.texts if t.get_gid() == "P[0,1]"] == ["0.667"]
    ax5 = tournament(cyclic(5))
    assert len([p for p in ax5.patches if "->" in (p.get_gid() or "")]) == 10
    with pytest.raises(ShapeMismatchError):
        tournament(cyclic(5), labels=["a", "b"])


def test_functions_draw_on_the_given_axes():
    fig, ax = plt.subplots()
    assert simplex_axes(ax) is ax
    assert simplex_points(Q, ax) is ax
    assert win_rate_map(rock_paper_scissors(), Q, ax, resolution=3, colorbar=False) is ax
    assert tournament(rock_paper_scissors(), ax) is ax
