"""Proof of WRO-consistency (fixed anchor) for K = 2, 3, 4 (one prompt).

With scores ``g(y) = sum_y' q(y') h(P[y, y'])`` taken as free reals (every ``h``, every anchor),
``J(pi) = sum_y pi(y) g(y) - beta KL(pi || pi_ref)``, and models and ``pi_ref`` built from
positive weights:

* ``beta > 0``: ``J(pi*) - J(pi) = beta KL(pi || pi*)`` for every ``pi``, with
  ``pi* = pi_ref exp(g / beta) / Z`` (Gibbs' identity): the optimum attains the largest
  regularized win rate, and only it (``KL >= 0``, zero only at ``pi*``: standard facts);
* ``beta = 0``, response 0 an argmax (``g(y) = g(0) - delta_y``, ``delta_y >= 0``):
  ``g(0) - WR_h(pi; q) = sum_y pi(y) delta_y``, non-negative weights times non-negative gaps, so a
  model on the argmax attains the maximal h-win rate;
* self-play, ``beta = 0``: ``min_q WR(pi; q) <= WR(pi; pi) = 1/2`` for every ``pi`` (the identity
  is proved here; the maximal lottery's ``min_j WR(pi*; e_j) = 1/2`` is a linear program that the
  claim's check solves, not proved here).

Library links: ``theory.wro_optimum(...).value - theory.wro_objective(pi)`` against
``beta KL(pi || pi*)`` (floats) and, for ``beta = 0``, ``theory.wro_optimum(P, q).value``
against ``max_y (P q)(y)`` (exact).
"""

from __future__ import annotations

import sympy as sp

import theory

from .core import (
    Identity,
    Link,
    at,
    dot,
    kl_regularized,
    matvec,
    normalized,
    positive,
    pref_matrix,
    reals,
    simplex,
    tilt,
)

CLAIM_ID = "WRO-consistency"


def build(K: int) -> tuple[list[Identity], list[Link]]:
    """The identities and library links for ``K`` responses."""
    g, gg = reals(*[f"g{y}" for y in range(K)])
    s, gs = positive(*[f"s{y}" for y in range(K)])
    x, gx = positive(*[f"x{y}" for y in range(K)])
    delta, gdl = positive(*[f"delta{y}" for y in range(1, K)])
    (beta,), gb = positive("beta")
    ref, pi = normalized(s), normalized(x)
    star, Z = tilt(ref, g, beta)
    kl = sum(p * sp.log(p / t) for p, t in zip(pi, star, strict=True))
    top = [g[0], *[g[0] - dv for dv in delta]]
    P, gP = pref_matrix(K)
    nu, gn = simplex(K, "nu")
    groups = (gg, gs, gx, gdl, gb, gP, gn)
    ids = [
        Identity(
            "beta > 0: J(pi*) - J(pi) = beta KL(pi || pi*)",
            K,
            kl_regularized(star, g, ref, beta) - kl_regularized(pi, g, ref, beta),
            beta * kl,
            groups,
        ),
        Identity(
            "beta = 0: g(0) - WR_h(pi; q) = sum_y pi(y) delta_y",
            K,
            g[0] - dot(pi, top),
            sum(p * dv for p, dv in zip(pi[1:], delta, strict=True)),
            groups,
        ),
        Identity(
            "self-play: WR(pi; pi) = 1/2", K, dot(nu, matvec(P, nu)), sp.Rational(1, 2), groups
        ),
    ]
    return ids, _links(K)


def _links(K: int) -> list[Link]:
    P, gP = pref_matrix(K)
    q, gq = simplex(K, "q")
    ref, gr = simplex(K, "r")
    pi, gpi = simplex(K, "pi")
    (beta,), gb = positive("beta")
    Pq = matvec(P, q)
    E = [sp.exp(v / beta) for v in Pq]
    Z = dot(ref, E)
    star = [r * e / Z for r, e in zip(ref, E, strict=True)]
    kl = sum(p * sp.log(p / t) for p, t in zip(pi, star, strict=True))
    groups = (gP, gq, gr, gpi, gb)

    def gap(v: dict) -> object:
        args = (at(P, v), at(q, v))
        opt = theory.wro_optimum(*args, at(beta, v), at(ref, v)).value
        return opt - theory.wro_objective(args[0], at(pi, v), args[1], at(beta, v), at(ref, v))

    return [
        Link(
            "theory.wro_optimum(...).value - theory.wro_objective(pi) = beta KL(pi || pi*)",
            K,
            gap,
            beta * kl,
            groups,
            exact=False,
        ),
        Link(
            "theory.wro_optimum(P, q, beta=0).value = max_y (P q)(y)",
            K,
            lambda v: theory.wro_optimum(at(P, v), at(q, v)).value,
            sp.Max(*Pq),
            (gP, gq),
        ),
    ]
