"""Proof of DPO-fixed-points (the population gradient and its stationary set) for K = 2, 3, 4.

The DPO population loss on winner-loser weights ``w[i, j] >= 0`` (how often ``i`` beats ``j``;
``docs/theory.md``): ``L(d) = - sum_{i != j} w[i, j] log sigmoid(beta (d_i - d_j))`` in the
implicit rewards ``d = log pi - log pi_ref``, ``sigmoid(x) = 1 / (1 + exp(-x))``.  The
Bradley-Terry log-likelihood is ``l(r) = sum_{i != j} w[i, j] log sigmoid(r_i - r_j)`` and its
score (observed minus expected wins) ``S_k(r) = sum_j w[k, j] - sum_j (w[k, j] + w[j, k])
sigmoid(r_k - r_j)``.

* ``dL/dd_k = -beta S_k(beta d)``: the DPO gradient is ``beta`` times the weighted BT score;
* ``S_k(r) = dl/dr_k`` (the score is the likelihood's gradient);
* ``L(d + c) = L(d)`` for a constant ``c``: only differences of ``d`` matter.

Hence ``dL/dd = 0`` iff ``beta d`` is a stationary point of ``l``, i.e. (``l`` being concave, a
standard fact not re-proved here) ``d`` is the BT MLE divided by ``beta``, up to a constant shift.

Library links (floats): ``theory.bradley_terry.bradley_terry_gradient`` against ``S`` and
``theory.methods.dpo.dpo_logit_gradient`` against the gradient of ``L`` in the logits ``z``
(``pi = softmax(z)``), derived here by sympy from ``L`` itself.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

import theory

from .core import Group, Identity, Link, floats, positive, reals, simplex

CLAIM_ID = "DPO-fixed-points"


def sigmoid(x: sp.Expr) -> sp.Expr:
    """``1 / (1 + exp(-x))``."""
    return 1 / (1 + sp.exp(-x))


def _weights(K: int) -> tuple[sp.Matrix, Group]:
    w, g = positive(*[f"w{i}{j}" for i in range(K) for j in range(K) if i != j])
    it = iter(w)
    W = sp.Matrix(K, K, lambda i, j: 0 if i == j else next(it))
    return W, g


def loss(W: sp.Matrix, d: list, beta: sp.Expr) -> sp.Expr:
    """``L(d) = - sum_{i != j} w[i, j] log sigmoid(beta (d_i - d_j))``."""
    K = len(d)
    pairs = [(i, j) for i in range(K) for j in range(K) if i != j]
    return -sum(W[i, j] * sp.log(sigmoid(beta * (d[i] - d[j]))) for i, j in pairs)


def score(W: sp.Matrix, r: list) -> list:
    """``S_k(r) = sum_j w[k, j] - sum_j (w[k, j] + w[j, k]) sigmoid(r_k - r_j)``."""
    K = len(r)
    return [
        sum(W[k, j] for j in range(K))
        - sum((W[k, j] + W[j, k]) * sigmoid(r[k] - r[j]) for j in range(K) if j != k)
        for k in range(K)
    ]


def build(K: int) -> tuple[list[Identity], list[Link]]:
    """The identities and library links for ``K`` responses."""
    W, gw = _weights(K)
    d, gd = reals(*[f"d{y}" for y in range(K)])
    (beta, c), gb = positive("beta", "c")
    groups = (gw, gd, gb)
    L = loss(W, d, beta)
    S_beta_d = score(W, [beta * v for v in d])
    r = sp.symbols(f"r0:{K}", real=True)
    ll = -loss(W, list(r), sp.Integer(1))
    ids = [
        Identity(
            "dL/dd_k = -beta S_k(beta d)",
            K,
            sp.Matrix([sp.diff(L, v) for v in d]),
            sp.Matrix([-beta * v for v in S_beta_d]),
            groups,
        ),
        Identity(
            "S_k(r) = dl/dr_k",
            K,
            sp.Matrix(score(W, list(r))),
            sp.Matrix([sp.diff(ll, v) for v in r]),
            (gw, Group("real", tuple(r))),
        ),
        Identity("L(d + c) = L(d)", K, loss(W, [v + c for v in d], beta), L, groups),
    ]
    return ids, _links(K, W, gw)


def _links(K: int, W: sp.Matrix, gw: Group) -> list[Link]:
    z, gz = reals(*[f"z{y}" for y in range(K)])
    ref, gr = simplex(K, "r")
    (beta,), gb = positive("beta")
    r, gr2 = reals(*[f"r{y}" for y in range(K)])
    logZ = sp.log(sum(sp.exp(v) for v in z))
    d = [v - logZ - sp.log(f) for v, f in zip(z, ref, strict=True)]
    L = loss(W, d, beta)
    groups = (gw, gz, gr, gb)

    def dpo_grad(v):
        Wf = floats(W, v)[None]
        return theory.methods.dpo.dpo_logit_gradient(
            Wf, floats(z, v)[None], np.log(floats(ref, v))[None], float(v[beta])
        )[0]

    return [
        Link(
            "theory.bradley_terry.bradley_terry_gradient(w, r) = S(r)",
            K,
            lambda v: theory.bradley_terry.bradley_terry_gradient(floats(W, v), floats(r, v)),
            score(W, r),
            (gw, gr2),
            exact=False,
        ),
        Link(
            "theory.methods.dpo.dpo_logit_gradient(w, z, log pi_ref, beta) = dL/dz",
            K,
            dpo_grad,
            [sp.diff(L, v) for v in z],
            groups,
            exact=False,
        ),
    ]
