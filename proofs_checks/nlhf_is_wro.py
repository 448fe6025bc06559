"""NLHF-is-WRO: self-play WRO's optima are NLHF's equilibria and they carry a win-rate guarantee.

Each instance draws K in 2..8 and a preference family; half the instances are exact (Fractions).

* ``beta = 0``: :func:`theory.lottery.maximal_lottery_batch` must win at least half the time against
  every response, ``WR(pi; e_y) = 1 - W_pi(y) >= 1/2`` with ``W_pi(y) = (P pi)[y]`` evaluated
  by the check itself (exact instances: tested on Fractions; float instances, and the float path
  run on the exact instances: to :data:`ML_TOL`).
* ``beta > 0``: :func:`theory.methods.nlhf.regularized_nash_batch` (random ``beta`` and
  ``pi_ref``, zeros allowed) must satisfy its fixed-point equation
  ``pi = softmax(log pi_ref + P pi / beta)`` (recomputed here to :data:`FIXED_POINT_TOL`), and
  ``pi`` must be the fixed-anchor WRO optimum against itself: :func:`theory.wro.wro_optimum`
  with anchor ``q = pi`` (the closed form ``pi_ref exp(P pi / beta) / Z``, an independent code
  path) returns ``pi`` again.
* ``beta -> 0``: for full-support ``pi_ref`` the equilibrium's shortfall from the 1/2 guarantee
  obeys ``1/2 - min_y WR(pi_beta; e_y) <= beta * max_y log(1 / pi_ref(y))`` (optimality of
  ``pi_beta`` against itself, tested with ``p = e_y``), checked on a ladder of ``beta``; the
  shortfall therefore vanishes as ``beta -> 0``, the maximal lottery's guarantee.

The float work is batched per ``K`` so that 10,000 instances take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.special import softmax

from theory import random_distribution, random_family_matrix, rock_paper_scissors, to_float
from theory.lottery import maximal_lottery, maximal_lottery_batch
from theory.methods.nlhf import regularized_nash, regularized_nash_batch
from theory.preferences import FAMILIES
from theory.winrate import win_rate_batch
from theory.wro import wro_optimum

from .common.wro_instances import MAX_K
from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Collected,
    Control,
    Counts,
    Gallery,
    Max,
    Tally,
    chunked,
    collected,
    counts,
    maximum,
)

#: Float tolerance on the maximal lottery's guarantee ``min_y WR(pi; e_y) >= 1/2``.
ML_TOL = 1e-9
#: Float tolerance on the fixed-point equation (the solver's target residual is 1e-12).
FIXED_POINT_TOL = 1e-12
#: Agreement of the equilibrium with the fixed-anchor closed form against itself.
SELF_ANCHOR_TOL = 1e-10
#: Slack for rounding in the beta -> 0 bound.
BOUND_SLACK = 1e-12
#: Random ``beta`` values of the fixed-point part (drawn per instance).
BETAS = (3.0, 1.0, 0.3, 0.1, 0.03)
#: The ladder of the beta -> 0 part.
LADDER = (1.0, 0.1, 0.01, 0.001)
#: At most this many instances per K go up the beta ladder (the slowest part).
LADDER_PER_K = 250
#: Points per ladder step kept for the figure.
LADDER_KEPT = 400


@dataclass
class Stats(Tally):
    exact_ml: int = 0
    float_ml: int = 0
    nash: int = 0
    ladder_instances: int = 0
    max_ml_shortfall: Max = maximum()
    max_residual: Max = maximum()
    max_self_anchor: Max = maximum()
    max_bound_ratio: Max = maximum()
    exact_support_sizes: Counts = counts()
    #: ``(K, id, P, pi_ref)`` of each chunk's first :data:`LADDER_PER_K` full-support instances
    #: per K, in order: :func:`finish` takes the first :data:`LADDER_PER_K` per K of them all.
    ladder_rows: Collected = collected()


@dataclass
class Ladder:
    """The beta -> 0 part's points for the figure: per ladder step, the shortfalls and bounds."""

    shortfall: dict[float, list[float]]
    bound: dict[float, list[float]]

    @classmethod
    def empty(cls) -> Ladder:
        return cls({b: [] for b in LADDER}, {b: [] for b in LADDER})


def _pi_check(P_rows, pis, exact: bool, stats: Stats, ids, tag: str) -> tuple[int, float]:
    """Test that no response beats ``pi``: ``W_pi(y) = sum_i P[y, i] pi(i) <= 1/2`` for every y
    (so ``WR(pi; e_y) = 1 - W_pi(y) >= 1/2``), ``pi >= 0`` and ``sum pi = 1``.

    ``W_pi`` is evaluated here from its definition (the quantity of
    :func:`theory.response_win_rates`, summed over the support of ``pi``, on instances this check
    built and validated itself), independently of the solver's own certificate.  Exact rows are
    tested with Fractions, float rows (batched) to :data:`ML_TOL`.  Returns (violations, worst
    float excess of ``max_y W_pi(y)`` over 1/2)."""
    half = Fraction(1, 2) if exact else 0.5
    if exact:
        W_max = [_exact_w_max(P, pi) for P, pi in zip(P_rows, pis, strict=True)]
        ok = [w <= half and sum(pi) == 1 and min(pi) >= 0 for w, pi in zip(W_max, pis, strict=True)]
    else:
        P3, pi2 = np.stack(P_rows), np.stack(pis)
        W_max = np.max(np.einsum("nyi,ni->ny", P3, pi2), axis=1)
        ok = (
            (W_max - half <= ML_TOL)
            & (np.abs(pi2.sum(axis=1) - 1) <= ML_TOL)
            & (pi2.min(axis=1) >= 0)
        )
    short = max((float(w - half) for w in W_max), default=0.0)
    bad = 0
    for k in np.flatnonzero(~np.asarray(ok)):
        bad += 1
        stats.witness.offer(
            (P_rows[k].shape[0], ids[k]),
            {"part": tag, "P": P_rows[k], "pi": pis[k], "max_y WR(e_y; pi)": W_max[k]},
        )
    return bad, short


def _exact_w_max(P: np.ndarray, pi: np.ndarray) -> Fraction:
    """``max_y W_pi(y)`` with Fractions, summed over the support of ``pi``."""
    S = [i for i in range(len(pi)) if pi[i] != 0]
    return max(sum((P[y, i] * pi[i] for i in S), Fraction(0)) for y in range(len(pi)))


def _draw(ctx: CheckContext) -> dict[int, dict[str, list]]:
    """The chunk's instances, grouped by K: exact ones (even global index), float copies of all,
    and each instance's ``(id, float P, pi_ref, beta)`` (``id`` the global index)."""
    rng = ctx.rng
    by_k: dict[int, dict[str, list]] = {}
    for n in range(ctx.start, ctx.start + ctx.instances):
        exact = n % 2 == 0
        K = int(rng.integers(2, MAX_K + 1))
        family = FAMILIES[int(rng.integers(len(FAMILIES)))]
        P = random_family_matrix(rng, K, family, exact=exact)
        ref = random_distribution(rng, K, zeros=bool(rng.integers(3) == 0))
        beta = BETAS[int(rng.integers(len(BETAS)))]
        g = by_k.setdefault(K, {"exact": [], "float": [], "all": [], "float_copy": []})
        g["exact" if exact else "float"].append((n, P))
        P_f = P if not exact else to_float(P)
        g["all"].append((n, P_f, ref, beta))
        g["float_copy"].append((n, P_f))
    return by_k


def _lottery_part(g: dict[str, list], stats: Stats) -> None:
    """beta = 0: the exact maximal lottery (verified here with Fractions), and the float path
    on every instance (the float instances and float copies of the exact ones)."""
    if g["exact"]:
        ids, Ps = zip(*g["exact"], strict=True)
        mls = maximal_lottery_batch(np.stack(Ps))
        stats.exact_ml += len(mls)
        _pi_check(Ps, [m.pi for m in mls], True, stats, ids, "exact maximal lottery")
        for m in mls:
            stats.exact_support_sizes.add(len(m.support))
    ids, P_fs = zip(*g["float_copy"], strict=True)
    mls = maximal_lottery_batch(np.stack(P_fs), exact=False)
    stats.float_ml += len(mls)
    _, s = _pi_check(P_fs, [m.pi for m in mls], False, stats, ids, "float maximal lottery")
    stats.max_ml_shortfall.add(max(s, 0.0))


def chunk(ctx: CheckContext) -> Stats:
    """The chunk's instances, per K: the maximal lotteries and the regularized equilibria; the
    chunk's first full-support instances per K are kept as candidates of the beta -> 0 part."""
    stats = Stats()
    done = 0
    for K, g in sorted(_draw(ctx).items()):
        _lottery_part(g, stats)
        # beta > 0: fixed point, and the fixed-anchor optimum against itself
        for beta in BETAS:
            rows = [r for r in g["all"] if r[3] == beta]
            if rows:
                _nash_part(rows, beta, stats)
        full = [r for r in g["all"] if np.all(r[2] > 0)][:LADDER_PER_K]
        stats.ladder_rows.add(*((K, n, P, ref) for n, P, ref, _beta in full))
        done += len(g["all"])
        ctx.progress(done)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    """beta -> 0 on the first :data:`LADDER_PER_K` full-support instances of each K (in global
    order; an order-dependent choice, so made after the merge), then the result."""
    ladder = Ladder.empty()
    rows = stats.ladder_rows.values
    for K in sorted({r[0] for r in rows}):
        full = [r[1:] for r in rows if r[0] == K][:LADDER_PER_K]
        _ladder_part(full, stats, ladder)
    return stats.result(
        ctx.instances,
        _observed(stats, ladder),
        ladder_betas=list(LADDER),
        ladder_shortfall={str(b): v[:LADDER_KEPT] for b, v in ladder.shortfall.items()},
        ladder_bound={str(b): v[:LADDER_KEPT] for b, v in ladder.bound.items()},
    )


def _observed(stats: Stats, ladder: Ladder) -> str:
    worst = stats.witness
    if worst.value is not None:
        return f"{worst.count} violations; smallest: {worst.value['part']}"
    med = {b: float(np.median(v)) if v else 0.0 for b, v in ladder.shortfall.items()}
    return (
        f"maximal lottery wins >= 1/2 against every response on {stats.exact_ml} exact "
        f"instances (==, Fractions) and {stats.float_ml} float runs (worst excess "
        f"{float(stats.max_ml_shortfall):.1e}); regularized Nash fixed point on {stats.nash} "
        f"instances (max residual {float(stats.max_residual):.1e}), equal to the fixed-anchor "
        f"optimum against itself (max diff {float(stats.max_self_anchor):.1e}); beta -> 0 on "
        f"{stats.ladder_instances} instances: median shortfall "
        + ", ".join(f"{med[b]:.1e} (beta={b:g})" for b in LADDER)
        + f", within the bound beta*log(1/min pi_ref) (max ratio "
        f"{float(stats.max_bound_ratio):.2f})"
    )


def _nash_part(rows, beta: float, stats: Stats) -> None:
    ids = [r[0] for r in rows]
    P = np.stack([r[1] for r in rows])
    ref = np.stack([r[2] for r in rows])
    eqs = regularized_nash_batch(P, beta, ref)
    pi = np.stack([e.pi for e in eqs])
    # the fixed-point equation, recomputed here on the support of pi_ref
    with np.errstate(divide="ignore"):
        logits = np.where(ref > 0, np.log(np.where(ref > 0, ref, 1.0)), -np.inf)
    Ppi = np.einsum("nij,nj->ni", P, pi)
    rhs = softmax(logits + Ppi / beta, axis=1)
    res = np.max(np.abs(pi - rhs), axis=1)
    # self-play WRO: the closed-form fixed-anchor optimum against q = pi is pi itself
    opt = wro_optimum(P, pi, beta=beta, pi_ref=ref).pi
    diff = np.max(np.abs(np.atleast_2d(opt) - pi), axis=1)
    stats.nash += len(rows)
    stats.max_residual.add(float(res.max()))
    stats.max_self_anchor.add(float(diff.max()))
    for k in np.flatnonzero((res > FIXED_POINT_TOL) | (diff > SELF_ANCHOR_TOL)):
        stats.witness.offer(
            (P.shape[1], ids[k]),
            {
                "part": "regularized Nash",
                "P": P[k],
                "pi_ref": ref[k],
                "beta": beta,
                "pi": pi[k],
                "residual": float(res[k]),
                "self_anchor_diff": float(diff[k]),
            },
        )


def _ladder_part(rows, stats: Stats, ladder: Ladder) -> None:
    ids = [r[0] for r in rows]
    P = np.stack([r[1] for r in rows])
    ref = np.stack([r[2] for r in rows])
    N, K = ref.shape
    eye = np.eye(K)
    stats.ladder_instances += N
    for beta in LADDER:
        pi = np.stack([e.pi for e in regularized_nash_batch(P, beta, ref)])
        # min_y WR(pi; e_y) through the library's batched win rate
        wr = np.stack(
            [win_rate_batch(P, pi, np.repeat(eye[[y]], N, 0), validate=False) for y in range(K)],
            axis=1,
        )
        shortfall = np.maximum(0.5 - wr.min(axis=1), 0.0)
        bound = beta * np.log(1.0 / ref.min(axis=1))
        ladder.shortfall[beta].extend(shortfall.tolist())
        ladder.bound[beta].extend(bound.tolist())
        ratio = shortfall / np.maximum(bound, 1e-300)
        stats.max_bound_ratio.add(float(ratio.max()))
        for k in np.flatnonzero(shortfall > bound + BOUND_SLACK):
            stats.witness.offer(
                (K, ids[k]),
                {
                    "part": "beta -> 0 bound",
                    "P": P[k],
                    "pi_ref": ref[k],
                    "beta": beta,
                    "pi": pi[k],
                    "shortfall": float(shortfall[k]),
                    "bound": float(bound[k]),
                },
            )


def figure(result: CheckResult, gallery: Gallery) -> None:
    from .scaffold.figures import caption

    shorts = result.details.get("ladder_shortfall", {})
    kept = sum(len(v) for v in shorts.values())
    note = caption(
        {"P": rock_paper_scissors(), "pi_ref": RPS_REF, "beta": "10 down to 1/100"},
        prefix="Left (rock-paper-scissors): ",
    ) + (
        f"\nRight: {kept} (instance, $\\beta$) pairs of the check's $\\beta \\to 0$ ladder (random "
        r"$P$, $K$ = 2..8, full-support $\pi_{\mathrm{ref}}$); shortfall = $1/2 - \mathrm{min}_y "
        r"\mathrm{WR}(\pi_\beta; y)$, bound = "
        r"$\beta\, \mathrm{max}_y \log(1/\pi_{\mathrm{ref}}(y))$; "
        "a point at the floor $10^{-6}$ had no shortfall at all."
    )
    with gallery.new("nlhf_is_wro", ncols=2, instance=note) as (_fig, (ax, ax2)):
        _draw_rps_paths(ax)
        _draw_ladder(ax2, result.details)


#: The reference of the figure's rock-paper-scissors paths.
RPS_REF = (Fraction(3, 5), Fraction(3, 10), Fraction(1, 10))


def _draw_rps_paths(ax: Any) -> None:
    """Rock-paper-scissors on the simplex: the fixed-anchor and self-play optima as beta falls."""
    from theory.plot import simplex_axes, simplex_path, simplex_points

    from .scaffold.figures import exempt

    P = to_float(rock_paper_scissors())
    ref = np.array([float(v) for v in RPS_REF])
    betas = np.geomspace(10.0, 0.01, 60)
    fixed = np.stack([wro_optimum(P, ref, beta=b, pi_ref=ref).pi for b in betas])
    selfp = np.stack([regularized_nash(P, b, ref).pi for b in betas])
    ml = to_float(maximal_lottery(rock_paper_scissors()).pi)
    # rock_paper_scissors(): 0 beats 1, 1 beats 2, 2 beats 0, i.e. rock, scissors, paper
    simplex_axes(ax, labels=("rock ($y=0$)", "scissors ($y=1$)", "paper ($y=2$)"))
    exempt(ax, "simplex")
    simplex_path(
        fixed,
        ax,
        color="tab:orange",
        label=r"fixed anchor $q = \pi_{\mathrm{ref}}$: $\pi^*_\beta$ (closed form)",
    )
    simplex_path(selfp, ax, color="tab:blue", label=r"self-play: regularized Nash $\pi_\beta$")
    simplex_points(
        ref, ax, marker="s", color="black", label=r"$\pi_{\mathrm{ref}}$ (start: $\beta = 10$)"
    )
    simplex_points(ml, ax, marker="*", color="tab:blue", size=400, label="maximal lottery")
    ax.set_title(r"WRO optima as $\beta$ falls from 10 to 1/100 (arrows)")
    ax.set_ylim(-0.12, 1.5)
    ax.legend(loc="upper center", fontsize=15, frameon=False)


def _draw_ladder(ax2: Any, det: dict[str, Any]) -> None:
    """The beta -> 0 ladder of the check: each instance's shortfall as a fraction of its bound."""
    shorts = det.get("ladder_shortfall", {})
    bounds = det.get("ladder_bound", {})
    for beta in det.get("ladder_betas", []):
        s = np.asarray(shorts.get(str(beta), []), dtype=float)
        bd = np.asarray(bounds.get(str(beta), []), dtype=float)
        if len(s):
            ratio = np.maximum(s / np.maximum(bd, 1e-300), 1e-6)
            jitter = np.exp(np.linspace(-0.15, 0.15, len(s)))
            ax2.scatter(beta * jitter, ratio, s=25, alpha=0.5, color="tab:blue")
    ax2.scatter([], [], s=25, color="tab:blue", label="one instance at one $\\beta$")
    ax2.axhline(1.0, color="k", ls="--", lw=1.5, label="the bound (ratio 1)")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_ylim(5e-7, 5)
    ax2.set_xlabel(r"$\beta$")
    ax2.set_ylabel("shortfall / bound")
    ax2.set_title(r"shortfall of $\pi_\beta$ (regularized Nash) from 1/2, over its bound")
    ax2.legend(loc="lower right")


def _uniform_lottery_is_caught(rng: np.random.Generator) -> bool:
    """Positive control: the uniform model offered as the maximal lottery of total orders (where a
    Condorcet winner beats it), judged by the check's exact and float tests."""
    Ps = [random_family_matrix(rng, int(rng.integers(3, MAX_K + 1)), "total_order", exact=True)]
    pis = [np.array([Fraction(1, len(P))] * len(P), dtype=object) for P in Ps]
    exact_bad, _ = _pi_check(Ps, pis, True, Stats(), [0], "control")
    P_f = [to_float(P) for P in Ps]
    float_bad, _ = _pi_check(P_f, [to_float(pi) for pi in pis], False, Stats(), [0], "control")
    return exact_bad > 0 and float_bad > 0


CLAIM = Claim(
    "NLHF-is-WRO",
    "maximal lottery wins >= 1/2 against every response; regularized Nash fixed point",
    "holds",
    chunked(chunk, finish, size=2000),
    figure,
    default_instances=10_000,
    controls=(Control("a uniform 'maximal lottery' is caught", _uniform_lottery_is_caught),),
)
