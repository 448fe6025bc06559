"""The violation search: random instances smallest-first, a targeted local search, the smallest
counterexample (claims U-forward, U-converse's premise, U-catalog; docs/uniqueness.md).

An instance of a property is built from :data:`~theory.axioms.draws.STREAM_LEN` uniforms; the
local search perturbs those uniforms to enlarge a violation (or to create one).  A violation is
returned as an :class:`AxiomWitness`; the smallest witness is the one with the smallest
:func:`witness_key` (prompts, responses, an infinite value?, largest and total denominator).
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidParameterError
from ..evaluations import Evaluation
from ..numbers import Number
from .cases import Case, Side, case_values, violation
from .draws import STREAM_LEN
from .properties import PROPERTIES, Property

__all__ = [
    "SIZES",
    "AxiomWitness",
    "witness_key",
    "trial",
    "find_violation",
    "check_axioms",
    "smallest_counterexample",
]

#: The search schedule ``(M, K, d)``, ``d`` the grid denominator of exact draws; smallest first.
SIZES: tuple[tuple[int, int, int], ...] = tuple(
    (M, K, d) for M in (1, 2) for K in (2, 3, 4) for d in (2, 3, 4, 6)
)

#: A size ``(M, K, d)`` of one search phase; ``d`` is None for float instances.
Size = tuple[int, int, int | None]


@dataclass(frozen=True)
class AxiomWitness:
    """A violation of ``property`` by ``evaluation``: the instance ``case`` (the two sides being
    compared, exact where possible) and both values (``value_lhs``, ``value_rhs``) that break
    ``case.relation``."""

    property: str
    evaluation: str
    case: Case
    value_lhs: Number
    value_rhs: Number

    @builtins.property  # the field ``property`` shadows the builtin in the class body
    def relation(self) -> str:
        """The relation the witness breaks, ``"="`` or ``"<"``."""
        return self.case.relation

    def as_dict(self) -> dict[str, Any]:
        """A report-ready dict (Fractions kept; the claim runner's ``jsonable`` formats)."""

        def combo(terms: tuple[tuple[Any, Side], ...]) -> list[dict[str, Any]]:
            return [{"coef": c, **s.as_dict()} for c, s in terms]

        return {
            "property": self.property,
            "statement": PROPERTIES[self.property].statement,
            "relation": f"lhs {self.relation} rhs",
            "params": dict(self.case.params),
            "lhs": combo(self.case.lhs),
            "rhs": combo(self.case.rhs),
            "value_lhs": self.value_lhs,
            "value_rhs": self.value_rhs,
        }


def witness_key(w: AxiomWitness) -> tuple:
    """Smaller is simpler: (M, K, an infinite value?, largest denominator, sum of denominators).

    >>> from theory.catalog import CATALOG
    >>> w = find_violation(CATALOG["Borda score"], "pair-locality", np.random.default_rng(0))
    >>> witness_key(w)[:3]
    (1, 3, False)
    """
    M, K, *dens = w.case.size()
    infinite = math.isinf(float(w.value_lhs)) or math.isinf(float(w.value_rhs))
    return (M, K, infinite, *dens)


@dataclass(frozen=True)
class _Attempt:
    """One built instance: its case and values (None when not built or undefined), whether the
    relation is violated and how badly."""

    case: Case | None
    values: tuple[Number, Number] | None
    violated: bool
    badness: float

    def witness(self, prop: Property, evaluation: Evaluation) -> AxiomWitness | None:
        if not self.violated or self.case is None or self.values is None:
            return None
        return AxiomWitness(prop.name, evaluation.name, self.case, *self.values)


def _attempt(evaluation: Evaluation, prop: Property, u: np.ndarray, size: Size) -> _Attempt:
    case = prop.build(u, *size)
    if case is None:
        return _Attempt(None, None, False, -math.inf)
    values = case_values(evaluation, case)
    if values is None:
        return _Attempt(case, None, False, -math.inf)
    return _Attempt(case, values, *violation(case.relation, *values))


def _local_search(
    evaluation: Evaluation,
    prop: Property,
    rng: np.random.Generator,
    u: np.ndarray,
    size: Size,
    steps: int,
) -> _Attempt:
    """Hill-climb on the uniforms ``u`` to make the violation larger (or to create one)."""
    best_u, best = u, _attempt(evaluation, prop, u, size)
    for k in range(steps):
        if best.violated:
            break
        sigma = (0.3, 0.1, 0.03)[k % 3]
        cand = np.clip(best_u + sigma * rng.standard_normal(len(u)), 0.0, 1 - 1e-12)
        found = _attempt(evaluation, prop, cand, size)
        if found.violated or found.badness > best.badness:
            best_u, best = cand, found
    return best


def _one_instance(
    evaluation: Evaluation, prop: Property, rng: np.random.Generator, size: Size, local_steps: int
) -> _Attempt:
    """A fresh instance of ``prop`` from ``rng``, then ``local_steps`` of local search."""
    u = rng.random(STREAM_LEN)
    if local_steps:
        return _local_search(evaluation, prop, rng, u, size, local_steps)
    return _attempt(evaluation, prop, u, size)


def _check_search(evaluation: Any, rng: Any, trials: Any) -> None:
    """Raise a named error unless the search's arguments are of the right kind."""
    if not isinstance(evaluation, Evaluation):
        raise InvalidParameterError(
            f"evaluation is a {type(evaluation).__name__}, expected a theory.evaluations.Evaluation"
        )
    if not isinstance(rng, np.random.Generator):
        raise InvalidParameterError(f"rng is {rng!r}, expected a numpy.random.Generator")
    if isinstance(trials, bool) or not isinstance(trials, int | np.integer) or trials < 1:
        raise InvalidParameterError(f"trials = {trials!r}, expected an integer >= 1")


def _check_size(M: Any, K: Any, d: Any) -> None:
    """Raise a named error unless ``(M, K, d)`` is a size an instance can be built at."""
    for name, v, low in (("M", M, 1), ("K", K, 2), ("d", d, 1)):
        if name == "d" and v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low:
            raise InvalidParameterError(f"{name} = {v!r}, expected an integer >= {low}")


def _as_property(prop: str | Property) -> Property:
    if isinstance(prop, Property):
        return prop
    if prop not in PROPERTIES:
        raise InvalidParameterError(f"unknown property {prop!r}; known: {list(PROPERTIES)}")
    return PROPERTIES[prop]


def trial(
    evaluation: Evaluation,
    prop: str | Property,
    rng: np.random.Generator,
    M: int,
    K: int,
    d: int | None,
    *,
    local_steps: int = 0,
) -> tuple[str, AxiomWitness | None]:
    """One random instance of ``prop`` of size ``(M, K, d)`` (``d=None``: float), followed by
    ``local_steps`` of targeted local search.  Returns ``(status, witness)`` with status
    ``"violated"`` (and the witness), ``"held"`` or ``"skipped"`` (the structure could not be
    built, or ``V`` was undefined on it).

    >>> from theory.evaluations import WIN_RATE
    >>> trial(WIN_RATE, "dominance-monotonicity", np.random.default_rng(0), 1, 3, 4)[0] in (
    ...     "held", "skipped")
    True
    """
    p = _as_property(prop)
    _check_search(evaluation, rng, 1)
    _check_size(M, K, d)
    found = _one_instance(evaluation, p, rng, (M, K, d), local_steps)
    if found.case is None or found.values is None:
        return "skipped", None
    if found.violated:
        return "violated", found.witness(p, evaluation)
    return "held", None


def _smaller(a: AxiomWitness | None, b: AxiomWitness | None) -> AxiomWitness | None:
    """The smaller of two witnesses by :func:`witness_key` (``a`` on a tie or when ``b`` is
    None)."""
    if b is None or (a is not None and not witness_key(b) < witness_key(a)):
        return a
    return b


def _phases(sizes: Iterable[tuple[int, int, int]], exact: bool) -> list[Size]:
    """The search phases: ``sizes``, or for float search its distinct ``(M, K)`` with d = None."""
    phases: list[Size] = list(sizes)
    if not exact:
        phases = list(dict.fromkeys((M, K, None) for M, K, _ in phases))
    return phases


def find_violation(
    evaluation: Evaluation,
    prop: str | Property,
    rng: np.random.Generator,
    *,
    trials: int = 200,
    exact: bool = True,
    sizes: Iterable[tuple[int, int, int]] = SIZES,
    local_steps: int = 0,
    first_phase: bool = True,
    on_witness: Callable[[AxiomWitness], None] | None = None,
) -> AxiomWitness | None:
    """Search for a violation of the elementary property ``prop`` by ``evaluation``.

    Instances are drawn phase by phase over ``sizes`` (``(M, K, d)``, smallest first; ``d`` is
    ignored when ``exact=False``), ``trials`` instances spread evenly over the phases; each
    instance is followed by ``local_steps`` steps of a targeted local search that perturbs the
    uniforms it was built from to enlarge the violation.  With ``first_phase=True`` the search
    stops at the end of the first phase that produced a violation.  Returns the smallest
    :class:`AxiomWitness` found (by :func:`witness_key`) or None; ``on_witness``, when given, is
    called with every violation found, in search order (so a caller can check that the one
    returned is the smallest of them).

    >>> from theory.catalog import CATALOG
    >>> from theory.evaluations import WIN_RATE
    >>> rng = np.random.default_rng(0)
    >>> find_violation(WIN_RATE, "model-mixture", rng, trials=24) is None
    True
    >>> w = find_violation(CATALOG["Copeland score"], "preference-monotonicity", rng, trials=48)
    >>> w.property, w.value_lhs == w.value_rhs
    ('preference-monotonicity', True)
    """
    p = _as_property(prop)
    _check_search(evaluation, rng, trials)
    phases = _phases(sizes, exact)
    if not phases:
        raise InvalidParameterError("sizes is empty: the search would try nothing")
    per_phase = max(1, trials // len(phases))
    best: AxiomWitness | None = None
    for size in phases:
        for _ in range(per_phase):
            found = _one_instance(evaluation, p, rng, size, local_steps)
            w = found.witness(p, evaluation)
            if w is not None and on_witness is not None:
                on_witness(w)
            best = _smaller(best, w)
        if best is not None and first_phase:
            break
    return best


def check_axioms(
    evaluation: Evaluation,
    rng: np.random.Generator,
    *,
    trials: int = 96,
    exact: bool = True,
    local_steps: int = 2,
) -> dict[str, AxiomWitness | None]:
    """Every elementary property's :func:`find_violation` result for ``evaluation``.

    >>> from theory.catalog import CATALOG
    >>> found = check_axioms(CATALOG["Borda score"], np.random.default_rng(0), trials=48)
    >>> "pair-locality" in [name for name, w in found.items() if w is not None]
    True
    """
    _check_search(evaluation, rng, trials)
    return {
        name: find_violation(
            evaluation, p, rng, trials=trials, exact=exact, local_steps=local_steps
        )
        for name, p in PROPERTIES.items()
    }


def smallest_counterexample(
    evaluation: Evaluation,
    rng: np.random.Generator,
    *,
    trials: int = 96,
    on_witness: Callable[[AxiomWitness], None] | None = None,
) -> AxiomWitness | None:
    """The smallest exact violation of any elementary property, by (prompts, responses, whether a
    value is infinite, largest denominator, sum of denominators); ties go to the property listed
    first in :data:`~theory.axioms.PROPERTIES`.  ``on_witness`` receives every violation the
    search found (see :func:`find_violation`).

    >>> from theory.axioms import holds_on
    >>> from theory.catalog import CATALOG
    >>> V = CATALOG["preferred-sample likelihood"]
    >>> w = smallest_counterexample(V, np.random.default_rng(0))
    >>> w.case.size()[:2], holds_on(V, w.case)
    ((1, 2), False)
    """
    _check_search(evaluation, rng, trials)
    best: AxiomWitness | None = None
    for p in PROPERTIES.values():
        sizes = list(SIZES)
        if best is not None:  # phases larger (in prompts, responses) than the best cannot win
            bound = witness_key(best)[:2]
            sizes = [s for s in SIZES if s[:2] <= bound]
        w = find_violation(
            evaluation,
            p,
            rng,
            trials=max(1, trials * len(sizes) // len(SIZES)),
            exact=True,
            sizes=sizes,
            on_witness=on_witness,
        )
        best = _smaller(best, w)
    return best
