"""Apply a mutant to a temporary copy of the repository, run the claims (and the tests) there,
and read what caught it.

Nothing here touches the working tree: :func:`mutated_copy` copies the repository (without
``.git``, caches, built docs, figures and reports) into a fresh temporary folder and edits the
copy; the claims run in a subprocess whose ``PYTHONPATH`` and working folder are the copy, so the
mutated ``theory`` is the one imported (:func:`imported_from` checks it).

What counts as caught (docs/mutation.md, the runner's contract): a claim whose verdict is
``disagrees``, or a positive control that ran and missed (``detected`` false with no error).  A
check or control that raised is a crash: reported, not counted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .mutants import Mutant

__all__ = [
    "ROOT",
    "IGNORED",
    "MutantOutcome",
    "copy_repository",
    "apply_mutant",
    "mutated_copy",
    "imported_from",
    "read_report",
    "run_claims",
    "run_tests",
    "run_mutant",
]

#: The repository root (the folder holding ``theory/`` and ``proofs_checks/``).
ROOT = Path(__file__).resolve().parents[2]
#: What the copy leaves out (version control, caches, generated output).
IGNORED = (
    ".git",
    "__pycache__",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "_build",
    "figures",
    "reports",
    "*.egg-info",
)


def copy_repository(dest: Path, root: Path = ROOT) -> Path:
    """Copy the repository at ``root`` to ``dest`` (which must not exist) without
    :data:`IGNORED`; returns ``dest``."""
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns(*IGNORED), symlinks=True)
    return dest


def apply_mutant(mutant: Mutant, root: Path) -> Path:
    """Edit ``mutant.path`` under ``root`` (a copy!): its one occurrence of ``mutant.old``
    becomes ``mutant.new``.  Raises ``ValueError`` when ``old`` does not occur exactly once (the
    mutant is stale) and refuses to edit the working tree itself."""
    if Path(root).resolve() == ROOT:
        raise ValueError("apply_mutant edits a copy of the repository, never the working tree")
    path = Path(root) / mutant.path
    text = path.read_text()
    n = text.count(mutant.old)
    if n != 1:
        raise ValueError(f"mutant {mutant.name!r}: its text occurs {n} times in {mutant.path}")
    path.write_text(text.replace(mutant.old, mutant.new))
    return path


def mutated_copy(mutant: Mutant | None, parent: Path | None = None) -> Path:
    """A fresh copy of the repository under a new temporary folder (in ``parent`` if given),
    with ``mutant`` applied (``None``: unmutated, the baseline)."""
    base = Path(tempfile.mkdtemp(prefix="mutant-", dir=parent))
    copy = copy_repository(base / "repo")
    if mutant is not None:
        apply_mutant(mutant, copy)
    return copy


def _env(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def imported_from(copy: Path, module: str = "theory") -> Path:
    """The file ``module`` is imported from by a Python started in ``copy`` (as the claims are
    run): inside the copy when the harness works as intended."""
    out = subprocess.run(
        [sys.executable, "-c", f"import {module}; print({module}.__file__)"],
        cwd=copy,
        env=_env(copy),
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def read_report(path: Path) -> tuple[list[str], list[str]]:
    """``(caught, crashed)`` from a JSON report of ``python -m proofs_checks``: the claims whose
    verdict is ``disagrees`` or that have a control that ran and missed (``caught``, each as
    ``"ID"`` or ``"ID (control: NAME)"``), and the claims whose check or control raised."""
    report = json.loads(path.read_text())
    caught, crashed = [], []
    for c in report.get("claims", []):
        missed = [k["name"] for k in c.get("controls", []) if not k["detected"] and not k["error"]]
        if c.get("verdict") == "disagrees":
            caught.append(c["id"])
        elif missed:
            caught.append(f"{c['id']} (control: {missed[0]})")
        if c.get("error") or any(k.get("error") for k in c.get("controls", [])):
            crashed.append(c["id"])
    return caught, crashed


@dataclass
class MutantOutcome:
    """What happened to one mutant: the claims that caught it, those that crashed on it, whether
    the tests caught it (None when not run), the seconds spent, and a note (timeout, no report)."""

    name: str
    kind: str
    caught_by: list[str] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)
    tests_caught: bool | None = None
    seconds: float = 0.0
    note: str = ""

    @property
    def caught(self) -> bool:
        return bool(self.caught_by)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "caught": self.caught,
            "caught_by": self.caught_by,
            "crashed": self.crashed,
            "tests_caught": self.tests_caught,
            "seconds": round(self.seconds, 1),
            "note": self.note,
        }


def run_claims(
    copy: Path, ids: Sequence[str], instances: int, timeout: float, extra: Sequence[str] = ()
) -> tuple[list[str], list[str], str]:
    """Run ``python -m proofs_checks --only IDS --instances N --no-figures`` in ``copy``;
    returns ``(caught, crashed, note)`` read from its JSON report (:func:`read_report`)."""
    report = copy / "mutation-report.json"
    cmd = [sys.executable, "-m", "proofs_checks", "--instances", str(instances), "--no-figures"]
    cmd += ["--json", str(report), *extra]
    if ids:
        cmd += ["--only", *ids]
    try:
        subprocess.run(
            cmd, cwd=copy, env=_env(copy), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return [], [], f"claims timed out after {timeout:.0f} s"
    if not report.exists():
        return [], [], "no JSON report (the runner died)"
    caught, crashed = read_report(report)
    return caught, crashed, ""


def run_tests(copy: Path, timeout: float, workers: int = 2) -> bool | None:
    """Run the test suite in ``copy``; True when some test fails (the tests caught the mutant),
    None on a timeout."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    cmd += ["-n", str(workers)] if workers > 1 else []
    try:
        out = subprocess.run(
            cmd, cwd=copy, env=_env(copy), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None
    return out.returncode != 0


def run_mutant(
    mutant: Mutant | None,
    ids: Sequence[str],
    *,
    instances: int = 200,
    tests: bool = False,
    timeout: float = 900.0,
    extra: Sequence[str] = (),
) -> MutantOutcome:
    """Copy, mutate, run the claims ``ids`` (and the tests), clean up; the outcome.
    ``mutant=None`` is the baseline (the unmutated copy: nothing should be caught)."""
    start = time.perf_counter()
    copy = mutated_copy(mutant)
    name, kind = (mutant.name, mutant.kind) if mutant else ("(baseline)", "-")
    try:
        caught, crashed, note = run_claims(copy, ids, instances, timeout, extra)
        outcome = MutantOutcome(name, kind, caught, crashed, note=note)
        if tests:
            outcome.tests_caught = run_tests(copy, timeout)
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)
    outcome.seconds = time.perf_counter() - start
    return outcome
