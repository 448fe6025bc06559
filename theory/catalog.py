"""The catalog of evaluations that are not h-win rates (claim U-catalog; docs/uniqueness.md).

Each member is an evaluation ``V(D, pi)`` (:class:`~theory.evaluations.Evaluation`, higher is
better: a loss ``L`` enters as ``-L``) that people use or propose; claim ``U-catalog`` shows each
one violating a named elementary property of :mod:`theory.axioms`, on an instance where the win
rate keeps it.  The catalog's choices are fixed here, once: ``pi_ref`` is uniform and
``beta = 1`` (:data:`CATALOG_BETA`), the fixed anchor is the point mass on response 0, and the
"h outside" member uses ``h = logit``.

Symbols: ``w[x, i, j] = Pr(x, y_w = i, y_l = j)`` the winner-loser distribution
(:func:`~theory.data.winner_loser_distribution`), ``p_w[x, i] = sum_j w[x, i, j] / rho_x`` the
distribution of the chosen response (the SFT target), ``d = log pi - log pi_ref`` the DPO implicit
reward (times ``beta``).  The DPO loss is the shared kernel :func:`theory.kernels.dpo_pair_loss`
and the KL the shared :func:`theory.kernels.kl_rows`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from .bradley_terry import comparison_graph, fit_bradley_terry
from .data import PreferenceData, data_anchor, winner_loser_distribution
from .errors import UndefinedEvaluationError
from .evaluations import Evaluation, evaluate
from .hfuncs import step_h
from .kernels import dpo_pair_loss, kl_rows
from .numbers import Number, common_kind, is_exact, scalar, to_float
from .winrate import h_win_rate

__all__ = [
    "CATALOG_BETA",
    "CATALOG",
    "catalog",
    "neg_dpo_loss",
    "preferred_likelihood",
    "neg_sft_loss",
    "neg_kl_to_sft_target",
    "ranking_accuracy",
    "reward_margin",
    "bt_expected_reward",
    "borda_score",
    "copeland_score",
    "majority_win_rate",
    "reference_win_rate",
    "chosen_win_rate",
    "logit_outside",
]

#: The DPO temperature the catalog uses (its implicit reward is ``beta * log(pi / pi_ref)``).
CATALOG_BETA = 1.0

# --------------------------------------------------------------------------------------------
# the catalog's shared pieces

MemberFn = Callable[[PreferenceData, np.ndarray], Number]


def _validated(fn: MemberFn) -> Callable[[PreferenceData, Any], Number]:
    """The public form of a member: called directly, it validates ``data`` and ``pi`` and checks
    the value exactly as :func:`theory.evaluations.evaluate` does (named errors, never NaN);
    :data:`CATALOG` uses the raw function (``__wrapped__``), which ``evaluate`` already guards."""

    @functools.wraps(fn)
    def public(data: PreferenceData, pi: Any) -> Number:
        return evaluate(Evaluation(fn.__name__, "a catalog member", fn), data, pi)

    return public


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


def _require_defined_margins(w: np.ndarray, pi: np.ndarray, name: str) -> None:
    """Raise :class:`~theory.errors.UndefinedEvaluationError` when a data pair ``y_w != y_l``
    has ``pi(y_w) = pi(y_l) = 0``: its margin ``log pi(y_w) - log pi(y_l)`` is ``0/0``."""
    both_zero = (pi[:, :, None] == 0) & (pi[:, None, :] == 0)
    off_diagonal = ~np.eye(pi.shape[1], dtype=bool)
    if np.any((w > 0) & both_zero & off_diagonal):
        raise UndefinedEvaluationError(
            f"{name}: a data pair has pi(y_w) = pi(y_l) = 0, so log pi(y_w) - log pi(y_l) is 0/0"
        )


@_validated
def neg_dpo_loss(data: PreferenceData, pi: np.ndarray) -> float:
    """``-L_DPO = E_w[log sigmoid(beta (d(y_w) - d(y_l)))]`` with uniform ``pi_ref``, beta = 1.

    The loss is the shared kernel :func:`theory.kernels.dpo_pair_loss` on the winner-loser
    weights ``w`` with ``d = log pi`` (a uniform ``pi_ref`` cancels in every margin).  A pair
    with ``y_w = y_l`` has margin 0 (it contributes ``w log 2`` to the loss whatever ``pi``).

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)  # 0 always beats 1
    >>> round(neg_dpo_loss(D, np.array([0.5, 0.5])[None]), 4)  # -log 2
    -0.6931
    """
    w = to_float(winner_loser_distribution(data))
    pi_f = to_float(pi)
    _require_defined_margins(w, pi_f, "DPO loss")
    same = np.eye(data.K, dtype=bool)
    with np.errstate(divide="ignore"):
        d = np.log(pi_f)
    loss = dpo_pair_loss(np.where(same, 0.0, w), d, CATALOG_BETA)
    return -(float(loss) + float(np.sum(w[:, same])) * math.log(2))


@_validated
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


@_validated
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


@_validated
def neg_kl_to_sft_target(data: PreferenceData, pi: np.ndarray) -> float:
    """``-sum_x rho_x KL(pi_x || p_w,x)``: minus the model's KL divergence to the SFT target.

    The KL is the shared kernel :func:`theory.kernels.kl_rows`; prompts of zero weight are left
    out, and the value is ``-inf`` when ``pi`` puts mass where ``p_w`` has none.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)  # 0 always beats 1
    >>> neg_kl_to_sft_target(D, np.array([[0.75, 0.25]]))  # pi = p_w
    0.0
    """
    live = to_float(data.rho) > 0
    kl = kl_rows(to_float(pi)[live], to_float(_chosen(data))[live])
    if np.any(np.isinf(kl)):
        return -math.inf
    return 0.0 - float(np.dot(to_float(data.rho)[live], kl))


@_validated
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


@_validated
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


@_validated
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


@_validated
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


@_validated
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


@_validated
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


@_validated
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


@_validated
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


@_validated
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


def _member(name: str, fn: Callable[[PreferenceData, Any], Number]) -> Evaluation:
    doc = " ".join((fn.__doc__ or "").split("\n\n")[0].split(">>>")[0].split())  # 1st paragraph
    return Evaluation(name=name, source=doc, fn=getattr(fn, "__wrapped__", fn))


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
