"""The generic minimizer of a zoo loss over tabular logits, with its certificate.

:func:`minimize_batch` runs a damped Newton method (Levenberg-Marquardt: step
``-(H + lambda I)^-1 g``, the Hessian ``H`` by forward differences of the exact gradient of
:func:`theory.zoo.population.loss_and_gradient`, ``lambda`` shrunk after a step that lowers the
loss and grown after one that does not) on ``B`` single-prompt problems at once, from one or
several starts (``pi_ref``, uniform, random logits), and keeps each problem's best.  The
certificate is the gradient's largest entry (in the scaled logits ``v = s theta``).  When the
scores of the compared responses spread beyond :data:`U_CAP` without the gradient vanishing the
problem is reported as having no minimizer, with the direction of escape; the loss is unbounded
below when it keeps falling linearly along that direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data import PreferenceData
from .loss import PairwiseLoss
from .population import PairBatch, batch_from_data, logit_scale, loss_and_gradient, scores

__all__ = [
    "GRAD_TOL",
    "U_CAP",
    "BatchSolution",
    "ZooMinimizer",
    "minimize_batch",
    "hinge_face_vertices",
    "scores_to_pi",
    "minimize",
]

#: Convergence: the largest gradient entry below this is a certified stationary point.
GRAD_TOL = 1e-9
#: Score spread beyond which a problem is reported as diverging (no minimizer): a ratio of e^30
#: between two shown responses' tilts; a genuine minimizer that far out is reported as none.
U_CAP = 30.0
MAX_ITER = 150
#: Losses minimized as a linear program (piecewise linear: max(0, 1 - z)).
HINGE_NAMES = ("hinge", "gpo_hinge")
#: Largest move of one scaled logit in one step (a trust region).
MAX_STEP = 4.0


@dataclass(frozen=True)
class BatchSolution:
    """Per problem: ``pi`` ``(B, K)``, ``u`` (scores), ``value``, ``gradient_norm``,
    ``converged``, ``exists`` (False: scores diverge), ``unbounded`` (the loss falls without
    bound), ``direction`` ``(B, K)`` (escape direction of the scores, zero when ``exists``),
    ``spread`` (best minus worst start value: 0 for one start)."""

    pi: np.ndarray
    u: np.ndarray
    value: np.ndarray
    gradient_norm: np.ndarray
    converged: np.ndarray
    exists: np.ndarray
    unbounded: np.ndarray
    direction: np.ndarray
    spread: np.ndarray


def _pack(v: np.ndarray, delta: np.ndarray | None) -> np.ndarray:
    return v if delta is None else np.concatenate([v, delta[:, None]], axis=1)


def _eval(
    loss: PairwiseLoss, batch: PairBatch, x: np.ndarray, s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    K = batch.K
    delta = x[:, K] if loss.shift else None
    val, g, gd = loss_and_gradient(loss, batch, x[:, :K], delta, scale=s)
    return val, _pack(g, gd)


def _sub(batch: PairBatch, idx: np.ndarray) -> PairBatch:
    return PairBatch(w=batch.w[idx], log_ref=batch.log_ref[idx], beta=batch.beta[idx])


def _newton(
    loss: PairwiseLoss, batch: PairBatch, x0: np.ndarray, s: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Levenberg-Marquardt on every problem of ``batch`` from ``x0`` (module docstring)."""
    x = x0.copy()
    val, g = _eval(loss, batch, x, s)
    lam = np.full(batch.B, 1e-3)
    active = np.ones(batch.B, dtype=bool)
    tiny = np.zeros(batch.B, dtype=bool)  # the last accepted Newton step was negligible
    stall = np.zeros(batch.B, dtype=int)  # accepted steps in a row that gained nothing
    for _ in range(MAX_ITER):
        spread = x[:, : batch.K].max(axis=1) - x[:, : batch.K].min(axis=1)
        active &= (np.abs(g).max(axis=1) > GRAD_TOL) & (lam < 1e14) & (spread < 4 * U_CAP)
        active &= ~tiny & (stall < 4)
        idx = np.flatnonzero(active)
        if len(idx) == 0:
            break
        sub = _sub(batch, idx)
        xs, gs = x[idx], g[idx]
        H = _hessian(loss, sub, xs, gs, s[idx])
        lam_h, vec = np.linalg.eigh(H)  # saddle-free: |eigenvalues|, damped by lambda
        lam_h = np.abs(lam_h) + lam[idx, None]
        step = np.einsum("bij,bj->bi", vec, np.einsum("bji,bj->bi", vec, gs) / lam_h)
        big = np.abs(step).max(axis=1, keepdims=True)
        step = step * np.minimum(1.0, MAX_STEP / np.maximum(big, 1e-300))
        trial = xs - step
        tv, tg = _eval(loss, sub, trial, s[idx])
        ok = np.isfinite(tv) & (tv <= val[idx]) & np.all(np.isfinite(tg), axis=1)
        ok &= (tv < val[idx]) | (np.abs(tg).max(axis=1) < np.abs(gs).max(axis=1))
        with np.errstate(invalid="ignore"):
            gain = (val[idx] - tv) / (1 + np.abs(val[idx]))
        small = np.abs(step).max(axis=1) < 1e-11 * (1 + np.abs(xs).max(axis=1))
        tiny[idx] = ok & small & (lam[idx] < 1e-2)
        stall[idx] = np.where(ok & (gain < 1e-13), stall[idx] + 1, np.where(ok, 0, stall[idx]))
        acc = idx[ok]
        x[acc], val[acc], g[acc] = trial[ok], tv[ok], tg[ok]
        lam[idx] = np.where(ok, lam[idx] / 4, lam[idx] * 6)
    return x, val, g, tiny


def _hessian(
    loss: PairwiseLoss, batch: PairBatch, x: np.ndarray, g: np.ndarray, s: np.ndarray
) -> np.ndarray:
    """The symmetrized Hessian ``(B, n, n)`` at ``x`` ``(B, n)`` by forward differences of the
    gradient ``g`` there, the ``n`` steps of every problem evaluated as one batch of ``n B``
    problems (one call instead of ``n``: the evaluation's cost is mostly per call)."""
    b, n = x.shape
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    steps = np.repeat(x[None], n, axis=0)  # (n, B, n): step k moves coordinate k
    steps[np.arange(n), :, np.arange(n)] += h.T
    stacked = PairBatch(
        w=np.tile(batch.w, (n, 1, 1)),
        log_ref=np.tile(batch.log_ref, (n, 1)),
        beta=np.tile(batch.beta, n),
    )
    moved = _eval(loss, stacked, steps.reshape(n * b, n), np.tile(s, n))[1].reshape(n, b, n)
    H = np.transpose((moved - g) / h.T[:, :, None], (1, 2, 0))  # H[b, j, k]: d g_j / d x_k
    return (H + np.swapaxes(H, 1, 2)) / 2


def _starts(batch: PairBatch, count: int, rng: np.random.Generator) -> list:
    """Starting logits ``theta`` ``(B, K)``: ``log pi_ref``, uniform, then random."""
    ref = np.where(np.isfinite(batch.log_ref), batch.log_ref, -30.0)
    out = [ref, np.zeros((batch.B, batch.K))]
    while len(out) < count:
        out.append(rng.normal(scale=2.0, size=(batch.B, batch.K)))
    return out[: max(count, 1)]


def _scales(loss: PairwiseLoss, batch: PairBatch) -> list[np.ndarray]:
    """The parametrizations tried: ``v = s theta`` with ``s`` = :func:`logit_scale`, and for a
    separable loss also ``s = beta`` (small beta: the separable terms read ``beta d``)."""
    first = logit_scale(loss, batch.beta)
    out = [first]
    if not np.array_equal(first, batch.beta) and loss.score != "log_odds":
        out.append(batch.beta)
    return out


def minimize_batch(
    loss: PairwiseLoss,
    batch: PairBatch,
    *,
    starts: int = 1,
    rng: np.random.Generator | None = None,
) -> BatchSolution:
    """Minimize ``loss`` on every problem of ``batch`` (module docstring) from ``starts`` starting
    points in each parametrization (:func:`_scales`), keeping each problem's best; ``starts`` > 1
    for a non-convex loss (DiscoPOP).  Free responses (no data) stay where the start put them."""
    if loss.name in HINGE_NAMES:
        return _hinge_lp(loss, batch)
    rng = np.random.default_rng(0) if rng is None else rng
    K = batch.K
    best, values = _best_of_runs(loss, batch, starts, rng)
    x, val, g, tiny = best
    theta = x[:, :K]
    lp = theta - np.logaddexp.reduce(theta, axis=1, keepdims=True)
    u = scores(loss, lp, batch.log_ref, batch.beta)
    seen = (batch.pw + batch.pl) > 0
    spread_u = np.where(seen, u, np.nan)
    with np.errstate(invalid="ignore"):
        width = np.nanmax(spread_u, axis=1) - np.nanmin(spread_u, axis=1)
        direction = np.nan_to_num(spread_u - np.nanmean(spread_u, axis=1)[:, None])
    gnorm = np.abs(g).max(axis=1)
    norm = np.linalg.norm(direction, axis=1, keepdims=True)
    direction = np.where(norm > 0, direction / np.where(norm > 0, norm, 1.0), 0.0)
    xb = x.copy()
    xb[:, :K] = _dir_scale(loss, batch)[:, None] * theta
    escapes, direction = _falls_along(loss, batch, xb, val, direction)
    diverging = escapes | (width > U_CAP)
    converged = ((gnorm <= 1e-6) | tiny) & ~diverging
    exists = ~diverging
    direction = np.where(exists[:, None], 0.0, direction)
    unbounded = _unbounded(loss, batch, xb, direction, exists)
    allv = np.stack(values)
    return BatchSolution(
        pi=np.exp(lp),
        u=u,
        value=val,
        gradient_norm=gnorm,
        converged=converged,
        exists=exists,
        unbounded=unbounded,
        direction=direction,
        spread=allv.max(axis=0) - allv.min(axis=0),
    )


def _best_of_runs(
    loss: PairwiseLoss, batch: PairBatch, starts: int, rng: np.random.Generator
) -> tuple[tuple[np.ndarray, ...], list[np.ndarray]]:
    """Newton from every start in every parametrization: each problem's best run ``(x, value,
    gradient, tiny)`` (``x`` in ``theta``; a later run replaces it only when lower by more than
    ``1e-12``) and the final values of all runs."""
    K = batch.K
    best: tuple[np.ndarray, ...] | None = None
    values = []
    for theta0 in _starts(batch, starts, rng):
        for s in _scales(loss, batch):
            x0 = _pack(s[:, None] * theta0, np.zeros(batch.B) if loss.shift else None)
            x, val, g, tiny = _newton(loss, batch, x0, s)
            x = x.copy()
            x[:, :K] = x[:, :K] / s[:, None]  # back to theta
            values.append(val)
            run = (x, val, g, tiny)
            if best is None:
                best = run
                continue
            better = val < best[1] - 1e-12
            best = tuple(
                np.where(better[:, None] if a.ndim == 2 else better, b, a)
                for a, b in zip(best, run, strict=True)
            )
    assert best is not None
    return best, values


def _dir_scale(loss: PairwiseLoss, batch: PairBatch) -> np.ndarray:
    """The scale in which ``v`` moves the scores one for one (``beta``; 1 for log-odds)."""
    return np.ones_like(batch.beta) if loss.score == "log_odds" else batch.beta


def _hinge_lp(loss: PairwiseLoss, batch: PairBatch) -> BatchSolution:
    """The hinge loss ``sum_ij w_ij max(0, 1 - (u_i - u_j))`` as a linear program per problem:
    minimize ``sum w_ij t_ij`` over ``t_ij >= 0``, ``t_ij >= 1 - u_i + u_j`` and the scores ``u``
    (``u_0 = 0``); HiGHS returns a vertex of the optimal face (the minimizer set is a polyhedron:
    this is one member).  Certificate: the LP's status (``gradient_norm`` 0 when optimal)."""
    from scipy.optimize import linprog

    B, K = batch.B, batch.K
    u = np.zeros((B, K))
    value = np.zeros(B)
    ok = np.zeros(B, dtype=bool)
    for t in range(B):
        pairs = [(i, j) for i in range(K) for j in range(K) if i != j and batch.w[t, i, j] > 0]
        diag = float(sum(batch.w[t, i, i] for i in range(K)))
        n = K + len(pairs)
        c = np.concatenate([np.zeros(K), [batch.w[t, i, j] for i, j in pairs]])
        A = np.zeros((len(pairs), n))
        for r, (i, j) in enumerate(pairs):
            A[r, i], A[r, j], A[r, K + r] = -1.0, 1.0, -1.0
        bounds = [(0, 0)] + [(None, None)] * (K - 1) + [(0, None)] * len(pairs)
        res = linprog(
            c,
            A_ub=A if pairs else None,
            b_ub=-np.ones(len(pairs)) if pairs else None,
            bounds=bounds,
            method="highs",
        )
        ok[t] = res.status == 0
        if ok[t]:
            u[t], value[t] = res.x[:K], res.fun + diag
    zeros = np.zeros(B)
    return BatchSolution(
        pi=scores_to_pi(u, batch),
        u=u,
        value=value,
        gradient_norm=zeros,
        converged=ok,
        exists=ok,
        unbounded=zeros.astype(bool),
        direction=np.zeros((B, K)),
        spread=zeros,
    )


def scores_to_pi(u: np.ndarray, batch: PairBatch) -> np.ndarray:
    """The model of scores ``u = beta (log pi - log pi_ref)`` ``(B, K)``:
    ``pi ∝ pi_ref exp(u / beta)``.

    >>> b = PairBatch(w=np.zeros((1, 2, 2)), log_ref=np.log([[0.5, 0.5]]), beta=np.ones(1))
    >>> scores_to_pi(np.array([[np.log(3.0), 0.0]]), b).round(6).tolist()
    [[0.75, 0.25]]
    """
    theta = u / batch.beta[:, None] + np.where(np.isfinite(batch.log_ref), batch.log_ref, -np.inf)
    return np.exp(theta - np.logaddexp.reduce(theta, axis=1, keepdims=True))


def _hinge_face_lps(w: np.ndarray, opt: float) -> list[np.ndarray]:
    """Scores ``u`` at vertices of one problem's hinge optimal face (``w`` ``(K, K)``, ``opt``
    the optimal value of the off-diagonal terms): the face ``{sum w_ij t_ij <= opt}`` of the LP
    of :func:`_hinge_lp`, boxed to ``|u| <= U_CAP`` around the first shown response, each shown
    score minimized and maximized (2 (k - 1) LPs for k shown responses)."""
    from scipy.optimize import linprog

    K = w.shape[0]
    shown = np.flatnonzero(w.sum(axis=0) + w.sum(axis=1) > 0)
    if len(shown) < 2:
        return []
    pairs = [(i, j) for i in range(K) for j in range(K) if i != j and w[i, j] > 0]
    n = K + len(pairs)
    A = np.zeros((len(pairs) + 1, n))
    for r, (i, j) in enumerate(pairs):
        A[r, i], A[r, j], A[r, K + r] = -1.0, 1.0, -1.0
    A[-1, K:] = [w[i, j] for i, j in pairs]
    b = np.concatenate([-np.ones(len(pairs)), [opt + 1e-9 * (1 + abs(opt))]])
    bounds = [(-U_CAP, U_CAP)] * K + [(0, None)] * len(pairs)
    bounds[int(shown[0])] = (0, 0)
    out = []
    for y in shown[1:]:
        for sign in (1.0, -1.0):
            c = np.zeros(n)
            c[y] = sign
            res = linprog(c, A_ub=A, b_ub=b, bounds=bounds, method="highs")
            if res.status == 0:
                out.append(res.x[:K])
    return out


def hinge_face_vertices(batch: PairBatch, sol: BatchSolution) -> list[np.ndarray]:
    """Scores ``(B, K)`` at several vertices of each problem's hinge optimal face (the hinge
    minimizer set is a polyhedron; :func:`_hinge_face_lps`): the solution's own scores first,
    then the vertex that minimizes or maximizes each shown score (problems with fewer such
    vertices repeat the solution's)."""
    per = []
    for t in range(batch.B):
        diag = float(np.trace(batch.w[t]))
        per.append(_hinge_face_lps(batch.w[t], float(sol.value[t]) - diag) if sol.exists[t] else [])
    most = max((len(v) for v in per), default=0)
    out = [sol.u]
    for k in range(most):
        u = sol.u.copy()
        for t, verts in enumerate(per):
            if k < len(verts):
                u[t] = verts[k]
        out.append(u)
    return out


def _falls_along(
    loss: PairwiseLoss, batch: PairBatch, x: np.ndarray, val: np.ndarray, direction: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where the loss is lower 20 score units away along the scores' spread ``direction`` or
    along raising or lowering one shown response's score against the rest: the point found is
    then no minimizer (the loss keeps falling that way).  Returns the mask and, per problem, the
    direction that fell most (``direction`` where none fell)."""
    K = batch.K
    seen = (batch.pw + batch.pl) > 0
    candidates = [direction]
    for y in range(K):
        e = np.where(seen, -1.0 / np.maximum(seen.sum(axis=1, keepdims=True), 1), 0.0)
        e[:, y] = np.where(seen[:, y], 1.0 + e[:, y], 0.0)
        e /= np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-300)
        candidates.extend([e, -e])
    drop = np.zeros(batch.B)
    best = direction.copy()
    for d in candidates:
        xt = x.copy()
        xt[:, :K] += 20.0 * d
        with np.errstate(all="ignore"):
            far = _eval(loss, batch, xt, _dir_scale(loss, batch))[0]
        gain = np.where(np.isfinite(far), val - far, 0.0)
        better = gain > drop
        drop = np.where(better, gain, drop)
        best = np.where(better[:, None], d, best)
    return drop > 1e-13 * (1 + np.abs(val)), best


def _unbounded(
    loss: PairwiseLoss, batch: PairBatch, x: np.ndarray, direction: np.ndarray, exists: np.ndarray
) -> np.ndarray:
    """True where the loss keeps falling linearly along the escape direction."""
    out = np.zeros(batch.B, dtype=bool)
    idx = np.flatnonzero(~exists)
    if len(idx) == 0:
        return out
    sub = _sub(batch, idx)
    vals = []
    for t in (50.0, 100.0, 150.0):
        xt = x[idx].copy()
        xt[:, : batch.K] += t * direction[idx]  # v moves the scores one for one
        vals.append(_eval(loss, sub, xt, _dir_scale(loss, sub))[0])
    s1, s2 = (vals[1] - vals[0]) / 50.0, (vals[2] - vals[1]) / 50.0
    with np.errstate(invalid="ignore", divide="ignore"):
        out[idx] = (s1 < -1e-9) & (s2 < -1e-9) & (np.abs(s2 / s1 - 1) < 0.1)
    return out


@dataclass(frozen=True)
class ZooMinimizer:
    """The minimizer of a zoo loss on a data distribution, with its certificate.

    ``pi`` ``(M, K)``: the minimizer found (float); ``value``: the loss there; ``gradient_norm``:
    the largest gradient entry (the certificate; the stationarity residual); ``converged``:
    every prompt certified below ``1e-6``; ``exists``: False when some prompt's scores diverge
    (no minimizer), with ``direction`` ``(M, K)`` the escape direction of the scores;
    ``unbounded``: the loss is unbounded below; ``free``: per prompt, the responses in no
    comparison (the data never shows them); ``free_mass``: per prompt, the range ``(low, high)``
    of the total mass that members of the minimizer set (its closure) put on the free
    responses: ``(0, 1)`` for a loss of the margins alone (unconstrained, as for DPO: the
    margins do not see it), ``(f, f)`` with the solver's ``f`` when separable terms fix it
    (their split among the free responses is free either way), ``(0, 0)`` when nothing is free;
    ``starts`` and ``spread``: how many starts, and the largest gap between their values.
    """

    pi: np.ndarray
    value: float
    gradient_norm: float
    converged: bool
    exists: bool
    unbounded: bool
    direction: np.ndarray
    free: tuple
    free_mass: tuple
    starts: int
    spread: float


def minimize(
    loss: PairwiseLoss,
    data: PreferenceData,
    pi_ref: Any = None,
    beta: Any = 1,
    *,
    starts: int | None = None,
    seed: int = 0,
) -> ZooMinimizer:
    """The minimizer of ``loss`` on ``data`` (module docstring); ``starts`` defaults to
    ``loss.starts`` (several for a non-convex loss such as DiscoPOP or EXO).  ``pi_ref`` defaults
    to uniform for a reference-free loss.

    >>> from fractions import Fraction as F
    >>> from theory.zoo import ZOO
    >>> D = PreferenceData(P=[[F(1, 2), F(4, 5)], [F(1, 5), F(1, 2)]], mu0=[F(1, 2), F(1, 2)])
    >>> sol = minimize(ZOO["sigmoid"], D, [0.5, 0.5], 1)
    >>> round(float(np.log(sol.pi[0, 0] / sol.pi[0, 1])), 6), sol.converged  # logit .8
    (1.386294, True)
    >>> E = PreferenceData(P=[[F(1, 2), F(4, 5), F(1, 2)], [F(1, 5), F(1, 2), F(1, 2)],
    ...                       [F(1, 2), F(1, 2), F(1, 2)]], mu0=[F(1, 2), F(1, 2), 0])
    >>> s = minimize(ZOO["sigmoid"], E, [1 / 3] * 3, 1)   # response 2 is never shown
    >>> s.free, s.free_mass
    (((2,),), ((0.0, 1.0),))
    """
    if pi_ref is None:
        pi_ref = np.full((data.M, data.K), 1.0 / data.K)
    batch = batch_from_data(data, pi_ref, beta)
    if loss.reference_free:
        batch = PairBatch(w=batch.w, log_ref=np.zeros_like(batch.log_ref), beta=batch.beta)
    n = starts if starts is not None else loss.starts
    sol = minimize_batch(loss, batch, starts=n, rng=np.random.default_rng(seed))
    free = tuple(
        tuple(int(y) for y in np.flatnonzero((batch.pw + batch.pl)[x] == 0)) for x in range(data.M)
    )
    unconstrained = loss.pair_only or loss.shift
    mass = [float(sol.pi[x, list(ys)].sum()) for x, ys in enumerate(free)]
    free_mass = tuple(
        (0.0, 0.0) if not ys else (0.0, 1.0) if unconstrained else (f, f)
        for ys, f in zip(free, mass, strict=True)
    )
    return ZooMinimizer(
        pi=sol.pi,
        value=float(sol.value.sum()),
        gradient_norm=float(sol.gradient_norm.max()),
        converged=bool(sol.converged.all()),
        exists=bool(sol.exists.all()),
        unbounded=bool(sol.unbounded.any()),
        direction=sol.direction,
        free=free,
        free_mass=free_mass,
        starts=n,
        spread=float(sol.spread.max()),
    )
