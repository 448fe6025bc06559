"""Bradley-Terry maximum likelihood: the reward model of RLHF, fitted per prompt.

For one prompt with ``K`` responses, a nonnegative weight matrix ``w`` (``(K, K)``) records how
often ``i`` beat ``j``: a probability (the population winner-loser distribution
``w[i, j] = Pr(y_w = i, y_l = j)``, :func:`theory.data.winner_loser_distribution`) or a count (a
sampled dataset).  The weighted Bradley-Terry log-likelihood of rewards ``r`` (``(K,)``) is

    L(r) = sum_{i != j} w[i, j] log sigmoid(r_i - r_j),

its gradient ``g_i = sum_j w[i, j] - sum_j (w[i, j] + w[j, i]) sigmoid(r_i - r_j)`` (observed
minus expected wins) and its Hessian the negative Laplacian of the weights
``(w[i, j] + w[j, i]) p_ij p_ji``.  ``L`` only sees differences of rewards and is concave.

**Existence (Zermelo, Ford).**  The *comparison graph* has an arc ``i -> j`` when
``w[i, j] > 0`` (``i`` beat ``j`` with positive weight).  Rewards are identified only within a
weakly connected component; the maximiser exists iff every weakly connected component is also
strongly connected.  Otherwise some group of responses (a source of the condensation) wins every
comparison it has with the rest of its component, and ``L`` keeps increasing as that group's
rewards go to ``+inf`` (:func:`comparison_graph` gives the direction).  Deterministic labels
consistent with an order are the typical case (docs/theory.md, DPO).

The fit is a damped Newton method with a Cholesky solve of the (grounded) Hessian; its
certificate is ``gradient_norm = max_i |g_i|`` at the returned rewards.  The gradient is
evaluated as ``g_i = sum_j w[i, j] p_ji - w[j, i] p_ij`` (``p_ij = sigmoid(r_i - r_j)``, never
``1 - p``), and the fit stops only when every ``|g_i|`` is at most :data:`GRAD_TOL` times
``sum_j w[i, j] p_ji + w[j, i] p_ij`` (relative to the terms it balances, hence also at most
``GRAD_TOL`` times response ``i``'s total comparison weight); when that rule is not met within
``max_iter`` steps (odds beyond about ``1e300``, where float64 cannot resolve the win
probabilities), :class:`BradleyTerryPrecisionError` is raised instead of an unconverged
answer (also when ``max_iter`` is too small).  The Newton step is capped at
:data:`MAX_STEP`; a capped step goes to the best point of its ray, scaled or clipped coordinate
by coordinate (so a saturated response cannot make the steps oscillate by the cap while the
others stand still), progress is measured relative to each gradient entry's terms, and the Hessian
is grounded at its best-connected response (so rarely compared
responses keep full relative accuracy).  Rewards are normalised to mean zero on each weakly
connected component and are 0 for responses in no comparison.
Rewards are irrational in general, so the fit is in floats; exact inputs are converted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
from scipy.sparse.csgraph import connected_components
from scipy.special import expit, log_expit

from .data import (
    EmpiricalPreferences,
    PreferenceData,
    PreferenceDataset,
    winner_loser_distribution,
)
from .errors import (
    BradleyTerryPrecisionError,
    InvalidParameterError,
    NoMaximumLikelihoodError,
    ShapeMismatchError,
)
from .numbers import as_array, to_float

__all__ = [
    "GRAD_TOL",
    "MAX_ITER",
    "ComparisonGraph",
    "BradleyTerryFit",
    "BradleyTerryBatchFit",
    "comparison_graph",
    "strongly_connected_components",
    "mle_exists",
    "bradley_terry_log_likelihood",
    "bradley_terry_gradient",
    "fit_bradley_terry",
    "fit_bradley_terry_batch",
    "fit_bradley_terry_data",
    "winner_loser_counts",
]

#: Convergence: stop when ``|g_i| <= GRAD_TOL * sum_j (w[i, j] p_ji + w[j, i] p_ij)`` for every
#: response: each gradient is small relative to the observed-loss and expected-loss terms it
#: balances (so rarely compared responses and extreme odds, where those terms are tiny, are
#: fitted to full relative accuracy; this also implies ``|g_i| <= GRAD_TOL`` times the response's
#: comparison weight).
GRAD_TOL = 1e-12
#: Convergence also needs the last Newton step below ``STEP_TOL * (1 + max |r|)`` (rewards of
#: weakly coupled groups are fixed by small terms; the step measures their remaining error).
STEP_TOL = 1e-10
#: A gradient entry within this many units of float64 rounding of the terms it balances is at
#: the precision limit: the step rule is then waived (its steps are rounding noise).
ROUNDING = 64 * np.finfo(float).eps
#: Largest max-norm of a Newton step on the rewards (a change of odds by e^MAX_STEP): steps of a
#: nearly singular Hessian are shortened to it, then backtracked as usual.
MAX_STEP = 20.0
#: A capped Newton step is searched on ``t = 1, 1/2, ..., 2^-RAY_POINTS`` times its direction.
RAY_POINTS = 40
#: Newton iterations allowed per component before giving up (the certificate then says how far).
MAX_ITER = 200
#: Backtracking halvings allowed in one Newton line search.
MAX_HALVINGS = 60
#: A step with the previous Hessian factorisation is kept when it shrinks the gradient's
#: max-norm by at least this factor (else the Hessian is refactored).
CHORD_RATIO = 0.05
#: Armijo constant of the line search.
ARMIJO = 1e-4


# ---------------------------------------------------------------------------------------------
# validation and the comparison graph


def _validate_weights(w: Any, *, name: str = "w", ndim: int = 2) -> np.ndarray:
    """``w`` as a float array of shape ``(K, K)`` (or ``(M, K, K)``), nonnegative and finite."""
    arr = to_float(as_array(w, name=name))
    if arr.ndim != ndim or arr.shape[-1] != arr.shape[-2]:
        want = "(K, K)" if ndim == 2 else "(M, K, K)"
        raise ShapeMismatchError(f"{name} has shape {arr.shape}, expected {want}")
    bad = np.argwhere(arr < 0)
    if len(bad):
        idx = tuple(int(v) for v in bad[0])
        raise InvalidParameterError(
            f"{name}{list(idx)} = {arr[idx]}, expected a nonnegative weight "
            "(a count or a probability)"
        )
    return arr


@dataclass(frozen=True)
class ComparisonGraph:
    """The comparison graph of a weight matrix ``w`` (arc ``i -> j`` iff ``w[i, j] > 0``, i != j).

    ``weak``: the weakly connected components among responses that appear in some comparison
    (each a sorted int array); ``strong``: the strongly connected components among those same
    responses, in a topological order of the condensation (a group that beats another comes
    first); ``level[i]``: the length of the longest condensation path from a source to the strong
    component of ``i`` (``-1`` for responses in no comparison); ``compared``: boolean ``(K,)``.
    """

    K: int
    weak: tuple[np.ndarray, ...]
    strong: tuple[np.ndarray, ...]
    level: np.ndarray
    compared: np.ndarray

    @property
    def exists(self) -> bool:
        """True when the MLE exists: every weak component is strongly connected."""
        return len(self.weak) == len(self.strong)

    def dominating_groups(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each weak component that is not strongly connected, ``(group, rest)``: a source
        strong component (wins every comparison it has with the rest of its weak component) and
        the rest of that weak component."""
        out = []
        for comp in self.weak:
            levels = self.level[comp]
            if levels.max() == 0:
                continue
            # the sources of this component (level 0) split into strong components
            for scc in self.strong:
                if scc[0] in comp and self.level[scc[0]] == 0:
                    out.append((scc, np.setdiff1d(comp, scc)))
                    break
        return out

    def divergence_direction(self) -> np.ndarray:
        """A direction ``d`` (``(K,)``, mean zero on each weak component, 0 off the graph) along
        which the log-likelihood strictly increases for ever when the MLE does not exist:
        ``d_i = -level[i]`` centred per component, so every arc between strong components goes
        from a higher to a lower ``d``; the zero vector when the MLE exists."""
        d = np.zeros(self.K)
        for comp in self.weak:
            v = -self.level[comp].astype(np.float64)
            d[comp] = v - v.mean()
        return d


def _graph(w: np.ndarray) -> ComparisonGraph:
    K = w.shape[0]
    A = w > 0
    np.fill_diagonal(A, False)
    compared = np.any(A, axis=0) | np.any(A, axis=1)  # np.any: typed as an array, not a union
    _, weak_labels = connected_components(A, directed=True, connection="weak")
    n_strong, strong_labels = connected_components(A, directed=True, connection="strong")
    # condensation arcs and longest-path levels (Kahn's algorithm on the condensation)
    src, dst = np.nonzero(A)
    cs, cd = strong_labels[src], strong_labels[dst]
    keep = cs != cd
    C = np.zeros((n_strong, n_strong), dtype=bool)
    C[cs[keep], cd[keep]] = True
    indeg = C.sum(axis=0)
    level_c = np.zeros(n_strong, dtype=np.int64)
    order = []
    frontier = list(np.flatnonzero(indeg == 0))
    while frontier:
        a = frontier.pop()
        order.append(a)
        for b in np.flatnonzero(C[a]):
            level_c[b] = max(level_c[b], level_c[a] + 1)
            indeg[b] -= 1
            if indeg[b] == 0:
                frontier.append(b)
    order.sort(key=lambda a: (level_c[a], int(np.flatnonzero(strong_labels == a)[0])))
    strong = tuple(
        members for a in order if compared[(members := np.flatnonzero(strong_labels == a))[0]]
    )
    weak_ids = sorted({int(weak_labels[i]) for i in np.flatnonzero(compared)})
    weak = tuple(np.flatnonzero((weak_labels == c) & compared) for c in weak_ids)
    weak = tuple(sorted(weak, key=lambda c: int(c[0])))
    level = np.where(compared, level_c[strong_labels], -1)
    return ComparisonGraph(K=K, weak=weak, strong=strong, level=level, compared=compared)


def comparison_graph(w: Any) -> ComparisonGraph:
    """The comparison graph of ``w`` (``(K, K)`` nonnegative): weak and strong components, the
    condensation order and levels.  See :class:`ComparisonGraph`.

    >>> g = comparison_graph([[0, 3, 0], [0, 0, 0], [0, 0, 0]])
    >>> [c.tolist() for c in g.weak], [c.tolist() for c in g.strong], g.exists
    ([[0, 1]], [[0], [1]], False)
    """
    return _graph(_validate_weights(w))


def strongly_connected_components(w: Any) -> tuple[np.ndarray, ...]:
    """The strongly connected components of the comparison graph of ``w`` (responses in some
    comparison only), in a topological order of the condensation (winners first).

    >>> [c.tolist() for c in strongly_connected_components([[0, 1, 0], [1, 0, 0], [1, 1, 0]])]
    [[2], [0, 1]]
    """
    return comparison_graph(w).strong


def mle_exists(w: Any) -> bool:
    """True when the weighted Bradley-Terry MLE of ``w`` exists (every weakly connected component
    of the comparison graph is strongly connected).

    >>> mle_exists([[0, 2], [1, 0]]), mle_exists([[0, 2], [0, 0]])
    (True, False)
    """
    return comparison_graph(w).exists


def _raise_no_mle(graph: ComparisonGraph, w: np.ndarray, where: str = "") -> None:
    group, rest = graph.dominating_groups()[0]
    won = float(w[np.ix_(group, rest)].sum())
    raise NoMaximumLikelihoodError(
        f"{where}the Bradley-Terry MLE does not exist: responses {group.tolist()} win every "
        f"comparison they have with responses {rest.tolist()} (total weight {won:g} of wins, 0 of "
        f"losses); the likelihood keeps increasing as r[{group.tolist()}] - r[{rest.tolist()}] "
        "-> +inf",
        graph=graph,
        direction=graph.divergence_direction(),
    )


# ---------------------------------------------------------------------------------------------
# the likelihood


def bradley_terry_log_likelihood(w: Any, r: Any) -> float:
    """``L(r) = sum_{i != j} w[i, j] log sigmoid(r_i - r_j)`` for ``w`` ``(K, K)``, ``r`` ``(K,)``.

    >>> round(bradley_terry_log_likelihood([[0, 1], [1, 0]], [0.0, 0.0]), 6)
    -1.386294
    """
    w_arr = _validate_weights(w)
    r_arr = _validate_rewards(r, w_arr.shape[0])
    W = w_arr.copy()
    np.fill_diagonal(W, 0.0)
    return float(np.sum(W * log_expit(r_arr[:, None] - r_arr[None, :])))


def bradley_terry_gradient(w: Any, r: Any) -> np.ndarray:
    """``g_i = sum_j w[i, j] - sum_j (w[i, j] + w[j, i]) sigmoid(r_i - r_j)``, shape ``(K,)``:
    observed minus expected wins (the gradient of :func:`bradley_terry_log_likelihood`).

    >>> bradley_terry_gradient([[0, 3], [1, 0]], [0.0, 0.0]).tolist()
    [1.0, -1.0]
    """
    w_arr = _validate_weights(w)
    r_arr = _validate_rewards(r, w_arr.shape[0])
    W = w_arr.copy()
    np.fill_diagonal(W, 0.0)
    return _gradient(W[None], r_arr[None])[0]


def _validate_rewards(r: Any, K: int) -> np.ndarray:
    """``r`` as a finite float array of shape ``(K,)``."""
    r_arr = to_float(as_array(r, name="r"))
    if r_arr.shape != (K,):
        raise ShapeMismatchError(f"r has shape {r_arr.shape}, expected ({K},) to match w")
    return r_arr


#: Below this reward range ``sigmoid(r_i - r_j)`` is computed as ``s_i / (s_i + s_j)`` with
#: ``s = exp(r - max r)`` (no underflow to 0 since ``exp(-600) > 0``), several times faster than
#: evaluating ``expit`` on the K x K differences.
_FAST_RANGE = 600.0


def _pairwise_sigmoid(r: np.ndarray) -> np.ndarray:
    """``p[n, i, j] = sigmoid(r[n, i] - r[n, j])`` for ``r`` of shape ``(N, k)``."""
    if r.size and float(np.max(np.ptp(r, axis=1))) < _FAST_RANGE:
        s = np.exp(r - r.max(axis=1, keepdims=True))
        den = s[:, :, None] + s[:, None, :]
        return np.divide(s[:, :, None], den, out=den)
    return expit(r[:, :, None] - r[:, None, :])


def _gradient(W: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Batched gradient: ``W`` ``(N, k, k)`` zero diagonal, ``r`` ``(N, k)``, as
    ``g_i = sum_j w[i, j] p_ji - w[j, i] p_ij`` (no cancellation of ``1 - p`` near 1)."""
    p = expit(r[:, :, None] - r[:, None, :])
    return _terms(W, p)[0]


def _terms(W: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(g, scale)`` with ``g_i = sum_j w[i, j] p_ji - w[j, i] p_ij`` (observed minus expected
    wins, written without ``1 - p``) and ``scale_i = sum_j w[i, j] p_ji + w[j, i] p_ij`` (the
    size of the terms whose balance ``g_i`` is: the float resolution of ``g_i``)."""
    Wt = np.swapaxes(W, 1, 2)
    pt = np.swapaxes(p, 1, 2)
    a = np.einsum("nij,nij->ni", W, pt)
    b = np.einsum("nij,nij->ni", Wt, p)
    return a - b, a + b


# ---------------------------------------------------------------------------------------------
# Newton's method (batched over instances of one size; every instance strongly connected)


@dataclass(frozen=True)
class _Likelihood:
    """The log-likelihood ``L`` of ``N`` instances ``W`` ``(N, k, k)``: the comparison weights
    ``NW = W + W^T`` and the wins ``W 1``, with ``L``, its gradient and the Newton Hessian."""

    W: np.ndarray
    NW: np.ndarray
    wins: np.ndarray

    @classmethod
    def of(cls, W: np.ndarray) -> _Likelihood:
        return cls(W, W + np.swapaxes(W, 1, 2), W.sum(axis=2))

    def grad(self, r: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The gradient of ``L`` at ``r`` for the instances ``idx``, and the sigmoids ``p``."""
        p = _pairwise_sigmoid(r)
        return _terms(self.W[idx], p)[0], p

    def loglik(self, r: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return np.einsum("nij,nij->n", self.W[idx], log_expit(r[:, :, None] - r[:, None, :]))

    def grounded_hessian(self, p: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """``-Hessian + c e_a e_a^T``: the Laplacian with weights ``(w_ij + w_ji) p_ij p_ji``,
        grounded at the response ``a`` of largest degree ``c`` so it is positive definite (the
        graph is connected).  Because ``sum(g) = 0``, the solution of
        ``(L + c e_a e_a^T) d = g`` has ``d_a = 0`` and ``L d = g``: a Newton step.  Grounding one
        node (not ``c 1 1^T``) leaves the rows of rarely compared responses unpolluted, so their
        steps keep full relative accuracy."""
        H = self.NW[idx] * p
        H *= np.swapaxes(p, 1, 2)  # the weights (w_ij + w_ji) p_ij p_ji, symmetric
        np.negative(H, out=H)
        diag = -H.sum(axis=2)
        np.einsum("nii->ni", H)[...] = diag
        a = np.argmax(diag, axis=1)
        rows = np.arange(len(a))
        H[rows, a, a] += diag[rows, a]
        return H


def _start(W: np.ndarray) -> np.ndarray:
    """The starting rewards ``(N, k)``: on an instance where every pair is compared both ways,
    the least-squares fit of ``r_i - r_j = log(w[i, j] / w[j, i])``, i.e.
    ``r_i = mean_j log(w[i, j] / w[j, i])`` (the MLE itself for ``K = 2`` and for exact
    Bradley-Terry weights, so extreme odds need no long walk from 0); else 0."""
    k = W.shape[1]
    off = ~np.eye(k, dtype=bool)
    complete = np.all((W > 0) | ~off, axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.where(off & complete[:, None, None], np.log(W) - np.log(np.swapaxes(W, 1, 2)), 0.0)
        r = lr.sum(axis=2) / k
    return np.where(np.isfinite(r), r, 0.0)


def _newton(W: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Maximise ``L`` for each of ``N`` strongly connected instances ``W`` ``(N, k, k)`` (zero
    diagonal).  Returns ``(r (N, k) mean zero, gradient norms (N,), iterations)``; raises
    :class:`BradleyTerryPrecisionError` when some instance misses the stopping rule
    (``|g_i| <= tol * scale_i``, see :func:`_terms`, and a last Newton step below
    :data:`STEP_TOL` relative to the rewards) after ``max_iter`` steps.

    Damped Newton: the full step is taken when it halves the gradient's max-norm (the usual case,
    quadratic convergence); otherwise the step is halved until the Armijo condition on ``L``
    holds (:func:`_backtrack`), so ``L`` never decreases on a rejected-full-step iteration.  For
    a single instance a step with the previous Cholesky factor is tried first (kept when it
    shrinks the gradient by :data:`CHORD_RATIO`), which saves factorisations near the optimum."""
    n_inst, k, _ = W.shape
    f = _Likelihood.of(W)
    r = _start(W)
    all_idx = np.arange(n_inst)
    g, p = f.grad(r, all_idx)
    it = 0
    chord = None  # the last Cholesky factor (single-instance solves only)
    step = np.full(n_inst, np.inf)  # max-norm of each instance's last Newton step
    while True:
        gnorm = _relative_norm(W, g, p)  # progress is judged relative to each g_i's terms
        # relative rule: each |g_i| small against the terms it balances (never looser than
        # tol times the response's comparison weight, which bounds scale_i), and the last
        # Newton step (the distance to the optimum, also along weakly coupled groups) small
        scale = _terms(W, p)[1]
        active = np.any(np.abs(g) > tol * scale, axis=1)
        # ... unless every |g_i| is at rounding level of its terms: float64 then fixes r no
        # better, and the step is rounding noise of an ill-conditioned Hessian
        at_rounding = np.all(np.abs(g) <= ROUNDING * scale, axis=1)
        active |= (step > STEP_TOL * (1.0 + np.abs(r).max(axis=1))) & ~at_rounding
        if not active.any():
            break
        if it >= max_iter:
            _raise_not_converged(W, r, g, p, active, tol, max_iter)
        it += 1
        idx = np.flatnonzero(active)
        if chord is not None and n_inst == 1:
            # one instance (never in a batch: the factor belongs to the instance it was made
            # for): first try the step with the previous factorisation (a chord step, O(k^2))
            chorded = _chord_step(f, chord, r, g, gnorm[0], all_idx)
            if chorded is not None:
                r, g, p, step[0] = chorded
                continue
        chord = _damped_newton_step(f, r, g, p, gnorm, idx, step, chord)
    r -= r.mean(axis=1, keepdims=True)
    return r, np.abs(g).max(axis=1), it


def _relative_norm(W: np.ndarray, g: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``max_i |g_i| / scale_i`` per instance (:func:`_terms`): the gradient measured against
    the terms it balances, as the stopping rule measures it (an absolute max-norm is dominated
    by the rounding noise of heavily weighted responses and hides a lightly weighted one's
    error)."""
    scale = _terms(W, p)[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(scale > 0, np.abs(g) / scale, 0.0)
    return rel.max(axis=1)


def _chord_step(
    f: _Likelihood, chord: Any, r: np.ndarray, g: np.ndarray, gnorm: float, all_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float] | None:
    """The step with the previous Cholesky factor ``chord`` (one instance): ``(r, g, p, step)``
    after it when it is no longer than :data:`MAX_STEP`, shrinks the gradient's max-norm by
    :data:`CHORD_RATIO` and does not lower ``L`` (beyond rounding), else None.  (A step judged
    by the gradient alone can saturate a response: its gradient shrinks while ``L`` falls, and
    Newton then stalls where the Hessian vanishes.)"""
    d = scipy.linalg.cho_solve(chord, g[0], check_finite=False)[None]
    length = float(np.abs(d).max())
    if not length <= MAX_STEP:
        return None
    g_new, p_new = f.grad(r + d, all_idx)
    if not _relative_norm(f.W, g_new, p_new)[0] <= CHORD_RATIO * gnorm:
        return None
    ll_old, ll_new = f.loglik(r, all_idx), f.loglik(r + d, all_idx)
    if np.all(ll_new >= ll_old - 1e-13 * (1.0 + np.abs(ll_old))):
        return r + d, g_new, p_new, length
    return None


def _damped_newton_step(
    f: _Likelihood,
    r: np.ndarray,
    g: np.ndarray,
    p: np.ndarray,
    gnorm: np.ndarray,
    idx: np.ndarray,
    step: np.ndarray,
    chord: Any,
) -> Any:
    """One damped Newton step of the active instances ``idx``, updating ``r``, ``g``, ``p`` and
    ``step`` in place; returns the new Cholesky factor.  The full step (its length capped at
    :data:`MAX_STEP`) is kept when it halves the gradient without lowering ``L`` beyond rounding
    (a saturated response can shrink its gradient while ``L`` gets worse); otherwise the step is
    halved until the Armijo condition holds (:func:`_backtrack`)."""
    ga = g[idx]
    d, chord = _newton_step(f.grounded_hessian(p[idx], idx), ga, chord)
    step[idx] = np.abs(d).max(axis=1)
    # a nearly singular Hessian (saturated responses) gives huge steps: cap their length, and
    # go to the best point of the ray (a capped step would overshoot the saturated response,
    # and the next one overshoot it back: an oscillation in which the others barely move)
    capped = step[idx] > MAX_STEP
    clipped = np.clip(d, -MAX_STEP, MAX_STEP)
    d *= np.minimum(1.0, MAX_STEP / np.maximum(step[idx], 1e-300))[:, None]
    r_old = r[idx]
    if capped.any():
        d[capped] = _best_on_rays(f, r_old[capped], (d[capped], clipped[capped]), idx[capped])
    g_new, p_new = f.grad(r_old + d, idx)
    ll_old, ll_new = f.loglik(r_old, idx), f.loglik(r_old + d, idx)
    ok = (_relative_norm(f.W[idx], g_new, p_new) <= 0.5 * gnorm[idx]) & (
        ll_new >= ll_old - 1e-13 * (1.0 + np.abs(ll_old))
    )
    r[idx[ok]] = r_old[ok] + d[ok]
    g[idx[ok]], p[idx[ok]] = g_new[ok], p_new[ok]
    bad = np.flatnonzero(~ok)
    if len(bad):
        ib = idx[bad]
        _backtrack(f, r, ib, r_old[bad], d[bad], ga[bad])
        g[ib], p[ib] = f.grad(r[ib], ib)
    return chord


def _best_on_rays(
    f: _Likelihood, r0: np.ndarray, rays: tuple[np.ndarray, ...], idx: np.ndarray
) -> np.ndarray:
    """For each instance ``idx[n]``, the step ``t d[n]`` maximising ``L(r0[n] + t d[n])`` over
    ``t`` in ``{1, 1/2, ..., 2^-RAY_POINTS}`` and the directions ``d`` of ``rays`` (the scaled
    and the coordinate-wise clipped Newton step: the clipped one keeps the well-determined
    coordinates moving when one saturated response dominates the step).  ``L`` is concave
    along a ray, so the best grid point is within a factor 2 of the best ``t`` there."""
    ts = 0.5 ** np.arange(RAY_POINTS + 1)
    steps = np.stack([t * d for d in rays for t in ts])  # (rays * ts, n, k)
    lls = np.stack([f.loglik(r0 + s, idx) for s in steps])
    best = np.argmax(lls, axis=0)
    return steps[best, np.arange(len(idx))]


def _raise_not_converged(
    W: np.ndarray,
    r: np.ndarray,
    g: np.ndarray,
    p: np.ndarray,
    active: np.ndarray,
    tol: float,
    max_iter: int,
) -> None:
    n = int(np.flatnonzero(active)[0])
    scale = _terms(W[n : n + 1], p[n : n + 1])[1][0]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(scale > 0, np.abs(g[n]) / scale, np.inf)
    i = int(np.argmax(rel))
    pos = W[n][W[n] > 0]
    with np.errstate(over="ignore"):
        span = pos.max() / pos.min()
    raise BradleyTerryPrecisionError(
        f"the Bradley-Terry fit did not converge in max_iter = {max_iter} Newton steps: response "
        f"{i} has |gradient| = {abs(g[n, i]):.3g}, {rel[i]:.3g} of the terms it balances "
        f"(stopping rule: <= tol = {tol:g}); the weights span {span:.3g}:1, and "
        "float64 cannot resolve win probabilities below about 1e-300 (odds beyond 1e300)"
    )


def _newton_step(H: np.ndarray, ga: np.ndarray, chord: Any) -> tuple[np.ndarray, Any]:
    """The Newton steps ``H d = g`` ``(n, k)``; one instance by Cholesky (its factor is returned
    as the next chord), several by a batched solve (the chord is kept)."""
    if len(H) > 1:
        return np.linalg.solve(H, ga[:, :, None])[:, :, 0], chord
    try:
        cf = scipy.linalg.cho_factor(H[0], check_finite=False, overwrite_a=True)
        return scipy.linalg.cho_solve(cf, ga[0], check_finite=False)[None], cf
    except np.linalg.LinAlgError:  # pragma: no cover - numerically singular
        return np.linalg.lstsq(H[0], ga[0], rcond=None)[0][None], chord


def _backtrack(
    f: _Likelihood, r: np.ndarray, ib: np.ndarray, rb: np.ndarray, db: np.ndarray, gb: np.ndarray
) -> None:
    """Armijo backtracking on ``L`` from ``rb`` along ``db`` for the instances ``ib`` whose full
    step did not shrink the gradient enough; accepted points are written into ``r``."""
    ll0 = f.loglik(rb, ib)
    slope = np.einsum("ni,ni->n", gb, db)
    t = np.ones(len(ib))
    pending = np.ones(len(ib), dtype=bool)
    for _ in range(MAX_HALVINGS):
        sub = np.flatnonzero(pending)
        cand = rb[sub] + t[sub, None] * db[sub]
        accept = f.loglik(cand, ib[sub]) >= ll0[sub] + ARMIJO * t[sub] * slope[sub]
        r[ib[sub[accept]]] = cand[accept]
        pending[sub[accept]] = False
        if not pending.any():
            break
        t[pending] /= 2


# ---------------------------------------------------------------------------------------------
# fits


@dataclass(frozen=True)
class BradleyTerryFit:
    """The weighted Bradley-Terry MLE of one prompt with its certificate.

    ``rewards`` ``(K,)``: mean zero on each weakly connected component of the comparison graph, 0
    for responses in no comparison; ``components``: the weakly connected components (int arrays);
    ``exists``: True (a fit is only returned when the MLE exists); ``gradient_norm``:
    ``max_i |dL/dr_i|`` at ``rewards`` (the optimality certificate); ``iterations``: Newton steps
    (summed over components); ``graph``: the :class:`ComparisonGraph`.
    """

    rewards: np.ndarray
    components: tuple[np.ndarray, ...]
    exists: bool
    gradient_norm: float
    iterations: int
    graph: ComparisonGraph


def _complete_graph(K: int) -> ComparisonGraph:
    """The comparison graph when every ordered pair has positive weight (one strong component)."""
    comp = (np.arange(K),)
    return ComparisonGraph(
        K=K, weak=comp, strong=comp, level=np.zeros(K, dtype=np.int64), compared=np.ones(K, bool)
    )


def _fit_one(w: np.ndarray, tol: float, max_iter: int, where: str = "") -> BradleyTerryFit:
    K = w.shape[0]
    W = w.copy()
    np.fill_diagonal(W, 0.0)
    if K > 1 and np.count_nonzero(W > 0) == K * (K - 1):  # fast path: complete comparisons
        r, g, it = _newton(W[None], tol, max_iter)
        return BradleyTerryFit(r[0], (np.arange(K),), True, float(g[0]), it, _complete_graph(K))
    graph = _graph(w)
    if not graph.exists:
        _raise_no_mle(graph, w, where)
    r = np.zeros(K)
    iterations = 0
    for comp in graph.weak:
        sub = W[np.ix_(comp, comp)][None]
        rc, _, it = _newton(sub, tol, max_iter)
        r[comp] = rc[0]
        iterations += it
    gnorm = float(np.abs(_gradient(W[None], r[None])[0]).max()) if K else 0.0
    return BradleyTerryFit(
        rewards=r,
        components=graph.weak,
        exists=True,
        gradient_norm=gnorm,
        iterations=iterations,
        graph=graph,
    )


def _check_tol(tol: float, max_iter: int) -> None:
    if not (isinstance(tol, int | float) and np.isfinite(tol) and tol > 0):
        raise InvalidParameterError(f"tol = {tol!r}, expected a positive finite number")
    if not (isinstance(max_iter, int | np.integer) and max_iter >= 1):
        raise InvalidParameterError(f"max_iter = {max_iter!r}, expected a positive integer")


def fit_bradley_terry(
    w: Any, *, tol: float = GRAD_TOL, max_iter: int = MAX_ITER
) -> BradleyTerryFit:
    """The rewards ``r`` maximising ``sum_{i != j} w[i, j] log sigmoid(r_i - r_j)`` (one prompt).

    ``w`` ``(K, K)``: ``w[i, j] >= 0`` the probability or count of "``i`` beat ``j``" (diagonal
    ignored).  Converges when ``|g_i| <= tol * sum_j (w[i, j] + w[j, i])`` for every response.
    Raises :class:`~theory.errors.NoMaximumLikelihoodError` (naming a dominating group, with the
    graph and a divergence direction attached) when the MLE does not exist.  Implements the
    Bradley-Terry fit of RLHF (docs/theory.md).

    >>> fit = fit_bradley_terry([[0, 2], [1, 0]])       # 2 wins to 1: r_0 - r_1 = log 2
    >>> round(float(fit.rewards[0] - fit.rewards[1]), 9), fit.gradient_norm < 1e-11
    (0.693147181, True)
    """
    _check_tol(tol, max_iter)
    return _fit_one(_validate_weights(w), tol, max_iter)


@dataclass(frozen=True)
class BradleyTerryBatchFit:
    """Per-prompt Bradley-Terry fits of an ``(M, K, K)`` stack (tabular rewards per prompt).

    ``rewards`` ``(M, K)``; ``fits``: one :class:`BradleyTerryFit` per prompt (``None`` for a prompt
    with no comparison at all); ``gradient_norm``: the largest per-prompt certificate;
    ``iterations``: the largest per-prompt Newton count.
    """

    rewards: np.ndarray
    fits: tuple[BradleyTerryFit | None, ...]
    gradient_norm: float
    iterations: int


def fit_bradley_terry_batch(
    w: Any, *, tol: float = GRAD_TOL, max_iter: int = MAX_ITER
) -> BradleyTerryBatchFit:
    """:func:`fit_bradley_terry` on each prompt of ``w`` ``(M, K, K)``; prompts whose compared
    responses all beat each other with positive weight (the usual population case, also under
    partial support) are solved together by a batched Newton method, grouped by their number of
    compared responses.

    A prompt with no comparison gets rewards 0 and ``fits[x] = None``.  Raises
    :class:`~theory.errors.NoMaximumLikelihoodError` naming the first prompt whose MLE does not
    exist.

    >>> fit = fit_bradley_terry_batch([[[0, 1], [1, 0]], [[0, 3], [1, 0]]])
    >>> np.round(fit.rewards, 6).tolist()
    [[0.0, 0.0], [0.549306, -0.549306]]
    """
    _check_tol(tol, max_iter)
    W = _validate_weights(w, ndim=3).copy()
    M, K = W.shape[0], W.shape[1]
    idx = np.arange(K)
    W[:, idx, idx] = 0.0
    # prompts whose compared responses (those in some comparison) are all compared with each
    # other in both directions: one strongly connected component, batched by its size k
    pos = W > 0
    compared = np.any(pos, axis=2) | np.any(pos, axis=1)
    pairs = compared[:, :, None] & compared[:, None, :] & ~np.eye(K, dtype=bool)
    complete = np.all(pos | ~pairs, axis=(1, 2))
    sizes = compared.sum(axis=1)
    rewards = np.zeros((M, K))
    fits: list[BradleyTerryFit | None] = [None] * M
    iterations = 0
    handled = np.zeros(M, dtype=bool)
    for k in np.unique(sizes[complete & (sizes >= 2)]):
        xs = np.flatnonzero(complete & (sizes == k))
        cols = np.sort(np.argsort(~compared[xs], axis=1, kind="stable")[:, :k], axis=1)
        sub = W[xs[:, None, None], cols[:, :, None], cols[:, None, :]]
        r, g, it = _newton(sub, tol, max_iter)
        iterations = max(iterations, it)
        for n, x in enumerate(xs):
            members = cols[n]
            rewards[x, members] = r[n]
            comp = (members,)
            level = np.full(K, -1, dtype=np.int64)
            level[members] = 0
            graph = ComparisonGraph(
                K=K, weak=comp, strong=comp, level=level, compared=compared[x].copy()
            )
            fits[x] = BradleyTerryFit(rewards[x].copy(), comp, True, float(g[n]), it, graph)
        handled[xs] = True
    for x in np.flatnonzero(~handled):
        if not np.any(pos[x]):
            continue
        fit = _fit_one(W[x], tol, max_iter, where=f"prompt {x}: ")
        rewards[x] = fit.rewards
        fits[x] = fit
        iterations = max(iterations, fit.iterations)
    gnorm = max((f.gradient_norm for f in fits if f is not None), default=0.0)
    return BradleyTerryBatchFit(
        rewards=rewards, fits=tuple(fits), gradient_norm=gnorm, iterations=iterations
    )


def winner_loser_counts(dataset: PreferenceDataset) -> np.ndarray:
    """Integer counts ``c[x, i, j]`` = number of comparisons at prompt ``x`` that ``i`` won
    against ``j`` (``(M, K, K)``); ``c / n`` is the empirical winner-loser distribution."""
    c = np.zeros((dataset.M, dataset.K, dataset.K), dtype=np.int64)
    np.add.at(c, (dataset.x, dataset.winners, dataset.losers), 1)
    return c


def fit_bradley_terry_data(
    source: PreferenceData | PreferenceDataset | EmpiricalPreferences,
    *,
    tol: float = GRAD_TOL,
    max_iter: int = MAX_ITER,
) -> BradleyTerryBatchFit:
    """The Bradley-Terry reward of RLHF, fitted per prompt by maximum likelihood from

    * a :class:`~theory.data.PreferenceData` (population: ``w = winner_loser_distribution``,
      i.e. ``w[x, i, j] = rho_x P_x[i, j] (mu1_x(i) mu0_x(j) + mu0_x(i) mu1_x(j))``, so pairs are
      weighted by how often they are sampled, ``mu0 != mu1`` allowed);
    * a :class:`~theory.data.PreferenceDataset` (the winner-loser counts of the sample);
    * an :class:`~theory.data.EmpiricalPreferences` (its empirical winner-loser distribution).

    Raises :class:`~theory.errors.NoMaximumLikelihoodError` when the MLE does not exist for some
    prompt (deterministic labels, a group never beaten by the rest of its component).

    >>> from fractions import Fraction
    >>> from theory.preferences import bradley_terry_from_strengths
    >>> D = PreferenceData(P=bradley_terry_from_strengths([1, 2, 4]), mu0=[Fraction(1, 3)] * 3)
    >>> fit = fit_bradley_terry_data(D)       # population fit of a BT P recovers log-strengths
    >>> np.round(fit.rewards[0] - fit.rewards[0, 0], 9).tolist()
    [0.0, 0.693147181, 1.386294361]
    """
    if isinstance(source, PreferenceData):
        w = to_float(winner_loser_distribution(source))
    elif isinstance(source, PreferenceDataset):
        w = winner_loser_counts(source).astype(np.float64)
    elif isinstance(source, EmpiricalPreferences):
        w = to_float(source.winner_loser)
    else:
        raise InvalidParameterError(
            f"source of type {type(source).__name__} is not PreferenceData, PreferenceDataset or "
            "EmpiricalPreferences"
        )
    return fit_bradley_terry_batch(w, tol=tol, max_iter=max_iter)
