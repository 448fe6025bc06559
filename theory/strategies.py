"""Hypothesis strategies that build valid objects by construction, for property tests.

Public so that users can test their own conjectures against the library's objects::

    from fractions import Fraction

    from hypothesis import given
    from theory import win_rate
    from theory.strategies import preference_matrices, simplex_vectors

    @given(preference_matrices(3, exact=True), simplex_vectors(3, exact=True))
    def test_self_win_rate(P, pi):
        assert win_rate(P, pi, pi) == Fraction(1, 2)

Every strategy except :func:`increasing_h` takes ``exact``: ``True`` builds Fraction object arrays
(small denominators), ``False`` float64 arrays.  Hypothesis is a test dependency; this module
imports it.  A how-to: docs/howto/property_tests.md.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from .data import PreferenceData
from .errors import InvalidParameterError
from .preferences import (
    FAMILIES,
    bradley_terry_from_strengths,
    bradley_terry_matrix,
    cyclic,
    total_order,
)

__all__ = [
    "simplex_vectors",
    "fraction_simplex_vectors",
    "preference_matrices",
    "models",
    "preference_data",
    "increasing_h",
]

#: Largest integer weight behind an exact probability (keeps denominators small).
MAX_WEIGHT = 12


@st.composite
def simplex_vectors(
    draw: st.DrawFn, K: int, *, zeros: bool = False, exact: bool = False
) -> np.ndarray:
    """A probability vector over ``K`` responses.

    ``zeros=True`` allows zero entries (the support is never empty).  Exact vectors are integer
    weights in ``0..12`` normalised; float vectors normalise positive floats in ``[1e-3, 1]``
    (or ``0`` when zeros are allowed).
    """
    if exact:
        low = 0 if zeros else 1
        ints = draw(st.lists(st.integers(low, MAX_WEIGHT), min_size=K, max_size=K))
        if sum(ints) == 0:
            ints[draw(st.integers(0, K - 1))] = 1
        total = sum(ints)
        return np.array([Fraction(v, total) for v in ints], dtype=object)
    element = st.floats(1e-3, 1.0)
    if zeros:
        element = st.one_of(st.just(0.0), element)
    w = np.array(draw(st.lists(element, min_size=K, max_size=K)))
    if w.sum() == 0:
        w[draw(st.integers(0, K - 1))] = 1.0
    return w / w.sum()


def fraction_simplex_vectors(K: int, *, zeros: bool = False) -> st.SearchStrategy[np.ndarray]:
    """Exact (Fraction) probability vectors: ``simplex_vectors(K, zeros=zeros, exact=True)``."""
    return simplex_vectors(K, zeros=zeros, exact=True)


@st.composite
def preference_matrices(
    draw: st.DrawFn, K: int, *, family: str | None = None, exact: bool = False
) -> np.ndarray:
    """A ``(K, K)`` preference matrix from ``family`` (one of
    :data:`~theory.preferences.FAMILIES`; drawn when None).

    Exact: Bradley-Terry from integer strengths, total orders and cyclic tournaments under a
    random relabelling, general matrices with entries ``k/12``.  Float: Bradley-Terry from rewards
    in ``[-4, 4]``, general matrices with entries in ``[0, 1]``.
    """
    fam = family if family is not None else draw(st.sampled_from(FAMILIES))
    if fam not in FAMILIES:
        raise InvalidParameterError(f"unknown family {fam!r}, expected one of {FAMILIES}")
    if fam == "bradley_terry":
        if exact:
            s = draw(st.lists(st.integers(1, 10), min_size=K, max_size=K))
            return bradley_terry_from_strengths(s)
        r = draw(st.lists(st.floats(-4.0, 4.0), min_size=K, max_size=K))
        return bradley_terry_matrix(r)
    if fam in ("total_order", "cyclic"):
        perm = draw(st.permutations(range(K)))
        if fam == "total_order" or K < 3:
            return total_order(K, perm, exact=exact)
        return cyclic(K, exact=exact)[np.ix_(perm, perm)]
    # general
    n_pairs = K * (K - 1) // 2
    upper: list[Fraction] | list[float]
    if exact:
        ks = draw(st.lists(st.integers(0, MAX_WEIGHT), min_size=n_pairs, max_size=n_pairs))
        upper = [Fraction(k, MAX_WEIGHT) for k in ks]
        P = np.full((K, K), Fraction(1, 2), dtype=object)
    else:
        upper = draw(st.lists(st.floats(0.0, 1.0), min_size=n_pairs, max_size=n_pairs))
        P = np.full((K, K), 0.5)
    rows, cols = np.triu_indices(K, 1)
    P[rows, cols] = upper
    P[cols, rows] = 1 - P[rows, cols]
    return P


@st.composite
def models(
    draw: st.DrawFn, M: int, K: int, *, zeros: bool = False, exact: bool = False
) -> np.ndarray:
    """An ``(M, K)`` model: one :func:`simplex_vectors` per prompt."""
    return np.stack([draw(simplex_vectors(K, zeros=zeros, exact=exact)) for _ in range(M)])


@st.composite
def preference_data(
    draw: st.DrawFn,
    M: int | None = None,
    K: int | None = None,
    *,
    exact: bool = False,
    symmetric: bool | None = None,
    zeros: bool = False,
    family: str | None = None,
) -> PreferenceData:
    """A full data distribution ``(rho, mu0, mu1, P)``.

    ``M`` (default 1..3) and ``K`` (default 2..5) are drawn when None; ``symmetric=None`` draws
    whether ``mu1 = mu0``.
    """
    M = M if M is not None else draw(st.integers(1, 3))
    K = K if K is not None else draw(st.integers(2, 5))
    sym = symmetric if symmetric is not None else draw(st.booleans())
    P = np.stack([draw(preference_matrices(K, family=family, exact=exact)) for _ in range(M)])
    mu0 = draw(models(M, K, zeros=zeros, exact=exact))
    mu1 = None if sym else draw(models(M, K, zeros=zeros, exact=exact))
    rho = draw(simplex_vectors(M, exact=exact))
    return PreferenceData(P=P, mu0=mu0, mu1=mu1, rho=rho)


@st.composite
def increasing_h(draw: st.DrawFn) -> object:
    """A random strictly increasing ``h`` on ``[0, 1]``: a positive combination of ``p``,
    ``p^a`` (``a > 0``), and ``logit``-like or ``log`` terms, plus a constant.

    Returns a plain vectorised callable (pass it to :func:`~theory.hfuncs.as_h`).  It takes no
    ``exact`` flag (it always evaluates in floats).  Beware: about two draws in three are
    unbounded (``h(0) = -inf``, and with ``logit`` also ``h(1) = +inf``), and then an h-win rate
    on a matrix with sure wins and losses (a total order, a cycle) can add ``+inf`` and ``-inf``
    with positive mass and raise :class:`~theory.errors.UndefinedWinRateError`; use a family
    without entries 0 and 1 (``bradley_terry``) or ``hypothesis.assume`` on the case you need.
    """
    c0 = draw(st.floats(-2.0, 2.0))
    c1 = draw(st.floats(0.1, 3.0))
    a = draw(st.floats(0.2, 4.0))
    c2 = draw(st.floats(0.0, 2.0))
    unbounded = draw(st.sampled_from(["none", "logit", "log"]))
    c3 = draw(st.floats(0.1, 1.0))

    def h(p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        with np.errstate(divide="ignore"):
            out = c0 + c1 * p + c2 * np.power(p, a)
            if unbounded == "logit":
                out = out + c3 * (np.log(p) - np.log1p(-p))
            elif unbounded == "log":
                out = out + c3 * np.log(p)
        return out

    h.__name__ = f"h({c0:.2f}+{c1:.2f}p+{c2:.2f}p^{a:.2f}+{unbounded})"
    return h
