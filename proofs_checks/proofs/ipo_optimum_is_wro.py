"""Proof of IPO-optimum-is-WRO for K = 2, 3, 4 (one prompt, ``mu0 = mu1 = mu``).

IPO's population loss, written from the sampling model (a pair ``y0 = a ~ mu``, ``y1 = b ~ mu``;
``b`` wins with probability ``P[b, a]``) on the implicit rewards ``d = log pi - log pi_ref``,
with ``c = 1 / (2 beta)``:
``L(d) = sum_{a, b} mu(a) mu(b) (P[b, a] (d_b - d_a - c)^2 + P[a, b] (d_a - d_b - c)^2)``.

* stationarity: ``dL/dd_k = 0`` at ``d* = (P mu) / beta`` for every ``k``;
* convexity: the Hessian's quadratic form is ``2 sum_{a, b} mu(a) mu(b) (v_a - v_b)^2 >= 0``,
  zero only along constants (``mu > 0``), so the minimizers are ``d* + const``;
* ``L(d + t) = L(d)`` for a constant ``t``;
* ``d*`` is the identity-WRO optimum's: with ``pi* = pi_ref exp(P mu / beta) / Z`` (claim
  WRO-closed-form), ``log(pi* / pi_ref) - d* = -log Z``, the same constant for every response.

Library links (the method zoo, exact): ``theory.zoo.closed_forms.ipo_rewards`` against ``d*``
(normalized to ``d_0 = 0``) and ``theory.zoo.population.population_loss(ZOO["ipo"])`` against
``L`` at rational ``d``.
"""

from __future__ import annotations

import sympy as sp

import theory
import theory.zoo.closed_forms
import theory.zoo.population

from .core import Identity, Link, at, matvec, positive, pref_matrix, reals, simplex

CLAIM_ID = "IPO-optimum-is-WRO"


def ipo_loss(P: sp.Matrix, mu: list, d: list, beta: sp.Expr) -> sp.Expr:
    """``L(d)`` of the module docstring."""
    K = len(mu)
    c = 1 / (2 * beta)
    return sum(
        mu[a] * mu[b] * (P[b, a] * (d[b] - d[a] - c) ** 2 + P[a, b] * (d[a] - d[b] - c) ** 2)
        for a in range(K)
        for b in range(K)
    )


def build(K: int) -> tuple[list[Identity], list[Link]]:
    """The identities and library links for ``K`` responses.

    Over 60 lines because it is the claim's list of statements, one per identity or link,
    over the one set of symbols they share (splitting it would only pass the symbols around).
    """
    P, gP = pref_matrix(K)
    mu, gm = simplex(K, "mu")
    s, gr = positive(*[f"s{y}" for y in range(K)])
    ref = [w / sum(s) for w in s]  # pi_ref from positive weights: Z > 0 is then evident
    d, gd = reals(*[f"d{y}" for y in range(K)])
    v, gv = reals(*[f"v{y}" for y in range(K)])
    (beta, t), gb = positive("beta", "t")
    groups = (gP, gm, gr, gd, gv, gb)
    L = ipo_loss(P, mu, d, beta)
    Pmu = matvec(P, mu)
    star = {x: w / beta for x, w in zip(d, Pmu, strict=True)}
    grad = [sp.diff(L, x) for x in d]
    form = sum(sp.diff(grad[i], d[j]) * v[i] * v[j] for i in range(K) for j in range(K))
    E = [sp.exp(w / beta) for w in Pmu]
    Z = sum((r * e for r, e in zip(ref, E, strict=True)), sp.Integer(0))
    log_tilt = [sp.log(r * e / Z / r) for r, e in zip(ref, E, strict=True)]
    ids = [
        Identity(
            "dL/dd_k = 0 at d* = P mu / beta",
            K,
            sp.Matrix([g.subs(star) for g in grad]),
            sp.zeros(K, 1),
            groups,
        ),
        Identity(
            "v^T Hessian v = 2 sum mu(a) mu(b) (v_a - v_b)^2 >= 0",
            K,
            form,
            2 * sum(mu[a] * mu[b] * (v[a] - v[b]) ** 2 for a in range(K) for b in range(K)),
            groups,
        ),
        Identity("L(d + t) = L(d)", K, ipo_loss(P, mu, [x + t for x in d], beta), L, groups),
        Identity(
            "log(pi*/pi_ref) - d* = -log Z (the WRO tilt, up to a constant)",
            K,
            sp.Matrix([lt - w / beta for lt, w in zip(log_tilt, Pmu, strict=True)]),
            sp.Matrix([-sp.log(Z)] * K),
            groups,
        ),
    ]

    def data(vals: dict) -> theory.PreferenceData:
        return theory.PreferenceData(P=at(P, vals), mu0=at(mu, vals))

    links = [
        Link(
            "theory.zoo ipo_rewards(D[mu], beta) = (P mu - (P mu)_0) / beta",
            K,
            lambda vals: theory.zoo.closed_forms.ipo_rewards(data(vals), at(beta, vals))[0],
            [(w - Pmu[0]) / beta for w in Pmu],
            (gP, gm, gb),
        ),
        Link(
            "theory.zoo population_loss(ipo, D[mu], d) = L(d)",
            K,
            lambda vals: theory.zoo.population.population_loss(
                theory.zoo.ZOO["ipo"], data(vals), beta=at(beta, vals), d=at([d], vals)
            ),
            L,
            (gP, gm, gd, gb),
        ),
    ]
    return ids, links
