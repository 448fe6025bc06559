"""The two axioms of the uniqueness theorem as executable predicates (claims U-forward, U-catalog).

An evaluation ``V(D, pi)`` (:class:`~theory.evaluations.Evaluation`, higher is better) is applied
to *sides*: a data distribution ``D = (P, mu0, mu1, rho)`` with a model ``pi``.  Our formalization
(docs/uniqueness.md) splits the two axioms of THEORY.md into eight elementary properties, each a
relation between the values of ``V`` on two sides (or mixtures of sides):

*Prevalence consistency* (each prompt, model response and data response counts at the rate at
which it occurs):

1. ``model-mixture``: ``V(D, t pi1 + (1-t) pi2) = t V(D, pi1) + (1-t) V(D, pi2)``.
2. ``prompt-weights``: ``V(D[rho = t rho1 + (1-t) rho2], pi) = t V(D[rho1], pi) + (1-t) V(D[rho2],
   pi)``.
3. ``data-mixture``: ``V(D[mu_t], pi) = t V(D[mu], pi) + (1-t) V(D[mu'], pi)`` where
   ``mu_t = t (mu0, mu1) + (1-t) (mu0', mu1')``.
4. ``data-prevalence``: ``V(D[mu0, mu1], pi) = V(D[a, a], pi)`` with ``a = (mu0 + mu1) / 2``: a data
   response counts at the rate at which it occurs in a pair, whichever slot it fills.

*Preference consistency*:

5. ``pair-locality``: ``V`` is unchanged when ``P_x[y, y']`` changes for a pair the evaluation
   never compares (``pi_x(y) a_x(y') = pi_x(y') a_x(y) = 0``), when the responses are
   relabelled, when a response of zero mass (in ``pi``, ``mu0`` and ``mu1``) is added, when
   anything at a prompt of zero weight changes, or when a prompt of zero weight is added.
6. ``pair-probability``: for single-prompt point masses (model ``delta_y``, data ``delta_y'``)
   ``V`` depends only on ``p = P[y, y']``: two such instances with equal ``p`` (any ``K``, any
   other entries, ``y = y'`` allowed when ``p = 1/2``) get equal values.
7. ``preference-monotonicity``: ``V`` strictly increases when ``P_x[y, y']`` increases for a
   response ``y`` the model generates (``pi_x(y) > 0``) against a response ``y'`` the data contains
   (``a_x(y') > 0``), at a prompt of positive weight, while the reverse pair is not compared
   (``pi_x(y') a_x(y) = 0``).
8. ``dominance-monotonicity``: ``V`` strictly increases when model mass ``eps > 0`` moves from ``y``
   to ``z`` where ``z`` dominates ``y`` on the data: ``P_x[z, v] >= P_x[y, v]`` for every ``v``
   with ``a_x(v) > 0``, strictly for at least one (``rho_x > 0``).

Values live in the extended reals: an equality holds when both sides are the same infinity; a
strict increase is required only where both values are finite; an instance on which ``V`` (or a
mixture of its values) is undefined is skipped.  Exact instances are compared with ``==``, float
instances to the relative tolerance :data:`TOL` (a float "strict increase" is checked as "no
decrease beyond :data:`TOL` and not exactly equal").

Each predicate searches for a violation (random instances drawn smallest-first, plus a targeted
local search that perturbs the random numbers an instance is built from to enlarge the
violation) and returns a :class:`AxiomWitness` or None.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from .data import PreferenceData
from .errors import InvalidParameterError, UndefinedEvaluationError, UndefinedWinRateError
from .evaluations import Evaluation
from .numbers import Number

__all__ = [
    "TOL",
    "SIZES",
    "Side",
    "Case",
    "AxiomWitness",
    "Property",
    "PROPERTIES",
    "AXIOMS",
    "case_values",
    "holds_on",
    "trial",
    "find_violation",
    "check_axioms",
    "smallest_counterexample",
    "probe_pair",
    "recover_h",
    "HRecovery",
    "reconstruct_h_win_rate",
]

#: Relative tolerance for float equalities (exact instances use ``==``).
TOL = 1e-9
#: The search schedule ``(M, K, d)``, ``d`` the grid denominator of exact draws; smallest first.
SIZES: tuple[tuple[int, int, int], ...] = tuple(
    (M, K, d) for M in (1, 2) for K in (2, 3, 4) for d in (2, 3, 4, 6)
)
_UNDEFINED = (UndefinedEvaluationError, UndefinedWinRateError)


# --------------------------------------------------------------------------------------------
# sides, cases, witnesses


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
        return PreferenceData(P=self.P, mu0=self.mu0, mu1=self.mu1, rho=self.rho)

    def as_dict(self) -> dict[str, Any]:
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
        return self.lhs[0][1].P.dtype == object

    def size(self) -> tuple:
        """``(M, K, largest denominator, sum of denominators)``: smaller is simpler."""
        sides = [s for _, s in self.lhs + self.rhs]
        M = max(s.P.shape[0] for s in sides)
        K = max(s.P.shape[1] for s in sides)
        dens = [
            v.denominator
            for s in sides
            for a in (s.P, s.mu0, s.mu1, s.rho, s.pi)
            for v in a.ravel()
            if isinstance(v, Fraction)
        ] + [c.denominator for c, _ in self.lhs + self.rhs if isinstance(c, Fraction)]
        if not self.exact:
            return (M, K, math.inf, math.inf)
        return (M, K, max(dens, default=1), sum(dens))


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
        return self.case.relation

    def as_dict(self) -> dict[str, Any]:
        """A report-ready dict (Fractions kept; :func:`proofs_checks.registry.jsonable` formats)."""

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


def _combine(terms: Iterable[tuple[Any, Number]]) -> Number | None:
    """``sum coef * value`` in the extended reals; None when undefined (+inf and -inf)."""
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

    >>> from theory.evaluations import CATALOG, WIN_RATE
    >>> case = PROPERTIES["model-mixture"].build(np.full(_STREAM_LEN, 0.3), 1, 2, 2)
    >>> case_values(WIN_RATE, case)[0] == case_values(WIN_RATE, case)[1]
    True
    """
    try:
        values = {}
        for _, s in case.lhs + case.rhs:
            if id(s) not in values:
                values[id(s)] = evaluation(s.data(), s.pi)
    except _UNDEFINED:
        return None
    lhs = _combine((c, values[id(s)]) for c, s in case.lhs)
    rhs = _combine((c, values[id(s)]) for c, s in case.rhs)
    if lhs is None or rhs is None:
        return None
    return lhs, rhs


def holds_on(evaluation: Evaluation, case: Case) -> bool | None:
    """True when ``evaluation`` satisfies ``case``'s relation, False when it violates it, None
    when a value is undefined (the case is then skipped)."""
    values = case_values(evaluation, case)
    if values is None:
        return None
    return not _score(case, *values)[0]


def _score(case: Case, lhs: Number, rhs: Number) -> tuple[bool, float]:
    """``(violated, how badly)`` for the relation of ``case``."""
    lf, rf = float(lhs), float(rhs)
    if case.relation == "=":
        if isinstance(lhs, Fraction | int) and isinstance(rhs, Fraction | int):  # exact
            gap = abs(lhs - rhs)
            return gap != 0, float(gap)
        if math.isinf(lf) or math.isinf(rf):
            return lf != rf, 0.0 if lf == rf else 1.0
        diff = abs(lf - rf)
        return diff > TOL * (1 + max(abs(lf), abs(rf))), diff
    # strict increase lhs < rhs, required where both are finite
    if math.isinf(lf) and math.isinf(rf) and lf == rf:
        return False, -math.inf
    if isinstance(lhs, Fraction | int) and isinstance(rhs, Fraction | int):  # exact
        return not lhs < rhs, float(lhs - rhs)
    if math.isinf(lf) or math.isinf(rf):
        return not lf < rf, 0.0 if lf < rf else 1.0
    return (rf - lf < -TOL * (1 + abs(lf)) or rf == lf), lf - rf


# --------------------------------------------------------------------------------------------
# building instances from a stream of uniforms (exact on a grid of denominator d, or float)


class _Stream:
    """Reads successive numbers in [0, 1) from ``u`` (wrapping around)."""

    def __init__(self, u: np.ndarray) -> None:
        self.u, self.k = u, 0

    def __call__(self) -> float:
        v = float(self.u[self.k % len(self.u)])
        self.k += 1
        return v

    def index(self, n: int) -> int:
        return min(int(self() * n), n - 1)


_STREAM_LEN = 256
#: Probability that a float preference probability is drawn as exactly 0 (or exactly 1).
_EXTREME = 0.04


def _vec(
    U: _Stream, K: int, d: int | None, *, zero: Iterable[int] = (), pos: Iterable[int] = ()
) -> np.ndarray:
    """A probability vector of length K; entries in ``zero`` are 0, entries in ``pos`` positive;
    other entries are 0 with probability 1/4.  Exact on the grid ``1/d`` (``d >= len(pos)``),
    else float."""
    zero, pos = set(zero), set(pos) - set(zero)
    w = np.array([0.05 + U() for _ in range(K)])
    for i in range(K):
        if U() < 0.25 and i not in pos:
            w[i] = 0.0
    for i in zero:
        w[i] = 0.0
    if not np.any(w > 0) and not pos:
        allowed = [i for i in range(K) if i not in zero]
        w[allowed[U.index(len(allowed))]] = 1.0
    if d is None:
        return w / w.sum()
    units = np.zeros(K, dtype=int)
    for i in pos:
        units[i] = 1
    rest = d - int(units.sum())
    if rest < 0:
        raise InvalidParameterError(f"grid 1/{d} cannot hold {len(pos)} positive entries")
    if w.sum() == 0:
        w = np.array([1.0 if i in pos else 0.0 for i in range(K)])
    share = w / w.sum() * rest
    units += np.floor(share).astype(int)
    left = d - int(units.sum())
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    for i in order[:left]:
        units[i] += 1
    return np.array([Fraction(int(v), d) for v in units], dtype=object)


def _prob(U: _Stream, d: int | None, *, lo: int = 0, hi: int | None = None) -> Any:
    """A probability: exact ``k/d`` with ``lo <= k <= hi`` (default ``d``), or a float (0 or 1
    with probability :data:`_EXTREME` each when the range allows, else uniform in the range)."""
    if d is None:
        a, b = lo, 1.0 if hi is None else hi
        r = U()
        if r < _EXTREME and a == 0:
            return 0.0
        if r > 1 - _EXTREME and b == 1.0:
            return 1.0
        return a + (b - a) * U()
    hi = d if hi is None else hi
    return Fraction(lo + U.index(hi - lo + 1), d)


def _half(d: int | None) -> Any:
    return 0.5 if d is None else Fraction(1, 2)


def _pref(U: _Stream, K: int, d: int | None) -> np.ndarray:
    P = np.empty((K, K), dtype=float if d is None else object)
    for i in range(K):
        P[i, i] = _half(d)
        for j in range(i + 1, K):
            P[i, j] = _prob(U, d)
            P[j, i] = 1 - P[i, j]
    return P


def _model(U: _Stream, M: int, K: int, d: int | None) -> np.ndarray:
    return np.stack([_vec(U, K, d) for _ in range(M)])


def _base(U: _Stream, M: int, K: int, d: int | None, *, symmetric: bool | None = None) -> tuple:
    P = np.stack([_pref(U, K, d) for _ in range(M)])
    rho = _vec(U, M, d)
    sym = (U() < 0.5) if symmetric is None else symmetric
    mu0 = _model(U, M, K, d)
    mu1 = mu0 if sym else _model(U, M, K, d)
    return P, mu0, mu1, rho


def _t(U: _Stream, d: int | None) -> Any:
    return 0.05 + 0.9 * U() if d is None else Fraction(1 + U.index(d - 1), d)


def _anchor(mu0: np.ndarray, mu1: np.ndarray) -> np.ndarray:
    return (mu0 + mu1) / 2


# --------------------------------------------------------------------------------------------
# the eight properties


def _model_mixture(U: _Stream, M: int, K: int, d: int | None) -> Case | None:
    P, mu0, mu1, rho = _base(U, M, K, d)
    pi1, pi2 = _model(U, M, K, d), _model(U, M, K, d)
    t = _t(U, d)
    mix = t * pi1 + (1 - t) * pi2
    return Case(
        "model-mixture",
        ((1, Side(P, mu0, mu1, rho, mix)),),
        ((t, Side(P, mu0, mu1, rho, pi1)), (1 - t, Side(P, mu0, mu1, rho, pi2))),
        "=",
        {"t": t, "pi1": pi1, "pi2": pi2},
    )


def _prompt_weights(U: _Stream, M: int, K: int, d: int | None) -> Case | None:
    M = max(M, 2)
    P, mu0, mu1, _ = _base(U, M, K, d)
    pi = _model(U, M, K, d)
    rho1, rho2 = _vec(U, M, d), _vec(U, M, d)
    t = _t(U, d)
    return Case(
        "prompt-weights",
        ((1, Side(P, mu0, mu1, t * rho1 + (1 - t) * rho2, pi)),),
        ((t, Side(P, mu0, mu1, rho1, pi)), (1 - t, Side(P, mu0, mu1, rho2, pi))),
        "=",
        {"t": t, "rho1": rho1, "rho2": rho2},
    )


def _data_mixture(U: _Stream, M: int, K: int, d: int | None) -> Case | None:
    P, mu0, mu1, rho = _base(U, M, K, d)
    sym = bool(np.array_equal(mu0, mu1))
    nu0 = _model(U, M, K, d)
    nu1 = nu0 if sym else _model(U, M, K, d)
    pi = _model(U, M, K, d)
    t = _t(U, d)
    m0, m1 = t * mu0 + (1 - t) * nu0, t * mu1 + (1 - t) * nu1
    return Case(
        "data-mixture",
        ((1, Side(P, m0, m1, rho, pi)),),
        ((t, Side(P, mu0, mu1, rho, pi)), (1 - t, Side(P, nu0, nu1, rho, pi))),
        "=",
        {"t": t},
    )


def _data_prevalence(U: _Stream, M: int, K: int, d: int | None) -> Case | None:
    P, mu0, mu1, rho = _base(U, M, K, d, symmetric=False)
    if np.array_equal(mu0, mu1):
        return None
    pi = _model(U, M, K, d)
    a = _anchor(mu0, mu1)
    return Case(
        "data-prevalence",
        ((1, Side(P, mu0, mu1, rho, pi)),),
        ((1, Side(P, a, a, rho, pi)),),
        "=",
        {"a": a},
    )


def _pair_locality(U: _Stream, M: int, K: int, d: int | None) -> Case | None:
    kinds = ("uncompared pair", "relabel", "add response", "zero-weight prompt", "add prompt")
    kind = kinds[U.index(len(kinds))]
    if kind == "zero-weight prompt":
        M = max(M, 2)
    P, mu0, mu1, rho = _base(U, M, K, d)
    pi = _model(U, M, K, d)
    params: dict[str, Any] = {"change": kind}
    if kind == "uncompared pair":
        x, y = U.index(M), U.index(K)
        y2 = (y + 1 + U.index(K - 1)) % K
        pattern = U.index(3) if K >= 3 else 2
        sym = bool(np.array_equal(mu0, mu1))
        if pattern == 0:  # the model never generates y or y2
            pi[x] = _vec(U, K, d, zero=(y, y2))
        elif pattern == 1:  # the data never contains y or y2
            mu0[x] = _vec(U, K, d, zero=(y, y2))
            mu1[x] = mu0[x] if sym else _vec(U, K, d, zero=(y, y2))
        else:  # y is neither generated nor in the data
            pi[x] = _vec(U, K, d, zero=(y,))
            mu0[x] = _vec(U, K, d, zero=(y,))
            mu1[x] = mu0[x] if sym else _vec(U, K, d, zero=(y,))
        P2 = P.copy()
        P2[x, y, y2] = _prob(U, d)
        P2[x, y2, y] = 1 - P2[x, y, y2]
        if P2[x, y, y2] == P[x, y, y2]:
            return None
        params.update(x=x, y=y, y_other=y2, new=P2[x, y, y2])
        second = Side(P2, mu0, mu1, rho, pi)
    elif kind == "relabel":
        perm = np.argsort([U() for _ in range(K)], kind="stable")
        if np.all(perm == np.arange(K)):
            perm = np.roll(perm, 1)
        params["permutation"] = perm.tolist()
        second = Side(P[:, perm][:, :, perm], mu0[:, perm], mu1[:, perm], rho, pi[:, perm])
    elif kind == "add response":
        k = U.index(K + 1)
        zero: Any = Fraction(0) if d is not None else 0.0  # Any: numpy's stubs reject Fraction

        def grow(m: np.ndarray) -> np.ndarray:
            return np.insert(m, k, zero, axis=1)

        big = np.stack([_pref(U, K + 1, d) for _ in range(M)])
        rest = [i for i in range(K + 1) if i != k]
        big[np.ix_(range(M), rest, rest)] = P
        params["new_index"] = k
        second = Side(big, grow(mu0), grow(mu1), rho, grow(pi))
    elif kind == "add prompt":
        k = U.index(M + 1)
        zero = Fraction(0) if d is not None else 0.0
        sym = bool(np.array_equal(mu0, mu1))
        m0b = np.insert(mu0, k, _vec(U, K, d), axis=0)
        m1b = m0b if sym else np.insert(mu1, k, _vec(U, K, d), axis=0)
        params["new_prompt"] = k
        second = Side(
            np.insert(P, k, _pref(U, K, d), axis=0),
            m0b,
            m1b,
            np.insert(rho, k, zero),
            np.insert(pi, k, _vec(U, K, d), axis=0),
        )
    else:
        x = U.index(M)
        rho = _vec(U, M, d, zero=(x,))
        P2, m0b, m1b, pib = P.copy(), mu0.copy(), mu1.copy(), pi.copy()
        P2[x] = _pref(U, K, d)
        pib[x] = _vec(U, K, d)
        m0b[x] = _vec(U, K, d)
        m1b[x] = m0b[x] if np.array_equal(mu0, mu1) else _vec(U, K, d)
        if np.array_equal(mu0, mu1):
            m1b = m0b
        params["x"] = x
        second = Side(P2, m0b, m1b, rho, pib)
    return Case("pair-locality", ((1, Side(P, mu0, mu1, rho, pi)),), ((1, second),), "=", params)


def _point_instance(U: _Stream, K: int, d: int | None, p: Any, same: bool) -> tuple[Side, dict]:
    one = Fraction(1) if d is not None else 1.0
    if same:
        K = 1 + U.index(K)
        y = y2 = U.index(K)
    else:
        K = 2 + U.index(K - 1)
        y = U.index(K)
        y2 = (y + 1 + U.index(K - 1)) % K
    P = _pref(U, K, d)
    if not same:
        P[y, y2], P[y2, y] = p, 1 - p
    zero = Fraction(0) if d is not None else 0.0
    pi = np.array([[one if i == y else zero for i in range(K)]], dtype=P.dtype)
    mu = np.array([[one if i == y2 else zero for i in range(K)]], dtype=P.dtype)
    rho = np.array([one], dtype=P.dtype)
    return Side(P[None], mu, mu, rho, pi), {"K": K, "y": y, "y_data": y2}


def _pair_probability(U: _Stream, M: int, K: int, d: int | None) -> Case | None:
    p = _half(d) if U() < 0.25 else _prob(U, d)
    sides, info = [], []
    for _ in range(2):
        same = p == _half(d) and U() < 0.5
        s, i = _point_instance(U, K, d, p, same)
        sides.append(s)
        info.append(i)
    return Case(
        "pair-probability",
        ((1, sides[0]),),
        ((1, sides[1]),),
        "=",
        {"p": p, "first": info[0], "second": info[1]},
    )


def _preference_monotonicity(U: _Stream, M: int, K: int, d: int | None) -> Case | None:
    x, y = U.index(M), U.index(K)
    y2 = (y + 1 + U.index(K - 1)) % K
    P, mu0, mu1, _ = _base(U, M, K, d)
    rho = _vec(U, M, d, pos=(x,))
    pi = _model(U, M, K, d)
    sym = bool(np.array_equal(mu0, mu1))
    if U() < 0.5:  # the data never contains y: the reverse pair is not compared
        pi[x] = _vec(U, K, d, pos=(y,))
        mu0[x] = _vec(U, K, d, zero=(y,), pos=(y2,))
        mu1[x] = mu0[x] if sym else _vec(U, K, d, zero=(y,), pos=(y2,))
    else:  # the model never generates y2
        pi[x] = _vec(U, K, d, zero=(y2,), pos=(y,))
        mu0[x] = _vec(U, K, d, pos=(y2,))
        mu1[x] = mu0[x] if sym else _vec(U, K, d)
    if sym:
        mu1 = mu0
    p: Number
    p_new: Number
    if d is None:
        p = 0.95 * U()
        p_new = p + (1 - p) * (0.05 + 0.95 * U())
    else:
        k = U.index(d)
        p, p_new = Fraction(k, d), Fraction(k + 1 + U.index(d - k), d)
    P[x, y, y2], P[x, y2, y] = p, 1 - p
    P2 = P.copy()
    P2[x, y, y2], P2[x, y2, y] = p_new, 1 - p_new
    return Case(
        "preference-monotonicity",
        ((1, Side(P, mu0, mu1, rho, pi)),),
        ((1, Side(P2, mu0, mu1, rho, pi)),),
        "<",
        {"x": x, "y": y, "y_data": y2, "from": p, "to": p_new},
    )


def _dominance_monotonicity(U: _Stream, M: int, K: int, d: int | None) -> Case | None:
    x, y = U.index(M), U.index(K)
    z = (y + 1 + U.index(K - 1)) % K
    P, mu0, mu1, _ = _base(U, M, K, d)
    rho = _vec(U, M, d, pos=(x,))
    pi = _model(U, M, K, d)
    pi[x] = _vec(U, K, d, pos=(y,))
    if U() < 0.5:
        sym = bool(np.array_equal(mu0, mu1))
        mu0[x] = _vec(U, K, d, pos=(y,))
        mu1 = mu0 if sym else mu1
    a = _anchor(mu0[x], mu1[x])
    half = _half(d)
    for v in range(K):  # make row z dominate row y on the data support
        if v in (y, z):
            continue
        if a[v] > 0 and P[x, z, v] < P[x, y, v]:
            P[x, z, v] = P[x, y, v] + (1 - P[x, y, v]) * _prob(U, d)
            P[x, v, z] = 1 - P[x, z, v]
    if (a[y] > 0 or a[z] > 0) and P[x, z, y] < half:
        P[x, z, y], P[x, y, z] = 1 - P[x, z, y], P[x, z, y]
    strict = any(
        a[v] > 0 and (P[x, z, v] > P[x, y, v] if v not in (y, z) else P[x, z, y] > half)
        for v in range(K)
    )
    if not strict:
        return None
    eps = pi[x, y] * (_t(U, d) if U() < 0.7 else (Fraction(1) if d is not None else 1.0))
    pi2 = pi.copy()
    pi2[x, y] -= eps
    pi2[x, z] += eps
    return Case(
        "dominance-monotonicity",
        ((1, Side(P, mu0, mu1, rho, pi)),),
        ((1, Side(P, mu0, mu1, rho, pi2)),),
        "<",
        {"x": x, "from": y, "to": z, "eps": eps},
    )


@dataclass(frozen=True)
class Property:
    """An elementary property: its ``name``, the ``axiom`` it belongs to (``"prevalence"`` or
    ``"preference"``), its ``statement`` and ``build(u, M, K, d) -> Case | None`` (an instance
    from uniforms ``u``; exact on the grid ``1/d``, float when ``d`` is None)."""

    name: str
    axiom: str
    statement: str
    build: Callable[[np.ndarray, int, int, int | None], Case | None]


def _prop(name: str, axiom: str, statement: str, fn: Callable) -> Property:
    def build(u: np.ndarray, M: int, K: int, d: int | None) -> Case | None:
        return fn(_Stream(u), M, K, d)

    return Property(name, axiom, statement, build)


#: The eight elementary properties by name (see the module docstring).
PROPERTIES: dict[str, Property] = {
    p.name: p
    for p in (
        _prop(
            "model-mixture",
            "prevalence",
            "V(D, t pi1 + (1-t) pi2) = t V(D, pi1) + (1-t) V(D, pi2)",
            _model_mixture,
        ),
        _prop(
            "prompt-weights",
            "prevalence",
            "V(D[t rho1 + (1-t) rho2], pi) = t V(D[rho1], pi) + (1-t) V(D[rho2], pi)",
            _prompt_weights,
        ),
        _prop(
            "data-mixture",
            "prevalence",
            "V(D[t mu + (1-t) mu'], pi) = t V(D[mu], pi) + (1-t) V(D[mu'], pi), mu = (mu0, mu1)",
            _data_mixture,
        ),
        _prop(
            "data-prevalence",
            "prevalence",
            "V(D[mu0, mu1], pi) = V(D[a, a], pi) with a = (mu0 + mu1)/2",
            _data_prevalence,
        ),
        _prop(
            "pair-locality",
            "preference",
            "V unchanged by changing P on uncompared pairs, relabelling responses, adding a "
            "zero-mass response, or changing or adding a zero-weight prompt",
            _pair_locality,
        ),
        _prop(
            "pair-probability",
            "preference",
            "V(delta_y vs data delta_y') depends only on P[y, y'] (any K, any other entries)",
            _pair_probability,
        ),
        _prop(
            "preference-monotonicity",
            "preference",
            "V strictly increases when P_x[y, y'] increases, pi_x(y) a_x(y') rho_x > 0, "
            "pi_x(y') a_x(y) = 0",
            _preference_monotonicity,
        ),
        _prop(
            "dominance-monotonicity",
            "preference",
            "V strictly increases when model mass moves from y to a response z that dominates "
            "y on the data's support",
            _dominance_monotonicity,
        ),
    )
}

#: The two axioms as the lists of their elementary properties.
AXIOMS: dict[str, tuple[str, ...]] = {
    "prevalence consistency": tuple(n for n, p in PROPERTIES.items() if p.axiom == "prevalence"),
    "preference consistency": tuple(n for n, p in PROPERTIES.items() if p.axiom == "preference"),
}


# --------------------------------------------------------------------------------------------
# the search


def _try(
    evaluation: Evaluation, prop: Property, u: np.ndarray, M: int, K: int, d: int | None
) -> tuple[Case | None, tuple[Number, Number] | None, bool, float]:
    case = prop.build(u, M, K, d)
    if case is None:
        return None, None, False, -math.inf
    values = case_values(evaluation, case)
    if values is None:
        return case, None, False, -math.inf
    violated, badness = _score(case, *values)
    return case, values, violated, badness


def _local_search(
    evaluation: Evaluation,
    prop: Property,
    rng: np.random.Generator,
    u: np.ndarray,
    size: tuple[int, int, int | None],
    steps: int,
) -> tuple[np.ndarray, Case | None, tuple | None, bool]:
    """Hill-climb on the uniforms ``u`` to make the violation larger (or to create one)."""
    best_u = u
    case, values, violated, best = _try(evaluation, prop, u, *size)
    for k in range(steps):
        if violated:
            break
        sigma = (0.3, 0.1, 0.03)[k % 3]
        cand = np.clip(best_u + sigma * rng.standard_normal(len(u)), 0.0, 1 - 1e-12)
        c2, v2, viol2, bad2 = _try(evaluation, prop, cand, *size)
        if viol2 or bad2 > best:
            best_u, case, values, violated, best = cand, c2, v2, viol2, bad2
    return best_u, case, values, violated


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
    prop = PROPERTIES[prop] if isinstance(prop, str) else prop
    u = rng.random(_STREAM_LEN)
    if local_steps:
        u, case, values, violated = _local_search(evaluation, prop, rng, u, (M, K, d), local_steps)
    else:
        case, values, violated, _ = _try(evaluation, prop, u, M, K, d)
    if case is None or values is None:
        return "skipped", None
    if violated:
        return "violated", AxiomWitness(prop.name, evaluation.name, case, values[0], values[1])
    return "held", None


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
) -> AxiomWitness | None:
    """Search for a violation of the elementary property ``prop`` by ``evaluation``.

    Instances are drawn phase by phase over ``sizes`` (``(M, K, d)``, smallest first; ``d`` is
    ignored when ``exact=False``), ``trials`` instances spread evenly over the phases; each
    instance is followed by ``local_steps`` steps of a targeted local search that perturbs the
    uniforms it was built from to enlarge the violation.  With ``first_phase=True`` the search
    stops at the end of the first phase that produced a violation.  Returns the smallest
    :class:`AxiomWitness` found (by :meth:`Case.size`) or None.

    >>> from theory.evaluations import CATALOG, WIN_RATE
    >>> rng = np.random.default_rng(0)
    >>> find_violation(WIN_RATE, "model-mixture", rng, trials=24) is None
    True
    >>> w = find_violation(CATALOG["Copeland score"], "preference-monotonicity", rng, trials=48)
    >>> w.property, w.value_lhs == w.value_rhs
    ('preference-monotonicity', True)
    """
    if isinstance(prop, str):
        if prop not in PROPERTIES:
            raise InvalidParameterError(f"unknown property {prop!r}; known: {list(PROPERTIES)}")
        prop = PROPERTIES[prop]
    phases: list[tuple[int, int, int | None]] = list(sizes)
    if not exact:
        phases = list(dict.fromkeys((M, K, None) for M, K, _ in phases))
    per_phase = max(1, trials // len(phases))
    best: AxiomWitness | None = None
    for M, K, d in phases:
        for _ in range(per_phase):
            u = rng.random(_STREAM_LEN)
            if local_steps:
                u, case, values, violated = _local_search(
                    evaluation, prop, rng, u, (M, K, d), local_steps
                )
            else:
                case, values, violated, _ = _try(evaluation, prop, u, M, K, d)
            if violated and case is not None and values is not None:
                w = AxiomWitness(prop.name, evaluation.name, case, values[0], values[1])
                if best is None or _witness_key(w) < _witness_key(best):
                    best = w
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

    >>> from theory.evaluations import CATALOG
    >>> found = check_axioms(CATALOG["Borda score"], np.random.default_rng(0), trials=48)
    >>> "pair-locality" in [name for name, w in found.items() if w is not None]
    True
    """
    return {
        name: find_violation(
            evaluation, p, rng, trials=trials, exact=exact, local_steps=local_steps
        )
        for name, p in PROPERTIES.items()
    }


def smallest_counterexample(
    evaluation: Evaluation, rng: np.random.Generator, *, trials: int = 96
) -> AxiomWitness | None:
    """The smallest exact violation of any elementary property, by (prompts, responses, whether a
    value is infinite, largest denominator, sum of denominators); ties go to the property listed
    first in :data:`PROPERTIES`.

    >>> from theory.evaluations import CATALOG
    >>> V = CATALOG["preferred-sample likelihood"]
    >>> w = smallest_counterexample(V, np.random.default_rng(0))
    >>> w.case.size()[:2], holds_on(V, w.case)
    ((1, 2), False)
    """
    best: AxiomWitness | None = None
    for p in PROPERTIES.values():
        sizes = list(SIZES)
        if best is not None:  # phases larger (in prompts, responses) than the best cannot win
            bound = _witness_key(best)[:2]
            sizes = [s for s in SIZES if s[:2] <= bound]
        w = find_violation(
            evaluation, p, rng, trials=trials * len(sizes) // len(SIZES), exact=True, sizes=sizes
        )
        if w is not None and (best is None or _witness_key(w) < _witness_key(best)):
            best = w
    return best


def _witness_key(w: AxiomWitness) -> tuple:
    """Smaller is simpler: (M, K, an infinite value?, largest denominator, sum of denominators)."""
    M, K, *dens = w.case.size()
    infinite = math.isinf(float(w.value_lhs)) or math.isinf(float(w.value_rhs))
    return (M, K, infinite, *dens)


# --------------------------------------------------------------------------------------------
# the converse: probing a black-box evaluation with point masses


def probe_pair(evaluation: Evaluation, p: Any) -> Number:
    """``V`` on the pair probe of ``p``: one prompt, ``K = 2``, ``P[0, 1] = p``, model
    ``delta_0``, data ``mu0 = mu1 = delta_1``.  For ``V = WR_h`` this is exactly ``h(p)``.

    >>> from theory.evaluations import WIN_RATE
    >>> probe_pair(WIN_RATE, Fraction(1, 3))
    Fraction(1, 3)
    """
    exact = isinstance(p, Fraction | int)
    one, zero = (Fraction(1), Fraction(0)) if exact else (1.0, 0.0)
    half = Fraction(1, 2) if exact else 0.5
    p = Fraction(p) if exact else float(p)
    P = np.array([[half, p], [1 - p, half]], dtype=object if exact else float)
    data = PreferenceData(P=P, mu0=np.array([zero, one], dtype=P.dtype))
    return evaluation(data, np.array([one, zero], dtype=P.dtype))


@dataclass(frozen=True)
class HRecovery:
    """The h recovered from an evaluation by pair probes: ``grid`` and ``values = V(probe(p))``,
    the endpoint values ``h0 = V(probe(0))`` and ``h1 = V(probe(1))`` (possibly infinite), and,
    when a reference h was given, ``max_error`` (largest interior disagreement) and whether the
    endpoints agree (``endpoints_ok``)."""

    grid: np.ndarray
    values: np.ndarray
    h0: Number
    h1: Number
    max_error: float | None = None
    endpoints_ok: bool | None = None


def recover_h(evaluation: Evaluation, grid: Any = None, *, reference: Any = None) -> HRecovery:
    """Recover ``h(p) = V(probe(p))`` on an interior ``grid`` (default 99 points of (0, 1)) and
    at the endpoints; compare with ``reference`` (an h) when given (relative error, and equality
    of the endpoint values including their signed infinities).

    Identifiability: under our (exact, not affine) linearity the probe values *are* h, with no
    free constant; ``V`` and ``h`` share one scale, and ``s V + c`` (``s > 0``) would be
    recovered as ``s h + c``, the same h-win rate up to that affine map.

    >>> from theory.evaluations import h_win_rate_evaluation
    >>> rec = recover_h(h_win_rate_evaluation("logit"), reference="logit")
    >>> rec.max_error < 1e-12, rec.h0, rec.h1, rec.endpoints_ok
    (True, -inf, inf, True)
    """
    from .hfuncs import apply_h

    g = np.linspace(0.01, 0.99, 99) if grid is None else np.asarray(grid, dtype=float)
    values = np.array([float(probe_pair(evaluation, float(p))) for p in g])
    h0, h1 = probe_pair(evaluation, Fraction(0)), probe_pair(evaluation, Fraction(1))
    max_error = endpoints_ok = None
    if reference is not None:
        ref = apply_h(reference, g)
        max_error = float(np.max(np.abs(values - ref) / (1 + np.abs(ref))))
        ends = apply_h(reference, np.array([0.0, 1.0]))
        endpoints_ok = bool(float(h0) == ends[0] and float(h1) == ends[1]) or bool(
            np.allclose([float(h0), float(h1)], ends, rtol=TOL, atol=TOL)
        )
    return HRecovery(g, values, h0, h1, max_error, endpoints_ok)


def reconstruct_h_win_rate(evaluation: Evaluation, data: PreferenceData, pi: Any) -> Number:
    """``sum_x rho_x sum_{y, y'} pi_x(y) a_x(y') g(P_x[y, y'])`` with ``g(p) = V(probe(p))``
    (:func:`probe_pair`) and ``a = (mu0 + mu1) / 2``: the h-win rate that ``V`` must equal if it
    satisfies both axioms (U-converse).  Only pairs with positive mass are probed.

    >>> from theory.evaluations import WIN_RATE
    >>> from theory.preferences import rock_paper_scissors
    >>> D = PreferenceData(P=rock_paper_scissors(), mu0=[Fraction(1, 3)] * 3)
    >>> reconstruct_h_win_rate(WIN_RATE, D, [1, 0, 0])
    Fraction(1, 2)
    """
    pi = np.asarray(pi).reshape(data.M, data.K)
    a = _anchor(data.mu0, data.mu1)
    terms = []
    cache: dict[Any, Number] = {}
    for x in range(data.M):
        for y in range(data.K):
            for y2 in range(data.K):
                wt = data.rho[x] * pi[x, y] * a[x, y2]
                if wt == 0:
                    continue
                p = data.P[x, y, y2]
                key = p if isinstance(p, Fraction) else float(p)
                if key not in cache:
                    cache[key] = probe_pair(evaluation, p if data.exact else float(p))
                terms.append((wt, cache[key]))
    out = _combine(terms)
    if out is None:
        raise UndefinedWinRateError("the reconstruction adds +inf and -inf terms")
    return out
