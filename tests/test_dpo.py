"""Tests of theory.methods.dpo: losses, the minimizer set, its win-rate range, no-minimizer case."""

from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import minimize

from theory.data import PreferenceData, random_preference_data, sample_dataset
from theory.errors import InvalidParameterError, ShapeMismatchError, SupportMismatchError
from theory.methods.dpo import (
    dpo_data_win_rate_range,
    dpo_implicit_reward,
    dpo_logit_gradient,
    dpo_loss,
    dpo_loss_from_log_probs,
    dpo_loss_from_weights,
    dpo_minimizers,
    dpo_sampled_loss,
    dpo_weights,
    dpo_win_rate_range,
    prompt_minimizers,
)
from theory.methods.rlhf import rlhf_policy
from theory.numbers import to_float
from theory.preferences import bradley_terry_from_strengths, total_order
from theory.simplex import random_model

TOL = 1e-8
half = Fraction(1, 2)


def _softmax(z):
    z = z.reshape(-1, z.shape[-1]) if z.ndim > 1 else z[None]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def test_minimum_matches_a_numerical_optimizer():
    rng = np.random.default_rng(3)
    for _ in range(4):
        D = random_preference_data(rng, 2, 4, family="general", symmetric=False)
        ref = random_model(rng, 2, 4)
        S = dpo_minimizers(D, ref, 0.5)
        assert S.exists and S.is_point
        res = minimize(
            lambda z, D=D, ref=ref: dpo_loss(D, _softmax(z.reshape(2, 4)), ref, 0.5),
            np.zeros(8),
            method="BFGS",
        )
        assert S.min_loss <= res.fun + 1e-9
        assert abs(S.min_loss - res.fun) < 1e-6
        assert abs(dpo_loss(D, S.point(), ref, 0.5) - S.min_loss) < TOL


def test_logit_gradient_matches_finite_differences_and_vanishes_at_minimum():
    rng = np.random.default_rng(1)
    w = rng.random((2, 3, 3))
    w /= w.sum()
    ref = rng.dirichlet(np.ones(3), 2)
    z = rng.normal(size=(2, 3))
    g = dpo_logit_gradient(w, z, np.log(ref), 0.7)
    f = lambda z: dpo_loss_from_weights(w, _softmax(z), ref, 0.7)  # noqa: E731
    for i in range(2):
        for j in range(3):
            e = np.zeros_like(z)
            e[i, j] = 1e-6
            assert abs((f(z + e) - f(z - e)) / 2e-6 - g[i, j]) < 1e-6
    D = random_preference_data(rng, 2, 3, family="bradley_terry")
    S = dpo_minimizers(D, ref, 0.7)
    assert (
        np.max(np.abs(dpo_logit_gradient(dpo_weights(D), np.log(S.point()), np.log(ref), 0.7)))
        < 1e-8
    )


def test_equals_rlhf_for_full_support_bradley_terry_exactly():
    P = bradley_terry_from_strengths([1, 2, 5])
    D = PreferenceData(P=P, mu0=[Fraction(1, 6), Fraction(1, 3), Fraction(1, 2)])
    ref = [[Fraction(1, 2), Fraction(1, 4), Fraction(1, 4)]]
    S = dpo_minimizers(D, ref, 1)
    assert S.is_point and S.exact_parts == ((True,),)
    expected = np.array([Fraction(1, 2), Fraction(2, 4), Fraction(5, 4)], dtype=object)
    assert np.all(S.point()[0] == expected / sum(expected))
    assert np.allclose(to_float(S.point()), rlhf_policy(D, 1.0, to_float(ref)).pi, atol=1e-10)
    # beta = 1/2: pi proportional to pi_ref * s^2, still exact
    S2 = dpo_minimizers(D, ref, Fraction(1, 2))
    sq = np.array([Fraction(1, 2), Fraction(4, 4), Fraction(25, 4)], dtype=object)
    assert np.all(S2.point()[0] == sq / sum(sq))


def test_partial_support_free_mass_and_win_rate_range():
    P = np.array(
        [[half, Fraction(2, 3), 1], [Fraction(1, 3), half, half], [0, half, half]], dtype=object
    )
    D = PreferenceData(P=P, mu0=[Fraction(1, 2), Fraction(1, 2), 0])
    S = dpo_minimizers(D, [[Fraction(1, 3)] * 3], 1)
    assert S.exists and not S.is_point and S.free[0].tolist() == [2]
    R = dpo_win_rate_range(S, D.P, D.mu0)
    # vertices: nu = (2/3, 1/3, 0) (strengths 2:1) and the point mass on the unseen response 2
    W = P @ D.mu0[0]
    assert R.exact and R.best == max(np.array([Fraction(2, 3), Fraction(1, 3), 0]) @ W, W[2])
    assert R.worst == min(np.array([Fraction(2, 3), Fraction(1, 3), 0]) @ W, W[2])
    assert R.worst == W[2] == Fraction(1, 4)  # an unseen, bad response minimizes the loss too
    for t in (Fraction(1, 10), Fraction(9, 10)):
        pi = S.point([[t]], [[1 - t]])
        assert abs(dpo_loss(D, pi, [[Fraction(1, 3)] * 3]) - S.min_loss) < TOL
    assert dpo_data_win_rate_range(D, [[Fraction(1, 3)] * 3]).best == R.best


def test_no_minimizer_direction_and_infimum():
    D = PreferenceData(P=total_order(3), mu0=[Fraction(1, 3)] * 3)
    ref = [[Fraction(1, 3)] * 3]
    S = dpo_minimizers(D, ref, 1)
    assert not S.exists
    w = dpo_weights(D)
    losses = [dpo_loss_from_log_probs(w, S.path_log(t), ref) for t in (0, 1, 3, 10, 100)]
    assert all(a > b for a, b in zip(losses, losses[1:], strict=False))
    assert losses[-1] - S.min_loss < 1e-12 and losses[-1] >= S.min_loss
    assert abs(S.min_loss - float(3 * (1 / 9) * np.log(2))) < 1e-12  # only self-pairs remain
    with pytest.raises(InvalidParameterError):
        S.point()
    with pytest.raises(InvalidParameterError):
        dpo_win_rate_range(S, D.P, D.mu0)


def test_sampled_loss_two_ways():
    rng = np.random.default_rng(5)
    D = random_preference_data(rng, 2, 4)
    ds = sample_dataset(D, 60, rng)
    pi, ref = random_model(rng, 2, 4), random_model(rng, 2, 4)
    assert (
        abs(
            dpo_sampled_loss(ds, pi, ref, 0.3)
            - dpo_loss_from_weights(dpo_weights(ds), pi, ref, 0.3)
        )
        < 1e-12
    )
    S = dpo_minimizers(ds, ref, 0.3)
    if S.exists:
        assert abs(dpo_sampled_loss(ds, S.point(), ref, 0.3) - S.min_loss) < TOL


def test_zero_mass_and_errors():
    D = PreferenceData(P=bradley_terry_from_strengths([1, 3]), mu0=[half, half])
    u = [[half, half]]
    assert dpo_loss(D, [[0, 1]], u) == float("inf")  # the preferred 1 ... and 0 with mass 0
    with pytest.raises(SupportMismatchError):
        dpo_loss(D, u, [[1, 0]])
    with pytest.raises(InvalidParameterError):
        dpo_loss(D, u, u, beta=0)
    with pytest.raises(ShapeMismatchError):
        dpo_loss_from_weights(np.zeros((2, 2)), u, u)
    with pytest.raises(InvalidParameterError):
        dpo_weights("not data")
    assert np.allclose(dpo_implicit_reward([half, half], [half, half]), 0.0)


def test_weights_given_directly_and_the_k1000_path_is_one_fit():
    rng = np.random.default_rng(7)
    D = random_preference_data(rng, 1, 5, family="general")
    ref = random_model(rng, 1, 5)
    w = np.asarray(to_float(dpo_weights(D)))
    A, B = dpo_minimizers(w, ref, 0.5), dpo_minimizers(D, ref, 0.5)
    assert np.allclose(to_float(A.point()), to_float(B.point()), atol=1e-12)
    assert abs(A.min_loss - B.min_loss) < 1e-12
    with pytest.raises(InvalidParameterError):
        dpo_weights(-w)
    with pytest.raises(ShapeMismatchError):
        dpo_weights(w[0])


def test_point_weights_validated_and_kinds():
    P = np.array(
        [[half, Fraction(2, 3), 1], [Fraction(1, 3), half, half], [0, half, half]], dtype=object
    )
    D = PreferenceData(P=P, mu0=[Fraction(1, 2), Fraction(1, 2), 0])
    S = dpo_minimizers(D, [[Fraction(1, 3)] * 3], 1)
    assert S.point([[Fraction(1, 4)]], [[Fraction(3, 4)]]).dtype == object
    assert S.point([[0.25]], [[0.75]]).dtype == np.float64
    with pytest.raises(InvalidParameterError):
        S.point([[0]], [[1]])  # a component weight must be positive
    with pytest.raises(ShapeMismatchError):
        S.point([[half, half]], [[]])


def test_minimizer_set_is_assembled_from_its_prompts():
    rng = np.random.default_rng(3)
    D = random_preference_data(rng, 2, 4, zeros=True, exact=True)
    ref = np.array([[Fraction(1, 4)] * 4] * 2, dtype=object)
    S = dpo_minimizers(D, ref, 1)
    w = dpo_weights(D)
    for x in range(2):
        part = prompt_minimizers(w[x], ref[x], Fraction(1), k_inv=1)
        assert part.exists == S.prompts[x].exists
        assert part.free.tolist() == S.free[x].tolist()
        assert np.array_equal(part.rewards, S.rewards[x])
        assert [c.tolist() for c in part.components] == [c.tolist() for c in S.components[x]]
    assert S.exists == all(p.exists for p in S.prompts)
    total = sum(p.min_loss() for p in S.prompts)
    idx = np.arange(4)
    assert abs(S.min_loss - total - float(to_float(w)[:, idx, idx].sum()) * np.log(2)) < 1e-12


def test_self_pair_of_a_zero_mass_response_counts_log_2():
    # response 1 has mass 0 and only meets itself: its self-pair still contributes w log 2
    w = np.array([[[0.25, 0.0, 0.25], [0.0, 0.25, 0.0], [0.25, 0.0, 0.0]]])
    pi, ref = [[0.5, 0.0, 0.5]], [[Fraction(1, 3)] * 3]
    expected = 0.5 * np.log(2) + 0.5 * np.log(2)  # two self-pairs, and a tie at equal d
    assert abs(dpo_loss_from_weights(w, pi, ref) - expected) < 1e-12
    log_pi = np.array([[np.log(0.5), -np.inf, np.log(0.5)]])
    assert abs(dpo_loss_from_log_probs(w, log_pi, ref) - expected) < 1e-12
