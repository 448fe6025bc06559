"""Evaluations as values: the h-win rates and a catalog of evaluations that are not win rates.

An *evaluation* ``V`` maps a preference data distribution ``D = (rho, mu0, mu1, P)``
(:class:`~theory.data.PreferenceData`) and a model ``pi`` (``(M, K)``) to a number, oriented so
that **higher is better** (a loss ``L`` enters the catalog as ``-L``).  The uniqueness theorem of
THEORY.md says that ``V`` respects both the preferences and the prevalences of ``D`` (the axioms of
:mod:`theory.axioms`) iff ``V(D, pi) = WR_h(pi; a)`` with ``a = (mu0 + mu1) / 2`` the data anchor
(:func:`~theory.data.data_anchor`) and ``h`` strictly increasing:

    WR_h(pi; a) = sum_x rho_x sum_{y, y'} pi_x(y) a_x(y') h(P_x[y, y']).

:func:`h_win_rate_evaluation` builds that evaluation for any ``h``; :data:`CATALOG` holds
evaluations people use or propose that are *not* h-win rates (claim ``U-catalog`` shows each one
violating a named elementary property).  The catalog's choices are fixed here, once: ``pi_ref``
is uniform and ``beta = 1`` (:data:`CATALOG_BETA`), the fixed anchor is the point mass on
response 0, and the "h outside" member uses ``h = logit``.

Symbols: ``w[x, i, j] = Pr(x, y_w = i, y_l = j)`` the winner-loser distribution
(:func:`~theory.data.winner_loser_distribution`), ``p_w[x, i] = sum_j w[x, i, j] / rho_x`` the
distribution of the chosen response (the SFT target), ``d = log pi - log pi_ref`` the DPO implicit
reward (times ``beta``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .bradley_terry import comparison_graph, fit_bradley_terry
from .data import PreferenceData, data_anchor, winner_loser_distribution
from .errors import (
    InvalidParameterError,
    ShapeMismatchError,
    UndefinedEvaluationError,
    UndefinedWinRateError,
)
from .hfuncs import HFunction, apply_h, as_h
from .numbers import Number, common_kind, is_exact, scalar, to_float
from .simplex import validate_model
from .winrate import h_win_rate

__all__ = [
    "CATALOG_BETA",
    "Evaluation",
    "h_win_rate_evaluation",
    "WIN_RATE",
    "CATALOG",
    "catalog",
    "random_increasing_h",
    "piecewise_linear_h",
    "step_h",
    "evaluate",
]

#: The DPO temperature the catalog uses (its implicit reward is ``beta * log(pi / pi_ref)``).
CATALOG_BETA = 1.0


@dataclass(frozen=True)
class Evaluation:
    """An evaluation ``V(D, pi) -> Number`` (higher is better) with its name and provenance.

    ``name`` identifies it in reports, ``source`` is one line saying where it comes from, ``fn``
    receives a :class:`~theory.data.PreferenceData` and a validated ``(M, K)`` model of the same
    kind (exact or float) and returns a Fraction or a float (``+-inf`` allowed, never NaN);
    ``win_rate_h`` is the ``h`` when the evaluation is an h-win rate by construction (None for the
    catalog).  Calling it validates ``pi`` against ``D``.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)
    >>> WIN_RATE(D, [1, 0])
    Fraction(3, 4)
    """

    name: str
    source: str
    fn: Callable[[PreferenceData, np.ndarray], Number]
    win_rate_h: HFunction | None = None

    def __call__(self, data: PreferenceData, pi: Any) -> Number:
        return evaluate(self, data, pi)


def evaluate(evaluation: Evaluation, data: PreferenceData, pi: Any) -> Number:
    """``V(D, pi)``: validate ``pi`` as an ``(M, K)`` model of ``data`` and apply ``evaluation``.

    Raises :class:`~theory.errors.ShapeMismatchError` when ``pi`` does not fit ``data`` and
    :class:`~theory.errors.InvalidParameterError` when ``data`` is not a PreferenceData.
    """
    if not isinstance(data, PreferenceData):
        raise InvalidParameterError(
            f"data is a {type(data).__name__}, expected a PreferenceData (theory.data)"
        )
    pi_arr = validate_model(pi, name="pi", K=data.K)
    if pi_arr.shape[0] != data.M:
        raise ShapeMismatchError(f"pi has {pi_arr.shape[0]} prompts but the data has {data.M}")
    if data.exact and not is_exact(pi_arr):
        data = PreferenceData(*(to_float(a) for a in (data.P, data.mu0, data.mu1, data.rho)))
    elif not data.exact and is_exact(pi_arr):
        pi_arr = to_float(pi_arr)
    value = evaluation.fn(data, pi_arr)
    if isinstance(value, float) and math.isnan(value):  # pragma: no cover - defensive
        raise UndefinedEvaluationError(f"{evaluation.name} returned NaN")
    return value


# --------------------------------------------------------------------------------------------
# h-win rates


def h_win_rate_evaluation(h: Any = "identity", *, name: str | None = None) -> Evaluation:
    """The evaluation ``V(D, pi) = WR_h(pi; (mu0 + mu1) / 2)`` under ``rho`` for a strictly
    increasing ``h`` (a registry name, an HFunction or a callable).

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[0, 1])
    >>> h_win_rate_evaluation("logit")(D, [1, 0])
    inf
    """
    hf = as_h(h)

    def fn(data: PreferenceData, pi: np.ndarray) -> Number:
        return _wr_h(data, pi, hf)

    return Evaluation(
        name=name or f"WR_{hf.name}",
        source=f"the h-win rate against the data anchor (mu0 + mu1)/2, h = {hf.name}",
        fn=fn,
        win_rate_h=hf,
    )


def _h_values(hf: HFunction, P: np.ndarray) -> np.ndarray:
    """``h(P)`` elementwise for an already-probed ``hf`` (exact when both allow it)."""
    if is_exact(P) and hf.rational:
        return np.array([hf.fn(v) for v in P.ravel()], dtype=object).reshape(P.shape)
    Pf = to_float(P)
    with np.errstate(all="ignore"):
        out = np.asarray(hf.fn(Pf), dtype=float)
    if out.shape != Pf.shape or np.any(np.isnan(out)):
        return np.asarray(apply_h(hf, Pf), dtype=float)  # the slow, checked path
    return out


def _wr_h(data: PreferenceData, pi: np.ndarray, hf: HFunction) -> Number:
    """``WR_h(pi; a)`` on validated inputs; the same value as :func:`theory.winrate.h_win_rate`
    (tests/test_evaluations.py compares them) without re-validating or re-probing ``h``."""
    a = data_anchor(data)
    H = _h_values(hf, data.P)
    if is_exact(H) and data.exact:
        total = sum((data.rho[x] * (pi[x] @ H[x] @ a[x]) for x in range(data.M)), Fraction(0))
        return scalar(total, True)
    weights = to_float(data.rho)[:, None, None] * to_float(pi)[:, :, None] * to_float(a)[:, None, :]
    mask = weights > 0
    values = H[mask]
    pos, neg = bool(np.any(values == np.inf)), bool(np.any(values == -np.inf))
    if pos and neg:
        raise UndefinedWinRateError(
            f"WR_h with h = {hf.name!r} puts positive mass on both h = +inf and h = -inf"
        )
    if pos or neg:
        return math.inf if pos else -math.inf
    return float(np.dot(weights[mask], values))


#: The ordinary win rate against the data, ``WR(pi; (mu0 + mu1) / 2)``.
WIN_RATE = h_win_rate_evaluation("identity", name="win rate")


def piecewise_linear_h(knots: Any, values: Any, *, name: str = "piecewise linear") -> HFunction:
    """The piecewise-linear ``h`` through ``(knots[k], values[k])``; knots run from 0 to 1.

    Rational (exact on Fractions) when knots and values are Fractions; strictly increasing when
    ``values`` is.  Raises :class:`~theory.errors.InvalidParameterError` for knots that do not run
    strictly from 0 to 1 or values that do not strictly increase.

    >>> h = piecewise_linear_h([0, Fraction(1, 2), 1], [0, Fraction(1, 4), 1])
    >>> h.fn(Fraction(3, 4))
    Fraction(5, 8)
    """
    kn = [Fraction(v) for v in knots]
    va = [Fraction(v) for v in values]
    if len(kn) != len(va) or len(kn) < 2 or kn[0] != 0 or kn[-1] != 1:
        raise InvalidParameterError(f"knots {kn} must run from 0 to 1 and match the values")
    if any(b <= a for a, b in zip(kn, kn[1:], strict=False)) or any(
        b <= a for a, b in zip(va, va[1:], strict=False)
    ):
        raise InvalidParameterError("knots and values must both strictly increase")
    kf = np.array([float(v) for v in kn])
    vf = np.array([float(v) for v in va])

    def fn(p: Any) -> Any:
        if isinstance(p, Fraction):
            for k in range(len(kn) - 1):
                if p <= kn[k + 1]:
                    return va[k] + (va[k + 1] - va[k]) * (p - kn[k]) / (kn[k + 1] - kn[k])
            return va[-1]
        return np.interp(np.asarray(p, dtype=float), kf, vf)

    return HFunction(name, fn, rational=True)


def step_h(p: Any) -> Any:
    """The majority step ``1{p > 1/2} + 1/2 * 1{p = 1/2}``: non-decreasing, **not** strictly
    increasing (so not a valid h; the catalog's "majority win rate" uses it).

    >>> step_h(Fraction(2, 3)), step_h(Fraction(1, 2))
    (Fraction(1, 1), Fraction(1, 2))
    """
    if isinstance(p, Fraction):
        return Fraction(1) if p > Fraction(1, 2) else Fraction(1, 2) if p == Fraction(1, 2) else 0
    arr = np.asarray(p, dtype=float)
    return np.where(arr > 0.5, 1.0, np.where(arr == 0.5, 0.5, 0.0))


def random_increasing_h(rng: np.random.Generator, kind: str | None = None) -> HFunction:
    """A random strictly increasing ``h`` (for U-forward and U-converse).

    Kinds: ``"piecewise"`` (rational piecewise-linear through 2..5 random rational knots, exact),
    ``"smooth"`` (a positive mix of ``p``, ``p**3``, ``sqrt(p)`` and sigmoid bumps, bounded, float),
    ``"unbounded"`` (a positive mix of ``p``, ``logit`` and ``log``: infinite at an end, float).
    ``kind=None`` picks one at random.
    """
    kinds = ("piecewise", "smooth", "unbounded")
    kind = kinds[int(rng.integers(3))] if kind is None else kind
    if kind == "piecewise":
        n = int(rng.integers(0, 4))
        inner = sorted({Fraction(int(v), 12) for v in rng.integers(1, 12, size=n)})
        knots = [Fraction(0), *inner, Fraction(1)]
        steps = [Fraction(int(v), 4) for v in rng.integers(1, 9, size=len(knots) - 1)]
        start = Fraction(int(rng.integers(-4, 5)), 4)
        values = [start + sum(steps[:k], Fraction(0)) for k in range(len(knots))]
        return piecewise_linear_h(knots, values, name=f"pl{[str(k) for k in knots]}")
    if kind == "smooth":
        c = rng.uniform(0.1, 2.0, size=3)
        centres = rng.uniform(0.1, 0.9, size=2)
        slopes = rng.uniform(2.0, 20.0, size=2)
        weights = rng.uniform(0.0, 1.0, size=2)

        def smooth(p: Any) -> Any:
            p = np.asarray(p, dtype=float)
            bumps = sum(
                w / (1 + np.exp(-s * (p - m)))
                for w, s, m in zip(weights, slopes, centres, strict=True)
            )
            return c[0] * p + c[1] * p**3 + c[2] * np.sqrt(p) + bumps

        return HFunction(f"smooth{np.round(c, 2).tolist()}", smooth)
    if kind == "unbounded":
        a, b, c = rng.uniform(0.1, 2.0, size=3)
        use_log = bool(rng.integers(2))

        def unbounded(p: Any) -> Any:
            p = np.asarray(p, dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                lg = np.log(p) - np.log1p(-p)
                extra = np.log(p) if use_log else 0.0
                out = a * p + b * lg + c * extra
            return np.where(p == 0, -np.inf, np.where(p == 1, np.inf, out))

        return HFunction(f"unbounded[{a:.2f},{b:.2f},{c if use_log else 0:.2f}]", unbounded)
    raise InvalidParameterError(f"unknown kind {kind!r}; expected one of {kinds}")


# --------------------------------------------------------------------------------------------
# the catalog's shared pieces


def _chosen(data: PreferenceData) -> np.ndarray:
    """``p_w[x, i] = sum_j w[x, i, j] / rho_x``: the chosen response's distribution per prompt
    (uniform for a prompt of zero weight, where it is never used)."""
    w = winner_loser_distribution(data)
    rows = []
    for x in range(data.M):
        if data.rho[x] > 0:
            rows.append(w[x].sum(axis=1) / data.rho[x])
        else:
            rows.append(np.full(data.K, Fraction(1, data.K) if data.exact else 1.0 / data.K))
    return np.stack(rows)


def _log(v: float) -> float:
    return -math.inf if v == 0 else math.log(v)


def _sum_extended(terms: list[tuple[float, float]], name: str) -> float:
    """``sum weight * value`` over positive weights, with +-inf values (never NaN)."""
    pos = any(v == math.inf for w, v in terms if w > 0)
    neg = any(v == -math.inf for w, v in terms if w > 0)
    if pos and neg:
        raise UndefinedEvaluationError(f"{name}: +inf and -inf terms both carry positive mass")
    if pos or neg:
        return math.inf if pos else -math.inf
    return float(sum(w * v for w, v in terms if w > 0))


def _implicit_margin(pi_w: float, pi_l: float, same: bool, name: str) -> float:
    """``d(y_w) - d(y_l) = log pi(y_w) - log pi(y_l)`` (uniform ``pi_ref`` cancels)."""
    if same:
        return 0.0
    if pi_w == 0 and pi_l == 0:
        raise UndefinedEvaluationError(
            f"{name}: a data pair has pi(y_w) = pi(y_l) = 0, so log pi(y_w) - log pi(y_l) is 0/0"
        )
    return _log(pi_w) - _log(pi_l)


def _pairs(data: PreferenceData) -> list[tuple[int, int, int, Any]]:
    """The ``(x, i, j, w[x, i, j])`` with ``w > 0``."""
    w = winner_loser_distribution(data)
    return [
        (int(x), int(i), int(j), w[x, i, j]) for x, i, j in zip(*np.nonzero(w > 0), strict=True)
    ]


# --------------------------------------------------------------------------------------------
# catalog members (each: V(D, pi), higher is better)


def neg_dpo_loss(data: PreferenceData, pi: np.ndarray) -> float:
    """``-L_DPO = E_w[log sigmoid(beta (d(y_w) - d(y_l)))]`` with uniform ``pi_ref``, beta = 1.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)  # 0 always beats 1
    >>> from theory.numbers import as_array
    >>> round(neg_dpo_loss(D, np.array([0.5, 0.5])[None]), 4)  # -log 2
    -0.6931
    """
    terms = []
    for x, i, j, wt in _pairs(data):
        z = CATALOG_BETA * _implicit_margin(float(pi[x, i]), float(pi[x, j]), i == j, "DPO loss")
        terms.append((float(wt), -float(np.logaddexp(0.0, -z))))
    return _sum_extended(terms, "DPO loss")


def preferred_likelihood(data: PreferenceData, pi: np.ndarray) -> Number:
    """``E_{(x, y_w)}[pi_x(y_w)]``: the probability the model gives the chosen response.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)  # 0 always beats 1
    >>> from theory.numbers import as_array
    >>> preferred_likelihood(D, as_array([[1, 0]]))  # p_w = (3/4, 1/4)
    Fraction(3, 4)
    """
    w = winner_loser_distribution(data)
    pi, w = common_kind(pi, w)
    return scalar(np.sum(w.sum(axis=2) * pi), is_exact(w))


def neg_sft_loss(data: PreferenceData, pi: np.ndarray) -> float:
    """``E_{(x, y_w)}[log pi_x(y_w)]``: minus the SFT (chosen-response cross-entropy) loss.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)  # 0 always beats 1
    >>> from theory.numbers import as_array
    >>> round(neg_sft_loss(D, np.array([[0.5, 0.5]])), 4)  # log 1/2
    -0.6931
    """
    w = winner_loser_distribution(data)
    pw = w.sum(axis=2)
    terms = [
        (float(pw[x, i]), _log(float(pi[x, i]))) for x, i in zip(*np.nonzero(pw > 0), strict=True)
    ]
    return _sum_extended(terms, "SFT loss")


def neg_kl_to_sft_target(data: PreferenceData, pi: np.ndarray) -> float:
    """``-sum_x rho_x KL(pi_x || p_w,x)``: minus the model's KL divergence to the SFT target.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)  # 0 always beats 1
    >>> from theory.numbers import as_array
    >>> neg_kl_to_sft_target(D, np.array([[0.75, 0.25]]))  # pi = p_w
    0.0
    """
    target = _chosen(data)
    total = 0.0
    for x in range(data.M):
        if data.rho[x] == 0:
            continue
        kl = 0.0
        for i in range(data.K):
            if pi[x, i] > 0:
                if target[x, i] == 0:
                    return -math.inf
                kl += float(pi[x, i]) * math.log(float(pi[x, i]) / float(target[x, i]))
        total -= float(data.rho[x]) * kl
    return total


def ranking_accuracy(data: PreferenceData, pi: np.ndarray) -> Number:
    """``E_w[1{r(y_w) > r(y_l)} + 1/2 1{r(y_w) = r(y_l)}]``, ``r = beta log(pi / pi_ref)``: the
    implicit-reward accuracy on data pairs (uniform ``pi_ref``: compare ``pi`` directly).

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)  # 0 always beats 1
    >>> from theory.numbers import as_array
    >>> ranking_accuracy(D, as_array([[Fraction(2, 3), Fraction(1, 3)]]))  # ties count half
    Fraction(3, 4)
    """
    total: Any = Fraction(0) if data.exact else 0.0
    half = Fraction(1, 2) if data.exact else 0.5
    for x, i, j, wt in _pairs(data):
        total += wt * (1 if pi[x, i] > pi[x, j] else half if pi[x, i] == pi[x, j] else 0)
    return scalar(total, data.exact)


def reward_margin(data: PreferenceData, pi: np.ndarray) -> float:
    """``E_w[r(y_w) - r(y_l)]``, ``r = beta log(pi / pi_ref)``: the implicit reward margin that
    DPO training logs report.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)  # 0 always beats 1
    >>> from theory.numbers import as_array
    >>> round(reward_margin(D, np.array([[2 / 3, 1 / 3]])), 4)  # (1/2) log 2
    0.3466
    """
    terms = [
        (
            float(wt),
            CATALOG_BETA * _implicit_margin(float(pi[x, i]), float(pi[x, j]), i == j, "margin"),
        )
        for x, i, j, wt in _pairs(data)
    ]
    return _sum_extended(terms, "reward margin")


def bt_expected_reward(data: PreferenceData, pi: np.ndarray) -> float:
    """``sum_x rho_x (E_{pi_x} r_x - E_{a_x} r_x)`` for the Bradley-Terry reward ``r`` fitted by
    maximum likelihood to the data (RLHF's reward model); equals ``WR_logit`` when P is BT.

    >>> from theory.preferences import bradley_terry_from_strengths
    >>> D = PreferenceData(P=bradley_terry_from_strengths([2, 1]), mu0=[Fraction(1, 2)] * 2)
    >>> round(bt_expected_reward(D, np.array([[1.0, 0.0]])), 4)  # (1/2) log 2 = WR_logit
    0.3466
    """
    w = to_float(winner_loser_distribution(data))
    a = to_float(data_anchor(data))
    pi_f = to_float(pi)
    total = 0.0
    for x in range(data.M):
        if data.rho[x] == 0:
            continue
        S = np.flatnonzero(a[x] > 0)
        outside = np.flatnonzero((pi_f[x] > 0) & (a[x] == 0))
        if len(outside):
            raise UndefinedEvaluationError(
                f"BT reward: pi[{x}, {int(outside[0])}] > 0 but the data never shows that "
                "response, so its fitted reward is undefined"
            )
        wx = w[x][np.ix_(S, S)]
        graph = comparison_graph(wx)
        if len(S) > 1 and not (graph.compared.all() and len(graph.strong) == 1):
            raise UndefinedEvaluationError(
                f"BT reward: prompt {x}'s comparison graph is not strongly connected, so the "
                "maximum-likelihood reward does not exist"
            )
        # r is fitted up to a constant, which cancels: pi_x and a_x both sum to 1 on S
        r = fit_bradley_terry(wx).rewards if len(S) > 1 else np.zeros(len(S))
        total += float(data.rho[x]) * float((pi_f[x, S] - a[x, S]) @ r)
    return total


def _borda_like(data: PreferenceData, pi: np.ndarray, score: Callable[[Any], Any]) -> Number:
    if data.K < 2:
        raise UndefinedEvaluationError("a Borda or Copeland score needs K >= 2 responses")
    P, pi2 = common_kind(data.P, pi)
    exact = is_exact(P)
    total: Any = Fraction(0) if exact else 0.0
    for x in range(data.M):
        for y in range(data.K):
            if pi2[x, y] == 0:
                continue
            s = sum((score(P[x, y, v]) for v in range(data.K) if v != y), Fraction(0))
            total += data.rho[x] * pi2[x, y] * s / (data.K - 1)
    return scalar(total, exact)


def borda_score(data: PreferenceData, pi: np.ndarray) -> Number:
    """``E_{x, y~pi}[(1/(K-1)) sum_{y' != y} P_x[y, y']]``: the expected Borda score (social
    choice), every other response weighted equally whatever the data contains.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)  # 0 always beats 1
    >>> from theory.numbers import as_array
    >>> borda_score(D, as_array([[Fraction(1, 2), Fraction(1, 2)]]))
    Fraction(1, 2)
    """
    return _borda_like(data, pi, lambda p: p)


def copeland_score(data: PreferenceData, pi: np.ndarray) -> Number:
    """``E_{x, y~pi}[(1/(K-1)) sum_{y' != y} step(P_x[y, y'])]``: the expected Copeland score
    (pairwise majority wins, ties half), social choice.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)  # 0 always beats 1
    >>> from theory.numbers import as_array
    >>> copeland_score(D, as_array([[1, 0]]))
    Fraction(1, 1)
    """
    return _borda_like(data, pi, step_h)


def majority_win_rate(data: PreferenceData, pi: np.ndarray) -> Number:
    """``sum rho pi_x(y) a_x(y') step(P_x[y, y'])``: how often the model's response is the
    majority-preferred one against the data (a data-weighted Copeland score; h = step).

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)  # 0 always beats 1
    >>> from theory.numbers import as_array
    >>> majority_win_rate(D, as_array([[1, 0]]))  # a tie with itself counts half
    Fraction(3, 4)
    """
    a = data_anchor(data)
    P, pi2, a = common_kind(data.P, pi, a)
    exact = is_exact(P)
    S = np.array(
        [[[step_h(v) for v in row] for row in P[x]] for x in range(data.M)],
        dtype=object if exact else float,
    )
    total = sum((data.rho[x] * (pi2[x] @ S[x] @ a[x]) for x in range(data.M)), Fraction(0))
    return scalar(total, exact)


def reference_win_rate(data: PreferenceData, pi: np.ndarray) -> Number:
    """``WR(pi; delta_0)``: win rate against a fixed reference response (response 0 at every
    prompt), as in reference-answer benchmarks; the data's prevalences play no role.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)  # 0 always beats 1
    >>> from theory.numbers import as_array
    >>> reference_win_rate(D, as_array([[0, 1]]))
    Fraction(0, 1)
    """
    ref = np.zeros((data.M, data.K), dtype=object if data.exact else float)
    ref[:, 0] = Fraction(1) if data.exact else 1.0
    return h_win_rate(data.P, pi, ref, "identity", data.rho)


def chosen_win_rate(data: PreferenceData, pi: np.ndarray) -> Number:
    """``WR(pi; p_w)``: win rate against the *chosen* responses of the data (the SFT target),
    rather than against the data distribution itself.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)  # 0 always beats 1
    >>> from theory.numbers import as_array
    >>> chosen_win_rate(D, as_array([[0, 1]]))  # against p_w = (3/4, 1/4)
    Fraction(1, 8)
    """
    return h_win_rate(data.P, pi, _chosen(data), "identity", data.rho)


def logit_outside(data: PreferenceData, pi: np.ndarray) -> float:
    """``logit(WR(pi; a))``: h applied outside the expectation (ranks models like the win rate,
    but is not an expectation over pairs).

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)  # 0 always beats 1
    >>> from theory.numbers import as_array
    >>> round(logit_outside(D, as_array([[1, 0]])), 4)  # logit(3/4) = log 3
    1.0986
    """
    wr = float(h_win_rate(data.P, pi, data_anchor(data), "identity", data.rho))
    if wr == 0:
        return -math.inf
    if wr == 1:
        return math.inf
    return math.log(wr) - math.log1p(-wr)


def _member(name: str, fn: Callable[[PreferenceData, np.ndarray], Number]) -> Evaluation:
    doc = " ".join((fn.__doc__ or "").split("\n\n")[0].split(">>>")[0].split())  # 1st paragraph
    return Evaluation(name=name, source=doc, fn=fn)


#: The catalog of evaluations that are not h-win rates (claim U-catalog), by name.
CATALOG: dict[str, Evaluation] = {
    e.name: e
    for e in (
        _member("DPO loss (negated)", neg_dpo_loss),
        _member("preferred-sample likelihood", preferred_likelihood),
        _member("SFT loss (negated)", neg_sft_loss),
        _member("KL to the SFT target (negated)", neg_kl_to_sft_target),
        _member("implicit-reward ranking accuracy", ranking_accuracy),
        _member("implicit reward margin", reward_margin),
        _member("expected Bradley-Terry reward", bt_expected_reward),
        _member("Borda score", borda_score),
        _member("Copeland score", copeland_score),
        _member("majority win rate", majority_win_rate),
        _member("win rate vs a fixed reference", reference_win_rate),
        _member("win rate vs chosen responses", chosen_win_rate),
        _member("logit outside the expectation", logit_outside),
    )
}


def catalog() -> list[Evaluation]:
    """The catalog members in a fixed order (see :data:`CATALOG`)."""
    return list(CATALOG.values())
