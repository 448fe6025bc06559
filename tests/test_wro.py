"""Tests of theory.wro (objective, closed forms, argmax sets, self-play, infinite scores) and of
theory.methods.rlhf (RLHF as logit-WRO)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.data import PreferenceData, sample_dataset
from theory.errors import (
    InvalidParameterError,
    NoMaximumLikelihoodError,
    UndefinedWinRateError,
)
from theory.hfuncs import HFunction
from theory.methods.rlhf import rlhf_objective, rlhf_policy
from theory.preferences import (
    bradley_terry_matrix,
    cyclic,
    random_preference_matrix,
    rock_paper_scissors,
    total_order,
)
from theory.simplex import kl_divergence
from theory.strategies import preference_matrices, simplex_vectors
from theory.winrate import h_win_rate, win_rate
from theory.wro import (
    wro_objective,
    wro_objective_per_prompt,
    wro_optimum,
    wro_optimum_data,
    wro_scores,
)

#: Float agreement in these tests.
TOL = 1e-10
F = Fraction


def test_negative_beta_is_rejected():
    P = rock_paper_scissors()
    with pytest.raises(InvalidParameterError, match=r"expected a finite number >= 0"):
        wro_optimum(P, [F(1, 3)] * 3, beta=-1)
    with pytest.raises(InvalidParameterError, match=r"expected a finite number >= 0"):
        wro_objective(P, [1, 0, 0], [1, 0, 0], beta=F(-1, 2), pi_ref=[F(1, 3)] * 3)
    with pytest.raises(InvalidParameterError):
        wro_optimum(P, [F(1, 3)] * 3, beta=float("nan"))


def test_bad_anchor_and_missing_reference():
    P = rock_paper_scissors()
    with pytest.raises(InvalidParameterError, match="anchor"):
        wro_optimum(P, "data")
    with pytest.raises(InvalidParameterError, match="pi_ref"):
        wro_optimum(P, [F(1, 3)] * 3, beta=1)
    with pytest.raises(InvalidParameterError, match="identity"):
        wro_optimum(P, "self", h="logit")


def test_beta_zero_argmax_set_is_exact_with_ties():
    K = 4
    P = np.full((K, K), F(1, 2), dtype=object)
    sol = wro_optimum(P, [F(1, 4)] * 4)
    assert sol.argmax == ((0, 1, 2, 3),)
    assert sol.value == F(1, 2) and sol.certificate == 0
    assert sol.pi.tolist() == [F(1, 4)] * 4
    # a tie between two responses of a cyclic matrix
    sol = wro_optimum(cyclic(3), [F(1, 3)] * 3)
    assert sol.argmax == ((0, 1, 2),)


def test_beta_zero_value_equals_best_point_mass_exactly():
    rng = np.random.default_rng(0)
    for _ in range(20):
        P = random_preference_matrix(rng, 4, exact=True)
        q = [F(int(v), 10) for v in (1, 2, 3, 4)]
        sol = wro_optimum(P, q)
        best = max(win_rate(P, np.eye(4, dtype=int)[y], q) for y in range(4))
        assert sol.value == best
        for y in sol.argmax[0]:
            assert win_rate(P, np.eye(4, dtype=int)[y], q) == best


@pytest.mark.parametrize("h", ["identity", "logit", "log"])
def test_closed_form_identity_and_optimality(h):
    rng = np.random.default_rng(1)
    P = random_preference_matrix(rng, 5)
    q = rng.dirichlet(np.ones(5))
    ref = rng.dirichlet(np.ones(5))
    beta = 0.3
    sol = wro_optimum(P, q, beta, ref, h)
    g = wro_scores(P, q, h)
    logZ = np.log(np.sum(ref * np.exp(g / beta)))
    assert abs(sol.value - beta * logZ) < TOL
    assert np.allclose(sol.pi, ref * np.exp(g / beta) / np.exp(logZ), atol=TOL)
    J = wro_objective(P, sol.pi, q, beta, ref, h)
    assert abs(J - sol.value) < TOL and sol.certificate < TOL
    # J(pi) = beta log Z - beta KL(pi || pi*) for any pi
    for _ in range(5):
        pi = rng.dirichlet(np.ones(5))
        Jpi = wro_objective(P, pi, q, beta, ref, h)
        assert abs(Jpi - (sol.value - beta * kl_divergence(pi, sol.pi))) < 1e-9


def test_closed_form_respects_reference_support():
    P = rock_paper_scissors(exact=False)
    sol = wro_optimum(P, [0.5, 0.3, 0.2], 0.2, [0.5, 0.5, 0.0])
    assert sol.pi[2] == 0.0 and abs(sol.pi.sum() - 1) < 1e-15


def test_objective_self_play_and_exactness():
    P = rock_paper_scissors()
    # J(pi) = min_q WR(pi; q): against rock, half rock half scissors wins 1/2 * 1/2 + 0 = 1/4
    assert wro_objective(P, [F(1, 2), F(1, 2), 0], "self") == F(1, 4)
    assert wro_objective(P, [F(1, 3)] * 3, "self") == F(1, 2)  # the maximal lottery
    ref = np.array([0.2, 0.3, 0.5])
    pi = np.array([0.5, 0.25, 0.25])
    beta = 0.5
    J = wro_objective(P, pi, "self", beta, ref)
    Pf = np.array(P, dtype=float)

    def F_game(q):  # F(pi, q) = WR(pi; q) - beta KL(pi || ref) + beta KL(q || ref), written out
        return pi @ Pf @ q - beta * kl_divergence(pi, ref) + beta * kl_divergence(q, ref)

    best_reply = ref * np.exp(-(Pf.T @ pi) / beta)
    assert abs(J - F_game(best_reply / best_reply.sum())) < TOL
    rng = np.random.default_rng(0)
    assert all(J <= F_game(q) + TOL for q in rng.dirichlet(np.ones(3), size=200))
    # not absolutely continuous w.r.t. pi_ref: -inf
    assert wro_objective(P, [1, 0, 0], [0, 1, 0], 1, [0, 1, 0]) == -np.inf


def test_inf_minus_inf_is_an_error_not_nan():
    P = total_order(2, exact=False)
    with pytest.raises(UndefinedWinRateError):
        wro_objective(P, [1.0, 0.0], [0.0, 1.0], 1.0, [0.0, 1.0], "logit")


def test_infinite_scores_have_the_clipped_limit_answer():
    # logit on a total order plus a response with a sure win and a sure loss
    P = np.array(
        [[0.5, 1.0, 0.7, 0.0], [0.0, 0.5, 0.6, 1.0], [0.3, 0.4, 0.5, 0.2], [1.0, 0.0, 0.8, 0.5]]
    )
    q = np.array([0.1, 0.4, 0.3, 0.2])
    ref = np.array([0.25, 0.25, 0.25, 0.25])
    sol = wro_optimum(P, q, 1.0, ref, "logit")
    assert np.all(np.isfinite(sol.pi))
    assert not np.any(np.isnan(wro_scores(P, q, "logit")))
    # the limit of a bounded strictly increasing h_T = T tanh(logit / T) as T grows
    T = 1e4

    def h_T(p):
        with np.errstate(divide="ignore"):
            return T * np.tanh((np.log(p) - np.log1p(-p)) / T)

    clipped = wro_optimum(P, q, 1.0, ref, HFunction("logit_T", h_T))
    assert np.max(np.abs(clipped.pi - sol.pi)) < 1e-8
    # n(y) = q(sure wins) - q(sure losses): response 0: 0.4 - 0.2 = 0.2; response 1:
    # 0.2 - 0.1 = 0.1; response 2: 0; response 3: 0.1 - 0.4 = -0.3
    assert sol.pi[0] == pytest.approx(1.0) and sol.value == np.inf
    zero = wro_optimum(P, q, 0, None, "logit")
    assert zero.argmax == ((0,),) and zero.value == np.inf


def test_log_h_with_zero_preferences():
    P = total_order(3, exact=False)
    q = np.array([0.2, 0.3, 0.5])
    sol = wro_optimum(P, q, 0.1, np.array([0.3, 0.3, 0.4]), "log")
    assert sol.pi.tolist() == [1.0, 0.0, 0.0]
    # the only response with a finite log-win rate is the top one
    expected = h_win_rate(P, [1.0, 0.0, 0.0], q, "log") - 0.1 * np.log(1 / 0.3)
    assert abs(sol.value - expected) < TOL


def test_many_prompts_value_is_rho_weighted():
    rng = np.random.default_rng(4)
    P = np.stack([random_preference_matrix(rng, 3) for _ in range(4)])
    q = rng.dirichlet(np.ones(3), size=4)
    ref = rng.dirichlet(np.ones(3), size=4)
    rho = rng.dirichlet(np.ones(4))
    sol = wro_optimum(P, q, 0.5, ref, "identity", rho)
    assert sol.pi.shape == (4, 3)
    assert abs(sol.value - rho @ sol.values) < TOL
    per = wro_objective_per_prompt(P, sol.pi, q, 0.5, ref)
    assert np.allclose(per, sol.values, atol=TOL)


def test_self_play_solutions():
    sol = wro_optimum(rock_paper_scissors(), "self")
    assert sol.pi.tolist() == [F(1, 3)] * 3 and sol.value == F(1, 2)
    assert sol.method == "maximal-lottery"
    ref = np.array([0.6, 0.3, 0.1])
    eq = wro_optimum(rock_paper_scissors(exact=False), "self", 0.2, ref)
    assert eq.method == "regularized-nash" and eq.certificate <= 1e-12
    # the equilibrium is the fixed-anchor optimum against itself
    br = wro_optimum(rock_paper_scissors(exact=False), eq.pi, 0.2, ref)
    assert np.max(np.abs(br.pi - eq.pi)) < 1e-10


def test_wro_optimum_data_uses_the_data_anchor():
    P = cyclic(3)
    D = PreferenceData(P=P, mu0=[F(1, 2), F(1, 2), 0], mu1=[F(1, 2), 0, F(1, 2)])
    sol = wro_optimum_data(D)
    direct = wro_optimum(P, [F(1, 2), F(1, 4), F(1, 4)])
    assert sol.argmax == direct.argmax and sol.value == direct.value


def test_rlhf_policy_equals_logit_wro_for_bradley_terry():
    rng = np.random.default_rng(5)
    r = rng.normal(size=4)
    P = bradley_terry_matrix(r)
    mu = rng.dirichlet(np.ones(4))
    D = PreferenceData(P=P, mu0=mu)
    ref = rng.dirichlet(np.ones(4))
    pol = rlhf_policy(D, 0.7, ref)
    for q in (mu, np.full(4, 0.25), np.array([1.0, 0, 0, 0])):
        assert np.max(np.abs(wro_optimum(P, q, 0.7, ref, "logit").pi - pol.pi[0])) < 1e-9
    assert abs(pol.value - rlhf_objective(pol.rewards, pol.pi, 0.7, ref)) < TOL
    zero = rlhf_policy(D, 0, ref)
    assert zero.argmax == ((int(np.argmax(r)),),)


def test_rlhf_from_samples_and_no_mle():
    rng = np.random.default_rng(6)
    D = PreferenceData(P=bradley_terry_matrix(np.array([0.0, 1.0, 2.0])), mu0=np.full(3, 1 / 3))
    ds = sample_dataset(D, 3000, rng)
    pol = rlhf_policy(ds, 1.0)
    assert pol.pi.shape == (1, 3) and pol.fit.gradient_norm < 1e-6
    assert np.argmax(pol.pi[0]) == 2
    order = PreferenceData(P=total_order(3, exact=False), mu0=np.full(3, 1 / 3))
    with pytest.raises(NoMaximumLikelihoodError, match="win every comparison"):
        rlhf_policy(order, 1.0)
    with pytest.raises(NoMaximumLikelihoodError):
        rlhf_policy(sample_dataset(order, 100, rng), 1.0)


def _broken_optimum(real):
    """A wrong solver: the closed form at twice the requested beta."""

    def wrong(P, anchor, beta=0, pi_ref=None, h="identity", rho=None):
        if isinstance(anchor, str) or not beta:
            return real(P, anchor, beta, pi_ref, h, rho)
        return real(P, anchor, 2 * beta, pi_ref, h, rho)

    return wrong


@pytest.mark.parametrize("module", ["wro_closed_form", "wro_consistency", "rlhf_is_wro"])
def test_claim_checks_detect_a_wrong_solver(module, monkeypatch):
    import importlib

    from proofs_checks.scaffold import CheckContext

    mod = importlib.import_module(f"proofs_checks.{module}")
    monkeypatch.setattr(mod, "wro_optimum", _broken_optimum(mod.wro_optimum))
    if module == "wro_consistency":  # make the wrong solver the one consulted at beta = 0 too
        real = mod.wro_optimum

        def worse(P, anchor, beta=0, pi_ref=None, h="identity", rho=None):
            sol = real(P, anchor, beta, pi_ref, h, rho)
            if isinstance(anchor, str) or beta:
                return sol
            flipped = np.roll(np.asarray(sol.pi, dtype=float), 1, axis=-1)
            return type(sol)(flipped, sol.value, sol.values, sol.argmax, sol.certificate, "x")

        monkeypatch.setattr(mod, "wro_optimum", worse)
    ctx = CheckContext(instances=40, seed=0, rng=np.random.default_rng(0))
    assert mod.CLAIM.check(ctx).found


# --- property tests (Hypothesis) ------------------------------------------------------------


@st.composite
def _exact_instance(draw):
    K = draw(st.integers(2, 5))
    P = draw(preference_matrices(K, exact=True))
    q = draw(simplex_vectors(K, zeros=True, exact=True))
    pi = draw(simplex_vectors(K, zeros=True, exact=True))
    return P, q, pi


@given(_exact_instance())
def test_property_no_model_beats_the_exact_argmax_value(inst):
    P, q, pi = inst
    sol = wro_optimum(P, q)
    J = wro_objective(P, pi, q)
    assert isinstance(J, F) and J <= sol.value
    # equality exactly when pi is supported on the argmax set
    on_set = all(pi[y] == 0 or y in sol.argmax[0] for y in range(len(pi)))
    assert (J == sol.value) == on_set


@given(_exact_instance(), st.sampled_from([0.1, 1.0, 10.0]))
def test_property_closed_form_dominates(inst, beta):
    P, q, pi = inst
    K = len(q)
    ref = np.full(K, 1.0 / K)
    sol = wro_optimum(P, q, beta, ref)
    assert wro_objective(P, pi, q, beta, ref) <= sol.value + 1e-12
    assert abs(wro_objective(P, sol.pi, q, beta, ref) - sol.value) <= 1e-12
