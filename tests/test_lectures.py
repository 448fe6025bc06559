"""The lectures' exercise solutions (docs/lectures/solutions/), each checked against a value
derived by hand and written here (or computed a second, independent way), never against the
call that produced it; and the shape every lecture keeps (goals, worked code, a picture, 3-5
exercises, a solution for each). The notebooks themselves execute in the docs build."""

import importlib.util
import math
import re
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

LECTURES = Path(__file__).resolve().parents[1] / "docs" / "lectures"
SOLUTIONS = LECTURES / "solutions"
NOTEBOOKS = sorted(LECTURES.glob("0*.md"))


def solutions(n: int):
    path = SOLUTIONS / f"lecture{n:02d}.py"
    spec = importlib.util.spec_from_file_location(f"lecture{n:02d}_solutions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def exercise_count(text: str) -> int:
    section = text.split("## Exercises", 1)[1]
    return len(re.findall(r"^\d+\. ", section, flags=re.MULTILINE))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lecture_shape(path):
    text = path.read_text()
    assert text.startswith("---\nfile_format: mystnb"), "a MyST Markdown notebook"
    assert "**Learning goals.**" in text
    assert "{code-cell} python3" in text
    assert "$$" in text, "displayed math"
    assert "from theory.plot import" in text, "a picture drawn with theory.plot"
    n = exercise_count(text)
    assert 3 <= n <= 5
    module = solutions(int(path.stem[:2]))
    assert all(hasattr(module, f"exercise_{i}") for i in range(1, n + 1))
    # library names come one per line, so the import lines can be rewritten by a script
    assert not re.search(r"from theory import \(", text)


def test_lectures_are_in_the_site_index():
    index = (LECTURES.parent / "index.md").read_text()
    for path in [*NOTEBOOKS, LECTURES / "interactive_simplex.md"]:
        assert f"lectures/{path.stem}" in index


# Lecture 1 ---------------------------------------------------------------------------------


def test_lecture01():
    s = solutions(1)
    assert s.exercise_1() == [F(1, 2), F(3, 8), F(5, 8)]
    assert s.exercise_2() == (2, F(5, 8))
    assert s.exercise_3() == F(1, 2)
    assert s.exercise_4() == F(11, 18)
    assert s.exercise_5() == F(1, 2)


# Lecture 2 ---------------------------------------------------------------------------------


def test_lecture02():
    s = solutions(2)
    assert s.exercise_1() == F(4, 9)
    assert s.exercise_2() == ([F(1, 2), 0, F(1, 2)], F(1, 2))
    values, broken = s.exercise_3()
    assert values == [(F(1, 2), F(3, 4)), (F(1), F(3, 4))]
    assert "pair-locality" in broken
    assert s.exercise_4() == pytest.approx(-0.5)
    assert s.exercise_5() == (1, 0)


# Lecture 3 ---------------------------------------------------------------------------------


def test_lecture03():
    s = solutions(3)
    g, argmax, value = s.exercise_1()
    assert g == [F(5, 6), F(1, 2), F(1, 6)]
    assert tuple(argmax) == (0,)
    assert value == F(5, 6)
    assert s.exercise_2() == pytest.approx(math.e)
    by_hand = math.log((math.exp(5 / 6) + math.exp(1 / 2) + math.exp(1 / 6)) / 3)
    assert s.exercise_3() == pytest.approx(by_hand)
    assert s.exercise_4() == pytest.approx(math.log(2))
    assert np.allclose(s.exercise_5(), [1 / 7, 2 / 7, 4 / 7])


# Lecture 4 ---------------------------------------------------------------------------------


def test_lecture04():
    s = solutions(4)
    assert s.exercise_1() == (None, [F(1, 5)] * 5)
    assert s.exercise_2() == [F(6, 31), F(15, 31), F(10, 31)]
    assert s.exercise_3() == F(1, 2)
    assert s.exercise_4() == [1, 0, 0]
    tilt, pi, residual = s.exercise_5()
    assert tilt == [F(1, 2)] * 3
    assert np.allclose(pi, 1 / 3) and residual < 1e-12


def test_lecture04_cycle_formula_by_a_second_way():
    """pi ∝ (b, c, a) for a 3-cycle: check the lecture's formula solves (P - 1/2)^T pi = 0."""
    a, b, c = F(1, 6), F(1, 10), F(1, 4)
    pi = [b / (a + b + c), c / (a + b + c), a / (a + b + c)]
    M = [[0, a, -c], [-a, 0, b], [c, -b, 0]]
    assert all(sum(pi[i] * M[i][j] for i in range(3)) == 0 for j in range(3))
    assert pi == solutions(4).exercise_2()


# Lecture 5 ---------------------------------------------------------------------------------


def test_lecture05():
    s = solutions(5)
    assert s.exercise_1() == ([F(3, 4), F(3, 8), F(1, 8)], [F(3, 4), F(3, 16), F(1, 16)])
    assert s.exercise_2() == F(41, 64)
    K = 4
    assert s.exercise_3() == F(21, 32) == F(2, 3) - F(1, 6 * K * K)
    assert s.exercise_4() == ([F(65, 81), F(5, 27), F(1, 81)], F(371, 486))
    assert s.exercise_5() == (F(19, 36), F(11, 15))


# Lecture 6 ---------------------------------------------------------------------------------


def test_lecture06():
    s = solutions(6)
    model, wr = s.exercise_1()
    n = 4
    assert model == [1 - F(1, 2**n), F(1, 2**n)]
    assert wr == F(23, 32) == F(3, 4) - F(1, 2 ** (n + 1))
    assert s.exercise_2() == F(13, 18) < F(3, 4)
    by_loss, by_win_rate, regret = s.exercise_3()
    assert (by_loss, by_win_rate) == (2, 1)
    assert regret == pytest.approx(0.03)
    raw, bounded = s.exercise_4()
    assert raw == pytest.approx([0.8, -0.5])
    assert bounded == pytest.approx([0.8, 0.0])
    assert s.exercise_5() == pytest.approx(0.2)


def test_lecture06_best_of_n_by_a_second_way():
    """BoN_3 on the uniform strict order by enumerating all 27 triples of draws: the best draw's
    win rate against a fresh uniform draw (ties count one half), summed by hand here."""
    import itertools

    total = F(0)
    for draws in itertools.product(range(3), repeat=3):
        best = min(draws)  # response 0 is the best
        total += sum(F(1) if best < y else F(1, 2) if best == y else F(0) for y in range(3)) / 3
    assert total / 27 == solutions(6).exercise_2()


# Lecture 7 ---------------------------------------------------------------------------------


def test_lecture07():
    s = solutions(7)
    assert s.exercise_1() == F(1, 2)
    assert s.exercise_2() == pytest.approx(math.log(3) / 2, abs=1e-6)
    assert s.exercise_3() == [0, F(-3, 4), F(-5, 4)]
    smoothed, margin = s.exercise_4()
    assert smoothed == F(9, 10)
    assert margin == pytest.approx(math.log(9))
    assert s.exercise_5() == ([F(3, 4), F(1, 4), 0], F(13, 16), F(7, 8))


def test_lecture07_ipo_rewards_solve_the_laplacian_system():
    """A second way for exercise 3: the rewards satisfy IPO's stationarity conditions
    sum_j n_kj (d_k - d_j) = sum_j n_kj (2 P_kj - 1) / (2 beta), n_kj = 2 mu_k mu_j, written out."""
    mu, beta = [F(1, 2), F(1, 4), F(1, 4)], F(1, 2)
    P = [[F(1, 2), 1, 1], [0, F(1, 2), 1], [0, 0, F(1, 2)]]
    d = solutions(7).exercise_3()
    for k in range(3):
        n = [2 * mu[k] * mu[j] for j in range(3)]
        lhs = sum(n[j] * (d[k] - d[j]) for j in range(3))
        rhs = sum(n[j] * (2 * P[k][j] - 1) for j in range(3)) / (2 * beta)
        assert lhs == rhs
