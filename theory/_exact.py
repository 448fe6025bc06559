"""The fast exact path: Fraction arrays computed as integers over a common denominator.

Internal to :mod:`theory`.  An exact array (:mod:`theory.numbers`) is an object array of
:class:`~fractions.Fraction`; numpy's object arithmetic on it calls ``Fraction.__add__`` and
``Fraction.__mul__`` (pure Python, a gcd per operation) for every entry, a few microseconds each.
Here the same quantities are computed on *integers*: an array ``a`` of Fractions is read once as
``(N, D)`` with ``a = N / D``, ``D`` the least common denominator and ``N`` an integer array
(``int64`` when every intermediate provably fits, else Python ints), the formula runs as an integer
matrix product, and the result becomes a Fraction again at the boundary (one gcd per output
entry).  Tests on Fractions (``P + P^T = 1``, rows summing to 1, entries in ``[0, 1]``) become
tests on integers, without any gcd.

Every function here returns ``None`` when it does not apply: the fast path is switched off
(:func:`theory.numbers.reference_exact`), an entry is not a Fraction (a sympy symbol, a float),
or a test fails.  The caller then takes the reference path (numpy on Fraction object arrays),
which also names the failing entry in its error.  So the fast path never changes a result or a
message, only the time: ``tests/test_exact_fast.py`` compares the two paths on random instances,
and ``benchmarks/bench_exact.py`` times them side by side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from flint import fmpq

from .numbers import fast_exact_enabled

__all__ = [
    "Scaled",
    "fractions_of",
    "scaled",
    "to_fractions",
    "preference_ok",
    "rows_sum_to_one",
    "bilinear",
    "Read",
    "read",
    "win_rate",
    "win_rate_covariance",
    "matvec",
    "mixture",
    "winner_distribution",
    "as_fmpq",
    "fraction",
]

#: An exact array as ``(N, D)``: integer numerators over one common denominator ``D > 0``.
Scaled = tuple[np.ndarray, int]

#: Integers whose absolute value stays below this bound are computed in ``int64``.
INT64_SAFE = 2**62


def fractions_of(a: Any) -> list[Fraction] | None:
    """The entries of ``a`` (flattened, C order) when the fast path is on, ``a`` is an object
    array and every entry is exactly a :class:`~fractions.Fraction`; otherwise None.

    >>> fractions_of(np.array([Fraction(1, 2), Fraction(1, 3)], dtype=object))
    [Fraction(1, 2), Fraction(1, 3)]
    >>> fractions_of(np.array([0.5, 0.5])) is None
    True
    """
    if not isinstance(a, np.ndarray) or a.dtype != object or not fast_exact_enabled():
        return None
    flat = a.ravel().tolist()
    for v in flat:
        if type(v) is not Fraction:
            return None
    return flat


def _numerators(flat: list[Fraction]) -> tuple[list[int], int, int]:
    """``(nums, D, big)``: the entries as ``nums[i] / D`` over their least common denominator
    ``D``, and ``big`` the largest ``|nums[i]|`` (0 for no entries)."""
    if not flat:
        return [], 1, 0
    dens = [v.denominator for v in flat]
    D = math.lcm(*dens)
    nums = [v.numerator * (D // d) for v, d in zip(flat, dens, strict=True)]
    return nums, D, max(max(nums), -min(nums))


def _int_array(values: list[int], big: int, shape: tuple[int, ...]) -> np.ndarray:
    """``values`` as an ``int64`` array when ``big`` (a bound on every intermediate result the
    caller computes from them) stays below :data:`INT64_SAFE`, else as an object array of Python
    ints (exact at any size)."""
    dtype = np.int64 if big < INT64_SAFE else object
    return np.array(values, dtype=dtype).reshape(shape)


def scaled(a: Any, *, headroom: int = 1) -> Scaled | None:
    """``(N, D)`` with ``a = N / D``, ``D`` the least common denominator of the entries of ``a``.

    ``N`` is ``int64`` when ``headroom`` times its largest entry stays below :data:`INT64_SAFE`
    (the caller passes as ``headroom`` the factor by which its sums and products can grow), else
    an object array of Python ints.  None when :func:`fractions_of` does not apply.

    >>> N, D = scaled(np.array([Fraction(1, 2), Fraction(1, 3)], dtype=object))
    >>> N.tolist(), D
    ([3, 2], 6)
    """
    flat = fractions_of(a)
    if flat is None:
        return None
    nums, D, big = _numerators(flat)
    return _int_array(nums, headroom * max(big, D), a.shape), D


def to_fractions(N: np.ndarray, D: int) -> np.ndarray:
    """The object array of Fractions ``N / D`` (each entry reduced).

    >>> to_fractions(np.array([3, 2]), 6).tolist()
    [Fraction(1, 2), Fraction(1, 3)]
    """
    out = np.empty(N.shape, dtype=object)
    out.ravel()[:] = [Fraction(int(n), D) for n in N.ravel().tolist()]
    return out


def preference_ok(a: np.ndarray) -> bool | None:
    """For a Fraction matrix ``(K, K)`` or stack ``(M, K, K)``: True when every entry is in
    ``[0, 1]`` and ``P + P^T = 1``, tested on integers; False when a test fails; None when
    :func:`fractions_of` does not apply.

    >>> half = Fraction(1, 2)
    >>> preference_ok(np.array([[half, Fraction(2, 3)], [Fraction(1, 3), half]], dtype=object))
    True
    >>> preference_ok(np.array([[half, Fraction(2, 3)], [Fraction(1, 2), half]], dtype=object))
    False
    """
    r = read(a)
    return None if r is None else r.is_preference()


def _preference_ok(N: np.ndarray, D: int) -> bool:
    if N.ndim < 2 or N.shape[-1] != N.shape[-2]:
        return False
    if N.size and (N.min() < 0 or N.max() > D):
        return False
    return bool(np.all(N + np.swapaxes(N, -1, -2) == D))


def rows_sum_to_one(a: np.ndarray) -> bool | None:
    """For a 2-D Fraction array: True when every entry is ``>= 0`` and every row sums to 1
    (exactly, on integers); False when a test fails; None when :func:`fractions_of` does not
    apply.

    >>> rows_sum_to_one(np.array([[Fraction(1, 3), Fraction(2, 3)]], dtype=object))
    True
    """
    r = read(a, 2)
    return None if r is None else r.is_rows()


def bilinear(pi: np.ndarray, A: np.ndarray, q: np.ndarray, rho: np.ndarray) -> Fraction | None:
    """``sum_x rho_x pi_x^T A_x q_x`` for Fraction stacks (``A`` is ``(M, K, K)``, ``pi``, ``q``
    ``(M, K)``, ``rho`` ``(M,)``), as one integer sum over the product of the four common
    denominators; None when :func:`fractions_of` does not apply to one of them.

    >>> h = Fraction(1, 2)
    >>> A = np.array([[[h, Fraction(1)], [Fraction(0), h]]], dtype=object)
    >>> bilinear(np.array([[Fraction(1), Fraction(0)]], dtype=object), A,
    ...          np.array([[h, h]], dtype=object), np.array([Fraction(1)], dtype=object))
    Fraction(3, 4)
    """
    reads = [read(v, n) for v, n in ((pi, 2), (A, 3), (q, 2), (rho, 1))]
    if any(r is None for r in reads):
        return None
    return _bilinear_scaled(*((r.N, r.D, r.big) for r in reads))  # type: ignore[union-attr]


def _bilinear_scaled(*parts: tuple[np.ndarray, int, int]) -> Fraction:
    """:func:`bilinear` on ``(N, D, big)`` of ``pi``, ``A``, ``q``, ``rho`` (``big`` bounds
    ``|N|``); int64 when the bound on every partial sum allows, else Python ints."""
    (Npi, Dpi, bpi), (NA, DA, bA), (Nq, Dq, bq), (Nr, Dr, br) = parts
    M, K = Npi.shape
    if M * K * K * bpi * bA * bq * br >= INT64_SAFE:
        Npi, NA, Nq, Nr = (n.astype(object) for n in (Npi, NA, Nq, Nr))
    if M == 1:  # one prompt: two products, no stack machinery
        return Fraction(int(Nr[0] * (Npi[0] @ (NA[0] @ Nq[0]))), Dpi * DA * Dq * Dr)
    Aq = np.matmul(NA, Nq[:, :, None])[:, :, 0]
    per_prompt = np.sum(Npi * Aq, axis=1)
    return Fraction(int(np.dot(Nr, per_prompt)), Dpi * DA * Dq * Dr)


@dataclass(eq=False)
class Read:
    """An all-Fraction array read as ``N / D`` (:func:`_numerators`): ``nums`` the numerators as a
    flat list of Python ints (C order), ``N`` the same as an array of the input's shape (``int64``,
    read-only, when ``max(big, D) < 2**40``, else Python ints), ``big`` the largest ``|N|``.
    ``preference`` and ``rows`` remember the validation tests once taken."""

    nums: list[int]
    N: np.ndarray
    D: int
    big: int
    keep: list[Fraction]  # the entries read: alive while cached, so their ids stay theirs
    preference: bool | None = None
    rows: bool | None = None

    def is_preference(self) -> bool:
        """Entries in ``[0, 1]`` and ``P + P^T = 1`` (a matrix or a stack)."""
        if self.preference is None:
            N = self.N
            if N.ndim == 2 and N.shape[0] == N.shape[1] and 0 < N.size <= _SMALL:
                self.preference = _preference_ok_small(self.nums, self.D, N.shape[0])
            else:
                self.preference = _preference_ok(N, self.D)
        return self.preference

    def is_rows(self) -> bool:
        """Entries ``>= 0`` and every row (last axis) summing to 1."""
        if self.rows is None:
            nums, D = self.nums, self.D
            K = self.N.shape[-1] if self.N.ndim else 0
            self.rows = (
                K > 0
                and len(nums) > 0
                and min(nums) >= 0
                and all(sum(nums[i : i + K]) == D for i in range(0, len(nums), K))
            )
        return self.rows


#: Square matrices of at most this many entries are validated in Python (cheaper than numpy).
_SMALL = 1024


def _preference_ok_small(nums: list[int], D: int, K: int) -> bool:
    """:func:`_preference_ok` on the flat numerators of one ``(K, K)`` matrix, in Python."""
    if min(nums) < 0 or max(nums) > D:
        return False
    return all(nums[i * K + j] + nums[j * K + i] == D for i in range(K) for j in range(i, K))


#: Reads of the most recent arrays, keyed by shape and the ids of their entries (Fractions are
#: immutable, and a cached read keeps its entries alive, so equal ids mean the same values).
_READS: dict[tuple[Any, ...], Read] = {}
#: How many reads :data:`_READS` keeps (oldest dropped first) and the largest array it caches.
READ_CACHE_SIZE, READ_CACHE_MAX_ENTRIES = 128, 1024
#: Below this bound ``N`` is stored as ``int64`` (sums of up to 2**21 entries stay exact).
_INT64_READ = 2**40


def read(a: Any, ndim: int | None = None) -> Read | None:
    """The :class:`Read` of an all-Fraction array (of ``ndim`` dimensions if given), from the
    cache when its entries were read recently; None when :func:`fractions_of` does not apply.

    The cache (:data:`_READS`) is keyed by the shape and the ids of the entries: an entry that
    changes (``P[0, 1] = ...``) is a new object with a new id, so the array is read again; the
    values of a cached read cannot change (Fractions are immutable, and the read keeps them
    alive so that no other object takes their ids).

    >>> r = read(np.array([Fraction(1, 2), Fraction(1, 3)], dtype=object))
    >>> r.N.tolist(), r.D, r.is_rows()
    ([3, 2], 6, False)
    """
    if not isinstance(a, np.ndarray) or a.dtype.kind != "O" or not fast_exact_enabled():
        return None
    if ndim is not None and a.ndim != ndim:
        return None
    flat = a.ravel().tolist()
    key = (a.shape, *map(id, flat)) if len(flat) <= READ_CACHE_MAX_ENTRIES else None
    hit = _READS.get(key) if key is not None else None
    if hit is not None:
        return hit
    for v in flat:
        if type(v) is not Fraction:
            return None
    nums, D, big = _numerators(flat)
    N = np.array(nums, dtype=np.int64 if max(big, D) < _INT64_READ else object).reshape(a.shape)
    N.flags.writeable = False
    r = Read(nums, N, D, big, flat)
    if key is not None:
        if len(_READS) >= READ_CACHE_SIZE:
            try:  # drop the oldest (another thread may have dropped it already)
                del _READS[next(iter(_READS))]
            except (KeyError, RuntimeError, StopIteration):
                pass
        _READS[key] = r
    return r


def _read_instance(
    P: Any, models: tuple[Any, ...], rho: Any
) -> tuple[Read, list[Read], Read | None, bool] | None:
    """``P`` a ``(K, K)`` Fraction matrix with Fraction vectors ``(K,)`` (``rho`` None), or an
    ``(M, K, K)`` stack with ``(M, K)`` models and ``rho`` None or ``(M,)``, read and validated
    on integers: ``(P, models, rho, stack)`` (``rho`` None for uniform weights).  None for
    anything else, including every invalid input (the reference path then raises the named
    error)."""
    if not isinstance(P, np.ndarray) or P.ndim not in (2, 3):
        return None
    stack = P.ndim == 3
    K, M = P.shape[-1], (P.shape[0] if stack else 1)
    rP = read(P)
    if rP is None or P.shape[-2] != K or not rP.is_preference():
        return None
    reads = []
    for m in models:
        r = read(m, 1 + stack)
        if r is None or r.N.shape[-1] != K or (stack and r.N.shape[0] != M) or not r.is_rows():
            return None
        reads.append(r)
    if rho is None:
        return rP, reads, None, stack
    rr = read(rho, 1)
    if rr is None or not stack or rr.N.shape[0] != M or not rr.is_rows():
        return None
    return rP, reads, rr, stack


def _stacked(r: Read, stack: bool) -> tuple[np.ndarray, int, int]:
    """``(N, D, big)`` with a leading prompt axis."""
    return (r.N if stack else r.N[None]), r.D, r.big


def _weights(rr: Read | None, M: int) -> tuple[np.ndarray, int, int]:
    """``(N, D, big)`` of the prompt weights (uniform ``1 / M`` when ``rr`` is None)."""
    return (np.ones(M, np.int64), M, 1) if rr is None else (rr.N, rr.D, rr.big)


def win_rate(P: Any, pi: Any, q: Any, rho: Any) -> Fraction | None:
    """``WR(pi; q) = sum_x rho_x pi_x^T P_x q_x`` (:func:`theory.winrate.win_rate`) read,
    validated and computed in one pass on integers; None unless every input is a valid Fraction
    array (:func:`_read_instance`).

    >>> h = Fraction(1, 2)
    >>> P = np.array([[h, Fraction(1)], [Fraction(0), h]], dtype=object)
    >>> win_rate(P, np.array([Fraction(1), Fraction(0)], dtype=object),
    ...          np.array([h, h], dtype=object), None)
    Fraction(3, 4)
    """
    inst = _read_instance(P, (pi, q), rho)
    if inst is None:
        return None
    rP, (rpi, rq), rr, stack = inst
    if not stack:  # one prompt: pi^T (P q) over D_pi D_P D_q, the common case made short
        K = rP.N.shape[0]
        NP, Npi, Nq = rP.N, rpi.N, rq.N
        if K * K * rP.big * rpi.big * rq.big >= INT64_SAFE:
            NP, Npi, Nq = NP.astype(object), Npi.astype(object), Nq.astype(object)
        return Fraction(int(Npi @ (NP @ Nq)), rpi.D * rP.D * rq.D)
    return _bilinear_scaled(
        _stacked(rpi, stack), _stacked(rP, stack), _stacked(rq, stack), _weights(rr, P.shape[0])
    )


def win_rate_covariance(P: Any, pi: Any, q: Any, rho: Any) -> Fraction | None:
    """``sum_x rho_x Cov_{y~q_x}(pi_x(y) / q_x(y), W_q(x, y))``
    (:func:`theory.winrate.win_rate_covariance`) on integers; None unless every input is a valid
    Fraction array (:func:`_read_instance`) with ``pi << q``.

    On the support ``S`` of ``q_x`` the covariance is ``sum_{y in S} q(y) (r(y) - rbar)
    (W(y) - Wbar)`` with ``r = pi / q``, ``rbar = sum_S q r``, ``Wbar = sum_S q W``; since
    ``q(y) r(y) = pi(y)`` on ``S`` this is ``sum_S (pi(y) - q(y) rbar) (W(y) - Wbar)``, whose
    terms share one denominator, so the sum is taken on integers (Python ints: no overflow).

    >>> h = Fraction(1, 2)
    >>> P = np.array([[h, Fraction(1)], [Fraction(0), h]], dtype=object)
    >>> win_rate_covariance(P, np.array([Fraction(1), Fraction(0)], dtype=object),
    ...                     np.array([h, h], dtype=object), None)
    Fraction(1, 4)
    """
    inst = _read_instance(P, (pi, q), rho)
    if inst is None:
        return None
    rP, (rpi, rq), rr, stack = inst
    (NP, DP, _), (Npi, Dpi, _), (Nq, Dq, _) = (_stacked(r, stack) for r in (rP, rpi, rq))
    Nr, Dr, _ = _weights(rr, NP.shape[0])
    total = 0
    for x in range(NP.shape[0]):
        nq, npi = Nq[x].tolist(), Npi[x].tolist()
        S = [y for y, v in enumerate(nq) if v > 0]
        if any(npi[y] > 0 for y, v in enumerate(nq) if v == 0):
            return None  # pi not << q: the reference path raises SupportMismatchError
        nW = [sum(a * b for a, b in zip(row, nq, strict=True)) for row in NP[x].tolist()]
        rbar = sum(npi[y] for y in S)  # rbar = this / Dpi
        Wsum = sum(nq[y] * nW[y] for y in S)  # Wbar = this / (Dq DP Dq)
        # (pi - q rbar) * Dpi Dq and (W - Wbar) * DP Dq Dq, multiplied and summed over S
        cov = sum((npi[y] * Dq - nq[y] * rbar) * (nW[y] * Dq - Wsum) for y in S)
        total += int(Nr[x]) * cov
    return Fraction(total, Dr * Dpi * Dq * DP * Dq * Dq)


def mixture(p: Any, q: Any, t: Any) -> np.ndarray | None:
    """``t p + (1 - t) q`` (:func:`theory.simplex.mixture`) on integers, for Fraction
    distributions or models ``p``, ``q`` of one shape and a Fraction (or int) ``0 <= t <= 1``;
    None for anything else, including every invalid input (the reference path names the error).

    >>> mixture(np.array([Fraction(1), Fraction(0)], dtype=object),
    ...         np.array([Fraction(0), Fraction(1)], dtype=object), Fraction(1, 4)).tolist()
    [Fraction(1, 4), Fraction(3, 4)]
    """
    if type(t) is not Fraction and type(t) is not int:
        return None
    if not (isinstance(p, np.ndarray) and isinstance(q, np.ndarray)) or p.shape != q.shape:
        return None
    rp, rq = read(p), read(q)
    if rp is None or rq is None or p.ndim not in (1, 2) or not 0 <= t <= 1:
        return None
    if not (rp.is_rows() and rq.is_rows()):
        return None
    a, b = (t.numerator, t.denominator) if type(t) is Fraction else (t, 1)
    wp, wq, den = a * rq.D, (b - a) * rp.D, b * rp.D * rq.D  # t p + (1 - t) q over den
    out = np.empty(p.shape, dtype=object)
    out.ravel()[:] = [Fraction(wp * x + wq * y, den) for x, y in zip(rp.nums, rq.nums, strict=True)]
    return out


def winner_distribution(P: Any, mu0: Any, mu1: Any, *, transpose: bool = False) -> Any:
    """``p_w(x, .) = mu1_x (P_x mu0_x) + mu0_x (P_x mu1_x)`` (:func:`theory.methods.sft.sft_target`;
    ``P_x^T`` in place of ``P_x`` when ``transpose``) for a validated Fraction stack ``P``
    ``(M, K, K)`` and models ``(M, K)``, on integers: both terms share the denominator
    ``D_P D_0 D_1``.  None when :func:`read` does not apply.

    >>> h = Fraction(1, 2)
    >>> P = np.array([[[h, Fraction(1)], [Fraction(0), h]]], dtype=object)
    >>> mu = np.array([[h, h]], dtype=object)
    >>> winner_distribution(P, mu, mu).tolist()
    [[Fraction(3, 4), Fraction(1, 4)]]
    """
    rP, r0, r1 = read(P, 3), read(mu0, 2), read(mu1, 2)
    if rP is None or r0 is None or r1 is None:
        return None
    NP, N0, N1 = rP.N, r0.N, r1.N
    if 2 * P.shape[-1] * max(rP.big, 1) * max(r0.big, 1) * max(r1.big, 1) >= INT64_SAFE:
        NP, N0, N1 = NP.astype(object), N0.astype(object), N1.astype(object)
    if transpose:
        NP = np.swapaxes(NP, 1, 2)
    W0 = np.matmul(NP, N0[:, :, None])[:, :, 0]
    W1 = np.matmul(NP, N1[:, :, None])[:, :, 0]
    return to_fractions(N1 * W0 + N0 * W1, rP.D * r0.D * r1.D)


def as_fmpq(a: Any) -> np.ndarray | None:
    """An all-Fraction array as an object array of python-flint ``fmpq`` (exact rationals in C:
    numpy's object arithmetic on them is about ten times faster than on Fractions); None when
    :func:`fractions_of` does not apply.  Convert results back with :func:`fraction`.

    >>> as_fmpq(np.array([Fraction(1, 2)], dtype=object)).tolist()
    [1/2]
    """
    flat = fractions_of(a)
    if flat is None:
        return None
    out = np.empty(a.shape, dtype=object)
    out.ravel()[:] = [fmpq(v.numerator, v.denominator) for v in flat]
    return out


def fraction(v: Any) -> Fraction:
    """An ``fmpq`` (or int) as a :class:`~fractions.Fraction`.

    >>> fraction(fmpq(3, 6))
    Fraction(1, 2)
    """
    if isinstance(v, fmpq):
        return Fraction(int(v.p), int(v.q))
    return Fraction(v)


def matvec(A: np.ndarray, q: np.ndarray) -> np.ndarray | None:
    """``A @ q`` for a Fraction matrix ``(K, K)`` and vector ``(K,)``, as an object array of
    Fractions computed on integers; None when :func:`fractions_of` does not apply.

    >>> h = Fraction(1, 2)
    >>> A = np.array([[h, Fraction(1)], [Fraction(0), h]], dtype=object)
    >>> matvec(A, np.array([h, h], dtype=object)).tolist()
    [Fraction(3, 4), Fraction(1, 4)]
    """
    rA, rq = read(A, 2), read(q, 1)
    if rA is None or rq is None or A.shape[1] != q.shape[0]:
        return None
    NA, Nq = rA.N, rq.N
    if A.shape[1] * rA.big * rq.big >= INT64_SAFE:
        NA, Nq = NA.astype(object), Nq.astype(object)
    return to_fractions(NA @ Nq, rA.D * rq.D)
