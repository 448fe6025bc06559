"""mitigations: iterated SFT and best-of-n raise SFT's ceiling; checkpointing on win rate.

Instances cycle through four parts (THEORY.md, SFT; claim ``mitigations``):

* **iterated SFT, strict order (exact)**: from a random exact start ``mu`` (K in 2..5) ``t``
  rounds of SFT on fresh pairs from the current model give exactly best-of-``2^t`` of ``mu``
  (:func:`theory.methods.sft.best_of_n`, an independent formula), and the win rate against
  ``mu`` strictly rises each round beyond the one-shot ceiling ``1/2 + 2 Var``;
* **iterated SFT and best-of-n, Bradley-Terry (float)**: the top response's mass never falls,
  the win rate against ``mu`` never falls, the trajectory approaches the top response, and
  best-of-``n`` win rates rise with ``n``; for a strict order with a uniform start best-of-``n``
  tends to ``n / (n + 1)`` (exact, K = 1000, within ``1/K``);
* **iterated SFT, cyclic preferences**: the Lyapunov quantity ``(1/K) sum_y log pi_t(y)``
  strictly falls (checked exactly: ``prod_y 2 W_t(y) < 1``) so the trajectory leaves the uniform
  equilibrium for ever, and the leading response keeps rotating (K = 3); the float trajectory
  (computed in log space) matches the exact one on the first rounds;
* **checkpointing** along a simulated DPO training path (full-batch gradient descent, step
  ``1 / beta^2`` so the convex training loss must fall monotonically): the win-rate-chosen
  checkpoint is never worse than the held-out-loss-chosen one, and the check records how often
  and by how much the loss choice is worse, and the regret of choosing by a win rate estimated
  from judged comparisons (what a practitioner can measure).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from theory import cyclic, random_bradley_terry, total_order
from theory.data import PreferenceData, random_preference_data
from theory.dynamics import (
    checkpoint_path,
    estimate_win_rates,
    iterated_sft,
    select_checkpoints,
)
from theory.methods.sft import best_of_n, best_of_n_win_rate, sft_win_rate, strict_order_ceiling
from theory.preferences import bradley_terry_matrix, bradley_terry_rewards
from theory.simplex import random_distribution

from .registry import CheckContext, CheckResult, Claim, Smallest

#: Slack for float monotonicity (win rates, masses, losses).
TOL = 1e-12
#: Float iterated-SFT length, and the top mass counted as "converged".
FLOAT_STEPS = 300
CONVERGED = 0.99
EXACT_STEPS = 3
CYCLE_STEPS = 300
BEST_OF = (1, 2, 3, 4, 6, 8)
LARGE_K = 1000
#: Judged comparisons per checkpoint when the win rate is estimated rather than known.
JUDGED = 200


def _part_strict_exact(rng: np.random.Generator, fails: list) -> dict[str, Any]:
    K = int(rng.integers(2, 6))
    ranking = rng.permutation(K)
    P = total_order(K, ranking)
    mu = random_distribution(rng, K, exact=True, denominator=6)
    reward = np.empty(K)
    reward[ranking] = np.arange(K, 0, -1)
    tr = iterated_sft(P, mu, EXACT_STEPS)
    for t in range(EXACT_STEPS + 1):
        if not np.all(tr.models[t] == best_of_n(mu, reward, 2**t)):
            fails.append(("iterated SFT = best-of-2^t (strict order)", {"P": P, "mu": mu, "t": t}))
    one_shot = sft_win_rate(PreferenceData(P=P, mu0=mu))
    if tr.win_rates[1] != one_shot:
        fails.append(("first round = SFT optimum", {"P": P, "mu": mu}))
    if max(mu) < 1:
        wr = tr.win_rates
        if not all(a < b for a, b in zip(wr, wr[1:], strict=False)):
            fails.append(("win rate strictly rises each round", {"P": P, "mu": mu, "wr": wr}))
    return {"raise": float(tr.win_rates[-1] - one_shot)}


def _part_bt(rng: np.random.Generator, fails: list) -> dict[str, Any]:
    K = int(rng.integers(2, 7))
    P = random_bradley_terry(rng, K)
    r = bradley_terry_rewards(P)
    mu = rng.dirichlet(np.ones(K))
    top = int(np.argmax(r))
    tr = iterated_sft(P, mu, FLOAT_STEPS)
    masses = tr.models[:, top]
    if np.any(np.diff(masses) < -TOL):
        fails.append(("top mass never falls (BT)", {"P": P, "mu": mu}))
    if np.any(np.diff(np.array(tr.win_rates, dtype=float)) < -TOL):
        fails.append(("win rate never falls (BT)", {"P": P, "mu": mu}))
    bon = [float(best_of_n_win_rate(P, mu, r, n)) for n in BEST_OF]
    if np.any(np.diff(bon) < -TOL):
        fails.append(("best-of-n win rate rises with n (BT)", {"P": P, "mu": mu, "wr": bon}))
    return {"converged": bool(masses[-1] >= CONVERGED), "bon": bon}


def _part_cyclic(rng: np.random.Generator, fails: list) -> dict[str, Any]:
    p = Fraction(int(rng.integers(4, 7)), 6) if rng.integers(2) else Fraction(1)
    P = cyclic(3, p)
    k = rng.integers(1, 7, size=3)
    while len(set(k.tolist())) == 1:
        k = rng.integers(1, 7, size=3)
    mu = np.array([Fraction(int(v), int(k.sum())) for v in k], dtype=object)
    tr = iterated_sft(P, mu, EXACT_STEPS)
    for t in range(EXACT_STEPS):
        W = P @ tr.models[t]
        if not np.prod(2 * W) < 1:
            fails.append(("exact Lyapunov decrease (cyclic)", {"P": P, "mu": mu, "t": t}))
    trf = iterated_sft(P.astype(float), mu.astype(float), CYCLE_STEPS)
    head = trf.models[: EXACT_STEPS + 1]
    if np.max(np.abs(head - tr.models.astype(float))) > 1e-12:
        fails.append(("float (log-space) trajectory = exact trajectory", {"P": P, "mu": mu}))
    V = trf.log_potential()
    if np.any(np.diff(V) >= 0):
        fails.append(("Lyapunov quantity falls (cyclic, float)", {"P": P, "mu": mu}))
    changes = trf.leader_changes()
    if changes < 2:
        fails.append(("leader keeps rotating (cyclic)", {"P": P, "mu": mu, "changes": changes}))
    return {"changes": changes}


def _part_checkpoint(rng: np.random.Generator, fails: list) -> dict[str, Any]:
    K = int(rng.integers(2, 6))
    data = random_preference_data(rng, 1, K, symmetric=bool(rng.integers(2)))
    beta = float(rng.choice([0.5, 1.0, 2.0]))
    ref = np.full((1, K), 1.0 / K)
    cp = checkpoint_path(data, ref, beta, rng, n_train=30, steps=40, learning_rate=1 / beta**2)
    if np.any(np.diff(cp.train_loss) > TOL):
        fails.append(("training loss falls along gradient descent", {"P": data.P}))
    choice = select_checkpoints(cp)
    if choice.regret < -TOL:
        fails.append(("win-rate checkpoint never worse", {"choice": choice}))
    estimated = select_checkpoints(cp, win_rates=estimate_win_rates(cp, data, JUDGED, rng))
    # regret of choosing by an estimated win rate, relative to the best checkpoint
    est_regret = choice.wr_by_win_rate - estimated.wr_by_win_rate
    return {
        "regret": choice.regret,
        "differ": choice.differ,
        "path": cp,
        "loss_regret": choice.regret,
        "est_regret": est_regret,
    }


PARTS = (_part_strict_exact, _part_bt, _part_cyclic, _part_checkpoint)


def check(ctx: CheckContext) -> CheckResult:
    rng = ctx.rng
    worst = Smallest()
    counts = dict.fromkeys((p.__name__[6:] for p in PARTS), 0)
    raises, regrets, changes, est_regrets = [], [], [], []
    converged = differ = 0
    example_path = None
    for n in range(ctx.instances):
        part = PARTS[n % len(PARTS)]
        fails: list = []
        info = part(rng, fails)
        counts[part.__name__[6:]] += 1
        if "raise" in info:
            raises.append(info["raise"])
        converged += bool(info.get("converged"))
        if "changes" in info:
            changes.append(info["changes"])
        if "regret" in info:
            regrets.append(info["regret"])
            est_regrets.append(info["est_regret"])
            differ += info["differ"]
            if info["regret"] > 0 and (example_path is None or info["regret"] > example_path[0]):
                cp = info["path"]
                example_path = (info["regret"], cp.heldout_loss.tolist(), cp.win_rates.tolist())
        for name, value in fails:
            worst.offer((n,), {"part": part.__name__[6:], "property": name, "value": value})
        ctx.progress(n + 1)
    limits = {n: strict_order_ceiling(LARGE_K, n=n) for n in BEST_OF}
    for n, v in limits.items():
        if abs(v - Fraction(n, n + 1)) > Fraction(1, LARGE_K):
            worst.offer((-1,), {"part": "best-of-n limit", "property": f"n={n}", "value": v})
    found = worst.value is not None
    n_ckpt = max(counts["checkpoint"], 1)
    observed = (
        f"{worst.count} violations; first: {worst.value['part']}: {worst.value['property']}"
        if worst.value is not None
        else f"iterated SFT = best-of-2^t exactly and strictly above 1/2+2Var on "
        f"{counts['strict_exact']} strict orders (median raise {np.median(raises):.3f} after "
        f"{EXACT_STEPS} rounds); BT: monotone, {converged}/{counts['bt']} at top mass >= "
        f"{CONVERGED} after {FLOAT_STEPS} rounds, best-of-n rising; best-of-n -> n/(n+1) "
        f"(K={LARGE_K}); cyclic: exact Lyapunov decrease, leader rotated >= "
        f"{min(changes) if changes else 0} times on all {counts['cyclic']}; checkpoints: loss "
        f"choice worse on {differ}/{counts['checkpoint']} paths (mean regret "
        f"{np.sum(regrets) / n_ckpt:.4f}, max {max(regrets, default=0):.3f}; choosing by a "
        f"win rate estimated from {JUDGED} judged comparisons: mean regret "
        f"{np.sum(est_regrets) / n_ckpt:.4f})"
    )
    return CheckResult(
        observed=observed,
        instances=ctx.instances,
        found=found,
        counterexample=worst.value,
        details={
            "counts": counts,
            "checkpoint_differ": differ,
            "regrets": regrets[:3000],
            "estimated_win_rate_regrets": est_regrets[:3000],
            "example_path": example_path,
            "best_of_n_limits": {str(k): v for k, v in limits.items()},
        },
    )


def _simplex_xy(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])
    xy = p @ corners
    return xy[:, 0], xy[:, 1]


def figure(result: CheckResult, outdir: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    cases = [
        ("transitive (total order 0 > 1 > 2)", total_order(3, exact=False)),
        ("Bradley-Terry r = (1, 0.5, 0)", bradley_terry_matrix([1.0, 0.5, 0.0])),
        ("cyclic (rock-paper-scissors, p = 3/4)", cyclic(3, Fraction(3, 4), exact=False)),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    starts = [np.array(v) for v in ([0.2, 0.3, 0.5], [0.05, 0.15, 0.8], [0.4, 0.35, 0.25])]
    for ax, (title, P) in zip(axes[:3], cases, strict=True):
        ax.plot(*_simplex_xy(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]])), "k-", lw=0.6)
        for i, mu in enumerate(starts):
            tr = iterated_sft(P, mu, 60)
            x, y = _simplex_xy(tr.models)
            ax.plot(x, y, "-o", ms=2, lw=0.8, color=f"C{i}")
        for i, (cx, cy) in enumerate([(0, 0), (1, 0), (0.5, np.sqrt(3) / 2)]):
            ax.text(cx, cy, f" {i}", fontsize=9)
        ax.set_title(f"iterated SFT: {title}", fontsize=9)
        ax.set_aspect("equal")
        ax.axis("off")
    ax = axes[3]
    ex = result.details.get("example_path")
    if ex:
        _, loss, wr = ex
        ax.plot(loss, "C0-", label="held-out DPO loss")
        ax.set_xlabel("gradient step")
        ax.set_ylabel("held-out DPO loss", color="C0")
        ax.axvline(int(np.argmin(loss)), color="C0", ls=":")
        ax2 = ax.twinx()
        ax2.plot(wr, "C3-")
        ax2.axvline(int(np.argmax(wr)), color="C3", ls=":")
        ax2.set_ylabel("win rate against the data", color="C3")
        ax.set_title("checkpoint by loss (blue) vs by win rate (red)", fontsize=9)
    fig.tight_layout()
    path = outdir / "mitigations.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]


CLAIM = Claim(
    id="mitigations",
    statement=(
        "iterated SFT / best-of-n raise the ceiling; checkpointing on win rate picks the better "
        "model where DPO loss does not"
    ),
    expected="holds",
    check=check,
    figure=figure,
    default_instances=5000,
)
