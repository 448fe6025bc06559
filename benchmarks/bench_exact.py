"""Benchmark: the fast exact path against the reference Fraction path, side by side.

Exact computations in :mod:`theory` run on integers over a common denominator
(``theory._exact``); :func:`theory.numbers.reference_exact` switches back to the reference path
(numpy on Fraction object arrays).  This script times the *exact half of WR-basic*: the
even-numbered instances of ``proofs_checks/wr_basic.py``, every call it makes through the public
library (exact draws of ``P``, ``pi``, ``pi2``, ``q``; the five identities with ``win_rate``,
``mixture`` and ``win_rate_covariance``; the exact-versus-float win rate), on the same instances
(same seed) under both paths.  Inputs and outputs are Fractions, so the conversion at the
boundary is inside the measured time.  Both paths must return equal values (asserted).

Then, for information, it times the whole ``WR-basic`` and ``SFT-closed-form`` checks (exact and
float halves) under both paths and checks that their results agree.

Timings are CPU seconds of this process (``time.process_time``: other processes on a shared
machine do not count), the best of ``--repeats`` runs, fast and reference interleaved so that
what load remains (caches, frequency) hits both alike.  Target (issue 11): the exact half at
least 5x faster.  Usage::

    python benchmarks/bench_exact.py [--n 2000] [--repeats 3] [--claims]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from theory import (
    mixture,
    random_distribution,
    random_family_matrix,
    random_model,
    to_float,
    win_rate,
    win_rate_covariance,
)
from theory.numbers import reference_exact
from theory.preferences import FAMILIES

TARGET_RATIO = 5.0
MAX_K = 8


def exact_half(n: int, seed: int) -> list[Any]:
    """The calls WR-basic makes on ``n`` exact instances; returns every value it computes."""
    rng = np.random.default_rng(seed)
    out: list[Any] = []
    half = Fraction(1, 2)
    for _ in range(n):
        K = int(rng.integers(2, MAX_K + 1))
        family = FAMILIES[int(rng.integers(len(FAMILIES)))]
        P = random_family_matrix(rng, K, family, exact=True)
        pi, pi2 = random_model(rng, 2, K, zeros=True, exact=True)
        q = random_distribution(rng, K, exact=True)
        t = Fraction(int(rng.integers(0, 13)), 12)
        wr = win_rate(P, pi, q)
        values = [
            win_rate(P, pi, pi) == half,
            wr + win_rate(P, q, pi) == 1,
            win_rate(P, mixture(pi, pi2, t), q) == t * wr + (1 - t) * win_rate(P, pi2, q),
            win_rate(P, q, mixture(pi, pi2, t))
            == t * win_rate(P, q, pi) + (1 - t) * win_rate(P, q, pi2),
            wr - half == win_rate_covariance(P, pi, q),
            win_rate(P, pi, q),
            win_rate(to_float(P), to_float(pi), to_float(q)),
        ]
        out.append(values)
    return out


def best_times(fns: list[Callable[[], Any]], repeats: int) -> list[float]:
    """Best CPU time of each function, interleaved (after one warm-up call each)."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            start = time.process_time()
            fn()
            times[k].append(time.process_time() - start)
    return [min(t) for t in times]


def side_by_side(label: str, run: Callable[[], Any], repeats: int, per: int) -> float:
    """Time ``run`` on the fast and the reference path; assert equal results; print; ratio."""

    def reference() -> Any:
        with reference_exact():
            return run()

    assert run() == reference(), f"{label}: the two paths disagree"
    fast, ref = best_times([run, reference], repeats)
    ratio = ref / fast
    print(f"{label}")
    print(
        f"  reference (Fraction arrays)  {ref:8.3f} s   {ref / per * 1e3:7.3f} ms / instance (CPU)"
    )
    print(f"  fast (integers; flint)       {fast:8.3f} s   {fast / per * 1e3:7.3f} ms / instance")
    print(f"  ratio reference / fast       {ratio:8.2f}x")
    return ratio


def claim_runner(claim_id: str, instances: int, seed: int) -> Callable[[], Any]:
    """A function running one claim's check; returns its observed line, counts and witness."""
    from proofs_checks.scaffold import CheckContext
    from proofs_checks.scaffold.registry import all_claims, claim_rng

    claim = {c.id: c for c in all_claims()}[claim_id]

    def run() -> Any:
        ctx = CheckContext(instances=instances, seed=seed, rng=claim_rng(seed, claim_id))
        result = claim.check(ctx)
        return result.observed, result.found, result.instances

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="exact WR-basic instances")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--claims", action="store_true", help="also time whole claim checks")
    args = parser.parse_args()

    ratio = side_by_side(
        f"exact half of WR-basic: {args.n} exact instances (seed {args.seed})",
        lambda: exact_half(args.n, args.seed),
        args.repeats,
        args.n,
    )
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"  target: at least {TARGET_RATIO:.0f}x: {verdict}")
    if args.claims:
        for claim_id, n in (("WR-basic", 2000), ("SFT-closed-form", 1000)):
            side_by_side(
                f"whole {claim_id} check: {n} instances (exact and float)",
                claim_runner(claim_id, n, args.seed),
                1,
                n,
            )


if __name__ == "__main__":
    main()
