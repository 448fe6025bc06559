"""Tests of theory.online.sppo: the ideal SPPO step, its runs, the regret bounds and the drift."""

import time
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.errors import (
    InvalidParameterError,
    NotAPreferenceMatrixError,
    NotAProbabilityVectorError,
    ShapeMismatchError,
)
from theory.lottery import maximal_lottery
from theory.numbers import to_float
from theory.online.sppo import (
    binary_entropy,
    regret_bound_a_priori,
    regret_bound_trajectory,
    sppo_run,
    sppo_step,
    sppo_trajectory,
    step_sizes,
)
from theory.preferences import bradley_terry_matrix, cyclic, rock_paper_scissors
from theory.strategies import preference_matrices, simplex_vectors

RPS = to_float(rock_paper_scissors())
START = np.array([0.6, 0.3, 0.1])


def test_step_is_the_multiplicative_update():
    P = np.array([[0.5, 0.8, 0.3], [0.2, 0.5, 0.7], [0.7, 0.3, 0.5]])
    pi = np.array([0.5, 0.3, 0.2])
    w = pi * np.exp(0.7 * (P @ pi))
    np.testing.assert_allclose(sppo_step(P, pi, 0.7), w / w.sum(), rtol=0, atol=1e-15)


@given(st.integers(2, 5).flatmap(lambda K: st.tuples(preference_matrices(K), simplex_vectors(K))))
def test_run_agrees_with_repeated_steps(case):
    P, pi = case
    etas = step_sizes(0.8, 12)
    run = sppo_run(P, pi, etas)
    p = to_float(pi)
    for s, eta in enumerate(etas):
        np.testing.assert_allclose(run.models[s, 0], p, atol=1e-12)
        np.testing.assert_allclose(run.payoffs[s, 0], to_float(P) @ p, atol=1e-12)
        p = sppo_step(P, p, eta)
    np.testing.assert_allclose(run.models[-1, 0], p, atol=1e-12)
    # the log bookkeeping is ln of the models where they are positive
    live = run.models > 0
    np.testing.assert_allclose(np.exp(run.log_models[live]), run.models[live], rtol=1e-9)


def test_fixed_points_point_masses_and_full_support_lottery():
    for i in range(3):
        e = np.eye(3)[i]
        assert np.array_equal(sppo_step(RPS, e, 1.0), e)
    np.testing.assert_allclose(sppo_step(RPS, [1 / 3] * 3, 5.0), [1 / 3] * 3, atol=1e-15)


def test_exploitability_is_max_regret_over_t():
    run = sppo_run(RPS, START, step_sizes(1.0, 500))
    avg = run.averages()[:, 0, :]
    direct = np.max(avg @ RPS.T, axis=1) - 0.5  # max_y W_avg(y) - 1/2
    np.testing.assert_allclose(run.exploitability()[:, 0], direct, atol=1e-12)
    # = 1/2 - min_y WR(avg; e_y)
    np.testing.assert_allclose(direct, 0.5 - np.min(avg @ RPS, axis=1), atol=1e-12)


def _bounds_hold(P, pi0, T, eta0=1.0):
    P3 = np.atleast_3d(P) if P.ndim == 3 else P[None]
    etas = step_sizes(eta0, T)
    run = sppo_run(P3, pi0[None], etas)
    R = run.regrets()
    m = to_float(maximal_lottery(P3[0], exact=False).pi)[None]
    kl = run.kl_to(m)
    B = regret_bound_trajectory(etas, run.log_models)
    assert np.all(R <= B + 1e-9)
    D = kl[0] + np.concatenate([[0.0], np.cumsum(etas**2 / 8)])[:, None]
    assert np.all(kl <= D + 1e-9)
    if np.all(m > 0):
        A = regret_bound_a_priori(etas, m, kl[0])
        assert np.all(R <= A + 1e-9)
        assert np.all(B <= A + 1e-9)  # the a priori form bounds the trajectory form
    return run


def test_bounds_hold_on_rock_paper_scissors_at_every_step():
    run = _bounds_hold(RPS, START, 20_000)
    assert run.exploitability()[-1, 0] < 0.02


@given(st.integers(0, 2**32 - 1))
def test_bounds_hold_on_random_instances(seed):
    rng = np.random.default_rng(seed)
    K = int(rng.integers(2, 6))
    P = np.full((K, K), 0.5)
    iu = np.triu_indices(K, 1)
    P[iu] = rng.uniform(size=len(iu[0]))
    P[(iu[1], iu[0])] = 1 - P[iu]
    _bounds_hold(P, rng.dirichlet(np.ones(K)), 300, eta0=float(rng.uniform(0.1, 3.0)))


def test_a_priori_bound_by_hand():
    # K = 2, m = (1/2, 1/2), KL(m || pi_1) = 0, one step eta = 1: (0 + ln 2) / (1/2) + 1/8
    A = regret_bound_a_priori([1.0], [[0.5, 0.5]], [0.0])
    np.testing.assert_allclose(A[0, 0], [2 * np.log(2) + 1 / 8] * 2, rtol=1e-15)
    assert np.isinf(regret_bound_a_priori([1.0], [[1.0, 0.0]], [0.0])[0, 0, 1])
    assert binary_entropy(0.0) == 0 and binary_entropy(1.0) == 0


def test_constant_step_drifts_to_the_boundary():
    run = sppo_run(RPS, START, step_sizes(0.1, 20_000, "constant"))
    kl = run.kl_to(np.full((1, 3), 1 / 3))[:, 0]
    assert np.all(np.diff(kl) > 0)  # strictly away from the maximal lottery at every step
    assert run.models[:, 0].min() < 1e-4
    leaders = np.argmax(run.models[:, 0], axis=1)
    assert np.sum(leaders[1:] != leaders[:-1]) > 10  # keeps rotating: no convergence


def test_decreasing_step_average_approaches_the_maximal_lottery():
    run = sppo_run(RPS, START, step_sizes(1.0, 20_000))
    avg = run.averages()[-1, 0]
    assert 0.5 * np.abs(avg - 1 / 3).sum() < 0.02


def test_bradley_terry_concentrates_on_the_best_response():
    P = bradley_terry_matrix([0.0, 1.0, 2.0])
    tr = sppo_trajectory(P, [1 / 3] * 3, eta0=1.0, steps=3000)
    assert tr.final[2] > 0.99 and tr.steps == 3000


def test_speed_of_a_long_run():
    t0 = time.process_time()
    sppo_run(RPS, START, step_sizes(1.0, 100_000))
    assert time.process_time() - t0 < 5.0  # 1e5 steps: well under a second on a quiet core


def test_bad_input():
    with pytest.raises(InvalidParameterError):
        step_sizes(0.0, 3)
    with pytest.raises(InvalidParameterError):
        step_sizes(1.0, 3, "linear")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        step_sizes(1.0, -1)
    with pytest.raises(InvalidParameterError):
        sppo_step(RPS, START, -1.0)
    with pytest.raises(InvalidParameterError):
        sppo_run(RPS, START, [1.0, -0.5])
    with pytest.raises(InvalidParameterError):
        regret_bound_trajectory([0.5, 1.0], np.zeros((3, 1, 2)))  # increasing steps
    with pytest.raises(ShapeMismatchError):
        sppo_step(RPS, [0.5, 0.5], 1.0)
    with pytest.raises(NotAProbabilityVectorError):
        sppo_step(RPS, [0.5, 0.6, 0.1], 1.0)
    with pytest.raises(NotAPreferenceMatrixError):
        sppo_step([[0.5, 0.9], [0.9, 0.5]], [0.5, 0.5], 1.0)


def test_exact_input_is_accepted():
    P = cyclic(3, Fraction(3, 4))
    out = sppo_step(P, [Fraction(1, 2), Fraction(1, 2), 0], Fraction(1, 2))
    assert out.dtype == float and abs(out.sum() - 1) < 1e-15 and out[2] == 0
