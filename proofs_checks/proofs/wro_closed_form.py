"""Proof of WRO-closed-form (fixed anchor, ``beta > 0``) for K = 2, 3, 4 (one prompt).

The objective (``docs/theory.md``): ``J(pi) = sum_y pi(y) g(y) - beta KL(pi || pi_ref)`` with
scores ``g(y) = sum_y' q(y') h(P[y, y'])``.  The proof takes ``g`` as free real symbols, so it
covers every ``h`` and every anchor at once; ``pi_ref = s / sum(s)`` for positive weights ``s``.
With ``E_y = exp(g(y) / beta)``, ``Z = sum_y pi_ref(y) E_y`` and ``pi*(y) = pi_ref(y) E_y / Z``:

* ``pi*`` is a distribution: ``sum_y pi*(y) = 1``;
* stationarity (the KKT condition of the simplex; ``pi* > 0`` so no inequality is active):
  ``dJ/dpi(y) = g(y) - beta (log(pi(y)/pi_ref(y)) + 1)`` equals the same multiplier
  ``beta log Z - beta`` at ``pi*`` for every ``y``;
* concavity: the Hessian of ``J`` is ``-beta diag(1/pi(y))``, negative definite for
  ``beta > 0`` and ``pi > 0``, so the stationary point is the unique maximiser;
* the value: ``J(pi*) = beta log Z``.

Library links (floats, the library computes exponentials): ``theory.wro_optimum`` with the
identity ``h`` (``g = P q``), its ``pi`` and its ``value`` against ``pi*`` and ``beta log Z``.
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

CLAIM_ID = "WRO-closed-form"


def build(K: int) -> tuple[list[Identity], list[Link]]:
    """The identities and library links for ``K`` responses."""
    g, gg = reals(*[f"g{y}" for y in range(K)])
    s, gs = positive(*[f"s{y}" for y in range(K)])
    (beta,), gb = positive("beta")
    x, gx = positive(*[f"x{y}" for y in range(K)])  # a generic positive point for the Hessian
    ref = normalized(s)
    star, Z = tilt(ref, g, beta)
    groups = (gg, gs, gb, gx)
    J = kl_regularized(x, g, ref, beta)
    grad = [sp.diff(J, v) for v in x]
    at_star = dict(zip(x, star, strict=True))
    ids = [Identity("sum_y pi*(y) = 1", K, sum(star), 1, groups)]
    ids += [
        Identity(
            f"dJ/dpi({y}) at pi* = beta log Z - beta",
            K,
            grad[y].subs(at_star),
            beta * sp.log(Z) - beta,
            groups,
        )
        for y in range(K)
    ]
    hessian = sp.Matrix(K, K, lambda i, j: sp.diff(grad[i], x[j]))
    ids += [
        Identity(
            "Hessian of J = -beta diag(1/pi) (negative definite: beta > 0, pi > 0)",
            K,
            hessian,
            -beta * sp.diag(*[1 / v for v in x]),
            groups,
        ),
        Identity(
            "J(pi*) = beta log Z", K, kl_regularized(star, g, ref, beta), beta * sp.log(Z), groups
        ),
    ]
    links = _links(K)
    return ids, links


def _links(K: int) -> list[Link]:
    """``theory.wro_optimum`` (identity h, anchor q) against ``pi*`` and ``beta log Z``."""
    P, gP = pref_matrix(K)
    q, gq = simplex(K, "q")
    ref, gr = simplex(K, "r")
    (beta,), gb = positive("beta")
    E = [sp.exp(v / beta) for v in matvec(P, q)]
    Z = dot(ref, E)
    groups = (gP, gq, gr, gb)

    def solve(v):
        return theory.wro_optimum(at(P, v), at(q, v), at(beta, v), at(ref, v))

    return [
        Link(
            "theory.wro_optimum(P, q, beta, pi_ref).pi = pi_ref exp(Pq/beta) / Z",
            K,
            lambda v: solve(v).pi,
            [r * e / Z for r, e in zip(ref, E, strict=True)],
            groups,
            exact=False,
        ),
        Link(
            "theory.wro_optimum(P, q, beta, pi_ref).value = beta log Z",
            K,
            lambda v: solve(v).value,
            beta * sp.log(Z),
            groups,
            exact=False,
        ),
    ]


__all__ = ["CLAIM_ID", "build"]
