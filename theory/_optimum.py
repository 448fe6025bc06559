"""The optimum of a linear score minus a KL penalty, per prompt: shared by WRO and RLHF.

Internal to :mod:`theory` (called by :mod:`theory.wro`, :mod:`theory.methods.rlhf` and
:mod:`theory.methods.nlhf`, which document it).  For scores ``g_x`` (``(M, K)``) and ``beta > 0``
the maximiser of ``pi_x . g_x - beta KL(pi_x || pi_ref,x)`` is the Gibbs model
``pi*_x ∝ pi_ref,x exp(g_x / beta)`` with value ``beta log Z_x`` (:func:`gibbs_optimum`); for
``beta = 0`` every model supported on ``argmax_y g_x(y)`` (:func:`argmax_sets`).  Scores may
carry an infinite part: ``g = T n + f`` as ``T -> inf`` (the module docstring of
:mod:`theory.wro`), ranked lexicographically by ``(n, f)``.

**Every beta > 0.**  The value is evaluated as ``m + beta L`` with a shift ``m`` and
``L = log sum_y pi_ref(y) exp(u_y)``, ``u = (f - m) / beta`` (:func:`soft_value`): for small
``beta``, ``m = max_y f(y)`` and ``u <= 0`` (no overflow; ``u -> -inf`` off the argmax and the
value tends to ``m``); for large ``beta``, ``m = pi_ref . f`` and
``L = log1p(sum_y pi_ref(y) expm1(u_y))`` (no cancellation in ``log Z`` near 1; the value tends
to ``pi_ref . f``).  ``beta`` may be any positive
Fraction (``10**-400``, ``10**400``): ``(f - m) / beta`` is then formed exactly and rounded once.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from scipy.special import logsumexp

from .errors import Float64RangeError
from .numbers import Number, to_float

__all__ = [
    "TIE_TOL",
    "argmax_sets",
    "check_representable",
    "gibbs_optimum",
    "safe_float",
    "scaled",
    "soft_value",
    "times",
]


def check_representable(x: np.ndarray, finite: np.ndarray, what: str) -> None:
    """Raise :class:`Float64RangeError` where ``x`` is infinite although ``finite`` says the
    exact value is finite."""
    bad = np.flatnonzero(np.ravel(finite & ~np.isfinite(x)))
    if len(bad):
        raise Float64RangeError(
            f"{what} at prompt {int(bad[0])} is finite but beyond float64's range "
            "(|x| > 1.8e308); use a smaller beta or exact arithmetic"
        )


#: Float scores within ``TIE_TOL * (1 + |max|)`` of the maximum count as tied (beta = 0 argmax).
TIE_TOL = 1e-12
#: ``log1p`` is used for ``L`` while ``sum_y pi_ref(y) expm1(u_y)`` stays above this fraction of
#: ``-pi_ref(top)`` (no cancellation); below it ``logsumexp`` is exact enough.
LOG1P_RANGE = 0.5
#: Where every ``|u| = |f - m| / beta`` is below this, ``beta L`` is evaluated by its expansion
#: in ``1 / beta`` (exact to ``O(u^2)``; avoids subnormal ``u`` for ``beta`` near 1e308 and
#: beyond).
TAYLOR_BELOW = 1e-8


def safe_float(v: Any) -> float:
    """``float(v)`` with overflow rounded to ``+-inf`` (a huge Fraction has no float).

    >>> safe_float(Fraction(10**400)), safe_float(Fraction(1, 10**400))
    (inf, 0.0)
    """
    try:
        return float(v)
    except OverflowError:
        return float("inf") if v > 0 else float("-inf")


def _is_float_beta(beta: Number) -> bool:
    """True when ``beta`` is a float, or a Fraction whose float is normal (relative error
    ``2^-53``), so float arithmetic with it is as good as exact arithmetic on float data."""
    return isinstance(beta, float) or 1e-300 < beta < 1e300


def scaled(d: np.ndarray, beta: Number) -> np.ndarray:
    """``d / beta`` as floats (``(M, K)``; overflow -> ``+-inf``, underflow -> 0; ``-inf``
    entries stay ``-inf``); formed exactly, then rounded once, when ``d`` is exact (object)
    or ``beta`` has no normal float.

    >>> scaled(np.array([[-1.0, 0.0]]), Fraction(1, 10**400)).tolist()
    [[-inf, 0.0]]
    """
    if d.dtype != object and _is_float_beta(beta):
        with np.errstate(over="ignore"):
            return np.asarray(d, dtype=float) / float(beta)
    bq = Fraction(beta)
    out = np.empty(d.shape)
    for idx, v in np.ndenumerate(d):
        fv = float(v)
        out[idx] = fv if fv in (np.inf, -np.inf) else safe_float(Fraction(v) / bq)
    return out


def times(beta: Number, x: np.ndarray) -> np.ndarray:
    """``beta * x`` in floats for finite ``x``, also when ``beta`` overflows a float.

    >>> times(Fraction(10**400), np.array([0.0, 1e-500])).tolist()
    [0.0, 0.0]
    """
    x = np.asarray(x, dtype=float)
    if _is_float_beta(beta):
        return float(beta) * x
    bq = Fraction(beta)
    out = np.empty(x.shape)
    for idx, v in np.ndenumerate(x):
        out[idx] = v if not np.isfinite(v) else safe_float(bq * Fraction(float(v)))
    return out


def _log_partition(u: np.ndarray, ref: np.ndarray, top: np.ndarray) -> np.ndarray:
    """``L = log sum_{y in top} ref(y) exp(u_y)`` per row, with ``ref`` read as normalized (a
    float ``ref`` sums to 1 only up to rounding, which ``beta L`` would multiply): ``log(R / T) +
    log1p(sum ref expm1(u) / R)`` (``R = ref(top)``, ``T = ref`` total) while that sum is above
    ``-LOG1P_RANGE R``, else ``logsumexp``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        T = np.sum(ref, axis=1)
        R = np.sum(np.where(top, ref, 0.0), axis=1)
        S = np.sum(np.where(top, ref * np.expm1(np.where(top, u, 0.0)), 0.0), axis=1)
        lse = logsumexp(np.where(top, np.log(np.where(top, ref, 1.0)) + u, -np.inf), axis=1)
        near = S > -LOG1P_RANGE * R
        logRT = np.log(R / T)
        return np.where(near, logRT + np.log1p(np.where(near, S / R, 0.0)), lse - np.log(T))


def soft_value(
    f: np.ndarray, beta: Number, ref: np.ndarray, top: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``beta log sum_{y in top} ref(y) exp(f_y / beta)`` per row, stably for every ``beta > 0``.

    ``f`` ``(M, K)`` float or exact (object), ``ref`` float ``(M, K)``, ``top`` boolean (a
    nonempty subset of ``supp ref`` per row).  Returns ``(value, m, u, L)`` with ``m`` a shift
    per row (float), ``u = (f - m) / beta`` (``-inf`` off ``top``) and ``L`` the log partition
    of ``u``, so that ``value = m + beta L``.  The shift is the ``ref``-mean ``c`` of ``f`` on
    ``top`` when ``(max f - c) / beta <= 1`` (large ``beta``: ``u`` small, ``L`` by ``log1p``
    without underflow), else ``max f`` (small ``beta``: ``u <= 0``, no overflow).

    >>> v, *_ = soft_value(np.array([[0.0, 1.0]]), 1e20, np.array([[0.5, 0.5]]),
    ...                    np.ones((1, 2), bool))
    >>> float(v[0])                 # the beta -> inf limit pi_ref . f
    0.5
    """
    M, K = f.shape
    if f.dtype == object:
        rows = [np.flatnonzero(top[x]) for x in range(M)]
        m_x = [max(f[x, y] for y in ys) for x, ys in enumerate(rows)]
        c_x = [
            sum((Fraction(ref[x, y]) * f[x, y] for y in ys), Fraction(0))
            / sum((Fraction(ref[x, y]) for y in ys), Fraction(0))
            for x, ys in enumerate(rows)
        ]
        spread = np.array([m_x[x] - c_x[x] for x in range(M)], dtype=object)
        near = scaled(spread, beta) <= 1.0
        shift_x = [c_x[x] if near[x] else m_x[x] for x in range(M)]
        d = np.full((M, K), float("-inf"), dtype=object)
        for x, ys in enumerate(rows):
            for y in ys:
                d[x, y] = f[x, y] - shift_x[x]
        shift = np.array([float(v) for v in shift_x])
    else:
        m = np.max(np.where(top, f, -np.inf), axis=1)
        R = np.sum(np.where(top, ref, 0.0), axis=1)
        c = np.sum(np.where(top, ref * f, 0.0), axis=1) / R
        shift = np.where(scaled(m - c, beta) <= 1.0, c, m)
        d = np.where(top, f - shift[:, None], -np.inf)
    u = scaled(d, beta)
    L = _log_partition(u, ref, top)
    value = shift + times(beta, L)
    # huge beta: u is below ~1e-8 (possibly subnormal), so use the expansion
    # beta L = m1 + (m2 - m1^2) / (2 beta) + O(u^2), m_k = the ref-mean of d^k on top
    tiny = np.all(np.where(top, np.abs(u), 0.0) <= TAYLOR_BELOW, axis=1)
    if np.any(tiny):
        df = np.where(top, to_float(np.where(top, d, 0)), 0.0)
        R = np.sum(np.where(top, ref, 0.0), axis=1)
        m1 = np.sum(np.where(top, ref, 0.0) * df, axis=1) / R
        m2 = np.sum(np.where(top, ref, 0.0) * df * df, axis=1) / R
        first = m1 + scaled(((m2 - m1 * m1) / 2.0)[:, None], beta)[:, 0]
        with np.errstate(divide="ignore"):
            logRT = np.log(R / np.sum(ref, axis=1))
        value = np.where(tiny, shift + first + times(beta, logRT), value)
        L = np.where(tiny, logRT + scaled(first[:, None], beta)[:, 0], L)
    return value, shift, u, L


def argmax_sets(n: np.ndarray, f: np.ndarray, exact: bool, allowed: np.ndarray) -> np.ndarray:
    """Boolean ``(M, K)``: the lexicographic argmax of ``(n, f)`` over ``allowed`` per prompt
    (exact comparisons when ``exact``, else ties within :data:`TIE_TOL`).

    >>> z = np.zeros((1, 3))
    >>> argmax_sets(z, np.array([[1.0, 3.0, 3.0]]), False, np.ones((1, 3), bool)).tolist()
    [[False, True, True]]
    """
    if exact:
        out = np.zeros(f.shape, dtype=bool)
        for x in range(f.shape[0]):
            cand = [y for y in range(f.shape[1]) if allowed[x, y]]
            best = max(f[x, y] for y in cand)
            for y in cand:
                out[x, y] = f[x, y] == best
        return out
    n_m = np.where(allowed, n, -np.inf)
    top_n = n_m >= n_m.max(axis=1, keepdims=True) - TIE_TOL
    f_m = np.where(top_n, f, -np.inf)
    fmax = f_m.max(axis=1, keepdims=True)
    return top_n & (f_m >= fmax - TIE_TOL * (1.0 + np.abs(fmax)))


def gibbs_optimum(
    n: np.ndarray, f: np.ndarray, beta: Number, ref: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (limit) closed form per prompt: ``(pi (M, K), values (M,), certificate (M,))``.

    ``pi_x ∝ pi_ref,x exp(f_x / beta)`` on the responses of ``supp pi_ref,x`` with the largest
    ``n``; value ``beta log Z_x`` (``+-inf`` when that largest ``n`` is positive / negative),
    evaluated by :func:`soft_value` (any ``beta > 0``, float or Fraction; ``f`` float or exact);
    certificate ``|J(pi*) - beta log Z|`` with ``J = pi . f - beta KL(pi || pi_ref)`` recomputed
    from its definition (``KL`` from the log-probabilities ``log pi - log pi_ref = u - L``).

    >>> pi, v, c = gibbs_optimum(np.zeros((1, 2)), np.array([[0.0, np.log(3)]]), 1.0,
    ...                          np.array([[0.5, 0.5]]))
    >>> np.round(pi, 6).tolist(), round(float(v[0]), 6)
    ([[0.25, 0.75]], 0.693147)
    """
    reff = to_float(ref)
    allowed = reff > 0
    n_m = np.where(allowed, n, -np.inf)
    nmax = n_m.max(axis=1, keepdims=True)
    top = allowed & (n_m >= nmax - TIE_TOL)
    value, _, u, L = soft_value(f, beta, reff, top)
    with np.errstate(divide="ignore", invalid="ignore"):
        logratio = np.where(top, u - L[:, None], -np.inf)  # log pi - log pi_ref on top
        pi = np.where(top, reff * np.exp(logratio), 0.0)
        pi /= pi.sum(axis=1, keepdims=True)
        kl = np.sum(np.where(pi > 0, pi * np.where(top, logratio, 0.0), 0.0), axis=1)
    nmax = nmax[:, 0]
    finite = np.abs(nmax) <= TIE_TOL
    check_representable(value, finite, "the optimal value beta log Z")
    values = np.where(nmax > TIE_TOL, np.inf, np.where(nmax < -TIE_TOL, -np.inf, value))
    # certificate: J(pi*) from its definition (finite part, on the top class) vs beta log Z
    ff = to_float(np.where(top, f, 0)) if f.dtype == object else np.where(top, f, 0.0)
    with np.errstate(invalid="ignore"):
        direct = np.einsum("xi,xi->x", pi, ff) - times(beta, kl)
        cert = np.where(finite, np.abs(direct - value), 0.0)
    return pi, values, cert
