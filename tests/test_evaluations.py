"""Tests of theory.evaluations and theory.catalog: the h-win-rate evaluations and the catalog."""

from __future__ import annotations

import math
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.catalog import CATALOG, catalog
from theory.data import PreferenceData, random_preference_data, winner_loser_distribution
from theory.errors import (
    InvalidParameterError,
    ShapeMismatchError,
    UndefinedEvaluationError,
    UndefinedWinRateError,
)
from theory.evaluations import WIN_RATE, h_win_rate_evaluation
from theory.numbers import to_float
from theory.preferences import bradley_terry_matrix, rock_paper_scissors, total_order
from theory.simplex import random_model
from theory.strategies import increasing_h, models, preference_data
from theory.winrate import h_win_rate

#: Float agreement between two computations of the same quantity.
TOL = 1e-9
RATIONAL = {
    "preferred-sample likelihood",
    "implicit-reward ranking accuracy",
    "Borda score",
    "Copeland score",
    "majority win rate",
    "win rate vs a fixed reference",
    "win rate vs chosen responses",
}


def _one(P, mu, mu1=None) -> PreferenceData:
    return PreferenceData(P=P, mu0=mu, mu1=mu1)


HALF = [F(1, 2), F(1, 2)]


def test_catalog_has_at_least_eight_members_with_sources():
    assert len(catalog()) >= 8
    for e in catalog():
        assert e.source and "\n" not in e.source and e.win_rate_h is None


def test_win_rate_golden_rock_paper_scissors():
    D = _one(rock_paper_scissors(), [F(1, 3)] * 3)
    assert WIN_RATE(D, [1, 0, 0]) == F(1, 2)
    assert WIN_RATE(D, [F(1, 2), F(1, 2), 0]) == F(1, 2)


@given(preference_data(exact=True, zeros=True), st.data())
def test_fast_path_equals_library_h_win_rate_exact(D, data):
    pi = data.draw(models(D.M, D.K, zeros=True, exact=True))
    assert WIN_RATE(D, pi) == h_win_rate(D.P, pi, (D.mu0 + D.mu1) / 2, "identity", D.rho)


@given(preference_data(exact=False, zeros=True), st.data(), st.sampled_from(["logit", "log"]))
def test_fast_path_equals_library_h_win_rate_float(D, data, h):
    pi = data.draw(models(D.M, D.K, zeros=True))
    anchor = (D.mu0 + D.mu1) / 2
    try:
        expected = h_win_rate(D.P, pi, anchor, h, D.rho)
    except UndefinedWinRateError:
        with pytest.raises(UndefinedWinRateError):
            h_win_rate_evaluation(h)(D, pi)
        return
    got = h_win_rate_evaluation(h)(D, pi)
    assert got == expected or abs(got - expected) <= TOL * (1 + abs(expected))


def test_dpo_loss_golden():
    D = _one(total_order(2), HALF)
    dpo = CATALOG["DPO loss (negated)"]
    assert dpo(D, HALF) == pytest.approx(-math.log(2))
    # pair (0 beats 1) has mass 1/2; the two ties (0,0), (1,1) have mass 1/4 each
    expected = 0.5 * math.log(2 / 3) + 0.5 * -math.log(2)
    assert dpo(D, [F(2, 3), F(1, 3)]) == pytest.approx(expected, abs=TOL)


def test_preferred_likelihood_and_margin_golden():
    D = _one(total_order(2), HALF)
    assert CATALOG["preferred-sample likelihood"](D, [1, 0]) == F(3, 4)
    margin = CATALOG["implicit reward margin"](D, [F(2, 3), F(1, 3)])
    assert margin == pytest.approx(0.5 * math.log(2), abs=TOL)
    # the decisive pair (mass 1/2) is ranked right; the ties (y0 = y1, mass 1/2) count half
    assert CATALOG["implicit-reward ranking accuracy"](D, [F(2, 3), F(1, 3)]) == F(3, 4)


def test_borda_copeland_on_rock_paper_scissors():
    D = _one(rock_paper_scissors(), [1, 0, 0])
    for name in ("Borda score", "Copeland score"):
        assert CATALOG[name](D, [0, 1, 0]) == F(1, 2)


def test_bt_reward_equals_logit_win_rate_on_bradley_terry():
    rng = np.random.default_rng(3)
    for _ in range(10):
        K = int(rng.integers(2, 5))
        P = bradley_terry_matrix(rng.normal(size=K))
        mu = rng.dirichlet(np.ones(K))
        pi = rng.dirichlet(np.ones(K))
        D = _one(P, mu)
        got = CATALOG["expected Bradley-Terry reward"](D, pi)
        assert got == pytest.approx(h_win_rate_evaluation("logit")(D, pi), abs=1e-8)


def test_chosen_and_reference_win_rates_golden():
    D = _one(total_order(2), HALF)
    # chosen responses: p_w = (3/4, 1/4); response 1 loses to 0 always
    assert CATALOG["win rate vs chosen responses"](D, [0, 1]) == F(1, 8)
    assert CATALOG["win rate vs a fixed reference"](D, [0, 1]) == 0
    assert CATALOG["logit outside the expectation"](D, [1, 0]) == pytest.approx(math.log(3))


@pytest.mark.parametrize("name", list(CATALOG))
def test_exact_vs_float_and_kind(name):
    evaluation = CATALOG[name]
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(30):
        D = random_preference_data(rng, 2, 3, exact=True, symmetric=bool(rng.integers(2)))
        pi = random_model(rng, 2, 3, exact=True)
        try:
            exact_value = evaluation(D, pi)
        except UndefinedEvaluationError:
            continue
        Df = PreferenceData(*(to_float(a) for a in (D.P, D.mu0, D.mu1, D.rho)))
        float_value = evaluation(Df, to_float(pi))
        assert isinstance(float_value, float)
        if name in RATIONAL:
            assert isinstance(exact_value, F)
        if math.isinf(float(exact_value)):
            assert float(exact_value) == float_value
        else:
            assert float_value == pytest.approx(float(exact_value), abs=1e-9)
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("name", list(CATALOG))
def test_never_nan_with_zeros(name):
    rng = np.random.default_rng(5)
    for _ in range(20):
        D = random_preference_data(rng, 2, 3, zeros=True, symmetric=bool(rng.integers(2)))
        pi = random_model(rng, 2, 3, zeros=True)
        try:
            v = CATALOG[name](D, pi)
        except (UndefinedEvaluationError, UndefinedWinRateError):
            continue
        assert not math.isnan(float(v))


def test_errors():
    D = _one(total_order(2), HALF)
    with pytest.raises(ShapeMismatchError):
        WIN_RATE(D, [1, 0, 0])
    with pytest.raises(ShapeMismatchError):
        WIN_RATE(D, [[1, 0], [1, 0]])
    with pytest.raises(InvalidParameterError):
        WIN_RATE("not data", [1, 0])
    with pytest.raises(UndefinedEvaluationError, match="0/0"):
        CATALOG["DPO loss (negated)"](_one(total_order(3), [F(1, 2), F(1, 2), 0]), [0, 0, 1])
    with pytest.raises(UndefinedEvaluationError, match="strongly connected"):
        CATALOG["expected Bradley-Terry reward"](D, HALF)
    with pytest.raises(UndefinedEvaluationError, match="never shows"):
        CATALOG["expected Bradley-Terry reward"](_one(total_order(2), [1, 0]), HALF)
    with pytest.raises(UndefinedEvaluationError, match="K >= 2"):
        CATALOG["Borda score"](_one([[F(1, 2)]], [1]), [1])


def test_dpo_loss_is_the_pairwise_formula():
    """The kernel-based DPO loss equals -sum w log sigmoid(log pi(y_w) - log pi(y_l)) pair by
    pair (ties y_w = y_l have margin 0, also where pi is 0), and is -inf when a winner has no
    mass."""
    rng = np.random.default_rng(11)
    dpo = CATALOG["DPO loss (negated)"]
    for _ in range(20):
        D = random_preference_data(rng, 2, 3, exact=True, symmetric=bool(rng.integers(2)))
        pi = random_model(rng, 2, 3)
        w = to_float(winner_loser_distribution(D))
        by_hand = sum(
            w[x, i, j] * -math.log1p(math.exp(-(math.log(pi[x, i]) - math.log(pi[x, j]))))
            for x in range(2)
            for i in range(3)
            for j in range(3)
            if w[x, i, j] > 0
        )
        assert dpo(D, pi) == pytest.approx(by_hand, rel=1e-12)
    tie_only = _one(total_order(2), [1, 0])  # the only pair is (0, 0)
    assert dpo(tie_only, [0, 1]) == pytest.approx(-math.log(2))
    assert dpo(_one(total_order(2), HALF), [0, 1]) == -math.inf


@given(increasing_h())
def test_strategy_h_evaluations_agree_with_library(h):
    rng = np.random.default_rng(0)
    D = random_preference_data(rng, 2, 3, family="general")
    pi = random_model(rng, 2, 3)
    got = h_win_rate_evaluation(h)(D, pi)
    expected = h_win_rate(D.P, pi, D.mu0, h, D.rho)
    assert got == pytest.approx(expected, rel=TOL)
