"""Simulated training (theory.training), the opt-success experiment (theory.experiments) and its
statistics (theory.statistics)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.data import PreferenceData
from theory.errors import (
    InvalidParameterError,
    NoMaximumLikelihoodError,
    ShapeMismatchError,
    SupportMismatchError,
)
from theory.experiments import (
    ExperimentGrid,
    OptSetting,
    RunRecord,
    SuccessDesign,
    default_grid,
    design_problem,
    judged_problem,
    objective_optimum,
    opt_success_experiment,
    proxy_judge,
    run_design_problem,
    secondary_objectives,
)
from theory.preferences import random_family_matrix, total_order
from theory.simplex import random_model
from theory.statistics import (
    Interval,
    adjusted_r_squared,
    bootstrap_mean,
    compare_explanations,
    decide,
    oos_r_squared,
    r_squared_binned,
    r_squared_groups,
    r_squared_linear,
    shapley_r_squared,
    success_bins,
)
from theory.strategies import models, preference_data
from theory.training import (
    RunBatch,
    TrainingObjective,
    TrainingSettings,
    expected_direction,
    initial_parameters,
    log_linear_policy,
    make_problem,
    objective_value,
    objective_values,
    optimization_success,
    policy_probs,
    random_features,
    self_play_objective,
    self_play_payoff,
    stochastic_gradient,
    tabular_policy,
    train,
    train_batch,
)
from theory.wro import wro_objective

#: Central finite differences of a smooth objective agree with the analytic gradient to this.
FD_TOL = 1e-6
FD_STEP = 1e-5

OBJECTIVES = [
    TrainingObjective("wro", h="identity", anchor="ref", beta=0.0),
    TrainingObjective("wro", h="identity", anchor="data", beta=0.2),
    TrainingObjective("wro", h="logit", anchor="ref", beta=0.1),
    TrainingObjective("wro", h="log", anchor="data", beta=0.3),
    TrainingObjective("wro", h="logit", anchor="ref", beta=0.1, judge="bradley_terry"),
    TrainingObjective("dpo", beta=0.5),
    TrainingObjective("sft"),
]
SELF_PLAY = [
    TrainingObjective("wro", anchor="self", beta=0.0),
    TrainingObjective("wro", anchor="self", beta=0.2),
]


def _problem(seed: int = 0, M: int = 2, K: int = 4):
    rng = np.random.default_rng(seed)
    P = np.stack([random_family_matrix(rng, K, f) for f in ("general", "bradley_terry")[:M]])
    data = PreferenceData(P=P, mu0=random_model(rng, M, K), rho=[0.4, 0.6][:M] if M == 2 else None)
    pi_ref = random_model(rng, M, K)
    return make_problem(data, pi_ref), random_features(rng, M, K, 2)


def _policies(problem, features):
    return [tabular_policy(problem.pi_ref), log_linear_policy(problem.pi_ref, features)]


def _finite_difference(f, theta):
    g = np.zeros_like(theta)
    for idx in np.ndindex(theta.shape):
        e = np.zeros_like(theta)
        e[idx] = FD_STEP
        g[idx] = (f(theta + e) - f(theta - e)) / (2 * FD_STEP)
    return g


@pytest.mark.parametrize("objective", OBJECTIVES, ids=lambda o: o.label)
def test_expected_direction_is_the_gradient_of_the_objective(objective):
    problem, features = _problem()
    rng = np.random.default_rng(1)
    for policy in _policies(problem, features):
        theta = rng.normal(scale=0.5, size=policy.parameter_shape)
        fd = _finite_difference(
            lambda t, pol=policy: objective_value(problem, objective, policy_probs(pol, t)), theta
        )
        exact = expected_direction(problem, objective, policy, theta)
        np.testing.assert_allclose(exact, fd, atol=FD_TOL, rtol=0)


@pytest.mark.parametrize("objective", SELF_PLAY, ids=lambda o: o.label)
def test_self_play_direction_is_the_gradient_against_a_frozen_opponent(objective):
    problem, features = _problem()
    rng = np.random.default_rng(2)
    for policy in _policies(problem, features):
        theta = rng.normal(scale=0.5, size=policy.parameter_shape)
        q = policy_probs(policy, theta)

        def frozen(t, pol=policy, q=q):
            pi = policy_probs(pol, t)
            return wro_objective(
                problem.P, pi, q, objective.beta, problem.pi_ref, "identity", problem.rho
            )

        fd = _finite_difference(frozen, theta)
        np.testing.assert_allclose(
            expected_direction(problem, objective, policy, theta), fd, atol=FD_TOL, rtol=0
        )


@pytest.mark.parametrize("beta", [0.0, 0.3])
def test_self_play_payoff_is_the_minimum_over_opponents(beta):
    problem, _ = _problem(3)
    obj = TrainingObjective("wro", anchor="self", beta=beta)
    rng = np.random.default_rng(3)
    for _ in range(5):
        pi = random_model(rng, problem.M, problem.K)
        J = self_play_payoff(problem, obj, pi)

        def F(q, pi=pi):
            val = wro_objective(problem.P, pi, q, beta, problem.pi_ref, "identity", problem.rho)
            if beta == 0:
                return float(val)
            kl_q = np.sum(q * np.log(q / problem.pi_ref), axis=1)
            return float(val) + beta * float(problem.rho @ kl_q)

        for _ in range(20):  # every opponent gives at least J
            assert F(random_model(rng, problem.M, problem.K)) >= J - 1e-12
        v = np.einsum("xij,xi->xj", problem.P, pi)
        if beta == 0:  # the best opponent is a point mass on argmin (P^T pi)
            q_star = np.eye(problem.K)[v.argmin(axis=1)]
        else:  # the best opponent is proportional to pi_ref exp(-(P^T pi) / beta)
            q_star = problem.pi_ref * np.exp(-v / beta)
            q_star /= q_star.sum(axis=1, keepdims=True)
        assert F(q_star) == pytest.approx(J, abs=1e-12)


@pytest.mark.parametrize("objective", OBJECTIVES + SELF_PLAY, ids=lambda o: o.label)
def test_stochastic_gradient_is_unbiased(objective):
    problem, features = _problem(4)
    rng = np.random.default_rng(5)
    policy = tabular_policy(problem.pi_ref)
    theta = rng.normal(scale=0.5, size=policy.parameter_shape)
    draws = np.stack(
        [stochastic_gradient(problem, objective, policy, theta, rng, 64) for _ in range(400)]
    )
    mean, se = draws.mean(axis=0), draws.std(axis=0) / np.sqrt(len(draws))
    exact = expected_direction(problem, objective, policy, theta)
    assert np.all(np.abs(mean - exact) <= 5 * se + 1e-9), (mean, exact, se)


def test_training_is_deterministic_given_the_seed():
    problem, features = _problem(6)
    for objective in OBJECTIVES + SELF_PLAY:
        for policy in _policies(problem, features):
            s = TrainingSettings(learning_rate=0.5, steps=20, batch_size=8, seed=11)
            a, b = train(problem, objective, policy, s), train(problem, objective, policy, s)
            np.testing.assert_array_equal(a.theta, b.theta)
            c = train(problem, objective, policy, TrainingSettings(0.5, 20, 8, seed=12))
            assert not np.array_equal(a.theta, c.theta)


@pytest.mark.parametrize("objective", OBJECTIVES + SELF_PLAY, ids=lambda o: o.label)
def test_training_improves_the_objective_towards_its_optimum(objective):
    problem, _ = _problem(7)
    policy = tabular_policy(problem.pi_ref)
    run = train(problem, objective, policy, TrainingSettings(1.0, 400, 32, seed=3))
    J0 = objective_value(problem, objective, problem.pi_ref)
    J1 = objective_value(problem, objective, run.pi)
    opt = objective_optimum(problem, objective)
    assert J0 < J1 <= opt.value + 1e-9
    assert 0 < optimization_success(J1, J0, opt.value) <= 1 + 1e-9


@pytest.mark.parametrize("objective", OBJECTIVES + SELF_PLAY, ids=lambda o: o.label)
def test_no_model_beats_the_exact_optimum(objective):
    problem, _ = _problem(8)
    opt = objective_optimum(problem, objective)
    assert objective_value(problem, objective, opt.pi) == pytest.approx(opt.value, abs=1e-9)
    rng = np.random.default_rng(9)
    for _ in range(50):
        pi = random_model(rng, problem.M, problem.K)
        assert objective_value(problem, objective, pi) <= opt.value + 1e-12


def test_log_linear_policy_starts_at_pi_ref_and_has_d_parameters():
    problem, features = _problem()
    pol = log_linear_policy(problem.pi_ref, features)
    assert initial_parameters(pol).shape == (2,)
    np.testing.assert_allclose(policy_probs(pol, initial_parameters(pol)), problem.pi_ref)


def test_optimization_success_defined_cases():
    assert optimization_success(0.75, 0.5, 1.0) == 0.5
    assert optimization_success(0.25, 0.5, 1.0) == -0.5
    assert optimization_success(0.5, 0.5, 0.5) == 1.0
    assert optimization_success(0.4, 0.5, 0.5) == 0.0
    assert optimization_success(float("-inf"), 0.5, 1.0) == float("-inf")


# ------------------------------------------------------------------------------------------
# named errors


@pytest.mark.parametrize(
    "kwargs",
    [
        {"learning_rate": 0.0, "steps": 1, "batch_size": 2},
        {"learning_rate": -1.0, "steps": 1, "batch_size": 2},
        {"learning_rate": float("nan"), "steps": 1, "batch_size": 2},
        {"learning_rate": True, "steps": 1, "batch_size": 2},
        {"learning_rate": 0.1, "steps": -1, "batch_size": 2},
        {"learning_rate": 0.1, "steps": 1.5, "batch_size": 2},
        {"learning_rate": 0.1, "steps": 1, "batch_size": 0},
        {"learning_rate": 0.1, "steps": 1, "batch_size": 2, "seed": -3},
        {"learning_rate": 0.1, "steps": 1, "batch_size": 2, "dataset_size": 0},
    ],
)
def test_bad_knobs_raise_named_errors(kwargs):
    with pytest.raises(InvalidParameterError):
        TrainingSettings(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "ppo"},
        {"method": "wro", "beta": -0.1},
        {"method": "wro", "beta": float("inf")},
        {"method": "dpo", "beta": 0.0},
        {"method": "wro", "anchor": "elsewhere"},
        {"method": "wro", "judge": "oracle"},
        {"method": "wro", "h": "no-such-h"},
        {"method": "wro", "anchor": "self", "h": "logit"},
        {"method": "wro", "anchor": "self", "judge": "bradley_terry"},
    ],
)
def test_bad_objectives_raise_named_errors(kwargs):
    with pytest.raises(InvalidParameterError):
        TrainingObjective(**kwargs)


def test_bad_policies_and_problems_raise_named_errors():
    problem, features = _problem()
    with pytest.raises(SupportMismatchError):
        tabular_policy([[0.0, 1.0]])
    with pytest.raises(InvalidParameterError):  # d = K features is not "fewer than responses"
        log_linear_policy(problem.pi_ref, np.zeros((2, 4, 4)))
    with pytest.raises(ShapeMismatchError):
        log_linear_policy(problem.pi_ref, np.zeros((2, 3, 1)))
    with pytest.raises(ShapeMismatchError):
        make_problem(problem.data, [[0.5, 0.5]])
    with pytest.raises(ShapeMismatchError):
        objective_value(problem, TrainingObjective("sft"), np.full((1, 4), 0.25))
    with pytest.raises(InvalidParameterError):  # no leave-one-out baseline with one sample
        train(
            problem,
            TrainingObjective("wro"),
            tabular_policy(problem.pi_ref),
            TrainingSettings(0.1, 1, 1),
        )
    with pytest.raises(InvalidParameterError):  # J_opt below J_start is not an optimum
        optimization_success(0.5, 0.6, 0.4)


def test_deterministic_preferences_raise_named_errors():
    data = PreferenceData(P=total_order(3, exact=False), mu0=[1 / 3] * 3)
    with pytest.raises(NoMaximumLikelihoodError):  # no BT judge for a deterministic order
        make_problem(data, [[1 / 3] * 3])
    # one sure win (0 beats 1) in an otherwise uncertain matrix: the BT judge exists, but the
    # logit of the true P is infinite, so REINFORCE would see infinite rewards
    P = np.array([[0.5, 1.0, 0.5], [0.0, 0.5, 0.5], [0.5, 0.5, 0.5]])
    problem = make_problem(PreferenceData(P=P, mu0=[1 / 3] * 3), [[1 / 3] * 3])
    settings = TrainingSettings(0.1, 2, 4)
    with pytest.raises(InvalidParameterError, match="infinite"):
        train(
            problem, TrainingObjective("wro", h="logit"), tabular_policy(problem.pi_ref), settings
        )
    run = train(
        problem, TrainingObjective("wro", h="identity"), tabular_policy(problem.pi_ref), settings
    )
    assert np.all(np.isfinite(run.pi))


# ------------------------------------------------------------------------------------------
# the experiment's statistics


def test_r_squared_agree_with_least_squares():
    rng = np.random.default_rng(10)
    x = rng.normal(size=60)
    g = rng.integers(0, 4, size=60)
    y = 0.3 * x + 0.5 * g + rng.normal(size=60)

    def lstsq_r2(X):
        beta, *_ = np.linalg.lstsq(X, y, rcond=None)
        resid = y - X @ beta
        return 1 - resid @ resid / np.sum((y - y.mean()) ** 2)

    assert r_squared_linear(y, x) == pytest.approx(lstsq_r2(np.column_stack([np.ones(60), x])))
    assert r_squared_groups(y, g) == pytest.approx(lstsq_r2(np.eye(4)[g]))
    assert 0 <= r_squared_binned(y, x, 5) <= 1
    with pytest.raises(InvalidParameterError):
        r_squared_linear([1.0], [1.0])
    with pytest.raises(InvalidParameterError):
        r_squared_binned(y, x, 0)


def _record(i, objective, success, win_rate, problem=0):
    return RunRecord(
        run=i,
        problem=problem,
        replicate=0,
        objective=objective,
        is_wro=objective.startswith("W"),
        parameterization="tabular",
        learning_rate=0.1,
        steps=1,
        batch_size=2,
        seed=i,
        samples=2,
        win_rate=win_rate,
        J_start=0.0,
        J_final=success,
        J_opt=1.0,
        success=success,
        optimum_win_rate=0.6,
    )


def test_compare_explanations_detects_which_variable_explains():
    rng = np.random.default_rng(11)
    s = rng.uniform(size=80)
    by_success = [_record(i, ["WA", "WB", "D"][i % 3], s[i], 0.5 + 0.2 * s[i]) for i in range(80)]
    stats = compare_explanations(by_success, rng, bootstrap=50)
    assert stats["success"].r2 == pytest.approx(1.0)
    assert stats["success"].r2 > stats["objective"].r2
    by_objective = [
        _record(i, ["WA", "WB", "D"][i % 3], s[i], [0.5, 0.6, 0.7][i % 3]) for i in range(80)
    ]
    stats = compare_explanations(by_objective, rng, bootstrap=50)
    assert stats["objective"].r2 == pytest.approx(1.0)
    assert stats["success_minus_objective"].high < 0


def test_small_experiment_records_exact_scores():
    grid = default_grid()
    small = ExperimentGrid(
        objectives=grid.objectives[:3] + grid.objectives[-2:],
        settings=(OptSetting(0.5, 10, 4, "tabular"), OptSetting(0.5, 10, 4, "log-linear")),
    )
    res = opt_success_experiment(np.random.default_rng(12), 12, problems=2, grid=small)
    assert len(res.records) == 12 and {r.problem for r in res.records} == {0, 1}
    for r in res.records:
        problem = res.problems[r.problem]
        assert r.J_opt == res.optima[r.problem][r.objective].value
        assert r.success <= 1 + 1e-9
        assert 0 < r.win_rate < 1
        assert r.J_start == pytest.approx(
            objective_value(
                problem, next(o for o in small.objectives if o.label == r.objective), problem.pi_ref
            )
        )


def test_adjusted_r_squared_and_problem_level_bootstrap():
    assert adjusted_r_squared(0.5, 11, 1) == pytest.approx(1 - 0.5 * 10 / 9)
    assert adjusted_r_squared(0.9, 5, 4) == 0.0  # no residual degrees of freedom
    rng = np.random.default_rng(13)
    records = []
    for p in range(6):  # success explains everything on every problem
        s = rng.uniform(size=30)
        records += [
            _record(30 * p + i, ["WA", "D"][i % 2], s[i], 0.5 + 0.1 * s[i], problem=p)
            for i in range(30)
        ]
    stats = compare_explanations(records, rng, bootstrap=50)
    assert stats["bootstrap_unit"] == "problem" and stats["problems"] == 6
    assert stats["success_adj"].r2 == pytest.approx(1.0)
    assert stats["success_adj"].low <= stats["success_adj"].r2 <= stats["success_adj"].high
    assert stats["objective_adj"].r2 < 0.5


# ------------------------------------------------------------------------------------------
# properties on random instances (Hypothesis)


PROPERTY_OBJECTIVES = [
    TrainingObjective("wro", h="identity", anchor="data", beta=0.2),
    TrainingObjective("wro", h="logit", anchor="ref", beta=0.5, judge="bradley_terry"),
    TrainingObjective("wro", anchor="self", beta=0.3),
    TrainingObjective("dpo", beta=0.7),
    TrainingObjective("sft"),
]


@st.composite
def problems(draw):
    data = draw(preference_data(family="bradley_terry"))  # P strictly inside (0, 1)
    pi_ref = draw(models(data.M, data.K))
    return make_problem(data, pi_ref)


@settings(max_examples=25)
@given(problems(), st.sampled_from(PROPERTY_OBJECTIVES), st.integers(0, 2**32 - 1))
def test_properties_gradient_and_optimum_on_random_instances(problem, objective, seed):
    rng = np.random.default_rng(seed)
    policy = tabular_policy(problem.pi_ref)
    theta = rng.normal(scale=0.3, size=policy.parameter_shape)
    if objective.anchor == "self":  # the self-play direction: the gradient at a frozen opponent
        q = policy_probs(policy, theta)

        def f(t):
            return wro_objective(
                problem.P,
                policy_probs(policy, t),
                q,
                objective.beta,
                problem.pi_ref,
                "identity",
                problem.rho,
            )
    else:

        def f(t):
            return objective_value(problem, objective, policy_probs(policy, t))

    np.testing.assert_allclose(
        expected_direction(problem, objective, policy, theta),
        _finite_difference(f, theta),
        atol=FD_TOL,
        rtol=0,
    )
    opt = objective_optimum(problem, objective)
    assert objective_value(problem, objective, policy_probs(policy, theta)) <= opt.value + 1e-9


# ------------------------------------------------------------------------------------------
# the self-play objective: one meaning, maximized (value 1/2) at the regularized Nash equilibrium


@pytest.mark.parametrize("beta", [0.0, 0.05, 0.3])
def test_self_play_objective_is_maximized_at_the_nash_equilibrium(beta):
    from theory.wro import SELF, wro_optimum

    problem, _ = _problem(14, M=2, K=4)
    nash = to_float_model(
        wro_optimum(problem.P, SELF, beta, problem.pi_ref, "identity", problem.rho).pi
    )
    J = self_play_objective(problem.P, nash, beta, problem.pi_ref, problem.rho)
    assert float(J) == pytest.approx(0.5, abs=1e-7)
    rng = np.random.default_rng(15)
    others = np.stack([random_model(rng, problem.M, problem.K) for _ in range(50)])
    values = self_play_objective(problem.P, others, beta, problem.pi_ref, problem.rho)
    assert values.shape == (50,) and np.all(values <= 0.5 + 1e-12)
    obj = TrainingObjective("wro", anchor="self", beta=beta)
    assert self_play_payoff(problem, obj, others[0]) == pytest.approx(float(values[0]), abs=1e-14)


def to_float_model(pi):
    return np.asarray(pi, dtype=np.float64)


@pytest.mark.parametrize("objective", OBJECTIVES + SELF_PLAY, ids=lambda o: o.label)
def test_objective_values_on_stacks_equal_objective_value(objective):
    problem, _ = _problem(16)
    rng = np.random.default_rng(17)
    pis = np.stack([random_model(rng, problem.M, problem.K) for _ in range(6)])
    expected = [objective_value(problem, objective, pi) for pi in pis]
    np.testing.assert_allclose(objective_values(problem, objective, pis), expected, atol=1e-12)


@pytest.mark.parametrize(
    "objective",
    [OBJECTIVES[1], OBJECTIVES[2], OBJECTIVES[5], OBJECTIVES[6], SELF_PLAY[1]],
    ids=lambda o: o.label,
)
def test_train_batch_first_step_is_unbiased(objective):
    # with lr = 1 the first tabular step is theta_1 = G, recovered from the logits of pi_1 up to a
    # per-row constant (every direction's rows sum to 0); its mean over many runs is the gradient
    problem, _ = _problem(18)
    R = 3000
    runs = RunBatch((objective,) * R, np.ones(R), np.full(R, 8))
    snaps = train_batch(
        problem, tabular_policy(problem.pi_ref), runs, np.random.default_rng(19), (1,)
    )
    G = np.log(snaps[0]) - np.log(problem.pi_ref)
    G -= G.mean(axis=-1, keepdims=True)
    mean, se = G.mean(axis=0), G.std(axis=0) / np.sqrt(R)
    exact = expected_direction(
        problem, objective, tabular_policy(problem.pi_ref), np.zeros((problem.M, problem.K))
    )
    assert np.all(np.abs(mean - exact) <= 5 * se + 1e-9), (mean, exact, se)


def test_train_batch_is_deterministic_and_records_snapshots():
    problem, features = _problem(20)
    runs = RunBatch(tuple(OBJECTIVES), np.full(len(OBJECTIVES), 0.5), np.full(len(OBJECTIVES), 4))
    for policy in _policies(problem, features):
        a = train_batch(problem, policy, runs, np.random.default_rng(1), (0, 5, 10))
        b = train_batch(problem, policy, runs, np.random.default_rng(1), (0, 5, 10))
        np.testing.assert_array_equal(a, b)
        assert a.shape == (3, len(OBJECTIVES), problem.M, problem.K)
        np.testing.assert_allclose(a[0], np.broadcast_to(problem.pi_ref, a[0].shape))
        np.testing.assert_allclose(a.sum(axis=-1), 1.0)
    with pytest.raises(InvalidParameterError):  # WRO needs two samples for its baseline
        RunBatch((OBJECTIVES[0],), np.ones(1), np.ones(1, dtype=int))


# ------------------------------------------------------------------------------------------
# the pre-registered design


def test_proxy_judge_is_a_preference_matrix_that_converges_to_p():
    problem = design_problem(np.random.default_rng(21), 0, SuccessDesign())
    rng = np.random.default_rng(22)
    small = proxy_judge(rng, problem.P, problem.mu, 300)
    np.testing.assert_allclose(small + small.transpose(0, 2, 1), 1.0)
    assert np.all((small > 0) & (small < 1))
    big = proxy_judge(rng, problem.P, problem.mu, 400_000)
    pairs = problem.mu[:, :, None] * problem.mu[:, None, :] > 0.01  # pairs seen often enough
    assert np.max(np.abs(big - problem.P)[pairs]) < 0.03


def test_design_runs_are_scored_exactly():
    design = SuccessDesign(steps=(3, 10), trajectory_steps=(0, 3, 10), step_scales=(1.0,))
    problem = design_problem(np.random.default_rng(23), 1, design)
    assert (problem.K, problem.family) == (6, "bradley_terry")
    P_hat = proxy_judge(np.random.default_rng(24), problem.P, problem.mu, 300)
    objectives = secondary_objectives()[::5]
    runs = run_design_problem(problem, P_hat, objectives, design, np.random.default_rng(25))
    n = len(objectives) * len(design.cells())
    assert len(runs.win_rate) == n and len(design.cells()) == 8
    assert np.all(runs.success <= 1 + 1e-9) and runs.max_optimum_residual < 1e-7
    assert np.all((runs.success_plus >= 0) & (runs.success_plus <= 1))
    tp = judged_problem(problem, P_hat)
    for o, obj in enumerate(objectives):  # J_start is J(pi_ref) under the training judge
        at = runs.objective == o
        assert runs.J_start[at] == pytest.approx(objective_value(tp, obj, problem.pi_ref))


def test_a_design_with_one_policy_trains_only_that_policy():
    design = SuccessDesign(
        steps=(3,), trajectory_steps=(0, 3), step_scales=(1.0,), policies=("tabular",)
    )
    problem = design_problem(np.random.default_rng(23), 0, design)
    P_hat = proxy_judge(np.random.default_rng(24), problem.P, problem.mu, 300)
    objectives = secondary_objectives()[:2]
    runs = run_design_problem(problem, P_hat, objectives, design, np.random.default_rng(25))
    assert len(runs.win_rate) == len(objectives) * len(design.cells())
    assert {c[-1] for c in design.cells()} == {"tabular"}


def test_success_bins_oos_r_squared_and_decision():
    s = np.array([0.0, 0.0, 0.3, 0.1, 0.9, 1.0, 0.5, 0.7])
    bins = success_bins(s, 4)
    assert bins[0] == bins[1] == 0 and bins[5] == 1 and len(np.unique(bins)) == 4
    y = np.array([1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0])
    fold = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    assert oos_r_squared(y, [0, 0, 1, 1, 2, 2, 3, 3], fold) == pytest.approx(1.0)
    assert oos_r_squared(y, [0, 1, 2, 3, 4, 5, 6, 7], fold) <= 0  # unseen groups: the mean
    assert decide(Interval(0.1, 0.05, 0.2, 12)) == "holds"
    assert decide(Interval(-0.1, -0.2, -0.05, 12)) == "fails"
    assert decide(Interval(0.1, float("nan"), float("nan"), 2)) == "inconclusive"
    phi_a, phi_b, joint = shapley_r_squared(y, bins, fold)
    assert phi_a + phi_b == pytest.approx(joint)


def test_bootstrap_mean_is_reproducible_and_covers_the_mean():
    v = np.random.default_rng(26).normal(0.3, 0.1, size=12)
    a = bootstrap_mean(v, np.random.default_rng(27))
    b = bootstrap_mean(v, np.random.default_rng(27))
    assert a == b and a.low < a.estimate < a.high
    assert np.isnan(bootstrap_mean(v[:2], np.random.default_rng(0)).low)


def test_negative_control_does_not_hold_and_the_check_decides():
    from proofs_checks.opt_success import CLAIM
    from proofs_checks.scaffold import CheckContext

    assert CLAIM.controls[0].run(np.random.default_rng(28))  # noise s+ is never "holds"
    result = CLAIM.check(CheckContext(instances=3, seed=0, rng=np.random.default_rng(0)))
    d = result.details
    assert d["negative_control"]["decision"] != "holds"
    assert d["negative_control"]["estimate"] < d["primary"]["estimate"]
    assert d["primary_runs"] == 3 * 18 * 64 and d["total_runs"] == 3 * 22 * 64
    assert len(d["runs"]["win_rate"]) == 3 * 22 * 64
    assert result.inconclusive == (d["primary"]["decision"] == "inconclusive")
    assert result.found == (d["primary"]["decision"] == "fails")
