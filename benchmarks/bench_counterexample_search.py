"""Benchmark: time to find a DPO-no-correspondence witness on a fresh random instance.

Each trial draws a fresh random instance (:func:`theory.search.random_instance`: K in 2..6, a
random preference family, ``mu0 = mu1`` or not, ``beta`` in {0.1, 0.5, 1, 2}) and times
:func:`theory.search.find_disagreement` (the raw witness) and, on the first ``MINIMIZE`` trials,
:func:`theory.search.minimize_witness` (the smallest exact witness).  Prints the median and the
90th percentile over the trials in which a witness exists (a two-response instance with a
deterministic label has none; those are counted separately).  Usage::

    python benchmarks/bench_counterexample_search.py [trials]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from theory.search import DPO_CONTEST, find_disagreement, minimize_witness, random_instance

MINIMIZE = 10


def main(trials: int = 200) -> float:
    rng = np.random.default_rng(2024)
    find_times, min_times, none = [], [], 0
    for n in range(trials):
        inst = random_instance(rng)
        start = time.perf_counter()
        w = find_disagreement(DPO_CONTEST, inst, rng)
        elapsed = time.perf_counter() - start
        if w is None:
            none += 1
            continue
        find_times.append(elapsed)
        if n < MINIMIZE:
            start = time.perf_counter()
            minimize_witness(DPO_CONTEST, w, rng)
            min_times.append(time.perf_counter() - start)
    med = float(np.median(find_times))
    print(f"{trials} fresh instances, {len(find_times)} with a witness, {none} without one")
    print(
        f"find:     median {1000 * med:.2f} ms, 90th percentile "
        f"{1000 * np.percentile(find_times, 90):.2f} ms"
    )
    print(f"minimize: median {np.median(min_times):.2f} s over {len(min_times)} witnesses")
    print(f"median under one second: {med < 1.0}")
    return med


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
