"""Instances of the elementary properties drawn from a stream of uniforms (internal).

Every property of :mod:`theory.axioms.properties` builds its instance from a vector ``u`` of
:data:`STREAM_LEN` numbers in ``[0, 1)``, read one by one through a :class:`Stream`.  Exact
instances put every probability on the grid ``1/d`` (Fractions); float instances (``d`` is None)
use the uniforms directly.  Building from uniforms lets the targeted local search of
:mod:`theory.axioms.search` perturb an instance continuously.

Symbols as in docs/uniqueness.md: ``P`` ``(M, K, K)`` preference matrices, ``mu0``, ``mu1``,
``pi`` ``(M, K)`` models, ``rho`` ``(M,)`` prompt weights, ``a = (mu0 + mu1) / 2`` the data anchor.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import InvalidParameterError

__all__ = [
    "STREAM_LEN",
    "EXTREME",
    "Stream",
    "probability_vector",
    "probability",
    "half",
    "preference_matrix",
    "model",
    "base",
    "mixing_weight",
    "anchor",
]

#: Length of the vector of uniforms an instance is built from.
STREAM_LEN = 256
#: Probability that a float preference probability is drawn as exactly 0 (or exactly 1).
EXTREME = 0.04


class Stream:
    """Reads successive numbers in [0, 1) from ``u`` (wrapping around).

    >>> U = Stream(np.array([0.5, 0.25]))
    >>> U(), U.index(4), U()
    (0.5, 1, 0.5)
    """

    def __init__(self, u: np.ndarray) -> None:
        self.u, self.k = u, 0

    def __call__(self) -> float:
        v = float(self.u[self.k % len(self.u)])
        self.k += 1
        return v

    def index(self, n: int) -> int:
        """An index in ``0..n-1`` from the next uniform."""
        return min(int(self() * n), n - 1)


def probability_vector(
    U: Stream, K: int, d: int | None, *, zero: Iterable[int] = (), pos: Iterable[int] = ()
) -> np.ndarray:
    """A probability vector of length K; entries in ``zero`` are 0, entries in ``pos`` positive;
    other entries are 0 with probability 1/4.  Exact on the grid ``1/d`` (``d >= len(pos)``),
    else float.

    >>> probability_vector(Stream(np.full(8, 0.5)), 2, 4).tolist()
    [Fraction(1, 2), Fraction(1, 2)]
    """
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
    return _on_grid(w, pos, d)


def _on_grid(w: np.ndarray, pos: set[int], d: int) -> np.ndarray:
    """The weights ``w`` rounded to the grid ``1/d`` (largest remainders), one unit per ``pos``."""
    K = len(w)
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


def probability(U: Stream, d: int | None, *, lo: int = 0, hi: int | None = None) -> Any:
    """A probability: exact ``k/d`` with ``lo <= k <= hi`` (default ``d``), or a float (0 or 1
    with probability :data:`EXTREME` each when the range allows, else uniform in the range).

    >>> probability(Stream(np.array([0.5])), 4)
    Fraction(1, 2)
    """
    if d is None:
        a, b = lo, 1.0 if hi is None else hi
        r = U()
        if r < EXTREME and a == 0:
            return 0.0
        if r > 1 - EXTREME and b == 1.0:
            return 1.0
        return a + (b - a) * U()
    hi = d if hi is None else hi
    return Fraction(lo + U.index(hi - lo + 1), d)


def half(d: int | None) -> Any:
    """One half, exact when ``d`` is a grid denominator."""
    return 0.5 if d is None else Fraction(1, 2)


def preference_matrix(U: Stream, K: int, d: int | None) -> np.ndarray:
    """A ``(K, K)`` preference matrix: ``P[i, i] = 1/2``, ``P[j, i] = 1 - P[i, j]``."""
    P = np.empty((K, K), dtype=float if d is None else object)
    for i in range(K):
        P[i, i] = half(d)
        for j in range(i + 1, K):
            P[i, j] = probability(U, d)
            P[j, i] = 1 - P[i, j]
    return P


def model(U: Stream, M: int, K: int, d: int | None) -> np.ndarray:
    """An ``(M, K)`` model, one :func:`probability_vector` per prompt."""
    return np.stack([probability_vector(U, K, d) for _ in range(M)])


def base(U: Stream, M: int, K: int, d: int | None, *, symmetric: bool | None = None) -> tuple:
    """``(P, mu0, mu1, rho)``; ``mu1 is mu0`` when ``symmetric`` (drawn when None)."""
    P = np.stack([preference_matrix(U, K, d) for _ in range(M)])
    rho = probability_vector(U, M, d)
    sym = (U() < 0.5) if symmetric is None else symmetric
    mu0 = model(U, M, K, d)
    mu1 = mu0 if sym else model(U, M, K, d)
    return P, mu0, mu1, rho


def mixing_weight(U: Stream, d: int | None) -> Any:
    """A mixing weight ``t`` strictly inside (0, 1)."""
    return 0.05 + 0.9 * U() if d is None else Fraction(1 + U.index(d - 1), d)


def anchor(mu0: np.ndarray, mu1: np.ndarray) -> np.ndarray:
    """The data anchor ``a = (mu0 + mu1) / 2``."""
    return (mu0 + mu1) / 2
