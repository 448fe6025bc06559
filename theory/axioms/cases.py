"""Sides, cases and the relation between their values (the predicates' shared vocabulary).

An evaluation ``V(D, pi)`` (:class:`~theory.evaluations.Evaluation`, higher is better) is applied
to a :class:`Side`: a data distribution ``D = (P, mu0, mu1, rho)`` with a model ``pi``.  A
:class:`Case` is one instance of an elementary property (docs/uniqueness.md): two linear
combinations ``sum coef * V(side)`` and the relation they must satisfy, ``"="`` or ``"<"`` (a
strict increase).

Values live in the extended reals: an equality holds when both sides are the same infinity; a
strict increase is required only where both values are finite; an instance on which ``V`` (or a
mixture of its values) is undefined is skipped.  Exact instances are compared with ``==``, float
instances to the relative tolerance :data:`TOL` (a float "strict increase" is checked as "no
decrease beyond :data:`TOL` and not exactly equal").
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, TypeGuard

import numpy as np

from ..data import PreferenceData
from ..errors import InvalidParameterError, UndefinedEvaluationError, UndefinedWinRateError
from ..evaluations import Evaluation
from ..numbers import Number

__all__ = [
    "TOL",
    "UNDEFINED",
    "Side",
    "Case",
    "combine_values",
    "case_values",
    "holds_on",
    "violation",
]

#: Relative tolerance for float equalities (exact instances use ``==``).
TOL = 1e-9
#: The errors that mark a value as undefined (the case is then skipped).
UNDEFINED = (UndefinedEvaluationError, UndefinedWinRateError)


@dataclass(frozen=True)
class Side:
    """One input of an evaluation: ``P`` ``(M, K, K)``, ``mu0``, ``mu1``, ``pi`` ``(M, K)``,
    ``rho`` ``(M,)`` (exact object arrays or float arrays)."""

    P: np.ndarray
    mu0: np.ndarray
    mu1: np.ndarray
    rho: np.ndarray
    pi: np.ndarray

    def data(self) -> PreferenceData:
        """The side's data distribution ``D = (P, mu0, mu1, rho)``."""
        return PreferenceData(P=self.P, mu0=self.mu0, mu1=self.mu1, rho=self.rho)

    def as_dict(self) -> dict[str, Any]:
        """``P``, ``mu0`` (``mu1`` only when it differs), ``rho``, ``pi``."""
        out = {"P": self.P, "mu0": self.mu0}
        if not np.array_equal(self.mu0, self.mu1):
            out["mu1"] = self.mu1
        return {**out, "rho": self.rho, "pi": self.pi}


@dataclass(frozen=True)
class Case:
    """One instance of a property: ``lhs`` and ``rhs`` are linear combinations
    ``sum coef * V(side)``; ``relation`` is ``"="`` (must be equal) or ``"<"`` (``lhs < rhs``:
    a strict increase); ``params`` names the instance's parameters (``t``, ``x``, ``y``, ...)."""

    property: str
    lhs: tuple[tuple[Any, Side], ...]
    rhs: tuple[tuple[Any, Side], ...]
    relation: str
    params: dict[str, Any] = field(default_factory=dict)

    @builtins.property  # the field ``property`` shadows the builtin in the class body
    def exact(self) -> bool:
        """True when the sides hold Fractions."""
        return self.lhs[0][1].P.dtype == object

    def size(self) -> tuple:
        """``(M, K, largest denominator, sum of denominators)``: smaller is simpler (float
        cases get infinite denominators)."""
        sides = [s for _, s in self.lhs + self.rhs]
        M = max(s.P.shape[0] for s in sides)
        K = max(s.P.shape[1] for s in sides)
        if not self.exact:
            return (M, K, math.inf, math.inf)
        dens = [
            v.denominator
            for s in sides
            for a in (s.P, s.mu0, s.mu1, s.rho, s.pi)
            for v in a.ravel()
            if isinstance(v, Fraction)
        ] + [c.denominator for c, _ in self.lhs + self.rhs if isinstance(c, Fraction)]
        return (M, K, max(dens, default=1), sum(dens))


def combine_values(terms: Iterable[tuple[Any, Number]]) -> Number | None:
    """``sum coef * value`` in the extended reals; None when undefined (+inf and -inf).

    >>> combine_values([(Fraction(1, 2), Fraction(1, 3)), (Fraction(1, 2), 1)])
    Fraction(2, 3)
    >>> combine_values([(1, math.inf), (1, -math.inf)]) is None
    True
    """
    terms = list(terms)
    infs = {math.copysign(1, float(v)) for c, v in terms if c != 0 and math.isinf(float(v))}
    if len(infs) == 2:
        return None
    if infs:
        return math.inf if infs == {1.0} else -math.inf
    total: Any = 0
    for c, v in terms:
        if c != 0:
            total = total + c * v
    return total


def case_values(evaluation: Evaluation, case: Case) -> tuple[Number, Number] | None:
    """``(lhs, rhs)`` of ``case`` under ``evaluation``; None when either is undefined.

    >>> from theory.axioms import PROPERTIES, STREAM_LEN
    >>> from theory.evaluations import WIN_RATE
    >>> case = PROPERTIES["model-mixture"].build(np.full(STREAM_LEN, 0.3), 1, 2, 2)
    >>> case_values(WIN_RATE, case)[0] == case_values(WIN_RATE, case)[1]
    True
    """
    if not isinstance(case, Case):
        raise InvalidParameterError(f"case is a {type(case).__name__}, expected an axioms Case")
    if not isinstance(evaluation, Evaluation):
        raise InvalidParameterError(
            f"evaluation is a {type(evaluation).__name__}, expected a theory.evaluations.Evaluation"
        )
    try:
        values = {}
        for _, s in case.lhs + case.rhs:
            if id(s) not in values:
                values[id(s)] = evaluation(s.data(), s.pi)
    except UNDEFINED:
        return None
    lhs = combine_values((c, values[id(s)]) for c, s in case.lhs)
    rhs = combine_values((c, values[id(s)]) for c, s in case.rhs)
    if lhs is None or rhs is None:
        return None
    return lhs, rhs


def holds_on(evaluation: Evaluation, case: Case) -> bool | None:
    """True when ``evaluation`` satisfies ``case``'s relation, False when it violates it, None
    when a value is undefined (the case is then skipped).

    >>> from theory.axioms import PROPERTIES, STREAM_LEN
    >>> from theory.catalog import CATALOG
    >>> from theory.evaluations import WIN_RATE
    >>> case = PROPERTIES["pair-probability"].build(np.full(STREAM_LEN, 0.1), 1, 2, 2)
    >>> case.params["first"]["K"]  # one response: the Borda score is undefined there
    1
    >>> holds_on(WIN_RATE, case), holds_on(CATALOG["Borda score"], case)
    (True, None)
    """
    values = case_values(evaluation, case)
    if values is None:
        return None
    return not violation(case.relation, *values)[0]


def violation(relation: str, lhs: Number, rhs: Number) -> tuple[bool, float]:
    """``(violated, how badly)`` for ``lhs relation rhs`` (module docstring's semantics).

    >>> violation("=", Fraction(1, 2), Fraction(1, 3))
    (True, 0.16666666666666666)
    >>> violation("<", math.inf, math.inf)
    (False, -inf)
    """
    if relation == "=":
        return _equality(lhs, rhs)
    return _increase(lhs, rhs)


def _exact(v: Any) -> TypeGuard[Fraction | int]:
    return isinstance(v, Fraction | int)


def _equality(lhs: Number, rhs: Number) -> tuple[bool, float]:
    lf, rf = float(lhs), float(rhs)
    if _exact(lhs) and _exact(rhs):
        gap = abs(lhs - rhs)
        return gap != 0, float(gap)
    if math.isinf(lf) or math.isinf(rf):
        return lf != rf, 0.0 if lf == rf else 1.0
    diff = abs(lf - rf)
    return diff > TOL * (1 + max(abs(lf), abs(rf))), diff


def _increase(lhs: Number, rhs: Number) -> tuple[bool, float]:
    """A strict increase ``lhs < rhs``, required where both values are finite."""
    lf, rf = float(lhs), float(rhs)
    if math.isinf(lf) and math.isinf(rf) and lf == rf:
        return False, -math.inf
    if _exact(lhs) and _exact(rhs):
        return not lhs < rhs, float(lhs - rhs)
    if math.isinf(lf) or math.isinf(rf):
        return not lf < rf, 0.0 if lf < rf else 1.0
    return (rf - lf < -TOL * (1 + abs(lf)) or rf == lf), lf - rf
