"""The classification of a preference loss: correspondence, consistency, optimum equivalence.

:func:`classify` takes a registered loss (:data:`theory.zoo.ZOO`), a :class:`PairwiseLoss`, a
sympy expression in ``z`` or a Python callable of ``z`` (:func:`theory.zoo.margin_loss`), draws
random rational instances (:mod:`theory.zoo.instances`, K = 2..``max_K``, ``mu0 = mu1`` for half,
Bradley-Terry, general and total-order ``P``) and reports three properties (docs/zoo.md):

* **correspondence** (:mod:`theory.zoo.witness`): the smallest certified plain and strong
  witnesses;
* **consistency**: the win rate ``WR(pi*; m)`` (``h`` = identity, anchor ``m = (mu0 + mu1)/2``)
  of the minimizer against the best achievable ``max_y (P m)_y``, at the instance's ``beta`` and
  in the ``beta -> 0`` limit.  For a loss of the margins alone (and BCO, whose shifted scores are
  free) the minimizing scores ``u*`` do not depend on ``beta``, so the limit is exact: the
  minimizer concentrates on ``argmax u*`` (best and worst member: the best and worst response of
  that set).  Otherwise the limit is read at :data:`LIMIT_BETA`.  Where the loss has no minimizer
  but is bounded below (DPO on deterministic labels, APO's losers pushed to zero mass) the point
  the solver reaches along the falling direction stands for the limit of a minimizing sequence;
* **optimum equivalence**: the K = 2 link ``z*(p)`` (a WRO optimum at K = 2 iff strictly
  increasing and odd: ``h`` = the link, any fixed anchor) and, at K >= 3 with ``mu0 = mu1 = mu``,
  whether ``u*`` is an affine function of ``P mu`` (the identity-WRO optimum with anchor ``mu``
  at a rescaled ``beta``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidParameterError
from .instances import InstanceBatch, random_instances
from .loss import PairwiseLoss, margin_loss
from .population import PairBatch
from .registry import ZOO
from .solve import minimize_batch
from .witness import WitnessSearch, search_witnesses

__all__ = [
    "LIMIT_BETA",
    "SHORTFALL_TOL",
    "Consistency",
    "OptimumEquivalence",
    "Classification",
    "as_loss",
    "consistency",
    "k2_link_profile",
    "optimum_equivalence",
    "classify",
]

#: The beta at which the beta -> 0 limit is read for losses that are not margin-only.
LIMIT_BETA = 1e-2
#: A shortfall below this is no shortfall (float minimizers).
SHORTFALL_TOL = 1e-6
#: Residual below which u* counts as affine in P mu.
AFFINE_TOL = 1e-6


def as_loss(loss: Any) -> PairwiseLoss:
    """A registered name, a :class:`PairwiseLoss`, or a user's loss (:func:`margin_loss`)."""
    if isinstance(loss, str):
        if loss not in ZOO:
            raise InvalidParameterError(f"unknown loss {loss!r}, expected one of {sorted(ZOO)}")
        return ZOO[loss]
    return margin_loss(loss)


def _pair_batch(loss: PairwiseLoss, inst: InstanceBatch, beta: np.ndarray) -> PairBatch:
    ref = inst.floats("pi_ref")
    log_ref = np.zeros_like(ref) if loss.reference_free else np.log(ref)
    return PairBatch(w=inst.floats("w"), log_ref=log_ref, beta=beta)


@dataclass(frozen=True)
class Consistency:
    """Win rate of the minimizer against the best achievable (module docstring).

    ``instances``: where the loss is bounded below (``no_minimizer``: how many of all have no
    minimizer, the infimum approached at the boundary); ``limit``: ``"exact"``
    (margin-only loss) or the beta used; ``shortfall_fixed``: the largest ``best - WR(pi*)`` at the
    instance's beta; ``shortfall_limit`` / ``worst_limit``: the largest shortfall of the best /
    worst member in the limit; ``short_instances``: instances whose best member falls short in the
    limit (by more than :data:`SHORTFALL_TOL`), split ``by_symmetry`` (``"mu0 = mu1"``,
    ``"mu0 != mu1"``); ``example``: the instance with the largest limit shortfall."""

    instances: int
    no_minimizer: int
    limit: str
    shortfall_fixed: float
    shortfall_limit: float
    worst_limit: float
    short_instances: int
    by_symmetry: dict
    example: dict | None

    @property
    def consistent(self) -> bool:
        return self.short_instances == 0


def _limit_wr(
    loss: PairwiseLoss, inst: InstanceBatch, sol_u: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, str]:
    W = np.einsum("nij,nj->ni", inst.floats("P"), inst.floats("anchor"))
    if loss.pair_only or loss.shift:
        top = sol_u >= sol_u.max(axis=1, keepdims=True) - 1e-7 * (
            1 + np.abs(sol_u).max(axis=1, keepdims=True)
        )
        best = np.where(top, W, -np.inf).max(axis=1)
        worst = np.where(top, W, np.inf).min(axis=1)
        return best, worst, "exact"
    sol = minimize_batch(
        loss, _pair_batch(loss, inst, np.full(inst.n, LIMIT_BETA)), starts=loss.starts, rng=rng
    )
    wr = np.einsum("nk,nk->n", sol.pi, W)
    return wr, wr, f"beta = {LIMIT_BETA:g}"


def consistency(loss: PairwiseLoss, inst: InstanceBatch, rng: np.random.Generator) -> Consistency:
    """The consistency report of ``loss`` on the instances ``inst`` (module docstring)."""
    sol = minimize_batch(
        loss, _pair_batch(loss, inst, inst.floats("beta")), starts=loss.starts, rng=rng
    )
    ok = ~sol.unbounded & np.isfinite(sol.value)  # the limit point of a falling loss counts
    W = np.einsum("nij,nj->ni", inst.floats("P"), inst.floats("anchor"))
    best = W.max(axis=1)
    fixed = best - np.einsum("nk,nk->n", sol.pi, W)
    lim_best, lim_worst, how = _limit_wr(loss, inst, sol.u, rng)
    short = ok & (best - lim_best > SHORTFALL_TOL)
    sym = np.array([bool(np.all(inst.mu0[t] == inst.mu1[t])) for t in range(inst.n)])
    example = None
    if short.any():
        t = int(np.argmax(np.where(short, best - lim_best, -np.inf)))
        example = {
            "K": inst.K,
            "P": inst.P[t],
            "mu0": inst.mu0[t],
            "mu1": inst.mu1[t],
            "pi_ref": inst.pi_ref[t],
            "beta": inst.beta[t],
            "best": float(best[t]),
            "limit_wr": float(lim_best[t]),
            "fixed_wr": float(best[t] - fixed[t]),
            "family": str(inst.family[t]),
        }
    return Consistency(
        instances=int(ok.sum()),
        no_minimizer=int((~sol.exists).sum()),
        limit=how,
        shortfall_fixed=float(np.max(np.where(ok, fixed, -np.inf), initial=0.0)),
        shortfall_limit=float(np.max(np.where(ok, best - lim_best, -np.inf), initial=0.0)),
        worst_limit=float(np.max(np.where(ok, best - lim_worst, -np.inf), initial=0.0)),
        short_instances=int(short.sum()),
        by_symmetry={
            "mu0 = mu1": int((short & sym).sum()),
            "mu0 != mu1": int((short & ~sym).sum()),
        },
        example=example,
    )


def merge_consistency(a: Consistency | None, b: Consistency) -> Consistency:
    """Two consistency reports (of different K) as one."""
    if a is None:
        return b
    ex = a.example
    if b.example is not None and (
        ex is None or b.example["best"] - b.example["limit_wr"] > ex["best"] - ex["limit_wr"]
    ):
        ex = b.example
    return Consistency(
        a.instances + b.instances,
        a.no_minimizer + b.no_minimizer,
        a.limit,
        max(a.shortfall_fixed, b.shortfall_fixed),
        max(a.shortfall_limit, b.shortfall_limit),
        max(a.worst_limit, b.worst_limit),
        a.short_instances + b.short_instances,
        {k: a.by_symmetry[k] + b.by_symmetry[k] for k in a.by_symmetry},
        ex,
    )


def k2_link_profile(loss: PairwiseLoss, p: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """The K = 2 link: ``(p, z*(p))`` with ``z* = u_0 - u_1`` of the minimizer on ``P_01 = p``,
    (default ``p = .15, .20, ..., .85``, inside rDPO's ``[eps, 1 - eps]``), ``mu`` and
    ``pi_ref`` uniform, ``beta = 1`` (NaN where no minimizer is certified).

    >>> p, z = k2_link_profile(ZOO["gpo_squared"], np.array([0.25, 0.75]))
    >>> np.round(z, 6).tolist()
    [-0.5, 0.5]
    """
    p = np.linspace(0.15, 0.85, 15) if p is None else np.asarray(p, dtype=float)
    n = len(p)
    P = np.empty((n, 2, 2))
    P[:, 0, 0] = P[:, 1, 1] = 0.5
    P[:, 0, 1], P[:, 1, 0] = p, 1 - p
    w = P * 0.5
    log_ref = np.zeros((n, 2)) if loss.reference_free else np.log(np.full((n, 2), 0.5))
    sol = minimize_batch(loss, PairBatch(w=w, log_ref=log_ref, beta=np.ones(n)), starts=3)
    z = sol.u[:, 0] - sol.u[:, 1]
    return p, np.where(sol.exists & sol.converged, z, np.nan)


@dataclass(frozen=True)
class OptimumEquivalence:
    """``link``: ``(p, z*(p))`` at K = 2; ``k2_wro``: the link is strictly increasing and odd (a
    WRO optimum at K = 2); ``affine``: at K >= 3 with ``mu0 = mu1``, the number of instances
    whose minimizer is an identity-WRO tilt (``u*`` affine in ``P mu``) out of ``tried``;
    ``max_residual``: the largest residual of that fit."""

    link: tuple
    k2_wro: bool
    affine: int
    tried: int
    max_residual: float


def optimum_equivalence(
    loss: PairwiseLoss, insts: list[InstanceBatch], rng: np.random.Generator
) -> OptimumEquivalence:
    """The optimum-equivalence report (module docstring)."""
    p, z = k2_link_profile(loss)
    increasing = bool(np.all(np.isfinite(z)) and np.all(np.diff(z) > 1e-9))
    odd = bool(np.all(np.isfinite(z)) and np.allclose(z, -z[::-1], atol=1e-6))
    affine = tried = 0
    worst = 0.0
    for inst in insts:
        if inst.K < 3:
            continue
        sym = np.array([bool(np.all(inst.mu0[t] == inst.mu1[t])) for t in range(inst.n)])
        if not sym.any():
            continue
        idx = np.flatnonzero(sym)
        sub = _pair_batch(loss, inst, inst.floats("beta"))
        sub = PairBatch(w=sub.w[idx], log_ref=sub.log_ref[idx], beta=sub.beta[idx])
        sol = minimize_batch(loss, sub, starts=loss.starts, rng=rng)
        Wm = np.einsum("nij,nj->ni", inst.floats("P")[idx], inst.floats("mu0")[idx])
        for t in np.flatnonzero(sol.exists & sol.converged):
            X = np.stack([Wm[t], np.ones(inst.K)], axis=1)
            coef, *_ = np.linalg.lstsq(X, sol.u[t], rcond=None)
            res = float(np.abs(X @ coef - sol.u[t]).max())
            tried += 1
            worst = max(worst, res)
            flat = np.ptp(Wm[t]) < AFFINE_TOL  # P mu constant: the tilt is pi_ref itself
            affine += int(res < AFFINE_TOL and (coef[0] > 0 or flat))
    return OptimumEquivalence((p, z), increasing and odd, affine, tried, worst)


@dataclass(frozen=True)
class Classification:
    """The report of :func:`classify`: the loss, the ``seed`` and ``instances`` per K, and the
    three properties (module docstring)."""

    loss: PairwiseLoss
    seed: int
    instances: int
    max_K: int
    correspondence: WitnessSearch
    consistency: Consistency
    optimum: OptimumEquivalence

    @property
    def name(self) -> str:
        return self.loss.name

    def summary(self) -> str:
        """One line per property."""
        c, s, o = self.correspondence, self.consistency, self.optimum

        def wit(w: Any) -> str:
            return "none found" if w is None else f"K = {w.K} ({w.certified})"

        return "\n".join(
            [
                f"{self.name}: {self.instances} instances, K = 2..{self.max_K}, seed {self.seed}",
                f"correspondence: plain witness {wit(c.smallest_plain)}, "
                f"strong {wit(c.smallest_strong)}",
                f"consistency: {'yes' if s.consistent else 'no'} (limit {s.limit}; "
                f"{s.short_instances} of {s.instances} fall short, max {s.shortfall_limit:.3g})",
                f"optimum: K = 2 link {'is' if o.k2_wro else 'is not'} a WRO optimum; "
                f"identity-WRO tilt at K >= 3 on {o.affine} of {o.tried}",
            ]
        )


def classify(loss: Any, *, instances: int = 500, max_K: int = 4, seed: int = 0) -> Classification:
    """Classify ``loss`` (module docstring) on ``instances`` random instances (K drawn uniformly
    in ``2..max_K``) with the generator seeded by ``seed``.

    >>> import sympy
    >>> z = sympy.Symbol("z")
    >>> report = classify((1 - z) ** 2, instances=60, max_K=3)
    >>> report.correspondence.smallest_plain is not None, report.optimum.k2_wro
    (True, True)
    """
    lo = as_loss(loss)
    if not isinstance(max_K, int) or max_K < 2:
        raise InvalidParameterError(f"max_K = {max_K!r}, expected an integer >= 2")
    if not isinstance(instances, int) or instances < 1:
        raise InvalidParameterError(f"instances = {instances!r}, expected an integer >= 1")
    rng = np.random.default_rng(seed)
    Ks = rng.integers(2, max_K + 1, size=instances)
    insts = [
        random_instances(rng, int((Ks == K).sum()), K)
        for K in range(2, max_K + 1)
        if (Ks == K).any()
    ]
    corr: WitnessSearch | None = None
    cons: Consistency | None = None
    for inst in insts:
        r = search_witnesses(lo, inst, rng)
        corr = r if corr is None else corr.merge(r)
        cons = merge_consistency(cons, consistency(lo, inst, rng))
    assert corr is not None and cons is not None
    return Classification(
        lo, seed, instances, max_K, corr, cons, optimum_equivalence(lo, insts, rng)
    )
