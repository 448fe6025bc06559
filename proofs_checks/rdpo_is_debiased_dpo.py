"""rDPO-is-debiased-DPO: robust DPO is DPO on ``P' = (P - eps)/(1 - 2 eps)``, and it is unbounded
below exactly when some set ``A`` of responses has
``S(A) = sum_{i not in A, j in A} n_ij P'_ij < 0``.

docs/zoo.md states the unbounded case as "some compared ``P_ij`` outside ``[eps, 1 - eps]``".
Our derivation (:mod:`theory.zoo.closed_forms`) agrees at K = 2 and refines it at K >= 3: the
rDPO pair term is ``-log sigma(-z) - P' z`` (convex), raising the scores of ``A`` changes the loss
at the rate ``S(A)``, and the loss is unbounded below iff some ``S(A) < 0``; a single compared
``P_ij < eps`` can be outweighed.  This check counts such instances.

On random rational instances (K in 2..5, ``eps = 1/10``) the exact cut test
(:func:`theory.zoo.closed_forms.rdpo_unbounded`) must agree with the generic solver's verdict;
then, written out here: bounded with ``P'`` a preference matrix, the solver's minimizer must equal
:func:`theory.dpo_minimizers` on ``P'`` (and when that has none, at some ``P_ij = eps``, the solver
must find none either); bounded otherwise, the solver's scores must satisfy the
Bradley-Terry equations ``sum_j n_kj (sigma(u_k - u_j) - P'_kj) = 0``; unbounded, the loss
(summed here pair by pair) must fall along ``A`` at the rate ``S(A)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from scipy.special import expit, log_expit

from theory import PreferenceData, dpo_minimizers
from theory.zoo import ZOO
from theory.zoo.closed_forms import debiased_matrix, rdpo_cut_slopes, rdpo_unbounded
from theory.zoo.instances import random_instances
from theory.zoo.population import PairBatch, batch_from_data
from theory.zoo.solve import BatchSolution, minimize_batch

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Max,
    Smallest,
    Tally,
    cells,
    chunked,
    maximum,
)

EPS = Fraction(1, 10)
MAX_K = 5
#: Agreement of float minimizers, Bradley-Terry residuals and slopes.
TOL = 1e-6


def rdpo_along(w: np.ndarray, u: np.ndarray, eps: float) -> float:
    """The rDPO loss ``sum_ij w_ij [-(1 - eps) log sigma(z_ij) + eps log sigma(-z_ij)]/(1 - 2 eps)``
    summed pair by pair (the check's own path), ``z_ij = u_i - u_j``."""
    total = 0.0
    K = len(u)
    for i in range(K):
        for j in range(K):
            z = u[i] - u[j]
            total += w[i, j] * (-(1 - eps) * log_expit(z) + eps * log_expit(-z)) / (1 - 2 * eps)
    return total


def solve(Ds: list, refs: np.ndarray, betas: np.ndarray) -> BatchSolution:
    """The generic solver on the instances ``Ds`` (one prompt each) at once."""
    w = np.concatenate(
        [batch_from_data(D, r[None], b).w for D, r, b in zip(Ds, refs, betas, strict=True)]
    )
    return minimize_batch(ZOO["robust"], PairBatch(w=w, log_ref=np.log(refs), beta=betas))


def examine(D: PreferenceData, ref: np.ndarray, beta: float, sol: BatchSolution, t: int) -> dict:
    """Every comparison of the module docstring on one instance (``sol``'s row ``t``)."""
    unb = bool(rdpo_unbounded(D, EPS)[0])
    batch = batch_from_data(D, ref[None], beta)
    out = {"cut_unbounded": unb, "solver_unbounded": bool(sol.unbounded[t]), "gap": 0.0}
    Pp = debiased_matrix(D, EPS)[0]
    n = np.asarray(
        D.mu0[0][:, None] * D.mu1[0][None, :] + D.mu1[0][:, None] * D.mu0[0][None, :], dtype=float
    )
    if unb:
        slopes = rdpo_cut_slopes(D, EPS)[0]
        A = min(slopes, key=lambda a: slopes[a])
        rise = np.array([1.0 if k in A else 0.0 for k in range(D.K)])
        w = batch.w[0]
        vals = [rdpo_along(w, t * rise, float(EPS)) for t in (40.0, 80.0)]
        out["gap"] = abs((vals[1] - vals[0]) / 40.0 - float(slopes[A]))
        out["cut"] = A
    elif np.all((Pp >= 0) & (Pp <= 1)):
        S = dpo_minimizers(PreferenceData(P=Pp, mu0=D.mu0, mu1=D.mu1), ref[None], beta)
        if S.exists:
            out["gap"] = float(np.abs(np.asarray(S.point(), dtype=float)[0] - sol.pi[t]).max())
        else:  # some P_ij = eps exactly: bounded below, no minimizer (DPO on a 0/1 entry)
            out["no_minimizer"] = True
            out["gap"] = 0.0 if not sol.exists[t] else 1.0
    else:
        u = sol.u[t]
        res = (n * (expit(u[:, None] - u[None, :]) - np.asarray(Pp, dtype=float))).sum(axis=1)
        out["gap"] = float(np.abs(res).max())
        out["outside_but_bounded"] = True
    return out


@dataclass
class Stats(Tally):
    unbounded: int = 0
    bounded: int = 0
    outside_but_bounded: int = 0
    no_minimizer: int = 0
    max_gap: Max = maximum()
    #: the first bounded instance with a compared ``P_ij`` outside ``[eps, 1 - eps]``
    smallest_outside_but_bounded: Smallest = field(default_factory=Smallest)

    def record(self, K: int, t: int, D: PreferenceData, r: dict) -> None:
        """Count one instance's comparisons ``r`` (from :func:`examine`); offer it as a witness
        (keyed by ``K`` and its index ``t``) when the cut test and the solver disagree or the gap
        exceeds :data:`TOL`."""
        self.max_gap.add(r["gap"])
        if r["cut_unbounded"]:
            self.unbounded += 1
        else:
            self.bounded += 1
        self.no_minimizer += int(bool(r.get("no_minimizer")))
        if r.get("outside_but_bounded"):
            self.outside_but_bounded += 1
            self.smallest_outside_but_bounded.offer(
                (), {"P": D.P[0], "mu0": D.mu0[0], "mu1": D.mu1[0], "eps": EPS}
            )
        if r["cut_unbounded"] != r["solver_unbounded"] or r["gap"] > TOL:
            self.witness.offer((K, t), {"K": K, "P": D.P[0], "mu0": D.mu0[0], "mu1": D.mu1[0], **r})


def chunk(ctx: CheckContext) -> Stats:
    """The chunk's instances, solved in one batch per K (a witness is keyed by K and its global
    index)."""
    stats = Stats()
    done = 0
    for cell in cells(ctx.rng, ctx.instances, K=range(2, MAX_K + 1)):
        batch = random_instances(ctx.rng, cell.n, cell.K)
        Ds = [
            PreferenceData(P=batch.P[t], mu0=batch.mu0[t], mu1=batch.mu1[t]) for t in range(batch.n)
        ]
        refs, betas = batch.floats("pi_ref"), batch.floats("beta")
        sol = solve(Ds, refs, betas)
        for t, D in enumerate(Ds):
            r = examine(D, refs[t], float(betas[t]), sol, t)
            stats.record(cell.K, ctx.start + int(cell.index[t]), D, r)
        done += cell.n
        ctx.progress(done)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    if stats.witness:
        observed = f"{stats.witness.count} instances where rDPO is not DPO on the debiased P"
    else:
        observed = (
            f"rDPO = DPO on (P - eps)/(1 - 2eps) on {stats.bounded} bounded instances; the cut "
            f"test and the solver agree on all {stats.unbounded} unbounded ones (loss falls at "
            f"rate S(A)); {stats.no_minimizer} bounded without a minimizer (some P_ij = eps); "
            f"{stats.outside_but_bounded} bounded although a compared P_ij lies "
            f"outside [eps, 1 - eps] (K >= 3); max gap {float(stats.max_gap):.1e}"
        )
    return stats.result(ctx.instances, observed)


def _control(rng: np.random.Generator) -> bool:
    F = Fraction
    D = PreferenceData(P=[[F(1, 2), F(1, 20)], [F(19, 20), F(1, 2)]], mu0=[F(1, 2)] * 2)
    ref = np.array([[0.5, 0.5]])
    r = examine(D, ref[0], 1.0, solve([D], ref, np.array([1.0])), 0)
    return r["cut_unbounded"] and r["solver_unbounded"]


CLAIM = Claim(
    "rDPO-is-debiased-DPO",
    "rDPO is DPO on (P - eps)/(1 - 2 eps); unbounded below iff some cut has negative debiased "
    "weight",
    "holds",
    chunked(chunk, finish, size=150),
    None,
    default_instances=600,
    quick_instances=60,
    controls=(Control("P_01 = 1/20 < eps is unbounded", _control),),
)
