from fractions import Fraction

import numpy as np
import pytest
import sympy

from theory import to_exact, to_float
from theory.errors import NonFiniteInputError, ShapeMismatchError
from theory.numbers import as_array, common_kind, format_number, is_exact


def test_ints_fractions_and_sympy_rationals_are_exact():
    a = as_array([1, Fraction(1, 2), sympy.Rational(2, 3)])
    assert is_exact(a)
    assert a.tolist() == [Fraction(1), Fraction(1, 2), Fraction(2, 3)]
    assert is_exact(as_array(np.array([1, 0])))


def test_any_float_makes_a_float_array():
    a = as_array([Fraction(1, 2), 0.5])
    assert a.dtype == np.float64
    assert a.tolist() == [0.5, 0.5]


def test_nan_and_infinity_are_named_errors():
    with pytest.raises(NonFiniteInputError, match=r"P\[1\] is nan"):
        as_array([0.5, float("nan")], name="P")
    with pytest.raises(NonFiniteInputError, match="inf"):
        as_array(np.array([[0.0, np.inf]]))


def test_ragged_input_is_a_shape_error():
    with pytest.raises(ShapeMismatchError, match="ragged"):
        as_array([[1, 2], [3]])


def test_input_is_not_modified():
    x = np.array([0.25, 0.75])
    y = as_array(x)
    y[0] = 9.0
    assert x[0] == 0.25


def test_exact_float_round_trip_and_common_kind():
    a = to_exact([0.1], max_denominator=1000)
    assert a[0] == Fraction(1, 10)
    assert to_float(a)[0] == 0.1
    assert to_exact([0.1])[0] == Fraction(0.1)  # the exact binary value
    e, f = common_kind(as_array([1]), as_array([0.5]))
    assert e.dtype == np.float64 and f.dtype == np.float64


def test_format_number():
    assert format_number(Fraction(3, 4)) == "3/4"
    assert format_number(Fraction(2)) == "2"
    assert format_number(as_array([Fraction(1, 3), 1])) == ["1/3", "1"]


def test_a_non_number_is_a_named_error():
    from theory.errors import NotANumberError

    with pytest.raises(NotANumberError, match="'a'"):
        as_array([0.5, "a"], name="pi")
