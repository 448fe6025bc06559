"""unpaired-win-rate-is-desirability: on unpaired feedback, win rate is expected desirability.

Unpaired feedback (docs/zoo_data.md): ``y ~ mu``, marked desirable with probability ``g(y)``.
Reading "``i`` preferred to ``j``" as "``i`` marked good and ``j`` bad, or a fair coin when both
are marked alike" gives ``P[i, j] = g_i (1 - g_j) + (g_i g_j + (1 - g_i)(1 - g_j)) / 2
= 1/2 + (g_i - g_j) / 2``, and then, for any models ``pi``, ``q`` and prompt weights ``rho``,

    WR(pi; q) = 1/2 + (E_pi g - E_q g) / 2     exactly.

On random rational instances (M in 1..3 prompts, K in 2..6, ``g`` in sixths, ``mu``, ``pi``,
``q`` random rationals, some with zeros) the check compares, in Fractions:

1. the library's implied ``P`` (:func:`theory.feedback.desirability_preferences`) with the coin
   reading written here entry by entry;
2. the library's win rate (:func:`theory.winrate.win_rate`) on that ``P`` with
   ``1/2 + sum_x rho_x (E_pi g - E_q g)/2`` summed here, and with
   :func:`theory.feedback.desirability_win_rate`;
3. the data's own anchor: ``WR(pi; mu)`` on :func:`theory.feedback.unpaired_preference_data`
   (``theory.winrate.data_win_rate``) against the same sum with ``q = mu``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from theory.feedback import (
    UnpairedData,
    desirability_preferences,
    desirability_win_rate,
    random_unpaired_data,
    unpaired_preference_data,
)
from theory.simplex import random_model
from theory.winrate import data_win_rate, win_rate

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Counts,
    Tally,
    cells,
    chunked,
    counts,
)

MAX_K = 6
MAX_M = 3


def coin_matrix(g: list) -> list:
    """``g_i (1 - g_j) + (g_i g_j + (1 - g_i)(1 - g_j)) / 2`` written here (one prompt)."""
    return [[a * (1 - b) + (a * b + (1 - a) * (1 - b)) / 2 for b in g] for a in g]


def expected_win_rate(g: np.ndarray, pi: np.ndarray, q: np.ndarray, rho: np.ndarray) -> Fraction:
    """``1/2 + sum_x rho_x (E_pi g - E_q g) / 2`` summed here."""
    M, K = g.shape
    diff = sum(rho[x] * sum((pi[x, y] - q[x, y]) * g[x, y] for y in range(K)) for x in range(M))
    return Fraction(1, 2) + Fraction(diff) / 2


def violations(D: UnpairedData, P: np.ndarray, pi: np.ndarray, q: np.ndarray) -> list[str]:
    """What is wrong on this instance, given the implied ``P`` ``(M, K, K)`` to judge (the
    library's, or a planted bug's)."""
    out = []
    for x in range(D.M):
        if P[x].tolist() != coin_matrix(D.g[x].tolist()):
            out.append(f"prompt {x}: P differs from the coin reading")
    want = expected_win_rate(D.g, pi, q, D.rho)
    got = win_rate(P, pi, q, rho=D.rho)
    if got != want:
        out.append(f"WR(pi; q) = {got}, expected {want}")
    if desirability_win_rate(D.g, pi, q, rho=D.rho) != want:
        out.append("desirability_win_rate differs")
    if data_win_rate(unpaired_preference_data(D), pi) != expected_win_rate(D.g, pi, D.mu, D.rho):
        out.append("WR(pi; mu) on the unpaired data differs")
    return out


@dataclass
class Stats(Tally):
    checked: Counts = counts()
    nonzero_gap: int = 0


def chunk(ctx: CheckContext) -> Stats:
    stats = Stats()
    done = 0
    for cell in cells(ctx.rng, ctx.instances, K=range(2, MAX_K + 1), M=range(1, MAX_M + 1)):
        for t in range(cell.n):
            D = random_unpaired_data(ctx.rng, cell.M, cell.K, exact=True)
            zeros = bool(ctx.rng.integers(2))
            pi = random_model(ctx.rng, cell.M, cell.K, exact=True, zeros=zeros)
            q = random_model(ctx.rng, cell.M, cell.K, exact=True)
            stats.checked.add(f"K = {cell.K}")
            stats.nonzero_gap += int(expected_win_rate(D.g, pi, q, D.rho) != Fraction(1, 2))
            bad = violations(D, desirability_preferences(D.g), pi, q)
            if bad:
                stats.witness.offer(
                    (cell.K, cell.M, int(cell.index[t]) + ctx.start),
                    {"g": D.g, "mu": D.mu, "rho": D.rho, "pi": pi, "q": q, "violations": bad},
                )
        done += cell.n
        ctx.progress(done)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    w = stats.witness
    if w:
        K = (w.size or (0,))[0]
        observed = f"{w.count} instances violate WR = 1/2 + (E_pi g - E_q g)/2; smallest K = {K}"
    else:
        observed = (
            f"on {ctx.instances} instances (M = 1..{MAX_M}, K = 2..{MAX_K}): the implied P is "
            "the coin reading and WR(pi; q) = 1/2 + (E_pi g - E_q g)/2 exactly (also against "
            f"the data's mu); {stats.nonzero_gap} with a win rate other than 1/2"
        )
    return stats.result(ctx.instances, observed)


def _control_transposed(rng: np.random.Generator) -> bool:
    """A planted bug (the transposed ``P``) on an instance where ``E_pi g != E_q g`` is caught."""
    D = UnpairedData(g=[1, Fraction(1, 3)], mu=[Fraction(1, 2)] * 2)
    pi = np.array([[Fraction(1), Fraction(0)]], dtype=object)
    q = np.array([[Fraction(0), Fraction(1)]], dtype=object)
    P = desirability_preferences(D.g)
    return bool(violations(D, np.swapaxes(P, 1, 2), pi, q))


CLAIM = Claim(
    "unpaired-win-rate-is-desirability",
    "on unpaired feedback the implied P = 1/2 + (g_i - g_j)/2 gives WR(pi; q) = 1/2 + "
    "(E_pi g - E_q g)/2 exactly: win rate is expected desirability",
    "holds",
    chunked(chunk, finish, size=200),
    None,
    default_instances=400,
    quick_instances=50,
    controls=(Control("the transposed P is caught", _control_transposed),),
)
