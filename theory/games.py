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

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.linalg
from scipy.special import logsumexp, softmax

from .errors import InvalidParameterError, ShapeMismatchError
from .numbers import Number, as_array, is_exact, to_exact, to_float
from .preferences import validate_preference_matrix, validate_preference_stack
from .simplex import validate_distribution

__all__ = [
    "ML_TOL",
    "NASH_TOL",
    "MaximalLottery",
    "RegularizedNash",
    "maximal_lottery",
    "maximal_lotteries",
    "regularized_nash",
    "regularized_nash_stack",
    "exploitability",
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
#: Complementarity below which the interior point starts guessing the support and polishing.
_POLISH_MU = 1e-4
#: Residual below which Newton also accepts steps that shrink the residual (phi is then
#: below float resolution, so Armijo on phi is decided by rounding).
_LOCAL_RESIDUAL = 1e-6
#: Newton iteration cap for the regularized equilibrium.
_NEWTON_MAX_ITER = 200


@dataclass(frozen=True)
class MaximalLottery:
    """A maximal lottery with its certificate.

    ``pi`` (``(K,)``): the lottery.  ``value = min_j (P^T pi)_j``: the win rate ``pi`` guarantees
    against every response (exactly ``1/2`` when exact).  ``gap = max(0, 1/2 - value)``: how far
    ``pi`` is from guaranteeing 1/2 (0 for an exact answer).  ``duality_gap = max_i (P pi)_i -
    min_j (P^T pi)_j``: the primal-dual gap of the strategy pair ``(pi, pi)`` in the game ``P``
    (``= 2 (1/2 - value)``, never negative).  ``exact``: the answer is rational and was verified
    exactly.  ``support``: the responses with positive mass.
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
    ``exploitability = phi(pi)`` (see :func:`exploitability`) and the Newton ``iterations``.
    """

    pi: np.ndarray
    residual: float
    exploitability: float
    iterations: int


# --------------------------------------------------------------------------------------------
# certificates


def _certificate(P: np.ndarray, pi: np.ndarray) -> tuple[Any, Any, Any]:
    """``(value, gap, duality_gap)`` of ``pi`` in the game ``P`` (exact when both are exact)."""
    col = P.T @ pi  # (P^T pi)_j = WR(pi; e_j)
    row = P @ pi  # (P pi)_i = WR(e_i; pi)
    value = min(col) if is_exact(pi) else float(np.min(col))
    half = Fraction(1, 2) if is_exact(pi) else 0.5
    gap = max(half - value, 0 * half)
    dgap = (max(row) - value) if is_exact(pi) else float(np.max(row) - value)
    return value, gap, dgap


def _support(pi: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.flatnonzero(pi > 0))


# --------------------------------------------------------------------------------------------
# float path: interior point on the LCP of the symmetric game, then support polishing


def _ipm_lcp(A: np.ndarray) -> np.ndarray:
    """Batched Mehrotra predictor-corrector interior point for the symmetric game ``A`` (N, K, K).

    Monotone LCP: ``x >= 0, w = M x - 1 >= 0, x^T w = 0`` with ``M = 1 1^T - A`` (positive
    semidefinite since ``A`` is skew).  Any solution has ``1^T x = 1`` and ``w = -A x``, so
    ``x`` is a maximal lottery.  The start ``x = 4/K`` is strictly feasible.  Each iterate is
    polished (:func:`_polish`) once the complementarity is small; the loop stops per instance when
    a polished or raw iterate is certified to :data:`ML_TOL`.  Returns ``(N, K)`` lotteries.
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
            lu = [scipy.linalg.lu_factor(m, check_finite=False) for m in Mat]

            def solve(rhs, lu=lu):
                return np.stack(
                    [
                        scipy.linalg.lu_solve(f, r, check_finite=False)
                        for f, r in zip(lu, rhs, strict=True)
                    ]
                )
        else:

            def solve(rhs, Mat=Mat):
                return np.linalg.solve(Mat, rhs[..., None])[..., 0]

        dx = solve(-wa)  # affine step: (M + W/X) dx = -w
        dw = np.einsum("nij,nj->ni", Ma, dx)
        a_aff = np.minimum(_step(xa, dx), _step(wa, dw))
        mu_aff = np.einsum("ni,ni->n", xa + a_aff[:, None] * dx, wa + a_aff[:, None] * dw) / K
        sigma = (mu_aff / mu) ** 3
        rhs = (sigma * mu)[:, None] / xa - wa - dx * dw / xa
        dx = solve(rhs)
        dw = np.einsum("nij,nj->ni", Ma, dx)
        alpha = np.minimum(1.0, 0.995 * np.minimum(_step(xa, dx), _step(wa, dw)))
        x[active] = xa + alpha[:, None] * dx
        w[active] = wa + alpha[:, None] * dw
        # candidates: the normalised iterate and its support polish
        for n_local, n in enumerate(active):
            cands = [np.maximum(x[n], 0.0) / np.sum(np.maximum(x[n], 0.0))]
            mask = x[n] > w[n]
            if mu[n_local] < _POLISH_MU and not np.array_equal(mask, tried[n]):
                tried[n] = mask
                polished = _polish(A[n], mask)
                if polished is not None:
                    cands.append(polished)
            for c in cands:
                g = float(np.max(A[n] @ c))
                if g < best_gap[n]:
                    best[n], best_gap[n] = c, g
        active = active[best_gap[active] > ML_TOL]
    return best


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


def _to_fmpq_mat(rows: list[list[Fraction]]):
    import flint

    m, n = len(rows), len(rows[0])
    return flint.fmpq_mat(m, n, [flint.fmpq(v.numerator, v.denominator) for r in rows for v in r])


def _exact_candidate(P: np.ndarray, pi_f: np.ndarray) -> np.ndarray | None:
    """An exact lottery near the float one, or None when the float guess gives no candidate.

    Unknowns: ``pi_S`` on the float support ``S``.  Equations: ``(A pi)_j = 0`` for every tight
    ``j`` (float ``|(A pi)_j|`` below :data:`_SUPPORT_TOL`, which includes ``S``) and
    ``1^T pi_S = 1``, row-reduced exactly (python-flint).  A unique solution is returned; when the
    solution set is larger (ties: the maximal lottery is not unique) the free unknowns are set to
    rational roundings of their float values.  The caller verifies the candidate exactly.
    """
    K = P.shape[0]
    half = Fraction(1, 2)
    Af = to_float(P) - 0.5
    S = np.flatnonzero(pi_f > _SUPPORT_TOL)
    T = np.union1d(np.flatnonzero(np.abs(Af @ pi_f) <= _SUPPORT_TOL), S)
    k = len(S)
    rows = [[P[j, i] - half for i in S] + [Fraction(0)] for j in T]
    rows.append([Fraction(1)] * k + [Fraction(1)])
    R, rank = _to_fmpq_mat(rows).rref()
    R = [[Fraction(int(e.p), int(e.q)) for e in row] for row in R.tolist()[:rank]]
    pivots = [next(c for c, v in enumerate(row) if v != 0) for row in R]
    if pivots and pivots[-1] == k:  # inconsistent: the guessed support admits no solution
        return None
    values = [Fraction(0)] * k
    free = [c for c in range(k) if c not in set(pivots)]
    for c in free:
        values[c] = Fraction(float(pi_f[S[c]])).limit_denominator(_ROUND_DENOMINATOR)
    for row, c in zip(R, pivots, strict=True):
        values[c] = row[k] - sum(row[f] * values[f] for f in free)
    pi = np.array([Fraction(0)] * K, dtype=object)
    for c, i in enumerate(S):
        pi[i] = values[c]
    return pi


def _verified(P: np.ndarray, pi: np.ndarray) -> bool:
    """Exact check: ``pi >= 0``, ``sum pi = 1`` and ``(P^T pi)_j >= 1/2`` for every ``j``."""
    half = Fraction(1, 2)
    return bool(all(v >= 0 for v in pi) and sum(pi) == 1 and all(v >= half for v in P.T @ pi))


def _exact_simplex(P: np.ndarray) -> np.ndarray:
    """Exact tableau simplex (Bland's rule, always terminates): ``max 1^T y`` s.t. ``B y <= 1``,
    ``y >= 0`` with ``B = P + 1/2 > 0``.  Its optimum has ``1^T y = 1`` and ``A y <= 0``: a
    maximal lottery.  Used only when the float-guided exact solve cannot be verified."""
    K = P.shape[0]
    half = Fraction(1, 2)
    # tableau rows: [B | I | 1]; objective row: reduced costs of max 1^T y
    T = [
        [P[i, j] + half for j in range(K)] + [Fraction(int(i == j)) for j in range(K)] + [1]
        for i in range(K)
    ]
    T = [[Fraction(v) for v in row] for row in T]
    obj = [Fraction(-1)] * K + [Fraction(0)] * (K + 1)
    basis = list(range(K, 2 * K))
    while True:
        enter = next((j for j in range(2 * K) if obj[j] < 0), None)
        if enter is None:
            break
        best, leave = None, None
        for i in range(K):
            if T[i][enter] > 0:
                ratio = T[i][-1] / T[i][enter]
                if best is None or ratio < best or (ratio == best and basis[i] < basis[leave]):
                    best, leave = ratio, i
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
            y[b] = T[i][-1]
    total = sum(y)
    return np.array([v / total for v in y], dtype=object)


def _exact_lottery(P: np.ndarray, pi_f: np.ndarray) -> np.ndarray:
    pi = _exact_candidate(P, pi_f)
    if pi is not None and _verified(P, pi):
        return pi
    pi = _exact_simplex(P)
    if not _verified(P, pi):  # pragma: no cover - the simplex optimum is a maximal lottery
        raise RuntimeError("exact simplex returned an unverified lottery (a bug)")
    return pi


def _result(P: np.ndarray, pi: np.ndarray, exact: bool) -> MaximalLottery:
    value, gap, dgap = _certificate(P, pi)
    return MaximalLottery(pi, value, gap, dgap, exact, _support(pi))


def maximal_lottery(P: Any, *, exact: bool | None = None) -> MaximalLottery:
    """The maximal lottery (von Neumann winner) of the preference matrix ``P``.

    Finds ``pi`` in the simplex with ``WR(pi; e_j) = (P^T pi)_j >= 1/2`` for every response
    ``j``: the equilibrium of the symmetric zero-sum game with payoff ``P - 1/2`` (value 0), the
    self-play WRO optimum with ``h = identity``, ``beta = 0`` (THEORY.md; claim ``NLHF-is-WRO``).

    ``P``: ``(K, K)`` preference matrix.  ``exact``: ``None`` follows ``P`` (Fractions -> exact);
    ``True`` converts a float ``P`` exactly; ``False`` uses the float path.  Float path: interior
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
        return _result(P_f, pi_f, False)
    P_x = P_arr if is_exact(P_arr) else to_exact(P_arr)
    return _result(P_x, _exact_lottery(P_x, pi_f), True)


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
        return [_result(P_f[m], pis[m], False) for m in range(len(P_f))]
    P_x = P_arr if is_exact(P_arr) else to_exact(P_arr)
    return [_result(P_x[m], _exact_lottery(P_x[m], pis[m]), True) for m in range(len(P_x))]


# --------------------------------------------------------------------------------------------
# regularized Nash equilibrium (NLHF)


def _check_beta(beta: Any) -> float:
    b = float(as_array(beta, name="beta").item())
    if not b > 0:
        raise InvalidParameterError(
            f"beta = {b}, expected beta > 0 (beta = 0 is the maximal lottery: use maximal_lottery)"
        )
    return b


def _phi(A: np.ndarray, logr: np.ndarray, pi: np.ndarray, beta: float) -> np.ndarray:
    """Batched exploitability ``beta logsumexp(logr + A pi / beta) + beta KL(pi || r)``."""
    z = logr + np.einsum("nij,nj->ni", A, pi) / beta
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.sum(np.where(pi > 0, pi * (np.log(pi) - logr), 0.0), axis=-1)
    return beta * logsumexp(z, axis=-1) + beta * kl


def _residual(A: np.ndarray, logr: np.ndarray, pi: np.ndarray, beta: float) -> np.ndarray:
    s = softmax(logr + np.einsum("nij,nj->ni", A, pi) / beta, axis=-1)
    return np.max(np.abs(pi - s), axis=-1)


def _newton_nash(
    A: np.ndarray, logr: np.ndarray, beta: float, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Batched damped Newton on the convex ``phi`` over the simplex (all of ``r`` positive).

    ``phi(pi) = beta log sum_y r_y exp((A pi)_y / beta) + beta KL(pi || r)`` is convex (a
    log-sum-exp of a linear map plus KL), nonnegative (choose ``p = pi`` in the variational form
    ``beta log Z = max_p p^T A pi - beta KL(p || r)`` and use ``pi^T A pi = 0``) and zero only at
    the regularized equilibrium, which is therefore its unique minimizer.  Equality-constrained
    Newton with a fraction-to-boundary rule and Armijo backtracking converges (Boyd &
    Vandenberghe 9.5/10.2); the loop stops per instance at residual <= ``tol``.
    Returns ``(pi, iterations)``.
    """
    N, K, _ = A.shape
    pi = softmax(logr, axis=-1)  # start at pi_ref
    its = np.zeros(N, dtype=int)
    active = np.flatnonzero(_residual(A, logr, pi, beta) > tol)
    At = np.swapaxes(A, 1, 2)
    idx = np.arange(K)
    for _ in range(_NEWTON_MAX_ITER):
        if len(active) == 0:
            break
        Aa, Ata, la, p = A[active], At[active], logr[active], pi[active]
        s = softmax(la + np.einsum("nij,nj->ni", Aa, p) / beta, axis=-1)
        g = np.einsum("nij,nj->ni", Ata, s) + beta * (np.log(p) - la)
        Ats = np.einsum("nij,nj->ni", Ata, s)
        H = (Ata @ (s[:, :, None] * Aa) - Ats[:, :, None] * Ats[:, None, :]) / beta
        H[:, idx, idx] += beta / p
        KKT = np.zeros((len(active), K + 1, K + 1))
        KKT[:, :K, :K] = H
        KKT[:, :K, K] = 1.0
        KKT[:, K, :K] = 1.0
        rhs = np.concatenate([-g, np.zeros((len(active), 1))], axis=1)
        d = np.linalg.solve(KKT, rhs[..., None])[..., 0][:, :K]
        t = np.minimum(1.0, 0.99 * _step(p, d))
        f0 = _phi(Aa, la, p, beta)
        r0 = _residual(Aa, la, p, beta)
        slope = np.einsum("ni,ni->n", g, d)
        for _ls in range(60):
            trial = np.maximum(p + t[:, None] * d, 1e-300)
            armijo = _phi(Aa, la, trial, beta) <= f0 + 0.25 * t * slope
            # near the optimum phi ~ residual^2 is below float resolution: a step that shrinks
            # the fixed-point residual is accepted there
            local = (r0 < _LOCAL_RESIDUAL) & (_residual(Aa, la, trial, beta) < r0)
            bad = (np.min(p + t[:, None] * d, axis=1) <= 0) | ~(armijo | local)
            if not np.any(bad):
                break
            t = np.where(bad, t * 0.5, t)
        new = p + t[:, None] * d
        new = np.maximum(new, 1e-300)
        pi[active] = new / np.sum(new, axis=1, keepdims=True)
        its[active] += 1
        active = active[_residual(A[active], logr[active], pi[active], beta) > tol]
    return pi, its


def exploitability(P: Any, pi: Any, beta: Any, pi_ref: Any) -> float:
    """``phi(pi) = beta log sum_y pi_ref(y) exp((P pi)_y / beta) - (1/2) + beta KL(pi||pi_ref)``.

    The regularized exploitability of ``pi`` in the NLHF game: the best KL-regularized win-rate
    margin any response distribution gains against ``pi`` plus ``pi``'s own KL penalty.  It is
    ``>= 0`` and zero exactly at the regularized Nash equilibrium.  ``P`` ``(K, K)``, ``pi``,
    ``pi_ref`` ``(K,)``, ``beta > 0``.

    >>> from theory.preferences import rock_paper_scissors
    >>> abs(exploitability(rock_paper_scissors(), [1/3] * 3, 0.5, [1/3] * 3)) < 1e-15
    True
    """
    b = _check_beta(beta)
    P_f, ref, p = _prepare_nash(P, pi_ref)
    pi_arr = to_float(validate_distribution(pi, name="pi"))
    if pi_arr.shape != ref.shape:
        raise ShapeMismatchError(f"pi has shape {pi_arr.shape}, expected {ref.shape}")
    if np.any((pi_arr > 0) & (ref == 0)):
        return float("inf")
    S = np.flatnonzero(ref > 0)
    A = (P_f - 0.5)[np.ix_(S, S)]
    return float(_phi(A[None], np.log(ref[S])[None], pi_arr[S][None], b)[0])


def _prepare_nash(P: Any, pi_ref: Any) -> tuple[np.ndarray, np.ndarray, int]:
    P_f = to_float(validate_preference_matrix(P))
    ref = to_float(validate_distribution(pi_ref, name="pi_ref"))
    if ref.shape != (P_f.shape[0],):
        raise ShapeMismatchError(
            f"pi_ref has shape {ref.shape}, expected ({P_f.shape[0]},) to match P"
        )
    return P_f, ref, P_f.shape[0]


def regularized_nash(P: Any, beta: Any, pi_ref: Any, *, tol: float = NASH_TOL) -> RegularizedNash:
    """NLHF's regularized Nash equilibrium: ``pi = softmax(log pi_ref + P pi / beta)``.

    The unique equilibrium of the self-play WRO objective with ``beta > 0`` (THEORY.md, "self-play
    with beta > 0"; claim ``NLHF-is-WRO``): ``pi`` maximizes ``WR(p; pi) - beta KL(p || pi_ref)``
    over ``p`` when the competitor is ``pi`` itself.  ``P`` ``(K, K)``, ``beta > 0``, ``pi_ref``
    ``(K,)``; ``pi`` vanishes where ``pi_ref`` does.  Certificate: ``residual`` (max-norm of the
    fixed-point equation, <= ``tol``) and ``exploitability``.  ``beta <= 0`` raises
    :class:`~theory.errors.InvalidParameterError` (``beta = 0`` is :func:`maximal_lottery`).

    >>> from theory.preferences import rock_paper_scissors
    >>> eq = regularized_nash(rock_paper_scissors(), 0.1, [0.5, 0.25, 0.25])
    >>> eq.residual <= 1e-12, round(float(eq.pi.sum()), 12)
    (True, 1.0)
    """
    b = _check_beta(beta)
    P_f, ref, K = _prepare_nash(P, pi_ref)
    return regularized_nash_stack(P_f[None], b, ref[None], tol=tol)[0]


def regularized_nash_stack(
    P: Any, beta: Any, pi_ref: Any, *, tol: float = NASH_TOL
) -> list[RegularizedNash]:
    """One :func:`regularized_nash` per prompt: ``P`` ``(M, K, K)``, ``pi_ref`` ``(M, K)``.

    Prompts whose ``pi_ref`` has full support are solved in one batched Newton loop.

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
    for m in range(len(ref)):
        validate_distribution(ref[m], name=f"pi_ref[{m}]" if len(ref) > 1 else "pi_ref")
    M, K = ref.shape
    out: list[RegularizedNash | None] = [None] * M
    full = np.flatnonzero(np.all(ref > 0, axis=1))
    groups = [(full, np.arange(K))] if len(full) else []
    for m in np.flatnonzero(~np.all(ref > 0, axis=1)):
        groups.append((np.array([m]), np.flatnonzero(ref[m] > 0)))
    for rows, S in groups:
        A = (P_f[rows] - 0.5)[:, S][:, :, S]
        logr = np.log(ref[rows][:, S])
        pi_S, its = _newton_nash(A, logr, b, tol)
        res = _residual(A, logr, pi_S, b)
        phi = _phi(A, logr, pi_S, b)
        for n, m in enumerate(rows):
            pi = np.zeros(K)
            pi[S] = pi_S[n]
            out[m] = RegularizedNash(pi, float(res[n]), float(max(phi[n], 0.0)), int(its[n]))
    return out  # type: ignore[return-value]
