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


# --- symbolic entries (docs/proofs.md: the proofs call the library on sympy symbols) ---------

_p = sympy.Symbol("p", positive=True)
_m = sympy.Symbol("m", positive=True)


def test_symbolic_entries_stay_as_they_are_in_an_exact_array():
    from theory.numbers import is_symbolic, scalar

    a = as_array([_m, 1 - _m, Fraction(1, 2), sympy.Rational(1, 3)])
    assert is_exact(a)
    assert a.tolist() == [_m, 1 - _m, Fraction(1, 2), Fraction(1, 3)]
    assert is_symbolic(a[1]) and not is_symbolic(a[2])
    assert scalar(np.array(_m * _p, dtype=object), True) == _m * _p
    assert scalar(sympy.Rational(2, 3), True) == Fraction(2, 3)


def test_a_float_beside_a_symbol_is_not_a_number():
    from theory.errors import NotANumberError

    with pytest.raises(NotANumberError, match="p"):
        as_array([0.5, _p], name="P")


def test_symbolic_validation_fails_only_where_sympy_settles_it():
    from theory.errors import NotAPreferenceMatrixError, NotAProbabilityVectorError
    from theory.preferences import validate_preference_matrix
    from theory.simplex import validate_distribution

    half = Fraction(1, 2)
    assert validate_preference_matrix([[half, _p], [1 - _p, half]]).shape == (2, 2)
    # a rational-function sum that is 1 after cancelling
    s = _p / (_p + _m)
    assert validate_preference_matrix([[half, s], [_m / (_p + _m), half]]).shape == (2, 2)
    assert validate_distribution([_m, 1 - _m]).tolist() == [_m, 1 - _m]
    # x (x + 1) - x^2 sums to 1 only after expansion
    assert validate_distribution([_m * (_m + 1) - _m**2, 1 - _m]).shape == (2,)
    with pytest.raises(NotAProbabilityVectorError, match="negative"):
        validate_distribution([-_m, 1 + _m])  # -m < 0 is settled: m is positive
    with pytest.raises(NotAProbabilityVectorError, match="sums to"):
        validate_distribution([_m, 1 - 2 * _m])
    with pytest.raises(NotAPreferenceMatrixError, match="outside"):
        validate_preference_matrix([[half, 1 + _p], [-_p, half]])
    with pytest.raises(NotAPreferenceMatrixError, match="expected 1"):
        validate_preference_matrix([[half, _p], [_p, half]])


def test_numbers_keep_their_paths_beside_the_symbolic_helpers():
    from theory.numbers import differs, truth_mask

    a = np.array([Fraction(-1), Fraction(1, 2), _p, 1 - _p], dtype=object)
    assert truth_mask(a, lambda v: v < 0).tolist() == [True, False, False, False]
    assert truth_mask(a, lambda v: v < 0, undecided=True).tolist() == [True, False, False, True]
    assert differs(Fraction(1, 2), 1) and not differs(Fraction(1), 1)
    assert not differs(_p + (1 - _p), 1) and differs(_p, 1)
