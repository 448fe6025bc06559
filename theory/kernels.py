"""Shared kernels: one implementation per formula that several modules need.

Each formula the library evaluates in more than one place lives here once, so that a fix is made
once:

* :func:`check_beta`: the one rule (and wording) for a regularization strength ``beta``;
* :func:`kl_rows` / :func:`kl_rows_from_logs`: the row-wise ``KL(pi_x || pi_ref,x)``;
* :func:`dpo_pair_loss`: the DPO loss on winner-loser weights,
  ``-sum_{x,i,j} w[x, i, j] log sigma(beta (d_x(i) - d_x(j)))``, for one model or many at once;
* :func:`tilt`: ``pi ∝ p exp(d)`` along the last axis (a closed-form optimum, an
  exponentiated-gradient step).

They trust validated inputs (shapes and probability vectors are checked at the public
boundary); :func:`check_beta` is itself a boundary check and raises
:class:`~theory.errors.InvalidParameterError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import log_expit, rel_entr

from .errors import InvalidParameterError, NonFiniteInputError, NotANumberError
from .numbers import Number, as_array, format_number, is_exact

__all__ = ["check_beta", "kl_rows", "kl_rows_from_logs", "dpo_pair_loss", "tilt"]


def check_beta(beta: Any, *, positive: bool = False, hint: str = "") -> Number:
    """``beta`` read as a scalar: a :class:`~fractions.Fraction` for rational input, else a float.

    The rule, for every function that takes a regularization strength: ``beta`` is one finite
    real number, ``beta >= 0`` (``beta > 0`` when ``positive``).  Anything else raises
    :class:`~theory.errors.InvalidParameterError` with the message
    ``"beta = <value>, expected a finite number >= 0"`` (``> 0``), followed by ``hint`` (what
    to call instead, e.g. the ``beta = 0`` limit) when given.

    >>> from fractions import Fraction
    >>> check_beta(Fraction(1, 2)), check_beta(0.25)
    (Fraction(1, 2), 0.25)
    >>> check_beta(0, positive=True, hint="use the limit")
    Traceback (most recent call last):
    ...
    theory.errors.InvalidParameterError: beta = 0, expected a finite number > 0 (use the limit)
    """
    bound = "> 0" if positive else ">= 0"
    tail = f" ({hint})" if hint else ""
    try:
        b = as_array(beta, name="beta")
    except (NonFiniteInputError, NotANumberError):
        raise InvalidParameterError(
            f"beta = {beta!r}, expected a finite number {bound}{tail}"
        ) from None
    if b.ndim != 0:
        raise InvalidParameterError(f"beta = {beta!r}, expected a finite number {bound}{tail}")
    v: Any = b[()]
    if v < 0 or (positive and v == 0):
        raise InvalidParameterError(
            f"beta = {format_number(v)}, expected a finite number {bound}{tail}"
        )
    return v if is_exact(b) else float(v)


def kl_rows(pi: np.ndarray, pi_ref: np.ndarray) -> np.ndarray:
    """``KL(pi_x || pi_ref,x) = sum_y pi_x(y) log(pi_x(y) / pi_ref,x(y))`` per row, in nats.

    ``pi`` and ``pi_ref`` are float arrays of one shape ``(..., K)``; the result has shape
    ``(...)``.  ``0 log 0 = 0``; a row where ``pi`` puts mass on a zero of ``pi_ref`` gets
    ``inf`` (no NaN).

    >>> kl_rows(np.array([[0.5, 0.5], [1.0, 0.0]]), np.array([[0.5, 0.5], [0.5, 0.5]])).round(4)
    array([0.    , 0.6931])
    """
    return np.sum(rel_entr(np.asarray(pi, dtype=float), np.asarray(pi_ref, dtype=float)), axis=-1)


def kl_rows_from_logs(logpi: np.ndarray, logref: np.ndarray) -> np.ndarray:
    """``KL(pi_x || pi_ref,x)`` per row from finite log-probabilities ``(..., K)`` (softmax
    policies, where every entry is positive).

    >>> kl_rows_from_logs(np.log([[0.5, 0.5]]), np.log([[0.5, 0.5]]))
    array([0.])
    """
    return np.sum(np.exp(logpi) * (logpi - logref), axis=-1)


def dpo_pair_loss(w: np.ndarray, d: np.ndarray, beta: float) -> np.ndarray:
    """The DPO loss ``-sum_{x,i,j} w[x, i, j] log sigma(beta (d_x(i) - d_x(j)))`` in floats.

    ``w`` ``(M, K, K)`` holds the winner-loser weights (``w[x, i, j]``: how often ``i`` beats
    ``j`` at prompt ``x``, see :func:`theory.methods.dpo.dpo_weights`); ``d`` holds the implicit
    rewards ``d_x(y) = log pi_x(y) - log pi_ref,x(y)``, shape ``(M, K)`` for one model or
    ``(N, M, K)`` for ``N`` models at once.  Pairs with zero weight contribute nothing (also
    where ``d`` is infinite there); a self-pair ``i = j`` has margin 0 by definition, so it
    contributes ``w log 2`` even where ``d`` is infinite.  Returns a 0-d array for one model and
    ``(N,)`` for many.

    >>> w = np.array([[[0.0, 1.0], [0.0, 0.0]]])
    >>> float(dpo_pair_loss(w, np.array([[0.0, 0.0]]), 1.0))   # log 2
    0.6931471805599453
    """
    w = np.asarray(w, dtype=float)
    d = np.asarray(d, dtype=float)
    with np.errstate(invalid="ignore"):
        margin = beta * (d[..., :, None] - d[..., None, :])
        margin = np.where(np.eye(d.shape[-1], dtype=bool), 0.0, margin)
        terms = np.where(w > 0, w * log_expit(np.where(w > 0, margin, 0.0)), 0.0)
    return -np.sum(terms, axis=(-3, -2, -1))


def tilt(p: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``pi ∝ p exp(d)`` along the last axis, in floats (mass where ``p`` is 0 stays 0).

    >>> tilt(np.array([0.5, 0.5, 0.0]), np.array([np.log(3.0), 0.0, 1.0])).tolist()
    [0.75, 0.25, 0.0]
    """
    with np.errstate(divide="ignore"):
        logp = np.log(p) + d
    e = np.exp(logp - np.max(logp, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
