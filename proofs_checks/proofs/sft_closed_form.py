"""Proof of SFT-closed-form for K = 2, 3, 4 (one prompt).

Statements, from the sampling model of ``docs/theory.md`` (``y0 ~ mu0``, ``y1 ~ mu1``, ``y1``
preferred with probability ``P[y1, y0]``):

* the winner's distribution, written as the sum over pairs
  ``Pr(y_w = y) = sum_{a, b} mu0(a) mu1(b) ([b = y] P[b, a] + [a = y] P[a, b])``, equals
  ``p_w = mu1 (P mu0) + mu0 (P mu1)``; the loser's (roles swapped) equals
  ``p_l = mu1 (P^T mu0) + mu0 (P^T mu1)``;
* with ``mu0 = mu1 = mu``: ``p_w = 2 mu W_mu`` and ``WR(p_w; mu) = 1/2 + 2 Var_mu(W_mu)``,
  ``WR(p_l; mu) = 1/2 - 2 Var_mu(W_mu)``;
* the bound: ``WR(p_w; mu) = 1 - WR(p_l; mu) <= 1``, since ``WR(p_l; mu)`` is a sum of
  non-negative products;
* ``mu0 != mu1``, ``q = (mu0 + mu1)/2``: ``WR(p_w; q) = E_mu1[W_0 W_q] + E_mu0[W_1 W_q]``;
* the strict order (response 0 best) and any ``mu``: ``WR(p_w; mu) = 2/3 - sum_y mu(y)^3 / 6``.

Library links: ``theory.methods.sft.winner_distribution``,
``theory.methods.sft.loser_distribution`` (exact), ``theory.sft_win_rate`` and
``theory.methods.sft.sft_win_rate_formula`` (the library's own closed form) on one-prompt
:class:`theory.PreferenceData`, at exact rational points.
"""

from __future__ import annotations

from types import SimpleNamespace

import sympy as sp

import theory

from .core import Identity, Link, at, dot, matvec, pref_matrix, simplex

CLAIM_ID = "SFT-closed-form"


def pair_distribution(P: sp.Matrix, mu0: list, mu1: list, winner: bool) -> sp.Matrix:
    """The winner's (or loser's) distribution summed over the pairs ``(y0, y1) = (a, b)``."""
    K = len(mu0)
    out = []
    for y in range(K):
        total = sp.Integer(0)
        for a in range(K):
            for b in range(K):
                # y1 = b wins with probability P[b, a]; y0 = a wins with probability P[a, b]
                w_b, w_a = (P[b, a], P[a, b]) if winner else (P[a, b], P[b, a])
                total += mu0[a] * mu1[b] * (int(b == y) * w_b + int(a == y) * w_a)
        out.append(total)
    return sp.Matrix(out)


def _var(mu: list, W: list) -> sp.Expr:
    return dot(mu, [w * w for w in W]) - dot(mu, W) ** 2


def strict_order(K: int) -> sp.Matrix:
    """``P[i, j] = 1`` for ``i < j`` (response 0 best), ``1/2`` on the diagonal."""
    half = sp.Rational(1, 2)
    return sp.Matrix([[half if i == j else int(i < j) for j in range(K)] for i in range(K)])


def build(K: int) -> tuple[list[Identity], list[Link]]:
    """The identities and library links for ``K`` responses."""
    s = _quantities(K)
    return _identities(K, s), _links(K, s)


def _quantities(K: int) -> SimpleNamespace:
    """The symbols and the expressions the statements compare (``p_w``, ``p_l``, ``W_mu``,
    ``Var_mu(W_mu)``, the two-sided and strict-order win rates)."""
    P, gP = pref_matrix(K)
    mu0, g0 = simplex(K, "mu")
    mu1, g1 = simplex(K, "nu")
    groups = (gP, g0, g1)
    half = sp.Rational(1, 2)
    PT = P.T
    pw = [mu1[y] * matvec(P, mu0)[y] + mu0[y] * matvec(P, mu1)[y] for y in range(K)]
    pl = [mu1[y] * matvec(PT, mu0)[y] + mu0[y] * matvec(PT, mu1)[y] for y in range(K)]
    W = matvec(P, mu0)
    pw_sym = pair_distribution(P, mu0, mu0, True)
    pl_sym = pair_distribution(P, mu0, mu0, False)
    var = _var(mu0, W)
    W1 = matvec(P, mu1)
    q = [(a + b) / 2 for a, b in zip(mu0, mu1, strict=True)]
    Wq = [(a + b) / 2 for a, b in zip(W, W1, strict=True)]
    two_sided = dot(mu1, [a * b for a, b in zip(W, Wq, strict=True)]) + dot(
        mu0, [a * b for a, b in zip(W1, Wq, strict=True)]
    )
    S = strict_order(K)
    WS = matvec(S, mu0)
    pw_strict = pair_distribution(S, mu0, mu0, True)
    return SimpleNamespace(
        P=P,
        gP=gP,
        mu0=mu0,
        g0=g0,
        mu1=mu1,
        g1=g1,
        groups=groups,
        half=half,
        pw=pw,
        pl=pl,
        W=W,
        pw_sym=pw_sym,
        pl_sym=pl_sym,
        var=var,
        q=q,
        two_sided=two_sided,
        WS=WS,
        pw_strict=pw_strict,
    )


def _identities(K: int, s: SimpleNamespace) -> list[Identity]:
    """The statements of the module docstring, one identity each (a flat list, in order)."""
    return [
        Identity(
            "Pr(y_w = y) = mu1 (P mu0) + mu0 (P mu1)",
            K,
            pair_distribution(s.P, s.mu0, s.mu1, True),
            sp.Matrix(s.pw),
            s.groups,
        ),
        Identity(
            "Pr(y_l = y) = mu1 (P^T mu0) + mu0 (P^T mu1)",
            K,
            pair_distribution(s.P, s.mu0, s.mu1, False),
            sp.Matrix(s.pl),
            s.groups,
        ),
        Identity(
            "p_w = 2 mu W_mu",
            K,
            s.pw_sym,
            sp.Matrix([2 * m * w for m, w in zip(s.mu0, s.W, strict=True)]),
            s.groups,
        ),
        Identity(
            "WR(p_w; mu) = 1/2 + 2 Var_mu(W_mu)",
            K,
            dot(s.pw_sym, s.W),
            s.half + 2 * s.var,
            s.groups,
        ),
        Identity(
            "WR(p_l; mu) = 1/2 - 2 Var_mu(W_mu)",
            K,
            dot(s.pl_sym, s.W),
            s.half - 2 * s.var,
            s.groups,
        ),
        Identity(
            "bound: WR(p_w; mu) = 1 - WR(p_l; mu) <= 1 (WR(p_l; mu) is a sum of products >= 0)",
            K,
            dot(s.pw_sym, s.W),
            1 - dot(s.pl_sym, s.W),
            s.groups,
        ),
        Identity(
            "WR(p_w; (mu0+mu1)/2) = E_mu1[W_0 W_q] + E_mu0[W_1 W_q]",
            K,
            dot(pair_distribution(s.P, s.mu0, s.mu1, True), matvec(s.P, s.q)),
            s.two_sided,
            s.groups,
        ),
        Identity(
            "strict order: WR(p_w; mu) = 2/3 - sum mu^3 / 6",
            K,
            dot(s.pw_strict, s.WS),
            sp.Rational(2, 3) - sum(m**3 for m in s.mu0) / 6,
            (s.g0,),
        ),
    ]


def _links(K: int, s: SimpleNamespace) -> list[Link]:
    """The library functions against the same expressions, at exact rational points.

    Over 60 lines because it is the claim's list of library links, one per library function.
    """

    def data(v: dict, two: bool) -> theory.PreferenceData:
        return theory.PreferenceData(
            P=at(s.P, v), mu0=at(s.mu0, v), mu1=at(s.mu1, v) if two else None
        )

    return [
        Link(
            "theory.methods.sft.winner_distribution(P, mu0, mu1) = p_w",
            K,
            lambda v: theory.methods.sft.winner_distribution(
                at(s.P, v), at(s.mu0, v), at(s.mu1, v)
            ),
            s.pw,
            s.groups,
        ),
        Link(
            "theory.methods.sft.loser_distribution(P, mu0, mu1) = p_l",
            K,
            lambda v: theory.methods.sft.loser_distribution(at(s.P, v), at(s.mu0, v), at(s.mu1, v)),
            s.pl,
            s.groups,
        ),
        Link(
            "theory.sft_win_rate(D[mu]) = 1/2 + 2 Var",
            K,
            lambda v: theory.sft_win_rate(data(v, False)),
            s.half + 2 * s.var,
            s.groups,
        ),
        Link(
            "theory.methods.sft.sft_win_rate_formula(D[mu]) = 1/2 + 2 Var",
            K,
            lambda v: theory.methods.sft.sft_win_rate_formula(data(v, False)),
            s.half + 2 * s.var,
            s.groups,
        ),
        Link(
            "theory.methods.sft.sft_win_rate_formula(D[mu], 'dispreferred') = 1/2 - 2 Var",
            K,
            lambda v: theory.methods.sft.sft_win_rate_formula(data(v, False), "dispreferred"),
            s.half - 2 * s.var,
            s.groups,
        ),
        Link(
            "theory.methods.sft.sft_win_rate_formula(D[mu0, mu1])"
            " = E_mu1[W_0 W_q] + E_mu0[W_1 W_q]",
            K,
            lambda v: theory.methods.sft.sft_win_rate_formula(data(v, True)),
            s.two_sided,
            s.groups,
        ),
        Link(
            "theory.methods.best_of_n.strict_order_ceiling(K) = 2/3 - 1/(6 K^2)",
            K,
            lambda v: theory.methods.best_of_n.strict_order_ceiling(K),
            sp.Rational(2, 3) - sp.Rational(1, 6 * K**2),
            (),
            points=1,
        ),
    ]
