"""Exact versus float: exactness is a property of the array.

Arrays in :mod:`theory` come in two kinds:

* **float**: ``numpy.float64`` arrays, for speed;
* **exact**: ``dtype=object`` arrays whose entries are :class:`fractions.Fraction`.

Inputs are read by :func:`as_array`: Python ints, :class:`~fractions.Fraction` and sympy
``Rational`` entries (and numpy integer or boolean arrays) make an exact array; any float entry
makes a float array.  Functions that combine several arrays use :func:`common_kind` so that one
float input turns the whole computation into floats, and an all-exact input stays exact.
numpy's ``@``, ``sum`` and elementwise arithmetic all work on object arrays of Fractions, so most
formulas are written once and serve both kinds.

**Symbolic entries.**  A sympy expression with free symbols (``p01``, ``1 - mu0``) is kept as it
is, as an entry of an exact array, so that a library function called on symbols returns the
symbolic expression it computes (``docs/proofs.md``: the proofs call the library this way).
Validation treats such entries by what sympy can settle: :func:`truth_mask` counts an undecided
sign test as passed, and :func:`differs` compares a symbolic sum with its target by
``sympy.expand``.  Both are reached only after the cheap numeric test failed (numpy raised on an
undecided relation, or a sum compared unequal), so Fraction and float paths do not pay for them.

**The fast exact path.**  Numpy arithmetic on Fraction object arrays costs microseconds per entry
(a gcd in pure Python per operation).  The hot exact computations (reading and validating exact
arrays, win rates, mixtures, response win rates) therefore run on integers over a common
denominator (``theory._exact``) and convert to Fractions at the boundary: same values, same
errors, several times faster.  Anything that is not all-Fraction (sympy symbols, floats) takes the
reference path, numpy on Fraction object arrays.  :func:`reference_exact` switches the fast path
off in a ``with`` block (the tests compare the two paths; ``benchmarks/bench_exact.py`` times
them), the environment variable ``THEORY_REFERENCE_EXACT=1`` for a whole process;
:func:`fast_exact_enabled` says which path is on.
"""

from __future__ import annotations

import math
import numbers as _stdlib_numbers
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from fractions import Fraction
from typing import Any

import numpy as np

from .errors import (
    InvalidParameterError,
    NonFiniteInputError,
    NotANumberError,
    ShapeMismatchError,
    UndefinedEvaluationError,
)

__all__ = [
    "Number",
    "as_array",
    "is_exact",
    "half_of",
    "common_kind",
    "to_float",
    "to_exact",
    "scalar",
    "format_number",
    "is_symbolic",
    "truth_mask",
    "differs",
    "fast_exact_enabled",
    "reference_exact",
]

#: A scalar result: exact (:class:`~fractions.Fraction`) or ``float``.
Number = Fraction | float


#: Whether the fast exact path is on; the environment variable ``THEORY_REFERENCE_EXACT=1``
#: turns it off for a whole process (and the worker processes it starts), to compare runs.
_FAST_EXACT: ContextVar[bool] = ContextVar(
    "theory_fast_exact", default=os.environ.get("THEORY_REFERENCE_EXACT", "") in ("", "0")
)


def fast_exact_enabled() -> bool:
    """True when exact computations take the fast integer path (the default; module docstring).

    >>> fast_exact_enabled() == (os.environ.get("THEORY_REFERENCE_EXACT", "") in ("", "0"))
    True
    """
    return _FAST_EXACT.get()


@contextmanager
def reference_exact(enabled: bool = True) -> Iterator[None]:
    """Inside the block, exact computations take the reference path (numpy on Fraction object
    arrays) instead of the fast integer path; ``enabled=False`` makes the block a no-op.  Results
    are the same either way: the block exists to compare and time the two paths.

    >>> from theory import win_rate
    >>> P = [[Fraction(1, 2), Fraction(2, 3)], [Fraction(1, 3), Fraction(1, 2)]]
    >>> with reference_exact():
    ...     slow = win_rate(P, [1, 0], [Fraction(1, 2), Fraction(1, 2)])
    ...     fast_exact_enabled()
    False
    >>> slow == win_rate(P, [1, 0], [Fraction(1, 2), Fraction(1, 2)])
    True
    """
    token = _FAST_EXACT.set(not enabled and _FAST_EXACT.get())
    try:
        yield
    finally:
        _FAST_EXACT.reset(token)


def _all_fractions(a: np.ndarray) -> bool:
    """True when every entry of the object array ``a`` is exactly a Fraction."""
    return all(type(v) is Fraction for v in a.ravel().tolist())


def _entry_to_fraction(v: Any) -> Any:
    """One entry as a Fraction when it is rational-typed, a float when it is a float or another
    number, and as it is when it is a sympy expression with free symbols."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, bool | np.bool_):
        return Fraction(int(v))
    if isinstance(v, int | np.integer):
        return Fraction(int(v))
    if isinstance(v, float | np.floating):
        return float(v)
    # sympy Rational / Integer, or any numbers.Rational implementation
    if isinstance(v, _stdlib_numbers.Rational):
        return Fraction(int(v.numerator), int(v.denominator))
    try:  # sympy objects: Rational exposes p and q, Float converts to float
        import sympy

        if isinstance(v, sympy.Rational):
            return Fraction(int(v.p), int(v.q))
        if isinstance(v, sympy.Basic) and v.is_number:
            return float(v)
        if isinstance(v, sympy.Expr) and v.free_symbols:
            return v
    except ImportError:  # pragma: no cover - sympy is a runtime dependency
        pass
    if isinstance(v, _stdlib_numbers.Real):
        return float(v)
    raise TypeError(f"cannot read {v!r} (type {type(v).__name__}) as a number")


def _read_entry(v: Any, name: str) -> Any:
    if isinstance(v, list | tuple | np.ndarray):
        raise ShapeMismatchError(f"{name} is ragged: nested sequences of different lengths")
    try:
        return _entry_to_fraction(v)
    except TypeError:
        raise NotANumberError(
            f"{name} holds {v!r} (type {type(v).__name__}), not a number"
        ) from None


def as_array(x: Any, *, name: str = "array", exact: bool | None = None) -> np.ndarray:
    """Read ``x`` as a float64 array or an exact object array of Fractions.

    ``exact=None`` (default) keeps the input's kind (see the module docstring); ``exact=True``
    converts floats exactly (their binary value) and ``exact=False`` converts to float64.
    sympy expressions with free symbols stay as they are, entries of an exact array (module
    docstring); beside a float entry they cannot be read (:class:`~theory.errors.NotANumberError`).
    Raises :class:`~theory.errors.NonFiniteInputError` for NaN or infinite entries and
    :class:`~theory.errors.ShapeMismatchError` for ragged input.  The input is never modified.

    >>> as_array([Fraction(1, 2), 1]).tolist()
    [Fraction(1, 2), Fraction(1, 1)]
    >>> as_array([0.5, 0.5]).dtype
    dtype('float64')
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> as_array([x, 1 - x]).tolist()
    [x, 1 - x]
    """
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        arr = np.array(x, dtype=np.float64)
    elif (
        isinstance(x, np.ndarray) and x.dtype == object and _FAST_EXACT.get() and _all_fractions(x)
    ):
        arr = x.copy()  # already an exact array: nothing to read
    elif isinstance(x, np.ndarray) and x.dtype.kind in "iub":
        arr = _fraction_array(x)
    else:
        try:
            raw = np.asarray(x, dtype=object) if not isinstance(x, np.ndarray) else x
        except ValueError as exc:  # ragged nested sequences
            raise ShapeMismatchError(f"{name} is ragged: {exc}") from None
        if raw.dtype.kind == "f":
            arr = np.array(raw, dtype=np.float64)
        else:
            flat = [_read_entry(v, name) for v in raw.ravel()]
            if any(isinstance(v, float) for v in flat):
                arr = np.array([_float_of(v, name) for v in flat], dtype=np.float64)
                arr = arr.reshape(raw.shape)
            else:
                arr = np.array(flat, dtype=object).reshape(raw.shape)
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise NonFiniteInputError(f"{name}{list(bad)} is {arr[bad]}, expected a finite number")
    if exact is True and arr.dtype.kind == "f":
        return to_exact(arr)
    if exact is False and arr.dtype == object:
        return to_float(arr)
    return arr


def _float_of(v: Any, name: str) -> float:
    """``float(v)``, or a named error: an exact number beyond float64's range
    (:class:`~theory.errors.NonFiniteInputError`), something that is not a number
    (:class:`~theory.errors.NotANumberError`)."""
    try:
        return float(v)
    except OverflowError:
        raise NonFiniteInputError(
            f"{name} holds {format_number(v)!s:.60}, beyond the float64 range (|x| < 1.8e308); "
            "keep the computation exact"
        ) from None
    except (TypeError, ValueError):
        what = f"{v!r} (type {type(v).__name__})"
        raise NotANumberError(f"{name} holds {what}, not a number") from None


def _fraction_array(a: np.ndarray) -> np.ndarray:
    return np.array([Fraction(int(v)) for v in a.ravel()], dtype=object).reshape(a.shape)


def half_of(a: np.ndarray) -> Fraction | float:
    """The number 1/2 in the kind of ``a``: ``Fraction(1, 2)`` if exact, else ``0.5``."""
    return Fraction(1, 2) if is_exact(a) else 0.5


def is_exact(a: Any) -> bool:
    """True when ``a`` is an exact (object, Fraction) array; anything else is first read by
    :func:`as_array` (so ``[1, Fraction(1, 2)]`` is exact and ``[0.5]`` is not)."""
    if not isinstance(a, np.ndarray):
        a = as_array(a)
    return a.dtype == object


def common_kind(*arrays: Any) -> tuple[np.ndarray, ...]:
    """Return the arrays converted to one kind: exact if all are exact, float otherwise."""
    arrays = tuple(a if isinstance(a, np.ndarray) else as_array(a) for a in arrays)
    if all(is_exact(a) for a in arrays):
        return arrays
    return tuple(to_float(a) for a in arrays)


def to_float(a: Any) -> np.ndarray:
    """A float64 copy of an exact or float array.

    Raises :class:`~theory.errors.NonFiniteInputError` for an exact entry beyond float64's
    range and :class:`~theory.errors.NotANumberError` for an entry that is not a number.
    """
    a = np.asarray(a)
    if a.dtype == object:
        from ._exact import read  # (a cycle at import time otherwise)

        r = read(a)  # all Fractions, a = N / D: usually already read (and cached)
        if r is not None and max(r.big, r.D) < 2**53:
            # N and D are exact in float64, so each quotient is the correctly rounded value,
            # float(Fraction) itself
            return np.asarray(r.N, dtype=np.float64) / float(r.D)
        flat = [_float_of(v, "array") for v in a.ravel()]
        return np.array(flat, dtype=np.float64).reshape(a.shape)
    if a.dtype.kind not in "fiub":
        raise NotANumberError(f"an array of {a.dtype} cannot be read as float64 numbers")
    return np.asarray(a, dtype=np.float64)


def to_exact(a: Any, *, max_denominator: int | None = None) -> np.ndarray:
    """An exact Fraction copy; floats convert to their exact binary value.

    With ``max_denominator`` each float is replaced by the closest fraction with a denominator at
    most that large (useful to turn ``0.1`` into ``1/10``).
    """
    if max_denominator is not None and (
        isinstance(max_denominator, bool)
        or not isinstance(max_denominator, int | np.integer)
        or max_denominator < 1
    ):
        raise InvalidParameterError(
            f"max_denominator = {max_denominator!r}, expected an integer >= 1"
        )
    try:
        a = np.asarray(a) if isinstance(a, np.ndarray) else np.asarray(a, dtype=object)
    except ValueError as exc:  # ragged nested sequences
        raise ShapeMismatchError(f"array is ragged: {exc}") from None
    vals = []
    for v in a.ravel():
        f = _read_entry(v, "array")
        if isinstance(f, float) and not math.isfinite(f):
            raise NonFiniteInputError(f"array holds {f}, which has no exact value")
        f = Fraction(f) if isinstance(f, float) else f
        if max_denominator is not None:
            f = f.limit_denominator(max_denominator)
        vals.append(f)
    return np.array(vals, dtype=object).reshape(a.shape)


def scalar(v: Any, exact: bool) -> Number:
    """A 0-d result as a Fraction (exact) or a float (``+-inf`` allowed).

    Raises :class:`~theory.errors.UndefinedEvaluationError` for NaN (never returned quietly) and
    :class:`~theory.errors.NotANumberError` for a value that is not an exact number when
    ``exact`` (a float is not silently turned into a Fraction).  An exact symbolic value (a sympy
    expression with free symbols) is returned as it is, a sympy ``Rational`` as a Fraction.

    >>> scalar(np.array(Fraction(1, 2)), True)
    Fraction(1, 2)
    """
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v.item()
    if exact:
        if isinstance(v, Fraction):
            return v
        if isinstance(v, int | np.integer) and not isinstance(v, bool):
            return Fraction(int(v))
        if is_symbolic(v):
            return v
        if _is_sympy_rational(v):
            return Fraction(int(v.p), int(v.q))
        raise NotANumberError(f"{v!r} (type {type(v).__name__}) is not an exact number")
    out = _float_of(v, "result")
    if math.isnan(out):
        raise UndefinedEvaluationError("the result is NaN: the quantity is undefined here")
    return out


def format_number(v: Any) -> str | float | list:
    """JSON-friendly form: Fractions as ``"p/q"`` strings, arrays as nested lists."""
    if isinstance(v, np.ndarray):
        return [format_number(e) for e in v] if v.ndim else format_number(v.item())
    if isinstance(v, list | tuple):
        return [format_number(e) for e in v]
    if isinstance(v, Fraction):
        return f"{v.numerator}/{v.denominator}" if v.denominator != 1 else str(v.numerator)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def is_symbolic(v: Any) -> bool:
    """True when ``v`` is a sympy expression with free symbols (an entry :func:`as_array` keeps).

    >>> import sympy
    >>> is_symbolic(sympy.Symbol("x") + 1), is_symbolic(sympy.Rational(1, 2)), is_symbolic(1)
    (True, False, False)
    """
    if isinstance(v, Fraction | int | float | np.number):  # the common cases, without sympy
        return False
    import sympy

    return isinstance(v, sympy.Expr) and bool(v.free_symbols)


def _is_sympy_rational(v: Any) -> bool:
    import sympy

    return isinstance(v, sympy.Rational)


def _settled(relation: Any) -> bool | None:
    """A comparison's result as a bool, or None when it is a sympy relation sympy cannot settle."""
    if isinstance(relation, bool | np.bool_):
        return bool(relation)
    import sympy

    if relation is sympy.true or relation is sympy.false:
        return relation is sympy.true
    return None


def truth_mask(a: np.ndarray, test: Any, *, undecided: bool = False) -> np.ndarray:
    """The boolean mask of ``test(v)`` over the entries of ``a``, entry by entry.

    ``test`` maps an entry to a comparison (``lambda v: v < 0``).  A numeric entry gives its bool;
    a symbolic entry gives True or False when sympy settles the relation (``p01 < 0`` with ``p01``
    positive is settled False) and ``undecided`` otherwise (``1 - p01 < 0``).  A validation that
    fails only on a settled violation passes ``undecided=False``.  Slow (a Python loop): call it
    only after numpy's vectorised comparison raised on an undecided relation.

    >>> import sympy
    >>> p = sympy.Symbol("p", positive=True)
    >>> truth_mask(np.array([p, 1 - p, -p, Fraction(-1)], dtype=object), lambda v: v < 0).tolist()
    [False, False, True, True]
    """
    flat = [_settled(test(v)) for v in a.ravel()]
    return np.array([undecided if r is None else r for r in flat], dtype=bool).reshape(a.shape)


def differs(v: Any, target: Any) -> bool:
    """``v != target`` for an exact entry; a symbolic ``v`` differs only when
    ``sympy.expand(v - target)`` is not the literal 0 (``p + (1 - p)`` equals 1), nor after
    ``together`` + ``cancel`` (``a / (a + b) + b / (a + b)`` equals 1).

    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> differs(x * (x + 1) - x**2 - x + 1, 1), differs(x, 1), differs(Fraction(1, 2), 1)
    (False, True, True)
    >>> differs(x / (x + 1) + 1 / (x + 1), 1)
    False
    """
    if not v != target:
        return False
    if not is_symbolic(v):
        return True
    import sympy

    d = sympy.expand(v - target)
    return d != 0 and sympy.cancel(sympy.together(d)) != 0
