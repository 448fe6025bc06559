"""The converse, constructively: probe a black-box evaluation with point masses, recover ``h``,
rebuild the h-win rate it must equal (claim U-converse; docs/uniqueness.md, "The theorem").

The pair probe of ``p`` is the single-prompt instance with ``K = 2``, ``P[0, 1] = p``, model
``delta_0`` and data ``mu0 = mu1 = delta_1``; for ``V = WR_h`` its value is exactly ``h(p)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..data import PreferenceData
from ..errors import InvalidParameterError, ShapeMismatchError, UndefinedWinRateError
from ..evaluations import Evaluation
from ..hfuncs import apply_h, as_h
from ..numbers import Number, as_array, is_exact, to_float
from ..simplex import validate_model
from .cases import TOL, combine_values
from .draws import anchor

__all__ = ["probe_pair", "HRecovery", "recover_h", "reconstruct_h_win_rate"]


def probe_pair(evaluation: Evaluation, p: Any) -> Number:
    """``V`` on the pair probe of ``p``: one prompt, ``K = 2``, ``P[0, 1] = p``, model
    ``delta_0``, data ``mu0 = mu1 = delta_1``.  For ``V = WR_h`` this is exactly ``h(p)``.

    >>> from theory.evaluations import WIN_RATE
    >>> probe_pair(WIN_RATE, Fraction(1, 3))
    Fraction(1, 3)
    """
    p_arr = as_array(p, name="p")
    if p_arr.ndim != 0 or not 0 <= p_arr.item() <= 1:
        raise InvalidParameterError(f"p = {p!r}, expected one probability in [0, 1]")
    p = p_arr.item()
    exact = isinstance(p, Fraction)
    one, zero = (Fraction(1), Fraction(0)) if exact else (1.0, 0.0)
    half = Fraction(1, 2) if exact else 0.5
    p = Fraction(p) if exact else float(p)
    P = np.array([[half, p], [1 - p, half]], dtype=object if exact else float)
    data = PreferenceData(P=P, mu0=np.array([zero, one], dtype=P.dtype))
    return evaluation(data, np.array([one, zero], dtype=P.dtype))


@dataclass(frozen=True)
class HRecovery:
    """The h recovered from an evaluation by pair probes: ``grid`` and ``values = V(probe(p))``,
    the endpoint values ``h0 = V(probe(0))`` and ``h1 = V(probe(1))`` (possibly infinite), and,
    when a reference h was given, ``max_error`` (largest interior disagreement) and whether the
    endpoints agree (``endpoints_ok``)."""

    grid: np.ndarray
    values: np.ndarray
    h0: Number
    h1: Number
    max_error: float | None = None
    endpoints_ok: bool | None = None


def recover_h(evaluation: Evaluation, grid: Any = None, *, reference: Any = None) -> HRecovery:
    """Recover ``h(p) = V(probe(p))`` on an interior ``grid`` (default 99 points of (0, 1)) and
    at the endpoints; compare with ``reference`` (an h) when given (relative error, and equality
    of the endpoint values including their signed infinities).

    Identifiability: under our (exact, not affine) linearity the probe values *are* h, with no
    free constant; ``V`` and ``h`` share one scale, and ``s V + c`` (``s > 0``) would be
    recovered as ``s h + c``, the same h-win rate up to that affine map.

    >>> from theory.evaluations import h_win_rate_evaluation
    >>> rec = recover_h(h_win_rate_evaluation("logit"), reference="logit")
    >>> rec.max_error < 1e-12, rec.h0, rec.h1, rec.endpoints_ok
    (True, -inf, inf, True)
    """
    g = np.linspace(0.01, 0.99, 99) if grid is None else to_float(as_array(grid, name="grid"))
    if g.ndim != 1 or g.size == 0 or np.any(g < 0) or np.any(g > 1):
        raise InvalidParameterError(f"grid must be a non-empty vector of probabilities, got {g}")
    if reference is not None:
        reference = as_h(reference)
    values = np.array([float(probe_pair(evaluation, float(p))) for p in g])
    h0, h1 = probe_pair(evaluation, Fraction(0)), probe_pair(evaluation, Fraction(1))
    max_error = endpoints_ok = None
    if reference is not None:
        ref = apply_h(reference, g)
        max_error = float(np.max(np.abs(values - ref) / (1 + np.abs(ref))))
        ends = apply_h(reference, np.array([0.0, 1.0]))
        endpoints_ok = bool(float(h0) == ends[0] and float(h1) == ends[1]) or bool(
            np.allclose([float(h0), float(h1)], ends, rtol=TOL, atol=TOL)
        )
    return HRecovery(g, values, h0, h1, max_error, endpoints_ok)


def _compared_pairs(data: PreferenceData, pi: np.ndarray) -> Iterator[tuple[Any, Any]]:
    """``(rho_x pi_x(y) a_x(y'), P_x[y, y'])`` for every pair of positive weight."""
    a = anchor(data.mu0, data.mu1)
    for x in range(data.M):
        for y in range(data.K):
            weights = data.rho[x] * pi[x, y] * a[x]
            yield from ((wt, data.P[x, y, y2]) for y2, wt in enumerate(weights) if wt != 0)


def reconstruct_h_win_rate(evaluation: Evaluation, data: PreferenceData, pi: Any) -> Number:
    """``sum_x rho_x sum_{y, y'} pi_x(y) a_x(y') g(P_x[y, y'])`` with ``g(p) = V(probe(p))``
    (:func:`probe_pair`) and ``a = (mu0 + mu1) / 2``: the h-win rate that ``V`` must equal if it
    satisfies both axioms (U-converse).  Only pairs with positive mass are probed.

    >>> from theory.evaluations import WIN_RATE
    >>> from theory.preferences import rock_paper_scissors
    >>> D = PreferenceData(P=rock_paper_scissors(), mu0=[Fraction(1, 3)] * 3)
    >>> reconstruct_h_win_rate(WIN_RATE, D, [1, 0, 0])
    Fraction(1, 2)
    """
    if not isinstance(data, PreferenceData):
        raise InvalidParameterError(
            f"data is a {type(data).__name__}, expected a PreferenceData (theory.data)"
        )
    pi = validate_model(pi, name="pi", K=data.K)
    if pi.shape[0] != data.M:
        raise ShapeMismatchError(f"pi has {pi.shape[0]} prompts but the data has {data.M}")
    if data.exact and not is_exact(pi):
        data = PreferenceData(*(to_float(a) for a in (data.P, data.mu0, data.mu1, data.rho)))
    terms = []
    cache: dict[Any, Number] = {}
    for wt, p in _compared_pairs(data, pi):
        key = p if isinstance(p, Fraction) else float(p)
        if key not in cache:
            cache[key] = probe_pair(evaluation, p if data.exact else float(p))
        terms.append((wt, cache[key]))
    out = combine_values(terms)
    if out is None:
        raise UndefinedWinRateError("the reconstruction adds +inf and -inf terms")
    return out
