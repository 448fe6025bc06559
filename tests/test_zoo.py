"""Tests of theory.zoo: gradients, exact values, closed forms against the generic solver, the
certificates, bad input, and the freshness of docs/zoo.md."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction as F

import numpy as np
import pytest
import sympy

from theory import PreferenceData, dpo_loss, dpo_minimizers, total_order, wro_optimum
from theory.data import random_preference_data, winner_loser_distribution
from theory.errors import InvalidParameterError
from theory.zoo import (
    ZOO,
    NaNLossError,
    NonFiniteLossError,
    NotAMarginLossError,
    margin_loss,
)
from theory.zoo.classify import classify
from theory.zoo.closed_forms import (
    apo_zero_limit,
    bco_minimizer,
    ipo_rewards,
    k2_link,
    rdpo_unbounded,
    smoothed_data,
    tilt,
)
from theory.zoo.instances import random_instances
from theory.zoo.population import PairBatch, logit_scale, loss_and_gradient, population_loss
from theory.zoo.solve import _eval, _hessian, minimize, minimize_batch
from theory.zoo.witness import certify

RNG = np.random.default_rng(20251201)


def _batch(B: int = 4, K: int = 4) -> PairBatch:
    w = RNG.random((B, K, K))
    w /= w.sum(axis=(1, 2), keepdims=True)
    ref = RNG.dirichlet(np.ones(K), size=B)
    return PairBatch(w=w, log_ref=np.log(ref), beta=RNG.choice([0.5, 1.0, 2.0], size=B))


@pytest.mark.parametrize("name", list(ZOO))
def test_gradient_matches_finite_differences(name: str) -> None:
    loss, batch = ZOO[name], _batch()
    v = RNG.normal(size=(batch.B, batch.K))
    delta = np.full(batch.B, 0.3) if loss.shift else None
    _, g, gd = loss_and_gradient(loss, batch, v, delta)
    h = 1e-6
    for k in range(batch.K):
        e = np.zeros_like(v)
        e[:, k] = h
        num = (
            loss_and_gradient(loss, batch, v + e, delta)[0]
            - loss_and_gradient(loss, batch, v - e, delta)[0]
        ) / (2 * h)
        assert np.allclose(num, g[:, k], atol=1e-6)
    if delta is not None:
        num = (
            loss_and_gradient(loss, batch, v, delta + h)[0]
            - loss_and_gradient(loss, batch, v, delta - h)[0]
        ) / (2 * h)
        assert np.allclose(num, gd, atol=1e-6)


@pytest.mark.parametrize("name", list(ZOO))
@pytest.mark.parametrize("K", [2, 3, 5])
def test_batched_hessian_equals_one_direction_at_a_time(name: str, K: int) -> None:
    """The solver evaluates the Hessian's n forward steps as one batch; each problem's rows
    are computed as if alone, so it is bitwise the Hessian taken one direction per call."""
    loss, batch = ZOO[name], _batch(B=5, K=K)
    s = logit_scale(loss, batch.beta)
    x = RNG.normal(size=(batch.B, K + (1 if loss.shift else 0)))
    g = _eval(loss, batch, x, s)[1]
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    columns = []
    for k in range(x.shape[1]):
        step = x.copy()
        step[:, k] += h[:, k]
        columns.append((_eval(loss, batch, step, s)[1] - g) / h[:, k : k + 1])
    H = np.stack(columns, axis=2)
    assert np.array_equal(_hessian(loss, batch, x, g, s), (H + np.swapaxes(H, 1, 2)) / 2)


def test_registry_entries_state_their_source() -> None:
    for name, loss in ZOO.items():
        assert loss.name == name and loss.doc and loss.formula
        assert "arXiv" in loss.source and "arXiv" in loss.doc
    assert dict(ZOO["cdpo"].params) == {"eps": 0.1} == dict(ZOO["robust"].params)
    assert dict(ZOO["exo_pair"].params) == {"eps": 1e-3}
    assert dict(ZOO["discopop"].params) == {"tau": 0.05}
    assert ZOO["simpo"].reference_free and ZOO["orpo"].reference_free
    with pytest.raises(InvalidParameterError):
        ZOO["ipo"].with_params(eps=0.2)
    assert ZOO["cdpo"].with_params(eps=0.2).params["eps"] == 0.2


def _two(P01: F) -> PreferenceData:
    return PreferenceData(P=[[F(1, 2), P01], [1 - P01, F(1, 2)]], mu0=[F(1, 2), F(1, 2)])


def test_exact_values_of_rational_losses() -> None:
    D = _two(F(3, 4))
    d = [[F(1, 4), F(-1, 4)]]
    # w = (1/4, 3/8; 1/8, 1/4); IPO f(z) = (z - 1/2)^2 at beta = 1
    assert population_loss(ZOO["ipo"], D, beta=1, d=d) == F(1, 4)
    assert population_loss(ZOO["hinge"], D, beta=1, d=d) == F(1, 4) + F(3, 8) * F(1, 2) + F(
        1, 8
    ) * F(3, 2) + F(1, 4)
    # SPPO-hard: p_w = (5/8, 3/8), p_l = (3/8, 5/8), c = 1/2
    sppo = (
        F(5, 8) * (F(1, 4) - F(1, 2)) ** 2
        + F(3, 8) * (F(-1, 4) - F(1, 2)) ** 2
        + F(3, 8) * (F(1, 4) + F(1, 2)) ** 2
        + F(5, 8) * (F(-1, 4) + F(1, 2)) ** 2
    )
    assert population_loss(ZOO["sppo_hard"], D, beta=1, d=d) == sppo
    assert isinstance(population_loss(ZOO["sigmoid"], D, beta=1, d=d), float)


def test_dpo_kernel_path_equals_generic_path_and_dpo_loss() -> None:
    for _ in range(10):
        D = random_preference_data(RNG, 2, 4, symmetric=False)
        pi, ref = RNG.dirichlet(np.ones(4), size=2), RNG.dirichlet(np.ones(4), size=2)
        for name in ("sigmoid", "cdpo"):
            kernel = population_loss(ZOO[name], D, pi, ref, 0.5)
            generic = population_loss(replace(ZOO[name], kernel=None), D, pi, ref, 0.5)
            assert kernel == pytest.approx(generic, rel=1e-12)
        assert population_loss(ZOO["sigmoid"], D, pi, ref, 0.5) == pytest.approx(
            dpo_loss(D, pi, ref, 0.5), rel=1e-12
        )
        assert population_loss(ZOO["cdpo"], D, pi, ref, 0.5) == pytest.approx(
            dpo_loss(smoothed_data(D, 0.1), pi, ref, 0.5), rel=1e-12
        )


def test_ipo_closed_form_is_the_wro_optimum_when_mu0_equals_mu1() -> None:
    for K in (2, 3, 5):
        D = random_preference_data(RNG, 1, K, exact=True)
        ref = RNG.dirichlet(np.ones(K))[None]
        sol = minimize(ZOO["ipo"], D, ref, 0.5)
        wro = wro_optimum(
            np.asarray(D.P[0], float), np.asarray(D.mu0[0], float), beta=0.5, pi_ref=ref[0]
        ).pi
        assert sol.converged and np.allclose(sol.pi[0], wro, atol=1e-8)
        assert np.allclose(tilt(ref, ipo_rewards(D, F(1, 2))), sol.pi, atol=1e-8)


def test_ipo_closed_form_matches_the_solver_when_mu0_differs() -> None:
    for K in (3, 4):
        D = random_preference_data(RNG, 1, K, exact=True, symmetric=False)
        ref = RNG.dirichlet(np.ones(K))[None]
        d = ipo_rewards(D, F(2))
        assert all(isinstance(v, F) for v in d.ravel())
        assert np.allclose(tilt(ref, d), minimize(ZOO["ipo"], D, ref, 2.0).pi, atol=1e-8)


def test_cdpo_minimizer_is_dpo_on_smoothed_data_even_for_a_total_order() -> None:
    D = PreferenceData(P=total_order(3), mu0=[F(1, 3)] * 3)
    ref = np.full((1, 3), 1 / 3)
    sol = minimize(ZOO["cdpo"], D, ref, 1.0)
    S = dpo_minimizers(smoothed_data(D, F(1, 10)), ref, 1.0)
    assert sol.exists and np.allclose(sol.pi, np.asarray(S.point(), float), atol=1e-7)
    assert not minimize(ZOO["sigmoid"], D, ref, 1.0).exists  # DPO itself has none


def test_bco_nca_and_apo_zero_closed_forms() -> None:
    D = random_preference_data(RNG, 1, 4, family="bradley_terry", symmetric=False)
    ref = RNG.dirichlet(np.ones(4))[None]
    assert np.allclose(
        minimize(ZOO["bco_pair"], D, ref, 0.5).pi, bco_minimizer(D, ref, 0.5), atol=1e-7
    )
    anchor = (D.mu0 + D.mu1) / 2
    p_w = winner_loser_distribution(D).sum(axis=2)
    assert np.allclose(minimize(ZOO["nca_pair"], D, anchor, 1.0).pi, p_w, atol=1e-7)
    E = PreferenceData(P=total_order(3), mu0=[F(1, 5), F(1, 5), F(3, 5)])
    assert apo_zero_limit(E).tolist() == [[F(2, 3), F(1, 3), F(0)]]
    small = minimize(ZOO["apo_zero"], E, np.full((1, 3), 1 / 3), 1e-2, starts=3)
    assert np.allclose(small.pi, [[2 / 3, 1 / 3, 0]], atol=1e-3)


@pytest.mark.parametrize(
    "name",
    [
        "sigmoid",
        "cdpo",
        "robust",
        "ipo",
        "exo_pair",
        "gpo_logistic",
        "gpo_exponential",
        "gpo_squared",
        "simpo",
    ],
)
def test_k2_links_match_the_solver(name: str) -> None:
    p = np.linspace(0.15, 0.85, 8)
    for q, z in zip(p, k2_link(name, p), strict=True):
        sol = minimize(ZOO[name], _two(F(q).limit_denominator(100)), [[0.5, 0.5]], 1.0)
        assert np.log(sol.pi[0, 0] / sol.pi[0, 1]) == pytest.approx(z, abs=2e-5)


def test_discopop_k2_minimizer_from_the_specification() -> None:
    sol = minimize(ZOO["discopop"], _two(F(4, 5)), [[0.5, 0.5]], 1.0)
    assert np.log(sol.pi[0, 0] / sol.pi[0, 1]) == pytest.approx(1.575, abs=1e-3)


def test_rdpo_cut_test_agrees_with_the_solver() -> None:
    batch = random_instances(RNG, 40, 3)
    for t in range(batch.n):
        D = PreferenceData(P=batch.P[t], mu0=batch.mu0[t], mu1=batch.mu1[t])
        sol = minimize(ZOO["robust"], D, np.asarray(batch.pi_ref[t], float)[None], 1.0)
        assert bool(rdpo_unbounded(D)[0]) == sol.unbounded
    # K = 3: a compared P_01 < eps, yet bounded (the refinement of docs/zoo.md)
    P = [[F(1, 2), F(1, 20), F(1, 2)], [F(19, 20), F(1, 2), F(2, 5)], [F(1, 2), F(3, 5), F(1, 2)]]
    D = PreferenceData(P=P, mu0=[F(1, 3)] * 3)
    assert not rdpo_unbounded(D)[0]
    assert minimize(ZOO["robust"], D, [[1 / 3] * 3], 1.0).converged


def test_hinge_is_solved_as_a_linear_program() -> None:
    batch = random_instances(RNG, 10, 3)
    w = batch.floats("w")
    sol = minimize_batch(
        ZOO["hinge"], PairBatch(w=w, log_ref=np.log(batch.floats("pi_ref")), beta=np.ones(10))
    )
    z = sol.u[:, :, None] - sol.u[:, None, :]
    value = (w * np.maximum(0, 1 - z)).sum(axis=(1, 2))
    assert sol.converged.all() and np.allclose(value, sol.value)
    for _ in range(20):  # no random perturbation does better
        u2 = sol.u + RNG.normal(scale=0.3, size=sol.u.shape)
        z2 = u2[:, :, None] - u2[:, None, :]
        assert np.all((w * np.maximum(0, 1 - z2)).sum(axis=(1, 2)) >= value - 1e-9)


def test_the_specification_strong_witness_certifies() -> None:
    from proofs_checks.zoo_no_correspondence import reverify, zoo_md_instance

    batch, a, b = zoo_md_instance()
    wit = certify(ZOO["sigmoid"], batch, 0, a, b, True)
    assert wit is not None and wit.certified == "arb" and reverify(wit)
    assert (round(wit.loss_a, 2), round(wit.loss_b, 2)) == (2.11, 2.53)
    assert wit.wr_a < wit.wr_b and wit.kl_a > wit.kl_b
    assert certify(ZOO["sigmoid"], batch, 0, b, a, False) is None  # the reverse is no witness


z = sympy.Symbol("z")


@pytest.mark.parametrize(
    ("loss", "error"),
    [
        (z + sympy.Symbol("y"), NotAMarginLossError),
        (sympy.log(z), NaNLossError),
        (1 / z, NonFiniteLossError),
        (sympy.exp(z**2), NonFiniteLossError),
        (lambda z, y: z, NotAMarginLossError),
        (lambda z: np.ones(3), NotAMarginLossError),
        (lambda z: z * RNG.random(), NotAMarginLossError),
        (lambda z: np.where(z > 1, np.nan, z), NaNLossError),
        ("not a loss", NotAMarginLossError),
    ],
)
def test_bad_user_losses_get_named_errors(loss: object, error: type) -> None:
    with pytest.raises(error):
        margin_loss(loss)


def test_classify_a_user_loss_and_a_callable() -> None:
    report = classify(sympy.log(1 + sympy.exp(-z)), instances=40, max_K=3)
    assert report.correspondence.smallest_strong.certified == "arb"
    assert report.consistency.consistent and report.optimum.k2_wro
    callable_report = classify(lambda x: np.logaddexp(0, -x), instances=40, max_K=3)
    assert callable_report.correspondence.smallest_plain.certified == "float"
    with pytest.raises(InvalidParameterError):
        classify("no such loss")
    with pytest.raises(InvalidParameterError):
        classify("ipo", max_K=1)


def test_classify_is_fast_enough() -> None:
    import time

    start = time.process_time()
    classify("sigmoid", instances=500, max_K=4)
    assert time.process_time() - start < 5.0


def test_docs_zoo_page_is_fresh() -> None:
    from proofs_checks.common import docs_zoo

    assert docs_zoo.PAGE.read_text() == docs_zoo.render()


def test_partial_instances_hide_responses_and_keep_the_stream() -> None:
    full = random_instances(np.random.default_rng(5), 30, 4)
    same = random_instances(np.random.default_rng(5), 30, 4, partial=0.0)
    assert np.array_equal(full.mu0, same.mu0) and np.array_equal(full.P, same.P)
    part = random_instances(np.random.default_rng(5), 30, 4, partial=1.0)
    hidden = (part.mu0 == 0) & (part.mu1 == 0)
    assert np.all((hidden.sum(axis=1) >= 1) & (hidden.sum(axis=1) <= 2))
    assert np.all(part.mu0.sum(axis=1) == 1) and np.all(part.mu1.sum(axis=1) == 1)
    with pytest.raises(InvalidParameterError):
        random_instances(RNG, 2, 3, partial=1.5)


def test_minimizer_report_of_free_responses() -> None:
    P = [[F(1, 2), F(4, 5), F(3, 5)], [F(1, 5), F(1, 2), F(1, 2)], [F(2, 5), F(1, 2), F(1, 2)]]
    D = PreferenceData(P=P, mu0=[F(1, 2), F(1, 2), F(0)])
    ref = [[F(1, 3)] * 3]
    dpo = minimize(ZOO["sigmoid"], D, ref, 1)
    assert dpo.free == ((2,),) and dpo.free_mass == ((0.0, 1.0),)  # as for DPO
    assert list(dpo_minimizers(D, ref, 1).free[0]) == [2]
    nca = minimize(ZOO["nca_pair"], D, ref, 1)
    low, high = nca.free_mass[0]
    assert nca.converged and low == high == pytest.approx(float(nca.pi[0, 2]))
    full = minimize(ZOO["sigmoid"], _two(F(3, 4)), [[0.5, 0.5]], 1)
    assert full.free == ((),) and full.free_mass == ((0.0, 0.0),)


def test_dpo_consistency_range_matches_the_dpo_minimizer_set() -> None:
    """The best and worst member at fixed beta against theory's DPO win-rate range (a separate
    path: exact Bradley-Terry MLE and the vertices of the DPO minimizer set)."""
    from theory.methods.dpo.minimizers import dpo_data_win_rate_range
    from theory.zoo.classify import member_range, minimizer_members, response_win_rates_h

    inst = random_instances(np.random.default_rng(11), 24, 4, partial=0.5)
    sol, pis, _ = minimizer_members(ZOO["sigmoid"], inst, inst.floats("beta"), RNG)
    shown = (inst.floats("w").sum(axis=2) + inst.floats("w").sum(axis=1)) > 0
    W = response_win_rates_h(inst)[0]
    best, worst = member_range(pis, shown, False, W)
    assert (~shown).any(axis=1).sum() >= 5
    checked = 0
    for t in np.flatnonzero(sol.exists):
        D = PreferenceData(P=inst.P[t], mu0=inst.mu0[t], mu1=inst.mu1[t])
        R = dpo_data_win_rate_range(D, [inst.pi_ref[t]], inst.beta[t])
        assert (best[t], worst[t]) == pytest.approx((float(R.best), float(R.worst)), abs=1e-6)
        checked += 1
    assert checked >= 10


def test_hinge_face_vertices_are_optimal_and_widen_the_range() -> None:
    from theory.zoo.classify import member_range, response_win_rates_h
    from theory.zoo.solve import hinge_face_vertices

    inst = random_instances(np.random.default_rng(7), 30, 3)
    w = inst.floats("w")
    batch = PairBatch(w=w, log_ref=np.log(inst.floats("pi_ref")), beta=inst.floats("beta"))
    sol = minimize_batch(ZOO["hinge"], batch)
    us = hinge_face_vertices(batch, sol)
    assert len(us) > 1 and np.array_equal(us[0], sol.u)
    for u in us:
        z = u[:, :, None] - u[:, None, :]
        value = (w * np.maximum(0, 1 - z)).sum(axis=(1, 2))
        assert np.allclose(value, sol.value, atol=1e-7)
    from theory.zoo.solve import scores_to_pi

    W = response_win_rates_h(inst)[0]
    shown = np.ones((inst.n, 3), dtype=bool)
    one = member_range([sol.pi], shown, False, W)
    face = member_range([scores_to_pi(u, batch) for u in us], shown, False, W)
    assert np.all(face[0] >= one[0] - 1e-12) and np.all(face[1] <= one[1] + 1e-12)
    assert np.any(face[0] - face[1] > 1e-3)  # some optimal face is not a point


def test_classification_reports_best_and_worst_members_with_free_responses() -> None:
    report = classify("sigmoid", instances=120, max_K=4)
    s = report.consistency
    assert s.partial > 0 and s.worst_short > 0  # a free response worse than the shown ones
    assert s.identity.worst_limit >= s.identity.best_limit >= 0
    assert s.identity.worst_fixed >= s.identity.best_fixed
    assert 0 < s.logit.instances < s.instances


def test_the_canonical_run_refreshes_docs_zoo_and_no_other(monkeypatch, tmp_path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from proofs_checks import zoo_no_consistency as claim
    from proofs_checks.common import docs_zoo
    from proofs_checks.scaffold import Gallery, cli
    from proofs_checks.scaffold.claim import CheckResult

    calls: list[bool] = []
    monkeypatch.setattr(docs_zoo, "refresh", lambda: calls.append(True) or True)
    monkeypatch.setattr(cli, "GALLERY", tmp_path / "figures")
    (tmp_path / "figures").mkdir()
    pts = {"sigmoid": [0.5, 0.3, 0.2]}
    for default, outdir, expect in (
        (True, tmp_path / "scratch", 0),
        (False, tmp_path / "figures", 0),
        (True, tmp_path / "figures", 1),
    ):
        outdir.mkdir(exist_ok=True)
        result = CheckResult("x", 1, True, details={"simplex": pts, "default_run": default})
        calls.clear()
        claim.figure(result, Gallery(outdir))
        assert len(calls) == expect
