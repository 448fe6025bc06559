"""The classification of part 1 for methods on data beyond one labelled pair (docs/zoo_data.md).

Four methods, each on its own data model (:mod:`theory.feedback`), each with a tabular
population minimizer: tie-aware DPO with the Davidson or the Rao-Kupper likelihood
(:mod:`theory.zoo.tie_dpo`), listwise DPO (Plackett-Luce, :mod:`theory.zoo.listwise`) and KTO
(:mod:`theory.zoo.kto`).  :func:`classify_beyond_pairs` draws random data and reports

* **consistency**: the win rate ``WR(pi; m)`` (``h`` = identity, ``P`` the data's implied
  matrix, ``m`` the data anchor) of the minimizer's ``beta -> 0`` limit (its best member)
  against the best achievable ``max_y (P m)_y``.  Tie-aware and listwise DPO concentrate on
  ``argmax r*`` as ``beta -> 0``; KTO tends to ``pi ∝ c_+`` (:func:`theory.zoo.kto.kto_limit`).
  Ties are scored under both conventions;
* **WRO on the method's own model**: on data drawn from the method's own likelihood with
  strengths ``s`` (Davidson, Rao-Kupper, Plackett-Luce) whether the minimizer equals the
  logit-WRO optimum on the Bradley-Terry matrix of ``s`` (same ``beta``, ``pi_ref``, anchor):
  RLHF's solution.  For Davidson that matrix is the data's ``P`` with ties dropped, for
  Plackett-Luce the implied ``P`` (claim ``PL-marginals-are-BT``).  KTO has no own pairwise
  model: it is not WRO (it is not even consistent).

>>> report = classify_beyond_pairs("kto", instances=40, max_K=3)
>>> report.consistent, report.short_instances > 0
(False, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..errors import InvalidParameterError, NoMaximumLikelihoodError
from ..feedback.rankings import (
    list_marginal,
    pairwise_preferences,
    plackett_luce_rankings,
    random_ranking_data,
)
from ..feedback.ties import (
    TieData,
    davidson_outcomes,
    random_tie_data,
    rao_kupper_outcomes,
    tie_preferences,
)
from ..feedback.unpaired import desirability_preferences, random_unpaired_data
from ..numbers import to_float
from ..preferences import bradley_terry_from_strengths
from ..simplex import random_distribution
from ..wro import wro_optimum
from .kto import kto_limit
from .listwise import listwise_dpo_minimizer, plackett_luce_fit
from .tie_dpo import TieModel, tie_dpo_minimizer, tie_dpo_rewards

__all__ = [
    "BEYOND_PAIRS",
    "SHORTFALL_TOL",
    "WRO_TOL",
    "BeyondPairsReport",
    "argmax_limit",
    "shortfall",
    "classify_beyond_pairs",
]

#: The methods :func:`classify_beyond_pairs` knows, with their data model.
BEYOND_PAIRS: dict[str, str] = {
    "tie_dpo_davidson": "ties",
    "tie_dpo_rao_kupper": "ties",
    "listwise_dpo": "rankings",
    "kto": "unpaired",
}
#: A shortfall below this is no shortfall.
SHORTFALL_TOL = 1e-9
#: Largest difference between a minimizer and the logit-WRO optimum that counts as equal.
WRO_TOL = 1e-8
#: Rewards within this of the maximum count as tied for the ``beta -> 0`` limit.
ARGMAX_TOL = 1e-9


def argmax_limit(r: np.ndarray, W: np.ndarray) -> np.ndarray:
    """The best member of the ``beta -> 0`` limit of ``pi ∝ pi_ref exp(r / beta)`` (``pi_ref``
    of full support): the point mass on the response of ``argmax r`` (within
    :data:`ARGMAX_TOL`) with the largest ``W``.

    >>> argmax_limit(np.array([1.0, 1.0, 0.0]), np.array([0.2, 0.6, 0.9])).tolist()
    [0.0, 1.0, 0.0]
    """
    top = np.flatnonzero(r >= r.max() - ARGMAX_TOL * (1 + np.abs(r).max()))
    out = np.zeros(len(r))
    out[top[np.argmax(W[top])]] = 1.0
    return out


def shortfall(P: np.ndarray, m: np.ndarray, pi: np.ndarray) -> float:
    """``max_y (P m)_y - pi^T P m``: how far ``pi`` falls short of the best achievable win rate
    against ``m`` (one prompt, floats).

    >>> shortfall(np.array([[0.5, 1.0], [0.0, 0.5]]), np.array([0.5, 0.5]), np.array([0.0, 1.0]))
    0.5
    """
    W = to_float(P) @ to_float(m)
    return float(W.max() - to_float(pi) @ W)


@dataclass
class BeyondPairsReport:
    """The report of :func:`classify_beyond_pairs` (module docstring): ``instances`` tried;
    ``short_instances`` whose limit falls short under the default ``P`` (half credit for ties),
    ``short_by_convention`` (ties: both conventions), ``max_shortfall``; ``no_minimizer``:
    instances whose fit does not exist (skipped); ``own_model_wro`` of ``own_model_tried``:
    own-model instances whose minimizer is RLHF's (logit-WRO on the strengths' Bradley-Terry
    matrix); ``example``: the instance with the largest shortfall."""

    method: str
    instances: int = 0
    short_instances: int = 0
    short_by_convention: dict = field(default_factory=dict)
    max_shortfall: float = 0.0
    no_minimizer: int = 0
    own_model_wro: int = 0
    own_model_tried: int = 0
    example: dict | None = None

    @property
    def consistent(self) -> bool:
        return self.short_instances == 0

    def offer(self, gaps: dict[str, float], example: dict) -> None:
        """Count one instance's shortfalls (by convention; the first is the default)."""
        self.instances += 1
        for k, v in gaps.items():
            self.short_by_convention[k] = self.short_by_convention.get(k, 0) + int(
                v > SHORTFALL_TOL
            )
        main = next(iter(gaps.values()))
        if main > SHORTFALL_TOL:
            self.short_instances += 1
        if main > self.max_shortfall:
            self.max_shortfall = main
            self.example = {**example, "shortfall": main}


def _tie_instance(rng: np.random.Generator, K: int, method: str, report: BeyondPairsReport) -> None:
    model: TieModel = "davidson" if method.endswith("davidson") else "rao_kupper"
    D = random_tie_data(rng, 1, K, model="general", exact=True)
    try:
        r = tie_dpo_rewards(D, model)[0].rewards
    except NoMaximumLikelihoodError:
        report.no_minimizer += 1
        return
    m = (D.mu0[0] + D.mu1[0]) / 2
    gaps = {}
    for conv in ("half", "drop"):
        P = tie_preferences(D.win[0], D.tie[0], conv)
        gaps[conv] = shortfall(P, m, argmax_limit(r, to_float(P) @ to_float(m)))
    report.offer(gaps, {"win": D.win[0], "tie": D.tie[0], "mu": D.mu0[0], "rewards": r})


def _ranking_instance(rng: np.random.Generator, K: int, report: BeyondPairsReport) -> None:
    k = int(rng.integers(2, K + 1))
    D = random_ranking_data(rng, K, k, exact=True)
    try:
        r = plackett_luce_fit(D)[0].rewards
    except NoMaximumLikelihoodError:
        report.no_minimizer += 1
        return
    P, m = pairwise_preferences(D)[0], list_marginal(D)[0]
    gap = shortfall(P, m, argmax_limit(r, to_float(P) @ to_float(m)))
    report.offer({"implied": gap}, {"rankings": D.rankings, "probs": D.probs[0], "rewards": r})


def _kto_instance(rng: np.random.Generator, K: int, report: BeyondPairsReport) -> None:
    D = random_unpaired_data(rng, 1, K, exact=True)
    try:
        pi = kto_limit(D)[0]
    except InvalidParameterError:
        report.no_minimizer += 1
        return
    gap = shortfall(desirability_preferences(D.g)[0], D.mu[0], pi)
    report.offer({"implied": gap}, {"g": D.g[0], "mu": D.mu[0], "limit_pi": pi})


def _own_model(rng: np.random.Generator, K: int, method: str, report: BeyondPairsReport) -> None:
    """One own-model instance: minimizer versus logit-WRO on the strengths' BT matrix."""
    s = [Fraction(int(v)) ** 2 for v in rng.integers(1, 6, size=K)]
    ref = random_distribution(rng, K)
    beta = 1.0
    if method == "listwise_dpo":
        D = plackett_luce_rankings(s, int(rng.integers(2, K + 1)))
        pi, m = listwise_dpo_minimizer(D, ref, beta).pi[0], list_marginal(D)[0]
    else:
        model: TieModel = "davidson" if method.endswith("davidson") else "rao_kupper"
        make = davidson_outcomes if model == "davidson" else rao_kupper_outcomes
        win, tie = make(s)
        mu = random_distribution(rng, K, exact=True)
        pi, m = tie_dpo_minimizer(TieData(win, tie, mu0=mu), ref, beta, model).pi[0], mu
    opt = wro_optimum(bradley_terry_from_strengths(s), to_float(m), beta, ref, h="logit").pi
    report.own_model_tried += 1
    report.own_model_wro += int(np.abs(pi - opt).max() <= WRO_TOL)


def classify_beyond_pairs(
    method: str, *, instances: int = 200, max_K: int = 4, seed: int = 0
) -> BeyondPairsReport:
    """Classify ``method`` (a key of :data:`BEYOND_PAIRS`) on ``instances`` random rational
    instances (K uniform in ``2..max_K``; the DPO variants also on as many own-model instances)
    with the generator seeded by ``seed`` (module docstring)."""
    if method not in BEYOND_PAIRS:
        raise InvalidParameterError(
            f"unknown method {method!r}, expected one of {list(BEYOND_PAIRS)}"
        )
    if isinstance(max_K, bool) or not isinstance(max_K, int) or max_K < 2:
        raise InvalidParameterError(f"max_K = {max_K!r}, expected an integer >= 2")
    if isinstance(instances, bool) or not isinstance(instances, int) or instances < 1:
        raise InvalidParameterError(f"instances = {instances!r}, expected an integer >= 1")
    rng = np.random.default_rng(seed)
    report = BeyondPairsReport(method)
    for K in rng.integers(2, max_K + 1, size=instances):
        K = int(K)
        if BEYOND_PAIRS[method] == "ties":
            _tie_instance(rng, K, method, report)
        elif method == "listwise_dpo":
            _ranking_instance(rng, K, report)
        else:
            _kto_instance(rng, K, report)
        if method != "kto":
            _own_model(rng, K, method, report)
    return report
