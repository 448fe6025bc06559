"""Supervised fine-tuning (SFT) on preferred (or dispreferred) samples: losses and fixed points.

SFT on preferred samples maximises the likelihood of the winner ``y_w`` of each comparison drawn
from the preference data distribution ``D = (rho, mu0, mu1, P)`` (docs/theory.md, Definitions).  Its
population loss is the cross-entropy

    L_SFT(pi) = - sum_x rho_x sum_y p_w(x, y) log pi_x(y),

minimised exactly at the *winner distribution* (the SFT target)

    p_w(x, y) = Pr(y_w = y | x) = mu1_x(y) (P_x mu0_x)(y) + mu0_x(y) (P_x mu1_x)(y),

and on dispreferred samples at the loser distribution ``p_l = mu0 + mu1 - p_w``.  With
``mu0 = mu1 = mu`` this is ``p_w = 2 mu W_mu`` (``W_mu = P mu``) and

    WR(p_w; mu) = 1/2 + 2 Var_{y~mu}(W_mu(y)) <= 1,     WR(p_l; mu) = 1/2 - 2 Var_{y~mu}(W_mu(y)).

In general (``mu0 != mu1``, anchor ``q = (mu0 + mu1)/2``, ``W_a = P mu_a``):

    WR(p_w; q) = E_{y~mu1}[W_0(y) W_q(y)] + E_{y~mu0}[W_1(y) W_q(y)],

which reduces to the line above when ``mu0 = mu1``.  Targets and win rates are exact for rational
inputs; losses involve logarithms and are floats.  Claims ``SFT-closed-form``,
``SFT-no-consistency``, ``SFT-no-correspondence`` and ``mitigations``.  Best-of-``n`` filtering,
which raises SFT's ceiling (SFT itself is best-of-2 for a strict order), is in
:mod:`theory.methods.best_of_n`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal

import numpy as np

from .._exact import as_fmpq, fraction
from .._exact import winner_distribution as exact_winner
from ..data import PreferenceData, PreferenceDataset, check_data, check_dataset, data_anchor
from ..errors import InvalidParameterError, ShapeMismatchError
from ..numbers import Number, as_array, common_kind, is_exact, scalar, to_float
from ..preferences import validate_preference_matrix
from ..simplex import validate_distribution, validate_model
from ..winrate import response_win_rates, win_rate

__all__ = [
    "SFTSide",
    "sft_target",
    "winner_distribution",
    "loser_distribution",
    "sft_loss",
    "sft_sampled_loss",
    "sft_win_rate",
    "sft_win_rate_formula",
    "sft_variance_term",
]

SFTSide = Literal["preferred", "dispreferred"]


def _check_side(side: str) -> None:
    if side not in ("preferred", "dispreferred"):
        raise InvalidParameterError(f"side = {side!r}, expected 'preferred' or 'dispreferred'")


def winner_distribution(P: Any, mu0: Any, mu1: Any = None) -> np.ndarray:
    """``p_w(y) = mu1(y) (P mu0)(y) + mu0(y) (P mu1)(y)`` for one prompt: the distribution of the
    preferred response of a pair ``y0 ~ mu0``, ``y1 ~ mu1`` (``mu1`` defaults to ``mu0``).

    ``P`` is ``(K, K)``, ``mu0``, ``mu1`` are ``(K,)``; returns ``(K,)``, exact for exact inputs.

    >>> from theory.preferences import total_order
    >>> winner_distribution(total_order(2), [Fraction(1, 2)] * 2).tolist()
    [Fraction(3, 4), Fraction(1, 4)]
    """
    P_arr = validate_preference_matrix(P)
    m0 = validate_distribution(mu0, name="mu0")
    m1 = m0 if mu1 is None else validate_distribution(mu1, name="mu1")
    for name, m in (("mu0", m0), ("mu1", m1)):
        if m.shape[0] != P_arr.shape[0]:
            raise ShapeMismatchError(f"{name} has {m.shape[0]} entries but P is {P_arr.shape}")
    P_arr, m0, m1 = common_kind(P_arr, m0, m1)
    return m1 * (P_arr @ m0) + m0 * (P_arr @ m1)


def loser_distribution(P: Any, mu0: Any, mu1: Any = None) -> np.ndarray:
    """``p_l(y) = mu1(y) (P^T mu0)(y) + mu0(y) (P^T mu1)(y) = mu0(y) + mu1(y) - p_w(y)``: the
    distribution of the dispreferred response (one prompt, shapes as :func:`winner_distribution`).

    >>> from theory.preferences import total_order
    >>> loser_distribution(total_order(2), [Fraction(1, 2)] * 2).tolist()
    [Fraction(1, 4), Fraction(3, 4)]
    """
    P_arr = validate_preference_matrix(P)
    return winner_distribution(P_arr.T, mu0, mu1)


def sft_target(data: PreferenceData, side: SFTSide = "preferred") -> np.ndarray:
    """The population SFT optimum, one distribution per prompt, shape ``(M, K)``.

    ``side="preferred"``: ``p_w(x, .) = mu1_x (P_x mu0_x) + mu0_x (P_x mu1_x)``;
    ``side="dispreferred"``: ``p_l(x, .) = mu0_x + mu1_x - p_w(x, .)``.  Exact for exact data.
    It is the unique minimiser of :func:`sft_loss` (Gibbs' inequality).

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(3), mu0=[Fraction(1, 3)] * 3)
    >>> sft_target(D).tolist()
    [[Fraction(5, 9), Fraction(1, 3), Fraction(1, 9)]]
    """
    check_data(data)
    _check_side(side)
    fast = exact_winner(data.P, data.mu0, data.mu1, transpose=side != "preferred")
    if fast is not None:  # exact data, on integers
        return fast
    P = data.P if side == "preferred" else np.swapaxes(data.P, 1, 2)
    W0 = np.einsum("xij,xj->xi", P, data.mu0) if not data.exact else _stack_mv(P, data.mu0)
    W1 = np.einsum("xij,xj->xi", P, data.mu1) if not data.exact else _stack_mv(P, data.mu1)
    return data.mu1 * W0 + data.mu0 * W1


def _stack_mv(P: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.stack([P[x] @ v[x] for x in range(P.shape[0])])


def _cross_entropy(target: np.ndarray, pi: np.ndarray, rho: np.ndarray) -> float:
    """``- sum_x rho_x sum_y target(x, y) log pi(x, y)`` with ``0 log 0 = 0``; ``inf`` when the
    target has mass where ``pi`` has none."""
    t, p, r = to_float(target), to_float(pi), to_float(rho)
    weights = r[:, None] * t
    mask = weights > 0
    if np.any(p[mask] == 0):
        return float("inf")
    return float(-np.sum(weights[mask] * np.log(p[mask])))


def sft_loss(data: PreferenceData, pi: Any, side: SFTSide = "preferred") -> float:
    """Population SFT loss ``L(pi) = - sum_x rho_x sum_y p(x, y) log pi_x(y)`` with ``p = p_w``
    (preferred) or ``p_l`` (dispreferred); ``pi`` is ``(M, K)`` (or ``(K,)`` for one prompt).

    A float (nats); ``inf`` when ``pi`` gives zero mass to a response the target has.  Minimised
    at ``pi = sft_target(data, side)`` where it equals the target's entropy.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)
    >>> round(sft_loss(D, [Fraction(3, 4), Fraction(1, 4)]), 6)  # entropy of (3/4, 1/4)
    0.562335
    """
    check_data(data)
    pi_arr = validate_model(pi, name="pi", K=data.K)
    if pi_arr.shape[0] != data.M:
        raise ShapeMismatchError(f"pi has {pi_arr.shape[0]} prompts but the data has {data.M}")
    return _cross_entropy(sft_target(data, side), pi_arr, data.rho)


def sft_sampled_loss(dataset: PreferenceDataset, pi: Any, side: SFTSide = "preferred") -> float:
    """Finite-sample SFT loss ``- (1/n) sum_t log pi_{x_t}(y_t)`` with ``y_t`` the winner
    (``side="preferred"``) or the loser of comparison ``t``; ``pi`` is ``(M, K)``.

    Equals :func:`sft_loss` on the empirical distribution of ``dataset``.

    >>> from theory.data import sample_dataset
    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2)
    >>> ds = sample_dataset(D, 50, np.random.default_rng(0))
    >>> round(sft_sampled_loss(ds, [Fraction(1, 2)] * 2), 6)  # log 2 whatever the winners
    0.693147
    """
    check_dataset(dataset)
    _check_side(side)
    pi_arr = to_float(validate_model(pi, name="pi", K=dataset.K))
    if pi_arr.shape[0] != dataset.M:
        raise ShapeMismatchError(f"pi has {pi_arr.shape[0]} prompts but the data has {dataset.M}")
    if dataset.n == 0:
        raise InvalidParameterError("the dataset is empty: the sampled loss is undefined")
    ys = dataset.winners if side == "preferred" else dataset.losers
    probs = pi_arr[dataset.x, ys]
    if np.any(probs == 0):
        return float("inf")
    return float(-np.mean(np.log(probs)))


def sft_win_rate(data: PreferenceData, side: SFTSide = "preferred", q: Any = None) -> Number:
    """``WR(p; q)`` of the SFT optimum ``p`` (:func:`sft_target`) against ``q`` (default: the data
    anchor ``(mu0 + mu1) / 2``), computed directly as ``sum_x rho_x p_x^T P_x q_x``; exact for
    exact data.

    >>> from theory.preferences import total_order
    >>> sft_win_rate(PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2))
    Fraction(5, 8)
    """
    check_data(data)
    anchor = data_anchor(data) if q is None else validate_model(q, name="q", K=data.K)
    return win_rate(data.P, sft_target(data, side), anchor, data.rho)


def sft_variance_term(P: Any, mu: Any) -> Number:
    """``Var_{y~mu}(W_mu(y))`` with ``W_mu = P mu``, for one prompt (``P`` ``(K, K)``, ``mu``
    ``(K,)``); exact for exact inputs.  Its mean ``E_mu[W_mu] = mu^T P mu`` is 1/2.

    >>> from theory.preferences import total_order
    >>> sft_variance_term(total_order(2), [Fraction(1, 2)] * 2)
    Fraction(1, 16)
    """
    W = response_win_rates(P, mu)
    mu_arr = as_array(mu, name="mu")
    W, mu_arr = common_kind(W, mu_arr)
    W_f, mu_f = as_fmpq(W), as_fmpq(mu_arr)
    if W_f is not None and mu_f is not None:  # the same formula on python-flint rationals
        mean_f = mu_f @ W_f
        return fraction(mu_f @ ((W_f - mean_f) * (W_f - mean_f)))
    mean = mu_arr @ W
    return scalar(mu_arr @ ((W - mean) * (W - mean)), is_exact(W))


def _general_value(P: np.ndarray, mu0: np.ndarray, mu1: np.ndarray, side: str) -> Any:
    """``E_{mu1}[W_0 W_q] + E_{mu0}[W_1 W_q]`` (``1 - W_a`` for ``W_a`` when dispreferred) for one
    prompt, on arrays of any number type (floats, Fractions, python-flint rationals)."""
    W0, W1 = P @ mu0, P @ mu1
    Wq = (W0 + W1) / 2
    if side == "dispreferred":
        W0, W1 = 1 - W0, 1 - W1
    return mu1 @ (W0 * Wq) + mu0 @ (W1 * Wq)


def sft_win_rate_formula(data: PreferenceData, side: SFTSide = "preferred") -> Number:
    """The closed form of :func:`sft_win_rate` (against the data anchor), computed from the
    response win rates only, never from ``p_w``:

    * ``mu0 = mu1 = mu``: ``sum_x rho_x (1/2 +- 2 Var_{mu_x}(W_mu_x))`` (``+`` preferred,
      ``-`` dispreferred);
    * otherwise: ``sum_x rho_x (E_{mu1}[W_0 W_q] + E_{mu0}[W_1 W_q])`` for preferred and
      ``sum_x rho_x (E_{mu1}[(1 - W_0) W_q] + E_{mu0}[(1 - W_1) W_q])`` for dispreferred, where
      ``W_a = P mu_a`` and ``W_q = (W_0 + W_1) / 2``.

    Exact for exact data (claim ``SFT-closed-form``).

    >>> from theory.preferences import total_order
    >>> sft_win_rate_formula(PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2))
    Fraction(5, 8)
    """
    check_data(data)
    _check_side(side)
    sign = 1 if side == "preferred" else -1
    total: Any = Fraction(0) if data.exact else 0.0
    half = Fraction(1, 2) if data.exact else 0.5
    for x in range(data.M):
        value: Any
        if data.symmetric:
            value = half + sign * 2 * sft_variance_term(data.P[x], data.mu0[x])
        else:
            P_f, mu0_f, mu1_f = (as_fmpq(a) for a in (data.P[x], data.mu0[x], data.mu1[x]))
            if P_f is not None and mu0_f is not None and mu1_f is not None:
                value = fraction(_general_value(P_f, mu0_f, mu1_f, side))  # python-flint
            else:
                value = _general_value(data.P[x], data.mu0[x], data.mu1[x], side)
        total = total + data.rho[x] * value
    return scalar(total, data.exact)
