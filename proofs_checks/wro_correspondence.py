"""WRO-correspondence: the WRO objective orders models as their (regularized) h-win rates do.

With a fixed anchor ``q`` and ``beta = 0``, ``J(pi) = WR_h(pi; q)``: a better objective value is
a better h-win rate against the anchor, so the objective is a valid checkpoint signal.  With
``beta > 0`` the objective orders models by the *regularized* win rate
``WR_h(pi; q) - beta KL(pi || pi_ref)``.

Each instance draws ``K`` in 2..8, ``h`` (identity on every family; logit and log on families with
entries inside (0, 1)), a data distribution ``(mu0, mu1)`` whose anchor ``(mu0 + mu1) / 2`` or an
unrelated model is the anchor, two models (some zeros), ``pi_ref`` and ``beta`` (0 half the time).
The objective of both models comes from :func:`theory.wro.wro_objective_per_prompt` (batched);
the evaluation they are compared with is computed apart from :mod:`theory.wro`: in the check's own
arithmetic for every instance and by :func:`theory.winrate.h_win_rate` and
:func:`theory.simplex.kl_divergence` for every 5th.  Violation: the two
differences disagree in sign (or by more than :data:`TOL`).  Every 20th instance is exact
(Fractions, identity, beta = 0, data anchor): the objective of :func:`theory.wro.wro_objective`
and the data win rate :func:`theory.winrate.data_win_rate` (the evaluation of the uniqueness
theorem) are compared with ``==``, and so are their orders.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from theory.data import PreferenceData
from theory.preferences import random_family_matrix
from theory.simplex import kl_divergence, random_distribution
from theory.winrate import data_win_rate, h_win_rate
from theory.wro import wro_objective, wro_objective_per_prompt

from ._wro_instances import (
    ALL_FAMILIES,
    H_NAMES,
    INTERIOR_FAMILIES,
    h_values,
    model_batch,
    preference_batch,
)
from .registry import CheckContext, CheckResult, Claim, Smallest

#: Float agreement of objective differences and evaluation differences.
TOL = 1e-10
BETAS = (0.0, 0.05, 0.5, 2.0)
MAX_K = 8
EXACT_EVERY = 20
LIBRARY_EVERY = 5


def _kl(pi: np.ndarray, ref: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pi > 0, pi * np.log(pi / ref), 0.0).sum(axis=1)


def _sign(x: float) -> int:
    return 0 if abs(x) <= TOL else (1 if x > 0 else -1)


def _float_part(ctx: CheckContext, n_float: int, worst: Smallest, stats: dict) -> None:
    rng = ctx.rng
    Ks = rng.integers(2, MAX_K + 1, size=n_float)
    hs = rng.integers(0, len(H_NAMES), size=n_float)
    bis = rng.integers(0, len(BETAS), size=n_float)
    done = 0
    for K in range(2, MAX_K + 1):
        for hi, h in enumerate(H_NAMES):
            for bi, beta in enumerate(BETAS):
                sel = (Ks == K) & (hs == hi) & (bis == bi)
                N = int(sel.sum())
                if N == 0:
                    continue
                fams = ALL_FAMILIES if h == "identity" else INTERIOR_FAMILIES
                fam = fams[int(rng.integers(len(fams)))]
                P = preference_batch(rng, N, K, fam)
                mu0, mu1 = model_batch(rng, N, K, zeros=True), model_batch(rng, N, K, zeros=True)
                data_anchor = (mu0 + mu1) / 2
                other = model_batch(rng, N, K, zeros=True)
                use_data = rng.random(N) < 0.5
                q = np.where(use_data[:, None], data_anchor, other)
                pi1, pi2 = model_batch(rng, N, K, zeros=True), model_batch(rng, N, K, zeros=True)
                ref = model_batch(rng, N, K)
                J1 = wro_objective_per_prompt(P, pi1, q, beta, ref, h)
                J2 = wro_objective_per_prompt(P, pi2, q, beta, ref, h)
                # the evaluation, computed apart from theory.wro: h(P) in the check's own
                # arithmetic for every instance, theory.winrate.h_win_rate and
                # theory.simplex.kl_divergence on every LIBRARY_EVERY-th
                H = h_values(h, P)
                V1 = np.einsum("ni,nij,nj->n", pi1, H, q)
                V2 = np.einsum("ni,nij,nj->n", pi2, H, q)
                if beta > 0:
                    V1 = V1 - beta * _kl(pi1, ref)
                    V2 = V2 - beta * _kl(pi2, ref)
                for n in range(0, N, LIBRARY_EVERY):
                    v1 = float(h_win_rate(P[n], pi1[n], q[n], h))
                    v2 = float(h_win_rate(P[n], pi2[n], q[n], h))
                    if beta > 0:
                        v1 -= beta * kl_divergence(pi1[n], ref[n])
                        v2 -= beta * kl_divergence(pi2[n], ref[n])
                    stats["library_checked"] += 1
                    if abs(v1 - V1[n]) > TOL or abs(v2 - V2[n]) > TOL:
                        V1[n], V2[n] = v1, v2  # let the comparison below flag it
                        stats["library_mismatch"] += 1
                for n in range(N):
                    dj, dv = J1[n] - J2[n], V1[n] - V2[n]
                    stats["max_diff"] = max(stats["max_diff"], abs(dj - dv))
                    stats["pairs"] += 1
                    stats["strict"] += _sign(dv) != 0
                    if _sign(dj) != _sign(dv) or abs(dj - dv) > TOL:
                        worst.offer(
                            (K, beta),
                            {
                                "h": h,
                                "beta": beta,
                                "P": P[n],
                                "q": q[n],
                                "pi1": pi1[n],
                                "pi2": pi2[n],
                                "pi_ref": ref[n],
                                "J1 - J2": dj,
                                "V1 - V2": dv,
                            },
                        )
                done += N
                ctx.progress(done)


def _exact_part(ctx: CheckContext, n_exact: int, worst: Smallest, stats: dict) -> None:
    rng = ctx.rng
    for _ in range(n_exact):
        K = int(rng.integers(2, 6))
        fam = ALL_FAMILIES[int(rng.integers(len(ALL_FAMILIES)))]
        P = random_family_matrix(rng, K, fam, exact=True)
        mu0 = random_distribution(rng, K, zeros=True, exact=True)
        mu1 = random_distribution(rng, K, zeros=True, exact=True)
        data = PreferenceData(P=P, mu0=mu0, mu1=mu1)
        q = (mu0 + mu1) / 2
        pis = [random_distribution(rng, K, zeros=True, exact=True) for _ in range(2)]
        J = [wro_objective(P, pi, q) for pi in pis]
        V = [data_win_rate(data, pi) for pi in pis]
        stats["exact"] += 1
        same_values = all(isinstance(j, Fraction) and j == v for j, v in zip(J, V, strict=True))
        same_order = (J[0] > J[1]) == (V[0] > V[1]) and (J[0] == J[1]) == (V[0] == V[1])
        if not (same_values and same_order):
            worst.offer((K, 0.0), {"what": "exact", "P": P, "mu0": mu0, "mu1": mu1, "J": J, "V": V})


def check(ctx: CheckContext) -> CheckResult:
    worst = Smallest()
    stats: dict[str, Any] = {
        "pairs": 0,
        "strict": 0,
        "max_diff": 0.0,
        "exact": 0,
        "library_checked": 0,
        "library_mismatch": 0,
    }
    n_exact = max(1, ctx.instances // EXACT_EVERY)
    n_float = max(1, ctx.instances - n_exact)
    _float_part(ctx, n_float, worst, stats)
    _exact_part(ctx, n_exact, worst, stats)
    found = worst.value is not None
    observed = (
        f"{worst.count} order disagreements (smallest at K, beta = {worst.size})"
        if found
        else f"objective order = (regularized) h-win-rate order on {stats['pairs']} float pairs "
        f"({stats['strict']} strictly ordered; max |dJ - dV| {stats['max_diff']:.1e}; "
        f"{stats['library_checked']} re-evaluated through theory.winrate) and "
        f"{stats['exact']} exact pairs (J == data win rate, exactly)"
    )
    return CheckResult(
        observed=observed,
        instances=stats["pairs"] + stats["exact"],
        found=found,
        counterexample=worst.value,
        details=stats,
    )


CLAIM = Claim(
    id="WRO-correspondence",
    statement="objective order = h-win-rate order between any two models (beta = 0; the "
    "regularized win rate for beta > 0)",
    expected="holds",
    check=check,
    figure=None,
    default_instances=10_000,
)
