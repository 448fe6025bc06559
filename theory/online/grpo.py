"""GRPO (Shao et al., arXiv 2402.03300) as a population dynamic (docs/zoo_online.md).

GRPO draws a group of responses from the current model ``pi``, normalizes each reward within
its group, ``A = (r - mean) / std``, and adds the KL penalty through the *k3 estimator*
``k3(y) = pi_ref(y)/pi(y) - log(pi_ref(y)/pi(y)) - 1`` evaluated on the sampled ``y ~ pi``.
In the population limit (groups of size ``G -> infinity``) the advantage is

    A_pi(y) = (r(y) - rbar_pi) / sigma_pi,   rbar_pi = E_pi r,  sigma_pi^2 = Var_pi r
                                                                    (:func:`grpo_advantage`),

and the expected update of the logits ``theta`` (``pi = softmax theta``) is

    g_y = pi(y) A_pi(y) - beta (pi(y) - pi_ref(y))                  (:func:`grpo_gradient`):

the k3 term contributes ``E_{y~pi}[(1 - pi_ref/pi) grad log pi] = -sum_y pi_ref grad log pi
= grad KL(pi_ref || pi)``: on-policy, the k3 estimator's gradient is that of the *forward* KL,
although its value estimates the reverse KL.  A **fixed point** (``g = 0``) therefore solves the
forward-KL problem ``max_p E_p A - beta KL(pi_ref || p)`` with its own advantage ``A = A_pi``
(whose solution is ``p = beta pi_ref / (lam - A)``, :func:`forward_kl_optimum`; at the fixed point
``lam = beta``):

    pi(y) = pi_ref(y) / (1 - (r(y) - rbar_pi) / (beta sigma_pi))     (:func:`grpo_fixed_point`).

**Existence** [our derivation].  Write ``B = beta - A_pi > 0``; the fixed-point equations are
``E_pi B = beta``, ``Var_pi B = 1``, and with ``pi = beta pi_ref / B`` they become
``E_{pi_ref}[1 / B] = 1 / beta`` and ``E_{pi_ref}[B] = beta + 1 / beta`` with ``B`` affine and
decreasing in ``r``: ``B = t + v (r_max - r)``.  Eliminating ``v`` by the second equation,
``E_{pi_ref}[1/B]`` falls strictly from ``+inf`` (``t -> 0``) to ``1 / (beta + 1/beta) < 1/beta``
(``v = 0``), so there is **exactly one fixed point for every beta > 0** when ``r`` is not
constant on ``supp pi_ref``; when it is, ``sigma_pi = 0`` for every admissible ``pi``, the
advantage is ``0 / 0`` and :class:`~theory.errors.NoFixedPointError` is raised.  (The method zoo
specification expected the fixed point to fail to exist at small ``beta``; in the population
limit it does not: as ``beta -> 0`` it tends to the argmax of ``r``, with
``1 - pi(top) ~ beta^2``.)  The fixed point differs from RLHF's reverse-KL optimum
``pi_ref exp(r / beta)`` (:func:`theory.online.rloo.rloo_fixed_point`) for ``beta > 0``; both
tend to the argmax of ``r`` as ``beta -> 0`` (consistency at ``beta = 0``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import brentq

from ..errors import InvalidParameterError, NoFixedPointError, ShapeMismatchError
from ..kernels import check_beta, tilt
from ..numbers import as_array, to_float
from ..simplex import validate_distribution
from .core import FIXED_POINT_TOL, FixedPoint, Trajectory, iterate

__all__ = [
    "GRPO_LR",
    "grpo_advantage",
    "grpo_gradient",
    "grpo_step",
    "grpo_trajectory",
    "grpo_residual",
    "grpo_fixed_point",
    "forward_kl_optimum",
]

#: Default learning rate of :func:`grpo_step`.
GRPO_LR = 0.1
#: Relative precision of the scalar root solves.
ROOT_RTOL = 4 * np.finfo(float).eps


def _vec(a: Any, K: int, name: str) -> np.ndarray:
    arr = to_float(as_array(a, name=name))
    if arr.shape != (K,):
        raise ShapeMismatchError(f"{name} has shape {arr.shape}, expected ({K},)")
    return arr


def _inputs(r: Any, pi_ref: Any, beta: Any) -> tuple[np.ndarray, np.ndarray, float]:
    b = float(check_beta(beta, positive=True))
    ref = to_float(validate_distribution(pi_ref, name="pi_ref"))
    return _vec(r, len(ref), "r"), ref, b


def _policy(pi: Any, ref: np.ndarray) -> np.ndarray:
    p = to_float(validate_distribution(pi, name="pi"))
    if p.shape != ref.shape:
        raise ShapeMismatchError(f"pi has shape {p.shape}, expected {ref.shape}")
    if np.any((p > 0) & (ref == 0)):
        raise InvalidParameterError("pi puts mass where pi_ref has none (k3 is infinite)")
    return p


def grpo_advantage(r: Any, pi: Any) -> np.ndarray:
    """The population group-normalized advantage ``A_pi = (r - E_pi r) / sigma_pi`` (``(K,)``
    float; all 0 when ``sigma_pi = 0``, the convention of ``(r - mean) / (std + eps)``).

    >>> grpo_advantage([1.0, 0.0], [0.5, 0.5]).tolist()
    [1.0, -1.0]
    """
    p = to_float(validate_distribution(pi, name="pi"))
    r_arr = _vec(r, len(p), "r")
    shifted = r_arr - r_arr[int(np.argmax(p))]  # centred at the mode: no cancellation when
    c = shifted - p @ shifted  # pi concentrates (E_pi r is then close to r at the mode)
    sd = float(np.sqrt(p @ c**2))
    return c / sd if sd > 0 else np.zeros_like(c)


def grpo_gradient(r: Any, pi: Any, pi_ref: Any, beta: Any) -> np.ndarray:
    """The expected GRPO update on the logits, ``g = pi * A_pi - beta (pi - pi_ref)`` (module
    docstring; an ascent direction).

    >>> grpo_gradient([1.0, 0.0], [0.5, 0.5], [0.5, 0.5], 1.0).tolist()
    [0.5, -0.5]
    """
    r_arr, ref, b = _inputs(r, pi_ref, beta)
    p = _policy(pi, ref)
    return p * grpo_advantage(r_arr, p) - b * (p - ref)


def grpo_step(r: Any, pi: Any, pi_ref: Any, beta: Any, lr: float = GRPO_LR) -> np.ndarray:
    """``pi' = softmax(log pi + lr g)`` with ``g`` = :func:`grpo_gradient` (``pi`` positive on
    ``supp pi_ref``)."""
    g = grpo_gradient(r, pi, pi_ref, beta)
    return tilt(to_float(validate_distribution(pi, name="pi")), lr * g)


def grpo_trajectory(
    r: Any, start: Any, pi_ref: Any, beta: Any, steps: int, lr: float = GRPO_LR
) -> Trajectory:
    """``steps`` expected GRPO steps (:func:`grpo_step`) from ``start``.

    >>> tr = grpo_trajectory([1.0, 0.0], [0.5, 0.5], [0.5, 0.5], 1.0, 2000)
    >>> bool(np.max(np.abs(tr.final - grpo_fixed_point([1.0, 0.0], [0.5, 0.5], 1.0).pi)) < 1e-9)
    True
    """
    first = to_float(validate_distribution(start, name="start"))
    return iterate(lambda p: grpo_step(r, p, pi_ref, beta, lr), first, steps)


def grpo_residual(r: Any, pi: Any, pi_ref: Any, beta: Any) -> float:
    """The fixed-point certificate ``max_y |pi(y) (1 - A_pi(y) / beta) - pi_ref(y)|``
    (``= |g_y| / beta``; 0 exactly at a fixed point).

    >>> grpo_residual([1.0, 0.0], [0.5, 0.5], [0.5, 0.5], 1.0)
    0.5
    """
    r_arr, ref, b = _inputs(r, pi_ref, beta)
    p = _policy(pi, ref)
    return float(np.max(np.abs(p * (1.0 - grpo_advantage(r_arr, p) / b) - ref)))


def grpo_fixed_point(r: Any, pi_ref: Any, beta: Any, *, tol: float = FIXED_POINT_TOL) -> FixedPoint:
    """The unique fixed point of population GRPO, ``pi = pi_ref / (1 - A_pi / beta)`` (module
    docstring), found by one scalar root solve: with ``D = r_max - r``,
    ``B = t + v D``, ``v = (beta + 1/beta - t) / E_{pi_ref} D``, solve
    ``E_{pi_ref}[1 / B] = 1 / beta`` for ``t in (0, beta + 1/beta)`` (brentq in ``log t``),
    then ``pi = beta pi_ref / B``.  Certificate :func:`grpo_residual` (recomputed from ``pi``);
    ``converged`` is ``residual <= tol`` (float64 meets ``1e-12`` for ``beta`` down to about
    ``1e-4``; below that the answer is returned with ``converged=False``, never silently).
    Raises :class:`~theory.errors.NoFixedPointError` when ``r`` is constant on
    ``supp pi_ref`` (the advantage is ``0 / 0`` for every admissible model).

    >>> fp = grpo_fixed_point([1.0, 0.0], [0.5, 0.5], 1.0)
    >>> np.round(fp.pi, 6).tolist(), fp.residual <= 1e-12
    ([0.853553, 0.146447], True)
    >>> grpo_fixed_point([1.0, 1.0, 0.0], [0.5, 0.5, 0.0], 1.0)
    Traceback (most recent call last):
    ...
    theory.errors.NoFixedPointError: GRPO: r is constant on supp pi_ref, ...: no fixed point
    """
    r_arr, ref, b = _inputs(r, pi_ref, beta)
    live = ref > 0
    D = np.where(live, r_arr[live].max() - r_arr, 0.0)
    mD = float(ref @ D)
    if not mD > 0:
        raise NoFixedPointError(
            "GRPO: r is constant on supp pi_ref, so sigma_pi = 0 and the group-normalized "
            "advantage is 0/0 for every model: no fixed point"
        )
    total = b + 1.0 / b

    def B(t: float) -> np.ndarray:
        return t + (total - t) / mD * D

    def gap(s: float) -> float:  # log E_ref[1/B] - log(1/beta), decreasing in s = log t
        return float(np.log(np.sum(ref[live] / B(np.exp(s))[live])) + np.log(b))

    hi = np.log(total)
    lo = hi - 1.0
    while gap(lo) < 0:
        lo = hi - 2.0 * (hi - lo)
    s = brentq(gap, lo, hi, xtol=1e-300, rtol=ROOT_RTOL, maxiter=500)
    pi = np.where(live, b * ref / np.where(live, B(np.exp(s)), 1.0), 0.0)
    pi = pi / pi.sum()
    res = grpo_residual(r_arr, pi, ref, b)
    return FixedPoint(pi, res, 1, res <= tol)


def forward_kl_optimum(A: Any, pi_ref: Any, beta: Any) -> np.ndarray:
    """The maximiser of ``E_p A - beta KL(pi_ref || p)`` over models ``p`` (``A`` fixed):
    ``p = beta pi_ref / (lam - A)`` on ``supp pi_ref`` with ``lam > max A`` solving
    ``sum p = 1`` (strictly decreasing in ``lam``; brentq).  GRPO's fixed point is this optimum
    for its own advantage, with ``lam = beta``.

    >>> import numpy as np
    >>> fp = grpo_fixed_point([1.0, 0.0], [0.5, 0.5], 1.0)
    >>> p = forward_kl_optimum(grpo_advantage([1.0, 0.0], fp.pi), [0.5, 0.5], 1.0)
    >>> bool(np.max(np.abs(p - fp.pi)) < 1e-12)
    True
    """
    ref = to_float(validate_distribution(pi_ref, name="pi_ref"))
    a = _vec(A, len(ref), "A")
    b = float(check_beta(beta, positive=True))
    live = ref > 0
    top = float(a[live].max())

    def excess(u: float) -> float:  # sum p - 1 at lam = top + u, decreasing in u > 0
        return float(np.sum(b * ref[live] / (top + u - a[live])) - 1.0)

    hi = b + 1.0
    while excess(hi) > 0:
        hi *= 2.0
    u = brentq(
        excess,
        b * float(ref[live][a[live] == top].sum()) * 0.5,
        hi,
        xtol=1e-300,
        rtol=ROOT_RTOL,
        maxiter=500,
    )
    p = np.where(live, b * ref / np.where(live, top + u - a, 1.0), 0.0)
    return p / p.sum()
