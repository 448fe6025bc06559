"""Benchmark: the WRO claim checks on 10,000 random instances (K <= 8) each; target < 10 s.

Runs each check of ``WRO-closed-form``, ``RLHF-is-WRO``, ``WRO-correspondence`` and
``WRO-consistency`` once (no figures) and prints its wall time, its verdict and its one-line
summary.  Usage::

    python benchmarks/bench_wro_claims.py [instances]
"""

from __future__ import annotations

import sys
import time

from proofs_checks.scaffold import CheckContext
from proofs_checks.scaffold.registry import all_claims, claim_rng

CLAIM_IDS = ("WRO-closed-form", "RLHF-is-WRO", "WRO-correspondence", "WRO-consistency")
TARGET_SECONDS = 10.0


def main(instances: int = 10_000, seed: int = 0) -> None:
    claims = {c.id: c for c in all_claims()}
    for cid in CLAIM_IDS:
        claim = claims[cid]
        ctx = CheckContext(instances=instances, seed=seed, rng=claim_rng(seed, cid))
        t0 = time.perf_counter()
        result = claim.check(ctx)
        dt = time.perf_counter() - t0
        mark = "ok" if dt < TARGET_SECONDS else "SLOW"
        print(f"{cid:20s} {instances} instances: {dt:6.2f} s [{mark}] {claim.verdict(result)}")
        print(f"    {result.observed}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
