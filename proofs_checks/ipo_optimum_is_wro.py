"""IPO-optimum-is-WRO: with mu0 = mu1 = mu, IPO's tabular minimizer is the identity-WRO optimum
``pi ∝ pi_ref exp(P mu / beta)`` (anchor ``mu``, the same beta).

Each instance (K in 2..6, a rational Bradley-Terry, general or total-order ``P``, ``mu`` and
``pi_ref`` of full support on the grid 1/20, ``beta`` in {1/2, 1, 2}; :mod:`theory.zoo.instances`)
is checked two independent ways:

* exactly: the library's IPO rewards ``d`` (:func:`theory.zoo.closed_forms.ipo_rewards`, exact
  rational linear algebra) must satisfy IPO's stationarity equations, evaluated here term by term
  in Fractions, and ``d - P mu / beta`` must be constant (== on Fractions);
* in floats: the generic solver's minimizer (:func:`theory.zoo.solve.minimize_batch`) must equal
  :func:`theory.wro_optimum` (the WRO library's closed form) to :data:`TOL`.

Positive control: on an instance with ``mu0 != mu1`` the same comparison must report a difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from theory import PreferenceData, wro_optimum
from theory.zoo import ZOO
from theory.zoo.closed_forms import ipo_rewards
from theory.zoo.instances import random_instances
from theory.zoo.population import PairBatch
from theory.zoo.solve import minimize_batch

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

#: Float agreement between the solver's minimizer and the WRO optimum.
TOL = 1e-7
MAX_K = 6


def stationarity(P: np.ndarray, mu0: np.ndarray, mu1: np.ndarray, d: np.ndarray, beta: Any) -> list:
    """IPO's gradient in ``d`` (up to the factor 2), term by term:
    ``sum_j n_kj (d_k - d_j) - sum_j n_kj (2 P_kj - 1) / (2 beta)`` for each ``k``."""
    K = len(d)
    out = []
    for k in range(K):
        g = Fraction(0)
        for j in range(K):
            n = mu0[k] * mu1[j] + mu1[k] * mu0[j]
            g += n * (d[k] - d[j]) - n * (2 * P[k, j] - 1) / (2 * beta)
        out.append(g)
    return out


def exact_parts(P: np.ndarray, mu0: np.ndarray, mu1: np.ndarray, beta: Any) -> dict:
    """The library's exact IPO rewards, checked here: stationary (term by term) and equal to the
    identity-WRO tilt ``(P a) / beta`` up to a constant, ``a = (mu0 + mu1)/2``."""
    d = ipo_rewards(PreferenceData(P=P, mu0=mu0, mu1=mu1), beta)[0]
    grad = stationarity(P, mu0, mu1, d, beta)
    anchor = (mu0 + mu1) / 2
    gap = [d[k] - sum(P[k, j] * anchor[j] for j in range(len(d))) / beta for k in range(len(d))]
    return {"stationary": all(g == 0 for g in grad), "tilt": len(set(gap)) == 1}


def float_gaps(
    P: np.ndarray, mu0: np.ndarray, mu1: np.ndarray, ref: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For a batch ``(n, K, K)``: the largest gap between the generic solver's IPO minimizer and
    :func:`theory.wro_optimum` (anchor ``(mu0 + mu1)/2``), and the solver's certificate."""
    Pf, m0, m1, rf, bf = (np.asarray(a, dtype=float) for a in (P, mu0, mu1, ref, beta))
    w = Pf * (m1[:, :, None] * m0[:, None, :] + m0[:, :, None] * m1[:, None, :])
    sol = minimize_batch(ZOO["ipo"], PairBatch(w=w, log_ref=np.log(rf), beta=bf))
    gaps = np.array(
        [
            np.abs(
                sol.pi[t] - wro_optimum(Pf[t], (m0[t] + m1[t]) / 2, beta=bf[t], pi_ref=rf[t]).pi
            ).max()
            for t in range(len(bf))
        ]
    )
    return gaps, sol.gradient_norm


@dataclass
class Stats(Tally):
    exact_agree: int = 0
    float_agree: int = 0
    max_float_gap: Max = maximum()
    max_gradient_norm: Max = maximum()


def chunk(ctx: CheckContext) -> Stats:
    """The chunk's instances, batched per K (a witness is keyed by K and its index)."""
    stats = Stats()
    for cell in cells(ctx.rng, ctx.instances, K=range(2, MAX_K + 1)):
        batch = random_instances(ctx.rng, cell.n, cell.K, symmetric=True)
        gaps, gnorm = float_gaps(batch.P, batch.mu0, batch.mu1, batch.pi_ref, batch.beta)
        stats.max_float_gap.add(gaps)
        stats.max_gradient_norm.add(gnorm)
        stats.float_agree += int((gaps <= TOL).sum())
        for t in range(batch.n):
            P, mu, ref, beta = batch.P[t], batch.mu0[t], batch.pi_ref[t], batch.beta[t]
            r = exact_parts(P, mu, mu, beta)
            stats.exact_agree += int(r["stationary"] and r["tilt"])
            if not (r["stationary"] and r["tilt"] and gaps[t] <= TOL):
                stats.witness.offer(
                    (cell.K, ctx.start + int(cell.index[t])),
                    {
                        "K": cell.K,
                        "P": P,
                        "mu": mu,
                        "pi_ref": ref,
                        "beta": beta,
                        "float_gap": float(gaps[t]),
                        **r,
                    },
                )
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    n = ctx.instances
    if stats.witness:
        observed = f"{stats.witness.count} of {n} instances differ from the identity-WRO optimum"
    else:
        observed = (
            f"on all {n} instances (K = 2..{MAX_K}, mu0 = mu1) IPO's exact rewards are stationary "
            f"and equal P mu / beta + const; solver vs wro_optimum max "
            f"{float(stats.max_float_gap):.1e}"
        )
    return stats.result(n, observed)


def planted_mu0_ne_mu1() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(P, mu0, mu1, pi_ref)``: a K = 3 instance with ``mu0 != mu1`` whose IPO minimizer is not
    the data-anchor tilt (the positive control of this claim and of IPO-mu0-ne-mu1)."""
    F = Fraction
    P = np.array(
        [[F(1, 2), F(3, 4), F(1, 5)], [F(1, 4), F(1, 2), F(3, 5)], [F(4, 5), F(2, 5), F(1, 2)]],
        dtype=object,
    )
    mu0 = np.array([F(3, 5), F(1, 5), F(1, 5)], dtype=object)
    mu1 = np.array([F(1, 10), F(1, 10), F(4, 5)], dtype=object)
    return P, mu0, mu1, np.array([F(1, 3)] * 3, dtype=object)


def _control(rng: np.random.Generator) -> bool:
    F = Fraction
    P, mu0, mu1, ref = planted_mu0_ne_mu1()
    r = exact_parts(P, mu0, mu1, F(1))
    gaps, _ = float_gaps(P[None], mu0[None], mu1[None], ref[None], np.array([F(1)], dtype=object))
    return not r["tilt"] and gaps[0] > TOL


CLAIM = Claim(
    "IPO-optimum-is-WRO",
    "with mu0 = mu1 = mu, IPO's minimizer is the identity-WRO optimum pi ∝ pi_ref exp(P mu / beta)",
    "holds",
    chunked(chunk, finish, size=250),
    None,
    default_instances=1000,
    quick_instances=100,
    controls=(Control("mu0 != mu1 differs", _control),),
)
