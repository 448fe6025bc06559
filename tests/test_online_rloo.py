"""theory.online.rloo: RLOO's expected update and its fixed point (RLHF's policy)."""

from fractions import Fraction

import numpy as np
from scipy.special import expit

from theory.data import PreferenceData
from theory.methods.rlhf import rlhf_policy
from theory.online.rloo import (
    rloo_bt_fixed_point,
    rloo_fixed_point,
    rloo_gradient,
    rloo_residual,
    rloo_trajectory,
)
from theory.preferences import bradley_terry_from_strengths

R = np.array([0.3, -1.0, 1.2, 0.0])
REF = np.array([0.1, 0.4, 0.2, 0.3])


def test_gradient_is_reinforce_with_the_shaped_reward():
    # E_pi[R grad log pi] with R held fixed: finite differences of sum_y pi_theta(y) R(y)
    pi, beta = np.array([0.25, 0.25, 0.3, 0.2]), 0.5
    R_shaped = R - beta * np.log(pi / REF)

    def value(theta):
        p = np.exp(theta - theta.max())
        return float((p / p.sum()) @ R_shaped)

    h = 1e-6
    fd = np.array(
        [(value(np.log(pi) + h * e) - value(np.log(pi) - h * e)) / (2 * h) for e in np.eye(4)]
    )
    assert np.allclose(rloo_gradient(R, pi, REF, beta), fd, atol=1e-8)


def test_fixed_point_closed_form_and_certificate():
    fp = rloo_fixed_point(R, REF, 0.5)
    want = REF * np.exp(R / 0.5)
    assert np.allclose(fp.pi, want / want.sum(), atol=1e-14)
    assert fp.converged and fp.residual < 1e-12
    assert np.allclose(rloo_gradient(R, fp.pi, REF, 0.5), 0, atol=1e-13)
    assert rloo_residual(R, [0.25] * 4, REF, 0.5) > 0.1


def test_trajectory_converges():
    tr = rloo_trajectory(R, [0.25] * 4, REF, 1.0, 2000)
    assert np.max(np.abs(tr.final - rloo_fixed_point(R, REF, 1.0).pi)) < 1e-9


def test_bradley_terry_reward_is_rlhf():
    r = np.array([0.0, 1.0, -0.5])
    P = expit(r[:, None] - r[None, :])
    ref = np.array([0.3, 0.3, 0.4])
    fp = rloo_bt_fixed_point(P, ref, 0.5)
    pol = rlhf_policy(PreferenceData(P=P, mu0=ref), 0.5, ref)
    assert np.allclose(fp.pi, pol.pi[0], atol=1e-10)
    exact = rloo_bt_fixed_point(bradley_terry_from_strengths([1, 3]), [Fraction(1, 2)] * 2, 1)
    assert exact.pi.tolist() == [Fraction(1, 4), Fraction(3, 4)] and exact.residual == 0
