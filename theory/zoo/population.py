"""The population value of a zoo loss, and its gradient in the tabular logits.

Every zoo loss separates over prompts, so the float machinery works on batches of ``B``
independent single-prompt problems (:class:`PairBatch`: winner-loser weights ``w`` ``(B, K, K)``
already multiplied by ``rho``, ``log pi_ref`` ``(B, K)``, ``beta`` ``(B,)``).  The formula is the
one of :mod:`theory.zoo.loss`:

    L = sum_{i,j} w_ij f(u_i - u_j) + sum_y p_w(y) g_w(u_y - delta) + p_l(y) g_l(u_y - delta).

:func:`population_loss` is the public entry: exact (a Fraction) when the data, ``beta`` and the
implicit rewards ``d`` are rational and the loss uses no transcendental function (IPO, SPPO-hard,
hinge, the squared GPO), a float otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .._validate import prompt_model
from ..data import PreferenceData, winner_loser_distribution
from ..errors import InvalidParameterError, ShapeMismatchError, SupportMismatchError
from ..kernels import check_beta
from ..numbers import Number, as_array, is_exact, to_float
from ..simplex import validate_model
from .loss import PairwiseLoss
from .ops import DUAL, EXACT, FLOAT, Dual, NotRationalError, Ops

__all__ = [
    "PairBatch",
    "batch_from_data",
    "scores",
    "loss_value",
    "profile_shift",
    "logit_scale",
    "loss_and_gradient",
    "population_loss",
]


@dataclass(frozen=True)
class PairBatch:
    """``B`` single-prompt problems: ``w`` ``(B, K, K)`` (rho-weighted winner-loser weights),
    ``log_ref`` ``(B, K)`` (``log pi_ref``; zeros for a reference-free loss), ``beta`` ``(B,)``."""

    w: np.ndarray
    log_ref: np.ndarray
    beta: np.ndarray

    @property
    def B(self) -> int:
        return int(self.w.shape[0])

    @property
    def K(self) -> int:
        return int(self.w.shape[-1])

    @property
    def pw(self) -> np.ndarray:
        """Winner marginals ``p_w(y) = sum_j w[y, j]``."""
        return self.w.sum(axis=-1)

    @property
    def pl(self) -> np.ndarray:
        """Loser marginals ``p_l(y) = sum_i w[i, y]``."""
        return self.w.sum(axis=-2)


def batch_from_data(data: PreferenceData, pi_ref: Any, beta: Any) -> PairBatch:
    """The prompts of ``data`` as a float :class:`PairBatch` (``B = M``).

    >>> D = PreferenceData(P=[[0.5, 0.8], [0.2, 0.5]], mu0=[0.5, 0.5])
    >>> batch_from_data(D, [0.5, 0.5], 1.0).w.round(3).tolist()
    [[[0.25, 0.4], [0.1, 0.25]]]
    """
    b = float(check_beta(beta, positive=True))
    w = to_float(winner_loser_distribution(data))
    ref = to_float(prompt_model(pi_ref, "pi_ref", data.M, data.K))
    seen = (w.sum(axis=2) + w.sum(axis=1)) > 0
    bad = np.argwhere(seen & (ref == 0))
    if len(bad):
        x, y = (int(v) for v in bad[0])
        raise SupportMismatchError(
            f"pi_ref[{x}, {y}] = 0 but the data shows response {y} at prompt {x}"
        )
    with np.errstate(divide="ignore"):
        log_ref = np.where(ref > 0, np.log(np.where(ref > 0, ref, 1.0)), -np.inf)
    return PairBatch(w=w, log_ref=log_ref, beta=np.full(data.M, b))


def scores(loss: PairwiseLoss, lp: np.ndarray, log_ref: np.ndarray, beta: np.ndarray) -> Any:
    """The scores ``u`` ``(..., K)`` of models with log-probabilities ``lp`` (floats):
    ``beta (lp - log_ref)``, ``beta lp`` or ``lp - log(1 - e^lp)`` (``loss.score``)."""
    b = np.asarray(beta, dtype=float)[..., None]
    if loss.score == "log_ratio":
        with np.errstate(invalid="ignore"):
            return b * (lp - log_ref)
    if loss.score == "log_prob":
        return b * lp
    with np.errstate(divide="ignore"):
        return lp - np.log(-np.expm1(lp))


def _weighted(weight: Any, terms: Any, axes: tuple[int, ...]) -> Any:
    with np.errstate(invalid="ignore"):
        return np.sum(np.where(weight > 0, weight * terms, 0 * weight), axis=axes)


def loss_value(
    loss: PairwiseLoss,
    w: Any,
    u: Any,
    lp: Any,
    beta: Any,
    ops: Ops = FLOAT,
    delta: Any = None,
) -> Any:
    """``L`` ``(...)`` from weights ``w`` ``(..., K, K)``, scores ``u`` and log-probabilities
    ``lp`` ``(..., K)`` (``lp`` may be None when the loss does not read it), ``beta``
    broadcastable to ``(...)``, in the back end ``ops``; ``delta`` ``(...)``: BCO's shift."""
    exact = ops is EXACT
    bt = beta if exact or np.ndim(beta) == 0 else np.asarray(beta)
    total: Any = 0
    if loss.pair is not None:
        z = u[..., :, None] - u[..., None, :]
        pb = bt if np.ndim(bt) == 0 else bt[..., None, None]
        total = total + _weighted(w, loss.pair(z, ops, loss.namespace(pb)), (-2, -1))
    if loss.separable:
        sb = bt if np.ndim(bt) == 0 else bt[..., None]
        ns = loss.namespace(sb)
        us = u if delta is None else u - np.asarray(delta)[..., None]
        for side, weight in ((loss.winner, w.sum(axis=-1)), (loss.loser, w.sum(axis=-2))):
            if side is not None:
                total = total + _weighted(weight, side(us, lp, ops, ns), (-1,))
    return total


def _side_slopes(
    loss: PairwiseLoss, pw: np.ndarray, pl: np.ndarray, us: np.ndarray, lp: np.ndarray, ns: Any
) -> tuple[np.ndarray, np.ndarray]:
    """``dL/du`` and ``dL/dlp`` of the separable terms (float, ``(B, K)``)."""
    du = np.zeros_like(us)
    dlp = np.zeros_like(us)
    for side, weight in ((loss.winner, pw), (loss.loser, pl)):
        if side is None:
            continue
        with np.errstate(invalid="ignore", over="ignore"):
            a = side(Dual(us, np.ones_like(us)), lp, DUAL, ns)
            b = side(us, Dual(lp, np.ones_like(lp)), DUAL, ns)
        sa = Dual.lift(a).slope * np.ones_like(us)
        sb = Dual.lift(b).slope * np.ones_like(us)
        du += np.where(weight > 0, weight * sa, 0.0)
        dlp += np.where(weight > 0, weight * sb, 0.0)
    return du, dlp


def profile_shift(loss: PairwiseLoss, w: np.ndarray, u: np.ndarray, beta: np.ndarray) -> Any:
    """BCO's shift minimized out: ``delta`` ``(B,)`` with ``dL/d delta = 0`` (bisection on the
    increasing derivative of the convex separable terms); None for a loss without a shift."""
    if not loss.shift:
        return None
    pw, pl = w.sum(axis=-1), w.sum(axis=-2)
    ns = loss.namespace(np.asarray(beta, dtype=float)[..., None])
    finite = np.where(np.isfinite(u), u, 0.0)
    lo = finite.min(axis=-1) - 80.0
    hi = finite.max(axis=-1) + 80.0
    for _ in range(90):
        mid = (lo + hi) / 2
        du, _ = _side_slopes(loss, pw, pl, u - mid[..., None], u, ns)
        grow = -du.sum(axis=-1) > 0  # dL/d delta > 0: the minimum lies below
        hi = np.where(grow, mid, hi)
        lo = np.where(grow, lo, mid)
    return (lo + hi) / 2


def logit_scale(loss: PairwiseLoss, beta: np.ndarray) -> np.ndarray:
    """The scale ``s`` of the solver's variables ``v = s theta`` (``pi = softmax(theta)``):
    ``beta`` for a loss of the margins (then ``v`` moves the scores one for one, at every beta),
    1 for a loss with separable terms or log-odds scores (whose terms read ``d`` itself)."""
    if loss.score == "log_odds" or (loss.separable and not loss.shift):
        return np.ones_like(beta)
    return beta


def loss_and_gradient(
    loss: PairwiseLoss,
    batch: PairBatch,
    v: np.ndarray,
    delta: np.ndarray | None = None,
    scale: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Value ``(B,)`` and gradient of ``L`` in the scaled logits ``v`` ``(B, K)`` (``pi =
    softmax(v / s)``, ``s = scale``, by default :func:`logit_scale`) and in BCO's shift
    ``delta`` ``(B,)`` (None otherwise).

    Chain rule: ``dL/du_y = sum_j w_yj f'(z_yj) - sum_i w_iy f'(z_iy) + (separable)``,
    ``dL/dlp = s' dL/du + (direct)``, ``dL/dtheta = g - pi sum g``, ``dL/dv = dL/dtheta / s``.
    """
    s = logit_scale(loss, batch.beta) if scale is None else scale
    theta = v / s[:, None]
    lp = theta - np.logaddexp.reduce(theta, axis=-1, keepdims=True)
    u = scores(loss, lp, batch.log_ref, batch.beta)
    value = np.zeros(batch.B)
    du = np.zeros_like(u)
    _add_pair_terms(loss, batch, u, value, du)
    dlp_direct, g_delta = _add_separable_terms(loss, batch, u, lp, delta, value, du)
    if loss.score == "log_odds":
        dscore = 1.0 / -np.expm1(lp)
    else:
        dscore = batch.beta[:, None] * np.ones_like(lp)
    g = dscore * du + dlp_direct
    pi = np.exp(lp)
    g_theta = g - pi * g.sum(axis=1, keepdims=True)
    return value, g_theta / s[:, None], g_delta


def _add_pair_terms(
    loss: PairwiseLoss, batch: PairBatch, u: np.ndarray, value: np.ndarray, du: np.ndarray
) -> None:
    """Add the pair terms ``sum w_ij f(u_i - u_j)`` to ``value`` ``(B,)`` and their slopes in
    the scores to ``du`` ``(B, K)`` (in place); nothing for a loss without a pair term."""
    if loss.pair is None:
        return
    w = batch.w
    z = u[:, :, None] - u[:, None, :]
    with np.errstate(invalid="ignore", over="ignore"):
        f = loss.pair(Dual(z, np.ones_like(z)), DUAL, loss.namespace(batch.beta[:, None, None]))
    fv = np.where(w > 0, w * f.value, 0.0)
    fs = np.where(w > 0, w * f.slope, 0.0)
    value += fv.sum(axis=(1, 2))
    du += fs.sum(axis=2) - fs.sum(axis=1)


def _add_separable_terms(
    loss: PairwiseLoss,
    batch: PairBatch,
    u: np.ndarray,
    lp: np.ndarray,
    delta: np.ndarray | None,
    value: np.ndarray,
    du: np.ndarray,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Add the separable winner/loser terms to ``value`` and their score slopes to ``du`` (in
    place); return their direct slope in ``log pi`` ``(B, K)`` and the gradient in BCO's shift
    ``delta`` (None without a shift).  A loss without separable terms adds nothing."""
    if not loss.separable:
        return np.zeros_like(u), None
    us = u if delta is None else u - delta[:, None]
    ns = loss.namespace(batch.beta[:, None])
    for side, weight in ((loss.winner, batch.pw), (loss.loser, batch.pl)):
        if side is not None:
            with np.errstate(invalid="ignore", over="ignore"):
                value += _weighted(weight, side(us, lp, FLOAT, ns), (-1,))
    side_du, dlp_direct = _side_slopes(loss, batch.pw, batch.pl, us, lp, ns)
    du += side_du
    g_delta = None if delta is None else -side_du.sum(axis=1)
    return dlp_direct, g_delta


def _exact_value(loss: PairwiseLoss, w: np.ndarray, d: np.ndarray, beta: Any) -> Fraction:
    u = beta * d
    return Fraction(loss_value(loss, w, u, None, beta, EXACT).sum())


def population_loss(
    loss: PairwiseLoss,
    data: PreferenceData,
    pi: Any = None,
    pi_ref: Any = None,
    beta: Any = 1,
    *,
    d: Any = None,
) -> Number:
    """The population loss ``L`` (module docstring of :mod:`theory.zoo.loss`) of a model on
    ``data``: the model is ``pi`` ``(M, K)`` (with ``pi_ref`` for a reference-based loss), or its
    implicit rewards ``d = log pi - log pi_ref`` ``(M, K)`` given directly (reference-based losses
    only).  A Fraction when ``data``, ``beta`` and ``d`` are exact and the loss is rational
    (polynomial or piecewise linear in ``d``), else a float (DPO and cDPO through
    :func:`theory.kernels.dpo_pair_loss`).

    >>> from theory.zoo import ZOO
    >>> D = PreferenceData(P=[[Fraction(1, 2), Fraction(3, 4)], [Fraction(1, 4), Fraction(1, 2)]],
    ...                    mu0=[Fraction(1, 2), Fraction(1, 2)])
    >>> population_loss(ZOO["ipo"], D, beta=1, d=[[Fraction(1, 4), Fraction(-1, 4)]])
    Fraction(1, 4)
    >>> round(population_loss(ZOO["sigmoid"], D, [0.5, 0.5], [0.5, 0.5]), 6)  # log 2
    0.693147
    """
    b = check_beta(beta, positive=True)
    w_exact = winner_loser_distribution(data)
    if d is not None:
        if loss.reference_free:
            raise InvalidParameterError(f"{loss.name} is reference-free: pass pi, not d")
        d_arr = as_array(d, name="d")
        d_arr = d_arr.reshape(data.M, data.K) if d_arr.size == data.M * data.K else d_arr
        if d_arr.shape != (data.M, data.K):
            raise ShapeMismatchError(f"d has shape {d_arr.shape}, expected {(data.M, data.K)}")
        if is_exact(d_arr) and data.exact and isinstance(b, Fraction) and loss.exact_pair:
            try:
                return _exact_value(loss, w_exact, d_arr, b)
            except (NotRationalError, TypeError):
                pass
        if pi_ref is None:
            ref = np.zeros((data.M, data.K))
        else:
            ref = np.log(to_float(validate_model(pi_ref, name="pi_ref", K=data.K)))
        lp = to_float(d_arr) + ref
        return _float_value(loss, to_float(w_exact), lp, ref, float(b))
    if pi is None:
        raise InvalidParameterError("give the model as pi (with pi_ref) or as d")
    p = to_float(validate_model(pi, name="pi", K=data.K))
    if loss.reference_free:
        ref_log = np.zeros_like(p)
    else:
        if pi_ref is None:
            raise InvalidParameterError(f"{loss.name} needs a reference model pi_ref")
        ref_log = batch_from_data(data, pi_ref, b).log_ref
    with np.errstate(divide="ignore"):
        lp = np.log(p)
    return _float_value(loss, to_float(w_exact), lp, ref_log, float(b))


def _float_value(
    loss: PairwiseLoss, w: np.ndarray, lp: np.ndarray, log_ref: np.ndarray, beta: float
) -> float:
    if loss.kernel is not None:
        with np.errstate(invalid="ignore"):
            return float(loss.kernel(w, lp - log_ref, loss.namespace(beta)))
    bvec = np.full(w.shape[0], beta)
    u = scores(loss, lp, log_ref, bvec)
    delta = profile_shift(loss, w, u, bvec)
    with np.errstate(invalid="ignore", over="ignore"):
        return float(np.sum(loss_value(loss, w, u, lp, bvec, FLOAT, delta)))
