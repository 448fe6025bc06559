"""Shared pieces of the online, iterative and self-play dynamics: result types and a Newton solver.

An online method (docs/zoo_online.md) is not the minimizer of a fixed loss: each step draws its
training data from the current model ``pi_t``, so training is a *dynamic* ``pi_{t+1} = U(pi_t)``
on the simplex, and what it can converge to is a *fixed point* ``pi = U(pi)`` (equivalently a zero
of the expected update).  Every module of :mod:`theory.online` returns the same two result types:

* :class:`FixedPoint` ``(pi, residual, iterations, converged)``: a fixed point with its
  certificate.  ``residual`` is the max-norm of the method's own fixed-point equation at ``pi``
  (each module's docstring says which equation; recomputed from ``pi`` after solving, never
  the solver's internal value); ``converged`` is True exactly when ``residual <= tol``.
  A solver that reaches its iteration cap raises :class:`~theory.errors.NotConvergedError`
  carrying the unconverged :class:`FixedPoint` (``converged=False``), and a dynamic that has no
  fixed point raises :class:`~theory.errors.NoFixedPointError`: a model that is not a fixed
  point is never returned as one.  Exact (Fraction) fixed points have ``residual == 0``.
* :class:`Trajectory` ``(points, steps)``: ``points[t]`` is ``pi_t`` (``(steps + 1, K)``,
  ``points[0]`` the start).

The solver :func:`newton_root` (damped Newton with least-squares steps, for systems whose
Jacobian is singular along a gauge direction such as ``log pi -> log pi + c``) and the helpers
:func:`softmax`, :func:`log_softmax`, :func:`support_of`, :func:`embed` and :func:`iterate` are
shared by the modules of :mod:`theory.online` (tolerances declared once here).

>>> fp = FixedPoint(np.array([0.5, 0.5]), 0.0, 3, True)
>>> fp.K, fp.converged
(2, True)
>>> tr = iterate(lambda p: (p + np.array([1.0, 0.0])) / 2, np.array([0.0, 1.0]), 2)
>>> tr.points.tolist(), tr.steps, tr.final.tolist()
([[0.0, 1.0], [0.5, 0.5], [0.75, 0.25]], 2, [0.75, 0.25])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, NotConvergedError, ShapeMismatchError
from ..hfuncs import H_REGISTRY
from ..kernels import check_beta
from ..methods.nlhf import regularized_nash
from ..numbers import Number, to_float
from ..preferences import validate_preference_matrix
from ..simplex import validate_distribution

__all__ = [
    "FIXED_POINT_TOL",
    "NEWTON_MAX_ITER",
    "FixedPoint",
    "Trajectory",
    "OnlineProblem",
    "online_problem",
    "check_steps",
    "require_converged",
    "newton_root",
    "softmax",
    "log_softmax",
    "support_of",
    "embed",
    "iterate",
    "Reference",
    "references",
    "total_variation",
]

#: Default residual (max-norm) a fixed point must meet: the issue's target, 1e-12.
FIXED_POINT_TOL = 1e-12
#: Iteration cap of :func:`newton_root`.
NEWTON_MAX_ITER = 200
#: Backtracking halvings allowed per Newton step.
BACKTRACK_STEPS = 40


@dataclass(frozen=True)
class FixedPoint:
    """A fixed point of a training dynamic with its certificate.

    ``pi``: the model (``(K,)``; exact Fractions where the fixed point is rational);
    ``residual``: the max-norm of the method's fixed-point equation at ``pi`` (each method says
    which; 0 for an exact fixed point); ``iterations``: solver iterations used;
    ``converged``: ``residual <= tol`` (False only inside a
    :class:`~theory.errors.NotConvergedError`, or when a caller asked not to raise).
    """

    pi: np.ndarray
    residual: Number
    iterations: int
    converged: bool

    @property
    def K(self) -> int:
        """The number of responses."""
        return int(self.pi.shape[0])


@dataclass(frozen=True)
class Trajectory:
    """A trajectory of a dynamic: ``points[t] = pi_t`` for ``t = 0..steps`` (``(steps + 1, K)``,
    ``points[0]`` the start)."""

    points: np.ndarray
    steps: int

    @property
    def final(self) -> np.ndarray:
        """The last point ``pi_steps``."""
        return self.points[-1]

    def moves(self) -> np.ndarray:
        """``max_y |pi_{t+1}(y) - pi_t(y)|`` for ``t = 0..steps-1`` (float, ``(steps,)``)."""
        pts = to_float(self.points)
        return np.max(np.abs(pts[1:] - pts[:-1]), axis=1)


@dataclass(frozen=True)
class OnlineProblem:
    """A validated one-prompt instance: ``P`` ``(K, K)`` float, ``pi_ref`` ``(K,)`` float,
    ``beta > 0`` (float) and the support ``idx`` of ``pi_ref`` (the dynamics of
    :mod:`theory.online` keep every model inside it)."""

    P: np.ndarray
    pi_ref: np.ndarray
    beta: float
    idx: np.ndarray

    @property
    def K(self) -> int:
        return int(self.P.shape[0])

    def restricted(self) -> tuple[np.ndarray, np.ndarray]:
        """``(P, pi_ref)`` restricted to the support of ``pi_ref``."""
        i = self.idx
        return self.P[np.ix_(i, i)], self.pi_ref[i]


def online_problem(P: Any, pi_ref: Any, beta: Any) -> OnlineProblem:
    """Validate ``P`` (a preference matrix ``(K, K)``), ``pi_ref`` (a probability vector
    ``(K,)``) and ``beta > 0`` (:func:`theory.kernels.check_beta`); float copies.

    >>> online_problem([[0.5, 0.7], [0.3, 0.5]], [1.0, 0.0], 1).idx.tolist()
    [0]
    """
    b = check_beta(beta, positive=True)
    P_arr = to_float(validate_preference_matrix(P))
    ref = to_float(validate_distribution(pi_ref, name="pi_ref"))
    if ref.shape[0] != P_arr.shape[0]:
        raise ShapeMismatchError(f"pi_ref has {ref.shape[0]} entries but P is {P_arr.shape}")
    return OnlineProblem(P_arr, ref, float(b), np.flatnonzero(ref > 0))


def check_steps(steps: Any) -> int:
    """``steps`` as an int ``>= 0`` or :class:`~theory.errors.InvalidParameterError`."""
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise InvalidParameterError(f"steps = {steps!r}, expected an integer >= 0")
    return int(steps)


def require_converged(fp: FixedPoint, what: str, tol: float) -> FixedPoint:
    """``fp`` when ``fp.converged``; else raise :class:`~theory.errors.NotConvergedError`
    naming ``what``, the residual reached and ``tol`` (the error's ``result`` is ``fp``)."""
    if fp.converged:
        return fp
    raise NotConvergedError(
        f"{what}: residual {float(fp.residual):.3g} > tol {tol:.3g} after {fp.iterations} "
        "iterations; not reported as a fixed point",
        result=fp,
    )


def softmax(z: np.ndarray) -> np.ndarray:
    """``exp(z) / sum exp(z)`` along the last axis (``-inf`` entries get 0).

    >>> softmax(np.log(np.array([1.0, 3.0]))).tolist()
    [0.25, 0.75]
    """
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """``z - logsumexp(z)`` along the last axis."""
    m = np.max(z, axis=-1, keepdims=True)
    return z - m - np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))


def support_of(p: np.ndarray) -> np.ndarray:
    """The indices where ``p > 0``."""
    return np.flatnonzero(np.asarray(p) > 0)


def embed(sub: np.ndarray, idx: np.ndarray, K: int) -> np.ndarray:
    """A ``(K,)`` float vector with ``sub`` at ``idx`` and 0 elsewhere."""
    out = np.zeros(K)
    out[idx] = sub
    return out


def newton_root(
    F: Callable[[np.ndarray], np.ndarray],
    J: Callable[[np.ndarray], np.ndarray],
    v0: np.ndarray,
    *,
    tol: float = FIXED_POINT_TOL,
    max_iter: int = NEWTON_MAX_ITER,
) -> tuple[np.ndarray, int, bool]:
    """Damped Newton for ``F(v) = 0`` (``F: R^n -> R^m``, Jacobian ``J(v)`` ``(m, n)``).

    Each step is the least-squares (minimum-norm) solution of ``J d = -F`` (so a Jacobian that
    is singular along a gauge direction, e.g. ``v -> v + c 1`` for ``v = log pi``, is fine),
    halved until the merit ``|F|_2^2`` decreases (at most :data:`BACKTRACK_STEPS` halvings; the
    Gauss-Newton direction is a descent direction of that merit; when no halving decreases it,
    rounding level or a stall, the solver stops).  Stops when
    ``max|F(v)| <= tol / 100`` or when ``max|F| <= tol`` has stopped shrinking.  Returns
    ``(v, iterations, converged)`` with ``converged`` meaning ``max|F(v)| <= tol``.

    >>> v, its, ok = newton_root(lambda v: v**2 - 2, lambda v: np.diag(2 * v), np.array([1.0]))
    >>> round(float(v[0]), 12), ok
    (1.414213562373, True)
    """
    v = np.array(v0, dtype=float)
    f = F(v)
    norm, merit = float(np.max(np.abs(f))), float(f @ f)
    its = 0
    while its < max_iter and norm > tol / 100:
        its += 1
        d = np.linalg.lstsq(J(v), -f, rcond=None)[0]
        t, accepted = 1.0, False
        for _ in range(BACKTRACK_STEPS):
            trial = v + t * d
            f_trial = F(trial)
            m_trial = float(f_trial @ f_trial)
            if np.isfinite(m_trial) and m_trial < merit:
                accepted = True
                break
            t *= 0.5
        if not accepted:
            break  # no decrease along the Newton direction: rounding level (or stuck)
        prev = norm
        v, f, merit, norm = trial, f_trial, m_trial, float(np.max(np.abs(f_trial)))
        if norm <= tol and norm > 0.5 * prev:
            break  # below tol and no longer shrinking fast: float resolution
    return v, its, norm <= tol


def iterate(step: Callable[[np.ndarray], np.ndarray], start: np.ndarray, steps: int) -> Trajectory:
    """The trajectory ``pi_{t+1} = step(pi_t)`` from ``start`` for ``steps`` steps."""
    n = check_steps(steps)
    pts = [start]
    for _ in range(n):
        pts.append(step(pts[-1]))
    return Trajectory(np.stack(pts), n)


@dataclass(frozen=True)
class Reference:
    """A point a fixed point is compared with: ``name`` (``"WRO[h]"`` for the fixed-anchor WRO
    optimum with that ``h``, ``"regularized-Nash"`` for NLHF's equilibrium), the model ``pi``
    and ``tv``, the total-variation distance ``(1/2) sum_y |pi_fp(y) - pi(y)|`` to the fixed
    point compared."""

    name: str
    pi: np.ndarray
    tv: float


def total_variation(p: Any, q: Any) -> float:
    """``(1/2) sum_y |p(y) - q(y)|`` (float).

    >>> total_variation([0.5, 0.5], [1.0, 0.0])
    0.5
    """
    return 0.5 * float(np.sum(np.abs(to_float(np.asarray(p)) - to_float(np.asarray(q)))))


def references(pi: Any, P: Any, pi_ref: Any, beta: Any) -> tuple[Reference, ...]:
    """The WRO optima and the equilibrium a fixed point ``pi`` of an online method is compared
    with, nearest first: for every ``h`` of :data:`theory.hfuncs.H_REGISTRY` the fixed-anchor
    optimum ``pi_ref exp(h(P) pi_ref / beta)`` (anchor and reference ``pi_ref``, the same
    ``beta``; :func:`theory.wro.wro_optimum`), and NLHF's regularized Nash equilibrium
    ``pi = softmax(log pi_ref + P pi / beta)`` (:func:`theory.methods.nlhf.regularized_nash`).

    >>> refs = references([1/3] * 3, [[0.5, 0.9, 0.1], [0.1, 0.5, 0.9], [0.9, 0.1, 0.5]],
    ...                   [1/3] * 3, 1.0)
    >>> [(r.name, round(r.tv, 9)) for r in refs][:2]
    [('WRO[identity]', 0.0), ('WRO[logit]', 0.0)]
    """
    from ..wro import wro_optimum  # theory.wro is heavier; imported where used

    prob = online_problem(P, pi_ref, beta)
    out = []
    for name in H_REGISTRY:
        opt = wro_optimum(prob.P, prob.pi_ref, prob.beta, prob.pi_ref, h=name).pi
        out.append(Reference(f"WRO[{name}]", to_float(opt), total_variation(pi, opt)))
    nash = regularized_nash(prob.P, prob.beta, prob.pi_ref).pi
    out.append(Reference("regularized-Nash", nash, total_variation(pi, nash)))
    return tuple(sorted(out, key=lambda r: r.tv))
