"""Run claims, print the report, write the JSON report and the figures."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TextIO

from .registry import CheckContext, CheckResult, Claim, claim_rng, jsonable

__all__ = ["ClaimRun", "run_claim", "run_claims", "print_report", "write_json"]

#: Progress is shown only for checks that run longer than this many seconds.
PROGRESS_AFTER_S = 2.0
#: Seconds between progress updates on a terminal, and between progress lines in a log.
PROGRESS_EVERY_TTY_S = 0.5
PROGRESS_EVERY_LOG_S = 10.0


class _Progress:
    def __init__(self, claim_id: str, total: int, stream: TextIO) -> None:
        self.claim_id, self.total, self.stream = claim_id, total, stream
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.every = PROGRESS_EVERY_TTY_S if self.tty else PROGRESS_EVERY_LOG_S

    def __call__(self, done: int) -> None:
        now = time.monotonic() - self.start
        if now < PROGRESS_AFTER_S or now - self.last < self.every:
            return
        self.last, self.shown = now, True
        frac = done / self.total if self.total else 1.0
        line = f"  {self.claim_id}: {done}/{self.total} ({frac:.0%}, {now:.0f} s)"
        self.stream.write(f"\r{line}" if self.tty else f"{line}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.shown and self.tty:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


class ClaimRun:
    """One claim's outcome: the claim, its result, the seed, the verdict, the time and figures."""

    def __init__(
        self, claim: Claim, result: CheckResult, seed: int, seconds: float, figures: list[Path]
    ) -> None:
        self.claim, self.result, self.seed = claim, result, seed
        self.seconds, self.figures = seconds, figures
        self.verdict = claim.verdict(result)

    def as_dict(self) -> dict:
        return {
            "id": self.claim.id,
            "statement": self.claim.statement,
            "expected": self.claim.expected,
            "observed": self.result.observed,
            "instances": self.result.instances,
            "seed": self.seed,
            "verdict": self.verdict,
            "counterexample": jsonable(self.result.counterexample),
            "details": jsonable(self.result.details),
            "seconds": round(self.seconds, 3),
            "figures": [str(p) for p in self.figures],
        }


def run_claim(
    claim: Claim,
    *,
    instances: int | None,
    seed: int,
    figures_dir: Path | None,
    stream: TextIO | None = None,
    quick: bool = False,
) -> ClaimRun:
    """Run one claim's check (and its figure, when ``figures_dir`` is given) on ``instances``
    random instances (default: the claim's ``quick_instances`` if ``quick``, else its
    ``default_instances``)."""
    if instances is not None:
        n = instances
    else:
        n = claim.quick_instances if quick else claim.default_instances
    progress = _Progress(claim.id, n, stream or sys.stderr)
    start = time.monotonic()
    ctx = CheckContext(instances=n, seed=seed, rng=claim_rng(seed, claim.id), progress=progress)
    try:
        result = claim.check(ctx)
    finally:
        progress.close()
    seconds = time.monotonic() - start
    figures: list[Path] = []
    if figures_dir is not None and claim.figure is not None:
        import matplotlib

        matplotlib.use("Agg")
        figures_dir.mkdir(parents=True, exist_ok=True)
        figures = claim.figure(result, figures_dir)
    return ClaimRun(claim, result, seed, seconds, figures)


def run_claims(
    claims: list[Claim],
    *,
    instances: int | None,
    seed: int,
    figures_dir: Path | None,
    out: TextIO | None = None,
    stream: TextIO | None = None,
    quick: bool = False,
) -> list[ClaimRun]:
    """Run each claim in turn, printing its row as soon as it finishes."""
    runs: list[ClaimRun] = []
    for claim in claims:
        run = run_claim(
            claim,
            instances=instances,
            seed=seed,
            figures_dir=figures_dir,
            stream=stream,
            quick=quick,
        )
        print_report([run], out=out, header=not runs)
        runs.append(run)
    return runs


def print_report(runs: list[ClaimRun], *, out: TextIO | None = None, header: bool = True) -> None:
    """One row per claim: id, expected, instances, seed, verdict, then the statement, what was
    observed and (if any) the counterexample, indented beneath."""
    out = out or sys.stdout
    if header:
        out.write(f"{'claim':<24} {'expected':<15} {'instances':>9} {'seed':>6}  verdict\n")
        out.write("-" * 72 + "\n")
    for run in runs:
        c, r = run.claim, run.result
        out.write(
            f"{c.id:<24} {c.expected:<15} {r.instances:>9} {run.seed:>6}  {run.verdict.upper()}"
            f"  ({run.seconds:.1f} s)\n"
        )
        out.write(f"    statement: {c.statement}\n")
        out.write(f"    observed:  {r.observed}\n")
        if r.counterexample is not None:
            out.write(f"    counterexample: {json.dumps(jsonable(r.counterexample))}\n")
        for path in run.figures:
            out.write(f"    figure: {path}\n")
    out.flush()


def write_json(runs: list[ClaimRun], path: Path) -> None:
    """The JSON report ``{"claims": [...]}`` (see :meth:`ClaimRun.as_dict`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"claims": [r.as_dict() for r in runs]}, indent=2) + "\n")
