"""theory.online.dpo: online DPO's expected update, its fixed point, iterative DPO."""

import time
from fractions import Fraction

import numpy as np
import pytest
from scipy.special import expit

from theory.errors import InvalidParameterError, NotConvergedError
from theory.kernels import dpo_pair_loss
from theory.online.core import FixedPoint, references
from theory.online.dpo import (
    iterative_dpo_trajectory,
    judge_reward,
    online_dpo_fixed_point,
    online_dpo_gradient,
    online_dpo_map,
    online_dpo_residual,
    online_dpo_step,
    online_dpo_trajectory,
)
from theory.preferences import bradley_terry_from_strengths

P3 = np.array([[0.5, 0.8, 0.3], [0.2, 0.5, 0.7], [0.7, 0.3, 0.5]])
REF = np.array([0.5, 0.3, 0.2])


def _random_judge(rng, K, lo=0.02):
    u = rng.uniform(lo, 1 - lo, size=(K, K))
    return np.triu(u, 1) + np.tril(1.0 - u.T, -1) + 0.5 * np.eye(K)


def test_zoo_worked_example():
    fp = online_dpo_fixed_point(P3, REF, 0.5)
    assert fp.converged and fp.residual <= 1e-12
    assert np.round(fp.pi, 3).tolist() == [0.474, 0.179, 0.347]
    by = {r.name: r for r in references(fp.pi, P3, REF, 0.5)}
    assert np.round(by["WRO[identity]"].pi, 3).tolist() == [0.547, 0.238, 0.215]
    assert min(r.tv for r in by.values()) > 1e-3  # neither WRO nor NLHF


def test_fixed_point_is_a_fixed_point_of_the_trained_map():
    # the BT fit of the judge under pi ⊗ pi (library's Bradley-Terry MLE, an independent path)
    fp = online_dpo_fixed_point(P3, REF, 0.5)
    assert np.max(np.abs(online_dpo_map(P3, fp.pi, REF, 0.5) - fp.pi)) < 1e-9
    r = judge_reward(P3, fp.pi)
    want = REF * np.exp(r / 0.5)
    assert np.allclose(fp.pi, want / want.sum(), atol=1e-9)


def test_gradient_is_the_expected_semi_gradient():
    rng = np.random.default_rng(0)
    P, ref, pi, beta = (
        _random_judge(rng, 4),
        rng.dirichlet(np.ones(4)),
        rng.dirichlet(np.ones(4)),
        0.7,
    )
    w = 2 * pi[:, None] * pi[None, :] * P  # pairs from pi, frozen (semi-gradient)

    def loss(theta):
        p = np.exp(theta - theta.max())
        p /= p.sum()
        return float(dpo_pair_loss(w[None], (np.log(p) - np.log(ref))[None], beta))

    theta, h = np.log(pi), 1e-6
    fd = np.array([(loss(theta + h * e) - loss(theta - h * e)) / (2 * h) for e in np.eye(4)])
    g = online_dpo_gradient(P, pi, ref, beta)
    assert np.allclose(g, fd, atol=1e-8)
    assert abs(g.sum()) < 1e-15


def test_bradley_terry_judge_gives_rlhf():
    rng = np.random.default_rng(1)
    r = rng.normal(0, 2, size=5)
    P = expit(r[:, None] - r[None, :])
    ref = rng.dirichlet(np.ones(5))
    fp = online_dpo_fixed_point(P, ref, 0.3)
    want = ref * np.exp((r - r.max()) / 0.3)
    assert np.allclose(fp.pi, want / want.sum(), atol=1e-12)


def test_exact_bradley_terry_fixed_point():
    ref = [Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)]
    fp = online_dpo_fixed_point(bradley_terry_from_strengths([1, 2, 3]), ref, Fraction(1, 2))
    num = [Fraction(1, 2) * 1, Fraction(1, 3) * 4, Fraction(1, 6) * 9]
    assert fp.pi.tolist() == [v / sum(num) for v in num] and fp.residual == 0


@pytest.mark.parametrize("beta", [0.01, 0.1, 1.0, 10.0])
def test_large_K_meets_the_target(beta):
    rng = np.random.default_rng(int(beta * 100))
    P, ref = _random_judge(rng, 50), rng.dirichlet(np.ones(50))
    t = time.perf_counter()
    fp = online_dpo_fixed_point(P, ref, beta)
    assert time.perf_counter() - t < 1.0
    assert fp.residual <= 1e-12
    assert online_dpo_residual(P, fp.pi, ref, beta) == fp.residual


def test_trajectory_converges_to_the_fixed_point():
    tr = online_dpo_trajectory(P3, REF, REF, 0.5, 600)
    fp = online_dpo_fixed_point(P3, REF, 0.5)
    assert np.max(np.abs(tr.final - fp.pi)) < 1e-8
    assert np.allclose(online_dpo_step(P3, fp.pi, REF, 0.5), fp.pi, atol=1e-14)


def test_support_of_the_reference_is_kept():
    ref = np.array([0.6, 0.0, 0.4])
    fp = online_dpo_fixed_point(P3, ref, 0.5)
    assert fp.pi[1] == 0 and fp.residual <= 1e-12
    assert online_dpo_residual(P3, [0.5, 0.2, 0.3], ref, 0.5) == float("inf")


def test_bad_input_and_non_convergence():
    with pytest.raises(InvalidParameterError):
        online_dpo_fixed_point(P3, REF, 0.0)
    with pytest.raises(InvalidParameterError):  # a sure win: the BT fit does not exist
        online_dpo_fixed_point([[0.5, 1.0], [0.0, 0.5]], [0.5, 0.5], 1.0)
    P = np.array([[0.5, 0.62, 0.29], [0.38, 0.5, 0.09], [0.71, 0.91, 0.5]])
    with pytest.raises(NotConvergedError) as info:  # coordinates exp(-c/beta) underflow
        online_dpo_fixed_point(P, [1 / 3] * 3, 1e-3)
    result = info.value.result
    assert isinstance(result, FixedPoint) and not result.converged


def test_iterative_dpo_with_a_bt_judge_is_rlhf_at_beta_over_t():
    s = np.array([1.0, 2.0, 4.0])
    P = s[:, None] / (s[:, None] + s[None, :])
    start = np.array([0.5, 0.3, 0.2])
    tr = iterative_dpo_trajectory(P, start, 2.0, 4)
    for t in range(5):
        want = start * s ** (t / 2.0)
        assert np.allclose(tr.points[t], want / want.sum(), atol=1e-9)
