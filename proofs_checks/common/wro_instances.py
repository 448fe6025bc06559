"""Shared instance generators and an independent numerical maximiser for the WRO claims.

Everything here is float and batched: ``N`` independent single-prompt instances at once, so the
claims can run 10,000 instances quickly.  The numerical maximiser knows nothing of the closed
form: it maximises the objective's definition over the softmax parameterisation with L-BFGS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit

from theory.preferences import random_family_matrix

#: The largest number of responses the WRO claims draw (``K = 2..MAX_K``).
MAX_K = 8
#: Float agreement of objective values, win rates and models in the WRO claims.
TOL = 1e-9
#: One instance in ``EXACT_EVERY`` is (also) checked in exact arithmetic.
EXACT_EVERY = 20
#: The largest K of the exact instances (exact arithmetic is slow).
EXACT_MAX_K = 5
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


def multiples_in(start: int, count: int, every: int) -> int:
    """How many of the global instance indices ``start .. start + count - 1`` are multiples of
    ``every`` (a chunk's share of a one-in-``every`` part, the same for any chunking).

    >>> multiples_in(0, 100, 20), multiples_in(0, 30, 20), multiples_in(20, 20, 20)
    (5, 2, 1)
    """
    return -(-(start + count) // every) + (-start // every)


def float_then_exact(
    ctx: Any,
    stats: Any,
    float_part: Callable[[Any, int, Any], None],
    exact_part: Callable[[Any, int, Any], None],
) -> None:
    """Split a chunk's ``ctx.instances`` instances (global indices from ``ctx.start``) into exact
    ones (those whose index is a multiple of :data:`EXACT_EVERY`) and float ones (the rest), and
    run ``float_part(ctx, n_float, stats)`` then ``exact_part(ctx, n_exact, stats)``."""
    n_exact = multiples_in(ctx.start, ctx.instances, EXACT_EVERY)
    float_part(ctx, ctx.instances - n_exact, stats)
    exact_part(ctx, n_exact, stats)


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


def exact_matrix(rng: np.random.Generator) -> np.ndarray:
    """One exact preference matrix (Fractions) for the exact parts of the WRO claims: ``K``
    uniform in ``2..EXACT_MAX_K``, then a family uniform in :data:`ALL_FAMILIES`."""
    K = int(rng.integers(2, EXACT_MAX_K + 1))
    family = ALL_FAMILIES[int(rng.integers(len(ALL_FAMILIES)))]
    return random_family_matrix(rng, K, family, exact=True)


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
    f = _Objective(
        np.einsum("nij,nj->ni", H, q), np.broadcast_to(np.asarray(beta, float), (N,)), np.log(ref)
    )
    pi = np.full((N, K), 1.0 / K)
    active = np.ones(N, dtype=bool)
    converged = np.zeros(N, dtype=bool)
    for _ in range(NEWTON_MAX_ITER):
        idx = np.flatnonzero(active)
        if not len(idx):
            break
        p = pi[idx]
        d, grad, done = f.direction(p, idx)
        active[idx[done]] = False
        converged[idx[done]] = True
        keep = ~done
        idx, p, d, grad = idx[keep], p[keep], d[keep], grad[keep]
        if not len(idx):
            break
        new, stuck = f.backtrack(p, d, grad, idx)
        # no acceptable step: J cannot be improved at rounding level -> stationary
        active[idx[stuck]] = False
        converged[idx[stuck]] = True
        new /= new.sum(axis=1, keepdims=True)
        still = np.abs(new - p).max(axis=1) <= ROUNDING  # no movement: stationary to rounding
        active[idx[still]] = False
        converged[idx[still]] = True
        pi[idx] = new
    return pi, objective_by_definition(H, pi, q, f.beta, ref), converged


@dataclass(frozen=True)
class _Objective:
    """``J(pi) = pi . G - beta KL(pi || ref)`` of ``N`` instances (``G = H q``, ``logref``)."""

    G: np.ndarray
    beta: np.ndarray
    logref: np.ndarray

    def value(self, pi: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return np.einsum("ni,ni->n", pi, self.G[idx]) - self.beta[idx] * np.einsum(
            "ni,ni->n", pi, np.log(pi) - self.logref[idx]
        )

    def direction(
        self, p: np.ndarray, idx: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The KKT Newton direction (sums to 0), the gradient, and the stopping test (the KKT
        residual below :data:`NEWTON_TOL` relative to the score scale)."""
        G, b = self.G[idx], self.beta[idx, None]
        grad = G - b * (np.log(p) - self.logref[idx] + 1.0)
        centred = grad - np.einsum("ni,ni->n", p, grad)[:, None]
        d = p * centred / b
        kkt = np.abs(p * centred).max(axis=1)
        return d, grad, kkt <= NEWTON_TOL * (1.0 + np.abs(G).max(axis=1))

    def backtrack(
        self, p: np.ndarray, d: np.ndarray, grad: np.ndarray, idx: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Armijo backtracking from half the step to the boundary: the accepted points (``p``
        where none was) and which rows found none."""
        with np.errstate(divide="ignore", invalid="ignore"):
            limit = np.where(d < 0, -0.5 * p / d, np.inf).min(axis=1)
        t = np.minimum(1.0, limit)
        j0 = self.value(p, idx)
        slope = np.einsum("ni,ni->n", grad, d)
        pending = np.ones(len(idx), dtype=bool)
        new = p.copy()
        for _ in range(60):
            sub = np.flatnonzero(pending)
            cand = p[sub] + t[sub, None] * d[sub]
            ok = self.value(cand, idx[sub]) >= j0[sub] + 1e-4 * t[sub] * slope[sub] - ROUNDING * (
                1.0 + np.abs(j0[sub])
            )
            new[sub[ok]] = cand[ok]
            pending[sub[ok]] = False
            if not pending.any():
                break
            t[pending] /= 2
        return new, pending


#: Ties of the infinite-mass balance ``n`` (sums of anchor masses) in the independent side.
N_TIE = 1e-12
#: Ties of the finite part at beta = 0.
ARGMAX_TOL = 1e-9


def limit_optimum_by_definition(
    H: np.ndarray, q: np.ndarray, ref: np.ndarray, beta: float
) -> tuple[np.ndarray, float, tuple[int, ...] | None]:
    """The fixed-anchor WRO optimum for one prompt when ``H = h(P)`` may have infinite entries,
    from its definition (docs/wro.md, theory/wro.py's "Infinite scores"), written here apart from
    the library: ``n`` and ``f`` from ``H = h(P)``, the
    top-``n`` responses of ``supp pi_ref``, then the closed form (or argmax set) on them.
    Returns ``(pi, value, argmax)``."""
    plus, minus = H == np.inf, H == -np.inf
    n = (plus * q).sum(axis=1) - (minus * q).sum(axis=1)
    f = np.where(plus | minus, 0.0, H) @ q
    live = ref > 0
    top = live & (n >= np.max(n[live]) - N_TIE)
    nmax = float(np.max(n[live]))
    sign = np.inf if nmax > N_TIE else (-np.inf if nmax < -N_TIE else 0.0)
    if beta == 0:
        fmax = np.max(f[top])
        arg = top & (f >= fmax - ARGMAX_TOL)
        pi = arg / arg.sum()
        return pi, (sign if sign else float(fmax)), tuple(int(y) for y in np.flatnonzero(arg))
    z = np.where(top, f / beta, -np.inf)
    m = np.max(z)
    wts = np.where(top, ref * np.exp(z - m), 0.0)
    value = sign if sign else float(beta * (m + np.log(wts.sum())))
    return wts / wts.sum(), value, None
