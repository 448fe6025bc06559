"""cDPO-is-smoothed-DPO: conservative DPO (label smoothing eps) is DPO on ``P_eps = eps +
(1 - 2 eps) P``; a minimizer always exists; at K = 2, ``z* = logit(eps + (1 - 2 eps) p)``.

Each instance (K in 2..6, a random float ``P`` of any family, deterministic labels included,
``mu0 = mu1`` or not, full support, ``beta`` in {1/2, 1, 2}, ``eps = 0.1``) is checked three ways:

* values: the zoo's cDPO population loss of random models equals :func:`theory.dpo_loss` (the
  DPO library's own path) on the smoothed data, to :data:`TOL` relative;
* minimizers: the generic solver's cDPO minimizer equals :func:`theory.dpo_minimizers` on the
  smoothed data (one point for full-support data) to :data:`MIN_TOL`, and exists even under
  deterministic labels;
* K = 2: the minimizing margin equals ``logit(eps + (1 - 2 eps) p)``.

Positive control: the same comparison against DPO on the *unsmoothed* data must fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from theory import PreferenceData, dpo_loss, dpo_minimizers
from theory.data import random_preference_data
from theory.zoo import ZOO
from theory.zoo.closed_forms import k2_link, smoothed_data
from theory.zoo.population import batch_from_data, population_loss
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

TOL = 1e-9
#: Agreement of float minimizers (two solvers with certificates near 1e-9; data responses of mass
#: ~1e-4 make the minimizer ill-conditioned at the 1e-6 level) and of K = 2 margins.
MIN_TOL = 1e-5
MAX_K = 6
EPS = 0.1
BETAS = (0.5, 1.0, 2.0)


def compare(
    D: PreferenceData, target: PreferenceData, ref: np.ndarray, beta: float, models: np.ndarray
) -> tuple[float, float, bool]:
    """(largest relative loss gap on ``models``, minimizer gap, cDPO minimizer found) between
    cDPO on ``D`` and DPO on ``target``."""
    loss = ZOO["cdpo"]
    gaps = []
    for m in models:
        a = population_loss(loss, D, m[None], ref[None], beta)
        b = dpo_loss(target, m[None], ref[None], beta)
        gaps.append(abs(a - b) / (1 + abs(b)))
    sol = minimize_batch(loss, batch_from_data(D, ref[None], beta))
    S = dpo_minimizers(target, ref[None], beta)
    if not (S.exists and S.is_point):
        return max(gaps), float("inf"), bool(sol.exists[0])
    point = np.asarray(S.point(), dtype=float)[0]
    return max(gaps), float(np.abs(sol.pi[0] - point).max()), bool(sol.exists[0])


@dataclass
class Stats(Tally):
    checked: int = 0
    deterministic: int = 0
    max_value_gap: Max = maximum()
    max_minimizer_gap: Max = maximum()
    max_link_gap: Max = maximum()


def chunk(ctx: CheckContext) -> Stats:
    """The chunk's instances: values and minimizers of cDPO against DPO on the smoothed data."""
    rng, stats = ctx.rng, Stats()
    for cell in cells(rng, ctx.instances, K=range(2, MAX_K + 1), beta=BETAS):
        for t in range(cell.n):
            D = random_preference_data(rng, 1, cell.K, symmetric=bool(rng.integers(2)))
            ref = rng.dirichlet(np.ones(cell.K))
            models = rng.dirichlet(np.ones(cell.K), size=3)
            vg, mg, found = compare(D, smoothed_data(D, EPS), ref, cell.beta, models)
            stats.checked += 1
            stats.deterministic += int(np.all((D.P == 0) | (D.P == 1) | (D.P == 0.5)))
            stats.max_value_gap.add(vg)
            stats.max_minimizer_gap.add(mg)
            if vg > TOL or mg > MIN_TOL or not found:
                stats.witness.offer(
                    (cell.K, ctx.start + int(cell.index[t])),
                    {
                        "K": cell.K,
                        "P": D.P[0],
                        "mu0": D.mu0[0],
                        "mu1": D.mu1[0],
                        "value_gap": vg,
                        "minimizer_gap": mg,
                        "exists": found,
                    },
                )
        ctx.progress(stats.checked)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    """The K = 2 link on a fixed grid of ``p`` (once per claim), then the result."""
    p = np.linspace(0.02, 0.98, 49)
    P = np.stack([np.array([[0.5, q], [1 - q, 0.5]]) for q in p])
    D2 = PreferenceData(P=P, mu0=np.full((len(p), 2), 0.5))
    sol = minimize_batch(ZOO["cdpo"], batch_from_data(D2, np.full((len(p), 2), 0.5), 1.0))
    link_gap = float(np.abs(sol.u[:, 0] - sol.u[:, 1] - k2_link("cdpo", p)).max())
    stats.max_link_gap.add(link_gap)
    if link_gap > MIN_TOL:
        stats.witness.offer((2, -1), {"K": 2, "link_gap": link_gap})
    if stats.witness:
        observed = f"{stats.witness.count} disagreements between cDPO and DPO on smoothed P"
    else:
        observed = (
            f"cDPO = DPO on P_eps on {stats.checked} instances ({stats.deterministic} with "
            f"deterministic labels, where a cDPO minimizer still exists): values max "
            f"{float(stats.max_value_gap):.1e}, minimizers max "
            f"{float(stats.max_minimizer_gap):.1e}; K = 2 link max {link_gap:.1e}"
        )
    return stats.result(ctx.instances, observed)


def _control(rng: np.random.Generator) -> bool:
    F = Fraction
    D = PreferenceData(P=[[F(1, 2), F(9, 10)], [F(1, 10), F(1, 2)]], mu0=[F(1, 2)] * 2)
    models = np.array([[0.3, 0.7], [0.8, 0.2]])
    vg, mg, _ = compare(D, D, np.array([0.5, 0.5]), 1.0, models)  # DPO on P itself
    return vg > TOL and mg > MIN_TOL


CLAIM = Claim(
    "cDPO-is-smoothed-DPO",
    "cDPO (label smoothing eps) is DPO on eps + (1 - 2 eps) P; a minimizer always exists",
    "holds",
    chunked(chunk, finish, size=50),
    None,
    default_instances=300,
    quick_instances=40,
    controls=(Control("DPO on the unsmoothed P differs", _control),),
)
