from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory import (
    bradley_terry_from_strengths,
    cyclic,
    random_family_matrix,
    rock_paper_scissors,
    total_order,
)
from theory.errors import (
    InvalidParameterError,
    NotAPreferenceMatrixError,
    NotBradleyTerryError,
    ShapeMismatchError,
)
from theory.preferences import (
    FAMILIES,
    bradley_terry_matrix,
    bradley_terry_rewards,
    bradley_terry_strengths,
    condorcet_winner,
    is_bradley_terry,
    is_transitive,
    validate_preference_matrix,
    validate_preference_stack,
)
from theory.strategies import preference_matrices

H = Fraction(1, 2)


@given(st.sampled_from(FAMILIES), st.integers(2, 7), st.booleans(), st.integers(0, 2**32 - 1))
def test_every_family_is_a_preference_matrix(family, K, exact, seed):
    P = random_family_matrix(np.random.default_rng(seed), K, family, exact=exact)
    validate_preference_matrix(P)
    total = P + P.T
    if exact:
        assert np.all(total == 1)
        assert all(P[i, i] == H for i in range(K))
    else:
        assert np.max(np.abs(total - 1)) <= 1e-15


@given(preference_matrices(5, exact=True))
def test_strategy_matrices_are_exact_preference_matrices(P):
    assert np.all(P + P.T == 1)


def test_rock_paper_scissors_golden():
    P = rock_paper_scissors()
    assert P.tolist() == [[H, 1, 0], [0, H, 1], [1, 0, H]]
    assert not is_transitive(P)
    assert condorcet_winner(P) is None
    assert not is_bradley_terry(P)


def test_condorcet_cycle_of_five():
    P = cyclic(5)
    for i in range(5):
        assert P[i, (i + 1) % 5] == 1 and P[i, (i + 2) % 5] == 1
        assert P[i, (i + 3) % 5] == 0 and P[i, (i + 4) % 5] == 0
        assert sum(P[i]) == Fraction(5, 2)  # every response wins exactly half its games
    assert condorcet_winner(P) is None and not is_transitive(P)


def test_even_cycle_has_ties_opposite():
    P = cyclic(4)
    assert P[0, 2] == H and P[0, 1] == 1 and P[0, 3] == 0


def test_bradley_terry_golden_and_recognised():
    P = bradley_terry_from_strengths([1, 2, 7])
    assert P[0, 1] == Fraction(1, 3) and P[2, 0] == Fraction(7, 8)
    assert is_bradley_terry(P)
    assert bradley_terry_strengths(P).tolist() == [
        Fraction(1, 10),
        Fraction(2, 10),
        Fraction(7, 10),
    ]
    assert is_transitive(P) and condorcet_winner(P) == 2
    r = np.array([0.3, -1.2, 2.0, 0.0])
    recovered = bradley_terry_rewards(bradley_terry_matrix(r))
    np.testing.assert_allclose(recovered, r - r.mean(), atol=1e-12)


def test_perturbed_bradley_terry_is_not_bradley_terry():
    P = bradley_terry_from_strengths([1, 2, 3])
    P[0, 1] += Fraction(1, 100)
    P[1, 0] -= Fraction(1, 100)
    assert not is_bradley_terry(P)
    with pytest.raises(NotBradleyTerryError):
        bradley_terry_rewards(P)


def test_total_order_is_transitive_with_winner():
    P = total_order(4, [2, 0, 3, 1])
    assert is_transitive(P) and condorcet_winner(P) == 2
    assert not is_bradley_terry(P)  # a limit of BT, not BT itself


def test_not_a_preference_matrix_names_pair_and_sum():
    P = [[H, Fraction(2, 3)], [Fraction(1, 2), H]]
    with pytest.raises(
        NotAPreferenceMatrixError, match=r"P\[0, 1\] \+ P\[1, 0\] = 7/6, expected 1"
    ):
        validate_preference_matrix(P)
    with pytest.raises(NotAPreferenceMatrixError, match=r"outside \[0, 1\]"):
        validate_preference_matrix([[0.5, 1.5], [-0.5, 0.5]])
    with pytest.raises(NotAPreferenceMatrixError, match=r"P\[0, 0\] \+ P\[0, 0\]"):
        validate_preference_matrix([[0.4, 0.5], [0.5, 0.5]])
    with pytest.raises(NotAPreferenceMatrixError, match=r"P\[1\]"):
        validate_preference_stack([np.eye(2) * 0 + 0.5, [[0.5, 0.9], [0.9, 0.5]]])


def test_shape_errors():
    with pytest.raises(ShapeMismatchError):
        validate_preference_matrix(np.full((2, 3), 0.5))
    with pytest.raises(ShapeMismatchError):
        validate_preference_stack(np.full((2, 2, 2, 2), 0.5))


def test_failed_validation_mutates_nothing():
    P = np.array([[0.5, 0.7], [0.2, 0.5]])
    before = P.copy()
    with pytest.raises(NotAPreferenceMatrixError):
        validate_preference_matrix(P)
    np.testing.assert_array_equal(P, before)


def test_family_parameter_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidParameterError):
        random_family_matrix(rng, 3, "nope")
    with pytest.raises(InvalidParameterError):
        total_order(3, [0, 0, 1])
    with pytest.raises(InvalidParameterError):
        cyclic(3, p=Fraction(1, 3))
    with pytest.raises(InvalidParameterError):
        bradley_terry_from_strengths([1, 0])


def test_an_empty_prompt_stack_is_a_named_error():
    from theory.errors import ShapeMismatchError
    from theory.preferences import validate_preference_stack
    from theory.winrate import response_win_rates, win_rate

    with pytest.raises(ShapeMismatchError, match="no prompts"):
        validate_preference_stack(np.zeros((0, 2, 2)))
    with pytest.raises(ShapeMismatchError, match="no prompts"):
        win_rate(np.zeros((0, 2, 2)), np.zeros((0, 2)), np.zeros((0, 2)))
    with pytest.raises(ShapeMismatchError, match="no prompts"):
        response_win_rates(np.zeros((0, 2, 2)), np.zeros((0, 2)))
