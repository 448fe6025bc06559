"""RLHF-is-WRO: for Bradley-Terry P, RLHF is logit-WRO for every anchor.

If ``P[i, j] = sigmoid(r_i - r_j)`` then ``logit P[y, y'] = r_y - r_y'`` and, for every anchor q,

    WR_logit(pi; q) = E_pi[r] - E_q[r],

so the RLHF objective ``E_pi[r] - beta KL(pi || pi_ref)`` equals the logit-WRO objective
``WR_logit(pi; q) - beta KL(pi || pi_ref)`` plus the constant ``E_q[r]``, and the optima coincide.

Each instance draws ``K`` in 2..8, rewards ``r ~ N(0, 2^2)``, a data distribution
``(mu0, mu1)`` of full support (``mu0 != mu1`` half the time), an anchor ``q`` (some zeros), two
models, ``pi_ref`` and ``beta`` (including 0).  Instances of one ``K`` and ``beta`` are the
prompts of one :class:`theory.data.PreferenceData`, so :func:`theory.wro.rlhf_policy` fits the
Bradley-Terry reward by maximum likelihood for all of them at once.  Checked per instance:
(1) the MLE recovers ``r`` up to a constant; (2) the identity above through
:func:`theory.wro.wro_objective_per_prompt`;
(3) ``RLHF objective - logit-WRO objective`` is the same number ``E_q[r]`` for both models;
(4) the RLHF policy equals :func:`theory.wro.wro_optimum` with ``h = logit`` and anchor ``q``
(beta > 0: the models; beta = 0: the argmax sets).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from theory.data import PreferenceData
from theory.wro import rlhf_objective, rlhf_policy, wro_objective_per_prompt, wro_optimum

from ._wro_instances import argmax_sets, model_batch
from .registry import CheckContext, CheckResult, Claim, Smallest

#: Agreement of values and models in floats.
TOL = 1e-9
#: Agreement of the fitted reward with the true one (the MLE is certified to ~1e-12 gradient).
REWARD_TOL = 1e-7
BETAS = (0.0, 0.05, 0.2, 1.0, 5.0)
MAX_K = 8


def check(ctx: CheckContext) -> CheckResult:
    rng = ctx.rng
    worst = Smallest()
    Ks = rng.integers(2, MAX_K + 1, size=ctx.instances)
    bis = rng.integers(0, len(BETAS), size=ctx.instances)
    stats = {"reward": 0.0, "identity": 0.0, "constant": 0.0, "optimum": 0.0, "grad": 0.0}
    done = 0
    for K in range(2, MAX_K + 1):
        for bi, beta in enumerate(BETAS):
            N = int(np.sum((Ks == K) & (bis == bi)))
            if N == 0:
                continue
            r = rng.normal(0.0, 2.0, size=(N, K))
            P = expit(r[:, :, None] - r[:, None, :])
            mu0 = model_batch(rng, N, K)
            mu1 = mu0 if rng.random() < 0.5 else model_batch(rng, N, K)
            q = model_batch(rng, N, K, zeros=True)
            pi1, pi2 = model_batch(rng, N, K, zeros=True), model_batch(rng, N, K, zeros=True)
            ref = model_batch(rng, N, K)
            data = PreferenceData(P=P, mu0=mu0, mu1=mu1)
            policy = rlhf_policy(data, beta, ref)
            r_true = r - r.mean(axis=1, keepdims=True)
            e_reward = np.abs(policy.rewards - r_true).max(axis=1)
            # (2) WR_logit(pi; q) = E_pi r - E_q r
            wr_logit = wro_objective_per_prompt(P, pi1, q, 0, None, "logit")
            e_identity = np.abs(wr_logit - (np.sum(pi1 * r, 1) - np.sum(q * r, 1)))
            # (3) RLHF objective - logit-WRO objective = E_q[r] for both models; the RLHF
            # objective per instance from its definition, its rho-weighted total via the library
            e_const = np.zeros(N)
            for pi in (pi1, pi2):
                with np.errstate(divide="ignore", invalid="ignore"):
                    kl = np.where(pi > 0, pi * np.log(pi / ref), 0.0).sum(axis=1)
                rlhf = np.sum(pi * r, axis=1) - beta * kl
                total = rlhf_objective(r, pi, beta, ref)
                e_const = np.maximum(e_const, abs(total - rlhf.mean()))
                wro_j = wro_objective_per_prompt(P, pi, q, beta, ref, "logit")
                e_const = np.maximum(e_const, np.abs(rlhf - wro_j - np.sum(q * r, axis=1)))
            # (4) the optima coincide
            wro = wro_optimum(P, q, beta, ref, "logit")
            if beta > 0:
                e_opt = np.abs(policy.pi - wro.pi).max(axis=1)
            else:
                sets = zip(argmax_sets(policy.argmax), argmax_sets(wro.argmax), strict=True)
                e_opt = np.array([0.0 if a == b else 1.0 for a, b in sets])
            stats["reward"] = max(stats["reward"], float(e_reward.max()))
            stats["identity"] = max(stats["identity"], float(e_identity.max()))
            stats["constant"] = max(stats["constant"], float(e_const.max()))
            stats["optimum"] = max(stats["optimum"], float(e_opt.max()))
            stats["grad"] = max(stats["grad"], policy.fit.gradient_norm)
            bad = (e_reward > REWARD_TOL) | (e_identity > TOL) | (e_const > TOL) | (e_opt > TOL)
            for n in np.flatnonzero(bad):
                worst.offer(
                    (K, beta),
                    {
                        "r": r[n],
                        "mu0": mu0[n],
                        "mu1": mu1[n],
                        "q": q[n],
                        "pi": pi1[n],
                        "pi_ref": ref[n],
                        "beta": beta,
                        "reward_error": float(e_reward[n]),
                        "identity_error": float(e_identity[n]),
                        "constant_error": float(e_const[n]),
                        "optimum_error": float(e_opt[n]),
                    },
                )
            done += N
            ctx.progress(done)
    found = worst.value is not None
    observed = (
        f"{worst.count} violations (smallest at K, beta = {worst.size})"
        if found
        else f"on {done} BT instances: MLE reward error <= {stats['reward']:.1e} (max |grad| "
        f"{stats['grad']:.1e}), |WR_logit - (E_pi r - E_q r)| <= {stats['identity']:.1e}, "
        f"RLHF - logitWRO - E_q r <= {stats['constant']:.1e}, RLHF policy vs logit-WRO optimum "
        f"<= {stats['optimum']:.1e} (argmax sets equal at beta = 0)"
    )
    return CheckResult(
        observed=observed,
        instances=done,
        found=found,
        counterexample=worst.value,
        details={f"max_{k}_error": v for k, v in stats.items()},
    )


CLAIM = Claim(
    id="RLHF-is-WRO",
    statement="Bradley-Terry P: the RLHF objective = logit-WRO objective + const for every anchor, "
    "and the optima coincide",
    expected="holds",
    check=check,
    figure=None,
    default_instances=10_000,
)
