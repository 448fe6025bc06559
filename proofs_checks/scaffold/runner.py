"""Run claims: the check, its positive controls and its figures; the report and the JSON.

A check that raises, or a positive control that is missed, gives the verdict ``invalid``; the
report carries the error and where it came from (see :mod:`proofs_checks.scaffold.claim`).
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .chunks import Chunked, chunk_bounds, finish_context, merge_all
from .claim import (
    CheckResult,
    Claim,
    ControlOutcome,
    Verdict,
    proof_verdict,
    verdict_of,
)
from .engines import (
    Engine,
    Outcome,
    SerialEngine,
    Task,
    check_context,
    claim_module,
    runs_anywhere,
    where,
)
from .progress import Progress
from .registry import jsonable

if TYPE_CHECKING:
    from ..proofs.core import ProofResult

__all__ = ["ClaimRun", "run_claim", "run_claims", "print_report", "write_json", "report_dict"]


@dataclass
class ClaimRun:
    """One claim's outcome: its result (None when the check raised), the controls' outcomes,
    the verdict, the error (if any), the seed, the time and the figures."""

    claim: Claim
    result: CheckResult | None
    seed: int
    seconds: float
    controls: tuple[ControlOutcome, ...] = ()
    error: str | None = None
    figures: list[Path] = field(default_factory=list)
    # --prove / --prove-only: the symbolic proof (None: not run, or no proof for this claim)
    proof: ProofResult | None = None
    proof_requested: bool = False
    proof_error: str | None = None
    sampled: bool = True

    @property
    def verdict(self) -> Verdict:
        if self.proof_error is not None or self.error is not None:  # something raised
            return "invalid"
        if not self.sampled:  # --prove-only
            return proof_verdict(self.proof.status) if self.proof else "invalid"
        status = self.proof.status if self.proof else None
        return verdict_of(self.claim.expected, self.result, self.controls, status)

    def proof_field(self) -> Any:
        """The JSON ``proof`` field: the proof's record, ``"no proof"``, or None (not run)."""
        if self.proof is not None:
            return self.proof.as_dict()
        return "no proof" if self.proof_requested else None

    @property
    def instances(self) -> int:
        return self.result.instances if self.result else 0

    def as_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "id": self.claim.id,
            "statement": self.claim.statement,
            "expected": self.claim.expected,
            "observed": r.observed if r else None,
            "instances": self.instances,
            "seed": self.seed,
            "verdict": self.verdict,
            "error": self.error or self.proof_error,
            "controls": [
                {"name": c.name, "detected": c.detected, "error": c.error} for c in self.controls
            ],
            "counterexample": jsonable(r.counterexample) if r else None,
            "details": jsonable(r.details) if r else {},
            "seconds": round(self.seconds, 3),
            "figures": [str(p) for p in self.figures],
            "proof": self.proof_field(),
        }


def _size(claim: Claim, instances: int | None, quick: bool) -> int:
    """The number of instances: ``instances`` if given, else the claim's quick or default size."""
    if instances is not None:
        return instances
    return claim.quick_instances if quick else claim.default_instances


def _tasks(claim: Claim, slot: int, n: int, seed: int, *, prove: bool, sample: bool) -> list[Task]:
    """The tasks of the claim in position ``slot`` of the run: its chunks (or its whole check),
    its controls, its proof."""
    module = claim_module(claim)
    task = partial(Task, module=module, claim_id=claim.id, slot=slot, seed=seed, instances=n)
    tasks = []
    if sample:
        if isinstance(claim.check, Chunked):
            bounds = chunk_bounds(n, claim.check.size)
            tasks += [task("chunk", index=i, start=s, count=c) for i, (s, c) in enumerate(bounds)]
        else:
            tasks.append(task("check", count=n))
        tasks.append(task("controls"))
    if prove:
        tasks.append(task("proof"))
    return tasks


@dataclass
class _Assembly:
    """The outcomes of one claim's tasks as they arrive, and the claim's run once all have."""

    claim: Claim
    n: int
    seed: int
    tasks: list[Task]
    outcomes: dict[Task, Outcome] = field(default_factory=dict)
    #: the finished run waiting for its figure
    pending: ClaimRun | None = None

    @property
    def complete(self) -> bool:
        return len(self.outcomes) == len(self.tasks)

    def of(self, kind: str) -> list[Outcome]:
        return [self.outcomes[t] for t in self.tasks if t.kind == kind]

    def result(self) -> tuple[CheckResult | None, str | None]:
        """The check's result (chunks merged in order, then ``finish``) or the first error."""
        parts = self.of("chunk") or self.of("check")
        errors = [o.error for o in parts if o.error is not None]
        if errors:
            return None, errors[0]
        if not isinstance(self.claim.check, Chunked):
            return parts[0].value, None
        ctx = check_context(parts[0].task)  # the claim's size, seed and generator, as chunks see
        try:
            merged = merge_all([o.value for o in parts])
            return self.claim.check.finish(merged, finish_context(ctx)), None
        except Exception as exc:
            return None, where(exc)

    def drawn(self, outcome: Outcome) -> ClaimRun:
        """The claim's run with its figures (a figure that raised makes the run invalid)."""
        run = self.pending
        assert run is not None
        run.seconds += outcome.seconds
        if outcome.error is not None:
            run.error = f"figure: {outcome.error}"
        else:
            run.figures = [Path(p) for p in outcome.value]
        return run

    def run(self, sample: bool) -> ClaimRun:
        seconds = sum(o.seconds for o in self.outcomes.values())
        result, error = self.result() if sample else (None, None)
        run = ClaimRun(self.claim, result, self.seed, seconds, (), error, sampled=sample)
        for o in self.of("controls"):
            missed = (ControlOutcome("controls", False, o.error),)
            run.controls = o.value if o.error is None else missed
        for o in self.of("proof"):
            run.proof_requested = True
            run.proof, run.proof_error = o.value, (f"proof: {o.error}" if o.error else None)
        return run


def run_claim(
    claim: Claim,
    *,
    instances: int | None,
    seed: int,
    figures_dir: Path | None,
    stream: TextIO | None = None,
    quick: bool = False,
    prove: bool = False,
    sample: bool = True,
    engine: Engine | None = None,
) -> ClaimRun:
    """Run one claim's check, its positive controls and (when ``figures_dir`` is given) its
    figure on ``instances`` random instances (default: the claim's ``quick_instances`` if
    ``quick``, else its ``default_instances``), printing nothing.  ``prove``: also run the
    claim's symbolic proof (:mod:`proofs_checks.proofs`); ``sample=False``: only the proof
    (``--prove-only``).  ``engine``: where the tasks run (default: in turn, here)."""
    (run,) = run_claims(
        [claim],
        instances=instances,
        seed=seed,
        figures_dir=figures_dir,
        out=io.StringIO(),
        stream=stream or io.StringIO(),
        quick=quick,
        prove=prove,
        sample=sample,
        engine=engine,
    )
    return run


# --- --prove / --prove-only ------------------------------------------------------------------


def _proof_line(run: ClaimRun) -> str | None:
    """The report's proof line, or None when no proof was requested."""
    if not run.proof_requested:
        return None
    pr = run.proof
    if pr is None:
        return "no proof" if run.proof_error is None else f"error: {run.proof_error}"
    Ks = ", ".join(map(str, pr.Ks))
    if pr.status == "proved":
        return f"proved for K = {Ks} ({pr.seconds:.1f} s of CPU)"
    line = f"{pr.status} at {pr.failed}: {pr.residual}"
    if pr.counterexample:
        line += f"; counterexample {json.dumps(pr.counterexample)}"
    return line + f" ({pr.seconds:.1f} s of CPU)"


# ---------------------------------------------------------------------------------------------


def run_claims(
    claims: list[Claim],
    *,
    instances: int | None,
    seed: int,
    figures_dir: Path | None,
    out: TextIO | None = None,
    stream: TextIO | None = None,
    quick: bool = False,
    done: list[ClaimRun] | None = None,
    prove: bool = False,
    sample: bool = True,
    engine: Engine | None = None,
) -> list[ClaimRun]:
    """Run the claims' tasks on ``engine`` (default: in turn, in this process) and print each
    claim's row, in the order of ``claims``, as soon as it and the claims before it are done.
    Finished runs are added to ``done`` (when given) as they finish, kept in the order of
    ``claims``, so a caller interrupted midway keeps them in report order; that list (or a new
    one) is returned."""
    engine = engine or SerialEngine()
    runs: list[ClaimRun] = [] if done is None else done
    parts = [
        _Assembly(c, n, seed, _tasks(c, slot, n, seed, prove=prove, sample=sample))
        for slot, c in enumerate(claims)
        for n in [_size(c, instances, quick)]
    ]
    finished: dict[int, ClaimRun] = {}
    slot_of: dict[int, int] = {}  # id of a finished run -> its claim's position
    totals = {slot: (p.claim.id, p.n) for slot, p in enumerate(parts)}
    progress = Progress(totals, stream or sys.stderr, out or sys.stdout)

    def on_done(outcome: Outcome) -> list[Task]:
        slot, task = outcome.task.slot, outcome.task
        part = parts[slot]
        if task.kind == "figure":
            run = part.drawn(outcome)
        else:
            part.outcomes[task] = outcome
            if task.kind in ("chunk", "check"):
                progress.advance(slot, task.count, outcome.seconds)
            if not part.complete:
                return []
            run = part.run(sample)
            figure = _figure_task(run, task, figures_dir)
            if figure is not None:  # the row waits for its figure
                part.pending = run
                return [figure]
        finished[slot] = run
        slot_of[id(run)] = slot
        runs.append(run)
        runs.sort(key=lambda r: slot_of[id(r)])  # report order, also for an interrupted run
        progress.finished(slot)
        _print_ready(len(parts), finished, progress)
        return []

    def on_progress(task: Task, count: int) -> None:
        if task.kind in ("chunk", "check"):
            progress.partial(task.slot, count)

    local = {slot: c for slot, c in enumerate(claims) if not runs_anywhere(c)}
    try:
        engine.run([t for p in parts for t in p.tasks], local, on_done, on_progress)
    finally:
        progress.close()
    return runs


def _print_ready(count: int, finished: dict[int, ClaimRun], progress: Progress) -> None:
    """Print the rows of the finished claims whose predecessors are all printed (the printed
    ones are marked on ``progress``)."""
    while progress.printed < count and progress.printed in finished:
        run = finished[progress.printed]
        text = io.StringIO()
        print_report([run], out=text, header=progress.printed == 0)
        progress.write(text.getvalue())
        progress.printed += 1


def _figure_task(run: ClaimRun, last: Task, figures_dir: Path | None) -> Task | None:
    """The task drawing the claim's figure into ``figures_dir`` (None: nothing to draw)."""
    if figures_dir is None or run.claim.figure is None or run.result is None:
        return None
    return replace(last, kind="figure", index=0, start=0, count=0, result=run.result,
                   outdir=str(figures_dir))  # fmt: skip


def print_report(runs: list[ClaimRun], *, out: TextIO | None = None, header: bool = True) -> None:
    """One row per claim: id, expected, instances, seed, verdict, then the statement, what was
    observed, the counterexample (if any), missed controls and errors, indented beneath."""
    out = out or sys.stdout
    if header:
        out.write(f"{'claim':<33} {'expected':<15} {'instances':>9} {'seed':>6}  verdict\n")
        out.write("-" * 81 + "\n")
    for run in runs:
        c, r = run.claim, run.result
        out.write(
            f"{c.id:<33} {c.expected:<15} {run.instances:>9} {run.seed:>6}  "
            f"{run.verdict.upper()}  ({run.seconds:.1f} s)\n"
        )
        out.write(f"    statement: {c.statement}\n")
        if r is not None:
            out.write(f"    observed:  {r.observed}\n")
            if r.counterexample is not None:
                out.write(f"    counterexample: {json.dumps(jsonable(r.counterexample))}\n")
        proof_line = _proof_line(run)
        if proof_line is not None:
            out.write(f"    proof:     {proof_line}\n")
        if run.error:
            out.write(f"    error: {run.error}\n")
        for ctl in run.controls:
            if not ctl.detected:
                out.write(
                    f"    control missed: {ctl.name}"
                    + (f" ({ctl.error})" if ctl.error else "")
                    + "\n"
                )
        for path in run.figures:
            out.write(f"    figure: {path}\n")
    out.flush()


def report_dict(
    runs: list[ClaimRun], *, complete: bool = True, engine: Engine | None = None
) -> dict[str, Any]:
    """The JSON report: ``{"complete", "engine", "workers", "claims": [...]}`` (see
    :meth:`ClaimRun.as_dict`).  Everything but the timings, ``engine`` and ``workers`` is a
    function of the seed and the sizes."""
    engine = engine or SerialEngine()
    return {
        "complete": complete,
        "engine": engine.name,
        "workers": engine.workers,
        "claims": [r.as_dict() for r in runs],
    }


def write_json(
    runs: list[ClaimRun], path: Path, *, complete: bool = True, engine: Engine | None = None
) -> None:
    """Write :func:`report_dict` to ``path`` (its folder is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    report = report_dict(runs, complete=complete, engine=engine)
    path.write_text(json.dumps(report, indent=2) + "\n")
