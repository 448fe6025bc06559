"""The claim record, what a check is given and what it returns, positive controls, verdicts.

A claim module of :mod:`proofs_checks` (named after its claim id: ``WR-basic`` ->
``wr_basic.py``) defines ``CLAIM``, a :class:`Claim`: the id, the statement, the expected outcome,
the ``check`` (its mathematics, on random instances), optionally a ``figure`` and positive
``controls``.  The check receives a :class:`CheckContext` and returns a :class:`CheckResult`.

Verdicts (the runner's contract, described in ``docs/architecture.md`` and the README):

* ``agrees``: the result matches the expected outcome (``"holds"``: no violation found;
  ``"counterexample"``: a witness found) and every positive control behaved;
* ``disagrees``: the result contradicts the expected outcome while the controls behaved;
* ``inconclusive``: the check reports that its statistical rule could not decide;
* ``invalid``: a positive control was missed (the check cannot tell), or the check raised.

With a symbolic proof in the run (``--prove``, :mod:`proofs_checks.proofs`): a ``disproved``
proof makes the verdict ``disagrees``, a ``not proved`` one turns ``agrees`` into
``inconclusive``; a ``proved`` proof leaves the sampled verdict as it is.  Proofs alone
(``--prove-only``): :func:`proof_verdict`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from .figures import Gallery

__all__ = [
    "Claim",
    "CheckContext",
    "CheckResult",
    "Control",
    "ControlOutcome",
    "Verdict",
    "Expected",
    "verdict_of",
    "proof_verdict",
]

Expected = Literal["holds", "counterexample"]
Verdict = Literal["agrees", "disagrees", "inconclusive", "invalid"]


@dataclass
class CheckContext:
    """What a check is given: the number of ``instances`` to try, the run's ``seed``, a generator
    ``rng`` derived from the seed and the claim id, and ``progress(done)`` to report advancement.
    A chunk of a chunked check (:mod:`~proofs_checks.scaffold.chunks`) also learns ``start``, the
    global index of its first instance, and ``total``, the claim's size (0 outside a chunk: the
    size is ``instances``)."""

    instances: int
    seed: int
    rng: np.random.Generator
    progress: Callable[[int], None] = lambda done: None
    start: int = 0
    total: int = 0


@dataclass
class CheckResult:
    """What a check tried and found.

    ``found`` is True when the check found what would count as a counterexample to the claim as a
    universal statement (a violation for a ``"holds"`` claim, the sought witness for a
    ``"counterexample"`` claim).  ``counterexample`` is the smallest such instance, with exact
    numbers (Fractions) where possible; ``observed`` a one-line human summary; ``details``
    statistics for the report and the figure.  ``inconclusive`` is set by a check decided by a
    statistical rule whose interval straddles its threshold.
    """

    observed: str
    instances: int
    found: bool
    counterexample: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    inconclusive: bool = False
    #: data for the figure only (library objects, not in the report); travels with the result
    #: to the worker that draws the figure
    figure_data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Control:
    """A positive control: an instance on which the check's detector must fire.

    ``run(rng)`` builds a case where the property is known to fail (or a witness is known to
    exist), applies the same detector the check uses, and returns True when it detected it.
    A control that returns False (or raises) makes the claim's verdict ``invalid``.
    """

    name: str
    run: Callable[[np.random.Generator], bool]


@dataclass(frozen=True)
class ControlOutcome:
    """How one positive control behaved: ``detected`` it, or not (``error`` when it raised)."""

    name: str
    detected: bool
    error: str | None = None


@dataclass(frozen=True)
class Claim:
    """A claim of ``docs/theory.md`` with its check, figure and positive controls.

    ``figure(result, gallery)`` draws into a :class:`~proofs_checks.scaffold.figures.Gallery`.
    ``default_instances`` is part of the claim (never lowered to save time); ``quick_instances``
    is the smoke size.
    """

    id: str
    statement: str
    expected: Expected
    check: Callable[[CheckContext], CheckResult]
    figure: Callable[[CheckResult, Gallery], None] | None = None
    default_instances: int = 1000
    quick_instances: int = 100
    controls: tuple[Control, ...] = ()

    def verdict(self, result: CheckResult, controls: tuple[ControlOutcome, ...] = ()) -> Verdict:
        """The verdict for a check's result and its controls' outcomes."""
        return verdict_of(self.expected, result, controls)


def verdict_of(
    expected: Expected,
    result: CheckResult | None,
    controls: tuple[ControlOutcome, ...] = (),
    proof: str | None = None,
) -> Verdict:
    """The verdict rule (module docstring); ``result`` is None when the check raised; ``proof``
    is the status of the claim's proof when the run includes one (``"proved"``,
    ``"not proved"``, ``"disproved"``), else None."""
    if result is None or not all(c.detected for c in controls):
        return "invalid"
    # --prove: a disproof is a disagreement whatever the samples say
    if proof == "disproved":
        return "disagrees"
    if result.inconclusive:
        return "inconclusive"
    agrees = result.found if expected == "counterexample" else not result.found
    if not agrees:
        return "disagrees"
    # --prove: samples agree but sympy could not reduce the residual to 0
    return "inconclusive" if proof == "not proved" else "agrees"


def proof_verdict(status: str) -> Verdict:
    """The verdict of a proof run alone (``--prove-only``): ``proved`` -> agrees, ``disproved`` ->
    disagrees, ``not proved`` -> inconclusive."""
    if status == "proved":
        return "agrees"
    return "disagrees" if status == "disproved" else "inconclusive"
