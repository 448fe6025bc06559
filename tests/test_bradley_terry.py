"""Tests of theory.bradley_terry: choix differential, golden recovery, existence, errors."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.bradley_terry import (
    GRAD_TOL,
    bradley_terry_gradient,
    bradley_terry_log_likelihood,
    comparison_graph,
    fit_bradley_terry,
    fit_bradley_terry_batch,
    fit_bradley_terry_data,
    mle_exists,
    strongly_connected_components,
    winner_loser_counts,
)
from theory.data import (
    PreferenceData,
    empirical_distribution,
    random_preference_data,
    sample_dataset,
)
from theory.errors import (
    InvalidParameterError,
    NoMaximumLikelihoodError,
    ShapeMismatchError,
)
from theory.preferences import (
    bradley_terry_from_strengths,
    bradley_terry_matrix,
    random_preference_matrix,
    total_order,
)

choix = pytest.importorskip("choix")

#: Agreement between our rewards and choix's (choix run at tol 1e-12 on the parameter change).
CHOIX_AGREE = 1e-6
#: Accuracy of a fitted reward against a closed form (the fit stops at a relative gradient of
#: GRAD_TOL = 1e-12, so rewards are accurate to about 1e-12 / p(1 - p)).
REWARD_ACC = 1e-10


def _random_w(rng, K, density=1.0):
    P = random_preference_matrix(rng, K)
    mu = rng.dirichlet(np.ones(K))
    w = P * 2 * np.outer(mu, mu)
    if density < 1:
        mask = rng.random((K, K)) < density
        mask = mask | mask.T
        w = w * mask
    np.fill_diagonal(w, 0)
    return w


@pytest.mark.parametrize("seed", range(20))
def test_differential_against_choix(seed):
    rng = np.random.default_rng(seed)
    K = int(rng.integers(2, 30))
    w = _random_w(rng, K)
    fit = fit_bradley_terry(w)
    ref = choix.ilsr_pairwise_dense(w, tol=1e-12, max_iter=10_000)
    ref = ref - ref.mean()
    assert np.max(np.abs(fit.rewards - ref)) < CHOIX_AGREE
    assert fit.gradient_norm <= GRAD_TOL * w.sum() * 10
    # the certificate is what it says: the gradient at the returned rewards
    assert np.isclose(
        np.abs(bradley_terry_gradient(w, fit.rewards)).max(), fit.gradient_norm, atol=1e-15
    )
    # and choix's answer is no better in likelihood
    assert (
        bradley_terry_log_likelihood(w, fit.rewards) >= bradley_terry_log_likelihood(w, ref) - 1e-12
    )


@pytest.mark.parametrize("seed", range(5))
def test_sparse_strongly_connected_matches_choix(seed):
    rng = np.random.default_rng(100 + seed)
    K = 12
    # counts on a random cycle plus random extra pairs: strongly connected, sparse
    w = np.zeros((K, K))
    perm = rng.permutation(K)
    for a, b in zip(perm, np.roll(perm, -1), strict=True):
        w[a, b] += rng.integers(1, 5)
    extra = rng.random((K, K)) < 0.2
    w += extra * rng.integers(1, 4, size=(K, K))
    np.fill_diagonal(w, 0)
    assert mle_exists(w)
    fit = fit_bradley_terry(w)
    ref = choix.ilsr_pairwise_dense(w, tol=1e-12, max_iter=100_000)
    assert np.max(np.abs(fit.rewards - (ref - ref.mean()))) < CHOIX_AGREE


def test_golden_bradley_terry_recovery_population():
    s = [1, 2, 4, 8]
    D = PreferenceData(P=bradley_terry_from_strengths(s), mu0=[Fraction(1, 4)] * 4)
    fit = fit_bradley_terry_data(D)
    expected = np.log(np.array(s, float))
    expected -= expected.mean()
    assert np.max(np.abs(fit.rewards[0] - expected)) < REWARD_ACC


def test_population_recovery_with_asymmetric_sampling():
    rng = np.random.default_rng(3)
    r = rng.normal(size=5)
    P = bradley_terry_matrix(r)
    mu0 = rng.dirichlet(np.ones(5))
    mu1 = rng.dirichlet(np.ones(5))
    D = PreferenceData(P=P, mu0=mu0, mu1=mu1)
    fit = fit_bradley_terry_data(D)
    assert np.max(np.abs(fit.rewards[0] - (r - r.mean()))) < 1e-10


def test_two_responses_closed_form():
    fit = fit_bradley_terry([[0, 3], [1, 0]])
    assert abs((fit.rewards[0] - fit.rewards[1]) - np.log(3)) < REWARD_ACC
    assert abs(fit.rewards.sum()) < 1e-15


def test_sampled_fit_counts_and_empirical_agree():
    rng = np.random.default_rng(7)
    D = random_preference_data(rng, 3, 4, family="bradley_terry", symmetric=False)
    ds = sample_dataset(D, 4000, rng)
    c = winner_loser_counts(ds)
    assert c.sum() == 4000
    a = fit_bradley_terry_data(ds)
    b = fit_bradley_terry_data(empirical_distribution(ds))
    assert np.max(np.abs(a.rewards - b.rewards)) < 1e-9


def test_stack_matches_single_fits():
    rng = np.random.default_rng(11)
    ws = np.stack([_random_w(rng, 5) for _ in range(6)])
    ws[2, 0, :] = 0  # prompt 2: response 0 never wins ... but still loses: not dense
    ws[2, 0, 1] = 0.01
    stack = fit_bradley_terry_batch(ws)
    for x in range(6):
        single = fit_bradley_terry(ws[x])
        assert np.max(np.abs(stack.rewards[x] - single.rewards)) < 1e-10


def test_isolated_response_gets_zero_and_components_mean_zero():
    w = np.zeros((5, 5))
    w[0, 1], w[1, 0] = 2, 1
    w[2, 3], w[3, 2] = 1, 4
    fit = fit_bradley_terry(w)
    assert [c.tolist() for c in fit.components] == [[0, 1], [2, 3]]
    assert fit.rewards[4] == 0
    assert abs(fit.rewards[0] + fit.rewards[1]) < 1e-15
    assert abs(fit.rewards[2] + fit.rewards[3]) < 1e-15
    assert abs(fit.rewards[3] - fit.rewards[2] - np.log(4)) < REWARD_ACC


def test_deterministic_order_has_no_mle():
    P = total_order(4, exact=False)
    D = PreferenceData(P=P, mu0=np.full(4, 0.25))
    with pytest.raises(NoMaximumLikelihoodError, match=r"responses \[0\] win every comparison"):
        fit_bradley_terry_data(D)
    w = np.asarray(P) * 1.0
    np.fill_diagonal(w, 0)
    assert not mle_exists(w)
    assert [c.tolist() for c in strongly_connected_components(w)] == [[0], [1], [2], [3]]
    try:
        fit_bradley_terry(w)
    except NoMaximumLikelihoodError as err:
        d = err.direction
        # the likelihood strictly increases along the reported direction
        lls = [bradley_terry_log_likelihood(w, t * d) for t in (0, 1, 2, 4)]
        assert all(a < b for a, b in zip(lls, lls[1:], strict=False))


def test_dominating_group_is_named():
    # {0, 1} beat each other, and together beat {2, 3} (which beat each other) always
    w = np.zeros((4, 4))
    w[0, 1] = w[1, 0] = w[2, 3] = w[3, 2] = 1
    w[0, 2] = w[1, 3] = 5
    g = comparison_graph(w)
    assert not g.exists
    assert [c.tolist() for c in g.strong] == [[0, 1], [2, 3]]
    with pytest.raises(NoMaximumLikelihoodError, match=r"responses \[0, 1\] win every comparison"):
        fit_bradley_terry(w)


def test_disconnected_graph_is_fitted_per_component():
    w = np.zeros((4, 4))
    w[0, 1], w[1, 0], w[2, 3], w[3, 2] = 1, 1, 3, 1
    g = comparison_graph(w)
    assert g.exists and len(g.weak) == 2
    fit = fit_bradley_terry(w)
    assert abs(fit.rewards[2] - fit.rewards[3] - np.log(3)) < REWARD_ACC


def test_stack_error_names_the_prompt():
    ws = np.stack([np.array([[0, 1], [1, 0.0]]), np.array([[0, 1], [0, 0.0]])])
    with pytest.raises(NoMaximumLikelihoodError, match="prompt 1"):
        fit_bradley_terry_batch(ws)


def test_bad_inputs():
    with pytest.raises(InvalidParameterError, match="nonnegative"):
        fit_bradley_terry([[0, -1], [1, 0]])
    with pytest.raises(ShapeMismatchError):
        fit_bradley_terry([[0, 1, 2], [1, 0, 2]])
    with pytest.raises(InvalidParameterError, match="tol"):
        fit_bradley_terry([[0, 1], [1, 0]], tol=-1)
    with pytest.raises(InvalidParameterError):
        fit_bradley_terry_data("not data")


def test_exact_input_is_accepted():
    fit = fit_bradley_terry([[0, Fraction(2, 3)], [Fraction(1, 3), 0]])
    assert abs(fit.rewards[0] - fit.rewards[1] - np.log(2)) < REWARD_ACC


def test_near_degenerate_counts_converge():
    # one loss in a thousand: large but finite rewards
    w = np.array([[0, 999.0, 999], [1, 0, 999], [1, 1, 0]])
    fit = fit_bradley_terry(w)
    assert fit.gradient_norm <= GRAD_TOL * w.sum() * 10


def test_stack_partial_support_batched_equals_single():
    rng = np.random.default_rng(12)
    D = random_preference_data(rng, 30, 6, family="general", zeros=True)
    from theory.data import winner_loser_distribution

    w = np.asarray(winner_loser_distribution(D), dtype=float)
    stack = fit_bradley_terry_batch(w)
    for x in range(30):
        if not np.any(w[x] > 0):
            continue
        single = fit_bradley_terry(w[x])
        assert np.max(np.abs(stack.rewards[x] - single.rewards)) < 1e-10
        if stack.fits[x] is None:  # only self-comparisons (diagonal): nothing to fit
            assert single.components == ()
            continue
        assert [c.tolist() for c in stack.fits[x].components] == [
            c.tolist() for c in single.components
        ]


def test_sampled_counts_match_choix_on_the_raw_comparisons():
    rng = np.random.default_rng(21)
    D = random_preference_data(rng, 1, 6, family="general")
    ds = sample_dataset(D, 3000, rng)
    c = winner_loser_counts(ds)[0]
    assert mle_exists(c)
    fit = fit_bradley_terry_data(ds)
    pairs = list(zip(ds.winners.tolist(), ds.losers.tolist(), strict=True))
    pairs = [(a, b) for a, b in pairs if a != b]
    ref = choix.ilsr_pairwise(6, pairs, tol=1e-12, max_iter=10_000)
    assert np.max(np.abs(fit.rewards[0] - (ref - ref.mean()))) < CHOIX_AGREE


@given(
    st.integers(2, 6).flatmap(
        lambda K: st.lists(st.integers(1, 9), min_size=K * K, max_size=K * K).map(
            lambda v: np.array(v, dtype=float).reshape(K, K)
        )
    ),
    st.floats(0.01, 100.0),
    st.randoms(use_true_random=False),
)
def test_property_scale_and_permutation_invariance(w, scale, rnd):
    np.fill_diagonal(w, 0)
    K = w.shape[0]
    fit = fit_bradley_terry(w)
    assert np.max(np.abs(fit_bradley_terry(scale * w).rewards - fit.rewards)) < REWARD_ACC * 10
    perm = np.array(rnd.sample(range(K), K))
    permuted = fit_bradley_terry(w[np.ix_(perm, perm)])
    assert np.max(np.abs(permuted.rewards - fit.rewards[perm])) < REWARD_ACC * 10
    # the certificate: observed = expected wins at the fit
    assert np.max(np.abs(bradley_terry_gradient(w, fit.rewards))) <= 1e-9 * w.sum()
