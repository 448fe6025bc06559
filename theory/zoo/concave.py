"""Maximum likelihood of rewards under a concave log-likelihood: the shared solver of the
tie-aware and listwise DPO minimizers (:mod:`theory.zoo.tie_dpo`, :mod:`theory.zoo.listwise`).

A log-likelihood ``L(r)`` of rewards ``r`` ``(K,)`` that sees only reward differences within each
connected component of a comparison graph, and is concave there, is maximized by a damped Newton
method, one component at a time with its first response grounded at 0 (rewards are identified
only up to a constant per component); the result is normalized to mean zero per component and
0 for responses in no comparison.  The certificate is ``gradient_norm = max_i |dL/dr_i|``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import connected_components

__all__ = ["GRAD_TOL", "MAX_ITER", "RewardFit", "FittedPolicy", "components", "maximize_concave"]

#: Stopping rule: ``max |gradient| <= GRAD_TOL * (1 + total weight)``.
GRAD_TOL = 1e-12
#: Newton steps per component before giving up (then ``converged`` is False).
MAX_ITER = 200

#: ``fun(r) -> (value, gradient (K,), Hessian (K, K))`` of a concave log-likelihood.
Objective = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class RewardFit:
    """Fitted ``rewards`` ``(K,)``, the weakly connected ``components`` used, the certificate
    ``gradient_norm``, Newton ``iterations`` and whether the stopping rule was met."""

    rewards: np.ndarray
    components: tuple[np.ndarray, ...]
    gradient_norm: float
    iterations: int
    converged: bool


@dataclass(frozen=True)
class FittedPolicy:
    """A policy ``pi`` ``(M, K)`` tilted by fitted rewards, with the fits (one
    :class:`RewardFit` per prompt) that certify it."""

    pi: np.ndarray
    fits: tuple[RewardFit, ...]

    @property
    def rewards(self) -> np.ndarray:
        """``r*`` ``(M, K)``."""
        return np.stack([f.rewards for f in self.fits])

    @property
    def gradient_norm(self) -> float:
        """The largest certificate of the fits."""
        return max(f.gradient_norm for f in self.fits)


def components(adjacency: np.ndarray) -> tuple[np.ndarray, ...]:
    """The connected components (responses in some comparison only) of a ``(K, K)`` weight
    matrix read as an undirected graph (``adjacency[i, j] > 0`` or ``adjacency[j, i] > 0``).

    >>> [c.tolist() for c in components(np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0.0]]))]
    [[0, 1]]
    """
    a = np.asarray(adjacency, dtype=float)
    a = (a + a.T) > 0
    np.fill_diagonal(a, False)
    _, labels = connected_components(a, directed=False)
    used = a.any(axis=1)
    out = []
    for lab in dict.fromkeys(labels[used].tolist()):
        out.append(np.flatnonzero((labels == lab) & used))
    return tuple(out)


def maximize_concave(
    fun: Objective, K: int, comps: tuple[np.ndarray, ...], scale: float = 1.0
) -> RewardFit:
    """Maximize the concave ``fun`` (module docstring) over ``r`` on each component of
    ``comps``; ``scale`` is the total weight the gradient tolerance is relative to.

    >>> def fun(r):   # 2 wins to 1 under Bradley-Terry: r_0 - r_1 = log 2
    ...     p = 1 / (1 + np.exp(-(r[0] - r[1])))
    ...     g = 2 * (1 - p) - 1 * p
    ...     return 0.0, np.array([g, -g]), np.array([[-3 * p * (1 - p), 3 * p * (1 - p)],
    ...                                              [3 * p * (1 - p), -3 * p * (1 - p)]])
    >>> fit = maximize_concave(fun, 2, (np.array([0, 1]),), 3.0)
    >>> round(float(fit.rewards[0] - fit.rewards[1]), 9), fit.converged
    (0.693147181, True)
    """
    r = np.zeros(K)
    total_it, ok = 0, True
    tol = GRAD_TOL * (1.0 + scale)
    for comp in comps:
        free = comp[1:]
        for _ in range(MAX_ITER):
            value, g, H = fun(r)
            if np.abs(g[comp]).max() <= tol:
                break
            total_it += 1
            step = np.zeros(K)
            step[free] = np.linalg.solve(H[np.ix_(free, free)], -g[free])
            t = 1.0
            while t > 1e-12:
                trial = r + t * step
                if fun(trial)[0] >= value - 1e-15 * (1 + abs(value)):
                    break
                t /= 2
            r = trial
        else:
            ok = False
        r[comp] -= r[comp].mean()
    gnorm = float(np.abs(fun(r)[1]).max()) if K else 0.0
    return RewardFit(r, comps, gnorm, total_it, ok and gnorm <= 10 * tol)
