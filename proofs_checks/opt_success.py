"""opt-success: in simulated training, optimization success explains the final win rate better
than the choice of objective (docs/theory.md, claim 6), by the pre-registered design of
docs/opt_success.md.

``ctx.instances`` counts problems (default 12; the full run is 40), each drawn from its own
generator spawned from the seed and the problem's index (:func:`generators`).  On each problem
every objective of the secondary population (22; the first 18 are the primary population) is
trained in every one of the 64 optimization cells against a proxy judge ``P_hat`` estimated from
300 comparisons per prompt (:func:`theory.experiments.run_design_problem`), and every run is scored
exactly: its bounded success ``s+`` under the judge and its win rate under the true ``P``.

Verdict (the decision rule, :func:`theory.statistics.decide`): the primary statistic ``Delta``
(mean over problems of the out-of-sample ``R^2`` of win rate from the bins of ``s+`` minus that
from the objective, primary population) with its 95% BCa bootstrap interval over problems:
*holds* above 0 (agrees), *fails* below 0 (disagrees), *inconclusive* otherwise.

Negative control: ``s+`` shuffled within objective must not hold; if it does, the check raises
:class:`NegativeControlHeld` (verdict ``invalid``).  Positive control (:data:`CLAIM`'s
``controls``): on synthetic problems where only the objective moves the win rate, the rule must not
say *holds*.  Also checked in the run: no run exceeds its objective's exact optimum, and every
optimum reproduces its value (``theory.experiments.OPTIMUM_TOL``).
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from theory.experiments import (
    DesignRuns,
    SuccessDesign,
    design_problem,
    proxy_judge,
    run_design_problem,
    secondary_objectives,
)
from theory.statistics import (
    Interval,
    ProblemStatistics,
    bootstrap_mean,
    cell_folds,
    decide,
    oos_r_squared,
    problem_statistics,
    r_squared_groups,
    r_squared_linear,
)

from .common.records import write_experiment_json, write_runs_csv
from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Collected,
    Control,
    Gallery,
    Max,
    Tally,
    chunked,
    collected,
    maximum,
)

#: Where the configuration, the per-run records and the statistics go (git-ignored; the
#: runner's output contract).
RECORDS_DIR = Path("reports") / "opt_success"
#: The design (docs/opt_success.md) and the populations.
DESIGN = SuccessDesign()
OBJECTIVES = secondary_objectives()
PRIMARY = 18
#: Interval level and bootstrap resamples.
LEVEL = 0.95
RESAMPLES = 9999
#: The retraining variants run on this many problems, on all from :data:`FULL_RUN` problems.
SENSITIVITY_PROBLEMS = 3
FULL_RUN = 40
#: Judge sample sizes of the sensitivity runs.
JUDGE_SIZES = (60, 3000)
#: A run may exceed its objective's exact optimum by at most this share of the achievable gain.
SUCCESS_SLACK = 1e-9
_TAG = zlib.crc32(b"opt-success")


class NegativeControlHeld(RuntimeError):
    """The shuffled-success control held: the statistic sees structure that is not there."""


def generators(seed: int, p: int) -> dict[str, np.random.Generator]:
    """Problem ``p``'s generators, spawned from ``(seed, p)`` only (so problem ``p`` is the same
    whatever the number of problems): the problem, the judges and the training runs."""
    names: tuple[str, ...] = ("problem", "judge", "train", "judge_true", "train_true")
    names += tuple(f"{k}_{n}" for n in JUDGE_SIZES for k in ("judge", "train"))
    children = np.random.SeedSequence([seed, _TAG, p]).spawn(len(names))
    return {k: np.random.default_rng(c) for k, c in zip(names, children, strict=True)}


def statistics_generators(seed: int) -> dict[str, np.random.Generator]:
    """The statistics' own generators: the folds, the bootstrap, the negative control."""
    children = np.random.SeedSequence([seed, _TAG, 2**31]).spawn(3)
    names = ("folds", "boot", "control")
    return {k: np.random.default_rng(c) for k, c in zip(names, children, strict=True)}


@dataclass
class Stats(Tally):
    """What the run counted: runs, runs at ``s+ = 0`` and ``1`` (primary population), the
    largest raw success (at most ``1 + SUCCESS_SLACK``) and the largest optimum residual."""

    total_runs: int = 0
    primary_runs: int = 0
    success_zero: int = 0
    success_one: int = 0
    max_success: Max = maximum()
    max_optimum_residual: Max = maximum()
    #: for finish: each problem, its runs, and (first problems only) its retraining variants
    problems: Collected = collected()
    runs: Collected = collected()
    variants: Collected = collected()


def _sensitivity_problems(total: int) -> int:
    """How many problems the retraining variants run on: all of them in a full run, a few in a
    default-sized run, one in a smoke-sized run."""
    if total >= FULL_RUN:
        return total
    return min(SENSITIVITY_PROBLEMS if total >= CLAIM.default_instances else 1, total)


def chunk(ctx: CheckContext) -> Stats:
    """Problems ``ctx.start ..`` (one chunk is one problem): its training runs and, for the
    first :func:`_sensitivity_problems`, the retraining variants (true judge, judge sizes 60
    and 3000) on the primary population.  Problem ``p`` draws from :func:`generators` of
    ``(seed, p)`` only."""
    stats = Stats()
    for p in range(ctx.start, ctx.start + ctx.instances):
        g = generators(ctx.seed, p)
        problem = design_problem(g["problem"], p, DESIGN)
        P_hat = proxy_judge(g["judge"], problem.P, problem.mu, DESIGN.n_judge)
        r = run_design_problem(problem, P_hat, OBJECTIVES, DESIGN, g["train"])
        primary = r.objective < PRIMARY
        stats.total_runs += len(r.objective)
        stats.primary_runs += int(primary.sum())
        stats.success_zero += int(np.sum(r.success_plus[primary] == 0))
        stats.success_one += int(np.sum(r.success_plus[primary] == 1))
        stats.max_success.add(r.success)
        stats.max_optimum_residual.add(r.max_optimum_residual)
        stats.problems.add(problem)
        stats.runs.add(r)
        if p < _sensitivity_problems(ctx.total or ctx.instances):
            stats.variants.add(_variants(problem, g))
        ctx.progress(p - ctx.start + 1)
    return stats


def _variants(problem: Any, g: dict[str, np.random.Generator]) -> dict[str, DesignRuns]:
    """The retraining variants of one problem on the primary population."""
    primary = OBJECTIVES[:PRIMARY]
    out = {"true judge": run_design_problem(problem, problem.P, primary, DESIGN, g["train_true"])}
    for m in JUDGE_SIZES:
        P_hat = proxy_judge(g[f"judge_{m}"], problem.P, problem.mu, m)
        out[f"judge n = {m}"] = run_design_problem(problem, P_hat, primary, DESIGN, g[f"train_{m}"])
    return out


def _per_problem(
    runs: list[DesignRuns],
    folds: list[np.ndarray],
    population: int,
    shuffle: np.random.Generator | None = None,
) -> list[ProblemStatistics]:
    """:func:`theory.statistics.problem_statistics` of each problem's runs of the first
    ``population`` objectives (``s+`` permuted within objective when ``shuffle`` is given)."""
    out = []
    for r, fold in zip(runs, folds, strict=True):
        keep = r.objective < population
        s = r.success_plus[keep].copy()
        obj = r.objective[keep]
        if shuffle is not None:
            for o in np.unique(obj):
                at = np.flatnonzero(obj == o)
                s[at] = s[shuffle.permutation(at)]
        out.append(
            problem_statistics(
                r.win_rate[keep], s, obj, fold[r.cell[keep]], r.optimum_win_rate[keep]
            )
        )
    return out


def _raw_success(runs: list[DesignRuns], folds: list[np.ndarray]) -> dict[str, list[float]]:
    """The first design's in-sample line on raw success versus the objective one-hot, and the
    primary statistic with raw success cut by rank (no bins at 0 and 1)."""
    line, onehot, delta = [], [], []
    for r, fold in zip(runs, folds, strict=True):
        keep = r.objective < PRIMARY
        y, s, obj = r.win_rate[keep], r.success[keep], r.objective[keep]
        line.append(r_squared_linear(y, s))
        onehot.append(r_squared_groups(y, obj))
        ranks = np.argsort(np.argsort(s, kind="stable"), kind="stable")
        bins = ranks * PRIMARY // len(s)
        f = fold[r.cell[keep]]
        delta.append(oos_r_squared(y, bins, f) - oos_r_squared(y, obj, f))
    return {"line": line, "onehot": onehot, "delta": delta}


def _mean(values: Any, rng: np.random.Generator) -> Interval:
    return bootstrap_mean(values, rng, level=LEVEL, resamples=RESAMPLES)


def _secondary(per: list[ProblemStatistics], rng: np.random.Generator) -> dict[str, Interval]:
    cols = {k: [getattr(s, k) for s in per] for k in ProblemStatistics.__dataclass_fields__}
    out = {k: _mean(v, rng) for k, v in cols.items()}
    out["spearman2_minus_epsilon2"] = _mean(np.subtract(cols["spearman2"], cols["epsilon2"]), rng)
    out["shapley_success_minus_objective"] = _mean(
        np.subtract(cols["shapley_success"], cols["shapley_objective"]), rng
    )
    return out


def _sensitivity(
    variants: list[dict[str, DesignRuns]],
    runs: list[DesignRuns],
    folds: list[np.ndarray],
    rng: np.random.Generator,
) -> dict[str, Interval]:
    raw = _raw_success(runs, folds)
    out = {
        "raw success: line R^2 (in sample)": _mean(raw["line"], rng),
        "raw success: objective R^2 (in sample)": _mean(raw["onehot"], rng),
        "raw success: Delta (rank bins)": _mean(raw["delta"], rng),
        "pooled population (22 objectives): Delta": _mean(
            [s.delta for s in _per_problem(runs, folds, len(OBJECTIVES))], rng
        ),
    }
    for name in ("true judge", *(f"judge n = {m}" for m in JUDGE_SIZES)):
        variant = [v[name] for v in variants]
        per = _per_problem(variant, folds[: len(variant)], PRIMARY)
        out[f"{name} ({len(variant)} problems): Delta"] = _mean([s.delta for s in per], rng)
    return out


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    """The pre-registered statistics on the merged problems (generators of their own)."""
    problems, runs = stats.problems.values, stats.runs.values
    g = statistics_generators(ctx.seed)
    folds = [cell_folds(len(DESIGN.cells()), g["folds"]) for _ in runs]
    per = _per_problem(runs, folds, PRIMARY)
    primary = _mean([s.delta for s in per], g["boot"])
    control = _mean(
        [s.delta for s in _per_problem(runs, folds, PRIMARY, g["control"])], g["control"]
    )
    rule, control_rule = decide(primary), decide(control)
    if control_rule == "holds":
        raise NegativeControlHeld(
            f"s+ shuffled within objective gave Delta = {control} ({LEVEL:.0%}), which holds: "
            "the statistic sees structure that is not there, so the run is invalid"
        )
    secondary = _secondary(per, g["boot"])
    sensitivity = _sensitivity(stats.variants.values, runs, folds, g["boot"])
    defects = _defects(stats)
    observed = _observed(stats, primary, rule, control, control_rule, secondary, defects)
    observed += "; sensitivity (reported, not used): " + "; ".join(
        f"{k} {v}" for k, v in sensitivity.items()
    )
    details = {
        "config": _config(ctx),
        **stats.summary(),
        "primary": asdict(primary) | {"decision": rule},
        "negative_control": asdict(control) | {"decision": control_rule},
        "secondary": {k: asdict(v) for k, v in secondary.items()},
        "sensitivity": {k: asdict(v) for k, v in sensitivity.items()},
        "per_problem": _per_problem_rows(problems, per),
        "displays": _displays(runs),
        "runs": _run_columns(problems, runs),
    }
    return CheckResult(
        observed=observed,
        instances=ctx.instances,
        found=bool(defects) or rule == "fails",
        counterexample={"reason": "; ".join(defects)} if defects else None,
        details=details,
        inconclusive=not defects and rule == "inconclusive",
    )


def _defects(stats: Stats) -> list[str]:
    out = []
    if float(stats.max_success) > 1 + SUCCESS_SLACK:
        out.append(f"a run exceeded its exact optimum (success {float(stats.max_success):.9f})")
    return out


def _observed(
    stats: Stats,
    primary: Interval,
    rule: str,
    control: Interval,
    control_rule: str,
    secondary: dict[str, Interval],
    defects: list[str],
) -> str:
    text = (
        f"{stats.primary_runs} primary runs ({PRIMARY} WRO objectives x {len(DESIGN.cells())} "
        f"cells) on {primary.problems} problem(s); Delta = R^2_oos(s+ bins) - R^2_oos(objective) "
        f"= {primary} ({LEVEL:.0%} BCa over problems): {rule.upper()}; negative control "
        f"(s+ shuffled within objective) {control}: {control_rule}; Spearman^2 - epsilon^2 = "
        f"{secondary['spearman2_minus_epsilon2']}; Shapley success - objective = "
        f"{secondary['shapley_success_minus_objective']}; Var(WR_opt) = "
        f"{secondary['var_optimum'].estimate:.2e} vs Var(WR_opt - WR_T) = "
        f"{secondary['var_shortfall'].estimate:.2e}"
    )
    if defects:
        text = "INVALID EXPERIMENT: " + "; ".join(defects) + ". " + text
    return text


def _config(ctx: CheckContext) -> dict[str, Any]:
    return {
        "design": asdict(DESIGN),
        "objectives": [o.label for o in OBJECTIVES],
        "primary_objectives": PRIMARY,
        "problems": ctx.instances,
        "seed": ctx.seed,
        "level": LEVEL,
        "resamples": RESAMPLES,
        "sensitivity_problems": SENSITIVITY_PROBLEMS,
        "judge_sizes": list(JUDGE_SIZES),
    }


def _per_problem_rows(problems: list[Any], per: list[ProblemStatistics]) -> list[dict[str, Any]]:
    return [
        {"problem": p.index, "K": p.K, "family": p.family} | asdict(s)
        for p, s in zip(problems, per, strict=True)
    ]


def _run_columns(problems: list[Any], runs: list[DesignRuns]) -> dict[str, list[Any]]:
    """Every run as columns (the records the runner writes as CSV)."""
    cells = DESIGN.cells()
    cols: dict[str, list[Any]] = {}
    for problem, r in zip(problems, runs, strict=True):
        rows = {
            "problem": [problem.index] * len(r.objective),
            "objective": [OBJECTIVES[o].label for o in r.objective],
            "primary": (r.objective < PRIMARY).tolist(),
            "step_scale": [cells[c][0] for c in r.cell],
            "steps": [cells[c][1] for c in r.cell],
            "batch_size": [cells[c][2] for c in r.cell],
            "policy": [cells[c][3] for c in r.cell],
            "learning_rate": r.learning_rate.tolist(),
            "J_start": r.J_start.tolist(),
            "J_final": r.J_final.tolist(),
            "J_opt": r.J_opt.tolist(),
            "success": r.success.tolist(),
            "success_plus": r.success_plus.tolist(),
            "win_rate": r.win_rate.tolist(),
            "optimum_win_rate": r.optimum_win_rate.tolist(),
        }
        for k, v in rows.items():
            cols.setdefault(k, []).extend(v)
    return cols


def _displays(runs: list[DesignRuns]) -> dict[str, Any]:
    """The data of the paper's three displays: expected versus achieved win rate per objective,
    the h variants, and objective-versus-win-rate trajectories (problem 0, tabular, ``c = 1``,
    batch 32)."""
    labels = [o.label for o in OBJECTIVES]
    expected = np.zeros(len(OBJECTIVES))
    achieved = np.zeros(len(OBJECTIVES))
    final = np.zeros(len(OBJECTIVES))
    for r in runs:
        for o in range(len(OBJECTIVES)):
            at = r.objective == o
            expected[o] += r.optimum_win_rate[at][0] / len(runs)
            achieved[o] += r.win_rate[at].mean() / len(runs)
            final[o] += r.success_plus[at].mean() / len(runs)
    return {
        "labels": labels,
        "expected_win_rate": expected.tolist(),
        "achieved_win_rate": achieved.tolist(),
        "mean_success_plus": final.tolist(),
        "trajectories": _trajectories(runs[0]) if runs else [],
    }


def _trajectories(r: DesignRuns) -> list[dict[str, Any]]:
    cells = DESIGN.cells()
    shown = {"WRO[identity, ref, beta=0.05]", "WRO[log, ref, beta=0.05]"}
    shown |= {"WRO[logit, ref, beta=0.05]", "DPO[beta=0.05]", "DPO[beta=0.2]", "SFT"}
    out = []
    for t, (o, c) in enumerate(zip(r.trajectory_objective, r.trajectory_cell, strict=True)):
        step_scale, _, batch, policy = cells[c]
        if OBJECTIVES[o].label in shown and (step_scale, batch, policy) == (1.0, 32, "tabular"):
            out.append(
                {
                    "objective": OBJECTIVES[o].label,
                    "steps": list(DESIGN.trajectory_steps),
                    "J": r.trajectory_J[:, t].tolist(),
                    "win_rate": r.trajectory_win_rate[:, t].tolist(),
                }
            )
    return out


# ---------------------------------------------------------------------------------------------
# records and figures


def write_records(result: CheckResult, outdir: Path = RECORDS_DIR) -> list[Path]:
    """The configuration, the statistics (JSON) and the per-run records (CSV) under ``outdir``
    (``reports/opt_success/``, git-ignored)."""
    d = result.details
    cols = d.get("runs", {})
    rows = [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]
    csv_path = write_runs_csv(rows, outdir / "runs.csv")
    config = write_experiment_json(d.get("config", {}), outdir / "config.json")
    stats = write_experiment_json(
        {k: v for k, v in d.items() if k not in ("runs", "config")} | {"observed": result.observed},
        outdir / "statistics.json",
    )
    return [config, csv_path, stats]


def figure(result: CheckResult, gallery: Gallery) -> None:
    """The primary statistic per problem with its control, a one-panel version for slides, and
    the paper's three displays; the records go to :data:`RECORDS_DIR` (:func:`write_records`)."""
    write_records(result)
    d = result.details
    note = _setup_caption(d)
    with gallery.new("opt_success_simple", instance=note) as (_fig, ax):
        _draw_simple(ax, d)
    with gallery.new("opt_success_scatter", ncols=2, instance=note) as (_fig, (ax, bx)):
        _draw_scatter(ax, d)
        _draw_statistic(bx, d)
    with gallery.new("opt_success_expected_vs_achieved", instance=note) as (_fig, ax):
        _draw_expected(ax, d["displays"])
    with gallery.new("opt_success_h_variants", instance=note) as (_fig, ax):
        _draw_h_table(ax, d["displays"])
    with gallery.new("opt_success_trajectories", instance=note) as (_fig, ax):
        _draw_trajectories(ax, d["displays"]["trajectories"])


def _setup_caption(d: dict[str, Any]) -> str:
    """The experiment's instance in words: problems, sizes, judge, grid (docs/opt_success.md)."""
    cfg = d.get("config", {})
    des = cfg.get("design", {})
    return (
        f"{cfg.get('problems', '?')} random problems (design of docs/opt_success.md): "
        f"$M$ = {des.get('M')} prompts, $K$ in {list(des.get('Ks', []))} responses, $P$ "
        f"Bradley-Terry or general; a proxy judge from {des.get('n_judge')} comparisons per "
        f"prompt; {len(cfg.get('objectives', []))} objectives (the first "
        f"{cfg.get('primary_objectives')} WRO variants are the primary population), each trained "
        "in 64 optimization cells (step scale x steps x batch size x policy); seed "
        f"{cfg.get('seed')}."
    )


def _pretty(label: str) -> str:
    """An objective's code label (``WRO[logit, ref, beta=0.05]``) in the paper's notation."""
    name, _, rest = label.partition("[")
    parts = [p.strip() for p in rest.rstrip("]").split(",") if p.strip()]
    anchors = {"ref": r"$\pi_{\mathrm{ref}}$", "data": r"$\mu$", "self": "self-play"}
    words = []
    for p in parts:
        if p.startswith("beta="):
            words.append(rf"$\beta$ = {p[5:]}")
        elif p in anchors:
            words.append(f"$q$ = {anchors[p]}")
        else:
            words.append(f"$h$ = {p}")
    return f"{name} ({', '.join(words)})" if words else name


def _draw_simple(ax: Any, d: dict[str, Any]) -> None:
    """For slides: how much of the final win rate each predictor explains, per problem."""
    rows = d["per_problem"]
    succ = np.array([r["r2_success"] for r in rows], dtype=float)
    obj = np.array([r["r2_objective"] for r in rows], dtype=float)
    for x, vals, colour in ((0, succ, "C0"), (1, obj, "C1")):
        ax.bar(x, vals.mean(), 0.6, color=colour, alpha=0.6)
        ax.annotate(
            f"{vals.mean():.2f}",
            (x, vals.mean()),
            xytext=(0, 8),
            textcoords="offset points",
            ha="center",
        )
        jitter = np.linspace(-0.15, 0.15, len(vals)) if len(vals) > 1 else np.zeros(1)
        ax.scatter(x + jitter, vals, color="black", s=40, zorder=3)
    ax.scatter([], [], color="black", s=40, label="one problem")
    ax.bar([], [], color="grey", alpha=0.6, label="mean over problems")
    ax.axhline(0, color="grey", lw=1)
    ax.set_xticks(
        [0, 1],
        ["optimization success $s^+$\n(how far training got)", "objective choice\n(which loss)"],
    )
    ax.set_xlabel("what predicts the final win rate")
    ax.set_ylabel(r"out-of-sample $R^2$ of the final win rate")
    ax.set_title(
        f"opt-success: what explains the final win rate? (over {len(rows)} problems the rule "
        f"says: {d['primary']['decision']})"
    )
    ax.legend(loc="upper right")


def _draw_scatter(ax: Any, d: dict[str, Any]) -> None:
    cols = d["runs"]
    keep = np.array(cols["primary"]) & (np.array(cols["problem"]) == 0)
    s = np.array(cols["success_plus"])[keep]
    wr = np.array(cols["win_rate"])[keep]
    h = np.array([lab.split("[")[1].split(",")[0] for lab in np.array(cols["objective"])[keep]])
    for k, name in enumerate(("identity", "log", "logit")):
        ax.scatter(
            s[h == name], wr[h == name], s=25, alpha=0.5, color=f"C{k}", label=f"$h$ = {name}"
        )
    ax.set_xlabel("bounded success $s^+$ (training judge)")
    ax.set_ylabel(r"final win rate $\mathrm{WR}(\pi_T; \pi_{\mathrm{ref}})$, true $P$")
    ax.set_title("one run per point (problem 0, primary population)")
    ax.legend(loc="upper left")


def _draw_statistic(ax: Any, d: dict[str, Any]) -> None:
    deltas = [row["delta"] for row in d["per_problem"]]
    ax.bar(range(len(deltas)), deltas, color="C0", alpha=0.7, label="one problem")
    for name, key, colour in (
        (r"$\Delta$", "primary", "k"),
        ("shuffled control", "negative_control", "C3"),
    ):
        iv = d[key]
        ax.axhline(iv["estimate"], color=colour, lw=2, label=f"{name} {iv['estimate']:+.3f}")
        if np.isfinite(iv["low"]):
            ax.axhspan(iv["low"], iv["high"], color=colour, alpha=0.12)
    ax.axhline(0, color="grey", lw=1.5, ls=":")
    ax.set_xticks(range(len(deltas)))
    ax.set_xlabel("problem")
    ax.set_ylabel(r"$R^2_{oos}(s^+$ bins$)$ $-$ $R^2_{oos}$(objective)")
    ax.set_title(rf"primary statistic $\Delta$: {d['primary']['decision']}")
    ax.legend(loc="upper right")


def _draw_expected(ax: Any, disp: dict[str, Any]) -> None:
    x, y = np.array(disp["expected_win_rate"]), np.array(disp["achieved_win_rate"])
    ax.scatter(x[:PRIMARY], y[:PRIMARY], marker="o", color="C0", s=70, label="WRO (primary)")
    for i, label in enumerate(disp["labels"]):
        if i >= PRIMARY:
            ax.scatter(
                x[i], y[i], marker="s", color=f"C{1 + i - PRIMARY}", s=90, label=_pretty(label)
            )
    lo, hi = min(x.min(), y.min()) - 0.01, max(x.max(), y.max()) + 0.01
    ax.plot([lo, hi], [lo, hi], "k--", lw=1.5, label="achieved = expected")
    ax.set_xlabel("expected win rate (the objective's exact optimum, true $P$)")
    ax.set_ylabel("achieved win rate (mean over runs)")
    ax.set_title("expected vs achieved win rate of each objective")
    ax.legend(loc="upper left")


def _draw_h_table(ax: Any, disp: dict[str, Any]) -> None:
    from .scaffold.figures import draw_table

    labels, wr, sp = disp["labels"], disp["achieved_win_rate"], disp["mean_success_plus"]
    rows = []
    for h in ("identity", "log", "logit"):
        row = [f"$h$ = {h}"]
        for beta in ("0.01", "0.05", "0.2"):
            at = [i for i, lab in enumerate(labels[:PRIMARY]) if lab.startswith(f"WRO[{h},")]
            at = [i for i in at if labels[i].endswith(f"beta={beta}]")]
            row.append(
                f"{np.mean([wr[i] for i in at]):.3f} ($s^+$ {np.mean([sp[i] for i in at]):.2f})"
            )
        rows.append(row)
    header = ["", r"$\beta$ = 0.01", r"$\beta$ = 0.05", r"$\beta$ = 0.2"]
    draw_table(ax, rows, header, fontsize=20)
    ax.set_title(
        "mean achieved win rate (mean success $s^+$) of the WRO variants, both anchors, all cells"
    )


def _draw_trajectories(ax: Any, trajectories: list[dict[str, Any]]) -> None:
    for k, t in enumerate(trajectories):
        J = np.array(t["J"])
        span = np.ptp(J) or 1.0
        x, y = (J - J[0]) / span, np.asarray(t["win_rate"], dtype=float)
        ax.plot(x, y, "-o", ms=6, color=f"C{k}", label=_pretty(t["objective"]))
        ax.plot(x[:1], y[:1], "o", ms=12, mfc="white", mec=f"C{k}")
        if len(x) >= 2:
            ax.annotate(
                "",
                xy=(x[-1], y[-1]),
                xytext=(x[-2], y[-2]),
                arrowprops={"arrowstyle": "-|>", "color": f"C{k}", "lw": 2},
            )
    ax.set_xlabel(r"training objective, rescaled: $(J - J_0) / \mathrm{range}(J)$")
    ax.set_ylabel(r"win rate against $\pi_{\mathrm{ref}}$ (true $P$)")
    ax.set_title(
        "objective vs win rate along training (problem 0, step scale 1, batch 32); "
        "hollow: start, arrow: end"
    )
    ax.legend(loc="upper left")


# ---------------------------------------------------------------------------------------------
# positive control of the decision rule


def _rule_rejects_noise(rng: np.random.Generator) -> bool:
    """Synthetic problems where the win rate depends on the objective only and ``s+`` is noise:
    the rule must not say *holds* (True when it does not)."""
    deltas = []
    for _ in range(12):
        obj = np.repeat(np.arange(PRIMARY), len(DESIGN.cells()))
        cell = np.tile(np.arange(len(DESIGN.cells())), PRIMARY)
        y = 0.5 + 0.02 * obj + rng.normal(scale=0.01, size=len(obj))
        s = rng.uniform(size=len(obj))
        fold = cell_folds(len(DESIGN.cells()), rng)[cell]
        deltas.append(problem_statistics(y, s, obj, fold, y).delta)
    return decide(bootstrap_mean(deltas, rng, level=LEVEL, resamples=999)) != "holds"


CLAIM = Claim(
    "opt-success",
    "in simulated training, optimization success explains final win rate better than "
    "objective choice",
    "holds",
    chunked(chunk, finish, size=1),
    figure,
    default_instances=12,
    quick_instances=3,
    controls=(Control("the rule does not hold when s+ is noise", _rule_rejects_noise),),
)
