"""theory.online.nash_md: Nash-MD's step, its shifted fixed point and its limits."""

import time

import numpy as np
import pytest

from theory.errors import InvalidParameterError
from theory.methods.nlhf import regularized_nash
from theory.online.core import total_variation
from theory.online.nash_md import (
    check_alpha,
    geometric_mixture,
    nash_md_fixed_point,
    nash_md_residual,
    nash_md_step,
    nash_md_trajectory,
)
from theory.wro import wro_optimum

P3 = np.array([[0.5, 0.8, 0.3], [0.2, 0.5, 0.7], [0.7, 0.3, 0.5]])
REF = np.array([0.5, 0.3, 0.2])


def _random_P(rng, K):
    u = rng.uniform(0.02, 0.98, size=(K, K))
    return np.triu(u, 1) + np.tril(1.0 - u.T, -1) + 0.5 * np.eye(K)


def test_alpha_one_is_the_fixed_anchor_wro_optimum():
    fp = nash_md_fixed_point(P3, REF, 0.5, 1.0)
    assert np.allclose(fp.pi, wro_optimum(P3, REF, 0.5, REF).pi, atol=1e-12)
    # and one step from anywhere reaches it (the opponent is pi_ref)
    assert np.allclose(nash_md_step(P3, [0.1, 0.1, 0.8], REF, 0.5, 1.0), fp.pi, atol=1e-12)


def test_shifted_for_alpha_positive_and_tends_to_nash():
    star = regularized_nash(P3, 0.5, REF).pi
    tv = {
        a: total_variation(nash_md_fixed_point(P3, REF, 0.5, a).pi, star)
        for a in (0.1, 1e-2, 1e-3, 1e-4)
    }
    assert all(v > 1e-8 for v in tv.values())
    assert tv[1e-4] < tv[1e-3] < tv[1e-2] < tv[0.1]
    assert tv[1e-4] / tv[1e-3] == pytest.approx(0.1, rel=0.05)  # first order in alpha


def test_two_responses_all_coincide():
    P = np.array([[0.5, 0.7], [0.3, 0.5]])
    ref = np.array([0.4, 0.6])
    star = regularized_nash(P, 1.0, ref).pi
    for a in (1.0, 0.3, 0.01):
        assert np.allclose(nash_md_fixed_point(P, ref, 1.0, a).pi, star, atol=1e-12)


def test_fixed_point_equation_and_trajectory():
    fp = nash_md_fixed_point(P3, REF, 0.5, 0.3)
    m = REF**0.3 * fp.pi**0.7
    m /= m.sum()
    z = REF * np.exp(P3 @ m / 0.5)
    assert np.allclose(fp.pi, z / z.sum(), atol=1e-12)
    assert nash_md_residual(P3, fp.pi, REF, 0.5, 0.3) <= 1e-12
    tr = nash_md_trajectory(P3, [0.2, 0.2, 0.6], REF, 0.5, 0.3, 300)
    assert np.max(np.abs(tr.final - fp.pi)) < 1e-10


def test_geometric_mixture():
    m = geometric_mixture([0.9, 0.1], [0.1, 0.9], 0.5)
    assert np.allclose(m, [0.5, 0.5])
    assert np.allclose(geometric_mixture(REF, [0.2, 0.2, 0.6], 1.0), [0.2, 0.2, 0.6])


def test_large_K_meets_the_target():
    rng = np.random.default_rng(3)
    P, ref = _random_P(rng, 50), rng.dirichlet(np.ones(50))
    for beta, a in ((0.05, 0.01), (1.0, 0.5)):
        t = time.perf_counter()
        fp = nash_md_fixed_point(P, ref, beta, a)
        assert time.perf_counter() - t < 1.0 and fp.residual <= 1e-12


def test_support_and_bad_alpha():
    ref = np.array([0.5, 0.0, 0.5])
    fp = nash_md_fixed_point(P3, ref, 0.5, 0.2)
    assert fp.pi[1] == 0 and fp.residual <= 1e-12
    for bad in (0, -0.1, 1.5, float("nan"), "x"):
        with pytest.raises(InvalidParameterError):
            check_alpha(bad)
    with pytest.raises(InvalidParameterError):
        nash_md_step(P3, [0.5, 0.5, 0.0], REF, 0.5, 0.2)  # pi must cover supp pi_ref
