"""The claim record, the check result, and discovery of claim modules.

A claim module is a module of this package named after its claim id (``WR-basic`` ->
``wr_basic.py``) that defines ``CLAIM``, a :class:`Claim`.  Its ``check`` receives a
:class:`CheckContext` (how many instances, a seeded generator, a progress callback) and returns a
:class:`CheckResult` saying what it tried and what it found.  The verdict follows from the claim's
expected outcome:

* ``"holds"``: agrees when no violation was found on any instance;
* ``"counterexample"``: agrees when a counterexample was found.

A check never re-implements the mathematics: it calls :mod:`theory`, and where it wants an
independent second computation it says so.
"""

from __future__ import annotations

import importlib
import pkgutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from theory.numbers import format_number

__all__ = [
    "CLAIM_ORDER",
    "Claim",
    "CheckContext",
    "CheckResult",
    "Smallest",
    "all_claims",
    "claim_rng",
    "jsonable",
]

#: The claim ids of THEORY.md, in the order of its table.
CLAIM_ORDER = (
    "WR-basic",
    "U-forward",
    "U-converse",
    "U-catalog",
    "WRO-closed-form",
    "RLHF-is-WRO",
    "NLHF-is-WRO",
    "WRO-correspondence",
    "WRO-consistency",
    "DPO-no-correspondence",
    "DPO-fixed-points",
    "SFT-closed-form",
    "SFT-no-consistency",
    "SFT-no-correspondence",
    "mitigations",
    "opt-success",
)

_NOT_CLAIMS = {"registry", "runner", "__main__", "common"}


@dataclass
class CheckContext:
    """What a check is given: the number of ``instances`` to try, the run's ``seed``, a generator
    ``rng`` derived from the seed and the claim id, and ``progress(done)`` to report advancement."""

    instances: int
    seed: int
    rng: np.random.Generator
    progress: Callable[[int], None] = lambda done: None


@dataclass
class CheckResult:
    """What a check tried and found.

    ``found`` is True when the check found what would count as a counterexample to the claim as a
    universal statement (a violation for a ``"holds"`` claim, the sought witness for a
    ``"counterexample"`` claim).  ``counterexample`` is the smallest such instance, with exact
    numbers (Fractions) where possible; ``observed`` a one-line human summary; ``details``
    statistics for the report and the figure.
    """

    observed: str
    instances: int
    found: bool
    counterexample: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    """A claim of THEORY.md with its check and (optionally) the figure it draws."""

    id: str
    statement: str
    expected: Literal["holds", "counterexample"]
    check: Callable[[CheckContext], CheckResult]
    figure: Callable[[CheckResult, Path], list[Path]] | None = None
    default_instances: int = 1000
    #: instances for ``--quick`` (a smoke run, e.g. in CI)
    quick_instances: int = 100

    def verdict(self, result: CheckResult) -> str:
        """``"agrees"`` when the result matches the expected outcome, else ``"disagrees"``."""
        agrees = result.found if self.expected == "counterexample" else not result.found
        return "agrees" if agrees else "disagrees"


class Smallest:
    """Keeps the smallest candidate seen so far by a size key ("the smallest counterexample")."""

    def __init__(self) -> None:
        self.size: tuple | None = None
        self.value: dict[str, Any] | None = None
        self.count = 0

    def offer(self, size: tuple, value: dict[str, Any]) -> None:
        self.count += 1
        if self.size is None or size < self.size:
            self.size, self.value = size, value


def claim_rng(seed: int, claim_id: str) -> np.random.Generator:
    """The generator a claim's check uses: independent of which other claims run."""
    return np.random.default_rng([seed, zlib.crc32(claim_id.encode())])


def jsonable(value: Any) -> Any:
    """A JSON-ready copy: Fractions as ``"p/q"``, arrays as nested lists, dict keys as strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist()) if value.dtype != object else format_number(value)
    formatted = format_number(value)
    if isinstance(formatted, float) and not np.isfinite(formatted):
        return str(formatted)
    return formatted


def all_claims() -> list[Claim]:
    """Every claim module's ``CLAIM``, in THEORY.md's order (unknown ids last)."""
    package = importlib.import_module("proofs_checks")
    claims = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in _NOT_CLAIMS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"proofs_checks.{info.name}")
        claim = getattr(module, "CLAIM", None)
        if isinstance(claim, Claim):
            claims.append(claim)
    rank = {cid: i for i, cid in enumerate(CLAIM_ORDER)}
    return sorted(claims, key=lambda c: (rank.get(c.id, len(rank)), c.id))
