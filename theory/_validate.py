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

__all__ = ["prepare_models", "prompt_model", "prompt_weights", "data_marginals", "frozen"]


def frozen(a: Any) -> np.ndarray:
    """A read-only copy of ``a`` (what the data models store)."""
    out = np.array(a, copy=True)
    out.flags.writeable = False
    return out


def prompt_model(m: Any, name: str, M: int, K: int, against: str = "the data") -> np.ndarray:
    """``m`` validated as a model of ``M`` prompts over ``K`` responses (``against`` names what
    has ``M`` of them, for the error)."""
    arr = validate_model(m, name=name, K=K)
    if arr.shape[0] != M:
        raise ShapeMismatchError(f"{name} has {arr.shape[0]} prompts but {against} has {M}")
    return arr


def prompt_weights(rho: Any, M: int, exact: bool, against: str) -> np.ndarray:
    """The prompt weights ``rho`` validated against ``M`` prompts (``against`` names what has
    ``M`` of them, for the error), or uniform when None: exact weights when ``exact``, else
    floats (equal to the exact weights converted: both round ``1/M``)."""
    if rho is None:
        return as_array([Fraction(1, M)] * M) if exact else np.full(M, 1.0 / M)
    r = validate_distribution(rho, name="rho")
    if r.shape[0] != M:
        raise ShapeMismatchError(f"rho has {r.shape[0]} prompts but {against} has {M}")
    return r


def data_marginals(
    mu0: Any, mu1: Any, rho: Any, M: int, K: int, exact: bool, against: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mu0, mu1, rho)`` of a data distribution validated against ``M`` prompts and ``K``
    responses (``mu1`` defaults to ``mu0``, ``rho`` to :func:`prompt_weights`' uniform)."""
    m0 = validate_model(mu0, name="mu0", K=K)
    m1 = m0 if mu1 is None else validate_model(mu1, name="mu1", K=K)
    for name, mu in (("mu0", m0), ("mu1", m1)):
        if mu.shape[0] != M:
            raise ShapeMismatchError(f"{name} has {mu.shape[0]} prompts but {against} has {M}")
    return m0, m1, prompt_weights(rho, M, exact, against)


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
    if rho is not None and single:
        raise ShapeMismatchError("rho was given but P is a single (K, K) matrix")
    rho_arr = prompt_weights(rho, M, is_exact(P3), "P")
    P3, rho_arr, *arrays = common_kind(P3, rho_arr, *arrays)
    return P3, arrays, rho_arr, single
