"""Evaluations as values: the evaluation type and the h-win rates.

An *evaluation* ``V`` maps a preference data distribution ``D = (rho, mu0, mu1, P)``
(:class:`~theory.data.PreferenceData`) and a model ``pi`` (``(M, K)``) to a number, oriented so
that **higher is better** (a loss ``L`` enters as ``-L``).  The uniqueness theorem of
docs/theory.md says that ``V`` respects both the preferences and the prevalences of ``D`` (the
axioms of :mod:`theory.axioms`) iff ``V(D, pi) = WR_h(pi; a)`` with ``a = (mu0 + mu1) / 2`` the
data anchor (:func:`~theory.data.data_anchor`) and ``h`` strictly increasing:

    WR_h(pi; a) = sum_x rho_x sum_{y, y'} pi_x(y) a_x(y') h(P_x[y, y']).

:func:`h_win_rate_evaluation` builds that evaluation for any ``h`` (the h constructors live in
:mod:`theory.hfuncs`); :data:`theory.catalog.CATALOG` holds evaluations people use or propose
that are *not* h-win rates (claim ``U-catalog``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from numbers import Real
from typing import Any

import numpy as np

from .data import PreferenceData, data_anchor
from .errors import (
    InvalidParameterError,
    NotANumberError,
    ShapeMismatchError,
    TheoryError,
    UndefinedEvaluationError,
    UndefinedWinRateError,
)
from .hfuncs import HFunction, apply_h, as_h
from .numbers import Number, is_exact, scalar, to_float
from .simplex import validate_model

__all__ = [
    "Evaluation",
    "h_win_rate_evaluation",
    "WIN_RATE",
    "evaluate",
]


@dataclass(frozen=True)
class Evaluation:
    """An evaluation ``V(D, pi) -> Number`` (higher is better) with its name and provenance.

    ``name`` identifies it in reports, ``source`` is one line saying where it comes from, ``fn``
    receives a :class:`~theory.data.PreferenceData` and a validated ``(M, K)`` model of the same
    kind (exact or float) and returns a Fraction or a float (``+-inf`` allowed, never NaN);
    ``win_rate_h`` is the ``h`` when the evaluation is an h-win rate by construction (None for the
    catalog).  Calling it validates ``pi`` against ``D``.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)
    >>> WIN_RATE(D, [1, 0])
    Fraction(3, 4)
    """

    name: str
    source: str
    fn: Callable[[PreferenceData, np.ndarray], Number]
    win_rate_h: HFunction | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not callable(self.fn):
            raise InvalidParameterError(
                f"an Evaluation needs a string name and a callable fn, got {self.name!r}, "
                f"{self.fn!r}"
            )

    def __call__(self, data: PreferenceData, pi: Any) -> Number:
        return evaluate(self, data, pi)


def evaluate(evaluation: Evaluation, data: PreferenceData, pi: Any) -> Number:
    """``V(D, pi)``: validate ``pi`` as an ``(M, K)`` model of ``data`` and apply ``evaluation``.

    Raises :class:`~theory.errors.ShapeMismatchError` when ``pi`` does not fit ``data``,
    :class:`~theory.errors.InvalidParameterError` when ``data`` is not a PreferenceData (or the
    evaluation's function raised something other than a :class:`~theory.errors.TheoryError`:
    the message names the evaluation), :class:`~theory.errors.NotANumberError` when it returned
    something other than one real number and :class:`~theory.errors.UndefinedEvaluationError`
    when it returned NaN.
    """
    if not isinstance(evaluation, Evaluation):
        raise InvalidParameterError(
            f"evaluation is a {type(evaluation).__name__}, expected a theory.evaluations.Evaluation"
        )
    if not isinstance(data, PreferenceData):
        raise InvalidParameterError(
            f"data is a {type(data).__name__}, expected a PreferenceData (theory.data)"
        )
    pi_arr = validate_model(pi, name="pi", K=data.K)
    if pi_arr.shape[0] != data.M:
        raise ShapeMismatchError(f"pi has {pi_arr.shape[0]} prompts but the data has {data.M}")
    if data.exact and not is_exact(pi_arr):
        data = PreferenceData(*(to_float(a) for a in (data.P, data.mu0, data.mu1, data.rho)))
    elif not data.exact and is_exact(pi_arr):
        pi_arr = to_float(pi_arr)
    try:
        value = evaluation.fn(data, pi_arr)
    except TheoryError:
        raise
    except Exception as exc:
        raise InvalidParameterError(
            f"evaluation {evaluation.name!r} raised {type(exc).__name__}: {exc}"
        ) from exc
    return _checked_value(evaluation, value)


def _checked_value(evaluation: Evaluation, value: Any) -> Number:
    """An evaluation's return value as a Fraction or a float (``+-inf`` allowed), or a named
    error: NaN is undefined (:class:`~theory.errors.UndefinedEvaluationError`); a complex, a
    string, None or an array is not a value (:class:`~theory.errors.NotANumberError`)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        what = f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else repr(value)
        raise NotANumberError(
            f"evaluation {evaluation.name!r} returned {what} (a {type(value).__name__}); "
            "expected one real number"
        )
    if isinstance(value, int | np.integer):
        return Fraction(int(value))
    out = float(value)
    if math.isnan(out):
        raise UndefinedEvaluationError(f"evaluation {evaluation.name!r} returned NaN")
    return out


# --------------------------------------------------------------------------------------------
# h-win rates


def h_win_rate_evaluation(h: Any = "identity", *, name: str | None = None) -> Evaluation:
    """The evaluation ``V(D, pi) = WR_h(pi; (mu0 + mu1) / 2)`` under ``rho`` for a strictly
    increasing ``h`` (a registry name, an HFunction or a callable).

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[0, 1])
    >>> h_win_rate_evaluation("logit")(D, [1, 0])
    inf
    """
    hf = as_h(h)

    def fn(data: PreferenceData, pi: np.ndarray) -> Number:
        return _wr_h(data, pi, hf)

    return Evaluation(
        name=name or f"WR_{hf.name}",
        source=f"the h-win rate against the data anchor (mu0 + mu1)/2, h = {hf.name}",
        fn=fn,
        win_rate_h=hf,
    )


def _h_values(hf: HFunction, P: np.ndarray) -> np.ndarray:
    """``h(P)`` elementwise (exact when both allow it), through the checked
    :func:`theory.hfuncs.apply_h`: a raising h, non-real values, a wrong shape, NaN or a dip
    between probe points are named errors, never a wrong number."""
    return apply_h(hf, P)


def _wr_h(data: PreferenceData, pi: np.ndarray, hf: HFunction) -> Number:
    """``WR_h(pi; a)`` on validated inputs; the same value as :func:`theory.winrate.h_win_rate`
    (tests/test_evaluations.py compares them) without re-validating or re-probing ``h``."""
    a = data_anchor(data)
    H = _h_values(hf, data.P)
    if is_exact(H) and data.exact:
        total = sum((data.rho[x] * (pi[x] @ H[x] @ a[x]) for x in range(data.M)), Fraction(0))
        return scalar(total, True)
    weights = to_float(data.rho)[:, None, None] * to_float(pi)[:, :, None] * to_float(a)[:, None, :]
    mask = weights > 0
    values = H[mask]
    pos, neg = bool(np.any(values == np.inf)), bool(np.any(values == -np.inf))
    if pos and neg:
        raise UndefinedWinRateError(
            f"WR_h with h = {hf.name!r} puts positive mass on both h = +inf and h = -inf"
        )
    if pos or neg:
        return math.inf if pos else -math.inf
    return float(np.dot(weights[mask], values))


#: The ordinary win rate against the data, ``WR(pi; (mu0 + mu1) / 2)``.
WIN_RATE = h_win_rate_evaluation("identity", name="win rate")
