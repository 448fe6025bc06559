"""Tie-aware DPO (Rao-Kupper and Davidson; 2409.17431): DPO with a three-outcome likelihood.

On tie data (:class:`theory.feedback.TieData`) with implicit rewards ``r = beta d``,
``d(y) = log pi(y) - log pi_ref(y)``, ``Delta = r_i - r_j``, the per-pair log-likelihood is

* Davidson (``nu > 0``): ``log p_win(Delta) = Delta/2 - log(2 cosh(Delta/2) + nu)``,
  ``log p_tie = log nu - log(2 cosh(Delta/2) + nu)``;
* Rao-Kupper (``theta > 1``): ``p_win(Delta) = sigma(Delta - log theta)``,
  ``p_tie = 1 - p_win(Delta) - p_win(-Delta)``;

and the population loss is ``L(pi) = -sum_x rho_x sum_{i<j} n_x[i, j] [win_ij log p_win(Delta)
+ win_ji log p_win(-Delta) + tie_ij log p_tie(Delta)]``, ``n[i, j] = mu0_i mu1_j + mu1_i mu0_j``.
Both log-likelihoods are concave in ``r``, so the tabular minimizer is the tie model's maximum
likelihood fit ``r*`` (per prompt, per connected component of the pairs drawn) and
``pi* ∝ pi_ref exp(r* / beta)`` (mass off the compared responses is free, as for DPO).  The fit
exists iff no group of responses wins every comparison with the rest (no tie, no loss): the
comparison graph with arcs ``i -> j`` where ``n_ij (win_ij + tie_ij) > 0`` has strongly
connected components; else :class:`~theory.errors.NoMaximumLikelihoodError`.

Classification (docs/zoo_data.md): on data from its own tie model the fit recovers ``log s``,
so the minimizer is RLHF's tilt on the Bradley-Terry ``P`` (Davidson, ties dropped): logit-WRO
for that ``P``; with half credit ``P = F(r_i - r_j)`` for an increasing odd ``F``, so it is
``F^{-1}``-WRO there.  The tie parameter is a fixed hyperparameter (``nu = 1``,
``theta = 2`` by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np
from scipy.special import expit, log_expit

from .._validate import prompt_model
from ..bradley_terry import mle_exists
from ..errors import InvalidParameterError, NoMaximumLikelihoodError
from ..feedback.ties import TieData
from ..kernels import check_beta
from ..numbers import as_array, format_number, to_float
from ..simplex import validate_model
from .closed_forms import tilt
from .concave import FittedPolicy, components, maximize_concave

__all__ = [
    "TIE_MODELS",
    "TieModel",
    "TieDPOMinimizer",
    "tie_parameter",
    "tie_log_likelihood",
    "tie_dpo_loss",
    "tie_dpo_rewards",
    "tie_dpo_minimizer",
]

TieModel = Literal["davidson", "rao_kupper"]
#: The tie models of tie-aware DPO and their default parameter.
TIE_MODELS: dict[str, float] = {"davidson": 1.0, "rao_kupper": 2.0}


def tie_parameter(model: Any, param: Any = None) -> float:
    """The tie parameter as a float: ``nu > 0`` (Davidson) or ``theta > 1`` (Rao-Kupper),
    default :data:`TIE_MODELS`; else :class:`~theory.errors.InvalidParameterError`."""
    if model not in TIE_MODELS:
        raise InvalidParameterError(f"tie model {model!r}, expected one of {list(TIE_MODELS)}")
    if param is None:
        return TIE_MODELS[model]
    v = as_array(param, name="nu" if model == "davidson" else "theta")
    low = 0 if model == "davidson" else 1
    if v.ndim != 0 or not v[()] > low:
        name = "nu" if model == "davidson" else "theta"
        raise InvalidParameterError(f"{name} = {format_number(v)}, expected a number > {low}")
    return float(v[()])


def _pair_terms(
    model: str, c: float, win: np.ndarray, tie: np.ndarray, D: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per ordered pair ``(i, j)``: the log-likelihood ``f``, ``f'`` and ``f''`` at
    ``D[i, j] = r_i - r_j`` (``win``/``tie`` of that pair; diagonal entries are junk)."""
    wT = np.swapaxes(win, -1, -2)
    if model == "davidson":
        h = D / 2
        ch = np.cosh(h)
        logZ = np.logaddexp(np.logaddexp(h, -h), np.log(c))
        f = (win - wT) * h + tie * np.log(c) - (win + wT + tie) * logZ
        tot = win + wT + tie
        f1 = (win - wT) / 2 - tot * np.sinh(h) / (2 * ch + c)
        f2 = -tot * (1 + c * ch / 2) / (2 * ch + c) ** 2
        return f, f1, f2
    a = np.log(c)
    tie_log = np.log(c * c - 1) - 2 * a - np.logaddexp(0, D - a) - np.logaddexp(0, -D - a)
    f = win * log_expit(D - a) + wT * log_expit(-D - a) + np.where(tie > 0, tie * tie_log, 0.0)
    f1 = win * expit(a - D) - wT * expit(a + D) - tie * (expit(D - a) - expit(-D - a))
    s1 = expit(D - a) * expit(a - D)
    s2 = expit(D + a) * expit(-a - D)
    f2 = -(win + tie) * s1 - (wT + tie) * s2
    return f, f1, f2


def tie_log_likelihood(
    r: np.ndarray, n: np.ndarray, win: np.ndarray, tie: np.ndarray, model: str, c: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """``(L, gradient, Hessian)`` of ``L(r) = (1/2) sum_{i != j} n_ij f_ij(r_i - r_j)`` for one
    prompt (float ``(K,)``, ``(K, K)`` arrays; module docstring)."""
    D = r[:, None] - r[None, :]
    f, f1, f2 = _pair_terms(model, c, win, tie, D)
    off = ~np.eye(len(r), dtype=bool)
    nn = np.where(off, n, 0.0)
    value = 0.5 * float(np.sum(np.where(nn > 0, nn * f, 0.0)))
    g = np.sum(nn * f1, axis=1)
    W = nn * f2
    H = -W + np.diag(W.sum(axis=1))
    return value, g, H


def _inputs(data: TieData) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(data, TieData):
        raise InvalidParameterError(
            f"data is {data!r:.60} (type {type(data).__name__}), expected a TieData"
        )
    mu0, mu1 = to_float(data.mu0), to_float(data.mu1)
    n = mu0[:, :, None] * mu1[:, None, :] + mu1[:, :, None] * mu0[:, None, :]
    return n, to_float(data.win), to_float(data.tie), to_float(data.rho)


def _reference(pi_ref: Any, data: TieData) -> np.ndarray:
    return to_float(prompt_model(pi_ref, "pi_ref", data.M, data.K))


def tie_dpo_loss(
    data: TieData,
    pi: Any,
    pi_ref: Any,
    beta: Any = 1,
    model: TieModel = "davidson",
    param: Any = None,
) -> float:
    """The population tie-aware DPO loss of ``pi`` (module docstring), float; ``+inf`` when a
    compared response has no mass under ``pi``."""
    n, win, tie, rho = _inputs(data)
    c = tie_parameter(model, param)
    b = float(check_beta(beta, positive=True))
    p = to_float(validate_model(pi, name="pi", K=data.K))
    ref = _reference(pi_ref, data)
    total = 0.0
    for x in range(data.M):
        with np.errstate(divide="ignore"):
            d = np.log(p[x]) - np.log(ref[x])
        shown = (n[x] > 0).any(axis=1)
        if np.any(~np.isfinite(d[shown])):
            return float("inf")
        total -= (
            rho[x]
            * tie_log_likelihood(b * np.where(shown, d, 0.0), n[x], win[x], tie[x], model, c)[0]
        )
    return float(total)


def tie_dpo_rewards(data: TieData, model: TieModel = "davidson", param: Any = None) -> list:
    """The tie model's maximum likelihood rewards ``r*`` per prompt (a list of
    :class:`~theory.zoo.concave.RewardFit`).  Raises
    :class:`~theory.errors.NoMaximumLikelihoodError` when the fit does not exist."""
    n, win, tie, _ = _inputs(data)
    c = tie_parameter(model, param)
    fits = []
    for x in range(data.M):
        arcs = n[x] * (win[x] + tie[x])
        np.fill_diagonal(arcs, 0.0)
        if not mle_exists(arcs):
            raise NoMaximumLikelihoodError(
                f"prompt {x}: the {model} fit does not exist: some group of responses wins "
                "every comparison it has with the rest (no tie, no loss)"
            )
        comps = components(arcs)
        fits.append(
            maximize_concave(
                partial(tie_log_likelihood, n=n[x], win=win[x], tie=tie[x], model=model, c=c),
                data.K,
                comps,
            )
        )
    return fits


@dataclass(frozen=True)
class TieDPOMinimizer(FittedPolicy):
    """The tie-aware DPO minimizer: ``pi`` ``(M, K)`` (free mass off the compared responses
    left where ``pi_ref`` puts it), the fits ``fits`` (``RewardFit`` per prompt, with the
    certificate ``gradient_norm``), ``model`` and its parameter."""

    model: str
    param: float


def tie_dpo_minimizer(
    data: TieData,
    pi_ref: Any,
    beta: Any = 1,
    model: TieModel = "davidson",
    param: Any = None,
) -> TieDPOMinimizer:
    """``pi* ∝ pi_ref exp(r* / beta)`` with ``r*`` = :func:`tie_dpo_rewards` (module docstring).

    >>> from fractions import Fraction as F
    >>> from theory.feedback import TieData, davidson_outcomes
    >>> win, tie = davidson_outcomes([1, 4, 9], nu=1)
    >>> sol = tie_dpo_minimizer(TieData(win, tie, mu0=[F(1, 3)] * 3), [F(1, 3)] * 3, beta=1)
    >>> np.round(sol.pi[0], 6).tolist()    # the strengths, normalised: (1, 4, 9) / 14
    [0.071429, 0.285714, 0.642857]
    """
    _inputs(data)
    b = float(check_beta(beta, positive=True))
    ref = _reference(pi_ref, data)
    fits = tie_dpo_rewards(data, model, param)
    r = np.stack([f.rewards for f in fits])
    return TieDPOMinimizer(tilt(ref, r / b), tuple(fits), model, tie_parameter(model, param))
