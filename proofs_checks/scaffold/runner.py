"""Run claims: the check, its positive controls and its figures; the report and the JSON.

A check that raises, or a positive control that is missed, gives the verdict ``invalid``; the
report carries the error and where it came from (see :mod:`proofs_checks.scaffold.claim`).
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .claim import (
    CheckContext,
    CheckResult,
    Claim,
    ControlOutcome,
    Verdict,
    proof_verdict,
    verdict_of,
)
from .figures import Gallery
from .registry import claim_rng, control_rng, jsonable

if TYPE_CHECKING:
    from ..proofs.core import ProofResult

__all__ = ["ClaimRun", "run_claim", "run_claims", "print_report", "write_json", "report_dict"]

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


def _where(exc: BaseException) -> str:
    """``Type: message (file:line in function)`` of the innermost frame of an exception."""
    tb = traceback.extract_tb(exc.__traceback__)
    at = f" ({tb[-1].filename}:{tb[-1].lineno} in {tb[-1].name})" if tb else ""
    return f"{type(exc).__name__}: {exc}{at}"


def _run_controls(claim: Claim, seed: int) -> tuple[ControlOutcome, ...]:
    rng = control_rng(seed, claim.id)
    outcomes = []
    for control in claim.controls:
        try:
            outcomes.append(ControlOutcome(control.name, bool(control.run(rng))))
        except Exception as exc:  # a control that raises did not detect
            outcomes.append(ControlOutcome(control.name, False, _where(exc)))
    return tuple(outcomes)


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
) -> ClaimRun:
    """Run one claim's check, its positive controls and (when ``figures_dir`` is given) its
    figure on ``instances`` random instances (default: the claim's ``quick_instances`` if
    ``quick``, else its ``default_instances``).  ``prove``: also run the claim's symbolic proof
    (:mod:`proofs_checks.proofs`); ``sample=False``: only the proof (``--prove-only``)."""
    if not sample:
        return _proof_only(claim, seed)
    if instances is not None:
        n = instances
    else:
        n = claim.quick_instances if quick else claim.default_instances
    progress = _Progress(claim.id, n, stream or sys.stderr)
    start = time.monotonic()
    ctx = CheckContext(instances=n, seed=seed, rng=claim_rng(seed, claim.id), progress=progress)
    result: CheckResult | None = None
    error = None
    try:
        result = claim.check(ctx)
    except Exception as exc:
        error = _where(exc)
    finally:
        progress.close()
    controls = _run_controls(claim, seed)
    seconds = time.monotonic() - start
    run = ClaimRun(claim, result, seed, seconds, controls, error)
    if prove:
        run.proof_requested = True
        run.proof, run.proof_error = _prove(claim, seed)
    if figures_dir is not None and claim.figure is not None and result is not None:
        try:
            run.figures = _draw(claim.figure, result, figures_dir)
        except Exception as exc:  # a figure that fails leaves the run incomplete: invalid
            run.error = f"figure: {_where(exc)}"
    return run


# --- --prove / --prove-only ------------------------------------------------------------------


def _prove(claim: Claim, seed: int) -> tuple[ProofResult | None, str | None]:
    """The claim's proof (None when it has none) and the error when the proof raised."""
    from .. import proofs

    if claim.id not in proofs.available():
        return None, None
    try:
        return proofs.prove(claim.id, seed=seed), None
    except Exception as exc:
        return None, f"proof: {_where(exc)}"


def _proof_only(claim: Claim, seed: int) -> ClaimRun:
    start = time.monotonic()
    proof, error = _prove(claim, seed)
    run = ClaimRun(claim, None, seed, time.monotonic() - start)
    run.proof, run.proof_error, run.proof_requested, run.sampled = proof, error, True, False
    return run


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


def _draw(figure: Callable[[CheckResult, Gallery], None], result: CheckResult, outdir: Path):
    import matplotlib

    matplotlib.use("Agg")
    outdir.mkdir(parents=True, exist_ok=True)
    gallery = Gallery(outdir)
    figure(result, gallery)
    return gallery.paths


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
) -> list[ClaimRun]:
    """Run each claim in turn, printing its row as soon as it finishes.  Finished runs are
    appended to ``done`` (when given) as they finish, so a caller interrupted midway keeps
    them."""
    runs: list[ClaimRun] = [] if done is None else done
    for claim in claims:
        run = run_claim(
            claim,
            instances=instances,
            seed=seed,
            figures_dir=figures_dir,
            stream=stream,
            quick=quick,
            prove=prove,
            sample=sample,
        )
        print_report([run], out=out, header=not runs)
        runs.append(run)
    return runs


def print_report(runs: list[ClaimRun], *, out: TextIO | None = None, header: bool = True) -> None:
    """One row per claim: id, expected, instances, seed, verdict, then the statement, what was
    observed, the counterexample (if any), missed controls and errors, indented beneath."""
    out = out or sys.stdout
    if header:
        out.write(f"{'claim':<24} {'expected':<15} {'instances':>9} {'seed':>6}  verdict\n")
        out.write("-" * 72 + "\n")
    for run in runs:
        c, r = run.claim, run.result
        out.write(
            f"{c.id:<24} {c.expected:<15} {run.instances:>9} {run.seed:>6}  "
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


def report_dict(runs: list[ClaimRun], *, complete: bool = True) -> dict[str, Any]:
    """The JSON report: ``{"complete": ..., "claims": [...]}`` (see :meth:`ClaimRun.as_dict`)."""
    return {"complete": complete, "claims": [r.as_dict() for r in runs]}


def write_json(runs: list[ClaimRun], path: Path, *, complete: bool = True) -> None:
    """Write :func:`report_dict` to ``path`` (its folder is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report_dict(runs, complete=complete), indent=2) + "\n")
