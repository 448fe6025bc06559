"""DPO-fixed-points: the DPO minimizer set is as described (docs/theory.md, DPO).

Instances cycle through five cases:

* **full**: ``mu0 = mu1`` of full support and ``P`` Bradley-Terry: the set is one model and it
  equals the RLHF optimum :func:`theory.rlhf_policy` (float, to :data:`TOL`); every other
  instance of this case is exact with ``beta = 1``, where the minimizer is exact and must equal
  ``pi_ref * s / Z`` with ``s`` the strengths of ``P``
  (:func:`theory.preferences.bradley_terry_strengths`, an independent computation), with ``==``;
* **partial**: random families, zeros in ``mu0``/``mu1``, ``mu0 != mu1`` half the time: members
  of the set (random component weights and free masses) all attain ``min_loss`` and have a zero
  logit gradient (KKT, :data:`GRAD_TOL`); random models never do better; every member's win rate
  lies in ``[worst, best]``; the range equals scipy's ``linprog`` on the LP in ``(t, u)`` (an
  independent solver, on every tenth instance); with free responses the worst is at most the
  worst free response's ``W_q`` (arbitrarily bad models minimize the loss);
* **no minimizer**: deterministic labels (a total order, or random 0/1 entries): the MLE does not
  exist exactly when the set reports none; along the reported direction the loss strictly falls
  and stays above the reported infimum, which it approaches;
* **sampled**: a dataset of 10..80 comparisons: the same checks on the empirical weights, with
  the per-comparison loss :func:`theory.methods.dpo.dpo_sampled_loss` as the second computation,
  and the set's rewards equal the Bradley-Terry MLE fitted on the sample's winner-loser counts
  (:func:`theory.bradley_terry.fit_bradley_terry_data`);
* **components**: minimizer sets with several components and references with zeros: winner-loser
  weights made of two independent blocks (two random data distributions on disjoint sets of
  responses, plus unshown responses) or a tiny sample of 2..6 comparisons; the reference
  vanishes on some free responses.  Members attain ``min_loss``, which equals the sum of the
  blocks' own minima (each block solved alone, a second computation); and a reference that
  vanishes on a compared response is refused alike by :func:`~theory.methods.dpo.dpo_minimizers`
  and the loss (the one support rule of docs/dpo_sft.md);
* **ranking**: ``mu0 = mu1 = mu`` of full support and any ``P`` (general, cyclic, BT): the fitted
  rewards satisfy ``W_mu(i) = sum_j mu_j sigmoid(r_i - r_j)`` and the minimizer's implicit reward
  ``beta d`` ranks responses exactly as ``W_mu`` does.

Positive controls (:data:`CONTROLS`; a missed one makes the verdict ``invalid``): the minimizer
set of the transposed weights, and of the weights with one response's comparisons dropped (a
dropped component), judged with the true loss, must fail the member detector; a reversed
implicit reward must fail the ranking detector.  Chunked
(:func:`~proofs_checks.scaffold.chunked`, 500 instances a chunk).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.optimize import linprog

from theory import to_float, total_order
from theory.bradley_terry import fit_bradley_terry_data, mle_exists
from theory.data import PreferenceData, data_anchor, random_preference_data, sample_dataset
from theory.errors import SupportMismatchError
from theory.methods.dpo import (
    DPOMinimizerSet,
    dpo_logit_gradient,
    dpo_loss,
    dpo_loss_from_log_probs,
    dpo_loss_from_weights,
    dpo_minimizers,
    dpo_sampled_loss,
    dpo_weights,
    dpo_win_rate_range,
)
from theory.methods.rlhf import rlhf_policy
from theory.preferences import bradley_terry_strengths, random_bradley_terry
from theory.simplex import random_distribution, random_model

from .common.cases import Fails, cycle_cases
from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Counts,
    Gallery,
    Samples,
    Tally,
    chunked,
    counts,
    samples,
)

#: Agreement of float losses, win rates and models that are equal in exact arithmetic.
TOL = 1e-8
#: Largest logit-gradient norm accepted at a minimizer.
GRAD_TOL = 1e-7
MAX_K = 6
BETAS = (0.1, 0.5, 1.0, 2.0)
#: Points of the no-minimizer path.
PATH_T = (0.0, 1.0, 2.0, 4.0, 8.0)
FAR_T = 60.0
#: Best-worst spreads kept (for their median and the figure): every instance at the default sizes.
KEPT = 100_000


@dataclass
class Stats(Tally):
    """Instances per case; full-support instances checked exactly; sets with free responses and
    their best-worst win-rate spread; instances without a minimizer (and those whose path was
    followed); instances whose ranking was checked; the first no-minimizer paths."""

    cases: Counts = counts()
    multi_component: int = 0
    ref_zero_free: int = 0
    ref_zero_refused: int = 0
    exact_full: int = 0
    free_sets: int = 0
    no_minimizer: int = 0
    path_checked: int = 0
    ranked: int = 0
    spreads: Samples = samples(KEPT)
    paths: Samples = samples(30)


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(1.0, abs(b))


def _members(S: DPOMinimizerSet, rng: np.random.Generator, n: int) -> list[np.ndarray]:
    out = []
    for _ in range(n):
        t = [rng.dirichlet(np.ones(len(S.nus[x]) + len(S.free[x]))) for x in range(S.M)]
        tt = [v[: len(S.nus[x])] for x, v in enumerate(t)]
        uu = [v[len(S.nus[x]) :] for x, v in enumerate(t)]
        out.append(to_float(S.point(tt, uu)))
    return out


def _lp_range(
    S: DPOMinimizerSet, P: np.ndarray, q: np.ndarray, rho: np.ndarray
) -> tuple[float, float]:
    """The LP over (t, u) solved by scipy (independent of the vertex enumeration)."""
    c: list[float] = []
    blocks: list[int] = []
    for x in range(S.M):
        Wq = P[x] @ q[x]
        vals = [float(to_float(nu) @ Wq) for nu in S.nus[x]] + [float(Wq[y]) for y in S.free[x]]
        c.extend(rho[x] * v for v in vals)
        blocks.append(len(vals))
    A = np.zeros((S.M, len(c)))
    start = 0
    for x, k in enumerate(blocks):
        A[x, start : start + k] = 1.0
        start += k
    out = []
    for sign in (-1.0, 1.0):
        res = linprog(sign * np.array(c), A_eq=A, b_eq=np.ones(S.M), bounds=(0, None))
        out.append(sign * res.fun)
    return out[0], out[1]


LossOf = Callable[[np.ndarray], float]


def _check_minimum(S: DPOMinimizerSet, loss_of: LossOf, w, ref, beta, rng, fails: Fails) -> list:
    """Members of the set attain ``min_loss`` with a zero logit gradient (KKT); random models
    never do better.  Returns the members (float)."""
    members = _members(S, rng, 3)
    for pi in members:
        val = loss_of(pi)
        if _rel(val, S.min_loss) > TOL:
            fails.append(("member attains min_loss", {"loss": val, "min_loss": S.min_loss}))
        r = to_float(ref)  # a zero of pi_ref on a free response does not enter the loss
        g = dpo_logit_gradient(to_float(w), np.log(pi), np.log(np.where(r > 0, r, 1.0)), beta)
        if np.max(np.abs(g)) > GRAD_TOL:
            fails.append(("zero gradient at a member", {"gradient": float(np.max(np.abs(g)))}))
    M, K = w.shape[0], w.shape[1]
    for _ in range(3):
        other = random_model(rng, M, K)
        if loss_of(other) < S.min_loss - TOL * max(1.0, abs(S.min_loss)):
            fails.append(("no model beats min_loss", {"pi": other, "loss": loss_of(other)}))
    return members


def _check_range(S: DPOMinimizerSet, data: PreferenceData, members: list, n: int, fails: Fails):
    """Every member's win rate lies in ``[worst, best]``; the range equals scipy's linprog (every
    tenth instance); with free responses the worst is at most the worst free response's ``W_q``.
    Returns the range."""
    q = data_anchor(data)
    R = dpo_win_rate_range(S, data.P, q, data.rho)
    Pf, qf, rf = to_float(data.P), to_float(q), to_float(data.rho)
    for pi in members:
        wr = float(rf @ np.einsum("xi,xij,xj->x", pi, Pf, qf))
        if not (float(R.worst) - TOL <= wr <= float(R.best) + TOL):
            bounds = {"wr": wr, "worst": R.worst, "best": R.best}
            fails.append(("member win rate within [worst, best]", bounds))
    if n % 10 == 0:
        best, worst = _lp_range(S, Pf, qf, rf)
        if abs(best - float(R.best)) > TOL or abs(worst - float(R.worst)) > TOL:
            fails.append(
                ("range = scipy linprog", {"ours": (R.best, R.worst), "lp": (best, worst)})
            )
    for x in (x for x in range(data.M) if len(S.free[x])):
        Wq = Pf[x] @ qf[x]
        worst_free = min(Wq[y] for y in S.free[x])
        if min(float(v) for _, v in R.vertex_values[x]) > worst_free + TOL:
            fails.append(("worst <= worst free response", {"x": x}))
    return R


def _case_full(rng: np.random.Generator, n: int, stats: Stats) -> Fails:
    K = int(rng.integers(2, MAX_K + 1))
    exact = (n // len(CASES)) % 2 == 0  # every other full-support instance is exact
    P = random_bradley_terry(rng, K, exact=exact)
    mu = random_distribution(rng, K, exact=exact)
    ref = random_distribution(rng, K, exact=exact)[None]
    beta = Fraction(1) if exact else float(rng.choice(BETAS))
    data = PreferenceData(P=P, mu0=mu)
    S = dpo_minimizers(data, ref, beta)
    if not S.is_point:
        return [("full support + BT: a single minimizer", {"P": P, "mu": mu})]
    fails: Fails = []
    pi = S.point()
    rl = rlhf_policy(data, float(beta), to_float(ref)).pi
    if np.max(np.abs(to_float(pi) - to_float(rl))) > TOL:
        fails.append(("DPO minimizer = RLHF optimum", {"P": P, "mu": mu, "dpo": pi, "rlhf": rl}))
    if exact:
        s = bradley_terry_strengths(P)
        target = ref[0] * s / sum(ref[0] * s)
        if not all(S.exact_parts[0]) or not np.all(pi[0] == target):
            fails.append(
                ("exact minimizer = pi_ref s / Z", {"P": P, "dpo": pi, "expected": target})
            )
    if _rel(dpo_loss(data, pi, ref, beta), S.min_loss) > TOL:
        fails.append(("minimizer attains min_loss", {"P": P}))
    stats.exact_full += exact
    return fails


def _case_partial(rng: np.random.Generator, n: int, stats: Stats) -> Fails:
    K = int(rng.integers(2, MAX_K + 1))
    M = 1 if n % 3 else 2
    family = str(rng.choice(["bradley_terry", "general", "cyclic"]))
    data = random_preference_data(rng, M, K, family=family, symmetric=bool(n % 2), zeros=True)
    ref = random_model(rng, M, K)
    beta = float(rng.choice(BETAS))
    w = dpo_weights(data)
    S = dpo_minimizers(data, ref, beta)
    exists = all(mle_exists(np.array(to_float(w[x]))) for x in range(M))
    if exists != S.exists:
        return [("exists iff the MLE exists", {"P": data.P})]
    if not S.exists:
        stats.no_minimizer += 1
        return []
    fails: Fails = []
    loss_of: LossOf = lambda pi: dpo_loss(data, pi, ref, beta)  # noqa: E731
    members = _check_minimum(S, loss_of, w, ref, beta, rng, fails)
    R = _check_range(S, data, members, n, fails)
    if any(len(f) for f in S.free):
        stats.free_sets += 1
        stats.spreads.add(float(R.best) - float(R.worst))
    return fails


def _deterministic_data(rng: np.random.Generator, K: int) -> PreferenceData:
    if rng.integers(2):
        P = total_order(K, rng.permutation(K), exact=False)
    else:
        P = np.full((K, K), 0.5)
        for i in range(K):
            for j in range(i + 1, K):
                P[i, j] = float(rng.integers(2))
                P[j, i] = 1.0 - P[i, j]
    return PreferenceData(P=P, mu0=random_distribution(rng, K))


def _case_no_minimizer(rng: np.random.Generator, n: int, stats: Stats) -> Fails:
    K = int(rng.integers(2, MAX_K + 1))
    data = _deterministic_data(rng, K)
    ref = random_model(rng, 1, K)
    beta = float(rng.choice(BETAS))
    S = dpo_minimizers(data, ref, beta)
    exists = mle_exists(to_float(dpo_weights(data))[0])
    if exists != S.exists:
        return [("exists iff the MLE exists", {"P": data.P})]
    if S.exists:  # a deterministic cyclic tournament can be strongly connected
        return []
    fails: Fails = []
    w = dpo_weights(data)
    losses = [dpo_loss_from_log_probs(w, S.path_log(t), ref, beta) for t in PATH_T]
    far = dpo_loss_from_log_probs(w, S.path_log(FAR_T), ref, beta)
    if abs(dpo_loss(data, S.path(PATH_T[1]), ref, beta) - losses[1]) > TOL:
        fails.append(("log-prob and prob paths agree", {"P": data.P}))
    if not all(a > b for a, b in zip(losses, losses[1:], strict=False)):
        fails.append(("loss strictly falls along the direction", {"P": data.P, "losses": losses}))
    if min(losses) <= S.min_loss:
        fails.append(("loss stays above the infimum", {"P": data.P, "losses": losses}))
    if far - S.min_loss > 1e-6:
        fails.append(("loss approaches the infimum", {"P": data.P, "far": far, "inf": S.min_loss}))
    stats.no_minimizer += 1
    stats.path_checked += 1
    stats.paths.add((losses, S.min_loss))
    return fails


def _case_sampled(rng: np.random.Generator, n: int, stats: Stats) -> Fails:
    K = int(rng.integers(2, MAX_K + 1))
    data = random_preference_data(rng, 1, K, symmetric=bool(n % 2))
    ds = sample_dataset(data, int(rng.integers(10, 81)), rng)
    ref = random_model(rng, 1, K)
    beta = float(rng.choice(BETAS))
    S = dpo_minimizers(ds, ref, beta)
    w = dpo_weights(ds)
    if S.exists != mle_exists(to_float(w)[0]):
        return [("exists iff the MLE exists (sample)", {})]
    if not S.exists:
        stats.no_minimizer += 1
        return []
    fails: Fails = []
    for pi in _members(S, rng, 2):
        a, b = dpo_sampled_loss(ds, pi, ref, beta), dpo_loss_from_weights(w, pi, ref, beta)
        if _rel(a, b) > TOL:
            fails.append(("sampled loss = loss on empirical weights", {"a": a, "b": b}))
    loss_of: LossOf = lambda pi: dpo_sampled_loss(ds, pi, ref, beta)  # noqa: E731
    _check_minimum(S, loss_of, w, ref, beta, rng, fails)
    # the implicit reward is the Bradley-Terry MLE of the sample (RLHF's reward, fitted on the
    # winner-loser counts of the dataset: a second path from the comparisons to the rewards)
    bt = fit_bradley_terry_data(ds).rewards
    if np.max(np.abs(S.rewards - bt)) > GRAD_TOL:
        fails.append(("rewards = Bradley-Terry MLE of the sample", {"dpo": S.rewards, "bt": bt}))
    stats.free_sets += any(len(f) for f in S.free)
    return fails


def _block_weights(rng: np.random.Generator, K: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """``(1, K, K)`` exact weights: two random data distributions on disjoint response blocks
    (each weighted 1/2), the remaining responses unshown; and the two blocks."""
    perm = rng.permutation(K)
    a = int(rng.integers(2, K - 1)) if K >= 4 else 2
    b = int(rng.integers(2, K - a + 1)) if K - a >= 2 else K - a
    blocks = [np.sort(perm[:a]), np.sort(perm[a : a + b])]
    w = np.array([[Fraction(0)] * K for _ in range(K)], dtype=object)
    for block in blocks:
        if len(block) < 2:
            continue
        sub = dpo_weights(
            random_preference_data(rng, 1, len(block), family="bradley_terry", exact=True)
        )[0]
        w[np.ix_(block, block)] = sub / len(blocks)
    if not w.any():
        w[0, 0] = Fraction(1)
    return w[None], blocks


def _case_components(rng: np.random.Generator, n: int, stats: Stats) -> Fails:
    K = int(rng.integers(3, MAX_K + 1))
    beta = float(rng.choice(BETAS))
    if (n // len(CASES)) % 2 == 0:
        w, blocks = _block_weights(rng, K)
    else:
        data = random_preference_data(rng, 1, K, zeros=True, exact=True)
        w, blocks = dpo_weights(sample_dataset(data, int(rng.integers(2, 7)), rng)), []
    ref = to_float(random_model(rng, 1, K))
    off = to_float(w).copy()
    off[:, np.arange(K), np.arange(K)] = 0.0
    compared = (off.sum(axis=2) + off.sum(axis=1)) > 0
    free = np.flatnonzero(~compared[0])
    if 0 < len(free) < K and rng.random() < 0.5:  # a reference vanishing on free responses
        ref[0, free[: int(rng.integers(1, len(free) + 1))]] = 0.0
        ref = ref / ref.sum()
        stats.ref_zero_free += 1
    fails: Fails = []
    if rng.random() < 0.25 and compared.any():  # one rule: refused by the set and the loss alike
        bad = ref.copy()
        bad[0, int(rng.choice(np.flatnonzero(compared[0])))] = 0.0
        bad = bad / bad.sum() if bad.sum() > 0 else ref
        refused = []
        for f in (
            lambda: dpo_minimizers(w, bad, beta),
            lambda: dpo_loss_from_weights(w, bad, bad, beta),
        ):
            try:
                f()
                refused.append(False)
            except SupportMismatchError:
                refused.append(True)
        if refused != [True, True]:
            fails.append(("a reference zero on a compared response is refused by both", {"w": w}))
        stats.ref_zero_refused += 1
    S = dpo_minimizers(w, ref, beta)
    if S.exists != mle_exists(to_float(w)[0]):
        return fails + [("exists iff the MLE exists (components)", {"w": w})]
    if not S.exists:
        stats.no_minimizer += 1
        return fails
    stats.multi_component += len(S.components[0]) >= 2
    loss_of: LossOf = lambda pi: dpo_loss_from_weights(w, pi, ref, beta)  # noqa: E731
    _check_minimum(S, loss_of, w, ref, beta, rng, fails)
    if blocks:  # the minimum separates over the blocks: each block solved alone
        total = 0.0
        for b in blocks:
            sub = w[:, b][:, :, b]
            if len(b) >= 2 and sub.any():
                sb = dpo_minimizers(sub, np.full((1, len(b)), 1.0 / len(b)), beta)
                total += sb.min_loss
            elif sub.any():
                total += float(to_float(sub).sum() * np.log(2.0))
        if _rel(total, S.min_loss) > TOL:
            fails.append(("min_loss = sum of the blocks' minima", {"w": w, "sum": total}))
    stats.free_sets += len(free) > 0
    return fails


def _case_ranking(rng: np.random.Generator, n: int, stats: Stats) -> Fails:
    """``mu0 = mu1 = mu`` of full support, any ``P``: the stationarity of the fit reads
    ``W_mu(i) = sum_j mu_j sigmoid(r_i - r_j)``, increasing in ``r_i``, so the implicit reward
    ``beta d = r`` ranks responses exactly as ``W_mu`` does."""
    K = int(rng.integers(2, MAX_K + 1))
    family = str(rng.choice(["general", "cyclic", "bradley_terry"]))
    data = random_preference_data(rng, 1, K, family=family, symmetric=True)
    ref = random_model(rng, 1, K)
    beta = float(rng.choice(BETAS))
    S = dpo_minimizers(data, ref, beta)
    if not S.exists:  # "cyclic" over two responses is a total order: no MLE, nothing to rank
        if mle_exists(to_float(dpo_weights(data))[0]):
            return [("exists iff the MLE exists", {"P": data.P})]
        return []
    fails: Fails = []
    mu = to_float(data.mu0[0])
    W = to_float(data.P[0]) @ mu
    r = S.rewards[0]
    G = (1.0 / (1.0 + np.exp(-(r[:, None] - r[None, :])))) @ mu
    if np.max(np.abs(G - W)) > GRAD_TOL:
        fails.append(("W_mu(i) = sum_j mu_j sigmoid(r_i - r_j)", {"P": data.P, "mu": mu}))
    d = np.log(to_float(S.point())[0]) - np.log(to_float(ref)[0])
    for i, j in itertools.product(range(K), range(K)):
        if W[i] > W[j] + TOL and not d[i] > d[j]:
            fails.append(("DPO ranks responses as W_mu does", {"P": data.P, "mu": mu}))
    stats.ranked += 1
    return fails


CASES = (
    _case_full,
    _case_partial,
    _case_no_minimizer,
    _case_sampled,
    _case_components,
    _case_ranking,
)


def chunk(ctx: CheckContext) -> Stats:
    """The chunk's instances, each running case ``n mod 6`` of its global index ``n``."""
    stats = Stats()
    cycle_cases(ctx, CASES, stats, stats.cases, "case")
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    """The report, after the merge."""
    worst, cases, spreads = stats.witness, stats.cases, stats.spreads.values
    observed = (
        f"{worst.count} violations; first: {worst.value['case']}: {worst.value['property']}"
        if worst.value is not None
        else f"all properties held: {cases['full']} full-support BT instances equal to the RLHF "
        f"optimum ({stats.exact_full} exact with ==), {cases['partial']} partial-support and "
        f"{cases['sampled']} sampled sets (members at the minimum, zero gradient, win-rate range "
        f"= linprog; {stats.free_sets} with free responses, median best-worst spread "
        f"{np.median(spreads) if spreads else 0:.3f}), {stats.no_minimizer} instances without a "
        f"minimizer reported as such ({stats.path_checked} deterministic ones: loss strictly "
        "falling towards the infimum along the reported direction); "
        f"{cases['components']} block or tiny-sample sets ({stats.multi_component} with several "
        f"components: minimum = sum of the blocks' minima; reference zero on free responses "
        f"{stats.ref_zero_free} times, on a compared one refused by set and loss alike "
        f"{stats.ref_zero_refused} times); on "
        f"{stats.ranked} full-support instances with general P the implicit reward ranks "
        "responses as W_mu"
    )
    return stats.result(ctx.instances, observed)


def figure(result: CheckResult, gallery: Gallery) -> None:
    paths = result.details.get("paths", [])
    spreads = np.array(result.details.get("spreads", []), dtype=float)
    note = (
        f"{result.instances} random instances (the check's cases in turn).  Left: the first "
        f"{len(paths)} instances with deterministic labels whose Bradley-Terry MLE does not exist "
        r"(no DPO minimizer), the DPO loss $L(\pi_t)$ along the reported direction $\pi_t$.  "
        f"Right: {len(spreads)} instances with partial support (zeros in $\\mu_0$, $\\mu_1$) whose "
        "minimizer set has free responses."
    )
    with gallery.new("dpo_fixed_points", ncols=2, instance=note) as (fig, axes):
        ax = axes[0]
        gaps = [np.array(losses, dtype=float) - inf for losses, inf in paths]
        for k, gap in enumerate(gaps):
            label = "one instance without a minimizer" if k == 0 else None
            ax.plot(PATH_T, gap, "-", color="tab:blue", lw=1.2, alpha=0.35, label=label)
        if gaps:
            ax.plot(PATH_T, np.median(gaps, axis=0), "-o", color="black", lw=3, label="median")
        ax.set_yscale("log")
        ax.set_xlabel("$t$: distance along the reported direction")
        ax.set_ylabel(r"DPO loss minus its infimum, $L(\pi_t) - \inf L$")
        ax.set_title("no minimizer: the DPO loss keeps falling")
        ax.legend(loc="upper right")
        ax = axes[1]
        ax.hist(spreads, bins=30, color="tab:orange", label="instances")
        ax.set_xlabel("best minus worst win rate over the DPO minimizer set")
        ax.set_ylabel("instances with free responses")
        ax.set_title("partial support: DPO minimizers differ in win rate")
        ax.legend(loc="upper right")
        fig.suptitle("DPO-fixed-points: the DPO minimizer set may be empty or hold bad models")


# positive controls: a minimizer set of the wrong weights, or a reversed reward, must be caught
# by the check's own detectors (the sets come from the library, so a library that gives the
# same answer whatever the weights makes a control miss)


def _control_weights(rng: np.random.Generator, K: int = 4) -> np.ndarray:
    """``(1, K, K)`` float winner-loser weights of full support (general P, mu0 != mu1)."""
    data = random_preference_data(rng, 1, K, family="general", symmetric=False)
    return to_float(dpo_weights(data))


def _set_of_other_weights_is_caught(rng: np.random.Generator, other: Callable) -> bool:
    """The minimizer set of ``other(w)`` judged with the loss of ``w``: its members must fail
    the member-attains-``min_loss`` / zero-gradient detector (:func:`_check_minimum`)."""
    w = _control_weights(rng)
    ref, beta = random_model(rng, 1, w.shape[1]), 1.0
    S = dpo_minimizers(other(w), ref, beta)
    fails: Fails = []
    _check_minimum(S, lambda pi: dpo_loss_from_weights(w, pi, ref, beta), w, ref, beta, rng, fails)
    return bool(fails)


def _transposed(w: np.ndarray) -> np.ndarray:  # winners and losers swapped
    return np.swapaxes(w, 1, 2)


def _block_dropped(w: np.ndarray) -> np.ndarray:  # the comparisons of the last response dropped
    out = w.copy()
    out[:, -1, :] = 0.0
    out[:, :, -1] = 0.0
    return out


def _reversed_reward_is_caught(rng: np.random.Generator) -> bool:
    """The negated implicit reward of a full-support minimizer ranks responses against
    ``W_mu``: the ranking detector of the ``ranking`` case must fire."""
    while True:
        data = random_preference_data(rng, 1, 3, family="general", symmetric=True)
        W = to_float(data.P[0]) @ to_float(data.mu0[0])
        if np.ptp(W) > 1e-3:
            break
    ref = random_model(rng, 1, 3)
    S = dpo_minimizers(data, ref, 1.0)
    d = -(np.log(to_float(S.point())[0]) - np.log(to_float(ref)[0]))
    return any(
        W[i] > W[j] + TOL and not d[i] > d[j] for i, j in itertools.product(range(3), range(3))
    )


CONTROLS = (
    Control(
        "the set of the transposed weights is caught",
        lambda rng: _set_of_other_weights_is_caught(rng, _transposed),
    ),
    Control(
        "the set with a response's comparisons dropped is caught",
        lambda rng: _set_of_other_weights_is_caught(rng, _block_dropped),
    ),
    Control("a reversed implicit reward is caught", _reversed_reward_is_caught),
)

CLAIM = Claim(
    "DPO-fixed-points",
    "the minimizer set as described; equals RLHF when data has full support and P is BT; "
    "contains arbitrarily bad models under partial support; no minimizer when the MLE does not "
    "exist",
    "holds",
    chunked(chunk, finish, size=500),
    figure,
    default_instances=5000,
    controls=CONTROLS,
)
