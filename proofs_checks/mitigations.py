"""mitigations: iterated SFT and best-of-n raise SFT's ceiling; checkpointing on win rate.

Instances cycle through four parts (docs/theory.md, SFT; claim ``mitigations``):

* **iterated SFT, strict order (exact)**: from a random exact start ``mu`` (K in 2..5) ``t``
  rounds of SFT on fresh pairs from the current model give exactly best-of-``2^t`` of ``mu``
  (:func:`theory.methods.best_of_n.best_of_n`, an independent formula), and the win rate against
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
  ``1 / beta^2`` so the convex training loss must fall monotonically): the path's win rates
  equal pairwise sums computed here and the two choices are the argmin of the held-out loss and
  the argmax of the win rate (re-derived here); the check records how often and by how much the
  loss choice is worse, and the regret of choosing by a win rate estimated from judged
  comparisons (what a practitioner can measure).  The regret itself is non-negative by
  construction, so it is reported, not tested (not part of the verdict).

Positive controls (:data:`CONTROLS`; a missed one makes the verdict ``invalid``): iterated SFT
is not best-of-``(2^t + 1)`` (the exact-equality detector), a cycle breaks the top mass's
monotonicity (the Bradley-Terry detector) and the worst checkpoint is not the argmax (the choice
detector).  Chunked (:func:`~proofs_checks.scaffold.chunked`, 500 instances a chunk).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from theory import cyclic, total_order
from theory.checkpoints import checkpoint_path, estimate_win_rates, select_checkpoints
from theory.data import PreferenceData, random_preference_data
from theory.dynamics import iterated_sft
from theory.methods.best_of_n import best_of_n, best_of_n_win_rate, strict_order_ceiling
from theory.methods.sft import sft_win_rate
from theory.preferences import bradley_terry_matrix, bradley_terry_rewards, random_bradley_terry
from theory.simplex import random_distribution

from .common.cases import Fails, cycle_cases
from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Counts,
    Gallery,
    Min,
    Samples,
    Smallest,
    Tally,
    chunked,
    counts,
    minimum,
    samples,
)

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
#: Per-instance values kept (raises, regrets): every instance at the default sizes.
KEPT = 100_000


@dataclass
class Stats(Tally):
    """Instances per part; the strict orders' raise above the one-shot ceiling; BT trajectories
    converged; the fewest leader changes of a cyclic trajectory; per checkpoint path the regret of
    choosing by held-out loss and by an estimated win rate, paths where the loss choice is worse,
    and ``example_path``: the path with the largest regret (its held-out loss and win rates)."""

    parts: Counts = counts()
    raises: Samples = samples(KEPT)
    converged: int = 0
    min_leader_changes: Min = minimum()
    checkpoint_differ: int = 0
    regrets: Samples = samples(KEPT)
    estimated_win_rate_regrets: Samples = samples(KEPT)
    example_path: Smallest = field(default_factory=Smallest)


def _part_strict_exact(rng: np.random.Generator, n: int, stats: Stats) -> Fails:
    K = int(rng.integers(2, 6))
    ranking = rng.permutation(K)
    P = total_order(K, ranking)
    mu = random_distribution(rng, K, exact=True, denominator=6)
    reward = np.empty(K)
    reward[ranking] = np.arange(K, 0, -1)
    tr = iterated_sft(P, mu, EXACT_STEPS)
    fails: Fails = []
    for t in range(EXACT_STEPS + 1):
        if not np.all(tr.models[t] == best_of_n(mu, reward, 2**t)):
            fails.append(("iterated SFT = best-of-2^t (strict order)", {"P": P, "mu": mu, "t": t}))
    one_shot = sft_win_rate(PreferenceData(P=P, mu0=mu))
    if tr.win_rates[1] != one_shot:
        fails.append(("first round = SFT optimum", {"P": P, "mu": mu}))
    wr = tr.win_rates
    if max(mu) < 1 and not all(a < b for a, b in zip(wr, wr[1:], strict=False)):
        fails.append(("win rate strictly rises each round", {"P": P, "mu": mu, "wr": wr}))
    stats.raises.add(float(tr.win_rates[-1] - one_shot))
    return fails


def _part_bt(rng: np.random.Generator, n: int, stats: Stats) -> Fails:
    K = int(rng.integers(2, 7))
    P = random_bradley_terry(rng, K)
    r = bradley_terry_rewards(P)
    mu = rng.dirichlet(np.ones(K))
    top = int(np.argmax(r))
    tr = iterated_sft(P, mu, FLOAT_STEPS)
    masses = tr.models[:, top]
    fails: Fails = []
    if np.any(np.diff(masses) < -TOL):
        fails.append(("top mass never falls (BT)", {"P": P, "mu": mu}))
    if np.any(np.diff(np.array(tr.win_rates, dtype=float)) < -TOL):
        fails.append(("win rate never falls (BT)", {"P": P, "mu": mu}))
    bon = [float(best_of_n_win_rate(P, mu, r, n)) for n in BEST_OF]
    if np.any(np.diff(bon) < -TOL):
        fails.append(("best-of-n win rate rises with n (BT)", {"P": P, "mu": mu, "wr": bon}))
    stats.converged += bool(masses[-1] >= CONVERGED)
    return fails


def _part_cyclic(rng: np.random.Generator, n: int, stats: Stats) -> Fails:
    p = Fraction(int(rng.integers(4, 7)), 6) if rng.integers(2) else Fraction(1)
    P = cyclic(3, p)
    k = rng.integers(1, 7, size=3)
    while len(set(k.tolist())) == 1:
        k = rng.integers(1, 7, size=3)
    mu = np.array([Fraction(int(v), int(k.sum())) for v in k], dtype=object)
    tr = iterated_sft(P, mu, EXACT_STEPS)
    fails: Fails = []
    for t in range(EXACT_STEPS):
        if not np.prod(2 * (P @ tr.models[t])) < 1:
            fails.append(("exact Lyapunov decrease (cyclic)", {"P": P, "mu": mu, "t": t}))
    trf = iterated_sft(P.astype(float), mu.astype(float), CYCLE_STEPS)
    head = trf.models[: EXACT_STEPS + 1]
    if np.max(np.abs(head - tr.models.astype(float))) > 1e-12:
        fails.append(("float (log-space) trajectory = exact trajectory", {"P": P, "mu": mu}))
    if np.any(np.diff(trf.log_potential()) >= 0):
        fails.append(("Lyapunov quantity falls (cyclic, float)", {"P": P, "mu": mu}))
    changes = trf.leader_changes()
    if changes < 2:
        fails.append(("leader keeps rotating (cyclic)", {"P": P, "mu": mu, "changes": changes}))
    stats.min_leader_changes.add(changes)
    return fails


def _part_checkpoint(rng: np.random.Generator, n: int, stats: Stats) -> Fails:
    K = int(rng.integers(2, 6))
    data = random_preference_data(rng, 1, K, symmetric=bool(rng.integers(2)))
    beta = float(rng.choice([0.5, 1.0, 2.0]))
    ref = np.full((1, K), 1.0 / K)
    cp = checkpoint_path(data, ref, beta, rng, n_train=30, steps=40, learning_rate=1 / beta**2)
    fails: Fails = []
    if np.any(np.diff(cp.train_loss) > TOL):
        fails.append(("training loss falls along gradient descent", {"P": data.P}))
    choice = select_checkpoints(cp)
    # the regret is >= 0 by construction (not a test); instead re-derive the choice and the
    # path's win rates here: WR(pi_t; (mu0 + mu1)/2) summed pair by pair, argmin/argmax by hand
    P, q = np.asarray(data.P[0], float), (np.asarray(data.mu0[0], float) + data.mu1[0]) / 2
    wr = np.array(
        [sum(m[0, i] * P[i, j] * q[j] for i in range(K) for j in range(K)) for m in cp.models]
    )
    if np.max(np.abs(wr - cp.win_rates)) > TOL:
        fails.append(("path win rates = pairwise sums", {"P": data.P}))
    if cp.heldout_loss[choice.by_loss] > np.min(cp.heldout_loss) or wr[choice.by_win_rate] < (
        np.max(wr) - TOL
    ):
        picked = {"by_loss": choice.by_loss, "by_win_rate": choice.by_win_rate}
        fails.append(("checkpoint choices = argmin loss / argmax win rate", picked))
    estimated = select_checkpoints(cp, win_rates=estimate_win_rates(cp, data, JUDGED, rng))
    # regret of choosing by an estimated win rate, relative to the best checkpoint
    stats.estimated_win_rate_regrets.add(choice.wr_by_win_rate - estimated.wr_by_win_rate)
    stats.regrets.add(choice.regret)
    stats.checkpoint_differ += choice.differ
    if choice.regret > 0:  # the largest regret (the first one on a tie) is the figure's example
        example = {"regret": choice.regret, "heldout_loss": cp.heldout_loss.tolist()}
        example |= {"P": P.tolist(), "mu0": data.mu0[0].tolist(), "mu1": data.mu1[0].tolist()}
        example |= {"beta": beta}
        stats.example_path.offer((-choice.regret,), example | {"win_rates": cp.win_rates.tolist()})
    return fails


PARTS = (_part_strict_exact, _part_bt, _part_cyclic, _part_checkpoint)


def _best_of_n_limits(stats: Stats) -> dict[int, Fraction]:
    """Best-of-n from a uniform start over a strict order of :data:`LARGE_K` responses is within
    ``1/K`` of ``n / (n + 1)``."""
    limits = {n: strict_order_ceiling(LARGE_K, n=n) for n in BEST_OF}
    for n, v in limits.items():
        if abs(v - Fraction(n, n + 1)) > Fraction(1, LARGE_K):
            stats.witness.offer(
                (-1,), {"part": "best-of-n limit", "property": f"n={n}", "value": v}
            )
    return limits


def _observed(stats: Stats) -> str:
    worst = stats.witness
    if worst.value is not None:
        return f"{worst.count} violations; first: {worst.value['part']}: {worst.value['property']}"
    parts, regrets = stats.parts, stats.regrets.values
    n_ckpt = max(parts["checkpoint"], 1)
    changes = stats.min_leader_changes.value
    return (
        f"iterated SFT = best-of-2^t exactly and strictly above 1/2+2Var on "
        f"{parts['strict_exact']} strict orders (median raise {np.median(stats.raises.values):.3f} "
        f"after {EXACT_STEPS} rounds); BT: monotone, {stats.converged}/{parts['bt']} at top mass "
        f">= {CONVERGED} after {FLOAT_STEPS} rounds, best-of-n rising; best-of-n -> n/(n+1) "
        f"(K={LARGE_K}); cyclic: exact Lyapunov decrease, leader rotated >= "
        f"{changes if changes is not None else 0} times on all {parts['cyclic']}; checkpoints "
        "(win rates and choices re-derived; the regret is >= 0 by construction, reported only): "
        f"loss choice worse on {stats.checkpoint_differ}/{parts['checkpoint']} paths (mean regret "
        f"{np.sum(regrets) / n_ckpt:.4f}, max {max(regrets, default=0):.3f}; choosing by a "
        f"win rate estimated from {JUDGED} judged comparisons: mean regret "
        f"{np.sum(stats.estimated_win_rate_regrets.values) / n_ckpt:.4f})"
    )


def chunk(ctx: CheckContext) -> Stats:
    """The chunk's instances, each running part ``n mod 4`` of its global index ``n``."""
    stats = Stats()
    cycle_cases(ctx, PARTS, stats, stats.parts, "part")
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    """The best-of-n limits (after the merge) and the report."""
    limits = _best_of_n_limits(stats)
    limits_by_n = {str(k): v for k, v in limits.items()}
    return stats.result(ctx.instances, _observed(stats), best_of_n_limits=limits_by_n)


#: Where the figure's iterated-SFT trajectories start (the same three starts on each P).
STARTS = (
    (Fraction(1, 5), Fraction(3, 10), Fraction(1, 2)),
    (Fraction(1, 20), Fraction(3, 20), Fraction(4, 5)),
    (Fraction(2, 5), Fraction(7, 20), Fraction(1, 4)),
)


def _draw_trajectories(ax: Any, title: str, P: np.ndarray) -> None:
    """Iterated SFT on the simplex from each of :data:`STARTS`: a hollow circle at the start
    labelled with the start's number, arrows on the first and last steps
    (theory.plot.simplex_path)."""
    from theory.plot import simplex_axes, simplex_path, simplex_xy

    from .scaffold.figures import exempt

    simplex_axes(ax, title=title)
    exempt(ax, "simplex")
    for i, mu in enumerate(STARTS):
        models = iterated_sft(P, np.array([float(v) for v in mu]), 60).models
        simplex_path(models, ax, color=f"C{i}")
        simplex_path(models[:4], ax, color=f"C{i}", start=False)  # the direction of the first steps
        x, y = simplex_xy(models[0])[0]
        ax.annotate(
            f"({i + 1})",
            (x, y),
            xytext=(-12, 4),
            textcoords="offset points",
            ha="right",
            color=f"C{i}",
            weight="bold",
        )


def _draw_checkpoints(ax: Any, example: dict[str, Any] | None) -> None:
    if not example:
        ax.set_axis_off()
        return
    loss, wr = example["heldout_loss"], example["win_rates"]
    by_loss, by_wr = int(np.argmin(loss)), int(np.argmax(wr))
    ax.plot(loss, "C0-", label="held-out DPO loss (left axis)")
    ax.set_xlabel("gradient step")
    ax.set_ylabel("held-out DPO loss", color="C0")
    ax.axvline(by_loss, color="C0", ls=":", lw=2.5, label=f"checkpoint by loss (step {by_loss})")
    ax2 = ax.twinx()
    ax2.plot(wr, "C3-", label=r"win rate $\mathrm{WR}(\pi_t; (\mu_0+\mu_1)/2)$ (right axis)")
    ax2.axvline(by_wr, color="C3", ls="--", lw=2.5, label=f"checkpoint by win rate (step {by_wr})")
    ax2.set_ylabel("win rate against the data", color="C3")
    ax.set_title(f"choosing a checkpoint: regret {example['regret']:.3f} in win rate")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax2.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="center right", fontsize=14)


def figure(result: CheckResult, gallery: Gallery) -> None:
    from .common.text import format_exact
    from .scaffold.figures import caption

    cases = [
        ("transitive: total order 0 > 1 > 2", total_order(3, exact=False)),
        ("Bradley-Terry, r = (1, 1/2, 0)", bradley_terry_matrix([1.0, 0.5, 0.0])),
        ("cyclic: rock-paper-scissors, p = 3/4", cyclic(3, Fraction(3, 4), exact=False)),
    ]
    example = result.details.get("example_path") or {}
    note = (
        f"Simplices: total order $P$ = {format_exact(total_order(3))}; Bradley-Terry "
        r"$P_{ij} = \sigma(r_i - r_j)$; cyclic $P$ = "
        f"{format_exact(cyclic(3, Fraction(3, 4)))}"
        + r"; each path: 60 rounds of iterated SFT ($\mu \leftarrow$ the winners' distribution "
        r"$p_w(\mu)$ of fresh pairs from the current model), from the starts "
        + "; ".join(f"({i + 1}) $\\mu$ = {format_exact(mu)}" for i, mu in enumerate(STARTS))
        + "; hollow circle: start; arrows: the direction of the first and last rounds.  "
    )
    if "P" in example:
        shown = {k: np.round(example[k], 3) for k in ("P", "mu0", "mu1")}
        note += caption(
            {**shown, "beta": example["beta"]},
            prefix="Right (the check's checkpoint path with the largest regret): ",
        )
    with gallery.new("mitigations", nrows=2, ncols=2, instance=note) as (fig, axes):
        for ax, (title, P) in zip(axes.ravel()[:3], cases, strict=True):
            _draw_trajectories(ax, title, P)
        _draw_checkpoints(axes[1, 1], example)
        fig.suptitle(
            "mitigations: iterated SFT climbs (or cycles); checkpoint on win rate, not loss"
        )


# positive controls: a known failure, the check's own detector, through the library


def _best_of_more_is_caught(rng: np.random.Generator) -> bool:
    """Iterated SFT after ``t >= 1`` rounds is best-of-``2^t``, not best-of-``2^t + 1``: the
    exact-equality detector of the strict-order part must fire against the wrong ``n`` (a
    ``best_of_n`` off by one would make both sides agree, and this control miss)."""
    K = 3
    ranking = rng.permutation(K)
    mu = random_distribution(rng, K, exact=True, denominator=6, zeros=False)
    reward = np.empty(K)
    reward[ranking] = np.arange(K, 0, -1)
    tr = iterated_sft(total_order(K, ranking), mu, 2)
    return all(not np.all(tr.models[t] == best_of_n(mu, reward, 2**t + 1)) for t in range(1, 3))


def _cycle_breaks_monotonicity(rng: np.random.Generator) -> bool:
    """On rock-paper-scissors the top response's mass falls somewhere (the leader rotates): the
    "top mass never falls" detector of the Bradley-Terry part must fire."""
    k = rng.integers(1, 7, size=3)
    while len(set(k.tolist())) == 1:
        k = rng.integers(1, 7, size=3)
    mu = k / k.sum()
    tr = iterated_sft(cyclic(3, Fraction(3, 4), exact=False), mu, FLOAT_STEPS)
    return bool(np.any(np.diff(tr.models[:, int(np.argmax(mu))]) < -TOL))


def _worst_checkpoint_is_caught(rng: np.random.Generator) -> bool:
    """Choosing by the *negated* win rates (through the library's ``select_checkpoints``) picks
    the worst checkpoint, not the argmax: the choice detector of the checkpoint part must fire on
    a path whose win rate moves (a library that ignores the scores it is given misses it)."""
    data = random_preference_data(rng, 1, 3, symmetric=True)
    cp = checkpoint_path(data, np.full((1, 3), 1 / 3), 1.0, rng, n_train=30, steps=40)
    worst = select_checkpoints(cp, win_rates=-cp.win_rates).by_win_rate
    return bool(cp.win_rates[worst] < np.max(cp.win_rates) - TOL)


CONTROLS = (
    Control("iterated SFT is not best-of-(2^t + 1)", _best_of_more_is_caught),
    Control("a cycle breaks the top mass's monotonicity", _cycle_breaks_monotonicity),
    Control("the worst checkpoint is not the argmax", _worst_checkpoint_is_caught),
)

CLAIM = Claim(
    "mitigations",
    "iterated SFT / best-of-n raise the ceiling; checkpointing on win rate picks the better "
    "model where DPO loss does not (the regret is reported, not tested)",
    "holds",
    chunked(chunk, finish, size=500),
    figure,
    default_instances=5000,
    controls=CONTROLS,
)
