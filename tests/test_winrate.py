from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory import (
    bradley_terry_from_strengths,
    cyclic,
    data_win_rate,
    h_win_rate,
    response_win_rates,
    rock_paper_scissors,
    to_float,
    total_order,
    uniform,
    win_rate,
    win_rate_covariance,
)
from theory.errors import (
    NotAPreferenceMatrixError,
    NotAProbabilityVectorError,
    ShapeMismatchError,
    SupportMismatchError,
    UndefinedWinRateError,
)
from theory.preferences import bradley_terry_matrix, bradley_terry_rewards
from theory.strategies import models, preference_data, preference_matrices, simplex_vectors
from theory.winrate import win_rate_batch

H = Fraction(1, 2)
K = 4


@given(
    preference_matrices(K, exact=True),
    simplex_vectors(K, zeros=True, exact=True),
    simplex_vectors(K, exact=True),
)
def test_exact_identities(P, pi, q):
    wr = win_rate(P, pi, q)
    assert isinstance(wr, Fraction)
    assert win_rate(P, pi, pi) == H
    assert wr + win_rate(P, q, pi) == 1
    assert win_rate_covariance(P, pi, q) == wr - H
    assert h_win_rate(P, pi, q, "identity") == wr
    assert sum(pi * response_win_rates(P, q)) == wr


@given(
    preference_matrices(K, exact=True),
    simplex_vectors(K, zeros=True, exact=True),
    simplex_vectors(K, zeros=True, exact=True),
)
def test_exact_and_float_agree_to_1e_12(P, pi, q):
    exact = win_rate(P, pi, q)
    approx = win_rate(to_float(P), to_float(pi), to_float(q))
    assert isinstance(approx, float)
    assert abs(float(exact) - approx) <= 1e-12


@given(preference_data(exact=True))
def test_multi_prompt_is_the_rho_weighted_sum(D):
    pi, q = D.mu0, D.mu1
    total = win_rate(D.P, pi, q, D.rho)
    assert total == sum(D.rho[x] * win_rate(D.P[x], pi[x], q[x]) for x in range(D.M))


def test_rock_paper_scissors_golden():
    P = rock_paper_scissors()
    rock, scissors, paper = [1, 0, 0], [0, 1, 0], [0, 0, 1]
    assert win_rate(P, rock, scissors) == 1
    assert win_rate(P, scissors, paper) == 1
    assert win_rate(P, paper, rock) == 1
    assert win_rate(P, rock, [H, 0, H]) == Fraction(1, 4)  # a tie half the time, else a loss
    assert response_win_rates(P, uniform(3)).tolist() == [H, H, H]


def test_condorcet_cycle_uniform_is_unbeatable():
    P = cyclic(5)
    u = uniform(5)
    for y in range(5):
        e = [int(i == y) for i in range(5)]
        assert win_rate(P, u, e) == H


def test_bradley_terry_logit_win_rate_is_reward_difference():
    r = np.array([0.4, -1.0, 1.3])
    P = bradley_terry_matrix(r)
    pi, q = np.array([0.2, 0.3, 0.5]), np.array([0.6, 0.1, 0.3])
    assert h_win_rate(P, pi, q, "logit") == pytest.approx(pi @ r - q @ r, abs=1e-12)
    s = bradley_terry_from_strengths([1, 3])
    assert win_rate(s, [1, 0], [0, 1]) == Fraction(1, 4)
    assert bradley_terry_rewards(s) == pytest.approx([-np.log(3) / 2, np.log(3) / 2])


def test_infinite_h_zero_mass_contributes_zero():
    P = total_order(3)
    # pi puts no mass on the sure loser 2; q none on the sure winner 0
    assert h_win_rate(P, [1, 0, 0], [0, 1, 0], "logit") == float("inf")
    assert h_win_rate(P, [0, 0, 1], [0, 1, 0], "log") == float("-inf")
    v = h_win_rate(bradley_terry_matrix([0.0, 1.0]), [0.5, 0.5], [0.5, 0.5], "logit")
    assert v == pytest.approx(0.0, abs=1e-12)


def test_infinite_h_both_signs_is_an_error():
    with pytest.raises(UndefinedWinRateError, match=r"\+inf"):
        h_win_rate(total_order(2), [H, H], [H, H], "logit")


def test_batched_matches_single():
    rng = np.random.default_rng(3)
    Ps = np.stack([bradley_terry_matrix(rng.normal(size=5)) for _ in range(20)])
    pis, qs = rng.dirichlet(np.ones(5), 20), rng.dirichlet(np.ones(5), 20)
    single = [win_rate(P, p, q) for P, p, q in zip(Ps, pis, qs, strict=True)]
    np.testing.assert_allclose(win_rate_batch(Ps, pis, qs), single, atol=1e-14)


def test_batched_validation_errors():
    P = np.full((2, 3, 3), 0.5)
    good = np.full((2, 3), 1 / 3)
    with pytest.raises(ShapeMismatchError):
        win_rate_batch(P, good[:1], good)
    bad = P.copy()
    bad[1, 0, 2] = 0.9
    with pytest.raises(NotAPreferenceMatrixError, match=r"P\[1\]"):
        win_rate_batch(bad, good, good)
    with pytest.raises(NotAProbabilityVectorError, match=r"q\[0\]"):
        win_rate_batch(P, good, good * 2)


def test_boundary_errors():
    P = rock_paper_scissors()
    with pytest.raises(ShapeMismatchError, match="pi has 2 responses"):
        win_rate(P, [H, H], uniform(3))
    with pytest.raises(ShapeMismatchError, match="rho was given"):
        win_rate(P, uniform(3), uniform(3), rho=[1])
    with pytest.raises(SupportMismatchError, match=r"q\[0, 2\] = 0"):
        win_rate_covariance(P, [0, 0, 1], [H, H, 0])
    with pytest.raises(NotAProbabilityVectorError):
        win_rate(P, [1, 1, 0], uniform(3))


@given(preference_data(exact=True), st.data())
def test_data_win_rate_of_the_data_is_one_half(D, data):
    from theory.data import data_anchor

    assert data_win_rate(D, data_anchor(D)) == H
    pi = data.draw(models(D.M, D.K, exact=True))
    assert data_win_rate(D, pi) == win_rate(D.P, pi, data_anchor(D), D.rho)
