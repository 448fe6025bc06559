"""Unpaired binary feedback (the KTO setting): one response at a time, marked good or bad.

Sampling: ``x ~ rho``, ``y ~ mu(.|x)``, ``b ~ Bernoulli(g_x(y))`` (``b = 1``: "desirable");
``g_x(y) in [0, 1]`` is the *desirability* of ``y``.  Reading "``i`` preferred to ``j``" as
"``i`` marked good and ``j`` bad, or both marked alike and a fair coin" gives the implied
preference matrix

    P_x[i, j] = g_i (1 - g_j) + (g_i g_j + (1 - g_i)(1 - g_j)) / 2 = 1/2 + (g_i - g_j) / 2,

and with it ``WR(pi; q) = 1/2 + (E_pi g - E_q g) / 2``: the win rate is expected desirability
(claim ``unpaired-win-rate-is-desirability``, docs/zoo_data.md).  :func:`unpair` turns pairwise
data into unpaired data as TRL does (chosen -> desirable, rejected -> undesirable): then
``mu = (mu0 + mu1) / 2`` and ``g = omega = p_w / (p_w + p_l)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from .._validate import frozen, prompt_weights
from ..data import PreferenceData, check_data, check_rng
from ..errors import InvalidParameterError, ShapeMismatchError
from ..numbers import as_array, common_kind, is_exact, to_float
from ..preferences import validate_preference_stack
from ..simplex import check_K, random_model, validate_model
from .common import check_count, unit_interval

__all__ = [
    "UnpairedData",
    "UnpairedDataset",
    "desirability_preferences",
    "unpaired_preference_data",
    "desirability_win_rate",
    "unpair",
    "random_unpaired_data",
    "sample_unpaired",
    "empirical_unpaired_data",
]


def _desirability(g: Any) -> np.ndarray:
    arr = unit_interval(g, "g")
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or 0 in arr.shape:
        raise ShapeMismatchError(f"g has shape {arr.shape}, expected (K,) or (M, K)")
    return arr


@dataclass(frozen=True)
class UnpairedData:
    """A validated unpaired-feedback distribution: desirability ``g`` ``(M, K)`` in ``[0, 1]``,
    the response distribution ``mu`` ``(M, K)``, prompt weights ``rho`` (default uniform); a
    ``(K,)`` ``g`` with a ``(K,)`` ``mu`` is one prompt.  Exact or float, read-only.

    >>> D = UnpairedData(g=[1, Fraction(1, 2), 0], mu=[Fraction(1, 3)] * 3)
    >>> D.M, D.K, desirability_preferences(D.g)[0, 0, 2]
    (1, 3, Fraction(1, 1))
    """

    g: Any
    mu: Any
    rho: Any = None
    M: int = field(init=False)
    K: int = field(init=False)

    def __post_init__(self) -> None:
        g = _desirability(self.g)
        M, K = g.shape
        mu = validate_model(self.mu, name="mu", K=K)
        if mu.shape[0] != M:
            raise ShapeMismatchError(f"mu has {mu.shape[0]} prompts but g has {M}")
        rho = prompt_weights(self.rho, M, is_exact(g) and is_exact(mu), "g")
        g, mu, rho = common_kind(g, mu, rho)
        for name, value in (("g", g), ("mu", mu), ("rho", rho)):
            object.__setattr__(self, name, frozen(value))
        object.__setattr__(self, "M", M)
        object.__setattr__(self, "K", K)

    @property
    def exact(self) -> bool:
        return is_exact(self.g)


def _check(data: Any) -> UnpairedData:
    if not isinstance(data, UnpairedData):
        raise InvalidParameterError(
            f"data is {data!r:.60} (type {type(data).__name__}), expected an UnpairedData"
        )
    return data


def desirability_preferences(g: Any) -> np.ndarray:
    """``P[x, i, j] = 1/2 + (g_x(i) - g_x(j)) / 2`` ``(M, K, K)`` (module docstring), validated;
    exact for exact ``g``.

    >>> desirability_preferences([Fraction(3, 4), Fraction(1, 4)])[0].tolist()
    [[Fraction(1, 2), Fraction(3, 4)], [Fraction(1, 4), Fraction(1, 2)]]
    """
    arr = _desirability(g)
    return validate_preference_stack(Fraction(1, 2) + (arr[:, :, None] - arr[:, None, :]) / 2)


def unpaired_preference_data(data: UnpairedData) -> PreferenceData:
    """:class:`~theory.data.PreferenceData` with ``P`` = :func:`desirability_preferences` and
    ``mu0 = mu1 = mu``."""
    _check(data)
    return PreferenceData(P=desirability_preferences(data.g), mu0=data.mu, rho=data.rho)


def desirability_win_rate(g: Any, pi: Any, q: Any, rho: Any = None) -> Any:
    """``1/2 + sum_x rho_x (E_{pi_x} g_x - E_{q_x} g_x) / 2``: the win rate of ``pi`` against
    ``q`` under the implied ``P`` (the identity of the module docstring); exact for exact input.

    >>> desirability_win_rate([1, 0], [1, 0], [Fraction(1, 2)] * 2)
    Fraction(3, 4)
    """
    arr = _desirability(g)
    M, K = arr.shape
    p = validate_model(pi, name="pi", K=K)
    qq = validate_model(q, name="q", K=K)
    for name, m in (("pi", p), ("q", qq)):
        if m.shape[0] != M:
            raise ShapeMismatchError(f"{name} has {m.shape[0]} prompts but g has {M}")
    r = prompt_weights(rho, M, True, "g")
    arr, p, qq, r = common_kind(arr, p, qq, r)
    diff = np.sum(r * np.sum((p - qq) * arr, axis=1))
    out = Fraction(1, 2) + diff / 2 if is_exact(arr) else 0.5 + float(diff) / 2
    return out


def unpair(data: PreferenceData) -> UnpairedData:
    """Pairwise data as unpaired feedback, as TRL unpairs a preference dataset (each chosen
    response desirable, each rejected one undesirable): ``mu = (mu0 + mu1) / 2`` and
    ``g = p_w / (p_w + p_l) = omega`` (``1/2`` where ``mu = 0``).  Exact for exact data.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)
    >>> unpair(D).g.tolist()
    [[Fraction(3, 4), Fraction(1, 4)]]
    """
    check_data(data)
    P, mu0, mu1 = data.P, data.mu0, data.mu1
    pw = mu1 * np.einsum("xij,xj->xi", P, mu0) + mu0 * np.einsum("xij,xj->xi", P, mu1)
    shown = mu0 + mu1
    half: Any = Fraction(1, 2) if data.exact else 0.5
    g = np.where(shown == 0, half, pw / np.where(shown == 0, 1, shown))
    if data.exact:
        g = np.array(g, dtype=object)
    return UnpairedData(g=g, mu=shown / 2, rho=data.rho)


def random_unpaired_data(
    rng: np.random.Generator, M: int, K: int, *, exact: bool = False, denominator: int = 6
) -> UnpairedData:
    """A random :class:`UnpairedData`: ``g`` uniform on ``[0, 1]`` (exact: ``i / denominator``,
    ``i = 0..denominator``), ``mu`` and ``rho`` random of the same kind."""
    check_rng(rng)
    check_K(M)
    check_K(K)
    if exact:
        ints = rng.integers(0, denominator + 1, size=(M, K))
        g: Any = np.array([[Fraction(int(v), denominator) for v in row] for row in ints])
    else:
        g = rng.random((M, K))
    mu = random_model(rng, M, K, exact=exact)
    rho = random_model(rng, 1, M, exact=exact)[0]
    return UnpairedData(g=g, mu=mu, rho=rho)


@dataclass(frozen=True)
class UnpairedDataset:
    """``n`` sampled feedback events: prompts ``x``, responses ``y`` and marks ``b`` (1 =
    desirable), integer arrays of length ``n``; ``M``, ``K`` the sizes drawn from."""

    x: np.ndarray
    y: np.ndarray
    b: np.ndarray
    M: int
    K: int

    @property
    def n(self) -> int:
        return int(len(self.x))


def sample_unpaired(data: UnpairedData, n: int, rng: np.random.Generator) -> UnpairedDataset:
    """Draw ``n`` events ``(x, y, b)`` from ``data`` with the seeded generator ``rng``.

    >>> D = UnpairedData(g=[1, 0], mu=[Fraction(1, 2)] * 2)
    >>> ds = sample_unpaired(D, 6, np.random.default_rng(0))
    >>> bool(np.all(ds.b == (ds.y == 0)))
    True
    """
    _check(data)
    n = check_count(n)
    check_rng(rng)
    g, mu, rho = (to_float(a) for a in (data.g, data.mu, data.rho))
    x = rng.choice(data.M, size=n, p=rho)
    cdf = np.cumsum(mu, axis=1)
    y = np.minimum((rng.random(n)[:, None] >= cdf[x]).sum(axis=1), data.K - 1)
    b = (rng.random(n) < g[x, y]).astype(np.int64)
    return UnpairedDataset(x=x, y=y, b=b, M=data.M, K=data.K)


def empirical_unpaired_data(dataset: UnpairedDataset) -> UnpairedData:
    """The exact empirical :class:`UnpairedData` of a sample: ``mu`` the response frequencies
    per prompt (uniform for a prompt never seen), ``g`` the share marked desirable (``1/2`` for
    a response never seen), ``rho`` the prompt frequencies."""
    if not isinstance(dataset, UnpairedDataset):
        raise InvalidParameterError(
            f"dataset of type {type(dataset).__name__}, expected UnpairedDataset"
        )
    if dataset.n == 0:
        raise InvalidParameterError("the dataset is empty: no empirical distribution exists")
    M, K = dataset.M, dataset.K
    seen = np.zeros((M, K), dtype=np.int64)
    good = np.zeros((M, K), dtype=np.int64)
    np.add.at(seen, (dataset.x, dataset.y), 1)
    np.add.at(good, (dataset.x, dataset.y), dataset.b)
    g = np.empty((M, K), dtype=object)
    mu = np.empty((M, K), dtype=object)
    for x in range(M):
        tot = int(seen[x].sum())
        for y in range(K):
            g[x, y] = Fraction(int(good[x, y]), int(seen[x, y])) if seen[x, y] else Fraction(1, 2)
            mu[x, y] = Fraction(int(seen[x, y]), tot) if tot else Fraction(1, K)
    rho = as_array([Fraction(int(c), dataset.n) for c in np.bincount(dataset.x, minlength=M)])
    return UnpairedData(g=g, mu=mu, rho=rho)
