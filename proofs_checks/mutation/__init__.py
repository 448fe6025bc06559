"""Mutation testing of ``theory/``: ``python -m proofs_checks.mutation`` (docs/mutation.md).

Each mutant of :data:`~proofs_checks.mutation.mutants.MUTANTS` is a realistic single-point bug
(a transposed matrix, a dropped component, a flipped sign, a predicate that never fires, a search
that returns its first candidate, an off-by-one, a wrong default...).  The harness
(:mod:`~proofs_checks.mutation.harness`) applies it to a temporary copy of the repository (never
the working tree), runs the claims there at ``--instances 200`` (and, with ``--tests``, the test
suite) and reads the JSON report: the mutant is *caught by the claims* when some verdict becomes
``disagrees``, or ``invalid`` because a positive control ran and missed.  A crash alone does not
count.
"""

from .harness import MutantOutcome, apply_mutant, mutated_copy, run_mutant
from .mutants import MUTANTS, Mutant, by_name

__all__ = [
    "MUTANTS",
    "Mutant",
    "by_name",
    "MutantOutcome",
    "apply_mutant",
    "mutated_copy",
    "run_mutant",
]
