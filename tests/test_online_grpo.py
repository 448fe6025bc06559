"""theory.online.grpo: GRPO's expected update, its forward-KL fixed point and when none exists."""

import time

import numpy as np
import pytest

from theory.errors import InvalidParameterError, NoFixedPointError
from theory.online.grpo import (
    forward_kl_optimum,
    grpo_advantage,
    grpo_fixed_point,
    grpo_gradient,
    grpo_residual,
    grpo_trajectory,
)
from theory.online.rloo import rloo_fixed_point


def test_two_responses_closed_form():
    # K = 2: sqrt(p (1 - p)) = beta (p - q) for the top response's mass p
    for beta, q in ((1.0, 0.5), (0.1, 0.3), (5.0, 0.8)):
        fp = grpo_fixed_point([1.0, 0.0], [q, 1 - q], beta)
        p = fp.pi[0]
        assert np.sqrt(p * (1 - p)) == pytest.approx(beta * (p - q), abs=1e-12)


def test_advantage_is_standardized():
    rng = np.random.default_rng(0)
    r, pi = rng.normal(size=6), rng.dirichlet(np.ones(6))
    A = grpo_advantage(r, pi)
    assert pi @ A == pytest.approx(0, abs=1e-14) and pi @ A**2 == pytest.approx(1, abs=1e-14)
    assert grpo_advantage([2.0, 2.0], [0.5, 0.5]).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("beta", [1e-4, 1e-2, 1.0, 100.0])
def test_fixed_point_exists_and_solves_the_forward_kl_problem(beta):
    rng = np.random.default_rng(7)
    r, ref = rng.normal(0, 2, size=50), rng.dirichlet(np.ones(50))
    t = time.perf_counter()
    fp = grpo_fixed_point(r, ref, beta)
    assert time.perf_counter() - t < 1.0
    assert fp.converged and fp.residual <= 1e-12
    p = forward_kl_optimum(grpo_advantage(r, fp.pi), ref, beta)
    assert np.max(np.abs(p - fp.pi)) < 1e-9
    assert np.max(np.abs(grpo_gradient(r, fp.pi, ref, beta))) <= 1e-12 * max(1.0, beta)


def test_small_beta_tends_to_the_argmax():
    r, ref = np.array([0.0, 1.0, 0.5]), np.array([0.6, 0.1, 0.3])
    gaps = [1 - grpo_fixed_point(r, ref, b).pi[1] for b in (1e-1, 1e-2, 1e-3)]
    assert gaps[0] > gaps[1] > gaps[2] > 0
    assert gaps[2] / gaps[1] == pytest.approx(1e-2, rel=0.2)  # 1 - pi(top) ~ beta^2


def test_differs_from_the_reverse_kl_optimum():
    r, ref = np.array([0.0, 1.0, 0.5]), np.array([0.6, 0.1, 0.3])
    fp = grpo_fixed_point(r, ref, 0.5)
    rlhf = rloo_fixed_point(r, ref, 0.5).pi
    assert np.max(np.abs(fp.pi - rlhf)) > 1e-2
    assert grpo_residual(r, rlhf, ref, 0.5) > 1e-3


def test_trajectory_converges():
    r, ref = np.array([0.0, 1.0, 0.5]), np.array([0.6, 0.1, 0.3])
    tr = grpo_trajectory(r, [1 / 3] * 3, ref, 1.0, 3000, lr=1.0)
    assert np.max(np.abs(tr.final - grpo_fixed_point(r, ref, 1.0).pi)) < 1e-9


def test_no_fixed_point_for_a_constant_reward():
    with pytest.raises(NoFixedPointError):
        grpo_fixed_point([1.0, 1.0, 3.0], [0.5, 0.5, 0.0], 0.1)
    with pytest.raises(NoFixedPointError):
        grpo_fixed_point([2.0, 0.0], [1.0, 0.0], 1.0)  # a single response
    with pytest.raises(InvalidParameterError):
        grpo_gradient([1.0, 0.0], [0.5, 0.5], [1.0, 0.0], 1.0)  # k3 infinite


def test_every_start_flows_to_the_one_fixed_point():
    # the expected GRPO update, iterated here from many random starts (written independently of
    # the library's solver), always ends at the library's fixed point (unique, by the derivation)
    rng = np.random.default_rng(11)
    for beta in (0.3, 1.0):
        K = 4
        r, ref = rng.normal(size=K), rng.dirichlet(np.ones(K))
        want = grpo_fixed_point(r, ref, beta).pi
        for _ in range(4):
            p = rng.dirichlet(np.full(K, 0.3))
            for _ in range(2000):
                c = r - p @ r
                theta = np.log(p) + 1.0 * (p * c / np.sqrt(p @ c**2) - beta * (p - ref))
                p = np.exp(theta - theta.max())
                p /= p.sum()
            assert np.max(np.abs(p - want)) < 1e-5  # (the distance still falls geometrically)
