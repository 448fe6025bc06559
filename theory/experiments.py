"""The ``opt-success`` experiment: does optimization success or the objective predict win rate?

THEORY.md, claim 6 (our formalization).  On one preference problem (data ``D``, starting model
``pi_ref``) we train many runs with :func:`theory.training.train`, over a grid of

* **objectives** (what changes the objective's solution): WRO with several ``h``, anchors,
  ``beta`` and judges (the true ``P`` or its Bradley-Terry fit, i.e. RLHF), self-play WRO (NLHF),
  DPO with several ``beta``, SFT on preferred samples;
* **optimization settings** (what changes how well it is solved): learning rate, steps, batch
  size, parameterization (tabular or log-linear with ``d < K`` features); several seeds.

For every run we record, exactly from the population quantities (never from samples):

* ``win_rate = WR(pi_final; pi_ref)`` under the true ``P`` (the final win rate against the start);
* ``J_start = J(pi_ref)``, ``J_final = J(pi_final)`` and ``J_opt = max_pi J(pi)`` over *all*
  models (for a log-linear family too: the achievable optimum is the objective's exact optimum,
  so a family that cannot reach it is charged for that);
* ``success = (J_final - J_start) / (J_opt - J_start)``
  (:func:`theory.training.optimization_success`, which defines the degenerate case).

Then we regress ``win_rate`` on ``success`` (simple linear regression, ``R^2 = corr^2``), on the
objective (one-hot: ``R^2`` = between-objective share of the variance), and on WRO-versus-not
(one-hot of two groups), each with a percentile bootstrap interval over runs
(:func:`compare_explanations`).

The exact optima ``J_opt`` come from the library: fixed-anchor WRO
``pi* ∝ pi_ref exp(h(P) q / beta)``, ``J* = beta sum_x rho_x log Z_x`` (``beta > 0``) or
``sum_x rho_x max_y (h(P) q)_x(y)`` (``beta = 0``); self-play ``J* = 1/2`` (the value of the
symmetric game ``F``), the maximizer being the maximal lottery / regularized Nash equilibrium of
:mod:`theory.games`; DPO ``J* = -min L`` from :func:`theory.methods.dpo.dpo_minimizers`; SFT
``J* = -L(p_w)`` at :func:`theory.methods.sft.sft_target`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .data import PreferenceData
from .errors import InvalidParameterError
from .methods.dpo import dpo_minimizers
from .methods.sft import sft_target
from .numbers import to_float
from .preferences import random_family_matrix
from .simplex import random_model
from .training import (
    SoftmaxPolicy,
    TrainingObjective,
    TrainingProblem,
    TrainingSettings,
    log_linear_policy,
    make_problem,
    objective_value,
    optimization_success,
    random_features,
    tabular_policy,
    train,
)
from .winrate import win_rate
from .wro import SELF, wro_optimum

__all__ = [
    "OPTIMUM_TOL",
    "ObjectiveOptimum",
    "objective_optimum",
    "OptSetting",
    "ExperimentGrid",
    "default_grid",
    "RunRecord",
    "random_training_problem",
    "run_experiment",
    "ExperimentResult",
    "opt_success_experiment",
    "r_squared_linear",
    "r_squared_groups",
    "r_squared_binned",
    "adjusted_r_squared",
    "EXPLANATIONS",
    "MIN_PROBLEMS_TO_RESAMPLE",
    "Explanation",
    "compare_explanations",
    "write_runs_csv",
    "write_experiment_json",
]

#: A computed optimum must reproduce its value through :func:`objective_value` to this tolerance.
OPTIMUM_TOL = 1e-7


@dataclass(frozen=True)
class ObjectiveOptimum:
    """``value = max_pi J(pi)`` (float), a maximizer ``pi`` ``(M, K)`` (for ``beta = 0`` fixed
    anchor: uniform on the argmax set; for SFT/DPO the unique optimum), its win rate against
    ``pi_ref`` under the true ``P`` (``win_rate``) and the certificate ``residual`` =
    ``|J(pi) - value|`` (how far the maximizer's recomputed objective is from the value)."""

    value: float
    pi: np.ndarray
    win_rate: float
    residual: float


def objective_optimum(problem: TrainingProblem, objective: TrainingObjective) -> ObjectiveOptimum:
    """The exact optimum of ``objective`` on ``problem`` with a maximizer and its certificate.

    Raises :class:`~theory.errors.InvalidParameterError` when no maximizer exists (DPO whose
    Bradley-Terry MLE does not exist) or when the maximizer does not reproduce the value to
    :data:`OPTIMUM_TOL`.
    """
    if objective.method == "wro":
        anchor = SELF if objective.anchor == "self" else problem.anchor(objective)
        sol = wro_optimum(
            problem.judge(objective),
            anchor,
            objective.beta,
            problem.pi_ref,
            objective.h,
            problem.rho,
        )
        pi = to_float(sol.pi)
        # self-play is scored by J(pi) = min_q F(pi, q), whose maximum is the game's value 1/2
        value = 0.5 if objective.anchor == "self" else float(sol.value)
    elif objective.method == "sft":
        pi = to_float(sft_target(problem.data))
        value = objective_value(problem, objective, pi)
    else:
        mins = dpo_minimizers(problem.data, problem.pi_ref, objective.beta)
        if not mins.exists:
            raise InvalidParameterError(
                "the DPO loss has no minimizer on this problem (the Bradley-Terry MLE does not "
                "exist): its optimum is not attained"
            )
        value, pi = -float(mins.min_loss), to_float(mins.point())
    residual = abs(objective_value(problem, objective, pi) - value)
    if residual > OPTIMUM_TOL:
        raise InvalidParameterError(
            f"{objective.label}: the maximizer's objective differs from the optimum by "
            f"{residual:.2e} > {OPTIMUM_TOL}"
        )
    wr = float(win_rate(problem.P, pi, problem.pi_ref, problem.rho))
    return ObjectiveOptimum(value=value, pi=pi, win_rate=wr, residual=residual)


@dataclass(frozen=True)
class OptSetting:
    """One optimization setting: SGD ``learning_rate``, ``steps``, ``batch_size`` and
    ``parameterization`` (``"tabular"`` or ``"log-linear"``)."""

    learning_rate: float
    steps: int
    batch_size: int
    parameterization: str

    def __post_init__(self) -> None:
        if self.parameterization not in ("tabular", "log-linear"):
            raise InvalidParameterError(
                f"parameterization = {self.parameterization!r}, expected tabular or log-linear"
            )
        TrainingSettings(self.learning_rate, self.steps, self.batch_size)  # validates the knobs

    @property
    def label(self) -> str:
        return (
            f"{self.parameterization}, lr={self.learning_rate:g}, steps={self.steps}, "
            f"B={self.batch_size}"
        )


@dataclass(frozen=True)
class ExperimentGrid:
    """The grid: ``objectives`` x ``settings``, replicated over seeds; the problem's size
    ``M`` prompts, ``K`` responses, ``d`` log-linear features (``d < K``) and the preference
    ``families`` drawn per prompt (entries strictly inside (0, 1), so every ``h`` is finite and
    the Bradley-Terry MLE exists)."""

    objectives: tuple[TrainingObjective, ...]
    settings: tuple[OptSetting, ...]
    M: int = 3
    K: int = 6
    d: int = 3
    families: tuple[str, ...] = ("bradley_terry", "general")

    @property
    def cells(self) -> int:
        return len(self.objectives) * len(self.settings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "objectives": [asdict(o) | {"label": o.label} for o in self.objectives],
            "settings": [asdict(s) for s in self.settings],
            "M": self.M,
            "K": self.K,
            "d": self.d,
            "families": list(self.families),
        }


def default_grid() -> ExperimentGrid:
    """10 objectives (7 WRO, 2 DPO, SFT) x 16 settings (2 learning rates x 2 step counts x
    2 batch sizes x 2 parameterizations)."""
    objectives = (
        TrainingObjective("wro", h="identity", anchor="ref", beta=0.05),
        TrainingObjective("wro", h="identity", anchor="data", beta=0.05),
        TrainingObjective("wro", h="identity", anchor="ref", beta=0.0),
        TrainingObjective("wro", h="logit", anchor="data", beta=0.1),
        TrainingObjective("wro", h="log", anchor="ref", beta=0.1),
        TrainingObjective("wro", h="logit", anchor="ref", beta=0.1, judge="bradley_terry"),
        TrainingObjective("wro", h="identity", anchor="self", beta=0.05),
        TrainingObjective("dpo", beta=0.1),
        TrainingObjective("dpo", beta=1.0),
        TrainingObjective("sft"),
    )
    settings = tuple(
        OptSetting(lr, steps, B, par)
        for par in ("tabular", "log-linear")
        for lr in (0.3, 3.0)
        for steps in (30, 300)
        for B in (4, 32)
    )
    return ExperimentGrid(objectives=objectives, settings=settings)


@dataclass(frozen=True)
class RunRecord:
    """One training run and its exact scores (see the module docstring)."""

    run: int
    problem: int
    replicate: int
    objective: str
    is_wro: bool
    parameterization: str
    learning_rate: float
    steps: int
    batch_size: int
    seed: int
    samples: int
    win_rate: float
    J_start: float
    J_final: float
    J_opt: float
    success: float
    optimum_win_rate: float


def random_training_problem(
    rng: np.random.Generator, grid: ExperimentGrid
) -> tuple[TrainingProblem, np.ndarray]:
    """A random problem for ``grid``: per prompt ``P_x`` from a random family of
    ``grid.families``, data ``mu`` and start ``pi_ref`` independent Dirichlet(1) models, plus the
    log-linear features ``(M, K, d)`` (standard normal)."""
    fams = [grid.families[int(rng.integers(len(grid.families)))] for _ in range(grid.M)]
    P = np.stack([random_family_matrix(rng, grid.K, f) for f in fams])
    mu = random_model(rng, grid.M, grid.K)
    pi_ref = random_model(rng, grid.M, grid.K)
    features = random_features(rng, grid.M, grid.K, grid.d)
    return make_problem(PreferenceData(P=P, mu0=mu), pi_ref), features


def run_experiment(
    problem: TrainingProblem,
    features: np.ndarray,
    grid: ExperimentGrid,
    runs: int,
    rng: np.random.Generator,
    progress: Callable[[int], None] = lambda done: None,
    *,
    problem_index: int = 0,
    run_offset: int = 0,
) -> tuple[list[RunRecord], dict[str, ObjectiveOptimum]]:
    """Train ``runs`` runs: replicate ``r`` visits every (objective, setting) cell once in an
    order shuffled by ``rng``, and runs are taken in that order, so ``runs < grid.cells`` gives a
    random subset of cells and ``runs = k * grid.cells`` gives ``k`` seeds of every cell.  Each
    run gets its own seed drawn from ``rng``.  Returns the records and the optimum per objective.
    """
    if isinstance(runs, bool) or not isinstance(runs, int | np.integer) or runs < 1:
        raise InvalidParameterError(f"runs = {runs!r}, expected a positive integer")
    policies: dict[str, SoftmaxPolicy] = {
        "tabular": tabular_policy(problem.pi_ref),
        "log-linear": log_linear_policy(problem.pi_ref, features),
    }
    optima = {o.label: objective_optimum(problem, o) for o in grid.objectives}
    starts = {o.label: objective_value(problem, o, problem.pi_ref) for o in grid.objectives}
    cells = [(o, s) for o in grid.objectives for s in grid.settings]
    records: list[RunRecord] = []
    replicate = 0
    while len(records) < runs:
        for c in rng.permutation(len(cells)):
            if len(records) >= runs:
                break
            obj, st = cells[int(c)]
            seed = int(rng.integers(2**31 - 1))
            settings = TrainingSettings(st.learning_rate, st.steps, st.batch_size, seed)
            result = train(problem, obj, policies[st.parameterization], settings)
            J_final = objective_value(problem, obj, result.pi)
            opt = optima[obj.label]
            records.append(
                RunRecord(
                    run=run_offset + len(records),
                    problem=problem_index,
                    replicate=replicate,
                    objective=obj.label,
                    is_wro=obj.is_wro,
                    parameterization=st.parameterization,
                    learning_rate=st.learning_rate,
                    steps=st.steps,
                    batch_size=st.batch_size,
                    seed=seed,
                    samples=result.samples,
                    win_rate=float(win_rate(problem.P, result.pi, problem.pi_ref, problem.rho)),
                    J_start=starts[obj.label],
                    J_final=J_final,
                    J_opt=opt.value,
                    success=optimization_success(J_final, starts[obj.label], opt.value),
                    optimum_win_rate=opt.win_rate,
                )
            )
            progress(run_offset + len(records))
        replicate += 1
    return records, optima


@dataclass(frozen=True)
class ExperimentResult:
    """What :func:`opt_success_experiment` returns: the ``records`` of every run, per problem the
    exact optima (``optima[p][label]``) and the problem itself (``problems[p]``, with its
    log-linear ``features[p]``)."""

    records: list[RunRecord]
    optima: list[dict[str, ObjectiveOptimum]]
    problems: list[TrainingProblem]
    features: list[np.ndarray]


def opt_success_experiment(
    rng: np.random.Generator,
    runs: int,
    *,
    problems: int = 1,
    grid: ExperimentGrid | None = None,
    progress: Callable[[int], None] = lambda done: None,
) -> ExperimentResult:
    """The whole experiment: ``problems`` random problems (:func:`random_training_problem`),
    ``runs`` training runs split as evenly as possible between them (at least one each), each
    problem's share run by :func:`run_experiment` on ``grid`` (default :func:`default_grid`).

    >>> res = opt_success_experiment(np.random.default_rng(0), 3)
    >>> len(res.records), all(r.success <= 1 + 1e-9 for r in res.records)
    (3, True)
    """
    grid = default_grid() if grid is None else grid
    for name, v in (("runs", runs), ("problems", problems)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise InvalidParameterError(f"{name} = {v!r}, expected a positive integer")
    n_problems = min(problems, runs)
    shares = [runs // n_problems + (p < runs % n_problems) for p in range(n_problems)]
    out = ExperimentResult([], [], [], [])
    for p, share in enumerate(shares):
        problem, features = random_training_problem(rng, grid)
        records, optima = run_experiment(
            problem,
            features,
            grid,
            share,
            rng,
            progress,
            problem_index=p,
            run_offset=len(out.records),
        )
        out.records.extend(records)
        out.optima.append(optima)
        out.problems.append(problem)
        out.features.append(features)
    return out


# ---------------------------------------------------------------------------------------------
# statistics


def r_squared_linear(y: Any, x: Any) -> float:
    """``R^2`` of the least-squares line ``y ~ a + b x``: ``corr(x, y)^2`` (0 when either is
    constant).

    >>> r_squared_linear([1.0, 2.0, 3.0], [2.0, 4.0, 6.0])
    1.0
    """
    y, x = np.asarray(y, dtype=np.float64), np.asarray(x, dtype=np.float64)
    _check_pair(y, x)
    yc, xc = y - y.mean(), x - x.mean()
    sxx, syy = float(xc @ xc), float(yc @ yc)
    if sxx == 0 or syy == 0:
        return 0.0
    return float((xc @ yc) ** 2 / (sxx * syy))


def r_squared_groups(y: Any, groups: Any) -> float:
    """``R^2`` of the one-hot regression of ``y`` on the integer labels ``groups``: the share of
    the variance of ``y`` between group means, ``1 - SS_within / SS_total`` (0 when ``y`` is
    constant).

    >>> r_squared_groups([1.0, 1.0, 3.0, 3.0], [0, 0, 1, 1])
    1.0
    """
    y = np.asarray(y, dtype=np.float64)
    g = np.asarray(groups)
    _check_pair(y, g)
    _, g = np.unique(g, return_inverse=True)
    sst = float(np.sum((y - y.mean()) ** 2))
    if sst == 0:
        return 0.0
    counts = np.bincount(g)
    means = np.bincount(g, weights=y) / counts
    ssw = float(np.sum((y - means[g]) ** 2))
    return float(max(0.0, 1.0 - ssw / sst))


def _check_pair(y: np.ndarray, x: np.ndarray) -> None:
    if y.ndim != 1 or x.shape != y.shape or len(y) < 2:
        raise InvalidParameterError(
            f"expected two 1-d arrays of one length >= 2, got shapes {y.shape} and {x.shape}"
        )
    if not np.all(np.isfinite(y)):
        raise InvalidParameterError("y has a non-finite entry")
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise InvalidParameterError("x has a non-finite entry")


def r_squared_binned(y: Any, x: Any, bins: int) -> float:
    """``R^2`` of ``y`` on ``x`` cut into ``bins`` quantile bins (one-hot of the bin): a regression
    of ``y`` on ``x`` with no shape imposed, with as many groups as ``bins``.

    >>> r_squared_binned([0.0, 0.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0], 2)
    1.0
    """
    x = np.asarray(x, dtype=np.float64)
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise InvalidParameterError(f"bins = {bins!r}, expected a positive integer")
    _check_pair(np.asarray(y, dtype=np.float64), x)
    ranks = np.argsort(np.argsort(x, kind="stable"), kind="stable")
    return r_squared_groups(y, ranks * bins // len(x))


@dataclass(frozen=True)
class Explanation:
    """A point estimate of ``R^2`` with its percentile bootstrap interval ``(low, high)``."""

    r2: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.r2:.3f} [{self.low:.3f}, {self.high:.3f}]"


#: With at least this many problems :func:`compare_explanations` resamples problems, not runs.
MIN_PROBLEMS_TO_RESAMPLE = 5

#: The explanatory variables of :func:`compare_explanations`.
EXPLANATIONS = ("success", "success_binned", "objective", "wro", "setting")


def adjusted_r_squared(r2: float, n: int, p: int) -> float:
    """Adjusted ``R^2 = 1 - (1 - R^2) (n - 1) / (n - p - 1)`` of a least-squares fit with ``p``
    regressors besides the intercept on ``n`` points: removes the share of variance a fit with
    ``p`` free parameters explains by chance, so fits with different ``p`` compare fairly.  May be
    negative; 0 when ``n - p - 1 <= 0`` (no residual degrees of freedom: nothing is learnt).

    >>> round(adjusted_r_squared(0.5, 11, 1), 6)
    0.444444
    """
    if n - p - 1 <= 0:
        return 0.0
    return float(1.0 - (1.0 - r2) * (n - 1) / (n - p - 1))


def _explanation_stats(
    y: np.ndarray,
    s: np.ndarray,
    obj: np.ndarray,
    wro: np.ndarray,
    setting: np.ndarray,
    problem: np.ndarray,
    idx: np.ndarray,
    bins: int,
) -> dict[str, float]:
    """Each ``R^2`` (key ``k``) and adjusted ``R^2`` (key ``k + "_adj"``) on the runs ``idx``,
    computed within each problem and averaged over the problems."""
    out = {k: 0.0 for k in EXPLANATIONS} | {f"{k}_adj": 0.0 for k in EXPLANATIONS}
    problems = np.unique(problem[idx])
    for p in problems:
        i = idx[problem[idx] == p]
        n = len(i)
        if n < 2:
            continue
        nb = min(bins, n)
        ranks = np.argsort(np.argsort(s[i], kind="stable"), kind="stable")
        fits = {
            "success": (r_squared_linear(y[i], s[i]), int(np.ptp(s[i]) > 0)),
            "success_binned": (
                r_squared_binned(y[i], s[i], nb),
                len(np.unique(ranks * nb // n)) - 1,
            ),
            "objective": (r_squared_groups(y[i], obj[i]), len(np.unique(obj[i])) - 1),
            "wro": (r_squared_groups(y[i], wro[i]), len(np.unique(wro[i])) - 1),
            "setting": (r_squared_groups(y[i], setting[i]), len(np.unique(setting[i])) - 1),
        }
        for k, (r2, dof) in fits.items():
            out[k] += r2
            out[f"{k}_adj"] += adjusted_r_squared(r2, n, dof)
    return {k: v / len(problems) for k, v in out.items()}


def compare_explanations(
    records: Sequence[RunRecord],
    rng: np.random.Generator,
    *,
    bootstrap: int = 1000,
    level: float = 0.95,
) -> dict[str, Any]:
    """How much of the variance of the final win rate each candidate explains.

    For each problem separately, ``R^2`` of ``win_rate`` on: optimization ``success`` (least
    squares line, :func:`r_squared_linear`); ``success_binned`` (success cut into as many quantile
    bins as there are objectives, :func:`r_squared_binned`: no linearity assumed, same number of
    groups as the objective); the ``objective`` (one-hot); ``wro`` (WRO versus non-WRO, one-hot);
    the optimization ``setting`` (one-hot); each also adjusted for its number of regressors (key
    ``k + "_adj"``, :func:`adjusted_r_squared`).  Each is averaged over the problems, with a
    percentile bootstrap interval from ``bootstrap`` resamples: of the problems when there are at
    least :data:`MIN_PROBLEMS_TO_RESAMPLE` (the uncertainty of a conclusion about problems in
    general), else of the runs within each problem (``bootstrap_unit`` says which; resampled
    runs repeat, which inflates a many-group one-hot ``R^2``, so its interval can sit above the
    point estimate).  Also the
    interval of ``R^2(success) - R^2(objective)`` and of ``R^2(success) - R^2(wro)``, and the
    share of resamples in which success explains more than the objective.  Runs with a non-finite
    success are dropped (their count is reported).
    """
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 1:
        raise InvalidParameterError(f"bootstrap = {bootstrap!r}, expected an integer >= 1")
    if not 0 < level < 1:
        raise InvalidParameterError(f"level = {level!r}, expected a number in (0, 1)")
    finite = [r for r in records if np.isfinite(r.success)]
    if len(finite) < 3:
        raise InvalidParameterError(f"{len(finite)} runs with a finite success; need at least 3")
    y = np.array([r.win_rate for r in finite])
    s = np.array([r.success for r in finite])
    _, obj = np.unique([r.objective for r in finite], return_inverse=True)
    wro = np.array([int(r.is_wro) for r in finite])
    _, setting = np.unique(
        [f"{r.parameterization}|{r.learning_rate}|{r.steps}|{r.batch_size}" for r in finite],
        return_inverse=True,
    )
    problem = np.array([r.problem for r in finite])
    bins = int(obj.max() + 1)
    n = len(y)
    point = _explanation_stats(y, s, obj, wro, setting, problem, np.arange(n), bins)
    strata = [np.flatnonzero(problem == p) for p in np.unique(problem)]
    boots = {k: np.empty(bootstrap) for k in point}
    if len(strata) >= MIN_PROBLEMS_TO_RESAMPLE:  # resample problems (clusters)
        unit = "problem"
        per = [_explanation_stats(y, s, obj, wro, setting, problem, st, bins) for st in strata]
        table = {k: np.array([d[k] for d in per]) for k in point}
        picks = rng.integers(0, len(strata), size=(bootstrap, len(strata)))
        for k in point:
            boots[k] = table[k][picks].mean(axis=1)
    else:  # resample runs within each problem
        unit = "run"
        for b in range(bootstrap):
            idx = np.concatenate([st[rng.integers(0, len(st), size=len(st))] for st in strata])
            for k, v in _explanation_stats(y, s, obj, wro, setting, problem, idx, bins).items():
                boots[k][b] = v
    qs = [(1 - level) / 2, 1 - (1 - level) / 2]
    out: dict[str, Any] = {}
    for k in point:
        lo, hi = np.quantile(boots[k], qs)
        out[k] = Explanation(point[k], float(lo), float(hi))
    for suffix in ("", "_adj"):
        for other in ("objective", "wro"):
            diff = boots[f"success{suffix}"] - boots[f"{other}{suffix}"]
            lo, hi = np.quantile(diff, qs)
            out[f"success_minus_{other}{suffix}"] = Explanation(
                point[f"success{suffix}"] - point[f"{other}{suffix}"], float(lo), float(hi)
            )
        out[f"p_success_more{suffix}"] = float(
            np.mean(boots[f"success{suffix}"] > boots[f"objective{suffix}"])
        )
    out["runs"] = n
    out["problems"] = len(strata)
    out["dropped"] = len(records) - n
    out["level"] = level
    out["bootstrap"] = bootstrap
    out["bootstrap_unit"] = unit
    return out


def write_runs_csv(records: Sequence[RunRecord], path: Path) -> Path:
    """One row per run with every field of :class:`RunRecord`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        fields = list(RunRecord.__dataclass_fields__)
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for r in records:
            writer.writerow(asdict(r))
    return path


def write_experiment_json(payload: dict[str, Any], path: Path) -> Path:
    """The configuration and summary statistics as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=_json_default) + "\n")
    return path


def _json_default(v: Any) -> Any:
    if isinstance(v, Explanation):
        return asdict(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.integer | np.floating):
        return v.item()
    return str(v)
