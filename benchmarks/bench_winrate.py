"""Benchmark: the batched win-rate kernel against a memory-bandwidth baseline.

Run: ``python benchmarks/bench_winrate.py [--n 100000] [--k 16] [--repeats 7]``.

The baseline is one reduction over the same ``P`` array (``P.sum()``): any kernel that must read
every entry of ``P`` once cannot beat it by much, so the ratio says how close to the memory bound
``theory.winrate.win_rate_batch`` runs.  Target (issue 2): kernel within 3x of the baseline.
Timings are the best of ``--repeats`` runs, measured in this process, so the ratio is
meaningful even on a shared, noisy machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from theory.winrate import win_rate_batch

TARGET_RATIO = 3.0


def best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of instances")
    parser.add_argument("--k", type=int, default=16, help="responses per instance")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    N, K = args.n, args.k
    upper = rng.random((N, K, K))
    P = np.triu(upper, 1)
    P = P + np.swapaxes(1.0 - P, 1, 2) * np.tril(np.ones((K, K)), -1)
    P[:, np.arange(K), np.arange(K)] = 0.5
    pi = rng.dirichlet(np.ones(K), N)
    q = rng.dirichlet(np.ones(K), N)

    # correctness first: the kernel equals the explicit per-instance formula
    sample = rng.choice(N, size=min(N, 200), replace=False)
    kernel = win_rate_batch(P, pi, q, validate=True)
    explicit = np.array([pi[n] @ P[n] @ q[n] for n in sample])
    assert np.max(np.abs(kernel[sample] - explicit)) < 1e-12

    base = best_time(lambda: P.sum(), args.repeats)
    fast = best_time(lambda: win_rate_batch(P, pi, q, validate=False), args.repeats)
    checked = best_time(lambda: win_rate_batch(P, pi, q, validate=True), args.repeats)
    print(f"batched win rate, N = {N:,}, K = {K}  (P is {P.nbytes / 2**20:.0f} MiB)")
    print(f"  baseline  P.sum()                       {base * 1e3:8.1f} ms   1.00x")
    print(f"  kernel    win_rate_batch(validate=False) {fast * 1e3:5.1f} ms  {fast / base:5.2f}x")
    ratio = checked / base
    print(f"  checked   win_rate_batch(validate=True)  {checked * 1e3:5.1f} ms  {ratio:5.2f}x")
    verdict = "met" if fast / base <= TARGET_RATIO else "NOT met"
    print(f"  target: kernel within {TARGET_RATIO:.0f}x of the baseline: {verdict}")


if __name__ == "__main__":
    main()
