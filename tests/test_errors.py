"""Every named error is a TheoryError (hence a ValueError), exported from ``theory.errors``; the
base class is also at the top level."""

import inspect

import pytest

import theory
from theory import errors

ERRORS = [
    obj
    for name, obj in vars(errors).items()
    if inspect.isclass(obj) and issubclass(obj, Exception) and name in errors.__all__
]


@pytest.mark.parametrize("error", ERRORS, ids=[e.__name__ for e in ERRORS])
def test_error_is_a_theory_error_and_exported(error):
    assert issubclass(error, theory.TheoryError)
    assert issubclass(error, ValueError)
    assert error.__name__ in errors.__all__ and getattr(theory.errors, error.__name__) is error


def test_the_base_class_is_top_level():
    assert theory.TheoryError is errors.TheoryError and "TheoryError" in theory.__all__


def test_catching_the_base_class_catches_boundary_errors():
    with pytest.raises(theory.TheoryError):
        theory.win_rate([[0.5, 0.7], [0.4, 0.5]], [1.0, 0.0], [0.0, 1.0])
