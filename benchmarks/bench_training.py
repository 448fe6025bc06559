"""Benchmark: simulated training throughput (theory.training) and the opt-success grid.

1. SGD steps per second for each method (REINFORCE-WRO, DPO, SFT) and parameterization (tabular,
   log-linear) at M = 3 prompts, K = 6 responses, batch 32.
2. The vectorised REINFORCE step against a per-sample Python loop computing the same estimate
   (the ratio is the speed-up of the numpy path; both results are compared).
3. Wall time of one full grid (160 runs) of the first opt-success design, and of one problem of
   the pre-registered design (22 objectives x 64 cells, trained as arrays by ``train_batch``).

Best of ``REPEATS`` after a warm-up.  Usage::

    python benchmarks/bench_training.py
"""

from __future__ import annotations

import time

import numpy as np
from scipy.special import log_softmax

from theory.experiments import (
    SuccessDesign,
    default_grid,
    design_problem,
    opt_success_experiment,
    proxy_judge,
    random_training_problem,
    run_design_problem,
    secondary_objectives,
)
from theory.training import (
    TrainingObjective,
    TrainingSettings,
    log_linear_policy,
    policy_logits,
    reinforce_direction,
    tabular_policy,
    train,
)

REPEATS = 3
STEPS = 500
BATCH = 32


def best_time(fn, repeats: int = REPEATS):
    fn()
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def loop_reinforce(problem, objective, pi, logpi, u):
    """The REINFORCE-with-leave-one-out-baseline estimate, one sample at a time."""
    M, K = pi.shape
    B = u.shape[1]
    rho_cdf = np.cumsum(problem.rho)
    q = problem.anchor(objective)
    H = problem.H(objective)
    xs, ys, rewards = [], [], []
    for t in range(B):
        x = min(int(np.searchsorted(rho_cdf, u[0, t], side="right")), M - 1)
        y = min(int((u[1, t] >= np.cumsum(pi[x])).sum()), K - 1)
        y2 = min(int((u[2, t] >= np.cumsum(q[x])).sum()), K - 1)
        r = H[x, y, y2] - objective.beta * (logpi[x, y] - np.log(problem.pi_ref[x, y]))
        xs.append(x), ys.append(y), rewards.append(r)
    total = sum(rewards)
    G = np.zeros((M, K))
    for x, y, r in zip(xs, ys, rewards, strict=True):
        adv = r - (total - r) / (B - 1)
        G[x] -= adv * pi[x]
        G[x, y] += adv
    return G / B


def main() -> None:
    rng = np.random.default_rng(0)
    grid = default_grid()
    problem, features = random_training_problem(rng, grid)
    policies = {
        "tabular": tabular_policy(problem.pi_ref),
        "log-linear": log_linear_policy(problem.pi_ref, features),
    }
    objectives = {
        "REINFORCE-WRO": TrainingObjective("wro", beta=0.05),
        "DPO": TrainingObjective("dpo", beta=0.1),
        "SFT": TrainingObjective("sft"),
    }
    settings = TrainingSettings(0.3, STEPS, BATCH, seed=1)
    print(f"M = {problem.M}, K = {problem.K}, batch {BATCH}, {STEPS} steps")
    for pname, policy in policies.items():
        for oname, obj in objectives.items():
            t, _ = best_time(lambda obj=obj, policy=policy: train(problem, obj, policy, settings))
            print(f"  {oname:<14} {pname:<10} {STEPS / t:10.0f} steps/s  ({t * 1e3:.1f} ms)")

    obj = objectives["REINFORCE-WRO"]
    theta0 = np.zeros((problem.M, problem.K))
    logpi = log_softmax(policy_logits(policies["tabular"], theta0), axis=-1)
    pi = np.exp(logpi)
    u = np.random.default_rng(2).random((3, 256))
    t_vec, g_vec = best_time(
        lambda: reinforce_direction(problem, obj, pi, logpi, u, np.cumsum(problem.rho))
    )
    t_loop, g_loop = best_time(lambda: loop_reinforce(problem, obj, pi, logpi, u))
    err = float(np.max(np.abs(g_vec - g_loop)))
    print(
        f"REINFORCE estimate, batch 256: numpy {t_vec * 1e6:.0f} us, loop {t_loop * 1e6:.0f} us, "
        f"speed-up {t_loop / t_vec:.0f}x, max difference {err:.1e}"
    )

    t0 = time.perf_counter()
    res = opt_success_experiment(np.random.default_rng(3), grid.cells, grid=grid)
    print(f"one default grid ({len(res.records)} runs): {time.perf_counter() - t0:.1f} s")

    design = SuccessDesign()
    for p in range(3):
        t0 = time.perf_counter()
        prob = design_problem(np.random.default_rng([4, p]), p, design)
        P_hat = proxy_judge(np.random.default_rng([5, p]), prob.P, prob.mu, design.n_judge)
        runs = run_design_problem(
            prob, P_hat, secondary_objectives(), design, np.random.default_rng([6, p])
        )
        print(
            f"pre-registered design, K = {prob.K}: {len(runs.win_rate)} runs in "
            f"{time.perf_counter() - t0:.2f} s"
        )


if __name__ == "__main__":
    main()
