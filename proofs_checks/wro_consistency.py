"""WRO-consistency: the WRO optimum attains the best achievable h-win rate against its competitor.

Four parts, each against an independent maximisation:

* fixed anchor, ``beta = 0``: ``WR_h(pi*; q)`` of the optimum of :func:`theory.wro.wro_optimum`
  equals the maximum over the simplex, found independently by enumerating the vertices (a linear
  function on the simplex peaks at a vertex; every 10th through :func:`theory.winrate.h_win_rate`),
  and no random model does better (exact ``==`` on the exact instances, every 25th);
* fixed anchor, ``beta > 0``: no model near or far from ``pi*`` has a larger regularized win rate
  (:func:`theory.wro.wro_objective_per_prompt` on random models and on mixtures with ``pi*``);
* self-play, ``beta = 0``: the maximal lottery's guaranteed win rate ``min_j WR(pi*; e_j)`` is
  1/2, the best any model can guarantee (``min_q WR(pi; q) <= WR(pi; pi) = 1/2``), and an
  independent linear program (scipy HiGHS) on a subset finds the same game value;
* self-play, ``beta > 0``: the regularized equilibrium is the fixed-anchor optimum against itself
  (its competitor): the closed form with ``q = pi*`` returns ``pi*``.

Demonstration (details and figure): when ``P`` is not Bradley-Terry, changing the anchor or h
changes the beta = 0 optimum on a measurable fraction of instances; when ``P`` is Bradley-Terry it
never does (the top-reward response maximises every h-win rate against every anchor).  A change
for a Bradley-Terry ``P`` counts as a violation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linprog

from theory.preferences import random_family_matrix, rock_paper_scissors
from theory.simplex import point_mass, random_distribution
from theory.winrate import h_win_rate, win_rate
from theory.wro import wro_objective_per_prompt, wro_optimum

from ._wro_instances import (
    ALL_FAMILIES,
    H_NAMES,
    INTERIOR_FAMILIES,
    argmax_sets,
    h_values,
    model_batch,
    preference_batch,
)
from .registry import CheckContext, CheckResult, Claim, Smallest

#: Float agreement of win rates and values.
TOL = 1e-9
#: Residual agreement of the self-play fixed point (the equilibrium is certified to 1e-12).
FIXED_POINT_TOL = 1e-9
BETAS = (0.05, 0.5, 2.0)
MAX_K = 8
EXACT_EVERY = 25
ENUMERATE_EVERY = 10
LP_EVERY = 20
RANDOM_MODELS = 8


def _fixed_anchor(ctx, rng, N, K, h, fam, worst, stats) -> None:
    P = preference_batch(rng, N, K, fam)
    q = model_batch(rng, N, K, zeros=True)
    ref = model_batch(rng, N, K)
    # beta = 0: vertex enumeration (the max of a linear function on the simplex is at a vertex),
    # in the check's own arithmetic for every instance and through the library's h-win rate on
    # every ENUMERATE_EVERY-th; plus random models
    sol = wro_optimum(P, q, 0, None, h)
    H = h_values(h, P)
    wr_opt = np.einsum("ni,nij,nj->n", sol.pi, H, q)
    vertex_best = np.einsum("nij,nj->ni", H, q).max(axis=1)
    randoms = model_batch(rng, N * RANDOM_MODELS, K, zeros=True).reshape(N, RANDOM_MODELS, K)
    rand_best = np.einsum("nmi,nij,nj->nm", randoms, H, q).max(axis=1)
    bad = (np.abs(wr_opt - vertex_best) > TOL) | (rand_best > wr_opt + TOL)
    for n in range(0, N, ENUMERATE_EVERY):
        e = [h_win_rate(P[n], point_mass(K, y, exact=False), q[n], h) for y in range(K)]
        bad[n] |= abs(float(max(e)) - wr_opt[n]) > TOL
    stats["fixed_checked"] += N
    for i in np.flatnonzero(bad):
        worst.offer(
            (K, 0.0),
            {"what": "fixed anchor beta=0", "h": h, "P": P[i], "q": q[i], "pi": sol.pi[i]},
        )
    # beta > 0: random models and mixtures never beat the closed form
    beta = BETAS[int(rng.integers(len(BETAS)))]
    sol_b = wro_optimum(P, q, beta, ref, h)
    best_other = np.full(N, -np.inf)
    for _ in range(RANDOM_MODELS):
        t = rng.random((N, 1))
        other = model_batch(rng, N, K, zeros=True)
        for cand in (other, t * sol_b.pi + (1 - t) * other):
            best_other = np.maximum(best_other, wro_objective_per_prompt(P, cand, q, beta, ref, h))
    bad = best_other > sol_b.values + TOL
    stats["regularized_checked"] += N
    for i in np.flatnonzero(bad):
        worst.offer(
            (K, beta),
            {"what": "fixed anchor beta>0", "h": h, "P": P[i], "q": q[i], "pi_ref": ref[i]},
        )


def _self_play(ctx, rng, N, K, worst, stats) -> None:
    fam = ALL_FAMILIES[int(rng.integers(len(ALL_FAMILIES)))]
    P = preference_batch(rng, N, K, fam)
    sol = wro_optimum(P, "self")
    guaranteed = np.min(np.einsum("nij,ni->nj", P, sol.pi), axis=1)  # min_j WR(pi*; e_j)
    stats["self_checked"] += N
    stats["min_guarantee"] = min(stats["min_guarantee"], float(guaranteed.min()))
    for i in np.flatnonzero(guaranteed < 0.5 - TOL):
        worst.offer((K, 0.0), {"what": "maximal lottery guarantee", "P": P[i], "pi": sol.pi[i]})
    for n in range(0, N, LP_EVERY):  # independent game value: max_pi min_j (P^T pi)_j
        c = np.zeros(K + 1)
        c[-1] = -1.0
        A_ub = np.hstack([-P[n].T, np.ones((K, 1))])
        A_eq = np.hstack([np.ones((1, K)), np.zeros((1, 1))])
        res = linprog(
            c,
            A_ub=A_ub,
            b_ub=np.zeros(K),
            A_eq=A_eq,
            b_eq=[1.0],
            bounds=[(0, None)] * K + [(None, None)],
            method="highs",
        )
        stats["lp_checked"] += 1
        if abs(-res.fun - guaranteed[n]) > TOL:
            worst.offer(
                (K, 0.0), {"what": "LP game value", "P": P[n], "lp": -res.fun, "ml": guaranteed[n]}
            )
    # beta > 0: the equilibrium is the best response to itself
    beta = BETAS[int(rng.integers(len(BETAS)))]
    ref = model_batch(rng, N, K)
    eq = wro_optimum(P, "self", beta, ref)
    br = wro_optimum(P, eq.pi, beta, ref)
    err = np.abs(br.pi - eq.pi).max(axis=1)
    stats["nash_checked"] += N
    stats["max_fixed_point"] = max(stats["max_fixed_point"], float(err.max()))
    for i in np.flatnonzero(err > FIXED_POINT_TOL):
        worst.offer((K, beta), {"what": "regularized Nash best response", "P": P[i]})


def _exact(rng, worst, stats) -> None:
    K = int(rng.integers(2, 6))
    fam = ALL_FAMILIES[int(rng.integers(len(ALL_FAMILIES)))]
    P = random_family_matrix(rng, K, fam, exact=True)
    q = random_distribution(rng, K, zeros=True, exact=True)
    sol = wro_optimum(P, q)
    best = max(win_rate(P, point_mass(K, y), q) for y in range(K))
    stats["exact_checked"] += 1
    if win_rate(P, sol.pi, q) != best:
        worst.offer((K, 0.0), {"what": "exact fixed anchor", "P": P, "q": q, "pi": sol.pi})


def _demonstration(rng, n: int, worst, stats) -> dict:
    """How often the anchor / h change the beta = 0 optimum, for non-BT and for BT P."""
    out = {}
    for fam in ("general", "bradley_terry"):
        changed_anchor = changed_h = 0
        example = None
        for K in range(3, 7):
            P = preference_batch(rng, n, K, fam)
            q1, q2 = model_batch(rng, n, K), model_batch(rng, n, K)
            arg = {h: argmax_sets(wro_optimum(P, q1, 0, None, h).argmax) for h in H_NAMES}
            arg2 = argmax_sets(wro_optimum(P, q2, 0, None, "identity").argmax)
            for m in range(n):
                a_change = arg["identity"][m] != arg2[m]
                h_change = len({arg[h][m] for h in H_NAMES}) > 1
                changed_anchor += a_change
                changed_h += h_change
                if fam == "general" and example is None and a_change and h_change and K == 3:
                    example = {
                        "P": P[m].tolist(),
                        "q1": q1[m].tolist(),
                        "q2": q2[m].tolist(),
                        "argmax": {h: arg[h][m] for h in H_NAMES},
                        "argmax_q2_identity": arg2[m],
                    }
                if fam == "bradley_terry" and (a_change or h_change):
                    worst.offer(
                        (K, 0.0),
                        {"what": "BT optimum changed with anchor or h", "P": P[m], "q1": q1[m]},
                    )
        total = 4 * n
        out[fam] = {
            "instances": total,
            "anchor_changes_optimum": changed_anchor / total,
            "h_changes_optimum": changed_h / total,
            "example": example,
        }
    return out


def check(ctx: CheckContext) -> CheckResult:
    rng = ctx.rng
    worst = Smallest()
    stats: dict[str, Any] = {
        "fixed_checked": 0,
        "regularized_checked": 0,
        "self_checked": 0,
        "lp_checked": 0,
        "nash_checked": 0,
        "exact_checked": 0,
        "min_guarantee": 1.0,
        "max_fixed_point": 0.0,
    }
    n_exact = max(1, ctx.instances // EXACT_EVERY)
    remaining = max(2, ctx.instances - n_exact)
    n_fixed, n_self = remaining // 2, remaining - remaining // 2
    Ks = rng.integers(2, MAX_K + 1, size=n_fixed)
    hs = rng.integers(0, len(H_NAMES), size=n_fixed)
    done = 0
    for K in range(2, MAX_K + 1):
        for hi, h in enumerate(H_NAMES):
            N = int(np.sum((Ks == K) & (hs == hi)))
            if N:
                fams = ALL_FAMILIES if h == "identity" else INTERIOR_FAMILIES
                fam = fams[int(rng.integers(len(fams)))]
                _fixed_anchor(ctx, rng, N, K, h, fam, worst, stats)
                done += N
                ctx.progress(done)
    Ks = rng.integers(2, MAX_K + 1, size=n_self)
    for K in range(2, MAX_K + 1):
        N = int(np.sum(Ks == K))
        if N:
            _self_play(ctx, rng, N, K, worst, stats)
            done += N
            ctx.progress(done)
    for _ in range(n_exact):
        _exact(rng, worst, stats)
    demo = _demonstration(rng, max(5, ctx.instances // 40), worst, stats)
    found = worst.value is not None
    g, b = demo["general"], demo["bradley_terry"]
    observed = (
        f"{worst.count} violations; smallest: {worst.value['what']}"
        if worst.value is not None
        else f"optimum attains the best h-win rate on {stats['fixed_checked']} fixed-anchor "
        f"instances (+{stats['exact_checked']} exact) and the best regularized one on "
        f"{stats['regularized_checked']}; maximal lottery guarantees >= "
        f"{stats['min_guarantee']:.12f} on {stats['self_checked']} (LP agrees on "
        f"{stats['lp_checked']}); regularized Nash = best response to itself to "
        f"{stats['max_fixed_point']:.1e}. Non-BT P: anchor changes the optimum in "
        f"{g['anchor_changes_optimum']:.0%}, h in {g['h_changes_optimum']:.0%}; BT P: never"
    )
    details = dict(stats)
    details["demonstration"] = demo
    return CheckResult(
        observed=observed,
        instances=ctx.instances,
        found=found,
        counterexample=worst.value,
        details=details | {"bt_changes": b["anchor_changes_optimum"] + b["h_changes_optimum"]},
    )


def figure(result: CheckResult, outdir: Path) -> list[Path]:
    """Rock-paper-scissors: the fixed-anchor optimum against the self-play equilibrium."""
    import matplotlib.pyplot as plt

    P = rock_paper_scissors(exact=False)
    q = np.array([0.5, 0.3, 0.2])  # the anchor: a data distribution leaning to rock
    ref = q
    models = {
        "fixed anchor, beta=0": wro_optimum(P, q).pi,
        "fixed anchor, beta=0.1": wro_optimum(P, q, 0.1, ref).pi,
        "self-play, beta=0 (max. lottery)": np.asarray(wro_optimum(P, "self").pi, dtype=float),
        "self-play, beta=0.1 (NLHF)": wro_optimum(P, "self", 0.1, ref).pi,
    }
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.2
    for i, (name, pi) in enumerate(models.items()):
        ax1.bar(np.arange(3) + (i - 1.5) * width, pi, width, label=name)
    ax1.set_xticks(range(3), ["rock", "scissors", "paper"])  # theory.preferences labels
    ax1.set_ylabel("probability")
    ax1.set_title("optimal models (anchor q = (0.5, 0.3, 0.2))")
    ax1.legend(fontsize=7)
    names = list(models)
    vs_anchor = [float(win_rate(P, pi, q)) for pi in models.values()]
    worst_case = [float(np.min(P.T @ pi)) for pi in models.values()]
    x = np.arange(len(names))
    ax2.bar(x - 0.2, vs_anchor, 0.4, label="WR(pi; q)")
    ax2.bar(x + 0.2, worst_case, 0.4, label="min_y WR(pi; y)")
    ax2.axhline(0.5, color="k", ls=":", lw=1)
    ax2.set_xticks(x, [n.replace(", ", "\n") for n in names], fontsize=7)
    ax2.set_title("win rate against the anchor vs guaranteed win rate")
    ax2.legend(fontsize=8)
    demo = result.details.get("demonstration", {}).get("general")
    if demo:
        fig.suptitle(
            "WRO-consistency: each optimum is best against its own competitor; non-BT P: anchor "
            f"changes the optimum in {demo['anchor_changes_optimum']:.0%}, h in "
            f"{demo['h_changes_optimum']:.0%} of instances",
            fontsize=9,
        )
    fig.tight_layout()
    path = outdir / "wro_consistency_rps.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]


CLAIM = Claim(
    id="WRO-consistency",
    statement="the WRO optimum attains the maximal h-win rate against its competitor",
    expected="holds",
    check=check,
    figure=figure,
    default_instances=10_000,
)
