"""The classification of a preference loss: correspondence, consistency, optimum equivalence.

:func:`classify` takes a registered loss (:data:`theory.zoo.ZOO`), a :class:`PairwiseLoss`, a
sympy expression in ``z`` or a Python callable of ``z`` (:func:`theory.zoo.margin_loss`), draws
random rational instances (:mod:`theory.zoo.instances`, K = 2..``max_K``, ``mu0 = mu1`` for half,
Bradley-Terry, general and total-order ``P``, a share :data:`PARTIAL` with free responses) and
reports three properties (docs/zoo.md):

* **correspondence** (:mod:`theory.zoo.witness`): the smallest certified plain and strong
  witnesses;
* **consistency**: the win rate ``WR(pi*; m)`` (``h`` = identity, anchor ``m = (mu0 + mu1)/2``;
  the logit win rate beside it) of the minimizer set's best and worst member
  (:func:`member_range`: free responses take any mass for a loss of the margins alone; the
  hinge losses' optimal face through several of its vertices) against the best achievable
  ``max_y sum_j h(P_yj) m_j``, at the instance's ``beta`` and in the ``beta -> 0`` limit.  For
  a loss of the margins alone (and BCO, whose shifted scores are free) the minimizing scores
  ``u*`` do not depend on ``beta``, so the limit is exact: the minimizer concentrates on
  ``argmax u*`` over the shown responses (best and worst member: the best and worst response
  of that set and the free ones).  Otherwise the limit is read at :data:`LIMIT_BETA`.  Where the
  loss has no minimizer but is bounded below (DPO on deterministic labels, APO's losers pushed
  to zero mass) the point the solver reaches along the falling direction stands for the limit
  of a minimizing sequence;
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
from .solve import HINGE_NAMES, hinge_face_vertices, minimize_batch, scores_to_pi
from .witness import WitnessSearch, search_witnesses

__all__ = [
    "LIMIT_BETA",
    "PARTIAL",
    "SHORTFALL_TOL",
    "Shortfall",
    "Consistency",
    "member_range",
    "minimizer_members",
    "response_win_rates_h",
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
#: The share of instances (K >= 3) with free responses (never shown) in a classification run.
PARTIAL = 0.25
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
class Shortfall:
    """The largest shortfall ``best - WR_h(member; m)`` over the instances, ``best`` the best
    achievable ``max_y sum_j h(P_yj) m_j``: of the minimizer set's ``best`` and ``worst``
    member, in the ``beta -> 0`` limit (``*_limit``) and at the instance's beta (``*_fixed``);
    ``instances``: how many instances it is taken over (for ``h = logit``, those with
    ``0 < P < 1``, where the logit win rate is finite)."""

    best_limit: float
    worst_limit: float
    best_fixed: float
    worst_fixed: float
    instances: int

    def merge(self, other: Shortfall) -> Shortfall:
        return Shortfall(
            max(self.best_limit, other.best_limit),
            max(self.worst_limit, other.worst_limit),
            max(self.best_fixed, other.best_fixed),
            max(self.worst_fixed, other.worst_fixed),
            self.instances + other.instances,
        )

    def cell(self) -> str:
        """``best / worst (beta -> 0); best / worst (fixed beta)``, 3 significant digits."""
        return (
            f"{self.best_limit:.3g} / {self.worst_limit:.3g}; "
            f"{self.best_fixed:.3g} / {self.worst_fixed:.3g}"
        )


@dataclass(frozen=True)
class Consistency:
    """Win rate of the minimizer set's best and worst member against the best achievable
    (module docstring).

    ``instances``: where the loss is bounded below (``no_minimizer``: how many of all have no
    minimizer, the infimum approached at the boundary); ``partial``: instances with free
    responses (shown in no pair); ``limit``: ``"exact"`` (margin-only loss) or the beta used;
    ``identity`` / ``logit``: the :class:`Shortfall` of the ``h = identity`` win rate and of the
    ``h = logit`` one beside it; ``short_instances``: instances whose best member falls short in
    the limit (by more than :data:`SHORTFALL_TOL`), split ``by_symmetry`` (``"mu0 = mu1"``,
    ``"mu0 != mu1"``); ``worst_short``: instances whose worst member does; ``example``: the
    instance with the largest limit shortfall of the best member."""

    instances: int
    no_minimizer: int
    partial: int
    limit: str
    identity: Shortfall
    logit: Shortfall
    short_instances: int
    worst_short: int
    by_symmetry: dict
    example: dict | None

    @property
    def consistent(self) -> bool:
        return self.short_instances == 0

    @property
    def shortfall_limit(self) -> float:
        """The best member's largest identity shortfall in the limit."""
        return self.identity.best_limit

    @property
    def shortfall_fixed(self) -> float:
        """The best member's largest identity shortfall at the instance's beta."""
        return self.identity.best_fixed

    @property
    def worst_limit(self) -> float:
        """The worst member's largest identity shortfall in the limit."""
        return self.identity.worst_limit


def response_win_rates_h(inst: InstanceBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``W_h(y) = sum_j h(P_yj) m_j`` ``(n, K)`` for ``h`` = identity and logit (float,
    ``m = (mu0 + mu1)/2``), and the mask ``(n,)`` of instances with ``0 < P < 1`` (finite
    logit)."""
    P, m = inst.floats("P"), inst.floats("anchor")
    interior = np.all((P > 0) & (P < 1), axis=(1, 2))
    with np.errstate(divide="ignore"):
        L = np.where(interior[:, None, None], np.log(P) - np.log1p(-P), 0.0)
    return np.einsum("nij,nj->ni", P, m), np.einsum("nij,nj->ni", L, m), interior


def member_range(
    pis: list[np.ndarray], shown: np.ndarray, free_mass_fixed: bool, Wh: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Best and worst ``v . W_h`` ``(n,)`` over the minimizer set's vertices: for each found
    member ``pi`` in ``pis`` (``(n, K)``; several for the hinge losses' optimal face), its
    part on the ``shown`` responses plus all the free mass on one free response.  When
    ``free_mass_fixed`` is False (a loss of the margins alone: the free mass is unconstrained,
    as for DPO) the vertices are the shown part renormalized and each free response's point
    mass; otherwise (separable terms fix the total free mass ``f``) the shown part plus
    ``f e_y`` for each free ``y`` (the member itself when nothing is free).

    >>> W = np.array([[0.5, 0.9, 0.2]])
    >>> shown = np.array([[True, False, True]])
    >>> member_range([np.array([[0.5, 0.2, 0.3]])], shown, False, W)
    (array([0.9]), array([0.3875]))
    """
    free = ~shown
    best = np.full(Wh.shape[0], -np.inf)
    worst = np.full(Wh.shape[0], np.inf)
    anyfree = free.any(axis=1)
    free_best = np.where(anyfree, np.where(free, Wh, -np.inf).max(axis=1), -np.inf)
    free_worst = np.where(anyfree, np.where(free, Wh, np.inf).min(axis=1), np.inf)
    for pi in pis:
        part = np.where(shown, pi, 0.0)
        mass = part.sum(axis=1)
        if free_mass_fixed:
            f = 1.0 - mass
            base = np.einsum("nk,nk->n", part, Wh)
            hi = base + f * np.where(anyfree, free_best, 0.0)
            lo = base + f * np.where(anyfree, free_worst, 0.0)
        else:
            nu = np.einsum("nk,nk->n", part, Wh) / np.where(mass > 0, mass, 1.0)
            hi, lo = np.maximum(nu, free_best), np.minimum(nu, free_worst)
        best, worst = np.maximum(best, hi), np.minimum(worst, lo)
    return best, worst


def _top_members(us: list[np.ndarray], shown: np.ndarray) -> list[np.ndarray]:
    """The ``beta -> 0`` limits of scores ``u`` that do not depend on beta: for each ``u`` in
    ``us``, the point masses on ``argmax`` of the shown scores (ties within ``1e-7``
    relative), as 0/1 rows; the free responses are added by :func:`member_range`."""
    out = []
    for u in us:
        su = np.where(shown, u, -np.inf)
        top = su >= su.max(axis=1, keepdims=True) - 1e-7 * (
            1 + np.abs(np.where(shown, u, 0.0)).max(axis=1, keepdims=True)
        )
        for y in range(u.shape[1]):
            e = np.zeros_like(u)
            e[:, y] = 1.0
            out.append(np.where(top[:, y : y + 1], e, np.nan))
    return out


def _range_over(
    pis: list[np.ndarray], shown: np.ndarray, fixed: bool, Wh: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`member_range` skipping the rows of ``pis`` that are NaN (not a member there)."""
    best = np.full(Wh.shape[0], -np.inf)
    worst = np.full(Wh.shape[0], np.inf)
    for pi in pis:
        ok = np.isfinite(pi).all(axis=1)
        b, w = member_range([np.nan_to_num(pi)], shown, fixed, Wh)
        best = np.where(ok, np.maximum(best, b), best)
        worst = np.where(ok, np.minimum(worst, w), worst)
    return best, worst


def minimizer_members(
    loss: PairwiseLoss, inst: InstanceBatch, beta: np.ndarray, rng: np.random.Generator
) -> tuple[Any, list[np.ndarray], list[np.ndarray]]:
    """The solution of :func:`~theory.zoo.solve.minimize_batch` at ``beta`` (``(n,)``), the
    members of the minimizer set found (a list of ``pi`` ``(n, K)``: the solution, and for the
    hinge losses the optimal face's vertices of :func:`~theory.zoo.solve.hinge_face_vertices`)
    and their scores ``u``."""
    batch = _pair_batch(loss, inst, beta)
    sol = minimize_batch(loss, batch, starts=loss.starts, rng=rng)
    if loss.name in HINGE_NAMES:
        us = hinge_face_vertices(batch, sol)
        return sol, [scores_to_pi(u, batch) for u in us], us
    return sol, [sol.pi], [sol.u]


def consistency(loss: PairwiseLoss, inst: InstanceBatch, rng: np.random.Generator) -> Consistency:
    """The consistency report of ``loss`` on the instances ``inst`` (module docstring)."""
    sol, pis, us = minimizer_members(loss, inst, inst.floats("beta"), rng)
    ok = ~sol.unbounded & np.isfinite(sol.value)  # the limit point of a falling loss counts
    shown = (inst.floats("w").sum(axis=2) + inst.floats("w").sum(axis=1)) > 0
    fixed_mass = not (loss.pair_only or loss.shift)
    W, Wl, interior = response_win_rates_h(inst)
    if fixed_mass:
        _, lim_pis, _ = minimizer_members(loss, inst, np.full(inst.n, LIMIT_BETA), rng)
        how = f"beta = {LIMIT_BETA:g}"
    else:
        lim_pis, how = _top_members(us, shown), "exact"
    report = {}
    for h, Wh, mask in (("identity", W, ok), ("logit", Wl, ok & interior)):
        best = Wh.max(axis=1)
        fb, fw = _range_over(pis, shown, fixed_mass, Wh)
        lb, lw = _range_over(lim_pis, shown, fixed_mass, Wh)
        gaps = [best - v for v in (lb, lw, fb, fw)]
        m = [_max_where(mask, g) for g in gaps]
        report[h] = (gaps, Shortfall(m[0], m[1], m[2], m[3], int(mask.sum())))
    (g_lb, g_lw, g_fb, g_fw), _ = report["identity"]
    short = ok & (g_lb > SHORTFALL_TOL)
    sym = np.array([bool(np.all(inst.mu0[t] == inst.mu1[t])) for t in range(inst.n)])
    return Consistency(
        instances=int(ok.sum()),
        no_minimizer=int((~sol.exists).sum()),
        partial=int((~shown).any(axis=1).sum()),
        limit=how,
        identity=report["identity"][1],
        logit=report["logit"][1],
        short_instances=int(short.sum()),
        worst_short=int((ok & (g_lw > SHORTFALL_TOL)).sum()),
        by_symmetry={
            "mu0 = mu1": int((short & sym).sum()),
            "mu0 != mu1": int((short & ~sym).sum()),
        },
        example=_example(inst, short, W.max(axis=1), (g_lb, g_lw, g_fb, g_fw)),
    )


def _max_where(mask: np.ndarray, gap: np.ndarray) -> float:
    return float(np.max(np.where(mask, gap, -np.inf), initial=0.0))


def _example(
    inst: InstanceBatch, short: np.ndarray, best: np.ndarray, gaps: tuple[np.ndarray, ...]
) -> dict | None:
    """The instance with the largest limit shortfall of the best member (None if none)."""
    if not short.any():
        return None
    t = int(np.argmax(np.where(short, gaps[0], -np.inf)))
    names = ("limit_wr", "limit_worst_wr", "fixed_wr", "fixed_worst_wr")
    return {
        "K": inst.K,
        "P": inst.P[t],
        "mu0": inst.mu0[t],
        "mu1": inst.mu1[t],
        "pi_ref": inst.pi_ref[t],
        "beta": inst.beta[t],
        "best": float(best[t]),
        **{k: float(best[t] - g[t]) for k, g in zip(names, gaps, strict=True)},
        "family": str(inst.family[t]),
    }


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
        a.partial + b.partial,
        a.limit,
        a.identity.merge(b.identity),
        a.logit.merge(b.logit),
        a.short_instances + b.short_instances,
        a.worst_short + b.worst_short,
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
        shown = (sub.pw + sub.pl) > 0  # free responses: any score (not fitted)
        for t in np.flatnonzero(sol.exists & sol.converged):
            X = np.stack([Wm[t], np.ones(inst.K)], axis=1)[shown[t]]
            coef, *_ = np.linalg.lstsq(X, sol.u[t][shown[t]], rcond=None)
            res = float(np.abs(X @ coef - sol.u[t][shown[t]]).max())
            tried += 1
            worst = max(worst, res)
            flat = np.ptp(X[:, 0]) < AFFINE_TOL  # P mu constant: the tilt is pi_ref itself
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
                f"{s.short_instances} of {s.instances} fall short, max {s.shortfall_limit:.3g}; "
                f"worst member {s.worst_short}; {s.partial} with free responses)",
                f"shortfall best / worst member, beta -> 0; fixed beta: {s.identity.cell()} "
                f"(logit, {s.logit.instances} with 0 < P < 1: {s.logit.cell()})",
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
        random_instances(rng, int((Ks == K).sum()), K, partial=PARTIAL)
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
