"""Self-play equilibria of the win-rate game: the maximal lottery and NLHF's regularized Nash.

Self-play WRO (THEORY.md, "WRO objective", anchor = the model itself, h = identity) asks for a
model that wins at least half the time against every competitor.  For one prompt with preference
matrix ``P`` (``(K, K)``, ``P + P^T = 1``) this is the symmetric zero-sum game with payoff
``A = P - 1/2`` (skew-symmetric, ``A^T = -A``, value 0):

* ``beta = 0``: the **maximal lottery** (von Neumann winner) ``pi`` with
  ``WR(pi; e_j) = (P^T pi)_j >= 1/2`` for every response ``j``, equivalently ``A pi <= 0``
  (no response beats ``pi`` more than half the time).  :func:`maximal_lottery` solves it with an
  interior-point method on the monotone linear complementarity problem of the symmetric game,
  then identifies the support and solves the square system ``A_SS pi_S = 0, 1^T pi_S = 1``.
  For rational ``P`` the answer is the exact rational maximal lottery, verified exactly.
* ``beta > 0`` (NLHF): the **regularized Nash equilibrium**, the unique fixed point of
  ``pi = softmax(log pi_ref + P pi / beta)``.  :func:`regularized_nash` finds it by damped Newton
  on the convex exploitability ``phi(pi) = beta log sum_y pi_ref(y) exp((A pi)_y / beta)
  + beta KL(pi || pi_ref)`` (``phi >= 0`` with equality exactly at the equilibrium).

Claim: ``NLHF-is-WRO`` (proofs_checks/nlhf_is_wro.py).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.linalg import lapack

from .errors import InvalidParameterError, ShapeMismatchError
from .numbers import Number, as_array, is_exact, to_exact, to_float
from .preferences import validate_preference_matrix, validate_preference_stack
from .simplex import validate_distribution, validate_model

if TYPE_CHECKING:
    import flint

__all__ = [
    "ML_TOL",
    "NASH_TOL",
    "MaximalLottery",
    "RegularizedNash",
    "maximal_lottery",
    "maximal_lotteries",
    "regularized_nash",
    "regularized_nash_stack",
    "regularized_exploitability",
]

#: Target duality gap of the float maximal lottery (the solver stops once its certificate is below).
ML_TOL = 1e-12
#: Default fixed-point residual of :func:`regularized_nash` (max-norm).
NASH_TOL = 1e-12
#: Float threshold deciding which responses are in the support / which constraints are tight when
#: reading a float solution for the exact path (the exact answer is verified independently).
_SUPPORT_TOL = 1e-9
#: Interior-point iteration cap; past it the best verified iterate is returned with its gap.
_IPM_MAX_ITER = 100
#: Largest denominator used to round free unknowns of a non-unique exact maximal lottery.
_ROUND_DENOMINATOR = 10**6
#: Gondzio centrality correctors per interior-point iteration (each costs one extra solve).
_CORRECTORS = 2
#: Above this complementarity, and from this K on, the interior point factors in single
#: precision (for smaller K the extra refinement solve costs more than it saves).
_SINGLE_MU = 1e-6
_SINGLE_K = 500
#: Complementarity below which the interior point starts guessing the support and polishing.
_POLISH_MU = 1e-4
#: Residual below which Newton also accepts steps that shrink the residual (phi is then
#: below float resolution, so Armijo on phi is decided by rounding).
_LOCAL_RESIDUAL = 1e-6
#: Newton continues to ``tol * _TOL_MARGIN`` while the residual keeps shrinking.
_TOL_MARGIN = 1e-2
#: Step lengths tried for the log-space Newton candidate of :func:`_newton_nash`.
_LOG_STEPS = (1.0, 0.5, 0.25, 0.1)
#: Below this beta the regularized equilibrium is found by continuation from 10 beta, 100 beta...
_CONTINUATION_BELOW = 1e-3
#: Newton iteration cap for the regularized equilibrium.
_NEWTON_MAX_ITER = 200


@dataclass(frozen=True)
class MaximalLottery:
    """A maximal lottery with its certificate.

    ``pi`` (``(K,)``): the lottery.  ``value = min_j (P^T pi)_j``: the win rate ``pi`` guarantees
    against every response (exactly ``1/2`` when exact).  ``gap = max(0, 1/2 - value)``: how far
    ``pi`` is from guaranteeing 1/2 (0 for an exact answer).  ``duality_gap = max_i (P pi)_i -
    min_j (P^T pi)_j``: the primal-dual gap of the strategy pair ``(pi, pi)`` in the game ``P``
    (``= 2 (1/2 - value)``; float values clipped at 0).  ``exact``: the answer is rational and
    was verified exactly.  ``support``: the responses with positive mass.
    """

    pi: np.ndarray
    value: Number
    gap: Number
    duality_gap: Number
    exact: bool
    support: tuple[int, ...]


@dataclass(frozen=True)
class RegularizedNash:
    """The NLHF regularized Nash equilibrium with its certificate.

    ``pi`` (``(K,)``), ``residual = max_y |pi - softmax(log pi_ref + P pi / beta)|_y``,
    ``exploitability = phi(pi)`` (see :func:`regularized_exploitability`) and the Newton
    ``iterations``.
    """

    pi: np.ndarray
    residual: float
    exploitability: float
    iterations: int


# --------------------------------------------------------------------------------------------
# certificates


def _certificate(P: np.ndarray, pi: np.ndarray) -> tuple[Any, Any, Any]:
    """``(value, gap, duality_gap)`` of ``pi`` in the game ``P`` (exact when both are exact).

    ``value = min_j (P^T pi)_j``, ``gap = max(0, 1/2 - value)``, ``duality_gap = max_i (P pi)_i
    - value``.  Exact arrays are computed in integers over a common denominator (the same
    numbers, without Fraction arithmetic)."""
    if is_exact(pi):
        # integer arithmetic: P = Q / L and pi = n / D with integer Q, n, so that
        # (P^T pi)_j = (Q^T n)_j / (L D) exactly
        L = math.lcm(*(v.denominator for v in P.flat))
        D = math.lcm(*(v.denominator for v in pi))
        Q = np.array([v.numerator * (L // v.denominator) for v in P.flat], dtype=object)
        Q = Q.reshape(P.shape)
        n = np.array([v.numerator * (D // v.denominator) for v in pi], dtype=object)
        col, row = Q.T @ n, Q @ n
        value: Fraction | float = Fraction(int(min(col)), L * D)
        dgap = Fraction(int(max(row)) - int(min(col)), L * D)
        return value, max(Fraction(1, 2) - value, Fraction(0)), dgap
    value = float(np.min(P.T @ pi))
    return value, max(0.5 - value, 0.0), max(float(np.max(P @ pi) - value), 0.0)


def _support(pi: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.flatnonzero(pi > 0))


_DGETRF, _DGETRS = lapack.dgetrf, lapack.dgetrs
_SGETRF, _SGETRS = lapack.sgetrf, lapack.sgetrs


# --------------------------------------------------------------------------------------------
# float path: interior point on the LCP of the symmetric game, then support polishing


def _ipm_lcp(A: np.ndarray) -> np.ndarray:
    """Batched Mehrotra predictor-corrector interior point for the symmetric game ``A`` (N, K, K).

    Monotone LCP: ``x >= 0, w = M x - 1 >= 0, x^T w = 0`` with ``M = 1 1^T - A`` (positive
    semidefinite since ``A`` is skew).  Any solution has ``1^T x = 1`` and ``w = -A x``, so
    ``x`` is a maximal lottery.  The start ``x = 4/K`` is strictly feasible (``w >= 1``), and
    ``dw = M dx`` keeps every iterate feasible.  Each iteration: one factorization of
    ``M + W/X`` (single precision, refined once, while the complementarity ``mu`` exceeds
    :data:`_SINGLE_MU` for large ``K``), Mehrotra's predictor-corrector and up to
    :data:`_CORRECTORS` Gondzio centrality correctors.  Each iterate is polished
    (:func:`_polish`) once ``mu`` is small; the loop stops per instance when a polished or raw
    iterate is certified to :data:`ML_TOL`.  Returns ``(N, K)`` lotteries (the best certified).
    """
    N, K, _ = A.shape
    M = 1.0 - A
    x = np.full((N, K), 4.0 / K)
    w = np.einsum("nij,nj->ni", M, x) - 1.0
    best = np.full((N, K), 1.0 / K)
    best_gap = np.max(np.einsum("nij,nj->ni", A, best), axis=1)
    active = np.flatnonzero(best_gap > ML_TOL)
    big = K > 64
    tried = np.zeros((N, K), dtype=bool)
    for _ in range(_IPM_MAX_ITER):
        if len(active) == 0:
            break
        xa, wa, Ma = x[active], w[active], M[active]
        mu = np.einsum("ni,ni->n", xa, wa) / K
        Mat = Ma.copy()
        idx = np.arange(K)
        Mat[:, idx, idx] += wa / xa
        if big:
            # early iterations (large mu) only need a rough direction: factor in float32
            # (half the cost) and refine once in float64; late iterations factor in float64
            low = K >= _SINGLE_K and bool(np.max(mu) > _SINGLE_MU)
            getrf, getrs = (_SGETRF, _SGETRS) if low else (_DGETRF, _DGETRS)
            lu: list[tuple[np.ndarray, np.ndarray]] = []
            for m in Mat:  # LAPACK directly: the scipy wrappers' checks cost more than K = 300
                f, piv, info = getrf(m.astype(np.float32) if low else m, overwrite_a=True)
                if info < 0:  # pragma: no cover - argument error, a bug
                    raise RuntimeError(f"getrf failed with info = {info}")
                lu.append((f, piv))

            def _solve_lu(
                rhs: np.ndarray,
                lu: list[tuple[np.ndarray, np.ndarray]] = lu,
                low: bool = low,
                Mat: np.ndarray = Mat,
                getrs: Callable[..., Any] = getrs,
            ) -> np.ndarray:
                out = []
                for (f, piv), r, m in zip(lu, rhs, Mat, strict=True):
                    z = getrs(f, piv, r)[0].astype(np.float64)
                    if low:
                        z += getrs(f, piv, r - m @ z)[0]
                    out.append(z)
                return np.stack(out)

            solve: Callable[[np.ndarray], np.ndarray] = _solve_lu
        else:

            def _solve_dense(rhs: np.ndarray, Mat: np.ndarray = Mat) -> np.ndarray:
                return np.linalg.solve(Mat, rhs[..., None])[..., 0]

            solve = _solve_dense

        dx = solve(-wa)  # affine step: (M + W/X) dx = -w
        dw = np.einsum("nij,nj->ni", Ma, dx)
        a_aff = np.minimum(_step(xa, dx), _step(wa, dw))
        mu_aff = np.einsum("ni,ni->n", xa + a_aff[:, None] * dx, wa + a_aff[:, None] * dw) / K
        sigma = (mu_aff / mu) ** 3
        rhs = (sigma * mu)[:, None] / xa - wa - dx * dw / xa
        dx = solve(rhs)
        dw = np.einsum("nij,nj->ni", Ma, dx)
        alpha = np.minimum(1.0, 0.995 * np.minimum(_step(xa, dx), _step(wa, dw)))
        smu = (sigma * mu)[:, None]
        for _corr in range(_CORRECTORS):  # Gondzio's centrality correctors (one solve each)
            a_t = np.minimum(1.0, 1.5 * alpha + 0.1)[:, None]
            v = (xa + a_t * dx) * (wa + a_t * dw)
            r = np.maximum(np.clip(v, 0.1 * smu, 10.0 * smu) - v, -10.0 * smu)
            dx2 = dx + solve(r / xa)
            dw2 = np.einsum("nij,nj->ni", Ma, dx2)
            alpha2 = np.minimum(1.0, 0.995 * np.minimum(_step(xa, dx2), _step(wa, dw2)))
            take = alpha2 >= alpha + 0.1 * (a_t[:, 0] - alpha)
            if not np.any(take):
                break
            dx[take], dw[take], alpha[take] = dx2[take], dw2[take], alpha2[take]
        x[active] = xa + alpha[:, None] * dx
        w[active] = wa + alpha[:, None] * dw
        # candidates: the normalised iterate and its support polish
        ready = mu < _POLISH_MU
        if np.any(ready):  # a raw iterate cannot be certified before mu is small
            rows = active[ready]
            xs = np.maximum(x[rows], 0.0)
            _keep_better(A, rows, xs / xs.sum(axis=1, keepdims=True), best, best_gap)
        if big:
            for n_local in np.flatnonzero(ready):
                n = active[n_local]
                mask = x[n] > w[n]
                if not np.array_equal(mask, tried[n]):
                    tried[n] = mask
                    polished = _polish(A[n], mask)
                    if polished is not None:
                        _keep_better(A, active[[n_local]], polished[None], best, best_gap)
        elif np.any(ready):
            rows = active[ready]
            cand = _polish_batch(A[rows], x[rows] > w[rows])
            _keep_better(A, rows, cand, best, best_gap)
        active = active[best_gap[active] > ML_TOL]
    return best


def _keep_better(
    A: np.ndarray, rows: np.ndarray, cand: np.ndarray, best: np.ndarray, best_gap: np.ndarray
) -> None:
    """Replace ``best[rows]`` by the candidates (N_rows, K) whose gap ``max_i (A pi)_i`` is lower.

    Candidates with negative or non-finite entries are ignored."""
    ok = np.all(np.isfinite(cand), axis=1) & np.all(cand >= 0, axis=1)
    gap = np.full(len(rows), np.inf)
    if np.any(ok):
        gap[ok] = np.max(np.einsum("nij,nj->ni", A[rows[ok]], cand[ok]), axis=1)
    better = gap < best_gap[rows]
    best[rows[better]] = cand[better]
    best_gap[rows[better]] = gap[better]


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


def _step(v: np.ndarray, dv: np.ndarray) -> np.ndarray:
    """Largest ``a`` (per row) keeping ``v + a dv >= 0`` (``inf`` when ``dv >= 0``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(dv < 0, -v / dv, np.inf)
    return np.min(ratio, axis=-1)


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


def _float_lotteries(P: np.ndarray) -> np.ndarray:
    """Float maximal lotteries of a stack ``P`` (N, K, K) -> (N, K)."""
    return _ipm_lcp(P - 0.5)


# --------------------------------------------------------------------------------------------
# exact path: support and tight constraints from floats, exact solve, exact verification


def _to_fmpq_mat(rows: list[list[Fraction]]) -> flint.fmpq_mat:
    import flint

    m, n = len(rows), len(rows[0])
    return flint.fmpq_mat(m, n, [flint.fmpq(v.numerator, v.denominator) for r in rows for v in r])


def _exact_candidate(P: np.ndarray, Af: np.ndarray, pi_f: np.ndarray) -> np.ndarray | None:
    """An exact lottery near the float one, or None when the float guess gives no candidate.

    Unknowns: ``pi_S`` on the float support ``S``.  Equations: ``(A pi)_j = 0`` for every tight
    ``j`` (float ``|(A pi)_j|`` below :data:`_SUPPORT_TOL`, which includes ``S``) and
    ``1^T pi_S = 1``, row-reduced exactly (python-flint).  A unique solution is returned; when the
    solution set is larger (ties: the maximal lottery is not unique) the free unknowns are set to
    rational roundings of their float values.  The caller verifies the candidate exactly.
    """
    K = P.shape[0]
    half = Fraction(1, 2)
    S = np.flatnonzero(pi_f > _SUPPORT_TOL)
    T = np.union1d(np.flatnonzero(np.abs(Af @ pi_f) <= _SUPPORT_TOL), S)
    k = len(S)
    rows = [[P[j, i] - half for i in S] + [Fraction(0)] for j in T]
    rows.append([Fraction(1)] * k + [Fraction(1)])
    R, rank = _to_fmpq_mat(rows).rref()
    pivots = [next(c for c in range(k + 1) if R[r, c] != 0) for r in range(rank)]
    if pivots and pivots[-1] == k:  # inconsistent: the guessed support admits no solution
        return None
    values = [Fraction(0)] * k
    free = [c for c in range(k) if c not in set(pivots)]
    for c in free:
        values[c] = Fraction(float(pi_f[S[c]])).limit_denominator(_ROUND_DENOMINATOR)
    for r, c in enumerate(pivots):
        e = R[r, k]
        v = Fraction(int(e.p), int(e.q))
        for f in free:
            e = R[r, f]
            v -= Fraction(int(e.p), int(e.q)) * values[f]
        values[c] = v
    pi = np.array([Fraction(0)] * K, dtype=object)
    for c, i in enumerate(S):
        pi[i] = values[c]
    return pi


def _verified(P: np.ndarray, pi: np.ndarray) -> tuple[Any, Any, Any] | None:
    """Exact check that ``pi >= 0``, ``sum pi = 1`` and ``(P^T pi)_j >= 1/2`` for every ``j``;
    returns the exact certificate when it passes, else None."""
    if not (all(v >= 0 for v in pi) and sum(pi) == 1):
        return None
    cert = _certificate(P, pi)
    return cert if cert[0] >= Fraction(1, 2) else None


def _exact_simplex(P: np.ndarray) -> np.ndarray:
    """Exact tableau simplex (Bland's rule, always terminates): ``max 1^T y`` s.t. ``B y <= 1``,
    ``y >= 0`` with ``B = P + 1/2 > 0``.  Its optimum has ``1^T y = 1`` and ``A y <= 0``: a
    maximal lottery.  Used only when the float-guided exact solve cannot be verified."""
    import flint  # exact rationals, much faster than Fraction in the pivots

    K = P.shape[0]
    half = Fraction(1, 2)
    zero, one = flint.fmpq(0), flint.fmpq(1)
    # tableau rows: [B | I | 1]; objective row: reduced costs of max 1^T y
    T = [
        [flint.fmpq((v := P[i, j] + half).numerator, v.denominator) for j in range(K)]
        + [one if i == j else zero for j in range(K)]
        + [one]
        for i in range(K)
    ]
    obj = [-one] * K + [zero] * (K + 1)
    basis = list(range(K, 2 * K))
    while True:
        enter = next((j for j in range(2 * K) if obj[j] < 0), None)
        if enter is None:
            break
        # ratio test: the smallest T[i][-1] / T[i][enter] over T[i][enter] > 0, ties broken by
        # the smallest basic variable (Bland's rule)
        leave = min(
            (i for i in range(K) if T[i][enter] > 0),
            key=lambda i: (T[i][-1] / T[i][enter], basis[i]),
            default=None,
        )
        if leave is None:  # pragma: no cover - B > 0 bounds the LP
            raise RuntimeError("exact simplex found an unbounded direction (a bug)")
        piv = T[leave][enter]
        T[leave] = [v / piv for v in T[leave]]
        for i in range(K):
            if i != leave and T[i][enter] != 0:
                f = T[i][enter]
                T[i] = [a - f * b for a, b in zip(T[i], T[leave], strict=True)]
        f = obj[enter]
        obj = [a - f * b for a, b in zip(obj, T[leave], strict=True)]
        basis[leave] = enter
    y = [Fraction(0)] * K
    for i, b in enumerate(basis):
        if b < K:
            y[b] = Fraction(int(T[i][-1].p), int(T[i][-1].q))
    total = sum(y)
    return np.array([v / total for v in y], dtype=object)


def _exact_lottery(P: np.ndarray, P_f: np.ndarray, pi_f: np.ndarray) -> MaximalLottery:
    """The verified exact maximal lottery of exact ``P`` guided by the float one ``pi_f``."""
    pi = _exact_candidate(P, P_f - 0.5, pi_f)
    cert = None if pi is None else _verified(P, pi)
    if pi is None or cert is None:
        pi = _exact_simplex(P)
        cert = _verified(P, pi)
        if cert is None:  # pragma: no cover - the simplex optimum is a maximal lottery
            raise RuntimeError("exact simplex returned an unverified lottery (a bug)")
    return MaximalLottery(pi, *cert, True, _support(pi))


def _float_result(P: np.ndarray, pi: np.ndarray) -> MaximalLottery:
    return MaximalLottery(pi, *_certificate(P, pi), False, _support(pi))


def _exact_matrix(P: np.ndarray) -> np.ndarray:
    """An exact copy of float preference matrices ``(..., K, K)``: the upper triangle's binary
    values, the lower triangle ``1 - upper`` and the diagonal ``1/2`` (so ``P + P^T = 1`` holds
    exactly even when the float entries only sum to 1 within rounding)."""
    X = to_exact(P)
    K = P.shape[-1]
    for i in range(K):
        X[..., i, i] = Fraction(1, 2)
        for j in range(i + 1, K):
            X[..., j, i] = 1 - X[..., i, j]
    return X


def maximal_lottery(P: Any, *, exact: bool | None = None) -> MaximalLottery:
    """The maximal lottery (von Neumann winner) of the preference matrix ``P``.

    Finds ``pi`` in the simplex with ``WR(pi; e_j) = (P^T pi)_j >= 1/2`` for every response
    ``j``: the equilibrium of the symmetric zero-sum game with payoff ``P - 1/2`` (value 0), the
    self-play WRO optimum with ``h = identity``, ``beta = 0`` (THEORY.md; claim ``NLHF-is-WRO``).

    ``P``: ``(K, K)`` preference matrix.  ``exact``: ``None`` follows ``P`` (Fractions -> exact);
    ``True`` converts a float ``P`` exactly (upper triangle's binary values, lower triangle
    ``1 - upper``); ``False`` uses the float path.  Float path: interior
    point + support polishing, certified by ``gap = max(0, 1/2 - min_j (P^T pi)_j)``.  Exact path:
    support from floats, exact rational solve, exact verification (fallback: exact simplex); the
    result has ``gap == 0`` and ``value == 1/2`` exactly.  When the maximal lottery is not unique
    (ties), one verified maximal lottery is returned.

    >>> from theory.preferences import rock_paper_scissors, total_order
    >>> maximal_lottery(rock_paper_scissors()).pi.tolist()
    [Fraction(1, 3), Fraction(1, 3), Fraction(1, 3)]
    >>> ml = maximal_lottery(total_order(3, [2, 0, 1]))
    >>> ml.pi.tolist(), ml.gap, ml.support
    ([Fraction(0, 1), Fraction(0, 1), Fraction(1, 1)], Fraction(0, 1), (2,))
    """
    P_arr = validate_preference_matrix(P)
    want_exact = is_exact(P_arr) if exact is None else bool(exact)
    P_f = to_float(P_arr)
    pi_f = _float_lotteries(P_f[None])[0]
    if not want_exact:
        return _float_result(P_f, pi_f)
    P_x = P_arr if is_exact(P_arr) else _exact_matrix(P_arr)
    return _exact_lottery(P_x, P_f, pi_f)


def maximal_lotteries(P: Any, *, exact: bool | None = None) -> list[MaximalLottery]:
    """One :func:`maximal_lottery` per prompt of the stack ``P`` (``(M, K, K)``).

    The float interior point runs batched over the prompts (much faster than a loop for many small
    instances); the exact path then solves and verifies each prompt exactly.

    >>> from theory.preferences import cyclic, total_order
    >>> [ml.support for ml in maximal_lotteries([cyclic(3), total_order(3)])]
    [(0, 1, 2), (0,)]
    """
    P_arr = validate_preference_stack(P)
    want_exact = is_exact(P_arr) if exact is None else bool(exact)
    P_f = to_float(P_arr)
    pis = _float_lotteries(P_f)
    if not want_exact:
        return [_float_result(P_f[m], pis[m]) for m in range(len(P_f))]
    P_x = P_arr if is_exact(P_arr) else _exact_matrix(P_arr)
    return [_exact_lottery(P_x[m], P_f[m], pis[m]) for m in range(len(P_x))]


# --------------------------------------------------------------------------------------------
# regularized Nash equilibrium (NLHF)


def _check_beta(beta: Any) -> float:
    b = float(as_array(beta, name="beta").item())
    if not b > 0:
        raise InvalidParameterError(
            f"beta = {b}, expected beta > 0 (beta = 0 is the maximal lottery: use maximal_lottery)"
        )
    return b


def _softmax(z: np.ndarray) -> np.ndarray:
    """Row softmax; ``-inf`` entries (outside the support of ``pi_ref``) get 0."""
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _phi(A: np.ndarray, logr: np.ndarray, pi: np.ndarray, beta: float) -> np.ndarray:
    """Batched exploitability ``beta logsumexp(logr + A pi / beta) + beta KL(pi || r)``."""
    z = logr + np.einsum("nij,nj->ni", A, pi) / beta
    zmax = np.max(z, axis=-1)
    lse = zmax + np.log(np.sum(np.exp(z - zmax[:, None]), axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.sum(np.where(pi > 0, pi * (np.log(pi) - logr), 0.0), axis=-1)
    return beta * lse + beta * kl


def _residual(A: np.ndarray, logr: np.ndarray, pi: np.ndarray, beta: float) -> np.ndarray:
    s = _softmax(logr + np.einsum("nij,nj->ni", A, pi) / beta)
    return np.max(np.abs(pi - s), axis=-1)


def _newton_nash(
    A: np.ndarray, logr: np.ndarray, beta: float, tol: float, start: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Batched damped Newton on the convex ``phi`` over the simplex of ``supp(r)``.

    ``phi(pi) = beta log sum_y r_y exp((A pi)_y / beta) + beta KL(pi || r)`` is convex (a
    log-sum-exp of a linear map plus KL), nonnegative (choose ``p = pi`` in the variational form
    ``beta log Z = max_p p^T A pi - beta KL(p || r)`` and use ``pi^T A pi = 0``) and zero only at
    the regularized equilibrium, which is therefore its unique minimizer.  Equality-constrained
    Newton with a fraction-to-boundary rule and Armijo backtracking converges (Boyd &
    Vandenberghe 9.5/10.2).  Each iteration also tries a log-space Newton step on the fixed
    point (a multiplicative update, which can shrink a coordinate by many orders of magnitude in
    one step when ``beta`` is small) and keeps whichever candidate lowers ``phi`` more, so the
    decrease of ``phi`` guaranteed by the Armijo step is kept.  Once the residual is below
    :data:`_LOCAL_RESIDUAL` (``phi`` then sits below float resolution) candidates are compared by
    the residual instead.  The loop stops per instance at residual <= ``tol``.  ``logr`` is
    ``-inf`` outside the support of ``r``; those coordinates stay 0 (their Newton rows are pinned).
    ``start`` (interior on ``supp(r)``) replaces the default start ``r``.  Returns
    ``(pi, iterations)``.
    """
    N, K, _ = A.shape
    mask = np.isfinite(logr)
    m = mask.astype(float)
    pi = _softmax(logr) if start is None else start.copy()  # default start: pi_ref
    its = np.zeros(N, dtype=int)
    prev = _residual(A, logr, pi, beta)
    active = np.flatnonzero(prev > tol * _TOL_MARGIN)
    At = np.swapaxes(A, 1, 2)
    idx = np.arange(K)
    for _ in range(_NEWTON_MAX_ITER):
        if len(active) == 0:
            break
        Aa, Ata, la, p, ma = A[active], At[active], logr[active], pi[active], m[active]
        live = mask[active]
        n_act = len(active)
        s = _softmax(la + np.einsum("nij,nj->ni", Aa, p) / beta)
        Ats = np.einsum("nij,nj->ni", Ata, s)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(live, Ats + beta * (np.log(p) - la), 0.0)
            curv = np.where(live, beta / p, 1.0)
        H = (Ata @ (s[:, :, None] * Aa) - Ats[:, :, None] * Ats[:, None, :]) / beta
        H *= ma[:, :, None] * ma[:, None, :]
        H[:, idx, idx] += curv
        KKT = np.zeros((n_act, K + 1, K + 1))
        KKT[:, :K, :K] = H
        KKT[:, :K, K] = ma
        KKT[:, K, :K] = ma
        rhs = np.concatenate([-g, np.zeros((n_act, 1))], axis=1)
        d = np.linalg.solve(KKT, rhs[..., None])[..., 0][:, :K]
        t = np.minimum(1.0, 0.99 * _step(p, d))
        f0 = _phi(Aa, la, p, beta)
        r0 = _residual(Aa, la, p, beta)
        slope = np.einsum("ni,ni->n", g, d)
        for _ls in range(60):
            raw = p + t[:, None] * d
            trial = np.where(live, np.maximum(raw, 1e-300), 0.0)
            armijo = _phi(Aa, la, trial, beta) <= f0 + 0.25 * t * slope
            # near the optimum phi ~ residual^2 is below float resolution: a step that shrinks
            # the fixed-point residual is accepted there
            local = (r0 < _LOCAL_RESIDUAL) & (_residual(Aa, la, trial, beta) < r0)
            bad = np.any(live & (raw <= 0), axis=1) | ~(armijo | local)
            if not np.any(bad):
                break
            t = np.where(bad, t * 0.5, t)
        new = np.where(live, np.maximum(p + t[:, None] * d, 1e-300), 0.0)
        new /= np.sum(new, axis=1, keepdims=True)
        # a second candidate: Newton on the fixed point in log space, u = log pi - log r,
        # G(u) = u - A softmax(log r + u) / beta, Jacobian I - A J(pi) / beta (never singular:
        # A J is similar to a skew matrix), a multiplicative update that can shrink coordinates
        # by many orders of magnitude in one step where the fraction-to-boundary rule cannot.
        # It is taken only when it lowers phi more, so phi's descent (and convergence) is kept.
        with np.errstate(divide="ignore", invalid="ignore"):
            G = np.where(live, np.log(p) - la - np.einsum("nij,nj->ni", Aa, p) / beta, 0.0)
        # A J(pi) = A diag(pi) - (A pi) pi^T, formed in O(K^2)
        Ap = np.einsum("nij,nj->ni", Aa, p)
        Jac = np.eye(K) - (Aa * p[:, None, :] - Ap[:, :, None] * p[:, None, :]) / beta
        du = np.linalg.solve(Jac, -G[..., None])[..., 0]
        # merit: phi, or the residual once phi is below float resolution (as in the line search)
        far = r0 >= _LOCAL_RESIDUAL

        def merit(
            q: np.ndarray, far: np.ndarray = far, Aa: np.ndarray = Aa, la: np.ndarray = la
        ) -> np.ndarray:
            return np.where(far, _phi(Aa, la, q, beta), _residual(Aa, la, q, beta))

        best_merit = merit(new)
        for scale in _LOG_STEPS:
            with np.errstate(divide="ignore"):
                z = np.where(live, np.log(p) + scale * du, -np.inf)
            alt = np.where(live, np.maximum(_softmax(z), 1e-300), 0.0)
            alt /= np.sum(alt, axis=1, keepdims=True)
            m_alt = merit(alt)
            use_alt = m_alt < best_merit
            new[use_alt], best_merit[use_alt] = alt[use_alt], m_alt[use_alt]
        pi[active] = new
        its[active] += 1
        # go on until well below tol (so a recomputation cannot land above it), unless the
        # residual has stopped shrinking (float resolution) and is already below tol
        res = _residual(A[active], logr[active], pi[active], beta)
        stalled = (res <= tol) & (res > 0.5 * prev[active])
        prev[active] = res
        active = active[(res > tol * _TOL_MARGIN) & ~stalled]
    return pi, its


def _solve_nash(
    A: np.ndarray, logr: np.ndarray, beta: float, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_newton_nash`, warm-started by continuation in ``beta`` when ``beta`` is small.

    For ``beta`` below :data:`_CONTINUATION_BELOW` the equilibrium is first solved at
    ``beta * 10^k, ..., beta * 10`` (each warm-starting the next): Newton's fast region shrinks
    with ``beta`` and the previous equilibrium lies inside it.  Only the start changes; the last
    solve is the requested problem.  Returns ``(pi, total Newton iterations)``."""
    ladder = []
    b = beta
    while b < _CONTINUATION_BELOW:
        b *= 10.0
        ladder.append(b)
    pi, total = None, np.zeros(A.shape[0], dtype=int)
    for b in reversed(ladder):
        pi, its = _newton_nash(A, logr, b, tol, pi)
        total += its
    pi, its = _newton_nash(A, logr, beta, tol, pi)
    return pi, total + its


def regularized_exploitability(P: Any, pi: Any, beta: Any, pi_ref: Any) -> float:
    """``phi(pi) = beta log sum_y pi_ref(y) exp((P pi)_y / beta) - (1/2) + beta KL(pi||pi_ref)``.

    The regularized exploitability of ``pi`` in the NLHF game: the best KL-regularized win-rate
    margin any response distribution gains against ``pi`` plus ``pi``'s own KL penalty.  It is
    ``>= 0`` and zero exactly at the regularized Nash equilibrium.  ``P`` ``(K, K)``, ``pi``,
    ``pi_ref`` ``(K,)``, ``beta > 0``.

    >>> from theory.preferences import rock_paper_scissors
    >>> rps = rock_paper_scissors()
    >>> abs(regularized_exploitability(rps, [1/3] * 3, 0.5, [1/3] * 3)) < 1e-15
    True
    """
    b = _check_beta(beta)
    P_f, ref = _prepare_nash(P, pi_ref)
    pi_arr = to_float(validate_distribution(pi, name="pi"))
    if pi_arr.shape != ref.shape:
        raise ShapeMismatchError(f"pi has shape {pi_arr.shape}, expected {ref.shape}")
    if np.any((pi_arr > 0) & (ref == 0)):
        return float("inf")
    with np.errstate(divide="ignore"):
        logr = np.log(ref)
    return float(max(_phi((P_f - 0.5)[None], logr[None], pi_arr[None], b)[0], 0.0))


def _prepare_nash(P: Any, pi_ref: Any) -> tuple[np.ndarray, np.ndarray]:
    P_f = to_float(validate_preference_matrix(P))
    ref = to_float(validate_distribution(pi_ref, name="pi_ref"))
    if ref.shape != (P_f.shape[0],):
        raise ShapeMismatchError(
            f"pi_ref has shape {ref.shape}, expected ({P_f.shape[0]},) to match P"
        )
    return P_f, ref


def regularized_nash(P: Any, beta: Any, pi_ref: Any, *, tol: float = NASH_TOL) -> RegularizedNash:
    """NLHF's regularized Nash equilibrium: ``pi = softmax(log pi_ref + P pi / beta)``.

    The unique equilibrium of the self-play WRO objective with ``beta > 0`` (THEORY.md, "self-play
    with beta > 0"; claim ``NLHF-is-WRO``): ``pi`` maximizes ``WR(p; pi) - beta KL(p || pi_ref)``
    over ``p`` when the competitor is ``pi`` itself.  ``P`` ``(K, K)``, ``beta > 0``, ``pi_ref``
    ``(K,)``; ``pi`` vanishes where ``pi_ref`` does.  Certificate: ``residual`` (max-norm of the
    fixed-point equation, <= ``tol``; for ``beta`` below about ``1e-4`` float64 may not reach
    it, and a :class:`RuntimeWarning` says so) and ``exploitability``.  ``beta <= 0`` raises
    :class:`~theory.errors.InvalidParameterError` (``beta = 0`` is :func:`maximal_lottery`).

    >>> from theory.preferences import rock_paper_scissors
    >>> eq = regularized_nash(rock_paper_scissors(), 0.1, [0.5, 0.25, 0.25])
    >>> eq.residual <= 1e-12, round(float(eq.pi.sum()), 12)
    (True, 1.0)
    """
    b = _check_beta(beta)
    P_f, ref = _prepare_nash(P, pi_ref)
    return regularized_nash_stack(P_f[None], b, ref[None], tol=tol)[0]


def regularized_nash_stack(
    P: Any, beta: Any, pi_ref: Any, *, tol: float = NASH_TOL
) -> list[RegularizedNash]:
    """One :func:`regularized_nash` per prompt: ``P`` ``(M, K, K)``, ``pi_ref`` ``(M, K)``.

    All prompts are solved in one batched Newton loop.

    >>> from theory.preferences import cyclic
    >>> eqs = regularized_nash_stack([cyclic(3), cyclic(3)], 1, [[1/3] * 3, [0.5, 0.25, 0.25]])
    >>> [round(float(e.pi[0]), 6) for e in eqs][0], all(e.residual <= 1e-12 for e in eqs)
    (0.333333, True)
    """
    b = _check_beta(beta)
    if not tol > 0:
        raise InvalidParameterError(f"tol = {tol}, expected tol > 0")
    P_f = to_float(validate_preference_stack(P))
    ref = to_float(as_array(pi_ref, name="pi_ref"))
    if ref.ndim == 1:
        ref = ref[None]
    if ref.shape != P_f.shape[:2]:
        raise ShapeMismatchError(f"pi_ref has shape {ref.shape}, expected {P_f.shape[:2]}")
    validate_model(ref, name="pi_ref", K=P_f.shape[1])
    M, K = ref.shape
    A = P_f - 0.5
    with np.errstate(divide="ignore"):
        logr = np.log(ref)  # -inf outside the support of pi_ref
    pi, its = _solve_nash(A, logr, b, tol)
    res = _residual(A, logr, pi, b)
    if np.any(res > tol):
        m = int(np.argmax(res))
        warnings.warn(
            f"regularized_nash: residual {res[m]:.1e} > tol = {tol:g} at prompt {m} with "
            f"beta = {b:g} after {int(its[m])} Newton steps (below beta ~ 1e-4 the fixed point "
            "needs (P pi) / beta to more digits than float64 has); the result carries its "
            "residual",
            RuntimeWarning,
            stacklevel=2,
        )
    phi = _phi(A, logr, pi, b)
    out = [
        RegularizedNash(pi[m], float(res[m]), float(max(phi[m], 0.0)), int(its[m]))
        for m in range(M)
    ]
    return out
