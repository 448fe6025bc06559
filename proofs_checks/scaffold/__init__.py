"""The claim scaffold: what every claim check is built from.

* :mod:`~proofs_checks.scaffold.claim`: the claim record, the check's context and result,
  positive controls and the verdict rule;
* :mod:`~proofs_checks.scaffold.tally`: the typed tally a check counts into, and how tallies merge;
* :mod:`~proofs_checks.scaffold.batches`: instance batches as a flat loop over cells;
* :mod:`~proofs_checks.scaffold.chunks`: a check split into chunks that merge in order;
* :mod:`~proofs_checks.scaffold.engines`: where the chunks run (in turn, local processes, Dask);
* :mod:`~proofs_checks.scaffold.figures`: the one figure helper;
* :mod:`~proofs_checks.scaffold.registry`, :mod:`~proofs_checks.scaffold.runner`,
  :mod:`~proofs_checks.scaffold.cli`: discovery, running, the report and the command line.
"""

from .batches import Cell, cells, split
from .chunks import Chunked, chunked
from .claim import CheckContext, CheckResult, Claim, Control, ControlOutcome, verdict_of
from .figures import Gallery, simplex_xy
from .tally import (
    Collected,
    Counts,
    Max,
    Min,
    Samples,
    Smallest,
    Tally,
    collected,
    counts,
    maximum,
    minimum,
    samples,
)

__all__ = [
    "Claim",
    "CheckContext",
    "CheckResult",
    "Control",
    "ControlOutcome",
    "verdict_of",
    "Tally",
    "Max",
    "Min",
    "Samples",
    "Counts",
    "Smallest",
    "Collected",
    "collected",
    "maximum",
    "minimum",
    "samples",
    "counts",
    "Chunked",
    "chunked",
    "Cell",
    "cells",
    "split",
    "Gallery",
    "simplex_xy",
]
