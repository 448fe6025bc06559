"""Fuzz tests (issue 10, parts 2 and 3) for WRO, RLHF, NLHF, the maximal lottery and Bradley-Terry.

Every public function of :mod:`theory.wro`, :mod:`theory.methods.rlhf`, :mod:`theory.methods.nlhf`,
:mod:`theory.lottery` and :mod:`theory.bradley_terry` must return the right answer (exact, or float
within its stated tolerance) or raise a named :class:`~theory.errors.TheoryError`: never a NaN,
never a raw numpy/Python error, never a convergence that did not happen.  The answers are compared
with independent computations (mpmath at 60 digits from the definitions, closed-form limits,
exact Fractions), not with the function under test.
"""

from __future__ import annotations

import time
import warnings
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import theory.bradley_terry as bt
from theory.bradley_terry import (
    bradley_terry_gradient,
    bradley_terry_log_likelihood,
    fit_bradley_terry,
    fit_bradley_terry_batch,
)
from theory.data import PreferenceData
from theory.errors import (
    BradleyTerryPrecisionError,
    NotAProbabilityVectorError,
    ShapeMismatchError,
    TheoryError,
)
from theory.lottery import maximal_lottery, maximal_lottery_batch
from theory.methods.nlhf import (
    regularized_exploitability,
    regularized_nash,
    regularized_nash_batch,
)
from theory.methods.rlhf import rlhf_objective, rlhf_policy
from theory.preferences import bradley_terry_from_strengths, cyclic, rock_paper_scissors
from theory.simplex import uniform
from theory.wro import (
    wro_objective,
    wro_objective_per_prompt,
    wro_optimum,
    wro_scores,
)

mp.mp.dps = 60

P3 = bradley_terry_from_strengths([1, 2, 4])
REF = [Fraction(1, 2), Fraction(1, 4), Fraction(1, 4)]
Q3 = uniform(3)


# ---------------------------------------------------------------------------------------------
# independent references (mpmath from the definitions)


def mp_gibbs(P, q, beta, ref):
    """``(pi, beta log Z)`` of ``pi ∝ ref exp(g / beta)``, ``g = P q``, in mpmath (60 digits);
    ``beta`` an mpf (any size: the exponent range of mpmath is unbounded)."""
    with mp.workdps(60 + int(max(0, mp.log10(beta)))):  # log Z ~ 1/beta needs the digits
        return _mp_gibbs(P, q, beta, ref)


def _mp_gibbs(P, q, beta, ref):
    K = len(ref)
    g = [
        sum(
            mp.mpf(Fraction(P[i][j]).numerator) / Fraction(P[i][j]).denominator * _mpq(q[j])
            for j in range(K)
        )
        for i in range(K)
    ]
    gmax = max(g[i] for i in range(K) if ref[i] > 0)
    w = [_mpq(ref[i]) * mp.exp((g[i] - gmax) / beta) if ref[i] > 0 else mp.mpf(0) for i in range(K)]
    Z = sum(w)
    return [float(x / Z) for x in w], gmax + beta * mp.log(Z)


def _mpq(x):
    f = Fraction(x)
    return mp.mpf(f.numerator) / f.denominator


def _mp_beta(beta):
    f = Fraction(beta)
    return mp.mpf(f.numerator) / f.denominator


def mp_bt_mle_2(w01, w10):
    """The 2-response MLE ``r0 - r1 = log(w01 / w10)``, in mpmath."""
    return float(mp.log(_mpq(w01) / _mpq(w10)))


# ---------------------------------------------------------------------------------------------
# WRO optimum at extreme beta (the issue's cases, then the family)


@pytest.mark.parametrize(
    "beta",
    [
        1e-310,
        5e-324,
        Fraction(1, 10**400),
        1e-300,
        1e-20,
        1e-3,
        1.0,
        1e3,
        1e12,
        1e20,
        1e300,
        10**400,
        Fraction(10**400 + 1, 3),
    ],
)
def test_wro_optimum_extreme_beta_matches_mpmath(beta):
    sol = wro_optimum(P3, Q3, beta=beta, pi_ref=REF)
    pi_mp, v_mp = mp_gibbs(P3, Q3, _mp_beta(beta), REF)
    assert np.all(np.isfinite(sol.pi)) and np.isfinite(sol.value)
    np.testing.assert_allclose(sol.pi, pi_mp, atol=1e-14)
    assert abs(sol.value - float(v_mp)) <= 1e-14
    assert sol.certificate <= 1e-12


def test_wro_optimum_issue_values():
    """The issue's numbers: beta = 1e20 gave 0.0 (true 0.4611), beta = 1e12 was off by 3.5e-5,
    beta = 1e-310 and Fraction(1, 10**400) gave NaN."""
    # beta -> inf limit: pi_ref . g = (1/2)(1/2 + 1/3 + 1/5)/... computed exactly
    g = [sum(Fraction(P3[i][j]) * Q3[j] for j in range(3)) for i in range(3)]
    limit_inf = float(sum(Fraction(REF[i]) * g[i] for i in range(3)))
    assert abs(wro_optimum(P3, Q3, beta=1e20, pi_ref=REF).value - limit_inf) <= 1e-15
    assert abs(limit_inf - 0.4611) < 1e-4
    _, v12 = mp_gibbs(P3, Q3, mp.mpf(10) ** 12, REF)
    assert abs(wro_optimum(P3, Q3, beta=1e12, pi_ref=REF).value - float(v12)) <= 1e-15
    limit_0 = float(max(g))  # beta -> 0: the best score
    for beta in (1e-310, Fraction(1, 10**400)):
        sol = wro_optimum(P3, Q3, beta=beta, pi_ref=REF)
        assert sol.pi.tolist() == [0.0, 0.0, 1.0]
        assert sol.value == limit_0


@given(
    exponent=st.integers(-400, 400),
    exact=st.booleans(),
    K=st.integers(2, 5),
    seed=st.integers(0, 2**32 - 1),
    zeros=st.booleans(),
)
def test_wro_optimum_beta_family(exponent, exact, K, seed, zeros):
    rng = np.random.default_rng(seed)
    s = [Fraction(int(v)) for v in rng.integers(1, 20, size=K)]
    P = bradley_terry_from_strengths(s)
    q = [Fraction(int(v), 1) for v in rng.integers(0, 4, size=K)]
    if sum(q) == 0:
        q[0] = Fraction(1)
    q = [v / sum(q) for v in q]
    ref = [Fraction(int(v)) for v in rng.integers(0 if zeros else 1, 5, size=K)]
    if sum(ref) == 0:
        ref[-1] = Fraction(1)
    ref = [v / sum(ref) for v in ref]
    beta = Fraction(10) ** exponent if exact or abs(exponent) > 300 else 10.0**exponent
    sol = wro_optimum(P, q, beta=beta, pi_ref=ref)
    pi_mp, v_mp = mp_gibbs(P, q, _mp_beta(beta), ref)
    np.testing.assert_allclose(sol.pi, pi_mp, atol=1e-12)
    assert abs(sol.value - float(v_mp)) <= 1e-12 * (1 + abs(float(v_mp)))
    assert np.all(sol.pi[np.array(ref) == 0] == 0)


def test_wro_optimum_float_and_exact_near_ties():
    """Exact scores that differ by less than float resolution are ranked exactly."""
    eps = Fraction(1, 10**30)
    P = [[Fraction(1, 2), Fraction(1, 2) + eps], [Fraction(1, 2) - eps, Fraction(1, 2)]]
    sol = wro_optimum(
        P, [Fraction(1, 2)] * 2, beta=Fraction(1, 10**40), pi_ref=[Fraction(1, 2)] * 2
    )
    assert sol.pi.tolist() == [1.0, 0.0]


def test_wro_objective_huge_and_tiny_beta():
    pi = [1, 0, 0]
    # beta = 1e-400: the KL term vanishes in float; exact WR
    j = wro_objective(P3, pi, Q3, Fraction(1, 10**400), REF)
    wr = wro_objective(P3, pi, Q3)
    assert j == float(wr)
    # pi = pi_ref: no penalty whatever beta
    assert wro_objective(P3, REF, Q3, 10**400, REF) == pytest.approx(
        float(wro_objective(P3, REF, Q3))
    )
    # beta KL beyond float64: a named error, never -inf or OverflowError
    with pytest.raises(TheoryError, match="float64"):
        wro_objective(P3, pi, Q3, 10**400, REF)
    with pytest.raises(TheoryError, match="float64"):
        wro_objective_per_prompt(P3, pi, Q3, 10**400, REF)
    # absolute continuity fails: -inf is the defined value
    assert wro_objective(P3, [0, 1, 0], Q3, 1.0, [1, 0, 0]) == -np.inf


def test_wro_self_play_extreme_beta():
    ref = [0.5, 0.25, 0.25]
    big = wro_optimum(P3, "self", 10**400, ref)
    np.testing.assert_allclose(big.pi, ref, atol=1e-15)
    assert big.value == 0.5
    small = wro_optimum(P3, "self", Fraction(1, 10**400), ref)
    np.testing.assert_allclose(small.pi, [0, 0, 1], atol=1e-15)


def test_wro_infinite_scores_with_extreme_beta():
    P = [[0.5, 1.0], [0.0, 0.5]]
    for beta in (1e-310, 1.0, 1e300, 10**400, Fraction(1, 10**400)):
        sol = wro_optimum(P, [0.5, 0.5], beta, [0.5, 0.5], h="logit")
        assert sol.pi.tolist() == [1.0, 0.0] and sol.value == np.inf


# ---------------------------------------------------------------------------------------------
# degenerate and bad inputs to the WRO functions


BAD_MODELS = [
    None,
    "abc",
    [1j, 0, 0],
    (x for x in [1, 0, 0]),
    [np.nan, 0.5, 0.5],
    [np.inf, 0, 0],
    [],
    [0.5, 0.5],
    [[0.5, 0.5, 0.0]] * 2,
    object(),
]


@pytest.mark.parametrize("bad", BAD_MODELS, ids=range(len(BAD_MODELS)))
def test_wro_functions_refuse_bad_models_with_named_errors(bad):
    calls = [
        lambda: wro_optimum(P3, bad),
        lambda: wro_optimum(P3, Q3, 1.0, bad),
        lambda: wro_objective(P3, bad, Q3),
        lambda: wro_objective(P3, [1, 0, 0], bad),
        lambda: wro_objective_per_prompt(P3, [1, 0, 0], Q3, 1.0, bad),
        lambda: wro_scores(P3, bad),
    ]
    for call in calls:
        with pytest.raises(TheoryError):
            call()


BAD_P = [
    None,
    "P",
    [[0.5, 1j], [0.5, 0.5]],
    np.zeros((0, 3, 3)),
    np.zeros((0, 0)),
    [[0.5, np.nan], [0.5, 0.5]],
    [[0.5, 0.7], [0.7, 0.5]],
    [1, 2, 3],
]


@pytest.mark.parametrize("bad", BAD_P, ids=range(len(BAD_P)))
def test_wro_lottery_nash_refuse_bad_preferences(bad):
    calls = [
        lambda: wro_optimum(bad, [0.5, 0.5]),
        lambda: wro_optimum(bad, "self"),
        lambda: maximal_lottery(bad),
        lambda: maximal_lottery_batch(bad),
        lambda: regularized_nash(bad, 1.0, [0.5, 0.5]),
        lambda: regularized_nash_batch(bad, 1.0, [0.5, 0.5]),
        lambda: regularized_exploitability(bad, [0.5, 0.5], 1.0, [0.5, 0.5]),
    ]
    for call in calls:
        with pytest.raises(TheoryError):
            call()


@pytest.mark.parametrize(
    "beta", [None, "1", 1j, -1, float("nan"), float("inf"), [1, 2], -Fraction(1, 10**400)]
)
def test_bad_beta_is_a_named_error(beta):
    for call in (
        lambda: wro_optimum(P3, Q3, beta, REF),
        lambda: wro_objective(P3, [1, 0, 0], Q3, beta, REF),
        lambda: regularized_nash(P3, beta, REF),
        lambda: rlhf_objective([1.0, 0.0], [1.0, 0.0], beta, [0.5, 0.5]),
    ):
        with pytest.raises(TheoryError):
            call()


def test_wro_degenerate_supports():
    # zeros in q and pi_ref: the optimum lives on supp pi_ref, no NaN
    for beta in (1e-310, 1e-3, 1.0, 1e300):
        sol = wro_optimum(P3, [0, 0, 1], beta, [0, 1, 0])
        assert sol.pi.tolist() == [0.0, 1.0, 0.0] and np.isfinite(sol.value)
    # mismatched shapes
    with pytest.raises(ShapeMismatchError):
        wro_optimum(P3, [0.5, 0.5])
    with pytest.raises(ShapeMismatchError):
        wro_optimum([P3, P3], [Q3, Q3], 1.0, [REF, REF], rho=[1.0])


# ---------------------------------------------------------------------------------------------
# Bradley-Terry: extreme odds, the stopping rule, the batched fit


def test_fit_bradley_terry_issue_cases():
    """1e-14 gave r0 - r1 = 28.19 (true 32.24) "converged"; 1e-300 gave 28.2 (true 690.8)."""
    for odds in (1e-14, 1e-300):
        fit = fit_bradley_terry([[0, 1.0], [odds, 0]])
        gap = float(fit.rewards[0] - fit.rewards[1])
        assert gap == pytest.approx(mp_bt_mle_2(1.0, odds), rel=1e-12)


@given(s1=st.floats(-149, 149), s2=st.floats(-149, 149))
def test_fit_bradley_terry_two_responses_any_odds(s1, s2):
    """Odds from 1e-298 to 1e298 and weights from 1e-149 to 1e149: the exact answer."""
    w01, w10 = 10.0**s1, 10.0**s2
    fit = fit_bradley_terry([[0, w01], [w10, 0]])
    gap = float(fit.rewards[0] - fit.rewards[1])
    assert gap == pytest.approx(mp_bt_mle_2(w01, w10), rel=1e-10, abs=1e-10)


def test_fit_bradley_terry_beyond_float_range_is_a_named_error():
    for w in ([[0, 1.0], [1e-320, 0]], [[0, 1e300], [1e-300, 0]]):
        with pytest.raises(BradleyTerryPrecisionError, match="float64"):
            fit_bradley_terry(w)
    with pytest.raises(BradleyTerryPrecisionError, match="max_iter"):
        fit_bradley_terry([[0, 3.0, 1.0], [1.0, 0, 2.0], [2.0, 1.0, 0]], max_iter=1)


@given(seed=st.integers(0, 2**32 - 1), spread=st.floats(0, 30), K=st.integers(3, 6))
def test_fit_bradley_terry_extreme_strengths_exact_weights(seed, spread, K):
    """Weights of an exact Bradley-Terry model with strengths spanning e^(2 spread): the fit
    recovers the log-strengths (the MLE of BT weights is the model itself)."""
    rng = np.random.default_rng(seed)
    r = rng.uniform(-spread, spread, size=K)
    W = 1.0 / (1.0 + np.exp(r[None, :] - r[:, None]))  # sigmoid(r_i - r_j)
    np.fill_diagonal(W, 0)
    fit = fit_bradley_terry(W)
    np.testing.assert_allclose(fit.rewards, r - r.mean(), atol=1e-8)


def _relative_gradient(W, r):
    p = 1.0 / (1.0 + np.exp(r[None, :] - r[:, None]))
    a = (W * p.T).sum(axis=1)
    b = (W.T * p).sum(axis=1)
    return np.abs(a - b) / (a + b)


@given(seed=st.integers(0, 2**32 - 1), K=st.integers(2, 6), logscale=st.floats(-8, 8))
def test_fit_bradley_terry_reports_only_real_convergence(seed, K, logscale):
    rng = np.random.default_rng(seed)
    W = rng.uniform(0.01, 1, size=(K, K)) * np.exp(rng.normal(scale=abs(logscale), size=(K, K)))
    np.fill_diagonal(W, 0)
    fit = fit_bradley_terry(W)
    # recomputed here from the definition: every response's gradient balances its terms
    assert np.all(_relative_gradient(W, fit.rewards) <= 1e-10)
    g = bradley_terry_gradient(W, fit.rewards)
    assert abs(float(np.abs(g).max()) - fit.gradient_norm) <= 1e-12 * W.sum()


def test_batched_fit_never_uses_another_instance_factorisation(monkeypatch):
    """The chord shortcut (a step with the previous Cholesky factor) used to run whenever the
    last factorisation was of a single active instance, also inside a batch: it then solved with
    instance 0's gradient and applied the step to every instance.  In a batch, every Cholesky
    solve must follow its own factorisation, and each instance must match its own fit."""
    rng = np.random.default_rng(0)
    r = rng.normal(size=4)
    W0 = 1 / (1 + np.exp(r[None, :] - r[:, None]))  # exact BT weights: solved at the start
    np.fill_diagonal(W0, 0)
    W1 = rng.uniform(0.01, 1, size=(4, 4)) * np.exp(rng.normal(scale=3, size=(4, 4)))
    np.fill_diagonal(W1, 0)  # far from BT: several Newton steps alone in the batch
    Ws = [W0, W1]
    counts = {"factor": 0, "solve": 0}
    real_factor, real_solve = bt.scipy.linalg.cho_factor, bt.scipy.linalg.cho_solve

    def factor(*a, **k):
        counts["factor"] += 1
        return real_factor(*a, **k)

    def solve(*a, **k):
        counts["solve"] += 1
        return real_solve(*a, **k)

    monkeypatch.setattr(bt.scipy.linalg, "cho_factor", factor)
    monkeypatch.setattr(bt.scipy.linalg, "cho_solve", solve)
    stack = fit_bradley_terry_batch(np.array(Ws))
    assert counts["factor"] >= 1  # the single-active-instance path was reached
    assert counts["solve"] == counts["factor"]  # no chord step inside the batch
    monkeypatch.undo()
    for n, W in enumerate(Ws):
        alone = fit_bradley_terry(W)
        np.testing.assert_allclose(stack.rewards[n], alone.rewards, atol=1e-7)
        assert np.all(_relative_gradient(W, stack.rewards[n]) <= 1e-10)


BAD_R = [
    None,
    "ab",
    [1j, 0.0],
    (x for x in [0.0, 0.0]),
    [np.nan, 0.0],
    [0.0],
    [0.0, 0.0, 0.0],
    [[0.0, 0.0]],
    1.0,
]


@pytest.mark.parametrize("bad", BAD_R, ids=range(len(BAD_R)))
def test_bradley_terry_gradient_and_likelihood_refuse_bad_rewards(bad):
    for f in (bradley_terry_gradient, bradley_terry_log_likelihood):
        with pytest.raises(TheoryError):
            f([[0, 1], [2, 0]], bad)


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "w",
        [[0, 1j], [1, 0]],
        [[0, -1], [1, 0]],
        [[0, np.nan], [1, 0]],
        [1, 2],
        np.zeros((2, 3)),
        (x for x in [1]),
    ],
)
def test_bradley_terry_fits_refuse_bad_weights(bad):
    for f in (fit_bradley_terry, bradley_terry_gradient):
        with pytest.raises(TheoryError):
            f(bad) if f is fit_bradley_terry else f(bad, [0.0, 0.0])
    with pytest.raises(TheoryError):
        fit_bradley_terry_batch(bad)


# ---------------------------------------------------------------------------------------------
# RLHF


def test_rlhf_policy_extreme_odds():
    """pi0 was 5.7e-13 where the exact answer is 1e-14 / (1 + 1e-14)."""
    s = [Fraction(1, 10**14), Fraction(1)]
    D = PreferenceData(P=bradley_terry_from_strengths(s), mu0=[Fraction(1, 2)] * 2)
    pol = rlhf_policy(D, 1.0)  # pi ∝ mu s at beta = 1 (the data anchor is the reference)
    exact = Fraction(1, 10**14) / (1 + Fraction(1, 10**14))
    assert pol.pi[0, 0] == pytest.approx(float(exact), rel=1e-9)


@pytest.mark.parametrize(
    "rho, error",
    [
        ([2, -1], NotAProbabilityVectorError),
        ([0.5, 0.6], NotAProbabilityVectorError),
        ([1.0], ShapeMismatchError),
        ([np.nan, 1.0], TheoryError),
        ("ab", TheoryError),
        ([1j, 0], TheoryError),
        ([[0.5, 0.5]], TheoryError),
    ],
)
def test_rlhf_objective_validates_rho(rho, error):
    with pytest.raises(error):
        rlhf_objective([[1.0, 0.0], [0.0, 1.0]], [[1, 0], [0, 1]], 0, rho=rho)


def test_rlhf_objective_values_and_bad_inputs():
    # an independent sum: rho-weighted E_pi r - beta KL
    r = [[1.0, 0.0], [0.0, 2.0]]
    pi = [[0.25, 0.75], [0.5, 0.5]]
    ref = [[0.5, 0.5], [0.5, 0.5]]
    kl = [0.25 * np.log(0.5) + 0.75 * np.log(1.5), 0.0]
    want = 0.3 * (0.25 - 0.1 * kl[0]) + 0.7 * (1.0 - 0.1 * kl[1])
    assert rlhf_objective(r, pi, 0.1, ref, rho=[0.3, 0.7]) == pytest.approx(want, abs=1e-15)
    # a prompt with rho = 0 where pi is not absolutely continuous: no 0 * inf = NaN
    assert rlhf_objective(
        r, [[1, 0], [1, 0]], 1.0, [[0.5, 0.5], [0, 1]], rho=[1, 0]
    ) == pytest.approx(1.0 - np.log(2))
    for bad in (None, "r", 1.0, [], [[1j, 0]]):
        with pytest.raises(TheoryError):
            rlhf_objective(bad, [1.0, 0.0], 0)
    with pytest.raises(TheoryError):
        rlhf_objective([1.0, 0.0], [1.0, 0.0], 1.0)  # beta > 0 without pi_ref
    with pytest.raises(TheoryError, match="float64"):
        rlhf_objective([1.0, 0.0], [1.0, 0.0], 10**400, [0.5, 0.5])
    assert rlhf_objective([1.0, 0.0], [1.0, 0.0], Fraction(1, 10**400), [0.5, 0.5]) == 1.0
    with pytest.raises(TheoryError):
        rlhf_policy("data", 1.0)


# ---------------------------------------------------------------------------------------------
# NLHF: every beta from 1e-400 to 1e400 in bounded time


def _random_game(rng, K, kind):
    if kind == "general":
        U = rng.uniform(size=(K, K))
    else:  # deterministic with ties: the degenerate equilibria
        U = rng.choice([0.0, 0.5, 1.0], size=(K, K))
    P = np.triu(U, 1)
    P = P + np.tril(1 - P.T, -1)
    np.fill_diagonal(P, 0.5)
    return P


@given(
    seed=st.integers(0, 2**32 - 1),
    K=st.integers(2, 10),
    kind=st.sampled_from(["general", "ties"]),
    exponent=st.integers(-400, 400),
    exact=st.booleans(),
    zero=st.booleans(),
)
def test_regularized_nash_any_beta_bounded_time(seed, K, kind, exponent, exact, zero):
    rng = np.random.default_rng(seed)
    P = _random_game(rng, K, kind)
    ref = rng.dirichlet(np.ones(K))
    if zero:
        ref[0] = 0.0
        ref /= ref.sum()
    beta = Fraction(10) ** exponent if exact or abs(exponent) > 300 else 10.0**exponent
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # residual warnings are allowed
        eq = regularized_nash(P, beta, ref)
    assert time.perf_counter() - t0 <= 5.0
    assert np.all(np.isfinite(eq.pi)) and abs(eq.pi.sum() - 1) <= 1e-12
    assert np.all(eq.pi[ref == 0] == 0)
    assert np.isfinite(eq.residual) and eq.exploitability >= 0
    b = float(Fraction(beta)) if Fraction(beta) < 10**300 else np.inf
    if b <= 1e-3:
        # self-play optimality: pi loses to no response of supp ref by more than
        # beta log(1 / min ref) (independent of the solver: P^T pi from the definition)
        short = 0.5 - float(np.min((P.T @ eq.pi)[ref > 0]))
        assert short <= b * np.log(1 / ref[ref > 0].min()) + 1e-9
    if b >= 1e6:
        np.testing.assert_allclose(eq.pi, ref, atol=2.0 / b + 1e-15)


def test_regularized_nash_issue_cases():
    """beta = 1e-30 took 136 s; beta = 10**400 raised OverflowError."""
    for P, ml in ((rock_paper_scissors(), [1 / 3] * 3), (cyclic(5), [0.2] * 5)):
        K = len(ml)
        ref = np.arange(1, K + 1, dtype=float)
        ref /= ref.sum()
        t0 = time.perf_counter()
        eq = regularized_nash(P, 1e-30, ref)
        assert time.perf_counter() - t0 < 5
        np.testing.assert_allclose(eq.pi, ml, atol=1e-12)  # the unique maximal lottery
        assert eq.residual <= 1e-12
    eq = regularized_nash(P3, 10**400, REF)
    np.testing.assert_allclose(eq.pi, [0.5, 0.25, 0.25], atol=1e-16)
    eq = regularized_nash(P3, Fraction(1, 10**400), REF)
    np.testing.assert_allclose(eq.pi, [0, 0, 1], atol=1e-16)


def test_regularized_nash_ties_limit_is_proportional_to_the_reference():
    """All-ties game: the equilibrium is pi_ref for every beta (the maximal lottery is not
    unique, so "the" maximal lottery would be wrong here)."""
    P = np.full((4, 4), 0.5)
    ref = np.array([0.1, 0.2, 0.3, 0.4])
    for beta in (1e-310, 1e-30, 1e-3, 1.0, 1e300, Fraction(1, 10**400), 10**400):
        np.testing.assert_allclose(regularized_nash(P, beta, ref).pi, ref, atol=1e-15)


@pytest.mark.parametrize(
    "args",
    [
        (P3, 1.0, [0.5, 0.5]),
        (P3, 1.0, [[0.5, 0.25, 0.25]] * 2),
        (P3, 1.0, None),
        (P3, 1.0, "ref"),
        (P3, 1.0, [0.5, 0.25, 0.25j]),
        (P3, 1.0, [0.5, 0.25, np.nan]),
        ([P3, P3], 1.0, [0.5, 0.25, 0.25]),
        (P3, 1.0, [0.6, 0.25, 0.25]),
    ],
)
def test_regularized_nash_bad_shapes_and_types(args):
    with pytest.raises(TheoryError):
        regularized_nash(*args)
    with pytest.raises(TheoryError):
        regularized_exploitability(args[0], [1 / 3] * 3, args[1], args[2])


def test_regularized_nash_stack_bad_inputs():
    for ref in ([[1 / 3] * 3], [[1 / 3] * 2] * 2, None, "x"):
        with pytest.raises(TheoryError):
            regularized_nash_batch([cyclic(3)] * 2, 1.0, ref)
    for tol in (float("nan"), -1.0, "a", None):
        with pytest.raises(TheoryError):
            regularized_nash_batch([cyclic(3)], 1.0, [[1 / 3] * 3], tol=tol)


def test_regularized_exploitability_extreme_beta():
    ref = [0.5, 0.25, 0.25]
    pi = [0.4, 0.3, 0.3]
    # phi(pi) = beta log sum ref exp(A pi / beta) + beta KL(pi || ref), in mpmath
    A = [[_mpq(P3[i][j]) - mp.mpf(1) / 2 for j in range(3)] for i in range(3)]
    Api = [sum(A[i][j] * mp.mpf(pi[j]) for j in range(3)) for i in range(3)]
    for beta in (1e-300, 1e-3, 1.0, 1e12, 1e300):
        b = mp.mpf(beta)
        lse = mp.log(sum(mp.mpf(ref[i]) * mp.exp(Api[i] / b) for i in range(3)))
        kl = sum(mp.mpf(pi[i]) * mp.log(mp.mpf(pi[i]) / mp.mpf(ref[i])) for i in range(3))
        want = float(b * lse + b * kl)
        assert regularized_exploitability(P3, pi, beta, ref) == pytest.approx(
            want, rel=1e-9, abs=1e-15
        )
    assert regularized_exploitability(P3, ref, 10**400, ref) == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(TheoryError, match="float64"):
        regularized_exploitability(P3, pi, 10**400, ref)


# ---------------------------------------------------------------------------------------------
# maximal lottery: degenerate inputs


def test_maximal_lottery_degenerate_inputs():
    assert maximal_lottery([[Fraction(1, 2)]]).pi.tolist() == [Fraction(1)]
    ml = maximal_lottery([[Fraction(1, 2)] * 3] * 3)  # all ties: every lottery is maximal
    assert sum(ml.pi) == 1 and ml.gap == 0
    for bad in (
        np.zeros((0, 0)),
        None,
        [[0.5, 1j], [0.5, 0.5]],
        [[0.5, np.inf], [0.5, 0.5]],
        (x for x in [0.5]),
    ):
        with pytest.raises(TheoryError):
            maximal_lottery(bad)
    with pytest.raises(TheoryError):
        maximal_lottery_batch(np.zeros((0, 2, 2)))
