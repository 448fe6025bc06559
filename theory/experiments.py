"""The ``opt-success`` experiment: does optimization success or the objective predict win rate?

docs/theory.md, claim 6 (our formalization); docs/opt_success.md.  Two designs live here:

* **the pre-registered design** (the check's): balanced problems (:func:`design_problem`), a
  proxy judge from sampled comparisons (:func:`proxy_judge`, :func:`judged_problem`), the
  primary and secondary populations (:func:`primary_objectives`,
  :func:`secondary_objectives`), one normalized optimization grid (:class:`SuccessDesign`) and
  every run trained as arrays and scored exactly (:func:`run_design_problem`, :class:`DesignRuns`);
  its statistics are in :mod:`theory.statistics`;
* **the first design** (superseded, kept for the record), described next.

On one preference problem (data ``D``, starting model
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
:mod:`theory.lottery` / :mod:`theory.methods.nlhf`; DPO ``J* = -min L`` from
:func:`theory.methods.dpo.dpo_minimizers`; SFT ``J* = -L(p_w)`` at
:func:`theory.methods.sft.sft_target`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
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
    SUCCESS_DENOMINATOR_TOL,
    RunBatch,
    SoftmaxPolicy,
    TrainingObjective,
    TrainingProblem,
    TrainingSettings,
    expected_direction,
    initial_parameters,
    log_linear_policy,
    make_problem,
    objective_value,
    objective_values,
    optimization_success,
    random_features,
    tabular_policy,
    train,
    train_batch,
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
    "PRIMARY_H",
    "PRIMARY_ANCHORS",
    "PRIMARY_BETAS",
    "primary_objectives",
    "secondary_objectives",
    "SuccessDesign",
    "proxy_judge",
    "DesignProblem",
    "design_problem",
    "judged_problem",
    "DesignRuns",
    "run_design_problem",
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
            where = (run_offset + len(records), problem_index, replicate)
            records.append(
                _record(problem, obj, st, settings, result, where, starts[obj.label], optima)
            )
            progress(run_offset + len(records))
        replicate += 1
    return records, optima


def _record(
    problem: TrainingProblem,
    obj: TrainingObjective,
    st: OptSetting,
    settings: TrainingSettings,
    result: Any,
    where: tuple[int, int, int],
    J_start: float,
    optima: dict[str, ObjectiveOptimum],
) -> RunRecord:
    """The exact scores of one finished run (``where`` = run, problem, replicate)."""
    J_final = objective_value(problem, obj, result.pi)
    opt = optima[obj.label]
    return RunRecord(
        run=where[0],
        problem=where[1],
        replicate=where[2],
        objective=obj.label,
        is_wro=obj.is_wro,
        parameterization=st.parameterization,
        learning_rate=st.learning_rate,
        steps=st.steps,
        batch_size=st.batch_size,
        seed=settings.seed,
        samples=result.samples,
        win_rate=float(win_rate(problem.P, result.pi, problem.pi_ref, problem.rho)),
        J_start=J_start,
        J_final=J_final,
        J_opt=opt.value,
        success=optimization_success(J_final, J_start, opt.value),
        optimum_win_rate=opt.win_rate,
    )


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
# the pre-registered design (docs/opt_success.md): a proxy judge, bounded success, one
# normalized optimization grid, balanced problems


#: The primary population's factors: ``h`` x anchor x ``beta`` (18 fixed-anchor WRO objectives).
PRIMARY_H = ("identity", "log", "logit")
PRIMARY_ANCHORS = ("ref", "data")
PRIMARY_BETAS = (0.01, 0.05, 0.2)


def primary_objectives() -> tuple[TrainingObjective, ...]:
    """The 18 fixed-anchor WRO objectives ``h x anchor x beta`` of the primary population.

    >>> len(primary_objectives()), primary_objectives()[0].label
    (18, 'WRO[identity, ref, beta=0.01]')
    """
    return tuple(
        TrainingObjective("wro", h=h, anchor=a, beta=b)  # type: ignore[arg-type]
        for h in PRIMARY_H
        for a in PRIMARY_ANCHORS
        for b in PRIMARY_BETAS
    )


def secondary_objectives() -> tuple[TrainingObjective, ...]:
    """The secondary population: the primary 18, DPO (``beta`` 0.05, 0.2), SFT on preferred
    samples and self-play NLHF (``h = identity``, ``beta = 0.05``): 22 objectives.

    >>> [o.label for o in secondary_objectives()[18:]]
    ['DPO[beta=0.05]', 'DPO[beta=0.2]', 'SFT', 'WRO[identity, self, beta=0.05]']
    """
    return primary_objectives() + (
        TrainingObjective("dpo", beta=0.05),
        TrainingObjective("dpo", beta=0.2),
        TrainingObjective("sft"),
        TrainingObjective("wro", h="identity", anchor="self", beta=0.05),
    )


@dataclass(frozen=True)
class SuccessDesign:
    """The knobs of the pre-registered design (docs/opt_success.md).

    ``n_judge`` comparisons per prompt build the proxy judge; the optimization grid is
    ``step_scales`` (``c`` in ``lr = c / |grad J(pi_ref)|``) x ``steps`` x ``batch_sizes`` x
    ``policies`` (64 cells); problem ``p`` has ``M`` prompts, ``Ks[p mod 3]`` responses and the
    family ``families[floor(p / len(Ks)) mod 2]``.  ``trajectory_steps`` are the step counts at
    which every run's model is recorded (they include ``steps``).
    """

    n_judge: int = 300
    step_scales: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0)
    steps: tuple[int, ...] = (10, 30, 100, 300)
    batch_sizes: tuple[int, ...] = (4, 32)
    policies: tuple[str, ...] = ("tabular", "log-linear")
    M: int = 3
    Ks: tuple[int, ...] = (4, 6, 10)
    families: tuple[str, ...] = ("bradley_terry", "general")
    trajectory_steps: tuple[int, ...] = (0, 3, 10, 20, 30, 50, 100, 200, 300)

    def __post_init__(self) -> None:
        if not set(self.steps) <= set(self.trajectory_steps):
            raise InvalidParameterError("trajectory_steps must include every grid step count")

    def cells(self) -> list[tuple[float, int, int, str]]:
        """The optimization cells ``(c, steps, batch, policy)`` in a fixed order."""
        return [
            (c, T, B, pol)
            for pol in self.policies
            for c in self.step_scales
            for B in self.batch_sizes
            for T in self.steps
        ]

    def shape(self, p: int) -> tuple[int, str]:
        """``(K, family)`` of problem ``p`` (the balanced grid)."""
        return self.Ks[p % len(self.Ks)], self.families[(p // len(self.Ks)) % len(self.families)]


def proxy_judge(rng: np.random.Generator, P: Any, mu: Any, n: int) -> np.ndarray:
    """A smoothed empirical preference matrix from ``n`` sampled comparisons per prompt.

    Per prompt ``x``: ``y0, y1 ~ mu_x`` independently and ``y1`` is preferred with probability
    ``P_x[y1, y0]``.  With ``C[i, j]`` the comparisons of the pair ``{i, j}`` (``i != j``;
    self-pairs are ignored) and ``W[i, j]`` those won by ``i``,
    ``P_hat[i, j] = (W[i, j] + 1) / (C[i, j] + 2)`` and ``P_hat[i, i] = 1/2``: a preference
    matrix (``P_hat + P_hat^T = 1``) with entries strictly inside (0, 1).  Shapes ``P``
    ``(M, K, K)``, ``mu`` ``(M, K)``; returns ``(M, K, K)``.

    >>> P = np.array([[[0.5, 1.0], [0.0, 0.5]]])
    >>> proxy_judge(np.random.default_rng(0), P, np.array([[0.5, 0.5]]), 0).tolist()
    [[[0.5, 0.5], [0.5, 0.5]]]
    """
    P = np.asarray(P, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise InvalidParameterError(f"n = {n!r}, expected an integer >= 0")
    M, K, _ = P.shape
    out = np.empty_like(P)
    for x in range(M):
        y0 = rng.choice(K, size=n, p=mu[x])
        y1 = rng.choice(K, size=n, p=mu[x])
        one_wins = rng.random(n) < P[x, y1, y0]
        winner, loser = np.where(one_wins, y1, y0), np.where(one_wins, y0, y1)
        keep = winner != loser
        W = np.bincount(winner[keep] * K + loser[keep], minlength=K * K).reshape(K, K)
        C = W + W.T
        out[x] = (W + 1.0) / (C + 2.0)
    return out


@dataclass(frozen=True)
class DesignProblem:
    """One problem of the design: the true ``P`` ``(M, K, K)``, the data model ``mu`` and the
    start ``pi_ref`` (``(M, K)``), log-linear ``features`` ``(M, K, d)``, its ``index``,
    ``K`` and ``family``; prompts weigh ``1/M`` each."""

    index: int
    K: int
    family: str
    P: np.ndarray
    mu: np.ndarray
    pi_ref: np.ndarray
    features: np.ndarray

    @property
    def rho(self) -> np.ndarray:
        return np.full(self.P.shape[0], 1.0 / self.P.shape[0])


def design_problem(rng: np.random.Generator, index: int, design: SuccessDesign) -> DesignProblem:
    """Problem ``index`` of the balanced grid (:meth:`SuccessDesign.shape`), drawn from ``rng``:
    ``P`` per prompt from the family, ``mu`` and ``pi_ref`` Dirichlet(1), features standard
    normal with ``d = floor(K / 2)``."""
    K, family = design.shape(index)
    P = np.stack([random_family_matrix(rng, K, family) for _ in range(design.M)])
    mu = random_model(rng, design.M, K)
    pi_ref = random_model(rng, design.M, K)
    features = random_features(rng, design.M, K, K // 2)
    return DesignProblem(index, K, family, P, mu, pi_ref, features)


def judged_problem(problem: DesignProblem, P_judge: Any) -> TrainingProblem:
    """The training problem every method learns from: the data distribution
    ``D_hat = (rho, mu, mu, P_judge)`` and the start ``pi_ref`` (:func:`make_problem`)."""
    return make_problem(PreferenceData(P=P_judge, mu0=problem.mu), problem.pi_ref)


@dataclass(frozen=True)
class DesignRuns:
    """The runs of one problem and one judge, one entry per run in each column.

    ``objective`` indexes the objectives trained, ``cell`` the design's cells; ``J_*`` are
    under the training judge; ``success`` is raw, ``success_plus`` clipped to [0, 1];
    ``win_rate`` is ``WR(pi_T; pi_ref)`` and ``optimum_win_rate`` the win rate of the
    objective's exact optimum, both under the true ``P``.  ``trajectory_J`` and
    ``trajectory_win_rate`` (``(S, R)``) follow each trajectory ``r`` (objective
    ``trajectory_objective[r]``, cell without steps ``trajectory_cell[r]``) at the design's
    ``trajectory_steps``.
    """

    objective: np.ndarray
    cell: np.ndarray
    learning_rate: np.ndarray
    J_start: np.ndarray
    J_final: np.ndarray
    J_opt: np.ndarray
    success: np.ndarray
    success_plus: np.ndarray
    win_rate: np.ndarray
    optimum_win_rate: np.ndarray
    trajectory_objective: np.ndarray
    trajectory_cell: np.ndarray
    trajectory_J: np.ndarray
    trajectory_win_rate: np.ndarray
    max_optimum_residual: float


def _success_columns(J0: np.ndarray, JT: np.ndarray, Jopt: np.ndarray) -> np.ndarray:
    """:func:`theory.training.optimization_success` on arrays."""
    gap = Jopt - J0
    tol = SUCCESS_DENOMINATOR_TOL
    degenerate = gap <= tol
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (JT - J0) / np.where(degenerate, 1.0, gap)
    return np.where(degenerate, (JT >= Jopt - tol).astype(np.float64), s)


def _learning_rate(
    tp: TrainingProblem, obj: TrainingObjective, policy: SoftmaxPolicy, c: float
) -> float:
    """``c / |grad J(pi_ref)|`` (``c`` when the gradient vanishes)."""
    g = expected_direction(tp, obj, policy, initial_parameters(policy))
    norm = float(np.sqrt(np.sum(g * g)))
    return c / norm if norm > SUCCESS_DENOMINATOR_TOL else c


def run_design_problem(
    problem: DesignProblem,
    P_judge: Any,
    objectives: tuple[TrainingObjective, ...],
    design: SuccessDesign,
    rng: np.random.Generator,
) -> DesignRuns:
    """Train every objective in every cell of ``design`` on ``problem`` against the judge
    ``P_judge`` (the proxy, or the true ``P`` for a sensitivity run) and score the runs exactly.

    Every (objective, ``c``, batch, policy) is one trajectory of ``max(steps)`` SGD steps
    (:func:`theory.training.train_batch`); the grid's step counts are its snapshots.
    """
    tp = judged_problem(problem, P_judge)
    optima = [objective_optimum(tp, o) for o in objectives]
    wr_vec = np.einsum("xij,xj->xi", problem.P, problem.pi_ref)  # WR(.; pi_ref) = rho . (pi wr_vec)
    policies = {
        "tabular": tabular_policy(problem.pi_ref),
        "log-linear": log_linear_policy(problem.pi_ref, problem.features),
    }
    traj = [
        (o, c, B, pol)
        for pol in design.policies
        for o in range(len(objectives))
        for c in design.step_scales
        for B in design.batch_sizes
    ]
    S = len(design.trajectory_steps)
    J = np.empty((S, len(traj)))
    WR = np.empty((S, len(traj)))
    lrs = np.empty(len(traj))
    for pol in design.policies:  # only the design's policies (and in its order)
        policy = policies[pol]
        idx = [i for i, t in enumerate(traj) if t[3] == pol]
        lr = np.array([_learning_rate(tp, objectives[traj[i][0]], policy, traj[i][1]) for i in idx])
        lrs[idx] = lr
        batch = RunBatch(
            tuple(objectives[traj[i][0]] for i in idx), lr, np.array([traj[i][2] for i in idx])
        )
        snaps = train_batch(tp, policy, batch, rng, design.trajectory_steps)
        WR[:, idx] = np.einsum("srxi,xi,x->sr", snaps, wr_vec, problem.rho)
        for o, obj in enumerate(objectives):
            cols = [k for k, i in enumerate(idx) if traj[i][0] == o]
            vals = objective_values(
                tp, obj, snaps[:, cols].reshape(-1, problem.P.shape[0], problem.K)
            )
            J[:, [idx[k] for k in cols]] = vals.reshape(S, len(cols))
    return _design_runs(problem, objectives, design, optima, traj, J, WR, lrs)


def _design_runs(
    problem: DesignProblem,
    objectives: tuple[TrainingObjective, ...],
    design: SuccessDesign,
    optima: list[ObjectiveOptimum],
    traj: list[tuple[int, float, int, str]],
    J: np.ndarray,
    WR: np.ndarray,
    lrs: np.ndarray,
) -> DesignRuns:
    """The run columns: one run per (trajectory, grid step count)."""
    cells = {cell: k for k, cell in enumerate(design.cells())}
    rows = [
        (r, design.trajectory_steps.index(T), cells[(c, T, B, pol)])
        for r, (_, c, B, pol) in enumerate(traj)
        for T in design.steps
    ]
    r_idx = np.array([r for r, _, _ in rows])
    s_idx = np.array([s for _, s, _ in rows])
    obj = np.array([traj[r][0] for r in r_idx])
    J_opt = np.array([optima[o].value for o in obj])
    J0, JT = J[0, r_idx], J[s_idx, r_idx]
    s = _success_columns(J0, JT, J_opt)
    wr_opt = np.array(
        [float(win_rate(problem.P, o.pi, problem.pi_ref, problem.rho)) for o in optima]
    )
    return DesignRuns(
        objective=obj,
        cell=np.array([c for _, _, c in rows]),
        learning_rate=lrs[r_idx],
        J_start=J0,
        J_final=JT,
        J_opt=J_opt,
        success=s,
        success_plus=np.clip(s, 0.0, 1.0),
        win_rate=WR[s_idx, r_idx],
        optimum_win_rate=wr_opt[obj],
        trajectory_objective=np.array([t[0] for t in traj]),
        trajectory_cell=np.array([cells[(c, design.steps[-1], B, pol)] for _, c, B, pol in traj]),
        trajectory_J=J,
        trajectory_win_rate=WR,
        max_optimum_residual=max(o.residual for o in optima),
    )
