from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given

from theory import PreferenceData, rock_paper_scissors, sample_dataset, total_order
from theory.data import data_anchor, empirical_distribution, winner_loser_distribution
from theory.errors import InvalidParameterError, NotAProbabilityVectorError, ShapeMismatchError
from theory.strategies import preference_data

H = Fraction(1, 2)


@given(preference_data(exact=True))
def test_winner_loser_distribution_sums_to_one_exactly(D):
    w = winner_loser_distribution(D)
    assert w.sum() == 1
    # the winner-loser distribution carries P: w[i,j] P[j,i] = w[j,i] P[i,j]
    assert np.all(w * np.swapaxes(D.P, 1, 2) == np.swapaxes(w, 1, 2) * D.P)


def test_single_prompt_is_promoted_and_defaults_fill_in():
    D = PreferenceData(P=rock_paper_scissors(), mu0=[Fraction(1, 3)] * 3)
    assert (D.M, D.K) == (1, 3)
    assert D.rho.tolist() == [1] and D.symmetric and D.exact
    assert np.all(data_anchor(D) == D.mu0)


def test_arrays_are_read_only_copies():
    mu = np.array([0.5, 0.5])
    D = PreferenceData(P=np.full((2, 2), 0.5), mu0=mu)
    mu[0] = 0.9
    assert D.mu0[0, 0] == 0.5
    with pytest.raises(ValueError):
        D.mu0[0, 0] = 1.0


def test_asymmetric_anchor_is_the_mixture():
    D = PreferenceData(P=total_order(2), mu0=[1, 0], mu1=[0, 1])
    assert not D.symmetric
    assert data_anchor(D).tolist() == [[H, H]]
    # y1 = 1 always loses to y0 = 0: the winner is always 0
    assert winner_loser_distribution(D)[0].tolist() == [[0, 1], [0, 0]]


def test_validation_errors():
    with pytest.raises(ShapeMismatchError, match="mu0 has 1 prompts but P has 2"):
        PreferenceData(P=np.full((2, 2, 2), 0.5), mu0=[[0.5, 0.5]])
    with pytest.raises(ShapeMismatchError, match="expected K = 2"):
        PreferenceData(P=np.full((2, 2), 0.5), mu0=[0.5, 0.25, 0.25])
    with pytest.raises(NotAProbabilityVectorError, match="rho"):
        PreferenceData(P=np.full((2, 2, 2), 0.5), mu0=np.full((2, 2), 0.5), rho=[0.5, 0.6])


def test_sampling_is_seeded_and_matches_the_distribution():
    D = PreferenceData(
        P=rock_paper_scissors(),
        mu0=[Fraction(1, 2), Fraction(1, 4), Fraction(1, 4)],
        mu1=[Fraction(1, 6), Fraction(1, 3), Fraction(1, 2)],
    )
    a = sample_dataset(D, 40_000, np.random.default_rng(5))
    b = sample_dataset(D, 40_000, np.random.default_rng(5))
    assert np.array_equal(a.y0, b.y0) and np.array_equal(a.label, b.label)
    emp = empirical_distribution(a)
    w = winner_loser_distribution(D)
    # 40,000 draws: each frequency within 5 standard errors (sd <= 0.0025)
    assert np.max(np.abs((emp.winner_loser - w).astype(float))) < 0.0125
    assert np.max(np.abs((emp.mu1 - D.mu1).astype(float))) < 0.0125
    assert emp.winner_loser.sum() == 1 and emp.winner_loser.dtype == object


def test_deterministic_labels_follow_the_order():
    D = PreferenceData(P=total_order(3), mu0=[Fraction(1, 3)] * 3)
    ds = sample_dataset(D, 500, np.random.default_rng(1))
    assert np.all(ds.winners <= ds.losers)


def test_bad_sample_size_and_empty_dataset():
    D = PreferenceData(P=total_order(2), mu0=[H, H])
    with pytest.raises(InvalidParameterError):
        sample_dataset(D, -1, np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match="empty"):
        empirical_distribution(sample_dataset(D, 0, np.random.default_rng(0)))
