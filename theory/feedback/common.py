"""Validation shared by the data models of :mod:`theory.feedback` (internal to the package).

Each data model validates at construction: arrays of one kind (exact or float), read-only, with
named errors (:mod:`theory.errors`) that name the offending entry.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, NotAProbabilityVectorError, ShapeMismatchError
from ..numbers import as_array, format_number, is_exact
from ..simplex import validate_distribution, validate_model

__all__ = ["frozen", "unit_interval", "data_marginals", "check_count", "default_rho"]


def frozen(a: np.ndarray) -> np.ndarray:
    """A read-only copy of ``a``."""
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


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


def default_rho(M: int, exact: bool) -> np.ndarray:
    """Uniform prompt weights ``rho`` of the given kind."""
    return as_array([Fraction(1, M)] * M) if exact else np.full(M, 1.0 / M)


def data_marginals(
    mu0: Any, mu1: Any, rho: Any, M: int, K: int, exact: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mu0, mu1, rho)`` validated against ``M`` prompts and ``K`` responses (``mu1``
    defaults to ``mu0``, ``rho`` to uniform), as in :class:`theory.data.PreferenceData`."""
    m0 = validate_model(mu0, name="mu0", K=K)
    m1 = m0 if mu1 is None else validate_model(mu1, name="mu1", K=K)
    for name, mu in (("mu0", m0), ("mu1", m1)):
        if mu.shape[0] != M:
            raise ShapeMismatchError(f"{name} has {mu.shape[0]} prompts but the data has {M}")
    if rho is None:
        r = default_rho(M, exact and is_exact(m0) and is_exact(m1))
    else:
        r = validate_distribution(rho, name="rho")
        if r.shape[0] != M:
            raise ShapeMismatchError(f"rho has {r.shape[0]} prompts but the data has {M}")
    return m0, m1, r


def check_count(n: Any, name: str = "n", minimum: int = 0) -> int:
    """``n`` as an int when it is an integer ``>= minimum``, else
    :class:`~theory.errors.InvalidParameterError`."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < minimum:
        raise InvalidParameterError(f"{name} = {n!r}, expected an integer >= {minimum}")
    return int(n)
