"""Win rates, h-win rates, response-level win rates and the covariance identity.

For one prompt with preference matrix ``P`` (``K x K``) and distributions ``pi``, ``q`` over K
responses (docs/theory.md, Definitions):

* win rate ``WR(pi; q) = pi^T P q``;
* response win rate ``W_q(y) = (P q)[y]``;
* h-win rate ``WR_h(pi; q) = sum_{y, y'} pi(y) q(y') h(P[y, y'])``;
* covariance identity ``WR(pi; q) - 1/2 = Cov_{y~q}(pi(y) / q(y), W_q(y))`` when ``pi << q``.

Over ``M`` prompts with weights ``rho``, ``P`` is ``(M, K, K)``, models are ``(M, K)`` and each
quantity is the ``rho``-weighted sum of its per-prompt values.  Exact inputs give exact Fractions;
any float input gives floats.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from ._exact import bilinear as exact_bilinear
from ._exact import matvec as exact_matvec
from ._exact import win_rate as exact_win_rate
from ._exact import win_rate_covariance as exact_covariance
from ._validate import prepare_models
from .data import PreferenceData, data_anchor
from .errors import (
    InvalidParameterError,
    NonFiniteInputError,
    NotAPreferenceMatrixError,
    NotAProbabilityVectorError,
    ShapeMismatchError,
    SupportMismatchError,
    UndefinedWinRateError,
)
from .hfuncs import HFunction, apply_h, as_h
from .numbers import Number, as_array, format_number, is_exact, scalar, to_float, truth_mask
from .preferences import PREF_TOL
from .simplex import SUM_TOL, validate_model

__all__ = [
    "win_rate",
    "h_win_rate",
    "response_win_rates",
    "win_rate_covariance",
    "data_win_rate",
    "win_rate_batch",
]

HLike = str | HFunction | Callable[[Any], Any]


def _bilinear(pi: np.ndarray, A: np.ndarray, q: np.ndarray, rho: np.ndarray) -> Any:
    """``sum_x rho_x pi_x^T A_x q_x`` for stacks; exact on object arrays (on integers when every
    entry is a Fraction: :func:`theory._exact.bilinear`)."""
    fast = exact_bilinear(pi, A, q, rho)
    if fast is not None:
        return fast
    if is_exact(A):
        return sum((rho[x] * (pi[x] @ A[x] @ q[x]) for x in range(A.shape[0])), Fraction(0))
    return float(rho @ np.einsum("xi,xij,xj->x", pi, A, q))


def win_rate(P: Any, pi: Any, q: Any, rho: Any = None) -> Number:
    """``WR(pi; q) = sum_x rho_x pi_x^T P_x q_x``: how often a draw from pi beats one from q.

    ``P`` is ``(K, K)`` with ``pi``, ``q`` of shape ``(K,)`` (one prompt), or ``(M, K, K)`` with
    ``(M, K)`` models and prompt weights ``rho`` (default uniform).  Ties count half.  Exact
    (Fraction) when every input is exact.  Implements the win-rate definition of docs/theory.md.

    >>> from theory.preferences import rock_paper_scissors
    >>> win_rate(rock_paper_scissors(), [1, 0, 0], [Fraction(1, 2), Fraction(1, 2), 0])
    Fraction(3, 4)
    """
    fast = exact_win_rate(P, pi, q, rho)  # valid all-Fraction input, on integers
    if fast is not None:
        return fast
    P3, (pi2, q2), rho_arr, _ = prepare_models(P, {"pi": pi, "q": q}, rho)
    return scalar(_bilinear(pi2, P3, q2, rho_arr), is_exact(P3))


def response_win_rates(P: Any, q: Any) -> np.ndarray:
    """``W_q(x, y) = (P_x q_x)[y]``: the win rate of the single response ``y`` against ``q``.

    Shape ``(K,)`` for one prompt, ``(M, K)`` for a stack.

    >>> from theory.preferences import total_order
    >>> response_win_rates(total_order(3), [Fraction(1, 3)] * 3).tolist()
    [Fraction(5, 6), Fraction(1, 2), Fraction(1, 6)]
    """
    P3, (q2,), _, single = prepare_models(P, {"q": q}, None)
    W = np.stack([_matvec(P3[x], q2[x]) for x in range(P3.shape[0])])
    return W[0] if single else W


def _matvec(A: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``A @ q``; on integers when every entry is a Fraction (:func:`theory._exact.matvec`)."""
    fast = exact_matvec(A, q)
    return A @ q if fast is None else fast


def _h_terms(
    H: np.ndarray, pi: np.ndarray, q: np.ndarray, rho: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The weights ``rho_x pi_x(y) q_x(y')`` with positive mass and their ``h(P)`` values."""
    weights = rho[:, None, None] * pi[:, :, None] * q[:, None, :]
    mask = weights > 0
    return weights[mask], H[mask]


def h_win_rate(P: Any, pi: Any, q: Any, h: HLike = "identity", rho: Any = None) -> Number:
    """``WR_h(pi; q) = sum_x rho_x sum_{y, y'} pi_x(y) q_x(y') h(P_x[y, y'])``.

    ``h`` is a registry name (``"identity"``, ``"logit"``, ``"log"``), an
    :class:`~theory.hfuncs.HFunction` or a strictly increasing callable.  Zero mass times an
    infinite ``h`` contributes zero; positive mass on ``+inf`` (or ``-inf``) gives that infinity;
    positive mass on both raises :class:`~theory.errors.UndefinedWinRateError`.  Exact when the
    inputs are exact and ``h`` is rational (identity).  Shapes as in :func:`win_rate`.

    >>> from theory.preferences import total_order
    >>> h_win_rate(total_order(2), [1, 0], [0, 1], "logit")
    inf
    >>> h_win_rate(total_order(2), [1, 0], [Fraction(1, 2), Fraction(1, 2)], "identity")
    Fraction(3, 4)
    """
    hf = as_h(h)
    P3, (pi2, q2), rho_arr, _ = prepare_models(P, {"pi": pi, "q": q}, rho)
    H = apply_h(hf, P3)
    if is_exact(H) and is_exact(pi2):
        return scalar(_bilinear(pi2, H, q2, rho_arr), True)
    pi2, q2, rho_arr = (np.asarray(a, dtype=np.float64) for a in (pi2, q2, rho_arr))
    weights, values = _h_terms(H, pi2, q2, rho_arr)
    pos, neg = np.any(values == np.inf), np.any(values == -np.inf)
    if pos and neg:
        raise UndefinedWinRateError(
            f"WR_h with h = {hf.name!r} puts positive mass on both h = +inf (a sure win) and "
            "h = -inf (a sure loss); the sum is undefined"
        )
    if pos or neg:
        return float("inf") if pos else float("-inf")
    return float(np.dot(weights, values))


def _positive(a: np.ndarray, *, undecided: bool) -> np.ndarray:
    """The mask ``a > 0``; a symbolic entry whose sign sympy cannot settle counts as
    ``undecided`` (:func:`theory.numbers.truth_mask`)."""
    try:
        return a > 0
    except TypeError:  # a sympy relation numpy cannot turn into a bool: symbolic entries
        return truth_mask(a, lambda v: v > 0, undecided=undecided)


def win_rate_covariance(P: Any, pi: Any, q: Any, rho: Any = None) -> Number:
    """``sum_x rho_x Cov_{y~q_x}(pi_x(y) / q_x(y), W_q(x, y))``, computed from its definition.

    The covariance identity of docs/theory.md says this equals ``WR(pi; q) - 1/2``.  Requires
    ``pi << q`` (``pi`` puts no mass where ``q`` has none), else raises
    :class:`~theory.errors.SupportMismatchError`.

    >>> from theory.preferences import total_order
    >>> win_rate_covariance(total_order(2), [1, 0], [Fraction(1, 2), Fraction(1, 2)])
    Fraction(1, 4)
    """
    fast = exact_covariance(P, pi, q, rho)  # valid all-Fraction input, on integers
    if fast is not None:
        return fast
    P3, (pi2, q2), rho_arr, _ = prepare_models(P, {"pi": pi, "q": q}, rho)
    bad = np.argwhere((q2 == 0) & _positive(pi2, undecided=False))
    if len(bad):
        x, y = (int(v) for v in bad[0])
        raise SupportMismatchError(
            f"pi[{x}, {y}] = {format_number(pi2[x, y])} but q[{x}, {y}] = 0: "
            "pi is not absolutely continuous with respect to q"
        )
    exact = is_exact(P3)
    total: Any = Fraction(0) if exact else 0.0
    for x in range(P3.shape[0]):
        support = _positive(q2[x], undecided=True)
        qs = q2[x][support]
        ratio = pi2[x][support] / qs
        W = _matvec(P3[x], q2[x])[support]
        mean_ratio, mean_W = qs @ ratio, qs @ W
        total += rho_arr[x] * (qs @ ((ratio - mean_ratio) * (W - mean_W)))
    return scalar(total, exact)


def data_win_rate(data: PreferenceData, pi: Any, h: HLike = "identity") -> Number:
    """The h-win rate of ``pi`` against the data: ``WR_h(pi; (mu0 + mu1) / 2)`` under ``rho``.

    This is the evaluation the uniqueness theorem singles out (docs/theory.md); see
    :func:`theory.data.data_anchor` for the anchor when ``mu0 != mu1``.
    """
    if not isinstance(data, PreferenceData):
        raise InvalidParameterError(
            f"data is a {type(data).__name__}, expected a PreferenceData (theory.data)"
        )
    pi_arr = validate_model(pi, name="pi", K=data.K)
    return h_win_rate(data.P, pi_arr, data_anchor(data), h, data.rho)


def win_rate_batch(P: Any, pi: Any, q: Any, *, validate: bool = True) -> np.ndarray:
    """Float win rates of ``N`` independent instances at once: ``out[n] = pi[n]^T P[n] q[n]``.

    ``P`` is ``(N, K, K)``, ``pi`` and ``q`` are ``(N, K)``; returns float64 ``(N,)``.  With
    ``validate=True`` every matrix and vector is checked (vectorised) first; ``validate=False``
    trusts the caller's values (the inner loop of a check that built valid instances itself) but
    still checks the types and shapes (:class:`~theory.errors.ShapeMismatchError`,
    :class:`~theory.errors.NotANumberError` for None, strings, complex numbers or generators).

    >>> from theory.preferences import total_order
    >>> win_rate_batch(np.stack([total_order(2, exact=False)] * 2),
    ...                  np.array([[1.0, 0.0], [0.0, 1.0]]), np.full((2, 2), 0.5))
    array([0.75, 0.25])
    """
    if not isinstance(validate, bool):
        raise InvalidParameterError(f"validate = {validate!r}, expected True or False")
    P_arr, pi_arr, q_arr = (_float_batch(a, name) for a, name in ((P, "P"), (pi, "pi"), (q, "q")))
    _check_batch_shapes(P_arr, pi_arr, q_arr)
    if validate:
        _validate_batch(P_arr, pi_arr, q_arr)
    Pq = np.matmul(P_arr, q_arr[:, :, None])[:, :, 0]
    return np.einsum("nk,nk->n", pi_arr, Pq)


#: Instances validated per block in :func:`win_rate_batch` (cache-sized temporaries).
_BATCH_CHUNK = 256


def _float_batch(a: Any, name: str) -> np.ndarray:
    """A batch argument as a float64 array: a float or integer numpy array directly, anything
    else through :func:`theory.numbers.as_array` (named errors for None, strings, complex
    numbers, generators and ragged input)."""
    if isinstance(a, np.ndarray) and a.dtype.kind in "fiu":
        return np.asarray(a, dtype=np.float64)
    return to_float(as_array(a, name=name))


def _check_batch_shapes(P: np.ndarray, pi: np.ndarray, q: np.ndarray) -> None:
    """``P`` is ``(N, K, K)`` with ``K >= 1`` and ``pi``, ``q`` are ``(N, K)`` (checked even with
    ``validate=False``: a wrong shape would otherwise broadcast or fail deep in numpy)."""
    if P.ndim != 3 or P.shape[1] != P.shape[2] or P.shape[1] == 0:
        raise ShapeMismatchError(f"P has shape {P.shape}, expected (N, K, K) with K >= 1")
    N, K = P.shape[0], P.shape[1]
    for name, m in (("pi", pi), ("q", q)):
        if m.shape != (N, K):
            raise ShapeMismatchError(f"{name} has shape {m.shape}, expected {(N, K)}")


def _validate_batch(P: np.ndarray, pi: np.ndarray, q: np.ndarray) -> None:
    """Vectorised validation of a batch (same conditions as the single forms).

    The fast path is a few reductions (NaN propagates through ``min``/``max``, so it fails them);
    only a failing batch is searched for the offending entry to name it.
    """
    _check_batch_shapes(P, pi, q)
    N = P.shape[0]
    if N == 0:
        return
    for name, a in (("P", P), ("pi", pi), ("q", q)):
        if not np.isfinite(a.min() + a.max()):
            idx = tuple(int(v) for v in np.argwhere(~np.isfinite(a))[0])
            raise NonFiniteInputError(f"{name}{list(idx)} is {a[idx]}, expected a finite number")
    for start in range(0, N, _BATCH_CHUNK):  # chunks keep the temporaries in cache
        block = P[start : start + _BATCH_CHUNK]
        dev = block + block.transpose(0, 2, 1)
        dev -= 1.0
        np.abs(dev, out=dev)
        if block.min() >= 0 and block.max() <= 1 and dev.max() <= PREF_TOL:
            continue
        off = (dev > PREF_TOL) | (block < 0) | (block > 1)
        n, i, j = (int(v) for v in np.argwhere(off)[0])
        raise NotAPreferenceMatrixError(
            f"P[{start + n}]: P[{i}, {j}] = {block[n, i, j]}, P[{j}, {i}] = {block[n, j, i]}; "
            "expected entries in [0, 1] summing to 1"
        )
    for name, m in (("pi", pi), ("q", q)):
        bad = (np.abs(m.sum(axis=1) - 1.0) > SUM_TOL) | np.any(m < 0, axis=1)
        if np.any(bad):
            n = int(np.flatnonzero(bad)[0])
            raise NotAProbabilityVectorError(
                f"{name}[{n}] = {m[n].tolist()} is not a probability vector (sum {m[n].sum()})"
            )
