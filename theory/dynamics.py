"""Iterated SFT (a replicator dynamic), best-of-n filtering and checkpoint selection.

**Iterated SFT.**  Training to convergence by SFT on the preferred response of fresh pairs drawn
from the current model ``pi_t`` (both responses from ``pi_t``) gives the winner distribution of
``pi_t`` (:func:`theory.methods.sft.winner_distribution` with ``mu0 = mu1 = pi_t``):

    pi_{t+1}(y) = 2 pi_t(y) W_{pi_t}(y) = pi_t(y) (1 + 2 (W_{pi_t}(y) - 1/2)),   W_pi = P pi,

a discrete-time replicator dynamic of the symmetric zero-sum game ``P - 1/2`` (THEORY.md, SFT;
claim ``mitigations``).  When ``P`` orders responses by a reward (a total order or
Bradley-Terry), ``W_pi`` is increasing in the reward for every ``pi``, so each step moves mass
up in likelihood ratio: the win rate against any fixed ``mu`` never falls and ``pi_t`` converges
to the best response in the support.  With cyclic preferences (rock-paper-scissors) there is no
such order and the trajectory keeps rotating.

**Best-of-n** (:func:`theory.methods.sft.best_of_n`) raises the one-shot ceiling
``1/2 + 2 Var`` (``n = 2``) towards ``n / (n + 1)`` for a strict order and a continuous start.

**Checkpoint selection** (:func:`checkpoint_path`, :func:`select_checkpoints`): along a simulated
DPO training path (full-batch gradient descent on the loss of a sampled dataset, tabular logits),
choose the checkpoint with the lowest held-out DPO loss or the highest win rate against the data
anchor, and compare the win rates of the two choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import log_expit

from .data import PreferenceData, data_anchor, sample_dataset
from .errors import InvalidParameterError, ShapeMismatchError
from .methods.dpo import dpo_logit_gradient, dpo_weights
from .numbers import Number, common_kind, half_of, is_exact, to_float
from .preferences import validate_preference_matrix
from .simplex import validate_distribution
from .winrate import win_rate

__all__ = [
    "sft_step",
    "iterated_sft",
    "IteratedSFT",
    "Checkpoints",
    "checkpoint_path",
    "select_checkpoints",
    "estimate_win_rates",
    "CheckpointChoice",
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


# ---------------------------------------------------------------------------------------------
# checkpoint selection along a simulated DPO training path


@dataclass(frozen=True)
class Checkpoints:
    """A simulated DPO training path: ``models`` ``(T + 1, M, K)`` (``models[0] = pi_ref``),
    ``train_loss`` and ``heldout_loss`` (DPO losses on the training and held-out samples),
    ``win_rates`` against the data anchor (population, float), ``population_loss``."""

    models: np.ndarray
    train_loss: np.ndarray
    heldout_loss: np.ndarray
    population_loss: np.ndarray
    win_rates: np.ndarray


def checkpoint_path(
    data: PreferenceData,
    pi_ref: Any,
    beta: float,
    rng: np.random.Generator,
    *,
    n_train: int = 50,
    n_heldout: int = 200,
    steps: int = 60,
    learning_rate: float = 1.0,
) -> Checkpoints:
    """Full-batch gradient descent on the DPO loss of ``n_train`` sampled comparisons (tabular
    logits from ``pi_ref``), recording every step's model, training and held-out DPO losses
    (``n_heldout`` fresh comparisons), population loss and win rate against the data anchor.
    The losses of all checkpoints are evaluated in one batched pass (the same formula as
    :func:`theory.methods.dpo.dpo_loss_from_weights`; the tests compare the two).

    >>> from fractions import Fraction
    >>> D = PreferenceData(P=[[0.5, 0.7], [0.3, 0.5]], mu0=[0.5, 0.5])
    >>> cp = checkpoint_path(D, [[0.5, 0.5]], 1.0, np.random.default_rng(0), steps=5)
    >>> cp.models.shape, bool(cp.train_loss[-1] <= cp.train_loss[0])
    ((6, 1, 2), True)
    """
    if beta <= 0 or steps < 0 or n_train < 1 or n_heldout < 1 or learning_rate <= 0:
        raise InvalidParameterError("need beta > 0, steps >= 0, n_train, n_heldout >= 1, lr > 0")
    ref = to_float(pi_ref)
    ref = ref.reshape(data.M, data.K)
    w_train = to_float(dpo_weights(sample_dataset(data, n_train, rng)))
    w_held = to_float(dpo_weights(sample_dataset(data, n_heldout, rng)))
    w_pop = to_float(dpo_weights(data))
    log_ref = np.log(ref)
    anchor = to_float(data_anchor(data))
    P, rho = to_float(data.P), to_float(data.rho)
    z = log_ref.copy()
    logs = []
    for t in range(steps + 1):
        logs.append(z - np.logaddexp.reduce(z, axis=1, keepdims=True))
        if t < steps:
            z = z - learning_rate * dpo_logit_gradient(w_train, z, log_ref, beta)
    L = np.stack(logs)  # (T + 1, M, K) log-probabilities
    models = np.exp(L)
    d = L - log_ref[None]
    logsig = log_expit(beta * (d[:, :, :, None] - d[:, :, None, :]))
    tl = -np.einsum("xij,txij->t", w_train, logsig)
    hl = -np.einsum("xij,txij->t", w_held, logsig)
    pl = -np.einsum("xij,txij->t", w_pop, logsig)
    wr = np.einsum("x,txi,xij,xj->t", rho, models, P, anchor)
    return Checkpoints(models, tl, hl, pl, wr)


def estimate_win_rates(
    path: Checkpoints, data: PreferenceData, n: int, rng: np.random.Generator
) -> np.ndarray:
    """What a practitioner measures: for each checkpoint ``pi_t`` of ``path``, the fraction of
    ``n`` judged comparisons it wins (``x ~ rho``, ``y ~ pi_t``, ``y' ~ (mu0 + mu1)/2``, the
    judge prefers ``y`` with probability ``P_x[y, y']``, ties half), an unbiased estimate of
    ``WR(pi_t; (mu0 + mu1)/2)``.  Float ``(T + 1,)``.

    >>> D = PreferenceData(P=[[0.5, 1.0], [0.0, 0.5]], mu0=[0.5, 0.5])
    >>> cp = Checkpoints(np.array([[[1.0, 0.0]]]), np.zeros(1), np.zeros(1), np.zeros(1),
    ...                  np.array([0.75]))
    >>> float(estimate_win_rates(cp, D, 4000, np.random.default_rng(0))[0]) > 0.7
    True
    """
    if not isinstance(n, int | np.integer) or n < 1:
        raise InvalidParameterError(f"n = {n!r}, expected a positive integer")
    P, rho, anchor = to_float(data.P), to_float(data.rho), to_float(data_anchor(data))
    T1 = path.models.shape[0]
    x = rng.choice(data.M, size=(T1, n), p=rho)
    t_idx = np.repeat(np.arange(T1)[:, None], n, axis=1)
    cdf_pi = np.cumsum(path.models, axis=2)[t_idx, x]  # (T1, n, K)
    y = np.minimum((rng.random((T1, n, 1)) >= cdf_pi).sum(axis=2), data.K - 1)
    cdf_q = np.cumsum(anchor, axis=1)[x]
    y2 = np.minimum((rng.random((T1, n, 1)) >= cdf_q).sum(axis=2), data.K - 1)
    p = P[x, y, y2]
    wins = (rng.random((T1, n)) < p).astype(float)
    wins[y == y2] = 0.5
    return wins.mean(axis=1)


@dataclass(frozen=True)
class CheckpointChoice:
    """The checkpoint chosen by the lowest held-out DPO loss (``by_loss``) and by the highest win
    rate (``by_win_rate``), with their win rates; ``regret`` = ``wr_by_win_rate - wr_by_loss``
    (>= 0) and ``differ`` whether the choices give different win rates."""

    by_loss: int
    by_win_rate: int
    wr_by_loss: Number
    wr_by_win_rate: Number

    @property
    def regret(self) -> float:
        return float(self.wr_by_win_rate) - float(self.wr_by_loss)

    @property
    def differ(self) -> bool:
        return self.wr_by_win_rate != self.wr_by_loss


def select_checkpoints(path: Checkpoints, *, win_rates: Any = None) -> CheckpointChoice:
    """Pick checkpoints along ``path`` by held-out DPO loss and by win rate (``win_rates``
    defaults to the population win rates of the path; pass estimated ones to select by an
    estimate).  The reported win rates are always the population ones.

    >>> cp = Checkpoints(np.zeros((3, 1, 2)), np.zeros(3), np.array([3., 1., 2.]), np.zeros(3),
    ...                  np.array([.5, .6, .7]))
    >>> c = select_checkpoints(cp); (c.by_loss, c.by_win_rate, round(c.regret, 12))
    (1, 2, 0.1)
    """
    scores = path.win_rates if win_rates is None else np.asarray(win_rates, dtype=float)
    if scores.shape != path.win_rates.shape:
        raise ShapeMismatchError(
            f"win_rates has shape {scores.shape}, expected {path.win_rates.shape}"
        )
    by_loss = int(np.argmin(path.heldout_loss))
    by_wr = int(np.argmax(scores))
    return CheckpointChoice(
        by_loss, by_wr, float(path.win_rates[by_loss]), float(path.win_rates[by_wr])
    )
