"""The h registry: strictly increasing transforms of preference probabilities.

An h-win rate applies a strictly increasing ``h: [0, 1] -> R u {-inf, +inf}`` to each preference
probability before averaging (docs/theory.md, Definitions). ``identity`` gives the ordinary win
rate, ``logit`` the Bradley-Terry reward difference (RLHF), ``log`` a log-win rate. ``logit`` and
``log`` are infinite at the ends; :func:`apply_h` returns the signed infinity there with no NaN and
no warning. Users may register their own h; every h is probed for strict increase on a grid of
:data:`PROBE_POINTS` points of ``[0, 1]`` before it is accepted.

Constructors: :func:`piecewise_linear_h` (rational, exact on Fractions), :func:`random_increasing_h`
(random strictly increasing h for claims U-forward and U-converse) and :func:`step_h` (the
majority step, non-decreasing but not strictly increasing, used by the catalog of
:mod:`theory.catalog`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from numbers import Real
from typing import Any

import numpy as np

from .errors import (
    InvalidParameterError,
    NonFiniteInputError,
    NotANumberError,
    NotIncreasingError,
    ShapeMismatchError,
    TheoryError,
)
from .numbers import as_array, is_exact, to_float

__all__ = [
    "PROBE_POINTS",
    "HFunction",
    "H_REGISTRY",
    "as_h",
    "register_h",
    "apply_h",
    "piecewise_linear_h",
    "step_h",
    "random_increasing_h",
    "RANDOM_H_KINDS",
    "BUILTIN_H",
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


#: The built-in h of :data:`H_REGISTRY` (trusted: not re-checked between probe points).
BUILTIN_H = frozenset(("identity", "logit", "log"))
#: Two probabilities closer than this may share an h value (float rounding), farther ones not.
P_RESOLUTION = 1e-9
#: A decrease of h this small (relative) between two close probabilities is float rounding.
ROUNDING = 1e-12


def _p_text(v: Any) -> str:
    return str(v) if isinstance(v, Fraction) else repr(float(v))


def _call_h(h: HFunction, v: Any) -> Any:
    """``h.fn(v)`` for one probability; a raise becomes a named error saying which h and where."""
    try:
        return h.fn(v)
    except TheoryError:
        raise
    except Exception as exc:
        raise InvalidParameterError(
            f"h {h.name!r} raised {type(exc).__name__} at p = {_p_text(v)}: {exc}"
        ) from exc


def _real_values(h: HFunction, raw: Any, p: np.ndarray) -> np.ndarray:
    """``raw = h(p)`` as a float array of ``p``'s shape, or a named error: complex values with an
    imaginary part (never silently truncated), entries that are not numbers, a wrong shape."""
    at = f" at p = {_p_text(p.item())}" if p.ndim == 0 else ""
    try:
        out = np.asarray(raw)
    except Exception:  # a ragged or otherwise unreadable return value
        raise NotANumberError(f"h {h.name!r} returned {raw!r}{at}, not real numbers") from None
    if out.dtype.kind == "c":
        bad = np.flatnonzero(np.imag(out).ravel() != 0)
        if len(bad):
            k = int(bad[0]) if out.ndim else 0
            where = _p_text(p.ravel()[k]) if p.size > k else "?"
            raise NotANumberError(
                f"h {h.name!r} returned the complex value {out.ravel()[k]} at p = {where}; "
                "h must be real-valued"
            )
        out = np.real(out)
    if out.dtype.kind not in "fiub":
        try:
            out = np.array([float(_real_scalar(h, v, p)) for v in out.ravel()]).reshape(out.shape)
        except (TypeError, ValueError) as exc:
            raise NotANumberError(f"h {h.name!r} returned {raw!r}{at}, not real numbers") from exc
    if out.shape != p.shape:
        raise ShapeMismatchError(
            f"h {h.name!r} returned shape {out.shape} for probabilities of shape {p.shape}{at}"
        )
    return np.asarray(out, dtype=np.float64)


def _real_scalar(h: HFunction, v: Any, p: np.ndarray) -> float:
    if isinstance(v, complex | np.complexfloating):
        if v.imag != 0:
            raise NotANumberError(f"h {h.name!r} returned the complex value {v}; h must be real")
        return float(v.real)
    if isinstance(v, bool | np.bool_) or not isinstance(v, Real):
        raise NotANumberError(f"h {h.name!r} returned {v!r} (a {type(v).__name__}), not a number")
    return float(v)


def _apply_float(h: HFunction, p: np.ndarray) -> np.ndarray:
    """``h(p)`` on a float array: one vectorised call, or one call per entry when ``h`` only
    takes scalars (or returned something unusable vectorised)."""
    with np.errstate(all="ignore"):
        try:
            return _real_values(h, h.fn(p), p)
        except TheoryError:
            if p.ndim == 0:
                raise
        except Exception:  # a scalar-only h (math.log, ...): call it entry by entry below
            pass
        flat = p.ravel()
        values = [_real_values(h, _call_h(h, float(v)), np.asarray(v)) for v in flat]
        return np.array([float(v) for v in values], dtype=np.float64).reshape(p.shape)


@functools.lru_cache(maxsize=512)
def _cached_grid_values(h: HFunction) -> np.ndarray:
    return _grid_values_uncached(h)


def _grid_values_uncached(h: HFunction) -> np.ndarray:
    grid = np.linspace(0.0, 1.0, PROBE_POINTS)
    values = _apply_float(h, grid)
    values.flags.writeable = False
    return values


def _grid_values(h: HFunction) -> np.ndarray:
    """``h`` on the probe grid of :data:`PROBE_POINTS` points of ``[0, 1]`` (cached)."""
    try:
        return _cached_grid_values(h)
    except TypeError:  # an unhashable callable: no cache
        return _grid_values_uncached(h)


def _probe(h: HFunction) -> None:
    """Raise :class:`NotIncreasingError` unless ``h`` is strictly increasing on the probe grid."""
    grid = np.linspace(0.0, 1.0, PROBE_POINTS)
    values = _grid_values(h)
    if np.any(np.isnan(values)):
        p = grid[np.flatnonzero(np.isnan(values))[0]]
        raise NotIncreasingError(f"h {h.name!r} is NaN at p = {p}")
    with np.errstate(invalid="ignore"):  # inf - inf at an unbounded end: NaN, caught below
        steps = np.diff(values)
    bad = np.flatnonzero(~(steps > 0))
    if len(bad):
        a, b = grid[bad[0]], grid[bad[0] + 1]
        raise NotIncreasingError(
            f"h {h.name!r} is not strictly increasing: h({a}) = {values[bad[0]]} >= "
            f"h({b}) = {values[bad[0] + 1]}"
        )


def _check_between(h: HFunction, p: np.ndarray, values: np.ndarray) -> None:
    """Raise :class:`NotIncreasingError` unless ``h`` increases through the probe grid *and* the
    points ``p`` it was just applied to (so an h that dips between probe points is caught where
    it is used).  Float rounding is allowed for (:data:`P_RESOLUTION`, :data:`ROUNDING`)."""
    if h.name in BUILTIN_H and H_REGISTRY.get(h.name) is h:
        return
    ps = np.concatenate([np.linspace(0.0, 1.0, PROBE_POINTS), p.ravel()])
    vs = np.concatenate([_grid_values(h), values.ravel()])
    order = np.argsort(ps, kind="stable")
    ps, vs = ps[order], vs[order]
    with np.errstate(invalid="ignore"):  # inf - inf where h is infinite at both ends: same_inf
        dp, dv = np.diff(ps), np.diff(vs)
        tol = ROUNDING * (1 + np.abs(vs[:-1]))
        same_inf = np.isinf(vs[:-1]) & (vs[:-1] == vs[1:])
        bad = (dp > 0) & ~same_inf & ((dv < -tol) | ((dv <= 0) & (dp > P_RESOLUTION)))
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        raise NotIncreasingError(
            f"h {h.name!r} is not strictly increasing between probe points: "
            f"h({ps[k]!r}) = {vs[k]!r} >= h({ps[k + 1]!r}) = {vs[k + 1]!r}"
        )


#: A rational h's float values may differ from its exact ones by this much (relative).
FLOAT_AGREEMENT = 1e-9


def _check_float_path(h: HFunction, p: np.ndarray, exact_values: np.ndarray) -> None:
    """A rational ``h`` applied to exact ``p`` is also probed in floats at the same points (the
    float path is what float inputs and the probe grid use): it must not fail there (a raise, the
    wrong shape, complex or non-number values: named errors from :func:`_apply_float`), not be
    NaN, and agree with the exact values to :data:`FLOAT_AGREEMENT` (else
    :class:`~theory.errors.InvalidParameterError`: the two paths are two different h)."""
    if h.name in BUILTIN_H and H_REGISTRY.get(h.name) is h:
        return
    floats = _apply_float(h, p)
    nan = np.isnan(floats)
    if np.any(nan):
        raise NotIncreasingError(f"h {h.name!r} is NaN in floats at p = {p[nan].ravel()[0]!r}")
    with np.errstate(invalid="ignore"):
        close = (floats == exact_values) | (
            np.abs(floats - exact_values) <= FLOAT_AGREEMENT * (1 + np.abs(exact_values))
        )
    if not np.all(close):
        k = int(np.flatnonzero(~close.ravel())[0])
        raise InvalidParameterError(
            f"h {h.name!r} gives {floats.ravel()[k]!r} in floats but {exact_values.ravel()[k]!r} "
            f"exactly at p = {p.ravel()[k]!r}: its float and exact paths must agree"
        )


def register_h(name: str, fn: Callable[[Any], Any], *, rational: bool = False) -> HFunction:
    """Register a user h under ``name`` after probing it for strict increase; return it.

    >>> h = register_h("double", lambda p: 2 * p, rational=True)
    >>> apply_h("double", [Fraction(1, 4)]).tolist()
    [Fraction(1, 2)]
    """
    if not isinstance(name, str) or not name:
        raise InvalidParameterError(f"an h needs a non-empty string name, got {name!r}")
    if not callable(fn):
        raise InvalidParameterError(f"h {name!r}: fn = {fn!r} is not callable")
    if not isinstance(rational, bool):
        raise InvalidParameterError(f"h {name!r}: rational = {rational!r}, expected True or False")
    if name in H_REGISTRY and H_REGISTRY[name].fn is not fn:
        raise InvalidParameterError(f"an h named {name!r} is already registered")
    h = HFunction(name, fn, rational)
    _probe(h)
    H_REGISTRY[name] = h
    return h


def as_h(h: str | HFunction | Callable[[Any], Any]) -> HFunction:
    """Resolve a registry name, an :class:`HFunction` or a plain callable to a probed HFunction.

    Raises :class:`~theory.errors.InvalidParameterError` for an unknown name (or a callable that
    raises), :class:`~theory.errors.NotIncreasingError` for a callable that is not strictly
    increasing, :class:`~theory.errors.NotANumberError` for one returning non-real values and
    :class:`~theory.errors.ShapeMismatchError` for one returning the wrong shape.
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
    """``h`` applied elementwise to the probabilities ``p`` (entries in ``[0, 1]``).

    Exact (Fraction) input stays exact when ``h`` is rational; otherwise the result is float, with
    ``+-inf`` (never NaN) where ``h`` is unbounded.  A user ``h`` is checked where it is used: it
    must increase through the probe grid and the points ``p`` together
    (:class:`~theory.errors.NotIncreasingError` otherwise), return real numbers of ``p``'s shape,
    and not raise (each failure a named error saying which h and at which ``p``).  A rational h
    given exact ``p`` is probed in floats at the same points as well: its float path must not
    fail there and must agree with the exact values (:data:`FLOAT_AGREEMENT`).

    >>> apply_h("logit", [0.0, 0.5, 1.0])
    array([-inf,   0.,  inf])
    """
    hf = as_h(h)
    arr = as_array(p, name="p")
    if arr.size and (np.any(arr < 0) or np.any(arr > 1)):
        bad = arr.ravel()[np.flatnonzero((arr.ravel() < 0) | (arr.ravel() > 1))[0]]
        raise InvalidParameterError(f"p = {_p_text(bad)} is not a probability in [0, 1]")
    if is_exact(arr) and hf.rational:
        flat = [_call_h(hf, v) for v in arr.ravel()]
        out = as_array(np.array(flat + [None], dtype=object)[:-1].reshape(arr.shape), name="h(p)")
        if not is_exact(out):
            raise InvalidParameterError(f"h {hf.name!r} was declared rational but returned floats")
        _check_between(hf, to_float(arr), to_float(out))
        _check_float_path(hf, to_float(arr), to_float(out))
        return out
    values = _apply_float(hf, to_float(arr))
    if np.any(np.isnan(values)):
        bad = to_float(arr).ravel()[np.flatnonzero(np.isnan(values.ravel()))[0]]
        raise NotIncreasingError(f"h {hf.name!r} returned NaN at p = {bad}")
    _check_between(hf, to_float(arr), values)
    return values


# --------------------------------------------------------------------------------------------
# h constructors: piecewise-linear, the majority step, random strictly increasing h


def _interpolate(p: Fraction, knots: list[Fraction], values: list[Fraction]) -> Fraction:
    """The piecewise-linear interpolant through ``(knots, values)`` at an exact ``p``."""
    k = next((k for k in range(len(knots) - 1) if p <= knots[k + 1]), None)
    if k is None:
        return values[-1]
    slope = (values[k + 1] - values[k]) / (knots[k + 1] - knots[k])
    return values[k] + slope * (p - knots[k])


def piecewise_linear_h(knots: Any, values: Any, *, name: str = "piecewise linear") -> HFunction:
    """The piecewise-linear ``h`` through ``(knots[k], values[k])``; knots run from 0 to 1.

    Rational (exact on Fractions) when knots and values are Fractions; strictly increasing when
    ``values`` is.  Raises :class:`~theory.errors.InvalidParameterError` for knots that do not run
    strictly from 0 to 1 or values that do not strictly increase.

    >>> h = piecewise_linear_h([0, Fraction(1, 2), 1], [0, Fraction(1, 4), 1])
    >>> h.fn(Fraction(3, 4))
    Fraction(5, 8)
    """
    kn_arr = as_array(knots, name="knots", exact=True)
    va_arr = as_array(values, name="values", exact=True)
    if kn_arr.ndim != 1 or va_arr.ndim != 1:
        raise ShapeMismatchError(
            f"knots and values must be vectors, got shapes {kn_arr.shape} and {va_arr.shape}"
        )
    kn = [Fraction(v) for v in kn_arr]
    va = [Fraction(v) for v in va_arr]
    if len(kn) != len(va) or len(kn) < 2 or kn[0] != 0 or kn[-1] != 1:
        raise InvalidParameterError(f"knots {kn} must run from 0 to 1 and match the values")
    if any(b <= a for a, b in zip(kn, kn[1:], strict=False)) or any(
        b <= a for a, b in zip(va, va[1:], strict=False)
    ):
        raise InvalidParameterError("knots and values must both strictly increase")
    kf = np.array([float(v) for v in kn])
    vf = np.array([float(v) for v in va])

    def fn(p: Any) -> Any:
        if isinstance(p, Fraction):
            return _interpolate(p, kn, va)
        return np.interp(np.asarray(p, dtype=float), kf, vf)

    return HFunction(name, fn, rational=True)


def step_h(p: Any) -> Any:
    """The majority step ``1{p > 1/2} + 1/2 * 1{p = 1/2}``: non-decreasing, **not** strictly
    increasing (so not a valid h; the catalog's "majority win rate" and Copeland score use it).

    >>> step_h(Fraction(2, 3)), step_h(Fraction(1, 2))
    (Fraction(1, 1), Fraction(1, 2))
    """
    if isinstance(p, Fraction):
        return Fraction(1) if p > Fraction(1, 2) else Fraction(1, 2) if p == Fraction(1, 2) else 0
    arr = p if isinstance(p, np.ndarray) and p.dtype.kind == "f" else as_array(p, name="p")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise NonFiniteInputError(f"step_h was given a non-finite p: {arr}")
    arr = to_float(arr)
    return np.where(arr > 0.5, 1.0, np.where(arr == 0.5, 0.5, 0.0))


def _random_piecewise(rng: np.random.Generator) -> HFunction:
    """Rational piecewise-linear through 2..5 knots on the grid 1/12, slopes on the grid 1/4."""
    n = int(rng.integers(0, 4))
    inner = sorted({Fraction(int(v), 12) for v in rng.integers(1, 12, size=n)})
    knots = [Fraction(0), *inner, Fraction(1)]
    steps = [Fraction(int(v), 4) for v in rng.integers(1, 9, size=len(knots) - 1)]
    start = Fraction(int(rng.integers(-4, 5)), 4)
    values = [start + sum(steps[:k], Fraction(0)) for k in range(len(knots))]
    return piecewise_linear_h(knots, values, name=f"pl{[str(k) for k in knots]}")


def _random_smooth(rng: np.random.Generator) -> HFunction:
    """``c0 p + c1 p^3 + c2 sqrt(p) + sum_k w_k sigmoid(s_k (p - m_k))``, positive weights."""
    c = rng.uniform(0.1, 2.0, size=3)
    centres = rng.uniform(0.1, 0.9, size=2)
    slopes = rng.uniform(2.0, 20.0, size=2)
    weights = rng.uniform(0.0, 1.0, size=2)

    def smooth(p: Any) -> Any:
        p = np.asarray(p, dtype=float)
        bumps = sum(
            w / (1 + np.exp(-s * (p - m))) for w, s, m in zip(weights, slopes, centres, strict=True)
        )
        return c[0] * p + c[1] * p**3 + c[2] * np.sqrt(p) + bumps

    return HFunction(f"smooth{np.round(c, 2).tolist()}", smooth)


def _random_unbounded(rng: np.random.Generator) -> HFunction:
    """``a p + b logit(p) + c log(p)`` (the log term half the time): infinite at an end."""
    a, b, c = rng.uniform(0.1, 2.0, size=3)
    use_log = bool(rng.integers(2))

    def unbounded(p: Any) -> Any:
        p = np.asarray(p, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            lg = np.log(p) - np.log1p(-p)
            extra = np.log(p) if use_log else 0.0
            out = a * p + b * lg + c * extra
        return np.where(p == 0, -np.inf, np.where(p == 1, np.inf, out))

    return HFunction(f"unbounded[{a:.2f},{b:.2f},{c if use_log else 0:.2f}]", unbounded)


#: The kinds of :func:`random_increasing_h`, each a constructor from a generator.
RANDOM_H_KINDS: dict[str, Callable[[np.random.Generator], HFunction]] = {
    "piecewise": _random_piecewise,
    "smooth": _random_smooth,
    "unbounded": _random_unbounded,
}


def random_increasing_h(rng: np.random.Generator, kind: str | None = None) -> HFunction:
    """A random strictly increasing ``h`` (for U-forward and U-converse).

    Kinds (:data:`RANDOM_H_KINDS`): ``"piecewise"`` (rational piecewise-linear through 2..5
    random rational knots, exact), ``"smooth"`` (a positive mix of ``p``, ``p**3``, ``sqrt(p)``
    and sigmoid bumps, bounded, float), ``"unbounded"`` (a positive mix of ``p``, ``logit`` and
    ``log``: infinite at an end, float).  ``kind=None`` picks one at random.

    >>> h = random_increasing_h(np.random.default_rng(0), "piecewise")
    >>> h.rational, h.fn(Fraction(0)) < h.fn(Fraction(1))
    (True, True)
    """
    if not isinstance(rng, np.random.Generator):
        raise InvalidParameterError(f"rng is {rng!r}, expected a numpy.random.Generator")
    kinds = tuple(RANDOM_H_KINDS)
    kind = kinds[int(rng.integers(3))] if kind is None else kind
    if kind not in RANDOM_H_KINDS:
        raise InvalidParameterError(f"unknown kind {kind!r}; expected one of {kinds}")
    return RANDOM_H_KINDS[kind](rng)
