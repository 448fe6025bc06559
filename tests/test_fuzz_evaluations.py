"""Fuzzing the evaluation side (issue 10, parts 2 and 3): every public function of
``theory.hfuncs``, ``winrate``, ``simplex``, ``numbers``, ``preferences``, ``evaluations``,
``catalog`` and ``axioms`` returns the right answer or raises a named
:class:`~theory.errors.TheoryError` saying what is wrong; never a raw Python/numpy error, never a
quiet NaN.

Families: wrong types (None, strings, complex numbers, generators, dicts); non-finite values;
empty and mismatched shapes; user callables (h, evaluations) that raise, return the wrong shape,
return complex or non-numbers, or are not monotone between the probe points; extreme parameters
(strengths and odds near 0 or infinity).
"""

from __future__ import annotations

import math
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.special import expit

from theory import axioms
from theory import catalog as catalog_module
from theory.catalog import CATALOG
from theory.data import PreferenceData
from theory.errors import (
    InvalidParameterError,
    NonFiniteInputError,
    NotANumberError,
    NotIncreasingError,
    ShapeMismatchError,
    TheoryError,
    UndefinedEvaluationError,
)
from theory.evaluations import WIN_RATE, Evaluation, evaluate, h_win_rate_evaluation
from theory.hfuncs import (
    HFunction,
    apply_h,
    as_h,
    piecewise_linear_h,
    random_increasing_h,
    register_h,
    step_h,
)
from theory.numbers import as_array, common_kind, is_exact, scalar, to_exact, to_float
from theory.preferences import (
    bradley_terry_from_strengths,
    bradley_terry_matrix,
    bradley_terry_rewards,
    condorcet_winner,
    cyclic,
    is_bradley_terry,
    is_transitive,
    random_bradley_terry,
    random_family_matrix,
    random_preference_matrix,
    total_order,
    validate_preference_matrix,
    validate_preference_stack,
)
from theory.simplex import (
    kl_divergence,
    mixture,
    point_mass,
    random_distribution,
    random_model,
    uniform,
    validate_distribution,
    validate_model,
)
from theory.strategies import preference_data, preference_matrices, simplex_vectors
from theory.winrate import (
    data_win_rate,
    h_win_rate,
    response_win_rates,
    win_rate,
    win_rate_batch,
    win_rate_covariance,
)

P3 = total_order(3)
U3 = [F(1, 3)] * 3
D3 = PreferenceData(P=P3, mu0=U3)
RNG = np.random.default_rng(0)


def _gen():
    return (v for v in [F(1, 2), F(1, 2)])


#: Values that are not numbers (or not arrays of numbers) at all.
BAD_VALUES = {
    "None": lambda: None,
    "string": lambda: "abc",
    "complex": lambda: [0.5 + 1j, 0.5],
    "generator": _gen,
    "dict": lambda: {0: 1},
    "ragged": lambda: [[0.5, 0.5], [1.0]],
}

#: Every public function of the modules, called with one argument replaced by ``bad``.
CALLS = {
    "as_array": lambda bad: as_array(bad),
    "to_float": lambda bad: to_float(as_array(bad)),
    "to_exact": lambda bad: to_exact(bad),
    "is_exact": lambda bad: is_exact(bad),
    "common_kind": lambda bad: common_kind(bad),
    "validate_distribution": lambda bad: validate_distribution(bad),
    "validate_model": lambda bad: validate_model(bad),
    "mixture": lambda bad: mixture([1, 0], [0, 1], bad),
    "kl_divergence": lambda bad: kl_divergence(bad, [F(1, 2)] * 2),
    "uniform": lambda bad: uniform(bad),
    "point_mass": lambda bad: point_mass(3, bad),
    "random_distribution": lambda bad: random_distribution(bad, 3),
    "random_model": lambda bad: random_model(bad, 2, 3),
    "validate_preference_matrix": lambda bad: validate_preference_matrix(bad),
    "validate_preference_stack": lambda bad: validate_preference_stack(bad),
    "bradley_terry_matrix": lambda bad: bradley_terry_matrix(bad),
    "bradley_terry_from_strengths": lambda bad: bradley_terry_from_strengths(bad),
    "bradley_terry_rewards": lambda bad: bradley_terry_rewards(bad),
    "total_order": lambda bad: total_order(3, bad),
    "cyclic": lambda bad: cyclic(3, bad),
    "random_preference_matrix": lambda bad: random_preference_matrix(bad, 3),
    "random_bradley_terry": lambda bad: random_bradley_terry(bad, 3),
    "random_family_matrix": lambda bad: random_family_matrix(bad, 3, "general"),
    "is_bradley_terry": lambda bad: is_bradley_terry(bad),
    "is_transitive": lambda bad: is_transitive(bad),
    "condorcet_winner": lambda bad: condorcet_winner(bad),
    "win_rate": lambda bad: win_rate(P3, bad, U3),
    "h_win_rate": lambda bad: h_win_rate(P3, U3, bad),
    "h_win_rate h": lambda bad: h_win_rate(P3, U3, U3, bad),
    "response_win_rates": lambda bad: response_win_rates(bad, U3),
    "win_rate_covariance": lambda bad: win_rate_covariance(P3, U3, bad),
    "data_win_rate": lambda bad: data_win_rate(D3, bad),
    "data_win_rate data": lambda bad: data_win_rate(bad, U3),
    "win_rate_batch": lambda bad: win_rate_batch(bad, [[1.0, 0.0]], [[1.0, 0.0]]),
    "win_rate_batch pi": lambda bad: win_rate_batch(np.full((1, 2, 2), 0.5), bad, bad),
    "as_h": lambda bad: as_h(bad),
    "apply_h": lambda bad: apply_h("identity", bad),
    "piecewise_linear_h": lambda bad: piecewise_linear_h([0, 1], bad),
    "step_h": lambda bad: step_h(bad),
    "random_increasing_h": lambda bad: random_increasing_h(bad),
    "register_h": lambda bad: register_h(bad, "not callable"),  # type: ignore[arg-type]
    "h_win_rate_evaluation": lambda bad: h_win_rate_evaluation(bad),
    "evaluate pi": lambda bad: evaluate(WIN_RATE, D3, bad),
    "evaluate data": lambda bad: evaluate(WIN_RATE, bad, U3),
    "evaluate evaluation": lambda bad: evaluate(bad, D3, U3),
    "catalog member": lambda bad: CATALOG["Borda score"](D3, bad),
    "axioms.trial": lambda bad: axioms.trial(WIN_RATE, "model-mixture", bad, 1, 2, 2),
    "axioms.trial size": lambda bad: axioms.trial(WIN_RATE, "model-mixture", RNG, 1, bad, 2),
    "axioms.find_violation": lambda bad: axioms.find_violation(bad, "model-mixture", RNG),
    "axioms.check_axioms": lambda bad: axioms.check_axioms(WIN_RATE, RNG, trials=bad),
    "axioms.smallest_counterexample": lambda bad: axioms.smallest_counterexample(WIN_RATE, bad),
    "axioms.probe_pair": lambda bad: axioms.probe_pair(WIN_RATE, bad),
    "axioms.recover_h": lambda bad: axioms.recover_h(WIN_RATE, bad),
    "axioms.reconstruct_h_win_rate": lambda bad: axioms.reconstruct_h_win_rate(WIN_RATE, D3, bad),
    "axioms.case_values": lambda bad: axioms.case_values(WIN_RATE, bad),
    "axioms.holds_on": lambda bad: axioms.holds_on(bad, bad),
}

#: Calls that accept some of the bad values as valid input (the answer is then checked).
ACCEPTED = {
    ("total_order", "None"),  # ranking=None: the default order
    ("axioms.recover_h", "None"),  # grid=None: the default grid
}


@pytest.mark.parametrize("bad", list(BAD_VALUES))
@pytest.mark.parametrize("call", list(CALLS))
def test_wrong_types_raise_a_named_error(call, bad):
    value = BAD_VALUES[bad]()
    try:
        CALLS[call](value)
    except TheoryError:
        return
    # reaching here: the call accepted the value; only a few legitimately can
    assert (call, bad) in ACCEPTED or (call == "h_win_rate h" and bad == "complex"), (call, bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_refused(bad):
    for call in (
        lambda: win_rate(P3, [bad, 0, 1 - bad], U3),
        lambda: win_rate_batch(np.full((1, 2, 2), bad), [[1.0, 0.0]], [[1.0, 0.0]]),
        lambda: apply_h("logit", [bad]),
        lambda: step_h(np.array([bad])),
        lambda: piecewise_linear_h([0, 1], [0, bad]),
        lambda: bradley_terry_from_strengths([1.0, bad]),
        lambda: to_exact([bad]),
        lambda: axioms.probe_pair(WIN_RATE, bad),
        lambda: mixture([1, 0], [0, 1], bad),
    ):
        with pytest.raises(TheoryError):
            call()


def test_a_nan_result_is_never_returned_quietly():
    with pytest.raises(UndefinedEvaluationError):
        scalar(math.nan, False)
    nan_eval = Evaluation("nan", "test", lambda d, pi: float("nan"))
    with pytest.raises(UndefinedEvaluationError):
        nan_eval(D3, U3)


@pytest.mark.parametrize(
    "call",
    [
        lambda: validate_model(np.zeros((0, 3))),
        lambda: validate_model([]),
        lambda: validate_distribution([]),
        lambda: win_rate(np.zeros((0, 2, 2)), np.zeros((0, 2)), np.zeros((0, 2))),
        lambda: win_rate(P3, [1, 0], [1, 0]),
        lambda: win_rate(np.stack([P3, P3]), [U3] * 3, [U3] * 2),
        lambda: h_win_rate(P3, [U3], U3, "identity", rho=[1]),
        lambda: win_rate_batch(np.ones((1, 0, 0)), np.ones((1, 0)), np.ones((1, 0))),
        lambda: win_rate_batch(np.full((2, 2, 2), 0.5), np.ones((2, 3)), np.ones((2, 3))),
        lambda: win_rate_batch(
            np.full((1, 2, 2), 0.5), np.ones((1, 3)), np.ones((1, 3)), validate=False
        ),
        lambda: win_rate_batch(np.full((2, 2), 0.5), [[1.0, 0.0]], [[1.0, 0.0]]),
        lambda: bradley_terry_matrix([]),
        lambda: bradley_terry_from_strengths([]),
        lambda: kl_divergence([1, 0], [F(1, 3)] * 3),
        lambda: mixture([1, 0], [F(1, 3)] * 3, F(1, 2)),
        lambda: total_order(3, [0, 1]),
        lambda: piecewise_linear_h([[0, 1]], [[0, 1]]),
        lambda: axioms.recover_h(WIN_RATE, grid=[]),
        lambda: axioms.recover_h(WIN_RATE, grid=[2.0]),
        lambda: axioms.reconstruct_h_win_rate(WIN_RATE, D3, [1, 0]),
        lambda: axioms.find_violation(WIN_RATE, "model-mixture", RNG, sizes=[]),
        lambda: axioms.trial(WIN_RATE, "model-mixture", RNG, 0, 2, 2),
        lambda: axioms.trial(WIN_RATE, "model-mixture", RNG, 1, 1, 2),
        lambda: axioms.trial(WIN_RATE, "model-mixture", RNG, 1, 2, 0),
        lambda: axioms.check_axioms(WIN_RATE, RNG, trials=0),
        lambda: evaluate(WIN_RATE, D3, [[1, 0, 0], [1, 0, 0]]),
    ],
)
def test_empty_and_mismatched_shapes_raise(call):
    with pytest.raises(TheoryError):
        call()


# --------------------------------------------------------------------------------------------
# user callables


def _dip(p):
    """Strictly increasing on the probe grid (spacing 1/1000), but dips between 0 and 1/1000."""
    p = np.asarray(p, dtype=float)
    return p - 0.01 * np.exp(-(((p - 0.0005) / 1e-5) ** 2))


USER_H = {
    "raises": (lambda p: 1 / 0, InvalidParameterError),
    "raises on arrays and scalars": (lambda p: math.log(p), InvalidParameterError),
    "wrong shape": (lambda p: np.array([1.0, 2.0]), ShapeMismatchError),
    "None": (lambda p: None, NotANumberError),
    "string": (lambda p: "a", NotANumberError),
    "complex": (lambda p: np.asarray(p) + 1j, NotANumberError),
    "constant": (lambda p: 3.0, NotIncreasingError),
    "decreasing": (lambda p: -np.asarray(p), NotIncreasingError),
    "NaN": (lambda p: np.asarray(p) * np.nan, NotIncreasingError),
}


@pytest.mark.parametrize("kind", list(USER_H))
def test_user_h_failures_are_named_with_context(kind):
    fn, error = USER_H[kind]
    for call in (
        lambda: as_h(fn),
        lambda: apply_h(fn, [0.25]),
        lambda: h_win_rate(P3, U3, U3, fn),
        lambda: h_win_rate_evaluation(fn)(D3, U3),
    ):
        with pytest.raises(error) as info:
            call()
        assert "h " in str(info.value) and ("p =" in str(info.value) or "h(" in str(info.value))


def test_a_rational_h_that_raises_is_named():
    bad = HFunction("bad", lambda p: F(1, 0) if p == F(1, 3) else p, rational=True)
    with pytest.raises(InvalidParameterError, match="at p = 1/3"):
        apply_h(bad, [F(1, 3)])
    P = np.array([[F(1, 2), F(1, 3)], [F(2, 3), F(1, 2)]], dtype=object)
    with pytest.raises(InvalidParameterError, match="at p = 1/3"):
        h_win_rate_evaluation(bad)(PreferenceData(P=P, mu0=[0, 1]), [1, 0])
    floats = HFunction("floats", lambda p: float(p), rational=True)
    with pytest.raises(InvalidParameterError, match="declared rational"):
        h_win_rate_evaluation(floats)(PreferenceData(P=P, mu0=[0, 1]), [1, 0])


def test_a_complex_h_is_not_silently_truncated():
    """The issue's case: a complex-valued h used to lose its imaginary part."""
    with pytest.raises(NotANumberError, match="complex"):
        h_win_rate(P3, U3, U3, lambda p: np.asarray(p) * (1 + 0.5j))
    # a complex h with zero imaginary part loses nothing: accepted, the right answer
    assert h_win_rate(P3, U3, U3, lambda p: np.asarray(p) + 0j) == pytest.approx(0.5)


def test_an_h_that_dips_between_probe_points_is_caught_where_used():
    as_h(_dip)  # passes the grid probe
    with pytest.raises(NotIncreasingError, match="between probe points"):
        apply_h(_dip, [0.0005])
    P = np.array([[0.5, 0.0005], [0.9995, 0.5]])
    with pytest.raises(NotIncreasingError):
        h_win_rate(P, [1.0, 0.0], [0.0, 1.0], _dip)
    with pytest.raises(NotIncreasingError):
        h_win_rate_evaluation(_dip)(PreferenceData(P=P, mu0=[0.0, 1.0]), [1.0, 0.0])


@given(st.floats(0.0002, 0.0008))
def test_any_dip_location_between_probe_points_is_caught(centre):
    def dip(p):
        p = np.asarray(p, dtype=float)
        return p - 0.01 * np.exp(-(((p - centre) / 1e-6) ** 2))

    with pytest.raises(NotIncreasingError):
        apply_h(dip, [centre])


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30))
def test_random_h_applied_anywhere_never_nan_and_increasing(ps):
    for kind in ("piecewise", "smooth", "unbounded"):
        h = random_increasing_h(np.random.default_rng(len(ps)), kind)
        values = apply_h(h, ps)
        assert not np.any(np.isnan(values))
        v = values[np.argsort(ps)]
        with np.errstate(invalid="ignore"):
            steps = np.where(v[1:] == v[:-1], 0.0, np.diff(v))
        assert np.all(steps >= -1e-12 * (1 + np.abs(np.where(np.isinf(v[:-1]), 0, v[:-1]))))


BAD_EVALUATIONS = {
    "raises": (lambda d, pi: 1 / 0, InvalidParameterError),
    "string": (lambda d, pi: "a", NotANumberError),
    "complex": (lambda d, pi: 1j, NotANumberError),
    "array": (lambda d, pi: np.array([1.0, 2.0]), NotANumberError),
    "None": (lambda d, pi: None, NotANumberError),
    "bool": (lambda d, pi: True, NotANumberError),
    "NaN": (lambda d, pi: float("nan"), UndefinedEvaluationError),
}


@pytest.mark.parametrize("kind", list(BAD_EVALUATIONS))
def test_user_evaluations_that_misbehave_are_named(kind):
    fn, error = BAD_EVALUATIONS[kind]
    with pytest.raises(error, match="evaluation 'user'"):
        Evaluation("user", "test", fn)(D3, U3)


def test_evaluation_values_are_normalised():
    assert Evaluation("int", "t", lambda d, pi: 1)(D3, U3) == F(1)
    assert Evaluation("0-d", "t", lambda d, pi: np.array(0.25))(D3, U3) == 0.25
    with pytest.raises(InvalidParameterError):
        Evaluation("not callable", "t", None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# win_rate_batch: any valid batch agrees with the single form; any bad one is named


@given(st.integers(1, 4), st.integers(0, 5), st.data())
def test_batched_win_rate_agrees_with_win_rate(K, N, data):
    Ps = [data.draw(preference_matrices(K, exact=False)) for _ in range(N)]
    pis = [data.draw(simplex_vectors(K, zeros=True)) for _ in range(N)]
    qs = [data.draw(simplex_vectors(K, zeros=True)) for _ in range(N)]
    P = np.array(Ps).reshape(N, K, K)
    pi, q = np.array(pis).reshape(N, K), np.array(qs).reshape(N, K)
    out = win_rate_batch(P, pi, q)
    assert out.shape == (N,) and not np.any(np.isnan(out))
    for n in range(N):
        assert out[n] == pytest.approx(float(win_rate(P[n], pi[n], q[n])), abs=1e-12)


@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.tuples(st.integers(0, 3), st.integers(0, 3)),
    st.booleans(),
)
def test_batched_win_rate_shape_mismatch_is_named(N, K, pi_shape, validate):
    assume(pi_shape != (N, K))
    P = np.full((N, K, K), 0.5)
    with pytest.raises(ShapeMismatchError):
        win_rate_batch(P, np.zeros(pi_shape), np.full((N, K), 1.0 / K), validate=validate)


def test_batched_win_rate_refuses_complex_even_with_zero_imaginary_part():
    with pytest.raises(NotANumberError):
        win_rate_batch(np.full((1, 2, 2), 0.5 + 0j), [[1.0, 0.0]], [[1.0, 0.0]])
    with pytest.raises(InvalidParameterError):
        win_rate_batch(np.full((1, 2, 2), 0.5), [[1.0, 0.0]], [[1.0, 0.0]], validate="no")


# --------------------------------------------------------------------------------------------
# extreme parameters


@given(
    st.lists(
        st.floats(1e-300, 1e300, allow_nan=False, allow_infinity=False), min_size=2, max_size=5
    )
)
def test_bradley_terry_from_extreme_strengths(s):
    P = bradley_terry_from_strengths(s)
    assert not np.any(np.isnan(P))
    for i in range(len(s)):
        for j in range(len(s)):
            expected = expit(math.log(s[i]) - math.log(s[j]))
            assert P[i, j] == pytest.approx(expected, rel=1e-9, abs=1e-300)


@given(st.integers(1, 800))
def test_bradley_terry_rewards_with_odds_beyond_float_range(k):
    eps = F(1, 10**k)
    P = np.array([[F(1, 2), 1 - eps], [eps, F(1, 2)]], dtype=object)
    r = bradley_terry_rewards(P)
    gap = math.log((1 - eps).numerator * eps.denominator) - math.log(
        (1 - eps).denominator * eps.numerator
    )
    assert np.all(np.isfinite(r))
    assert r[0] - r[1] == pytest.approx(gap, rel=1e-12)


def test_bradley_terry_matrix_with_huge_rewards_is_the_limit():
    P = bradley_terry_matrix([0.0, 1e308, -1e308])
    assert P[1, 0] == 1.0 and P[0, 2] == 1.0 and P[2, 1] == 0.0
    assert np.all(P + P.T == 1.0)


def test_exact_numbers_beyond_float_range_are_named():
    with pytest.raises(NonFiniteInputError, match="float64"):
        as_array([10**400, 0.5])
    with pytest.raises(NonFiniteInputError):
        to_float(as_array([F(10**400)]))


@given(st.booleans(), st.data())
def test_catalog_and_win_rates_never_return_nan(exact, draw):
    """Degenerate supports (zeros in mu0, mu1, pi), exact and float: a value or a named error."""
    data = draw.draw(preference_data(2, 3, exact=exact, zeros=True))
    pi = np.stack([draw.draw(simplex_vectors(3, zeros=True, exact=exact)) for _ in range(2)])
    for evaluation in [WIN_RATE, h_win_rate_evaluation("logit"), *CATALOG.values()]:
        try:
            v = evaluation(data, pi)
        except TheoryError:
            continue
        assert isinstance(v, F | float) and not (isinstance(v, float) and math.isnan(v))


MEMBER_FNS = [n for n in catalog_module.__all__ if callable(getattr(catalog_module, n))]


@pytest.mark.parametrize("name", [n for n in MEMBER_FNS if n != "catalog"])
@pytest.mark.parametrize("bad", list(BAD_VALUES))
def test_catalog_member_functions_called_directly_validate(name, bad):
    fn = getattr(catalog_module, name)
    with pytest.raises(TheoryError):
        fn(D3, BAD_VALUES[bad]())
    with pytest.raises(TheoryError):
        fn(None, U3)
    # the right answer: the same as through CATALOG
    data = PreferenceData(P=bradley_terry_from_strengths([1, 2, 3]), mu0=U3)
    member = next(e for e in CATALOG.values() if e.fn is fn.__wrapped__)
    pi = [F(1, 2), F(1, 4), F(1, 4)]
    assert fn(data, pi) == member(data, pi)
