"""U-forward: every h-win rate with a strictly increasing h satisfies both axioms.

Each instance picks an h (cycling over the registry's ``identity``, ``logit``, ``log`` and a fresh
random strictly increasing h from :func:`theory.evaluations.random_increasing_h`: rational
piecewise-linear, smooth, or unbounded), a size ``(M, K, d)`` from :data:`theory.axioms.SIZES`,
and tests the evaluation ``WR_h(.; (mu0 + mu1)/2)`` on one random instance of each of the eight
elementary properties of :mod:`theory.axioms`.  Instances are exact (Fractions on the grid 1/d,
compared with ``==``) when h is rational, float otherwise (relative tolerance
:data:`theory.axioms.TOL`); every :data:`LOCAL_EVERY`-th instance adds a targeted local search
(:data:`LOCAL_STEPS` steps perturbing the instance towards a violation).  An instance on which
the value is undefined (``+inf`` and ``-inf`` mass together) is skipped and counted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from theory.axioms import PROPERTIES, SIZES, trial
from theory.evaluations import h_win_rate_evaluation, random_increasing_h
from theory.hfuncs import H_REGISTRY

from .registry import CheckContext, CheckResult, Claim, Smallest

#: Every LOCAL_EVERY-th instance runs the targeted local search.
LOCAL_EVERY = 8
#: Steps of the targeted local search.
LOCAL_STEPS = 6
H_KINDS = ("identity", "logit", "log", "random")


def check(ctx: CheckContext) -> CheckResult:
    rng = ctx.rng
    worst = Smallest()
    counts = {k: {p: {"held": 0, "violated": 0, "skipped": 0} for p in PROPERTIES} for k in H_KINDS}
    exact_tests = float_tests = 0
    random_kinds: dict[str, int] = {}
    for n in range(ctx.instances):
        kind = H_KINDS[n % len(H_KINDS)]
        if kind == "random":
            hk = ("piecewise", "smooth", "unbounded")[(n // len(H_KINDS)) % 3]
            h = random_increasing_h(rng, hk)
            random_kinds[hk] = random_kinds.get(hk, 0) + 1
        else:
            h = H_REGISTRY[kind]
        evaluation = h_win_rate_evaluation(h)
        M, K, d = SIZES[int(rng.integers(len(SIZES)))]
        exact = h.rational
        local = (n // LOCAL_EVERY) % len(PROPERTIES) if n % LOCAL_EVERY == 0 else -1
        for k, (name, prop) in enumerate(PROPERTIES.items()):
            status, witness = trial(
                evaluation,
                prop,
                rng,
                M,
                K + int(rng.integers(0, 3)),
                d if exact else None,
                local_steps=LOCAL_STEPS if k == local else 0,
            )
            counts[kind][name][status] += 1
            if status != "skipped":
                exact_tests += exact
                float_tests += not exact
            if witness is not None:
                worst.offer(witness.case.size(), {"h": h.name, **witness.as_dict()})
        ctx.progress(n + 1)
    found = worst.value is not None
    held = sum(c["held"] for per in counts.values() for c in per.values())
    skipped = sum(c["skipped"] for per in counts.values() for c in per.values())
    observed = (
        f"{worst.count} violations; smallest: {worst.value['property']} with h = {worst.value['h']}"
        if worst.value is not None
        else f"h-win rates (identity, logit, log, {sum(random_kinds.values())} random h) held "
        f"all 8 elementary properties on {held} property instances ({exact_tests} exact ==, "
        f"{float_tests} float), {skipped} skipped as undefined"
    )
    return CheckResult(
        observed=observed,
        instances=ctx.instances,
        found=found,
        counterexample=worst.value,
        details={"counts": counts, "random_h_kinds": random_kinds, "skipped": skipped},
    )


def figure(result: CheckResult, outdir: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    counts = result.details.get("counts", {})
    props = list(PROPERTIES)
    held = np.array([[counts[k][p]["held"] for k in H_KINDS] for p in props], dtype=float)
    viol = np.array([[counts[k][p]["violated"] for k in H_KINDS] for p in props], dtype=float)
    skip = np.array([[counts[k][p]["skipped"] for k in H_KINDS] for p in props], dtype=float)
    fig, ax = plt.subplots(figsize=(8, 4.8))
    ax.imshow(viol > 0, cmap="RdYlGn_r", vmin=0, vmax=1, aspect="auto")
    for i in range(len(props)):
        for j in range(len(H_KINDS)):
            ax.text(
                j,
                i,
                f"{int(held[i, j])} held\n{int(viol[i, j])} violated, {int(skip[i, j])} skipped",
                ha="center",
                va="center",
                fontsize=7,
            )
    ax.set_xticks(range(len(H_KINDS)), [f"h = {k}" for k in H_KINDS])
    ax.set_yticks(range(len(props)), props)
    ax.set_title("U-forward: every h-win rate passes every elementary property", fontsize=10)
    fig.tight_layout()
    path = outdir / "u_forward_properties.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]


CLAIM = Claim(
    id="U-forward",
    statement="every h-win rate (h strictly increasing) satisfies both axioms",
    expected="holds",
    check=check,
    figure=figure,
    default_instances=2000,
)
