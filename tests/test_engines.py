"""The runner's engines: chunked checks give the same report in turn, in local processes and on a
Dask LocalCluster; bad engine flags are usage errors; a lost worker is retried once, then the run
stops with a named error (docs/architecture.md, "Scale")."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from proofs_checks.scaffold import CheckContext, CheckResult, Claim, Max, Tally, chunked, maximum
from proofs_checks.scaffold.chunks import chunk_bounds, chunk_context
from proofs_checks.scaffold.cli import main
from proofs_checks.scaffold.engines import (
    DaskEngine,
    MissingExtraError,
    ProcessEngine,
    SerialEngine,
    WorkerDiedError,
    runs_anywhere,
)
from proofs_checks.scaffold.registry import all_claims, claim_rng
from proofs_checks.scaffold.runner import report_dict, run_claims

ROOT = Path(__file__).resolve().parents[1]
#: Two real claims, small sizes: a chunked one and one run as a single task.
TWO = ("WR-basic", "SFT-closed-form")


@dataclass
class Draws(Tally):
    count: int = 0
    total: float = 0.0
    largest: Max = maximum()


#: Seeds on which the first chunk kills its worker process: once, or every time.
DIE_ONCE, DIE_ALWAYS = 101, 102


def _marker(seed: int) -> Path:
    return Path(tempfile.gettempdir()) / f"winrate-test-engines-{os.getuid()}-{seed}"


def _draw_chunk(ctx: CheckContext) -> Draws:
    """Sums the chunk's draws; in a worker process, the first chunk kills its worker on the
    seeds :data:`DIE_ONCE` (if it has not done so yet) and :data:`DIE_ALWAYS`."""
    in_worker = multiprocessing.parent_process() is not None
    if in_worker and ctx.start == 0 and ctx.seed in (DIE_ONCE, DIE_ALWAYS):
        marker = _marker(ctx.seed)
        if ctx.seed == DIE_ALWAYS or not marker.exists():
            marker.write_text("died")
            os._exit(1)
    stats = Draws()
    x = ctx.rng.uniform(size=ctx.instances)
    stats.count += ctx.instances
    stats.total += float(x.sum())
    stats.largest.add(x)
    return stats


def _draw_finish(stats: Draws, ctx: CheckContext) -> CheckResult:
    return stats.result(ctx.instances, f"{stats.count} draws, sum {stats.total!r}")


DRAWS = Claim("test-draws", "draws", "holds", chunked(_draw_chunk, _draw_finish, size=7))


def _claims(*ids: str) -> list[Claim]:
    known = {c.id: c for c in all_claims()}
    return [known[i] for i in ids]


def _without_timings(report: dict) -> dict:
    report = {k: v for k, v in report.items() if k not in ("engine", "workers")}
    for claim in report["claims"]:
        claim.pop("seconds")
    return report


def _report(claims: list[Claim], engine, instances: int = 60, seed: int = 3) -> dict:
    runs = run_claims(
        claims, instances=instances, seed=seed, figures_dir=None, out=open(os.devnull, "w"),
        engine=engine,
    )  # fmt: skip
    return _without_timings(report_dict(runs, engine=engine))


def test_chunk_bounds_cover_the_instances_once():
    assert chunk_bounds(10, 4) == [(0, 4), (4, 4), (8, 2)]
    assert chunk_bounds(0, 4) == [(0, 0)]


def test_a_chunks_generator_depends_on_its_index_only():
    ctx = CheckContext(100, 0, claim_rng(0, "x"))
    a = chunk_context(ctx, 2, 40, 20).rng.uniform(size=3)
    ctx.rng.uniform(size=1000)  # consuming the claim's generator changes nothing
    b = chunk_context(ctx, 2, 40, 20).rng.uniform(size=3)
    c = chunk_context(ctx, 3, 60, 20).rng.uniform(size=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_serial_call_equals_the_runner_in_processes():
    """The chunked check called as a plain check and run chunk by chunk in two processes."""
    assert runs_anywhere(DRAWS)
    serial = DRAWS.check(CheckContext(50, 3, claim_rng(3, DRAWS.id)))
    engine = ProcessEngine(2)
    try:
        (run,) = run_claims(
            [DRAWS], instances=50, seed=3, figures_dir=None, out=open(os.devnull, "w"),
            engine=engine,
        )  # fmt: skip
    finally:
        engine.close()
    assert run.result is not None
    assert run.result.observed == serial.observed
    assert run.result.details == serial.details


def test_two_claims_same_report_serially_in_processes_and_on_a_local_cluster():
    pytest.importorskip("distributed")
    claims = _claims(*TWO)
    serial = _report(claims, SerialEngine())
    pool = ProcessEngine(2)
    try:
        processes = _report(claims, pool)
    finally:
        pool.close()
    dask = DaskEngine("local:2")
    try:
        cluster = _report(claims, dask)
    finally:
        dask.close()
    assert [c["verdict"] for c in serial["claims"]] == ["agrees", "agrees"]
    assert processes == serial
    assert cluster == serial


@pytest.fixture
def markers():
    for seed in (DIE_ONCE, DIE_ALWAYS):
        _marker(seed).unlink(missing_ok=True)
    yield
    for seed in (DIE_ONCE, DIE_ALWAYS):
        _marker(seed).unlink(missing_ok=True)


def test_a_worker_that_dies_once_is_retried(markers):
    engine = ProcessEngine(2)
    try:
        report = _report([DRAWS], engine, instances=30, seed=DIE_ONCE)
    finally:
        engine.close()
    assert _marker(DIE_ONCE).exists()  # a worker did die
    assert report == _report([DRAWS], SerialEngine(), instances=30, seed=DIE_ONCE)


def test_a_worker_that_dies_twice_stops_the_run(markers):
    engine = ProcessEngine(2)
    try:
        with pytest.raises(WorkerDiedError, match="test-draws"):
            _report([DRAWS], engine, instances=30, seed=DIE_ALWAYS)
    finally:
        engine.close()


@pytest.mark.parametrize(
    "flags", [["--workers", "0"], ["--workers", "-2"], ["--scheduler", "local:0"]]
)
def test_bad_engine_flags_are_usage_errors(flags, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--only", "WR-basic", "--instances", "2", "--no-figures", *flags])
    assert exit_.value.code == 2
    assert flags[0] in capsys.readouterr().err


def test_an_unreachable_scheduler_fails_fast_and_names_the_address(capsys):
    pytest.importorskip("distributed")
    start = time.monotonic()
    status = main(["--only", "WR-basic", "--no-figures", "--scheduler", "tcp://127.0.0.1:9"])
    assert status == 2
    assert time.monotonic() - start < 20  # 10 s timeout, plus Dask's own start
    assert "tcp://127.0.0.1:9" in capsys.readouterr().err


@pytest.mark.parametrize("scheduler", ["local:2", "tcp://127.0.0.1:8786"])
def test_a_missing_dask_names_the_extra(scheduler, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    with pytest.raises(MissingExtraError, match=r"pip install -e '\.\[distributed\]'"):
        DaskEngine(scheduler)
    status = main(["--only", "WR-basic", "--no-figures", "--scheduler", scheduler])
    assert status == 2
    assert "MissingExtraError" in capsys.readouterr().err


def test_the_json_records_engine_and_workers(tmp_path):
    out = tmp_path / "r.json"
    cmd = [sys.executable, "-m", "proofs_checks", "--only", "WR-basic", "--instances", "4"]
    cmd += ["--no-figures", "--workers", "2", "--json", str(out)]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    report = json.loads(out.read_text())
    assert (report["engine"], report["workers"]) == ("processes", 2)


def test_ctrl_c_stops_the_workers_and_writes_the_partial_report(tmp_path):
    """A real SIGINT to a two-worker run: one line, exit status 130, the partial JSON, no
    traceback, and the run stops within seconds (the workers do not finish the claim)."""
    out = tmp_path / "r.json"
    cmd = [sys.executable, "-m", "proofs_checks", "--only", "WR-basic", "--instances", "1000000"]
    cmd += ["--no-figures", "--workers", "2", "--json", str(out)]
    run = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    time.sleep(6)
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=30)
    assert run.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted after 0 of 1 claims" in stderr
    assert json.loads(out.read_text())["complete"] is False
