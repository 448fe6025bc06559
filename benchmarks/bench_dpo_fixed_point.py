"""Benchmark: the DPO minimizer set at K = 1000 costs no more than one Bradley-Terry fit.

One prompt, a random general (non-BT) ``P``, a random full-support ``mu = mu0 = mu1`` and a random
``pi_ref``.  Times :func:`theory.methods.dpo.minimizers.dpo_minimizers` (the whole set:
comparison graph, the weighted Bradley-Terry MLE, the component distribution, the minimum loss,
one :func:`theory.methods.dpo.minimizers.prompt_minimizers` per prompt) against one
:func:`theory.bradley_terry.fit_bradley_terry` on the same population weights (best of
``REPEATS``, interleaved, after a warm-up, one BLAS thread) and prints the ratio.  Usage::

    python benchmarks/bench_dpo_fixed_point.py [K]
"""

from __future__ import annotations

import os

# one BLAS thread for both solvers: on a shared machine threaded BLAS timings swing by 10x
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from theory.bradley_terry import fit_bradley_terry  # noqa: E402
from theory.data import PreferenceData, winner_loser_distribution  # noqa: E402
from theory.methods.dpo import dpo_minimizers  # noqa: E402
from theory.preferences import random_preference_matrix  # noqa: E402

REPEATS = 9


def best_times(fns, repeats: int = REPEATS) -> list[float]:
    """Best time of each function, interleaved so that machine load hits both alike."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - start)
    return [min(t) for t in times]


def main(K: int = 1000) -> float:
    rng = np.random.default_rng(0)
    P = random_preference_matrix(rng, K)
    mu = rng.dirichlet(np.ones(K))
    ref = rng.dirichlet(np.ones(K))[None]
    data = PreferenceData(P=P, mu0=mu)
    w = np.asarray(winner_loser_distribution(data)[0], dtype=np.float64)
    w3 = w[None]
    t_fit, t_set, t_data = best_times(
        [
            lambda: fit_bradley_terry(w),
            lambda: dpo_minimizers(w3, ref, 0.5),
            lambda: dpo_minimizers(data, ref, 0.5),
        ]
    )
    S = dpo_minimizers(data, ref, 0.5)
    print(f"K = {K}: one Bradley-Terry fit {1000 * t_fit:.1f} ms")
    print(
        f"K = {K}: DPO minimizer set   {1000 * t_set:.1f} ms from the same weights "
        f"(certificate {S.gradient_norm:.1e})"
    )
    print(
        f"K = {K}: DPO minimizer set   {1000 * t_data:.1f} ms from PreferenceData "
        "(includes building the weights)"
    )
    print(
        f"ratio (minimizer set / BT fit) = {t_set / t_fit:.2f} (same input), "
        f"{t_data / t_fit:.2f} (from the data)"
    )
    return t_set / t_fit


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
