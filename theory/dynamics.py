"""Iterated SFT: a replicator dynamic on the simplex, its trajectory and its Lyapunov quantity.

**Iterated SFT.**  Training to convergence by SFT on the preferred response of fresh pairs drawn
from the current model ``pi_t`` (both responses from ``pi_t``) gives the winner distribution of
``pi_t`` (:func:`theory.methods.sft.winner_distribution` with ``mu0 = mu1 = pi_t``):

    pi_{t+1}(y) = 2 pi_t(y) W_{pi_t}(y) = pi_t(y) (1 + 2 (W_{pi_t}(y) - 1/2)),   W_pi = P pi,

a discrete-time replicator dynamic of the symmetric zero-sum game ``P - 1/2`` (docs/theory.md, SFT;
claim ``mitigations``).  When ``P`` orders responses by a reward (a total order or
Bradley-Terry), ``W_pi`` is increasing in the reward for every ``pi``, so each step moves mass
up in likelihood ratio: the win rate against any fixed ``mu`` never falls and ``pi_t`` converges
to the best response in the support.  With cyclic preferences (rock-paper-scissors) there is no
such order and the trajectory keeps rotating.

For a strict order, ``t`` rounds from ``mu`` give exactly best-of-``2^t`` of ``mu``
(:func:`theory.methods.best_of_n.best_of_n`), which raises the one-shot ceiling ``1/2 + 2 Var``
towards 1.  Checkpoint selection along a simulated DPO training path is in
:mod:`theory.checkpoints`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InvalidParameterError, ShapeMismatchError
from .numbers import common_kind, half_of, is_exact, to_float
from .preferences import validate_preference_matrix
from .simplex import validate_distribution
from .winrate import win_rate

__all__ = [
    "sft_step",
    "iterated_sft",
    "IteratedSFT",
]


def sft_step(P: Any, pi: Any) -> np.ndarray:
    """One round of SFT on fresh pairs from ``pi``: ``pi'(y) = 2 pi(y) (P pi)(y)`` (one prompt,
    ``P`` ``(K, K)``, ``pi`` ``(K,)``); exact for exact input, a probability vector because
    ``pi^T P pi = 1/2``.

    >>> from fractions import Fraction
    >>> from theory.preferences import rock_paper_scissors
    >>> sft_step(rock_paper_scissors(), [Fraction(1, 2), Fraction(1, 2), 0]).tolist()
    [Fraction(3, 4), Fraction(1, 4), Fraction(0, 1)]
    """
    P_arr = validate_preference_matrix(P)
    p = validate_distribution(pi, name="pi")
    if p.shape[0] != P_arr.shape[0]:
        raise ShapeMismatchError(f"pi has {p.shape[0]} entries but P is {P_arr.shape}")
    P_arr, p = common_kind(P_arr, p)
    out = 2 * p * (P_arr @ p)
    if not is_exact(out):
        out = out / out.sum()  # remove float drift; exact arithmetic needs none
    return out


@dataclass(frozen=True)
class IteratedSFT:
    """A trajectory of iterated SFT: ``models`` ``(T + 1, K)`` (``models[0]`` the start),
    ``win_rates[t] = WR(pi_t; mu)`` against the start ``mu`` (exact when the trajectory is),
    ``self_gain[t] = WR(pi_{t+1}; pi_t) - 1/2 = 2 Var_{pi_t}(W_{pi_t})``, ``leaders[t]`` the
    most likely response of ``pi_t``, ``log_models`` ``(T + 1, K)`` the log-probabilities up to a
    per-step constant (float; a float trajectory is computed in log space so that no mass
    underflows to an exact 0)."""

    models: np.ndarray
    win_rates: list
    self_gain: list
    leaders: np.ndarray
    log_models: np.ndarray

    @property
    def steps(self) -> int:
        return self.models.shape[0] - 1

    def log_potential(self) -> np.ndarray:
        """The Lyapunov quantity ``V_t = (1/K) sum_y log pi_t(y)`` (float, ``(T + 1,)``).
        For a regular tournament (every column of ``P`` sums to ``K/2``, e.g. cyclic ``P``)
        Jensen gives ``V_{t+1} - V_t = (1/K) sum_y log(2 W_t(y)) <= 0`` with equality only at
        constant ``W_t``: the trajectory moves away from the uniform equilibrium for ever."""
        lm = self.log_models
        norm = np.log(np.sum(np.exp(lm - lm.max(axis=1, keepdims=True)), axis=1)) + lm.max(axis=1)
        return np.mean(lm, axis=1) - norm

    def leader_changes(self) -> int:
        """How many times the most likely response changes along the trajectory."""
        return int(np.sum(self.leaders[1:] != self.leaders[:-1]))


def iterated_sft(P: Any, mu: Any, steps: int) -> IteratedSFT:
    """Iterate :func:`sft_step` ``steps`` times from ``mu`` (one prompt).  Exact input gives an
    exact trajectory (denominators roughly square each step, so keep ``steps`` small); float
    input a float one.

    >>> from fractions import Fraction
    >>> from theory.preferences import total_order
    >>> tr = iterated_sft(total_order(2), [Fraction(1, 2)] * 2, 2)
    >>> tr.models[-1].tolist(), tr.win_rates
    ([Fraction(15, 16), Fraction(1, 16)], [Fraction(1, 2), Fraction(5, 8), Fraction(23, 32)])
    """
    if not isinstance(steps, int | np.integer) or steps < 0:
        raise InvalidParameterError(f"steps = {steps!r}, expected an integer >= 0")
    P_arr = validate_preference_matrix(P)
    mu_arr = validate_distribution(mu, name="mu")
    P_arr, mu_arr = common_kind(P_arr, mu_arr)
    models = [mu_arr]
    if is_exact(mu_arr):
        for _ in range(steps):
            models.append(sft_step(P_arr, models[-1]))
        with np.errstate(divide="ignore"):
            logs = [np.log(to_float(m)) for m in models]
    else:  # in log space, so that mass going to 0 never underflows into a false fixed point
        with np.errstate(divide="ignore"):
            logs = [np.log(mu_arr)]
        with np.errstate(divide="ignore"):
            log_P = np.log(P_arr)
        for _ in range(steps):
            # log W(y) = logsumexp_j (log P[y, j] + log pi(j)): no underflow to log 0
            lw = np.logaddexp.reduce(log_P + logs[-1][None, :], axis=1)
            lw = lw - np.logaddexp.reduce(logs[-1])
            nxt = logs[-1] + np.log(2.0) + lw
            nxt = nxt - np.max(nxt)
            logs.append(nxt)
            p = np.exp(nxt)
            models.append(p / p.sum())
    if is_exact(mu_arr):
        wr = [win_rate(P_arr, m, mu_arr) for m in models]
        gains = [win_rate(P_arr, models[t + 1], models[t]) - half_of(P_arr) for t in range(steps)]
    else:  # validated once above; the bilinear forms in one pass
        Ms = np.stack(models)
        wr = (Ms @ (P_arr @ mu_arr)).tolist()
        gains = (np.einsum("ti,ij,tj->t", Ms[1:], P_arr, Ms[:-1]) - 0.5).tolist()
    leaders = np.array([int(np.argmax(lg)) for lg in logs])
    return IteratedSFT(np.stack(models), wr, gains, leaders, np.stack(logs))
