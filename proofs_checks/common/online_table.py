"""The zoo table of the online, iterative and self-play methods (a section of docs/zoo.md).

Each row's fixed point is computed from :mod:`theory.online` on two instances (a non-Bradley-Terry
``P`` and a Bradley-Terry ``P``, both with the reference :data:`PI_REF` and :data:`BETA`) and
compared with the references of :func:`theory.online.core.references` (the fixed-anchor WRO
optimum for every registered ``h``, anchor and reference ``pi_ref``, and NLHF's regularized Nash
equilibrium, all at the same ``beta``) and with the maximal lottery.  The "update" and "WRO?"
cells state what the modules' docstrings derive (docs/zoo_online.md).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from theory.bradley_terry import fit_bradley_terry
from theory.lottery import maximal_lottery
from theory.numbers import to_float
from theory.online import dpo, grpo, nash_md, reinforce, rloo, sppo
from theory.online.core import references, total_variation
from theory.preferences import bradley_terry_from_strengths

__all__ = ["INSTANCES", "PI_REF", "BETA", "METHODS", "online_section"]

F = Fraction
#: The two instances: a non-Bradley-Terry P (cyclic majority 0 > 1 > 2 > 0) and a BT P.
INSTANCES = (
    (
        "A (not BT)",
        np.array(
            [
                [F(1, 2), F(4, 5), F(3, 10)],
                [F(1, 5), F(1, 2), F(7, 10)],
                [F(7, 10), F(3, 10), F(1, 2)],
            ],
            dtype=object,
        ),
    ),
    ("B (BT, strengths 1, 2, 4)", bradley_terry_from_strengths([1, 2, 4])),
)
PI_REF = (F(1, 2), F(3, 10), F(1, 5))
BETA = F(1, 2)
#: Nash-MD's mixture parameter, the in-group group size, iterative DPO's rounds, SPPO's steps.
ALPHA = 0.25
GROUP = 2
ROUNDS = 50
SPPO_STEPS = 10_000


def _bt_reward(P: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """The Bradley-Terry reward fitted on pairs from ``pi_ref ⊗ pi_ref`` (RLOO's and GRPO's)."""
    return fit_bradley_terry(ref[:, None] * ref[None, :] * P).rewards


Solver = Callable[[np.ndarray, np.ndarray, float], np.ndarray]

#: (method, update, how the point is obtained, solver, WRO?)
METHODS: tuple[tuple[str, str, str, Solver, str], ...] = (
    (
        "online DPO (2402.04792)",
        "pairs from pi, labelled by the judge P; DPO loss (semi-gradient)",
        "fixed point `online_dpo_fixed_point`",
        lambda P, r, b: dpo.online_dpo_fixed_point(P, r, b).pi,
        "BT judge: RLHF (logit-WRO); otherwise no",
    ),
    (
        "iterative DPO",
        "DPO to convergence with pi_ref = pi_t",
        f"pi_t after {ROUNDS} rounds from pi_ref (no interior fixed point: mass concentrates)",
        lambda P, r, b: dpo.iterative_dpo_trajectory(P, r, b, ROUNDS).final,
        "no (beta -> 0 along the rounds)",
    ),
    (
        f"Nash-MD (2312.00886), alpha = {ALPHA:g}",
        "mirror step against the geometric mixture pi^alpha ∝ pi_ref^alpha pi^(1-alpha)",
        "fixed point `nash_md_fixed_point`",
        lambda P, r, b: nash_md.nash_md_fixed_point(P, r, b, ALPHA).pi,
        "self-play WRO, shifted; regularized Nash as alpha -> 0",
    ),
    (
        "SPPO (2405.00675) / DNO (2404.03715), ideal",
        "pi_{t+1} ∝ pi_t exp(eta_t W_{pi_t}), eta_t = 1/sqrt t",
        f"time average after {SPPO_STEPS} steps from pi_ref (the last iterate does not converge)",
        lambda P, r, b: sppo.sppo_run(P, r, sppo.step_sizes(1.0, SPPO_STEPS)).averages()[-1, 0],
        "yes, self-play at beta = 0: the average tends to the maximal lottery",
    ),
    (
        "RLOO (2402.14740), BT reward",
        "leave-one-out baseline, KL in the reward",
        "fixed point `rloo_bt_fixed_point` (pi ∝ pi_ref e^(r/beta))",
        lambda P, r, b: rloo.rloo_bt_fixed_point(P, r, b).pi,
        "BT P: logit-WRO (RLHF)",
    ),
    (
        "GRPO (2402.03300), BT reward",
        "group-normalized advantage, k3 KL estimator",
        "fixed point `grpo_fixed_point` (forward-KL problem)",
        lambda P, r, b: grpo.grpo_fixed_point(_bt_reward(P, r), r, b).pi,
        "no for beta > 0; consistent at beta = 0",
    ),
    (
        "pairwise-judge REINFORCE, fixed q = pi_ref",
        "reward P(y beats y'), y' ~ q; KL in the reward",
        "fixed point `reinforce_fixed_point(q=...)`",
        lambda P, r, b: reinforce.reinforce_fixed_point(P, b, r, q=r).pi,
        "yes: WRO (identity, anchor q)",
    ),
    (
        f"pairwise-judge REINFORCE, in-group, G = {GROUP}",
        "leave-one-out judge and baseline within a group of G",
        "fixed point `reinforce_fixed_point(G=...)`",
        lambda P, r, b: reinforce.reinforce_fixed_point(P, b, r, G=GROUP).pi,
        "yes: regularized Nash (NLHF) at beta (G-1)/G",
    ),
)


def _vec(p: Any) -> str:
    return "(" + ", ".join(f"{float(v):.3f}" for v in to_float(np.asarray(p))) + ")"


def _cells(P_exact: np.ndarray, solve: Solver) -> tuple[str, str, float]:
    P, ref, b = to_float(P_exact), to_float(np.array(PI_REF, dtype=object)), float(BETA)
    pi = solve(P, ref, b)
    nearest = references(pi, P, ref, b)[0]
    ml = to_float(maximal_lottery(P_exact).pi)
    return _vec(pi), f"{nearest.name} ({nearest.tv:.3f})", total_variation(pi, ml)


def online_section() -> list[str]:
    """The section's lines: the instances, then one row per method of :data:`METHODS`."""
    (name_a, P_a), (name_b, P_b) = INSTANCES
    fr = ", ".join(str(v) for v in PI_REF)
    rows_a = ", ".join("[" + ", ".join(str(v) for v in row) + "]" for row in P_a)
    out = [
        "## Online, iterative and self-play methods (fixed points, not minimizers)\n",
        "These methods draw their training data from the current model, so what they converge to "
        "is a fixed point of a dynamic (`theory.online`; derivations and claims in "
        "`docs/zoo_online.md`).  Each row is computed from the library on two instances with "
        f"pi_ref = ({fr}) and beta = {BETA}: A, P = [{rows_a}] (not Bradley-Terry), and B, a "
        'Bradley-Terry P with strengths 1, 2, 4.  "Nearest" is the closest, in total '
        "variation, of the fixed-anchor WRO optima (each registered h, anchor and reference "
        "pi_ref, the same beta) and NLHF's regularized Nash equilibrium at beta; the last number "
        "is the total variation to the maximal lottery.\n",
        f"| method | update | point computed | {name_a}: point | nearest (TV) | "
        f"{name_b}: point | nearest (TV) | TV to maximal lottery (A / B) | WRO? |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for method, update, how, solve, wro in METHODS:
        pa, na, ma = _cells(P_a, solve)
        pb, nb, mb = _cells(P_b, solve)
        out.append(
            f"| {method} | {update} | {how} | {pa} | {na} | {pb} | {nb} | {ma:.3f} / {mb:.3f} | "
            f"{wro} |"
        )
    out.append("")
    return out
