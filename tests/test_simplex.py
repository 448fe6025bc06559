from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory import mixture, point_mass, random_distribution, uniform
from theory.errors import InvalidParameterError, NotAProbabilityVectorError, ShapeMismatchError
from theory.simplex import kl_divergence, validate_distribution, validate_model
from theory.strategies import simplex_vectors


def test_sum_error_names_the_row_and_the_sum():
    with pytest.raises(NotAProbabilityVectorError, match=r"pi row 2 sums to 7/6, expected 1"):
        validate_model(
            [[1, 0], [0, 1], [Fraction(1, 2), Fraction(2, 3)]],
        )
    with pytest.raises(NotAProbabilityVectorError, match=r"p sums to 0.9"):
        validate_distribution([0.4, 0.5])


def test_negative_entry_is_named():
    with pytest.raises(NotAProbabilityVectorError, match=r"mu\[1\] = -1/2 is negative"):
        validate_distribution([Fraction(3, 2), Fraction(-1, 2)], name="mu")


def test_shapes():
    with pytest.raises(ShapeMismatchError):
        validate_distribution([[0.5, 0.5]])
    with pytest.raises(ShapeMismatchError, match="expected K = 3"):
        validate_model([[0.5, 0.5]], K=3)
    with pytest.raises(ShapeMismatchError):
        validate_distribution([])


def test_constructors_are_exact_distributions():
    assert uniform(3).tolist() == [Fraction(1, 3)] * 3
    assert point_mass(3, 2).tolist() == [0, 0, 1]
    assert validate_distribution(uniform(5, exact=False)).dtype == np.float64
    with pytest.raises(InvalidParameterError):
        point_mass(3, 3)
    with pytest.raises(InvalidParameterError):
        uniform(0)


@given(simplex_vectors(4, zeros=True, exact=True), simplex_vectors(4, exact=True))
def test_mixture_is_a_distribution_and_exact(p, q):
    m = mixture(p, q, Fraction(1, 3))
    assert sum(m) == 1
    assert m.tolist() == [
        Fraction(1, 3) * a + Fraction(2, 3) * b for a, b in zip(p, q, strict=True)
    ]


def test_mixture_weight_out_of_range():
    with pytest.raises(InvalidParameterError, match="t = 3/2"):
        mixture([1, 0], [0, 1], Fraction(3, 2))


@given(simplex_vectors(5, zeros=True), simplex_vectors(5))
def test_kl_is_nonnegative_and_zero_on_itself(p, q):
    assert kl_divergence(p, q) >= -1e-12
    assert abs(kl_divergence(p, p)) < 1e-12


def test_kl_infinite_without_support():
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == float("inf")
    assert kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(np.log(2))


@given(st.integers(1, 9), st.booleans(), st.booleans(), st.integers(0, 2**32 - 1))
def test_random_distribution_is_valid(K, zeros, exact, seed):
    p = random_distribution(np.random.default_rng(seed), K, zeros=zeros, exact=exact)
    validate_distribution(p)
    assert (sum(p) == 1) if exact else abs(p.sum() - 1) < 1e-12
