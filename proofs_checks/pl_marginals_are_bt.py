"""PL-marginals-are-BT: under Plackett-Luce the pairwise marginals are Bradley-Terry, so listwise
DPO's minimizer is RLHF's.

On random rational instances (K in 2..5, list length k in 2..K, strengths ``s`` integers 1..6,
the listed set drawn by k successive draws without replacement from a random ``mu`` of full
support; :func:`theory.feedback.plackett_luce_rankings`) the check confirms

1. exactly: the implied ``P[i, j] = Pr(i ranked above j | both listed)``
   (:func:`theory.feedback.pairwise_preferences`) equals ``s_i / (s_i + s_j)`` (written here
   from the strengths alone), whatever k and ``mu``; and
   :func:`theory.preferences.is_bradley_terry` recognises it;
2. in floats: the listwise DPO minimizer (the Plackett-Luce fit, ``beta = 1``, a random
   ``pi_ref``) recovers ``log s`` up to a constant and equals the logit-WRO optimum on ``P``
   with the list marginal as anchor (RLHF's solution, claim RLHF-is-WRO), to
   :data:`FIT_TOL`.

Beside it, one general (non-Plackett-Luce) ranking distribution per batch: how often its
implied ``P`` is not Bradley-Terry (then the listwise fit is not RLHF's and depends on k).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from theory.feedback import (
    RankingData,
    list_marginal,
    pairwise_preferences,
    plackett_luce_rankings,
    random_ranking_data,
)
from theory.preferences import is_bradley_terry
from theory.simplex import random_distribution
from theory.wro import wro_optimum
from theory.zoo.listwise import listwise_dpo_minimizer

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Counts,
    Max,
    Tally,
    cells,
    chunked,
    counts,
    maximum,
)

MAX_K = 5
#: Agreement of the fitted rewards and the minimizer with RLHF's (the fit is certified to 1e-12).
FIT_TOL = 1e-8


def bt_here(s: list) -> list:
    """``s_i / (s_i + s_j)`` written from the strengths."""
    return [[Fraction(a) / (a + b) for b in s] for a in s]


def violations(s: list, P: np.ndarray) -> list[str]:
    """The exact part of the check on one implied ``P`` (one prompt)."""
    want = bt_here(s)
    K = len(s)
    out = [
        f"P[{i}, {j}] = {P[i, j]}, Bradley-Terry gives {want[i][j]}"
        for i in range(K)
        for j in range(K)
        if P[i, j] != want[i][j]
    ]
    if not is_bradley_terry(P):
        out.append("is_bradley_terry(P) is False")
    return out[:3]


def fit_errors(
    s: list, D: RankingData, P: np.ndarray, rng: np.random.Generator
) -> tuple[float, float]:
    """(reward error up to a constant, distance of the listwise minimizer to the logit-WRO
    optimum on the implied P with the list-marginal anchor), ``beta = 1``."""
    ref = random_distribution(rng, len(s))
    sol = listwise_dpo_minimizer(D, ref, 1.0)
    r = sol.rewards[0]
    logs = np.log(np.array(s, dtype=float))
    err = float(np.abs((r - r.mean()) - (logs - logs.mean())).max())
    m = np.asarray(list_marginal(D)[0], dtype=float)
    opt = wro_optimum(np.asarray(P, dtype=float), m, 1.0, ref, h="logit").pi
    return err, float(np.abs(sol.pi[0] - opt).max())


@dataclass
class Stats(Tally):
    checked: Counts = counts()
    max_reward_error: Max = maximum()
    max_rlhf_gap: Max = maximum()
    general_tried: int = 0
    general_not_bt: int = 0


def _instance(rng: np.random.Generator, K: int) -> tuple[list, int, RankingData]:
    s = [int(v) for v in rng.integers(1, 7, size=K)]
    k = int(rng.integers(2, K + 1))
    mu = random_distribution(rng, K, exact=True)
    return s, k, plackett_luce_rankings(s, k, mu)


def chunk(ctx: CheckContext) -> Stats:
    stats = Stats()
    done = 0
    for cell in cells(ctx.rng, ctx.instances, K=range(2, MAX_K + 1)):
        for t in range(cell.n):
            s, k, D = _instance(ctx.rng, cell.K)
            stats.checked.add(f"K = {cell.K}")
            P = pairwise_preferences(D)[0]
            bad = violations(s, P)
            err, gap = fit_errors(s, D, P, ctx.rng)
            stats.max_reward_error.add(err)
            stats.max_rlhf_gap.add(gap)
            if err > FIT_TOL or gap > FIT_TOL:
                bad.append(f"listwise fit: reward error {err:.2e}, gap to RLHF {gap:.2e}")
            if bad:
                stats.witness.offer(
                    (cell.K, k, int(cell.index[t]) + ctx.start),
                    {"s": s, "k": k, "violations": bad},
                )
        G = random_ranking_data(ctx.rng, max(cell.K, 3), exact=True)
        stats.general_tried += 1
        stats.general_not_bt += int(not is_bradley_terry(pairwise_preferences(G)[0]))
        done += cell.n
        ctx.progress(done)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    w = stats.witness
    if w:
        size = (w.size or ())[:2]
        observed = f"{w.count} Plackett-Luce instances violate the claim; smallest K, k = {size}"
    else:
        observed = (
            f"on {ctx.instances} Plackett-Luce instances (K = 2..{MAX_K}, every list length): "
            "the implied P equals Bradley-Terry of the strengths exactly; the listwise DPO fit "
            f"recovers log s to {float(stats.max_reward_error):.1e} and equals RLHF's logit-WRO "
            f"optimum to {float(stats.max_rlhf_gap):.1e}; {stats.general_not_bt} of "
            f"{stats.general_tried} general ranking distributions imply a non-BT P"
        )
    return stats.result(ctx.instances, observed)


def _control_cyclic(rng: np.random.Generator) -> bool:
    """A planted non-Plackett-Luce distribution (the three cyclic rotations of a ranking, equally
    likely: P is the 2/3 Condorcet cycle) is caught by the exact detector."""
    D = RankingData([[0, 1, 2], [1, 2, 0], [2, 0, 1]], [Fraction(1, 3)] * 3, K=3)
    return bool(violations([1, 1, 1], pairwise_preferences(D)[0]))


def _control_fit(rng: np.random.Generator) -> bool:
    """The fit comparison is not vacuous: strengths off by one on a response are caught."""
    s, _, D = _instance(rng, 4)
    err, _ = fit_errors([*s[:-1], s[-1] + 1], D, pairwise_preferences(D)[0], rng)
    return err > FIT_TOL


CLAIM = Claim(
    "PL-marginals-are-BT",
    "under Plackett-Luce the pairwise marginals are Bradley-Terry for every list length, so "
    "listwise DPO's minimizer equals RLHF's",
    "holds",
    chunked(chunk, finish, size=100),
    None,
    default_instances=200,
    quick_instances=30,
    controls=(
        Control("a cyclic ranking distribution is caught", _control_cyclic),
        Control("wrong strengths are caught by the fit comparison", _control_fit),
    ),
)
