"""The zoo: every offline pairwise preference loss of docs/zoo.md, keyed by TRL's ``loss_type``.

Each entry is a :class:`~theory.zoo.loss.PairwiseLoss` built by a function of this module whose
docstring states the loss as in its paper (with the arXiv id) and its tabular minimizer; the
entry's ``doc`` is that docstring.  ``z = beta (d(y_w) - d(y_l))`` is the margin,
``d = log pi - log pi_ref``, ``u = beta d`` a response's score, ``sigma`` the logistic function.
Parameters default to TRL's defaults, else ``eps = 0.1`` (cDPO, rDPO) and ``eps = 1e-3`` (EXO).

>>> sorted(ZOO)[:4]
['apo_down', 'apo_zero', 'bco_pair', 'cdpo']
>>> ZOO["ipo"].source, dict(ZOO["exo_pair"].params)
('arXiv 2310.12036', {'eps': 0.001})
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..kernels import dpo_pair_loss
from .loss import PairwiseLoss
from .ops import Ops

__all__ = ["ZOO", "zoo_loss"]

#: name -> PairwiseLoss, in docs/zoo.md's order.
ZOO: dict[str, PairwiseLoss] = {}


def _register(fn: Callable[[], PairwiseLoss]) -> Callable[[], PairwiseLoss]:
    loss = fn()
    from dataclasses import replace

    ZOO[loss.name] = replace(loss, doc=(fn.__doc__ or "").strip())
    return fn


def zoo_loss(name: str) -> PairwiseLoss:
    """The registered loss ``name`` (a TRL ``loss_type`` or one of :data:`ZOO`'s keys).

    >>> zoo_loss("sigmoid").title
    'DPO'
    """
    from ..errors import InvalidParameterError

    if name not in ZOO:
        raise InvalidParameterError(f"unknown loss {name!r}, expected one of {sorted(ZOO)}")
    return ZOO[name]


def _dpo_kernel(w: np.ndarray, d: np.ndarray, p: SimpleNamespace) -> float:
    return float(dpo_pair_loss(w, d, float(p.beta)))


def _cdpo_kernel(w: np.ndarray, d: np.ndarray, p: SimpleNamespace) -> float:
    eps = float(p.eps)
    return float(dpo_pair_loss((1 - eps) * w + eps * np.swapaxes(w, -1, -2), d, float(p.beta)))


def _sq(x: Any) -> Any:
    """``x * x`` (not ``x ** 2``: an ``arb`` ball around 0 has no real power)."""
    return x * x


def _neg_log_sig(z: Any, ops: Ops) -> Any:
    return -ops.log_sigmoid(z)


@_register
def sigmoid() -> PairwiseLoss:
    """DPO, Rafailov et al. 2023, arXiv 2305.18290: ``f(z) = -log sigma(z)``.

    Tabular minimizer: on each component of the comparison graph ``beta d`` is the weighted
    Bradley-Terry MLE of ``w`` (:func:`theory.dpo_minimizers`); none when the MLE does not exist.
    """
    return PairwiseLoss(
        "sigmoid",
        convex=True,
        pair=lambda z, ops, p: _neg_log_sig(z, ops),
        title="DPO",
        formula="-log sigma(z)",
        source="arXiv 2305.18290",
        minimizer="Bradley-Terry MLE of w on each component",
        wro="no",
        kernel=_dpo_kernel,
    )


@_register
def cdpo() -> PairwiseLoss:
    """Conservative DPO (label smoothing ``eps``; TRL's ``sigmoid`` with ``label_smoothing``;
    DPO paper's notes, arXiv 2305.18290): ``f(z) = -(1 - eps) log sigma(z) - eps log sigma(-z)``.

    Tabular minimizer: exactly DPO on ``P_eps = eps + (1 - 2 eps) P`` (a minimizer exists on
    every connected component); K = 2: ``z* = logit(eps + (1 - 2 eps) p)``.
    """
    return PairwiseLoss(
        "cdpo",
        convex=True,
        pair=lambda z, ops, p: -(1 - p.eps) * ops.log_sigmoid(z) - p.eps * ops.log_sigmoid(-z),
        params={"eps": 0.1},
        title="cDPO",
        formula="-(1-eps) log sigma(z) - eps log sigma(-z)",
        source="arXiv 2305.18290 (label smoothing)",
        minimizer="DPO on P_eps = eps + (1-2eps) P",
        wro="K = 2 only",
        kernel=_cdpo_kernel,
    )


@_register
def robust() -> PairwiseLoss:
    """rDPO, Chowdhury et al. 2024, arXiv 2403.00409:
    ``f(z) = [-(1 - eps) log sigma(z) + eps log sigma(-z)] / (1 - 2 eps)``.

    Tabular minimizer: DPO on ``P' = (P - eps) / (1 - 2 eps)`` (the pair term equals
    ``-log sigma(-z) - P' z``, convex for every real ``P'``).  Unbounded below iff some set ``A``
    of responses has ``sum_{i not in A, j in A} n_ij (P_ij - eps) < 0`` (at K = 2: the compared
    ``P_01`` lies outside ``[eps, 1 - eps]``).
    """
    return PairwiseLoss(
        "robust",
        convex=True,
        pair=lambda z, ops, p: (
            (-(1 - p.eps) * ops.log_sigmoid(z) + p.eps * ops.log_sigmoid(-z)) / (1 - 2 * p.eps)
        ),
        params={"eps": 0.1},
        title="rDPO",
        formula="[-(1-eps) log sigma(z) + eps log sigma(-z)] / (1-2eps)",
        source="arXiv 2403.00409",
        minimizer="DPO on (P - eps)/(1 - 2eps); may be unbounded below",
        wro="no",
    )


@_register
def ipo() -> PairwiseLoss:
    """IPO, Azar et al. 2023, arXiv 2310.12036: ``(Delta - 1/(2 beta))^2``, ``Delta = d_w - d_l``,
    i.e. ``f(z) = (z / beta - 1 / (2 beta))^2``.

    Tabular minimizer: ``mu0 = mu1 = mu``: ``pi ∝ pi_ref exp(P mu / beta)`` on ``supp mu`` (the
    identity-WRO optimum, anchor ``mu``); ``mu0 != mu1``: the solution of the ``n``-weighted
    graph-Laplacian system ``sum_j n_kj (d_k - d_j) = sum_j n_kj (2 P_kj - 1) / (2 beta)``.
    """
    return PairwiseLoss(
        "ipo",
        convex=True,
        pair=lambda z, ops, p: _sq(z / p.beta - 1 / (2 * p.beta)),
        title="IPO",
        formula="(z/beta - 1/(2 beta))^2",
        source="arXiv 2310.12036",
        minimizer="mu0 = mu1: pi ∝ pi_ref exp(P mu / beta); else a Laplacian least-squares fit",
        wro="optimum yes when mu0 = mu1; loss order no",
    )


@_register
def hinge() -> PairwiseLoss:
    """SLiC-HF hinge, Zhao et al. 2023, arXiv 2305.10425 (and RSO, arXiv 2309.06657):
    ``f(z) = max(0, 1 - z)``.

    Tabular minimizer: a linear program; K = 2: ``z* = sign(2p - 1)`` (the strength of ``p`` is
    ignored).
    """
    return PairwiseLoss(
        "hinge",
        convex=True,
        pair=lambda z, ops, p: ops.maximum(0, 1 - z),
        title="hinge (SLiC)",
        formula="max(0, 1 - z)",
        source="arXiv 2305.10425",
        minimizer="a linear program; K = 2: sign(2p - 1)",
        wro="no",
    )


@_register
def exo_pair() -> PairwiseLoss:
    """EXO (pairwise), Ji et al. 2024, arXiv 2402.00856:
    ``f(z) = sigma(z) [log sigma(z) - log(1 - eps)] + sigma(-z) [log sigma(-z) - log eps]``.

    Tabular minimizer: K = 2: ``z* = (2p - 1) log((1 - eps) / eps)``.  Bounded.
    """
    return PairwiseLoss(
        "exo_pair",
        pair=lambda z, ops, p: (
            ops.sigmoid(z) * (ops.log_sigmoid(z) - ops.log(1 - p.eps))
            + ops.sigmoid(-z) * (ops.log_sigmoid(-z) - ops.log(p.eps))
        ),
        params={"eps": 1e-3},
        title="EXO",
        formula="sigma(z)[log sigma(z) - log(1-eps)] + sigma(-z)[log sigma(-z) - log eps]",
        source="arXiv 2402.00856",
        minimizer="K = 2: (2p - 1) log((1-eps)/eps)",
        wro="K = 2 optimum only",
    )


@_register
def nca_pair() -> PairwiseLoss:
    """NCA (pairwise), Chen et al. 2024, arXiv 2402.05369:
    ``-log sigma(u_w) - 1/2 log sigma(-u_w) - 1/2 log sigma(-u_l)``, ``u = beta d``.

    Separable.  Tabular minimizer: with ``beta = 1`` and ``pi_ref = (mu0 + mu1)/2`` it is the
    winner marginal ``p_w`` (the SFT optimum, with SFT's ceiling).
    """
    return PairwiseLoss(
        "nca_pair",
        convex=True,
        winner=lambda u, lp, ops, p: -ops.log_sigmoid(u) - 0.5 * ops.log_sigmoid(-u),
        loser=lambda u, lp, ops, p: -0.5 * ops.log_sigmoid(-u),
        title="NCA",
        formula="-log sigma(u_w) - 1/2 log sigma(-u_w) - 1/2 log sigma(-u_l)",
        source="arXiv 2402.05369",
        minimizer="beta = 1, pi_ref = (mu0+mu1)/2: p_w",
        wro="no",
    )


@_register
def bco_pair() -> PairwiseLoss:
    """BCO (pairwise), Jung et al. 2024, arXiv 2404.04656:
    ``-log sigma(u_w - delta) - log sigma(-(u_l - delta))`` with a shift ``delta``.

    Our formalization: ``delta_x`` is minimized out per prompt (the shift under which the
    unconstrained minimizer is normalized; BCO uses a running mean of ``u``, recent TRL none).
    Tabular minimizer: ``pi ∝ pi_ref (omega / (1 - omega))^(1/beta)``,
    ``omega = p_w / (p_w + p_l)``.
    """
    return PairwiseLoss(
        "bco_pair",
        convex=True,
        winner=lambda u, lp, ops, p: -ops.log_sigmoid(u),
        loser=lambda u, lp, ops, p: -ops.log_sigmoid(-u),
        shift=True,
        title="BCO",
        formula="-log sigma(u_w - delta) - log sigma(delta - u_l), delta minimized out",
        source="arXiv 2404.04656",
        minimizer="pi ∝ pi_ref (omega/(1-omega))^(1/beta)",
        wro="no",
    )


@_register
def sppo_hard() -> PairwiseLoss:
    """SPPO (hard labels), Wu et al. 2024, arXiv 2405.00675:
    ``(d_w - 1/(2 beta))^2 + (d_l + 1/(2 beta))^2``.

    Separable.  Tabular minimizer: ``2 (p_w + p_l)(d(y) - (omega(y) - 1/2)/beta) = Lambda pi(y)``
    for one multiplier ``Lambda``.
    """
    return PairwiseLoss(
        "sppo_hard",
        convex=True,
        winner=lambda u, lp, ops, p: _sq(u / p.beta - 1 / (2 * p.beta)),
        loser=lambda u, lp, ops, p: _sq(u / p.beta + 1 / (2 * p.beta)),
        title="SPPO-hard",
        formula="(d_w - 1/(2beta))^2 + (d_l + 1/(2beta))^2",
        source="arXiv 2405.00675",
        minimizer="2(p_w+p_l)(d - (omega - 1/2)/beta) = Lambda pi",
        wro="no",
    )


@_register
def apo_zero() -> PairwiseLoss:
    """APO-zero, D'Oosterlinck et al. 2024, arXiv 2408.06266: ``1 - sigma(u_w) + sigma(u_l)``.

    Separable.  Tabular minimizer as ``beta -> 0``: ``pi ∝ (p_w - p_l)_+``
    (``= mu (2 W_mu - 1)_+`` when ``mu0 = mu1 = mu``).
    """
    return PairwiseLoss(
        "apo_zero",
        winner=lambda u, lp, ops, p: 1 - ops.sigmoid(u),
        loser=lambda u, lp, ops, p: ops.sigmoid(u),
        title="APO-zero",
        formula="1 - sigma(u_w) + sigma(u_l)",
        source="arXiv 2408.06266",
        minimizer="beta -> 0: pi ∝ (p_w - p_l)_+",
        wro="no",
    )


@_register
def apo_down() -> PairwiseLoss:
    """APO-down, D'Oosterlinck et al. 2024, arXiv 2408.06266: ``sigma(u_w) + 1 - sigma(z)``.

    Tabular minimizer: no closed form (generic solver).
    """
    return PairwiseLoss(
        "apo_down",
        pair=lambda z, ops, p: 1 - ops.sigmoid(z),
        winner=lambda u, lp, ops, p: ops.sigmoid(u),
        title="APO-down",
        formula="sigma(u_w) + 1 - sigma(z)",
        source="arXiv 2408.06266",
        minimizer="no closed form",
        wro="no",
    )


@_register
def discopop() -> PairwiseLoss:
    """DiscoPOP, Chris Lu et al. 2024, arXiv 2406.08414:
    ``f(z) = (1 - sigma(z/tau)) (-log sigma(z)) + sigma(z/tau) e^(-z)``, ``tau = 0.05``
    (the second term evaluated as ``exp(log sigma(z/tau) - z)``).

    Non-convex; tabular minimizer by the generic solver from several starts (K = 2, p = .8:
    ``z* = 1.575``).
    """
    return PairwiseLoss(
        "discopop",
        pair=lambda z, ops, p: (
            -(1 - ops.sigmoid(z / p.tau)) * ops.log_sigmoid(z)
            + ops.exp(ops.log_sigmoid(z / p.tau) - z)
        ),
        params={"tau": 0.05},
        title="DiscoPOP",
        formula="(1 - sigma(z/tau))(-log sigma(z)) + sigma(z/tau) e^-z",
        source="arXiv 2406.08414",
        minimizer="non-convex; several starts",
        wro="no",
    )


def _gpo(name: str, title: str, formula: str, link: str, fn: Any) -> PairwiseLoss:
    return PairwiseLoss(
        name,
        convex=True,
        pair=fn,
        title=title,
        formula=formula,
        source="arXiv 2402.05749",
        minimizer=f"K = 2: z* = {link}",
        wro="K = 2 only" if name != "gpo_hinge" else "no",
    )


@_register
def gpo_logistic() -> PairwiseLoss:
    """GPO logistic, Tang et al. 2024, arXiv 2402.05749: ``f(z) = log(1 + e^(-z))`` (= DPO).

    K = 2 link: ``z* = logit p``.
    """
    return _gpo(
        "gpo_logistic",
        "GPO logistic",
        "log(1 + e^-z)",
        "logit p",
        lambda z, ops, p: -ops.log_sigmoid(z),
    )


@_register
def gpo_exponential() -> PairwiseLoss:
    """GPO exponential, arXiv 2402.05749: ``f(z) = e^(-z)``.  K = 2 link: ``z* = logit(p)/2``."""
    return _gpo(
        "gpo_exponential", "GPO exponential", "e^-z", "logit(p)/2", lambda z, ops, p: ops.exp(-z)
    )


@_register
def gpo_squared() -> PairwiseLoss:
    """GPO squared, arXiv 2402.05749: ``f(z) = (1 - z)^2`` (IPO up to the scale of ``beta``).

    K = 2 link: ``z* = 2p - 1``.
    """
    return _gpo("gpo_squared", "GPO squared", "(1 - z)^2", "2p - 1", lambda z, ops, p: _sq(1 - z))


@_register
def gpo_hinge() -> PairwiseLoss:
    """GPO hinge (= SLiC), arXiv 2402.05749: ``f(z) = max(0, 1 - z)``.

    K = 2 link: ``z* = sign(2p - 1)`` (not strictly increasing: no WRO optimum).
    """
    return _gpo(
        "gpo_hinge",
        "GPO hinge",
        "max(0, 1 - z)",
        "sign(2p - 1)",
        lambda z, ops, p: ops.maximum(0, 1 - z),
    )


@_register
def simpo() -> PairwiseLoss:
    """SimPO, Meng et al. 2024, arXiv 2405.14734:
    ``-log sigma(beta (log pi(y_w)/|y_w| - log pi(y_l)/|y_l|) - gamma)``, no reference model;
    one-token responses (``|y| = 1``), ``gamma = 0.5`` (TRL's ``simpo_gamma``).

    Tabular minimizer: a Bradley-Terry fit of ``beta log pi`` with margin ``gamma``.
    """
    return PairwiseLoss(
        "simpo",
        convex=True,
        pair=lambda z, ops, p: -ops.log_sigmoid(z - p.gamma),
        score="log_prob",
        params={"gamma": 0.5},
        title="SimPO",
        formula="-log sigma(beta (log pi_w - log pi_l) - gamma)",
        source="arXiv 2405.14734",
        minimizer="a BT fit with margin gamma",
        wro="no",
    )


@_register
def orpo() -> PairwiseLoss:
    """ORPO, Hong et al. 2024, arXiv 2403.07691:
    ``-log pi(y_w) - lambda log sigma(logodds pi(y_w) - logodds pi(y_l))``,
    ``logodds p = log(p / (1 - p))``, ``lambda = 0.1`` (TRL's ``beta`` of ``ORPOConfig``).

    Tabular minimizer: no closed form (SFT's cross-entropy toward ``p_w`` plus a BT term).
    """
    return PairwiseLoss(
        "orpo",
        pair=lambda z, ops, p: -p.lam * ops.log_sigmoid(z),
        winner=lambda u, lp, ops, p: -lp,
        score="log_odds",
        params={"lam": 0.1},
        title="ORPO",
        formula="-log pi_w - lambda log sigma(logodds pi_w - logodds pi_l)",
        source="arXiv 2403.07691",
        minimizer="no closed form",
        wro="no",
    )
