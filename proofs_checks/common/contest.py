"""Shared body of the "loss versus win rate" counterexample claims (DPO-no-correspondence,
SFT-no-correspondence): search each random instance for a disagreeing model pair with
:mod:`theory.search`, minimize a few witnesses, keep the smallest, measure how often random
pairs disagree, and draw the loss and the win rate along the smallest witness's segment."""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from theory.numbers import format_number, to_float
from theory.search import (
    Contest,
    ContestWitness,
    Instance,
    disagreement_rate,
    find_disagreement,
    minimize_witness,
    random_instance,
    smallest_witness,
)

from .registry import CheckContext, CheckResult, Smallest

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


def random_contest_instance(rng: np.random.Generator) -> Instance:
    """The instances the no-correspondence claims search: one prompt 80% of the time, else two."""
    return random_instance(rng, M=1 if rng.random() < SINGLE_PROMPT_SHARE else 2)


def _fmt(v: Any) -> str:
    f = format_number(v)
    return str(f).replace("'", "")


def describe(w: ContestWitness) -> str:
    """One line with the witness's numbers, exact."""
    d = w.as_dict()
    keys = ["P", "mu0", "mu1", "pi_ref", "beta", "pi_a", "pi_b", "win_rate_a", "win_rate_b"]
    parts = [f"{k}={_fmt(d[k])}" for k in keys if k in d]
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


def run(
    ctx: CheckContext,
    contest: Contest,
    sampler: Callable[[np.random.Generator], Instance] = random_contest_instance,
) -> CheckResult:
    rng = ctx.rng
    smallest = Smallest()
    times: list[float] = []
    found_by_K: dict[int, int] = {}
    tried_by_K: dict[int, int] = {}
    minimized = 0
    for n in range(ctx.instances):
        inst = sampler(rng)
        K = inst.data.K
        start = time.perf_counter()
        w = find_disagreement(contest, inst, rng, tries=TRIES)
        times.append(time.perf_counter() - start)
        tried_by_K[K] = tried_by_K.get(K, 0) + 1
        if w is not None:
            found_by_K[K] = found_by_K.get(K, 0) + 1
            if minimized < MINIMIZE:
                minimized += 1
                w = minimize_witness(contest, w, rng)
            if smallest.size is None or w.size < smallest.size:
                smallest.offer(w.size, {"witness": w})
            else:
                smallest.count += 1
        ctx.progress(n + 1)
    # the global minimum over two responses, by exhaustive enumeration of small rationals
    enumerated = smallest_witness(contest, max_denominator=ENUMERATE_DENOMINATOR)
    if enumerated is not None and (smallest.size is None or enumerated.size < smallest.size):
        smallest.offer(enumerated.size, {"witness": enumerated, "enumerated": True})
    rate = disagreement_rate(
        contest,
        rng,
        instances=min(RATE_INSTANCES, max(ctx.instances, 1)),
        pairs=RATE_PAIRS,
        sampler=sampler,
    )
    n_found = sum(found_by_K.values())
    value = smallest.value
    details: dict[str, Any] = {
        "median_search_seconds": float(np.median(times)) if times else 0.0,
        "max_search_seconds": float(np.max(times)) if times else 0.0,
        "instances_with_witness": n_found,
        "found_by_K": {str(k): [found_by_K.get(k, 0), tried_by_K[k]] for k in sorted(tried_by_K)},
        "random_pair_disagreement_rate": rate.rate,
        "rate_instances": rate.instances,
        "rate_pairs": rate.pairs,
        "minimized": minimized,
    }
    if value is None:
        return CheckResult(
            observed=f"no disagreeing pair on {ctx.instances} instances ({TRIES} pairs each)",
            instances=ctx.instances,
            found=False,
            details=details,
        )
    best: ContestWitness = value["witness"]
    how = (
        f"exhaustive enumeration over two responses at beta = 1: none has all denominators "
        f"< {best.size[2]}"
        if value.get("enumerated")
        else "minimized from a random instance"
    )
    details["segment"] = segment(contest, best)
    miss = ", ".join(
        f"K={k}: {tried_by_K[k] - found_by_K.get(k, 0)}"
        for k in sorted(tried_by_K)
        if tried_by_K[k] - found_by_K.get(k, 0)
    )
    observed = (
        f"{contest.name} loss and win rate disagree on {n_found}/{ctx.instances} random instances "
        f"(median search {1000 * details['median_search_seconds']:.1f} ms; none in {TRIES} pairs: "
        f"{miss or 'none'}); random pairs disagree {100 * rate.rate:.1f}% of the time; smallest "
        f"({how}): " + describe(best)
    )
    return CheckResult(
        observed=observed,
        instances=ctx.instances,
        found=True,
        counterexample=best.as_dict(),
        details=details,
    )


def figure(result: CheckResult, outdir: Path, name: str, title: str) -> list[Path]:
    import matplotlib.pyplot as plt

    seg = result.details.get("segment")
    if not seg:
        return []
    fig, ax = plt.subplots(figsize=(5.5, 4))
    s = np.array(seg["s"])
    ax.plot(s, seg["loss"], "C0-", label="loss")
    ax.set_xlabel(r"$s$ in $\pi_s = (1-s)\,\pi_b + s\,\pi_a$")
    ax.set_ylabel("loss", color="C0")
    ax2 = ax.twinx()
    ax2.plot(s, seg["win_rate"], "C3-", label="win rate")
    ax2.set_ylabel("win rate against the data", color="C3")
    for x in (0.0, 1.0):
        ax.axvline(x, color="grey", lw=0.8, ls=":")
    ax.text(0.0, ax.get_ylim()[1], r" $\pi_b$", va="top", fontsize=8)
    ax.text(1.0, ax.get_ylim()[1], r" $\pi_a$", va="top", fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path = outdir / f"{name}.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]


def exact_or_float(v: Any) -> Any:
    return v if isinstance(v, Fraction) else float(v)
