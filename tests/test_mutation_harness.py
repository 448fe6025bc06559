"""The mutation harness (``python -m proofs_checks.mutation``): mutants apply to a temporary copy
of the repository only, the mutated source differs and is importable there, and the JSON report
is read as docs/mutation.md says (no full mutation run here)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from proofs_checks.mutation.harness import (
    ROOT,
    apply_mutant,
    imported_from,
    mutated_copy,
    read_report,
)
from proofs_checks.mutation.mutants import MUTANTS, Mutant, by_name
from proofs_checks.scaffold.registry import all_claims


def test_enough_mutants_each_live_and_with_known_claims():
    assert len(MUTANTS) >= 25
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    ids = {c.id for c in all_claims()}
    for m in MUTANTS:
        text = (ROOT / m.path).read_text()
        assert text.count(m.old) == 1, f"{m.name}: stale mutant (its text is not unique)"
        assert m.old != m.new and m.claims and set(m.claims) <= ids


def test_a_mutant_applies_to_a_copy_that_imports_the_mutated_library():
    mutant = by_name("winrate-float-transposed")
    original = (ROOT / mutant.path).read_text()
    copy = mutated_copy(mutant)
    try:
        mutated = (copy / mutant.path).read_text()
        assert mutated != original and mutant.new in mutated and mutant.old not in mutated
        assert (ROOT / mutant.path).read_text() == original  # the working tree is untouched
        assert imported_from(copy, "theory").resolve().is_relative_to(copy.resolve())
        # the mutated module imports, and the bug shows: WR(pi; q) became WR(q; pi)
        code = (
            "import numpy as np; from theory.winrate import win_rate; "
            "P = np.array([[0.5, 0.9], [0.1, 0.5]]); "
            "print(win_rate(P, [1.0, 0.0], [0.0, 1.0]))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=copy,
            env={"PYTHONPATH": str(copy), "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        )
        assert float(out.stdout) == pytest.approx(0.1)  # the unmutated library says 0.9
    finally:
        shutil.rmtree(copy.parent)


def test_a_stale_mutant_and_the_working_tree_are_refused(tmp_path):
    stale = Mutant("stale", "test", "theory/winrate.py", "no such text", "x", "-", ("WR-basic",))
    (tmp_path / "theory").mkdir()
    (tmp_path / "theory" / "winrate.py").write_text("def f():\n    return 1\n")
    with pytest.raises(ValueError, match="occurs 0 times"):
        apply_mutant(stale, tmp_path)
    with pytest.raises(ValueError, match="never the working tree"):
        apply_mutant(MUTANTS[0], ROOT)


def test_the_report_is_read_as_documented(tmp_path: Path):
    def claim(id, verdict, controls=(), error=None):
        return {"id": id, "verdict": verdict, "error": error, "controls": list(controls)}

    missed = {"name": "planted", "detected": False, "error": None}
    raised = {"name": "planted", "detected": False, "error": "ValueError"}
    report = {
        "claims": [
            claim("A", "agrees"),
            claim("B", "disagrees"),
            claim("C", "invalid", [missed]),
            claim("D", "invalid", [raised]),  # a control that raised: a crash, not caught
            claim("E", "invalid", error="ZeroDivisionError"),  # a check that raised
        ]
    }
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    caught, crashed = read_report(path)
    assert caught == ["B", "C (control: planted)"]
    assert crashed == ["D", "E"]
