"""RLHF-is-WRO: for Bradley-Terry P, RLHF is logit-WRO for every anchor.

If ``P[i, j] = sigmoid(r_i - r_j)`` then ``logit P[y, y'] = r_y - r_y'`` and, for every anchor q,

    WR_logit(pi; q) = E_pi[r] - E_q[r],

so the RLHF objective ``E_pi[r] - beta KL(pi || pi_ref)`` equals the logit-WRO objective
``WR_logit(pi; q) - beta KL(pi || pi_ref)`` plus the constant ``E_q[r]``, and the optima coincide.

Each instance draws ``K`` in 2..8, rewards ``r ~ N(0, 2^2)``, a data distribution
``(mu0, mu1)`` of full support (``mu0 != mu1`` half the time), an anchor ``q`` (some zeros), two
models, ``pi_ref`` and ``beta`` (including 0).  Instances of one ``K`` and ``beta`` are the
prompts of one :class:`theory.data.PreferenceData`, so :func:`theory.methods.rlhf.rlhf_policy`
fits the Bradley-Terry reward by maximum likelihood for all of them at once.  Checked per instance:
(1) the MLE recovers ``r`` up to a constant; (2) the identity above through
:func:`theory.wro.wro_objective_per_prompt`;
(3) ``RLHF objective - logit-WRO objective`` is the same number ``E_q[r]`` for both models;
(4) the RLHF policy equals :func:`theory.wro.wro_optimum` with ``h = logit`` and anchor ``q``
(beta > 0: the models; beta = 0: the argmax sets); (5) on the first :data:`SCIPY_PER_BATCH`
instances of every batch with ``beta > 0`` of the first chunk, an independent maximization:
scipy's L-BFGS-B on the logit-WRO objective ``sum_{y,y'} pi(y) q(y') logit P[y, y'] - beta
KL(pi || pi_ref)`` written here (softmax parametrisation, started at ``pi_ref`` and at the RLHF
policy), which must not find a value above the RLHF policy's by more than :data:`SCIPY_TOL`.

Positive controls (a missed one makes the verdict ``invalid``): an RLHF policy at twice beta
must fail (4); :func:`theory.preferences.is_bradley_terry` must accept the check's Bradley-Terry
instances and reject a cycle, a perturbed Bradley-Terry matrix and general matrices, on which
(4) must fail (the premise matters).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logit, softmax

from theory.data import PreferenceData
from theory.methods.rlhf import RLHFPolicy, rlhf_objective, rlhf_policy
from theory.preferences import (
    bradley_terry_matrix,
    cyclic,
    is_bradley_terry,
    random_family_matrix,
)
from theory.wro import wro_objective_per_prompt, wro_optimum

from .common.wro_instances import (
    MAX_K,
    TOL,
    argmax_sets,
    model_batch,
)
from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Max,
    Tally,
    cells,
    chunked,
    maximum,
)

#: Agreement of the fitted reward with the true one (the MLE is certified to ~1e-12 gradient).
REWARD_TOL = 1e-7
BETAS = (0.0, 0.05, 0.2, 1.0, 5.0)
#: Instances per batch (beta > 0) maximized independently by scipy, and the agreement required.
SCIPY_PER_BATCH = 2
SCIPY_TOL = 1e-9


@dataclass
class Stats(Tally):
    max_reward_error: Max = maximum()
    max_identity_error: Max = maximum()
    max_constant_error: Max = maximum()
    max_optimum_error: Max = maximum()
    max_grad_error: Max = maximum()
    scipy_checked: int = 0
    max_scipy_error: Max = maximum()


def _objective(pi: np.ndarray, L: np.ndarray, q: np.ndarray, ref: np.ndarray, beta: float) -> float:
    """``pi^T L q - beta KL(pi || pi_ref)`` for one prompt, from its definition."""
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = float(np.where(pi > 0, pi * np.log(pi / ref), 0.0).sum())
    return float(pi @ L @ q) - beta * kl


def scipy_gap(P: np.ndarray, q: np.ndarray, ref: np.ndarray, beta: float, pi: np.ndarray) -> float:
    """(5) An independent maximization of the logit-WRO objective by scipy (L-BFGS-B over
    softmax logits, started at ``pi_ref`` and at ``pi``): how much higher than ``J(pi)`` the
    best maximizer found gets (``<= 0`` when ``pi`` is the maximum; the objective is strictly
    concave, so a local ascent from a non-optimal ``pi`` always improves it)."""
    L = logit(P)
    best = -np.inf
    for start in (ref, np.clip(pi, 1e-300, None)):
        res = minimize(
            lambda z: -_objective(softmax(z), L, q, ref, beta),
            np.log(start),
            method="L-BFGS-B",
            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000},
        )
        best = max(best, _objective(softmax(res.x), L, q, ref, beta))
    return best - _objective(pi, L, q, ref, beta)


def _batch(rng: np.random.Generator, N: int, K: int) -> dict[str, Any]:
    """``N`` Bradley-Terry instances: rewards, data distribution, anchor, two models, pi_ref."""
    r = rng.normal(0.0, 2.0, size=(N, K))
    P = expit(r[:, :, None] - r[:, None, :])
    mu0 = model_batch(rng, N, K)
    mu1 = mu0 if rng.random() < 0.5 else model_batch(rng, N, K)
    q = model_batch(rng, N, K, zeros=True)
    pi1, pi2 = model_batch(rng, N, K, zeros=True), model_batch(rng, N, K, zeros=True)
    ref = model_batch(rng, N, K)
    return {"r": r, "P": P, "mu0": mu0, "mu1": mu1, "q": q, "pi1": pi1, "pi2": pi2, "ref": ref}


def _constant_error(b: dict[str, Any], beta: float) -> np.ndarray:
    """(3) ``RLHF objective - logit-WRO objective = E_q[r]`` for both models; the RLHF objective
    per instance from its definition, its rho-weighted total via the library."""
    r, P, q, ref = b["r"], b["P"], b["q"], b["ref"]
    e_const = np.zeros(len(r))
    for pi in (b["pi1"], b["pi2"]):
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(pi > 0, pi * np.log(pi / ref), 0.0).sum(axis=1)
        rlhf = np.sum(pi * r, axis=1) - beta * kl
        total = rlhf_objective(r, pi, beta, ref)
        e_const = np.maximum(e_const, abs(total - rlhf.mean()))
        wro_j = wro_objective_per_prompt(P, pi, q, beta, ref, "logit")
        e_const = np.maximum(e_const, np.abs(rlhf - wro_j - np.sum(q * r, axis=1)))
    return e_const


def _optimum_error(b: dict[str, Any], beta: float, policy: RLHFPolicy) -> np.ndarray:
    """(4) the RLHF policy against the logit-WRO optimum (models; argmax sets at beta = 0)."""
    wro = wro_optimum(b["P"], b["q"], beta, b["ref"], "logit")
    if beta > 0:
        return np.abs(policy.pi - wro.pi).max(axis=1)
    sets = zip(argmax_sets(policy.argmax), argmax_sets(wro.argmax), strict=True)
    return np.array([0.0 if a == c else 1.0 for a, c in sets])


def _check_batch(b: dict[str, Any], K: int, beta: float, stats: Stats, scipy: bool) -> None:
    """Checks (1)-(4) on one batch, and (5) on its first :data:`SCIPY_PER_BATCH` instances when
    ``scipy``."""
    r, P, q, pi1 = b["r"], b["P"], b["q"], b["pi1"]
    data = PreferenceData(P=P, mu0=b["mu0"], mu1=b["mu1"])
    policy = rlhf_policy(data, beta, b["ref"])
    e_reward = np.abs(policy.rewards - (r - r.mean(axis=1, keepdims=True))).max(axis=1)
    # (2) WR_logit(pi; q) = E_pi r - E_q r
    wr_logit = wro_objective_per_prompt(P, pi1, q, 0, None, "logit")
    e_identity = np.abs(wr_logit - (np.sum(pi1 * r, 1) - np.sum(q * r, 1)))
    e_const = _constant_error(b, beta)
    e_opt = _optimum_error(b, beta, policy)
    stats.max_reward_error.add(float(e_reward.max()))
    stats.max_identity_error.add(float(e_identity.max()))
    stats.max_constant_error.add(float(e_const.max()))
    stats.max_optimum_error.add(float(e_opt.max()))
    stats.max_grad_error.add(policy.fit.gradient_norm)
    if scipy and beta > 0:
        for m in range(min(SCIPY_PER_BATCH, len(r))):
            e = scipy_gap(P[m], q[m], b["ref"][m], beta, policy.pi[m])
            stats.scipy_checked += 1
            stats.max_scipy_error.add(e)
            e_opt[m] = max(e_opt[m], e if e > SCIPY_TOL else 0.0)  # reported as optimum error
    bad = (e_reward > REWARD_TOL) | (e_identity > TOL) | (e_const > TOL) | (e_opt > TOL)
    for n in np.flatnonzero(bad):
        stats.witness.offer(
            (K, beta),
            {
                "r": r[n],
                "mu0": b["mu0"][n],
                "mu1": b["mu1"][n],
                "q": q[n],
                "pi": pi1[n],
                "pi_ref": b["ref"][n],
                "beta": beta,
                "reward_error": float(e_reward[n]),
                "identity_error": float(e_identity[n]),
                "constant_error": float(e_const[n]),
                "optimum_error": float(e_opt[n]),
            },
        )


def chunk(ctx: CheckContext) -> Stats:
    """The chunk's instances in batches of one ``K`` and ``beta``; the scipy cross-check (5) runs
    in the first chunk only (on the first instances of each of its batches)."""
    stats = Stats()
    done = 0
    for cell in cells(ctx.rng, ctx.instances, K=range(2, MAX_K + 1), beta=BETAS):
        b = _batch(ctx.rng, cell.n, cell.K)
        _check_batch(b, cell.K, cell.beta, stats, scipy=ctx.start == 0)
        done += cell.n
        ctx.progress(done)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    done = ctx.instances
    worst = stats.witness
    observed = (
        f"{worst.count} violations (smallest at K, beta = {worst.size})"
        if worst
        else f"on {done} BT instances: MLE reward error <= {float(stats.max_reward_error):.1e} "
        f"(max |grad| {float(stats.max_grad_error):.1e}), |WR_logit - (E_pi r - E_q r)| <= "
        f"{float(stats.max_identity_error):.1e}, RLHF - logitWRO - E_q r <= "
        f"{float(stats.max_constant_error):.1e}, RLHF policy vs logit-WRO optimum "
        f"<= {float(stats.max_optimum_error):.1e} (argmax sets equal at beta = 0); an "
        f"independent scipy maximization of the logit-WRO objective on {stats.scipy_checked} "
        f"instances never beats the RLHF policy by more than "
        f"{max(float(stats.max_scipy_error), 0.0):.1e}"
    )
    return stats.result(done, observed)


def _policy_at_twice_beta_is_caught(rng: np.random.Generator) -> bool:
    """Positive control: an RLHF policy computed at ``2 beta`` (a planted bug) against the
    logit-WRO optimum at ``beta``, judged by the check's optimum comparison."""
    b = _batch(rng, 20, 4)
    policy = rlhf_policy(PreferenceData(P=b["P"], mu0=b["mu0"], mu1=b["mu1"]), 2.0, b["ref"])
    return bool((_optimum_error(b, 1.0, policy) > TOL).any())


def _bt_premise_is_told_apart(rng: np.random.Generator) -> bool:
    """Positive control of the premise: :func:`~theory.preferences.is_bradley_terry` accepts the
    check's own instances (Bradley-Terry by construction, equal to the library's
    :func:`~theory.preferences.bradley_terry_matrix` of their rewards) and rejects matrices that
    are not (a cycle, a Bradley-Terry matrix with one pair moved by 0.05, a random general
    matrix); on a general P the RLHF policy is *not* the logit-WRO optimum (the check's optimum
    detector fires: the premise matters).  A detector that always says True, or always False,
    misses it."""
    b = _batch(rng, 5, 4)
    built = [bradley_terry_matrix(r) for r in b["r"]]  # the library's constructor
    accepts = all(is_bradley_terry(P) for P in b["P"]) and np.allclose(built, b["P"], atol=TOL)
    moved = b["P"][0].copy()
    moved[0, 1] = min(moved[0, 1] + 0.05, 0.99)
    moved[1, 0] = 1.0 - moved[0, 1]
    general = np.stack([random_family_matrix(rng, 4, "general") for _ in range(5)])
    others = [cyclic(4, Fraction(3, 4), exact=False), moved, *general]
    rejects = not any(is_bradley_terry(P) for P in others)
    nb = b | {"P": general}
    policy = rlhf_policy(PreferenceData(P=general, mu0=b["mu0"], mu1=b["mu1"]), 1.0, b["ref"])
    return accepts and rejects and bool((_optimum_error(nb, 1.0, policy) > TOL).any())


CLAIM = Claim(
    "RLHF-is-WRO",
    "Bradley-Terry P: the RLHF objective = logit-WRO objective + const for every anchor, "
    "and the optima coincide",
    "holds",
    chunked(chunk, finish, size=2000),
    None,
    default_instances=10_000,
    controls=(
        Control("an RLHF policy at twice beta is caught", _policy_at_twice_beta_is_caught),
        Control("is_bradley_terry tells BT from non-BT P", _bt_premise_is_told_apart),
    ),
)
