"""Probability vectors and per-prompt models.

A *distribution* over K responses is a vector ``p`` of shape ``(K,)`` with ``p >= 0`` and
``sum(p) = 1``.  A *model* ``pi`` assigns one distribution per prompt: an ``(M, K)`` row-stochastic
array (docs/theory.md, Setting).  Exact arrays must sum to exactly 1; float arrays to within
:data:`SUM_TOL`.  Symbolic entries (sympy expressions, :mod:`theory.numbers`) fail a test only
when sympy settles the failure: a sign that sympy cannot decide passes, and a sum passes when
``sympy.expand(sum - 1)`` is 0.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from ._exact import mixture as exact_mixture
from ._exact import rows_sum_to_one
from .errors import InvalidParameterError, NotAProbabilityVectorError, ShapeMismatchError
from .numbers import as_array, common_kind, differs, format_number, is_exact, truth_mask

__all__ = [
    "SUM_TOL",
    "validate_distribution",
    "validate_model",
    "uniform",
    "point_mass",
    "mixture",
    "kl_divergence",
    "random_distribution",
    "random_model",
]

#: How far from 1 the sum of a float probability vector may be.
SUM_TOL = 1e-9


def _check_rows(a: np.ndarray, name: str, *, vector: bool = False) -> None:
    """Raise unless every row of the 2-D array ``a`` is a probability vector.

    ``vector=True`` names entries as in a 1-D vector (``a`` then has a single row).  An
    all-Fraction array is first tested on integers (:func:`theory._exact.rows_sum_to_one`); only a
    failing or non-Fraction array reaches the tests below, which name the entry.
    """
    if rows_sum_to_one(a):
        return
    exact = is_exact(a)
    if not exact and a.size and a.min() >= 0 and (np.abs(a.sum(axis=1) - 1.0) <= SUM_TOL).all():
        return  # the vectorised float test; on failure the tests below name the entry
    try:
        neg = np.argwhere(a < 0)
    except TypeError:  # a sympy relation numpy cannot turn into a bool: symbolic entries
        neg = np.argwhere(truth_mask(a, lambda v: v < 0))  # negative only where sympy settles it
    if len(neg):
        i, j = (int(v) for v in neg[0])
        where = f"{name}[{j}]" if vector else f"{name}[{i}, {j}]"
        raise NotAProbabilityVectorError(
            f"{where} = {format_number(a[i, j])} is negative, expected >= 0"
        )
    sums = a.sum(axis=1)
    for i, s in enumerate(sums):
        if (s != 1 and differs(s, 1)) if exact else (abs(s - 1.0) > SUM_TOL):
            what = name if vector else f"{name} row {i}"
            raise NotAProbabilityVectorError(f"{what} sums to {format_number(s)}, expected 1")


def validate_distribution(p: Any, *, name: str = "p") -> np.ndarray:
    """Return ``p`` as a validated probability vector of shape ``(K,)``.

    Raises :class:`~theory.errors.NotAProbabilityVectorError` (negative entry, sum not 1),
    :class:`~theory.errors.ShapeMismatchError` (not 1-D or empty) or
    :class:`~theory.errors.NonFiniteInputError`.

    >>> validate_distribution([Fraction(1, 3), Fraction(2, 3)]).tolist()
    [Fraction(1, 3), Fraction(2, 3)]
    """
    a = as_array(p, name=name)
    if a.ndim != 1 or a.shape[0] == 0:
        raise ShapeMismatchError(f"{name} has shape {a.shape}, expected a non-empty vector (K,)")
    _check_rows(a[None, :], name, vector=True)
    return a


def validate_model(pi: Any, *, name: str = "pi", K: int | None = None) -> np.ndarray:
    """Return ``pi`` as a validated ``(M, K)`` model (a 1-D vector is read as one prompt).

    ``K``, if given, is the required number of responses.

    >>> validate_model([[1, 0], [Fraction(1, 2), Fraction(1, 2)]]).shape
    (2, 2)
    """
    a = as_array(pi, name=name)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] == 0 or a.shape[0] == 0:
        raise ShapeMismatchError(
            f"{name} has shape {a.shape}, expected (M, K) or (K,) with M, K >= 1"
        )
    if K is not None and a.shape[1] != K:
        raise ShapeMismatchError(f"{name} has {a.shape[1]} responses, expected K = {K}")
    _check_rows(a, name)
    return a


def uniform(K: int, *, exact: bool = True) -> np.ndarray:
    """The uniform distribution over ``K`` responses.

    >>> uniform(4).tolist()
    [Fraction(1, 4), Fraction(1, 4), Fraction(1, 4), Fraction(1, 4)]
    """
    check_K(K)
    if exact:
        return np.array([Fraction(1, K)] * K, dtype=object)
    return np.full(K, 1.0 / K)


def point_mass(K: int, i: int, *, exact: bool = True) -> np.ndarray:
    """The distribution putting all mass on response ``i``.

    >>> point_mass(3, 1).tolist()
    [Fraction(0, 1), Fraction(1, 1), Fraction(0, 1)]
    """
    check_K(K)
    if isinstance(i, bool) or not isinstance(i, int | np.integer) or not 0 <= i < K:
        raise InvalidParameterError(f"response index {i!r} is not an integer in 0..{K - 1}")
    out = np.array([Fraction(0)] * K, dtype=object) if exact else np.zeros(K)
    out[i] = Fraction(1) if exact else 1.0
    return out


def mixture(p: Any, q: Any, t: Any) -> np.ndarray:
    """The mixture ``t * p + (1 - t) * q`` of two distributions (or models), ``0 <= t <= 1``.

    >>> mixture([1, 0], [0, 1], Fraction(1, 4)).tolist()
    [Fraction(1, 4), Fraction(3, 4)]
    """
    fast = exact_mixture(p, q, t)  # valid all-Fraction input, on integers
    if fast is not None:
        return fast
    p_arr = as_array(p, name="p")
    q_arr = as_array(q, name="q")
    t_arr = as_array(t, name="t")
    if p_arr.shape != q_arr.shape:
        raise ShapeMismatchError(f"p has shape {p_arr.shape} but q has shape {q_arr.shape}")
    if t_arr.ndim != 0 or not 0 <= t_arr.item() <= 1:
        raise InvalidParameterError(f"mixture weight t = {format_number(t_arr)}, expected 0<=t<=1")
    validate_model(p_arr, name="p")
    validate_model(q_arr, name="q")
    p_arr, q_arr, t_arr = common_kind(p_arr, q_arr, t_arr)
    t_val = t_arr.item()
    return t_val * p_arr + (1 - t_val) * q_arr


def kl_divergence(p: Any, q: Any) -> float:
    """``KL(p || q) = sum_y p(y) log(p(y) / q(y))`` in nats (``0 log 0 = 0``).

    Returns ``inf`` when ``p`` puts mass where ``q`` has none.  Always a float (logs of rationals
    are not rational).

    >>> kl_divergence([1, 0], [Fraction(1, 2), Fraction(1, 2)])  # log 2
    0.6931471805599453
    """
    p_arr = validate_distribution(p, name="p").astype(float)
    q_arr = validate_distribution(q, name="q").astype(float)
    if p_arr.shape != q_arr.shape:
        raise ShapeMismatchError(f"p has shape {p_arr.shape} but q has shape {q_arr.shape}")
    support = p_arr > 0
    if np.any(q_arr[support] == 0):
        return float("inf")
    return float(np.sum(p_arr[support] * np.log(p_arr[support] / q_arr[support])))


def random_distribution(
    rng: np.random.Generator,
    K: int,
    *,
    zeros: bool = False,
    exact: bool = False,
    denominator: int = 12,
) -> np.ndarray:
    """A random probability vector over ``K`` responses.

    Float: Dirichlet(1, ..., 1).  Exact: ``K`` random integer weights in ``1..denominator``
    normalised, so entries are small rationals.  With ``zeros=True`` a random subset of at most
    ``K - 1`` entries is set to zero (the support is never empty).
    """
    check_K(K, minimum=1)
    check_rng(rng)
    if isinstance(denominator, bool) or not isinstance(denominator, int | np.integer):
        raise InvalidParameterError(f"denominator = {denominator!r}, expected an integer >= 1")
    if denominator < 1:
        raise InvalidParameterError(f"denominator = {denominator!r}, expected an integer >= 1")
    w: np.ndarray = rng.integers(1, denominator + 1, size=K) if exact else rng.dirichlet(np.ones(K))
    if zeros and K > 1:
        n_zero = int(rng.integers(0, K))
        w = np.array(w, copy=True)
        w[rng.choice(K, size=n_zero, replace=False)] = 0
    if exact:
        ints = w.tolist()
        total = sum(ints)
        out = np.empty(K, dtype=object)
        out[:] = [Fraction(v, total) for v in ints]
        return out
    return w / w.sum()


def check_K(K: int, minimum: int = 1) -> None:
    """Raise :class:`~theory.errors.InvalidParameterError` unless ``K`` is an integer >= minimum."""
    if isinstance(K, bool | np.bool_) or not isinstance(K, int | np.integer) or K < minimum:
        raise InvalidParameterError(f"K = {K!r}, expected an integer >= {minimum}")


def check_rng(rng: Any) -> None:
    """Raise :class:`~theory.errors.InvalidParameterError` unless ``rng`` is a numpy Generator."""
    if not isinstance(rng, np.random.Generator):
        raise InvalidParameterError(
            f"rng is {rng!r}, expected a numpy.random.Generator (numpy.random.default_rng(seed))"
        )


def random_model(
    rng: np.random.Generator,
    M: int,
    K: int,
    *,
    zeros: bool = False,
    exact: bool = False,
    denominator: int = 12,
) -> np.ndarray:
    """A random ``(M, K)`` model: one :func:`random_distribution` per prompt."""
    check_K(M)
    check_rng(rng)
    return np.stack(
        [
            random_distribution(rng, K, zeros=zeros, exact=exact, denominator=denominator)
            for _ in range(M)
        ]
    )
