"""Statistics of the ``opt-success`` experiment: how much of the final win rate a variable explains.

docs/opt_success.md; claim ``opt-success`` of docs/theory.md (claim 6).  Pure functions over plain
arrays (and, for :func:`compare_explanations`, run records read by attribute); nothing here trains,
samples a problem or writes a file.

* ``R^2`` in sample: :func:`r_squared_linear` (a least-squares line), :func:`r_squared_groups`
  (a one-hot regression), :func:`r_squared_binned` (a variable cut into quantile bins),
  :func:`adjusted_r_squared`;
* the first design's comparison with a bootstrap interval: :func:`compare_explanations`;
* the pre-registered design: bins of bounded success (:func:`success_bins`), out-of-sample
  ``R^2`` with folds grouped by cell (:func:`cell_folds`, :func:`oos_r_squared`), rank
  statistics (:func:`spearman_squared`, :func:`kruskal_epsilon_squared`), a Shapley split
  (:func:`shapley_r_squared`), all per problem (:func:`problem_statistics`), then a mean over
  problems with a bootstrap interval (:func:`bootstrap_mean`) and the three-valued rule
  (:func:`decide`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InvalidParameterError

__all__ = [
    "r_squared_linear",
    "r_squared_groups",
    "r_squared_binned",
    "adjusted_r_squared",
    "EXPLANATIONS",
    "MIN_PROBLEMS_TO_RESAMPLE",
    "Explanation",
    "compare_explanations",
    "DECISIONS",
    "MIN_PROBLEMS_FOR_INTERVAL",
    "success_bins",
    "cell_folds",
    "oos_r_squared",
    "spearman_squared",
    "kruskal_epsilon_squared",
    "shapley_r_squared",
    "Interval",
    "bootstrap_mean",
    "decide",
    "ProblemStatistics",
    "problem_statistics",
]


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
    records: Sequence[Any],
    rng: np.random.Generator,
    *,
    bootstrap: int = 1000,
    level: float = 0.95,
) -> dict[str, Any]:
    """How much of the variance of the final win rate each candidate explains.

    ``records`` are run records with the fields ``win_rate``, ``success``, ``objective``,
    ``is_wro``, ``parameterization``, ``learning_rate``, ``steps``, ``batch_size`` and
    ``problem`` (e.g. :class:`theory.experiments.RunRecord`).

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
    arrays = _explanation_arrays(finite)
    y, s, obj, wro, setting, problem, bins = arrays
    n = len(y)
    point = _explanation_stats(y, s, obj, wro, setting, problem, np.arange(n), bins)
    boots, unit = _bootstrap_explanations(arrays, point, rng, bootstrap)
    out = _summarize_explanations(point, boots, level)
    out["runs"] = n
    out["problems"] = len(np.unique(problem))
    out["dropped"] = len(records) - n
    out["level"] = level
    out["bootstrap"] = bootstrap
    out["bootstrap_unit"] = unit
    return out


_Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]


def _explanation_arrays(finite: Sequence[Any]) -> _Arrays:
    """``(y, s, obj, wro, setting, problem, bins)``: the columns :func:`_explanation_stats`
    reads, with integer codes for the objective and the setting; ``bins`` the number of
    objectives."""
    y = np.array([r.win_rate for r in finite])
    s = np.array([r.success for r in finite])
    _, obj = np.unique([r.objective for r in finite], return_inverse=True)
    wro = np.array([int(r.is_wro) for r in finite])
    _, setting = np.unique(
        [f"{r.parameterization}|{r.learning_rate}|{r.steps}|{r.batch_size}" for r in finite],
        return_inverse=True,
    )
    problem = np.array([r.problem for r in finite])
    return y, s, obj, wro, setting, problem, int(obj.max() + 1)


def _bootstrap_explanations(
    arrays: _Arrays, point: dict[str, float], rng: np.random.Generator, bootstrap: int
) -> tuple[dict[str, np.ndarray], str]:
    """The bootstrap draws of every statistic and the resampled unit (``"problem"`` or
    ``"run"``; see :func:`compare_explanations`)."""
    y, s, obj, wro, setting, problem, bins = arrays
    cols = (y, s, obj, wro, setting, problem)
    strata = [np.flatnonzero(problem == p) for p in np.unique(problem)]
    boots = {k: np.empty(bootstrap) for k in point}
    if len(strata) >= MIN_PROBLEMS_TO_RESAMPLE:  # resample problems (clusters)
        per = [_explanation_stats(*cols, st, bins) for st in strata]
        table = {k: np.array([d[k] for d in per]) for k in point}
        picks = rng.integers(0, len(strata), size=(bootstrap, len(strata)))
        for k in point:
            boots[k] = table[k][picks].mean(axis=1)
        return boots, "problem"
    for b in range(bootstrap):  # resample runs within each problem
        idx = np.concatenate([st[rng.integers(0, len(st), size=len(st))] for st in strata])
        for k, v in _explanation_stats(*cols, idx, bins).items():
            boots[k][b] = v
    return boots, "run"


def _summarize_explanations(
    point: dict[str, float], boots: dict[str, np.ndarray], level: float
) -> dict[str, Any]:
    """Each statistic with its percentile interval, the differences success minus objective /
    WRO, and the share of resamples where success explains more than the objective."""
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
    return out


# ---------------------------------------------------------------------------------------------
# the pre-registered design (docs/opt_success.md): out-of-sample R^2 within problem, intervals
# over problems, a three-valued decision

#: The decision of the three-valued rule.
DECISIONS = ("holds", "fails", "inconclusive")
#: Fewer problems than this: no interval (the rule says inconclusive).
MIN_PROBLEMS_FOR_INTERVAL = 3


def success_bins(s_plus: Any, bins: int) -> np.ndarray:
    """The bin of each run's bounded success ``s+`` in ``[0, 1]``: the runs at exactly 0 form
    one bin, those at exactly 1 another, and the rest are cut by rank (stable) into equal-count
    bins so that the non-empty bins number ``bins`` in all (at least one for the rest).

    >>> success_bins([0.0, 0.2, 0.5, 0.7, 1.0, 0.0], 4).tolist()
    [0, 2, 2, 3, 1, 0]
    """
    s = np.asarray(s_plus, dtype=np.float64)
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise InvalidParameterError(f"bins = {bins!r}, expected a positive integer")
    zero, one = s == 0.0, s == 1.0
    rest = np.flatnonzero(~zero & ~one)
    k = max(1, bins - int(zero.any()) - int(one.any()))
    out = np.where(zero, 0, 1).astype(np.int64)
    if len(rest):
        ranks = np.argsort(np.argsort(s[rest], kind="stable"), kind="stable")
        out[rest] = 2 + ranks * k // len(rest)
    return out


def cell_folds(cells: int, rng: np.random.Generator, folds: int = 5) -> np.ndarray:
    """The fold of each of ``cells`` cells: a random permutation, position mod ``folds``.

    >>> np.bincount(cell_folds(64, np.random.default_rng(0))).tolist()
    [13, 13, 13, 13, 12]
    """
    out = np.empty(cells, dtype=np.int64)
    out[rng.permutation(cells)] = np.arange(cells) % folds
    return out


def oos_r_squared(y: Any, groups: Any, fold: Any) -> float:
    """Out-of-sample ``R^2`` of ``y`` from a one-hot variable by cross-validation.

    Each fold ``f`` is predicted by the group means of the other folds (a group absent from
    them by their overall mean); ``R^2_oos = 1 - sum (y - y_hat)^2 / sum (y - mean(y))^2`` over
    all points (0 when ``y`` is constant; negative when the predictions are worse than the mean).

    >>> oos_r_squared([1.0, 1.0, 3.0, 3.0], [0, 0, 1, 1], [0, 1, 0, 1])
    1.0
    """
    y = np.asarray(y, dtype=np.float64)
    g = np.unique(np.asarray(groups), return_inverse=True)[1]
    f = np.asarray(fold)
    _check_pair(y, g)
    sst = float(np.sum((y - y.mean()) ** 2))
    if sst == 0:
        return 0.0
    pred = np.empty_like(y)
    G = int(g.max()) + 1
    for k in np.unique(f):
        test, train = f == k, f != k
        if not train.any():
            pred[test] = y.mean()
            continue
        n = np.bincount(g[train], minlength=G)
        sums = np.bincount(g[train], weights=y[train], minlength=G)
        means = np.where(n > 0, sums / np.maximum(n, 1), y[train].mean())
        pred[test] = means[g[test]]
    return float(1.0 - np.sum((y - pred) ** 2) / sst)


def spearman_squared(x: Any, y: Any) -> float:
    """The squared Spearman rank correlation (0 when either variable is constant).

    >>> spearman_squared([1.0, 2.0, 3.0], [1.0, 4.0, 9.0])
    1.0
    """
    from scipy.stats import rankdata

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    _check_pair(y, x)
    return r_squared_linear(rankdata(y), rankdata(x))


def kruskal_epsilon_squared(y: Any, groups: Any) -> float:
    """The Kruskal-Wallis ``epsilon^2 = H / (n - 1)`` of ``y`` by ``groups``: the rank analogue
    of a one-hot ``R^2`` (0 with a single group or constant ``y``).

    >>> round(kruskal_epsilon_squared([1.0, 2.0, 3.0, 4.0], [0, 0, 1, 1]), 6)
    0.8
    """
    from scipy.stats import kruskal

    y = np.asarray(y, dtype=np.float64)
    g = np.asarray(groups)
    _check_pair(y, g)
    samples = [y[g == k] for k in np.unique(g)]
    if len(samples) < 2 or np.ptp(y) == 0:
        return 0.0
    return float(kruskal(*samples).statistic / (len(y) - 1))


def _one_hot_r_squared(y: np.ndarray, *groups: np.ndarray) -> float:
    """In-sample ``R^2`` of least squares on the one-hots of ``groups`` (with an intercept)."""
    cols = [np.ones((len(y), 1))]
    for g in groups:
        codes = np.unique(g, return_inverse=True)[1]
        cols.append(np.eye(int(codes.max()) + 1)[codes][:, 1:])
    X = np.hstack(cols)
    coef, *_ = np.linalg.lstsq(X.T @ X, X.T @ y, rcond=None)  # normal equations: p x p
    sst = float(np.sum((y - y.mean()) ** 2))
    return 0.0 if sst == 0 else float(1.0 - np.sum((y - X @ coef) ** 2) / sst)


def shapley_r_squared(y: Any, a: Any, b: Any) -> tuple[float, float, float]:
    """The Shapley split ``(phi_a, phi_b, R^2_ab)`` of the in-sample joint ``R^2`` of ``y`` on
    the one-hots of ``a`` and ``b``: ``phi_a = (R^2_a + R^2_ab - R^2_b) / 2`` and likewise
    ``phi_b``, so that ``phi_a + phi_b = R^2_ab``.

    >>> [round(v, 6) for v in shapley_r_squared([0.0, 1.0, 0.0, 1.0], [0, 1, 0, 1], [0, 0, 1, 1])]
    [1.0, 0.0, 1.0]
    """
    y = np.asarray(y, dtype=np.float64)
    a, b = np.asarray(a), np.asarray(b)
    ra, rb, rab = _one_hot_r_squared(y, a), _one_hot_r_squared(y, b), _one_hot_r_squared(y, a, b)
    return (ra + rab - rb) / 2, (rb + rab - ra) / 2, rab


@dataclass(frozen=True)
class Interval:
    """A mean over problems ``estimate`` with its bootstrap interval ``(low, high)``
    (``nan`` when there were too few problems for one) and the number of ``problems``."""

    estimate: float
    low: float
    high: float
    problems: int

    def __str__(self) -> str:
        if np.isnan(self.low):
            return f"{self.estimate:+.3f} [no interval: {self.problems} problem(s)]"
        return f"{self.estimate:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"


def bootstrap_mean(
    values: Any, rng: np.random.Generator, *, level: float = 0.95, resamples: int = 9999
) -> Interval:
    """The mean of per-problem ``values`` with a BCa bootstrap interval over problems
    (:func:`scipy.stats.bootstrap`, drawing from ``rng``); the percentile interval when BCa is
    undefined; no interval with fewer than :data:`MIN_PROBLEMS_FOR_INTERVAL` values; a point
    interval when every value is equal.

    >>> bootstrap_mean([0.5, 0.5, 0.5], np.random.default_rng(0))
    Interval(estimate=0.5, low=0.5, high=0.5, problems=3)
    """
    from scipy.stats import bootstrap

    v = np.asarray(values, dtype=np.float64)
    est = float(v.mean()) if len(v) else float("nan")
    if len(v) < MIN_PROBLEMS_FOR_INTERVAL:
        return Interval(est, float("nan"), float("nan"), len(v))
    if np.ptp(v) == 0:
        return Interval(est, est, est, len(v))
    for method in ("BCa", "percentile"):
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ci = bootstrap(
                    (v,),
                    np.mean,
                    n_resamples=resamples,
                    confidence_level=level,
                    method=method,
                    random_state=rng,
                ).confidence_interval
        if np.isfinite(ci.low) and np.isfinite(ci.high):
            return Interval(est, float(ci.low), float(ci.high), len(v))
    return Interval(est, float("nan"), float("nan"), len(v))


def decide(interval: Interval) -> str:
    """The three-valued rule: ``"holds"`` if the interval lies above 0, ``"fails"`` if below,
    ``"inconclusive"`` otherwise (also when there is no interval).

    >>> decide(Interval(0.1, 0.02, 0.2, 12)), decide(Interval(0.1, -0.02, 0.2, 12))
    ('holds', 'inconclusive')
    """
    if interval.low > 0:
        return "holds"
    if interval.high < 0:
        return "fails"
    return "inconclusive"


@dataclass(frozen=True)
class ProblemStatistics:
    """The statistics of one problem and population (docs/opt_success.md): out-of-sample
    ``R^2`` from the bins of ``s+`` and from the objective and their difference ``delta`` (the
    primary statistic's summand); Spearman^2 and the Kruskal-Wallis epsilon^2; the Shapley split
    of the joint in-sample ``R^2``; ``Var(WR_opt)`` and ``Var(WR_opt - WR_T)``."""

    r2_success: float
    r2_objective: float
    delta: float
    spearman2: float
    epsilon2: float
    shapley_success: float
    shapley_objective: float
    r2_joint: float
    var_optimum: float
    var_shortfall: float


def problem_statistics(
    win_rate: Any,
    success_plus: Any,
    objective: Any,
    fold: Any,
    optimum_win_rate: Any,
) -> ProblemStatistics:
    """:class:`ProblemStatistics` of one problem's runs (one entry per run in each argument;
    ``fold`` from :func:`cell_folds` by the run's cell); ``s+`` is cut into as many bins as
    there are objectives (:func:`success_bins`)."""
    y = np.asarray(win_rate, dtype=np.float64)
    s = np.asarray(success_plus, dtype=np.float64)
    obj = np.asarray(objective)
    wr_opt = np.asarray(optimum_win_rate, dtype=np.float64)
    bins = success_bins(s, len(np.unique(obj)))
    r2_s, r2_o = oos_r_squared(y, bins, fold), oos_r_squared(y, obj, fold)
    phi_s, phi_o, joint = shapley_r_squared(y, bins, obj)
    return ProblemStatistics(
        r2_success=r2_s,
        r2_objective=r2_o,
        delta=r2_s - r2_o,
        spearman2=spearman_squared(s, y),
        epsilon2=kruskal_epsilon_squared(y, obj),
        shapley_success=phi_s,
        shapley_objective=phi_o,
        r2_joint=joint,
        var_optimum=float(np.var(wr_opt)),
        var_shortfall=float(np.var(wr_opt - y)),
    )
