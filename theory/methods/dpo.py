"""Direct preference optimization (DPO): population and sampled losses, and the minimizer set.

With ``d_x(y) = log pi_x(y) - log pi_ref,x(y)`` the DPO loss of a model ``pi`` on the preference
data distribution ``D = (rho, mu0, mu1, P)`` is (THEORY.md, Definitions: DPO)

    L(pi) = - sum_x sum_{i, j} w[x, i, j] log sigmoid(beta (d_x(i) - d_x(j))),

``w[x, i, j] = Pr(x, y_w = i, y_l = j)`` (:func:`theory.data.winner_loser_distribution`; a
sampled dataset uses its empirical counterpart).  Self-pairs ``i = j`` contribute ``w log 2``.

**Minimizers** (claim ``DPO-fixed-points``).  ``L`` depends on ``pi`` only through the margins
``beta (d(i) - d(j))`` of compared pairs, and ``-L`` is the Bradley-Terry log-likelihood of the
"reward" ``beta d``.  Per prompt, let ``C_1, ..., C_m`` be the weakly connected components of the
comparison graph of ``w_x`` (:func:`theory.bradley_terry.comparison_graph`) and ``U`` the
responses in no comparison.  When the Bradley-Terry MLE ``r`` exists, the minimizer set is

    { pi : pi_x = sum_c t_c nu_c + u,  t_c > 0,  u >= 0 on U,  sum_c t_c + sum u = 1 },
    nu_c(y) proportional to pi_ref(y) exp(r(y) / beta) on C_c,

so ``beta d = r + const_c`` on each component and the mass on ``U`` is free.  The win rate is
linear in ``pi``, so its supremum and infimum over the set (a linear program in ``(t, u)``) are
attained on the closure at a vertex: a ``nu_c`` or a point mass on ``U``.  When the MLE does not
exist (some group wins every comparison with the rest of its component), no minimizer exists
and ``L`` keeps falling along the direction that lowers the losers' log-probabilities.

With ``mu0 = mu1 = mu`` of full support and ``P`` Bradley-Terry there is one component and
``U`` is empty: the set is the single model ``pi_ref exp(r / beta) / Z``, the RLHF optimum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np
from scipy.special import expit, log_expit

from ..bradley_terry import ComparisonGraph, comparison_graph, fit_bradley_terry
from ..data import (
    EmpiricalPreferences,
    PreferenceData,
    PreferenceDataset,
    data_anchor,
    winner_loser_distribution,
)
from ..errors import (
    InvalidParameterError,
    NoMaximumLikelihoodError,
    NonFiniteInputError,
    ShapeMismatchError,
    SupportMismatchError,
)
from ..numbers import Number, as_array, format_number, is_exact, scalar, to_float
from ..preferences import validate_preference_stack
from ..simplex import validate_distribution, validate_model

__all__ = [
    "DPO_TOL",
    "DPOMinimizerSet",
    "WinRateRange",
    "dpo_weights",
    "dpo_loss",
    "dpo_loss_from_weights",
    "dpo_loss_from_log_probs",
    "dpo_sampled_loss",
    "dpo_implicit_reward",
    "dpo_logit_gradient",
    "dpo_minimizers",
    "dpo_win_rate_range",
    "dpo_data_win_rate_range",
]

#: Float tolerance for recognising that a float minimizer satisfies its defining equations.
DPO_TOL = 1e-8

Source = PreferenceData | PreferenceDataset | EmpiricalPreferences | np.ndarray


def _check_beta(beta: Any) -> Any:
    b = as_array(beta, name="beta")
    if b.ndim != 0 or not b.item() > 0:
        raise InvalidParameterError(f"beta = {format_number(b)}, expected a number > 0")
    return b.item()


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


def _log_ratio(pi: np.ndarray, pi_ref: np.ndarray, compared: np.ndarray) -> np.ndarray:
    """``d = log pi - log pi_ref`` (float, ``-inf`` where ``pi = 0``); raises when ``pi_ref`` is 0
    on a compared response."""
    p, r = to_float(pi), to_float(pi_ref)
    bad = np.argwhere(compared & (r == 0))
    if len(bad):
        x, y = (int(v) for v in bad[0])
        raise SupportMismatchError(
            f"pi_ref[{x}, {y}] = 0 but the data compares response {y} at prompt {x}: "
            "log pi - log pi_ref is undefined"
        )
    with np.errstate(divide="ignore"):
        d = np.log(p) - np.log(np.where(r > 0, r, 1.0))
    return d


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
    w_arr = to_float(as_array(w, name="w"))
    if w_arr.ndim != 3 or w_arr.shape[1] != w_arr.shape[2]:
        raise ShapeMismatchError(f"w has shape {w_arr.shape}, expected (M, K, K)")
    if np.any(w_arr < 0):
        raise InvalidParameterError("w has a negative entry, expected weights >= 0")
    M, K = w_arr.shape[0], w_arr.shape[1]
    b = float(_check_beta(beta))
    pi_arr, ref_arr = _models(pi, pi_ref, M, K)
    idx = np.arange(K)
    diag = w_arr[:, idx, idx].sum()
    W = w_arr.copy()
    W[:, idx, idx] = 0.0
    compared = (W.sum(axis=2) + W.sum(axis=1)) > 0
    d = _log_ratio(pi_arr, ref_arr, compared)
    total = float(diag * np.log(2.0))
    xs, ii, jj = np.nonzero(W > 0)
    di, dj = d[xs, ii], d[xs, jj]
    both = np.isneginf(di) & np.isneginf(dj)
    if np.any(both):
        x, i, j = int(xs[both][0]), int(ii[both][0]), int(jj[both][0])
        raise SupportMismatchError(
            f"pi[{x}, {i}] = pi[{x}, {j}] = 0 but the data compares {i} with {j}: the DPO margin "
            "is undefined"
        )
    with np.errstate(invalid="ignore"):
        margin = b * (di - dj)
    if np.any(margin == -np.inf):
        return float("inf")
    return total - float(np.sum(W[xs, ii, jj] * log_expit(margin)))


def dpo_loss_from_log_probs(w: Any, log_pi: Any, pi_ref: Any, beta: Any = 1) -> float:
    """:func:`dpo_loss_from_weights` with the model given by its log-probabilities ``log_pi``
    ``(M, K)`` (float; ``-inf`` for zero mass), for models too peaked to store as probabilities.

    >>> w = [[[0, Fraction(1, 2)], [Fraction(1, 2), 0]]]
    >>> round(dpo_loss_from_log_probs(w, np.log([[0.5, 0.5]]), [[Fraction(1, 2)] * 2]), 6)
    0.693147
    """
    w_arr = to_float(as_array(w, name="w"))
    lp = np.asarray(log_pi, dtype=np.float64)
    if w_arr.ndim != 3 or lp.shape != w_arr.shape[:2]:
        raise ShapeMismatchError(
            f"w has shape {w_arr.shape}, log_pi {lp.shape}: expected (M, K, K), (M, K)"
        )
    M, K = lp.shape
    b = float(_check_beta(beta))
    ref = validate_model(pi_ref, name="pi_ref", K=K)
    idx = np.arange(K)
    W = w_arr.copy()
    W[:, idx, idx] = 0.0
    compared = (W.sum(axis=2) + W.sum(axis=1)) > 0
    log_ref = _log_ratio(ref, np.ones_like(to_float(ref)), np.zeros_like(compared))  # log pi_ref
    _log_ratio(ref, ref, compared)  # raises if pi_ref is 0 on a compared response
    d = lp - log_ref
    total = float(w_arr[:, idx, idx].sum() * np.log(2.0))
    xs, ii, jj = np.nonzero(W > 0)
    di, dj = d[xs, ii], d[xs, jj]
    if np.any(np.isneginf(di) & np.isneginf(dj)):
        raise SupportMismatchError("log_pi is -inf on both responses of a compared pair")
    with np.errstate(invalid="ignore"):
        margin = b * (di - dj)
    if np.any(margin == -np.inf):
        return float("inf")
    return total - float(np.sum(W[xs, ii, jj] * log_expit(margin)))


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
    if dataset.n == 0:
        raise InvalidParameterError("the dataset is empty: the DPO loss is undefined")
    b = float(_check_beta(beta))
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
        margin = np.where(off, b * (dw - dl), 0.0)
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
    w_arr = to_float(as_array(w, name="w"))
    z_arr = to_float(as_array(z, name="z"))
    log_ref = to_float(as_array(log_pi_ref, name="log_pi_ref"))
    logpi = z_arr - np.logaddexp.reduce(z_arr, axis=1, keepdims=True)
    d = logpi - log_ref
    m = beta * (d[:, :, None] - d[:, None, :])
    coef = w_arr * expit(-m) * beta
    g_d = -coef.sum(axis=2) + coef.sum(axis=1)
    return g_d - np.exp(logpi) * g_d.sum(axis=1, keepdims=True)


def dpo_implicit_reward(pi: Any, pi_ref: Any, beta: Any = 1) -> np.ndarray:
    """DPO's implicit reward ``beta (log pi - log pi_ref)`` (float, same shape as ``pi``).

    >>> dpo_implicit_reward([Fraction(1, 2), Fraction(1, 2)], [Fraction(1, 4), Fraction(3, 4)])
    array([ 0.69314718, -0.40546511])
    """
    b = float(_check_beta(beta))
    p, r = to_float(as_array(pi, name="pi")), to_float(as_array(pi_ref, name="pi_ref"))
    if p.shape != r.shape:
        raise ShapeMismatchError(f"pi has shape {p.shape} but pi_ref has shape {r.shape}")
    with np.errstate(divide="ignore"):
        return b * (np.log(p) - np.log(r))


# ---------------------------------------------------------------------------------------------
# the minimizer set


@dataclass(frozen=True)
class WinRateRange:
    """The best and worst win rate over (the closure of) the DPO minimizer set.

    ``best``/``worst``: ``sup`` and ``inf`` of ``WR(pi; q)`` over the set (exact Fractions when
    every vertex is exact); ``best_model``/``worst_model`` ``(M, K)``: vertices of the closure
    attaining them; ``attained``: True when they are attained by minimizers themselves (each
    prompt's set has a single vertex, i.e. it is one point); ``vertex_values``: per prompt, the
    win rate of each vertex (``[(label, value), ...]``, label ``"C<k>"`` for a component's
    ``nu`` or ``"y<i>"`` for a point mass on a free response).
    """

    best: Number
    worst: Number
    best_model: np.ndarray
    worst_model: np.ndarray
    attained: bool
    exact: bool
    vertex_values: tuple


@dataclass(frozen=True)
class DPOMinimizerSet:
    """The set of minimizers of a DPO loss, per prompt (see the module docstring).

    ``exists``: False when no minimizer exists on some prompt.  ``nus[x]``: the component
    distributions ``nu_c`` ``(K,)`` (zero off ``C_c``), exact when ``exact_parts[x][c]``;
    ``components[x]``: the weakly connected components (int arrays); ``free[x]``: responses in no
    comparison (their mass is unconstrained); ``rewards`` ``(M, K)``: the Bradley-Terry MLE
    (mean zero per component, float) or the within-strong-component fit when ``exists`` is False;
    ``min_loss``: the minimum (or, when none exists, the infimum) of the loss; ``direction``
    ``(M, K)``: when ``exists`` is False, a log-probability direction ``v`` along which the loss
    strictly falls for ever (``pi_t`` proportional to ``pi_ref exp((r + t v)/beta)``), else zeros;
    ``gradient_norm``: the largest Bradley-Terry certificate (0 for exact parts);
    ``graphs``: the comparison graphs.
    """

    beta: Any
    pi_ref: np.ndarray
    exists: bool
    nus: tuple
    components: tuple
    free: tuple
    rewards: np.ndarray
    weights: np.ndarray = field(repr=False)
    groups: tuple = field(repr=False)
    direction: np.ndarray
    gradient_norm: float
    exact_parts: tuple
    graphs: tuple

    @property
    def M(self) -> int:
        return len(self.nus)

    @cached_property
    def min_loss(self) -> float:
        """The minimum of the loss (its infimum when no minimizer exists): ``sum w_ii log 2`` plus,
        for each component (each strong component when none exists), minus the Bradley-Terry
        log-likelihood of its fitted rewards.  Computed on first use (``O(K^2)``)."""
        w = self.weights
        idx = np.arange(w.shape[1])
        total = float(w[:, idx, idx].sum() * np.log(2.0))
        for x, groups in enumerate(self.groups):
            for comp in groups:
                if len(comp) < 2:
                    continue
                sub = w[x] if len(comp) == w.shape[1] else w[x][np.ix_(comp, comp)]
                sub = sub.copy()
                np.fill_diagonal(sub, 0.0)
                r = self.rewards[x, comp]
                total -= float(np.sum(sub * log_expit(r[:, None] - r[None, :])))
        return total

    @property
    def is_point(self) -> bool:
        """True when the set is a single model (one component per prompt, no free response)."""
        return self.exists and all(
            len(c) == 1 and len(f) == 0 for c, f in zip(self.nus, self.free, strict=True)
        )

    def point(self, t: Any = None, u: Any = None) -> np.ndarray:
        """A member of the set: ``pi_x = sum_c t[x][c] nu_c + sum_y u[x][y] e_y``.

        Default weights: equal weights over the components and the free responses, which is a
        minimizer (every ``t_c > 0``).  ``(M, K)``, exact when every part is exact.
        """
        if not self.exists:
            raise InvalidParameterError("the DPO loss has no minimizer here (see .direction)")
        rows = []
        for x in range(self.M):
            nus, free = self.nus[x], self.free[x]
            n = len(nus) + len(free)
            given = ([] if t is None else list(t[x])) + ([] if u is None else list(u[x]))
            exact = (
                all(self.exact_parts[x])
                and is_exact(self.pi_ref)
                and all(isinstance(v, Fraction | int | np.integer) for v in given)
            )
            one = Fraction(1) if exact else 1.0
            tx = [one / n] * len(nus) if t is None else list(t[x])
            ux = [one / n] * len(free) if u is None else list(u[x])
            if len(tx) != len(nus) or len(ux) != len(free):
                raise ShapeMismatchError(
                    f"prompt {x}: {len(tx)} component weights and {len(ux)} free masses given, "
                    f"expected {len(nus)} and {len(free)}"
                )
            total = sum(tx) + sum(ux)
            if any(v <= 0 for v in tx) or any(v < 0 for v in ux) or abs(total - 1) > DPO_TOL:
                raise InvalidParameterError(
                    f"prompt {x}: component weights must be > 0 and free masses >= 0, summing "
                    f"to 1 (they sum to {format_number(total)})"
                )
            K = self.pi_ref.shape[1]
            row = np.array([Fraction(0)] * K, dtype=object) if exact else np.zeros(K)
            for weight, nu in zip(tx, nus, strict=True):
                row = row + weight * (nu if exact else to_float(nu))
            for weight, y in zip(ux, free, strict=True):
                row[y] = row[y] + weight
            rows.append(row)
        kinds = {is_exact(r) for r in rows}
        if kinds == {True}:
            return np.stack(rows)
        return np.stack([to_float(r) for r in rows])

    def path_log(self, t: float) -> np.ndarray:
        """``log pi_t`` for :meth:`path` (float ``(M, K)``), exact in floats even where ``pi_t``
        itself underflows to 0 (far along the path); ``-inf`` nowhere on compared responses."""
        b = float(self.beta)
        ref = to_float(self.pi_ref)
        out = np.full(ref.shape, -np.inf)
        for x in range(self.M):
            comps, free = self.components[x], self.free[x]
            n = len(comps) + len(free)
            for comp in comps:
                logits = (
                    np.log(ref[x, comp]) + (self.rewards[x, comp] + t * self.direction[x, comp]) / b
                )
                out[x, comp] = logits - np.logaddexp.reduce(logits) - np.log(n)
            for y in free:
                out[x, y] = -np.log(n)
        return out

    def path(self, t: float) -> np.ndarray:
        """When no minimizer exists: ``pi_t`` proportional (per weak component, with the
        components' masses and free responses as in :meth:`point`) to
        ``pi_ref exp((r + t v) / beta)``; the loss falls strictly in ``t`` towards
        ``min_loss``.  Float ``(M, K)``."""
        b = float(self.beta)
        ref = to_float(self.pi_ref)
        out = np.zeros(ref.shape)
        for x in range(self.M):
            comps, free = self.components[x], self.free[x]
            n = len(comps) + len(free)
            for comp in comps:
                logits = (self.rewards[x, comp] + t * self.direction[x, comp]) / b
                wts = ref[x, comp] * np.exp(logits - logits.max())
                out[x, comp] = wts / wts.sum() / n
            for y in free:
                out[x, y] = 1.0 / n
        return out


def _exact_strengths(w: np.ndarray, comp: np.ndarray) -> list[Fraction] | None:
    """Rational strengths ``s`` on ``comp`` with ``w[i, j] / w[j, i] = s_i / s_j`` on every
    compared pair, or None.  Such ``s`` makes the Bradley-Terry gradient exactly zero, so
    ``log s`` is the MLE (exact certificate)."""
    s = {int(comp[0]): Fraction(1)}
    frontier = [int(comp[0])]
    members = {int(c) for c in comp}
    while frontier:
        i = frontier.pop()
        for j in members:
            if j in s or i == j:
                continue
            if w[i, j] + w[j, i] == 0:
                continue
            if w[i, j] == 0 or w[j, i] == 0:
                return None
            s[j] = s[i] * w[j, i] / w[i, j]
            frontier.append(j)
    if len(s) != len(members):
        return None
    for i in members:
        for j in members:
            if i < j and w[i, j] + w[j, i] > 0 and w[i, j] * s[j] != w[j, i] * s[i]:
                return None
    return [s[int(c)] for c in comp]


def _integer_inverse(beta: Any) -> int | None:
    """``1 / beta`` when it is a positive integer (so ``s^(1/beta)`` stays rational), else None."""
    if isinstance(beta, Fraction) and beta.numerator == 1:
        return beta.denominator
    return None


def _exact_log(v: Fraction) -> float:
    return float(np.log(float(v)))


def dpo_minimizers(source: Source, pi_ref: Any, beta: Any = 1) -> DPOMinimizerSet:
    """The DPO minimizer set of ``source`` (population data or a sampled dataset) for reference
    ``pi_ref`` ``(M, K)`` and ``beta > 0``; see the module docstring for the set.

    Costs one Bradley-Terry fit (:func:`theory.bradley_terry.fit_bradley_terry`) per prompt plus
    ``O(K^2)`` work.  A component's ``nu_c`` is **exact** when the data is exact, the odds
    ``w[i, j] / w[j, i]`` of its compared pairs factor as ``s_i / s_j`` with rational ``s`` (then
    ``r = log s`` with an exactly zero gradient; always the case for population data with an
    exact Bradley-Terry ``P``), ``pi_ref`` is exact and ``1 / beta`` is a positive integer
    (``nu_c`` proportional to ``pi_ref s^(1/beta)``); a component of one response is always exact.
    Otherwise it is a float computed from the fit (certificate ``gradient_norm``).

    When the MLE does not exist on some prompt, ``exists`` is False, ``rewards`` holds the
    within-strong-component fits, ``min_loss`` the infimum of the loss (the sum of the
    strong components' own minima) and ``direction`` the comparison graph's divergence direction.

    >>> from theory.preferences import bradley_terry_from_strengths
    >>> D = PreferenceData(P=bradley_terry_from_strengths([1, 3]), mu0=[Fraction(1, 2)] * 2)
    >>> S = dpo_minimizers(D, [[Fraction(1, 2)] * 2])
    >>> S.is_point, S.point().tolist()  # pi_ref * s / Z: the RLHF optimum
    (True, [[Fraction(1, 4), Fraction(3, 4)]])
    """
    b = _check_beta(beta)
    w_all = dpo_weights(source)
    M, K = w_all.shape[0], w_all.shape[1]
    ref = validate_model(pi_ref, name="pi_ref", K=K)
    if ref.shape[0] != M:
        raise ShapeMismatchError(f"pi_ref has {ref.shape[0]} prompts but the data has {M}")
    k_inv = _integer_inverse(b) if is_exact(w_all) and is_exact(ref) else None
    w_float = to_float(w_all)
    rewards = np.zeros((M, K))
    direction = np.zeros((M, K))
    nus, comps_all, frees, exact_parts, graphs = [], [], [], [], []
    exists, gnorm = True, 0.0
    groups_all = []
    for x in range(M):
        wx = w_float[x]  # the fit and the graph ignore the diagonal
        whole: np.ndarray | None = None
        if not wx.any():  # (a diagonal-only prompt gives a graph with no comparison)
            graph: ComparisonGraph = comparison_graph(wx)
        else:
            try:  # one fit for the whole prompt; its graph serves the rest
                fit = fit_bradley_terry(wx)
                graph, whole = fit.graph, fit.rewards
                gnorm = max(gnorm, fit.gradient_norm)
            except NoMaximumLikelihoodError as err:
                graph = err.graph  # type: ignore[assignment]
        graphs.append(graph)
        free = np.flatnonzero(~graph.compared)
        comps = graph.weak
        if graph.exists:
            groups = comps
        else:
            exists = False
            groups = graph.strong
            direction[x] = graph.divergence_direction()
        groups_all.append(groups)
        fitted = np.zeros(K)
        nu_x, exact_x = [], []
        for comp in groups:
            s_exact = None
            if is_exact(w_all):
                s_exact = _exact_strengths(w_all[x], comp)
            if s_exact is not None:
                r = np.array([_exact_log(v) for v in s_exact])
                r = r - r.mean()
            elif len(comp) == 1:
                r = np.zeros(1)
            elif whole is not None:
                r = whole[comp]
            else:
                fit = fit_bradley_terry(wx[np.ix_(comp, comp)])
                r = fit.rewards
                gnorm = max(gnorm, fit.gradient_norm)
            fitted[comp] = r
            if not graph.exists:
                continue
            ref_c = ref[x, comp]
            if len(comp) == 1:
                one = Fraction(1) if is_exact(ref) else 1.0
                nu = np.array([Fraction(0)] * K, dtype=object) if is_exact(ref) else np.zeros(K)
                nu[comp] = one
                exact_x.append(is_exact(ref))
            elif s_exact is not None and k_inv is not None:
                wts = ref_c * np.array([v**k_inv for v in s_exact], dtype=object)
                nu = np.array([Fraction(0)] * K, dtype=object)
                nu[comp] = wts / sum(wts, Fraction(0))
                exact_x.append(True)
            else:
                logits = np.log(to_float(ref_c)) + r / float(b)
                wts = np.exp(logits - logits.max())
                nu = np.zeros(K)
                nu[comp] = wts / wts.sum()
                exact_x.append(False)
            nu_x.append(nu)
        rewards[x] = fitted
        nus.append(tuple(nu_x))
        comps_all.append(comps)
        frees.append(free)
        exact_parts.append(tuple(exact_x))
    return DPOMinimizerSet(
        beta=b,
        pi_ref=ref,
        exists=exists,
        nus=tuple(nus),
        components=tuple(comps_all),
        free=tuple(frees),
        rewards=rewards,
        weights=w_float,
        groups=tuple(groups_all),
        direction=direction,
        gradient_norm=gnorm,
        exact_parts=tuple(exact_parts),
        graphs=tuple(graphs),
    )


def dpo_win_rate_range(
    minimizers: DPOMinimizerSet, P: Any, q: Any, rho: Any = None
) -> WinRateRange:
    """``sup`` and ``inf`` of ``WR(pi; q) = sum_x rho_x pi_x^T P_x q_x`` over the DPO minimizer
    set: the linear program ``max/min sum_x rho_x (sum_c t_c WR_x(nu_c) + sum_y u_y W_q(x, y))``
    over ``t_c > 0``, ``u >= 0``, ``sum t + sum u = 1`` per prompt, solved exactly at its vertices
    (the LP separates over prompts and its feasible set is a simplex).  Exact when ``P``, ``q``,
    ``rho`` and the vertices are exact.  Raises :class:`~theory.errors.InvalidParameterError`
    when the set is empty (no minimizer).

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=[[Fraction(1, 2), Fraction(2, 3)], [Fraction(1, 3), Fraction(1, 2)]],
    ...                    mu0=[[1, 0]])   # only response 0 is ever shown: response 1 is free
    >>> S = dpo_minimizers(D, [[Fraction(1, 2)] * 2])
    >>> R = dpo_win_rate_range(S, D.P, [[1, 0]])
    >>> R.best, R.worst, R.attained
    (Fraction(1, 2), Fraction(1, 3), False)
    """
    if not minimizers.exists:
        raise InvalidParameterError(
            "the DPO loss has no minimizer (the Bradley-Terry MLE does not exist): the win-rate "
            "range over the minimizer set is undefined"
        )
    M = minimizers.M
    P3 = validate_preference_stack(P)
    K = P3.shape[1]
    q_arr = validate_model(q, name="q", K=K)
    if P3.shape[0] != M or q_arr.shape[0] != M:
        raise ShapeMismatchError(f"P and q must have {M} prompts, like the minimizer set")
    rho_arr = (
        as_array([Fraction(1, M)] * M) if rho is None else validate_distribution(rho, name="rho")
    )
    exact = (
        all(all(p) for p in minimizers.exact_parts)
        and is_exact(P3)
        and is_exact(q_arr)
        and is_exact(rho_arr)
    )
    conv = (lambda a: a) if exact else to_float
    P3, q_arr, rho_arr = conv(P3), conv(q_arr), conv(rho_arr)
    zero: Any = Fraction(0) if exact else 0.0
    best, worst = zero, zero
    best_rows, worst_rows, values_all = [], [], []
    attained = True
    for x in range(M):
        Wq = P3[x] @ q_arr[x]
        verts = []
        for c, nu in enumerate(minimizers.nus[x]):
            verts.append((f"C{c}", conv(nu)))
        for y in minimizers.free[x]:
            e = np.array([zero] * K, dtype=object if exact else float)
            e[y] = Fraction(1) if exact else 1.0
            verts.append((f"y{int(y)}", e))
        vals = [(label, v @ Wq) for label, v in verts]
        if len(verts) > 1:
            attained = False
        values_all.append(tuple((label, scalar(val, exact)) for label, val in vals))
        i_best = max(range(len(vals)), key=lambda i: vals[i][1])
        i_worst = min(range(len(vals)), key=lambda i: vals[i][1])
        best = best + rho_arr[x] * vals[i_best][1]
        worst = worst + rho_arr[x] * vals[i_worst][1]
        best_rows.append(verts[i_best][1])
        worst_rows.append(verts[i_worst][1])
    return WinRateRange(
        best=scalar(best, exact),
        worst=scalar(worst, exact),
        best_model=np.stack(best_rows),
        worst_model=np.stack(worst_rows),
        attained=attained,
        exact=exact,
        vertex_values=tuple(values_all),
    )


def dpo_data_win_rate_range(data: PreferenceData, pi_ref: Any, beta: Any = 1) -> WinRateRange:
    """:func:`dpo_win_rate_range` of the population minimizer set against the data anchor
    ``(mu0 + mu1) / 2`` under ``data.rho``."""
    S = dpo_minimizers(data, pi_ref, beta)
    return dpo_win_rate_range(S, data.P, data_anchor(data), data.rho)
