"""Nash-MD (Munos et al., arXiv 2312.00886) as a population dynamic (docs/zoo_online.md).

Nash mirror descent plays the current model against the *geometric mixture*

    pi^alpha ∝ pi_ref^alpha pi^(1 - alpha)        (:func:`geometric_mixture`, 0 < alpha <= 1)

and takes the mirror-descent step of step size ``eta`` from it, with ``alpha = eta beta``:

    pi' = argmax_p  eta p^T P pi^alpha - KL(p || pi^alpha)  ∝  pi^alpha exp(eta P pi^alpha)

(:func:`nash_md_step`; exact population update: the ideal step of the paper, with the win rate
``P pi^alpha`` of each response against the mixture in place of its sampled estimate).  Taking
logs, a **fixed point** satisfies ``alpha log pi = alpha log pi_ref + eta P pi^alpha + c``, i.e.

    pi = softmax(log pi_ref + P pi^alpha / beta)         (:func:`nash_md_fixed_point`),

with residual certificate ``max_y |pi - softmax(log pi_ref + P pi^alpha / beta)|_y``.  NLHF's
regularized Nash equilibrium is ``pi* = softmax(log pi_ref + P pi* / beta)``
(:func:`theory.methods.nlhf.regularized_nash`): the fixed point is *shifted* from it, because
the opponent is the mixture ``pi^alpha`` and not ``pi``; the shift is ``O(alpha)`` and vanishes
only as ``alpha -> 0`` (claim ``Nash-MD-shifted``).  At ``alpha = 1`` the mixture is ``pi_ref``
and the fixed point (reached in one step) is the fixed-anchor WRO optimum
``pi_ref exp(P pi_ref / beta)`` (``h = identity``, anchor ``pi_ref``): Nash-MD's fixed point
moves from that optimum (``alpha = 1``) to the regularized Nash equilibrium (``alpha -> 0``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidParameterError, ShapeMismatchError
from ..numbers import to_float
from ..simplex import validate_distribution
from .core import (
    FIXED_POINT_TOL,
    FixedPoint,
    OnlineProblem,
    Trajectory,
    embed,
    iterate,
    log_softmax,
    newton_root,
    online_problem,
    require_converged,
    softmax,
)

__all__ = [
    "check_alpha",
    "geometric_mixture",
    "nash_md_step",
    "nash_md_trajectory",
    "nash_md_residual",
    "nash_md_fixed_point",
]


def check_alpha(alpha: Any) -> float:
    """``alpha`` as a float in ``(0, 1]`` or :class:`~theory.errors.InvalidParameterError`."""
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"alpha = {alpha!r}, expected a number in (0, 1]") from None
    if not (np.isfinite(a) and 0 < a <= 1):
        raise InvalidParameterError(f"alpha = {alpha!r}, expected a number in (0, 1]")
    return a


def _model(p: Any, K: int, name: str) -> np.ndarray:
    arr = to_float(validate_distribution(p, name=name))
    if arr.shape[0] != K:
        raise ShapeMismatchError(f"{name} has {arr.shape[0]} entries, expected {K}")
    return arr


def _logs(prob: OnlineProblem, pi: np.ndarray, name: str) -> np.ndarray:
    """``log pi`` on ``supp pi_ref`` (``pi`` must be positive there and 0 elsewhere)."""
    p = _model(pi, prob.K, name)
    off = np.setdiff1d(np.arange(prob.K), prob.idx)
    if np.any(p[prob.idx] <= 0) or np.any(p[off] > 0):
        raise InvalidParameterError(f"{name} must be positive exactly on supp pi_ref")
    return np.log(p[prob.idx])


def geometric_mixture(pi: Any, pi_ref: Any, alpha: Any) -> np.ndarray:
    """``pi^alpha ∝ pi_ref^alpha pi^(1 - alpha)`` (float ``(K,)``; 0 where either vanishes).

    >>> geometric_mixture([0.8, 0.2], [0.2, 0.8], 0.5).tolist()
    [0.5, 0.5]
    """
    a = check_alpha(alpha)
    p = to_float(validate_distribution(pi, name="pi"))
    r = _model(pi_ref, p.shape[0], "pi_ref")
    with np.errstate(divide="ignore"):
        z = np.where((p > 0) & (r > 0), a * np.log(r) + (1 - a) * np.log(p), -np.inf)
    return softmax(z)


def _update_logits(
    Ps: np.ndarray, lref: np.ndarray, v: np.ndarray, a: float, b: float
) -> tuple[np.ndarray, np.ndarray]:
    """The mixture ``m(v)`` and the logits ``log pi_ref + P m / beta`` of the fixed-point map."""
    m = softmax(a * lref + (1 - a) * v)
    return m, lref + Ps @ m / b


def nash_md_step(P: Any, pi: Any, pi_ref: Any, beta: Any, alpha: Any) -> np.ndarray:
    """One Nash-MD step ``pi' ∝ pi^alpha exp(eta P pi^alpha)``, ``eta = alpha / beta``
    (module docstring).  ``pi`` positive exactly on ``supp pi_ref``.

    >>> from theory.preferences import cyclic
    >>> nash_md_step(cyclic(3), [1/3] * 3, [1/3] * 3, 1.0, 0.5).round(12).tolist()
    [0.333333333333, 0.333333333333, 0.333333333333]
    """
    prob = online_problem(P, pi_ref, beta)
    a = check_alpha(alpha)
    Ps, refs = prob.restricted()
    v = _logs(prob, pi, "pi")
    m = softmax(a * np.log(refs) + (1 - a) * v)
    return embed(softmax(np.log(m) + (a / prob.beta) * (Ps @ m)), prob.idx, prob.K)


def nash_md_trajectory(
    P: Any, start: Any, pi_ref: Any, beta: Any, alpha: Any, steps: int
) -> Trajectory:
    """``steps`` Nash-MD steps (:func:`nash_md_step`) from ``start``.

    >>> P = [[0.5, 0.8, 0.3], [0.2, 0.5, 0.7], [0.7, 0.3, 0.5]]
    >>> tr = nash_md_trajectory(P, [0.5, 0.3, 0.2], [0.5, 0.3, 0.2], 0.5, 0.5, 200)
    >>> fp = nash_md_fixed_point(P, [0.5, 0.3, 0.2], 0.5, 0.5)
    >>> bool(np.max(np.abs(tr.final - fp.pi)) < 1e-9)
    True
    """
    first = _model(start, np.shape(P)[0], "start")
    return iterate(lambda p: nash_md_step(P, p, pi_ref, beta, alpha), first, steps)


def nash_md_residual(P: Any, pi: Any, pi_ref: Any, beta: Any, alpha: Any) -> float:
    """``max_y |pi - softmax(log pi_ref + P pi^alpha / beta)|_y``: 0 exactly at a fixed point.

    >>> from theory.preferences import cyclic
    >>> nash_md_residual(cyclic(3), [1/3] * 3, [1/3] * 3, 1.0, 0.1) < 1e-15
    True
    """
    prob = online_problem(P, pi_ref, beta)
    a = check_alpha(alpha)
    p = _model(pi, prob.K, "pi")
    m = geometric_mixture(p, prob.pi_ref, a)
    with np.errstate(divide="ignore"):
        target = softmax(np.log(prob.pi_ref) + prob.P @ m / prob.beta)
    return float(np.max(np.abs(p - target)))


def nash_md_fixed_point(
    P: Any, pi_ref: Any, beta: Any, alpha: Any, *, tol: float = FIXED_POINT_TOL
) -> FixedPoint:
    """The fixed point ``pi = softmax(log pi_ref + P pi^alpha / beta)`` of Nash-MD (module
    docstring), by damped Newton on ``v = log pi`` over ``supp pi_ref`` from ``pi_ref``:
    ``F(v) = v - log_softmax(log pi_ref + P m(v) / beta)``, ``m(v) = softmax(alpha log pi_ref
    + (1 - alpha) v)``, Jacobian ``I - (I - 1 s^T) (P / beta) (1 - alpha) (diag m - m m^T)``.
    Certificate :func:`nash_md_residual` ``<= tol``; :class:`~theory.errors.NotConvergedError`
    otherwise.

    >>> P = [[0.5, 0.8, 0.3], [0.2, 0.5, 0.7], [0.7, 0.3, 0.5]]
    >>> fp = nash_md_fixed_point(P, [0.5, 0.3, 0.2], 0.5, 1.0)     # alpha = 1: WRO optimum
    >>> np.round(fp.pi, 3).tolist(), fp.residual <= 1e-12
    ([0.547, 0.238, 0.215], True)
    """
    prob = online_problem(P, pi_ref, beta)
    a = check_alpha(alpha)
    Ps, refs = prob.restricted()
    lref, b, n = np.log(refs), prob.beta, len(refs)

    def F(v: np.ndarray) -> np.ndarray:
        return v - log_softmax(_update_logits(Ps, lref, v, a, b)[1])

    def J(v: np.ndarray) -> np.ndarray:
        m, z = _update_logits(Ps, lref, v, a, b)
        s = softmax(z)
        Jm = (1 - a) * (np.diag(m) - np.outer(m, m))
        return np.eye(n) - (np.eye(n) - np.outer(np.ones(n), s)) @ (Ps / b) @ Jm

    with np.errstate(over="ignore", under="ignore"):
        v, its, _ = newton_root(F, J, lref, tol=tol / 10)
    pi = embed(softmax(v), prob.idx, prob.K)
    res = nash_md_residual(prob.P, pi, prob.pi_ref, prob.beta, a)
    return require_converged(FixedPoint(pi, res, its, res <= tol), "Nash-MD fixed point", tol)
