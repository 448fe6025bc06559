"""Proof of RLHF-is-WRO for K = 2, 3, 4 (one prompt).

A Bradley-Terry ``P`` in strengths ``s > 0``: ``P[i, j] = s_i / (s_i + s_j)``
(``= sigmoid(r_i - r_j)`` with rewards ``r = log s``).  With ``logit(p) = log(p / (1 - p))``:

* ``logit P[i, j] = r_i - r_j`` for every pair;
* the logit score against any anchor ``q``: ``g(y) = sum_y' q(y') logit P[y, y'] = r_y - E_q r``;
* ``WR_logit(pi; q) = E_pi r - E_q r``;
* the RLHF objective equals logit-WRO plus a constant:
  ``E_pi r - beta KL(pi || pi_ref) = [WR_logit(pi; q) - beta KL(pi || pi_ref)] + E_q r``, and
  ``E_q r`` does not depend on ``pi``.

Library links (floats: logs): ``theory.wro.wro_scores(P, q, "logit")`` against ``r - E_q r`` and
``theory.methods.rlhf.rlhf_objective - theory.wro_objective(h="logit")`` against ``E_q r``.
"""

from __future__ import annotations

import sympy as sp

import theory

from .core import Identity, Link, at, dot, floats, positive, simplex

CLAIM_ID = "RLHF-is-WRO"


def logit(p: sp.Expr) -> sp.Expr:
    """``log(p / (1 - p))`` with the argument brought to one fraction."""
    return sp.log(sp.cancel(sp.together(p / (1 - p))))


def build(K: int) -> tuple[list[Identity], list[Link]]:
    """The identities and library links for ``K`` responses."""
    s, gs = positive(*[f"s{y}" for y in range(K)])
    pi, gpi = simplex(K, "pi")
    q, gq = simplex(K, "q")
    ref, gr = simplex(K, "r")
    (beta,), gb = positive("beta")
    groups = (gs, gpi, gq, gr, gb)
    P = sp.Matrix(K, K, lambda i, j: s[i] / (s[i] + s[j]))
    r = [sp.log(v) for v in s]
    L = sp.Matrix(K, K, lambda i, j: logit(P[i, j]))
    score = [dot(q, [L[y, v] for v in range(K)]) for y in range(K)]
    wr_logit = dot(pi, score)
    kl = sum(p * sp.log(p / f) for p, f in zip(pi, ref, strict=True))
    ids = [
        Identity(
            "logit P[i, j] = r_i - r_j", K, L, sp.Matrix(K, K, lambda i, j: r[i] - r[j]), groups
        ),
        Identity(
            "g(y) = sum_y' q(y') logit P[y, y'] = r_y - E_q r",
            K,
            sp.Matrix(score),
            sp.Matrix([v - dot(q, r) for v in r]),
            groups,
        ),
        Identity("WR_logit(pi; q) = E_pi r - E_q r", K, wr_logit, dot(pi, r) - dot(q, r), groups),
        Identity(
            "E_pi r - beta KL = (WR_logit(pi; q) - beta KL) + E_q r",
            K,
            dot(pi, r) - beta * kl,
            (wr_logit - beta * kl) + dot(q, r),
            groups,
        ),
    ]
    links = [
        Link(
            "theory.wro.wro_scores(P, q, 'logit') = r - E_q r",
            K,
            lambda v: theory.wro.wro_scores(at(P, v), at(q, v), "logit"),
            [x - dot(q, r) for x in r],
            groups,
            exact=False,
        ),
        Link(
            "theory.methods.rlhf.rlhf_objective - theory.wro_objective(h='logit') = E_q r",
            K,
            lambda v: (
                theory.methods.rlhf.rlhf_objective(floats(r, v), at(pi, v), at(beta, v), at(ref, v))
                - theory.wro_objective(
                    at(P, v), at(pi, v), at(q, v), at(beta, v), at(ref, v), "logit"
                )
            ),
            dot(q, r),
            groups,
            exact=False,
        ),
    ]
    return ids, links
