"""The smallest witness over two responses, by exhaustive enumeration of small rationals."""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Any

import numpy as np

from ..data import PreferenceData
from .certify import ContestWitness, judge
from .contests import Contest, Instance

__all__ = ["farey", "smallest_witness"]


def farey(d: int, *, ends: bool = False) -> list[Fraction]:
    """The fractions ``k / e`` in ``(0, 1)`` (``[0, 1]`` with ``ends``) with ``e <= d``, sorted.

    >>> farey(3)
    [Fraction(1, 3), Fraction(1, 2), Fraction(2, 3)]
    """
    lo, extra = (0, 1) if ends else (1, 0)
    return sorted({Fraction(k, e) for e in range(1, d + 1) for k in range(lo, e + extra)})


def _better(a: ContestWitness | None, b: ContestWitness | None) -> ContestWitness | None:
    """The smaller of two (possibly missing) witnesses; ``a`` on a tie."""
    if b is None or (a is not None and not b.size < a.size):
        return a
    return b


def _best_certified_pair(
    contest: Contest, inst: Instance, models: list[np.ndarray]
) -> ContestWitness | None:
    """The smallest certified witness among all pairs of ``models`` on ``inst``."""
    evals = [(contest.loss(inst, m), contest.win_rate(inst, m)) for m in models]
    best: ContestWitness | None = None
    for i, j in itertools.combinations(range(len(models)), 2):
        w = judge(contest, inst, models[i], models[j], (evals[i], evals[j]))
        if w is not None and w.certified:
            best = _better(best, w)
    return best


def _two_response_instances(contest: Contest, d: int, beta: Fraction) -> list[Instance]:
    """Every two-response instance with ``P[0, 1]`` in ``[0, 1]``, full-support ``mu0``, ``mu1``
    and (when the loss uses it) ``pi_ref``, all of denominator at most ``d``."""
    inner, closed = farey(d), farey(d, ends=True)
    refs = inner if contest.uses_reference else [Fraction(1, 2)]
    out = []
    for p01, m0, m1, r in itertools.product(closed, inner, inner, refs):
        P = np.array([[Fraction(1, 2), p01], [1 - p01, Fraction(1, 2)]], dtype=object)
        data = PreferenceData(P=P, mu0=[m0, 1 - m0], mu1=None if m1 == m0 else [m1, 1 - m1])
        out.append(Instance(data, np.array([[r, 1 - r]], dtype=object), beta))
    return out


def smallest_witness(
    contest: Contest, *, max_denominator: int = 4, beta: Any = 1
) -> ContestWitness | None:
    """The witness over two responses (one prompt, ``beta`` fixed, default 1) whose largest
    denominator is smallest, by exhaustive enumeration: for ``d = 2, 3, ...`` every ``P[0, 1]``
    in ``[0, 1]``, ``mu0``, ``mu1`` and ``pi_ref`` (only when the loss uses it) of full support and
    both models with entries of denominator at most ``d``; among the witnesses at the first ``d``
    that has one, the smallest by :attr:`ContestWitness.size`.  Every witness is certified
    exactly.  None when no witness has denominators ``<= max_denominator``.

    >>> from theory.search import SFT_CONTEST
    >>> w = smallest_witness(SFT_CONTEST, max_denominator=3)
    >>> w.size[0], w.size[2], w.certified
    (2, 3, True)
    """
    b = Fraction(beta)
    for d in range(2, max_denominator + 1):
        models = [np.array([[v, 1 - v]], dtype=object) for v in farey(d)]
        best: ContestWitness | None = None
        for inst in _two_response_instances(contest, d, b):
            best = _better(best, _best_certified_pair(contest, inst, models))
        if best is not None:
            return best
    return None
