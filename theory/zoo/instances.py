"""Random rational single-prompt instances for the zoo's classification, in batches of one K.

Every number is a small-denominator rational, so a witness found in floats can be certified on
the very same instance: ``P`` is Bradley-Terry with integer strengths in 1..9
(``P_ij = s_i / (s_i + s_j)``), general (``P_ij`` on the grid ``k/20``, ``0 < k < 20``) or a total
order (``P_ij`` in {0, 1}); ``mu0``, ``mu1`` and ``pi_ref`` have full support on the grid ``1/20``
(``mu1 = mu0`` when ``symmetric``); ``beta`` is one of ``1/2, 1, 2``.  With ``partial > 0`` that
share of the instances (K >= 3) hides 1..K-2 responses from both ``mu0`` and ``mu1`` (their
mass set to 0, the rest renormalized): responses the data never shows (free responses).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np

from ..errors import InvalidParameterError

__all__ = ["ZOO_FAMILIES", "BETAS", "InstanceBatch", "random_instances", "grid_models"]

ZOO_FAMILIES = ("bradley_terry", "general", "total_order")
BETAS = (Fraction(1, 2), Fraction(1), Fraction(2))
GRID = 20


@dataclass(frozen=True)
class InstanceBatch:
    """``n`` single-prompt instances with ``K`` responses: exact object arrays ``P`` ``(n, K, K)``,
    ``mu0``, ``mu1``, ``pi_ref`` ``(n, K)``, ``beta`` ``(n,)`` (Fractions) and their float copies
    (``*_f``); ``family`` ``(n,)`` names the family of each ``P``."""

    K: int
    P: np.ndarray
    mu0: np.ndarray
    mu1: np.ndarray
    pi_ref: np.ndarray
    beta: np.ndarray
    family: np.ndarray

    @property
    def n(self) -> int:
        return int(self.P.shape[0])

    def floats(self, name: str) -> np.ndarray:
        """The float copy of the field (or property) ``name``, computed once."""
        cache = self.__dict__.setdefault("_floats", {})
        if name not in cache:
            cache[name] = np.asarray(getattr(self, name), dtype=float)
        return cache[name]

    @property
    def anchor(self) -> np.ndarray:
        """The data anchor ``(mu0 + mu1)/2`` (exact)."""
        return (self.mu0 + self.mu1) / 2

    @cached_property
    def w(self) -> np.ndarray:
        """Winner-loser weights ``w_ij = P_ij (mu1_i mu0_j + mu0_i mu1_j)`` (exact)."""
        return self.P * self._pairs(self.mu0, self.mu1)

    def w_at(self, t: int) -> np.ndarray:
        """``w`` of instance ``t`` alone (exact ``(K, K)``)."""
        return self.P[t] * self._pairs(self.mu0[t], self.mu1[t])

    @staticmethod
    def _pairs(mu0: np.ndarray, mu1: np.ndarray) -> np.ndarray:
        return mu1[..., :, None] * mu0[..., None, :] + mu0[..., :, None] * mu1[..., None, :]


def grid_models(rng: np.random.Generator, n: int, K: int, d: int = GRID) -> np.ndarray:
    """``n`` full-support distributions on the grid ``1/d`` (exact, ``(n, K)``)."""
    if d < K:
        raise InvalidParameterError(f"grid 1/{d} cannot give {K} responses positive mass")
    counts = 1 + rng.multinomial(d - K, np.full(K, 1.0 / K), size=n)
    out = np.empty((n, K), dtype=object)
    for idx, c in np.ndenumerate(counts):
        out[idx] = Fraction(int(c), d)
    return out


def _matrices(rng: np.random.Generator, n: int, K: int, family: str) -> np.ndarray:
    """``n`` exact ``K x K`` preference matrices of ``family`` ``(n, K, K)``."""
    if family == "bradley_terry":
        return _bradley_terry_matrices(rng, n, K)
    if family == "general":
        k = rng.integers(1, GRID, size=(n, K, K))
        upper = np.vectorize(lambda v: Fraction(int(v), GRID), otypes=[object])(k)
    else:
        perm = np.argsort(rng.random((n, K)), axis=1)
        rank = np.argsort(perm, axis=1)
        wins = rank[:, :, None] < rank[:, None, :]
        upper = np.vectorize(lambda v: Fraction(int(v)), otypes=[object])(wins)
    return _from_upper(upper)


def _bradley_terry_matrices(rng: np.random.Generator, n: int, K: int) -> np.ndarray:
    """``P[t, i, j] = s_i / (s_i + s_j)`` with integer strengths ``s`` in ``1..9``."""
    s = rng.integers(1, 10, size=(n, K))
    P = np.empty((n, K, K), dtype=object)
    for t, i, j in np.ndindex(n, K, K):
        P[t, i, j] = Fraction(int(s[t, i]), int(s[t, i] + s[t, j]))
    return P


def _from_upper(upper: np.ndarray) -> np.ndarray:
    """The preference matrices whose entries above the diagonal are those of ``upper``
    ``(n, K, K)``: ``1/2`` on the diagonal, ``1 - P[t, j, i]`` below it."""
    n, K, _ = upper.shape
    P = np.empty((n, K, K), dtype=object)
    for t, i in np.ndindex(n, K):
        P[t, i, i] = Fraction(1, 2)
        for j in range(i + 1, K):
            P[t, i, j] = upper[t, i, j]
            P[t, j, i] = 1 - P[t, i, j]
    return P


def _hide(mu: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """``mu`` with the ``hidden`` responses' mass set to 0, renormalized (exact)."""
    out = mu.copy()
    out[hidden] = Fraction(0)
    total = sum(out, Fraction(0))
    return np.array([v / total for v in out], dtype=object)


def random_instances(
    rng: np.random.Generator,
    n: int,
    K: int,
    *,
    symmetric: bool | None = None,
    families: tuple[str, ...] = ZOO_FAMILIES,
    partial: float = 0.0,
) -> InstanceBatch:
    """``n`` random instances with ``K`` responses (module docstring); ``symmetric=None`` draws
    ``mu1 = mu0`` for half of them; ``partial``: the probability that an instance (K >= 3) has
    free responses (drawn after everything else, so ``partial = 0`` keeps the stream).

    >>> b = random_instances(np.random.default_rng(0), 3, 3)
    >>> b.P.shape, bool(np.all(b.P + np.swapaxes(b.P, 1, 2) == 1))
    ((3, 3, 3), True)
    """
    fam = rng.integers(0, len(families), size=n)
    P = np.empty((n, K, K), dtype=object)
    for f, name in enumerate(families):
        idx = np.flatnonzero(fam == f)
        if len(idx):
            P[idx] = _matrices(rng, len(idx), K, name)
    mu0 = grid_models(rng, n, K)
    mu1 = grid_models(rng, n, K)
    same = rng.random(n) < 0.5 if symmetric is None else np.full(n, bool(symmetric))
    mu1[same] = mu0[same]
    pi_ref = grid_models(rng, n, K)
    beta = np.array([BETAS[int(i)] for i in rng.integers(0, len(BETAS), size=n)], dtype=object)
    if not 0 <= partial <= 1:
        raise InvalidParameterError(f"partial = {partial!r}, expected a probability in [0, 1]")
    if partial > 0 and K >= 3:
        for t in np.flatnonzero(rng.random(n) < partial):
            hidden = rng.choice(K, size=int(rng.integers(1, K - 1)), replace=False)
            mu0[t], mu1[t] = _hide(mu0[t], hidden), _hide(mu1[t], hidden)
    return InstanceBatch(
        K=K,
        P=P,
        mu0=mu0,
        mu1=mu1,
        pi_ref=pi_ref,
        beta=beta,
        family=np.array([families[int(f)] for f in fam]),
    )
