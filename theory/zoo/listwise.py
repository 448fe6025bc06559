"""Listwise DPO (Plackett-Luce; DPO paper appendix 2305.18290, LiPO 2402.01878).

On ranking data (:class:`theory.feedback.RankingData`) with implicit rewards ``r = beta d``,
the population loss is the Plackett-Luce negative log-likelihood

    L(pi) = -sum_x rho_x sum_sigma p_x(sigma) sum_t [r(sigma_t) - log sum_{u >= t} exp r(sigma_u)].

Collected by stage, ``log PL = sum_c a_c r_c - sum_S b_S logsumexp(r_S)`` (``a_c``: how often
``c`` is picked first from a remaining set, ``b_S``: how often the remaining set is ``S``,
``|S| >= 2``): concave, so the tabular minimizer is the Plackett-Luce maximum likelihood fit
``r*`` and ``pi* ∝ pi_ref exp(r* / beta)``.  The fit exists iff the "ranked above" graph
(:func:`theory.feedback.above_weights`) has strongly connected components (Hunter 2004); else
:class:`~theory.errors.NoMaximumLikelihoodError`.

Classification (docs/zoo_data.md): on Plackett-Luce data with strengths ``s`` the fit is
``log s`` for every list length, so the minimizer is RLHF's tilt on the implied ``P``, which is
Bradley-Terry (claim ``PL-marginals-are-BT``): logit-WRO.  On other ranking distributions the
fit depends on ``k``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from .._validate import prompt_model
from ..bradley_terry import mle_exists
from ..errors import InvalidParameterError, NoMaximumLikelihoodError
from ..feedback.rankings import RankingData, above_weights
from ..kernels import check_beta
from ..numbers import to_float
from ..simplex import validate_model
from .closed_forms import tilt
from .concave import FittedPolicy, RewardFit, components, maximize_concave

__all__ = [
    "StageWeights",
    "stage_weights",
    "plackett_luce_log_likelihood",
    "listwise_dpo_loss",
    "plackett_luce_fit",
    "ListwiseMinimizer",
    "listwise_dpo_minimizer",
]


@dataclass(frozen=True)
class StageWeights:
    """One prompt's stages: ``picked`` ``(K,)`` the weights ``a_c``, ``masks`` ``(S, K)`` the
    remaining sets (bool) and ``weights`` ``(S,)`` their ``b_S`` (module docstring)."""

    picked: np.ndarray
    masks: np.ndarray
    weights: np.ndarray


def _check(data: Any) -> RankingData:
    if not isinstance(data, RankingData):
        raise InvalidParameterError(
            f"data is {data!r:.60} (type {type(data).__name__}), expected a RankingData"
        )
    return data


def stage_weights(data: RankingData) -> list[StageWeights]:
    """The stage weights of each prompt (floats).

    >>> from theory.feedback import RankingData
    >>> sw = stage_weights(RankingData([[2, 0, 1]], [1], K=3))[0]
    >>> sw.picked.tolist(), sw.masks.tolist(), sw.weights.tolist()
    ([1.0, 0.0, 1.0], [[True, True, True], [True, True, False]], [1.0, 1.0])
    """
    _check(data)
    p = to_float(data.probs)
    out = []
    for x in range(data.M):
        a = np.zeros(data.K)
        sets: dict[tuple[int, ...], float] = {}
        for n in range(data.N):
            if p[x, n] == 0:
                continue
            sigma = data.rankings[n]
            for t in range(data.k - 1):
                a[sigma[t]] += p[x, n]
                key = tuple(sorted(int(v) for v in sigma[t:]))
                sets[key] = sets.get(key, 0.0) + float(p[x, n])
        masks = np.zeros((len(sets), data.K), dtype=bool)
        for row, key in enumerate(sets):
            masks[row, list(key)] = True
        out.append(StageWeights(a, masks, np.array(list(sets.values()), dtype=float)))
    return out


def plackett_luce_log_likelihood(
    r: np.ndarray, sw: StageWeights
) -> tuple[float, np.ndarray, np.ndarray]:
    """``(log PL, gradient, Hessian)`` at rewards ``r`` ``(K,)`` for one prompt's stages:
    ``a . r - sum_S b_S logsumexp(r_S)``, ``a - sum_S b_S q_S``, ``-sum_S b_S (diag q_S -
    q_S q_S^T)`` with ``q_S`` the softmax of ``r`` on ``S``."""
    R = np.where(sw.masks, r[None, :], -np.inf)
    top = R.max(axis=1)
    E = np.exp(R - top[:, None])
    tot = E.sum(axis=1)
    lse = top + np.log(tot)
    Q = E / tot[:, None]
    value = float(sw.picked @ r - sw.weights @ lse)
    g = sw.picked - sw.weights @ Q
    H = -np.diag(sw.weights @ Q) + (Q * sw.weights[:, None]).T @ Q
    return value, g, H


def _reference(pi_ref: Any, data: RankingData) -> np.ndarray:
    return to_float(prompt_model(pi_ref, "pi_ref", data.M, data.K))


def listwise_dpo_loss(data: RankingData, pi: Any, pi_ref: Any, beta: Any = 1) -> float:
    """The population listwise DPO loss of ``pi`` (module docstring), float; ``+inf`` when a
    listed response has no mass under ``pi``.

    >>> from fractions import Fraction as F
    >>> from theory.feedback import RankingData
    >>> D = RankingData([[0, 1]], [1], K=2)
    >>> round(listwise_dpo_loss(D, [F(1, 2)] * 2, [F(1, 2)] * 2), 6)   # log 2
    0.693147
    """
    _check(data)
    b = float(check_beta(beta, positive=True))
    p = to_float(validate_model(pi, name="pi", K=data.K))
    ref = _reference(pi_ref, data)
    rho = to_float(data.rho)
    total = 0.0
    for x, sw in enumerate(stage_weights(data)):
        listed = sw.masks.any(axis=0)
        with np.errstate(divide="ignore"):
            d = np.log(p[x]) - np.log(ref[x])
        if np.any(~np.isfinite(d[listed])):
            return float("inf")
        total -= rho[x] * plackett_luce_log_likelihood(b * np.where(listed, d, 0.0), sw)[0]
    return float(total)


def plackett_luce_fit(data: RankingData) -> list[RewardFit]:
    """The Plackett-Luce maximum likelihood rewards per prompt (mean zero per component).
    Raises :class:`~theory.errors.NoMaximumLikelihoodError` when the fit does not exist.

    >>> from theory.feedback import plackett_luce_rankings
    >>> fit = plackett_luce_fit(plackett_luce_rankings([1, 2, 4], k=2))[0]
    >>> np.round(fit.rewards - fit.rewards[0], 9).tolist()     # log s - log s_0
    [0.0, 0.693147181, 1.386294361]
    """
    c = to_float(above_weights(data))
    fits = []
    for x, sw in enumerate(stage_weights(data)):
        arcs = c[x]
        if not mle_exists(arcs):
            raise NoMaximumLikelihoodError(
                f"prompt {x}: the Plackett-Luce fit does not exist: some group of responses is "
                "ranked above the rest in every list that holds both"
            )
        fits.append(
            maximize_concave(partial(plackett_luce_log_likelihood, sw=sw), data.K, components(arcs))
        )
    return fits


@dataclass(frozen=True)
class ListwiseMinimizer(FittedPolicy):
    """The listwise DPO minimizer ``pi`` ``(M, K)`` with the fits (certificate
    ``gradient_norm``)."""


def listwise_dpo_minimizer(data: RankingData, pi_ref: Any, beta: Any = 1) -> ListwiseMinimizer:
    """``pi* ∝ pi_ref exp(r* / beta)``, ``r*`` = :func:`plackett_luce_fit`.

    >>> from fractions import Fraction as F
    >>> from theory.feedback import plackett_luce_rankings
    >>> sol = listwise_dpo_minimizer(plackett_luce_rankings([1, 2, 5]), [F(1, 3)] * 3, 1)
    >>> np.round(sol.pi[0], 6).tolist()
    [0.125, 0.25, 0.625]
    """
    _check(data)
    b = float(check_beta(beta, positive=True))
    ref = _reference(pi_ref, data)
    fits = plackett_luce_fit(data)
    r = np.stack([f.rewards for f in fits])
    return ListwiseMinimizer(tilt(ref, r / b), tuple(fits))
