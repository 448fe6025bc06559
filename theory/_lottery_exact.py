"""The exact path of the maximal lottery: certificate, exact solve on a guessed support, exact
verification, and the exact simplex fallback.

Internal to :mod:`theory` (called by :mod:`theory.lottery`, which documents the method).  A float
lottery (:mod:`theory._lottery_float`) guesses the support ``S`` and the tight constraints; the
square system ``A_TS pi_S = 0, 1^T pi_S = 1`` is then row-reduced in exact rationals
(python-flint) and the candidate is verified exactly (``pi >= 0``, ``sum pi = 1``,
``(P^T pi)_j >= 1/2`` for every ``j``).  When the guess gives no verified candidate, an exact
tableau simplex (Bland's rule) solves the linear program from scratch.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from .numbers import is_exact, to_exact

if TYPE_CHECKING:
    import flint

__all__ = [
    "SUPPORT_TOL",
    "certificate",
    "support",
    "exact_candidate",
    "verified_certificate",
    "exact_simplex",
    "exact_lottery",
    "exact_matrix",
]

#: Float threshold deciding which responses are in the support / which constraints are tight when
#: reading a float solution for the exact path (the exact answer is verified independently).
SUPPORT_TOL = 1e-9
#: Largest denominator used to round free unknowns of a non-unique exact maximal lottery.
ROUND_DENOMINATOR = 10**6


def certificate(P: np.ndarray, pi: np.ndarray) -> tuple[Any, Any, Any]:
    """``(value, gap, duality_gap)`` of ``pi`` in the game ``P`` (exact when both are exact).

    ``value = min_j (P^T pi)_j``, ``gap = max(0, 1/2 - value)``, ``duality_gap = max_i (P pi)_i
    - value``.  Exact arrays are computed in integers over a common denominator (the same
    numbers, without Fraction arithmetic).

    >>> P = np.array([[Fraction(1, 2), Fraction(1)], [Fraction(0), Fraction(1, 2)]], dtype=object)
    >>> certificate(P, np.array([Fraction(1), Fraction(0)], dtype=object))
    (Fraction(1, 2), Fraction(0, 1), Fraction(0, 1))
    """
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


def support(pi: np.ndarray) -> tuple[int, ...]:
    """The responses with positive mass.

    >>> support(np.array([0.0, 0.5, 0.5]))
    (1, 2)
    """
    return tuple(int(i) for i in np.flatnonzero(pi > 0))


def _to_fmpq_mat(rows: list[list[Fraction]]) -> flint.fmpq_mat:
    import flint

    m, n = len(rows), len(rows[0])
    return flint.fmpq_mat(m, n, [flint.fmpq(v.numerator, v.denominator) for r in rows for v in r])


def _fraction(e: Any) -> Fraction:
    return Fraction(int(e.p), int(e.q))


def exact_candidate(P: np.ndarray, Af: np.ndarray, pi_f: np.ndarray) -> np.ndarray | None:
    """An exact lottery near the float one, or None when the float guess gives no candidate.

    Unknowns: ``pi_S`` on the float support ``S``.  Equations: ``(A pi)_j = 0`` for every tight
    ``j`` (float ``|(A pi)_j|`` below :data:`SUPPORT_TOL`, which includes ``S``) and
    ``1^T pi_S = 1``, row-reduced exactly (python-flint).  A unique solution is returned; when the
    solution set is larger (ties: the maximal lottery is not unique) the free unknowns are set to
    rational roundings of their float values.  The caller verifies the candidate exactly.
    """
    K = P.shape[0]
    half = Fraction(1, 2)
    S = np.flatnonzero(pi_f > SUPPORT_TOL)
    T = np.union1d(np.flatnonzero(np.abs(Af @ pi_f) <= SUPPORT_TOL), S)
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
        values[c] = Fraction(float(pi_f[S[c]])).limit_denominator(ROUND_DENOMINATOR)
    for r, c in enumerate(pivots):
        values[c] = _fraction(R[r, k]) - sum(
            (_fraction(R[r, f]) * values[f] for f in free), Fraction(0)
        )
    pi = np.array([Fraction(0)] * K, dtype=object)
    for c, i in enumerate(S):
        pi[i] = values[c]
    return pi


def verified_certificate(P: np.ndarray, pi: np.ndarray) -> tuple[Any, Any, Any] | None:
    """Exact check that ``pi >= 0``, ``sum pi = 1`` and ``(P^T pi)_j >= 1/2`` for every ``j``;
    returns the exact :func:`certificate` when it passes, else None.

    >>> P = np.array([[Fraction(1, 2), Fraction(1)], [Fraction(0), Fraction(1, 2)]], dtype=object)
    >>> verified_certificate(P, np.array([Fraction(0), Fraction(1)], dtype=object)) is None
    True
    """
    if not (all(v >= 0 for v in pi) and sum(pi) == 1):
        return None
    cert = certificate(P, pi)
    return cert if cert[0] >= Fraction(1, 2) else None


def exact_simplex(P: np.ndarray) -> np.ndarray:
    """A maximal lottery of exact ``P`` by an exact tableau simplex (Bland's rule, always
    terminates): ``max 1^T y`` s.t. ``B y <= 1``, ``y >= 0`` with ``B = P + 1/2 > 0``.  Its optimum
    has ``1^T y = 1`` and ``A y <= 0``; ``y / 1^T y`` is returned.  Used only when the
    float-guided exact solve cannot be verified.

    >>> from theory.preferences import rock_paper_scissors
    >>> exact_simplex(rock_paper_scissors()).tolist()
    [Fraction(1, 3), Fraction(1, 3), Fraction(1, 3)]
    """
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
    while (enter := next((j for j in range(2 * K) if obj[j] < 0), None)) is not None:
        leave = _ratio_test(T, enter, basis)
        obj = _pivot(T, obj, leave, enter)
        basis[leave] = enter
    y = [Fraction(0)] * K
    for i, b in enumerate(basis):
        if b < K:
            y[b] = _fraction(T[i][-1])
    total = sum(y)
    return np.array([v / total for v in y], dtype=object)


def _ratio_test(T: list[list[Any]], enter: int, basis: list[int]) -> int:
    """The leaving row: the smallest ``T[i][-1] / T[i][enter]`` over ``T[i][enter] > 0``, ties
    broken by the smallest basic variable (Bland's rule)."""
    leave = min(
        (i for i in range(len(T)) if T[i][enter] > 0),
        key=lambda i: (T[i][-1] / T[i][enter], basis[i]),
        default=None,
    )
    if leave is None:  # pragma: no cover - B > 0 bounds the LP
        raise RuntimeError("exact simplex found an unbounded direction (a bug)")
    return leave


def _pivot(T: list[list[Any]], obj: list[Any], leave: int, enter: int) -> list[Any]:
    """Pivot the tableau ``T`` in place on ``(leave, enter)``; return the new objective row."""
    piv = T[leave][enter]
    T[leave] = [v / piv for v in T[leave]]
    for i in range(len(T)):
        if i != leave and T[i][enter] != 0:
            f = T[i][enter]
            T[i] = [a - f * b for a, b in zip(T[i], T[leave], strict=True)]
    f = obj[enter]
    return [a - f * b for a, b in zip(obj, T[leave], strict=True)]


def exact_lottery(
    P: np.ndarray, P_f: np.ndarray, pi_f: np.ndarray
) -> tuple[np.ndarray, tuple[Any, Any, Any]]:
    """The verified exact maximal lottery of exact ``P`` guided by the float one ``pi_f``, with
    its exact certificate ``(value, gap, duality_gap)``: :func:`exact_candidate`, else
    :func:`exact_simplex` (a wrong float guess never leaks through)."""
    pi = exact_candidate(P, P_f - 0.5, pi_f)
    cert = None if pi is None else verified_certificate(P, pi)
    if pi is None or cert is None:
        pi = exact_simplex(P)
        cert = verified_certificate(P, pi)
        if cert is None:  # pragma: no cover - the simplex optimum is a maximal lottery
            raise RuntimeError("exact simplex returned an unverified lottery (a bug)")
    return pi, cert


def exact_matrix(P: np.ndarray) -> np.ndarray:
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
