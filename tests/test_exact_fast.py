"""The fast exact path (integers over a common denominator, python-flint) against the reference
path (numpy on Fraction object arrays): identical Fractions, identical errors, symbols untouched.

The reference path is selected with :func:`theory.numbers.reference_exact`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from theory import mixture, response_win_rates, to_float, win_rate, win_rate_covariance
from theory._exact import Read, read
from theory.errors import NotAPreferenceMatrixError, NotAProbabilityVectorError, TheoryError
from theory.methods.sft import (
    sft_target,
    sft_variance_term,
    sft_win_rate,
    sft_win_rate_formula,
)
from theory.numbers import fast_exact_enabled, reference_exact
from theory.preferences import validate_preference_matrix
from theory.simplex import validate_model
from theory.strategies import models, preference_data, preference_matrices, simplex_vectors


def outcome(fn: Any, *args: Any) -> Any:
    """``fn(*args)``, or the type and message of the named error it raises."""
    try:
        return fn(*args)
    except TheoryError as exc:
        return type(exc), str(exc)


def both(fn: Any, *args: Any) -> tuple[Any, Any]:
    """The :func:`outcome` of ``fn(*args)`` on the fast path and on the reference path."""
    fast = outcome(fn, *args)
    with reference_exact():
        assert not fast_exact_enabled()
        ref = outcome(fn, *args)
    return fast, ref


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types (Fraction scalars, or object arrays of Fractions)."""
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and all(
                type(x) is type(y) and x == y for x, y in zip(a.ravel(), b.ravel(), strict=True)
            )
        )
    return type(a) is type(b) and a == b  # values, or (error type, message) pairs


@st.composite
def instances(draw: st.DrawFn, stack: bool) -> tuple[Any, ...]:
    """``(P, pi, q, rho)``: one prompt (``rho`` None) or a stack of 1..3 prompts."""
    K = draw(st.integers(1, 6))
    if not stack:
        P = draw(preference_matrices(K, exact=True))
        pi = draw(simplex_vectors(K, zeros=True, exact=True))
        q = draw(simplex_vectors(K, zeros=draw(st.booleans()), exact=True))
        return P, pi, q, None
    M = draw(st.integers(1, 3))
    P = np.stack([draw(preference_matrices(K, exact=True)) for _ in range(M)])
    pi = draw(models(M, K, zeros=True, exact=True))
    q = draw(models(M, K, zeros=draw(st.booleans()), exact=True))
    rho = draw(st.one_of(st.none(), simplex_vectors(M, exact=True)))
    return P, pi, q, rho


@given(st.booleans().flatmap(instances))
def test_win_rates_identical(inst: tuple[Any, ...]) -> None:
    P, pi, q, rho = inst
    assert same(*both(win_rate, P, pi, q, rho))
    assert same(*both(win_rate, P, q, pi, rho))
    assert same(*both(response_win_rates, P, q))
    assert same(*both(win_rate_covariance, P, pi, q, rho))  # or the same SupportMismatchError
    # the fast value also equals the float path's
    floats = win_rate(to_float(P), to_float(pi), to_float(q), rho)
    assert abs(float(win_rate(P, pi, q, rho)) - floats) < 1e-12


@given(
    st.integers(1, 6).flatmap(
        lambda K: st.tuples(models(2, K, zeros=True, exact=True), st.integers(0, 12))
    )
)
def test_mixture_identical(case: tuple[np.ndarray, int]) -> None:
    (p, q), k = case
    t = Fraction(k, 12)
    assert same(*both(mixture, p, q, t))
    assert same(*both(mixture, p[None], q[None], t))


@given(preference_data(exact=True))
def test_sft_identical(data: Any) -> None:
    for side in ("preferred", "dispreferred"):
        assert same(*both(sft_target, data, side))
        assert same(*both(sft_win_rate, data, side))
        assert same(*both(sft_win_rate_formula, data, side))
    assert same(*both(sft_variance_term, data.P[0], data.mu0[0]))


def test_invalid_input_raises_the_reference_error() -> None:
    h = Fraction(1, 2)
    bad_P = np.array([[h, Fraction(2, 3)], [Fraction(1, 2), h]], dtype=object)
    bad_pi = np.array([Fraction(1, 2), Fraction(1, 3)], dtype=object)
    good_P = np.array([[h, Fraction(2, 3)], [Fraction(1, 3), h]], dtype=object)
    good_q = np.array([h, h], dtype=object)
    cases = [
        (NotAPreferenceMatrixError, win_rate, (bad_P, good_q, good_q)),
        (NotAProbabilityVectorError, win_rate, (good_P, bad_pi, good_q)),
        (NotAProbabilityVectorError, mixture, (bad_pi, good_q, h)),
        (NotAPreferenceMatrixError, validate_preference_matrix, (bad_P,)),
        (NotAProbabilityVectorError, validate_model, (bad_pi,)),
    ]
    for error, fn, args in cases:
        fast, ref = both(fn, *args)
        assert fast[0] is error and fast == ref


def test_a_changed_entry_is_read_again() -> None:
    """Reads are cached by the identity of their (immutable) entries: changing an entry of the
    array makes a new read, so a matrix made invalid after a first call is caught."""
    h = Fraction(1, 2)
    P = np.array([[h, Fraction(2, 3)], [Fraction(1, 3), h]], dtype=object)
    q = np.array([h, h], dtype=object)
    assert win_rate(P, q, q) == h
    first = read(P)
    assert isinstance(first, Read) and read(P) is first
    P[0, 1] = Fraction(3, 4)
    assert read(P) is not first
    with pytest.raises(NotAPreferenceMatrixError, match=r"P\[0, 1\] \+ P\[1, 0\] = 13/12"):
        win_rate(P, q, q)


def test_symbols_take_the_reference_path() -> None:
    p = sympy.Symbol("p", positive=True)
    h = sympy.Rational(1, 2)
    P = np.array([[h, p], [1 - p, h]], dtype=object)
    mu = np.array([h, h], dtype=object)
    assert sympy.simplify(win_rate(P, mu, mu) - h) == 0
    assert read(P) is None


def test_large_numbers_stay_exact() -> None:
    """Denominators beyond int64 use Python ints: still exact, same as the reference path."""
    big = 10**30 + 7
    a = Fraction(1, big)
    P = np.array([[Fraction(1, 2), a], [1 - a, Fraction(1, 2)]], dtype=object)
    pi = np.array([a, 1 - a], dtype=object)
    q = np.array([Fraction(1, 3), Fraction(2, 3)], dtype=object)
    assert same(*both(win_rate, P, pi, q))
    assert same(*both(win_rate_covariance, P, pi, q))
    assert same(*both(mixture, pi, q, Fraction(1, 7)))


def test_reference_exact_nests_and_restores() -> None:
    start = fast_exact_enabled()  # True unless THEORY_REFERENCE_EXACT=1 is set
    with reference_exact():
        with reference_exact(enabled=False):
            assert not fast_exact_enabled()
        assert not fast_exact_enabled()
    assert fast_exact_enabled() == start
