"""Benchmark: Bradley-Terry MLE on a non-Bradley-Terry P at K = 1000 against choix.

The population weights of one prompt are ``w[i, j] = P[i, j] * 2 mu_i mu_j`` for a random general
(non-BT) ``P`` and a random full-support ``mu`` (every pair compared).
``choix.ilsr_pairwise_dense`` runs at its tolerance (L1 change of the parameters between
iterates); we measure the max-abs
gradient of the log-likelihood it reaches and run :func:`theory.bradley_terry.fit_bradley_terry`
with the loosest tolerance that still guarantees that gradient level ("the same tolerance"),
and at our default.  Both
are timed in the same run (best of ``REPEATS``, interleaved, after a warm-up).  Usage::

    python benchmarks/bench_bradley_terry.py [K]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from theory.bradley_terry import GRAD_TOL, bradley_terry_gradient, fit_bradley_terry

REPEATS = 5
CHOIX_TOL = 1e-8


def interleaved_best_times(fns: dict, repeats: int = REPEATS) -> tuple[dict, dict]:
    """Best wall time of each function, the functions run in turn within every repeat so that
    they share the machine's load conditions (the machine may be shared); plus their outputs."""
    outs = {name: fn() for name, fn in fns.items()}  # warm-up (imports, BLAS threads)
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            outs[name] = fn()
            times[name].append(time.perf_counter() - t0)
    return {name: min(t) for name, t in times.items()}, outs


def instance(K: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    U = rng.random((K, K))
    P = np.triu(U, 1) + np.tril(1.0 - np.triu(U, 1).T, -1)
    np.fill_diagonal(P, 0.5)
    mu = rng.dirichlet(np.ones(K))
    return P * 2.0 * np.outer(mu, mu)


def main(K: int = 1000) -> None:
    import choix  # test/benchmark extra

    w = instance(K)
    comp = w.copy()
    np.fill_diagonal(comp, 0.0)
    r_choix = choix.ilsr_pairwise_dense(comp, tol=CHOIX_TOL)
    r_choix = r_choix - r_choix.mean()
    g_choix = float(np.abs(bradley_terry_gradient(w, r_choix)).max())
    # our criterion is |g_i| <= tol * deg_i; this tol guarantees max|g| <= choix's max|g|
    same_tol = g_choix / float((comp + comp.T).sum(axis=1).max())
    t, out = interleaved_best_times(
        {
            "choix": lambda: choix.ilsr_pairwise_dense(comp, tol=CHOIX_TOL),
            "same": lambda: fit_bradley_terry(w, tol=same_tol),
            "default": lambda: fit_bradley_terry(w),
        }
    )
    t_choix, t_same, t_def = t["choix"], t["same"], t["default"]
    fit_same, fit_def = out["same"], out["default"]
    print(
        f"Bradley-Terry MLE, K = {K}, general (non-BT) P, full comparisons, "
        f"best of {REPEATS} interleaved"
    )
    print(
        f"  choix.ilsr_pairwise_dense(tol={CHOIX_TOL:g}): {t_choix:.3f} s, "
        f"max|grad| = {g_choix:.2e}"
    )
    print(
        f"  fit_bradley_terry(tol={same_tol:.2e}) [same gradient level]: {t_same:.3f} s, "
        f"max|grad| = {fit_same.gradient_norm:.2e}, {fit_same.iterations} Newton steps"
    )
    print(
        f"  fit_bradley_terry(tol={GRAD_TOL:g}) [default]: {t_def:.3f} s, "
        f"max|grad| = {fit_def.gradient_norm:.2e}, {fit_def.iterations} Newton steps"
    )
    print(f"  max |r_ours - r_choix| = {np.abs(fit_def.rewards - r_choix).max():.2e}")
    print(
        f"  ratio choix / ours: same tolerance {t_choix / t_same:.2f}x, "
        f"default {t_choix / t_def:.2f}x"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
