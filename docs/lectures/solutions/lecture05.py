"""Solutions to the exercises of lecture 5 (docs/lectures/05_dpo_sft.md).

Each function returns the answer computed with the library; tests/test_lectures.py compares it
with the value derived by hand. Library names come in one ``from theory... import name`` line
each.
"""

# ruff: noqa: I001
from fractions import Fraction as F

from theory import bradley_terry_from_strengths
from theory import dpo_minimizers
from theory import iterated_sft
from theory import PreferenceData
from theory import response_win_rates
from theory import sft_target
from theory import total_order
from theory import uniform
from theory import win_rate
from theory.methods.dpo import dpo_win_rate_range
from theory.methods.sft import sft_win_rate_formula

MU = [F(1, 2), F(1, 4), F(1, 4)]


def exercise_1():
    """W_mu = (1/4 + 1/2, 1/8 + 1/4, 1/8) = (3/4, 3/8, 1/8); p_w = 2 mu W_mu = (3/4, 3/16, 1/16)."""
    D = PreferenceData(P=total_order(3), mu0=MU)
    return list(response_win_rates(total_order(3), MU)), list(sft_target(D)[0])


def exercise_2():
    """Var = (1/2 * 9/16 + 1/4 * 9/64 + 1/4 * 1/64) - 1/4 = 9/128; 1/2 + 9/64 = 41/64."""
    return sft_win_rate_formula(PreferenceData(P=total_order(3), mu0=MU))


def exercise_3():
    """W = (7/8, 5/8, 3/8, 1/8), Var = 84/256 - 1/4 = 5/64, WR = 1/2 + 5/32 = 21/32
    (= 2/3 - 1/(6 K^2)); the limit is 2/3."""
    return sft_win_rate_formula(PreferenceData(P=total_order(4), mu0=uniform(4)))


def exercise_4():
    """p_w = (5/9, 1/3, 1/9), W_{p_w} = (13/18, 5/18, 1/18), pi_2 = (65/81, 5/27, 1/81);
    WR(pi_2; mu) = (65 * 5/6 + 15 * 1/2 + 1/6) / 81 = 371/486."""
    run = iterated_sft(total_order(3), uniform(3), 2)
    pi2 = run.models[2]
    return list(pi2), win_rate(total_order(3), pi2, uniform(3))


def exercise_5():
    """pi(1) = 2 pi(0) again; W_mu = (5/12, 7/12, 11/15): the segment's win rates run from
    19/36 at (1/3, 2/3, 0) up to 11/15 at delta_2 (not attained)."""
    B = bradley_terry_from_strengths([1, 2, 4])
    half = [F(1, 2), F(1, 2), 0]
    rng = dpo_win_rate_range(dpo_minimizers(PreferenceData(P=B, mu0=half), uniform(3), 1), B, half)
    return rng.worst, rng.best
