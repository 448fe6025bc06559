"""Proof of the best-of-n part of ``mitigations`` for K = 2, 3, 4 (one prompt).

Responses ranked by a reward with response 0 best (a strict order ``S``: ``S[i, j] = 1`` for
``i < j``).  Draw ``n`` responses from ``mu`` and keep the best.  With ``F(y) = sum_{j >= y}
mu(j)`` (mass ranked at or below ``y``) and ``F^-(y) = F(y) - mu(y)``:

* the distribution of the best of ``n`` draws, written as the sum over all ``n``-tuples
  (``n = 2, 3``) of ``prod mu`` where the best draw is ``y``, equals ``F(y)^n - F^-(y)^n``;
* for ``n`` symbolic, ``sum_y (F(y)^n - F^-(y)^n) = 1`` (it telescopes: a distribution for
  every ``n``);
* ``n = 2`` is SFT on preferred samples under ``S``: ``best_of_2 = mu (S mu) + mu (S mu)``;
* the response win rate under ``S`` is the mid-rank ``W_mu(y) = F^-(y) + mu(y)/2``, so
  ``WR(best_of_n; mu) = sum_y (F(y)^n - F^-(y)^n) (F^-(y) + mu(y)/2)``.

Not proved here: the limit ``n / (n + 1)`` for a continuous start and the other mitigations
(iterated SFT, checkpointing on win rate), which the claim's check samples.  Library links
(exact): ``theory.best_of_n(mu, r, n)`` and
``theory.methods.best_of_n.best_of_n_win_rate(S, mu, r, n)`` for ``n = 2, 3, 4``.
"""

from __future__ import annotations

import itertools

import sympy as sp

import theory

from .core import Identity, Link, at, dot, matvec, simplex
from .sft_closed_form import strict_order

CLAIM_ID = "mitigations"


def enumerated(mu: list, n: int) -> sp.Matrix:
    """``Pr(best of n draws = y)`` summed over all ``n``-tuples (the best has the least index)."""
    K = len(mu)
    out = [sp.Integer(0)] * K
    for draws in itertools.product(range(K), repeat=n):
        weight = sp.Integer(1)
        for d in draws:
            weight *= mu[d]
        out[min(draws)] += weight
    return sp.Matrix(out)


def closed_form(mu: list, n) -> list:
    """``F(y)^n - F^-(y)^n``."""
    K = len(mu)
    F = [sum(mu[y:], sp.Integer(0)) for y in range(K)]
    Fm = [sum(mu[y + 1 :], sp.Integer(0)) for y in range(K)]
    return [F[y] ** n - Fm[y] ** n for y in range(K)]


def build(K: int) -> tuple[list[Identity], list[Link]]:
    """The identities and library links for ``K`` responses."""
    mu, g = simplex(K, "mu")
    n = sp.Symbol("n", integer=True, positive=True)
    S = strict_order(K)
    Fm = [sum(mu[y + 1 :], sp.Integer(0)) for y in range(K)]
    mid = [f + m / 2 for f, m in zip(Fm, mu, strict=True)]
    groups = (g,)
    ids = [
        Identity(
            f"best of {k} by enumeration = F^{k} - F^-^{k}",
            K,
            enumerated(mu, k),
            sp.Matrix(closed_form(mu, k)),
            groups,
        )
        for k in (2, 3)
    ]
    SM = matvec(S, mu)
    ids += [
        Identity(
            "sum_y (F(y)^n - F^-(y)^n) = 1 (n symbolic)", K, sum(closed_form(mu, n)), 1, groups
        ),
        Identity(
            "best of 2 = SFT winner distribution under S",
            K,
            sp.Matrix(closed_form(mu, 2)),
            sp.Matrix([2 * m * w for m, w in zip(mu, SM, strict=True)]),
            groups,
        ),
        Identity("W_mu(y) under S = F^-(y) + mu(y)/2", K, sp.Matrix(SM), sp.Matrix(mid), groups),
    ]
    r = list(range(K - 1, -1, -1))  # response 0 has the highest reward
    links = []
    for k in (2, 3, 4):
        links += _links(K, k, mu, S, r, mid, groups)
    return ids, links


def _links(K: int, k: int, mu: list, S: sp.Matrix, r: list, mid: list, groups: tuple) -> list:
    """``theory.best_of_n`` and ``theory.methods.best_of_n.best_of_n_win_rate`` for ``n = k``."""

    def bon(v: dict) -> object:
        return theory.best_of_n(at(mu, v), r, k)

    def bon_wr(v: dict) -> object:
        return theory.methods.best_of_n.best_of_n_win_rate(at(S, v), at(mu, v), r, k)

    return [
        Link(f"theory.best_of_n(mu, r, {k}) = F^{k} - F^-^{k}", K, bon, closed_form(mu, k), groups),
        Link(
            f"theory.methods.best_of_n.best_of_n_win_rate(S, mu, r, {k})"
            f" = sum (F^{k} - F^-^{k}) (F^- + mu/2)",
            K,
            bon_wr,
            dot(closed_form(mu, k), mid),
            groups,
        ),
    ]
