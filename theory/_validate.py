"""Validation shared by the public functions: a preference stack and the models measured on it.

Internal to :mod:`theory` (the functions here are called by the public boundary of several
modules, never by users): they turn user input into validated arrays of one kind, or raise a
named :class:`~theory.errors.TheoryError`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from .errors import ShapeMismatchError
from .numbers import as_array, common_kind, is_exact
from .preferences import validate_preference_stack
from .simplex import validate_distribution, validate_model

__all__ = ["prepare_models"]


def prepare_models(
    P: Any, models: dict[str, Any], rho: Any
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, bool]:
    """Validate ``P`` and the models against it; return ``(P3, models2, rho, single)`` of one kind.

    ``single`` is True when ``P`` was a single ``(K, K)`` matrix.
    """
    P_arr = as_array(P, name="P")
    single = P_arr.ndim == 2
    P3 = validate_preference_stack(P_arr)
    M, K = P3.shape[0], P3.shape[1]
    arrays = []
    for name, m in models.items():
        m_arr = as_array(m, name=name)
        if single and m_arr.ndim != 1:
            raise ShapeMismatchError(
                f"{name} has shape {m_arr.shape}; P is (K, K) so expected (K,)"
            )
        m2 = validate_model(m_arr, name=name, K=K)
        if m2.shape[0] != M:
            raise ShapeMismatchError(f"{name} has {m2.shape[0]} prompts but P has {M}")
        arrays.append(m2)
    if rho is None and not is_exact(P3):
        rho_arr = np.full(M, 1.0 / M)  # equals to_float of the exact weights (both round 1/M)
    elif rho is None:
        rho_arr = as_array([Fraction(1, M)] * M)
    else:
        if single:
            raise ShapeMismatchError("rho was given but P is a single (K, K) matrix")
        rho_arr = validate_distribution(rho, name="rho")
        if rho_arr.shape[0] != M:
            raise ShapeMismatchError(f"rho has {rho_arr.shape[0]} prompts but P has {M}")
    P3, rho_arr, *arrays = common_kind(P3, rho_arr, *arrays)
    return P3, arrays, rho_arr, single
