"""KTO (2402.01306; TRL's ``KTOTrainer``, ``loss_type="kto"``) on unpaired feedback.

On :class:`theory.feedback.UnpairedData` (``y ~ mu``, desirable with probability ``g(y)``),
with ``d(y) = log pi(y) - log pi_ref(y)``, TRL's per-example losses are
``lambda_D (1 - sigma(beta (d(y) - z0)))`` for a desirable ``y`` and
``lambda_U (1 - sigma(beta (z0 - d(y))))`` for an undesirable one (``desirable_weight``,
``undesirable_weight``, both 1 by default), averaged over the batch, so the population loss is

    L(pi) = sum_x rho_x sum_y mu_x(y) [g lambda_D (1 - sigma(beta (d - z0)))
                                       + (1 - g) lambda_U (1 - sigma(beta (z0 - d)))],

with the reference point ``z0`` carrying no gradient (``.detach()``), one scalar per batch:

* ``z0 = "kl"``: the paper's ``z0 = sum_x rho_x KL(pi_x || pi_ref,x)``;
* ``z0 = "trl"``: TRL's batch estimate from mismatched pairs (each prompt paired with another
  example's completion ``y'``), clamped at 0: ``z0 = max(0, sum_x rho_x sum_y mbar(y) d_x(y))``,
  ``mbar = sum_x rho_x mu_x``.  The ``y'`` come from the data, not from ``pi``, so this is
  ``E_mu[log pi/pi_ref] = KL(mu || pi_ref) - KL(mu || pi)``, not ``KL(pi || pi_ref)``; it is
  ``-inf`` (clamped to 0) as soon as ``pi`` drops a response the data shows.

With ``c(y) = mu(y) (lambda_D g(y) - lambda_U (1 - g(y)))`` the loss is, per response, falling
in ``d`` where ``c > 0`` and rising where ``c < 0``: the semi-gradient fixed point (gradient with
``z0`` held, ``z0`` then equal to its value at ``pi``) puts no mass where ``c <= 0`` and solves
``c(y) beta sigma'(beta (d(y) - z0)) = Lambda pi(y)`` on ``S = {c > 0}``.  For ``0 < beta < 1``
this has one solution per ``z0`` (``log sigma'(beta u) - u`` is strictly decreasing), found by
nested bisection; then ``z0`` by a scalar root.  As ``beta -> 0``, ``sigma' -> 1/4``:

    pi -> c_+ / sum c_+,   i.e.  pi ∝ mu (lambda_D g - lambda_U (1 - g))_+,

spread over every response with ``g > lambda_U / (lambda_D + lambda_U)``, not the argmax of
``g`` (the best response): KTO is not consistent (claim ``KTO-no-consistency``); since
``WR(pi; mu) = 1/2 + (E_pi g - E_mu g)/2`` (claim ``unpaired-win-rate-is-desirability``) its
shortfall is ``(max g - E_pi g) / 2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit, log_expit

from .._validate import prompt_model
from ..errors import InvalidParameterError, ShapeMismatchError
from ..feedback.unpaired import UnpairedData
from ..kernels import check_beta
from ..numbers import as_array, is_exact, to_float
from ..simplex import validate_model

__all__ = [
    "Z0_RULES",
    "KTO_TOL",
    "KTOMinimizer",
    "kto_weights",
    "kto_reference_point",
    "kto_loss",
    "kto_limit",
    "kto_minimizer",
]

Z0Rule = Literal["kl", "trl"]
#: The two reference points ``z0`` (module docstring).
Z0_RULES = ("kl", "trl")
#: Bisection tolerance of the fixed-point solver (on ``u`` and on ``log Lambda``).
KTO_TOL = 1e-13


def _check(data: Any) -> UnpairedData:
    if not isinstance(data, UnpairedData):
        raise InvalidParameterError(
            f"data is {data!r:.60} (type {type(data).__name__}), expected an UnpairedData"
        )
    return data


def _lambdas(lambda_d: Any, lambda_u: Any) -> tuple[Any, Any]:
    out = []
    for name, v in (("lambda_d", lambda_d), ("lambda_u", lambda_u)):
        a = as_array(v, name=name)
        if a.ndim != 0 or not a[()] > 0:
            raise InvalidParameterError(f"{name} = {v!r}, expected a number > 0")
        out.append(a[()])
    return out[0], out[1]


def kto_weights(data: UnpairedData, lambda_d: Any = 1, lambda_u: Any = 1) -> np.ndarray:
    """``c[x, y] = mu_x(y) (lambda_D g_x(y) - lambda_U (1 - g_x(y)))`` ``(M, K)`` (module
    docstring); exact for exact input.

    >>> from theory.feedback import UnpairedData
    >>> kto_weights(UnpairedData(g=[1, Fraction(1, 4)], mu=[Fraction(1, 2)] * 2)).tolist()
    [[Fraction(1, 2), Fraction(-1, 4)]]
    """
    _check(data)
    ld, lu = _lambdas(lambda_d, lambda_u)
    if not (is_exact(data.g) and isinstance(ld, Fraction) and isinstance(lu, Fraction)):
        g, mu = to_float(data.g), to_float(data.mu)
        return mu * (float(ld) * g - float(lu) * (1 - g))
    return data.mu * (ld * data.g - lu * (1 - data.g))


def kto_reference_point(data: UnpairedData, pi: Any, pi_ref: Any, z0: Z0Rule = "kl") -> float:
    """``z0`` at ``pi`` under the rule ``"kl"`` or ``"trl"`` (module docstring), float.

    >>> from theory.feedback import UnpairedData
    >>> D = UnpairedData(g=[1, 0], mu=[Fraction(1, 2)] * 2)
    >>> kto_reference_point(D, [1, 0], [Fraction(1, 2)] * 2, "trl")   # E_mu d = -inf, clamped
    0.0
    """
    _check(data)
    p, ref = _models(data, pi, pi_ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(p > 0, np.log(p) - np.log(ref), -np.inf)
    return _z0(data, p, d, ref, _rule(z0))


def _rule(z0: Any) -> str:
    if z0 not in Z0_RULES:
        raise InvalidParameterError(f"z0 = {z0!r}, expected one of {list(Z0_RULES)}")
    return str(z0)


def _models(data: UnpairedData, pi: Any, pi_ref: Any) -> tuple[np.ndarray, np.ndarray]:
    p = to_float(validate_model(pi, name="pi", K=data.K))
    ref = to_float(validate_model(pi_ref, name="pi_ref", K=data.K))
    for name, m in (("pi", p), ("pi_ref", ref)):
        if m.shape[0] != data.M:
            raise ShapeMismatchError(f"{name} has {m.shape[0]} prompts but the data has {data.M}")
    if np.any((p > 0) & (ref == 0)):
        raise InvalidParameterError("pi puts mass where pi_ref has none: d = log(pi/pi_ref) = +inf")
    return p, ref


def _z0(data: UnpairedData, p: np.ndarray, d: np.ndarray, ref: np.ndarray, rule: str) -> float:
    rho = to_float(data.rho)
    if rule == "kl":
        terms = np.where(p > 0, p * np.where(p > 0, d, 0.0), 0.0)
        return float(rho @ terms.sum(axis=1))
    mbar = rho @ to_float(data.mu)
    with np.errstate(invalid="ignore"):
        e = np.where(mbar[None, :] > 0, mbar[None, :] * d, 0.0).sum(axis=1)
    val = float(rho @ e)
    return max(0.0, val) if np.isfinite(val) else 0.0


def kto_loss(
    data: UnpairedData,
    pi: Any,
    pi_ref: Any,
    beta: Any = Fraction(1, 10),
    z0: Z0Rule = "kl",
    lambda_d: Any = 1,
    lambda_u: Any = 1,
) -> float:
    """The population KTO loss of ``pi`` with ``z0`` evaluated at ``pi`` (module docstring),
    float; a response with no mass has ``d = -inf`` (its terms take their limits).

    >>> from theory.feedback import UnpairedData
    >>> D = UnpairedData(g=[1, 0], mu=[Fraction(1, 2)] * 2)
    >>> kto_loss(D, [Fraction(1, 2)] * 2, [Fraction(1, 2)] * 2)    # d = 0, z0 = 0: both 1/2
    0.5
    """
    _check(data)
    b = float(check_beta(beta, positive=True))
    ld, lu = (float(v) for v in _lambdas(lambda_d, lambda_u))
    p, ref = _models(data, pi, pi_ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)) - np.log(ref), -np.inf)
    zz = _z0(data, p, d, ref, _rule(z0))
    g, mu, rho = to_float(data.g), to_float(data.mu), to_float(data.rho)
    s = expit(b * (d - zz))  # sigma(-inf) = 0: the limits
    per = mu * (g * ld * (1 - s) + (1 - g) * lu * s)
    return float(rho @ per.sum(axis=1))


def kto_limit(data: UnpairedData, lambda_d: Any = 1, lambda_u: Any = 1) -> np.ndarray:
    """KTO's ``beta -> 0`` minimizer ``pi ∝ c_+`` ``(M, K)`` (module docstring), exact for
    exact input.  Raises :class:`~theory.errors.InvalidParameterError` when some prompt has no
    response with ``c > 0`` (no desirable-leaning response: the limit is not defined).

    >>> from theory.feedback import UnpairedData
    >>> F = Fraction
    >>> kto_limit(UnpairedData(g=[1, F(5, 6), F(1, 6)], mu=[F(1, 5), F(1, 5), F(3, 5)])).tolist()
    [[Fraction(3, 5), Fraction(2, 5), Fraction(0, 1)]]
    """
    c = kto_weights(data, lambda_d, lambda_u)
    pos = np.where(c > 0, c, 0 * c)
    tot = pos.sum(axis=1, keepdims=True)
    if np.any(to_float(tot) == 0):
        x = int(np.flatnonzero(to_float(tot)[:, 0] == 0)[0])
        raise InvalidParameterError(
            f"prompt {x}: no response has lambda_D g > lambda_U (1 - g) with mu > 0"
        )
    return pos / tot


def _phi(u: np.ndarray, b: float) -> np.ndarray:
    """``log(beta sigma'(beta u)) - u``, strictly decreasing for ``beta < 1``."""
    return np.log(b) + log_expit(b * u) + log_expit(-b * u) - u


def _solve_u(t: np.ndarray, b: float) -> np.ndarray:
    """``u`` with ``_phi(u) = t`` (vectorized bisection on a bracket that is expanded)."""
    lo, hi = np.full_like(t, -1.0), np.full_like(t, 1.0)
    while np.any(_phi(lo, b) < t):
        lo = np.where(_phi(lo, b) < t, 2 * lo, lo)
    while np.any(_phi(hi, b) > t):
        hi = np.where(_phi(hi, b) > t, 2 * hi, hi)
    for _ in range(200):
        mid = (lo + hi) / 2
        big = _phi(mid, b) > t
        lo, hi = np.where(big, mid, lo), np.where(big, hi, mid)
        if np.all(hi - lo <= KTO_TOL * (1 + np.abs(mid))):
            break
    return (lo + hi) / 2


def _prompt_policy(c: np.ndarray, ref: np.ndarray, z0: float, b: float) -> np.ndarray:
    """One prompt's ``pi`` for a given ``z0`` (module docstring): ``u_y`` from
    ``phi(u_y) = log(Lambda ref_y / c_y)`` with ``Lambda`` such that ``sum ref e^u = e^-z0``."""
    S = c > 0
    logc, logr = np.log(c[S]), np.log(ref[S])
    target = -z0

    def excess(logL: float) -> float:
        u = _solve_u(logL + logr - logc, b)
        return float(np.logaddexp.reduce(logr + u)) - target

    lo, hi = -1.0, 1.0
    while excess(lo) < 0:
        lo *= 2
    while excess(hi) > 0:
        hi *= 2
    logL = brentq(excess, lo, hi, xtol=KTO_TOL, rtol=4 * np.finfo(float).eps)
    u = _solve_u(logL + logr - logc, b)
    pi = np.zeros_like(c)
    pi[S] = np.exp(logr + u + z0)
    return pi / pi.sum()


@dataclass(frozen=True)
class KTOMinimizer:
    """KTO's semi-gradient fixed point: ``pi`` ``(M, K)``, the reference point ``z0`` it is
    consistent with, the rule, and the certificate ``residual`` = max of the stationarity
    spread ``|c beta sigma'(beta (d - z0)) / pi - Lambda|`` (relative, on the support) and
    ``|z0 - z0(pi)|``."""

    pi: np.ndarray
    z0: float
    rule: str
    residual: float


def _residual(c: np.ndarray, pi: np.ndarray, ref: np.ndarray, z0: float, b: float) -> float:
    worst = 0.0
    for x in range(pi.shape[0]):
        S = c[x] > 0
        d = np.log(pi[x, S]) - np.log(ref[x, S])
        lam = c[x, S] * b * expit(b * (d - z0)) * expit(-b * (d - z0)) / pi[x, S]
        worst = max(worst, float(np.ptp(lam) / lam.mean()))
    return worst


def kto_minimizer(
    data: UnpairedData,
    pi_ref: Any,
    beta: Any = Fraction(1, 10),
    z0: Z0Rule = "kl",
    lambda_d: Any = 1,
    lambda_u: Any = 1,
) -> KTOMinimizer:
    """KTO's population fixed point at ``0 < beta < 1`` (module docstring), with its residual.

    ``beta >= 1`` raises :class:`~theory.errors.InvalidParameterError` (the stationarity
    equation is then not monotone; several fixed points may exist), as does a prompt without a
    response with ``c > 0`` (:func:`kto_limit`) or ``pi_ref`` without mass on one that has.

    >>> from theory.feedback import UnpairedData
    >>> F = Fraction
    >>> D = UnpairedData(g=[1, F(5, 6), F(1, 6)], mu=[F(1, 5), F(1, 5), F(3, 5)])
    >>> sol = kto_minimizer(D, [F(1, 3)] * 3, beta=F(1, 100))
    >>> np.round(sol.pi[0], 3).tolist(), sol.residual < 1e-9
    ([0.6, 0.4, 0.0], True)
    """
    _check(data)
    b = float(check_beta(beta, positive=True))
    if b >= 1:
        raise InvalidParameterError(f"beta = {beta!r}, expected 0 < beta < 1 (module docstring)")
    rule = _rule(z0)
    kto_limit(data, lambda_d, lambda_u)  # the support check
    c = to_float(kto_weights(data, lambda_d, lambda_u))
    ref = to_float(prompt_model(pi_ref, "pi_ref", data.M, data.K))
    if np.any((c > 0) & (ref == 0)):
        raise InvalidParameterError("pi_ref has no mass on a response with c > 0")

    def policy(zz: float) -> np.ndarray:
        return np.stack([_prompt_policy(c[x], ref[x], zz, b) for x in range(data.M)])

    def gap(zz: float) -> float:
        p = policy(zz)
        with np.errstate(divide="ignore"):
            d = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)) - np.log(ref), -np.inf)
        return _z0(data, p, d, ref, rule) - zz

    top = float(np.max(-np.log(ref[c > 0]))) + 1.0
    zz = 0.0 if gap(0.0) <= 0 else brentq(gap, 0.0, top, xtol=KTO_TOL)
    pi = policy(zz)
    res = max(_residual(c, pi, ref, zz, b), abs(gap(zz)))
    return KTOMinimizer(pi, float(zz), rule, res)
