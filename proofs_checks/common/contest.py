"""Shared body of the "loss versus win rate" counterexample claims (DPO-no-correspondence,
SFT-no-correspondence): search each random instance for a disagreeing model pair with
:mod:`theory.search`, minimize a few witnesses, keep the smallest, measure how often random
pairs disagree, and draw the loss and the win rate along the smallest witness's segment.

The verdict rests on the random instances: a witness counts only when the smallest one found
on them passes :func:`reverify`, a second computation written here from the instance alone
(the win rates as exact pairwise sums over Fractions, the losses as interval enclosures with
python-flint ``arb``), not by the search's or the library's loss.  The exhaustive
two-response enumeration (:func:`theory.search.smallest_witness`) is an extra: it is reported
when it is smaller and passes the same re-verification.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import flint
import numpy as np

from theory.numbers import to_float
from theory.search import (
    Contest,
    ContestWitness,
    DisagreementStats,
    Instance,
    disagreement_rate,
    find_disagreement,
    minimize_witness,
    random_instance,
    smallest_witness,
)

from ..scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Counts,
    Gallery,
    Samples,
    Smallest,
    Tally,
    chunked,
    counts,
    samples,
)
from .minimal import smallest_is_minimal
from .text import format_exact

__all__ = [
    "TRIES",
    "MINIMIZE",
    "ContestTally",
    "random_contest_instance",
    "describe",
    "segment",
    "search",
    "conclude",
    "figure",
    "known_witness",
    "swapped_witness",
    "reverify",
    "win_rate_below",
    "loss_below",
    "contest_claim",
]

#: Working precision (bits) of the interval enclosures of the losses in :func:`reverify`.
ARB_PREC = 256

#: Random pairs tried per instance before declaring that an instance has no witness.
TRIES = 100
#: How many witnesses are minimized (each costs about a second).
MINIMIZE = 3
#: Instances (and pairs per instance) used to measure the disagreement rate of random pairs.
RATE_INSTANCES = 300
RATE_PAIRS = 10
#: Largest denominator of the exhaustive two-response enumeration (theory.search.smallest_witness).
ENUMERATE_DENOMINATOR = 4
#: Points along the smallest witness's segment drawn in the figure.
PATH_POINTS = 61
#: Share of random instances with a single prompt (the rest have two).
SINGLE_PROMPT_SHARE = 0.8
#: Search times kept (for the median): every instance at the default sizes.
SECONDS_KEPT = 100_000
#: Instances per chunk of the check (about half a second of search).
CHUNK = 1000


@dataclass
class ContestTally(Tally):
    """What the search saw: instances tried and with a witness (by K), witnesses minimized, the
    search time per instance; ``witness`` holds the smallest witness by
    :attr:`~theory.search.ContestWitness.size`."""

    instances_with_witness: int = 0
    minimized: int = 0
    tried_by_K: Counts = counts()
    found_by_K: Counts = counts()
    search_seconds: Samples = samples(SECONDS_KEPT)
    #: The first :data:`MINIMIZE` witnesses found, in instance order (:func:`conclude` minimizes
    #: them).
    first_witnesses: Samples = samples(MINIMIZE)


def random_contest_instance(rng: np.random.Generator) -> Instance:
    """The instances the no-correspondence claims search: one prompt 80% of the time, else two."""
    return random_instance(rng, M=1 if rng.random() < SINGLE_PROMPT_SHARE else 2)


def describe(w: ContestWitness) -> str:
    """One line with the witness's numbers, exact."""
    d = w.as_dict()
    keys = ["P", "mu0", "mu1", "pi_ref", "beta", "pi_a", "pi_b", "win_rate_a", "win_rate_b"]
    parts = [f"{k}={format_exact(d[k], digits=None)}" for k in keys if k in d]
    cert = "loss order certified exactly" if w.certified else "loss order in floats"
    return (
        f"K={d['K']}: " + ", ".join(parts) + f", loss_a={w.loss_a:.6f} < loss_b={w.loss_b:.6f} "
        f"({cert})"
    )


def segment(
    contest: Contest, w: ContestWitness, points: int = PATH_POINTS
) -> dict[str, list[float]]:
    """Loss and win rate along ``pi_s = (1 - s) pi_b + s pi_a``, ``s`` in ``[-0.5, 1.5]``
    (clipped to models)."""
    pa, pb = to_float(w.pi_a), to_float(w.pi_b)
    s_vals, losses, wrs = [], [], []
    for s in np.linspace(-0.5, 1.5, points):
        pi = (1 - s) * pb + s * pa
        if np.any(pi <= 0):
            continue
        s_vals.append(float(s))
        losses.append(float(contest.loss(w.instance, pi)))
        wrs.append(float(contest.win_rate(w.instance, pi)))
    return {"s": s_vals, "loss": losses, "win_rate": wrs}


def search(
    ctx: CheckContext,
    contest: Contest,
    sampler: Callable[[np.random.Generator], Instance] = random_contest_instance,
) -> ContestTally:
    """A chunk of the check: search each of its random instances for a disagreeing pair; every
    witness is offered as found, and the first :data:`MINIMIZE` are kept for :func:`conclude`."""
    stats = ContestTally()
    for n in range(ctx.instances):
        inst = sampler(ctx.rng)
        start = time.perf_counter()
        w = find_disagreement(contest, inst, ctx.rng, tries=TRIES)
        stats.search_seconds.add(time.perf_counter() - start)
        stats.tried_by_K.add(inst.data.K)
        if w is not None:
            stats.instances_with_witness += 1
            stats.found_by_K.add(inst.data.K)
            stats.first_witnesses.add(w)
            stats.witness.offer(w.size, {"witness": w})
        ctx.progress(n + 1)
    return stats


def _minimize_first(contest: Contest, stats: ContestTally, rng: np.random.Generator) -> None:
    """Minimize the first :data:`MINIMIZE` witnesses of the whole run (in instance order, so
    after the merge) and offer them ahead of the raw ones (a minimized witness wins a tie)."""
    minimized = Smallest()
    for w in stats.first_witnesses.values:
        m = minimize_witness(contest, w, rng)
        minimized.offer(m.size, {"witness": m})
    stats.minimized = len(stats.first_witnesses)
    stats.witness = minimized.merge(stats.witness)


def _details(stats: ContestTally, rate: DisagreementStats) -> dict[str, Any]:
    """The report's details: the tally (search times summarised; the witnesses themselves left
    out) and the disagreement rate."""
    details = stats.summary()
    details.pop("first_witnesses")
    seconds = details.pop("search_seconds")
    return details | {
        "median_search_seconds": float(np.median(seconds)) if seconds else 0.0,
        "max_search_seconds": float(np.max(seconds)) if seconds else 0.0,
        "random_pair_disagreement_rate": rate.rate,
        "rate_instances": rate.instances,
        "rate_pairs": rate.pairs,
    }


def _observed(
    contest: Contest, stats: ContestTally, rate: DisagreementStats, n: int, verified: bool
) -> str:
    value = stats.witness.value
    if value is None:
        return f"no disagreeing pair on {n} instances ({TRIES} pairs each)"
    check = (
        "the smallest random-instance witness and the reported one re-verified independently "
        "(exact pairwise win rates, arb loss intervals)"
        if verified
        else "the smallest random-instance witness FAILED the independent re-verification"
    )
    best: ContestWitness = value["witness"]
    how = (
        f"exhaustive enumeration over two responses at beta = 1: none has all denominators "
        f"< {best.size[2]}"
        if value.get("enumerated")
        else "minimized from a random instance"
    )
    tried, found = stats.tried_by_K, stats.found_by_K
    miss = ", ".join(
        f"K={k}: {tried[k] - found[k]}" for k in sorted(tried.by_key) if tried[k] - found[k]
    )
    median = float(np.median(stats.search_seconds.values)) if len(stats.search_seconds) else 0.0
    return (
        f"{contest.name} loss and win rate disagree on {stats.instances_with_witness}/{n} random "
        f"instances (median search {1000 * median:.1f} ms; none in {TRIES} pairs: "
        f"{miss or 'none'}); random pairs disagree {100 * rate.rate:.1f}% of the time; smallest "
        f"({how}): " + describe(best) + f"; {check}"
    )


def _fr(v: Any) -> Fraction:
    """A number as an exact Fraction (floats exactly, by their binary value)."""
    return v if isinstance(v, Fraction) else Fraction(v)


def _rows(a: Any) -> list[list[Fraction]]:
    arr = np.asarray(a, dtype=object)
    arr = arr[None] if arr.ndim == 1 else arr
    return [[_fr(v) for v in row] for row in arr]


def _pairwise_win_rate(inst: Instance, pi: Any) -> Fraction:
    """``sum_x rho_x sum_{i,j} pi_x(i) P_x[i, j] q_x(j)`` with ``q = (mu0 + mu1) / 2``, summed
    pair by pair in exact Fractions (independent of :mod:`theory.winrate`)."""
    d = inst.data
    P = [[[_fr(v) for v in row] for row in Px] for Px in d.P]
    mu0, mu1, p = _rows(d.mu0), _rows(d.mu1), _rows(pi)
    total = Fraction(0)
    for x, rho in enumerate(d.rho):
        for i in range(d.K):
            for j in range(d.K):
                q = (mu0[x][j] + mu1[x][j]) / 2
                total += _fr(rho) * p[x][i] * P[x][i][j] * q
    return total


def _arb(v: Fraction) -> Any:
    return flint.arb(flint.fmpq(v.numerator, v.denominator))


def _arb_dpo_loss(inst: Instance, P: Any, mu0: Any, mu1: Any, p: Any) -> Any:
    """The DPO part of :func:`_arb_loss`: ``sum w log(1 + exp(-beta (d_i - d_j)))``."""
    d = inst.data
    ref, beta = _rows(inst.pi_ref), _arb(_fr(inst.beta))
    total = flint.arb(0)
    for x, rho in enumerate(d.rho):
        dx = [_arb(p[x][y]).log() - _arb(ref[x][y]).log() for y in range(d.K)]
        for i, j in itertools.product(range(d.K), repeat=2):
            w = _fr(rho) * P[x][i][j] * (mu1[x][i] * mu0[x][j] + mu0[x][i] * mu1[x][j])
            if w:
                m = flint.arb(0) if i == j else beta * (dx[i] - dx[j])
                total += _arb(w) * (1 + (-m).exp()).log()
    return total


def _arb_loss(contest: Contest, inst: Instance, pi: Any) -> Any:
    """The contest's loss of ``pi`` as an ``arb`` interval, from the instance alone: DPO
    ``sum w log(1 + exp(-beta (d_i - d_j)))`` with ``w[x,i,j] = rho_x P_x[i,j] (mu1_x(i)
    mu0_x(j) + mu0_x(i) mu1_x(j))`` and ``d = log pi - log pi_ref``; SFT ``-sum rho_x p(x, y)
    log pi_x(y)`` with ``p`` the winner (or loser) distribution summed pair by pair."""
    d = inst.data
    P = [[[_fr(v) for v in row] for row in Px] for Px in d.P]
    mu0, mu1, p = _rows(d.mu0), _rows(d.mu1), _rows(pi)
    total = flint.arb(0)
    if contest.uses_reference:
        return _arb_dpo_loss(inst, P, mu0, mu1, p)
    loser = contest.name.endswith("dispreferred")
    for x, rho in enumerate(d.rho):
        for y in range(d.K):
            pw = sum(
                (mu1[x][y] * mu0[x][j] + mu0[x][y] * mu1[x][j])
                * (P[x][j][y] if loser else P[x][y][j])
                for j in range(d.K)
            )
            if pw:
                total -= _arb(_fr(rho) * pw) * _arb(p[x][y]).log()
    return total


def win_rate_below(contest: Contest, inst: Instance, pi_a: Any, pi_b: Any) -> bool:
    """The contest's win rate of ``pi_a`` is strictly below that of ``pi_b`` (exact pairwise
    sums; the win rate is negated for the dispreferred contest)."""
    wr_a, wr_b = (_pairwise_win_rate(inst, pi) for pi in (pi_a, pi_b))
    if contest.name.endswith("dispreferred"):
        wr_a, wr_b = -wr_a, -wr_b
    return wr_a < wr_b


def loss_below(contest: Contest, inst: Instance, pi_a: Any, pi_b: Any) -> bool:
    """The contest's loss of ``pi_a`` is certainly below that of ``pi_b``: disjoint ``arb``
    intervals at :data:`ARB_PREC` bits."""
    flint.ctx.prec = ARB_PREC
    la, lb = (_arb_loss(contest, inst, pi) for pi in (pi_a, pi_b))
    return bool(la < lb)


def reverify(contest: Contest, w: ContestWitness) -> bool:
    """True when ``w`` is a witness by an independent computation: the loss prefers ``pi_a``
    (:func:`loss_below`) while the win rate prefers ``pi_b`` (:func:`win_rate_below`)."""
    inst = w.instance
    return win_rate_below(contest, inst, w.pi_a, w.pi_b) and loss_below(
        contest, inst, w.pi_a, w.pi_b
    )


def conclude(
    stats: ContestTally,
    ctx: CheckContext,
    contest: Contest,
    sampler: Callable[[np.random.Generator], Instance] = random_contest_instance,
) -> CheckResult:
    """The finish of a no-correspondence check for ``contest`` (module docstring), after the
    merge of the chunks' :func:`search` tallies: minimize the first witnesses, re-verify the
    smallest, enumerate two-response witnesses, measure the disagreement rate of random pairs
    (on ``ctx.rng``, the finish generator)."""
    _minimize_first(contest, stats, ctx.rng)
    random_value = stats.witness.value
    random_ok = random_value is not None and reverify(contest, random_value["witness"])
    # an extra: the global minimum over two responses, by exhaustive enumeration
    enumerated = smallest_witness(contest, max_denominator=ENUMERATE_DENOMINATOR)
    if enumerated is not None and reverify(contest, enumerated):
        stats.witness.offer(enumerated.size, {"witness": enumerated, "enumerated": True})
    rate = disagreement_rate(
        contest,
        ctx.rng,
        instances=min(RATE_INSTANCES, max(ctx.instances, 1)),
        pairs=RATE_PAIRS,
        sampler=sampler,
    )
    details = _details(stats, rate)
    value = stats.witness.value
    if value is not None:
        details["segment"] = segment(contest, value["witness"])
    return CheckResult(
        observed=_observed(contest, stats, rate, ctx.instances, random_ok),
        instances=ctx.instances,
        found=random_ok,
        counterexample=None if value is None else value["witness"].as_dict(),
        details=details,
    )


def known_witness(contest: Contest, inst: Instance) -> Control:
    """A positive control: the check's random search (:data:`TRIES` pairs) finds a disagreeing
    pair on ``inst``, an instance known to have one (the smallest witness of docs/dpo_sft.md)."""

    def run(rng: np.random.Generator) -> bool:
        w = find_disagreement(contest, inst, rng, tries=TRIES)
        return w is not None and reverify(contest, w)

    return Control("finds and re-verifies a witness on an instance known to have one", run)


def swapped_witness(contest: Contest, inst: Instance) -> Control:
    """A positive control of the re-verification: on a witness found on ``inst``, each half of
    :func:`reverify` must accept the witness's order and reject the swapped one (``pi_a`` and
    ``pi_b`` exchanged), so a re-verification that always accepts is caught."""

    def run(rng: np.random.Generator) -> bool:
        w = find_disagreement(contest, inst, rng, tries=TRIES)
        if w is None:
            return False
        a, b, i = w.pi_a, w.pi_b, w.instance
        return (
            win_rate_below(contest, i, a, b)
            and not win_rate_below(contest, i, b, a)
            and loss_below(contest, i, a, b)
            and not loss_below(contest, i, b, a)
        )

    return Control("the independent re-verification rejects a swapped witness", run)


def figure(result: CheckResult, gallery: Gallery, name: str, title: str) -> None:
    """The loss and the win rate along the smallest witness's segment (nothing without one)."""
    from ..scaffold.figures import caption

    seg = result.details.get("segment")
    if not seg:
        return
    cx = result.counterexample or {}
    keys = ("P", "mu0", "mu1", "pi_ref", "beta", "pi_a", "pi_b")
    note = caption({k: cx[k] for k in keys if k in cx}, prefix="Instance (the smallest witness): ")
    with gallery.new(name, instance=note) as (_fig, ax):
        s = np.array(seg["s"])
        ax.plot(s, seg["loss"], "C0-", lw=3, label=f"{cx.get('contest', 'the')} loss (left axis)")
        ax.set_xlabel(r"$s$ in $\pi_s = (1-s)\,\pi_b + s\,\pi_a$")
        ax.set_ylabel(f"{cx.get('contest', '')} loss (population)", color="C0")
        ax2 = ax.twinx()
        wr_label = r"win rate $\mathrm{WR}(\pi_s; \mu)$ (right axis)"
        ax2.plot(s, seg["win_rate"], "C3-", lw=3, label=wr_label)
        ax2.set_ylabel("win rate against the data", color="C3")
        for x in (0.0, 1.0):
            ax.axvline(x, color="grey", lw=1.5, ls=":")
        ax.text(0.0, ax.get_ylim()[1], r" $\pi_b$", va="top")
        ax.text(1.0, ax.get_ylim()[1], r" $\pi_a$", va="top")
        ax.set_title(title)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax2.legend(h1 + h2, l1 + l2, loc="center")


def contest_claim(
    claim_id: str, statement: str, contest: Contest, known: Instance, figure_name: str, module: str
) -> Claim:
    """The claim record of a no-correspondence claim defined as ``CLAIM`` in ``module``: the
    check :func:`search` then :func:`conclude` on ``contest`` in chunks of :data:`CHUNK`
    instances, the figure :func:`figure` saved as ``figure_name``, the positive control
    :func:`known_witness` on ``known``; 5000 instances by default."""

    def chunk(ctx: CheckContext) -> ContestTally:
        return search(ctx, contest)

    def finish(stats: ContestTally, ctx: CheckContext) -> CheckResult:
        return conclude(stats, ctx, contest)

    # the runner's workers look the claim up in the module of its chunk function
    chunk.__module__ = finish.__module__ = module

    def draw(result: CheckResult, gallery: Gallery) -> None:
        title = (
            f"{claim_id}: from $\\pi_b$ to $\\pi_a$ the {contest.name} loss falls "
            "and the win rate falls"
        )
        figure(result, gallery, figure_name, title)

    controls = (
        known_witness(contest, known),
        swapped_witness(contest, known),
        smallest_is_minimal(contest, ENUMERATE_DENOMINATOR),
    )
    return Claim(
        claim_id,
        statement,
        "counterexample",
        chunked(chunk, finish, size=CHUNK),
        draw,
        default_instances=5000,
        controls=controls,
    )
