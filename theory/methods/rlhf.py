"""RLHF: a Bradley-Terry reward fitted by maximum likelihood, then the KL-regularized policy.

RLHF (docs/theory.md, "RLHF") fits the Bradley-Terry reward ``r`` (``(M, K)``) by maximum
likelihood on the preference data (the population :class:`~theory.data.PreferenceData` or a
sampled dataset; :mod:`theory.bradley_terry`), then maximizes

    E_pi[r] - beta sum_x rho_x KL(pi_x || pi_ref,x),

whose maximiser is ``pi_x ∝ pi_ref,x exp(r_x / beta)`` (``beta > 0``) or any model on
``argmax_y r_x(y)`` (``beta = 0``): the same closed form as the WRO optimum (:mod:`theory.wro`)
with scores ``r``.  If ``P`` is Bradley-Terry, ``logit P[y, y'] = r_y - r_y'`` and
``E_pi[r] - E_q[r] = WR_logit(pi; q)`` for every anchor ``q``: RLHF is logit-WRO.

Claim: ``RLHF-is-WRO`` (proofs_checks/rlhf_is_wro.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._optimum import argmax_sets, check_representable, gibbs_optimum, times
from ..bradley_terry import BradleyTerryBatchFit, fit_bradley_terry_data
from ..data import EmpiricalPreferences, PreferenceData, PreferenceDataset, data_anchor
from ..errors import InvalidParameterError, ShapeMismatchError
from ..kernels import check_beta, kl_rows
from ..numbers import as_array, to_float
from ..simplex import validate_distribution, validate_model

__all__ = ["RLHFPolicy", "rlhf_objective", "rlhf_policy"]


def rlhf_objective(r: Any, pi: Any, beta: Any, pi_ref: Any = None, rho: Any = None) -> float:
    """``E_pi[r] - beta sum_x rho_x KL(pi_x || pi_ref,x) = sum_x rho_x (pi_x . r_x - beta KL)``.

    ``r`` (finite) and models ``(K,)`` or ``(M, K)`` (``M, K >= 1``); ``rho`` a probability
    vector ``(M,)`` (default uniform); ``beta >= 0`` float or Fraction (any size: ``beta KL`` is
    formed without overflow); ``pi_ref`` needed when ``beta > 0``.  Float; ``-inf`` when ``pi``
    puts mass where ``pi_ref`` (on a prompt with ``rho_x > 0``) has none.  Bad shapes raise
    :class:`~theory.errors.ShapeMismatchError`, a ``rho`` that is not a distribution
    :class:`~theory.errors.NotAProbabilityVectorError`.

    >>> round(rlhf_objective([1.0, 0.0], [0.5, 0.5], 0.0), 6)
    0.5
    """
    b = check_beta(beta)
    r_arr = to_float(as_array(r, name="r"))
    r2 = r_arr[None] if r_arr.ndim == 1 else r_arr
    if r2.ndim != 2 or 0 in r2.shape:
        raise ShapeMismatchError(
            f"r has shape {r_arr.shape}, expected (K,) or (M, K) with M, K >= 1"
        )
    pi2 = to_float(validate_model(pi, name="pi", K=r2.shape[1]))
    if pi2.shape != r2.shape:
        raise ShapeMismatchError(f"pi has shape {pi2.shape}, expected {r2.shape}")
    M = r2.shape[0]
    rho_f = np.full(M, 1.0 / M) if rho is None else to_float(validate_distribution(rho, name="rho"))
    if rho_f.shape != (M,):
        raise ShapeMismatchError(f"rho has shape {rho_f.shape}, expected ({M},)")
    live = rho_f > 0
    val = float(rho_f[live] @ np.einsum("xi,xi->x", pi2[live], r2[live]))
    if not b > 0:
        return val
    if pi_ref is None:
        raise InvalidParameterError("beta > 0 needs a reference model pi_ref")
    ref2 = to_float(validate_model(pi_ref, name="pi_ref", K=r2.shape[1]))
    if ref2.shape != r2.shape:
        raise ShapeMismatchError(f"pi_ref has shape {ref2.shape}, expected {r2.shape}")
    kl = np.array([float(rho_f[live] @ kl_rows(pi2[live], ref2[live]))])
    pen = times(b, kl)
    check_representable(pen, np.isfinite(kl), "beta sum_x rho_x KL(pi_x || pi_ref,x)")
    return val - float(pen[0])


@dataclass(frozen=True)
class RLHFPolicy:
    """The RLHF policy with its reward model and certificates.

    ``pi`` ``(M, K)``: ``∝ pi_ref exp(r / beta)`` (``beta > 0``) or uniform on ``argmax r``
    (``beta = 0``); ``rewards`` ``(M, K)``: the Bradley-Terry MLE; ``fit``: the
    :class:`~theory.bradley_terry.BradleyTerryBatchFit` (its ``gradient_norm`` certifies the
    reward); ``value``: ``E_pi[r] - beta KL`` under the source's ``rho``; ``certificate``: the
    policy step's optimality gap (as in :class:`~theory.wro.WROSolution`).
    """

    pi: np.ndarray
    rewards: np.ndarray
    fit: BradleyTerryBatchFit
    value: float
    argmax: tuple[tuple[int, ...], ...] | None
    certificate: float


def _weights_and_reference(
    source: PreferenceData | PreferenceDataset | EmpiricalPreferences, M: int, K: int
) -> tuple[np.ndarray, np.ndarray]:
    """The prompt weights ``rho`` of ``source`` and its default reference: the data anchor
    (population) or uniform (samples)."""
    if isinstance(source, PreferenceData):
        return to_float(source.rho), to_float(data_anchor(source))
    if isinstance(source, PreferenceDataset):
        counts = np.bincount(source.x, minlength=M)
        rho = counts / counts.sum()
    else:
        rho = to_float(source.rho)
    return rho, np.full((M, K), 1.0 / K)


def rlhf_policy(
    source: PreferenceData | PreferenceDataset | EmpiricalPreferences,
    beta: Any,
    pi_ref: Any = None,
) -> RLHFPolicy:
    """RLHF: Bradley-Terry reward by maximum likelihood from ``source`` (population
    :class:`~theory.data.PreferenceData`, a sampled :class:`~theory.data.PreferenceDataset` or its
    :class:`~theory.data.EmpiricalPreferences`), then the KL-regularized policy
    ``pi_x ∝ pi_ref,x exp(r_x / beta)`` (docs/theory.md, RLHF).  ``pi_ref`` defaults to the data
    anchor (population) or uniform (samples).  Responses in no comparison get reward 0 (the MLE
    leaves them free).  Raises :class:`~theory.errors.NoMaximumLikelihoodError` when the MLE does
    not exist, :class:`~theory.errors.BradleyTerryPrecisionError` when float64 cannot
    resolve it (odds beyond about ``1e300``), and :class:`~theory.errors.InvalidParameterError`
    for ``beta < 0``.  Any ``beta >= 0``, float or Fraction (the policy step is evaluated
    stably, see :mod:`theory._optimum`).

    >>> from fractions import Fraction
    >>> from theory.preferences import bradley_terry_from_strengths
    >>> D = PreferenceData(P=bradley_terry_from_strengths([1, 3]), mu0=[Fraction(1, 2)] * 2)
    >>> np.round(rlhf_policy(D, 1.0).pi, 6).tolist()   # pi ∝ mu * s when beta = 1
    [[0.25, 0.75]]
    """
    b = check_beta(beta)
    fit = fit_bradley_terry_data(source)
    r = fit.rewards
    M, K = r.shape
    rho, default_ref = _weights_and_reference(source, M, K)
    ref = default_ref if pi_ref is None else to_float(validate_model(pi_ref, name="pi_ref", K=K))
    if ref.shape != (M, K):
        raise ShapeMismatchError(f"pi_ref has shape {ref.shape}, expected {(M, K)}")
    zeros = np.zeros((M, K))
    if b > 0:
        pi, _, cert = gibbs_optimum(zeros, r, b, ref)
        argmax = None
        certificate = float(cert.max())
    else:
        top = argmax_sets(zeros, r, False, np.ones((M, K), dtype=bool))
        pi = top / top.sum(axis=1, keepdims=True)
        argmax = tuple(tuple(int(y) for y in np.flatnonzero(top[x])) for x in range(M))
        certificate = float(np.max(r.max(axis=1) - np.einsum("xi,xi->x", pi, r)))
    value = rlhf_objective(r, pi, b, ref, rho)
    return RLHFPolicy(
        pi=pi, rewards=r, fit=fit, value=value, argmax=argmax, certificate=certificate
    )
