"""The maximal lottery: self-play WRO's optimum at ``beta = 0``, exact for rational preferences.

Self-play WRO (docs/theory.md, "WRO objective", anchor = the model itself, h = identity,
``beta = 0``) asks for a model that wins at least half the time against every competitor.  For
one prompt with preference matrix ``P`` (``(K, K)``, ``P + P^T = 1``) this is the symmetric
zero-sum game with payoff ``A = P - 1/2`` (skew-symmetric, ``A^T = -A``, value 0), and its
solution is the **maximal lottery** (von Neumann winner): ``pi`` with
``WR(pi; e_j) = (P^T pi)_j >= 1/2`` for every response ``j``, equivalently ``A pi <= 0`` (no
response beats ``pi`` more than half the time).

:func:`maximal_lottery` solves it in two steps, each in an internal module:

* float (``theory._lottery_float``): an interior-point method on the monotone linear
  complementarity problem of the symmetric game (Mehrotra predictor-corrector with Gondzio
  correctors), then the square system ``A_SS pi_S = 0, 1^T pi_S = 1`` on the identified support;
* exact (``theory._lottery_exact``): for rational ``P``, the support read from the float answer,
  an exact rational solve, and an exact verification (fallback: an exact simplex).

The regularized (``beta > 0``) equilibrium is NLHF's (:mod:`theory.methods.nlhf`).
Claims: ``NLHF-is-WRO``, ``WRO-consistency`` (proofs_checks/).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._lottery_exact import certificate, exact_lottery, exact_matrix, support
from ._lottery_float import ML_TOL, float_lotteries
from .numbers import Number, is_exact, to_float
from .preferences import validate_preference_matrix, validate_preference_stack

__all__ = ["ML_TOL", "MaximalLottery", "maximal_lottery", "maximal_lottery_batch"]


@dataclass(frozen=True)
class MaximalLottery:
    """A maximal lottery with its certificate.

    ``pi`` (``(K,)``): the lottery.  ``value = min_j (P^T pi)_j``: the win rate ``pi`` guarantees
    against every response (exactly ``1/2`` when exact).  ``gap = max(0, 1/2 - value)``: how far
    ``pi`` is from guaranteeing 1/2 (0 for an exact answer).  ``duality_gap = max_i (P pi)_i -
    min_j (P^T pi)_j``: the primal-dual gap of the strategy pair ``(pi, pi)`` in the game ``P``
    (``= 2 (1/2 - value)``; float values clipped at 0).  ``exact``: the answer is rational and
    was verified exactly.  ``support``: the responses with positive mass.
    """

    pi: np.ndarray
    value: Number
    gap: Number
    duality_gap: Number
    exact: bool
    support: tuple[int, ...]


def _float_result(P: np.ndarray, pi: np.ndarray) -> MaximalLottery:
    return MaximalLottery(pi, *certificate(P, pi), False, support(pi))


def _exact_result(P: np.ndarray, P_f: np.ndarray, pi_f: np.ndarray) -> MaximalLottery:
    pi, cert = exact_lottery(P, P_f, pi_f)
    return MaximalLottery(pi, *cert, True, support(pi))


def maximal_lottery(P: Any, *, exact: bool | None = None) -> MaximalLottery:
    """The maximal lottery (von Neumann winner) of the preference matrix ``P``.

    Finds ``pi`` in the simplex with ``WR(pi; e_j) = (P^T pi)_j >= 1/2`` for every response
    ``j``: the equilibrium of the symmetric zero-sum game with payoff ``P - 1/2`` (value 0), the
    self-play WRO optimum with ``h = identity``, ``beta = 0`` (docs/theory.md; claim
    ``NLHF-is-WRO``).

    ``P``: ``(K, K)`` preference matrix.  ``exact``: ``None`` follows ``P`` (Fractions -> exact);
    ``True`` converts a float ``P`` exactly (upper triangle's binary values, lower triangle
    ``1 - upper``); ``False`` uses the float path.  Float path: interior
    point + support polishing, certified by ``gap = max(0, 1/2 - min_j (P^T pi)_j)``.  Exact path:
    support from floats, exact rational solve, exact verification (fallback: exact simplex); the
    result has ``gap == 0`` and ``value == 1/2`` exactly.  When the maximal lottery is not unique
    (ties), one verified maximal lottery is returned.

    >>> from theory.preferences import rock_paper_scissors, total_order
    >>> maximal_lottery(rock_paper_scissors()).pi.tolist()
    [Fraction(1, 3), Fraction(1, 3), Fraction(1, 3)]
    >>> ml = maximal_lottery(total_order(3, [2, 0, 1]))
    >>> ml.pi.tolist(), ml.gap, ml.support
    ([Fraction(0, 1), Fraction(0, 1), Fraction(1, 1)], Fraction(0, 1), (2,))
    """
    P_arr = validate_preference_matrix(P)
    want_exact = is_exact(P_arr) if exact is None else bool(exact)
    P_f = to_float(P_arr)
    pi_f = float_lotteries(P_f[None])[0]
    if not want_exact:
        return _float_result(P_f, pi_f)
    P_x = P_arr if is_exact(P_arr) else exact_matrix(P_arr)
    return _exact_result(P_x, P_f, pi_f)


def maximal_lottery_batch(P: Any, *, exact: bool | None = None) -> list[MaximalLottery]:
    """One :func:`maximal_lottery` per prompt of the stack ``P`` (``(M, K, K)``).

    The float interior point runs batched over the prompts (much faster than a loop for many small
    instances); the exact path then solves and verifies each prompt exactly.

    >>> from theory.preferences import cyclic, total_order
    >>> [ml.support for ml in maximal_lottery_batch([cyclic(3), total_order(3)])]
    [(0, 1, 2), (0,)]
    """
    P_arr = validate_preference_stack(P)
    want_exact = is_exact(P_arr) if exact is None else bool(exact)
    P_f = to_float(P_arr)
    pis = float_lotteries(P_f)
    if not want_exact:
        return [_float_result(P_f[m], pis[m]) for m in range(len(P_f))]
    P_x = P_arr if is_exact(P_arr) else exact_matrix(P_arr)
    return [_exact_result(P_x[m], P_f[m], pis[m]) for m in range(len(P_x))]
