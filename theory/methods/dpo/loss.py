"""The DPO loss: population and sampled losses, their weights, the logit gradient.

With ``d_x(y) = log pi_x(y) - log pi_ref,x(y)`` the DPO loss of a model ``pi`` on the preference
data distribution ``D = (rho, mu0, mu1, P)`` is (docs/theory.md, Definitions: DPO)

    L(pi) = - sum_x sum_{i, j} w[x, i, j] log sigmoid(beta (d_x(i) - d_x(j))),

``w[x, i, j] = Pr(x, y_w = i, y_l = j)`` (:func:`theory.data.winner_loser_distribution`; a
sampled dataset uses its empirical counterpart).  Self-pairs ``i = j`` contribute ``w log 2``.
Every weighted evaluation goes through the one kernel :func:`theory.kernels.dpo_pair_loss`; the
per-comparison :func:`dpo_sampled_loss` is kept apart on purpose, as an independent second path.
The minimizer set is in :mod:`theory.methods.dpo.minimizers`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from scipy.special import expit, log_expit

from ..._validate import prompt_model
from ...data import (
    EmpiricalPreferences,
    PreferenceData,
    PreferenceDataset,
    winner_loser_distribution,
)
from ...errors import (
    InvalidParameterError,
    NonFiniteInputError,
    NotANumberError,
    NotAProbabilityVectorError,
    ShapeMismatchError,
    SupportMismatchError,
)
from ...kernels import check_beta, dpo_pair_loss
from ...numbers import as_array, to_float
from ...simplex import validate_distribution, validate_model

__all__ = [
    "Source",
    "dpo_weights",
    "dpo_loss",
    "dpo_loss_from_weights",
    "dpo_loss_from_log_probs",
    "dpo_sampled_loss",
    "dpo_implicit_reward",
    "dpo_logit_gradient",
    "LOG_PROB_TOL",
    "beta_as_float",
    "check_reference_support",
]

#: How far ``logsumexp`` of a row of log-probabilities may be from 0 (a normalised model).
LOG_PROB_TOL = 1e-9

#: What a DPO loss can be computed from: population data, a sampled dataset, its empirical
#: distribution, or winner-loser weights ``(M, K, K)`` given directly.
Source = PreferenceData | PreferenceDataset | EmpiricalPreferences | np.ndarray


def dpo_weights(source: Source) -> np.ndarray:
    """The winner-loser weights ``w`` ``(M, K, K)`` a DPO loss sees: the population
    ``w[x, i, j] = rho_x P_x[i, j] (mu1_x(i) mu0_x(j) + mu0_x(i) mu1_x(j))`` of a
    :class:`~theory.data.PreferenceData`, or the empirical frequencies of a
    :class:`~theory.data.PreferenceDataset` / :class:`~theory.data.EmpiricalPreferences`
    (exact Fractions, summing to 1), or an ``(M, K, K)`` array of nonnegative weights given
    directly (returned as read by :func:`theory.numbers.as_array`).

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)
    >>> dpo_weights(D)[0].tolist()
    [[Fraction(1, 4), Fraction(1, 2)], [Fraction(0, 1), Fraction(1, 4)]]
    """
    if isinstance(source, PreferenceData):
        return winner_loser_distribution(source)
    if isinstance(source, EmpiricalPreferences):
        return source.winner_loser
    if isinstance(source, np.ndarray):
        if source.dtype == np.float64:  # no copy: the arrays of this path can be large
            w = source
            if not np.isfinite(w).all():
                raise NonFiniteInputError("w has a NaN or infinite entry, expected finite weights")
        else:
            w = as_array(source, name="w")
        if w.ndim != 3 or w.shape[1] != w.shape[2]:
            raise ShapeMismatchError(f"w has shape {w.shape}, expected (M, K, K)")
        if np.any(w < 0):
            raise InvalidParameterError("w has a negative entry, expected weights >= 0")
        return w
    if isinstance(source, PreferenceDataset):
        if source.n == 0:
            raise InvalidParameterError("the dataset is empty: the DPO loss is undefined")
        c = np.zeros((source.M, source.K, source.K), dtype=np.int64)
        np.add.at(c, (source.x, source.winners, source.losers), 1)
        return np.array([Fraction(int(v), source.n) for v in c.ravel()], dtype=object).reshape(
            c.shape
        )
    raise InvalidParameterError(
        f"source of type {type(source).__name__} is not PreferenceData, PreferenceDataset or "
        "EmpiricalPreferences"
    )


def _models(pi: Any, pi_ref: Any, M: int, K: int) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for name, m in (("pi", pi), ("pi_ref", pi_ref)):
        arr = validate_model(m, name=name, K=K)
        if arr.shape[0] != M:
            raise ShapeMismatchError(f"{name} has {arr.shape[0]} prompts but the data has {M}")
        out.append(arr)
    return out[0], out[1]


def check_reference_support(pi_ref: np.ndarray, compared: np.ndarray) -> None:
    """The one support rule of DPO (docs/dpo_sft.md, "Zeros in the reference"): ``pi_ref`` must
    be positive on every response the data compares with another response (``compared``,
    ``(M, K)`` booleans), since ``d = log pi - log pi_ref`` is undefined there otherwise.  Raises
    :class:`~theory.errors.SupportMismatchError` naming the first offending entry; the loss
    functions and :func:`~theory.methods.dpo.dpo_minimizers` all apply it.  Responses the data
    never compares may have ``pi_ref = 0`` (the loss does not see them).

    >>> check_reference_support(np.array([[0.5, 0.5, 0.0]]), np.array([[True, True, False]]))
    >>> check_reference_support(np.array([[0.5, 0.5, 0.0]]), np.array([[True, True, True]]))
    Traceback (most recent call last):
    ...
    theory.errors.SupportMismatchError: pi_ref[0, 2] = 0 but the data compares response 2 at \
prompt 0: log pi - log pi_ref is undefined (DPO needs pi_ref > 0 on every compared response)
    """
    bad = np.argwhere(compared & (to_float(pi_ref) == 0))
    if len(bad):
        x, y = (int(v) for v in bad[0])
        raise SupportMismatchError(
            f"pi_ref[{x}, {y}] = 0 but the data compares response {y} at prompt {x}: "
            "log pi - log pi_ref is undefined (DPO needs pi_ref > 0 on every compared response)"
        )


def beta_as_float(beta: Any) -> float:
    """A validated ``beta > 0`` as a float: ``inf`` when it is too large for float64 (an exact
    ``10**400``) and ``0.0`` when it underflows; callers treat both ends as limits.

    >>> beta_as_float(Fraction(10**400)), beta_as_float(Fraction(1, 10**400))
    (inf, 0.0)
    """
    try:
        return float(beta)
    except OverflowError:
        return float("inf")


def _margins(b: float, delta: np.ndarray) -> np.ndarray:
    """``beta * delta`` with its limits: 0 where ``delta = 0`` (also for ``beta = inf``),
    ``delta`` itself where it is infinite (also for ``beta`` underflowed to 0)."""
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = b * delta
    return np.where(delta == 0, 0.0, np.where(np.isinf(delta), delta, scaled))


def _log_ratio(pi: np.ndarray, pi_ref: np.ndarray, compared: np.ndarray) -> np.ndarray:
    """``d = log pi - log pi_ref`` (float, ``-inf`` where ``pi = 0``); raises when ``pi_ref`` is 0
    on a compared response (:func:`check_reference_support`)."""
    check_reference_support(pi_ref, compared)
    p, r = to_float(pi), to_float(pi_ref)
    with np.errstate(divide="ignore"):
        d = np.log(p) - np.log(np.where(r > 0, r, 1.0))
    return d


def _compared(w: np.ndarray) -> np.ndarray:
    """``(M, K)``: True where a response is in some comparison with another response."""
    off = w.copy()
    idx = np.arange(w.shape[1])
    off[:, idx, idx] = 0.0
    return (off.sum(axis=2) + off.sum(axis=1)) > 0


def _weighted_loss(w: np.ndarray, d: np.ndarray, b: float, name: str) -> float:
    """The kernel :func:`theory.kernels.dpo_pair_loss` on validated float weights and log-ratios
    ``d`` (``-inf`` allowed): a compared pair with ``d = -inf`` on both sides has no margin
    (:class:`~theory.errors.SupportMismatchError`); ``+inf`` when a winner has zero mass."""
    xs, ii, jj = np.nonzero(w > 0)
    both = (ii != jj) & np.isneginf(d[xs, ii]) & np.isneginf(d[xs, jj])
    if np.any(both):
        x, i, j = int(xs[both][0]), int(ii[both][0]), int(jj[both][0])
        raise SupportMismatchError(
            f"{name}[{x}, {i}] = {name}[{x}, {j}] = {'-inf' if name == 'log_pi' else 0} but the "
            f"data compares {i} with {j}: the DPO margin is undefined"
        )
    if 0.0 < b < np.inf:
        return float(dpo_pair_loss(w, d, b))
    return _limit_loss(w, d, b)


def _limit_loss(w: np.ndarray, d: np.ndarray, b: float) -> float:
    """The loss when ``beta`` is beyond float64 (``b = 0.0`` underflowed or ``inf``): each
    compared pair contributes ``w log(1 + exp(-margin))`` with the margin's limit
    (:func:`_margins`); exact to float precision, since ``|beta (d_i - d_j)|`` is then below
    ``1e-300`` or above ``1e300`` unless ``d_i = d_j``."""
    xs, ii, jj = np.nonzero(w > 0)
    with np.errstate(invalid="ignore"):  # -inf - (-inf) on a self-pair, which is set to 0
        delta = np.where(ii == jj, 0.0, d[xs, ii] - d[xs, jj])
    return float(-np.sum(w[xs, ii, jj] * log_expit(_margins(b, delta))))


def _read_weights(w: Any) -> np.ndarray:
    """``w`` as float ``(M, K, K)`` nonnegative finite weights, or a named error."""
    w_arr = to_float(as_array(w, name="w"))
    if w_arr.ndim != 3 or w_arr.shape[1] != w_arr.shape[2] or w_arr.size == 0:
        raise ShapeMismatchError(f"w has shape {w_arr.shape}, expected non-empty (M, K, K)")
    if np.any(w_arr < 0):
        raise InvalidParameterError("w has a negative entry, expected weights >= 0")
    return w_arr


def dpo_loss_from_weights(w: Any, pi: Any, pi_ref: Any, beta: Any = 1) -> float:
    """``- sum_{x, i, j} w[x, i, j] log sigmoid(beta (d_x(i) - d_x(j)))`` with
    ``d = log pi - log pi_ref``, for any nonnegative weights ``w`` ``(M, K, K)`` and models
    ``(M, K)``.  A float; ``+inf`` when a pair with ``w > 0`` has a winner of zero mass and a loser
    of positive mass; :class:`~theory.errors.SupportMismatchError` when both have zero mass (the
    margin is undefined) or ``pi_ref`` is zero on a compared response.

    >>> w = [[[0, Fraction(1, 2)], [Fraction(1, 2), 0]]]
    >>> round(dpo_loss_from_weights(w, [[Fraction(1, 2)] * 2], [[Fraction(1, 2)] * 2]), 6)
    0.693147
    """
    w_arr = _read_weights(w)
    M, K = w_arr.shape[0], w_arr.shape[1]
    b = beta_as_float(check_beta(beta, positive=True))
    pi_arr, ref_arr = _models(pi, pi_ref, M, K)
    compared = _compared(w_arr)
    d = _log_ratio(pi_arr, ref_arr, compared)
    return _weighted_loss(w_arr, d, b, "pi")


def dpo_loss_from_log_probs(w: Any, log_pi: Any, pi_ref: Any, beta: Any = 1) -> float:
    """:func:`dpo_loss_from_weights` with the model given by its log-probabilities ``log_pi``
    ``(M, K)`` (float; ``-inf`` for zero mass), for models too peaked to store as probabilities.

    >>> w = [[[0, Fraction(1, 2)], [Fraction(1, 2), 0]]]
    >>> round(dpo_loss_from_log_probs(w, np.log([[0.5, 0.5]]), [[Fraction(1, 2)] * 2]), 6)
    0.693147
    """
    w_arr = _read_weights(w)
    lp = _read_log_probs(log_pi, "log_pi")
    if lp.shape != w_arr.shape[:2]:
        raise ShapeMismatchError(
            f"w has shape {w_arr.shape}, log_pi {lp.shape}: expected (M, K, K), (M, K)"
        )
    b = beta_as_float(check_beta(beta, positive=True))
    ref = prompt_model(pi_ref, "pi_ref", lp.shape[0], lp.shape[1])
    compared = _compared(w_arr)
    check_reference_support(ref, compared)
    r = to_float(ref)
    log_ref = np.log(np.where(r > 0, r, 1.0))
    return _weighted_loss(w_arr, lp - log_ref, b, "log_pi")


def _read_log_probs(log_pi: Any, name: str) -> np.ndarray:
    """``log_pi`` as a float ``(M, K)`` array of normalised log-probabilities (``-inf`` allowed
    for zero mass; NaN, ``+inf`` or a row whose ``logsumexp`` is not 0 within
    :data:`LOG_PROB_TOL` raise a named error)."""
    arr = np.asarray(log_pi, dtype=object) if not isinstance(log_pi, np.ndarray) else log_pi
    if arr.dtype.kind not in "iuf":
        bad = [v for v in np.ravel(arr) if isinstance(v, bool | str | complex) or v is None]
        if bad or arr.dtype.kind not in "iufO":
            raise NotANumberError(f"{name} holds {bad[0] if bad else arr.dtype!r}, not a number")
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise NotANumberError(f"{name} holds a value that is not a real number") from None
    lp = np.asarray(arr, dtype=np.float64)
    if lp.ndim == 1:
        lp = lp[None, :]
    if lp.ndim != 2 or lp.size == 0:
        raise ShapeMismatchError(f"{name} has shape {lp.shape}, expected non-empty (M, K)")
    if np.isnan(lp).any() or np.isposinf(lp).any():
        raise NonFiniteInputError(f"{name} has a NaN or +inf entry, expected log-probabilities")
    with np.errstate(divide="ignore"):
        total = np.logaddexp.reduce(lp, axis=1)
    off = np.flatnonzero(~(np.abs(total) <= LOG_PROB_TOL))
    if len(off):
        raise NotAProbabilityVectorError(
            f"row {int(off[0])} of {name} has logsumexp {total[off[0]]:.3g}, expected 0 "
            "(log-probabilities of a distribution)"
        )
    return lp


def dpo_loss(data: PreferenceData, pi: Any, pi_ref: Any, beta: Any = 1) -> float:
    """Population DPO loss ``L(pi) = - E_D[log sigmoid(beta (d(y_w) - d(y_l)))]`` on ``data``
    (``mu0 != mu1`` and many prompts allowed), ``pi`` and ``pi_ref`` ``(M, K)``.  Float (nats).

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)
    >>> u = [Fraction(1, 2)] * 2
    >>> round(dpo_loss(D, u, u), 6), dpo_loss(D, [Fraction(3, 4), Fraction(1, 4)], u) < 0.69
    (0.693147, True)
    """
    return dpo_loss_from_weights(winner_loser_distribution(data), pi, pi_ref, beta)


def dpo_sampled_loss(dataset: PreferenceDataset, pi: Any, pi_ref: Any, beta: Any = 1) -> float:
    """Finite-sample DPO loss ``-(1/n) sum_t log sigmoid(beta (d(y_w,t) - d(y_l,t)))``, computed
    comparison by comparison (an independent path to :func:`dpo_loss_from_weights` on the
    empirical weights, :func:`dpo_weights`).

    >>> from theory.data import sample_dataset
    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)
    >>> ds = sample_dataset(D, 20, np.random.default_rng(0))
    >>> u = [Fraction(1, 2)] * 2
    >>> round(dpo_sampled_loss(ds, u, u), 6)
    0.693147
    """
    if not isinstance(dataset, PreferenceDataset):
        raise InvalidParameterError(
            f"dataset of type {type(dataset).__name__}, expected a PreferenceDataset"
        )
    if dataset.n == 0:
        raise InvalidParameterError("the dataset is empty: the DPO loss is undefined")
    b = beta_as_float(check_beta(beta, positive=True))
    pi_arr, ref_arr = _models(pi, pi_ref, dataset.M, dataset.K)
    yw, yl = dataset.winners, dataset.losers
    compared = np.zeros((dataset.M, dataset.K), dtype=bool)
    off = yw != yl
    compared[dataset.x[off], yw[off]] = True
    compared[dataset.x[off], yl[off]] = True
    d = _log_ratio(pi_arr, ref_arr, compared)
    dw, dl = d[dataset.x, yw], d[dataset.x, yl]
    if np.any(off & np.isneginf(dw) & np.isneginf(dl)):
        raise SupportMismatchError("pi is 0 on both responses of a compared pair")
    with np.errstate(invalid="ignore"):
        margin = np.where(off, _margins(b, np.where(off, dw - dl, 0.0)), 0.0)
    if np.any(margin == -np.inf):
        return float("inf")
    return float(-np.mean(log_expit(margin)))


def dpo_logit_gradient(w: Any, z: Any, log_pi_ref: Any, beta: float = 1.0) -> np.ndarray:
    """The gradient of ``L = -sum_{x,i,j} w[x,i,j] log sigmoid(beta (d_x(i) - d_x(j)))`` in
    tabular logits ``z`` ``(M, K)`` (``pi_x = softmax(z_x)``, ``d = log pi - log_pi_ref``), float
    ``(M, K)``: with ``c[x,i,j] = beta w[x,i,j] sigmoid(-beta (d_x(i) - d_x(j)))`` and
    ``g = -sum_j c[., ., j] + sum_i c[., i, .]`` (the gradient in ``d``), it is
    ``g - pi (sum_y g(y))``.  Zero at every DPO minimizer (the KKT certificate).

    >>> w = np.array([[[0.0, 0.5], [0.5, 0.0]]])
    >>> dpo_logit_gradient(w, np.zeros((1, 2)), np.log(np.full((1, 2), 0.5))).tolist()
    [[0.0, 0.0]]
    """
    b = beta_as_float(check_beta(beta, positive=True))
    w_arr = _read_weights(w)
    M, K = w_arr.shape[0], w_arr.shape[1]
    z_arr = to_float(as_array(z, name="z"))
    log_ref = to_float(as_array(log_pi_ref, name="log_pi_ref"))
    for name, a in (("z", z_arr), ("log_pi_ref", log_ref)):
        if a.shape != (M, K):
            raise ShapeMismatchError(f"{name} has shape {a.shape} but w has {w_arr.shape}")
    logpi = z_arr - np.logaddexp.reduce(z_arr, axis=1, keepdims=True)
    d = logpi - log_ref
    m = _margins(b, d[:, :, None] - d[:, None, :])
    coef = w_arr * expit(-m) * min(b, np.finfo(float).max)
    g_d = -coef.sum(axis=2) + coef.sum(axis=1)
    return g_d - np.exp(logpi) * g_d.sum(axis=1, keepdims=True)


def dpo_implicit_reward(pi: Any, pi_ref: Any, beta: Any = 1) -> np.ndarray:
    """DPO's implicit reward ``beta (log pi - log pi_ref)`` (float, same shape as ``pi``: a
    distribution ``(K,)`` or a model ``(M, K)``).  ``-inf`` where ``pi = 0``; ``pi_ref`` must be
    positive everywhere (the reward is undefined where it is 0: the support rule of
    :func:`check_reference_support`), else :class:`~theory.errors.SupportMismatchError`.

    >>> dpo_implicit_reward([Fraction(1, 2), Fraction(1, 2)], [Fraction(1, 4), Fraction(3, 4)])
    array([ 0.69314718, -0.40546511])
    """
    b = beta_as_float(check_beta(beta, positive=True))
    one = np.ndim(np.asarray(pi, dtype=object)) == 1
    read = (
        (lambda a, name: validate_distribution(a, name=name))
        if one
        else (lambda a, name: validate_model(a, name=name))
    )
    p, r = to_float(read(pi, "pi")), to_float(read(pi_ref, "pi_ref"))
    if p.shape != r.shape:
        raise ShapeMismatchError(f"pi has shape {p.shape} but pi_ref has shape {r.shape}")
    r2 = r.reshape(-1, r.shape[-1])
    check_reference_support(r2, np.ones(r2.shape, dtype=bool))
    with np.errstate(divide="ignore"):
        return _margins(b, np.log(p) - np.log(r))
