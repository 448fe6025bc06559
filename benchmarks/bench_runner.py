"""Benchmark: the claim runner in turn, on local processes and on a Dask LocalCluster.

One claim (WR-basic, 2 x 10^4 instances by default, seed 0) is run three ways in the same
session: serially in this process (``--workers 1``), on a pool of two local processes
(``--workers 2``) and on a two-worker Dask ``LocalCluster`` (``--scheduler local:2``; skipped
with a note when Dask is not installed: ``pip install -e '.[distributed]'``).  Each time is the
wall time of the whole run, engine start-up included, and of the run alone on the started
engine (as on a Dask cluster that is already running; for ``local:2`` the start-up is that of a
new cluster, about 1.5 s).  Printed: the times, the parallel
efficiency ``serial / (workers x parallel)`` (target: at least 0.8 at two workers), whether the
JSON reports are equal apart from timings, the engine and the worker count (they must be), and
the peak resident memory of a worker process (target: at most 500 MB).

The machine may be shared: a busy second core lowers the efficiency; run it on an idle machine
(``uptime`` shows the load).  Usage::

    python benchmarks/bench_runner.py [INSTANCES] [CLAIM_ID]
"""

from __future__ import annotations

import io
import resource
import sys
import time
from typing import Any

from proofs_checks.scaffold.engines import DaskEngine, ProcessEngine, SerialEngine
from proofs_checks.scaffold.registry import all_claims
from proofs_checks.scaffold.runner import report_dict, run_claims

TARGET_EFFICIENCY = 0.8
TARGET_WORKER_MB = 500


def timed_report(claim: Any, instances: int, make_engine: Any) -> tuple[float, float, dict]:
    """Wall times of one run on a fresh engine: with the engine's start-up and shut-down, and
    of the run alone (the engine already started, as a running Dask cluster is); and the report
    without the fields that may differ (timings, engine, workers)."""
    start = time.perf_counter()
    engine = make_engine()
    started = time.perf_counter()
    try:
        runs = run_claims(
            [claim], instances=instances, seed=0, figures_dir=None, out=io.StringIO(),
            stream=io.StringIO(), engine=engine,
        )  # fmt: skip
        run_only = time.perf_counter() - started
    finally:
        engine.close()
    seconds = time.perf_counter() - start
    report = report_dict(runs, engine=engine)
    for key in ("engine", "workers"):
        report.pop(key)
    for c in report["claims"]:
        c.pop("seconds")
    return seconds, run_only, report


def main() -> None:
    instances = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    claim_id = sys.argv[2] if len(sys.argv) > 2 else "WR-basic"
    claim = {c.id: c for c in all_claims()}[claim_id]
    print(f"{claim_id}, {instances} instances, seed 0; engines timed in the same session")
    serial, _, base = timed_report(claim, instances, SerialEngine)
    print(f"  serial (--workers 1):        {serial:7.2f} s")
    rows = {"--workers 2": lambda: ProcessEngine(2)}
    try:
        import distributed  # noqa: F401

        rows["--scheduler local:2"] = lambda: DaskEngine("local:2")
    except ImportError:
        print("  --scheduler local:2: skipped (pip install -e '.[distributed]')")
    for name, make in rows.items():
        seconds, run_only, report = timed_report(claim, instances, make)
        same = "equal" if report == base else "DIFFERENT"
        print(f"  {name + ':':<28}{seconds:7.2f} s; report {same} to the serial one")
        for what, t in (("start-up included", seconds), ("run alone", run_only)):
            efficiency = serial / (2 * t)
            mark = "ok" if efficiency >= TARGET_EFFICIENCY else f"below {TARGET_EFFICIENCY}"
            print(
                f"      {what + ':':<20}{t:7.2f} s  speed-up {serial / t:4.2f}x  "
                f"efficiency {efficiency:4.2f} ({mark})"
            )
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  peak memory: a local worker process {worker_mb:.0f} MB, this process {own_mb:.0f} MB "
        f"(target: at most {TARGET_WORKER_MB} MB per worker)"
    )


if __name__ == "__main__":
    main()
