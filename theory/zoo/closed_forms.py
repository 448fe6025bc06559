"""Closed-form minimizers of zoo losses (docs/zoo.md), each checked against the generic solver of
:mod:`theory.zoo.solve` in ``tests/test_zoo.py`` and the zoo claims.

Derivations (re-derived for this project; ``n_ij = mu0_i mu1_j + mu1_i mu0_j``,
``w_ij = n_ij P_ij``, ``c = 1/(2 beta)``):

* **IPO.**  ``dL/dd_k = 2 sum_j n_kj (d_k - d_j - c (2 P_kj - 1)) / 1``, so a minimizer solves
  the graph-Laplacian system ``sum_j n_kj (d_k - d_j) = c sum_j n_kj (2 P_kj - 1)`` on each
  connected component.  With ``mu0 = mu1 = mu`` (``n_kj = 2 mu_k mu_j``) it reads
  ``d_k = (P mu)_k / beta + const`` on ``supp mu``: ``pi ∝ pi_ref exp(P mu / beta)``, the
  identity-WRO optimum with anchor ``mu`` (claim ``IPO-optimum-is-WRO``).
* **cDPO / rDPO.**  Per unordered pair ``n_ij [P_ij f(z) + P_ji f(-z)]`` regroups into DPO's
  ``n_ij [P'_ij (-log sigma z) + P'_ji (-log sigma(-z))]`` with ``P' = eps + (1 - 2 eps) P``
  (cDPO) and ``P' = (P - eps)/(1 - 2 eps)`` (rDPO; ``P'`` may leave ``[0, 1]``).  The rDPO pair
  term equals ``-log sigma(-z) - P' z``, convex.  Raising the scores of a set ``A`` by ``t``
  changes the loss at the asymptotic rate ``S(A) = sum_{i not in A, j in A} n_ij P'_ij``
  (the softplus of each cut pair grows like ``P'`` times its margin), and a convex piecewise
  recession function is negative somewhere iff it is negative on some cut (layer-cake): the
  loss is unbounded below iff ``S(A) < 0`` for some ``A`` (:func:`rdpo_unbounded`).  At K = 2
  this is ``P_01`` outside ``[eps, 1 - eps]`` (docs/zoo.md's statement); at K >= 3 a compared
  ``P_ij < eps`` is not enough (our derivation; checked by claim ``rDPO-is-debiased-DPO``).
* **K = 2 links** ``z*(p)`` (minimize ``p f(z) + (1 - p) f(-z)``): :func:`k2_link`.
* **BCO** (shift minimized out): the scores ``u - delta`` are free, each response's terms give
  ``sigma(u - delta) = omega``: ``pi ∝ pi_ref (omega / (1 - omega))^(1/beta)``.
* **APO-zero, beta -> 0**: ``beta sigma'(u)(p_l - p_w) = Lambda pi`` with ``sigma' -> 1/4`` on the
  support: ``pi ∝ (p_w - p_l)_+``.
* **NCA, beta = 1, pi_ref = a = (mu0 + mu1)/2**: ``dL/du = a (pi - p_w)/(pi + a)``, zero at
  ``pi = p_w`` (using ``p_w + p_l = 2a``).
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Any

import numpy as np
from flint import fmpq, fmpq_mat

from .. import kernels
from ..data import PreferenceData, data_anchor, winner_loser_distribution
from ..errors import InvalidParameterError
from ..kernels import check_beta
from ..numbers import Number, as_array, is_exact, to_float
from ..simplex import validate_model

__all__ = [
    "pair_counts",
    "ipo_rewards",
    "ipo_tilt_rewards",
    "smoothed_data",
    "debiased_matrix",
    "rdpo_cut_slopes",
    "rdpo_unbounded",
    "k2_link",
    "bco_minimizer",
    "apo_zero_limit",
    "tilt",
]


def pair_counts(data: PreferenceData) -> np.ndarray:
    """``n[x, i, j] = mu0_x(i) mu1_x(j) + mu1_x(i) mu0_x(j)`` ``(M, K, K)`` (exact when ``data``
    is): how often the unordered pair ``{i, j}`` is drawn (twice for ``i != j`` orderings)."""
    return data.mu0[:, :, None] * data.mu1[:, None, :] + data.mu1[:, :, None] * data.mu0[:, None, :]


def _components(adj: np.ndarray) -> list[list[int]]:
    """The connected components of the graph ``adj`` ``(K, K)`` (bool), each sorted, in the
    order of their smallest vertex."""
    seen: set[int] = set()
    out = []
    for s in range(adj.shape[0]):
        if s not in seen:
            out.append(_component_of(adj, s, seen))
    return out


def _component_of(adj: np.ndarray, s: int, seen: set[int]) -> list[int]:
    """The sorted component of ``s`` (depth-first; adds its vertices to ``seen``)."""
    comp, stack = [], [s]
    seen.add(s)
    while stack:
        i = stack.pop()
        comp.append(i)
        fresh = [int(j) for j in np.flatnonzero(adj[i]) if int(j) not in seen]
        seen.update(fresh)
        stack.extend(fresh)
    return sorted(comp)


def ipo_rewards(data: PreferenceData, beta: Any = 1) -> np.ndarray:
    """The IPO minimizer's implicit rewards ``d = log pi - log pi_ref`` ``(M, K)``: the solution
    of ``sum_j n_kj (d_k - d_j) = sum_j n_kj (2 P_kj - 1) / (2 beta)`` on each connected
    component of the pairs with ``n_kj > 0``, normalized to ``d = 0`` at each component's first
    response (responses in no pair get 0: their mass is free).  Exact (Fractions, by exact
    rational linear algebra) when ``data`` and ``beta`` are; ``pi = tilt(pi_ref, d)``.

    >>> from fractions import Fraction as F
    >>> D = PreferenceData(P=[[F(1, 2), F(3, 4)], [F(1, 4), F(1, 2)]], mu0=[F(1, 2), F(1, 2)])
    >>> ipo_rewards(D, 1).tolist()   # d_1 - d_0 = -(P_01 - 1/2) / beta
    [[Fraction(0, 1), Fraction(-1, 4)]]
    """
    b = check_beta(beta, positive=True)
    n = pair_counts(data)
    exact = data.exact and isinstance(b, Fraction)
    M, K = data.M, data.K
    out = np.empty((M, K), dtype=object) if exact else np.zeros((M, K))
    for x in range(M):
        nx = n[x] if exact else to_float(n[x])
        Px = data.P[x] if exact else to_float(data.P[x])
        rhs = (nx * (2 * Px - 1)).sum(axis=1) / (2 * b)
        adj = np.array(to_float(nx) > 0)
        np.fill_diagonal(adj, False)
        for y in range(K):
            out[x, y] = Fraction(0) if exact else 0.0
        for comp in _components(adj):
            if len(comp) < 2:
                continue
            rest = comp[1:]
            L = [
                [(sum(nx[k, j] for j in comp if j != k) if k == m else -nx[k, m]) for m in rest]
                for k in rest
            ]
            r = [rhs[k] for k in rest]
            if exact:
                q = [fmpq(Fraction(v).numerator, Fraction(v).denominator) for row in L for v in row]
                sol = fmpq_mat(len(rest), len(rest), q).solve(
                    fmpq_mat(len(rest), 1, [fmpq(v.numerator, v.denominator) for v in r])
                )
                vals = [Fraction(int(sol[i, 0].p), int(sol[i, 0].q)) for i in range(len(rest))]
            else:
                vals = list(np.linalg.solve(np.array(L, float), np.array(r, float)))
            for k, v in zip(rest, vals, strict=True):
                out[x, k] = v
    return out


def ipo_tilt_rewards(data: PreferenceData, beta: Any = 1) -> np.ndarray:
    """The rewards of the data-anchor tilt, ``(P a) / beta`` with ``a = (mu0 + mu1)/2``
    ``(M, K)``: the identity-WRO optimum's ``d`` (up to a constant); exact when the data is."""
    b = check_beta(beta, positive=True)
    a = data_anchor(data)
    return np.einsum("xij,xj->xi", data.P, a) / b


def tilt(pi_ref: Any, d: Any) -> np.ndarray:
    """``pi ∝ pi_ref exp(d)`` per row (float ``(M, K)``)."""
    return kernels.tilt(to_float(as_array(pi_ref, name="pi_ref")), to_float(as_array(d, name="d")))


def smoothed_data(data: PreferenceData, eps: Any = Fraction(1, 10)) -> PreferenceData:
    """``data`` with ``P_eps = eps + (1 - 2 eps) P``: cDPO on ``data`` is DPO on this.

    >>> from fractions import Fraction as F
    >>> D = PreferenceData(P=[[F(1, 2), 1], [0, F(1, 2)]], mu0=[F(1, 2), F(1, 2)])
    >>> smoothed_data(D, F(1, 10)).P[0].tolist()
    [[Fraction(1, 2), Fraction(9, 10)], [Fraction(1, 10), Fraction(1, 2)]]
    """
    e = _eps(eps)
    return PreferenceData(P=e + (1 - 2 * e) * data.P, mu0=data.mu0, mu1=data.mu1, rho=data.rho)


def _eps(eps: Any) -> Number:
    e = as_array(eps, name="eps")
    if e.ndim != 0:
        raise InvalidParameterError(f"eps = {eps!r}, expected a number in [0, 1/2)")
    v: Number = e.item() if is_exact(e) else float(e)
    if not 0 <= v < Fraction(1, 2):
        raise InvalidParameterError(f"eps = {eps!r}, expected a number in [0, 1/2)")
    return v


def debiased_matrix(data: PreferenceData, eps: Any = Fraction(1, 10)) -> np.ndarray:
    """``P' = (P - eps) / (1 - 2 eps)`` ``(M, K, K)``: rDPO on ``data`` is DPO on ``P'`` (entries
    may leave ``[0, 1]``, so ``P'`` is not always a preference matrix)."""
    e = _eps(eps)
    return (data.P - e) / (1 - 2 * e)


def rdpo_cut_slopes(data: PreferenceData, eps: Any = Fraction(1, 10)) -> list[dict]:
    """Per prompt, ``S(A) = sum_{i not in A, j in A} n_ij P'_ij`` for every proper non-empty set
    ``A`` of responses (``{A: S(A)}``, exact when the data is): the slope at which the rDPO
    loss changes when the scores of ``A`` rise together (a negative slope: unbounded below)."""
    Pp = debiased_matrix(data, eps)
    n = pair_counts(data)
    K = data.K
    out = []
    for x in range(data.M):
        slopes = {}
        for r in range(1, K):
            for A in itertools.combinations(range(K), r):
                out_A = [i for i in range(K) if i not in A]
                slopes[A] = sum(n[x, i, j] * Pp[x, i, j] for i in out_A for j in A)
        out.append(slopes)
    return out


def rdpo_unbounded(data: PreferenceData, eps: Any = Fraction(1, 10)) -> np.ndarray:
    """Per prompt ``(M,)``: True when the rDPO loss is unbounded below (some ``S(A) < 0``,
    :func:`rdpo_cut_slopes`).

    >>> from fractions import Fraction as F
    >>> D = PreferenceData(P=[[F(1, 2), F(1, 20)], [F(19, 20), F(1, 2)]], mu0=[F(1, 2)] * 2)
    >>> rdpo_unbounded(D).tolist()   # P_01 = 1/20 < eps = 1/10
    [True]
    """
    return np.array([any(s < 0 for s in cut.values()) for cut in rdpo_cut_slopes(data, eps)])


def k2_link(name: str, p: Any, params: dict | None = None) -> np.ndarray:
    """The K = 2 minimizing margin ``z*(p)`` of ``p f(z) + (1 - p) f(-z)`` for the registered
    loss ``name`` (float array like ``p``): ``sigmoid``/``gpo_logistic`` ``logit p``; ``cdpo``
    ``logit(eps + (1 - 2 eps) p)``; ``robust`` ``logit((p - eps)/(1 - 2 eps))``; ``ipo``
    ``p - 1/2``; ``hinge``/``gpo_hinge`` ``sign(2p - 1)``; ``exo_pair``
    ``(2p - 1) log((1 - eps)/eps)``; ``gpo_exponential`` ``logit(p)/2``; ``gpo_squared``
    ``2p - 1``; ``simpo`` ``log a``, ``a`` the positive root of
    ``(1 - p) a^2 + e^gamma (1 - 2p) a - p = 0`` (its margin is ``beta (log pi_w - log pi_l)``;
    ``gamma = 0`` gives ``logit p``).

    >>> k2_link("gpo_squared", [0.75]).tolist(), k2_link("ipo", [0.75]).tolist()
    ([0.5], [0.25])
    """
    from .registry import zoo_loss

    prm = {**zoo_loss(name).params, **(params or {})}
    q = np.asarray(to_float(as_array(p, name="p")), dtype=float)
    with np.errstate(divide="ignore"):
        logit = np.log(q) - np.log1p(-q)
        links = {
            "sigmoid": lambda: logit,
            "gpo_logistic": lambda: logit,
            "cdpo": lambda: _logit(prm.get("eps", 0.1) + (1 - 2 * prm.get("eps", 0.1)) * q),
            "robust": lambda: _logit((q - prm.get("eps", 0.1)) / (1 - 2 * prm.get("eps", 0.1))),
            "ipo": lambda: q - 0.5,
            "hinge": lambda: np.sign(2 * q - 1),
            "gpo_hinge": lambda: np.sign(2 * q - 1),
            "exo_pair": lambda: (2 * q - 1) * np.log((1 - prm["eps"]) / prm["eps"]),
            "gpo_exponential": lambda: logit / 2,
            "gpo_squared": lambda: 2 * q - 1,
            "simpo": lambda: _simpo_link(q, float(prm.get("gamma", 0.5))),
        }
    if name not in links:
        raise InvalidParameterError(f"{name} has no K = 2 closed form; known: {sorted(links)}")
    return np.asarray(links[name](), dtype=float)


def _simpo_link(q: np.ndarray, gamma: float) -> np.ndarray:
    # p sigma(gamma - z) = (1 - p) sigma(z + gamma), with a = e^z
    g = np.exp(gamma)
    b = g * (2 * q - 1)
    with np.errstate(divide="ignore"):
        return np.log((b + np.sqrt(b * b + 4 * q * (1 - q))) / (2 * (1 - q)))


def _logit(q: Any) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(q) - np.log1p(-q)


def bco_minimizer(data: PreferenceData, pi_ref: Any, beta: Any = 1) -> np.ndarray:
    """BCO's minimizer with the shift minimized out: ``pi ∝ pi_ref (omega/(1 - omega))^(1/beta)``,
    ``omega = p_w / (p_w + p_l)`` (float ``(M, K)``; ``0`` where ``omega = 0``).  Needs
    ``omega < 1`` on every shown response (else no minimizer: raises InvalidParameterError)."""
    b = float(check_beta(beta, positive=True))
    w = to_float(winner_loser_distribution(data))
    pw, pl = w.sum(axis=2), w.sum(axis=1)
    shown = (pw + pl) > 0
    if np.any(shown & (pl == 0)):
        raise InvalidParameterError("a shown response never loses (omega = 1): no BCO minimizer")
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(shown, (np.log(pw) - np.log(pl)) / b, 0.0)
    ref = to_float(validate_model(pi_ref, name="pi_ref", K=data.K))
    return tilt(ref, np.where(np.isneginf(d), -np.inf, d))


def apo_zero_limit(data: PreferenceData) -> np.ndarray:
    """APO-zero's ``beta -> 0`` minimizer ``pi ∝ (p_w - p_l)_+`` ``(M, K)`` (exact when ``data``
    is).  The docs/zoo.md example: a strict order with ``mu = (.2, .2, .6)`` gives
    ``(2/3, 1/3, 0)``.

    >>> from fractions import Fraction as F
    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(3), mu0=[F(1, 5), F(1, 5), F(3, 5)])
    >>> apo_zero_limit(D).tolist()
    [[Fraction(2, 3), Fraction(1, 3), Fraction(0, 1)]]
    """
    w = winner_loser_distribution(data)
    gap = w.sum(axis=2) - w.sum(axis=1)
    pos = np.where(gap > 0, gap, 0 * gap)
    tot = pos.sum(axis=1, keepdims=True)
    if np.any(to_float(tot) == 0):
        raise InvalidParameterError("p_w - p_l has no positive entry on some prompt")
    return pos / tot
