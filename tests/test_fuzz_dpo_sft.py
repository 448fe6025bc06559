"""Fuzz tests (issue 10, part 2) for DPO, SFT, the data model, checkpoints and the search.

Every public function of :mod:`theory.methods.dpo`, :mod:`theory.methods.sft`,
:mod:`theory.data` and :mod:`theory.checkpoints` must return the right answer or raise a named
:class:`~theory.errors.TheoryError`: never a NaN, never a raw numpy/Python error.  The families:
extreme ``beta`` (exact or float, ``1e-400`` to ``1e400``), zeros in ``pi_ref``/``mu0``/``mu1``/
``pi`` (whole components unsupported), empty and mismatched shapes, wrong types, non-finite
values.  Answers are compared with independent computations (the ``beta -> 0`` and
``beta -> infinity`` limits by hand, exact Fractions), not with the function under test.
"""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.checkpoints import checkpoint_path, estimate_win_rates, select_checkpoints
from theory.data import (
    PreferenceData,
    empirical_distribution,
    random_preference_data,
    sample_dataset,
    winner_loser_distribution,
)
from theory.errors import SupportMismatchError, TheoryError
from theory.methods.dpo import (
    WinRateRange,
    dpo_data_win_rate_range,
    dpo_implicit_reward,
    dpo_logit_gradient,
    dpo_loss,
    dpo_loss_from_log_probs,
    dpo_loss_from_weights,
    dpo_minimizers,
    dpo_sampled_loss,
    dpo_weights,
)
from theory.methods.sft import sft_loss, sft_sampled_loss, sft_target, sft_win_rate
from theory.numbers import to_float
from theory.preferences import bradley_terry_from_strengths, total_order
from theory.simplex import uniform

F = Fraction
P3 = bradley_terry_from_strengths([1, 2, 4])
D3 = PreferenceData(P3, uniform(3))
REF = [[F(1, 2), F(1, 4), F(1, 4)]]

#: betas across the whole range the issue names, exact and float.
EXTREME_BETAS = [
    F(1, 10**400),
    F(1, 10**6),
    5e-324,
    1e-300,
    1e-30,
    F(1, 3),
    1.0,
    1e12,
    1e300,
    F(10**400),
]


def _short(beta):
    return repr(beta)[:40]


BAD_VALUES = [None, "abc", 1j, float("nan"), float("inf"), [], [[]], (v for v in [1.0])]


def _answer_or_named(f, *args, **kwargs):
    """Call ``f``: a result without NaN, or a TheoryError (anything else fails the test)."""
    try:
        out = f(*args, **kwargs)
    except TheoryError:
        return None
    if isinstance(out, WinRateRange):
        out = np.array([out.best, out.worst], dtype=object)
    arr = np.asarray(to_float(out) if isinstance(out, np.ndarray) else out, dtype=float)
    assert not np.isnan(arr).any(), f"{f.__name__} returned NaN: {out!r}"
    return out


# ---------------------------------------------------------------------------------------------
# the one rule for zeros in the reference


def test_reference_zero_on_a_compared_response_is_refused_by_loss_and_minimizers():
    ref = [[0.5, 0.5, 0.0]]
    with pytest.raises(SupportMismatchError, match=r"pi_ref\[0, 2\] = 0"):
        dpo_minimizers(D3, ref, 1)
    with pytest.raises(SupportMismatchError, match=r"pi_ref\[0, 2\] = 0"):
        dpo_loss(D3, [[F(1, 3), F(2, 3), 0]], ref, 1)
    with pytest.raises(SupportMismatchError):
        dpo_data_win_rate_range(D3, ref, 1)


def test_reference_zero_on_a_whole_compared_component_is_refused():
    D = PreferenceData(P3, [[F(1, 2), F(1, 2), 0]])  # component {0, 1}; 2 is free
    with pytest.raises(SupportMismatchError):
        dpo_minimizers(D, [[0, 0, 1]], 1)
    with pytest.raises(SupportMismatchError):
        dpo_loss(D, [[F(1, 3), F(1, 3), F(1, 3)]], [[0, 0, 1]], 1)


def test_reference_zero_on_a_free_response_keeps_the_free_mass():
    D = PreferenceData(P3, [[F(1, 2), F(1, 2), 0]])
    S = dpo_minimizers(D, [[F(1, 2), F(1, 2), 0]], 1)
    point = S.point()
    assert point.tolist() == [[F(1, 6), F(1, 3), F(1, 2)]]  # nu = (1/3, 2/3, 0), half on 2
    assert abs(dpo_loss(D, point, [[F(1, 2), F(1, 2), 0]]) - S.min_loss) < 1e-12


@st.composite
def _vector_with_zeros(draw, K):
    v = [draw(st.integers(0, 3)) for _ in range(K)]
    if sum(v) == 0:
        v[draw(st.integers(0, K - 1))] = 1
    return [F(a, sum(v)) for a in v]


@st.composite
def _support_case(draw):
    K = draw(st.integers(2, 5))
    s = [draw(st.integers(1, 4)) for _ in range(K)]
    return (
        K,
        bradley_terry_from_strengths(s),
        draw(_vector_with_zeros(K)),
        draw(_vector_with_zeros(K)),
    )


@given(_support_case())
def test_one_rule_for_zeros_in_loss_and_minimizers(case):
    """``dpo_minimizers`` refuses a reference iff ``dpo_loss`` does; when accepted, every member
    is finite, sums to 1 and attains the minimum loss."""
    K, P, mu, ref = case
    D = PreferenceData(P, mu)
    try:
        dpo_loss(D, uniform(K), [ref], 1)
        loss_ok = True
    except SupportMismatchError:
        loss_ok = False
    try:
        S = dpo_minimizers(D, [ref], 1)
        set_ok = True
    except SupportMismatchError:
        set_ok = False
    assert loss_ok == set_ok
    if set_ok and S.exists:
        pi = to_float(S.point())
        assert np.isfinite(pi).all() and abs(pi.sum() - 1) < 1e-12
        assert abs(dpo_loss(D, S.point(), [ref], 1) - S.min_loss) < 1e-9


# ---------------------------------------------------------------------------------------------
# extreme beta: the right limit, fast


def _limit_point(beta):
    """By hand: ``beta -> 0`` puts all mass on the strongest response (strength 4), ``beta ->
    infinity`` gives back the reference; in between ``ref s^(1/beta) / Z``."""
    if isinstance(beta, Fraction) and beta.numerator > 10**300:
        return np.array([0.5, 0.25, 0.25])
    b = float(beta) if not isinstance(beta, Fraction) or beta.denominator < 10**300 else 0.0
    if b < 1e-3:
        return np.array([0.0, 0.0, 1.0])
    w = np.array([0.5, 0.25, 0.25]) * np.array([1.0, 2.0, 4.0]) ** (1 / b)
    return w / w.sum()


@pytest.mark.parametrize("beta", EXTREME_BETAS, ids=_short)
def test_minimizers_at_extreme_beta(beta):
    t0 = time.perf_counter()
    S = dpo_minimizers(D3, REF, beta)
    pi = to_float(S.point())[0]
    assert time.perf_counter() - t0 < 5
    assert np.isfinite(pi).all()
    np.testing.assert_allclose(pi, _limit_point(beta), atol=1e-9)
    path = to_float(S.path_log(0.0))
    assert not np.isnan(path).any()
    loss = dpo_loss(D3, REF, REF, beta)
    assert not np.isnan(loss)


@pytest.mark.parametrize("beta", [F(1, 10**400), 5e-324, 1e300, F(10**400)], ids=_short)
def test_minimizers_at_extreme_beta_k10_within_5s(beta):
    P = bradley_terry_from_strengths(list(range(1, 11)))
    D = PreferenceData(P, uniform(10))
    t0 = time.perf_counter()
    pi = to_float(dpo_minimizers(D, [uniform(10)], beta).point())
    assert time.perf_counter() - t0 < 5
    assert np.isfinite(pi).all() and abs(pi.sum() - 1) < 1e-12


@pytest.mark.parametrize("beta", [F(1, 10**400), 5e-324, F(10**400)], ids=_short)
def test_losses_at_extreme_beta_are_the_limits(beta):
    pi = [[F(1, 4), F(1, 4), F(1, 2)]]  # d = (log 1/2, 0, log 2): margins of sign (d_i - d_j)
    w = to_float(winner_loser_distribution(D3))[0]
    d = np.log([0.5, 1.0, 2.0])
    tiny = (isinstance(beta, Fraction) and beta < 1) or (isinstance(beta, float) and beta < 1)
    if tiny:  # every margin -> 0: log 2 per unit weight
        expected = np.log(2.0)
    else:  # margins -> +-inf: a pair won by the lower d costs inf
        lose = sum(w[i, j] for i in range(3) for j in range(3) if d[i] < d[j])
        expected = np.inf if lose > 0 else np.log(2.0) * w.trace()
    got = dpo_loss(D3, pi, REF, beta)
    assert got == pytest.approx(expected, rel=1e-12)
    ds = sample_dataset(D3, 30, np.random.default_rng(0))
    assert not np.isnan(dpo_sampled_loss(ds, pi, REF, beta))
    r = dpo_implicit_reward(pi, REF, beta)
    assert not np.isnan(r).any()


# ---------------------------------------------------------------------------------------------
# named errors for the cases of the issue


@pytest.mark.parametrize(
    "t", [[[float("nan")]], [[float("inf")]], [["a"]], [[None]], [[1j]], [], 3, [[F(1, 2)], [1]]]
)
def test_point_weights_are_validated(t):
    S = dpo_minimizers(D3, REF, 1)
    with pytest.raises(TheoryError):
        S.point(t=t)


def test_implicit_reward_validates_its_inputs():
    with pytest.raises(TheoryError):
        dpo_implicit_reward([1.5, -0.5], [0.5, 0.5])
    with pytest.raises(SupportMismatchError):
        dpo_implicit_reward([0.5, 0.5], [1.0, 0.0])
    with pytest.raises(TheoryError):
        dpo_implicit_reward([0.5, 0.5], [0.5, 0.25, 0.25])
    r = dpo_implicit_reward([1.0, 0.0], [0.5, 0.5])
    assert r[0] == pytest.approx(np.log(2)) and r[1] == -np.inf


@pytest.mark.parametrize("beta", [-1, 0, float("nan"), float("inf"), "1", None, 1j])
def test_logit_gradient_refuses_bad_beta(beta):
    w = to_float(dpo_weights(D3))
    with pytest.raises(TheoryError):
        dpo_logit_gradient(w, np.zeros((1, 3)), np.log(np.full((1, 3), 1 / 3)), beta)


def test_logit_gradient_refuses_bad_weights_and_shapes():
    w = to_float(dpo_weights(D3))
    z, lr = np.zeros((1, 3)), np.log(np.full((1, 3), 1 / 3))
    for bad_w in (-w, w * np.nan, w[:, :2], np.zeros((0, 3, 3))):
        with pytest.raises(TheoryError):
            dpo_logit_gradient(bad_w, z, lr)
    for bad_z in (np.zeros((1, 2)), np.full((1, 3), np.nan), [["a", 0, 0]]):
        with pytest.raises(TheoryError):
            dpo_logit_gradient(w, bad_z, lr)
    with pytest.raises(TheoryError):
        dpo_logit_gradient(w, z, [[0.0, -np.inf, -np.inf]])


@pytest.mark.parametrize(
    "log_pi",
    [
        np.full((1, 3), np.nan),
        np.array([[np.inf, 0.0, 0.0]]),
        np.zeros((1, 3)),  # not normalised
        [["a", "b", "c"]],
        np.zeros((1, 2)),
        np.zeros((0, 3)),
    ],
)
def test_loss_from_log_probs_refuses_bad_input(log_pi):
    w = dpo_weights(D3)
    with pytest.raises(TheoryError):
        dpo_loss_from_log_probs(w, log_pi, REF)


def test_loss_from_log_probs_matches_loss_with_zero_mass():
    pi = [[0.5, 0.5, 0.0]]
    with np.errstate(divide="ignore"):
        lp = np.log(pi)
    w = dpo_weights(D3)
    assert dpo_loss_from_log_probs(w, lp, REF) == dpo_loss_from_weights(w, pi, REF)


def test_sampling_and_sft_refuse_wrong_types():
    with pytest.raises(TheoryError, match="rng"):
        sample_dataset(D3, 10, rng=None)
    with pytest.raises(TheoryError, match="rng"):
        sample_dataset(D3, 10, rng=0)
    with pytest.raises(TheoryError):
        sample_dataset(D3, True, np.random.default_rng(0))
    with pytest.raises(TheoryError):
        sample_dataset(None, 10, np.random.default_rng(0))
    for f in (sft_target, winner_loser_distribution, empirical_distribution):
        with pytest.raises(TheoryError):
            f(None)
    with pytest.raises(TheoryError):
        sft_loss(None, uniform(3))
    with pytest.raises(TheoryError):
        sft_sampled_loss(None, uniform(3))
    with pytest.raises(TheoryError):
        sft_win_rate("data")
    with pytest.raises(TheoryError):
        dpo_sampled_loss(None, uniform(3), uniform(3))
    with pytest.raises(TheoryError):
        random_preference_data(None, 1, 3)


def test_checkpoints_refuse_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(TheoryError):
        checkpoint_path(D3, [[0.5, 0.5, 0.0]], 1.0, rng)  # tabular logits need pi_ref > 0
    with pytest.raises(TheoryError):
        checkpoint_path(None, REF, 1.0, rng)
    with pytest.raises(TheoryError):
        checkpoint_path(D3, REF, F(1, 10**400), rng)
    with pytest.raises(TheoryError):
        checkpoint_path(D3, [[0.5, 0.5]], 1.0, rng)
    cp = checkpoint_path(D3, REF, 1.0, rng, steps=3)
    with pytest.raises(TheoryError):
        estimate_win_rates(cp, D3, 10, None)
    with pytest.raises(TheoryError):
        estimate_win_rates(None, D3, 10, rng)
    with pytest.raises(TheoryError):
        select_checkpoints(None)
    with pytest.raises(TheoryError):
        select_checkpoints(cp, win_rates=[np.nan] * 4)


# ---------------------------------------------------------------------------------------------
# families: any input is an answer without NaN or a named error

_values = st.one_of(
    st.sampled_from(BAD_VALUES[:5]),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.fractions(min_value=-1, max_value=2, max_denominator=8),
    st.just(0),
)


@st.composite
def _arrays(draw, shape_choices=((1, 3), (3,), (2, 3), (1, 2), (0, 3))):
    shape = draw(st.sampled_from(shape_choices))
    n = int(np.prod(shape))
    if draw(st.booleans()):  # a valid-looking distribution with zeros
        return [[F(1, 2), F(1, 2), 0]] if shape == (1, 3) else uniform(3)
    vals = [draw(_values) for _ in range(n)]
    return np.array(vals, dtype=object).reshape(shape).tolist()


_betas = st.one_of(
    st.sampled_from(EXTREME_BETAS + [0, -1, float("nan"), float("inf"), None, "1", 1j]),
    st.floats(min_value=1e-320, max_value=1e300),
)


@given(pi=_arrays(), ref=_arrays(), beta=_betas)
def test_dpo_functions_answer_or_raise_named(pi, ref, beta):
    _answer_or_named(dpo_loss, D3, pi, ref, beta)
    _answer_or_named(dpo_implicit_reward, pi, ref, beta)
    w = dpo_weights(D3)
    _answer_or_named(dpo_loss_from_weights, w, pi, ref, beta)
    try:
        S = dpo_minimizers(D3, ref, beta)
    except TheoryError:
        return
    _answer_or_named(S.point)
    _answer_or_named(S.point, t=[pi] if not isinstance(pi, list) else pi)


@given(mu0=_arrays(), mu1=_arrays(), pi=_arrays())
def test_data_and_sft_answer_or_raise_named(mu0, mu1, pi):
    try:
        D = PreferenceData(P3, mu0, mu1)
    except TheoryError:
        return
    for side in ("preferred", "dispreferred", "other"):
        _answer_or_named(sft_target, D, side)
        _answer_or_named(sft_loss, D, pi, side)
        _answer_or_named(sft_win_rate, D, side)
    _answer_or_named(dpo_loss, D, pi, uniform(3), 1)
    _answer_or_named(dpo_data_win_rate_range, D, uniform(3), 1)


@given(seed=st.integers(0, 2**16), K=st.integers(2, 5), beta=st.sampled_from(EXTREME_BETAS))
def test_sampled_data_with_zeros_minimizers_are_minimizers(seed, K, beta):
    """Sampled datasets of data with zeros (several components, free responses): every member of
    the minimizer set attains ``min_loss``, whatever beta."""
    rng = np.random.default_rng(seed)
    D = random_preference_data(rng, 1, K, zeros=True, exact=True)
    ds = sample_dataset(D, 6, rng)
    ref = [uniform(K)]
    S = dpo_minimizers(ds, ref, beta)
    if not S.exists:
        return
    pi = S.point()
    assert np.isfinite(to_float(pi)).all()
    if beta in (F(1, 3), 1.0):  # elsewhere a float member's loss is ill-conditioned
        w = dpo_weights(ds)
        assert abs(dpo_loss_from_weights(w, pi, ref, beta) - S.min_loss) < 1e-7


def test_total_order_has_no_minimizer_at_any_beta():
    D = PreferenceData(total_order(3), uniform(3))
    for beta in EXTREME_BETAS:
        S = dpo_minimizers(D, [uniform(3)], beta)
        assert not S.exists
        assert not np.isnan(S.path(5.0)).any()
