"""Solutions to the exercises of lecture 2 (docs/lectures/02_uniqueness.md).

Each function returns the answer computed with the library; tests/test_lectures.py compares it
with the value derived by hand. Library names come in one ``from theory... import name`` line
each.
"""

# ruff: noqa: I001
from fractions import Fraction as F

import numpy as np

from theory import check_axioms
from theory import PreferenceData
from theory import recover_h
from theory import total_order
from theory import win_rate
from theory.axioms import probe_pair
from theory.catalog import CATALOG
from theory.data import data_anchor
from theory.evaluations import evaluate
from theory.evaluations import Evaluation


def squared_win_rate(D, pi):
    """The lecture's evaluation: sum_x rho_x pi_x^T (P_x * P_x) a_x (h(p) = p^2)."""
    a = data_anchor(D)
    return sum(D.rho[x] * (pi[x] @ (D.P[x] * D.P[x]) @ a[x]) for x in range(len(D.rho)))


def uniform_opponent(D, pi):
    """The lecture's uniform-opponent win rate sum_x rho_x pi_x^T P_x 1 / K."""
    K = D.P.shape[-1]
    return sum(D.rho[x] * (pi[x] @ D.P[x]).sum() / K for x in range(len(D.rho)))


def exercise_1():
    """V(probe(p)) = h(p) = p^2: (2/3)^2 = 4/9."""
    return probe_pair(Evaluation("squared", "h(p) = p^2", squared_win_rate), F(2, 3))


def exercise_2():
    """a = (mu0 + mu1)/2 = (1/2, 0, 1/2); W_a(1) = P[1, 0]/2 + P[1, 2]/2 = 0 + 1/2 = 1/2."""
    D = PreferenceData(P=total_order(3), mu0=[1, 0, 0], mu1=[0, 0, 1])
    a = data_anchor(D)[0]
    return list(a), win_rate(total_order(3), [0, 1, 0], a)


def exercise_3():
    """WR against delta_0 is 1/2, against delta_1 it is 1; V_u is 3/4 in both cases. V_u
    depends on P at pairs the data never compares: it breaks pair-locality."""
    P = total_order(2)
    V = Evaluation("uniform opponent", "win rate against a uniform opponent", uniform_opponent)
    values = []
    for data in ([1, 0], [0, 1]):
        D = PreferenceData(P=P, mu0=data)
        values.append((win_rate(P, [1, 0], data), evaluate(V, D, [1, 0])))
    found = check_axioms(V, np.random.default_rng(0), trials=24)
    return values, [name for name, w in found.items() if w is not None]


def exercise_4():
    """V = 2 WR - 1 = WR_h with h(p) = 2 p - 1, so h(1/4) = -1/2 (read off the probe)."""
    V = Evaluation("2 WR - 1", "an affine image of the win rate", _two_wr_minus_one)
    return recover_h(V, grid=[0.25]).values[0]


def _two_wr_minus_one(D, pi):
    a = data_anchor(D)
    return sum(D.rho[x] * (2 * (pi[x] @ D.P[x] @ a[x]) - 1) for x in range(len(D.rho)))


def exercise_5():
    """One response (K = 1, P = [[1/2]]): the chosen response is always 0, pi(y_w) = 1. Two
    responses, P[0, 1] = 1/2, model delta_0, data delta_1: y_w = 1 always, pi(y_w) = 0. The same
    pair probability 1/2 gives 1 and 0: pair-probability is broken."""
    V = CATALOG["preferred-sample likelihood"]
    one = evaluate(V, PreferenceData(P=[[F(1, 2)]], mu0=[1]), [1])
    half = [[F(1, 2), F(1, 2)], [F(1, 2), F(1, 2)]]
    two = evaluate(V, PreferenceData(P=half, mu0=[0, 1]), [1, 0])
    return one, two
