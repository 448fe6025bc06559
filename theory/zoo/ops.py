"""Arithmetic back ends: one loss formula, evaluated in floats, with derivatives, in intervals or
exactly.

A zoo loss is written once as a function of its margin ``z`` and an *ops* namespace
(``ops.log``, ``ops.exp``, ``ops.sigmoid``, ``ops.log_sigmoid``, ``ops.maximum``); Python's
``+ - * / **`` do the rest.  Four namespaces evaluate the same formula four ways:

* :data:`FLOAT`: numpy float arrays, numerically stable (``log_sigmoid`` via
  :func:`scipy.special.log_expit`);
* :data:`DUAL`: forward-mode derivatives: the argument is a :class:`Dual` ``(value, slope)`` and
  the result carries ``f(z)`` and ``f'(z)`` elementwise (the generic solver's gradients);
* :data:`ARB`: python-flint ``arb`` balls (rigorous interval arithmetic at :data:`ARB_PREC` bits)
  in object arrays: the certificates of the correspondence witnesses;
* :data:`EXACT`: Fractions in object arrays; any transcendental function raises
  :class:`NotRationalError`, so a polynomial or piecewise-linear loss (IPO, SPPO-hard, hinge)
  evaluates exactly and any other loss says it cannot.

>>> f = lambda z, ops: (z - 1) ** 2 + ops.maximum(0, 1 - z)
>>> from fractions import Fraction
>>> f(np.array([Fraction(1, 2)], dtype=object), EXACT).tolist()
[Fraction(3, 4)]
>>> r = f(Dual(np.array([0.5]), np.array([1.0])), DUAL)
>>> float(r.value[0]), float(r.slope[0])
(0.75, -2.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from flint import arb, ctx
from scipy.special import expit, log_expit

__all__ = [
    "ARB_PREC",
    "Ops",
    "Dual",
    "NotRationalError",
    "FLOAT",
    "DUAL",
    "ARB",
    "EXACT",
    "to_arb",
    "arb_precision",
]

#: Working precision (bits) of the interval certificates.
ARB_PREC = 192


class NotRationalError(ArithmeticError):
    """Raised by :data:`EXACT` when a formula needs a transcendental function."""


@dataclass(frozen=True)
class Ops:
    """A namespace of the elementary functions a loss may use (see the module docstring)."""

    name: str
    log: Any
    exp: Any
    sigmoid: Any
    log_sigmoid: Any
    maximum: Any


class Dual:
    """A value and its derivative with respect to one scalar, elementwise over float arrays."""

    __array_priority__ = 100

    def __init__(self, value: Any, slope: Any) -> None:
        self.value = np.asarray(value, dtype=float)
        self.slope = np.asarray(slope, dtype=float)

    @staticmethod
    def lift(v: Any) -> Dual:
        return v if isinstance(v, Dual) else Dual(v, np.zeros_like(np.asarray(v, dtype=float)))

    def __add__(self, o: Any) -> Dual:
        o = Dual.lift(o)
        return Dual(self.value + o.value, self.slope + o.slope)

    __radd__ = __add__

    def __neg__(self) -> Dual:
        return Dual(-self.value, -self.slope)

    def __sub__(self, o: Any) -> Dual:
        return self + (-Dual.lift(o))

    def __rsub__(self, o: Any) -> Dual:
        return Dual.lift(o) - self

    def __mul__(self, o: Any) -> Dual:
        o = Dual.lift(o)
        return Dual(self.value * o.value, self.slope * o.value + self.value * o.slope)

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Dual:
        o = Dual.lift(o)
        return Dual(
            self.value / o.value, (self.slope * o.value - self.value * o.slope) / o.value**2
        )

    def __rtruediv__(self, o: Any) -> Dual:
        return Dual.lift(o) / self

    def __pow__(self, n: Any) -> Dual:
        n = float(n)
        return Dual(self.value**n, n * self.value ** (n - 1) * self.slope)


def _d_log(a: Any) -> Any:
    if isinstance(a, Dual):
        return Dual(np.log(a.value), a.slope / a.value)
    return np.log(a)


def _d_exp(a: Any) -> Any:
    if isinstance(a, Dual):
        e = np.exp(a.value)
        return Dual(e, e * a.slope)
    return np.exp(a)


def _d_sigmoid(a: Any) -> Any:
    if isinstance(a, Dual):
        s = expit(a.value)
        return Dual(s, s * expit(-a.value) * a.slope)
    return expit(a)


def _d_log_sigmoid(a: Any) -> Any:
    if isinstance(a, Dual):
        return Dual(log_expit(a.value), expit(-a.value) * a.slope)
    return log_expit(a)


def _d_maximum(a: Any, b: Any) -> Any:
    if not isinstance(a, Dual) and not isinstance(b, Dual):
        return np.maximum(a, b)
    a, b = Dual.lift(a), Dual.lift(b)
    pick = a.value >= b.value
    return Dual(np.where(pick, a.value, b.value), np.where(pick, a.slope, b.slope))


FLOAT = Ops("float", np.log, np.exp, expit, log_expit, np.maximum)
DUAL = Ops("dual", _d_log, _d_exp, _d_sigmoid, _d_log_sigmoid, _d_maximum)


def to_arb(v: Any) -> Any:
    """A number (Fraction, int, float) or an array of them as ``arb`` balls (object array)."""
    if isinstance(v, np.ndarray):
        out = np.empty(v.shape, dtype=object)
        for idx, x in np.ndenumerate(v):
            out[idx] = to_arb(x)
        return out
    if isinstance(v, arb):
        return v
    if hasattr(v, "numerator") and hasattr(v, "denominator") and not isinstance(v, float):
        with arb_precision():
            return arb(int(v.numerator)) / int(v.denominator)
    return arb(float(v))


class arb_precision:
    """Context: work at :data:`ARB_PREC` bits."""

    def __enter__(self) -> None:
        self.old = ctx.prec
        ctx.prec = ARB_PREC

    def __exit__(self, *exc: Any) -> None:
        ctx.prec = self.old


def _elementwise(fn: Any) -> Any:
    def apply(a: Any) -> Any:
        with arb_precision():
            if isinstance(a, np.ndarray):
                out = np.empty(a.shape, dtype=object)
                for idx, x in np.ndenumerate(a):
                    out[idx] = fn(to_arb(x))
                return out
            return fn(to_arb(a))

    return apply


def _arb_log_sigmoid(x: Any) -> Any:
    # log sigma(x) = -log(1 + e^-x); for x < 0 write it as x - log(1 + e^x) (no overflow)
    if x > 0:
        return -((-x).exp() + 1).log()
    return x - (x.exp() + 1).log()


def _arb_maximum(a: Any, b: Any) -> Any:
    def one(x: Any, y: Any) -> Any:
        return to_arb(x).max(to_arb(y))

    with arb_precision():
        return np.frompyfunc(one, 2, 1)(a, b)


ARB = Ops(
    "arb",
    _elementwise(lambda x: x.log()),
    _elementwise(lambda x: x.exp()),
    _elementwise(lambda x: 1 / (1 + (-x).exp())),
    _elementwise(_arb_log_sigmoid),
    _arb_maximum,
)


def _not_rational(*_args: Any) -> Any:
    raise NotRationalError("the formula needs a transcendental function")


EXACT = Ops("exact", _not_rational, _not_rational, _not_rational, _not_rational, np.maximum)
