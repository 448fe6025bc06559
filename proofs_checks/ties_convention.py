"""ties-convention: the two win-rate conventions for ties give different P; which are
Bradley-Terry.

Tie data needs a convention to become a preference matrix (docs/zoo_data.md): half credit
(``P = win + tie/2``, the project's) or ties dropped (``P = win / (win + win^T)``).  On random
rational Davidson and Rao-Kupper instances (K in 2..6, strengths perfect squares so that
Davidson is exact, ``nu`` in {1/2, 1, 2, 3}, ``theta`` in {3/2, 2, 3}; strengths may repeat) the
check confirms, exactly:

1. both conventions give a valid ``P`` (``P + P^T = 1``, entries in [0, 1]), equal to the
   formulas written here from the strengths alone (an independent path);
2. they differ on every pair with a tie and unequal strengths, and agree (1/2) on the others
   (``P_half = P_drop`` iff ``tie (1/2 - win - tie/2) = 0``);
3. Bradley-Terry (:func:`theory.preferences.is_bradley_terry`, and an odds factorization written
   here): Davidson with ties dropped always (strengths ``s``); Davidson with half credit iff the
   strengths take at most two values or ``nu = 2`` (then with strengths ``sqrt s``); Rao-Kupper
   under either convention iff the strengths take at most two values.  With three distinct
   strengths ``t1 = s_i/s_j``, ``t2 = s_j/s_k`` the factorization defect is
   ``2 nu (nu - 2) (t1 t2 - 1)(t1 - 1)(t2 - 1)`` (Davidson, half credit, in ``sqrt`` ratios) and
   a non-zero multiple of ``(theta - 1)`` (Rao-Kupper), derived with sympy.

So the statement "Davidson with half credit is not Bradley-Terry for K >= 3", as first specified,
holds except at ``nu = 2``, where ``P_half[i, j] = sqrt s_i / (sqrt s_i + sqrt s_j)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from theory.feedback import davidson_outcomes, rao_kupper_outcomes, tie_preferences
from theory.preferences import is_bradley_terry

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Counts,
    Gallery,
    Tally,
    cells,
    chunked,
    counts,
)

MAX_K = 6
MODELS = ("davidson", "rao_kupper")
NUS = (Fraction(1, 2), Fraction(1), Fraction(2), Fraction(3))
THETAS = (Fraction(3, 2), Fraction(2), Fraction(3))


def outcomes_here(s: list, model: str, c: Fraction) -> tuple[list, list]:
    """``win`` and ``tie`` written from the strengths (the independent path)."""
    K = len(s)
    root = [[_sqrt(s[i] * s[j]) for j in range(K)] for i in range(K)]
    win = [[Fraction(0)] * K for _ in range(K)]
    tie = [[Fraction(1)] * K for _ in range(K)]
    for i in range(K):
        for j in range(K):
            if i == j:
                continue
            if model == "davidson":
                den = s[i] + s[j] + c * root[i][j]
                win[i][j], tie[i][j] = s[i] / den, c * root[i][j] / den
            else:
                a, b = s[i] / (s[i] + c * s[j]), s[j] / (s[j] + c * s[i])
                win[i][j], tie[i][j] = a, 1 - a - b
    return win, tie


def _sqrt(v: Fraction) -> Fraction:
    return Fraction(math.isqrt(v.numerator), math.isqrt(v.denominator))


def factors_here(P: list) -> bool:
    """Odds ``P_ij / P_ji`` factor as ``o_i0 o_0j`` and no entry is 0 or 1 (written here)."""
    K = len(P)
    if any(P[i][j] in (0, 1) for i in range(K) for j in range(K)):
        return False
    o = [[P[i][j] / P[j][i] for j in range(K)] for i in range(K)]
    return all(o[i][j] == o[i][0] * o[0][j] for i in range(K) for j in range(K))


def expected_bt(model: str, c: Fraction, distinct: int) -> tuple[bool, bool]:
    """The claim's prediction: (half credit is BT, ties dropped is BT)."""
    if distinct <= 2:
        return True, True
    if model == "davidson":
        return c == 2, True
    return False, False


def library_conventions(win: np.ndarray, tie: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return tie_preferences(win, tie, "half"), tie_preferences(win, tie, "drop")


def library_pair(s: list, model: str, c: Fraction) -> tuple[np.ndarray, np.ndarray]:
    """The library's ``(P_half, P_drop)`` of the instance."""
    make = davidson_outcomes if model == "davidson" else rao_kupper_outcomes
    return library_conventions(*make(s, c))


def violations(s: list, model: str, c: Fraction, half: np.ndarray, drop: np.ndarray) -> list[str]:
    """What is wrong on this instance (empty when the claim holds there), given the two
    matrices to judge (the library's, or a planted bug's)."""
    w, t = outcomes_here(s, model, c)
    K = len(s)
    out = []
    for i in range(K):
        for j in range(K):
            if i == j:
                continue
            h_here = w[i][j] + t[i][j] / 2
            d_here = w[i][j] / (w[i][j] + w[j][i])
            if half[i, j] != h_here or drop[i, j] != d_here:
                out.append(f"P[{i}, {j}] differs from the written formula")
            if half[i, j] + half[j, i] != 1 or drop[i, j] + drop[j, i] != 1:
                out.append(f"P[{i}, {j}] + P[{j}, {i}] != 1")
            if (half[i, j] != drop[i, j]) != (t[i][j] != 0 and s[i] != s[j]):
                out.append(
                    f"conventions {'differ' if half[i, j] != drop[i, j] else 'agree'} "
                    f"on pair ({i}, {j})"
                )
    want = expected_bt(model, c, len(set(s)))
    for name, P, bt in (("half", half, want[0]), ("drop", drop, want[1])):
        lib, here = is_bradley_terry(P), factors_here(P.tolist())
        if lib != bt or here != bt:
            out.append(f"{name}: BT (library {lib}, written {here}), expected {bt}")
    return out


@dataclass
class Stats(Tally):
    checked: Counts = counts()
    bt_half: Counts = counts()
    nu2_half_bt: int = 0
    differing_pairs: int = 0


def _instance(rng: np.random.Generator, K: int, model: str) -> tuple[list, Fraction]:
    s = [Fraction(int(v)) ** 2 for v in rng.integers(1, 6, size=K)]
    grid = NUS if model == "davidson" else THETAS
    return s, grid[int(rng.integers(len(grid)))]


def chunk(ctx: CheckContext) -> Stats:
    stats = Stats()
    done = 0
    for cell in cells(ctx.rng, ctx.instances, K=range(2, MAX_K + 1), model=MODELS):
        for t in range(cell.n):
            s, c = _instance(ctx.rng, cell.K, cell.model)
            half, drop = library_pair(s, cell.model, c)
            bad = violations(s, cell.model, c, half, drop)
            key = f"{cell.model}, K = {cell.K}"
            stats.checked.add(key)
            half_bt = expected_bt(cell.model, c, len(set(s)))[0]
            stats.bt_half.add(f"{cell.model}: {'BT' if half_bt else 'not BT'}")
            if cell.model == "davidson" and c == 2 and len(set(s)) >= 3:
                stats.nu2_half_bt += 1
            stats.differing_pairs += int(np.sum(half != drop)) // 2
            if bad:
                stats.witness.offer(
                    (cell.K, int(cell.index[t]) + ctx.start),
                    {"model": cell.model, "s": s, "param": c, "violations": bad},
                )
        done += cell.n
        ctx.progress(done)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    w = stats.witness
    if w:
        K = (w.size or (0,))[0]
        observed = f"{w.count} instances violate the conventions' statement; smallest K = {K}"
    else:
        observed = (
            f"on {ctx.instances} instances (Davidson and Rao-Kupper, K = 2..{MAX_K}): both "
            f"conventions valid and as written; they differ on {stats.differing_pairs} pairs "
            "(every pair with a tie and unequal strengths); Davidson with ties dropped always "
            "Bradley-Terry, with half credit only for <= 2 distinct strengths or nu = 2 ("
            f"{stats.nu2_half_bt} such instances with >= 3 distinct strengths); Rao-Kupper never "
            "with >= 3 distinct strengths"
        )
    return stats.result(ctx.instances, observed)


def figure(result: CheckResult, gallery: Gallery) -> None:
    """``logit P`` against ``log(s_i / s_j)`` for Davidson (both conventions, several ``nu``):
    Bradley-Terry is a straight line through 0 (slope 1 with ties dropped; slope 1/2 for half
    credit at ``nu = 2``, strengths ``sqrt s``)."""
    x = np.linspace(-6, 6, 241)
    instance = {
        "model": "Davidson, win[i, j] = s_i / (s_i + s_j + nu sqrt(s_i s_j))",
        "nu": [str(v) for v in NUS],
    }
    with gallery.new("ties_convention", ncols=2, instance=instance) as (_fig, axes):
        for ax, conv in zip(axes, ("half", "drop"), strict=True):
            for nu in NUS:
                n = float(nu)
                h = np.exp(x / 2)
                win, lose, tie = h * h, 1.0, n * h
                den = win + lose + tie
                p = (win + tie / 2) / den if conv == "half" else win / (win + lose)
                ax.plot(x, np.log(p / (1 - p)), label=f"nu = {nu}")
            ax.set_xlabel("log(s_i / s_j)")
            ax.set_ylabel(f"logit P[i, j] ({conv})")
            title = (
                "half credit\nP = win + tie/2"
                if conv == "half"
                else "ties dropped\nP = win/(win + win^T)"
            )
            ax.set_title(f"Davidson, {title}")
            ax.legend(title="straight line = Bradley-Terry", loc="lower right")
            ax.grid(alpha=0.3)


def _control_same_conventions(rng: np.random.Generator) -> bool:
    """A planted bug (ties dropped computed as half credit) on a Davidson instance with three
    distinct strengths is caught."""
    s = [Fraction(1), Fraction(4), Fraction(9)]
    half, _ = library_pair(s, "davidson", Fraction(1))
    return bool(violations(s, "davidson", Fraction(1), half, half))


def _control_nu2(rng: np.random.Generator) -> bool:
    """The detector's BT prediction is not vacuous: claiming half-credit Davidson is never BT
    (the specification's wording) is contradicted at ``nu = 2``."""
    win, tie = davidson_outcomes([1, 4, 9], 2)
    return is_bradley_terry(tie_preferences(win, tie, "half"))


CLAIM = Claim(
    "ties-convention",
    "half credit and ties dropped give different valid P; Davidson with ties dropped is "
    "Bradley-Terry, with half credit it is not once three strengths differ (except nu = 2); "
    "Rao-Kupper is under neither",
    "holds",
    chunked(chunk, finish, size=200),
    figure,
    default_instances=300,
    quick_instances=40,
    controls=(
        Control("ties dropped computed as half credit is caught", _control_same_conventions),
        Control("half-credit Davidson at nu = 2 is Bradley-Terry", _control_nu2),
    ),
)
