"""Preference matrices: validation, the families of docs/theory.md, and recognisers.

A preference matrix over K responses is a ``(K, K)`` array with ``P[i, j]`` the probability that
response ``i`` is preferred to ``j``, entries in ``[0, 1]`` and ``P + P^T = 1`` (so the diagonal is
``1/2``; ties count as half a win).  Several prompts stack into an ``(M, K, K)`` array.  Exact
matrices must satisfy the identity exactly; float ones to within :data:`PREF_TOL`; symbolic ones
(sympy entries, :mod:`theory.numbers`) fail only where sympy settles the failure.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.special import expit

from ._exact import preference_ok, scaled
from .errors import (
    InvalidParameterError,
    NotAPreferenceMatrixError,
    NotBradleyTerryError,
    ShapeMismatchError,
)
from .numbers import as_array, differs, format_number, half_of, is_exact, to_float, truth_mask
from .simplex import check_K as _check_K
from .simplex import check_rng

__all__ = [
    "PREF_TOL",
    "BT_TOL",
    "FAMILIES",
    "validate_preference_matrix",
    "validate_preference_stack",
    "bradley_terry_matrix",
    "bradley_terry_from_strengths",
    "total_order",
    "cyclic",
    "rock_paper_scissors",
    "random_preference_matrix",
    "random_bradley_terry",
    "random_family_matrix",
    "is_bradley_terry",
    "bradley_terry_strengths",
    "bradley_terry_rewards",
    "is_transitive",
    "condorcet_winner",
]

#: How far ``P[i, j] + P[j, i]`` of a float matrix may be from 1.
PREF_TOL = 1e-9
#: How far (on the log-odds scale) a float matrix may be from Bradley-Terry and still be recognised.
BT_TOL = 1e-9
#: The preference families that :func:`random_family_matrix` draws from.
FAMILIES = ("bradley_terry", "total_order", "cyclic", "general")


def _check_matrix(a: np.ndarray, name: str) -> None:
    """Raise unless the square 2-D array ``a`` is a preference matrix.

    A symbolic entry (:mod:`theory.numbers`) fails only where sympy settles the failure.  An
    all-Fraction matrix is first tested on integers (:func:`theory._exact.preference_ok`); only a
    failing or non-Fraction matrix reaches the tests below, which name the entry."""
    if preference_ok(a):
        return
    try:
        bad = np.argwhere((a < 0) | (a > 1))
    except TypeError:  # a sympy relation numpy cannot turn into a bool: symbolic entries
        bad = np.argwhere(truth_mask(a, lambda v: v < 0) | truth_mask(a, lambda v: v > 1))
    if len(bad):
        i, j = (int(v) for v in bad[0])
        raise NotAPreferenceMatrixError(
            f"{name}[{i}, {j}] = {format_number(a[i, j])} is outside [0, 1]"
        )
    total = a + a.T
    off = (total != 1) if is_exact(a) else (np.abs(to_float(total) - 1.0) > PREF_TOL)
    if is_exact(a) and off.any():  # a symbolic sum may be 1 after expansion
        off = np.vectorize(lambda v: differs(v, 1), otypes=[bool])(total)
    bad = np.argwhere(off)
    if len(bad):
        i, j = sorted(int(v) for v in bad[0])
        raise NotAPreferenceMatrixError(
            f"{name}[{i}, {j}] + {name}[{j}, {i}] = {format_number(total[i, j])}, expected 1"
        )


def validate_preference_matrix(P: Any, *, name: str = "P") -> np.ndarray:
    """Return ``P`` as a validated ``(K, K)`` preference matrix.

    Raises :class:`~theory.errors.NotAPreferenceMatrixError` (an entry outside ``[0, 1]`` or a pair
    with ``P[i, j] + P[j, i] != 1``, naming the pair and its sum),
    :class:`~theory.errors.ShapeMismatchError` or :class:`~theory.errors.NonFiniteInputError`.

    >>> validate_preference_matrix([[Fraction(1, 2), 1], [0, Fraction(1, 2)]]).shape
    (2, 2)
    """
    a = as_array(P, name=name)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ShapeMismatchError(f"{name} has shape {a.shape}, expected a square matrix (K, K)")
    _check_matrix(a, name)
    return a


def validate_preference_stack(P: Any, *, name: str = "P") -> np.ndarray:
    """Return ``P`` as a validated ``(M, K, K)`` stack (a ``(K, K)`` matrix is one prompt)."""
    a = as_array(P, name=name)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[1] != a.shape[2] or a.shape[1] == 0:
        raise ShapeMismatchError(f"{name} has shape {a.shape}, expected (K, K) or (M, K, K)")
    if a.shape[0] == 0:
        raise ShapeMismatchError(f"{name} has shape {a.shape}: no prompts, expected M >= 1")
    if not is_exact(a):
        # vectorised fast path for float stacks; on failure the loop below names the entry
        dev = a + np.swapaxes(a, 1, 2)
        dev -= 1.0
        if a.min() >= 0 and a.max() <= 1 and np.abs(dev, out=dev).max() <= PREF_TOL:
            return a
    for x in range(a.shape[0]):
        _check_matrix(a[x], f"{name}[{x}]" if a.shape[0] > 1 else name)
    return a


def bradley_terry_matrix(r: Any) -> np.ndarray:
    """The Bradley-Terry matrix ``P[i, j] = sigmoid(r_i - r_j)`` of rewards ``r`` (float).

    (Named ``..._matrix`` because ``theory.bradley_terry`` is the module that fits rewards.)

    Of each pair the smaller probability is computed (accurate however small) and the larger set
    to ``1 - smaller``, so ``P + P^T = 1`` holds to the last bit.

    >>> bradley_terry_matrix([0.0, 0.0])
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """
    r_arr = to_float(as_array(r, name="r"))
    if r_arr.ndim != 1 or r_arr.shape[0] == 0:
        raise ShapeMismatchError(f"r has shape {r_arr.shape}, expected (K,) with K >= 1")
    with np.errstate(over="ignore", invalid="ignore"):  # r near +-1e308: differences overflow
        diff = r_arr[:, None] - r_arr[None, :]
    P = expit(diff)  # expit(+-inf) = 1, 0: the right limits
    iu = np.triu_indices(len(r_arr), 1)
    il = (iu[1], iu[0])
    # keep the smaller probability of each pair as computed (accurate down to 1e-308) and set
    # the larger to 1 - smaller, so P + P^T = 1 holds to the last bit
    upper_small = P[iu] <= P[il]
    P[il] = np.where(upper_small, 1.0 - P[iu], P[il])
    P[iu] = np.where(upper_small, P[iu], 1.0 - P[il])
    np.fill_diagonal(P, 0.5)
    return P


def bradley_terry_from_strengths(s: Any) -> np.ndarray:
    """The Bradley-Terry matrix ``P[i, j] = s_i / (s_i + s_j)`` of positive strengths ``s``.

    Exact for rational strengths (``s_i = exp(r_i)``); float strengths go through
    :func:`bradley_terry_matrix` of ``log s`` (no overflow or underflow for any positive float).

    >>> bradley_terry_from_strengths([1, 2])[0, 1]
    Fraction(1, 3)
    """
    s_arr = as_array(s, name="s")
    if s_arr.ndim != 1 or s_arr.shape[0] == 0:
        raise ShapeMismatchError(f"s has shape {s_arr.shape}, expected (K,) with K >= 1")
    if np.any(s_arr <= 0):
        i = int(np.argwhere(s_arr <= 0)[0][0])
        raise InvalidParameterError(f"s[{i}] = {format_number(s_arr[i])}, expected > 0")
    if not is_exact(s_arr):  # in logs: s_i + s_j cannot overflow, s_i / s_j cannot underflow
        return bradley_terry_matrix(np.log(s_arr))
    fast = scaled(s_arr)  # s = N / D: s_i / (s_i + s_j) = N_i / (N_i + N_j), on integers
    if fast is not None:
        n = fast[0].tolist()
        P = np.empty((len(n), len(n)), dtype=object)
        P.ravel()[:] = [Fraction(a, a + b) for a in n for b in n]
        return P
    return s_arr[:, None] / (s_arr[:, None] + s_arr[None, :])


def _zero_half_matrix(K: int, exact: bool) -> np.ndarray:
    if exact:
        zero, half = Fraction(0), Fraction(1, 2)
        P = np.empty((K, K), dtype=object)
        P.ravel()[:] = [half if i == j else zero for i in range(K) for j in range(K)]
        return P
    P = np.zeros((K, K))
    np.fill_diagonal(P, 0.5)
    return P


def total_order(K: int, ranking: Any = None, *, exact: bool = True) -> np.ndarray:
    """The deterministic total order: ``P[a, b] = 1`` when ``a`` precedes ``b`` in ``ranking``.

    ``ranking`` lists the response *indices* best first (default ``0, 1, ..., K-1``): it is not
    a score per response (:func:`theory.methods.best_of_n.best_of_n` takes rewards, indexed by
    response, higher is better; the default order here is the rewards ``[K-1, ..., 1, 0]``).

    >>> total_order(3)[0, 2], total_order(3)[2, 0]
    (Fraction(1, 1), Fraction(0, 1))
    """
    _check_K(K)
    if ranking is not None and (
        isinstance(ranking, str)
        or not all(
            isinstance(v, int | np.integer) and not isinstance(v, bool) for v in list(ranking)
        )
    ):
        raise InvalidParameterError(f"ranking {ranking!r} must list integer response indices")
    order = list(range(K)) if ranking is None else [int(v) for v in ranking]
    if sorted(order) != list(range(K)):
        raise InvalidParameterError(f"ranking {order} is not a permutation of 0..{K - 1}")
    P = _zero_half_matrix(K, exact)
    one = Fraction(1) if exact else 1.0
    for pos, a in enumerate(order):
        for b in order[pos + 1 :]:
            P[a, b] = one
    return P


def cyclic(K: int, p: Any = 1, *, exact: bool = True) -> np.ndarray:
    """The cyclic tournament: ``i`` beats ``i + d (mod K)`` for ``d = 1 .. floor((K-1)/2)``.

    Each such win has probability ``p`` (``1/2 < p <= 1``); for even ``K`` the opposite response
    ``i + K/2`` is a tie.  Every response wins exactly as often as it loses, so no Condorcet winner
    exists and the uniform distribution is the maximal lottery.  ``cyclic(3)`` is
    rock-paper-scissors.

    >>> cyclic(3)[0, 1], cyclic(3)[1, 0]
    (Fraction(1, 1), Fraction(0, 1))
    """
    _check_K(K, minimum=3)
    p_val = as_array(p, name="p").item()
    if not (Fraction(1, 2) < p_val <= 1):
        raise InvalidParameterError(f"p = {format_number(p_val)}, expected 1/2 < p <= 1")
    if not exact or isinstance(p_val, float):
        exact, p_val = False, float(p_val)
    P = _zero_half_matrix(K, exact)
    half = Fraction(1, 2) if exact else 0.5
    lose = 1 - p_val
    for i in range(K):
        for d in range(1, K):
            j = (i + d) % K
            if 2 * d < K:
                P[i, j] = p_val
            elif 2 * d == K:
                P[i, j] = half
            else:
                P[i, j] = lose
    return P


def rock_paper_scissors(*, exact: bool = True) -> np.ndarray:
    """Rock-paper-scissors: 0 beats 1, 1 beats 2, 2 beats 0, each with probability 1.

    Read 0 as rock, 1 as scissors, 2 as paper.
    """
    return cyclic(3, exact=exact)


def random_preference_matrix(
    rng: np.random.Generator, K: int, *, exact: bool = False, denominator: int = 12
) -> np.ndarray:
    """A random general (usually intransitive, non-Bradley-Terry) preference matrix.

    Float: upper-triangle entries uniform on ``(0, 1)``.  Exact: entries ``k / denominator`` with
    ``k`` uniform in ``0..denominator`` (so deterministic and tied pairs occur).
    """
    _check_K(K)
    check_rng(rng)
    P = _zero_half_matrix(K, exact)
    iu = np.triu_indices(K, 1)
    if exact:
        ks = rng.integers(0, denominator + 1, size=len(iu[0])).tolist()
        P[iu] = [Fraction(k, denominator) for k in ks]
        P[(iu[1], iu[0])] = [Fraction(denominator - k, denominator) for k in ks]
    else:
        u = rng.uniform(size=len(iu[0]))
        P[iu] = u
        P[(iu[1], iu[0])] = 1.0 - u
    return P


def random_bradley_terry(
    rng: np.random.Generator, K: int, *, exact: bool = False, scale: float = 2.0
) -> np.ndarray:
    """A random Bradley-Terry matrix: rewards ``N(0, scale^2)`` (float) or integer strengths in
    ``1..10`` (exact)."""
    _check_K(K)
    check_rng(rng)
    if exact:
        return bradley_terry_from_strengths([int(v) for v in rng.integers(1, 11, size=K)])
    return bradley_terry_matrix(rng.normal(0.0, scale, size=K))


def random_family_matrix(
    rng: np.random.Generator, K: int, family: str, *, exact: bool = False
) -> np.ndarray:
    """A random member of ``family`` (one of :data:`FAMILIES`) over ``K`` responses.

    ``total_order`` draws a random ranking; ``cyclic`` draws a random relabelling of the cyclic
    tournament (``K >= 3``; for ``K = 2`` it falls back to a total order).
    """
    check_rng(rng)
    if family == "bradley_terry":
        return random_bradley_terry(rng, K, exact=exact)
    if family == "total_order":
        return total_order(K, rng.permutation(K), exact=exact)
    if family == "cyclic":
        if K < 3:
            return total_order(K, rng.permutation(K), exact=exact)
        perm = rng.permutation(K)
        return cyclic(K, exact=exact)[np.ix_(perm, perm)]
    if family == "general":
        return random_preference_matrix(rng, K, exact=exact)
    raise InvalidParameterError(f"unknown family {family!r}, expected one of {FAMILIES}")


def _odds_to_first(P: np.ndarray) -> np.ndarray | None:
    """``o[i, j] = P[i, j] / P[j, i]``, or None when some entry is 0 or 1."""
    if np.any(P <= 0) or np.any(P >= 1):
        return None
    return P / P.T


def is_bradley_terry(P: Any) -> bool:
    """True when ``P[i, j] = s_i / (s_i + s_j)`` for some positive strengths ``s``.

    Equivalently the odds ``o[i, j] = P[i, j] / P[j, i]`` factor as ``o[i, 0] * o[0, j]``.  Exact
    matrices are tested exactly; float matrices on the log-odds scale to within :data:`BT_TOL`.
    Matrices with an entry equal to 0 or 1 (deterministic pairs, total orders) are *not*
    Bradley-Terry: they are only limits of it.

    >>> is_bradley_terry(bradley_terry_from_strengths([1, 2, 3])), is_bradley_terry(cyclic(3))
    (True, False)
    """
    P_arr = validate_preference_matrix(P)
    o = _odds_to_first(P_arr)
    if o is None:
        return False
    if is_exact(P_arr):
        return bool(np.all(o == o[:, [0]] * o[[0], :]))
    lo = np.log(o)
    return bool(np.max(np.abs(lo - (lo[:, [0]] + lo[[0], :]))) <= BT_TOL)


def bradley_terry_strengths(P: Any) -> np.ndarray:
    """The strengths ``s`` (summing to 1) with ``P[i, j] = s_i / (s_i + s_j)``; exact for exact P.

    Raises :class:`~theory.errors.NotBradleyTerryError` when ``P`` is not Bradley-Terry.

    >>> bradley_terry_strengths(bradley_terry_from_strengths([1, 3])).tolist()
    [Fraction(1, 4), Fraction(3, 4)]
    """
    P_arr = validate_preference_matrix(P)
    if not is_bradley_terry(P_arr):
        raise NotBradleyTerryError(
            "P is not Bradley-Terry: some odds P[i,j]/P[j,i] do not factor as s_i/s_j "
            "(or an entry is 0 or 1)"
        )
    s = P_arr[:, 0] / P_arr[0, :]  # s_i / s_0
    return s / s.sum()


def bradley_terry_rewards(P: Any) -> np.ndarray:
    """The rewards ``r`` (mean zero, float) with ``P[i, j] = sigmoid(r_i - r_j)``.

    Rewards are defined up to an additive constant; this picks the one with ``mean(r) = 0``.
    Raises :class:`~theory.errors.NotBradleyTerryError` when ``P`` is not Bradley-Terry.
    """
    P_arr = validate_preference_matrix(P)
    bradley_terry_strengths(P_arr)  # raises NotBradleyTerryError
    # r_i - r_0 = log(P[i, 0] / P[0, i]), taken in logs so that odds beyond float range
    # (exact P with odds 10^400) stay finite
    r = np.array([_log_ratio(P_arr[i, 0], P_arr[0, i]) for i in range(P_arr.shape[0])])
    return r - r.mean()


def _log_ratio(a: Any, b: Any) -> float:
    """``log(a / b)`` for positive numbers, exact ones taken through their integer numerators
    and denominators (``math.log`` of an integer never overflows).

    >>> _log_ratio(Fraction(1), Fraction(1, 10**400)) > 921
    True
    """
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        q = a / b
        return math.log(q.numerator) - math.log(q.denominator)
    return math.log(float(a)) - math.log(float(b))


def is_transitive(P: Any) -> bool:
    """True when the majority relation ``i >= j  iff  P[i, j] >= 1/2`` is transitive
    (weak stochastic transitivity).

    >>> is_transitive(total_order(4)), is_transitive(cyclic(3))
    (True, False)
    """
    P_arr = validate_preference_matrix(P)
    R = (P_arr >= half_of(P_arr)).astype(np.int64)
    return not bool(np.any(((R @ R) > 0) & (R == 0)))


def condorcet_winner(P: Any) -> int | None:
    """The response ``i`` with ``P[i, j] > 1/2`` for every ``j != i``, or None if there is none.

    >>> condorcet_winner(total_order(3, [2, 0, 1])), condorcet_winner(cyclic(5))
    (2, None)
    """
    P_arr = validate_preference_matrix(P)
    beats = P_arr > half_of(P_arr)
    np.fill_diagonal(beats, True)
    winners = np.flatnonzero(beats.all(axis=1))
    return int(winners[0]) if len(winners) else None
