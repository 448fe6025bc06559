"""The h registry: strictly increasing transforms of preference probabilities.

An h-win rate applies a strictly increasing ``h: [0, 1] -> R u {-inf, +inf}`` to each preference
probability before averaging (THEORY.md, Definitions).  ``identity`` gives the ordinary win rate,
``logit`` the Bradley-Terry reward difference (RLHF), ``log`` a log-win rate.  ``logit`` and ``log``
are infinite at the ends; :func:`apply_h` returns the signed infinity there with no NaN and no
warning.  Users may register their own h; every h is probed for strict increase on a grid of
:data:`PROBE_POINTS` points of ``[0, 1]`` before it is accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InvalidParameterError, NotIncreasingError
from .numbers import as_array, is_exact, to_float

__all__ = [
    "PROBE_POINTS",
    "HFunction",
    "H_REGISTRY",
    "as_h",
    "register_h",
    "apply_h",
]

#: Size of the grid on ``[0, 1]`` on which a user h is checked for strict increase.
PROBE_POINTS = 1001


@dataclass(frozen=True)
class HFunction:
    """A named strictly increasing ``h``.

    ``fn`` maps a float array of probabilities to a float array (``+-inf`` allowed at 0 and 1);
    ``rational=True`` promises that ``fn`` maps Fractions to Fractions, so exact inputs give exact
    h-win rates.
    """

    name: str
    fn: Callable[[Any], Any]
    rational: bool = False

    def __call__(self, p: Any) -> np.ndarray:
        return apply_h(self, p)


def _identity(p: Any) -> Any:
    return p


def _logit(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)


def _log(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(p)


#: The built-in h functions by name.
H_REGISTRY: dict[str, HFunction] = {
    "identity": HFunction("identity", _identity, rational=True),
    "logit": HFunction("logit", _logit),
    "log": HFunction("log", _log),
}


def _probe(h: HFunction) -> None:
    """Raise :class:`NotIncreasingError` unless ``h`` is strictly increasing on the probe grid."""
    grid = np.linspace(0.0, 1.0, PROBE_POINTS)
    values = _apply_float(h, grid)
    if np.any(np.isnan(values)):
        p = grid[np.flatnonzero(np.isnan(values))[0]]
        raise NotIncreasingError(f"h {h.name!r} is NaN at p = {p}")
    steps = np.diff(values)
    bad = np.flatnonzero(~(steps > 0))
    if len(bad):
        a, b = grid[bad[0]], grid[bad[0] + 1]
        raise NotIncreasingError(
            f"h {h.name!r} is not strictly increasing: h({a}) = {values[bad[0]]} >= "
            f"h({b}) = {values[bad[0] + 1]}"
        )


def _apply_float(h: HFunction, p: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        try:
            out = np.asarray(h.fn(p), dtype=np.float64)
            if out.shape != p.shape:
                raise ValueError
        except (TypeError, ValueError):
            out = np.array([float(h.fn(float(v))) for v in p.ravel()]).reshape(p.shape)
    return out


def register_h(name: str, fn: Callable[[Any], Any], *, rational: bool = False) -> HFunction:
    """Register a user h under ``name`` after probing it for strict increase; return it.

    >>> h = register_h("double", lambda p: 2 * p, rational=True)
    >>> apply_h("double", [Fraction(1, 4)]).tolist()
    [Fraction(1, 2)]
    """
    if name in H_REGISTRY and H_REGISTRY[name].fn is not fn:
        raise InvalidParameterError(f"an h named {name!r} is already registered")
    h = HFunction(name, fn, rational)
    _probe(h)
    H_REGISTRY[name] = h
    return h


def as_h(h: str | HFunction | Callable[[Any], Any]) -> HFunction:
    """Resolve a registry name, an :class:`HFunction` or a plain callable to a probed HFunction.

    Raises :class:`~theory.errors.InvalidParameterError` for an unknown name and
    :class:`~theory.errors.NotIncreasingError` for a callable that is not strictly increasing.
    """
    if isinstance(h, HFunction):
        if h.name not in H_REGISTRY or H_REGISTRY[h.name] is not h:
            _probe(h)
        return h
    if isinstance(h, str):
        if h not in H_REGISTRY:
            raise InvalidParameterError(
                f"unknown h {h!r}; registered: {sorted(H_REGISTRY)} (or pass a callable)"
            )
        return H_REGISTRY[h]
    if callable(h):
        hf = HFunction(getattr(h, "__name__", "user h"), h)
        _probe(hf)
        return hf
    raise InvalidParameterError(f"h = {h!r} is neither a registered name nor a callable")


def apply_h(h: str | HFunction | Callable[[Any], Any], p: Any) -> np.ndarray:
    """``h`` applied elementwise to the probabilities ``p``.

    Exact (Fraction) input stays exact when ``h`` is rational; otherwise the result is float, with
    ``+-inf`` (never NaN) where ``h`` is unbounded.

    >>> apply_h("logit", [0.0, 0.5, 1.0])
    array([-inf,   0.,  inf])
    """
    hf = as_h(h)
    arr = as_array(p, name="p")
    if is_exact(arr) and hf.rational:
        flat = [hf.fn(v) for v in arr.ravel()]
        out = as_array(np.array(flat + [None], dtype=object)[:-1].reshape(arr.shape), name="h(p)")
        if not is_exact(out):
            raise InvalidParameterError(f"h {hf.name!r} was declared rational but returned floats")
        return out
    values = _apply_float(hf, to_float(arr))
    if np.any(np.isnan(values)):
        bad = to_float(arr).ravel()[np.flatnonzero(np.isnan(values.ravel()))[0]]
        raise NotIncreasingError(f"h {hf.name!r} returned NaN at p = {bad}")
    return values
