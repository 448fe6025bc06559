"""Solutions to the exercises of lecture 7 (docs/lectures/07_method_zoo.md).

Each function returns the answer computed with the library; tests/test_lectures.py compares it
with the value derived by hand. Library names come in one ``from theory... import name`` line
each.
"""

# ruff: noqa: I001
from fractions import Fraction as F

import numpy as np

from theory import PreferenceData
from theory import response_win_rates
from theory import total_order
from theory import win_rate
from theory.zoo import ZOO
from theory.zoo import apo_zero_limit
from theory.zoo import ipo_rewards
from theory.zoo import k2_link
from theory.zoo import k2_link_profile
from theory.zoo import population_loss
from theory.zoo import smoothed_data

HALF = [F(1, 2), F(1, 2)]


def exercise_1():
    """Margins z_01 = 1 (term (1 - 1/2)^2 = 1/4), z_10 = -1 (term (-3/2)^2 = 9/4), 0 on
    self-pairs (1/4): L = 3/8 * 1/4 + 1/8 * 9/4 + 1/2 * 1/4 = 1/2."""
    D = PreferenceData(P=[[F(1, 2), F(3, 4)], [F(1, 4), F(1, 2)]], mu0=HALF)
    return population_loss(ZOO["ipo"], D, beta=1, d=[[F(1), F(0)]])


def exercise_2():
    """-p e^-z + (1 - p) e^z = 0 gives z* = log(p / (1 - p)) / 2; at p = 3/4, log(3)/2.
    Computed by the generic solver (not the closed form)."""
    return float(k2_link_profile(ZOO["gpo_exponential"], np.array([0.75]))[1][0])


def exercise_3():
    """P mu = (3/4, 3/8, 1/8), divided by beta = 1/2: (3/2, 3/4, 1/4); minus 3/2:
    d = (0, -3/4, -5/4)."""
    D = PreferenceData(P=total_order(3), mu0=[F(1, 2), F(1, 4), F(1, 4)])
    return list(ipo_rewards(D, F(1, 2))[0])


def exercise_4():
    """P_eps = 1/10 + 8/10 * 1 = 9/10; the margin is logit(9/10) = log 9."""
    D = PreferenceData(P=[[F(1, 2), 1], [0, F(1, 2)]], mu0=HALF)
    return smoothed_data(D, F(1, 10)).P[0][0, 1], float(k2_link("cdpo", [1.0])[0])


def exercise_5():
    """W_mu = (7/8, 5/8, 1/4); mu (2 W_mu - 1) = (3/16, 1/16, -1/4), so pi = (3/4, 1/4, 0) with
    WR = 21/32 + 5/32 = 13/16 < 7/8."""
    mu = [F(1, 4), F(1, 4), F(1, 2)]
    pi = apo_zero_limit(PreferenceData(P=total_order(3), mu0=mu))[0]
    return list(pi), win_rate(total_order(3), pi, mu), max(response_win_rates(total_order(3), mu))
