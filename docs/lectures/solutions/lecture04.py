"""Solutions to the exercises of lecture 4 (docs/lectures/04_lotteries_nlhf.md).

Each function returns the answer computed with the library; tests/test_lectures.py compares it
with the value derived by hand. Library names come in one ``from theory... import name`` line
each.
"""

# ruff: noqa: I001
from fractions import Fraction as F

import numpy as np

from theory import cyclic
from theory import maximal_lottery
from theory import regularized_nash
from theory import rock_paper_scissors
from theory import total_order
from theory import uniform
from theory import win_rate
from theory.preferences import condorcet_winner

CYCLE = [[F(1, 2), F(2, 3), F(1, 4)], [F(1, 3), F(1, 2), F(3, 5)], [F(3, 4), F(2, 5), F(1, 2)]]


def exercise_1():
    """Every response loses to two others: no Condorcet winner. The tournament is invariant
    under y -> y + 1 (mod 5) and its maximal lottery is unique, so it is uniform."""
    P = cyclic(5)
    return condorcet_winner(P), list(maximal_lottery(P).pi)


def exercise_2():
    """a = 1/6, b = 1/10, c = 1/4; pi ∝ (b, c, a) = (6, 15, 10) / 60, so (6/31, 15/31, 10/31)."""
    return list(maximal_lottery(CYCLE).pi)


def exercise_3():
    """With full support every response ties with the lottery: each win rate is 1/2."""
    ml = maximal_lottery(CYCLE).pi
    return min(win_rate(CYCLE, ml, e) for e in np.eye(3, dtype=int).tolist())


def exercise_4():
    """0 is a Condorcet winner, so the maximal lottery is delta_0."""
    return list(maximal_lottery(total_order(3)).pi)


def exercise_5():
    """P 1/3 = (1/2, 1/2, 1/2): the tilt exp(1/2 / beta) is the same for every y, so uniform
    is its own image; the solver's answer and its residual."""
    P = rock_paper_scissors()
    tilt = P.dot(uniform(3))
    eq = regularized_nash(np.asarray(P, dtype=float), 0.5, uniform(3, exact=False))
    return list(tilt), eq.pi, eq.residual
