"""Solutions to the exercises of lecture 3 (docs/lectures/03_wro.md).

Each function returns the answer computed with the library; tests/test_lectures.py compares it
with the value derived by hand. Library names come in one ``from theory... import name`` line
each.
"""

# ruff: noqa: I001
from fractions import Fraction as F

from theory import bradley_terry_from_strengths
from theory import h_win_rate
from theory import PreferenceData
from theory import rlhf_policy
from theory import total_order
from theory import uniform
from theory import wro_optimum
from theory.wro import wro_scores


def exercise_1():
    """g = P q = (5/6, 1/2, 1/6); the optimum at beta = 0 is delta_0, with value 5/6."""
    P, q = total_order(3), uniform(3)
    sol = wro_optimum(P, q)
    return list(wro_scores(P, q)), sol.argmax[0], sol.value


def exercise_2():
    """pi*(0)/pi*(1) = exp((g(0) - g(1)) / beta) = exp((5/6 - 1/2) * 3) = e."""
    sol = wro_optimum(total_order(3), uniform(3), F(1, 3), uniform(3))
    return sol.pi[0] / sol.pi[1]


def exercise_3():
    """J(pi*) = beta log Z = log((e^(5/6) + e^(1/2) + e^(1/6)) / 3) at beta = 1."""
    return wro_optimum(total_order(3), uniform(3), 1, uniform(3)).value


def exercise_4():
    """E_pi[r] - E_q[r] = log 4 - (log 1 + log 2 + log 4)/3 = 2 log 2 - log 2 = log 2."""
    return h_win_rate(bradley_terry_from_strengths([1, 2, 4]), [0, 0, 1], uniform(3), "logit")


def exercise_5():
    """pi ∝ pi_ref exp(r / beta) = s / sum(s) = (1/7, 2/7, 4/7)."""
    D = PreferenceData(P=bradley_terry_from_strengths([1, 2, 4]), mu0=uniform(3))
    return rlhf_policy(D, beta=1, pi_ref=uniform(3)).pi[0]
