"""The eight elementary properties of the two axioms, each an instance builder (claims U-forward,
U-catalog; docs/uniqueness.md).

Each property builds a :class:`~theory.axioms.cases.Case` (two sides and the relation their
values must satisfy) from a vector of uniforms (:mod:`theory.axioms.draws`); the order in which a
builder reads its uniforms is part of the seeded search, so a builder's draws are not reordered.
The statements are those of the package docstring (:mod:`theory.axioms`).  ``pair-locality``
picks one of five changes that must leave ``V`` unchanged from the table
:data:`LOCALITY_CHANGES` (change kind -> builder).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..numbers import Number
from . import draws as dr
from .cases import Case, Side
from .draws import Stream

__all__ = ["Property", "PROPERTIES", "AXIOMS", "LocalityChange", "LOCALITY_CHANGES"]

#: A builder: uniforms, prompts M, responses K, grid denominator d (None: float) -> a case.
Builder = Callable[[Stream, int, int, int | None], Case | None]


# --------------------------------------------------------------------------------------------
# prevalence consistency


def _model_mixture(U: Stream, M: int, K: int, d: int | None) -> Case | None:
    P, mu0, mu1, rho = dr.base(U, M, K, d)
    pi1, pi2 = dr.model(U, M, K, d), dr.model(U, M, K, d)
    t = dr.mixing_weight(U, d)
    mix = t * pi1 + (1 - t) * pi2
    return Case(
        "model-mixture",
        ((1, Side(P, mu0, mu1, rho, mix)),),
        ((t, Side(P, mu0, mu1, rho, pi1)), (1 - t, Side(P, mu0, mu1, rho, pi2))),
        "=",
        {"t": t, "pi1": pi1, "pi2": pi2},
    )


def _prompt_weights(U: Stream, M: int, K: int, d: int | None) -> Case | None:
    M = max(M, 2)
    P, mu0, mu1, _ = dr.base(U, M, K, d)
    pi = dr.model(U, M, K, d)
    rho1, rho2 = dr.probability_vector(U, M, d), dr.probability_vector(U, M, d)
    t = dr.mixing_weight(U, d)
    return Case(
        "prompt-weights",
        ((1, Side(P, mu0, mu1, t * rho1 + (1 - t) * rho2, pi)),),
        ((t, Side(P, mu0, mu1, rho1, pi)), (1 - t, Side(P, mu0, mu1, rho2, pi))),
        "=",
        {"t": t, "rho1": rho1, "rho2": rho2},
    )


def _data_mixture(U: Stream, M: int, K: int, d: int | None) -> Case | None:
    P, mu0, mu1, rho = dr.base(U, M, K, d)
    sym = bool(np.array_equal(mu0, mu1))
    nu0 = dr.model(U, M, K, d)
    nu1 = nu0 if sym else dr.model(U, M, K, d)
    pi = dr.model(U, M, K, d)
    t = dr.mixing_weight(U, d)
    m0, m1 = t * mu0 + (1 - t) * nu0, t * mu1 + (1 - t) * nu1
    return Case(
        "data-mixture",
        ((1, Side(P, m0, m1, rho, pi)),),
        ((t, Side(P, mu0, mu1, rho, pi)), (1 - t, Side(P, nu0, nu1, rho, pi))),
        "=",
        {"t": t},
    )


def _data_prevalence(U: Stream, M: int, K: int, d: int | None) -> Case | None:
    P, mu0, mu1, rho = dr.base(U, M, K, d, symmetric=False)
    if np.array_equal(mu0, mu1):
        return None
    pi = dr.model(U, M, K, d)
    a = dr.anchor(mu0, mu1)
    return Case(
        "data-prevalence",
        ((1, Side(P, mu0, mu1, rho, pi)),),
        ((1, Side(P, a, a, rho, pi)),),
        "=",
        {"a": a},
    )


# --------------------------------------------------------------------------------------------
# pair-locality: a table from the kind of change to its builder

#: What a locality change returns: the first side (possibly adjusted), the changed side and the
#: change's parameters; None when the drawn change leaves the instance as it was.
Changed = tuple[Side, Side, dict[str, Any]] | None


def _uncompared_pair(U: Stream, s: Side, d: int | None) -> Changed:
    """Change ``P_x[y, y']`` for a pair the evaluation never compares (the first side's ``pi``,
    ``mu0``, ``mu1`` are first redrawn at ``x``, in place, so that the pair is not compared)."""
    P, mu0, mu1, pi = s.P, s.mu0, s.mu1, s.pi
    M, K = pi.shape
    x, y = U.index(M), U.index(K)
    y2 = (y + 1 + U.index(K - 1)) % K
    pattern = U.index(3) if K >= 3 else 2
    sym = bool(np.array_equal(mu0, mu1))
    if pattern == 0:  # the model never generates y or y2
        pi[x] = dr.probability_vector(U, K, d, zero=(y, y2))
    elif pattern == 1:  # the data never contains y or y2
        mu0[x] = dr.probability_vector(U, K, d, zero=(y, y2))
        mu1[x] = mu0[x] if sym else dr.probability_vector(U, K, d, zero=(y, y2))
    else:  # y is neither generated nor in the data
        pi[x] = dr.probability_vector(U, K, d, zero=(y,))
        mu0[x] = dr.probability_vector(U, K, d, zero=(y,))
        mu1[x] = mu0[x] if sym else dr.probability_vector(U, K, d, zero=(y,))
    P2 = P.copy()
    P2[x, y, y2] = dr.probability(U, d)
    P2[x, y2, y] = 1 - P2[x, y, y2]
    if P2[x, y, y2] == P[x, y, y2]:
        return None
    params = {"x": x, "y": y, "y_other": y2, "new": P2[x, y, y2]}
    return s, Side(P2, mu0, mu1, s.rho, pi), params


def _relabel(U: Stream, s: Side, d: int | None) -> Changed:
    """Permute the responses (a permutation other than the identity)."""
    K = s.pi.shape[1]
    perm = np.argsort([U() for _ in range(K)], kind="stable")
    if np.all(perm == np.arange(K)):
        perm = np.roll(perm, 1)
    second = Side(s.P[:, perm][:, :, perm], s.mu0[:, perm], s.mu1[:, perm], s.rho, s.pi[:, perm])
    return s, second, {"permutation": perm.tolist()}


def _add_response(U: Stream, s: Side, d: int | None) -> Changed:
    """Insert a response of zero mass in ``pi``, ``mu0`` and ``mu1``."""
    M, K = s.pi.shape
    k = U.index(K + 1)
    zero: Any = Fraction(0) if d is not None else 0.0  # Any: numpy's stubs reject Fraction

    def grow(m: np.ndarray) -> np.ndarray:
        return np.insert(m, k, zero, axis=1)

    big = np.stack([dr.preference_matrix(U, K + 1, d) for _ in range(M)])
    rest = [i for i in range(K + 1) if i != k]
    big[np.ix_(range(M), rest, rest)] = s.P
    return s, Side(big, grow(s.mu0), grow(s.mu1), s.rho, grow(s.pi)), {"new_index": k}


def _zero_weight_prompt(U: Stream, s: Side, d: int | None) -> Changed:
    """Give a prompt zero weight, then change everything at it."""
    M, K = s.pi.shape
    x = U.index(M)
    rho = dr.probability_vector(U, M, d, zero=(x,))
    P2, m0b, m1b, pib = s.P.copy(), s.mu0.copy(), s.mu1.copy(), s.pi.copy()
    P2[x] = dr.preference_matrix(U, K, d)
    pib[x] = dr.probability_vector(U, K, d)
    m0b[x] = dr.probability_vector(U, K, d)
    sym = bool(np.array_equal(s.mu0, s.mu1))
    m1b[x] = m0b[x] if sym else dr.probability_vector(U, K, d)
    if sym:
        m1b = m0b
    first = Side(s.P, s.mu0, s.mu1, rho, s.pi)
    return first, Side(P2, m0b, m1b, rho, pib), {"x": x}


def _add_prompt(U: Stream, s: Side, d: int | None) -> Changed:
    """Insert a prompt of zero weight (with any preferences, data and model there)."""
    M, K = s.pi.shape
    k = U.index(M + 1)
    zero: Any = Fraction(0) if d is not None else 0.0
    sym = bool(np.array_equal(s.mu0, s.mu1))
    m0b = np.insert(s.mu0, k, dr.probability_vector(U, K, d), axis=0)
    m1b = m0b if sym else np.insert(s.mu1, k, dr.probability_vector(U, K, d), axis=0)
    second = Side(
        np.insert(s.P, k, dr.preference_matrix(U, K, d), axis=0),
        m0b,
        m1b,
        np.insert(s.rho, k, zero),
        np.insert(s.pi, k, dr.probability_vector(U, K, d), axis=0),
    )
    return s, second, {"new_prompt": k}


@dataclass(frozen=True)
class LocalityChange:
    """One kind of change ``pair-locality`` tries: ``build(U, side, d)`` (see :data:`Changed`)
    applied to a random side with at least ``min_prompts`` prompts."""

    build: Callable[[Stream, Side, int | None], Changed]
    min_prompts: int = 1


#: The changes that must leave ``V`` unchanged, by kind (the draw picks one in this order).
LOCALITY_CHANGES: dict[str, LocalityChange] = {
    "uncompared pair": LocalityChange(_uncompared_pair),
    "relabel": LocalityChange(_relabel),
    "add response": LocalityChange(_add_response),
    "zero-weight prompt": LocalityChange(_zero_weight_prompt, min_prompts=2),
    "add prompt": LocalityChange(_add_prompt),
}


def _pair_locality(U: Stream, M: int, K: int, d: int | None) -> Case | None:
    kind = list(LOCALITY_CHANGES)[U.index(len(LOCALITY_CHANGES))]
    change = LOCALITY_CHANGES[kind]
    P, mu0, mu1, rho = dr.base(U, max(M, change.min_prompts), K, d)
    pi = dr.model(U, max(M, change.min_prompts), K, d)
    changed = change.build(U, Side(P, mu0, mu1, rho, pi), d)
    if changed is None:
        return None
    first, second, params = changed
    return Case("pair-locality", ((1, first),), ((1, second),), "=", {"change": kind, **params})


# --------------------------------------------------------------------------------------------
# preference consistency: pair probability and the two monotonicities


def _point_instance(U: Stream, K: int, d: int | None, p: Any, same: bool) -> tuple[Side, dict]:
    """One prompt, model ``delta_y``, data ``delta_y'`` with ``P[y, y'] = p`` (``y = y'`` when
    ``same``), among a random number of responses."""
    one = Fraction(1) if d is not None else 1.0
    if same:
        K = 1 + U.index(K)
        y = y2 = U.index(K)
    else:
        K = 2 + U.index(K - 1)
        y = U.index(K)
        y2 = (y + 1 + U.index(K - 1)) % K
    P = dr.preference_matrix(U, K, d)
    if not same:
        P[y, y2], P[y2, y] = p, 1 - p
    zero = Fraction(0) if d is not None else 0.0
    pi = np.array([[one if i == y else zero for i in range(K)]], dtype=P.dtype)
    mu = np.array([[one if i == y2 else zero for i in range(K)]], dtype=P.dtype)
    rho = np.array([one], dtype=P.dtype)
    return Side(P[None], mu, mu, rho, pi), {"K": K, "y": y, "y_data": y2}


def _pair_probability(U: Stream, M: int, K: int, d: int | None) -> Case | None:
    p = dr.half(d) if U() < 0.25 else dr.probability(U, d)
    sides, info = [], []
    for _ in range(2):
        same = p == dr.half(d) and U() < 0.5
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


def _raised_probability(U: Stream, d: int | None) -> tuple[Number, Number]:
    """``(p, p_new)`` with ``p < p_new``."""
    if d is None:
        p = 0.95 * U()
        return p, p + (1 - p) * (0.05 + 0.95 * U())
    k = U.index(d)
    return Fraction(k, d), Fraction(k + 1 + U.index(d - k), d)


def _weighted_pair(U: Stream, M: int, K: int, d: int | None) -> tuple:
    """``(x, y, y2, P, mu0, mu1, rho, pi)``: a prompt ``x`` of positive weight, two distinct
    responses ``y != y2`` and a random instance around them (the monotonicities' start)."""
    x, y = U.index(M), U.index(K)
    y2 = (y + 1 + U.index(K - 1)) % K
    P, mu0, mu1, _ = dr.base(U, M, K, d)
    rho = dr.probability_vector(U, M, d, pos=(x,))
    return x, y, y2, P, mu0, mu1, rho, dr.model(U, M, K, d)


def _preference_monotonicity(U: Stream, M: int, K: int, d: int | None) -> Case | None:
    x, y, y2, P, mu0, mu1, rho, pi = _weighted_pair(U, M, K, d)
    sym = bool(np.array_equal(mu0, mu1))
    vec = dr.probability_vector
    if U() < 0.5:  # the data never contains y: the reverse pair is not compared
        pi[x] = vec(U, K, d, pos=(y,))
        mu0[x] = vec(U, K, d, zero=(y,), pos=(y2,))
        mu1[x] = mu0[x] if sym else vec(U, K, d, zero=(y,), pos=(y2,))
    else:  # the model never generates y2
        pi[x] = vec(U, K, d, zero=(y2,), pos=(y,))
        mu0[x] = vec(U, K, d, pos=(y2,))
        mu1[x] = mu0[x] if sym else vec(U, K, d)
    if sym:
        mu1 = mu0
    p, p_new = _raised_probability(U, d)
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


def _make_dominate(U: Stream, P: np.ndarray, a: np.ndarray, y: int, z: int, d: int | None) -> bool:
    """Raise row ``z`` of ``P`` (one prompt, in place) until it dominates row ``y`` on the data
    support ``a > 0``; True when the domination is strict somewhere."""
    K = len(a)
    for v in range(K):
        if v in (y, z):
            continue
        if a[v] > 0 and P[z, v] < P[y, v]:
            P[z, v] = P[y, v] + (1 - P[y, v]) * dr.probability(U, d)
            P[v, z] = 1 - P[z, v]
    if (a[y] > 0 or a[z] > 0) and P[z, y] < dr.half(d):
        P[z, y], P[y, z] = 1 - P[z, y], P[z, y]
    return any(
        a[v] > 0 and (P[z, v] > P[y, v] if v not in (y, z) else P[z, y] > dr.half(d))
        for v in range(K)
    )


def _dominance_monotonicity(U: Stream, M: int, K: int, d: int | None) -> Case | None:
    x, y, z, P, mu0, mu1, rho, pi = _weighted_pair(U, M, K, d)
    pi[x] = dr.probability_vector(U, K, d, pos=(y,))
    if U() < 0.5:
        sym = bool(np.array_equal(mu0, mu1))
        mu0[x] = dr.probability_vector(U, K, d, pos=(y,))
        mu1 = mu0 if sym else mu1
    if not _make_dominate(U, P[x], dr.anchor(mu0[x], mu1[x]), y, z, d):
        return None
    one: Any = Fraction(1) if d is not None else 1.0
    eps = pi[x, y] * (dr.mixing_weight(U, d) if U() < 0.7 else one)
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


# --------------------------------------------------------------------------------------------
# the registry


@dataclass(frozen=True)
class Property:
    """An elementary property: its ``name``, the ``axiom`` it belongs to (``"prevalence"`` or
    ``"preference"``), its ``statement`` and ``build(u, M, K, d) -> Case | None`` (an instance
    from uniforms ``u``; exact on the grid ``1/d``, float when ``d`` is None).

    >>> case = PROPERTIES["pair-probability"].build(
    ...     np.full(dr.STREAM_LEN, 0.1), 1, 2, 2)
    >>> case.relation, case.params["p"]
    ('=', Fraction(1, 2))
    """

    name: str
    axiom: str
    statement: str
    build: Callable[[np.ndarray, int, int, int | None], Case | None]


def _prop(name: str, axiom: str, statement: str, fn: Builder) -> Property:
    def build(u: np.ndarray, M: int, K: int, d: int | None) -> Case | None:
        return fn(Stream(u), M, K, d)

    return Property(name, axiom, statement, build)


#: The eight elementary properties by name (see the package docstring).
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
