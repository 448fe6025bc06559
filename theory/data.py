"""The preference data distribution ``D = (rho, mu0, mu1, P)`` and finite datasets drawn from it.

Sampling (docs/theory.md, Setting): ``x ~ rho``, ``y0 ~ mu0(.|x)``, ``y1 ~ mu1(.|x)`` independently,
label ``l ~ Bernoulli(P_x[y1, y0])`` (``l = 1`` means ``y1`` was preferred).  Usually
``mu0 = mu1 = mu``; the general case is supported throughout.

The *winner-loser distribution* ``w[x, i, j] = Pr(x, y_w = i, y_l = j)`` is what DPO, SFT and the
Bradley-Terry fit see of ``D``:

    w[x, i, j] = rho_x * P_x[i, j] * (mu1_x(i) mu0_x(j) + mu0_x(i) mu1_x(j)),

and a sampled dataset has an empirical counterpart with the same shape, so population and
finite-sample methods share one input type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from ._validate import data_marginals, frozen
from .errors import InvalidParameterError
from .numbers import common_kind, is_exact, to_float
from .preferences import FAMILIES, random_family_matrix, validate_preference_stack
from .simplex import random_distribution, random_model

__all__ = [
    "PreferenceData",
    "PreferenceDataset",
    "EmpiricalPreferences",
    "data_anchor",
    "winner_loser_distribution",
    "sample_dataset",
    "empirical_distribution",
    "random_preference_data",
    "check_data",
    "check_dataset",
    "check_rng",
]


@dataclass(frozen=True)
class PreferenceData:
    """A validated preference data distribution over ``M`` prompts and ``K`` responses.

    Fields after construction: ``P`` of shape ``(M, K, K)``, ``mu0`` and ``mu1`` of shape
    ``(M, K)``, ``rho`` of shape ``(M,)``; all exact or all float.  A ``(K, K)`` ``P`` with
    ``(K,)`` distributions is read as a single prompt; ``mu1`` defaults to ``mu0`` and ``rho`` to
    uniform.  The stored arrays are read-only copies.

    >>> D = PreferenceData(P=[[Fraction(1, 2), 1], [0, Fraction(1, 2)]], mu0=[Fraction(1, 2)] * 2)
    >>> D.M, D.K, D.rho.tolist()
    (1, 2, [Fraction(1, 1)])
    """

    P: Any
    mu0: Any
    mu1: Any = None
    rho: Any = None
    M: int = field(init=False)
    K: int = field(init=False)

    def __post_init__(self) -> None:
        P = validate_preference_stack(self.P)
        M, K = P.shape[0], P.shape[1]
        mu0, mu1, rho = data_marginals(self.mu0, self.mu1, self.rho, M, K, is_exact(P), "P")
        P, mu0, mu1, rho = common_kind(P, mu0, mu1, rho)
        for name, value in (("P", P), ("mu0", mu0), ("mu1", mu1), ("rho", rho)):
            object.__setattr__(self, name, frozen(value))
        object.__setattr__(self, "M", M)
        object.__setattr__(self, "K", K)

    @property
    def exact(self) -> bool:
        """True when every array is exact (Fractions)."""
        return is_exact(self.P)

    @property
    def symmetric(self) -> bool:
        """True when ``mu0 = mu1`` (a single data distribution ``mu``)."""
        return bool(np.all(self.mu0 == self.mu1))


def check_data(data: Any, name: str = "data") -> PreferenceData:
    """``data`` itself when it is a :class:`PreferenceData`, else
    :class:`~theory.errors.InvalidParameterError` (the boundary check of every function that
    takes a data distribution).

    >>> check_data(None)
    Traceback (most recent call last):
    ...
    theory.errors.InvalidParameterError: data is None (type NoneType), expected a PreferenceData
    """
    if not isinstance(data, PreferenceData):
        raise InvalidParameterError(
            f"{name} is {data!r:.60} (type {type(data).__name__}), expected a PreferenceData"
        )
    return data


def check_dataset(dataset: Any, name: str = "dataset") -> PreferenceDataset:
    """``dataset`` itself when it is a :class:`PreferenceDataset`, else
    :class:`~theory.errors.InvalidParameterError`."""
    if not isinstance(dataset, PreferenceDataset):
        raise InvalidParameterError(
            f"{name} is {dataset!r:.60} (type {type(dataset).__name__}), expected a "
            "PreferenceDataset"
        )
    return dataset


def check_rng(rng: Any) -> np.random.Generator:
    """``rng`` itself when it is a seeded :class:`numpy.random.Generator`, else
    :class:`~theory.errors.InvalidParameterError` (results must be reproducible, so there is no
    default generator)."""
    if not isinstance(rng, np.random.Generator):
        raise InvalidParameterError(
            f"rng is {rng!r:.60} (type {type(rng).__name__}), expected a numpy Generator "
            "(np.random.default_rng(seed))"
        )
    return rng


def data_anchor(data: PreferenceData) -> np.ndarray:
    """The model the data's win rate is measured against: ``(mu0 + mu1) / 2``, shape ``(M, K)``.

    With ``mu0 = mu1 = mu`` this is ``mu`` itself.  For ``mu0 != mu1`` it is our formalization's
    choice (docs/theory.md): each data response counts at the rate at which it occurs in a pair.
    """
    check_data(data)
    if data.symmetric:
        return np.array(data.mu0, copy=True)
    return (data.mu0 + data.mu1) / 2


def winner_loser_distribution(data: PreferenceData) -> np.ndarray:
    """``w[x, i, j] = Pr(x, y_w = i, y_l = j) = rho_x P_x[i, j] (mu1_x(i) mu0_x(j) + mu0_x(i)
    mu1_x(j))``, shape ``(M, K, K)``, summing to 1; exact when ``data`` is.

    >>> D = PreferenceData(P=[[Fraction(1, 2), 1], [0, Fraction(1, 2)]], mu0=[Fraction(1, 2)] * 2)
    >>> winner_loser_distribution(D)[0].tolist()
    [[Fraction(1, 4), Fraction(1, 2)], [Fraction(0, 1), Fraction(1, 4)]]
    """
    check_data(data)
    pair = data.mu1[:, :, None] * data.mu0[:, None, :] + data.mu0[:, :, None] * data.mu1[:, None, :]
    return data.rho[:, None, None] * data.P * pair


@dataclass(frozen=True)
class PreferenceDataset:
    """A finite sample ``(x, y0, y1, label)`` of ``n`` comparisons (integer arrays of length n).

    ``label[t] = 1`` means ``y1[t]`` was preferred to ``y0[t]``.  ``M`` and ``K`` record the sizes
    of the distribution it was drawn from.
    """

    x: np.ndarray
    y0: np.ndarray
    y1: np.ndarray
    label: np.ndarray
    M: int
    K: int

    @property
    def n(self) -> int:
        return int(len(self.x))

    @property
    def winners(self) -> np.ndarray:
        """``y_w``: the preferred response of each comparison."""
        return np.where(self.label == 1, self.y1, self.y0)

    @property
    def losers(self) -> np.ndarray:
        """``y_l``: the dispreferred response of each comparison."""
        return np.where(self.label == 1, self.y0, self.y1)


def _sample_rows(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One categorical draw from ``probs[rows[t]]`` for each t (inverse CDF)."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(len(rows))
    return np.minimum((u[:, None] >= cdf[rows]).sum(axis=1), probs.shape[1] - 1)


def sample_dataset(data: PreferenceData, n: int, rng: np.random.Generator) -> PreferenceDataset:
    """Draw ``n`` comparisons from ``data`` with the seeded generator ``rng``.

    >>> D = PreferenceData(P=[[Fraction(1, 2), 1], [0, Fraction(1, 2)]], mu0=[Fraction(1, 2)] * 2)
    >>> ds = sample_dataset(D, 5, np.random.default_rng(0))
    >>> bool(np.all(ds.winners <= ds.losers))  # response 0 always beats 1
    True
    """
    check_data(data)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise InvalidParameterError(f"n = {n!r}, expected a non-negative integer")
    check_rng(rng)
    P, mu0, mu1, rho = (to_float(a) for a in (data.P, data.mu0, data.mu1, data.rho))
    x = rng.choice(data.M, size=n, p=rho)
    y0 = _sample_rows(rng, mu0, x)
    y1 = _sample_rows(rng, mu1, x)
    label = (rng.random(n) < P[x, y1, y0]).astype(np.int64)
    return PreferenceDataset(x=x, y0=y0, y1=y1, label=label, M=data.M, K=data.K)


@dataclass(frozen=True)
class EmpiricalPreferences:
    """The empirical distribution of a dataset, exact: prompt frequencies ``rho`` ``(M,)``, the
    empirical marginals ``mu0`` and ``mu1`` ``(M, K)`` (uniform for a prompt never seen), and the
    empirical winner-loser distribution ``winner_loser`` ``(M, K, K)``."""

    rho: np.ndarray
    mu0: np.ndarray
    mu1: np.ndarray
    winner_loser: np.ndarray


def _normalised_counts(counts: np.ndarray, total: int) -> np.ndarray:
    return np.array([Fraction(int(c), total) for c in counts.ravel()], dtype=object).reshape(
        counts.shape
    )


def empirical_distribution(dataset: PreferenceDataset) -> EmpiricalPreferences:
    """The exact empirical distribution implied by ``dataset`` (see :class:`EmpiricalPreferences`).

    Raises :class:`~theory.errors.InvalidParameterError` for an empty dataset.
    """
    check_dataset(dataset)
    if dataset.n == 0:
        raise InvalidParameterError("the dataset is empty: no empirical distribution exists")
    M, K = dataset.M, dataset.K
    x_counts = np.bincount(dataset.x, minlength=M)
    rho = _normalised_counts(x_counts, dataset.n)
    marginals = []
    for ys in (dataset.y0, dataset.y1):
        counts = np.zeros((M, K), dtype=np.int64)
        np.add.at(counts, (dataset.x, ys), 1)
        rows = [
            _normalised_counts(counts[x], int(x_counts[x]))
            if x_counts[x]
            else np.array([Fraction(1, K)] * K, dtype=object)
            for x in range(M)
        ]
        marginals.append(np.stack(rows))
    wl = np.zeros((M, K, K), dtype=np.int64)
    np.add.at(wl, (dataset.x, dataset.winners, dataset.losers), 1)
    return EmpiricalPreferences(
        rho=rho, mu0=marginals[0], mu1=marginals[1], winner_loser=_normalised_counts(wl, dataset.n)
    )


def random_preference_data(
    rng: np.random.Generator,
    M: int,
    K: int,
    *,
    family: str | None = None,
    exact: bool = False,
    symmetric: bool = True,
    zeros: bool = False,
) -> PreferenceData:
    """A random data distribution: ``P_x`` from ``family`` (random among
    :data:`~theory.preferences.FAMILIES` per prompt when None), ``mu0`` (and ``mu1 = mu0`` when
    ``symmetric``, else an independent draw) and ``rho`` random, exact or float."""
    check_rng(rng)
    fams = [family or FAMILIES[int(rng.integers(len(FAMILIES)))] for _ in range(M)]
    P = np.stack([random_family_matrix(rng, K, f, exact=exact) for f in fams])
    mu0 = random_model(rng, M, K, zeros=zeros, exact=exact)
    mu1 = None if symmetric else random_model(rng, M, K, zeros=zeros, exact=exact)
    rho = random_distribution(rng, M, exact=exact)
    return PreferenceData(P=P, mu0=mu0, mu1=mu1, rho=rho)
