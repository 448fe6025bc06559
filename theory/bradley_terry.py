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
consistent with an order are the typical case (THEORY.md, DPO).

The fit is a damped Newton method with a Cholesky solve of the (grounded) Hessian; its
certificate is ``gradient_norm = max_i |g_i|`` at the returned rewards; on convergence each
``|g_i|`` is at most :data:`GRAD_TOL` times response ``i``'s total comparison weight.  Rewards
are normalised to mean zero on each weakly connected component and are 0 for responses in no
comparison.
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
from .errors import InvalidParameterError, NoMaximumLikelihoodError, ShapeMismatchError
from .numbers import as_array, to_float

__all__ = [
    "GRAD_TOL",
    "MAX_ITER",
    "ComparisonGraph",
    "BradleyTerryFit",
    "BradleyTerryStackFit",
    "comparison_graph",
    "strongly_connected_components",
    "mle_exists",
    "bradley_terry_log_likelihood",
    "bradley_terry_gradient",
    "fit_bradley_terry",
    "fit_bradley_terry_stack",
    "fit_bradley_terry_data",
    "winner_loser_counts",
]

#: Convergence: stop when ``|g_i| <= GRAD_TOL * sum_j (w[i, j] + w[j, i])`` for every response
#: (each response's gradient is small relative to its own comparison weight, so rarely compared
#: responses are fitted as accurately as common ones).
GRAD_TOL = 1e-12
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
    r_arr = to_float(as_array(r, name="r"))
    if r_arr.shape != (w_arr.shape[0],):
        raise ShapeMismatchError(f"r has shape {r_arr.shape}, expected ({w_arr.shape[0]},)")
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
    r_arr = to_float(as_array(r, name="r"))
    W = w_arr.copy()
    np.fill_diagonal(W, 0.0)
    return _gradient(W[None], r_arr[None])[0]


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
    """Batched gradient: ``W`` ``(N, k, k)`` zero diagonal, ``r`` ``(N, k)``."""
    p = expit(r[:, :, None] - r[:, None, :])
    N = W + np.swapaxes(W, 1, 2)
    return W.sum(axis=2) - np.einsum("nij,nij->ni", N, p)


# ---------------------------------------------------------------------------------------------
# Newton's method (batched over instances of one size; every instance strongly connected)


def _newton(W: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Maximise ``L`` for each of ``N`` strongly connected instances ``W`` ``(N, k, k)`` (zero
    diagonal).  Returns ``(r (N, k) mean zero, gradient norms (N,), iterations)``.

    Damped Newton: the full step is taken when it halves the gradient's max-norm (the usual case,
    quadratic convergence); otherwise the step is halved until the Armijo condition on ``L``
    holds, so ``L`` never decreases on a rejected-full-step iteration.  For a single instance a
    step with the previous Cholesky factor is tried first (kept when it shrinks the gradient by
    :data:`CHORD_RATIO`), which saves factorisations near the optimum."""
    n_inst, k, _ = W.shape
    NW = W + np.swapaxes(W, 1, 2)
    wins = W.sum(axis=2)
    thresh = tol * NW.sum(axis=2)  # per response: tol times its total comparison weight
    r = np.zeros((n_inst, k))

    def grad(rr: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = _pairwise_sigmoid(rr)
        return wins[idx] - np.einsum("nij,nij->ni", NW[idx], p), p

    def loglik(rr: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return np.einsum("nij,nij->n", W[idx], log_expit(rr[:, :, None] - rr[:, None, :]))

    all_idx = np.arange(n_inst)
    g, p = grad(r, all_idx)
    it = 0
    chord = None  # the last Cholesky factor (single-instance solves only)
    while True:
        gnorm = np.abs(g).max(axis=1)
        active = np.any(np.abs(g) > thresh, axis=1)
        if not active.any() or it >= max_iter:
            break
        it += 1
        idx = np.flatnonzero(active)
        if chord is not None:
            # one instance: first try the step with the previous factorisation (a chord step,
            # O(k^2)); keep it when it shrinks the gradient by CHORD_RATIO, else refactor
            d = scipy.linalg.cho_solve(chord, g[0], check_finite=False)[None]
            g_new, p_new = grad(r + d, all_idx)
            if np.abs(g_new).max() <= CHORD_RATIO * gnorm[0]:
                r, g, p = r + d, g_new, p_new
                continue
        pa = p[idx]
        H = NW[idx] * pa
        H *= 1.0 - pa  # the weights (w_ij + w_ji) p_ij p_ji, symmetric
        np.negative(H, out=H)
        diag = -H.sum(axis=2)
        np.einsum("nii->ni", H)[...] = diag
        # ground the Laplacian: add c 11^T (c = mean degree) so it is positive definite; the
        # solution of (L + c 11^T) d = g is the mean-zero Newton step because sum(g) = 0.
        H += diag.mean(axis=1)[:, None, None]
        ga = g[idx]
        if len(idx) == 1:
            try:
                cf = scipy.linalg.cho_factor(H[0], check_finite=False, overwrite_a=True)
                d = scipy.linalg.cho_solve(cf, ga[0], check_finite=False)[None]
                chord = cf
            except np.linalg.LinAlgError:  # pragma: no cover - numerically singular
                d = np.linalg.lstsq(H[0], ga[0], rcond=None)[0][None]
        else:
            d = np.linalg.solve(H, ga[:, :, None])[:, :, 0]
        r_old = r[idx]
        g_new, p_new = grad(r_old + d, idx)
        ok = np.abs(g_new).max(axis=1) <= 0.5 * gnorm[idx]
        r[idx[ok]] = r_old[ok] + d[ok]
        g[idx[ok]], p[idx[ok]] = g_new[ok], p_new[ok]
        bad = np.flatnonzero(~ok)
        if len(bad):
            # backtracking on L (Armijo) for the instances whose full step did not help enough
            ib = idx[bad]
            rb, db = r_old[bad], d[bad]
            ll0 = loglik(rb, ib)
            slope = np.einsum("ni,ni->n", ga[bad], db)
            t = np.ones(len(bad))
            pending = np.ones(len(bad), dtype=bool)
            for _ in range(MAX_HALVINGS):
                sub = np.flatnonzero(pending)
                cand = rb[sub] + t[sub, None] * db[sub]
                accept = loglik(cand, ib[sub]) >= ll0[sub] + ARMIJO * t[sub] * slope[sub]
                r[ib[sub[accept]]] = cand[accept]
                pending[sub[accept]] = False
                if not pending.any():
                    break
                t[pending] /= 2
            g[ib], p[ib] = grad(r[ib], ib)
    r -= r.mean(axis=1, keepdims=True)
    return r, np.abs(g).max(axis=1), it


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
    Bradley-Terry fit of RLHF (THEORY.md).

    >>> fit = fit_bradley_terry([[0, 2], [1, 0]])       # 2 wins to 1: r_0 - r_1 = log 2
    >>> round(float(fit.rewards[0] - fit.rewards[1]), 9), fit.gradient_norm < 1e-11
    (0.693147181, True)
    """
    _check_tol(tol, max_iter)
    return _fit_one(_validate_weights(w), tol, max_iter)


@dataclass(frozen=True)
class BradleyTerryStackFit:
    """Per-prompt Bradley-Terry fits of an ``(M, K, K)`` stack (tabular rewards per prompt).

    ``rewards`` ``(M, K)``; ``fits``: one :class:`BradleyTerryFit` per prompt (``None`` for a prompt
    with no comparison at all); ``gradient_norm``: the largest per-prompt certificate;
    ``iterations``: the largest per-prompt Newton count.
    """

    rewards: np.ndarray
    fits: tuple[BradleyTerryFit | None, ...]
    gradient_norm: float
    iterations: int


def fit_bradley_terry_stack(
    w: Any, *, tol: float = GRAD_TOL, max_iter: int = MAX_ITER
) -> BradleyTerryStackFit:
    """:func:`fit_bradley_terry` on each prompt of ``w`` ``(M, K, K)``; prompts whose compared
    responses all beat each other with positive weight (the usual population case, also under
    partial support) are solved together by a batched Newton method, grouped by their number of
    compared responses.

    A prompt with no comparison gets rewards 0 and ``fits[x] = None``.  Raises
    :class:`~theory.errors.NoMaximumLikelihoodError` naming the first prompt whose MLE does not
    exist.

    >>> fit = fit_bradley_terry_stack([[[0, 1], [1, 0]], [[0, 3], [1, 0]]])
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
    return BradleyTerryStackFit(
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
) -> BradleyTerryStackFit:
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
    return fit_bradley_terry_stack(w, tol=tol, max_iter=max_iter)
