"""Win rate optimization (WRO): objectives, exact optima, and RLHF as an instance.

The WRO objective (THEORY.md, "WRO objective") over ``M`` prompts with weights ``rho`` is

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
  (:func:`theory.games.maximal_lottery`), certificate its gap;
* self-play, ``beta > 0`` (``h = identity``, NLHF): the regularized Nash equilibrium
  (:func:`theory.games.regularized_nash`), certificate its fixed-point residual.

**Infinite scores** (our formalization's choice, kept here).  For ``h = logit`` or ``log`` an entry
``P[y, y'] in {0, 1}`` makes ``h`` infinite, and ``g(y)`` may be ``+inf``, ``-inf`` or even
``+inf - inf``.  The optimum is then *defined as the limit* of the optimum for the clipped
``h_T = clip(h, -T, T)`` as ``T -> inf``: writing ``g_T(y) = T n(y) + f(y) + o(1)`` with
``n(y) = q{y': h(P[y,y']) = +inf} - q{y': h(P[y,y']) = -inf}`` and ``f`` the finite part, the limit
optimum ranks responses lexicographically by ``(n, f)``: it is the closed form restricted to the
responses (of ``supp pi_ref``) with the largest ``n``, and its value is ``+inf`` / ``-inf`` when
that largest ``n`` is positive / negative, else the finite limit.  No NaN is ever produced.

RLHF (:func:`rlhf_policy`): fit the Bradley-Terry reward ``r`` by maximum likelihood
(:mod:`theory.bradley_terry`), then ``pi ∝ pi_ref exp(r / beta)``, the maximiser of
``E_pi[r] - beta KL(pi || pi_ref)``.  Claims: ``WRO-closed-form``, ``RLHF-is-WRO``,
``WRO-correspondence``, ``WRO-consistency`` (proofs_checks/).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.special import logsumexp

from ._validate import prepare_models
from .bradley_terry import BradleyTerryStackFit, fit_bradley_terry_data
from .data import (
    EmpiricalPreferences,
    PreferenceData,
    PreferenceDataset,
    data_anchor,
)
from .errors import (
    InvalidParameterError,
    NonFiniteInputError,
    ShapeMismatchError,
    UndefinedWinRateError,
)
from .hfuncs import HFunction, apply_h, as_h
from .numbers import Number, as_array, is_exact, scalar, to_float
from .simplex import validate_model
from .winrate import HLike, h_win_rate

__all__ = [
    "TIE_TOL",
    "SELF",
    "WROSolution",
    "RLHFPolicy",
    "wro_scores",
    "wro_objective",
    "wro_objective_per_prompt",
    "wro_optimum",
    "wro_optimum_data",
    "rlhf_objective",
    "rlhf_policy",
]

#: Float scores within ``TIE_TOL * (1 + |max|)`` of the maximum count as tied (beta = 0 argmax).
TIE_TOL = 1e-12
#: The anchor meaning "the model itself" (self-play).
SELF = "self"


# ---------------------------------------------------------------------------------------------
# parameters and scores


def _check_beta(beta: Any) -> Number:
    """``beta`` as a Fraction (rational input) or float; ``beta < 0`` or non-finite raises."""
    try:
        b = as_array(beta, name="beta")
    except NonFiniteInputError:
        raise InvalidParameterError(f"beta = {beta!r}, expected a finite number >= 0") from None
    if b.ndim != 0:
        raise InvalidParameterError(f"beta = {beta!r}, expected a scalar")
    v: Any = b[()]  # the scalar entry: a Fraction (exact) or a numpy float
    if v < 0:
        raise InvalidParameterError(f"beta = {beta!r} is negative, expected beta >= 0")
    return v if is_exact(b) else float(v)


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


def _kl_rows(pi: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``KL(pi_x || ref_x)`` for each row (float, ``inf`` when ``pi_x`` is not << ``ref_x``)."""
    p, r = to_float(pi), to_float(ref)
    out = np.zeros(p.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(np.where(r > 0, r, 1.0))), 0.0)
    out = terms.sum(axis=1)
    out[np.any((p > 0) & (r == 0), axis=1)] = np.inf
    return out


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


def wro_objective_per_prompt(
    P: Any, pi: Any, anchor: Any, beta: Any = 0, pi_ref: Any = None, h: HLike = "identity"
) -> np.ndarray:
    """The per-prompt objective ``J_x(pi) = WR_h(pi_x; q_x) - beta KL(pi_x || pi_ref,x)``, float
    ``(M,)`` (``(1,)`` for a single prompt); ``anchor`` a model or ``"self"`` (``q = pi``).

    >>> from theory.preferences import total_order
    >>> wro_objective_per_prompt(total_order(2), [1, 0], [0.5, 0.5]).tolist()
    [0.75]
    """
    b = _check_beta(beta)
    hf = as_h(h)
    P3, pi2, q2, ref2, _, _ = _prepare_objective(P, pi, anchor, pi_ref, None, b > 0)
    wr = _per_prompt_wr(P3, pi2, q2, hf)
    if not b > 0 or ref2 is None:  # ref2 is None exactly when beta = 0
        return wr
    kl = _kl_rows(pi2, ref2)
    if np.any((wr == np.inf) & (kl == np.inf)):
        x = int(np.flatnonzero((wr == np.inf) & (kl == np.inf))[0])
        raise UndefinedWinRateError(
            f"prompt {x}: WR_h = +inf and KL(pi || pi_ref) = +inf; J = inf - inf is undefined"
        )
    return wr - float(b) * kl


def wro_objective(
    P: Any,
    pi: Any,
    anchor: Any,
    beta: Any = 0,
    pi_ref: Any = None,
    h: HLike = "identity",
    rho: Any = None,
) -> Number:
    """``J(pi) = WR_h(pi; q) - beta sum_x rho_x KL(pi_x || pi_ref,x)`` (THEORY.md, WRO objective).

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
    -0.193147
    """
    b = _check_beta(beta)
    hf = as_h(h)
    P3, pi2, q2, ref2, rho_arr, _ = _prepare_objective(P, pi, anchor, pi_ref, rho, b > 0)
    if not b > 0 or ref2 is None:  # ref2 is None exactly when beta = 0
        return h_win_rate(P3, pi2, q2, hf, rho_arr)
    wr = float(h_win_rate(P3, pi2, q2, hf, rho_arr))
    kl = _kl_rows(pi2, ref2)
    rho_f = to_float(rho_arr)
    kl_total = float(np.sum(rho_f[rho_f > 0] * kl[rho_f > 0]))
    if wr == np.inf and kl_total == np.inf:
        raise UndefinedWinRateError("WR_h = +inf and KL(pi || pi_ref) = +inf: J is undefined")
    return wr - float(b) * kl_total


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

    Self-play: ``pi`` is the equilibrium of the game ``F(pi, q) = WR(pi; q) - beta KL(pi || pi_ref)
    + beta KL(q || pi_ref)`` (NLHF), not a maximizer of the literal ``J(pi) = WR(pi; pi) - beta
    KL(pi || pi_ref) = 1/2 - beta KL(pi || pi_ref)`` (which ``pi_ref`` maximizes).  ``value``
    reports that literal ``J(pi*)``; the game's value is ``1/2`` (see
    :func:`theory.training.self_play_payoff` for the score of a model in the game).
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


def _argmax_sets(n: np.ndarray, f: np.ndarray, exact: bool, allowed: np.ndarray) -> np.ndarray:
    """Boolean ``(M, K)``: the lexicographic argmax of ``(n, f)`` over ``allowed`` per prompt."""
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


def _closed_form(
    n: np.ndarray, f: np.ndarray, beta: float, ref: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (limit) closed form per prompt: ``(pi (M, K), values (M,), certificate (M,))``."""
    reff = to_float(ref)
    allowed = reff > 0
    n_m = np.where(allowed, n, -np.inf)
    nmax = n_m.max(axis=1, keepdims=True)
    top = allowed & (n_m >= nmax - TIE_TOL)
    with np.errstate(divide="ignore"):
        logits = np.where(top, np.log(np.where(allowed, reff, 1.0)) + f / beta, -np.inf)
    logZ = logsumexp(logits, axis=1)
    pi = np.exp(logits - logZ[:, None])
    pi /= pi.sum(axis=1, keepdims=True)
    nmax = nmax[:, 0]
    values = np.where(nmax > TIE_TOL, np.inf, np.where(nmax < -TIE_TOL, -np.inf, beta * logZ))
    # certificate: J(pi*) from its definition (finite part, on the top class) vs beta log Z
    kl = _kl_rows(pi, reff)
    direct = np.einsum("xi,xi->x", pi, np.where(top, f, 0.0)) - beta * kl
    cert = np.where(np.isfinite(values), np.abs(direct - beta * logZ), 0.0)
    return pi, values, cert


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
    b = _check_beta(beta)
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
    q2 = arrays[0]
    n, f, exact = _score_parts(P3, q2, hf)
    M, K = f.shape
    if b > 0:
        pi, values, cert = _closed_form(n, to_float(f), float(b), arrays[1])
        value = _total(values, rho_arr, False)
        return WROSolution(
            pi=pi[0] if single else pi,
            value=value,
            values=values,
            argmax=None,
            certificate=float(cert.max()),
            method="closed-form",
        )
    exact = exact and is_exact(rho_arr)
    top = _argmax_sets(n, f, exact, np.ones((M, K), dtype=bool))
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
        value=_total(values, rho_arr, exact),
        values=values,
        argmax=tuple(tuple(int(y) for y in np.flatnonzero(top[x])) for x in range(M)),
        certificate=scalar(gap, exact),
        method="argmax",
    )


def _self_play(P: Any, beta: Number, pi_ref: Any, hf: HFunction, rho: Any) -> WROSolution:
    from . import games  # the self-play solvers (theory.games)

    if hf.name != "identity":
        raise InvalidParameterError(
            f"self-play WRO is implemented for h = 'identity' only (got {hf.name!r}): the game "
            "h(P) is not the symmetric zero-sum game of the maximal lottery"
        )
    models = {} if not beta > 0 else {"pi_ref": pi_ref}
    if beta > 0 and pi_ref is None:
        raise InvalidParameterError("beta > 0 needs a reference model pi_ref")
    P3, arrays, rho_arr, single = prepare_models(P, models, rho)
    M = P3.shape[0]
    if not beta > 0:
        sols = games.maximal_lotteries(P3)
        pi = np.stack([s.pi for s in sols])
        exact = all(s.exact for s in sols) and is_exact(rho_arr)
        half = Fraction(1, 2) if exact else 0.5
        values = np.array([half] * M, dtype=object if exact else float)
        gap = max((s.gap for s in sols), default=0)
        return WROSolution(
            pi=pi[0] if single else pi,
            value=_total(values, rho_arr, exact),
            values=values,
            argmax=None,
            certificate=scalar(gap, exact) if exact else float(gap),
            method="maximal-lottery",
        )
    ref = to_float(arrays[0])
    nash = games.regularized_nash_stack(to_float(P3), float(beta), ref)
    pi = np.stack([s.pi for s in nash])
    values = 0.5 - float(beta) * _kl_rows(pi, ref)
    return WROSolution(
        pi=pi[0] if single else pi,
        value=_total(values, rho_arr, False),
        values=values,
        argmax=None,
        certificate=float(max(s.residual for s in nash)),
        method="regularized-nash",
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


# ---------------------------------------------------------------------------------------------
# RLHF


def rlhf_objective(r: Any, pi: Any, beta: Any, pi_ref: Any = None, rho: Any = None) -> float:
    """``E_pi[r] - beta sum_x rho_x KL(pi_x || pi_ref,x) = sum_x rho_x (pi_x . r_x - beta KL)``.

    ``r`` and models ``(K,)`` or ``(M, K)``; ``rho`` default uniform.  Float.

    >>> round(rlhf_objective([1.0, 0.0], [0.5, 0.5], 0.0), 6)
    0.5
    """
    b = _check_beta(beta)
    r_arr = to_float(as_array(r, name="r"))
    r2 = r_arr[None] if r_arr.ndim == 1 else r_arr
    pi2 = to_float(validate_model(pi, name="pi", K=r2.shape[1]))
    if pi2.shape != r2.shape:
        raise ShapeMismatchError(f"pi has shape {pi2.shape}, expected {r2.shape}")
    M = r2.shape[0]
    rho_f = np.full(M, 1.0 / M) if rho is None else to_float(as_array(rho, name="rho"))
    if rho_f.shape != (M,):
        raise ShapeMismatchError(f"rho has shape {rho_f.shape}, expected ({M},)")
    val = float(rho_f @ np.einsum("xi,xi->x", pi2, r2))
    if not b > 0:
        return val
    ref2 = to_float(validate_model(pi_ref, name="pi_ref", K=r2.shape[1]))
    return val - float(b) * float(rho_f @ _kl_rows(pi2, ref2))


@dataclass(frozen=True)
class RLHFPolicy:
    """The RLHF policy with its reward model and certificates.

    ``pi`` ``(M, K)``: ``∝ pi_ref exp(r / beta)`` (``beta > 0``) or uniform on ``argmax r``
    (``beta = 0``); ``rewards`` ``(M, K)``: the Bradley-Terry MLE; ``fit``: the
    :class:`~theory.bradley_terry.BradleyTerryStackFit` (its ``gradient_norm`` certifies the
    reward); ``value``: ``E_pi[r] - beta KL`` under the source's ``rho``; ``certificate``: the
    policy step's optimality gap (as in :class:`WROSolution`).
    """

    pi: np.ndarray
    rewards: np.ndarray
    fit: BradleyTerryStackFit
    value: float
    argmax: tuple[tuple[int, ...], ...] | None
    certificate: float


def rlhf_policy(
    source: PreferenceData | PreferenceDataset | EmpiricalPreferences,
    beta: Any,
    pi_ref: Any = None,
) -> RLHFPolicy:
    """RLHF: Bradley-Terry reward by maximum likelihood from ``source`` (population
    :class:`~theory.data.PreferenceData`, a sampled :class:`~theory.data.PreferenceDataset` or its
    :class:`~theory.data.EmpiricalPreferences`), then the KL-regularized policy
    ``pi_x ∝ pi_ref,x exp(r_x / beta)`` (THEORY.md, RLHF).  ``pi_ref`` defaults to the data anchor
    (population) or uniform (samples).  Responses in no comparison get reward 0 (the MLE leaves
    them free).  Raises :class:`~theory.errors.NoMaximumLikelihoodError` when the MLE does not
    exist, and :class:`~theory.errors.InvalidParameterError` for ``beta < 0``.

    >>> from theory.preferences import bradley_terry_from_strengths
    >>> D = PreferenceData(P=bradley_terry_from_strengths([1, 3]), mu0=[Fraction(1, 2)] * 2)
    >>> np.round(rlhf_policy(D, 1.0).pi, 6).tolist()   # pi ∝ mu * s when beta = 1
    [[0.25, 0.75]]
    """
    b = _check_beta(beta)
    fit = fit_bradley_terry_data(source)
    r = fit.rewards
    M, K = r.shape
    if isinstance(source, PreferenceData):
        rho = to_float(source.rho)
        default_ref = to_float(data_anchor(source))
    else:
        if isinstance(source, PreferenceDataset):
            counts = np.bincount(source.x, minlength=M)
            rho = counts / counts.sum()
        else:
            rho = to_float(source.rho)
        default_ref = np.full((M, K), 1.0 / K)
    ref = default_ref if pi_ref is None else to_float(validate_model(pi_ref, name="pi_ref", K=K))
    if ref.shape != (M, K):
        raise ShapeMismatchError(f"pi_ref has shape {ref.shape}, expected {(M, K)}")
    zeros = np.zeros((M, K))
    if b > 0:
        pi, _, cert = _closed_form(zeros, r, float(b), ref)
        argmax = None
        certificate = float(cert.max())
    else:
        top = _argmax_sets(zeros, r, False, np.ones((M, K), dtype=bool))
        pi = top / top.sum(axis=1, keepdims=True)
        argmax = tuple(tuple(int(y) for y in np.flatnonzero(top[x])) for x in range(M))
        certificate = float(np.max(r.max(axis=1) - np.einsum("xi,xi->x", pi, r)))
    value = rlhf_objective(r, pi, b, ref, rho)
    return RLHFPolicy(
        pi=pi, rewards=r, fit=fit, value=value, argmax=argmax, certificate=certificate
    )
