"""Checkpoint selection along a simulated DPO training path (claim ``mitigations``).

:func:`checkpoint_path` simulates DPO training: full-batch gradient descent on the DPO loss
(:mod:`theory.methods.dpo`) of a sampled dataset, in tabular logits from ``pi_ref``, recording
each checkpoint's model, its training, held-out and population DPO losses and its win rate
against the data anchor ``(mu0 + mu1) / 2`` (docs/theory.md, DPO).  :func:`select_checkpoints`
chooses the checkpoint with the lowest held-out DPO loss and the one with the highest win rate
(known, or estimated from judged comparisons by :func:`estimate_win_rates`) and compares the win
rates of the two choices: a loss that does not correspond to win rate can pick the worse one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validate import prompt_model
from .data import PreferenceData, check_data, check_rng, data_anchor, sample_dataset
from .errors import (
    Float64RangeError,
    InvalidParameterError,
    ShapeMismatchError,
    SupportMismatchError,
)
from .kernels import check_beta, dpo_pair_loss
from .methods.dpo import beta_as_float, dpo_logit_gradient, dpo_weights
from .numbers import Number, as_array, to_float

__all__ = [
    "Checkpoints",
    "checkpoint_path",
    "select_checkpoints",
    "estimate_win_rates",
    "CheckpointChoice",
]


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
    The losses of all checkpoints are evaluated in one batched pass of the kernel
    :func:`theory.kernels.dpo_pair_loss` (as :func:`theory.methods.dpo.dpo_loss_from_weights`
    is; the tests compare the two).

    >>> from fractions import Fraction
    >>> D = PreferenceData(P=[[0.5, 0.7], [0.3, 0.5]], mu0=[0.5, 0.5])
    >>> cp = checkpoint_path(D, [[0.5, 0.5]], 1.0, np.random.default_rng(0), steps=5)
    >>> cp.models.shape, bool(cp.train_loss[-1] <= cp.train_loss[0])
    ((6, 1, 2), True)
    """
    beta, ref = _path_inputs(data, pi_ref, beta, rng, steps, n_train, n_heldout, learning_rate)
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
    d = L - log_ref[None]  # (T + 1, M, K): every checkpoint's losses in one kernel call each
    tl, hl, pl = (dpo_pair_loss(w, d, beta) for w in (w_train, w_held, w_pop))
    wr = np.einsum("x,txi,xij,xj->t", rho, models, P, anchor)
    return Checkpoints(models, tl, hl, pl, wr)


def _path_inputs(
    data: PreferenceData,
    pi_ref: Any,
    beta: Any,
    rng: Any,
    steps: Any,
    n_train: Any,
    n_heldout: Any,
    learning_rate: Any,
) -> tuple[float, np.ndarray]:
    """The validated ``beta`` (a float64) and reference (float ``(M, K)``, positive) of
    :func:`checkpoint_path`; named errors for everything else it is given."""
    check_data(data)
    check_rng(rng)
    b = beta_as_float(check_beta(beta, positive=True))
    if not 0.0 < b < float("inf"):
        raise Float64RangeError(
            f"beta = {b!r} as a float: the simulated training runs in float64, which cannot "
            "hold this beta"
        )
    counts = (steps, n_train, n_heldout)
    if any(isinstance(v, bool) or not isinstance(v, int | np.integer) for v in counts):
        raise InvalidParameterError("steps, n_train and n_heldout must be integers")
    if steps < 0 or n_train < 1 or n_heldout < 1 or not learning_rate > 0:
        raise InvalidParameterError("need steps >= 0, n_train, n_heldout >= 1, learning_rate > 0")
    ref = to_float(prompt_model(pi_ref, "pi_ref", data.M, data.K))
    if np.any(ref == 0):
        raise SupportMismatchError(
            "pi_ref has a zero entry: the simulated training starts from tabular logits "
            "log pi_ref, which must be finite (DPO needs pi_ref > 0 on compared responses)"
        )
    return b, ref


def _check_path(path: Any) -> None:
    if not isinstance(path, Checkpoints):
        raise InvalidParameterError(
            f"path is of type {type(path).__name__}, expected Checkpoints (checkpoint_path)"
        )


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
    _check_path(path)
    check_data(data)
    check_rng(rng)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise InvalidParameterError(f"n = {n!r}, expected a positive integer")
    if path.models.shape[1:] != (data.M, data.K):
        raise ShapeMismatchError(
            f"the path's models have shape {path.models.shape[1:]} but the data is "
            f"({data.M}, {data.K})"
        )
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
    _check_path(path)
    scores = (
        path.win_rates if win_rates is None else to_float(as_array(win_rates, name="win_rates"))
    )
    if scores.shape != path.win_rates.shape:
        raise ShapeMismatchError(
            f"win_rates has shape {scores.shape}, expected {path.win_rates.shape}"
        )
    by_loss = int(np.argmin(path.heldout_loss))
    by_wr = int(np.argmax(scores))
    return CheckpointChoice(
        by_loss, by_wr, float(path.win_rates[by_loss]), float(path.win_rates[by_wr])
    )
