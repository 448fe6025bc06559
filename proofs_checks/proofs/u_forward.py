"""Proof of U-forward for K = 2, 3, 4: every h-win rate satisfies the eight elementary
properties of the axioms (``docs/uniqueness.md``), for ``h`` an undefined strictly increasing
function (a sympy ``Function``; no property of ``h`` other than its increase is used).

The evaluation, from the sampling model (a model draw ``y ~ pi`` against a data response that
fills either slot of a pair, ``y0 ~ mu0`` or ``y1 ~ mu1``, each half the time):
``V(D, pi) = 1/2 sum pi(y) mu0(y') h(P[y, y']) + 1/2 sum pi(y) mu1(y') h(P[y, y'])``.
One prompt except ``prompt-weights`` (two prompts).  Identities:

1. model-mixture: ``V(t pi + (1-t) nu) = t V(pi) + (1-t) V(nu)``;
2. prompt-weights: ``V`` under ``rho = t rho1 + (1-t) rho2`` is the same mixture of the values;
3. data-mixture: mixing the data pairs mixes the values;
4. data-prevalence: ``V(D[mu0, mu1]) = V(D[a, a])`` with ``a = (mu0 + mu1)/2``;
5. pair-locality: changing ``P[y, y']`` from ``p`` to ``b`` changes ``V`` by exactly
   ``pi(y) a(y') (h(b) - h(p)) + pi(y') a(y) (h(1-b) - h(1-p))``, zero for an uncompared pair;
   relabelling the responses (every permutation) leaves ``V`` unchanged; a response of zero mass
   adds nothing;
6. pair-probability: ``V(delta_y; delta_y') = h(P[y, y'])``;
7. preference-monotonicity: raising ``P[0, 1]`` from ``p`` to ``p' = p + f (1 - p)``
   (``0 < f < 1``) while the reverse pair is not compared (``pi(1) = 0``, or ``a(0) = 0``)
   changes ``V`` by ``pi(0) a(1) (h(p') - h(p))``: a positive weight times ``h(a) - h(b)``
   with ``a > b`` (other pairs follow by relabelling, property 5);
8. dominance-monotonicity: moving mass ``eps = g pi(y)`` (``0 < g < 1``) from ``y`` to ``z``
   changes ``V`` by
   ``sum_v eps a(v) (h(P[z, v]) - h(P[y, v]))``: weights ``eps a(v) >= 0`` times differences
   that are ``>= 0`` under dominance and ``> 0`` for one ``v``.

Library link (floats): ``theory.h_win_rate(P, pi, a, h)`` and ``theory.data_win_rate`` with a
concrete increasing ``h(p) = p + p^3`` against the formula.
"""

from __future__ import annotations

import itertools

import sympy as sp

import theory

from .core import Group, Identity, Link, at, pref_matrix, simplex, undefined_h

CLAIM_ID = "U-forward"


def V(P: sp.Matrix, pi: list, mu0: list, mu1: list, h) -> sp.Expr:
    """The evaluation from the sampling model (module docstring)."""
    K = len(pi)
    half = sp.Rational(1, 2)
    return sum(pi[y] * half * (mu0[v] + mu1[v]) * h(P[y, v]) for y in range(K) for v in range(K))


def _mix(t, a: list, b: list) -> list:
    return [t * x + (1 - t) * y for x, y in zip(a, b, strict=True)]


def _prevalence(K, P, pi, nu, mu0, mu1, m2, m3, t, h, groups) -> list[Identity]:
    a = [(x + y) / 2 for x, y in zip(mu0, mu1, strict=True)]
    v = V(P, pi, mu0, mu1, h)
    P2, gP2 = pref_matrix(K, "o")  # the second prompt's matrix
    s, u = sp.Symbol("s", positive=True), sp.Symbol("u", positive=True)
    rho1, rho2 = [t, 1 - t], [u, 1 - u]
    two = [V(P, pi, mu0, mu1, h), V(P2, nu, m2, m3, h)]
    groups = (*groups, gP2, Group("unit", (s, u)))

    def Vrho(rho):
        return rho[0] * two[0] + rho[1] * two[1]

    return [
        Identity(
            "model-mixture",
            K,
            V(P, _mix(t, pi, nu), mu0, mu1, h),
            t * v + (1 - t) * V(P, nu, mu0, mu1, h),
            groups,
        ),
        Identity(
            "prompt-weights (2 prompts)",
            K,
            Vrho(_mix(s, rho1, rho2)),
            s * Vrho(rho1) + (1 - s) * Vrho(rho2),
            groups,
        ),
        Identity(
            "data-mixture",
            K,
            V(P, pi, _mix(t, mu0, m2), _mix(t, mu1, m3), h),
            t * v + (1 - t) * V(P, pi, m2, m3, h),
            groups,
        ),
        Identity("data-prevalence", K, v, V(P, pi, a, a, h), groups),
    ]


def _locality(K, P, pi, mu0, mu1, h, groups) -> list[Identity]:
    a = [(x + y) / 2 for x, y in zip(mu0, mu1, strict=True)]
    b = sp.Symbol("b", positive=True)  # the changed entry's new value, in (0, 1)
    v = V(P, pi, mu0, mu1, h)
    groups = (*groups, Group("unit", (b,)))
    ids = []
    for y, w in itertools.combinations(range(K), 2):
        p = P[y, w]
        Pb = P.subs(p, b)
        ids.append(
            Identity(
                f"pair-locality: change P[{y}, {w}]",
                K,
                V(Pb, pi, mu0, mu1, h) - v,
                pi[y] * a[w] * (h(b) - h(p)) + pi[w] * a[y] * (h(1 - b) - h(1 - p)),
                groups,
            )
        )
    for perm in itertools.permutations(range(K)):
        Q = sp.Matrix([[P[perm[i], perm[j]] for j in range(K)] for i in range(K)])
        ids.append(
            Identity(
                f"pair-locality: relabel {perm}",
                K,
                V(Q, [pi[i] for i in perm], [mu0[i] for i in perm], [mu1[i] for i in perm], h),
                v,
                groups,
            )
        )
    big, _ = pref_matrix(K + 1)
    big = big.subs(
        {sp.Symbol(f"p{i}{j}", positive=True): P[i, j] for i in range(K) for j in range(i + 1, K)}
    )
    ids.append(
        Identity(
            "pair-locality: add a zero-mass response",
            K,
            V(big, [*pi, 0], [*mu0, 0], [*mu1, 0], h),
            v,
            groups,
        )
    )
    return ids


def _monotone(K, P, pi, mu0, mu1, h, groups) -> list[Identity]:
    f, g = sp.Symbol("f", positive=True), sp.Symbol("g", positive=True)
    groups = (*groups, Group("unit", (f, g)))
    p = P[0, 1]
    up = p + f * (1 - p)  # the raised entry: p < up < 1 for 0 < f < 1
    ids = []
    short = simplex(K - 1, "pi")[0]  # symbols shared with pi's group (a subset of them)
    cases = (
        ("pi(1) = 0", [short[0], 0, *short[1:]], mu0, mu1),
        ("a(0) = 0", pi, [0, *simplex(K - 1, "mu")[0]], [0, *simplex(K - 1, "eta")[0]]),
    )
    for case, m, d0, d1 in cases:
        a = [(x + y) / 2 for x, y in zip(d0, d1, strict=True)]
        ids.append(
            Identity(
                f"preference-monotonicity ({case}): "
                "V(P[0,1] = p' > p) - V = pi(0) a(1) (h(p') - h(p))",
                K,
                V(P.subs(p, up), m, d0, d1, h) - V(P, m, d0, d1, h),
                m[0] * a[1] * (h(up) - h(p)),
                groups,
            )
        )
    a = [(x + y) / 2 for x, y in zip(mu0, mu1, strict=True)]
    for y, z in itertools.permutations(range(K), 2):
        eps = g * pi[y]  # 0 < eps < pi(y)
        moved = [x + eps * (int(i == z) - int(i == y)) for i, x in enumerate(pi)]
        ids.append(
            Identity(
                f"dominance-monotonicity: eps from {y} to {z}",
                K,
                V(P, moved, mu0, mu1, h) - V(P, pi, mu0, mu1, h),
                sum(eps * a[v] * (h(P[z, v]) - h(P[y, v])) for v in range(K)),
                groups,
            )
        )
    return ids


def build(K: int) -> tuple[list[Identity], list[Link]]:
    """The identities and library links for ``K`` responses."""
    P, gP = pref_matrix(K)
    pi, g1 = simplex(K, "pi")
    nu, g2 = simplex(K, "nu")
    mu0, g3 = simplex(K, "mu")
    mu1, g4 = simplex(K, "eta")
    m2, g5 = simplex(K, "kappa")
    m3, g6 = simplex(K, "lam")
    h, gh = undefined_h()
    t = sp.Symbol("t", positive=True)
    groups = (gP, g1, g2, g3, g4, g5, g6, gh, Group("unit", (t,)))
    ids = _prevalence(K, P, pi, nu, mu0, mu1, m2, m3, t, h, groups)
    ids += _locality(K, P, pi, mu0, mu1, h, groups)
    ids.append(
        Identity(
            "pair-probability: V(delta_y; delta_y') = h(P[y, y'])",
            K,
            sp.Matrix(K, K, lambda i, j: V(P, _delta(K, i), _delta(K, j), _delta(K, j), h)),
            P.applyfunc(h),
            groups,
        )
    )
    ids += _monotone(K, P, pi, mu0, mu1, h, groups)
    return ids, _links(K, P, pi, mu0, mu1, groups)


def _delta(K: int, y: int) -> list:
    return [int(i == y) for i in range(K)]


def _h(p):
    return p + p**3


def _links(K, P, pi, mu0, mu1, groups) -> list[Link]:
    a = [(x + y) / 2 for x, y in zip(mu0, mu1, strict=True)]
    formula = V(P, pi, mu0, mu1, _h)
    return [
        Link(
            "theory.h_win_rate(P, pi, a, h) = V (h(p) = p + p^3)",
            K,
            lambda v: theory.h_win_rate(at(P, v), at(pi, v), at(a, v), _h),
            formula,
            groups,
            exact=False,
        ),
        Link(
            "theory.data_win_rate(D, pi, h) = V (h(p) = p + p^3)",
            K,
            lambda v: theory.data_win_rate(
                theory.PreferenceData(P=at(P, v), mu0=at(mu0, v), mu1=at(mu1, v)), at(pi, v), _h
            ),
            formula,
            groups,
            exact=False,
        ),
    ]
