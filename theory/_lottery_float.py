"""The float path of the maximal lottery: a batched interior point on the linear complementarity
problem of the symmetric game, then support polishing.

Internal to :mod:`theory` (called by :mod:`theory.lottery`, which documents the method).  The
solver is written as named steps, one function each: the linear solver of an iteration
(:func:`_linear_solver`), Mehrotra's predictor (:func:`_predictor`) and corrector
(:func:`_corrector`), the step length (:func:`step_length`), Gondzio's centrality correctors
(:func:`_gondzio`), the candidates offered to the best-so-far (:func:`_offer_candidates`) and the
stopping test (:func:`_open`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

__all__ = [
    "ML_TOL",
    "float_lotteries",
    "interior_point",
    "step_to_boundary",
    "step_length",
]

#: Target duality gap of the float maximal lottery (the solver stops once its certificate is below).
ML_TOL = 1e-12
#: Interior-point iteration cap; past it the best verified iterate is returned with its gap.
IPM_MAX_ITER = 100
#: Gondzio centrality correctors per interior-point iteration (each costs one extra solve).
CORRECTORS = 2
#: Above this complementarity, and from this K on, the interior point factors in single
#: precision (for smaller K the extra refinement solve costs more than it saves).
SINGLE_MU = 1e-6
SINGLE_K = 500
#: From this K on, one LAPACK factorization per instance (and support polishing one instance
#: at a time); below it, batched numpy solves.
BIG_K = 64
#: Complementarity below which the interior point starts guessing the support and polishing.
POLISH_MU = 1e-4
#: Fraction of the largest feasible step taken (keeps iterates strictly interior).
TO_BOUNDARY = 0.995

_DGETRF, _DGETRS = lapack.dgetrf, lapack.dgetrs
_SGETRF, _SGETRS = lapack.sgetrf, lapack.sgetrs

Solve = Callable[[np.ndarray], np.ndarray]


def step_to_boundary(v: np.ndarray, dv: np.ndarray) -> np.ndarray:
    """Largest ``a`` (per row) keeping ``v + a dv >= 0`` (``inf`` when ``dv >= 0``).

    >>> step_to_boundary(np.array([[1.0, 2.0]]), np.array([[-2.0, 1.0]]))
    array([0.5])
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(dv < 0, -v / dv, np.inf)
    return np.min(ratio, axis=-1)


def step_length(x: np.ndarray, w: np.ndarray, dx: np.ndarray, dw: np.ndarray) -> np.ndarray:
    """The step length of an interior-point direction: ``min(1, 0.995 a_max)`` per row, with
    ``a_max`` the largest step keeping ``x`` and ``w`` nonnegative."""
    a_max = np.minimum(step_to_boundary(x, dx), step_to_boundary(w, dw))
    return np.minimum(1.0, TO_BOUNDARY * a_max)


def float_lotteries(P: np.ndarray) -> np.ndarray:
    """Float maximal lotteries of a stack ``P`` (N, K, K) -> (N, K): :func:`interior_point` on
    the game ``P - 1/2``."""
    return interior_point(P - 0.5)


@dataclass
class _Best:
    """The best candidate lottery of each instance so far and its gap ``max_i (A pi)_i``, and the
    last support guess polished (large ``K``: a guess is polished once)."""

    pi: np.ndarray
    gap: np.ndarray
    tried: np.ndarray


def interior_point(A: np.ndarray) -> np.ndarray:
    """Batched Mehrotra predictor-corrector interior point for the symmetric game ``A`` (N, K, K).

    Monotone LCP: ``x >= 0, w = M x - 1 >= 0, x^T w = 0`` with ``M = 1 1^T - A`` (positive
    semidefinite since ``A`` is skew).  Any solution has ``1^T x = 1`` and ``w = -A x``, so
    ``x`` is a maximal lottery.  The start ``x = 4/K`` is strictly feasible (``w >= 1``), and
    ``dw = M dx`` keeps every iterate feasible.  Each iteration: one factorization of
    ``M + W/X`` (:func:`_linear_solver`), the predictor, the corrector, up to
    :data:`CORRECTORS` Gondzio centrality correctors, the step; then candidates (the normalised
    iterate and its support polish) are offered once the complementarity ``mu`` is below
    :data:`POLISH_MU`, and an instance stops when its best candidate is certified to
    :data:`ML_TOL`.  Returns ``(N, K)`` lotteries (the best certified).
    """
    N, K, _ = A.shape
    M = 1.0 - A
    x = np.full((N, K), 4.0 / K)
    w = np.einsum("nij,nj->ni", M, x) - 1.0
    uniform = np.full((N, K), 1.0 / K)
    best = _Best(
        uniform, np.max(np.einsum("nij,nj->ni", A, uniform), axis=1), np.zeros_like(x, bool)
    )
    active = _open(best, np.arange(N))
    for _ in range(IPM_MAX_ITER):
        if len(active) == 0:
            break
        xa, wa, Ma = x[active], w[active], M[active]
        mu = np.einsum("ni,ni->n", xa, wa) / K
        solve = _linear_solver(Ma, xa, wa, mu)
        dx, dw, sigma = _predictor(solve, xa, wa, Ma, mu)
        smu = (sigma * mu)[:, None]
        dx, dw, alpha = _corrector(solve, xa, wa, Ma, smu, dx, dw)
        dx, dw, alpha = _gondzio(solve, xa, wa, Ma, smu, dx, dw, alpha)
        x[active] = xa + alpha[:, None] * dx
        w[active] = wa + alpha[:, None] * dw
        _offer_candidates(A, x, w, active, mu < POLISH_MU, best)
        active = _open(best, active)
    return best.pi


def _open(best: _Best, active: np.ndarray) -> np.ndarray:
    """The stopping test: the instances of ``active`` whose best gap is still above ML_TOL."""
    return active[best.gap[active] > ML_TOL]


def _linear_solver(Ma: np.ndarray, xa: np.ndarray, wa: np.ndarray, mu: np.ndarray) -> Solve:
    """``rhs -> (M + W/X)^{-1} rhs`` for the iteration, factored once.

    For ``K > BIG_K`` one LAPACK LU per instance: while ``mu`` exceeds :data:`SINGLE_MU` (and
    ``K >= SINGLE_K``) in single precision, refined once in double (early iterations only need a
    rough direction); smaller ``K`` use a batched dense solve."""
    K = xa.shape[1]
    Mat = Ma.copy()
    idx = np.arange(K)
    Mat[:, idx, idx] += wa / xa
    if K <= BIG_K:
        return lambda rhs: np.linalg.solve(Mat, rhs[..., None])[..., 0]
    low = K >= SINGLE_K and bool(np.max(mu) > SINGLE_MU)
    getrf, getrs = (_SGETRF, _SGETRS) if low else (_DGETRF, _DGETRS)
    lu: list[tuple[np.ndarray, np.ndarray]] = []
    for m in Mat:  # LAPACK directly: the scipy wrappers' checks cost more than K = 300
        f, piv, info = getrf(m.astype(np.float32) if low else m, overwrite_a=True)
        if info < 0:  # pragma: no cover - argument error, a bug
            raise RuntimeError(f"getrf failed with info = {info}")
        lu.append((f, piv))

    def solve(rhs: np.ndarray) -> np.ndarray:
        out = []
        for (f, piv), r, m in zip(lu, rhs, Mat, strict=True):
            z = getrs(f, piv, r)[0].astype(np.float64)
            if low:
                z += getrs(f, piv, r - m @ z)[0]
            out.append(z)
        return np.stack(out)

    return solve


def _predictor(
    solve: Solve, xa: np.ndarray, wa: np.ndarray, Ma: np.ndarray, mu: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mehrotra's predictor: the affine direction ``(M + W/X) dx = -w``, ``dw = M dx``, and the
    centering parameter ``sigma = (mu_aff / mu)^3`` from the complementarity ``mu_aff`` after
    the largest feasible affine step."""
    K = xa.shape[1]
    dx = solve(-wa)
    dw = np.einsum("nij,nj->ni", Ma, dx)
    a_aff = np.minimum(step_to_boundary(xa, dx), step_to_boundary(wa, dw))
    mu_aff = np.einsum("ni,ni->n", xa + a_aff[:, None] * dx, wa + a_aff[:, None] * dw) / K
    return dx, dw, (mu_aff / mu) ** 3


def _corrector(
    solve: Solve,
    xa: np.ndarray,
    wa: np.ndarray,
    Ma: np.ndarray,
    smu: np.ndarray,
    dx_aff: np.ndarray,
    dw_aff: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mehrotra's corrector: the direction towards the centre ``sigma mu`` with the affine
    step's second-order term, ``(M + W/X) dx = sigma mu / x - w - dx_aff dw_aff / x``, and its
    :func:`step_length`."""
    rhs = smu / xa - wa - dx_aff * dw_aff / xa
    dx = solve(rhs)
    dw = np.einsum("nij,nj->ni", Ma, dx)
    return dx, dw, step_length(xa, wa, dx, dw)


def _gondzio(
    solve: Solve,
    xa: np.ndarray,
    wa: np.ndarray,
    Ma: np.ndarray,
    smu: np.ndarray,
    dx: np.ndarray,
    dw: np.ndarray,
    alpha: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Up to :data:`CORRECTORS` Gondzio centrality correctors (one solve each): push the
    products ``x w`` at a trial step into ``[0.1, 10] sigma mu``; a corrected direction is kept
    per instance when it lengthens the step enough."""
    for _corr in range(CORRECTORS):
        a_t = np.minimum(1.0, 1.5 * alpha + 0.1)[:, None]
        v = (xa + a_t * dx) * (wa + a_t * dw)
        r = np.maximum(np.clip(v, 0.1 * smu, 10.0 * smu) - v, -10.0 * smu)
        dx2 = dx + solve(r / xa)
        dw2 = np.einsum("nij,nj->ni", Ma, dx2)
        alpha2 = step_length(xa, wa, dx2, dw2)
        take = alpha2 >= alpha + 0.1 * (a_t[:, 0] - alpha)
        if not np.any(take):
            break
        dx[take], dw[take], alpha[take] = dx2[take], dw2[take], alpha2[take]
    return dx, dw, alpha


def _offer_candidates(
    A: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    active: np.ndarray,
    ready: np.ndarray,
    best: _Best,
) -> None:
    """Offer the ``ready`` instances' candidates to ``best``: the normalised iterate, and the
    polish on the support guess ``x > w`` (batched for small K; one at a time, and only when the
    guess changed, for large K).  A raw iterate cannot be certified before ``mu`` is small."""
    if not np.any(ready):
        return
    rows = active[ready]
    xs = np.maximum(x[rows], 0.0)
    _keep_better(A, rows, xs / xs.sum(axis=1, keepdims=True), best)
    if A.shape[1] <= BIG_K:
        _keep_better(A, rows, _polish_batch(A[rows], x[rows] > w[rows]), best)
        return
    for n in rows:
        mask = x[n] > w[n]
        if not np.array_equal(mask, best.tried[n]):
            best.tried[n] = mask
            polished = _polish(A[n], mask)
            if polished is not None:
                _keep_better(A, np.array([n]), polished[None], best)


def _keep_better(A: np.ndarray, rows: np.ndarray, cand: np.ndarray, best: _Best) -> None:
    """Replace ``best.pi[rows]`` by the candidates (N_rows, K) whose gap ``max_i (A pi)_i`` is
    lower.  Candidates with negative or non-finite entries are ignored."""
    ok = np.all(np.isfinite(cand), axis=1) & np.all(cand >= 0, axis=1)
    gap = np.full(len(rows), np.inf)
    if np.any(ok):
        gap[ok] = np.max(np.einsum("nij,nj->ni", A[rows[ok]], cand[ok]), axis=1)
    better = gap < best.gap[rows]
    best.pi[rows[better]] = cand[better]
    best.gap[rows[better]] = gap[better]


def _polish_batch(A: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Batched :func:`_polish` for small ``K``: rows outside the support pin ``pi_i = 0``.

    Solves ``[A_SS 1; 1^T 0] [pi_S; v] = [0; 1]`` padded to size ``K + 1`` by the
    pseudo-inverse (so singular systems of non-unique lotteries give their least-norm solution);
    returns ``(N, K)`` candidates (possibly negative: the caller discards those)."""
    N, K, _ = A.shape
    m = mask.astype(float)
    B = np.zeros((N, K + 1, K + 1))
    B[:, :K, :K] = A * m[:, :, None] * m[:, None, :]
    idx = np.arange(K)
    B[:, idx, idx] += 1.0 - m
    B[:, :K, K] = m
    B[:, K, :K] = m
    sol = np.linalg.pinv(B)[:, :K, K]  # the last column: B^+ e_K
    sol = np.where(mask, sol, 0.0)
    total = sol.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(total) > 0, sol / total, np.nan)


def _polish(A: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """Solve ``A_SS pi_S = 0, 1^T pi_S = 1`` on the guessed support ``S``; None if not >= 0."""
    S = np.flatnonzero(mask)
    if len(S) == 0:
        return None
    k = len(S)
    B = np.zeros((k + 1, k + 1))
    B[:k, :k] = A[np.ix_(S, S)]
    B[:k, k] = 1.0
    B[k, :k] = 1.0
    rhs = np.zeros(k + 1)
    rhs[k] = 1.0
    try:
        sol = np.linalg.solve(B, rhs)
    except np.linalg.LinAlgError:
        sol = np.linalg.lstsq(B, rhs, rcond=None)[0]
    pi_S = sol[:k]
    if not np.all(np.isfinite(pi_S)) or np.min(pi_S) < 0:
        return None
    pi = np.zeros(A.shape[0])
    pi[S] = pi_S / np.sum(pi_S)
    return pi
