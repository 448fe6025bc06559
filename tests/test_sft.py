"""Tests of theory.methods.sft: SFT targets, losses, closed forms and best-of-n."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.data import PreferenceData, empirical_distribution, sample_dataset
from theory.errors import InvalidParameterError, ShapeMismatchError
from theory.methods.best_of_n import best_of_n, best_of_n_win_rate, strict_order_ceiling
from theory.methods.sft import (
    loser_distribution,
    sft_loss,
    sft_sampled_loss,
    sft_target,
    sft_variance_term,
    sft_win_rate,
    sft_win_rate_formula,
    winner_distribution,
)
from theory.numbers import to_float
from theory.preferences import cyclic, rock_paper_scissors, total_order
from theory.simplex import uniform
from theory.strategies import preference_data, preference_matrices, simplex_vectors
from theory.winrate import win_rate

TOL = 1e-12
half = Fraction(1, 2)


@given(st.integers(2, 5).flatmap(lambda K: preference_data(M=2, K=K, exact=True)))
def test_target_is_a_model_and_formula_is_exact(data):
    for side in ("preferred", "dispreferred"):
        t = sft_target(data, side)
        assert np.all(t >= 0) and all(sum(row) == 1 for row in t)
        assert sft_win_rate(data, side) == sft_win_rate_formula(data, side)
    # winners + losers = mu0 + mu1
    assert np.all(sft_target(data) + sft_target(data, "dispreferred") == data.mu0 + data.mu1)


@given(
    st.integers(2, 6).flatmap(
        lambda K: st.tuples(preference_matrices(K, exact=True), simplex_vectors(K, exact=True))
    )
)
def test_variance_formula(args):
    P, mu = args
    D = PreferenceData(P=P, mu0=mu)
    var = sft_variance_term(P, mu)
    assert sft_win_rate(D) == half + 2 * var <= 1
    assert sft_win_rate(D, "dispreferred") == half - 2 * var
    assert np.all(winner_distribution(P, mu) == 2 * mu * (P @ mu))


def test_golden_total_order_and_rps():
    D = PreferenceData(P=total_order(2), mu0=[half, half])
    assert sft_target(D).tolist() == [[Fraction(3, 4), Fraction(1, 4)]]
    assert sft_win_rate(D) == Fraction(5, 8)
    # rock-paper-scissors at the uniform start: W constant, no gain at all
    R = PreferenceData(P=rock_paper_scissors(), mu0=uniform(3))
    assert sft_win_rate(R) == half
    assert np.all(sft_target(R)[0] == uniform(3))


def test_strict_order_two_thirds():
    for K in (1, 2, 3, 7, 30):
        assert strict_order_ceiling(K) == Fraction(2, 3) - Fraction(1, 6 * K * K)
        via = best_of_n_win_rate(total_order(K), uniform(K), list(range(K, 0, -1)), 2)
        assert via == strict_order_ceiling(K)
    assert abs(float(strict_order_ceiling(500, n=4)) - 4 / 5) < 1 / 500


def test_best_of_two_is_sft_for_a_strict_order():
    mu = np.array([Fraction(1, 6), Fraction(1, 3), Fraction(1, 2)], dtype=object)
    P = total_order(3, [2, 0, 1])
    r = [2, 1, 3]
    assert np.all(best_of_n(mu, r, 2) == winner_distribution(P, mu))
    assert np.all(best_of_n(mu, r, 1) == mu)


def test_best_of_n_ties_keep_proportions():
    mu = [Fraction(1, 4), Fraction(1, 2), Fraction(1, 4)]
    out = best_of_n(mu, [1, 1, 0], 2)
    assert out[0] * 2 == out[1] and sum(out) == 1


def test_loss_minimised_at_target_and_sampled_loss():
    rng = np.random.default_rng(0)
    D = PreferenceData(
        P=cyclic(3, Fraction(3, 4)), mu0=[Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)]
    )
    t = sft_target(D)
    base = sft_loss(D, t)
    for _ in range(20):
        other = 0.7 * to_float(t) + 0.3 * rng.dirichlet(np.ones(3))[None]
        assert sft_loss(D, other) >= base - TOL
    assert sft_loss(D, [[1, 0, 0]]) == float("inf")
    ds = sample_dataset(D, 200, rng)
    emp = empirical_distribution(ds)
    pw_emp = emp.winner_loser.sum(axis=2)[0]
    pi = to_float(t)
    expected = -float(np.sum(to_float(pw_emp) * np.log(pi[0])))
    assert abs(sft_sampled_loss(ds, pi) - expected) < 1e-12


def test_general_mu0_mu1_against_direct():
    P = cyclic(3, Fraction(2, 3))
    mu0 = [Fraction(1, 2), Fraction(1, 2), 0]
    mu1 = [0, Fraction(1, 3), Fraction(2, 3)]
    D = PreferenceData(P=P, mu0=mu0, mu1=mu1)
    q = (D.mu0 + D.mu1) / 2
    assert sft_win_rate(D) == win_rate(P, sft_target(D)[0], q[0]) == sft_win_rate_formula(D)
    assert np.all(loser_distribution(P, mu0, mu1) == D.mu0[0] + D.mu1[0] - sft_target(D)[0])


def test_errors():
    D = PreferenceData(P=total_order(2), mu0=[half, half])
    with pytest.raises(InvalidParameterError):
        sft_target(D, "sideways")
    with pytest.raises(ShapeMismatchError):
        sft_loss(D, [[half, half], [half, half]])
    with pytest.raises(InvalidParameterError):
        best_of_n([half, half], [0, 1], 0)
    with pytest.raises(ShapeMismatchError):
        best_of_n([half, half], [0, 1, 2], 2)
    with pytest.raises(ShapeMismatchError):
        winner_distribution(total_order(3), [half, half])
