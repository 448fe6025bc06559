"""A rational user h applied to exact probabilities is probed in floats too (issue 10).

Its exact path may be fine while its float path (what float inputs and the probe grid use)
raises, returns NaN or complex values, or is another function: each is a named error, at the
point where it shows, even off the probe grid.
"""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.errors import InvalidParameterError, NotANumberError, NotIncreasingError
from theory.hfuncs import HFunction, apply_h


def _rational(float_path):
    """An h that is the identity on Fractions and ``float_path`` on floats."""

    def fn(p):
        return p if isinstance(p, F) else float_path(np.asarray(p, dtype=float))

    return fn


def _near(p, centre):
    return np.abs(p - centre) < 1e-7


FLOAT_FAILURES = {
    "NaN": (lambda c: lambda p: np.where(_near(p, c), np.nan, p), NotIncreasingError),
    "complex": (lambda c: lambda p: p + 1j * _near(p, c), NotANumberError),
    "raises": (lambda c: lambda p: p / (1 - np.any(_near(p, c))), InvalidParameterError),
    "another function": (lambda c: lambda p: p + 0.01 * _near(p, c), InvalidParameterError),
}


@pytest.mark.parametrize("kind", list(FLOAT_FAILURES))
@given(num=st.integers(1, 9999))
def test_float_path_failures_off_the_grid_are_named(kind, num):
    p = F(num, 10007)  # never a probe-grid point
    make, error = FLOAT_FAILURES[kind]
    h = HFunction(f"rational {kind}", _rational(make(float(p))), rational=True)
    with pytest.raises(error, match="h 'rational"):
        apply_h(h, [p, F(1, 2)])


@given(num=st.integers(0, 10007))
def test_a_consistent_rational_h_stays_exact_and_an_inconsistent_one_is_refused(num):
    p = F(num, 10007)
    consistent = HFunction("consistent", lambda q: 2 * q + 1, rational=True)
    assert apply_h(consistent, [p]).tolist() == [2 * p + 1]
    two_faced = HFunction("two-faced", _rational(lambda q: 2 * q + 1), rational=True)
    # caught as a dip against the float probe grid, or as the two paths disagreeing
    with pytest.raises((InvalidParameterError, NotIncreasingError), match="two-faced"):
        apply_h(two_faced, [p])
