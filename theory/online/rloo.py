"""RLOO (Ahmadian et al., arXiv 2402.14740) as a population dynamic (docs/zoo_online.md).

REINFORCE Leave-One-Out draws ``k >= 2`` responses from the current model ``pi``, scores each
with the KL-shaped reward

    R_pi(y) = r(y) - beta log(pi(y) / pi_ref(y))

(the KL penalty inside the reward, as in TRL's RLOO trainer), and uses as baseline of each sample
the mean reward of the other ``k - 1``.  The baseline is independent of the sample it is
subtracted from and the score has mean 0, so the expected update on the logits ``theta``
(``pi = softmax theta``) is the same for every ``k``:

    g_y = E[A grad_theta log pi] = pi(y) (R_pi(y) - E_pi R_pi)       (:func:`rloo_gradient`),

an ascent direction (``theta' = theta + lr g``, :func:`rloo_step`).  A **fixed point** on
``supp pi_ref`` has ``R_pi`` constant there: ``pi ∝ pi_ref exp(r / beta)``
(:func:`rloo_fixed_point`, closed form; certificate
``max_{y in supp pi_ref} |R_pi(y) - E_pi R_pi|``), the maximiser of
``E_pi r - beta KL(pi || pi_ref)``: RLHF's policy.  With the Bradley-Terry reward ``r`` of a
Bradley-Terry ``P`` (:func:`rloo_bt_fixed_point`) it is the logit-WRO optimum (claim
``RLHF-is-WRO``), exact when ``P`` is exact and ``1 / beta`` an integer.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from ..bradley_terry import fit_bradley_terry
from ..errors import InvalidParameterError, ShapeMismatchError
from ..kernels import check_beta, tilt
from ..numbers import as_array, to_float
from ..simplex import validate_distribution
from .core import FixedPoint, Trajectory, embed, iterate, online_problem, softmax
from .dpo import exact_bt_fixed_point

__all__ = [
    "RLOO_LR",
    "rloo_gradient",
    "rloo_step",
    "rloo_trajectory",
    "rloo_residual",
    "rloo_fixed_point",
    "rloo_bt_fixed_point",
]

#: Default learning rate of :func:`rloo_step`.
RLOO_LR = 1.0


def _inputs(r: Any, pi_ref: Any, beta: Any) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    b = float(check_beta(beta, positive=True))
    ref = to_float(validate_distribution(pi_ref, name="pi_ref"))
    r_arr = to_float(as_array(r, name="r"))
    if r_arr.shape != ref.shape:
        raise ShapeMismatchError(f"r has shape {r_arr.shape}, expected {ref.shape}")
    return r_arr, ref, b, np.flatnonzero(ref > 0)


def _shaped(
    r: np.ndarray, pi: np.ndarray, ref: np.ndarray, b: float, idx: np.ndarray
) -> np.ndarray:
    """``(R_pi - E_pi R_pi)`` on ``idx`` (``pi`` positive there)."""
    R = r[idx] - b * np.log(pi[idx] / ref[idx])
    return R - pi[idx] @ R


def _policy(pi: Any, ref: np.ndarray, idx: np.ndarray) -> np.ndarray:
    p = to_float(validate_distribution(pi, name="pi"))
    if p.shape != ref.shape:
        raise ShapeMismatchError(f"pi has shape {p.shape}, expected {ref.shape}")
    off = np.setdiff1d(np.arange(len(ref)), idx)
    if np.any(p[idx] <= 0) or np.any(p[off] > 0):
        raise InvalidParameterError("pi must be positive exactly on supp pi_ref")
    return p


def rloo_gradient(r: Any, pi: Any, pi_ref: Any, beta: Any) -> np.ndarray:
    """The expected RLOO update on the logits, ``g_y = pi(y) (R_pi(y) - E_pi R_pi)`` (module
    docstring), ``(K,)`` float; ``pi`` positive exactly on ``supp pi_ref``.

    >>> rloo_gradient([1.0, 0.0], [0.5, 0.5], [0.5, 0.5], 1.0).tolist()
    [0.25, -0.25]
    """
    r_arr, ref, b, idx = _inputs(r, pi_ref, beta)
    p = _policy(pi, ref, idx)
    return embed(p[idx] * _shaped(r_arr, p, ref, b, idx), idx, len(ref))


def rloo_step(r: Any, pi: Any, pi_ref: Any, beta: Any, lr: float = RLOO_LR) -> np.ndarray:
    """``pi' = softmax(log pi + lr g)`` with ``g`` = :func:`rloo_gradient`."""
    g = rloo_gradient(r, pi, pi_ref, beta)
    return tilt(to_float(validate_distribution(pi, name="pi")), lr * g)


def rloo_trajectory(
    r: Any, start: Any, pi_ref: Any, beta: Any, steps: int, lr: float = RLOO_LR
) -> Trajectory:
    """``steps`` expected RLOO steps from ``start``.

    >>> tr = rloo_trajectory([1.0, 0.0], [0.5, 0.5], [0.5, 0.5], 1.0, 300)
    >>> fp = rloo_fixed_point([1.0, 0.0], [0.5, 0.5], 1.0)
    >>> bool(np.max(np.abs(tr.final - fp.pi)) < 1e-9)
    True
    """
    first = to_float(validate_distribution(start, name="start"))
    return iterate(lambda p: rloo_step(r, p, pi_ref, beta, lr), first, steps)


def rloo_residual(r: Any, pi: Any, pi_ref: Any, beta: Any) -> float:
    """``max_{y in supp pi_ref} |R_pi(y) - E_pi R_pi|`` (``inf`` when ``pi`` is not positive
    exactly on ``supp pi_ref``).

    >>> rloo_residual([1.0, 0.0], [0.5, 0.5], [0.5, 0.5], 1.0)
    0.5
    """
    r_arr, ref, b, idx = _inputs(r, pi_ref, beta)
    p = to_float(validate_distribution(pi, name="pi"))
    off = np.setdiff1d(np.arange(len(ref)), idx)
    if p.shape != ref.shape or np.any(p[idx] <= 0) or np.any(p[off] > 0):
        return float("inf")
    return float(np.max(np.abs(_shaped(r_arr, p, ref, b, idx))))


def rloo_fixed_point(r: Any, pi_ref: Any, beta: Any) -> FixedPoint:
    """The RLOO fixed point ``pi ∝ pi_ref exp(r / beta)`` (closed form) with its certificate
    :func:`rloo_residual`.

    >>> fp = rloo_fixed_point([np.log(3.0), 0.0], [0.5, 0.5], 1.0)
    >>> np.round(fp.pi, 12).tolist(), fp.residual < 1e-12
    ([0.75, 0.25], True)
    """
    r_arr, ref, b, idx = _inputs(r, pi_ref, beta)
    z = np.log(ref[idx]) + (r_arr[idx] - r_arr[idx].max()) / b
    pi = embed(softmax(z), idx, len(ref))
    res = rloo_residual(r_arr, pi, ref, b)
    return FixedPoint(pi, res, 0, res <= 1e-12 * max(1.0, float(np.max(np.abs(r_arr)))))


def rloo_bt_fixed_point(P: Any, pi_ref: Any, beta: Any, mu: Any = None) -> FixedPoint:
    """RLOO with the Bradley-Terry reward of ``P`` fitted by maximum likelihood on pairs from
    ``mu ⊗ mu`` (default ``pi_ref``; :func:`theory.bradley_terry.fit_bradley_terry`), then
    :func:`rloo_fixed_point`: RLHF's policy.  When ``P`` is exact Bradley-Terry with strengths
    ``s`` and ``1 / beta`` an integer ``n`` the answer is exact, ``pi ∝ pi_ref s^n``.

    >>> from theory.preferences import bradley_terry_from_strengths
    >>> rloo_bt_fixed_point(bradley_terry_from_strengths([1, 3]), [Fraction(1, 2)] * 2, 1).pi
    array([Fraction(1, 4), Fraction(3, 4)], dtype=object)
    """
    b = check_beta(beta, positive=True)
    exact = exact_bt_fixed_point(P, pi_ref, b) if mu is None else None
    if exact is not None:  # the MLE of an exact BT P is log s whatever the pair weights
        return FixedPoint(exact, Fraction(0), 0, True)
    prob = online_problem(P, pi_ref, b)
    m = prob.pi_ref if mu is None else to_float(validate_distribution(mu, name="mu"))
    live = np.flatnonzero(m > 0)
    w = m[live, None] * m[None, live] * prob.P[np.ix_(live, live)]
    r = embed(fit_bradley_terry(w).rewards, live, prob.K)
    return rloo_fixed_point(r, prob.pi_ref, prob.beta)
