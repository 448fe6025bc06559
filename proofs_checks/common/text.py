"""Text for observed lines, reports and generated pages: numbers written exactly where they are.

One formatter for every claim that writes numbers into text: Fractions as ``p/q`` (integers
without a denominator), arrays and lists as ``[a, b, ...]`` at any depth, signed infinities as
``inf`` / ``-inf``, floats rounded to ``digits`` significant digits (all of them with
``digits=None``).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = ["format_exact"]


def format_exact(value: Any, digits: int | None = 4) -> str:
    """``value`` as text: a Fraction exactly (``"1/3"``, ``"2"``), a float to ``digits``
    significant digits (its shortest round-trip form when ``digits`` is None), an array, list
    or tuple as ``[...]`` of its formatted entries; anything else as ``str``.

    >>> format_exact(Fraction(1, 3)), format_exact(Fraction(4, 2)), format_exact(2 / 3)
    ('1/3', '2', '0.6667')
    >>> format_exact(np.array([[Fraction(1, 2), Fraction(1, 2)]], dtype=object))
    '[[1/2, 1/2]]'
    >>> format_exact([float("-inf"), 0.1 + 0.2], digits=None)
    '[-inf, 0.30000000000000004]'
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return format_exact(value.item(), digits)
    if isinstance(value, np.ndarray | list | tuple):
        return "[" + ", ".join(format_exact(e, digits) for e in value) + "]"
    if isinstance(value, Fraction):
        d = value.denominator
        return str(value.numerator) if d == 1 else f"{value.numerator}/{d}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v) if digits is None else f"{v:.{digits}g}"
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)
