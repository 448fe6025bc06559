"""Proof of WR-basic for K = 2, 3, 4 (one prompt; prompts only add up with weights ``rho``).

Statements (``docs/theory.md``, Definitions), with ``WR(pi; q) = pi^T P q``,
``W_q = P q`` and ``P`` symbolic (``P_ji = 1 - P_ij``, ``P_ii = 1/2``):

* ``WR(pi; pi) = 1/2`` and ``WR(pi; q) + WR(q; pi) = 1``;
* bilinearity: ``WR(t pi1 + (1-t) pi2; q) = t WR(pi1; q) + (1-t) WR(pi2; q)``, and in ``q``;
* covariance identity: ``Cov_{y~q}(pi(y)/q(y), W_q(y)) = WR(pi; q) - 1/2`` (``q > 0``).

Each reduces to 0 under ``expand``.  Library links: ``theory.win_rate`` and
``theory.win_rate_covariance`` against ``pi^T P q`` and the covariance written here.
"""

from __future__ import annotations

import sympy as sp

import theory

from .core import Group, Identity, Link, at, dot, matvec, pref_matrix, simplex

CLAIM_ID = "WR-basic"


def build(K: int) -> tuple[list[Identity], list[Link]]:
    """The identities and library links for ``K`` responses."""
    P, gP = pref_matrix(K)
    pi, gpi = simplex(K, "pi")
    pi2, gpi2 = simplex(K, "nu")
    q, gq = simplex(K, "q")
    t = sp.Symbol("t", positive=True)
    gt = Group("unit", (t,))
    half = sp.Rational(1, 2)

    def WR(a, b):
        return dot(a, matvec(P, b))

    mix = [t * a + (1 - t) * b for a, b in zip(pi, pi2, strict=True)]
    W = matvec(P, q)
    ratio = [a / b for a, b in zip(pi, q, strict=True)]
    cov = dot(q, [r * w for r, w in zip(ratio, W, strict=True)]) - dot(q, ratio) * dot(q, W)
    groups = (gP, gpi, gpi2, gq, gt)
    ids = [
        Identity("WR(pi; pi) = 1/2", K, WR(pi, pi), half, groups),
        Identity("WR(pi; q) + WR(q; pi) = 1", K, WR(pi, q) + WR(q, pi), 1, groups),
        Identity(
            "WR(t pi + (1-t) nu; q) = t WR(pi; q) + (1-t) WR(nu; q)",
            K,
            WR(mix, q),
            t * WR(pi, q) + (1 - t) * WR(pi2, q),
            groups,
        ),
        Identity(
            "WR(q; t pi + (1-t) nu) = t WR(q; pi) + (1-t) WR(q; nu)",
            K,
            WR(q, mix),
            t * WR(q, pi) + (1 - t) * WR(q, pi2),
            groups,
        ),
        Identity("Cov_q(pi/q, W_q) = WR(pi; q) - 1/2", K, cov, WR(pi, q) - half, groups),
    ]
    links = [
        Link(
            "theory.win_rate(P, pi, q) = pi^T P q",
            K,
            lambda v: theory.win_rate(at(P, v), at(pi, v), at(q, v)),
            WR(pi, q),
            groups,
        ),
        Link(
            "theory.win_rate_covariance(P, pi, q) = Cov_q(pi/q, W_q)",
            K,
            lambda v: theory.win_rate_covariance(at(P, v), at(pi, v), at(q, v)),
            cov,
            groups,
        ),
    ]
    return ids, links
