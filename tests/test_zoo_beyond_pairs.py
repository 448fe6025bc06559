"""Methods on data beyond one labelled pair (theory.zoo.tie_dpo, listwise, kto, beyond_pairs).

Each minimizer is checked against an independent direct minimization of its population loss
(scipy over softmax logits), on its own model against RLHF's logit-WRO optimum, and every
public function rejects bad input with a named error."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from theory.errors import InvalidParameterError, NoMaximumLikelihoodError, ShapeMismatchError
from theory.feedback import (
    RankingData,
    TieData,
    UnpairedData,
    davidson_outcomes,
    plackett_luce_rankings,
    random_ranking_data,
    random_tie_data,
    rao_kupper_outcomes,
    tie_preferences,
)
from theory.preferences import bradley_terry_from_strengths
from theory.wro import wro_optimum
from theory.zoo import (
    BEYOND_PAIRS,
    classify_beyond_pairs,
    kto_limit,
    kto_loss,
    kto_minimizer,
    listwise_dpo_loss,
    listwise_dpo_minimizer,
    tie_dpo_loss,
    tie_dpo_minimizer,
)
from theory.zoo.kto import kto_reference_point, kto_weights


def _softmax(th):
    p = np.exp(th - th.max())
    return p / p.sum()


def _direct(loss, K, starts=3):
    """The best of a few BFGS runs of ``loss`` over softmax logits (the independent path)."""
    best = None
    for s in range(starts):
        x0 = np.random.default_rng(s).normal(size=K)
        r = minimize(lambda th: loss(_softmax(th)), x0, method="BFGS", options={"gtol": 1e-10})
        if best is None or r.fun < best.fun:
            best = r
    return _softmax(best.x), best.fun


# ------------------------------------------------------------------------------ tie-aware DPO


@pytest.mark.parametrize("model", ["davidson", "rao_kupper"])
@pytest.mark.parametrize("seed", [0, 1])
def test_tie_dpo_minimizer_matches_direct_minimization(model, seed):
    rng = np.random.default_rng(seed)
    D = random_tie_data(rng, 1, 3, model="general")
    ref = np.array([0.5, 0.3, 0.2])
    sol = tie_dpo_minimizer(D, ref, 0.5, model)
    assert sol.gradient_norm < 1e-9
    pi, val = _direct(lambda p: tie_dpo_loss(D, p, ref, 0.5, model), 3)
    assert tie_dpo_loss(D, sol.pi, ref, 0.5, model) <= val + 1e-9
    assert np.abs(pi - sol.pi[0]).max() < 1e-4


@pytest.mark.parametrize(
    ("make", "model"), [(davidson_outcomes, "davidson"), (rao_kupper_outcomes, "rao_kupper")]
)
def test_tie_dpo_on_its_own_model_is_rlhf(make, model):
    s = [1, 4, 9]
    win, tie = make(s)
    mu = [F(1, 2), F(1, 3), F(1, 6)]
    ref = np.array([0.2, 0.3, 0.5])
    sol = tie_dpo_minimizer(TieData(win, tie, mu0=mu), ref, 2.0, model)
    opt = wro_optimum(bradley_terry_from_strengths(s), np.array(mu, float), 2.0, ref, h="logit")
    assert np.abs(sol.pi[0] - opt.pi).max() < 1e-9
    if model == "davidson":  # ties dropped: that matrix is the data's own P
        assert np.all(tie_preferences(win, tie, "drop") == bradley_terry_from_strengths(s))


def test_tie_dpo_without_mle_raises():
    win = [[0, 1], [0, 0]]
    tie = [[1, 0], [0, 1]]
    with pytest.raises(NoMaximumLikelihoodError):
        tie_dpo_minimizer(TieData(win, tie, mu0=[F(1, 2)] * 2), [F(1, 2)] * 2)
    # one tie is enough for the fit to exist
    win, tie = [[0, F(9, 10)], [0, 0]], [[1, F(1, 10)], [F(1, 10), 1]]
    sol = tie_dpo_minimizer(TieData(win, tie, mu0=[F(1, 2)] * 2), [F(1, 2)] * 2)
    assert np.isfinite(sol.rewards).all()


def test_tie_dpo_bad_input():
    win, tie = davidson_outcomes([1, 4])
    D = TieData(win, tie, mu0=[F(1, 2)] * 2)
    with pytest.raises(InvalidParameterError, match="nu"):
        tie_dpo_minimizer(D, [F(1, 2)] * 2, 1, "davidson", 0)
    with pytest.raises(InvalidParameterError, match="theta"):
        tie_dpo_minimizer(D, [F(1, 2)] * 2, 1, "rao_kupper", 1)
    with pytest.raises(InvalidParameterError, match="tie model"):
        tie_dpo_loss(D, [F(1, 2)] * 2, [F(1, 2)] * 2, 1, "thurstone")
    with pytest.raises(InvalidParameterError, match="beta"):
        tie_dpo_minimizer(D, [F(1, 2)] * 2, 0)
    with pytest.raises(ShapeMismatchError):
        tie_dpo_minimizer(D, [F(1, 3)] * 3)
    with pytest.raises(InvalidParameterError, match="TieData"):
        tie_dpo_minimizer("data", [F(1, 2)] * 2)
    assert tie_dpo_loss(D, [1, 0], [F(1, 2)] * 2) == float("inf")


# ------------------------------------------------------------------------------ listwise DPO


@settings(max_examples=15)
@given(st.lists(st.integers(1, 9), min_size=2, max_size=4), st.data())
def test_listwise_on_plackett_luce_is_rlhf(s, data):
    k = data.draw(st.integers(2, len(s)))
    D = plackett_luce_rankings(s, k)
    ref = np.full(len(s), 1 / len(s))
    sol = listwise_dpo_minimizer(D, ref, 1.0)
    assert np.abs(sol.pi[0] - np.array(s) / sum(s)).max() < 1e-9


def test_listwise_minimizer_matches_direct_minimization():
    D = random_ranking_data(np.random.default_rng(5), 3, model="general")
    ref = np.array([0.5, 0.3, 0.2])
    sol = listwise_dpo_minimizer(D, ref, 0.7)
    pi, val = _direct(lambda p: listwise_dpo_loss(D, p, ref, 0.7), 3)
    assert listwise_dpo_loss(D, sol.pi, ref, 0.7) <= val + 1e-9
    assert np.abs(pi - sol.pi[0]).max() < 1e-4


def test_listwise_fit_depends_on_list_length():
    rng = np.random.default_rng(0)
    full = random_ranking_data(rng, 4, model="general")
    top2 = {}
    for r, p in zip(full.rankings, full.probs[0], strict=True):  # the top two of each ranking
        key = (int(r[0]), int(r[1]))
        top2[key] = top2.get(key, 0.0) + p
    short = RankingData([list(k) for k in top2], list(top2.values()), K=4)
    a = listwise_dpo_minimizer(full, np.full(4, 0.25)).pi[0]
    b = listwise_dpo_minimizer(short, np.full(4, 0.25)).pi[0]
    assert np.abs(a - b).max() > 1e-3


def test_listwise_bad_input():
    D = RankingData([[0, 1]], [1], K=2)
    with pytest.raises(NoMaximumLikelihoodError):
        listwise_dpo_minimizer(D, [F(1, 2)] * 2)
    with pytest.raises(InvalidParameterError, match="RankingData"):
        listwise_dpo_loss(None, [1, 0], [1, 0])
    with pytest.raises(ShapeMismatchError):
        listwise_dpo_minimizer(plackett_luce_rankings([1, 2]), [F(1, 3)] * 3)
    assert listwise_dpo_loss(D, [1, 0], [F(1, 2)] * 2) == float("inf")


# --------------------------------------------------------------------------------------- KTO


def _example():
    return UnpairedData(g=[F(9, 10), F(7, 10), F(3, 10)], mu=[F(1, 5), F(1, 5), F(3, 5)])


def test_kto_limit_is_exact_and_not_the_argmax():
    assert kto_limit(_example()).tolist() == [[F(2, 3), F(1, 3), F(0)]]
    assert kto_limit(_example(), lambda_d=1, lambda_u=F(1, 4))[0, 2] > 0  # g = 3/10 > 1/5


@pytest.mark.parametrize("z0", ["kl", "trl"])
@pytest.mark.parametrize("beta", [0.05, 0.5, 0.9])
def test_kto_fixed_point_minimizes_the_loss_with_z0_held(z0, beta):
    D = _example()
    ref = np.array([0.5, 0.3, 0.2])
    sol = kto_minimizer(D, ref, beta, z0)
    assert sol.residual < 1e-8
    assert abs(kto_reference_point(D, sol.pi, ref, z0) - sol.z0) < 1e-9
    g, mu = np.array([0.9, 0.7, 0.3]), np.array([0.2, 0.2, 0.6])

    def held(p):
        d = np.log(p) - np.log(ref)
        s = 1 / (1 + np.exp(-beta * (d - sol.z0)))
        return float(mu @ (g * (1 - s) + (1 - g) * s))

    pi, val = _direct(held, 3)
    assert held(np.maximum(sol.pi[0], 1e-300)) <= val + 1e-12
    assert np.abs(pi - sol.pi[0]).max() < 1e-3


def test_kto_small_beta_tends_to_the_limit():
    sol = kto_minimizer(_example(), np.full(3, 1 / 3), 1e-3)
    assert np.abs(sol.pi[0] - [2 / 3, 1 / 3, 0]).max() < 1e-2


def test_kto_trl_reference_point_is_not_the_kl():
    D = UnpairedData(g=[F(9, 10), F(6, 10)], mu=[F(1, 2)] * 2)
    ref = np.array([0.5, 0.5])
    pi = np.array([0.8, 0.2])
    kl = kto_reference_point(D, pi, ref, "kl")
    trl = kto_reference_point(D, pi, ref, "trl")
    assert kl > 0 and trl == 0.0  # E_mu log(pi/ref) = (log 1.6 + log .4)/2 < 0, clamped
    assert kto_loss(D, pi, ref, 0.1, "kl") != kto_loss(D, pi, ref, 0.1, "trl")


def test_kto_weights_exact():
    assert kto_weights(_example()).tolist()[0][2] == F(3, 5) * (F(3, 10) - F(7, 10))


def test_kto_bad_input():
    D = _example()
    with pytest.raises(InvalidParameterError, match="0 < beta < 1"):
        kto_minimizer(D, np.full(3, 1 / 3), 1)
    with pytest.raises(InvalidParameterError, match="z0"):
        kto_minimizer(D, np.full(3, 1 / 3), 0.1, "batch")
    with pytest.raises(InvalidParameterError, match="lambda_u"):
        kto_limit(D, 1, 0)
    with pytest.raises(InvalidParameterError, match="no response"):
        kto_limit(UnpairedData(g=[0, F(1, 4)], mu=[F(1, 2)] * 2))
    with pytest.raises(InvalidParameterError, match="pi_ref"):
        kto_minimizer(D, [0, 0, 1], 0.1)
    with pytest.raises(InvalidParameterError, match="UnpairedData"):
        kto_loss([1], [1], [1])
    with pytest.raises(ShapeMismatchError):
        kto_loss(D, [1, 0], [1, 0])


# ---------------------------------------------------------------------------- classification


def test_classification_of_the_four_methods():
    kto = classify_beyond_pairs("kto", instances=60, max_K=4)
    assert not kto.consistent and kto.example is not None
    for method in ("tie_dpo_davidson", "listwise_dpo"):
        r = classify_beyond_pairs(method, instances=30, max_K=4)
        assert r.own_model_wro == r.own_model_tried > 0
    dav = classify_beyond_pairs("tie_dpo_davidson", instances=30, max_K=4)
    assert dav.short_by_convention["half"] == 0  # matches half-credit marginals (mu0 = mu1)
    assert set(BEYOND_PAIRS) == {"tie_dpo_davidson", "tie_dpo_rao_kupper", "listwise_dpo", "kto"}


def test_classification_bad_input():
    with pytest.raises(InvalidParameterError, match="unknown method"):
        classify_beyond_pairs("orpo")
    with pytest.raises(InvalidParameterError, match="max_K"):
        classify_beyond_pairs("kto", max_K=1)
    with pytest.raises(InvalidParameterError, match="instances"):
        classify_beyond_pairs("kto", instances=0)
