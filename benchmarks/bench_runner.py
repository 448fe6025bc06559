"""Benchmark: the claim runner in turn, on local processes and on a Dask LocalCluster.

One claim (WR-basic, 2 x 10^4 instances by default, seed 0) is run three ways: serially
(``--workers 1``), on a pool of two local processes (``--workers 2``) and on a two-worker Dask
``LocalCluster`` (``--scheduler local:2``; skipped with a note when Dask is not installed:
``pip install -e '.[distributed]'``).  Every run is a fresh Python process, as a command line
run is (so no pool, fork server or cluster survives from one run to the next), timed from after
its imports.  The three take turns for ``--repeats`` rounds and each engine's best round counts
(as in ``timeit``: a shared machine only ever adds time).  Each time is the wall time of the
whole run, engine start-up and shut-down included (for ``local:2``, a new cluster: about 0.5 s),
and of the run alone on the started engine (as on a Dask cluster that is already running).
Printed: the times, the parallel efficiency ``serial / (workers x parallel)`` (target: at least
0.8 at two workers, start-up included) and that of every round, whether the JSON reports are
equal apart from timings, the engine and the worker count (they must be), and the peak resident
memory of a worker process (target: at most 500 MB).

The machine may be shared: a busy second core lowers the efficiency; run it on an idle machine
(``uptime`` shows the load).  Usage::

    python benchmarks/bench_runner.py [INSTANCES] [CLAIM_ID] [--repeats 3]
"""

from __future__ import annotations

import argparse
import compileall
import io
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGET_EFFICIENCY = 0.8
TARGET_WORKER_MB = 500
#: The engines compared: name, and the ``--one`` value that runs it.
ENGINES = {
    "serial (--workers 1)": "serial",
    "--workers 2": "processes",
    "--scheduler local:2": "dask",
}


def one_run(claim_id: str, instances: int, kind: str) -> dict[str, Any]:
    """Run the claim once on a new engine of ``kind`` in this process; the wall times with the
    engine's start-up and shut-down and of the run alone, the report without the fields that
    may differ (timings, engine, workers) and the peak memory of a worker process in MB."""
    from proofs_checks.scaffold.engines import DaskEngine, ProcessEngine, SerialEngine
    from proofs_checks.scaffold.registry import all_claims
    from proofs_checks.scaffold.runner import report_dict, run_claims

    claim = {c.id: c for c in all_claims()}[claim_id]
    make = {
        "serial": SerialEngine,
        "processes": lambda: ProcessEngine(2),
        "dask": lambda: DaskEngine("local:2"),
    }[kind]
    start = time.perf_counter()
    engine = make()
    started = time.perf_counter()
    try:
        runs = run_claims(
            [claim], instances=instances, seed=0, figures_dir=None, out=io.StringIO(),
            stream=io.StringIO(), engine=engine,
        )  # fmt: skip
        run_only = time.perf_counter() - started
    finally:
        closing = time.perf_counter()
        engine.close()
    seconds = time.perf_counter() - start
    report = report_dict(runs, engine=engine)
    for key in ("engine", "workers"):
        report.pop(key)
    for c in report["claims"]:
        c.pop("seconds")
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "run_only": run_only,
        "start_up": started - start,
        "shut_down": start + seconds - closing,
        "report": report,
        "worker_mb": worker_mb,
    }


def compile_project() -> None:
    """Write the project's bytecode caches, as Python does on a first import unless
    ``PYTHONDONTWRITEBYTECODE`` is set (as it is on some machines, this one included): without
    them every new worker process compiles ``theory/`` and ``proofs_checks/`` again (0.1 s)."""
    root = Path(__file__).resolve().parent.parent
    for package in ("theory", "proofs_checks"):
        compileall.compile_dir(root / package, quiet=1)
    print(
        "bytecode of theory/ and proofs_checks/ compiled first"
        + (" (PYTHONDONTWRITEBYTECODE is set here)" if sys.dont_write_bytecode else "")
    )


def fresh_run(claim_id: str, instances: int, kind: str) -> dict[str, Any]:
    """:func:`one_run` in a new Python process."""
    command = [sys.executable, __file__, str(instances), claim_id, "--one", kind]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("instances", nargs="?", type=int, default=20_000)
    parser.add_argument("claim_id", nargs="?", default="WR-basic")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", choices=sorted(ENGINES.values()), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.claim_id, args.instances, args.one)))
        return
    engines = dict(ENGINES)
    try:
        import distributed  # noqa: F401
    except ImportError:
        del engines["--scheduler local:2"]
        print("--scheduler local:2: skipped (pip install -e '.[distributed]')")
    compile_project()
    print(
        f"{args.claim_id}, {args.instances} instances, seed 0; the engines in turn, each run a "
        f"fresh process; best of {args.repeats} rounds"
    )
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in engines}
    for _ in range(args.repeats):
        for name, kind in engines.items():
            runs[name].append(fresh_run(args.claim_id, args.instances, kind))
    (serial_name, base), *others = runs.items()
    serial = min(r["seconds"] for r in base)
    print(f"  {serial_name + ':':<28}{serial:7.2f} s")
    for name, rounds in others:
        same = all(r["report"] == base[0]["report"] for r in rounds + base)
        whole = min(r["seconds"] for r in rounds)
        alone = min(r["run_only"] for r in rounds)
        print(
            f"  {name + ':':<28}{whole:7.2f} s; reports "
            f"{'equal' if same else 'DIFFERENT'} to the serial one"
        )
        for what, t in (("start-up included", whole), ("run alone", alone)):
            efficiency = serial / (2 * t)
            mark = "ok" if efficiency >= TARGET_EFFICIENCY else f"below {TARGET_EFFICIENCY}"
            print(
                f"      {what + ':':<20}{t:7.2f} s  speed-up {serial / t:4.2f}x  "
                f"efficiency {efficiency:4.2f} ({mark})"
            )
        each = ", ".join(f"{serial / (2 * r['seconds']):.2f}" for r in rounds)
        print(f"      efficiency of each round, start-up included: {each}")
        best = min(rounds, key=lambda r: r["seconds"])
        if engines[name] == "processes":
            print("      (the process pool starts with the run's first task)")
        else:
            print(
                f"      in the best round: start-up {best['start_up']:.2f} s, "
                f"shut-down {best['shut_down']:.2f} s"
            )
    worker_mb = max(r["worker_mb"] for rounds in runs.values() for r in rounds)
    print(
        f"  peak memory of a worker process: {worker_mb:.0f} MB "
        f"(target: at most {TARGET_WORKER_MB} MB)"
    )


if __name__ == "__main__":
    main()
