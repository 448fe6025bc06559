"""Simulated training as practised: softmax policies trained by stochastic gradients on samples.

This module is the sandbox of the ``opt-success`` claim (docs/theory.md, claim 6): the population
objectives of WRO, DPO and SFT are known exactly, so a training run from sampled data can be scored
exactly against the objective's optimum.

**Policies.**  A softmax policy over ``M`` prompts and ``K`` responses has logits

    z_x(y) = log pi_ref,x(y) + phi(x, y)^T theta,      pi_theta,x = softmax(z_x),

where ``pi_ref`` (``(M, K)``, full support) is the starting model (``theta = 0`` gives
``pi_ref``).  The *tabular* policy has one free logit per ``(x, y)`` (``theta`` of shape
``(M, K)``, every model of full support is reachable); the *log-linear* policy shares a ``theta``
of shape ``(d,)`` across prompts through features ``phi`` of shape ``(M, K, d)`` with ``d < K``,
so the objective's exact optimum may lie outside the family.

**Objectives** (:class:`TrainingObjective`; ``rho`` the prompt weights, ``H = h(P_judge)``
elementwise, ``KL_x = KL(pi_x || pi_ref,x)``):

* WRO with a fixed anchor ``q`` (``pi_ref`` or the data anchor ``(mu0 + mu1)/2``):
  ``J(pi) = sum_x rho_x [pi_x^T H_x q_x - beta KL_x]``.  The judge is the true ``P`` or the
  Bradley-Terry fit of the data (``h = logit`` with that judge is RLHF).
* WRO self-play (NLHF, ``h = identity``): the game
  ``F(pi, q) = sum_x rho_x [pi_x^T P_x q_x - beta KL(pi_x) + beta KL(q_x)]`` scored by
  ``J(pi) = min_q F(pi, q)`` (``= sum_x rho_x [-beta KL_x - beta log sum_y pi_ref,x(y)
  exp(-(P_x^T pi_x)(y) / beta)]`` for ``beta > 0``, ``sum_x rho_x min_y (P_x^T pi_x)(y)`` for
  ``beta = 0``); its maximum is ``1/2``, attained at the (regularized) Nash equilibrium.
* DPO: ``J(pi) = -L_DPO(pi) = sum_{x,i,j} w[x,i,j] log sigmoid(beta (d_x(i) - d_x(j)))``,
  ``d = log pi - log pi_ref``, ``w`` the winner-loser distribution of the data (the
  constant ``w log 2`` of self-pairs included, as in :func:`theory.methods.dpo.dpo_loss`).
* SFT on preferred samples: ``J(pi) = sum_{x,y} p_w(x, y) log pi_x(y)``,
  ``p_w(x, y) = sum_j w[x, y, j]``.

**Training** (:func:`train`) uses samples only: REINFORCE with a leave-one-out baseline for WRO
(prompts ``x ~ rho``, responses ``y ~ pi_x``, opponents ``y' ~ q_x`` or ``~ pi_x`` in self-play,
reward ``h(P_judge,x[y, y']) - beta (log pi_x(y) - log pi_ref,x(y))``, an unbiased estimate of
the gradient of ``J`` (of ``F(., q)`` at ``q = pi`` in self-play)), and minibatch gradient ascent
on a dataset drawn with :func:`theory.data.sample_dataset` for DPO and SFT (one pass over a
dataset of ``steps * batch_size`` comparisons unless ``dataset_size`` says otherwise).  Plain SGD,
``theta <- theta + learning_rate * g``; a run is a deterministic function of its seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.special import log_softmax

from .data import PreferenceData, data_anchor, sample_dataset, winner_loser_distribution
from .errors import InvalidParameterError, ShapeMismatchError, SupportMismatchError
from .hfuncs import apply_h, as_h
from .kernels import check_beta, dpo_pair_loss, kl_rows_from_logs
from .methods.dpo import dpo_loss
from .methods.sft import sft_loss
from .numbers import to_float
from .wro import self_play_values, wro_objective

__all__ = [
    "SoftmaxPolicy",
    "tabular_policy",
    "log_linear_policy",
    "random_features",
    "policy_logits",
    "policy_probs",
    "initial_parameters",
    "TrainingObjective",
    "TrainingProblem",
    "make_problem",
    "TrainingSettings",
    "TrainingRun",
    "objective_value",
    "self_play_payoff",
    "self_play_objective",
    "objective_values",
    "expected_direction",
    "stochastic_gradient",
    "reinforce_direction",
    "train",
    "optimization_success",
    "SUCCESS_DENOMINATOR_TOL",
    "RunBatch",
    "train_batch",
]

#: Below this achievable improvement ``J(opt) - J(start)`` the start counts as already optimal.
SUCCESS_DENOMINATOR_TOL = 1e-12

Method = Literal["wro", "dpo", "sft"]
Anchor = Literal["ref", "data", "self"]
Judge = Literal["true", "bradley_terry"]


# ---------------------------------------------------------------------------------------------
# policies


@dataclass(frozen=True)
class SoftmaxPolicy:
    """A softmax policy family: ``z_x = log_base_x + phi_x theta``, ``pi_x = softmax(z_x)``.

    ``log_base`` is ``log pi_ref`` (``(M, K)``).  ``features`` is None for the tabular family
    (``theta`` of shape ``(M, K)`` added to the logits directly) or ``(M, K, d)`` for the
    log-linear family (``theta`` of shape ``(d,)``).
    """

    log_base: np.ndarray
    features: np.ndarray | None = None

    @property
    def M(self) -> int:
        return int(self.log_base.shape[0])

    @property
    def K(self) -> int:
        return int(self.log_base.shape[1])

    @property
    def kind(self) -> str:
        """``"tabular"`` or ``"log-linear"``."""
        return "tabular" if self.features is None else "log-linear"

    @property
    def parameter_shape(self) -> tuple[int, ...]:
        if self.features is None:
            return (self.M, self.K)
        return (int(self.features.shape[2]),)


def _log_ref(pi_ref: Any) -> np.ndarray:
    ref = to_float(pi_ref)
    if ref.ndim == 1:
        ref = ref[None, :]
    if ref.ndim != 2:
        raise ShapeMismatchError(f"pi_ref has shape {ref.shape}, expected (M, K) or (K,)")
    from .simplex import validate_model

    validate_model(ref, name="pi_ref")
    zero = np.argwhere(ref <= 0)
    if len(zero):
        x, y = (int(v) for v in zero[0])
        raise SupportMismatchError(
            f"pi_ref[{x}, {y}] = 0: a softmax policy starting at pi_ref needs full support"
        )
    return np.log(ref)


def tabular_policy(pi_ref: Any) -> SoftmaxPolicy:
    """The tabular softmax family around ``pi_ref`` (``(M, K)``, full support).

    >>> pol = tabular_policy([[0.25, 0.75]])
    >>> policy_probs(pol, initial_parameters(pol)).round(12).tolist()
    [[0.25, 0.75]]
    """
    return SoftmaxPolicy(log_base=_log_ref(pi_ref))


def log_linear_policy(pi_ref: Any, features: Any) -> SoftmaxPolicy:
    """The log-linear family ``pi_x(y) ∝ pi_ref,x(y) exp(phi(x, y)^T theta)``.

    ``features`` has shape ``(M, K, d)`` with ``1 <= d < K`` (fewer features than responses),
    finite entries.

    >>> pol = log_linear_policy([[0.5, 0.5]], [[[1.0], [0.0]]])
    >>> policy_probs(pol, np.array([np.log(3.0)])).round(6).tolist()
    [[0.75, 0.25]]
    """
    log_base = _log_ref(pi_ref)
    phi = np.asarray(features, dtype=np.float64)
    M, K = log_base.shape
    if phi.ndim != 3 or phi.shape[:2] != (M, K):
        raise ShapeMismatchError(f"features have shape {phi.shape}, expected ({M}, {K}, d)")
    d = phi.shape[2]
    if not 1 <= d < K:
        raise InvalidParameterError(
            f"d = {d} features for K = {K} responses; a log-linear policy needs 1 <= d < K"
        )
    if not np.all(np.isfinite(phi)):
        raise InvalidParameterError("features contain a non-finite entry")
    return SoftmaxPolicy(log_base=log_base, features=phi)


def random_features(rng: np.random.Generator, M: int, K: int, d: int) -> np.ndarray:
    """Standard normal features of shape ``(M, K, d)`` for :func:`log_linear_policy`."""
    for name, v in (("M", M), ("K", K), ("d", d)):
        if not isinstance(v, int | np.integer) or v < 1:
            raise InvalidParameterError(f"{name} = {v!r}, expected a positive integer")
    return rng.normal(size=(M, K, d))


def initial_parameters(policy: SoftmaxPolicy) -> np.ndarray:
    """``theta = 0``: the starting model ``pi_ref``."""
    return np.zeros(policy.parameter_shape)


def policy_logits(policy: SoftmaxPolicy, theta: np.ndarray) -> np.ndarray:
    """The logits ``z = log pi_ref + phi theta``, shape ``(M, K)``."""
    if policy.features is None:
        return policy.log_base + theta
    return policy.log_base + policy.features @ theta


def policy_probs(policy: SoftmaxPolicy, theta: np.ndarray) -> np.ndarray:
    """``pi_theta``, shape ``(M, K)``, rows summing to 1."""
    return np.exp(log_softmax(policy_logits(policy, theta), axis=-1))


def _chain(policy: SoftmaxPolicy, G: np.ndarray) -> np.ndarray:
    """Gradient wrt ``theta`` from the gradient ``G`` wrt the logits ``z`` (``(M, K)``)."""
    if policy.features is None:
        return G
    return np.einsum("xkd,xk->d", policy.features, G)


# ---------------------------------------------------------------------------------------------
# objectives and problems


@dataclass(frozen=True)
class TrainingObjective:
    """One training objective: ``method`` in ``{"wro", "dpo", "sft"}``.

    WRO uses ``h`` (a registry name), ``anchor`` in ``{"ref", "data", "self"}``, ``beta >= 0`` and
    ``judge`` in ``{"true", "bradley_terry"}``; self-play needs ``h = "identity"`` and the true
    judge.  DPO uses ``beta > 0``.  SFT uses nothing else.  ``label`` names it in reports.

    >>> TrainingObjective("wro", h="logit", anchor="ref", beta=0.1, judge="bradley_terry").label
    'WRO[logit, ref, beta=0.1, BT judge]'
    """

    method: Method
    h: str = "identity"
    anchor: Anchor = "ref"
    beta: float = 0.0
    judge: Judge = "true"

    def __post_init__(self) -> None:
        if self.method not in ("wro", "dpo", "sft"):
            raise InvalidParameterError(f"method = {self.method!r}, expected wro, dpo or sft")
        if isinstance(self.beta, bool) or not isinstance(self.beta, int | float):
            raise InvalidParameterError(f"beta = {self.beta!r}, expected a finite number >= 0")
        check_beta(self.beta, positive=self.method == "dpo")
        if self.method == "wro":
            as_h(self.h)
            if self.anchor not in ("ref", "data", "self"):
                raise InvalidParameterError(f"anchor = {self.anchor!r}, expected ref, data, self")
            if self.judge not in ("true", "bradley_terry"):
                raise InvalidParameterError(
                    f"judge = {self.judge!r}, expected true or bradley_terry"
                )
            if self.anchor == "self" and (self.h != "identity" or self.judge != "true"):
                raise InvalidParameterError(
                    "self-play is defined here for h = identity with the true judge only "
                    f"(got h = {self.h!r}, judge = {self.judge!r})"
                )

    @property
    def is_wro(self) -> bool:
        return self.method == "wro"

    @property
    def label(self) -> str:
        if self.method == "sft":
            return "SFT"
        if self.method == "dpo":
            return f"DPO[beta={self.beta:g}]"
        judge = ", BT judge" if self.judge == "bradley_terry" else ""
        return f"WRO[{self.h}, {self.anchor}, beta={self.beta:g}{judge}]"


@dataclass(frozen=True)
class TrainingProblem:
    """Everything a run needs that does not change during training (float arrays).

    ``data`` is the preference data distribution, ``pi_ref`` ``(M, K)`` the starting model,
    ``P`` ``(M, K, K)`` the true preferences, ``P_bt`` the Bradley-Terry judge (the BT fit of the
    data's winner-loser distribution ``w``), ``q_data`` the data anchor, ``rho`` ``(M,)``.
    """

    data: PreferenceData
    pi_ref: np.ndarray
    P: np.ndarray
    P_bt: np.ndarray
    bt_rewards: np.ndarray
    q_data: np.ndarray
    rho: np.ndarray
    w: np.ndarray
    _h_cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def M(self) -> int:
        return int(self.P.shape[0])

    @property
    def K(self) -> int:
        return int(self.P.shape[1])

    def judge(self, objective: TrainingObjective) -> np.ndarray:
        return self.P_bt if objective.judge == "bradley_terry" else self.P

    def H(self, objective: TrainingObjective) -> np.ndarray:
        """``h(P_judge)`` (cached); finite, else :class:`InvalidParameterError`."""
        key = (objective.h, objective.judge)
        if key not in self._h_cache:
            H = apply_h(objective.h, self.judge(objective))
            H = np.asarray(to_float(H), dtype=np.float64)
            bad = np.argwhere(~np.isfinite(H))
            if len(bad):
                x, i, j = (int(v) for v in bad[0])
                raise InvalidParameterError(
                    f"h = {objective.h!r} of the {objective.judge} judge is infinite at "
                    f"P[{x}][{i}, {j}] = {self.judge(objective)[x, i, j]}; WRO training needs "
                    "finite rewards (use preferences strictly between 0 and 1)"
                )
            self._h_cache[key] = H
        return self._h_cache[key]

    def anchor(self, objective: TrainingObjective) -> np.ndarray:
        return self.pi_ref if objective.anchor == "ref" else self.q_data


def _bt_fit(w: np.ndarray) -> np.ndarray:
    """Bradley-Terry rewards ``(M, K)`` fitted by maximum likelihood to ``w``, per prompt."""
    from .bradley_terry import fit_bradley_terry_batch

    return np.asarray(fit_bradley_terry_batch(w).rewards, dtype=np.float64)


def make_problem(data: PreferenceData, pi_ref: Any) -> TrainingProblem:
    """Bundle ``data`` and the starting model ``pi_ref`` with the derived judges and anchors.

    The Bradley-Terry judge ``P_bt[x, i, j] = sigmoid(r_x(i) - r_x(j))`` uses the maximum
    likelihood rewards on the population winner-loser distribution of ``data``.
    """
    log_ref = _log_ref(pi_ref)
    if log_ref.shape != (data.M, data.K):
        raise ShapeMismatchError(f"pi_ref has shape {log_ref.shape}, expected {(data.M, data.K)}")
    P = to_float(data.P)
    w = to_float(winner_loser_distribution(data))
    r = _bt_fit(w)
    P_bt = 1.0 / (1.0 + np.exp(-(r[:, :, None] - r[:, None, :])))
    return TrainingProblem(
        data=data,
        pi_ref=np.exp(log_ref),
        P=P,
        P_bt=P_bt,
        bt_rewards=r,
        q_data=to_float(data_anchor(data)),
        rho=to_float(data.rho),
        w=w,
    )


def self_play_objective(P: Any, pi: Any, beta: float, pi_ref: Any, rho: Any) -> np.ndarray:
    """The self-play objective ``J(pi) = min_q F(pi, q)``, for one model or many at once.

    The rho-weighted sum of :func:`theory.wro.self_play_values` (the one definition, shared with
    ``wro_objective(P, pi, "self", ...)``).
    ``F(pi, q) = sum_x rho_x [pi_x^T P_x q_x - beta KL(pi_x || pi_ref,x) + beta KL(q_x ||
    pi_ref,x)]`` is the regularized symmetric game of self-play WRO (NLHF, ``h = identity``;
    docs/theory.md, "WRO objective", self-play).  The inner minimum is attained at
    ``q_x ∝ pi_ref,x exp(-(P_x^T pi_x) / beta)``, so

        J(pi) = sum_x rho_x [-beta KL(pi_x || pi_ref,x)
                             - beta log sum_y pi_ref,x(y) exp(-(P_x^T pi_x)(y) / beta)]

    for ``beta > 0`` and ``J(pi) = sum_x rho_x min_y (P_x^T pi_x)(y)`` for ``beta = 0``.  Because
    ``F(pi, pi) = 1/2`` for every ``pi``, ``J <= 1/2``, with equality exactly at the (regularized)
    Nash equilibrium (the maximal lottery when ``beta = 0``): the one meaning of the self-play
    objective value.

    Shapes: ``P`` ``(M, K, K)`` (any matrix in place of ``P``, e.g. ``h(P)``), ``pi`` ``(M, K)`` or
    ``(N, M, K)``, ``pi_ref`` ``(M, K)`` of full support, ``rho`` ``(M,)``; returns a float array
    of shape ``()`` or ``(N,)``.

    >>> P = np.array([[[0.5, 1.0, 0.0], [0.0, 0.5, 1.0], [1.0, 0.0, 0.5]]])   # rock-paper-scissors
    >>> ref = np.full((1, 3), 1 / 3)
    >>> float(self_play_objective(P, ref, 0.0, ref, [1.0]))    # the maximal lottery: 1/2
    0.5
    >>> float(self_play_objective(P, [[1.0, 0.0, 0.0]], 0.0, ref, [1.0]))   # paper loses to rock
    0.0
    """
    values = self_play_values(
        np.asarray(P, dtype=np.float64), np.asarray(pi, dtype=np.float64), check_beta(beta), pi_ref
    )
    return np.asarray(np.asarray(values, dtype=np.float64) @ np.asarray(rho, dtype=np.float64))


def self_play_payoff(
    problem: TrainingProblem, objective: TrainingObjective, pi: np.ndarray
) -> float:
    """``J(pi) = min_q F(pi, q)`` for self-play on ``problem`` with the objective's judge
    (:func:`self_play_objective`); float."""
    return float(
        self_play_objective(problem.H(objective), pi, objective.beta, problem.pi_ref, problem.rho)
    )


def objective_values(
    problem: TrainingProblem, objective: TrainingObjective, pis: np.ndarray
) -> np.ndarray:
    """``J(pi)`` of :func:`objective_value` for many float models ``pis`` ``(N, M, K)`` of full
    support at once; shape ``(N,)``.  Same formulas, written on stacks: fixed-anchor WRO
    ``sum_x rho_x [pi_x^T H_x q_x - beta KL_x]``, self-play :func:`self_play_objective`, DPO
    ``-`` :func:`theory.kernels.dpo_pair_loss`, SFT ``sum_{x,y} p_w(x, y) log pi_x(y)``.

    >>> D = PreferenceData(P=[[0.5, 0.75], [0.25, 0.5]], mu0=[0.5, 0.5])
    >>> prob = make_problem(D, [[0.5, 0.5]])
    >>> objective_values(prob, TrainingObjective("wro"), np.array([[[1.0, 0.0]], [[0.5, 0.5]]]))
    array([0.625, 0.5  ])
    """
    pis = np.asarray(pis, dtype=np.float64)
    logpi = np.log(np.maximum(pis, np.finfo(float).tiny))
    logref = np.log(problem.pi_ref)
    if objective.method == "wro" and objective.anchor == "self":
        return self_play_objective(
            problem.H(objective), pis, objective.beta, problem.pi_ref, problem.rho
        )
    if objective.method == "wro":
        g = np.einsum("xij,xj->xi", problem.H(objective), problem.anchor(objective))
        per_x = np.sum(pis * g, axis=-1)
        if objective.beta > 0:
            per_x = per_x - objective.beta * kl_rows_from_logs(logpi, logref)
        return per_x @ problem.rho
    if objective.method == "sft":
        return np.einsum("xy,nxy->n", problem.w.sum(axis=2), logpi)
    return -dpo_pair_loss(problem.w, logpi - logref, objective.beta)


def objective_value(problem: TrainingProblem, objective: TrainingObjective, pi: Any) -> float:
    """The population objective ``J(pi)`` of the module docstring (float), ``pi`` ``(M, K)``.

    Computed by the library's definitions: fixed-anchor WRO by :func:`theory.wro.wro_objective`
    with the objective's judge, self-play by :func:`self_play_payoff`, DPO as
    ``-`` :func:`theory.methods.dpo.dpo_loss` and SFT as ``-`` :func:`theory.methods.sft.sft_loss`.

    >>> from fractions import Fraction as F
    >>> D = PreferenceData(P=[[0.5, 0.75], [0.25, 0.5]], mu0=[0.5, 0.5])
    >>> prob = make_problem(D, [[0.5, 0.5]])
    >>> objective_value(prob, TrainingObjective("wro"), np.array([[1.0, 0.0]]))
    0.625
    """
    pi = np.asarray(pi, dtype=np.float64)
    if pi.shape != (problem.M, problem.K):
        raise ShapeMismatchError(f"pi has shape {pi.shape}, expected {(problem.M, problem.K)}")
    if objective.method == "wro":
        if objective.anchor == "self":
            return self_play_payoff(problem, objective, pi)
        return float(
            wro_objective(
                problem.judge(objective),
                pi,
                problem.anchor(objective),
                objective.beta,
                problem.pi_ref,
                objective.h,
                problem.rho,
            )
        )
    if objective.method == "sft":
        return -sft_loss(problem.data, pi)
    return -dpo_loss(problem.data, pi, problem.pi_ref, objective.beta)


# ---------------------------------------------------------------------------------------------
# gradients


def _direction_logits(
    problem: TrainingProblem, objective: TrainingObjective, pi: np.ndarray, logpi: np.ndarray
) -> np.ndarray:
    """The expected update direction wrt the logits ``z`` (``(M, K)``)."""
    logref = np.log(problem.pi_ref)
    rho = problem.rho[:, None]
    if objective.method == "wro":
        q = pi if objective.anchor == "self" else problem.anchor(objective)
        v = np.einsum("xij,xj->xi", problem.H(objective), q) - objective.beta * (logpi - logref)
        return rho * pi * (v - np.sum(pi * v, axis=1, keepdims=True))
    if objective.method == "sft":
        pw = problem.w.sum(axis=2)
        return pw - pw.sum(axis=1, keepdims=True) * pi
    d = logpi - logref
    beta = objective.beta
    s = problem.w / (1.0 + np.exp(beta * (d[:, :, None] - d[:, None, :])))  # w sigmoid(-margin)
    return beta * (s.sum(axis=2) - s.sum(axis=1))


def expected_direction(
    problem: TrainingProblem, objective: TrainingObjective, policy: SoftmaxPolicy, theta: np.ndarray
) -> np.ndarray:
    """The expectation of one stochastic update direction at ``theta`` (shape of ``theta``).

    For a fixed-anchor WRO, DPO and SFT objective this is ``grad_theta J``; for self-play it is
    the self-play gradient ``grad_theta F(pi_theta, q)`` at ``q = pi_theta`` (held fixed).
    """
    logpi = log_softmax(policy_logits(policy, theta), axis=-1)
    return _chain(policy, _direction_logits(problem, objective, np.exp(logpi), logpi))


def _categorical(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws: ``u`` ``(B,)`` uniforms, ``probs`` ``(B, K)`` rows."""
    cdf = np.cumsum(probs, axis=1)
    return np.minimum((u[:, None] >= cdf).sum(axis=1), probs.shape[1] - 1)


def reinforce_direction(
    problem: TrainingProblem,
    objective: TrainingObjective,
    pi: np.ndarray,
    logpi: np.ndarray,
    u: np.ndarray,
    rho_cdf: np.ndarray,
) -> np.ndarray:
    """One REINFORCE direction wrt the logits (``(M, K)``) with a leave-one-out baseline.

    From uniforms ``u`` of shape ``(3, B)``: prompts ``x ~ rho`` (``rho_cdf`` its cumulative
    sums), responses ``y ~ pi_x``, opponents ``y' ~ q_x`` (``q = pi`` in self-play); reward
    ``r = h(P_judge,x[y, y']) - beta (log pi_x(y) - log pi_ref,x(y))``, advantage ``r`` minus the
    mean of the other ``B - 1`` rewards, direction ``(1/B) sum_b adv_b (e_{y_b} - pi_{x_b})`` at
    row ``x_b``.  Its expectation is the WRO gradient of :func:`expected_direction`.
    """
    M, K = pi.shape
    B = u.shape[1]
    x = np.minimum(np.searchsorted(rho_cdf, u[0], side="right"), M - 1)
    y = _categorical(u[1], pi[x])
    q = pi if objective.anchor == "self" else problem.anchor(objective)
    y2 = _categorical(u[2], q[x])
    reward = problem.H(objective)[x, y, y2]
    if objective.beta > 0:
        reward = reward - objective.beta * (logpi[x, y] - np.log(problem.pi_ref[x, y]))
    adv = reward - (reward.sum() - reward) / (B - 1) if B > 1 else reward
    G = np.bincount(x * K + y, weights=adv, minlength=M * K).reshape(M, K)
    G -= np.bincount(x, weights=adv, minlength=M)[:, None] * pi
    return G / B


def _pairs_direction(
    objective: TrainingObjective,
    pi: np.ndarray,
    logpi: np.ndarray,
    log_ref: np.ndarray,
    x: np.ndarray,
    yw: np.ndarray,
    yl: np.ndarray,
) -> np.ndarray:
    """Minibatch ascent direction of the DPO / SFT objective wrt the logits."""
    M, K = pi.shape
    B = len(x)
    if objective.method == "sft":
        G: np.ndarray = np.bincount(x * K + yw, minlength=M * K).reshape(M, K).astype(np.float64)
        G -= np.bincount(x, minlength=M)[:, None] * pi
        return G / B
    d = logpi - log_ref
    beta = objective.beta
    s = beta / (1.0 + np.exp(beta * (d[x, yw] - d[x, yl])))
    G = np.bincount(x * K + yw, weights=s, minlength=M * K)
    G -= np.bincount(x * K + yl, weights=s, minlength=M * K)
    return G.reshape(M, K) / B


def stochastic_gradient(
    problem: TrainingProblem,
    objective: TrainingObjective,
    policy: SoftmaxPolicy,
    theta: np.ndarray,
    rng: np.random.Generator,
    batch_size: int,
) -> np.ndarray:
    """One stochastic update direction from ``batch_size`` fresh samples (shape of ``theta``).

    WRO: REINFORCE on sampled comparisons; DPO / SFT: a fresh minibatch of pairs drawn from the
    data distribution.  Its expectation is :func:`expected_direction`.
    """
    _check_int("batch_size", batch_size, 1)
    logpi = log_softmax(policy_logits(policy, theta), axis=-1)
    pi = np.exp(logpi)
    if objective.method == "wro":
        G = reinforce_direction(
            problem, objective, pi, logpi, rng.random((3, batch_size)), np.cumsum(problem.rho)
        )
    else:
        ds = sample_dataset(problem.data, int(batch_size), rng)
        G = _pairs_direction(
            objective, pi, logpi, np.log(problem.pi_ref), ds.x, ds.winners, ds.losers
        )
    return _chain(policy, G)


# ---------------------------------------------------------------------------------------------
# training


def _check_int(name: str, v: Any, minimum: int) -> None:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < minimum:
        raise InvalidParameterError(f"{name} = {v!r}, expected an integer >= {minimum}")


@dataclass(frozen=True)
class TrainingSettings:
    """The optimization knobs: SGD ``learning_rate`` (> 0), ``steps`` (>= 0), ``batch_size``
    (>= 1; at least 2 for the WRO baseline to be leave-one-out), ``seed`` (int) and, for DPO/SFT,
    ``dataset_size`` (default ``steps * batch_size``: one pass)."""

    learning_rate: float
    steps: int
    batch_size: int
    seed: int = 0
    dataset_size: int | None = None

    def __post_init__(self) -> None:
        lr = self.learning_rate
        if (
            isinstance(lr, bool)
            or not isinstance(lr, int | float)
            or not np.isfinite(lr)
            or lr <= 0
        ):
            raise InvalidParameterError(f"learning_rate = {lr!r}, expected a finite number > 0")
        _check_int("steps", self.steps, 0)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("seed", self.seed, 0)
        if self.dataset_size is not None:
            _check_int("dataset_size", self.dataset_size, 1)


@dataclass(frozen=True)
class TrainingRun:
    """A finished run: final parameters ``theta``, final model ``pi`` ``(M, K)``, and the number
    of sampled comparisons it consumed (``samples``)."""

    theta: np.ndarray
    pi: np.ndarray
    samples: int


#: Uniforms are drawn this many steps at a time (bounded memory, same stream for any run length).
_CHUNK = 256


def train(
    problem: TrainingProblem,
    objective: TrainingObjective,
    policy: SoftmaxPolicy,
    settings: TrainingSettings,
) -> TrainingRun:
    """Train ``policy`` from ``theta = 0`` (``pi_ref``) on ``objective`` by SGD on samples.

    Deterministic given ``settings.seed``.  See the module docstring for the estimators; the
    two loops are :func:`_train_wro` (REINFORCE on fresh comparisons) and
    :func:`_train_pairs` (minibatches of one sampled dataset, DPO and SFT).

    >>> D = PreferenceData(P=[[0.5, 0.9], [0.1, 0.5]], mu0=[0.5, 0.5])
    >>> prob = make_problem(D, [[0.5, 0.5]])
    >>> run = train(prob, TrainingObjective("wro", beta=0.1), tabular_policy(prob.pi_ref),
    ...             TrainingSettings(learning_rate=2.0, steps=200, batch_size=8, seed=1))
    >>> bool(run.pi[0, 0] > 0.6)
    True
    """
    if policy.log_base.shape != (problem.M, problem.K):
        raise ShapeMismatchError(
            f"policy is over {policy.log_base.shape}, problem over {(problem.M, problem.K)}"
        )
    rng = np.random.default_rng(settings.seed)
    if objective.method == "wro":
        if settings.batch_size < 2:
            raise InvalidParameterError(
                f"batch_size = {settings.batch_size}: REINFORCE with a leave-one-out baseline "
                "needs batch_size >= 2"
            )
        problem.H(objective)  # validate the rewards before training
        theta = _train_wro(problem, objective, policy, settings, rng)
        samples = settings.steps * settings.batch_size
    else:
        samples = settings.dataset_size or max(settings.steps * settings.batch_size, 1)
        theta = _train_pairs(problem, objective, policy, settings, rng, samples)
    return TrainingRun(theta=theta, pi=policy_probs(policy, theta), samples=int(samples))


def _train_wro(
    problem: TrainingProblem,
    objective: TrainingObjective,
    policy: SoftmaxPolicy,
    settings: TrainingSettings,
    rng: np.random.Generator,
) -> np.ndarray:
    """The WRO loop: each step a REINFORCE direction from fresh uniforms (drawn
    :data:`_CHUNK` steps at a time); returns the final ``theta``."""
    theta = initial_parameters(policy)
    lr, B, steps = float(settings.learning_rate), settings.batch_size, settings.steps
    rho_cdf = np.cumsum(problem.rho)
    for start in range(0, steps, _CHUNK):
        n = min(_CHUNK, steps - start)
        U = rng.random((n, 3, B))
        for t in range(n):
            logpi = log_softmax(policy_logits(policy, theta), axis=-1)
            G = reinforce_direction(problem, objective, np.exp(logpi), logpi, U[t], rho_cdf)
            theta = theta + lr * _chain(policy, G)
    return theta


def _minibatch_order(
    rng: np.random.Generator, order: np.ndarray, pos: int, B: int, n_data: int
) -> tuple[np.ndarray, int]:
    """The pass order extended by fresh permutations of the dataset when fewer than ``B``
    indices remain after ``pos``; returns the (possibly new) order and position."""
    if pos + B <= len(order):
        return order, pos
    reps = -(-(pos + B - len(order)) // n_data) + 1
    fresh = np.concatenate([rng.permutation(n_data) for _ in range(reps)])
    return np.concatenate([order[pos:], fresh]), 0


def _train_pairs(
    problem: TrainingProblem,
    objective: TrainingObjective,
    policy: SoftmaxPolicy,
    settings: TrainingSettings,
    rng: np.random.Generator,
    n_data: int,
) -> np.ndarray:
    """The DPO / SFT loop: minibatches of ``B`` pairs from one dataset of ``n_data`` sampled
    comparisons, visited in shuffled passes; returns the final ``theta``."""
    theta = initial_parameters(policy)
    lr, B = float(settings.learning_rate), settings.batch_size
    log_ref = np.log(problem.pi_ref)
    ds = sample_dataset(problem.data, int(n_data), rng)
    xs, yw, yl = ds.x, ds.winners, ds.losers
    order = np.empty(0, dtype=np.int64)
    pos = 0
    for _ in range(settings.steps):
        order, pos = _minibatch_order(rng, order, pos, B, int(n_data))
        idx = order[pos : pos + B]
        pos += B
        logpi = log_softmax(policy_logits(policy, theta), axis=-1)
        G = _pairs_direction(objective, np.exp(logpi), logpi, log_ref, xs[idx], yw[idx], yl[idx])
        theta = theta + lr * _chain(policy, G)
    return theta


def optimization_success(J_final: float, J_start: float, J_opt: float) -> float:
    """The fraction of the achievable improvement attained:
    ``s = (J(final) - J(start)) / (J(opt) - J(start))``.

    ``J_opt`` is the exact optimum of the objective over all models (for a log-linear family too,
    so ``s`` also charges the family's limits).  When ``J(opt) - J(start) <=``
    :data:`SUCCESS_DENOMINATOR_TOL` the start is already optimal and ``s = 1`` if the run kept
    ``J(final) >= J(opt) - SUCCESS_DENOMINATOR_TOL``, else ``s = 0``.  ``s`` is negative when the
    run made the objective worse; ``J_final = -inf`` gives ``s = -inf``.

    >>> optimization_success(0.625, 0.5, 0.75)
    0.5
    >>> optimization_success(0.5, 0.5, 0.5)
    1.0
    """
    for name, v in (("J_start", J_start), ("J_opt", J_opt)):
        if not np.isfinite(v):
            raise InvalidParameterError(f"{name} = {v}, expected a finite number")
    if np.isnan(J_final):
        raise InvalidParameterError("J_final is NaN")
    gap = J_opt - J_start
    if gap < -SUCCESS_DENOMINATOR_TOL:
        raise InvalidParameterError(
            f"J_opt = {J_opt} < J_start = {J_start}: J_opt is not the objective's optimum"
        )
    if gap <= SUCCESS_DENOMINATOR_TOL:
        return 1.0 if J_final >= J_opt - SUCCESS_DENOMINATOR_TOL else 0.0
    return float((J_final - J_start) / gap)


# ---------------------------------------------------------------------------------------------
# many runs at once


@dataclass(frozen=True)
class RunBatch:
    """``R`` training runs on one problem and one policy family, trained together as arrays.

    Run ``r`` optimizes ``objectives[r]`` by plain SGD with step ``learning_rates[r]`` (> 0) and
    ``batch_sizes[r]`` samples per step (>= 2 for WRO, >= 1 otherwise).  Every step draws fresh
    samples: REINFORCE comparisons for WRO (:func:`reinforce_direction`), fresh pairs of the data
    distribution for DPO and SFT (so the first ``T`` steps are one pass over ``T B`` pairs).
    """

    objectives: tuple[TrainingObjective, ...]
    learning_rates: np.ndarray
    batch_sizes: np.ndarray

    def __post_init__(self) -> None:
        R = len(self.objectives)
        lr = np.asarray(self.learning_rates, dtype=np.float64)
        B = np.asarray(self.batch_sizes)
        if lr.shape != (R,) or B.shape != (R,):
            raise ShapeMismatchError(
                f"{R} objectives but learning rates {lr.shape} and batch sizes {B.shape}"
            )
        if not np.all(np.isfinite(lr) & (lr > 0)):
            raise InvalidParameterError("every learning rate must be a finite number > 0")
        wro = np.array([o.method == "wro" for o in self.objectives], dtype=bool)
        if np.any(B < 1) or np.any(B[wro] < 2):
            raise InvalidParameterError(
                "batch sizes must be >= 1 (>= 2 for WRO: a leave-one-out baseline)"
            )


def train_batch(
    problem: TrainingProblem,
    policy: SoftmaxPolicy,
    batch: RunBatch,
    rng: np.random.Generator,
    record_steps: tuple[int, ...],
) -> np.ndarray:
    """Train the runs of ``batch`` from ``theta = 0``; the models after each step count of
    ``record_steps`` (sorted, >= 0), shape ``(S, R, M, K)``.

    The runs share one generator but never a sample; the result is a deterministic function of
    ``rng``'s state.  Each run's expected update is :func:`expected_direction` (tested).

    >>> D = PreferenceData(P=[[0.5, 0.9], [0.1, 0.5]], mu0=[0.5, 0.5])
    >>> prob = make_problem(D, [[0.5, 0.5]])
    >>> runs = RunBatch((TrainingObjective("wro", beta=0.1), TrainingObjective("sft")),
    ...                 np.array([2.0, 2.0]), np.array([8, 8]))
    >>> snaps = train_batch(prob, tabular_policy(prob.pi_ref), runs, np.random.default_rng(1),
    ...                     (0, 200))
    >>> snaps.shape, bool(np.all(snaps[1, :, 0, 0] > 0.6))
    ((2, 2, 1, 2), True)
    """
    if policy.log_base.shape != (problem.M, problem.K):
        raise ShapeMismatchError(
            f"policy is over {policy.log_base.shape}, problem over {(problem.M, problem.K)}"
        )
    steps = sorted(int(t) for t in record_steps)
    if not steps or steps[0] < 0:
        raise InvalidParameterError(f"record_steps = {record_steps!r}, expected counts >= 0")
    parts = _BatchParts.build(problem, batch)
    R = len(batch.objectives)
    theta = np.zeros((R, *policy.parameter_shape))
    lr = np.asarray(batch.learning_rates, dtype=np.float64).reshape(
        R, *[1] * len(policy.parameter_shape)
    )
    snaps = []
    for t in range(steps[-1] + 1):
        logpi = log_softmax(_batch_logits(policy, theta), axis=-1)
        while steps and steps[0] == t:
            snaps.append(np.exp(logpi))
            steps.pop(0)
        if not steps:
            break
        G = parts.directions(np.exp(logpi), logpi, rng)
        theta = theta + lr * _batch_chain(policy, G)
    return np.stack(snaps)


def _batch_logits(policy: SoftmaxPolicy, theta: np.ndarray) -> np.ndarray:
    if policy.features is None:
        return policy.log_base + theta
    return policy.log_base + np.einsum("xkd,rd->rxk", policy.features, theta)


def _batch_chain(policy: SoftmaxPolicy, G: np.ndarray) -> np.ndarray:
    if policy.features is None:
        return G
    return np.einsum("xkd,rxk->rd", policy.features, G)


def _batch_categorical(u: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws: ``u`` ``(...,)`` uniforms, ``cdf`` ``(..., K)`` cumulative rows."""
    return np.minimum((u[..., None] >= cdf).sum(axis=-1), cdf.shape[-1] - 1)


@dataclass(frozen=True)
class _BatchParts:
    """The per-run constants of :func:`train_batch`, split into WRO runs and pair runs."""

    problem: TrainingProblem
    R: int
    wro: np.ndarray  # indices of the WRO runs
    H: np.ndarray  # (R_wro, M, K, K)
    q_cdf: np.ndarray  # (R_wro, M, K) cumulative fixed anchors (ignored for self-play)
    self_play: np.ndarray  # (R_wro,) bool
    beta_wro: np.ndarray
    pairs: np.ndarray  # indices of the DPO / SFT runs
    is_dpo: np.ndarray  # (R_pairs,) bool
    beta_pairs: np.ndarray
    B: np.ndarray  # (R,) batch sizes
    Bmax: int

    @staticmethod
    def build(problem: TrainingProblem, batch: RunBatch) -> _BatchParts:
        objs = batch.objectives
        wro = np.array([i for i, o in enumerate(objs) if o.method == "wro"], dtype=np.int64)
        pairs = np.array([i for i, o in enumerate(objs) if o.method != "wro"], dtype=np.int64)
        M, K = problem.M, problem.K
        H = np.stack([problem.H(objs[i]) for i in wro]) if len(wro) else np.zeros((0, M, K, K))
        q = (
            np.stack(
                [
                    problem.pi_ref if objs[i].anchor == "self" else problem.anchor(objs[i])
                    for i in wro
                ]
            )
            if len(wro)
            else np.zeros((0, M, K))
        )
        B = np.asarray(batch.batch_sizes, dtype=np.int64)
        return _BatchParts(
            problem=problem,
            R=len(objs),
            wro=wro,
            H=H,
            q_cdf=np.cumsum(q, axis=-1),
            self_play=np.array([objs[i].anchor == "self" for i in wro], dtype=bool),
            beta_wro=np.array([objs[i].beta for i in wro], dtype=np.float64),
            pairs=pairs,
            is_dpo=np.array([objs[i].method == "dpo" for i in pairs], dtype=bool),
            beta_pairs=np.array([objs[i].beta for i in pairs], dtype=np.float64),
            B=B,
            Bmax=int(B.max()),
        )

    def directions(self, pi: np.ndarray, logpi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One stochastic update direction per run wrt the logits, ``(R, M, K)``."""
        G = np.zeros_like(pi)
        if len(self.wro):
            G[self.wro] = self._wro(pi[self.wro], logpi[self.wro], rng)
        if len(self.pairs):
            G[self.pairs] = self._pairs(pi[self.pairs], logpi[self.pairs], rng)
        return G

    def _prompts(self, u: np.ndarray) -> np.ndarray:
        return np.minimum(
            np.searchsorted(np.cumsum(self.problem.rho), u, side="right"), self.problem.M - 1
        )

    def _scatter(
        self, pi: np.ndarray, x: np.ndarray, y: np.ndarray, wts: np.ndarray, B: np.ndarray
    ) -> np.ndarray:
        """``(1/B) sum_b wts_b (e_{y_b} - pi_{x_b})`` at row ``x_b`` of each run."""
        n, M, K = pi.shape
        r = np.arange(n)[:, None]
        G = np.bincount((r * M * K + x * K + y).ravel(), wts.ravel(), n * M * K)
        G = G.reshape(n, M, K)
        G -= np.bincount((r * M + x).ravel(), wts.ravel(), n * M).reshape(n, M, 1) * pi
        return G / B[:, None, None]

    def _wro(self, pi: np.ndarray, logpi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n = len(pi)
        u = rng.random((3, n, self.Bmax))
        r = np.arange(n)[:, None]
        x = self._prompts(u[0])
        cdf = np.cumsum(pi, axis=-1)
        y = _batch_categorical(u[1], cdf[r, x])
        q_cdf = np.where(self.self_play[:, None, None], cdf, self.q_cdf)
        y2 = _batch_categorical(u[2], q_cdf[r, x])
        reward = self.H[r, x, y, y2] - self.beta_wro[:, None] * (
            logpi[r, x, y] - np.log(self.problem.pi_ref)[x, y]
        )
        B = self.B[self.wro]
        mask = np.arange(self.Bmax)[None, :] < B[:, None]
        total = np.sum(reward * mask, axis=1, keepdims=True)
        adv = (reward - (total - reward) / (B[:, None] - 1)) * mask
        return self._scatter(pi, x, y, adv, B)

    def _pairs(self, pi: np.ndarray, logpi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, M, K = pi.shape
        data = self.problem.data
        mu0, mu1 = to_float(data.mu0), to_float(data.mu1)
        u = rng.random((4, n, self.Bmax))
        r = np.arange(n)[:, None]
        x = self._prompts(u[0])
        y0 = _batch_categorical(u[1], np.cumsum(mu0, axis=-1)[x])
        y1 = _batch_categorical(u[2], np.cumsum(mu1, axis=-1)[x])
        one_wins = u[3] < self.problem.P[x, y1, y0]
        yw, yl = np.where(one_wins, y1, y0), np.where(one_wins, y0, y1)
        B = self.B[self.pairs]
        mask = (np.arange(self.Bmax)[None, :] < B[:, None]).astype(np.float64)
        d = logpi - np.log(self.problem.pi_ref)
        beta = self.beta_pairs[:, None]
        with np.errstate(over="ignore"):
            s = beta / (1.0 + np.exp(beta * (d[r, x, yw] - d[r, x, yl])))
        sft = self._scatter(pi, x, yw, mask, B)
        G = np.zeros((n, M, K))
        flat = r * M * K + x * K
        w = (s * mask).ravel()
        G += np.bincount((flat + yw).ravel(), w, n * M * K).reshape(n, M, K)
        G -= np.bincount((flat + yl).ravel(), w, n * M * K).reshape(n, M, K)
        G /= B[:, None, None]
        return np.where(self.is_dpo[:, None, None], G, sft)
