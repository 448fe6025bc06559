"""Is the reported smallest witness of a no-correspondence claim really the smallest?

:func:`theory.search.smallest_witness` enumerates two-response instances on finer and finer grids
and keeps the smallest witness by size.  :func:`smallest_is_minimal` is a positive control of the
no-correspondence claims that re-does that enumeration here, written independently: every
two-response instance (one prompt, ``beta = 1``) with ``P[0, 1]`` in ``[0, 1]`` and ``mu0``,
``mu1``, ``pi_ref`` (when the loss uses it) and both models of full support on the grid of
denominators at most ``d``, every ordered model pair judged by the check's independent
re-verification (exact pairwise win rates, ``arb`` interval losses:
:func:`proofs_checks.common.contest.win_rate_below` and
:func:`~proofs_checks.common.contest.loss_below`), for ``d = 2, 3, ...`` up to the library's
witness's largest denominator.  The library's witness must be re-verified and its size
``(K, M, largest denominator, sum of denominators)`` must equal the smallest found here: a search
that keeps its first candidate, or skips a grid, is caught.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Any

import numpy as np

from theory.data import PreferenceData
from theory.search import Contest, Instance, smallest_witness

from ..scaffold import Control

__all__ = ["grid", "size_key", "brute_force_smallest", "smallest_is_minimal"]

HALF = Fraction(1, 2)


def grid(d: int, *, ends: bool = False) -> list[Fraction]:
    """The fractions ``k / e`` with ``e <= d`` in ``(0, 1)`` (``[0, 1]`` with ``ends``).

    >>> [str(v) for v in grid(3)]
    ['1/3', '1/2', '2/3']
    """
    if ends:
        return sorted({Fraction(k, e) for e in range(1, d + 1) for k in range(e + 1)})
    return sorted({Fraction(k, e) for e in range(2, d + 1) for k in range(1, e)})


def size_key(inst: Instance, pi_a: Any, pi_b: Any) -> tuple[int, int, int, int]:
    """``(K, M, largest denominator, sum of denominators)`` over every number of the witness:
    ``P``, ``mu0``, ``mu1``, ``pi_ref``, both models and ``beta`` (one prompt)."""
    d = inst.data
    parts = [d.P, d.mu0, d.mu1, inst.pi_ref, pi_a, pi_b]
    dens = [Fraction(v).denominator for a in parts for v in np.asarray(a).ravel()]
    dens.append(Fraction(inst.beta).denominator)
    return (d.K, d.M, max(dens), sum(dens))


def _instances(d: int, uses_reference: bool) -> list[Instance]:
    inner, closed = grid(d), grid(d, ends=True)
    refs = inner if uses_reference else [HALF]
    out = []
    for p01, m0, m1, r in itertools.product(closed, inner, inner, refs):
        P = np.array([[HALF, p01], [1 - p01, HALF]], dtype=object)
        data = PreferenceData(P=P, mu0=[m0, 1 - m0], mu1=[m1, 1 - m1])
        out.append(Instance(data, np.array([[r, 1 - r]], dtype=object), Fraction(1)))
    return out


def brute_force_smallest(contest: Contest, max_d: int) -> tuple[int, int, int, int] | None:
    """The smallest size of a witness at the first ``d <= max_d`` that has one (module
    docstring), or None."""
    from .contest import loss_below, win_rate_below  # the check's independent judges

    for d in range(2, max_d + 1):
        models = [np.array([[v, 1 - v]], dtype=object) for v in grid(d)]
        best: tuple[int, int, int, int] | None = None
        for inst in _instances(d, contest.uses_reference):
            for a, b in itertools.permutations(models, 2):
                if win_rate_below(contest, inst, a, b) and loss_below(contest, inst, a, b):
                    key = size_key(inst, a, b)
                    best = key if best is None or key < best else best
        if best is not None:
            return best
    return None


def smallest_is_minimal(contest: Contest, max_denominator: int) -> Control:
    """The positive control (module docstring): the library's smallest two-response witness is
    re-verified and as small as the smallest found by the independent enumeration."""

    def run(rng: np.random.Generator) -> bool:
        from .contest import reverify

        w = smallest_witness(contest, max_denominator=max_denominator)
        if w is None or not reverify(contest, w):
            return False
        return size_key(w.instance, w.pi_a, w.pi_b) == brute_force_smallest(contest, w.size[2])

    return Control("the enumerated smallest witness is minimal (independent enumeration)", run)
