"""online-DPO-is-RLHF-under-BT: with a Bradley-Terry judge online DPO's fixed point is RLHF's.

Online DPO (pairs from the current model, labelled by a judge ``P``; :mod:`theory.online.dpo`)
has the semi-gradient fixed point ``pi ∝ pi_ref exp(r_pi / beta)`` with ``r_pi`` the
Bradley-Terry fit of the judge under ``pi ⊗ pi``.  When ``P[i, j] = sigmoid(r_i - r_j)`` the fit
is ``r`` for every ``pi``, so the fixed point is ``pi_ref exp(r / beta)``: RLHF's policy, which is
the logit-WRO optimum for every anchor (claim ``RLHF-is-WRO``).

Each instance draws ``K`` in 2..8 and ``beta`` in :data:`BETAS` (:func:`cells`), rewards
``r ~ N(0, 2^2)``, ``pi_ref`` (some zeros in one instance of three) and an anchor ``q``.
Checked per instance: (1) the library's fixed point
(:func:`theory.online.dpo.online_dpo_fixed_point`) has residual ``<= 1e-12``; (2) it equals
``pi_ref exp(r / beta)`` computed here from its definition (log-sum-exp written in the check) to
:data:`TOL`; (3) it equals the logit-WRO optimum with anchor ``q``
(:func:`theory.wro.wro_optimum`); (4) the stationarity equation
``sum_j pi_j (P_kj - sigma(beta (d_k - d_j))) = 0`` recomputed here at that model; (5) one
instance in :data:`EXACT_EVERY` is exact: integer strengths, ``beta = 1/n`` and the fixed point
compared with ``==`` to ``pi_ref s^n`` in Fractions computed here; (6) the fixed point is one of
the dynamic: an expected online-DPO step (:func:`theory.online.dpo.online_dpo_step`, learning
rate 1) from it moves it by at most :data:`TOL`.  (Plain gradient steps on the logits converge
slowly here, since the update of ``theta_k`` is proportional to ``pi_k``; the claim is about
the fixed point, not the speed.)

Positive control: a judge that is *not* Bradley-Terry (the instance's ``P`` with one pair moved
by 0.1): the same detector (2) must report a gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.special import expit

from theory.online.dpo import online_dpo_fixed_point, online_dpo_step
from theory.preferences import bradley_terry_from_strengths
from theory.wro import wro_optimum

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Max,
    Tally,
    cells,
    chunked,
    maximum,
)

ID = "online-DPO-is-RLHF-under-BT"
STATEMENT = (
    "With a Bradley-Terry judge, online DPO's semi-gradient fixed point is RLHF's policy "
    "pi_ref exp(r / beta), the logit-WRO optimum for every anchor"
)
MAX_K = 8
BETAS = (0.05, 0.2, 1.0, 5.0)
#: Agreement of the fixed point with the closed form and with the logit-WRO optimum.
TOL = 1e-9
#: The fixed point's residual certificate must meet the issue's target.
RESIDUAL_TOL = 1e-12
EXACT_EVERY = 10
CHUNK = 100


@dataclass
class Stats(Tally):
    exact_instances: int = 0
    max_residual: Max = maximum()
    max_closed_form_error: Max = maximum()
    max_wro_error: Max = maximum()
    max_stationarity: Max = maximum()
    max_step_move: Max = maximum()


def closed_form(r: np.ndarray, ref: np.ndarray, beta: float) -> np.ndarray:
    """``pi_ref exp(r / beta)`` normalised, from its definition (0 off ``supp pi_ref``)."""
    live = ref > 0
    z = np.where(live, np.log(np.where(live, ref, 1.0)) + r / beta, -np.inf)
    e = np.exp(z - z[live].max())
    return e / e.sum()


def stationarity(P: np.ndarray, pi: np.ndarray, ref: np.ndarray, beta: float) -> float:
    """``max_k |sum_j pi_j (P_kj - sigma(beta (d_k - d_j)))|`` over ``supp pi_ref``, written
    here from the DPO loss's gradient (independent of the library's residual)."""
    live = np.flatnonzero(ref > 0)
    d = np.log(pi[live]) - np.log(ref[live])
    worst = 0.0
    for a, k in enumerate(live):
        total = 0.0
        for b, j in enumerate(live):
            total += pi[j] * (P[k, j] - 1.0 / (1.0 + np.exp(-beta * (d[a] - d[b]))))
        worst = max(worst, abs(total))
    return worst


def _exact_case(rng: np.random.Generator, K: int) -> tuple[bool, dict[str, Any]]:
    """(5) Integer strengths, ``beta = 1/n``: the library's fixed point ``==`` ``pi_ref s^n``."""
    s = [int(v) for v in rng.integers(1, 6, size=K)]
    n = int(rng.integers(1, 4))
    w = [int(v) for v in rng.integers(1, 10, size=K)]
    ref = [Fraction(v, sum(w)) for v in w]
    P = bradley_terry_from_strengths(s)
    got = online_dpo_fixed_point(P, ref, Fraction(1, n)).pi
    num = [ref[y] * s[y] ** n for y in range(K)]
    want = [v / sum(num) for v in num]
    return list(got) == want, {"strengths": s, "beta": Fraction(1, n), "pi_ref": ref}


def _instance(rng: np.random.Generator, K: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = rng.normal(0.0, 2.0, size=K)
    ref = rng.dirichlet(np.ones(K))
    if rng.random() < 1 / 3 and K > 2:
        ref[rng.choice(K, size=int(rng.integers(1, K - 1)), replace=False)] = 0.0
        ref /= ref.sum()
    q = rng.dirichlet(np.ones(K))
    return r, ref, q


def _check_one(stats: Stats, n: int, K: int, beta: float, r, ref, q) -> None:
    P = expit(r[:, None] - r[None, :])
    fp = online_dpo_fixed_point(P, ref, beta)
    want = closed_form(r, ref, beta)
    e_cf = float(np.max(np.abs(fp.pi - want)))
    e_wro = float(np.max(np.abs(fp.pi - wro_optimum(P, q, beta, ref, "logit").pi)))
    st = stationarity(P, fp.pi, ref, beta)
    stats.max_residual.add(float(fp.residual))
    stats.max_closed_form_error.add(e_cf)
    stats.max_wro_error.add(e_wro)
    stats.max_stationarity.add(st)
    move = float(np.max(np.abs(online_dpo_step(P, fp.pi, ref, beta) - fp.pi)))
    stats.max_step_move.add(move)
    if fp.residual > RESIDUAL_TOL or max(e_cf, e_wro, st, move) > TOL:
        case = {"K": K, "beta": beta, "r": r.tolist(), "pi_ref": ref.tolist(), "q": q.tolist()}
        errors = {"residual": float(fp.residual), "closed_form": e_cf, "wro": e_wro}
        stats.witness.offer((K, n), {**case, **errors, "stationarity": st, "step_move": move})


def chunk(ctx: CheckContext) -> Stats:
    rng, stats = ctx.rng, Stats()
    done = 0
    for cell in cells(rng, ctx.instances, K=range(2, MAX_K + 1), beta=BETAS):
        for i in cell.index:
            n = ctx.start + int(i)
            r, ref, q = _instance(rng, cell.K)
            _check_one(stats, n, cell.K, cell.beta, r, ref, q)
            if n % EXACT_EVERY == 0:
                stats.exact_instances += 1
                ok, case = _exact_case(rng, cell.K)
                if not ok:
                    stats.witness.offer((cell.K, n), {"exact": True, **case})
            done += 1
            ctx.progress(done)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    if stats.witness:
        observed = f"online DPO's fixed point differs from RLHF's policy: {stats.witness.value}"
    else:
        observed = (
            f"fixed point = pi_ref exp(r/beta) = logit-WRO optimum on {ctx.instances} BT judges "
            f"(max error {float(stats.max_closed_form_error):.1e}, residual "
            f"<= {float(stats.max_residual):.1e}; {stats.exact_instances} exact)"
        )
    return stats.result(ctx.instances, observed)


def _control_non_bt(rng: np.random.Generator) -> bool:
    """A non-BT judge: the closed-form detector (2) must report a gap above :data:`TOL`."""
    r = rng.normal(0.0, 2.0, size=4)
    P = expit(r[:, None] - r[None, :])
    P[0, 1] = min(0.95, P[0, 1] + 0.1)
    P[1, 0] = 1.0 - P[0, 1]
    ref = np.full(4, 0.25)
    fp = online_dpo_fixed_point(P, ref, 0.5)
    return bool(np.max(np.abs(fp.pi - closed_form(r, ref, 0.5))) > TOL)


CLAIM = Claim(
    ID,
    STATEMENT,
    "holds",
    chunked(chunk, finish, size=CHUNK),
    None,
    default_instances=400,
    quick_instances=40,
    controls=(Control("non-BT judge breaks the closed form", _control_non_bt),),
)
