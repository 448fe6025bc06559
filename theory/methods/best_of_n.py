"""Best-of-``n`` filtering: draw ``n`` responses from ``mu``, keep one with the highest reward.

With ``F(v) = mu(r <= v)`` and ``F^-(v) = mu(r < v)``, a response ``y`` with reward ``v`` gets

    bon_n(y) = (F(v)^n - F^-(v)^n) * mu(y) / mu(r = v),

the distribution SFT on best-of-``n`` samples converges to.  For ``n = 2`` and the strict order
of ``r`` it is SFT's winner distribution :func:`theory.methods.sft.winner_distribution`; as ``n``
grows its win rate against a continuous start rises from SFT's ``2/3`` ceiling towards
``n / (n + 1)`` (claims ``SFT-closed-form`` and ``mitigations``, docs/theory.md).  Exact for
exact ``mu`` (``r`` is only compared).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, ShapeMismatchError
from ..numbers import Number, as_array, is_exact, to_float
from ..simplex import check_K, validate_distribution
from ..winrate import win_rate

__all__ = ["best_of_n", "best_of_n_win_rate", "strict_order_ceiling"]


def _reward_groups(r: np.ndarray) -> list[np.ndarray]:
    """Responses grouped by equal reward, lowest reward first."""
    values = sorted(set(r.tolist()))
    return [np.flatnonzero(r == v) for v in values]


def best_of_n(mu: Any, r: Any, n: int) -> np.ndarray:
    """The best-of-``n`` distribution of ``mu`` under reward ``r`` (one prompt, ``(K,)``): draw
    ``n`` responses from ``mu`` and keep one with the highest reward (ties: a uniformly random
    draw among the tied maxima, so tied responses keep their ``mu`` proportions).

    ``r[y]`` is the *reward of response* ``y`` (higher is better), indexed by response; it is not
    a ranking.  (:func:`theory.preferences.total_order` takes the other kind of list: a
    ``ranking`` of response indices, best first.  The strict order ``0 > 1 > ... > K-1`` is
    ``total_order(K)`` there and rewards ``r = [K-1, ..., 1, 0]`` here.)

    With ``F(v) = mu(r <= v)`` and ``F^-(v) = mu(r < v)``, a response ``y`` with reward ``v``
    gets ``(F(v)^n - F^-(v)^n) * mu(y) / mu(r = v)``.  SFT on best-of-``n`` samples converges to
    it; for ``n = 2`` and the strict order of ``r`` it equals :func:`winner_distribution`.
    Exact for exact ``mu`` (``r`` is only compared).

    >>> best_of_n([Fraction(1, 2)] * 2, [1, 0], 2).tolist()
    [Fraction(3, 4), Fraction(1, 4)]
    """
    mu_arr = validate_distribution(mu, name="mu")
    r_arr = np.asarray(to_float(as_array(r, name="r")))
    if r_arr.shape != mu_arr.shape:
        raise ShapeMismatchError(f"r has shape {r_arr.shape} but mu has shape {mu_arr.shape}")
    if not isinstance(n, int | np.integer) or n < 1:
        raise InvalidParameterError(f"n = {n!r}, expected an integer >= 1")
    exact = is_exact(mu_arr)
    out = np.array([Fraction(0)] * len(mu_arr), dtype=object) if exact else np.zeros(len(mu_arr))
    below: Any = Fraction(0) if exact else 0.0
    for group in _reward_groups(r_arr):
        mass = sum(mu_arr[group], Fraction(0) if exact else 0.0)
        if mass == 0:
            continue
        share = (below + mass) ** n - below**n
        out[group] = mu_arr[group] * share / mass
        below = below + mass
    return out


def best_of_n_win_rate(P: Any, mu: Any, r: Any, n: int) -> Number:
    """``WR(best_of_n(mu, r, n); mu)`` under ``P`` (one prompt); exact for exact inputs.

    For a strict order that agrees with ``r`` and a continuous start this tends to
    ``n / (n + 1)``: the ceiling that best-of-``n`` filtering raises above SFT's ``2/3``.

    >>> from theory.preferences import total_order
    >>> best_of_n_win_rate(total_order(2), [Fraction(1, 2)] * 2, [1, 0], 3)
    Fraction(11, 16)
    """
    return win_rate(P, best_of_n(mu, r, n), mu)


def strict_order_ceiling(K: int, *, n: int = 2) -> Fraction:
    """``WR(best_of_n(u); u)`` for the strict order over ``K`` responses and the uniform start
    ``u``, exact, in ``O(K)``: for a strict order ``W_u(y) = F^-(y) + u(y) / 2`` (the mid-rank of
    ``y`` under ``u``), so no ``K x K`` matrix is built.  ``n = 2`` is SFT on preferred samples:
    ``1/2 + 2 Var = 2/3 - 1/(6 K^2)``, approaching the ``2/3`` ceiling as ``K`` grows (and
    ``n / (n + 1)`` in general).

    >>> strict_order_ceiling(2), strict_order_ceiling(10)
    (Fraction(5, 8), Fraction(133, 200))
    """
    check_K(K, minimum=1)
    if not isinstance(n, int | np.integer) or n < 1:
        raise InvalidParameterError(f"n = {n!r}, expected an integer >= 1")
    total = Fraction(0)
    for k in range(K):  # k responses rank below this one
        below, at = Fraction(k, K), Fraction(1, K)
        total += ((below + at) ** n - below**n) * (below + at / 2)
    return total
