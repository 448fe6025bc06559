"""Data beyond one labelled pair (theory.feedback): ties, rankings, unpaired feedback.

Defining properties (outcomes sum to one, P + P^T = 1, the conventions, Plackett-Luce marginals,
the unpaired identity), exact golden cases, sampled forms converging to the exact ones, and a
named error for every bad input of every validator."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.data import PreferenceData
from theory.errors import (
    InvalidParameterError,
    NotAProbabilityVectorError,
    NotARankingError,
    NotAThreeOutcomeModelError,
    ShapeMismatchError,
)
from theory.feedback import (
    TIE,
    RankingData,
    TieData,
    UnpairedData,
    above_weights,
    davidson_outcomes,
    desirability_preferences,
    desirability_win_rate,
    empirical_ranking_data,
    empirical_tie_preferences,
    empirical_unpaired_data,
    list_marginal,
    pairwise_preferences,
    plackett_luce_probability,
    plackett_luce_rankings,
    random_ranking_data,
    random_tie_data,
    random_tie_outcomes,
    random_unpaired_data,
    ranking_preference_data,
    rao_kupper_outcomes,
    sample_rankings,
    sample_ties,
    sample_unpaired,
    tie_preference_data,
    tie_preferences,
    unpair,
    unpaired_preference_data,
    validate_outcomes,
    validate_rankings,
)
from theory.preferences import bradley_terry_from_strengths, is_bradley_terry, total_order
from theory.winrate import win_rate

strengths = st.lists(st.integers(1, 30), min_size=2, max_size=5)


# --------------------------------------------------------------------------------------- ties


def test_davidson_golden_case():
    win, tie = davidson_outcomes([1, 4], nu=1)
    assert (win[0, 1], win[1, 0], tie[0, 1]) == (F(1, 7), F(4, 7), F(2, 7))
    assert tie_preferences(win, tie)[0, 1] == F(2, 7)  # 1/7 + 1/7
    assert tie_preferences(win, tie, "drop")[0, 1] == F(1, 5)


def test_rao_kupper_golden_case():
    win, tie = rao_kupper_outcomes([1, 2], theta=2)
    assert (win[0, 1], win[1, 0], tie[0, 1]) == (F(1, 5), F(1, 2), F(3, 10))


@given(strengths, st.sampled_from([F(1, 2), F(1), F(3)]))
def test_davidson_drop_is_bradley_terry(s, nu):
    sq = [v * v for v in s]
    win, tie = davidson_outcomes(sq, nu)
    assert np.all(tie_preferences(win, tie, "drop") == bradley_terry_from_strengths(sq))


@given(strengths, st.sampled_from([F(3, 2), F(2), F(4)]))
def test_outcomes_sum_to_one_and_conventions_are_valid(s, theta):
    for win, tie in (rao_kupper_outcomes(s, theta), davidson_outcomes([v * v for v in s], 1)):
        K = len(s)
        off = ~np.eye(K, dtype=bool)
        assert np.all((win + win.T + tie)[off] == 1)
        for conv in ("half", "drop"):
            P = tie_preferences(win, tie, conv)
            assert np.all(P + P.T == 1)


def test_davidson_half_credit_is_bradley_terry_only_at_nu_2():
    for nu, expected in ((F(1, 2), False), (1, False), (2, True), (3, False)):
        win, tie = davidson_outcomes([1, 4, 9], nu)
        assert is_bradley_terry(tie_preferences(win, tie, "half")) is expected
    win, tie = davidson_outcomes([1, 4, 9], 2)  # strengths sqrt(s) = 1, 2, 3
    assert np.all(tie_preferences(win, tie) == bradley_terry_from_strengths([1, 2, 3]))


def test_rao_kupper_is_bradley_terry_under_neither_convention():
    win, tie = rao_kupper_outcomes([1, 2, 3], 2)
    assert not is_bradley_terry(tie_preferences(win, tie, "half"))
    assert not is_bradley_terry(tie_preferences(win, tie, "drop"))


def test_davidson_with_irrational_roots_is_float():
    win, tie = davidson_outcomes([1, 2], 1)
    assert win.dtype == float
    assert abs(win[0, 1] - 1 / (3 + np.sqrt(2))) < 1e-15


def test_always_tied_pair_drops_to_one_half():
    win = [[0, 0], [0, 0]]
    tie = [[1, 1], [1, 1]]
    assert tie_preferences(win, tie, "drop")[0, 1] == F(1, 2)
    assert tie_preferences(win, tie, "half")[0, 1] == F(1, 2)


def test_tie_data_and_its_preference_data():
    win, tie = davidson_outcomes([1, 4, 9], 1)
    D = TieData(win, tie, mu0=[F(1, 3)] * 3)
    assert D.exact and D.M == 1 and D.K == 3 and D.rho.tolist() == [F(1)]
    PD = tie_preference_data(D, "drop")
    assert isinstance(PD, PreferenceData) and is_bradley_terry(PD.P[0])
    with pytest.raises(ValueError):
        D.win[0, 0, 0] = 1  # read-only


def test_sampled_ties_converge_to_the_exact_conventions():
    rng = np.random.default_rng(3)
    D = random_tie_data(rng, 2, 3, model="general", exact=True)
    ds = sample_ties(D, 40000, rng)
    assert set(np.unique(ds.outcome)) <= {0, 1, 2}
    assert np.all(ds.outcome[ds.y0 == ds.y1] == TIE)
    for conv in ("half", "drop"):
        emp = empirical_tie_preferences(ds, conv).astype(float)
        exact = np.stack([tie_preferences(D.win[x], D.tie[x], conv) for x in range(2)])
        assert np.abs(emp - exact.astype(float)).max() < 0.03


@pytest.mark.parametrize("model", ["rao_kupper", "davidson", "general"])
def test_random_tie_outcomes_are_valid(model):
    rng = np.random.default_rng(0)
    for exact in (True, False):
        validate_outcomes(*random_tie_outcomes(rng, 4, model, exact=exact))


@pytest.mark.parametrize(
    ("win", "tie", "error", "match"),
    [
        (
            [[0, F(1, 2)], [F(1, 4), 0]],
            [[1, F(1, 3)], [F(1, 3), 1]],
            NotAThreeOutcomeModelError,
            "expected 1",
        ),
        (
            [[0, F(1, 2)], [F(1, 4), 0]],
            [[1, F(1, 4)], [F(1, 5), 1]],
            NotAThreeOutcomeModelError,
            "expected equal",
        ),
        ([[0, 2], [0, 0]], [[1, 0], [0, 1]], NotAProbabilityVectorError, "outside"),
        ([[0, 1, 0], [0, 0, 0]], [[1, 0], [0, 1]], ShapeMismatchError, "shape"),
        ([[0, 1], [0, 0]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]], ShapeMismatchError, "shape"),
    ],
)
def test_bad_outcomes_are_named_errors(win, tie, error, match):
    with pytest.raises(error, match=match):
        validate_outcomes(win, tie)


def test_bad_tie_parameters_and_inputs():
    with pytest.raises(InvalidParameterError, match="theta"):
        rao_kupper_outcomes([1, 2], theta=F(1, 2))
    with pytest.raises(InvalidParameterError, match="nu"):
        davidson_outcomes([1, 2], nu=-1)
    with pytest.raises(InvalidParameterError, match="s\\[1\\]"):
        davidson_outcomes([1, 0])
    with pytest.raises(InvalidParameterError, match="tie convention"):
        tie_preferences([[0, 0], [0, 0]], [[1, 1], [1, 1]], "third")
    with pytest.raises(InvalidParameterError, match="TieData"):
        tie_preference_data("not data")
    with pytest.raises(InvalidParameterError, match="TieData"):
        sample_ties(None, 3, np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match="tie model"):
        random_tie_outcomes(np.random.default_rng(0), 3, "thurstone")
    win, tie = davidson_outcomes([1, 4], 1)
    with pytest.raises(ShapeMismatchError, match="mu0"):
        TieData(win, tie, mu0=[F(1, 3)] * 3)
    with pytest.raises(InvalidParameterError, match="n ="):
        sample_ties(TieData(win, tie, mu0=[F(1, 2)] * 2), -1, np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match="TieDataset"):
        empirical_tie_preferences([1, 2])


# ------------------------------------------------------------------------------------ rankings


@given(strengths, st.data())
def test_plackett_luce_marginals_are_bradley_terry(s, data):
    k = data.draw(st.integers(2, len(s)))
    D = plackett_luce_rankings(s, k)
    assert sum(D.probs[0]) == 1
    assert np.all(pairwise_preferences(D)[0] == bradley_terry_from_strengths(s))


def test_plackett_luce_golden_cases():
    assert plackett_luce_probability([1, 2, 3], [2, 1, 0]) == F(1, 3)
    P = pairwise_preferences(plackett_luce_rankings([1, 2, 3]))[0]
    assert (P[0, 1], P[1, 2]) == (F(1, 3), F(2, 5))
    m = list_marginal(plackett_luce_rankings([1, 2, 3], 2, [F(1, 2), F(1, 4), F(1, 4)]))
    assert sum(m[0]) == 1


def test_cyclic_rankings_imply_a_cycle():
    D = RankingData([[0, 1, 2], [1, 2, 0], [2, 0, 1]], [F(1, 3)] * 3, K=3)
    P = pairwise_preferences(D)[0]
    assert (P[0, 1], P[1, 2], P[2, 0]) == (F(2, 3), F(2, 3), F(2, 3))
    assert not is_bradley_terry(P)
    assert isinstance(ranking_preference_data(D), PreferenceData)


def test_pairs_never_listed_together_are_one_half():
    D = RankingData([[0, 1], [2, 3]], [F(1, 2), F(1, 2)], K=4)
    P = pairwise_preferences(D)[0]
    assert P[0, 2] == F(1, 2) and P[0, 1] == 1
    assert above_weights(D)[0, 2, 3] == F(1, 2)


def test_sampled_rankings_converge():
    rng = np.random.default_rng(1)
    D = random_ranking_data(rng, 3, 2, model="general", exact=True)
    E = empirical_ranking_data(sample_rankings(D, 30000, rng))
    diff = pairwise_preferences(E)[0].astype(float) - pairwise_preferences(D)[0].astype(float)
    assert np.abs(diff).max() < 0.03


def test_random_plackett_luce_float_and_exact():
    rng = np.random.default_rng(2)
    for exact in (True, False):
        D = random_ranking_data(rng, 4, 3, model="plackett_luce", exact=exact)
        assert is_bradley_terry(pairwise_preferences(D)[0])


@pytest.mark.parametrize(
    ("rankings", "match"),
    [
        ([[0, 0]], "repeats"),
        ([[0, 5]], "not a response"),
        ([[0, 1], [1]], "different lengths|shape"),
        ([[0]], "shape"),
        ([[0, 1.5]], "not a response"),
    ],
)
def test_bad_rankings_are_named_errors(rankings, match):
    with pytest.raises(NotARankingError, match=match):
        validate_rankings(rankings, 3)


def test_bad_ranking_inputs():
    with pytest.raises(NotAProbabilityVectorError):
        RankingData([[0, 1], [1, 0]], [F(1, 2), F(1, 3)], K=2)
    with pytest.raises(ShapeMismatchError):
        RankingData([[0, 1], [1, 0]], [1], K=2)
    with pytest.raises(ShapeMismatchError, match="rho"):
        RankingData([[0, 1]], [[1], [1]], K=2, rho=[1])
    with pytest.raises(InvalidParameterError, match="k ="):
        plackett_luce_rankings([1, 2], 3)
    with pytest.raises(InvalidParameterError, match="support"):
        plackett_luce_rankings([1, 2, 3], 3, [F(1, 2), F(1, 2), 0])
    with pytest.raises(InvalidParameterError, match="s\\[0\\]"):
        plackett_luce_rankings([0, 2])
    with pytest.raises(InvalidParameterError, match="ranking model"):
        random_ranking_data(np.random.default_rng(0), 3, model="mallows")
    with pytest.raises(InvalidParameterError, match="RankingData"):
        pairwise_preferences("rankings")
    with pytest.raises(InvalidParameterError, match="RankingDataset"):
        empirical_ranking_data(None)


# ------------------------------------------------------------------------------------ unpaired


@given(
    st.lists(st.fractions(0, 1), min_size=2, max_size=5),
    st.data(),
)
def test_unpaired_win_rate_is_expected_desirability(g, data):
    K = len(g)

    def dist():
        w = data.draw(st.lists(st.integers(0, 5), min_size=K, max_size=K).filter(any))
        return [F(v, sum(w)) for v in w]

    pi, q = dist(), dist()
    P = desirability_preferences(g)[0]
    expected = (
        F(1, 2)
        + (
            sum(a * b for a, b in zip(pi, g, strict=True))
            - sum(a * b for a, b in zip(q, g, strict=True))
        )
        / 2
    )
    assert win_rate(P, pi, q) == expected == desirability_win_rate(g, pi, q)


def test_unpair_gives_omega():
    F5 = F(1, 5)
    D = PreferenceData(P=total_order(3), mu0=[F5, F5, 3 * F5])
    U = unpair(D)
    assert U.g[0].tolist() == [F(9, 10), F(7, 10), F(3, 10)]
    assert U.mu[0].tolist() == [F5, F5, 3 * F5]
    assert isinstance(unpaired_preference_data(U), PreferenceData)


def test_sampled_unpaired_converges():
    rng = np.random.default_rng(4)
    D = random_unpaired_data(rng, 1, 3, exact=True)
    E = empirical_unpaired_data(sample_unpaired(D, 40000, rng))
    assert np.abs(E.mu.astype(float) - D.mu.astype(float)).max() < 0.02
    seen = D.mu[0] > F(1, 20)
    assert np.abs((E.g.astype(float) - D.g.astype(float))[0][seen]).max() < 0.05


def test_bad_unpaired_inputs():
    with pytest.raises(NotAProbabilityVectorError, match="g\\[1\\]"):
        UnpairedData(g=[0, 2], mu=[F(1, 2)] * 2)
    with pytest.raises(ShapeMismatchError, match="responses"):
        UnpairedData(g=[0, 1], mu=[F(1, 3)] * 3)
    with pytest.raises(NotAProbabilityVectorError):
        UnpairedData(g=[0, 1], mu=[F(1, 2), F(1, 3)])
    with pytest.raises(ShapeMismatchError, match="rho"):
        UnpairedData(g=[0, 1], mu=[F(1, 2)] * 2, rho=[F(1, 2)] * 2)
    with pytest.raises(ShapeMismatchError, match="pi"):
        desirability_win_rate([0, 1], [[1, 0], [1, 0]], [1, 0])
    with pytest.raises(InvalidParameterError, match="UnpairedData"):
        sample_unpaired({}, 3, np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match="rng"):
        sample_unpaired(UnpairedData(g=[0, 1], mu=[1, 0]), 3, rng=0)
    with pytest.raises(InvalidParameterError, match="UnpairedDataset"):
        empirical_unpaired_data([])
    with pytest.raises(InvalidParameterError, match="PreferenceData"):
        unpair("pairs")


def test_empty_and_misshapen_inputs():
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidParameterError, match="empty"):
        empirical_unpaired_data(sample_unpaired(UnpairedData(g=[0, 1], mu=[1, 0]), 0, rng))
    with pytest.raises(InvalidParameterError, match="empty"):
        empirical_ranking_data(sample_rankings(RankingData([[0, 1]], [1], K=2), 0, rng))
    with pytest.raises(ShapeMismatchError, match="g has shape"):
        UnpairedData(g=[[[0, 1]]], mu=[1, 0])
    with pytest.raises(ShapeMismatchError, match="win has shape"):
        validate_outcomes([[[[0]]]], [[[[1]]]])
    with pytest.raises(InvalidParameterError, match="K ="):
        validate_rankings([[0, 1]], 1)
    with pytest.raises(InvalidParameterError, match="integer"):
        sample_ties(random_tie_data(rng, 1, 2), 2.5, rng)
