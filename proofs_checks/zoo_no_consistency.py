"""zoo-no-consistency: APO-zero's K = 3 ceiling, and which zoo losses fall short of the best
achievable win rate.

APO-zero's loss ``1 - sigma(u_w) + sigma(u_l)`` is separable; as ``beta -> 0`` its minimizer is
``pi ∝ (p_w - p_l)_+`` (:func:`theory.zoo.closed_forms.apo_zero_limit`).  On a strict order
``0 > 1 > 2`` with ``mu = (1/5, 1/5, 3/5)`` this is ``(2/3, 1/3, 0)``, whose win rate against
``mu`` is ``5/6``, below the best achievable ``9/10`` (a point mass on response 0): exact
Fractions.  It is re-verified by a separate path: the generic solver's APO-zero minimizer at
``beta = 1e-2`` and ``1e-3`` (floats) must be within :data:`APPROACH` of ``(2/3, 1/3, 0)`` and
its win rate (summed here) below ``9/10`` by more than ``1/20``.

Then every zoo loss is classified for consistency (:func:`theory.zoo.classify.consistency`) on
random rational instances (K in 2..4): the win rate of its minimizer's best member in the
``beta -> 0`` limit against ``max_y (P m)_y`` (``m = (mu0 + mu1)/2``), with how many instances
fall short and by how much (the table of docs/zoo.md); the details also carry the worst member's
shortfall, the shortfalls at fixed beta and the logit win rate's (:class:`theory.zoo.Shortfall`).

Figure ``zoo_minimizers_simplex``: every zoo loss's minimizer (``beta = 1``, ``pi_ref`` uniform) on
one cyclic three-response instance, beside the identity-WRO optimum (anchor ``mu``, same beta) and
the maximal lottery.  When the figure goes into the committed gallery ``figures/`` on a run at the
default seed and size (the runner's canonical run), the figure step also refreshes docs/zoo.md
(:func:`proofs_checks.common.docs_zoo.refresh`), so the table and the figure regenerate from the
runner; every other run leaves ``docs/`` alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np

from theory import PreferenceData, maximal_lottery, total_order, wro_optimum
from theory.zoo import ZOO
from theory.zoo.classify import Consistency, consistency, merge_consistency
from theory.zoo.closed_forms import apo_zero_limit
from theory.zoo.instances import random_instances
from theory.zoo.solve import minimize

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Collected,
    Control,
    Gallery,
    Tally,
    cells,
    chunked,
    collected,
)

MAX_K = 4
DEFAULT_INSTANCES = 200
#: How close the solver's small-beta minimizer must come to the exact limit.
APPROACH = 2e-2


def apo_example() -> PreferenceData:
    """docs/zoo.md's example: a strict order on three responses, ``mu = (1/5, 1/5, 3/5)``."""
    F = Fraction
    return PreferenceData(P=total_order(3), mu0=[F(1, 5), F(1, 5), F(3, 5)])


def ceiling(D: PreferenceData) -> dict:
    """The exact limit, its exact win rate and the best achievable (sums written here)."""
    pi = apo_zero_limit(D)[0]
    P, mu = D.P[0], D.mu0[0]
    W = [sum(P[i, j] * mu[j] for j in range(D.K)) for i in range(D.K)]
    wr = sum(pi[i] * W[i] for i in range(D.K))
    return {"pi": pi, "win_rate": wr, "best": max(W)}


def reverify(D: PreferenceData, exact: dict) -> dict | None:
    """The solver at small beta approaches the exact limit and falls short (module docstring)."""
    P, mu = np.asarray(D.P[0], dtype=float), np.asarray(D.mu0[0], dtype=float)
    out = {}
    for beta in (1e-2, 1e-3):
        sol = minimize(ZOO["apo_zero"], D, np.full((1, D.K), 1.0 / D.K), beta, starts=3)
        pi = sol.pi[0]
        gap = float(np.abs(pi - np.asarray(exact["pi"], dtype=float)).max())
        wr = float(sum(pi[i] * P[i, j] * mu[j] for i in range(D.K) for j in range(D.K)))
        if gap > APPROACH or wr > float(exact["best"]) - 0.05:
            return None
        out[f"beta={beta:g}"] = {"pi": pi, "win_rate": wr, "gap": gap}
    return out


@dataclass
class Stats(Tally):
    #: for finish: each chunk's consistency report per loss, in chunk order
    reports: Collected = collected()


#: Instances per chunk.
CHUNK = 100


def chunk(ctx: CheckContext) -> Stats:
    """The consistency of every zoo loss on the chunk's random instances (batches by K)."""
    stats = Stats()
    reports: dict[str, Consistency | None] = {name: None for name in ZOO}
    for cell in cells(ctx.rng, ctx.instances, K=range(2, MAX_K + 1)):
        batch = random_instances(ctx.rng, cell.n, cell.K)
        for name, loss in ZOO.items():
            reports[name] = merge_consistency(reports[name], consistency(loss, batch, ctx.rng))
    stats.reports.add(reports)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    """APO-zero's exact K = 3 ceiling, re-verified by the solver; the chunks' reports merged."""
    D = apo_example()
    exact = ceiling(D)
    proof = reverify(D, exact)
    found = proof is not None and exact["win_rate"] < exact["best"]
    if found:
        stats.witness.offer(
            (3,),
            {
                "loss": "apo_zero",
                "P": D.P[0],
                "mu": D.mu0[0],
                "limit_pi": exact["pi"],
                "win_rate": exact["win_rate"],
                "best": exact["best"],
                "solver": proof,
            },
        )
    reports: dict[str, Consistency | None] = {name: None for name in ZOO}
    for part in stats.reports.values:
        for name, report in part.items():
            if report is not None:
                reports[name] = merge_consistency(reports[name], report)
    rows = {
        name: {
            "limit": r.limit,
            "short": r.short_instances,
            "of": r.instances,
            "max_shortfall": r.shortfall_limit,
            "by_symmetry": r.by_symmetry,
            "worst_member_short": r.worst_short,
            "identity": asdict(r.identity),
            "logit": asdict(r.logit),
        }
        for name, r in reports.items()
        if r is not None
    }
    short = [n for n, r in rows.items() if r["short"]]
    observed = (
        f"APO-zero, K = 3 strict order, mu = (1/5, 1/5, 3/5): beta -> 0 limit (2/3, 1/3, 0), win "
        f"rate {exact['win_rate']} < best {exact['best']} (exact; solver at beta = 1e-2, 1e-3 "
        f"{'agrees' if found else 'DOES NOT agree'}); on {ctx.instances} instances "
        f"{len(short)} of {len(rows)} losses fall short somewhere: {', '.join(short)}"
    )
    details = {
        "losses": rows,
        "simplex": {k: v.tolist() for k, v in simplex_points().items()},
        "default_run": ctx.seed == 0 and ctx.instances == DEFAULT_INSTANCES,
    }
    return CheckResult(observed, ctx.instances, found, stats.witness.value, details=details)


def simplex_instance() -> PreferenceData:
    """The figure's instance: a cyclic ``P`` on three responses (``0 > 1 > 2 > 0``),
    ``mu = (1/2, 3/10, 1/5)``."""
    F = Fraction
    P = [[F(1, 2), F(3, 4), F(2, 5)], [F(1, 4), F(1, 2), F(7, 10)], [F(3, 5), F(3, 10), F(1, 2)]]
    return PreferenceData(P=P, mu0=[F(1, 2), F(3, 10), F(1, 5)])


def simplex_points(beta: float = 1.0) -> dict:
    """Each zoo loss's minimizer on :func:`simplex_instance` (``pi_ref`` uniform), the
    identity-WRO optimum (anchor ``mu``, the same beta) and the maximal lottery."""
    D = simplex_instance()
    ref = np.full((1, 3), 1 / 3)
    pts = {name: minimize(loss, D, ref, beta, starts=3).pi[0] for name, loss in ZOO.items()}
    P, mu = np.asarray(D.P[0], dtype=float), np.asarray(D.mu0[0], dtype=float)
    pts["WRO (identity, anchor mu)"] = wro_optimum(P, mu, beta=beta, pi_ref=ref[0]).pi
    pts["maximal lottery"] = np.asarray(maximal_lottery(D.P[0]).pi, dtype=float)
    return pts


def figure(result: CheckResult, gallery: Gallery) -> None:
    from .scaffold.figures import caption, draw_table

    pts = {k: np.asarray(v, dtype=float) for k, v in result.details.get("simplex", {}).items()}
    D = simplex_instance()
    note = caption(
        {"P": D.P[0], "mu": D.mu0[0], "pi_ref": "uniform", "beta": 1},
        prefix="Instance (cyclic P): ",
    )
    with gallery.new("zoo_minimizers_simplex", ncols=2, instance=note, width_ratios=(1.1, 1)) as (
        fig,
        (ax, tx),
    ):
        special = {"WRO (identity, anchor mu)": ("*", "tab:red"), "maximal lottery": ("D", "k")}
        inside = {n: p for n, p in pts.items() if p.max() < 0.99}
        groups: list[tuple[np.ndarray, list[int]]] = []  # points within 0.012: one label
        for i, (name, p) in enumerate(pts.items()):
            if name in inside:
                near = [g for g in groups if np.abs(g[0] - p).max() < 0.012]
                if not near:
                    groups.append((p, []))
                (near[0] if near else groups[-1])[1].append(i + 1)
            marker, colour = special.get(name, ("o", "tab:blue"))
            ax.scatter(p[0], p[2], s=300 if marker == "*" else 90, marker=marker, color=colour)
        for k, (key, numbers) in enumerate(groups):
            ax.annotate(
                ", ".join(map(str, numbers)),
                (key[0], key[2]),
                xytext=(6, 10 if k % 2 else -26),
                textcoords="offset points",
                fontsize=14,
            )
        if inside:
            box = np.array(list(inside.values()))
            ax.set_xlim(box[:, 0].min() - 0.03, box[:, 0].max() + 0.05)
            ax.set_ylim(box[:, 2].min() - 0.03, box[:, 2].max() + 0.03)
        corners = [f"{i + 1}" for i, (n, p) in enumerate(pts.items()) if n not in inside]
        if corners:
            ax.text(
                0.02,
                0.02,
                f"outside the view (a point mass): {', '.join(corners)}",
                transform=ax.transAxes,
            )
        ax.set_xlabel(r"$\pi(y=0)$")
        ax.set_ylabel(r"$\pi(y=2)$  ($\pi(y=1) = 1 - \pi(0) - \pi(2)$)")
        ax.set_title(r"each loss's minimizer $\pi$ (numbered as in the table)")
        rows = [
            [str(i + 1), _display_name(name), ", ".join(f"{v:.2f}" for v in p)]
            for i, (name, p) in enumerate(pts.items())
        ]
        draw_table(
            tx,
            rows,
            ["#", "loss", r"$\pi$ = ($\pi(0)$, $\pi(1)$, $\pi(2)$)"],
            widths=(0.4, 2.2, 2.2),
            fontsize=14,
        )
        fig.suptitle("zoo-no-consistency: where each zoo loss's minimizer lies")
    if result.details.get("default_run") and _is_committed_gallery(gallery):
        from .common import docs_zoo

        docs_zoo.refresh()


def _display_name(name: str) -> str:
    """A minimizer's name for the figure's table (the two references marked as such)."""
    if name == "WRO (identity, anchor mu)":
        return "WRO optimum (red star)"
    if name == "maximal lottery":
        return "maximal lottery (black diamond)"
    return name


def _is_committed_gallery(gallery: Gallery) -> bool:
    """True when ``gallery`` writes into the committed ``figures/`` (the canonical run)."""
    from .scaffold.cli import GALLERY

    return gallery.outdir.resolve() == GALLERY.resolve()


def _control(rng: np.random.Generator) -> bool:
    return reverify(apo_example(), ceiling(apo_example())) is not None


CLAIM = Claim(
    "zoo-no-consistency",
    "APO-zero's K = 3 ceiling (win rate 5/6 < 9/10), and the zoo losses whose minimizer falls "
    "short of the best achievable win rate",
    "counterexample",
    chunked(chunk, finish, size=CHUNK),
    figure,
    default_instances=DEFAULT_INSTANCES,
    quick_instances=30,
    controls=(Control("the APO-zero example re-verifies", _control),),
)
