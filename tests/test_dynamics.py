"""Tests of theory.dynamics (iterated SFT) and theory.checkpoints (paths, selection)."""

from fractions import Fraction

import numpy as np
import pytest

from theory.checkpoints import (
    Checkpoints,
    checkpoint_path,
    estimate_win_rates,
    select_checkpoints,
)
from theory.data import PreferenceData, random_preference_data
from theory.dynamics import iterated_sft, sft_step
from theory.errors import InvalidParameterError, ShapeMismatchError
from theory.methods.best_of_n import best_of_n
from theory.methods.dpo import dpo_loss, dpo_loss_from_weights, dpo_weights
from theory.methods.sft import winner_distribution
from theory.preferences import bradley_terry_matrix, cyclic, total_order
from theory.simplex import uniform
from theory.winrate import win_rate

half = Fraction(1, 2)


def test_step_is_the_sft_target_of_the_current_model():
    mu = np.array([Fraction(1, 5), Fraction(3, 10), Fraction(1, 2)], dtype=object)
    for P in (total_order(3), cyclic(3, Fraction(2, 3))):
        assert np.all(sft_step(P, mu) == winner_distribution(P, mu))
        assert sum(sft_step(P, mu)) == 1


def test_strict_order_is_best_of_two_to_the_t():
    mu = uniform(4)
    tr = iterated_sft(total_order(4), mu, 3)
    for t in range(4):
        assert np.all(tr.models[t] == best_of_n(mu, [4, 3, 2, 1], 2**t))
    assert all(a < b for a, b in zip(tr.win_rates, tr.win_rates[1:], strict=False))
    # self gain = 2 Var of the current model's W
    W = total_order(4) @ mu
    assert tr.self_gain[0] == 2 * sum(mu * (W - half) ** 2)


def test_float_matches_exact():
    mu = [Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)]
    P = cyclic(3, Fraction(3, 4))
    ex = iterated_sft(P, mu, 4)
    fl = iterated_sft(P.astype(float), np.array(mu, dtype=float), 4)
    assert np.allclose(ex.models.astype(float), fl.models, atol=1e-12)
    assert np.allclose(np.array(ex.win_rates, dtype=float), fl.win_rates, atol=1e-12)


def test_transitive_converges_cyclic_rotates():
    tr = iterated_sft(bradley_terry_matrix([1.0, 0.0, 0.5]), np.array([0.2, 0.5, 0.3]), 400)
    assert tr.models[-1, 0] > 0.999
    assert np.all(np.diff(tr.models[:, 0]) >= -1e-15)
    cyc = iterated_sft(cyclic(3, exact=False), np.array([0.5, 0.3, 0.2]), 300)
    assert cyc.leader_changes() >= 3
    assert np.all(np.diff(cyc.log_potential()) < 0)
    assert np.all(np.isfinite(cyc.log_models))  # no underflow to a false fixed point


def test_uniform_is_fixed_for_rock_paper_scissors():
    tr = iterated_sft(cyclic(3), uniform(3), 2)
    assert all(np.all(m == uniform(3)) for m in tr.models)


def test_checkpoint_path_losses_match_the_library():
    rng = np.random.default_rng(0)
    D = random_preference_data(rng, 2, 3)
    ref = np.full((2, 3), 1 / 3)
    cp = checkpoint_path(D, ref, 0.5, rng, steps=10, learning_rate=2.0)
    for t in (0, 5, 10):
        assert abs(cp.population_loss[t] - dpo_loss(D, cp.models[t], ref, 0.5)) < 1e-10
        assert abs(cp.win_rates[t] - win_rate(D.P, cp.models[t], D.mu0, D.rho)) < 1e-12
    assert np.all(np.diff(cp.train_loss) <= 1e-12)
    assert cp.models[0].tolist() == ref.tolist() or np.allclose(cp.models[0], ref)
    w = dpo_weights(D)
    assert abs(dpo_loss_from_weights(w, cp.models[3], ref, 0.5) - cp.population_loss[3]) < 1e-10


def test_select_checkpoints_and_estimates():
    cp = Checkpoints(
        np.zeros((3, 1, 2)),
        np.zeros(3),
        np.array([3.0, 1.0, 2.0]),
        np.zeros(3),
        np.array([0.5, 0.6, 0.7]),
    )
    c = select_checkpoints(cp)
    assert (c.by_loss, c.by_win_rate, c.differ) == (1, 2, True)
    c2 = select_checkpoints(cp, win_rates=[0.9, 0.1, 0.2])  # a bad estimate picks step 0
    assert c2.by_win_rate == 0 and c2.wr_by_win_rate == 0.5
    with pytest.raises(ShapeMismatchError):
        select_checkpoints(cp, win_rates=[0.1])


def test_errors():
    with pytest.raises(InvalidParameterError):
        iterated_sft(total_order(2), [half, half], -1)
    with pytest.raises(ShapeMismatchError):
        sft_step(total_order(3), [half, half])
    D = PreferenceData(P=total_order(2, exact=False), mu0=[0.5, 0.5])
    with pytest.raises(InvalidParameterError):
        checkpoint_path(D, [[0.5, 0.5]], 0.0, np.random.default_rng(0))


def test_estimated_win_rates_are_unbiased_enough():
    rng = np.random.default_rng(3)
    D = random_preference_data(rng, 2, 3)
    cp = checkpoint_path(D, np.full((2, 3), 1 / 3), 1.0, rng, steps=4)
    est = estimate_win_rates(cp, D, 20000, rng)
    assert np.max(np.abs(est - cp.win_rates)) < 0.02
    with pytest.raises(InvalidParameterError):
        estimate_win_rates(cp, D, 0, rng)
