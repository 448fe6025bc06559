"""The proof machinery shared by every proof module: symbolic builders, reduction, the fallback.

A proof is a list of :class:`Identity` records, each ``lhs == rhs`` for a fixed number ``K`` of
responses (one prompt), plus :class:`Link` records that tie the statement to the library.

* **Identity**: ``lhs`` is written from ``docs/theory.md``'s formula, ``rhs`` from the claim's
  closed form.  :func:`reduce_residual` applies ``expand``, then ``together`` + ``cancel``, then
  ``expand_log`` + ``expand`` (never ``simplify``, never sympy's ``equals``, which decides by
  numeric sampling) until the residual ``lhs - rhs`` is the literal ``0``.  A residual that does
  not reduce is evaluated at random exact rational points of its domain (:func:`draw`): non-zero
  at one of them is a disproof with that point as the counterexample; zero at all of them is
  "not proved" (inconclusive).
* **Link**: the library's own function tied to the re-expressed formula.  A :class:`Link` first
  calls the library on the sympy symbols themselves (``theory.numbers.as_array`` keeps symbolic
  entries, and validation fails only where sympy settles a violation): when the function computes
  with them, the difference ``library - formula`` is reduced like an identity, and the link is a
  proof about the library's own code (``"symbolic"``).  A link without free symbols (a function of
  ``K`` alone) is one exact comparison, the whole statement for that ``K`` (``"exact"``).  A
  function that does not compute on symbols (logs, exps or an ``h`` evaluated in floats) is
  compared with the formula at random exact rational points (``"sampled"``): evidence about the
  library, not a proof of it.

Symbols: the free entries ``p_ij`` (``i < j``) of a preference matrix (``P_ji = 1 - P_ij``,
``P_ii = 1/2``); distributions on the simplex with the last entry ``1 - sum(others)``; ``beta > 0``;
an undefined ``h`` (a sympy ``Function``), evaluated at points as a random strictly increasing
rational polynomial.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import sympy as sp

__all__ = [
    "Status",
    "Step",
    "ProofResult",
    "Group",
    "Identity",
    "Link",
    "POINTS",
    "LINK_POINTS",
    "LINK_TOL",
    "pref_matrix",
    "simplex",
    "positive",
    "reals",
    "undefined_h",
    "matvec",
    "dot",
    "kl_regularized",
    "normalized",
    "tilt",
    "reduce_residual",
    "draw",
    "at",
    "floats",
    "reduce_scalar",
    "run_proof",
    "uncovered",
]

Status = Literal["proved", "not proved", "disproved"]

#: Random exact rational points at which a residual that did not reduce to 0 is evaluated.
POINTS = 8
#: Points at which a library link is evaluated when the function does not compute on symbols.
LINK_POINTS = 4
#: Relative tolerance of a link whose library side computes in floats (logs, exps).
LINK_TOL = 1e-9
#: Significant digits when a residual at a rational point is not itself rational.
DIGITS = 50
#: Below this (at DIGITS digits) a non-rational residual value counts as zero.
ZERO_TOL = sp.Rational(1, 10**30)


@dataclass(frozen=True)
class Group:
    """Free symbols drawn together: ``kind`` is ``"unit"`` (each in (0, 1)), ``"simplex"`` (the
    free entries of one distribution: positive, summing below 1), ``"positive"``, ``"real"``, or
    ``"h"`` (an undefined increasing function)."""

    kind: Literal["unit", "simplex", "positive", "real", "h"]
    symbols: tuple[Any, ...]


@dataclass(frozen=True)
class Step:
    """One displayed step: the identity, its residual as written and as reduced."""

    name: str
    K: int
    statement: str
    residual: str
    reduced: str
    method: str


@dataclass(frozen=True)
class ProofResult:
    """A claim's proof outcome for the ``Ks`` tried.

    ``status``: ``"proved"`` (every residual reduced to 0 and every library link agreed),
    ``"disproved"`` (a residual or a link is non-zero at ``counterexample``, an exact rational
    point), ``"not proved"`` (a residual did not reduce but vanished at every point tried).
    ``residual``: the first residual that did not reduce (as a string), else None.  ``library``:
    how the library was reached.  ``steps``: the readable steps for :func:`show`.  ``seconds``:
    CPU seconds (the proofs' budget is in CPU time).
    """

    claim: str
    Ks: tuple[int, ...]
    status: Status
    residual: str | None
    counterexample: dict[str, str] | None
    steps: tuple[Step, ...]
    library: str
    seconds: float
    failed: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (the runner's ``proof`` field)."""
        return {
            "Ks": list(self.Ks),
            "status": self.status,
            "residual": self.residual,
            "counterexample": self.counterexample,
            "failed": self.failed,
            "library": self.library,
            "identities": len(self.steps),
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Identity:
    """``lhs == rhs`` for ``K`` responses; ``groups`` say how to draw the free symbols."""

    name: str
    K: int
    lhs: Any
    rhs: Any
    groups: tuple[Group, ...]
    note: str = ""


@dataclass(frozen=True)
class Link:
    """The library function ``call(values)`` against the re-expressed ``formula``.

    ``call`` receives a dict from each free symbol to its value (a Fraction at a rational point;
    the symbol itself for the symbolic attempt) and returns a number or an array of numbers.
    ``formula`` is a sympy expression or a list of them (same shape as the library's output).
    """

    name: str
    K: int
    call: Callable[[dict[Any, Any]], Any]
    formula: Any
    groups: tuple[Group, ...]
    exact: bool = True
    points: int = field(default=LINK_POINTS)


# ---------------------------------------------------------------------------------------------
# builders


def pref_matrix(K: int, name: str = "p") -> tuple[sp.Matrix, Group]:
    """``P`` with free entries ``p_ij`` (``i < j``), ``P_ji = 1 - p_ij``, ``P_ii = 1/2``.

    >>> P, g = pref_matrix(2)
    >>> P.tolist(), g.symbols
    ([[1/2, p01], [1 - p01, 1/2]], (p01,))
    """
    syms = {(i, j): sp.Symbol(f"{name}{i}{j}", positive=True) for i in range(K) for j in range(K)}
    free = []
    P = sp.zeros(K, K)
    for i in range(K):
        for j in range(K):
            if i == j:
                P[i, j] = sp.Rational(1, 2)
            elif i < j:
                P[i, j] = syms[(i, j)]
                free.append(syms[(i, j)])
            else:
                P[i, j] = 1 - syms[(j, i)]
    return P, Group("unit", tuple(free))


def simplex(K: int, name: str) -> tuple[list[Any], Group]:
    """A distribution ``(m_0, ..., m_{K-2}, 1 - sum)`` on ``K`` responses, entries positive.

    >>> mu, g = simplex(2, "mu")
    >>> mu
    [mu0, 1 - mu0]
    """
    free = [sp.Symbol(f"{name}{i}", positive=True) for i in range(K - 1)]
    return [*free, 1 - sum(free)], Group("simplex", tuple(free))


def positive(*names: str) -> tuple[list[Any], Group]:
    """Positive real symbols (``beta``, strengths)."""
    syms = [sp.Symbol(n, positive=True) for n in names]
    return syms, Group("positive", tuple(syms))


def reals(*names: str) -> tuple[list[Any], Group]:
    """Real symbols (scores, log-ratios)."""
    syms = [sp.Symbol(n, real=True) for n in names]
    return syms, Group("real", tuple(syms))


def undefined_h(name: str = "h") -> tuple[Any, Group]:
    """An undefined function ``h`` (strictly increasing by hypothesis)."""
    h = sp.Function(name)
    return h, Group("h", (h,))


def matvec(P: sp.Matrix, v: Sequence[Any]) -> list[Any]:
    """``(P v)[i] = sum_j P[i, j] v[j]`` as a list."""
    K = len(v)
    return [sum((P[i, j] * v[j] for j in range(K)), sp.Integer(0)) for i in range(K)]


def dot(a: Sequence[Any], b: Sequence[Any]) -> Any:
    """``sum_i a_i b_i``."""
    return sum((x * y for x, y in zip(a, b, strict=True)), sp.Integer(0))


def kl_regularized(pi: Sequence[Any], g: Sequence[Any], ref: Sequence[Any], beta: Any) -> Any:
    """``J(pi) = sum_y pi(y) g(y) - beta KL(pi || ref)``: the fixed-anchor WRO objective with
    scores ``g`` (``g = E_q h(P)``), written with ``KL = sum_y pi(y) log(pi(y) / ref(y))``."""
    return dot(pi, g) - beta * sum(p * sp.log(p / r) for p, r in zip(pi, ref, strict=True))


def normalized(weights: Sequence[Any]) -> list[Any]:
    """``w / sum(w)``: a distribution from positive weights (so its positivity is evident)."""
    return [w / sum(weights) for w in weights]


def tilt(ref: Sequence[Any], g: Sequence[Any], beta: Any) -> tuple[list[Any], Any]:
    """``(pi*, Z)``: the WRO optimum ``pi*(y) = ref(y) exp(g(y) / beta) / Z`` of
    :func:`kl_regularized`, ``Z = sum_y ref(y) exp(g(y) / beta)``."""
    E = [sp.exp(v / beta) for v in g]
    Z = dot(ref, E)
    return [r * e / Z for r, e in zip(ref, E, strict=True)], Z


def floats(obj: Any, values: dict[Any, Any]) -> Any:
    """``obj`` at ``values`` as a float (or float array): for library functions that take floats
    (rewards ``log s``, log-probabilities)."""
    if isinstance(obj, sp.MatrixBase):
        return np.array(
            [[floats(obj[i, j], values) for j in range(obj.cols)] for i in range(obj.rows)]
        )
    if isinstance(obj, list | tuple):
        return np.array([floats(v, values) for v in obj])
    return float(sp.sympify(obj).subs(values).evalf(DIGITS))


# ---------------------------------------------------------------------------------------------
# reduction and the rational fallback


def reduce_residual(expr: Any) -> tuple[Any, str]:
    """Reduce a scalar or a ``sympy.Matrix`` entrywise (see :func:`reduce_scalar`)."""
    if isinstance(expr, sp.MatrixBase):
        pairs = [reduce_scalar(e) for e in expr]
        methods = sorted({m for _, m in pairs})
        reduced = sp.Matrix(expr.rows, expr.cols, [e for e, _ in pairs])
        return (sp.Integer(0) if all(e == 0 for e, _ in pairs) else reduced), ",".join(methods)
    return reduce_scalar(expr)


def reduce_scalar(expr: Any) -> tuple[Any, str]:
    """Reduce ``expr`` towards the literal 0: ``expand``, then ``together`` + ``cancel``, then
    ``expand_log`` (positive symbols) + ``expand``.  Returns ``(reduced, method)``.

    >>> x = sp.Symbol("x", positive=True)
    >>> reduce_residual((x + 1) ** 2 - x**2 - 2 * x - 1)
    (0, 'expand')
    >>> reduce_residual(1 / x + 1 / (x + 1) - (2 * x + 1) / (x * (x + 1)))
    (0, 'together+cancel')
    """
    e = sp.expand(expr)
    if e == 0:
        return e, "expand"
    e = sp.cancel(sp.together(e))
    if e == 0:
        return e, "together+cancel"
    e = sp.expand(sp.expand_log(e, force=False))
    if e == 0:
        return e, "expand_log+expand"
    e = sp.cancel(sp.together(sp.powsimp(e)))
    return e, "expand_log+powsimp+cancel"


def _unit(rng: np.random.Generator) -> sp.Rational:
    den = int(rng.integers(2, 12))
    return sp.Rational(int(rng.integers(1, den)), den)


def _increasing_h(rng: np.random.Generator) -> sp.Lambda:
    """A strictly increasing rational polynomial ``a1 p + a3 p^3 + a5 p^5`` (``a_i > 0``)."""
    p = sp.Symbol("p_")
    a = [sp.Rational(int(rng.integers(1, 9)), int(rng.integers(1, 5))) for _ in range(3)]
    return sp.Lambda(p, a[0] * p + a[1] * p**3 + a[2] * p**5)


def draw(groups: Sequence[Group], rng: np.random.Generator) -> dict[Any, Any]:
    """One random exact rational point: a value for every symbol of ``groups``."""
    point: dict[Any, Any] = {}
    for g in groups:
        if g.kind == "unit":
            point.update({s: _unit(rng) for s in g.symbols})
        elif g.kind == "simplex":
            w = [int(v) for v in rng.integers(1, 9, size=len(g.symbols) + 1)]
            point.update({s: sp.Rational(w[i], sum(w)) for i, s in enumerate(g.symbols)})
        elif g.kind == "positive":
            point.update({s: sp.Rational(int(rng.integers(1, 13)), 4) for s in g.symbols})
        elif g.kind == "real":
            point.update({s: sp.Rational(int(rng.integers(-12, 13)), 4) for s in g.symbols})
        else:
            point.update({s: _increasing_h(rng) for s in g.symbols})
    return point


def _value_at(expr: Any, point: dict[Any, Any]) -> Any:
    """``expr`` at ``point``: exact when rational, else evaluated to :data:`DIGITS` digits."""
    funcs = {k: v for k, v in point.items() if isinstance(k, sp.FunctionClass)}
    e = expr.subs(funcs).doit() if funcs else expr
    e = e.subs({k: v for k, v in point.items() if not isinstance(k, sp.FunctionClass)})
    if isinstance(e, sp.MatrixBase):
        return sp.Matrix(e.rows, e.cols, [v if v.is_Rational else v.evalf(DIGITS) for v in e])
    return e if e.is_Rational else e.evalf(DIGITS)


def _is_zero(v: Any) -> bool:
    if isinstance(v, sp.MatrixBase):
        return all(_is_zero(e) for e in v)
    return bool(v == 0) if v.is_Rational else bool(abs(v) < ZERO_TOL)


def at(obj: Any, values: dict[Any, Any]) -> Any:
    """``obj`` (a sympy expression, a list or a Matrix of them) with ``values`` substituted: a
    Fraction (or an object array of Fractions) where the result is rational, a sympy expression
    otherwise (symbolic values, or logs).  What a :class:`Link` passes to the library."""
    if isinstance(obj, sp.MatrixBase):
        return np.array(
            [[at(obj[i, j], values) for j in range(obj.cols)] for i in range(obj.rows)],
            dtype=object,
        )
    if isinstance(obj, list | tuple):
        return np.array([at(v, values) for v in obj], dtype=object)
    e = sp.sympify(obj).subs(values)
    return Fraction(int(e.p), int(e.q)) if e.is_Rational else e


def _show_point(point: dict[Any, Any]) -> dict[str, str]:
    out = {}
    for k, v in point.items():
        name = k.__name__ if isinstance(k, sp.FunctionClass) else str(k)
        out[name] = str(v.expr if isinstance(v, sp.Lambda) else v)
    return out


def _fallback(res: Any, groups: Sequence[Group], rng: np.random.Generator) -> dict[str, str] | None:
    """The first random rational point where ``res`` is non-zero, or None."""
    for _ in range(POINTS):
        point = draw(groups, rng)
        if not _is_zero(_value_at(res, point)):
            return _show_point(point)
    return None


# ---------------------------------------------------------------------------------------------
# links to the library


def _as_fraction_point(point: dict[Any, Any]) -> dict[Any, Any]:
    return {k: Fraction(int(v.p), int(v.q)) for k, v in point.items() if v.is_Rational}


def _flat(value: Any) -> list[Any]:
    return list(np.asarray(value, dtype=object).ravel())


def _symbolic_link(link: Link) -> Any | None:
    """Try the library on symbols: the reduced residual ``library - formula`` (a Matrix, or 0)
    when it computes on them (or the link has no free symbols), None when it rejects symbolic
    input."""
    identity = {s: s for g in link.groups for s in g.symbols}
    try:
        lib = [sp.sympify(v) for v in _flat(link.call(identity))]
    except Exception:
        return None
    if identity and not any(v.free_symbols for v in lib):
        return None
    formula = [sp.sympify(v) for v in _flat(link.formula)]
    if len(lib) != len(formula):
        return None
    if len(lib) == 1:
        return reduce_residual(lib[0] - formula[0])[0]
    return reduce_residual(sp.Matrix(lib) - sp.Matrix(formula))[0]


def _link_difference(link: Link, point: dict[Any, Any]) -> str | None:
    """``"library <value> != formula <value>"`` where they differ at ``point``, else None."""
    lib = _flat(link.call(_as_fraction_point(point)))
    formula = [_value_at(sp.sympify(f), point) for f in _flat(link.formula)]
    if len(lib) != len(formula):
        return f"library gives {len(lib)} values, the formula {len(formula)}"
    for a, b in zip(lib, formula, strict=True):
        if link.exact and isinstance(a, Fraction) and b.is_Rational:
            same = sp.Rational(a.numerator, a.denominator) == b
        else:
            same = abs(float(a) - float(b)) <= LINK_TOL * max(1.0, abs(float(b)))
        if not same:
            return f"library {a} != formula {b}"
    return None


def _check_link(
    link: Link, rng: np.random.Generator
) -> tuple[str | None, dict[str, str] | None, str]:
    """``(difference, counterexample, how)`` for one link (``difference`` None: agrees).  A
    symbolic residual that does not reduce goes through the rational fallback; one that vanishes
    at every point tried reads ``"not reduced"`` with no counterexample."""
    residual = _symbolic_link(link)
    if residual is not None:
        how = "symbolic" if any(g.symbols for g in link.groups) else "exact"
        if residual == 0:
            return None, None, how
        where = _fallback(residual, link.groups, rng)
        return (str(residual) if where else "not reduced: " + str(residual)), where, how
    for _ in range(link.points):
        point = draw(link.groups, rng)
        difference = _link_difference(link, point)
        if difference is not None:
            return difference, _show_point(point), "sampled"
    return None, None, "sampled"


# ---------------------------------------------------------------------------------------------
# a whole proof


def uncovered(expr: Any, groups: Sequence[Group]) -> set[Any]:
    """The free symbols and undefined functions of ``expr`` that ``groups`` do not draw (a proof
    must leave none: the fallback evaluates at points of the groups)."""
    drawn = {s for g in groups for s in g.symbols}
    exprs = _flat(expr) if isinstance(expr, list | tuple) else [expr]
    found: set[Any] = set()
    for e in exprs:
        e = sp.sympify(e)
        found |= e.free_symbols | {f.func for f in e.atoms(sp.core.function.AppliedUndef)}
    return found - drawn


def _library_text(hows: list[str]) -> str:
    """How the library was reached, for the report."""
    symbolic, exact = hows.count("symbolic"), hows.count("exact")
    sampled = hows.count("sampled")
    parts = []
    if symbolic:
        parts.append(
            f"{symbolic} link(s) symbolic: the library's own functions computed on sympy symbols, "
            "their difference from the formula reduced to 0 (a proof of the library's code)"
        )
    if exact:
        parts.append(f"{exact} link(s) exact: a function of K alone, compared exactly")
    if sampled:
        parts.append(
            f"{sampled} link(s) sampled: these functions do not compute on symbols, so the "
            f"statement is proved for the formula re-expressed in the proof and the library is "
            f"compared with it at {LINK_POINTS} random exact rational points (exact where the "
            f"library is exact, to a relative {LINK_TOL:g} where it computes logs/exps)"
        )
    return "; ".join(parts) or "no library link"


def run_proof(
    claim: str,
    Ks: Sequence[int],
    build: Callable[[int], tuple[list[Identity], list[Link]]],
    *,
    seed: int = 0,
) -> ProofResult:
    """Reduce every identity of ``build(K)`` for each ``K`` and check every link; the first
    failure decides the status (module docstring)."""
    start = time.process_time()
    rng = np.random.default_rng(seed)
    steps: list[Step] = []
    links_how: list[str] = []
    status: Status = "proved"
    residual: str | None = None
    counterexample: dict[str, str] | None = None
    failed: str | None = None
    for K in Ks:
        identities, links = build(K)
        for ident in identities:
            raw = ident.lhs - ident.rhs
            reduced, method = reduce_residual(raw)
            steps.append(
                Step(ident.name, K, f"{ident.lhs} = {ident.rhs}", str(raw), str(reduced), method)
            )
            if reduced == 0 or status == "disproved":
                continue
            where = _fallback(reduced, ident.groups, rng)
            residual, failed = str(reduced), f"{ident.name} (K = {K})"
            status, counterexample = ("disproved", where) if where else ("not proved", None)
        for link in links:
            difference, where, how = _check_link(link, rng)
            links_how.append(how)
            steps.append(Step(link.name, K, f"library {how}", "", difference or "0", how))
            if difference is None or status == "disproved":
                continue
            residual, failed = difference, f"{link.name} (K = {K})"
            status, counterexample = ("disproved", where) if where else ("not proved", None)
    library = _library_text(links_how)
    return ProofResult(
        claim,
        tuple(Ks),
        status,
        residual,
        counterexample,
        tuple(steps),
        library,
        time.process_time() - start,
        failed,
    )
