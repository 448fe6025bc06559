from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given

from theory.errors import InvalidParameterError, NotIncreasingError
from theory.hfuncs import apply_h, as_h, piecewise_linear_h, random_increasing_h, register_h, step_h
from theory.strategies import increasing_h


def test_logit_and_log_are_signed_infinities_at_the_ends():
    with np.errstate(all="raise"):  # no warnings either
        np.testing.assert_array_equal(apply_h("logit", [0.0, 0.5, 1.0]), [-np.inf, 0.0, np.inf])
        assert apply_h("log", [0.0])[0] == -np.inf


def test_identity_is_exact_on_fractions():
    assert apply_h("identity", [Fraction(1, 3)]).tolist() == [Fraction(1, 3)]


def test_logit_of_fractions_is_float():
    out = apply_h("logit", [Fraction(1, 4)])
    assert out.dtype == np.float64 and out[0] == pytest.approx(np.log(1 / 3))


@pytest.mark.parametrize(
    "bad",
    [lambda p: -p, lambda p: np.zeros_like(p), lambda p: np.minimum(p, 0.5), lambda p: p * np.nan],
)
def test_not_increasing_h_is_rejected(bad):
    with pytest.raises(NotIncreasingError):
        as_h(bad)


def test_unknown_name_and_duplicate_registration():
    with pytest.raises(InvalidParameterError, match="unknown h"):
        as_h("tanh")
    with pytest.raises(InvalidParameterError, match="already registered"):
        register_h("identity", lambda p: p)


def test_scalar_only_callables_are_accepted():
    import math

    h = as_h(lambda p: p + math.sqrt(p))
    assert apply_h(h, [0.25])[0] == pytest.approx(0.75)


@given(increasing_h())
def test_random_increasing_h_passes_the_probe(h):
    hf = as_h(h)
    v = apply_h(hf, np.linspace(0, 1, 11))
    assert not np.any(np.isnan(v)) and np.all(np.diff(v) > 0)


def test_piecewise_linear_h_exact_and_float_agree():
    h = piecewise_linear_h([0, Fraction(1, 3), 1], [Fraction(-1), Fraction(0), Fraction(2)])
    assert h.fn(Fraction(2, 3)) == Fraction(1)
    assert float(h.fn(np.array([2 / 3]))[0]) == pytest.approx(1.0)


def test_step_h():
    assert (
        step_h(Fraction(1, 3)) == 0
        and step_h(Fraction(1, 2)) == Fraction(1, 2)
        and step_h(Fraction(3, 4)) == 1
    )
    assert step_h(np.array([0.2, 0.5, 0.9])).tolist() == [0.0, 0.5, 1.0]


@pytest.mark.parametrize("kind", ["piecewise", "smooth", "unbounded"])
def test_random_increasing_h_is_strictly_increasing(kind):
    rng = np.random.default_rng(7)
    for _ in range(5):
        h = random_increasing_h(rng, kind)
        as_h(h)  # probes strict increase on a grid; raises NotIncreasingError otherwise
        assert h.rational == (kind == "piecewise")


def test_constructor_errors():
    with pytest.raises(InvalidParameterError):
        piecewise_linear_h([0, Fraction(1, 2)], [0, 1])
    with pytest.raises(InvalidParameterError):
        piecewise_linear_h([0, Fraction(1, 2), 1], [0, 1, 1])
    with pytest.raises(InvalidParameterError):
        random_increasing_h(np.random.default_rng(0), "nope")
