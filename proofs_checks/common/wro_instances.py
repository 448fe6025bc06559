"""Shared instance generators and an independent numerical maximiser for the WRO claims.

Everything here is float and batched: ``N`` independent single-prompt instances at once, so the
claims can run 10,000 instances quickly.  The numerical maximiser knows nothing of the closed
form: it maximises the objective's definition over the softmax parameterisation with L-BFGS.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

#: Families with every entry strictly inside (0, 1) (so logit and log stay finite).
INTERIOR_FAMILIES = ("general", "bradley_terry")
#: All families drawn by the checks.
ALL_FAMILIES = ("general", "bradley_terry", "total_order", "cyclic")
#: The h functions exercised by the WRO checks.
H_NAMES = ("identity", "logit", "log")
#: Newton iterations allowed to the independent maximiser.
NEWTON_MAX_ITER = 300
#: KKT residual (relative to the score scale) at which the independent maximiser stops.
NEWTON_TOL = 1e-12
#: Rounding slack of the line search and the no-movement test.
ROUNDING = 1e-15


def preference_batch(rng: np.random.Generator, N: int, K: int, family: str) -> np.ndarray:
    """``N`` random ``(K, K)`` preference matrices of one family, float ``(N, K, K)``."""
    iu = np.triu_indices(K, 1)
    if family == "bradley_terry":
        r = rng.normal(0.0, 2.0, size=(N, K))
        return expit(r[:, :, None] - r[:, None, :])
    P = np.full((N, K, K), 0.5)
    if family == "general":
        u = rng.uniform(size=(N, len(iu[0])))
    elif family == "total_order":
        ranks = np.argsort(rng.random((N, K)), axis=1)
        u = (ranks[:, iu[0]] < ranks[:, iu[1]]).astype(float)
    elif family == "cyclic":  # a random tournament: deterministic, usually with cycles
        u = (rng.random((N, len(iu[0]))) < 0.5).astype(float)
    else:
        raise ValueError(family)
    P[:, iu[0], iu[1]] = u
    P[:, iu[1], iu[0]] = 1.0 - u
    return P


def model_batch(rng: np.random.Generator, N: int, K: int, *, zeros: bool = False) -> np.ndarray:
    """``N`` random distributions over ``K`` (Dirichlet(1)); with ``zeros`` some entries are 0
    (never all)."""
    m = rng.dirichlet(np.ones(K), size=N)
    if zeros:
        mask = rng.random((N, K)) < 0.3
        mask[np.arange(N), rng.integers(0, K, size=N)] = False
        m = np.where(mask, 0.0, m)
        m /= m.sum(axis=1, keepdims=True)
    return m


def argmax_sets(argmax: tuple[tuple[int, ...], ...] | None) -> tuple[tuple[int, ...], ...]:
    """The per-prompt argmax sets of a ``beta = 0`` optimum with a fixed anchor (the library
    always reports them there; ``None`` is a bug, raised as such)."""
    if argmax is None:
        raise RuntimeError("a beta = 0 optimum with a fixed anchor reported no argmax sets")
    return argmax


def h_values(h: str, P: np.ndarray) -> np.ndarray:
    """``h(P)`` computed here directly (not through the library), for the independent side."""
    with np.errstate(divide="ignore"):
        if h == "identity":
            return P.copy()
        if h == "logit":
            return np.log(P) - np.log1p(-P)
        if h == "log":
            return np.log(P)
    raise ValueError(h)


def objective_by_definition(
    H: np.ndarray, pi: np.ndarray, q: np.ndarray, beta: np.ndarray | float, ref: np.ndarray
) -> np.ndarray:
    """``pi^T H q - beta KL(pi || ref)`` per instance (float ``(N,)``), from the definition
    (``H`` finite; ``beta`` a scalar or ``(N,)``)."""
    wr = np.einsum("ni,nij,nj->n", pi, H, q)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(pi > 0, pi * np.log(pi / ref), 0.0).sum(axis=1)
    return wr - np.asarray(beta) * kl


def numerical_maximum(
    H: np.ndarray, q: np.ndarray, beta: np.ndarray, ref: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximise ``J(pi) = pi^T H q - beta KL(pi || ref)`` on the simplex for every instance at once
    by Newton's method with the equality constraint ``1^T pi = 1`` (a generic interior method: it
    uses only the gradient ``G - beta (log(pi / ref) + 1)`` and the Hessian ``-beta diag(1/pi)``,
    a fraction-to-boundary rule and Armijo backtracking on ``J``).  ``beta`` ``(N,)`` positive,
    ``ref`` of full support, ``H`` finite.  Returns ``(pi (N, K), J (N,), converged (N,))``:
    ``converged`` when the KKT residual fell below :data:`NEWTON_TOL` (relative) or the line
    search could no longer improve ``J`` (rounding level)."""
    N, K = q.shape
    beta = np.broadcast_to(np.asarray(beta, dtype=float), (N,))
    G = np.einsum("nij,nj->ni", H, q)
    logref = np.log(ref)

    def J(pi: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return np.einsum("ni,ni->n", pi, G[idx]) - beta[idx] * np.einsum(
            "ni,ni->n", pi, np.log(pi) - logref[idx]
        )

    pi = np.full((N, K), 1.0 / K)
    active = np.ones(N, dtype=bool)
    converged = np.zeros(N, dtype=bool)
    for _ in range(NEWTON_MAX_ITER):
        idx = np.flatnonzero(active)
        if not len(idx):
            break
        p = pi[idx]
        grad = G[idx] - beta[idx, None] * (np.log(p) - logref[idx] + 1.0)
        centred = grad - np.einsum("ni,ni->n", p, grad)[:, None]
        d = p * centred / beta[idx, None]  # the KKT Newton direction (sums to 0)
        kkt = np.abs(p * centred).max(axis=1)
        done = kkt <= NEWTON_TOL * (1.0 + np.abs(G[idx]).max(axis=1))
        active[idx[done]] = False
        converged[idx[done]] = True
        keep = ~done
        idx, p, d, grad = idx[keep], p[keep], d[keep], grad[keep]
        if not len(idx):
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            limit = np.where(d < 0, -0.5 * p / d, np.inf).min(axis=1)
        t = np.minimum(1.0, limit)
        j0 = J(p, idx)
        slope = np.einsum("ni,ni->n", grad, d)
        pending = np.ones(len(idx), dtype=bool)
        new = p.copy()
        for _ in range(60):
            sub = np.flatnonzero(pending)
            cand = p[sub] + t[sub, None] * d[sub]
            ok = J(cand, idx[sub]) >= j0[sub] + 1e-4 * t[sub] * slope[sub] - ROUNDING * (
                1.0 + np.abs(j0[sub])
            )
            new[sub[ok]] = cand[ok]
            pending[sub[ok]] = False
            if not pending.any():
                break
            t[pending] /= 2
        # no acceptable step: J cannot be improved at rounding level -> stationary
        stuck = idx[pending]
        active[stuck] = False
        converged[stuck] = True
        new /= new.sum(axis=1, keepdims=True)
        still = np.abs(new - p).max(axis=1) <= ROUNDING  # no movement: stationary to rounding
        active[idx[still]] = False
        converged[idx[still]] = True
        pi[idx] = new
    return pi, objective_by_definition(H, pi, q, beta, ref), converged
