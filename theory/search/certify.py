"""Judging a model pair and certifying the loss order exactly.

A pair ``(pi_a, pi_b)`` is a witness of disagreement (:class:`ContestWitness`) when
``L(pi_a) < L(pi_b)`` and ``WR(pi_a) < WR(pi_b)``.  :func:`judge` decides it: the win rates are
compared as they come (exact Fractions on exact instances); the loss order is certified exactly by
:func:`exact_log_order` when the contest gives the loss as ``-sum_k a_k log v_k`` with rational
terms, else compared in floats with the margin :data:`LOSS_TOL`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..numbers import Number, is_exact
from .contests import CONTESTS, Contest, Instance

__all__ = ["LOSS_TOL", "MAX_EXACT_BITS", "ContestWitness", "exact_log_order", "judge"]

#: Two float losses closer than this are treated as tied (not a disagreement) unless certified.
LOSS_TOL = 1e-9
#: Largest bit size of the integer powers compared by :func:`exact_log_order`.
MAX_EXACT_BITS = 200_000

Terms = tuple[list, list]


def _common_denominator(terms: list[Terms]) -> int:
    D = 1
    for a in itertools.chain.from_iterable(t[0] for t in terms):
        den = Fraction(a).denominator
        D = D * den // math.gcd(D, den)
    return D


def _bits(terms: list[Terms], D: int) -> int:
    """The bit size of the integer powers, stopping early past :data:`MAX_EXACT_BITS`."""
    bits = 0
    for a, v in itertools.chain.from_iterable(zip(*t, strict=True) for t in terms):
        v = Fraction(v)
        bits += int(a * D) * (v.numerator.bit_length() + v.denominator.bit_length())
        if bits > MAX_EXACT_BITS:
            break
    return bits


def _product(terms: Terms, D: int) -> tuple[int, int]:
    """``prod_k v_k^(D a_k)`` as a numerator and a denominator."""
    num, den = 1, 1
    for a, v in zip(*terms, strict=True):
        e = int(Fraction(a) * D)
        v = Fraction(v)
        num *= v.numerator**e
        den *= v.denominator**e
    return num, den


def exact_log_order(terms_a: Terms, terms_b: Terms) -> int | None:
    """The exact sign of ``L_a - L_b`` for ``L = -sum_k a_k log v_k`` with rational ``a_k``,
    ``v_k``: with ``D`` a common denominator of every ``a_k``,
    ``L_a < L_b  iff  prod v_a^(D a_a) > prod v_b^(D a_b)``, compared in integers.  Returns -1, 0
    or 1, or None when the integers would exceed :data:`MAX_EXACT_BITS` bits.

    >>> half = Fraction(1, 2)
    >>> exact_log_order(([1], [half]), ([1], [Fraction(1, 3)]))  # log 2 < log 3
    -1
    """
    D = _common_denominator([terms_a, terms_b])
    if _bits([terms_a, terms_b], D) > MAX_EXACT_BITS:
        return None
    na, da = _product(terms_a, D)
    nb, db = _product(terms_b, D)
    # L_a - L_b = log(prod_b / prod_a): sign of (nb/db - na/da)
    diff = nb * da - na * db
    return (diff > 0) - (diff < 0)


@dataclass(frozen=True)
class ContestWitness:
    """Two models where the loss prefers ``pi_a`` and the win rate prefers ``pi_b``.

    ``loss_a < loss_b`` and ``win_rate_a < win_rate_b``; ``certified`` is True when the loss order
    was verified exactly (:func:`exact_log_order`) and the win rates are exact Fractions."""

    contest: str
    instance: Instance
    pi_a: np.ndarray
    pi_b: np.ndarray
    loss_a: float
    loss_b: float
    win_rate_a: Number
    win_rate_b: Number
    certified: bool

    @property
    def size(self) -> tuple[int, int, int, int]:
        """``(K, M, largest denominator, sum of denominators)`` over every number shown."""
        dens = _denominators(self.instance, self.pi_a, self.pi_b)
        d = self.instance.data
        return (d.K, d.M, max(dens, default=0), sum(dens))

    def as_dict(self) -> dict[str, Any]:
        one = self.instance.data.M == 1
        out = {"contest": self.contest, **self.instance.as_dict()}
        contest = CONTESTS.get(self.contest)
        if contest is not None and not contest.uses_reference:
            out.pop("pi_ref")
            out.pop("beta")
        out.update(
            pi_a=self.pi_a[0] if one else self.pi_a,
            pi_b=self.pi_b[0] if one else self.pi_b,
            loss_a=self.loss_a,
            loss_b=self.loss_b,
            win_rate_a=self.win_rate_a,
            win_rate_b=self.win_rate_b,
            certified=self.certified,
            reading="the loss prefers pi_a (lower), the win rate prefers pi_b (higher)",
        )
        return out


def _denominators(inst: Instance, *models: np.ndarray) -> list[int]:
    d = inst.data
    arrays = [d.P, d.mu0, d.mu1, np.asarray(inst.pi_ref), *models]
    if d.M > 1:
        arrays.append(d.rho)
    out: list[int] = []
    for a in arrays:
        if not is_exact(np.asarray(a)):
            return [10**18]
        out.extend(int(Fraction(v).denominator) for v in np.asarray(a).ravel())
    if isinstance(inst.beta, Fraction | int):
        out.append(Fraction(inst.beta).denominator)
    else:
        out.append(10**18)
    return out


def _certified_order(
    contest: Contest, inst: Instance, pi_a: np.ndarray, pi_b: np.ndarray
) -> int | None:
    """The exact sign of ``L(pi_a) - L(pi_b)`` when the contest's terms allow it, else None."""
    if contest.terms is None:
        return None
    ta, tb = contest.terms(inst, pi_a), contest.terms(inst, pi_b)
    if ta is None or tb is None:
        return None
    return exact_log_order(ta, tb)


def judge(
    contest: Contest,
    inst: Instance,
    pi_a: np.ndarray,
    pi_b: np.ndarray,
    evals: tuple[tuple[float, Number], tuple[float, Number]] | None = None,
) -> ContestWitness | None:
    """The pair as a witness (``pi_b`` the one that wins more) if it disagrees, else None.

    ``evals`` gives ``((loss_a, wr_a), (loss_b, wr_b))`` when already computed.  Infinite losses
    and tied win rates never disagree.

    >>> from theory.data import PreferenceData
    >>> from theory.preferences import total_order
    >>> from theory.search import SFT_CONTEST
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)
    >>> pi_a = np.array([[Fraction(3, 4), Fraction(1, 4)]], dtype=object)
    >>> judge(SFT_CONTEST, Instance(D, [[1, 0]]), pi_a, np.array([[1, 0]], dtype=object)) is None
    True
    """
    (la, wa), (lb, wb) = evals or (
        (contest.loss(inst, pi_a), contest.win_rate(inst, pi_a)),
        (contest.loss(inst, pi_b), contest.win_rate(inst, pi_b)),
    )
    if not (np.isfinite(la) and np.isfinite(lb)) or wa == wb:
        return None
    if wa > wb:  # orient: b has the higher win rate
        pi_a, pi_b, la, lb, wa, wb = pi_b, pi_a, lb, la, wb, wa
    sign = None
    if isinstance(wa, Fraction) and isinstance(wb, Fraction):
        sign = _certified_order(contest, inst, pi_a, pi_b)
    if sign is not None and sign >= 0:
        return None
    certified = sign is not None
    if not certified and not la < lb - LOSS_TOL:
        return None
    return ContestWitness(contest.name, inst, pi_a, pi_b, la, lb, wa, wb, certified)
