"""Tests of theory.online.reinforce: pairwise-judge REINFORCE, its update and its fixed points."""

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.errors import InvalidParameterError, ShapeMismatchError, SupportMismatchError
from theory.methods.nlhf import regularized_nash
from theory.numbers import to_float
from theory.online.reinforce import (
    effective_beta,
    judge_advantage,
    reinforce_advantage,
    reinforce_fixed_point,
    reinforce_step,
    reinforce_trajectory,
    reinforce_update,
)
from theory.preferences import bradley_terry_matrix, cyclic, rock_paper_scissors
from theory.strategies import preference_matrices, simplex_vectors
from theory.wro import wro_optimum

BETAS = st.sampled_from([0.2, 0.5, 1.0, 3.0])


def _enumerated_advantage(P, pi, beta, ref, G):
    """``E[A_1 | y_1 = y]`` by summing over the other G - 1 samples (the definition)."""
    K = len(pi)
    d = np.log(pi) - np.log(ref)
    out = np.zeros(K)
    for y in range(K):
        for rest in itertools.product(range(K), repeat=G - 1):
            Y = (y, *rest)
            w = np.prod([pi[j] for j in rest])
            r = [
                sum(P[Y[i], Y[j]] for j in range(G) if j != i) / (G - 1) - beta * d[Y[i]]
                for i in range(G)
            ]
            out[y] += w * (r[0] - sum(r[1:]) / (G - 1))
    return out


@given(
    st.integers(2, 4).flatmap(
        lambda K: st.tuples(preference_matrices(K), simplex_vectors(K), simplex_vectors(K))
    ),
    st.integers(2, 4),
    BETAS,
)
def test_in_group_advantage_is_the_enumerated_expectation(case, G, beta):
    P, pi, ref = (to_float(a) for a in case)
    np.testing.assert_allclose(
        reinforce_advantage(P, pi, beta, ref, G=G),
        _enumerated_advantage(P, pi, beta, ref, G),
        atol=1e-12,
    )


@given(
    st.integers(2, 4).flatmap(
        lambda K: st.tuples(
            preference_matrices(K, exact=True), simplex_vectors(K, zeros=True, exact=True)
        )
    ),
    st.integers(2, 4),
)
def test_judge_advantage_exact_and_centred(case, G):
    P, pi = case
    a = judge_advantage(P, pi, G=G)
    assert all(isinstance(v, Fraction) for v in a)
    assert sum(pi * a) == 0
    assert list(a) == [Fraction(G, G - 1) * (w - Fraction(1, 2)) for w in P @ pi]


@given(
    st.integers(2, 5).flatmap(
        lambda K: st.tuples(
            preference_matrices(K), simplex_vectors(K, zeros=True), simplex_vectors(K)
        )
    ),
    st.integers(2, 6),
    BETAS,
)
def test_in_group_fixed_point_is_regularized_nash_at_discounted_beta(case, G, beta):
    P, ref, _ = (to_float(a) for a in case)
    fp = reinforce_fixed_point(P, beta, ref, G=G)
    assert fp.converged and fp.residual <= 1e-12
    nash = regularized_nash(P, beta * (G - 1) / G, ref).pi
    np.testing.assert_allclose(fp.pi, nash, atol=1e-12)
    # the defining property: the expected update vanishes there
    assert np.max(np.abs(reinforce_update(P, fp.pi, beta, ref, G=G))) < 1e-10


@given(
    st.integers(2, 5).flatmap(
        lambda K: st.tuples(preference_matrices(K), simplex_vectors(K), simplex_vectors(K))
    ),
    BETAS,
)
def test_fixed_opponent_is_identity_wro_with_anchor_q(case, beta):
    P, ref, q = (to_float(a) for a in case)
    fp = reinforce_fixed_point(P, beta, ref, q=q)
    np.testing.assert_allclose(fp.pi, wro_optimum(P, q, beta, ref).pi, atol=1e-14)
    w = ref * np.exp(P @ q / beta)
    np.testing.assert_allclose(fp.pi, w / w.sum(), atol=1e-12)
    assert np.max(np.abs(reinforce_update(P, fp.pi, beta, ref, q=q))) < 1e-10


def test_trajectories_converge_to_the_fixed_points():
    P = to_float(cyclic(3, Fraction(4, 5)))
    ref = np.array([0.6, 0.3, 0.1])
    for kw in ({"G": 2}, {"G": 5}, {"q": ref}):
        tr = reinforce_trajectory(P, ref, 0.5, ref, lr=4.0, steps=1500, **kw)
        fp = reinforce_fixed_point(P, 0.5, ref, **kw)
        assert np.max(np.abs(tr.final - fp.pi)) < 1e-8
        assert tr.points.shape == (1501, 3)


def test_group_of_two_halves_the_regularization():
    assert effective_beta(Fraction(1, 2), 2) == Fraction(1, 4)
    P = bradley_terry_matrix([0.0, 1.0, 2.0])
    ref = [1 / 3] * 3
    a = reinforce_fixed_point(P, 1.0, ref, G=2).pi
    b = regularized_nash(P, 0.5, ref).pi
    np.testing.assert_allclose(a, b, atol=1e-12)
    # as G grows the fixed point tends to NLHF at beta itself
    far = reinforce_fixed_point(P, 1.0, ref, G=10_000).pi
    np.testing.assert_allclose(far, regularized_nash(P, 1.0, ref).pi, atol=1e-4)


def test_mass_off_the_reference_support_stays_zero():
    ref = [0.5, 0.5, 0.0]
    out = reinforce_step(rock_paper_scissors(), ref, 1.0, ref, lr=1.0, G=3)
    assert out[2] == 0 and abs(out.sum() - 1) < 1e-15


def test_bad_input():
    P, ref = rock_paper_scissors(), [1 / 3] * 3
    with pytest.raises(InvalidParameterError):
        reinforce_update(P, ref, 1.0, ref)  # neither q nor G
    with pytest.raises(InvalidParameterError):
        reinforce_update(P, ref, 1.0, ref, q=ref, G=2)  # both
    with pytest.raises(InvalidParameterError):
        reinforce_update(P, ref, 1.0, ref, G=1)
    with pytest.raises(InvalidParameterError):
        reinforce_update(P, ref, 0.0, ref, G=2)
    with pytest.raises(InvalidParameterError):
        reinforce_step(P, ref, 1.0, ref, lr=0.0, G=2)
    with pytest.raises(ShapeMismatchError):
        reinforce_update(P, ref, 1.0, [0.5, 0.5], G=2)
    with pytest.raises(ShapeMismatchError):
        judge_advantage(P, ref, q=[0.5, 0.5])
    with pytest.raises(SupportMismatchError):
        reinforce_update(P, ref, 1.0, [0.5, 0.5, 0.0], G=2)
