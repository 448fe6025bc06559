"""theory.lottery (maximal lotteries, exact and float) and theory.methods.nlhf (NLHF's regularized
Nash equilibrium).

Golden cases with hand-derived answers, the defining properties (no response beats the lottery;
the fixed-point equation), exact versus float, differential tests against nashpy, named errors.
"""

import dataclasses
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory import (
    bradley_terry_from_strengths,
    cyclic,
    random_distribution,
    random_family_matrix,
    random_preference_matrix,
    rock_paper_scissors,
    to_float,
    total_order,
)
from theory._lottery_exact import (
    certificate,
    exact_lottery,
    exact_simplex,
    support,
    verified_certificate,
)
from theory.errors import (
    InvalidParameterError,
    NonFiniteInputError,
    NotAPreferenceMatrixError,
    NotAProbabilityVectorError,
    ShapeMismatchError,
)
from theory.lottery import MaximalLottery, maximal_lottery, maximal_lottery_batch
from theory.methods.nlhf import (
    RegularizedNash,
    regularized_exploitability,
    regularized_nash,
    regularized_nash_batch,
)
from theory.strategies import preference_matrices, simplex_vectors

F = Fraction
HALF = F(1, 2)
#: Float tolerance for equilibrium properties (the solver certifies gaps near 1e-12).
TOL = 1e-9


def assert_exact_maximal_lottery(P, ml):
    """The defining property, checked here with Fractions (independent of ml's certificate)."""
    assert ml.exact
    assert all(isinstance(v, Fraction) for v in ml.pi)
    assert min(ml.pi) >= 0 and sum(ml.pi) == 1
    K = len(ml.pi)
    wr = [sum(ml.pi[i] * P[i, j] for i in range(K)) for j in range(K)]  # WR(pi; e_j)
    assert min(wr) >= HALF
    assert ml.value == min(wr) == HALF
    assert ml.gap == 0 and ml.duality_gap == 0
    assert ml.support == tuple(i for i in range(K) if ml.pi[i] > 0)


def float_gap(P, pi):
    P = to_float(P)
    return 0.5 - float(np.min(P.T @ pi))


# ------------------------------------------------------------------------------------------
# golden cases


def test_rock_paper_scissors_is_uniform_exactly():
    ml = maximal_lottery(rock_paper_scissors())
    assert ml.pi.tolist() == [F(1, 3)] * 3
    assert_exact_maximal_lottery(rock_paper_scissors(), ml)


def test_rock_paper_scissors_float():
    ml = maximal_lottery(rock_paper_scissors(exact=False))
    assert not ml.exact
    np.testing.assert_allclose(ml.pi, [1 / 3] * 3, atol=1e-12)
    assert ml.gap <= 1e-12


def test_weighted_three_cycle_is_hand_derived():
    # 0 beats 1 by x = 1/2, 1 beats 2 by y = 1/4, 2 beats 0 by z = 1/6 (margins over 1/2):
    # A = [[0, x, -z], [-x, 0, y], [z, -y, 0]] has A pi = 0 for pi proportional to (y, z, x).
    P = np.array(
        [[HALF, F(1), F(1, 3)], [F(0), HALF, F(3, 4)], [F(2, 3), F(1, 4), HALF]], dtype=object
    )
    ml = maximal_lottery(P)
    assert ml.pi.tolist() == [F(3, 11), F(2, 11), F(6, 11)]
    assert_exact_maximal_lottery(P, ml)


@pytest.mark.parametrize("K", [3, 5, 7])
def test_odd_cyclic_tournament_is_uniform(K):
    ml = maximal_lottery(cyclic(K))
    assert ml.pi.tolist() == [F(1, K)] * K
    assert_exact_maximal_lottery(cyclic(K), ml)


@pytest.mark.parametrize("ranking", [[0, 1, 2], [2, 0, 1], [3, 1, 0, 2]])
def test_condorcet_winner_gets_all_the_mass(ranking):
    P = total_order(len(ranking), ranking)
    ml = maximal_lottery(P)
    assert ml.support == (ranking[0],)
    assert ml.pi[ranking[0]] == 1
    assert_exact_maximal_lottery(P, ml)


def test_bradley_terry_strongest_response_wins():
    P = bradley_terry_from_strengths([1, 5, 2, 3])
    ml = maximal_lottery(P)
    assert ml.support == (1,)
    assert_exact_maximal_lottery(P, ml)


def test_bradley_terry_tied_top_gives_a_verified_lottery_on_the_tie():
    P = bradley_terry_from_strengths([3, 1, 3, 2])  # 0 and 2 tie at the top
    ml = maximal_lottery(P)
    assert set(ml.support) <= {0, 2}
    assert_exact_maximal_lottery(P, ml)


@pytest.mark.parametrize("K", [4, 6])
def test_even_cyclic_with_ties_is_verified(K):
    # i + K/2 ties with i: the maximal lottery is not unique; any answer must be verified.
    ml = maximal_lottery(cyclic(K))
    assert_exact_maximal_lottery(cyclic(K), ml)


def test_all_ties_and_single_response():
    P = np.full((4, 4), HALF, dtype=object)
    assert_exact_maximal_lottery(P, maximal_lottery(P))
    ml = maximal_lottery([[HALF]])
    assert ml.pi.tolist() == [F(1)]
    assert maximal_lottery([[0.5]]).pi.tolist() == [1.0]


def test_clones_of_a_cycle():
    # response 3 is a clone of response 0 (ties with it, same record against the others)
    P = np.full((4, 4), HALF, dtype=object)
    R = rock_paper_scissors()
    for i in range(4):
        for j in range(4):
            P[i, j] = R[i % 3, j % 3] if (i % 3) != (j % 3) else HALF
    ml = maximal_lottery(P)
    assert_exact_maximal_lottery(P, ml)
    assert ml.pi[0] + ml.pi[3] == F(1, 3)


# ------------------------------------------------------------------------------------------
# exact path: random instances, the fallback, exact vs float


@pytest.mark.parametrize("family", ["bradley_terry", "total_order", "cyclic", "general"])
def test_exact_lotteries_are_verified_on_random_families(family):
    rng = np.random.default_rng(7)
    Ps = [random_family_matrix(rng, 6, family, exact=True) for _ in range(40)]
    for P, ml in zip(Ps, maximal_lottery_batch(np.stack(Ps)), strict=True):
        assert_exact_maximal_lottery(P, ml)


def test_exact_simplex_fallback_is_used_when_the_float_guess_is_wrong():
    # a deliberately wrong float guess (a point mass on the loser) must not leak through
    bad_guess = np.zeros(5)
    bad_guess[-1] = 1.0
    rng = np.random.default_rng(3)
    for _ in range(10):
        P = random_preference_matrix(rng, 5, exact=True)
        pi, cert = exact_lottery(P, to_float(P), bad_guess)
        assert cert == certificate(P, pi)
        assert_exact_maximal_lottery(P, MaximalLottery(pi, *cert, True, support(pi)))


def test_exact_simplex_alone_finds_maximal_lotteries():
    rng = np.random.default_rng(4)
    for n in range(20):
        P = random_family_matrix(
            rng, 2 + n % 6, ("general", "cyclic", "bradley_terry")[n % 3], exact=True
        )
        pi = exact_simplex(P)
        assert verified_certificate(P, pi) is not None


def test_exact_float_input_and_float_exact_input():
    P = random_preference_matrix(np.random.default_rng(5), 6)
    ml = maximal_lottery(P, exact=True)  # floats converted exactly to their binary value
    assert ml.exact and ml.gap == 0 and ml.value == HALF
    Pq = random_preference_matrix(np.random.default_rng(5), 6, exact=True)
    mf = maximal_lottery(Pq, exact=False)
    assert not mf.exact and mf.pi.dtype == np.float64 and mf.gap <= TOL


def test_exact_conversion_repairs_float_rounding_of_the_lower_triangle():
    P = np.array([[0.5, 0.1, 0.7], [0.9, 0.5, 0.2], [0.3, 0.8, 0.5]])
    assert Fraction(0.1) + Fraction(0.9) != 1  # the binary values do not sum to 1 exactly
    ml = maximal_lottery(P, exact=True)
    assert ml.exact and ml.gap == 0 and ml.value == HALF
    assert abs(float_gap(P, to_float(ml.pi))) <= 1e-12


def test_exact_and_float_agree_when_the_lottery_is_unique():
    rng = np.random.default_rng(11)
    for _ in range(30):
        K = int(rng.integers(2, 10))
        # denominators 997: ties and degenerate supports are unlikely, the lottery is unique
        P = random_preference_matrix(rng, K, exact=True, denominator=997)
        ex = maximal_lottery(P)
        fl = maximal_lottery(to_float(P), exact=False)
        assert_exact_maximal_lottery(P, ex)
        assert fl.gap <= TOL
        np.testing.assert_allclose(fl.pi, to_float(ex.pi), atol=1e-8)


def test_exact_lottery_at_K_40_is_fast_and_verified():
    import time

    P = random_preference_matrix(np.random.default_rng(40), 40, exact=True)
    t0 = time.perf_counter()
    ml = maximal_lottery(P)
    assert time.perf_counter() - t0 < 5.0  # target < 1 s (benchmarks/); loose on shared CI
    assert_exact_maximal_lottery(P, ml)


# ------------------------------------------------------------------------------------------
# float path: properties and differential tests against nashpy


@given(st.integers(2, 7).flatmap(lambda K: preference_matrices(K)))
def test_float_lottery_is_an_equilibrium(P):
    ml = maximal_lottery(P)
    assert ml.pi.min() >= 0 and abs(ml.pi.sum() - 1) <= 1e-12
    assert ml.gap <= TOL and float_gap(P, ml.pi) <= TOL
    assert 0 <= ml.duality_gap <= 2 * TOL


@given(st.integers(2, 6).flatmap(lambda K: preference_matrices(K, exact=True)))
def test_exact_lottery_property(P):
    assert_exact_maximal_lottery(P, maximal_lottery(P))


def test_stack_equals_singles():
    rng = np.random.default_rng(2)
    Ps = np.stack([random_preference_matrix(rng, 5) for _ in range(12)])
    stack = maximal_lottery_batch(Ps)
    for P, ml in zip(Ps, stack, strict=True):
        assert ml.gap <= TOL
        np.testing.assert_allclose(ml.pi, maximal_lottery(P).pi, atol=1e-9)


@pytest.mark.parametrize("K", [3, 8, 20, 80])
def test_against_nashpy(K):
    nashpy = pytest.importorskip("nashpy")
    rng = np.random.default_rng(K)
    for _ in range(5 if K < 80 else 2):
        P = random_preference_matrix(rng, K)
        A = P - 0.5
        row, col = nashpy.Game(A).linear_program()
        ours = maximal_lottery(P)
        # both are equilibria of the same game: value 0, nobody gains by deviating
        assert float(row @ A @ col) == pytest.approx(0.0, abs=1e-7)
        assert ours.gap <= TOL
        assert float(np.max(A @ ours.pi)) <= TOL
        assert float(np.min(A.T @ row)) >= -1e-7  # nashpy's row strategy guarantees 0 too
        # a random general P has a unique maximal lottery: the two answers coincide
        np.testing.assert_allclose(ours.pi, row, atol=1e-6)


def test_against_nashpy_on_families_with_non_unique_equilibria():
    nashpy = pytest.importorskip("nashpy")
    rng = np.random.default_rng(9)
    for n in range(12):
        P = to_float(random_family_matrix(rng, 6, ("cyclic", "bradley_terry")[n % 2], exact=True))
        row, _ = nashpy.Game(P - 0.5).linear_program()
        ours = maximal_lottery(P)
        # equilibria may differ; both must guarantee the game value 1/2
        assert ours.value >= 0.5 - TOL
        assert float(np.min(P.T @ row)) >= 0.5 - 1e-7


def test_larger_float_instance_is_certified():
    P = random_preference_matrix(np.random.default_rng(0), 150)
    ml = maximal_lottery(P)
    assert ml.gap <= TOL and float_gap(P, ml.pi) <= TOL
    assert len(ml.support) % 2 == 1  # generic skew-symmetric games: odd support


# ------------------------------------------------------------------------------------------
# regularized Nash equilibrium


def fixed_point_residual(P, pi, beta, ref):
    P, ref = to_float(P), np.asarray(ref, dtype=float)
    with np.errstate(divide="ignore"):
        z = np.log(ref) + P @ pi / beta
    s = np.exp(z - z.max())
    return float(np.max(np.abs(pi - s / s.sum())))


@pytest.mark.parametrize("beta", [10.0, 1.0, 0.1, 0.01, 0.001])
def test_regularized_nash_satisfies_its_fixed_point_equation(beta):
    rng = np.random.default_rng(int(1 / beta))
    for n in range(10):
        K = int(rng.integers(2, 9))
        P = random_family_matrix(rng, K, ("general", "cyclic", "bradley_terry")[n % 3])
        ref = random_distribution(rng, K, zeros=n % 2 == 0)
        eq = regularized_nash(P, beta, ref)
        assert eq.residual <= 1e-12
        assert fixed_point_residual(P, eq.pi, beta, ref) <= 1e-12
        assert np.all(eq.pi[ref == 0] == 0)
        assert eq.exploitability >= 0


def test_rock_paper_scissors_uniform_reference_stays_uniform():
    for beta in (5.0, 0.5, 0.05):
        eq = regularized_nash(rock_paper_scissors(), beta, [1 / 3] * 3)
        np.testing.assert_allclose(eq.pi, [1 / 3] * 3, atol=1e-12)


def test_large_beta_stays_at_the_reference_and_small_beta_approaches_the_lottery():
    P = rock_paper_scissors(exact=False)
    ref = np.array([0.6, 0.3, 0.1])
    far = regularized_nash(P, 1e4, ref)
    np.testing.assert_allclose(far.pi, ref, atol=1e-4)
    shortfalls = []
    for beta in (1.0, 0.1, 0.01, 0.001):
        eq = regularized_nash(P, beta, ref)
        short = 0.5 - float(np.min(P.T @ eq.pi))
        assert short <= beta * np.log(1 / ref.min()) + 1e-12  # self-play optimality bound
        shortfalls.append(short)
    assert shortfalls[-1] < 1e-3 < shortfalls[0]
    np.testing.assert_allclose(regularized_nash(P, 1e-3, ref).pi, [1 / 3] * 3, atol=5e-3)


def test_regularized_nash_is_the_best_kl_regularized_response_to_itself():
    rng = np.random.default_rng(8)
    P = random_preference_matrix(rng, 5)
    ref = random_distribution(rng, 5)
    beta = 0.2
    eq = regularized_nash(P, beta, ref)

    def J(p):  # WR(p; pi) - beta KL(p || pi_ref)
        p = np.asarray(p)
        live = p > 0
        return float(p @ P @ eq.pi) - beta * float(np.sum(p[live] * np.log(p[live] / ref[live])))

    best = J(eq.pi)
    for _ in range(200):
        assert J(random_distribution(rng, 5)) <= best + 1e-12


def test_exploitability_is_zero_only_at_the_equilibrium():
    rng = np.random.default_rng(1)
    P = random_preference_matrix(rng, 4)
    ref = random_distribution(rng, 4)
    eq = regularized_nash(P, 0.3, ref)
    assert regularized_exploitability(P, eq.pi, 0.3, ref) <= 1e-12
    assert regularized_exploitability(P, ref, 0.3, ref) > 1e-6
    assert regularized_exploitability(P, [1.0, 0, 0, 0], 0.3, [0, 0.5, 0.5, 0]) == float("inf")


@given(
    st.integers(2, 6).flatmap(lambda K: st.tuples(preference_matrices(K), simplex_vectors(K))),
    st.sampled_from([3.0, 0.3, 0.03]),
)
def test_regularized_nash_property(P_ref, beta):
    P, ref = P_ref
    eq = regularized_nash(P, beta, ref)
    assert eq.residual <= 1e-12
    assert fixed_point_residual(P, eq.pi, beta, ref) <= 1e-12


def test_regularized_nash_stack_equals_singles():
    rng = np.random.default_rng(6)
    Ps = np.stack([random_preference_matrix(rng, 4) for _ in range(6)])
    refs = np.stack([random_distribution(rng, 4, zeros=m % 2 == 0) for m in range(6)])
    stack = regularized_nash_batch(Ps, 0.05, refs)
    for P, ref, eq in zip(Ps, refs, stack, strict=True):
        np.testing.assert_allclose(eq.pi, regularized_nash(P, 0.05, ref).pi, atol=1e-11)


def test_regularized_nash_larger_instance():
    rng = np.random.default_rng(12)
    P = random_preference_matrix(rng, 100)
    ref = random_distribution(rng, 100)
    eq = regularized_nash(P, 0.01, ref)
    assert eq.residual <= 1e-12


# ------------------------------------------------------------------------------------------
# named errors


def test_not_a_preference_matrix():
    with pytest.raises(NotAPreferenceMatrixError, match=r"P\[0, 1\] \+ P\[1, 0\]"):
        maximal_lottery([[0.5, 0.9], [0.3, 0.5]])
    with pytest.raises(NotAPreferenceMatrixError):
        regularized_nash([[0.5, 1.2], [-0.2, 0.5]], 1.0, [0.5, 0.5])


def test_shape_errors():
    with pytest.raises(ShapeMismatchError):
        maximal_lottery(np.full((2, 3), 0.5))
    with pytest.raises(ShapeMismatchError, match="pi_ref"):
        regularized_nash(rock_paper_scissors(), 1.0, [0.5, 0.5])
    with pytest.raises(ShapeMismatchError, match="pi_ref"):
        regularized_nash_batch([cyclic(3)] * 2, 1.0, [[1 / 3] * 3])


def test_non_finite_input():
    with pytest.raises(NonFiniteInputError):
        maximal_lottery([[0.5, np.nan], [np.nan, 0.5]])


def test_bad_reference_model():
    with pytest.raises(NotAProbabilityVectorError):
        regularized_nash(rock_paper_scissors(), 1.0, [0.5, 0.5, 0.5])


@pytest.mark.parametrize("beta", [0, 0.0, -1.0])
def test_beta_must_be_positive(beta):
    with pytest.raises(InvalidParameterError, match="maximal_lottery"):
        regularized_nash(rock_paper_scissors(), beta, [1 / 3] * 3)


def test_tolerance_must_be_positive():
    with pytest.raises(InvalidParameterError, match="tol"):
        regularized_nash(rock_paper_scissors(), 1.0, [1 / 3] * 3, tol=0.0)


# ------------------------------------------------------------------------------------------
# the NLHF-is-WRO check can fail: it detects deliberately wrong solvers


def _run_check(instances=40):
    from proofs_checks.nlhf_is_wro import CLAIM
    from proofs_checks.scaffold import CheckContext
    from proofs_checks.scaffold.registry import claim_rng

    return CLAIM.check(CheckContext(instances=instances, seed=0, rng=claim_rng(0, "NLHF-is-WRO")))


def test_nlhf_check_agrees_with_the_real_solvers():
    assert not _run_check().found


def test_nlhf_check_detects_a_wrong_maximal_lottery(monkeypatch):
    import proofs_checks.nlhf_is_wro as mod

    real = mod.maximal_lottery_batch

    def uniform_instead(P, *, exact=None):  # uniform is wrong whenever some response beats it
        out = real(P, exact=exact)
        K = out[0].pi.shape[0]
        u = np.array([F(1, K)] * K, dtype=object) if out[0].exact else np.full(K, 1.0 / K)
        return [dataclasses.replace(o, pi=u) for o in out]

    monkeypatch.setattr(mod, "maximal_lottery_batch", uniform_instead)
    result = _run_check()
    assert result.found and "maximal lottery" in result.counterexample["part"]


def test_nlhf_check_detects_a_wrong_regularized_equilibrium(monkeypatch):
    import proofs_checks.nlhf_is_wro as mod

    real = mod.regularized_nash_batch

    def perturbed(P, beta, pi_ref, **kw):
        out = real(P, beta, pi_ref, **kw)
        bad = []
        for e in out:
            pi = 0.999 * e.pi + 0.001 * np.asarray(pi_ref[len(bad)])
            bad.append(RegularizedNash(pi, e.residual, e.exploitability, e.iterations))
        return bad

    monkeypatch.setattr(mod, "regularized_nash_batch", perturbed)
    result = _run_check()
    assert result.found and result.counterexample["part"] in ("regularized Nash", "beta -> 0 bound")


def test_small_beta_reaches_the_target_on_most_instances_and_warns_otherwise():
    rng = np.random.default_rng(21)
    reached = 0
    for _ in range(10):
        P = random_preference_matrix(rng, 5)
        ref = random_distribution(rng, 5)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            eq = regularized_nash(P, 1e-4, ref)
        if eq.residual <= 1e-12:
            reached += 1
            assert not caught
            bound = 1e-4 * np.log(1 / ref.min()) + 1e-12
            assert 0.5 - float(np.min(P.T @ eq.pi)) <= bound
        else:  # float64 ran out: the result says so
            assert any(issubclass(w.category, RuntimeWarning) for w in caught)
    assert reached >= 7
