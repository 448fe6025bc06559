"""Instance batches: split a claim's random instances into cells that are built and checked as
arrays, so that a check reads as one flat loop over batches.

:func:`cells` draws, for each of ``n`` instances, one coordinate per axis (``K``, the ``h``, the
``beta``...), one vector draw per axis in the order the axes are given, then yields the non-empty
cells in lexicographic axis order::

    for cell in cells(rng, n, K=range(2, 9), h=H_NAMES):
        P = preference_batch(rng, cell.n, cell.K, ...)   # cell.n instances with this K and h

The draws are ``rng.integers(0, len(axis), size=n)``, which for an axis ``range(a, b)`` is the
same stream as ``rng.integers(a, b, size=n)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Cell", "cells", "split"]


@dataclass(frozen=True)
class Cell:
    """One cell of a batch grid: ``n`` instances (their positions ``index`` among all ``n``
    drawn) sharing the coordinate ``at[axis]`` on every axis; ``cell.K`` reads ``at["K"]``."""

    n: int
    index: np.ndarray
    at: dict[str, Any]

    def __getattr__(self, axis: str) -> Any:
        try:
            return self.__dict__["at"][axis]
        except KeyError:
            raise AttributeError(axis) from None


def cells(rng: np.random.Generator, n: int, **axes: Sequence[Any]) -> Iterator[Cell]:
    """The non-empty cells of ``n`` instances drawn uniformly on the grid of ``axes`` (module
    docstring)."""
    names = list(axes)
    draws = [rng.integers(0, len(axes[a]), size=n) for a in names]
    ranges = [range(len(axes[a])) for a in names]
    for combo in itertools.product(*ranges):
        mask = np.ones(n, dtype=bool)
        for d, i in zip(draws, combo, strict=True):
            mask &= d == i
        index = np.flatnonzero(mask)
        if len(index):
            at = {a: axes[a][i] for a, i in zip(names, combo, strict=True)}
            yield Cell(n=len(index), index=index, at=at)


def split(n: int, shares: Sequence[int]) -> list[int]:
    """``n`` instances split in proportion to integer ``shares`` (largest remainders first,
    ties to the earlier share), summing to ``n``.

    >>> split(10, [1, 1, 1])
    [4, 3, 3]
    """
    total = sum(shares)
    base = [n * s // total for s in shares]
    rest = sorted(range(len(shares)), key=lambda i: -(n * shares[i] % total))
    for i in rest[: n - sum(base)]:
        base[i] += 1
    return base
