"""Proof of cDPO-is-smoothed-DPO for K = 2, 3, 4 (one prompt; ``mu0``, ``mu1`` free).

Conservative DPO flips each observed label with probability ``eps``: the winner-loser pair
``(w, l)`` with margin ``z = beta (d_w - d_l)`` costs ``(1 - eps) f(z) + eps f(-z)``.  Written
from the sampling model (``y0 = a ~ mu0``, ``y1 = b ~ mu1``, ``b`` wins with ``P[b, a]``) with
``f`` an **undefined** function (DPO's ``f(z) = -log sigmoid(z)`` is one case), and DPO's loss
``L_DPO(d; P) = sum_{a, b} mu0(a) mu1(b) (P[b, a] f(z_ba) + P[a, b] f(z_ab))``:

* ``L_cDPO(d; P) = L_DPO(d; P_eps)`` with ``P_eps = eps + (1 - 2 eps) P``, for every ``f``;
* ``P_eps`` is a preference matrix: ``P_eps[i, j] + P_eps[j, i] = 1``, ``P_eps[i, i] = 1/2``, and
  ``P_eps[i, j] - eps = (1 - 2 eps) P[i, j]``, ``1 - eps - P_eps[i, j] = (1 - 2 eps) P[j, i]``: its
  entries lie in ``[eps, 1 - eps]``, strictly inside ``(0, 1)`` for ``0 < eps < 1/2`` (so the
  Bradley-Terry MLE, and a minimizer, exists on every component: claim DPO-fixed-points).

Library links (the method zoo): ``theory.zoo.closed_forms.smoothed_data(D, eps).P`` (exact) and
``theory.zoo.population.population_loss(ZOO["cdpo"])`` (floats) against the statement with
``f(z) = -log sigmoid(z)``.
"""

from __future__ import annotations

import sympy as sp

import theory
import theory.zoo.closed_forms
import theory.zoo.population

from .core import Group, Identity, Link, at, positive, pref_matrix, reals, simplex

CLAIM_ID = "cDPO-is-smoothed-DPO"


def dpo_loss(P: sp.Matrix, mu0: list, mu1: list, d: list, beta: sp.Expr, f) -> sp.Expr:
    """``L_DPO(d; P)`` with per-pair loss ``f``."""
    K = len(mu0)
    return sum(
        mu0[a] * mu1[b] * (P[b, a] * f(beta * (d[b] - d[a])) + P[a, b] * f(beta * (d[a] - d[b])))
        for a in range(K)
        for b in range(K)
    )


def cdpo_loss(P: sp.Matrix, mu0: list, mu1: list, d: list, beta: sp.Expr, eps, f) -> sp.Expr:
    """``L_cDPO(d; P)``: each (winner, loser) margin costs ``(1 - eps) f(z) + eps f(-z)``."""
    return dpo_loss(P, mu0, mu1, d, beta, lambda z: (1 - eps) * f(z) + eps * f(-z))


def _neg_log_sigmoid(z: sp.Expr) -> sp.Expr:
    return sp.log(1 + sp.exp(-z))


def build(K: int) -> tuple[list[Identity], list[Link]]:
    """The identities and library links for ``K`` responses.

    Over 60 lines because it is the claim's list of statements, one per identity or link,
    over the one set of symbols they share (splitting it would only pass the symbols around).
    """
    P, gP = pref_matrix(K)
    mu0, g0 = simplex(K, "mu")
    mu1, g1 = simplex(K, "nu")
    d, gd = reals(*[f"d{y}" for y in range(K)])
    (beta,), gb = positive("beta")
    e = sp.Symbol("e", positive=True)
    eps = e / 2  # 0 < eps < 1/2 for 0 < e < 1
    f = sp.Function("f")
    ge = Group("unit", (e,))
    groups = (gP, g0, g1, gd, gb, ge, Group("h", (f,)))
    Peps = P.applyfunc(lambda p: eps + (1 - 2 * eps) * p)
    ids = [
        Identity(
            "L_cDPO(d; P) = L_DPO(d; eps + (1 - 2 eps) P) for every f",
            K,
            cdpo_loss(P, mu0, mu1, d, beta, eps, f),
            dpo_loss(Peps, mu0, mu1, d, beta, f),
            groups,
        ),
        Identity("P_eps + P_eps^T = 1", K, Peps + Peps.T, sp.ones(K, K), groups),
        Identity(
            "P_eps - eps = (1 - 2 eps) P", K, Peps - eps * sp.ones(K, K), (1 - 2 * eps) * P, groups
        ),
        Identity(
            "1 - eps - P_eps = (1 - 2 eps) P^T",
            K,
            (1 - eps) * sp.ones(K, K) - Peps,
            (1 - 2 * eps) * P.T,
            groups,
        ),
    ]

    def data(vals: dict) -> theory.PreferenceData:
        return theory.PreferenceData(P=at(P, vals), mu0=at(mu0, vals), mu1=at(mu1, vals))

    def library_loss(vals: dict) -> object:
        loss = theory.zoo.ZOO["cdpo"].with_params(eps=float(vals[e]) / 2)
        return theory.zoo.population.population_loss(
            loss, data(vals), beta=at(beta, vals), d=at([d], vals)
        )

    links = [
        Link(
            "theory.zoo smoothed_data(D, eps).P = eps + (1 - 2 eps) P",
            K,
            lambda vals: theory.zoo.closed_forms.smoothed_data(data(vals), at(eps, vals)).P[0],
            Peps,
            (gP, g0, g1, ge),
        ),
        Link(
            "theory.zoo population_loss(cdpo, D, d) = L_cDPO(d) with f = -log sigmoid",
            K,
            library_loss,
            cdpo_loss(P, mu0, mu1, d, beta, eps, _neg_log_sigmoid),
            (gP, g0, g1, gd, gb, ge),
            exact=False,
        ),
    ]
    return ids, links
