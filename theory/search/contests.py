"""Contests: a training loss (lower is better) against a win rate (higher is better).

A *contest* pairs a loss ``L`` with a win rate ``WR`` on an :class:`Instance` (a preference data
distribution, a reference model ``pi_ref`` and ``beta``); a witness of disagreement is a pair of
models where ``L`` and ``WR`` disagree (:mod:`theory.search`).  The DPO and SFT contests evaluate
their loss one model at a time (:func:`theory.methods.dpo.dpo_loss`,
:func:`theory.methods.sft.sft_loss`), exactly as ``-sum_k a_k log v_k`` with rational terms where
possible (for an exact certificate of the loss order), and ``N`` float models at once (the batch
kernels: the DPO one is :func:`theory.kernels.dpo_pair_loss`).  Win rates are against the data
anchor ``(mu0 + mu1) / 2`` (:func:`theory.winrate.data_win_rate`) and exact on exact instances.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..data import PreferenceData, data_anchor, winner_loser_distribution
from ..kernels import dpo_pair_loss
from ..methods.dpo import dpo_loss
from ..methods.sft import sft_loss, sft_target
from ..numbers import Number, is_exact, to_float
from ..winrate import data_win_rate

__all__ = [
    "Instance",
    "Contest",
    "LossTerms",
    "DPO_CONTEST",
    "SFT_CONTEST",
    "SFT_DISPREFERRED_CONTEST",
    "CONTESTS",
]


@dataclass(frozen=True)
class Instance:
    """What a loss and a win rate are evaluated on: ``data`` (a
    :class:`~theory.data.PreferenceData`), ``pi_ref`` ``(M, K)`` and ``beta > 0``.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)
    >>> Instance(D, [[Fraction(1, 2)] * 2]).exact, Instance(D, [[0.5, 0.5]]).exact
    (True, False)
    """

    data: PreferenceData
    pi_ref: Any
    beta: Any = 1

    @property
    def exact(self) -> bool:
        return (
            self.data.exact
            and is_exact(np.asarray(self.pi_ref))
            and isinstance(self.beta, Fraction | int)
        )

    def as_dict(self) -> dict[str, Any]:
        """The instance's numbers (one prompt shown without its prompt axis)."""
        d = self.data
        out: dict[str, Any] = {"K": d.K, "M": d.M, "P": d.P if d.M > 1 else d.P[0]}
        out["mu0"] = d.mu0 if d.M > 1 else d.mu0[0]
        if not d.symmetric:
            out["mu1"] = d.mu1 if d.M > 1 else d.mu1[0]
        if d.M > 1:
            out["rho"] = d.rho
        ref = np.asarray(self.pi_ref)
        out["pi_ref"] = ref if d.M > 1 else ref[0]
        out["beta"] = self.beta
        return out


#: ``terms(instance, pi) -> (a, v)`` with ``loss = -sum_k a_k log v_k`` exactly, or None.
LossTerms = Callable[[Instance, np.ndarray], tuple[list[Fraction], list[Fraction]] | None]


@dataclass(frozen=True)
class Contest:
    """A loss (lower is better) against a win rate (higher is better).

    ``loss(instance, pi) -> float``, ``win_rate(instance, pi) -> Number`` (exact on exact input),
    and optionally ``terms(instance, pi) -> (a, v)`` with ``loss = -sum_k a_k log v_k`` exactly
    (rational ``a_k >= 0``, ``v_k > 0``) or None when they are not rational, used to certify the
    loss order exactly; ``uses_reference`` False when the loss ignores ``pi_ref`` and ``beta``;
    ``batch(instance, pis)`` optionally evaluates ``(losses, win_rates)`` of ``N`` float models
    ``(N, M, K)`` at once (a fast screen; a pair it flags is re-judged one model at a time)."""

    name: str
    loss: Callable[[Instance, np.ndarray], float]
    win_rate: Callable[[Instance, np.ndarray], Number]
    terms: LossTerms | None = None
    uses_reference: bool = True
    batch: Callable[[Instance, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None


def _dpo_terms(inst: Instance, pi: np.ndarray) -> tuple[list, list] | None:
    """DPO with integer beta: ``sigmoid(beta log rho) = rho^beta / (1 + rho^beta)`` with the
    rational odds ``rho = (pi(i) / pi_ref(i)) / (pi(j) / pi_ref(j))``."""
    if not (inst.exact and is_exact(pi)):
        return None
    b = Fraction(inst.beta)
    if b.denominator != 1:
        return None
    w = winner_loser_distribution(inst.data)
    ref = np.asarray(inst.pi_ref)
    a, v = [], []
    for x, i, j in zip(*np.nonzero(w), strict=True):
        a.append(w[x, i, j])
        if i == j:
            v.append(Fraction(1, 2))
            continue
        p = ((pi[x, i] * ref[x, j]) / (pi[x, j] * ref[x, i])) ** b.numerator
        v.append(p / (1 + p))
    return a, v


def _sft_terms(side: str) -> LossTerms:
    def terms(inst: Instance, pi: np.ndarray) -> tuple[list, list] | None:
        if not (inst.data.exact and is_exact(pi)):
            return None
        t = sft_target(inst.data, side)  # type: ignore[arg-type]
        rho = inst.data.rho
        pairs = list(zip(*np.nonzero(t), strict=True))
        return [rho[x] * t[x, y] for x, y in pairs], [pi[x, y] for x, y in pairs]

    return terms


def _float_parts(inst: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    d = inst.data
    W = np.einsum("xij,xj->xi", to_float(d.P), to_float(data_anchor(d)))
    return to_float(winner_loser_distribution(d)), W, to_float(d.rho), to_float(inst.pi_ref)


def _dpo_batch(inst: Instance, pis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The DPO losses (the kernel on ``d = log pi - log pi_ref``, ``(N, M, K)``) and win rates of
    ``N`` full-support float models."""
    w, W, rho, ref = _float_parts(inst)
    losses = dpo_pair_loss(w, np.log(pis) - np.log(ref)[None], float(inst.beta))
    return losses, np.einsum("x,nxk,xk->n", rho, pis, W)


def _sft_batch(side: str) -> Callable[[Instance, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    def batch(inst: Instance, pis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, W, rho, _ = _float_parts(inst)
        t = to_float(sft_target(inst.data, side))  # type: ignore[arg-type]
        losses = -np.einsum("x,xk,nxk->n", rho, t, np.log(pis))
        wr = np.einsum("x,nxk,xk->n", rho, pis, W)
        return losses, (wr if side == "preferred" else -wr)

    return batch


DPO_CONTEST = Contest(
    "DPO",
    lambda inst, pi: dpo_loss(inst.data, pi, inst.pi_ref, inst.beta),
    lambda inst, pi: data_win_rate(inst.data, pi),
    _dpo_terms,
    batch=_dpo_batch,
)
SFT_CONTEST = Contest(
    "SFT",
    lambda inst, pi: sft_loss(inst.data, pi, "preferred"),
    lambda inst, pi: data_win_rate(inst.data, pi),
    _sft_terms("preferred"),
    uses_reference=False,
    batch=_sft_batch("preferred"),
)
SFT_DISPREFERRED_CONTEST = Contest(
    "SFT-dispreferred",
    lambda inst, pi: sft_loss(inst.data, pi, "dispreferred"),
    lambda inst, pi: -data_win_rate(inst.data, pi),  # trained to produce losers
    _sft_terms("dispreferred"),
    uses_reference=False,
    batch=_sft_batch("dispreferred"),
)
#: The contests by name.
CONTESTS = {c.name: c for c in (DPO_CONTEST, SFT_CONTEST, SFT_DISPREFERRED_CONTEST)}
