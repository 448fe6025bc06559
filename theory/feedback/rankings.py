"""Listwise preference data: distributions over rankings of ``k`` responses, and the pairwise
``P`` they imply.

A *ranking* is a list of ``k >= 2`` distinct responses in ``0..K-1``, best first.  A ranking
distribution holds ``N`` rankings (an ``(N, k)`` integer array) and, per prompt, their
probabilities (``(M, N)``, rows summing to 1).  The implied pairwise preference matrix is

    P_x[i, j] = Pr(i ranked above j | i and j both in the list, x)

(``1/2`` for a pair never listed together); with full rankings (``k = K``) this is
``Pr(i ranked above j)``.  Plackett-Luce with strengths ``s > 0`` ranks a listed set ``S`` as
``prod_t s_{sigma_t} / sum_{u >= t} s_{sigma_u}``; here the listed set is drawn by ``k``
successive draws without replacement from ``mu`` (the LiPO setting: ``k`` responses sampled,
then ranked).  Under Plackett-Luce the pairwise marginals are Bradley-Terry with the same
strengths, whatever ``k`` and ``mu`` (claim ``PL-marginals-are-BT``, docs/zoo_data.md).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from .._validate import frozen, prompt_weights
from ..data import PreferenceData, check_rng
from ..errors import InvalidParameterError, NotARankingError, ShapeMismatchError
from ..numbers import as_array, common_kind, format_number, is_exact, to_float
from ..preferences import validate_preference_stack
from ..simplex import check_K, validate_distribution, validate_model
from .common import check_count

__all__ = [
    "RankingData",
    "RankingDataset",
    "validate_rankings",
    "plackett_luce_probability",
    "plackett_luce_rankings",
    "above_weights",
    "pairwise_preferences",
    "list_marginal",
    "ranking_preference_data",
    "random_ranking_data",
    "sample_rankings",
    "empirical_ranking_data",
]


def validate_rankings(rankings: Any, K: int) -> np.ndarray:
    """``rankings`` as an ``(N, k)`` int array of distinct responses in ``0..K-1`` per row
    (``k >= 2``), else :class:`~theory.errors.NotARankingError` naming the row.

    >>> validate_rankings([[0, 2, 1], [1, 0, 2]], 3).shape
    (2, 3)
    >>> validate_rankings([[0, 0]], 3)
    Traceback (most recent call last):
    ...
    theory.errors.NotARankingError: ranking 0 = [0, 0] repeats response 0
    """
    check_K(K, minimum=2)
    try:
        raw = np.asarray(rankings, dtype=object)
    except ValueError:
        raise NotARankingError("the rankings have different lengths") from None
    if raw.ndim != 2 or raw.shape[0] == 0 or raw.shape[1] < 2:
        raise NotARankingError(f"rankings have shape {raw.shape}, expected (N, k), N >= 1, k >= 2")
    for n, row in enumerate(raw.tolist()):
        for y in row:
            if isinstance(y, bool) or not isinstance(y, int | np.integer) or not 0 <= y < K:
                raise NotARankingError(
                    f"ranking {n} = {row} holds {y!r}, not a response 0..{K - 1}"
                )
        seen = set()
        for y in row:
            if y in seen:
                raise NotARankingError(f"ranking {n} = {row} repeats response {y}")
            seen.add(y)
    return np.array(raw.tolist(), dtype=np.int64)


@dataclass(frozen=True)
class RankingData:
    """A validated ranking distribution (module docstring): ``rankings`` ``(N, k)``, ``probs``
    ``(M, N)`` (a ``(N,)`` vector is one prompt), ``K`` responses, prompt weights ``rho``
    (default uniform); exact or float, read-only.

    >>> D = RankingData([[0, 1], [1, 0]], [Fraction(3, 4), Fraction(1, 4)], K=2)
    >>> D.M, D.N, D.k, pairwise_preferences(D)[0, 0, 1]
    (1, 2, 2, Fraction(3, 4))
    """

    rankings: Any
    probs: Any
    K: int
    rho: Any = None
    M: int = field(init=False)

    def __post_init__(self) -> None:
        R = validate_rankings(self.rankings, self.K)
        p = validate_model(self.probs, name="probs", K=R.shape[0])
        M = p.shape[0]
        rho = prompt_weights(self.rho, M, is_exact(p), "probs")
        p, rho = common_kind(p, rho)
        object.__setattr__(self, "rankings", frozen(R))
        object.__setattr__(self, "probs", frozen(p))
        object.__setattr__(self, "rho", frozen(rho))
        object.__setattr__(self, "M", M)

    @property
    def N(self) -> int:
        """The number of rankings."""
        return int(self.rankings.shape[0])

    @property
    def k(self) -> int:
        """The list length."""
        return int(self.rankings.shape[1])

    @property
    def exact(self) -> bool:
        return is_exact(self.probs)


def _check_data(data: Any) -> RankingData:
    if not isinstance(data, RankingData):
        raise InvalidParameterError(
            f"data is {data!r:.60} (type {type(data).__name__}), expected a RankingData"
        )
    return data


def _positive_strengths(s: Any) -> np.ndarray:
    arr = as_array(s, name="s")
    if arr.ndim != 1 or arr.shape[0] < 2:
        raise ShapeMismatchError(f"s has shape {arr.shape}, expected (K,) with K >= 2")
    bad = np.argwhere(arr <= 0)
    if len(bad):
        i = int(bad[0][0])
        raise InvalidParameterError(f"s[{i}] = {format_number(arr[i])}, expected > 0")
    return arr


def plackett_luce_probability(s: Any, ranking: Any) -> Any:
    """``prod_t s_{sigma_t} / sum_{u >= t} s_{sigma_u}``: the Plackett-Luce probability of
    ``ranking`` (best first) of its listed set; exact for rational ``s``.

    >>> plackett_luce_probability([1, 2, 3], [2, 1, 0])   # 3/6 * 2/3
    Fraction(1, 3)
    """
    arr = _positive_strengths(s)
    sigma = validate_rankings([ranking], len(arr))[0]
    out: Any = Fraction(1) if is_exact(arr) else 1.0
    for t in range(len(sigma) - 1):
        out = out * arr[sigma[t]] / sum(arr[sigma[u]] for u in range(t, len(sigma)))
    return out


def _draw_probability(mu: np.ndarray, order: tuple[int, ...]) -> Any:
    """Probability of drawing ``order`` by successive draws without replacement from ``mu``."""
    out: Any = Fraction(1) if is_exact(mu) else 1.0
    left: Any = Fraction(1) if is_exact(mu) else 1.0
    for y in order:
        out = out * mu[y] / left
        left = left - mu[y]
    return out


def plackett_luce_rankings(s: Any, k: int | None = None, mu: Any = None) -> RankingData:
    """The one-prompt :class:`RankingData` of Plackett-Luce with strengths ``s`` over lists of
    ``k`` responses (default ``K``: full rankings) whose set is drawn by ``k`` successive draws
    without replacement from ``mu`` (default uniform; at least ``k`` responses in its support).
    Every ranking of positive probability is listed; exact for rational input.

    >>> D = plackett_luce_rankings([1, 2, 3], k=2)
    >>> D.N, pairwise_preferences(D)[0, 0, 2]
    (6, Fraction(1, 4))
    """
    arr = _positive_strengths(s)
    K = len(arr)
    kk = K if k is None else check_count(k, "k", minimum=2)
    if kk > K:
        raise InvalidParameterError(f"k = {kk}, expected at most K = {K}")
    m = as_array([Fraction(1, K)] * K) if mu is None else validate_distribution(mu, name="mu")
    if m.shape[0] != K:
        raise ShapeMismatchError(f"mu has {m.shape[0]} responses, expected K = {K}")
    if int(np.count_nonzero(m)) < kk:
        raise InvalidParameterError(
            f"mu has {int(np.count_nonzero(m))} responses in its support, fewer than k = {kk}"
        )
    arr, m = common_kind(arr, m)
    support = [y for y in range(K) if m[y] != 0]
    sets: dict[tuple[int, ...], Any] = {}
    for order in itertools.permutations(support, kk):
        key = tuple(sorted(order))
        sets[key] = sets.get(key, 0) + _draw_probability(m, order)
    rankings, probs = [], []
    for subset, p_set in sets.items():
        for sigma in itertools.permutations(subset):
            rankings.append(list(sigma))
            probs.append(p_set * plackett_luce_probability(arr, sigma))
    return RankingData(rankings, probs, K=K)


def above_weights(data: RankingData) -> np.ndarray:
    """``c[x, i, j] = Pr(i and j both listed, i ranked above j | x)``, ``(M, K, K)``; exact
    for exact data.  (The comparison graph of a Plackett-Luce fit: its MLE exists iff the
    graph of ``c > 0`` has strongly connected weak components, Hunter 2004.)

    >>> D = RankingData([[0, 1, 2]], [1], K=3)
    >>> above_weights(D)[0].tolist()[0]
    [Fraction(0, 1), Fraction(1, 1), Fraction(1, 1)]
    """
    _check_data(data)
    K, R, p = data.K, data.rankings, data.probs
    zero = Fraction(0) if data.exact else 0.0
    c = np.full((data.M, K, K), zero, dtype=object if data.exact else float)
    for n in range(data.N):
        for a in range(data.k):
            for b in range(a + 1, data.k):
                c[:, R[n, a], R[n, b]] = c[:, R[n, a], R[n, b]] + p[:, n]
    return c


def pairwise_preferences(data: RankingData) -> np.ndarray:
    """The implied ``P`` ``(M, K, K)`` (module docstring), validated; exact for exact data.

    >>> P = pairwise_preferences(plackett_luce_rankings([1, 2, 3]))
    >>> P[0, 0, 1], P[0, 1, 2]
    (Fraction(1, 3), Fraction(2, 5))
    """
    c = above_weights(data)
    both = c + np.swapaxes(c, 1, 2)
    half: Any = Fraction(1, 2) if data.exact else 0.5
    P = np.where(both == 0, half, c / np.where(both == 0, 1, both))
    if data.exact:
        P = np.array(P, dtype=object)
    idx = np.arange(data.K)
    P[:, idx, idx] = half
    return validate_preference_stack(P)


def list_marginal(data: RankingData) -> np.ndarray:
    """``m[x, y] = Pr(y listed | x) / k`` ``(M, K)``: how often each response occurs in the
    lists (the anchor a win rate on listwise data is measured against).

    >>> list_marginal(plackett_luce_rankings([1, 2, 3], k=2))[0].tolist()
    [Fraction(1, 3), Fraction(1, 3), Fraction(1, 3)]
    """
    _check_data(data)
    zero = Fraction(0) if data.exact else 0.0
    m = np.full((data.M, data.K), zero, dtype=object if data.exact else float)
    for n in range(data.N):
        for y in data.rankings[n]:
            m[:, y] = m[:, y] + data.probs[:, n]
    return m / data.k


def ranking_preference_data(data: RankingData) -> PreferenceData:
    """:class:`~theory.data.PreferenceData` with the implied ``P`` and ``mu0 = mu1`` the list
    marginal (:func:`list_marginal`), ``rho`` the same."""
    return PreferenceData(P=pairwise_preferences(data), mu0=list_marginal(data), rho=data.rho)


def random_ranking_data(
    rng: np.random.Generator,
    K: int,
    k: int | None = None,
    *,
    model: str = "general",
    exact: bool = False,
) -> RankingData:
    """A random one-prompt ranking distribution over lists of ``k`` (default ``K``):
    ``"plackett_luce"`` (random strengths, ``mu`` uniform) or ``"general"`` (every ``k``-list
    gets a random weight; exact: integers ``0..3``, not all zero)."""
    check_rng(rng)
    check_K(K, minimum=2)
    kk = K if k is None else check_count(k, "k", minimum=2)
    if kk > K:
        raise InvalidParameterError(f"k = {kk}, expected at most K = {K}")
    if model == "plackett_luce":
        if exact:
            return plackett_luce_rankings([int(v) for v in rng.integers(1, 7, size=K)], kk)
        return plackett_luce_rankings(np.exp(rng.normal(size=K)), kk)
    if model != "general":
        raise InvalidParameterError(
            f"ranking model {model!r}, expected 'plackett_luce' or 'general'"
        )
    rankings = [list(r) for r in itertools.permutations(range(K), kk)]
    if exact:
        w = rng.integers(0, 4, size=len(rankings))
        w[int(rng.integers(len(rankings)))] += 1
        probs: Any = [Fraction(int(v), int(w.sum())) for v in w]
    else:
        probs = rng.dirichlet(np.ones(len(rankings)))
    return RankingData(rankings, probs, K=K)


@dataclass(frozen=True)
class RankingDataset:
    """``n`` sampled rankings: prompts ``x`` ``(n,)`` and ``lists`` ``(n, k)`` (best first);
    ``K`` the number of responses, ``M`` of prompts."""

    x: np.ndarray
    lists: np.ndarray
    M: int
    K: int

    @property
    def n(self) -> int:
        return int(len(self.x))


def sample_rankings(data: RankingData, n: int, rng: np.random.Generator) -> RankingDataset:
    """Draw ``n`` rankings from ``data`` with the seeded generator ``rng`` (``x ~ rho``, then a
    ranking from ``probs[x]``).

    >>> ds = sample_rankings(RankingData([[0, 1]], [1], K=2), 3, np.random.default_rng(0))
    >>> ds.lists.tolist()
    [[0, 1], [0, 1], [0, 1]]
    """
    _check_data(data)
    n = check_count(n)
    check_rng(rng)
    p, rho = to_float(data.probs), to_float(data.rho)
    x = rng.choice(data.M, size=n, p=rho)
    cdf = np.cumsum(p, axis=1)
    idx = np.minimum((rng.random(n)[:, None] >= cdf[x]).sum(axis=1), data.N - 1)
    return RankingDataset(x=x, lists=data.rankings[idx], M=data.M, K=data.K)


def empirical_ranking_data(dataset: RankingDataset) -> RankingData:
    """The exact empirical ranking distribution of a sample (the rankings seen, their
    frequencies per prompt; a prompt never seen gets the uniform distribution over them)."""
    if not isinstance(dataset, RankingDataset):
        raise InvalidParameterError(
            f"dataset of type {type(dataset).__name__}, expected RankingDataset"
        )
    if dataset.n == 0:
        raise InvalidParameterError("the dataset is empty: no empirical distribution exists")
    seen = sorted({tuple(int(v) for v in r) for r in dataset.lists})
    pos = {r: i for i, r in enumerate(seen)}
    counts = np.zeros((dataset.M, len(seen)), dtype=np.int64)
    for x, r in zip(dataset.x, dataset.lists, strict=True):
        counts[int(x), pos[tuple(int(v) for v in r)]] += 1
    rows = []
    for x in range(dataset.M):
        tot = int(counts[x].sum())
        rows.append(
            [Fraction(int(c), tot) for c in counts[x]]
            if tot
            else [Fraction(1, len(seen))] * len(seen)
        )
    x_counts = np.bincount(dataset.x, minlength=dataset.M)
    rho = [Fraction(int(c), dataset.n) for c in x_counts]
    return RankingData([list(r) for r in seen], rows, K=dataset.K, rho=rho)
