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

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog

from theory.preferences import rock_paper_scissors
from theory.simplex import point_mass, random_distribution
from theory.winrate import h_win_rate, win_rate
from theory.wro import wro_objective_per_prompt, wro_optimum

from .common.wro_instances import (
    ALL_FAMILIES,
    H_NAMES,
    INTERIOR_FAMILIES,
    MAX_K,
    TOL,
    argmax_sets,
    exact_matrix,
    h_values,
    limit_optimum_by_definition,
    model_batch,
    multiples_in,
    preference_batch,
)
from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Gallery,
    Max,
    Min,
    Tally,
    cells,
    chunked,
    maximum,
    minimum,
)

#: Residual agreement of the self-play fixed point (the equilibrium is certified to 1e-12).
FIXED_POINT_TOL = 1e-9
BETAS = (0.05, 0.5, 2.0)
EXACT_EVERY = 25
ENUMERATE_EVERY = 10
LP_EVERY = 20
RANDOM_MODELS = 8
#: The sizes of the demonstration (how often the anchor / h change the beta = 0 optimum).
DEMO_KS = range(3, 7)


#: One instance in this many more: deterministic P with unbounded h (infinite scores).
INFINITE_EVERY = 20


@dataclass
class Stats(Tally):
    fixed_checked: int = 0
    regularized_checked: int = 0
    self_checked: int = 0
    lp_checked: int = 0
    nash_checked: int = 0
    exact_checked: int = 0
    infinite_checked: int = 0
    min_guarantee: Min = minimum()
    max_fixed_point: Max = maximum()


def _fixed_anchor(rng, N: int, K: int, h: str, fam: str, stats: Stats) -> None:
    P = preference_batch(rng, N, K, fam)
    q = model_batch(rng, N, K, zeros=True)
    ref = model_batch(rng, N, K)
    # beta = 0: vertex enumeration (the max of a linear function on the simplex is at a vertex),
    # in the check's own arithmetic for every instance and through the library's h-win rate on
    # every ENUMERATE_EVERY-th; plus random models
    sol = wro_optimum(P, q, 0, None, h)
    H = h_values(h, P)
    wr_opt, vertex_best = _against_vertices(H, q, sol.pi)
    randoms = model_batch(rng, N * RANDOM_MODELS, K, zeros=True).reshape(N, RANDOM_MODELS, K)
    rand_best = np.einsum("nmi,nij,nj->nm", randoms, H, q).max(axis=1)
    bad = (np.abs(wr_opt - vertex_best) > TOL) | (rand_best > wr_opt + TOL)
    for n in range(0, N, ENUMERATE_EVERY):
        e = [h_win_rate(P[n], point_mass(K, y, exact=False), q[n], h) for y in range(K)]
        bad[n] |= abs(float(max(e)) - wr_opt[n]) > TOL
    stats.fixed_checked += N
    for i in np.flatnonzero(bad):
        stats.witness.offer(
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
    stats.regularized_checked += N
    for i in np.flatnonzero(bad):
        stats.witness.offer(
            (K, beta),
            {"what": "fixed anchor beta>0", "h": h, "P": P[i], "q": q[i], "pi_ref": ref[i]},
        )


def _against_vertices(H: np.ndarray, q: np.ndarray, pi: np.ndarray) -> tuple[Any, Any]:
    """``(WR_h(pi; q), max_y WR_h(e_y; q))`` per instance, in the check's own arithmetic."""
    return np.einsum("ni,nij,nj->n", pi, H, q), np.einsum("nij,nj->ni", H, q).max(axis=1)


def _self_play(rng, N: int, K: int, stats: Stats) -> None:
    fam = ALL_FAMILIES[int(rng.integers(len(ALL_FAMILIES)))]
    P = preference_batch(rng, N, K, fam)
    sol = wro_optimum(P, "self")
    guaranteed = np.min(np.einsum("nij,ni->nj", P, sol.pi), axis=1)  # min_j WR(pi*; e_j)
    stats.self_checked += N
    stats.min_guarantee.add(float(guaranteed.min()))
    for i in np.flatnonzero(guaranteed < 0.5 - TOL):
        stats.witness.offer(
            (K, 0.0), {"what": "maximal lottery guarantee", "P": P[i], "pi": sol.pi[i]}
        )
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
        stats.lp_checked += 1
        if abs(-res.fun - guaranteed[n]) > TOL:
            stats.witness.offer(
                (K, 0.0), {"what": "LP game value", "P": P[n], "lp": -res.fun, "ml": guaranteed[n]}
            )
    # beta > 0: the equilibrium is the best response to itself
    beta = BETAS[int(rng.integers(len(BETAS)))]
    ref = model_batch(rng, N, K)
    eq = wro_optimum(P, "self", beta, ref)
    br = wro_optimum(P, eq.pi, beta, ref)
    err = np.abs(br.pi - eq.pi).max(axis=1)
    stats.nash_checked += N
    stats.max_fixed_point.add(float(err.max()))
    for i in np.flatnonzero(err > FIXED_POINT_TOL):
        stats.witness.offer((K, beta), {"what": "regularized Nash best response", "P": P[i]})


def _exact(rng, stats: Stats) -> None:
    P = exact_matrix(rng)
    K = P.shape[0]
    q = random_distribution(rng, K, zeros=True, exact=True)
    sol = wro_optimum(P, q)
    best = max(win_rate(P, point_mass(K, y), q) for y in range(K))
    stats.exact_checked += 1
    if win_rate(P, sol.pi, q) != best:
        stats.witness.offer((K, 0.0), {"what": "exact fixed anchor", "P": P, "q": q, "pi": sol.pi})


def _demonstration(rng, n: int, stats: Stats) -> dict:
    """How often the anchor / h change the beta = 0 optimum, for non-BT and for BT P."""
    out = {}
    for fam in ("general", "bradley_terry"):
        changed_anchor = changed_h = 0
        example = None
        for K in DEMO_KS:
            a, c, ex = _demo_batch(rng, n, K, fam, stats)
            changed_anchor += a
            changed_h += c
            if example is None and K == 3:
                example = ex
        total = len(DEMO_KS) * n
        out[fam] = {
            "instances": total,
            "anchor_changes_optimum": changed_anchor / total,
            "h_changes_optimum": changed_h / total,
            "example": example,
        }
    return out


def _demo_batch(rng, n: int, K: int, fam: str, stats: Stats) -> tuple[int, int, dict | None]:
    """One ``K`` of the demonstration: how many of ``n`` optima change with the anchor and with
    h, and (non-BT) the first instance where both do; a change for BT P is a violation."""
    P = preference_batch(rng, n, K, fam)
    q1, q2 = model_batch(rng, n, K), model_batch(rng, n, K)
    arg = {h: argmax_sets(wro_optimum(P, q1, 0, None, h).argmax) for h in H_NAMES}
    arg2 = argmax_sets(wro_optimum(P, q2, 0, None, "identity").argmax)
    a_change = [arg["identity"][m] != arg2[m] for m in range(n)]
    h_change = [len({arg[h][m] for h in H_NAMES}) > 1 for m in range(n)]
    example = None
    both = [m for m in range(n) if a_change[m] and h_change[m]]
    if fam == "general" and both:
        m = both[0]
        example = {
            "P": P[m].tolist(),
            "q1": q1[m].tolist(),
            "q2": q2[m].tolist(),
            "argmax": {h: arg[h][m] for h in H_NAMES},
            "argmax_q2_identity": arg2[m],
        }
    if fam == "bradley_terry":
        for i in np.flatnonzero(np.array(a_change) | np.array(h_change)):
            stats.witness.offer(
                (K, 0.0), {"what": "BT optimum changed with anchor or h", "P": P[i], "q1": q1[i]}
            )
    return sum(a_change), sum(h_change), example


def _infinite_scores(rng: np.random.Generator, n: int, stats: Stats) -> None:
    """Deterministic ``P`` with ``h`` = logit or log (infinite scores, beta = 0): the optimum's
    argmax set and value are the best limit h-win rate over point masses, ranked by the
    infinite-mass balance then the finite part
    (:func:`~proofs_checks.common.wro_instances.limit_optimum_by_definition`)."""
    for _ in range(n):
        K = int(rng.integers(2, MAX_K + 1))
        fam = ("total_order", "cyclic")[int(rng.integers(2))]
        h = ("logit", "log")[int(rng.integers(2))]
        P = preference_batch(rng, 1, K, fam)[0]
        q = model_batch(rng, 1, K, zeros=True)[0]
        _, best, arg = limit_optimum_by_definition(h_values(h, P), q, np.ones(K), 0.0)
        sol = wro_optimum(P, q, 0, None, h)
        got = float(sol.value)
        same = got == best if np.isinf(best) or np.isinf(got) else abs(got - best) <= TOL
        stats.infinite_checked += 1
        if not same or sol.argmax is None or tuple(sol.argmax[0]) != arg:
            stats.witness.offer(
                (K, 0.0),
                {
                    "what": "infinite scores: best limit h-win rate",
                    "h": h,
                    "P": P,
                    "q": q,
                    "value": got,
                    "best": best,
                    "argmax": sol.argmax,
                    "expected_argmax": arg,
                },
            )


def chunk(ctx: CheckContext) -> Stats:
    """The chunk's instances by global index ``i``: exact when ``i`` is a multiple of
    :data:`EXACT_EVERY`, else self-play when ``i`` is even and fixed-anchor when odd; then one
    instance with infinite scores per multiple of :data:`INFINITE_EVERY`."""
    rng, start, count = ctx.rng, ctx.start, ctx.instances
    stats = Stats()
    n_exact = multiples_in(start, count, EXACT_EVERY)
    n_self = multiples_in(start, count, 2) - multiples_in(start, count, 2 * EXACT_EVERY)
    n_fixed = count - n_exact - n_self
    done = 0
    for cell in cells(rng, n_fixed, K=range(2, MAX_K + 1), h=H_NAMES):
        fams = ALL_FAMILIES if cell.h == "identity" else INTERIOR_FAMILIES
        fam = fams[int(rng.integers(len(fams)))]
        _fixed_anchor(rng, cell.n, cell.K, cell.h, fam, stats)
        done += cell.n
        ctx.progress(done)
    for cell in cells(rng, n_self, K=range(2, MAX_K + 1)):
        _self_play(rng, cell.n, cell.K, stats)
        done += cell.n
        ctx.progress(done)
    for _ in range(n_exact):
        _exact(rng, stats)
    _infinite_scores(rng, multiples_in(start, count, INFINITE_EVERY), stats)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    """The demonstration (once per claim, on ``max(5, instances // 40)`` instances per family and
    K, from the finish generator), then the result."""
    demo = _demonstration(ctx.rng, max(5, ctx.instances // 40), stats)
    worst = stats.witness
    g, b = demo["general"], demo["bradley_terry"]
    observed = (
        f"{worst.count} violations; smallest: {worst.value['what']}"
        if worst.value is not None
        else f"optimum attains the best h-win rate on {stats.fixed_checked} fixed-anchor "
        f"instances (+{stats.exact_checked} exact) and the best regularized one on "
        f"{stats.regularized_checked} (+{stats.infinite_checked} with infinite scores: "
        "deterministic P, h = logit/log); maximal lottery guarantees >= "
        f"{float(stats.min_guarantee):.12f} on {stats.self_checked} (LP agrees on "
        f"{stats.lp_checked}); regularized Nash = best response to itself to "
        f"{float(stats.max_fixed_point):.1e}. Non-BT P: anchor changes the optimum in "
        f"{g['anchor_changes_optimum']:.0%}, h in {g['h_changes_optimum']:.0%}; BT P: never"
    )
    return stats.result(
        ctx.instances,
        observed,
        demonstration=demo,
        bt_changes=b["anchor_changes_optimum"] + b["h_changes_optimum"],
    )


def figure(result: CheckResult, gallery: Gallery) -> None:
    """Rock-paper-scissors: the fixed-anchor optimum against the self-play equilibrium."""
    from fractions import Fraction

    from .scaffold.figures import caption

    P = rock_paper_scissors(exact=False)
    q_exact = [Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)]  # data leaning to rock
    q = np.array([float(v) for v in q_exact])
    ref = q
    models = {
        r"$\pi_{\mathrm{ref}} = q$": ref,
        r"fixed anchor $q$, $\beta = 0$": wro_optimum(P, q).pi,
        r"fixed anchor $q$, $\beta = 1/10$": wro_optimum(P, q, 0.1, ref).pi,
        r"self-play, $\beta = 0$ (maximal lottery)": np.asarray(
            wro_optimum(P, "self").pi, dtype=float
        ),
        r"self-play, $\beta = 1/10$ (NLHF)": wro_optimum(P, "self", 0.1, ref).pi,
    }
    note = caption(
        {"P": rock_paper_scissors(exact=True), "q": q_exact, "pi_ref": q_exact},
        prefix="Instance (rock-paper-scissors; responses rock, scissors, paper): ",
    )
    demo = result.details.get("demonstration", {}).get("general")
    if demo:
        note += (
            f"\nOn random non-Bradley-Terry P the anchor changes the optimum in "
            f"{demo['anchor_changes_optimum']:.0%} and h in {demo['h_changes_optimum']:.0%} of "
            "instances."
        )
    with gallery.new("wro_consistency_rps", ncols=2, instance=note) as (fig, (ax1, ax2)):
        width = 0.16
        for i, (name, pi) in enumerate(models.items()):
            ax1.bar(np.arange(3) + (i - 2) * width, pi, width, label=f"({i + 1}) {name}")
        ax1.set_xticks(range(3), ["rock", "scissors", "paper"])  # theory.preferences labels
        ax1.set_xlabel("response $y$")
        ax1.set_ylabel(r"probability $\pi(y)$")
        ax1.set_ylim(0, 1.45)
        ax1.set_title("the optimal models")
        ax1.legend(loc="upper right", fontsize=15)
        vs_anchor = [float(win_rate(P, pi, q)) for pi in models.values()]
        worst_case = [float(np.min(P.T @ pi)) for pi in models.values()]
        x = np.arange(len(models))
        for dx, vals, label in (
            (-0.2, vs_anchor, r"$\mathrm{WR}(\pi; q)$: against the anchor"),
            (0.2, worst_case, r"$\min_y \mathrm{WR}(\pi; y)$: guaranteed"),
        ):
            bars = ax2.bar(x + dx, vals, 0.4, label=label)
            ax2.bar_label(bars, [f"{v:.2f}" for v in vals], padding=3, fontsize=15)
        ax2.axhline(0.5, color="k", ls=":", lw=1.5, label="1/2")
        ax2.set_xticks(x, [f"({k + 1})" for k in x])
        ax2.set_xlabel("model, numbered as in the left legend (1) to (5)")
        ax2.set_ylabel("win rate")
        ax2.set_ylim(0, 1.1)
        ax2.set_title("win rate against the anchor vs guaranteed win rate")
        ax2.legend(loc="upper right")
        fig.suptitle("WRO-consistency: each WRO optimum is best against its own competitor")


def _shifted_optimum_is_caught(rng: np.random.Generator) -> bool:
    """Positive control: the beta = 0 optimum shifted to another response (a planted bug),
    judged by the check's vertex enumeration."""
    P = preference_batch(rng, 30, 4, "total_order")
    q = model_batch(rng, 30, 4)
    pi = np.roll(np.asarray(wro_optimum(P, q).pi, dtype=float), 1, axis=-1)
    wr, best = _against_vertices(h_values("identity", P), q, pi)
    return bool((np.abs(wr - best) > TOL).any())


CLAIM = Claim(
    "WRO-consistency",
    "the WRO optimum attains the maximal h-win rate against its competitor",
    "holds",
    chunked(chunk, finish, size=2500),
    figure,
    default_instances=10_000,
    controls=(Control("a shifted optimum is caught", _shifted_optimum_is_caught),),
)
