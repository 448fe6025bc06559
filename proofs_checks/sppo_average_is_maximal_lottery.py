"""SPPO-average-is-maximal-lottery: self-play multiplicative weights, two no-regret learners.

The ideal SPPO / DNO step ``pi_{t+1} ∝ pi_t exp(eta_t W_{pi_t})`` (:mod:`theory.online.sppo`)
is Hedge on the payoffs ``W_{pi_t} = P pi_t`` in ``[0, 1]``.  The exploitability of the time
average, ``expl(avg_t) = max_y W_{avg_t}(y) - 1/2 = 1/2 - min_y WR(avg_t; e_y)``, equals
``max_y R_t(y) / t`` with ``R_t(y) = sum_{s<=t} (W_{pi_s}(y) - 1/2)``, so a regret bound
divided by ``t`` bounds it.  With ``eta_t = ETA0 / sqrt(t)`` the check verifies, at every
``t <= STEPS`` and every response ``y`` (docs/zoo_online.md derives both):

* the trajectory bound ``R_t(y) <= max_{s<=t} ln(1/pi_s(y)) / eta_t + sum_{s<=t} eta_s / 8``;
* the lemma ``KL(m || pi_t) <= D_t = KL(m || pi_1) + sum_{s<t} eta_s^2 / 8`` for the maximal
  lottery ``m`` (:func:`theory.lottery.maximal_lottery`);
* where ``m`` has full support, the a priori bound
  ``R_t(y) <= (D_t + h2(m_y)) / (m_y eta_t) + sum_{s<=t} eta_s / 8`` (``O(ln t / sqrt t)``
  after dividing by ``t``),

and reports the total-variation distance of ``avg_t`` to ``m`` beside them.  Instance 0 is
rock-paper-scissors from ``(.6, .3, .1)``; the others draw ``K`` in 3..5, a general ``P``
without a Condorcet winner (:func:`theory.preferences.condorcet_winner`) and a Dirichlet start.
The regrets, KL values and ``ln pi_s`` are recomputed here from the models of
:func:`theory.online.sppo.sppo_run` (``P pi_s`` by the check's own product), not read from the
run's bookkeeping.

With a constant step (``ETA_CONST``, ``CONST_STEPS`` steps) the last iterate does not converge:
for a maximal lottery of full support ``KL(m || pi_t)`` never decreases (Jensen), and on
rock-paper-scissors ``min_y pi_t(y)`` falls below ``DRIFT_BELOW`` (the iterate drifts to the
boundary while the leader keeps rotating).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from theory.lottery import maximal_lottery
from theory.numbers import to_float
from theory.online.sppo import (
    regret_bound_a_priori,
    regret_bound_trajectory,
    sppo_run,
    step_sizes,
)
from theory.preferences import condorcet_winner, random_preference_matrix, rock_paper_scissors

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Counts,
    Gallery,
    Max,
    Min,
    Samples,
    Tally,
    chunked,
    counts,
    maximum,
    minimum,
    samples,
)

#: Steps of the decreasing-step runs and ``eta_0`` of ``eta_t = eta_0 / sqrt(t)``.
STEPS = 100_000
ETA0 = 1.0
#: The constant step and its run length; the drift threshold for rock-paper-scissors.
ETA_CONST = 0.1
CONST_STEPS = 20_000
DRIFT_BELOW = 1e-4
#: The start of the rock-paper-scissors instance (instance 0).
RPS_START = (0.6, 0.3, 0.1)
#: Sizes of the random instances (padded to MAX_K in a batch: padded responses have P = 1/2
#: against everything and no mass, so their regret is 0).
K_CHOICES = (3, 4, 5)
MAX_K = max(K_CHOICES)
#: Float slack on the inequalities (regrets are sums of up to 1e5 terms of size <= 1).
SLACK = 1e-9
#: A step of the constant-step KL may decrease by rounding only.
KL_ROUNDING = 1e-12
#: Instances per chunk (one batched run each).
CHUNK = 8
#: Points of the rock-paper-scissors series kept for the figure (log-spaced in t).
SERIES_POINTS = 120


@dataclass
class Stats(Tally):
    instances: int = 0
    full_support: int = 0
    checked_points: int = 0
    trajectory_violations: int = 0
    a_priori_violations: int = 0
    lemma_violations: int = 0
    kl_decreases: int = 0
    max_ratio_trajectory: Max = maximum()
    max_ratio_a_priori: Max = maximum()
    final_exploitability: Max = maximum()
    final_tv: Max = maximum()
    min_final_tv: Min = minimum()
    sizes: Counts = counts()
    rps: Samples = samples(1)


def _instances(ctx: CheckContext) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(P, pi_1)`` of each instance of the chunk (instance 0 is rock-paper-scissors)."""
    rng = ctx.rng
    out = []
    for i in range(ctx.instances):
        if ctx.start + i == 0:
            out.append((to_float(rock_paper_scissors()), np.array(RPS_START)))
            continue
        K = int(K_CHOICES[int(rng.integers(len(K_CHOICES)))])
        P = random_preference_matrix(rng, K)
        while condorcet_winner(P) is not None:
            P = random_preference_matrix(rng, K)
        out.append((P, rng.dirichlet(np.ones(K))))
    return out


def _pad(items: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    N = len(items)
    P = np.full((N, MAX_K, MAX_K), 0.5)
    pi0 = np.zeros((N, MAX_K))
    for n, (Pn, p) in enumerate(items):
        K = len(p)
        P[n, :K, :K] = Pn
        pi0[n, :K] = p
    return P, pi0


@dataclass
class Verdicts:
    """What the detector found on one batch of runs: per-instance counts of violations of the
    trajectory bound, the a priori bound and the KL lemma, and the series for reports."""

    trajectory: np.ndarray
    a_priori: np.ndarray
    lemma: np.ndarray
    expl: np.ndarray
    bound_traj: np.ndarray
    bound_apriori: np.ndarray
    tv: np.ndarray
    kl: np.ndarray


def detect(P: np.ndarray, models: np.ndarray, etas: np.ndarray, m: np.ndarray) -> Verdicts:
    """The check's detector, computed from the models ``pi_1..pi_{T+1}`` alone (``(T+1, N, K)``):
    regrets ``R_t(y)`` from ``P pi_s`` (this module's product), ``ln pi_s`` from the models,
    ``KL(m || pi_s)`` and the two bounds (:mod:`theory.online.sppo`); violations counted at
    every ``t`` and ``y``."""
    T = len(etas)
    W = np.einsum("nyj,snj->sny", P, models[:T])
    R = np.cumsum(W - 0.5, axis=0)
    t = np.arange(1, T + 1, dtype=float)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        logm = np.log(models)
        kl = np.sum(np.where(m > 0, m * (np.log(np.where(m > 0, m, 1.0)) - logm), 0.0), axis=2)
    B = regret_bound_trajectory(etas, logm)
    A = regret_bound_a_priori(etas, m, kl[0])
    D = kl[0][None] + np.concatenate([[0.0], np.cumsum(etas**2 / 8)])[:, None]
    real = np.isfinite(logm[0])  # the responses of each instance (not padding)
    avg = np.cumsum(models[:T], axis=0) / t[:, :, None]
    with np.errstate(invalid="ignore"):
        return Verdicts(
            trajectory=np.sum(R > B + SLACK, axis=(0, 2)),
            a_priori=np.sum(R > A + SLACK, axis=(0, 2)),
            lemma=np.sum(kl > D + SLACK, axis=0),
            expl=np.max(R, axis=2) / t,
            bound_traj=np.max(np.where(real, B, -np.inf), axis=2) / t,
            bound_apriori=np.max(np.where(real, A, -np.inf), axis=2) / t,
            tv=0.5 * np.sum(np.abs(avg - m[None]), axis=2),
            kl=kl,
        )


def _drift(P: np.ndarray, pi0: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, Any]:
    """Constant step: per instance, the number of steps where ``KL(m || pi_t)`` decreased
    (beyond rounding), the smallest mass reached, and the run."""
    run = sppo_run(P, pi0, step_sizes(ETA_CONST, CONST_STEPS, "constant"))
    kl = run.kl_to(m)
    drops = np.sum(np.diff(kl, axis=0) < -KL_ROUNDING, axis=0)
    real = pi0 > 0
    min_mass = np.min(np.where(real[None], run.models, np.inf), axis=(0, 2))
    return drops, min_mass, run


def _log_points(T: int) -> np.ndarray:
    return np.unique(np.geomspace(1, T, SERIES_POINTS).astype(int)) - 1


def chunk(ctx: CheckContext) -> Stats:
    stats = Stats()
    items = _instances(ctx)
    if not items:
        return stats
    P, pi0 = _pad(items)
    mls = [to_float(maximal_lottery(Pn, exact=False).pi) for Pn, _ in items]
    m = np.zeros_like(pi0)
    for n, ml in enumerate(mls):
        m[n, : len(ml)] = ml
    etas = step_sizes(ETA0, STEPS)
    v = detect(P, sppo_run(P, pi0, etas).models, etas, m)
    drops, min_mass, const = _drift(P, pi0, m)
    for n, (Pn, p) in enumerate(items):
        full = bool(np.all(mls[n] > 0))
        _tally(stats, v, n, len(p), full, int(drops[n]))
        extra = int(v.a_priori[n] + drops[n]) if full else 0  # these need a full-support m
        if v.trajectory[n] + v.lemma[n] + extra:
            stats.witness.offer(
                (len(p), ctx.start + n),
                {
                    "P": Pn,
                    "pi_1": p,
                    "maximal_lottery": mls[n],
                    "trajectory": int(v.trajectory[n]),
                    "a_priori": int(v.a_priori[n]),
                    "lemma": int(v.lemma[n]),
                    "kl_decreases": int(drops[n]),
                },
            )
        if ctx.start + n == 0:
            stats.rps.add(_rps_record(v, n, min_mass[n], const, const.kl_to(m)[:, n]))
    ctx.progress(len(items))
    return stats


def _tally(stats: Stats, v: Verdicts, n: int, K: int, full: bool, drops: int) -> None:
    """Count instance ``n`` of the batch (``K`` responses; ``full``: its maximal lottery has full
    support, so the a priori bound and the constant-step KL apply) into the tally."""
    stats.instances += 1
    stats.sizes.add(K)
    stats.checked_points += STEPS * K
    stats.full_support += int(full)
    stats.trajectory_violations += int(v.trajectory[n])
    stats.lemma_violations += int(v.lemma[n])
    stats.max_ratio_trajectory.add(float(np.max(v.expl[:, n] / v.bound_traj[:, n])))
    if full:
        stats.a_priori_violations += int(v.a_priori[n])
        stats.kl_decreases += drops
        stats.max_ratio_a_priori.add(float(np.max(v.expl[:, n] / v.bound_apriori[:, n])))
    stats.final_exploitability.add(float(v.expl[-1, n]))
    stats.final_tv.add(float(v.tv[-1, n]))
    stats.min_final_tv.add(float(v.tv[-1, n]))


def _rps_record(
    v: Verdicts, n: int, min_mass: float, const: Any, kl_const: np.ndarray
) -> dict[str, Any]:
    """The rock-paper-scissors series for the report and the figure."""
    idx = _log_points(len(v.expl))
    leaders = np.argmax(const.models[:, n, :3], axis=1)
    return {
        "t": (idx + 1).tolist(),
        "exploitability": v.expl[idx, n].tolist(),
        "bound_trajectory": v.bound_traj[idx, n].tolist(),
        "bound_a_priori": v.bound_apriori[idx, n].tolist(),
        "tv": v.tv[idx, n].tolist(),
        "kl_last_iterate": v.kl[idx, n].tolist(),
        "const_min_mass": float(min_mass),
        "const_first_below": int(np.argmax(np.min(const.models[:, n, :3], axis=1) < DRIFT_BELOW)),
        "const_leader_changes": int(np.sum(leaders[1:] != leaders[:-1])),
        "const_kl": [float(kl_const[0]), float(kl_const[-1])],
    }


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    rps = stats.rps.values[0] if stats.rps.values else None
    drifted = rps is None or rps["const_min_mass"] < DRIFT_BELOW
    if rps is not None and not drifted:
        stats.witness.offer((3, 0), {"part": "constant step did not drift", **rps})
    w = stats.witness
    if w.value is not None and w.size is not None:
        observed = f"{w.count} instances with a violation; smallest: K = {w.size[0]}"
        return stats.result(ctx.instances, observed)
    head = (
        f"{stats.instances} self-play runs of {STEPS} steps, eta_t = {ETA0:g}/sqrt(t) "
        f"(rock-paper-scissors from {RPS_START} and random P without a Condorcet winner, "
        f"K = 3..{MAX_K}): R_t(y) within the trajectory bound at every t and y "
        f"({stats.checked_points} points; max expl/bound {float(stats.max_ratio_trajectory):.2f}), "
        f"within the a priori bound on the {stats.full_support} instances whose maximal lottery "
        f"has full support (max expl/bound {float(stats.max_ratio_a_priori):.2f}), "
        f"KL(m || pi_t) <= D_t at every t; at t = {STEPS}: expl <= "
        f"{float(stats.final_exploitability):.1e}, TV(avg_t, m) in "
        f"[{float(stats.min_final_tv):.1e}, {float(stats.final_tv):.1e}]"
    )
    if rps is not None:
        head += (
            f"; RPS at t = {STEPS}: expl {rps['exploitability'][-1]:.1e}, bounds "
            f"{rps['bound_trajectory'][-1]:.1e} / {rps['bound_a_priori'][-1]:.1e}, TV "
            f"{rps['tv'][-1]:.1e}; constant eta = {ETA_CONST:g}: KL(m || pi_t) never decreased "
            f"(full-support m), RPS min pi reaches {rps['const_min_mass']:.1e} within "
            f"{CONST_STEPS} steps (below {DRIFT_BELOW:g} at step {rps['const_first_below']}; "
            f"the leader changed {rps['const_leader_changes']} times)"
        )
    return stats.result(ctx.instances, head)


def figure(result: CheckResult, gallery: Gallery) -> None:
    from .common.online_pictures import (
        draw_online_trajectories,
        draw_sppo,
        online_caption,
        sppo_caption,
    )

    rps = (result.details.get("rps") or [None])[0]
    if rps is not None:
        note = sppo_caption(RPS_START, ETA0, ETA_CONST, STEPS)
        with gallery.new("sppo_average", ncols=2, instance=note) as (_fig, axes):
            draw_sppo(axes, rps, ETA0, ETA_CONST, RPS_START)
    with gallery.new("online_trajectories", ncols=2, instance=online_caption()) as (_fig, axes):
        draw_online_trajectories(axes)


def _stale_opponent_is_caught(rng: np.random.Generator) -> bool:
    """Positive control: a run whose step reads the payoffs of the start, ``W_{pi_1}``, instead
    of ``W_{pi_t}`` (a stale opponent: ``pi_{t+1} ∝ pi_1 exp((sum_{s<=t} eta_s) P pi_1)``) is
    judged by the same detector: its average settles on the best response to ``pi_1``, which
    is exploitable, and the a priori bound and the KL lemma must fail."""
    P = to_float(rock_paper_scissors())
    etas = step_sizes(ETA0, 3000)
    p1 = np.array(RPS_START)
    z = np.log(p1)[None] + np.concatenate([[0.0], np.cumsum(etas)])[:, None] * (P @ p1)[None]
    models = np.exp(z - z.max(axis=1, keepdims=True))
    models = (models / models.sum(axis=1, keepdims=True))[:, None, :]
    v = detect(P[None], models, etas, np.full((1, 3), 1 / 3))
    return bool(v.a_priori[0] > 0 and v.lemma[0] > 0)


def _converging_run_is_not_drift(rng: np.random.Generator) -> bool:
    """Positive control of the drift detector: a regularized multiplicative step
    ``pi' ∝ pi^(1 - eta beta) pi_ref^(eta beta) exp(eta W_pi)`` (which converges to the
    regularized Nash equilibrium) must not be reported as drifting to the boundary."""
    P = to_float(rock_paper_scissors())
    pi = np.array(RPS_START)
    ref = np.full(3, 1 / 3)
    beta, lowest = 0.1, 1.0
    for _ in range(CONST_STEPS // 10):
        w = pi ** (1 - ETA_CONST * beta) * ref ** (ETA_CONST * beta) * np.exp(ETA_CONST * P @ pi)
        pi = w / w.sum()
        lowest = min(lowest, float(pi.min()))
    return not lowest < DRIFT_BELOW


CLAIM = Claim(
    "SPPO-average-is-maximal-lottery",
    "self-play multiplicative weights (SPPO, eta_t = eta_0/sqrt t): the exploitability of the "
    "time average is at most the regret bound / t at every t; a constant step drifts to the "
    "boundary",
    "holds",
    chunked(chunk, finish, size=CHUNK),
    figure,
    default_instances=24,
    quick_instances=8,
    controls=(
        Control("a stale opponent breaks the bound", _stale_opponent_is_caught),
        Control("a converging run is recognised as not drifting", _converging_run_is_not_drift),
    ),
)
