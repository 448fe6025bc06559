"""Win rate optimization (WRO): the objective and its exact optima.

The WRO objective (docs/theory.md, "WRO objective") over ``M`` prompts with weights ``rho`` is

    J(pi) = WR_h(pi; q) - beta * sum_x rho_x KL(pi_x || pi_ref,x),

with ``P`` the preference matrices (``(M, K, K)``, or ``(K, K)`` for one prompt), ``pi``,
``pi_ref`` and a fixed anchor ``q`` models (``(M, K)`` or ``(K,)``), a registered strictly
increasing ``h`` and ``beta >= 0``.  The anchor is a fixed model (a reference model, or the data
distribution :func:`theory.data.data_anchor`) or ``"self"`` (self-play: the competitor is the
model itself, and the optimum is an equilibrium rather than a maximiser).

Optima (:func:`wro_optimum`), each with a certificate:

* fixed anchor, ``beta > 0``: ``pi*_x ∝ pi_ref,x exp(g_x / beta)`` with the *scores*
  ``g_x = h(P_x) q_x`` (``g_x(y) = sum_y' q_x(y') h(P_x[y, y'])``) and
  ``J(pi*) = beta sum_x rho_x log Z_x``.  Certificate: ``|J(pi*) - beta log Z|`` recomputed from the
  definition of ``J`` (the identity ``J(pi) = beta log Z - beta KL(pi || pi*)`` makes ``pi*`` the
  unique maximiser);
* fixed anchor, ``beta = 0``: every model supported on ``argmax_y g_x(y)`` (the whole set,
  ties included, exact when rational); certificate ``max_y g - pi . g`` (0);
* self-play, ``beta = 0`` (``h = identity``): the maximal lottery
  (:func:`theory.lottery.maximal_lottery`), certificate its gap;
* self-play, ``beta > 0`` (``h = identity``, NLHF): the regularized Nash equilibrium
  (:func:`theory.methods.nlhf.regularized_nash`), certificate its fixed-point residual.

**Infinite scores** (our formalization's choice, kept here).  For ``h = logit`` or ``log`` an entry
``P[y, y'] in {0, 1}`` makes ``h`` infinite, and ``g(y)`` may be ``+inf``, ``-inf`` or even
``+inf - inf``.  The optimum is then *defined as the limit* of the optimum for the clipped
``h_T = clip(h, -T, T)`` as ``T -> inf``: writing ``g_T(y) = T n(y) + f(y) + o(1)`` with
``n(y) = q{y': h(P[y,y']) = +inf} - q{y': h(P[y,y']) = -inf}`` and ``f`` the finite part, the limit
optimum ranks responses lexicographically by ``(n, f)``: it is the closed form restricted to the
responses (of ``supp pi_ref``) with the largest ``n``, and its value is ``+inf`` / ``-inf`` when
that largest ``n`` is positive / negative, else the finite limit.  No NaN is ever produced.

The training methods that are instances of WRO live in :mod:`theory.methods`: RLHF
(:mod:`theory.methods.rlhf`, logit-WRO when ``P`` is Bradley-Terry) and NLHF
(:mod:`theory.methods.nlhf`, self-play WRO with ``beta > 0``).  Claims: ``WRO-closed-form``,
``WRO-correspondence``, ``WRO-consistency`` (proofs_checks/).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ._optimum import TIE_TOL, argmax_sets, check_representable, gibbs_optimum, times
from ._validate import prepare_models
from .data import PreferenceData, data_anchor
from .errors import InvalidParameterError, UndefinedWinRateError
from .hfuncs import HFunction, apply_h, as_h
from .kernels import check_beta, kl_rows
from .lottery import maximal_lottery_batch
from .methods.nlhf import regularized_nash_batch
from .numbers import Number, is_exact, scalar, to_float
from .winrate import HLike, h_win_rate

__all__ = [
    "TIE_TOL",
    "SELF",
    "WROSolution",
    "wro_scores",
    "wro_objective",
    "wro_objective_per_prompt",
    "self_play_values",
    "wro_optimum",
    "wro_optimum_data",
]

#: The anchor meaning "the model itself" (self-play).
SELF = "self"


# ---------------------------------------------------------------------------------------------
# parameters and scores


def _is_self(anchor: Any) -> bool:
    return isinstance(anchor, str) and anchor == SELF


def _score_parts(
    P3: np.ndarray, q: np.ndarray, hf: HFunction
) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(n, f, exact)``: the infinite-mass balance ``n`` and finite part ``f`` of the scores
    ``g = h(P) q`` (each ``(M, K)``); exact Fractions when ``P``, ``q`` are exact and h rational."""
    if is_exact(P3) and is_exact(q) and hf.rational:
        H = apply_h(hf, P3)
        f = np.stack([H[x] @ q[x] for x in range(H.shape[0])])
        n = np.zeros(f.shape, dtype=object)
        n[...] = Fraction(0)
        return n, f, True
    H = apply_h(hf, to_float(P3))
    qf = to_float(q)
    plus, minus = H == np.inf, H == -np.inf
    n = np.einsum("xij,xj->xi", plus.astype(float), qf) - np.einsum(
        "xij,xj->xi", minus.astype(float), qf
    )
    f = np.einsum("xij,xj->xi", np.where(np.isfinite(H), H, 0.0), qf)
    return n, f, False


def wro_scores(P: Any, q: Any, h: HLike = "identity") -> np.ndarray:
    """The scores ``g_x(y) = sum_y' q_x(y') h(P_x[y, y'])`` (``(K,)`` or ``(M, K)``): the h-win
    rate of the single response ``y`` against the anchor ``q``; the objective's gradient.

    ``+inf`` / ``-inf`` where only sure wins / sure losses are infinite; a response with positive
    ``q``-mass on both is reported by its limit ranking (see the module docstring), here as the
    sign of ``n`` (``+-inf``) or, when ``n = 0``, the finite part.  Exact for identity h.

    >>> from theory.preferences import total_order
    >>> wro_scores(total_order(3), [Fraction(1, 3)] * 3).tolist()
    [Fraction(5, 6), Fraction(1, 2), Fraction(1, 6)]
    """
    hf = as_h(h)
    P3, (q2,), _, single = prepare_models(P, {"q": q}, None)
    n, f, exact = _score_parts(P3, q2, hf)
    if not exact:
        f = np.where(n > TIE_TOL, np.inf, np.where(n < -TIE_TOL, -np.inf, f))
    return f[0] if single else f


# ---------------------------------------------------------------------------------------------
# the objective


def _prepare_objective(
    P: Any, pi: Any, anchor: Any, pi_ref: Any, rho: Any, beta_positive: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, bool]:
    models = {"pi": pi}
    if not _is_self(anchor):
        if isinstance(anchor, str):
            raise InvalidParameterError(f"anchor = {anchor!r}, expected a model or {SELF!r}")
        models["q"] = anchor
    if beta_positive:
        if pi_ref is None:
            raise InvalidParameterError("beta > 0 needs a reference model pi_ref")
        models["pi_ref"] = pi_ref
    P3, arrays, rho_arr, single = prepare_models(P, models, rho)
    pi2 = arrays[0]
    q2 = pi2 if _is_self(anchor) else arrays[1]
    ref2 = arrays[-1] if beta_positive else None
    return P3, pi2, q2, ref2, rho_arr, single


def _per_prompt_wr(P3: np.ndarray, pi: np.ndarray, q: np.ndarray, hf: HFunction) -> np.ndarray:
    """``WR_h(pi_x; q_x)`` per prompt (float, +-inf allowed; undefined raises)."""
    H = apply_h(hf, to_float(P3))
    weights = to_float(pi)[:, :, None] * to_float(q)[:, None, :]
    pos = np.any((weights > 0) & (H == np.inf), axis=(1, 2))
    neg = np.any((weights > 0) & (H == -np.inf), axis=(1, 2))
    if np.any(pos & neg):
        x = int(np.flatnonzero(pos & neg)[0])
        raise UndefinedWinRateError(
            f"prompt {x}: WR_h with h = {hf.name!r} puts positive mass on both h = +inf and "
            "h = -inf; the objective is undefined"
        )
    vals = np.einsum("xij,xij->x", weights, np.where(np.isfinite(H), H, 0.0))
    return np.where(pos, np.inf, np.where(neg, -np.inf, vals))


def _finite_h(hf: HFunction, P3: np.ndarray) -> np.ndarray:
    """``h(P)`` for the self-play game, which needs finite payoffs."""
    H = apply_h(hf, P3)
    if not np.all(np.isfinite(to_float(H))):
        raise UndefinedWinRateError(
            f"self-play objective with h = {hf.name!r}: h(P) has infinite entries (P has 0 or 1 "
            "entries), so the game F(pi, q) is undefined"
        )
    return H


def self_play_values(P: np.ndarray, pi: np.ndarray, beta: Number, pi_ref: Any) -> np.ndarray:
    """The self-play objective per prompt, ``J_x(pi) = min_q F_x(pi, q)`` with
    ``F_x(pi, q) = pi_x^T P_x q_x - beta KL(pi_x || pi_ref,x) + beta KL(q_x || pi_ref,x)``, the
    regularized symmetric game of self-play WRO (NLHF; docs/theory.md, "WRO objective").

    The inner minimum is attained at ``q_x ∝ pi_ref,x exp(-(P_x^T pi_x) / beta)``, so
    ``J_x(pi) = -beta KL(pi_x || pi_ref,x) - beta log Z_x(pi)`` with
    ``Z_x(pi) = sum_y pi_ref,x(y) exp(-(P_x^T pi_x)(y) / beta)`` for ``beta > 0``, and
    ``J_x(pi) = min_y (P_x^T pi_x)(y)`` for ``beta = 0`` (exact for exact inputs).  Since
    ``F(pi, pi) = 1/2``, ``J <= 1/2`` with equality exactly at the (regularized) Nash
    equilibrium: the one meaning of the self-play objective's value.

    Validated inputs (internal to the library's objectives and training): ``P`` ``(M, K, K)`` (or
    any matrix in its place, e.g. ``h(P)``), ``pi`` ``(M, K)`` or ``(N, M, K)``, ``pi_ref``
    ``(M, K)`` (unused when ``beta = 0``); returns per-prompt values ``(M,)`` or ``(N, M)``.

    >>> from theory.preferences import rock_paper_scissors
    >>> P = rock_paper_scissors()[None]
    >>> self_play_values(P, np.array([[Fraction(1, 3)] * 3]), 0, None).tolist()
    [Fraction(1, 2)]
    >>> self_play_values(P, np.array([[Fraction(1), 0, 0]]), 0, None).tolist()   # paper wins
    [Fraction(0, 1)]
    """
    if not beta > 0:
        if is_exact(P) and is_exact(pi):
            v = np.einsum("xij,...xi->...xj", P, pi)
            return np.min(v, axis=-1)
        v = np.einsum("xij,...xi->...xj", to_float(P), to_float(pi))
        return v.min(axis=-1)
    b = float(beta)
    pf, ref = to_float(pi), to_float(pi_ref)
    with np.errstate(divide="ignore"):
        logref = np.log(ref)
    a = logref - np.einsum("xij,...xi->...xj", to_float(P), pf) / b
    m = a.max(axis=-1)
    inner = -b * (m + np.log(np.exp(a - m[..., None]).sum(axis=-1)))
    return inner - b * kl_rows(pf, np.broadcast_to(ref, pf.shape))


def wro_objective_per_prompt(
    P: Any, pi: Any, anchor: Any, beta: Any = 0, pi_ref: Any = None, h: HLike = "identity"
) -> np.ndarray:
    """The per-prompt objective ``J_x(pi) = WR_h(pi_x; q_x) - beta KL(pi_x || pi_ref,x)``, float
    ``(M,)`` (``(1,)`` for a single prompt); ``anchor`` a model or ``"self"`` (``q = pi``).

    >>> from theory.preferences import total_order
    >>> wro_objective_per_prompt(total_order(2), [1, 0], [0.5, 0.5]).tolist()
    [0.75]
    """
    b = check_beta(beta)
    hf = as_h(h)
    P3, pi2, q2, ref2, _, _ = _prepare_objective(P, pi, anchor, pi_ref, None, b > 0)
    if _is_self(anchor):
        return np.asarray(to_float(self_play_values(_finite_h(hf, P3), pi2, b, ref2)))
    wr = _per_prompt_wr(P3, pi2, q2, hf)
    if not b > 0 or ref2 is None:  # ref2 is None exactly when beta = 0
        return wr
    kl = kl_rows(pi2, ref2)
    if np.any((wr == np.inf) & (kl == np.inf)):
        x = int(np.flatnonzero((wr == np.inf) & (kl == np.inf))[0])
        raise UndefinedWinRateError(
            f"prompt {x}: WR_h = +inf and KL(pi || pi_ref) = +inf; J = inf - inf is undefined"
        )
    pen = times(b, kl)
    check_representable(pen, np.isfinite(kl), "beta KL(pi || pi_ref)")
    return wr - pen


def wro_objective(
    P: Any,
    pi: Any,
    anchor: Any,
    beta: Any = 0,
    pi_ref: Any = None,
    h: HLike = "identity",
    rho: Any = None,
) -> Number:
    """``J(pi) = WR_h(pi; q) - beta sum_x rho_x KL(pi_x || pi_ref,x)`` (docs/theory.md, WRO
    objective).

    ``P`` ``(K, K)`` with ``(K,)`` models, or ``(M, K, K)`` with ``(M, K)`` models and prompt
    weights ``rho``; ``anchor`` a fixed model ``q`` or ``"self"`` (``q = pi``); ``beta >= 0``
    (``pi_ref`` needed when ``beta > 0``).  Exact (Fraction) when ``beta = 0``, ``h`` is rational
    and the inputs are exact; ``-inf`` when ``pi`` is not absolutely continuous w.r.t.
    ``pi_ref``.  Raises :class:`~theory.errors.InvalidParameterError` for ``beta < 0`` and
    :class:`~theory.errors.UndefinedWinRateError` for ``inf - inf``.

    >>> from theory.preferences import rock_paper_scissors
    >>> wro_objective(rock_paper_scissors(), [1, 0, 0], [Fraction(1, 2), Fraction(1, 2), 0])
    Fraction(3, 4)
    >>> round(wro_objective(rock_paper_scissors(), [1, 0, 0], "self", 1, [0.5, 0.5, 0.0]), 6)
    0.025923
    """
    b = check_beta(beta)
    hf = as_h(h)
    P3, pi2, q2, ref2, rho_arr, _ = _prepare_objective(P, pi, anchor, pi_ref, rho, b > 0)
    if _is_self(anchor):
        values = self_play_values(_finite_h(hf, P3), pi2, b, ref2)
        exact = not b > 0 and is_exact(values) and is_exact(rho_arr)
        return _total(values, rho_arr, exact)
    if not b > 0 or ref2 is None:  # ref2 is None exactly when beta = 0
        return h_win_rate(P3, pi2, q2, hf, rho_arr)
    wr = float(h_win_rate(P3, pi2, q2, hf, rho_arr))
    kl = kl_rows(pi2, ref2)
    rho_f = to_float(rho_arr)
    kl_total = float(np.sum(rho_f[rho_f > 0] * kl[rho_f > 0]))
    if wr == np.inf and kl_total == np.inf:
        raise UndefinedWinRateError("WR_h = +inf and KL(pi || pi_ref) = +inf: J is undefined")
    pen = times(b, np.array([kl_total]))
    check_representable(pen, np.isfinite(np.array([kl_total])), "beta sum_x rho_x KL")
    return wr - float(pen[0])


# ---------------------------------------------------------------------------------------------
# optima


@dataclass(frozen=True)
class WROSolution:
    """A WRO optimum with its certificate.

    ``pi``: an optimal model (``(K,)`` or ``(M, K)``; for ``beta = 0`` with a fixed anchor, the
    uniform model on each prompt's argmax set).  ``value``: ``J(pi)`` (``rho``-weighted; exact
    when rational; ``+-inf`` allowed).  ``values``: per-prompt objective values ``(M,)``.
    ``argmax``: for ``beta = 0`` with a fixed anchor, each prompt's whole argmax set (every model
    supported on it is optimal), else ``None``.  ``certificate``: the optimality gap or residual
    (see ``method``): ``"closed-form"`` ``|J(pi) - beta log Z|``; ``"argmax"``
    ``max_y g - pi . g``; ``"maximal-lottery"`` the lottery's gap; ``"regularized-nash"`` the
    fixed-point residual.

    Self-play: the objective is ``J(pi) = min_q F(pi, q)`` with ``F(pi, q) = WR(pi; q) - beta
    KL(pi || pi_ref) + beta KL(q || pi_ref)`` (NLHF; :func:`self_play_values`), maximized by the
    (regularized) Nash equilibrium ``pi``, where it equals ``1/2``: ``value`` is ``1/2``.
    """

    pi: np.ndarray
    value: Number
    values: np.ndarray
    argmax: tuple[tuple[int, ...], ...] | None
    certificate: Number
    method: str


def _total(values: np.ndarray, rho: np.ndarray, exact: bool) -> Number:
    """``sum_x rho_x values_x`` with ``0 * inf = 0`` and ``inf - inf`` raising."""
    if exact:
        return scalar(sum((rho[x] * values[x] for x in range(len(rho))), Fraction(0)), True)
    rho_f = to_float(rho)
    v = to_float(values)
    live = rho_f > 0
    if np.any(live & (v == np.inf)) and np.any(live & (v == -np.inf)):
        raise UndefinedWinRateError("some prompts have value +inf and others -inf: J is undefined")
    if np.any(live & np.isinf(v)):
        return float(v[live & np.isinf(v)][0])
    return float(rho_f[live] @ v[live])


def wro_optimum(
    P: Any,
    anchor: Any,
    beta: Any = 0,
    pi_ref: Any = None,
    h: HLike = "identity",
    rho: Any = None,
) -> WROSolution:
    """The optimum of ``J(pi) = WR_h(pi; q) - beta sum_x rho_x KL(pi_x || pi_ref,x)``.

    ``anchor``: a fixed model ``q`` (``(K,)`` / ``(M, K)``) or ``"self"``.  Fixed anchor:
    ``beta > 0`` gives the closed form ``pi* ∝ pi_ref exp(h(P) q / beta)`` with value
    ``beta log Z``; ``beta = 0`` the argmax set of the scores (exact when rational; ``pi_ref`` is
    not used).  Self-play (``h = identity`` only): ``beta = 0`` the maximal lottery, ``beta > 0``
    the regularized Nash equilibrium.  See :class:`WROSolution` and the module docstring
    (infinite scores).  Claim ``WRO-closed-form``.

    >>> from theory.preferences import cyclic
    >>> sol = wro_optimum(cyclic(3), [Fraction(1, 2), Fraction(1, 2), 0])
    >>> sol.argmax, sol.value, sol.certificate
    (((0,),), Fraction(3, 4), Fraction(0, 1))
    >>> sol = wro_optimum(cyclic(3), [1/3] * 3, beta=1.0, pi_ref=[1/3] * 3)
    >>> np.round(sol.pi, 6).tolist(), round(sol.value, 6)
    ([0.333333, 0.333333, 0.333333], 0.5)
    """
    b = check_beta(beta)
    hf = as_h(h)
    if _is_self(anchor):
        return _self_play(P, b, pi_ref, hf, rho)
    if isinstance(anchor, str):
        raise InvalidParameterError(f"anchor = {anchor!r}, expected a model or {SELF!r}")
    models = {"q": anchor}
    if b > 0:
        if pi_ref is None:
            raise InvalidParameterError("beta > 0 needs a reference model pi_ref")
        models["pi_ref"] = pi_ref
    P3, arrays, rho_arr, single = prepare_models(P, models, rho)
    n, f, exact = _score_parts(P3, arrays[0], hf)
    if b > 0:
        return _closed_form_optimum(n, f, b, arrays[1], rho_arr, single)
    return _argmax_optimum(n, f, exact and is_exact(rho_arr), rho_arr, single)


def _closed_form_optimum(
    n: np.ndarray, f: np.ndarray, beta: Number, ref: np.ndarray, rho: np.ndarray, single: bool
) -> WROSolution:
    """Fixed anchor, ``beta > 0``: ``pi* ∝ pi_ref exp(g / beta)``, value ``beta log Z``
    (evaluated stably for every ``beta > 0``, float or Fraction; see :mod:`theory._optimum`)."""
    pi, values, cert = gibbs_optimum(n, f, beta, ref)
    return WROSolution(
        pi=pi[0] if single else pi,
        value=_total(values, rho, False),
        values=values,
        argmax=None,
        certificate=float(cert.max()),
        method="closed-form",
    )


def _argmax_optimum(
    n: np.ndarray, f: np.ndarray, exact: bool, rho: np.ndarray, single: bool
) -> WROSolution:
    """Fixed anchor, ``beta = 0``: the uniform model on each prompt's argmax set of the scores
    (exact Fractions when ``exact``), certificate ``max_y g - pi . g``."""
    M, K = f.shape
    top = argmax_sets(n, f, exact, np.ones((M, K), dtype=bool))
    counts = top.sum(axis=1)
    if exact:
        pi = np.empty((M, K), dtype=object)
        for x in range(M):
            for y in range(K):
                pi[x, y] = Fraction(int(top[x, y]), int(counts[x]))
        values = np.array([max(f[x]) for x in range(M)], dtype=object)
        gap = max(max(f[x]) - pi[x] @ f[x] for x in range(M))
    else:
        pi = top / counts[:, None]
        fl = to_float(f)
        nmax = np.max(n, axis=1)
        fmax = np.max(np.where(top, fl, -np.inf), axis=1)
        values = np.where(nmax > TIE_TOL, np.inf, np.where(nmax < -TIE_TOL, -np.inf, fmax))
        gap = float(np.max(fmax - np.einsum("xi,xi->x", pi, np.where(top, fl, 0.0))))
    return WROSolution(
        pi=pi[0] if single else pi,
        value=_total(values, rho, exact),
        values=values,
        argmax=tuple(tuple(int(y) for y in np.flatnonzero(top[x])) for x in range(M)),
        certificate=scalar(gap, exact),
        method="argmax",
    )


def _self_play(P: Any, beta: Number, pi_ref: Any, hf: HFunction, rho: Any) -> WROSolution:
    """Self-play (``h = identity``): the maximal lottery (``beta = 0``) or NLHF's regularized
    Nash equilibrium (``beta > 0``), per prompt."""
    if hf.name != "identity":
        raise InvalidParameterError(
            f"self-play WRO is implemented for h = 'identity' only (got {hf.name!r}): the game "
            "h(P) is not the symmetric zero-sum game of the maximal lottery"
        )
    models = {} if not beta > 0 else {"pi_ref": pi_ref}
    if beta > 0 and pi_ref is None:
        raise InvalidParameterError("beta > 0 needs a reference model pi_ref")
    P3, arrays, rho_arr, single = prepare_models(P, models, rho)
    if not beta > 0:
        return _lottery_optimum(P3, rho_arr, single)
    ref = to_float(arrays[0])
    nash = regularized_nash_batch(to_float(P3), beta, ref)
    pi = np.stack([s.pi for s in nash])
    values = np.full(P3.shape[0], 0.5)  # J(pi*) = F(pi*, pi*) = 1/2 at the equilibrium
    return WROSolution(
        pi=pi[0] if single else pi,
        value=_total(values, rho_arr, False),
        values=values,
        argmax=None,
        certificate=float(max(s.residual for s in nash)),
        method="regularized-nash",
    )


def _lottery_optimum(P3: np.ndarray, rho: np.ndarray, single: bool) -> WROSolution:
    """Self-play, ``beta = 0``: the maximal lottery of each prompt, value 1/2."""
    sols = maximal_lottery_batch(P3)
    pi = np.stack([s.pi for s in sols])
    exact = all(s.exact for s in sols) and is_exact(rho)
    half = Fraction(1, 2) if exact else 0.5
    values = np.array([half] * P3.shape[0], dtype=object if exact else float)
    gap = max((s.gap for s in sols), default=0)
    return WROSolution(
        pi=pi[0] if single else pi,
        value=_total(values, rho, exact),
        values=values,
        argmax=None,
        certificate=scalar(gap, exact) if exact else float(gap),
        method="maximal-lottery",
    )


def wro_optimum_data(
    data: PreferenceData,
    beta: Any = 0,
    pi_ref: Any = None,
    h: HLike = "identity",
    anchor: Any = "data",
) -> WROSolution:
    """:func:`wro_optimum` on a data distribution: ``P = data.P``, ``rho = data.rho``; ``anchor``
    ``"data"`` (:func:`theory.data.data_anchor`, the default), ``"self"`` or a model; ``pi_ref``
    defaults to the data anchor.  Returns ``(M, K)`` models.

    >>> D = PreferenceData(P=[[Fraction(1, 2), 1], [0, Fraction(1, 2)]], mu0=[Fraction(1, 2)] * 2)
    >>> wro_optimum_data(D).argmax
    ((0,),)
    """
    if not isinstance(data, PreferenceData):
        raise InvalidParameterError(f"data of type {type(data).__name__} is not PreferenceData")
    mu = data_anchor(data)
    q = mu if isinstance(anchor, str) and anchor == "data" else anchor
    ref = mu if pi_ref is None else pi_ref
    return wro_optimum(data.P, q, beta, ref, h, data.rho)
