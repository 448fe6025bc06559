"""Solutions to the exercises of lecture 6 (docs/lectures/06_mitigations_opt_success.md).

Each function returns the answer computed with the library; tests/test_lectures.py compares it
with the value derived by hand. Library names come in one ``from theory... import name`` line
each.
"""

# ruff: noqa: I001
from fractions import Fraction as F

import numpy as np

from theory import best_of_n
from theory import total_order
from theory.checkpoints import Checkpoints
from theory.checkpoints import select_checkpoints
from theory.methods.best_of_n import best_of_n_win_rate
from theory.methods.best_of_n import strict_order_ceiling
from theory.statistics import oos_r_squared
from theory.training import optimization_success

HALF = [F(1, 2), F(1, 2)]


def exercise_1():
    """BoN_n = (1 - 2^-n, 2^-n); W_mu = (3/4, 1/4), so WR = 3/4 - 2^-(n+1): n = 4 gives
    (15/16, 1/16) and 23/32.  The limit is 3/4 = W_mu(0), the best achievable against mu (a
    finite K never reaches the continuous n/(n+1))."""
    return list(best_of_n(HALF, [1, 0], 4)), best_of_n_win_rate(total_order(2), HALF, [1, 0], 4)


def exercise_2():
    """Bottom, middle, top get (1/27, 7/27, 19/27) with mid-ranks (1/6, 1/2, 5/6):
    WR = (1 + 21 + 95)/162 = 13/18 < 3/4."""
    return strict_order_ceiling(3, n=3)


def exercise_3():
    """Lowest held-out loss at step 2 (win rate 0.55), highest win rate at step 1 (0.58):
    regret 0.03."""
    path = Checkpoints(
        models=np.zeros((4, 1, 2)),
        train_loss=np.zeros(4),
        heldout_loss=np.array([0.69, 0.62, 0.60, 0.61]),
        population_loss=np.zeros(4),
        win_rates=np.array([0.50, 0.58, 0.55, 0.53]),
    )
    c = select_checkpoints(path)
    return c.by_loss, c.by_win_rate, c.regret


def exercise_4():
    """s = 0.08/0.10 = 0.8 (s+ = 0.8) and s = -0.05/0.10 = -0.5 (s+ = 0)."""
    s = [optimization_success(JT, -0.70, -0.60) for JT in (-0.62, -0.75)]
    return s, [min(max(v, 0.0), 1.0) for v in s]


def exercise_5():
    """Fold 0 (runs 1, 3) is predicted by fold 1's means a = 2, b = 4, fold 1 by fold 0's a = 1,
    b = 3: predictions (2, 1, 4, 3), squared errors 4 in all, total sum of squares 5:
    R^2_oos = 1 - 4/5 = 1/5."""
    return oos_r_squared([1.0, 2.0, 3.0, 4.0], ["a", "a", "b", "b"], [0, 1, 0, 1])
