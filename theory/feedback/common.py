"""Validation shared by the data models of :mod:`theory.feedback` (internal to the package).

Each data model validates at construction: arrays of one kind (exact or float), read-only, with
named errors (:mod:`theory.errors`) that name the offending entry.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidParameterError, NotAProbabilityVectorError
from ..numbers import as_array, format_number

__all__ = ["unit_interval", "check_count"]


def unit_interval(a: Any, name: str) -> np.ndarray:
    """``a`` read as an array with every entry in ``[0, 1]``, else
    :class:`~theory.errors.NotAProbabilityVectorError` naming the entry.

    >>> unit_interval([Fraction(1, 2), 2], "g")
    Traceback (most recent call last):
    ...
    theory.errors.NotAProbabilityVectorError: g[1] = 2 is outside [0, 1]
    """
    arr = as_array(a, name=name)
    bad = np.argwhere((arr < 0) | (arr > 1))
    if len(bad):
        idx = tuple(int(v) for v in bad[0])
        where = ", ".join(str(i) for i in idx)
        raise NotAProbabilityVectorError(
            f"{name}[{where}] = {format_number(arr[idx])} is outside [0, 1]"
        )
    return arr


def check_count(n: Any, name: str = "n", minimum: int = 0) -> int:
    """``n`` as an int when it is an integer ``>= minimum``, else
    :class:`~theory.errors.InvalidParameterError`."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < minimum:
        raise InvalidParameterError(f"{name} = {n!r}, expected an integer >= {minimum}")
    return int(n)
