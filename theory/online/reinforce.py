"""Pairwise-judge REINFORCE: a policy gradient whose reward is a judge's P(y beats y').

One prompt, ``K`` responses, preference matrix ``P`` (``(K, K)``), reference ``pi_ref``,
``beta > 0``; the model is ``pi = softmax(theta)`` and ``d(y) = log pi(y) - log pi_ref(y)``.
A group ``y_1..y_G ~ pi`` is drawn and each sample is rewarded by a judge, with the KL penalty
inside the reward (as in RLOO):

* **fixed opponent** ``q``: ``r_i = P[y_i, y'_i] - beta d(y_i)`` with ``y'_i ~ q``; its
  expectation given ``y_i = y`` is ``W_q(y) - beta d(y)``, ``W_q = P q``;
* **in-group** (leave-one-out judge, group size ``G >= 2``):
  ``r_i = (1/(G-1)) sum_{j != i} P[y_i, y_j] - beta d(y_i)``, and the advantage subtracts the
  leave-one-out baseline ``A_i = r_i - (1/(G-1)) sum_{j != i} r_j``.

**The exact population update** is the expected REINFORCE direction in the logits,
``E[(1/G) sum_i A_i (e_{y_i} - pi)] = pi ⊙ a`` with ``a(y) = E[A_i | y_i = y]`` centred so that
``pi . a = 0`` (:func:`judge_advantage`, :func:`reinforce_advantage`, :func:`reinforce_update`).
For the fixed opponent ``a(y) = W_q(y) - beta d(y) - E_pi[W_q - beta d]``.  For the in-group
judge the baseline depends on ``y_i`` (each other sample's reward contains
``P[y_j, y_i] = 1 - P[y_i, y_j]``): given ``y_i = y``, ``E[r_j] = (1 - W_pi(y) + (G-2)/2) / (G-1)
- beta KL(pi || pi_ref)``, so

    a(y) = (G / (G-1)) (W_pi(y) - 1/2) - beta (d(y) - KL(pi || pi_ref)).

**Fixed points** (:func:`reinforce_fixed_point`; ``a = 0`` on the support of ``pi_ref``):

* fixed opponent: ``pi ∝ pi_ref exp(P q / beta)``, the fixed-anchor WRO optimum with
  ``h = identity`` and anchor ``q`` (:func:`theory.wro.wro_optimum`);
* in-group: ``pi ∝ pi_ref exp(P pi / (beta (G-1)/G))``, NLHF's regularized Nash equilibrium at
  ``beta (G-1)/G`` (:func:`theory.methods.nlhf.regularized_nash`; claim
  ``in-group-judge-is-NLHF``).  The leave-one-out baseline sharpens the judge by ``G/(G-1)``:
  a group of two acts as half the regularization.

The residual of a :class:`~theory.online.core.FixedPoint` is the max-norm of
``pi - softmax(log pi_ref + c (P x) / beta)`` (``x = q``, ``c = 1``; or ``x = pi``,
``c = G/(G-1)``), recomputed from ``pi``.  Docs: docs/zoo_online.md ("pairwise-judge REINFORCE").
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, ShapeMismatchError, SupportMismatchError
from ..kernels import check_beta, tilt
from ..methods.nlhf import NASH_TOL, regularized_nash
from ..numbers import common_kind, half_of, to_float
from ..preferences import validate_preference_matrix
from ..simplex import validate_distribution
from .core import FixedPoint, Trajectory, iterate, require_converged, softmax

__all__ = [
    "check_group_size",
    "effective_beta",
    "judge_advantage",
    "reinforce_advantage",
    "reinforce_update",
    "reinforce_step",
    "reinforce_trajectory",
    "reinforce_fixed_point",
]


def check_group_size(G: Any) -> int:
    """``G`` as an int ``>= 2`` (a leave-one-out judge needs another sample), or
    :class:`~theory.errors.InvalidParameterError`."""
    if isinstance(G, bool) or not isinstance(G, int | np.integer) or G < 2:
        raise InvalidParameterError(f"G = {G!r}, expected an integer group size >= 2")
    return int(G)


def effective_beta(beta: Any, G: Any) -> Any:
    """The regularization of the in-group judge's fixed point, ``beta (G - 1) / G`` (exact for
    an exact ``beta``).

    >>> from fractions import Fraction
    >>> effective_beta(Fraction(1, 2), 2), effective_beta(1.0, 4)
    (Fraction(1, 4), 0.75)
    """
    b = check_beta(beta, positive=True)
    g = check_group_size(G)
    return b * Fraction(g - 1, g) if isinstance(b, Fraction) else float(b) * (g - 1) / g


def _opponent(q: Any, G: Any) -> tuple[Any, int | None]:
    if (q is None) == (G is None):
        raise InvalidParameterError("give exactly one of q (a fixed opponent) and G (in-group)")
    return q, (None if G is None else check_group_size(G))


def judge_advantage(P: Any, pi: Any, *, q: Any = None, G: Any = None) -> np.ndarray:
    """The judge's part of ``a(y) = E[A_i | y_i = y]`` (centred, ``pi . a = 0``; exact for
    exact input): fixed opponent ``W_q(y) - pi . W_q``; in-group ``(G/(G-1)) (W_pi(y) - 1/2)``.

    ``P`` ``(K, K)``, ``pi`` ``(K,)``; exactly one of ``q`` (``(K,)``) and ``G`` (``>= 2``).

    >>> from fractions import Fraction as F
    >>> from theory.preferences import rock_paper_scissors
    >>> judge_advantage(rock_paper_scissors(), [F(1, 2), F(1, 2), 0], G=2).tolist()
    [Fraction(1, 2), Fraction(-1, 2), Fraction(0, 1)]
    """
    q_arr, g = _opponent(q, G)
    P_arr = validate_preference_matrix(P)
    p = validate_distribution(pi, name="pi")
    if p.shape[0] != P_arr.shape[0]:
        raise ShapeMismatchError(f"pi has {p.shape[0]} entries but P is {P_arr.shape}")
    if g is None:
        qv = validate_distribution(q_arr, name="q")
        if qv.shape != p.shape:
            raise ShapeMismatchError(f"q has shape {qv.shape}, expected {p.shape}")
        P_arr, p, qv = common_kind(P_arr, p, qv)
        W = P_arr @ qv
        return W - p @ W
    P_arr, p = common_kind(P_arr, p)
    c = Fraction(g, g - 1) if P_arr.dtype == object else g / (g - 1)
    return c * (P_arr @ p - half_of(P_arr))


def _log_ratio(p: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``d = log pi - log pi_ref`` on the support of ``pi`` (0 elsewhere); ``pi`` must vanish
    off the support of ``pi_ref``."""
    if np.any((p > 0) & (ref == 0)):
        raise SupportMismatchError("pi puts mass where pi_ref is 0: KL(pi || pi_ref) is infinite")
    with np.errstate(divide="ignore"):
        return np.where(
            p > 0, np.log(np.where(p > 0, p, 1.0)) - np.log(np.where(p > 0, ref, 1.0)), 0.0
        )


def reinforce_advantage(
    P: Any, pi: Any, beta: Any, pi_ref: Any, *, q: Any = None, G: Any = None
) -> np.ndarray:
    """``a(y) = E[A_i | y_i = y]`` with the KL inside the reward (float, ``pi . a = 0``):
    :func:`judge_advantage` ``- beta (d(y) - KL(pi || pi_ref))`` on the support of ``pi``.

    >>> from theory.preferences import rock_paper_scissors
    >>> a = reinforce_advantage(rock_paper_scissors(), [1/3] * 3, 1.0, [1/3] * 3, G=3)
    >>> [round(float(v), 12) for v in a]
    [0.0, 0.0, 0.0]
    """
    b = float(check_beta(beta, positive=True))
    p = to_float(validate_distribution(pi, name="pi"))
    ref = to_float(validate_distribution(pi_ref, name="pi_ref"))
    if ref.shape != p.shape:
        raise ShapeMismatchError(f"pi_ref has shape {ref.shape}, expected {p.shape}")
    d = _log_ratio(p, ref)
    judge = to_float(judge_advantage(P, p, q=q, G=G))
    return np.where(p > 0, judge - b * (d - p @ d), 0.0)


def reinforce_update(
    P: Any, pi: Any, beta: Any, pi_ref: Any, *, q: Any = None, G: Any = None
) -> np.ndarray:
    """The exact population update of the logits ``theta`` (``pi = softmax(theta)``): the
    expected REINFORCE direction ``pi ⊙ a`` (:func:`reinforce_advantage`); zero exactly at a
    fixed point.

    >>> from theory.preferences import rock_paper_scissors
    >>> reinforce_update(rock_paper_scissors(), [0.5, 0.5, 0.0], 1.0, [0.5, 0.5, 0.0],
    ...                  q=[0, 0, 1]).tolist()
    [-0.25, 0.25, 0.0]
    """
    p = to_float(validate_distribution(pi, name="pi"))
    return p * reinforce_advantage(P, p, beta, pi_ref, q=q, G=G)


def reinforce_step(
    P: Any, pi: Any, beta: Any, pi_ref: Any, *, lr: Any, q: Any = None, G: Any = None
) -> np.ndarray:
    """One step of exact population REINFORCE: ``theta' = theta + lr pi ⊙ a``, returned as
    ``pi' = softmax(log pi + lr pi ⊙ a)`` (mass off the support of ``pi`` stays 0).

    >>> from theory.preferences import rock_paper_scissors
    >>> u = [1/3] * 3
    >>> reinforce_step(rock_paper_scissors(), u, 1.0, u, lr=1.0, G=2).round(12).tolist()
    [0.333333333333, 0.333333333333, 0.333333333333]
    """
    lr_f = float(lr)
    if not np.isfinite(lr_f) or lr_f <= 0:
        raise InvalidParameterError(f"lr = {lr!r}, expected a positive finite number")
    p = to_float(validate_distribution(pi, name="pi"))
    return tilt(p, lr_f * reinforce_update(P, p, beta, pi_ref, q=q, G=G))


def reinforce_trajectory(
    P: Any,
    pi0: Any,
    beta: Any,
    pi_ref: Any,
    *,
    lr: Any,
    steps: int,
    q: Any = None,
    G: Any = None,
) -> Trajectory:
    """``steps`` steps of :func:`reinforce_step` from ``pi0`` (``points[0] = pi0``).

    >>> from theory.preferences import bradley_terry_matrix
    >>> P = bradley_terry_matrix([0.0, 1.0, 2.0])
    >>> tr = reinforce_trajectory(P, [1/3] * 3, 0.5, [1/3] * 3, lr=5.0, steps=2000, G=4)
    >>> fp = reinforce_fixed_point(P, 0.5, [1/3] * 3, G=4)
    >>> bool(abs(tr.final - fp.pi).max() < 1e-6)
    True
    """
    first = to_float(validate_distribution(pi0, name="pi0"))
    return iterate(lambda p: reinforce_step(P, p, beta, pi_ref, lr=lr, q=q, G=G), first, steps)


def reinforce_fixed_point(
    P: Any, beta: Any, pi_ref: Any, *, q: Any = None, G: Any = None, tol: float = NASH_TOL
) -> FixedPoint:
    """The fixed point of pairwise-judge REINFORCE (module docstring) with its residual.

    Fixed opponent ``q``: ``pi ∝ pi_ref exp(P q / beta)`` (:func:`theory.wro.wro_optimum`,
    ``h = identity``, anchor ``q``).  In-group with group size ``G``: the regularized Nash
    equilibrium at ``beta (G-1)/G`` (:func:`theory.methods.nlhf.regularized_nash`).  The residual
    ``max |pi - softmax(log pi_ref + c P x / beta)|`` is recomputed here; a residual above
    ``tol`` raises :class:`~theory.errors.NotConvergedError`.

    >>> from theory.preferences import rock_paper_scissors
    >>> fp = reinforce_fixed_point(rock_paper_scissors(), 0.5, [0.6, 0.3, 0.1], G=2)
    >>> fp.converged, fp.residual <= 1e-12
    (True, True)
    """
    _, g = _opponent(q, G)
    b = check_beta(beta, positive=True)
    P_f = to_float(validate_preference_matrix(P))
    ref = to_float(validate_distribution(pi_ref, name="pi_ref"))
    if ref.shape[0] != P_f.shape[0]:
        raise ShapeMismatchError(f"pi_ref has {ref.shape[0]} entries but P is {P_f.shape}")
    if g is None:
        from ..wro import wro_optimum  # theory.wro imports theory.methods; imported where used

        qv = to_float(validate_distribution(q, name="q"))
        pi = to_float(wro_optimum(P_f, qv, b, ref, h="identity").pi)
        c, x = 1.0, qv
        its = 0
    else:
        eq = regularized_nash(P_f, effective_beta(b, g), ref, tol=tol)
        pi, its = eq.pi, eq.iterations
        c, x = g / (g - 1), eq.pi
    with np.errstate(divide="ignore"):
        rhs = softmax(np.log(ref) + c * (P_f @ x) / float(b))
    res = float(np.max(np.abs(pi - rhs)))
    fp = FixedPoint(pi, res, its, res <= tol)
    return require_converged(fp, "pairwise-judge REINFORCE fixed point", tol)
