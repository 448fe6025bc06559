"""Checks whose instances cycle through named cases (``DPO-fixed-points``, ``mitigations``).

Instance ``n`` (its global index: a chunk's instances run from ``ctx.start``) runs case
``n mod len(cases)``: a function ``case(rng, n, stats)`` that draws its
instance from ``rng``, counts what it saw in the check's typed tally ``stats`` and returns its
failures as ``(property, value)`` pairs.  :func:`cycle_cases` runs them, counts each case by its
name (``_case_full`` -> ``full``) and offers every failure as a witness of size ``(n,)``: the
first failing instance is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..scaffold import CheckContext, Counts, Tally

__all__ = ["Case", "Fails", "case_name", "cycle_cases"]

#: What a case returns: the properties that failed, each with the values that show it.
Fails = list[tuple[str, Any]]
#: A case: ``case(rng, n, stats) -> failures``.
Case = Callable[[np.random.Generator, int, Any], Fails]


def case_name(case: Case) -> str:
    """A case's name: its function name without the leading ``_<kind>_``.

    >>> def _part_strict_exact(rng, n, stats): return []
    >>> case_name(_part_strict_exact)
    'strict_exact'
    """
    return getattr(case, "__name__", "case").split("_", 2)[-1]


def cycle_cases(
    ctx: CheckContext, cases: Sequence[Case], stats: Tally, counter: Counts, label: str
) -> None:
    """Run ``ctx.instances`` instances through ``cases`` in turn (module docstring); each
    instance is counted in ``counter`` under its case's name, and each failure offered to
    ``stats.witness`` as ``{label: name, "property": ..., "value": ...}``."""
    for n in range(ctx.start, ctx.start + ctx.instances):  # global indices (a chunk's too)
        case = cases[n % len(cases)]
        name = case_name(case)
        counter.add(name)
        for prop, value in case(ctx.rng, n, stats):
            stats.witness.offer((n,), {label: name, "property": prop, "value": value})
        ctx.progress(n - ctx.start + 1)
