"""Online DPO and iterative DPO as population dynamics (docs/zoo_online.md).

**Online DPO** (Guo et al., arXiv 2402.04792).  Each step draws a pair ``(y, y')`` from the
*current* model ``pi`` (``pi ⊗ pi``), a judge ``P`` labels it (``y`` wins with probability
``P[y, y']``), and the DPO loss ``-log sigma(beta (d(y_w) - d(y_l)))``,
``d = log pi - log pi_ref``, takes a gradient step on the logits ``theta`` (``pi = softmax
theta``).  The sampling distribution is not differentiated (a *semi-gradient*).  Per sampled pair
the expected loss is ``L(theta; pi) = -sum_{i,j} w_ij log sigma(beta (d_i - d_j))`` with
winner-loser weights ``w_ij = 2 pi_i pi_j P_ij`` (:func:`theory.kernels.dpo_pair_loss`), and its
expected gradient (:func:`online_dpo_gradient`) is

    g_k = dL/dtheta_k = -2 beta pi_k sum_j pi_j (P_kj - sigma(beta (d_k - d_j)))

(the ``theta``- and ``d``-gradients agree because ``sum_k dL/dd_k = 0``).  A **fixed point**
(:func:`online_dpo_fixed_point`) is a zero of ``g`` on ``supp pi_ref``:

    sum_j pi_j (P_kj - sigma(beta (d_k - d_j))) = 0   for every k in supp pi_ref,

the stationarity of the Bradley-Terry likelihood of the judge under ``pi ⊗ pi``: ``beta d = r_pi``
up to a constant, i.e. ``pi ∝ pi_ref exp(r_pi / beta)`` with ``r_pi`` the Bradley-Terry fit of
``P`` with pair weights ``pi ⊗ pi`` (:func:`judge_reward`).  Its residual certificate is the
max-norm of the left-hand side.  With a **Bradley-Terry judge** ``P_ij = sigma(r_i - r_j)`` the
fit is ``r`` whatever ``pi``, so the fixed point is RLHF's policy ``pi_ref exp(r / beta)``, the
logit-WRO optimum (claim ``online-DPO-is-RLHF-under-BT``; exact when ``P`` is exact and
``1 / beta`` is an integer).  With a non-BT judge it is neither a fixed-anchor WRO optimum nor
the regularized Nash equilibrium (claim ``online-DPO-not-WRO``).  The fixed point is found by
damped Newton from ``pi_ref`` (:func:`theory.online.core.newton_root`).  With a non-BT judge
its uniqueness is not proved (Newton from 5 random starts on 200 random judges, ``K <= 6``, found
no second fixed point); the one reported is the one Newton reaches from ``pi_ref``.

**Iterative DPO** (the reference is the previous iterate): training to convergence on pairs from
``pi_t`` with ``pi_ref = pi_t`` gives ``pi_{t+1} ∝ pi_t exp(r_{pi_t} / beta)``
(:func:`iterative_dpo_step`).  With a BT judge ``pi_t ∝ pi_0 exp(t r / beta)``: RLHF at
``beta / t``, tending to the argmax of ``r`` (the ``beta = 0`` WRO optimum); its fixed points are
the models whose judge fit is constant on their support (``W_pi(y) = 1/2`` there; every point
mass is one).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from scipy.special import expit

from ..bradley_terry import fit_bradley_terry
from ..errors import InvalidParameterError, ShapeMismatchError
from ..kernels import check_beta, tilt
from ..numbers import as_array, is_exact, to_float
from ..preferences import bradley_terry_strengths, is_bradley_terry, validate_preference_matrix
from ..simplex import validate_distribution
from .core import (
    FIXED_POINT_TOL,
    FixedPoint,
    OnlineProblem,
    Trajectory,
    embed,
    iterate,
    newton_root,
    online_problem,
    require_converged,
    softmax,
)

__all__ = [
    "ONLINE_DPO_LR",
    "online_dpo_gradient",
    "online_dpo_residual",
    "online_dpo_step",
    "online_dpo_trajectory",
    "online_dpo_fixed_point",
    "judge_reward",
    "exact_bt_fixed_point",
    "online_dpo_map",
    "iterative_dpo_step",
    "iterative_dpo_trajectory",
]

#: Default learning rate of :func:`online_dpo_step` (on the logits).
ONLINE_DPO_LR = 1.0


def _model(pi: Any, K: int, name: str = "pi") -> np.ndarray:
    p = to_float(validate_distribution(pi, name=name))
    if p.shape[0] != K:
        raise ShapeMismatchError(f"{name} has {p.shape[0]} entries but P is ({K}, {K})")
    return p


def _stationarity(P: np.ndarray, pi: np.ndarray, lref: np.ndarray, beta: float) -> np.ndarray:
    """``sum_j pi_j (P_kj - sigma(beta (d_k - d_j)))`` per ``k`` (on a full-support block)."""
    d = np.log(pi) - lref
    S = expit(beta * (d[:, None] - d[None, :]))
    return (P - S) @ pi


def _gradient(prob: OnlineProblem, p: np.ndarray) -> np.ndarray:
    live = np.flatnonzero(p > 0)
    if np.any(prob.pi_ref[live] == 0):
        raise InvalidParameterError("pi puts mass where pi_ref has none (d = +inf)")
    sub = np.ix_(live, live)
    st = _stationarity(prob.P[sub], p[live], np.log(prob.pi_ref[live]), prob.beta)
    return embed(-2.0 * prob.beta * p[live] * st, live, prob.K)


def online_dpo_gradient(P: Any, pi: Any, pi_ref: Any, beta: Any) -> np.ndarray:
    """The expected semi-gradient of online DPO on the logits at ``pi`` (module docstring):
    ``g_k = -2 beta pi_k sum_j pi_j (P_kj - sigma(beta (d_k - d_j)))``, ``(K,)`` float, 0 off
    ``supp pi`` (``pi`` must vanish where ``pi_ref`` does).

    >>> g = online_dpo_gradient([[0.5, 0.75], [0.25, 0.5]], [0.5, 0.5], [0.5, 0.5], 1.0)
    >>> g.tolist()   # -2 * .25 * (.75 - .5): mass moves to the judge's favourite
    [-0.125, 0.125]
    """
    prob = online_problem(P, pi_ref, beta)
    return _gradient(prob, _model(pi, prob.K))


def _step(prob: OnlineProblem, p: np.ndarray, lr: float) -> np.ndarray:
    return tilt(p, -(lr * _gradient(prob, p)))


def online_dpo_residual(P: Any, pi: Any, pi_ref: Any, beta: Any) -> float:
    """The fixed-point certificate ``max_{k in supp pi_ref} |sum_j pi_j (P_kj - sigma(beta (d_k
    - d_j)))|`` (0 exactly at a fixed point; ``inf`` when ``pi`` misses part of
    ``supp pi_ref``, where no fixed point lies).

    >>> online_dpo_residual([[0.5, 0.75], [0.25, 0.5]], [0.5, 0.5], [0.5, 0.5], 1.0)
    0.125
    """
    prob = online_problem(P, pi_ref, beta)
    p = _model(pi, prob.K)
    i = prob.idx
    if np.any(p[i] <= 0) or np.any(p[np.setdiff1d(np.arange(prob.K), i)] > 0):
        return float("inf")
    sub = np.ix_(i, i)
    return float(
        np.max(np.abs(_stationarity(prob.P[sub], p[i], np.log(prob.pi_ref[i]), prob.beta)))
    )


def online_dpo_step(
    P: Any, pi: Any, pi_ref: Any, beta: Any, lr: float = ONLINE_DPO_LR
) -> np.ndarray:
    """One expected online-DPO step: ``theta' = theta - lr g`` on the logits,
    ``pi' = softmax(log pi - lr g)`` (:func:`online_dpo_gradient`).

    >>> np.round(online_dpo_step([[0.5, 0.75], [0.25, 0.5]], [0.5, 0.5], [0.5, 0.5], 1.0), 6)
    array([0.562177, 0.437823])
    """
    prob = online_problem(P, pi_ref, beta)
    return _step(prob, _model(pi, prob.K), lr)


def online_dpo_trajectory(
    P: Any, start: Any, pi_ref: Any, beta: Any, steps: int, lr: float = ONLINE_DPO_LR
) -> Trajectory:
    """``steps`` expected online-DPO steps (:func:`online_dpo_step`) from ``start``.

    >>> P = [[0.5, 0.8, 0.3], [0.2, 0.5, 0.7], [0.7, 0.3, 0.5]]
    >>> tr = online_dpo_trajectory(P, [0.5, 0.3, 0.2], [0.5, 0.3, 0.2], 0.5, 400)
    >>> np.round(tr.final, 3).tolist()
    [0.474, 0.179, 0.347]
    """
    prob = online_problem(P, pi_ref, beta)
    return iterate(lambda p: _step(prob, p, lr), _model(start, prob.K, "start"), steps)


def exact_bt_fixed_point(P: Any, pi_ref: Any, beta: Any) -> np.ndarray | None:
    """``pi ∝ pi_ref s^n`` (exact) when ``P`` is exact Bradley-Terry with strengths ``s`` and
    ``1 / beta = n`` is a positive integer; else None.  (RLHF's policy
    ``pi_ref exp(r / beta)`` with ``r = log s``, the fixed point of online DPO and of RLOO with a
    Bradley-Terry judge.)

    >>> from theory.preferences import bradley_terry_from_strengths
    >>> exact_bt_fixed_point(bradley_terry_from_strengths([1, 2]), [Fraction(1, 2)] * 2, 1).tolist()
    [Fraction(1, 3), Fraction(2, 3)]
    >>> exact_bt_fixed_point(bradley_terry_from_strengths([1, 2]), [0.5, 0.5], 1) is None
    True
    """
    P_arr = as_array(P, name="P")
    ref = as_array(pi_ref, name="pi_ref")
    b = check_beta(beta, positive=True)
    if not (is_exact(P_arr) and is_exact(ref) and isinstance(b, Fraction)):
        return None
    if b.numerator != 1 or not is_bradley_terry(P_arr):
        return None
    s = bradley_terry_strengths(P_arr)
    w = np.array([ref[y] * s[y] ** b.denominator for y in range(len(s))], dtype=object)
    return w / sum(w, Fraction(0))


def _newton_online_dpo(prob: OnlineProblem, start: np.ndarray, tol: float) -> FixedPoint:
    """Damped Newton on ``v = log pi`` over ``supp pi_ref``: the stationarity equations and
    ``sum exp(v) = 1`` (module docstring)."""
    Ps, refs = prob.restricted()
    lref, b = np.log(refs), prob.beta

    def F(v: np.ndarray) -> np.ndarray:
        pi = np.exp(v)
        S = expit(b * ((v - lref)[:, None] - (v - lref)[None, :]))
        return np.append((Ps - S) @ pi, pi.sum() - 1.0)

    def J(v: np.ndarray) -> np.ndarray:
        pi = np.exp(v)
        S = expit(b * ((v - lref)[:, None] - (v - lref)[None, :]))
        Sp = b * S * (1.0 - S)
        top = (Ps - S) * pi[None, :] + Sp * pi[None, :] - np.diag(Sp @ pi)
        return np.vstack([top, pi[None, :]])

    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        v, its, _ = newton_root(F, J, np.log(start[prob.idx]), tol=tol / 10)
        pi = np.exp(v)
    pi = embed(pi / pi.sum(), prob.idx, prob.K)
    res = online_dpo_residual(prob.P, pi, prob.pi_ref, prob.beta)
    return FixedPoint(pi, res, its, res <= tol)


def _continuation(prob: OnlineProblem, tol: float) -> FixedPoint:
    """Newton down a ladder ``beta 2^k, ..., 2 beta, beta`` (from the first rung ``>= 1``, where
    the fixed point is near ``pi_ref``), each rung warm-started at the previous fixed point."""
    ladder = [prob.beta]
    while ladder[-1] < 1.0:
        ladder.append(ladder[-1] * 2.0)
    pi, total = prob.pi_ref, 0
    for b in reversed(ladder):
        rung = OnlineProblem(prob.P, prob.pi_ref, b, prob.idx)
        fp = _newton_online_dpo(rung, pi, tol)
        pi, total = fp.pi, total + fp.iterations
    return FixedPoint(fp.pi, fp.residual, total, fp.converged)


def online_dpo_fixed_point(
    P: Any, pi_ref: Any, beta: Any, *, tol: float = FIXED_POINT_TOL, start: Any = None
) -> FixedPoint:
    """The semi-gradient fixed point of online DPO: ``pi ∝ pi_ref exp(r_pi / beta)``, ``r_pi``
    the Bradley-Terry fit of the judge ``P`` under ``pi ⊗ pi`` (module docstring), with residual
    :func:`online_dpo_residual` ``<= tol``.  ``P`` ``(K, K)`` (every entry in ``(0, 1)`` on
    ``supp pi_ref``, so the fit exists), ``pi_ref`` ``(K,)``, ``beta > 0``; Newton starts at
    ``start`` (default ``pi_ref``, then, if that stalls, continuation down from
    ``beta >= 1``).  Exact (residual 0) when ``P`` is an exact Bradley-Terry matrix and
    ``1 / beta`` an integer.  Raises :class:`~theory.errors.NotConvergedError` when
    Newton stalls above ``tol`` (met on random judges with ``K <= 50`` for ``beta >= 0.01``;
    below about ``0.003`` coordinates ``~ exp(-c / beta)`` underflow float64 and the error is
    raised instead of a false fixed point).

    >>> P = [[0.5, 0.8, 0.3], [0.2, 0.5, 0.7], [0.7, 0.3, 0.5]]     # a non-BT judge
    >>> fp = online_dpo_fixed_point(P, [0.5, 0.3, 0.2], 0.5)
    >>> np.round(fp.pi, 3).tolist(), fp.residual <= 1e-12
    ([0.474, 0.179, 0.347], True)
    >>> from theory.preferences import bradley_terry_from_strengths
    >>> online_dpo_fixed_point(bradley_terry_from_strengths([1, 2]), [Fraction(1, 2)] * 2, 1).pi
    array([Fraction(1, 3), Fraction(2, 3)], dtype=object)
    """
    exact = exact_bt_fixed_point(P, pi_ref, beta)
    if exact is not None:
        return FixedPoint(exact, Fraction(0), 0, True)
    prob = online_problem(P, pi_ref, beta)
    i = prob.idx
    if np.any(prob.P[np.ix_(i, i)] <= 0):
        raise InvalidParameterError(
            "the judge P has an entry 0 or 1 on supp pi_ref: the Bradley-Terry fit (and the "
            "fixed point) does not exist"
        )
    s = prob.pi_ref if start is None else _model(start, prob.K, "start")
    if np.any(s[i] <= 0):
        raise InvalidParameterError("start must be positive on supp pi_ref")
    fp = _newton_online_dpo(prob, s, tol)
    if not fp.converged and start is None:
        fp = _continuation(prob, tol)
    return require_converged(fp, "online DPO fixed point", tol)


def judge_reward(P: Any, pi: Any) -> np.ndarray:
    """``r_pi``: the Bradley-Terry fit of the judge ``P`` with pair weights ``pi ⊗ pi``
    (``w_ij = pi_i pi_j P_ij``; :func:`theory.bradley_terry.fit_bradley_terry`), on ``supp pi``
    (0 elsewhere), mean 0 there.

    >>> from theory.preferences import bradley_terry_from_strengths
    >>> np.round(judge_reward(bradley_terry_from_strengths([1, 4]), [0.9, 0.1]), 6).tolist()
    [-0.693147, 0.693147]
    """
    P_arr = to_float(validate_preference_matrix(P))
    p = _model(pi, P_arr.shape[0])
    live = np.flatnonzero(p > 0)
    w = p[live, None] * p[None, live] * P_arr[np.ix_(live, live)]
    r = fit_bradley_terry(w).rewards
    return embed(r - r.mean(), live, P_arr.shape[0])


def online_dpo_map(P: Any, pi: Any, pi_ref: Any, beta: Any) -> np.ndarray:
    """Online DPO trained to convergence on pairs from ``pi`` with a fixed ``pi_ref``:
    ``pi' ∝ pi_ref exp(r_pi / beta)`` on ``supp pi`` (:func:`judge_reward`).  Its fixed points
    are those of :func:`online_dpo_fixed_point`.

    >>> P = [[0.5, 0.8, 0.3], [0.2, 0.5, 0.7], [0.7, 0.3, 0.5]]
    >>> fp = online_dpo_fixed_point(P, [0.5, 0.3, 0.2], 0.5)
    >>> bool(np.max(np.abs(online_dpo_map(P, fp.pi, [0.5, 0.3, 0.2], 0.5) - fp.pi)) < 1e-9)
    True
    """
    prob = online_problem(P, pi_ref, beta)
    r = judge_reward(prob.P, pi)
    p = _model(pi, prob.K)
    with np.errstate(divide="ignore"):
        z = np.where(p > 0, np.log(prob.pi_ref) + r / prob.beta, -np.inf)
    return softmax(z)


def iterative_dpo_step(P: Any, pi: Any, beta: Any) -> np.ndarray:
    """Iterative DPO, one round: DPO trained to convergence on pairs from ``pi`` with the
    reference ``pi`` itself: ``pi' ∝ pi exp(r_pi / beta)`` (:func:`judge_reward`).

    >>> from theory.preferences import bradley_terry_from_strengths
    >>> np.round(iterative_dpo_step(bradley_terry_from_strengths([1, 3]), [0.5, 0.5], 1), 6)
    array([0.25, 0.75])
    """
    b = check_beta(beta, positive=True)
    return online_dpo_map(P, pi, pi, b)


def iterative_dpo_trajectory(P: Any, start: Any, beta: Any, steps: int) -> Trajectory:
    """``steps`` rounds of :func:`iterative_dpo_step` from ``start``.  With a Bradley-Terry
    judge, ``pi_t ∝ start exp(t r / beta)``.

    >>> from theory.preferences import bradley_terry_from_strengths
    >>> tr = iterative_dpo_trajectory(bradley_terry_from_strengths([1, 3]), [0.5, 0.5], 1, 2)
    >>> np.round(tr.final, 6).tolist()
    [0.1, 0.9]
    """
    first = to_float(validate_distribution(start, name="start"))
    return iterate(lambda p: iterative_dpo_step(P, p, beta), first, steps)
