"""Solutions to the exercises of lecture 1 (docs/lectures/01_win_rate.md).

Each function returns the answer computed with the library; tests/test_lectures.py compares it
with the value derived by hand. Library names come in one ``from theory... import name`` line
each.
"""

# ruff: noqa: I001

from fractions import Fraction as F

from theory import PreferenceData
from theory import response_win_rates
from theory import rock_paper_scissors
from theory import total_order
from theory import uniform
from theory import win_rate
from theory.data import winner_loser_distribution

Q = [F(1, 2), F(1, 4), F(1, 4)]


def exercise_1():
    """W_q = P q: (1/2 * 1/2 + 1/4, 1/2 * 1/4 + 1/4, 1/2 + 1/2 * 1/4) = (1/2, 3/8, 5/8)."""
    return list(response_win_rates(rock_paper_scissors(), Q))


def exercise_2():
    """WR is linear in pi, so a point mass on argmax W_q is best: response 2, win rate 5/8."""
    W = response_win_rates(rock_paper_scissors(), Q)
    best = max(range(3), key=lambda y: W[y])
    pure = [1 if y == best else 0 for y in range(3)]
    return best, win_rate(rock_paper_scissors(), pure, Q)


def exercise_3():
    """WR(pi; pi) = 1/2 for every pi: pi^T P pi = pi^T P^T pi and P + P^T = 1 (all ones)."""
    P = [[F(1, 2), F(2, 3), F(1, 4)], [F(1, 3), F(1, 2), F(4, 5)], [F(3, 4), F(1, 5), F(1, 2)]]
    pi = [F(1, 2), F(1, 3), F(1, 6)]
    return win_rate(P, pi, pi)


def exercise_4():
    """Prompt 0: W(0) = 5/6; prompt 1: W(1) = 1/2; weighted: 1/3 * 5/6 + 2/3 * 1/2 = 11/18."""
    P = [total_order(3), total_order(3)]
    pi = [[1, 0, 0], [0, 1, 0]]
    q = [uniform(3), uniform(3)]
    return win_rate(P, pi, q, [F(1, 3), F(2, 3)])


def exercise_5():
    """Pr(y_w = 0) = sum_j w[0, j] = 2 q(0) W_q(0) = 2 * 1/2 * 1/2 = 1/2."""
    D = PreferenceData(P=rock_paper_scissors(), mu0=Q)
    return winner_loser_distribution(D)[0][0].sum()
