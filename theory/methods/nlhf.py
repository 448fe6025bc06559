"""NLHF (Nash learning from human feedback): the regularized Nash equilibrium of self-play WRO.

Self-play WRO with ``h = identity`` and ``beta > 0`` (docs/theory.md, "self-play with beta > 0")
has, per prompt with preference matrix ``P`` (``(K, K)``) and reference ``pi_ref``, the unique
equilibrium

    pi = softmax(log pi_ref + P pi / beta),

the model that maximizes ``WR(p; pi) - beta KL(p || pi_ref)`` over ``p`` when the competitor is
``pi`` itself.  :func:`regularized_nash` finds it by damped Newton on the convex exploitability
``phi(pi) = beta log sum_y pi_ref(y) exp((A pi)_y / beta) + beta KL(pi || pi_ref)``
(``A = P - 1/2``; ``phi >= 0`` with equality exactly at the equilibrium).  The solver is written
as named steps: the Newton direction (:func:`_newton_direction`), the step length by
fraction-to-boundary and backtracking (:func:`_line_search`), a log-space candidate
(:func:`_log_space_candidates`) and the stopping test (:func:`_stopping_test`).  At
``beta = 0`` the equilibrium is the maximal lottery (:mod:`theory.lottery`).

**Every beta > 0** (float or Fraction, ``1e-400`` to ``1e400``), in bounded time:

* ``beta >= SCALED_BELOW`` (``1e-5``): the Newton method above (continuation from ``1e-3``
  below :data:`CONTINUATION_BELOW`);
* ``beta < SCALED_BELOW``: a ladder ``1e-3, 1e-4, ..., beta`` of Newton solves of the fixed point
  in payoff units, ``beta log(pi / pi_ref) - (P - 1/2) pi + lam = 0`` with ``lam`` the
  normalisation multiplier (:func:`_scaled_newton`).  Every term is O(1) however small ``beta``
  is (a response off the limit support has ``log pi ~ -c / beta`` and ``pi = 0``), so float64
  keeps full precision, and the limit ``beta -> 0`` is followed continuously (with ties it is not
  "the" maximal lottery: in an all-ties game the equilibrium is ``pi_ref`` for every ``beta``).
  Below :data:`BETA_FLOOR` (``1e-300``, e.g. ``Fraction(1, 10**400)``) the answer is the one at
  ``1e-300`` (equal to float precision);
* ``beta >= REFERENCE_ABOVE`` (``1e17``, e.g. ``10**400``): ``pi = pi_ref`` (equal to float
  precision, ``|pi - pi_ref| <= 1 / beta``).

The exploitability is evaluated stably for every ``beta`` (:func:`exploitability_of`).

Claim: ``NLHF-is-WRO`` (proofs_checks/nlhf_is_wro.py).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import kl_div

from .._lottery_float import step_to_boundary
from .._optimum import check_representable, safe_float, soft_value, times
from ..errors import InvalidParameterError, ShapeMismatchError
from ..kernels import check_beta, kl_rows
from ..numbers import as_array, to_float
from ..preferences import validate_preference_matrix, validate_preference_stack
from ..simplex import validate_distribution, validate_model

__all__ = [
    "NASH_TOL",
    "RegularizedNash",
    "regularized_nash",
    "regularized_nash_batch",
    "regularized_exploitability",
    "exploitability_of",
]

#: Default fixed-point residual of :func:`regularized_nash` (max-norm).
NASH_TOL = 1e-12
#: Residual below which Newton also accepts steps that shrink the residual (phi is then
#: below float resolution, so Armijo on phi is decided by rounding).
LOCAL_RESIDUAL = 1e-6
#: Newton continues to ``tol * TOL_MARGIN`` while the residual keeps shrinking.
TOL_MARGIN = 1e-2
#: Step lengths tried for the log-space Newton candidate.
LOG_STEPS = (1.0, 0.5, 0.25, 0.1)
#: Below this beta the regularized equilibrium is found by continuation from 10 beta, 100 beta...
CONTINUATION_BELOW = 1e-3
#: Newton iteration cap for the regularized equilibrium.
NEWTON_MAX_ITER = 200
#: Backtracking halvings allowed to the line search.
LINE_SEARCH_STEPS = 60
#: Armijo's sufficient-decrease fraction and the fraction of the step to the boundary taken.
ARMIJO = 0.25
TO_BOUNDARY = 0.99
#: Floor of a coordinate on the support of pi_ref (keeps log pi finite).
FLOOR = 1e-300
#: Below this beta the equilibrium is followed down a ladder (factor :data:`LADDER`) by Newton on
#: the fixed point in payoff units (:func:`_scaled_newton`), where float64 keeps full precision
#: however small beta is.
SCALED_BELOW = 1e-5
#: Ratio between consecutive betas of the continuation ladders.
LADDER = 10.0
#: Below this beta the equilibrium is the one at ``BETA_FLOOR`` to float precision (coordinates
#: off the limit support are ``exp(-c / beta)``, 0 in float64 for both; the others move by
#: ``O(beta)``): a smaller (Fraction) beta is solved there.
BETA_FLOOR = 1e-300
#: Above this beta, ``pi = pi_ref`` to float precision (``|pi - pi_ref| <= |P| / beta``).
REFERENCE_ABOVE = 1e17
#: Newton steps allowed per rung of the scaled ladder, and its target payoff residual.
SCALED_MAX_ITER = 60
SCALED_TOL = 1e-14
#: A rung of the scaled ladder counts as solved at this payoff residual; else it is split in two
#: (at most ``RUNG_SPLITS`` times deep).
RUNG_OK = 1e-13
RUNG_SPLITS = 2
#: Coordinates below this are re-solved from their own row when the ladder stops early.
NEGLIGIBLE = 1e-200
#: The hint of the beta rule: beta = 0 has its own solver.
_BETA_HINT = "beta = 0 is the maximal lottery: use maximal_lottery"


@dataclass(frozen=True)
class RegularizedNash:
    """The NLHF regularized Nash equilibrium with its certificate.

    ``pi`` (``(K,)``), ``residual = max_y |pi - softmax(log pi_ref + P pi / beta)|_y`` (for
    ``beta < SCALED_BELOW``: the same equation in payoff units,
    ``max_y |beta log(pi_y / pi_ref,y) - ((P - 1/2) pi)_y + lam|`` and ``|sum pi - 1|``, since
    the form in ``pi`` amplifies rounding by ``1 / beta``), ``exploitability = phi(pi)`` (see
    :func:`regularized_exploitability`) and the Newton ``iterations``.
    """

    pi: np.ndarray
    residual: float
    exploitability: float
    iterations: int


@dataclass(frozen=True)
class _Games:
    """``N`` games solved together: ``A = P - 1/2`` ``(N, K, K)``, its transpose ``At`` (a
    view), the reference ``ref`` ``(N, K)`` and ``logr = log ref`` (``-inf`` off its support)."""

    A: np.ndarray
    At: np.ndarray
    ref: np.ndarray
    logr: np.ndarray

    @classmethod
    def of(cls, A: np.ndarray, ref: np.ndarray) -> _Games:
        with np.errstate(divide="ignore"):
            logr = np.log(ref)  # -inf outside the support of pi_ref
        return cls(A, np.swapaxes(A, 1, 2), ref, logr)

    def rows(self, idx: np.ndarray) -> _Games:
        return _Games(self.A[idx], self.At[idx], self.ref[idx], self.logr[idx])


def _softmax(z: np.ndarray) -> np.ndarray:
    """Row softmax; ``-inf`` entries (outside the support of ``pi_ref``) get 0."""
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _phi(g: _Games, pi: np.ndarray, beta: float) -> np.ndarray:
    """Batched exploitability ``beta logsumexp(logr + A pi / beta) + beta KL(pi || r)``."""
    z = g.logr + np.einsum("nij,nj->ni", g.A, pi) / beta
    zmax = np.max(z, axis=-1)
    lse = zmax + np.log(np.sum(np.exp(z - zmax[:, None]), axis=-1))
    return beta * lse + beta * kl_rows(pi, g.ref)


def _residual(g: _Games, pi: np.ndarray, beta: float) -> np.ndarray:
    s = _softmax(g.logr + np.einsum("nij,nj->ni", g.A, pi) / beta)
    return np.max(np.abs(pi - s), axis=-1)


def _newton_nash(
    games: _Games, beta: float, tol: float, start: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Batched damped Newton on the convex ``phi`` over the simplex of ``supp(r)``.

    ``phi(pi) = beta log sum_y r_y exp((A pi)_y / beta) + beta KL(pi || r)`` is convex (a
    log-sum-exp of a linear map plus KL), nonnegative (choose ``p = pi`` in the variational form
    ``beta log Z = max_p p^T A pi - beta KL(p || r)`` and use ``pi^T A pi = 0``) and zero only at
    the regularized equilibrium, which is therefore its unique minimizer.  Each iteration:
    the equality-constrained Newton direction, a fraction-to-boundary rule and Armijo
    backtracking (converges: Boyd & Vandenberghe 9.5/10.2), then a log-space Newton candidate on
    the fixed point kept when it lowers the merit more, then the stopping test (residual <=
    ``tol``).  ``logr`` is ``-inf`` outside the support of ``r``; those coordinates stay 0 (their
    Newton rows are pinned).  ``start`` (interior on ``supp(r)``) replaces the default start
    ``r``.  Returns ``(pi, iterations)``.
    """
    N = games.A.shape[0]
    pi = _softmax(games.logr) if start is None else start.copy()  # default start: pi_ref
    its = np.zeros(N, dtype=int)
    prev = _residual(games, pi, beta)
    active = np.flatnonzero(prev > tol * TOL_MARGIN)
    for _ in range(NEWTON_MAX_ITER):
        if len(active) == 0:
            break
        g, p = games.rows(active), pi[active]
        d, grad = _newton_direction(g, p, beta)
        r0 = _residual(g, p, beta)
        new = _line_search(g, p, d, grad, r0, beta)
        pi[active] = _log_space_candidates(g, p, new, r0, beta)
        its[active] += 1
        active = _stopping_test(games, pi, active, prev, beta, tol)
    return pi, its


def _newton_direction(g: _Games, p: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """The equality-constrained Newton direction ``d`` of ``phi`` at ``p`` (``1^T d = 0``,
    coordinates off the support pinned) and the gradient; solves ``[H 1; 1^T 0] [d; v] =
    [-grad; 0]`` with ``H = (A^T diag(s) A - (A^T s)(A^T s)^T) / beta + beta diag(1 / p)``,
    ``s = softmax(log r + A p / beta)``."""
    n_act, K = p.shape
    live = np.isfinite(g.logr)
    ma = live.astype(float)
    s = _softmax(g.logr + np.einsum("nij,nj->ni", g.A, p) / beta)
    Ats = np.einsum("nij,nj->ni", g.At, s)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = np.where(live, Ats + beta * (np.log(p) - g.logr), 0.0)
        curv = np.where(live, beta / p, 1.0)
    H = (g.At @ (s[:, :, None] * g.A) - Ats[:, :, None] * Ats[:, None, :]) / beta
    H *= ma[:, :, None] * ma[:, None, :]
    idx = np.arange(K)
    H[:, idx, idx] += curv
    KKT = np.zeros((n_act, K + 1, K + 1))
    KKT[:, :K, :K] = H
    KKT[:, :K, K] = ma
    KKT[:, K, :K] = ma
    rhs = np.concatenate([-grad, np.zeros((n_act, 1))], axis=1)
    d = np.linalg.solve(KKT, rhs[..., None])[..., 0][:, :K]
    return d, grad


def _on_support(g: _Games, q: np.ndarray) -> np.ndarray:
    """``q`` floored at :data:`FLOOR` on the support of ``r`` and 0 off it (not normalised)."""
    return np.where(np.isfinite(g.logr), np.maximum(q, FLOOR), 0.0)


def _line_search(
    g: _Games, p: np.ndarray, d: np.ndarray, grad: np.ndarray, r0: np.ndarray, beta: float
) -> np.ndarray:
    """The step along ``d``: at most :data:`TO_BOUNDARY` of the way to the boundary, halved
    until Armijo's condition on ``phi`` holds (or, once the residual ``r0`` is below
    :data:`LOCAL_RESIDUAL` and ``phi`` below float resolution, until the residual shrinks).
    Returns the new iterate, normalised."""
    live = np.isfinite(g.logr)
    t = np.minimum(1.0, TO_BOUNDARY * step_to_boundary(p, d))
    f0 = _phi(g, p, beta)
    slope = np.einsum("ni,ni->n", grad, d)
    for _ls in range(LINE_SEARCH_STEPS):
        raw = p + t[:, None] * d
        trial = _on_support(g, raw)
        armijo = _phi(g, trial, beta) <= f0 + ARMIJO * t * slope
        local = (r0 < LOCAL_RESIDUAL) & (_residual(g, trial, beta) < r0)
        bad = np.any(live & (raw <= 0), axis=1) | ~(armijo | local)
        if not np.any(bad):
            break
        t = np.where(bad, t * 0.5, t)
    new = _on_support(g, p + t[:, None] * d)
    return new / np.sum(new, axis=1, keepdims=True)


def _log_space_candidates(
    g: _Games, p: np.ndarray, new: np.ndarray, r0: np.ndarray, beta: float
) -> np.ndarray:
    """``new``, or a log-space Newton candidate where it has a lower merit.

    Newton on the fixed point in log space, ``u = log pi - log r``,
    ``G(u) = u - A softmax(log r + u) / beta``, Jacobian ``I - A J(pi) / beta`` (never singular:
    ``A J`` is similar to a skew matrix): a multiplicative update that can shrink coordinates by
    many orders of magnitude in one step where the fraction-to-boundary rule cannot.  Steps
    :data:`LOG_STEPS` are tried; the merit is ``phi`` (the residual once ``r0`` is below
    :data:`LOCAL_RESIDUAL`), so phi's descent, and convergence, is kept."""
    live = np.isfinite(g.logr)
    K = p.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        G = np.where(live, np.log(p) - g.logr - np.einsum("nij,nj->ni", g.A, p) / beta, 0.0)
    Ap = np.einsum("nij,nj->ni", g.A, p)  # A J(pi) = A diag(pi) - (A pi) pi^T, in O(K^2)
    Jac = np.eye(K) - (g.A * p[:, None, :] - Ap[:, :, None] * p[:, None, :]) / beta
    du = np.linalg.solve(Jac, -G[..., None])[..., 0]
    far = r0 >= LOCAL_RESIDUAL

    def merit(q: np.ndarray) -> np.ndarray:
        return np.where(far, _phi(g, q, beta), _residual(g, q, beta))

    best_merit = merit(new)
    for scale in LOG_STEPS:
        with np.errstate(divide="ignore"):
            z = np.where(live, np.log(p) + scale * du, -np.inf)
        alt = _on_support(g, _softmax(z))
        alt /= np.sum(alt, axis=1, keepdims=True)
        m_alt = merit(alt)
        use_alt = m_alt < best_merit
        new[use_alt], best_merit[use_alt] = alt[use_alt], m_alt[use_alt]
    return new


def _stopping_test(
    games: _Games, pi: np.ndarray, active: np.ndarray, prev: np.ndarray, beta: float, tol: float
) -> np.ndarray:
    """The instances of ``active`` still to iterate; updates ``prev`` (the last residuals).

    An instance goes on until well below ``tol`` (``tol * TOL_MARGIN``, so a recomputation
    cannot land above ``tol``), unless its residual has stopped shrinking (float resolution)
    while already below ``tol``."""
    res = _residual(games.rows(active), pi[active], beta)
    stalled = (res <= tol) & (res > 0.5 * prev[active])
    prev[active] = res
    return active[(res > tol * TOL_MARGIN) & ~stalled]


def _solve_nash(games: _Games, beta: float, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_newton_nash`, warm-started by continuation in ``beta`` when ``beta`` is small.

    For ``beta`` below :data:`CONTINUATION_BELOW` the equilibrium is first solved at
    ``beta * 10^k, ..., beta * 10`` (each warm-starting the next): Newton's fast region shrinks
    with ``beta`` and the previous equilibrium lies inside it.  Only the start changes; the last
    solve is the requested problem.  Returns ``(pi, total Newton iterations)``."""
    ladder = []
    b = beta
    while b < CONTINUATION_BELOW:
        b *= 10.0
        ladder.append(b)
    pi, total = None, np.zeros(games.A.shape[0], dtype=int)
    for b in reversed(ladder):
        pi, its = _newton_nash(games, b, tol, pi)
        total += its
    pi, its = _newton_nash(games, beta, tol, pi)
    return pi, total + its


def _scaled_state(g: _Games, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``u = log pi - log r`` on the support of ``r`` (0 off it) and ``lam = 0``: the start of
    the scaled Newton from a float equilibrium (``pi`` floored at :data:`FLOOR`)."""
    live = np.isfinite(g.logr)
    with np.errstate(divide="ignore"):
        u = np.where(live, np.log(np.maximum(pi, FLOOR)) - np.where(live, g.logr, 0.0), 0.0)
    return u, np.zeros(pi.shape[0])


def _scaled_pi(g: _Games, u: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.where(np.isfinite(g.logr), g.ref * np.exp(u), 0.0)


def _scaled_residual(
    g: _Games, u: np.ndarray, lam: np.ndarray, beta: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(F, c, s)``: ``F = beta u - A pi + lam`` on the support of ``r`` (0 off it) with
    ``pi = r exp(u)``, ``c = sum pi - 1``, and the scale ``s`` of each row of ``F`` (the size of
    its terms, ``|beta u| + |A| pi + |lam|``): ``F / s`` is what float64 resolves (a row of tied
    responses, ``A = 0`` there, is fixed by its ``beta`` terms alone)."""
    pi = _scaled_pi(g, u)
    live = np.isfinite(g.logr)
    with np.errstate(invalid="ignore", over="ignore"):
        bu = beta * u
        F = np.where(live, bu - np.einsum("nij,nj->ni", g.A, pi) + lam[:, None], 0.0)
        s = np.abs(bu) + np.einsum("nij,nj->ni", np.abs(g.A), pi) + np.abs(lam)[:, None]
    return F, pi.sum(axis=1) - 1.0, np.where(live & (s > 0), s, 1.0)


def _merit(F: np.ndarray, c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The Euclidean norm of ``(F / s, c)`` (Newton's direction, invariant under row scaling,
    descends on it), ``inf`` if not finite."""
    with np.errstate(over="ignore", invalid="ignore"):
        Fs = F / s
        m = np.sqrt(np.sum(Fs * Fs, axis=1) + c * c)
    return np.where(np.isfinite(m), m, np.inf)


def _scaled_newton(
    g: _Games, u: np.ndarray, lam: np.ndarray, beta: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Newton on the fixed point in payoff units, ``beta u - A pi + lam 1 = 0`` on ``supp r``
    with ``pi = r exp(u)`` and ``sum pi = 1`` (unknowns ``u``, ``lam``).  Every term is O(1)
    however small ``beta`` is (a coordinate off the limit support has ``u ~ -c / beta`` and
    ``pi = 0``), so float64 resolves the equation to about ``1e-16``; the Jacobian
    ``[[beta I - A diag(pi), 1], [pi^T, 0]]`` is solved directly, steps halved until the
    max-norm residual shrinks.  Returns ``(u, lam, iterations)``."""
    N, K = u.shape
    live = np.isfinite(g.logr)
    its = np.zeros(N, dtype=int)
    F, c, sc = _scaled_residual(g, u, lam, beta)
    m = _merit(F, c, sc)
    eye = np.eye(K)
    for _ in range(SCALED_MAX_ITER):
        act = np.flatnonzero(m > SCALED_TOL)
        if len(act) == 0:
            break
        pi = _scaled_pi(g.rows(act), u[act])
        J = np.zeros((len(act), K + 1, K + 1))
        J[:, :K, :K] = np.where(live[act][:, :, None], beta * eye - g.A[act] * pi[:, None, :], eye)
        J[:, :K, K] = live[act]
        J[:, K, :K] = pi
        J[:, :K, :] /= sc[act][:, :, None]  # row equilibration: each row at its own scale
        rhs = -np.concatenate([F[act] / sc[act], c[act, None]], axis=1)
        step = _solve_rows(J, rhs)
        du, dlam = np.where(live[act], step[:, :K], 0.0), step[:, K]
        t = np.ones(len(act))
        for _ls in range(LINE_SEARCH_STEPS):
            F_t, c_t, s_t = _scaled_residual(
                g.rows(act), u[act] + t[:, None] * du, lam[act] + t * dlam, beta
            )
            m_t = _merit(F_t, c_t, s_t)
            worse = m_t >= m[act] * (1.0 - 1e-4 * t)
            if not np.any(worse):
                break
            t = np.where(worse, t * 0.5, t)
        moved = m_t < m[act]
        idx = act[moved]
        u[idx] += t[moved, None] * du[moved]
        lam[idx] += t[moved] * dlam[moved]
        F[idx], c[idx], sc[idx], m[idx] = F_t[moved], c_t[moved], s_t[moved], m_t[moved]
        its[act] += 1
        if not np.any(moved):
            break  # float resolution reached
    return u, lam, its


def _rung(
    g: _Games, u: np.ndarray, lam: np.ndarray, b_from: float, b_to: float, splits: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One rung of the scaled ladder, from the equilibrium ``(u, lam)`` at ``b_from`` to
    ``b_to``; instances whose Newton does not reach :data:`RUNG_OK` are redone in two half-rungs
    (geometric mean), at most ``splits`` times deep."""
    u1, lam1, its = _scaled_newton(g, u.copy(), lam.copy(), b_to)
    bad = np.flatnonzero(~(_merit(*_scaled_residual(g, u1, lam1, b_to)) <= RUNG_OK))
    if len(bad) and splits > 0:
        sub = g.rows(bad)
        mid = float(np.sqrt(b_from * b_to))
        um, lm, k1 = _rung(sub, u[bad], lam[bad], b_from, mid, splits - 1)
        ub, lb, k2 = _rung(sub, um, lm, mid, b_to, splits - 1)
        u1[bad], lam1[bad] = ub, lb
        its[bad] += k1 + k2
    return u1, lam1, its


def _solve_rows(J: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``J x = rhs`` per instance; an instance whose system is not finite or is singular (a
    degenerate rounding case) gets ``x = 0`` (its Newton stalls, and the ladder treats it)."""
    good = np.all(np.isfinite(J), axis=(1, 2)) & np.all(np.isfinite(rhs), axis=1)
    out = np.zeros(rhs.shape)
    if np.any(good):
        try:
            out[good] = np.linalg.solve(J[good], rhs[good][..., None])[..., 0]
        except np.linalg.LinAlgError:  # some system is singular: solve one by one
            for n in np.flatnonzero(good):
                out[n] = _solve_or_zero(J[n], rhs[n])
    return np.where(np.isfinite(out), out, 0.0)


def _solve_or_zero(J: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``J x = rhs`` for one instance, ``x = 0`` when ``J`` is singular."""
    try:
        return np.linalg.solve(J, rhs)
    except np.linalg.LinAlgError:
        return np.zeros(rhs.shape)


def _solve_small(
    games: _Games, beta: float, tol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``beta < SCALED_BELOW``: the equilibrium at :data:`CONTINUATION_BELOW` (float Newton),
    then :func:`_scaled_newton` down the ladder ``beta * LADDER^k, ..., beta``.  Returns
    ``(pi, payoff residual, iterations)``; the cost is ``O(log10(1e-3 / beta))`` rungs of a few
    Newton steps (at most about 300 rungs, ``beta >= BETA_FLOOR``).

    An instance whose rung fails (a degenerate game where an ``O(beta)`` coordinate is fixed by
    cancellations below float resolution) stops descending at the last solved ``beta_s``: its
    coordinates then move by ``O(beta_s)`` at most, except those below :data:`NEGLIGIBLE`,
    whose ``u`` is re-solved at ``beta`` from their own row (:func:`_project_off_support`).
    The returned residual is evaluated at the requested ``beta``."""
    pi0, its = _solve_nash(games, CONTINUATION_BELOW, tol)
    u, lam = _scaled_state(games, pi0)
    ladder = []
    b = beta
    while b * LADDER < CONTINUATION_BELOW:
        b *= LADDER
        ladder.append(b)
    prev = CONTINUATION_BELOW
    alive = np.arange(len(u))
    for b in [*reversed(ladder), beta]:
        g = games.rows(alive)
        u1, lam1, k = _rung(g, u[alive], lam[alive], prev, b, RUNG_SPLITS)
        its[alive] += k
        ok = _merit(*_scaled_residual(g, u1, lam1, b)) <= RUNG_OK
        u[alive[ok]], lam[alive[ok]] = u1[ok], lam1[ok]
        alive = alive[ok]
        prev = b
    u = _project_off_support(games, u, lam, beta)
    pi = _scaled_pi(games, u)
    pi = pi / pi.sum(axis=1, keepdims=True)
    F, c, _ = _scaled_residual(games, u, lam, beta)
    return pi, np.maximum(np.abs(F).max(axis=1), np.abs(c)), its


def _project_off_support(g: _Games, u: np.ndarray, lam: np.ndarray, beta: float) -> np.ndarray:
    """``u_y = ((A pi)_y - lam) / beta`` (its row of the fixed point solved exactly) for the
    coordinates with ``pi_y < NEGLIGIBLE`` whose row says they stay negligible (a no-op for an
    instance solved at ``beta`` itself, up to rounding)."""
    pi = _scaled_pi(g, u)
    with np.errstate(over="ignore", invalid="ignore"):
        target = (np.einsum("nij,nj->ni", g.A, pi) - lam[:, None]) / beta
        small = np.isfinite(g.logr) & (pi < NEGLIGIBLE) & (g.ref * np.exp(target) < NEGLIGIBLE)
    return np.where(small, target, u)


def regularized_exploitability(P: Any, pi: Any, beta: Any, pi_ref: Any) -> float:
    """``phi(pi) = beta log sum_y pi_ref(y) exp((P pi)_y / beta) - (1/2) + beta KL(pi||pi_ref)``.

    The regularized exploitability of ``pi`` in the NLHF game: the best KL-regularized win-rate
    margin any response distribution gains against ``pi`` plus ``pi``'s own KL penalty.  It is
    ``>= 0`` and zero exactly at the regularized Nash equilibrium.  ``P`` ``(K, K)``, ``pi``,
    ``pi_ref`` ``(K,)``, ``beta > 0``.

    >>> from theory.preferences import rock_paper_scissors
    >>> rps = rock_paper_scissors()
    >>> abs(regularized_exploitability(rps, [1/3] * 3, 0.5, [1/3] * 3)) < 1e-15
    True
    """
    b = check_beta(beta, positive=True, hint=_BETA_HINT)
    P_f, ref = _prepare_nash(P, pi_ref)
    pi_arr = to_float(validate_distribution(pi, name="pi"))
    if pi_arr.shape != ref.shape:
        raise ShapeMismatchError(f"pi has shape {pi_arr.shape}, expected {ref.shape}")
    if np.any((pi_arr > 0) & (ref == 0)):
        return float("inf")
    phi = exploitability_of((P_f - 0.5)[None], pi_arr[None], b, ref[None])
    return float(max(phi[0], 0.0))


def _prepare_nash(P: Any, pi_ref: Any) -> tuple[np.ndarray, np.ndarray]:
    P_f = to_float(validate_preference_matrix(P))
    ref = to_float(validate_distribution(pi_ref, name="pi_ref"))
    if ref.shape != (P_f.shape[0],):
        raise ShapeMismatchError(
            f"pi_ref has shape {ref.shape}, expected ({P_f.shape[0]},) to match P"
        )
    return P_f, ref


def regularized_nash(P: Any, beta: Any, pi_ref: Any, *, tol: float = NASH_TOL) -> RegularizedNash:
    """NLHF's regularized Nash equilibrium: ``pi = softmax(log pi_ref + P pi / beta)``.

    The unique equilibrium of the self-play WRO objective with ``beta > 0`` (docs/theory.md,
    "self-play with beta > 0"; claim ``NLHF-is-WRO``): ``pi`` maximizes
    ``WR(p; pi) - beta KL(p || pi_ref)`` over ``p`` when the competitor is ``pi`` itself.  ``P``
    ``(K, K)``, ``beta > 0`` (any float or Fraction, see the module docstring), ``pi_ref``
    ``(K,)``; ``pi`` vanishes where ``pi_ref`` does.  Certificate: ``residual`` (max-norm of the
    fixed-point equation, <= ``tol``; below ``SCALED_BELOW`` in payoff units, see
    :class:`RegularizedNash`; between about ``1e-5`` and ``1e-4`` float64 may not reach it, and a
    :class:`RuntimeWarning` says so) and ``exploitability``.  ``beta <= 0`` raises
    :class:`~theory.errors.InvalidParameterError` (``beta = 0`` is
    :func:`theory.lottery.maximal_lottery`).

    >>> from theory.preferences import rock_paper_scissors
    >>> eq = regularized_nash(rock_paper_scissors(), 0.1, [0.5, 0.25, 0.25])
    >>> eq.residual <= 1e-12, round(float(eq.pi.sum()), 12)
    (True, 1.0)
    """
    b = check_beta(beta, positive=True, hint=_BETA_HINT)
    P_f, ref = _prepare_nash(P, pi_ref)
    return regularized_nash_batch(P_f[None], b, ref[None], tol=tol)[0]


def regularized_nash_batch(
    P: Any, beta: Any, pi_ref: Any, *, tol: float = NASH_TOL
) -> list[RegularizedNash]:
    """One :func:`regularized_nash` per prompt: ``P`` ``(M, K, K)``, ``pi_ref`` ``(M, K)``.

    All prompts are solved in one batched Newton loop.

    >>> from theory.preferences import cyclic
    >>> eqs = regularized_nash_batch([cyclic(3), cyclic(3)], 1, [[1/3] * 3, [0.5, 0.25, 0.25]])
    >>> [round(float(e.pi[0]), 6) for e in eqs][0], all(e.residual <= 1e-12 for e in eqs)
    (0.333333, True)
    """
    beta_n = check_beta(beta, positive=True, hint=_BETA_HINT)
    if not (isinstance(tol, int | float) and np.isfinite(tol) and tol > 0):
        raise InvalidParameterError(f"tol = {tol!r}, expected a positive finite number")
    P_f = to_float(validate_preference_stack(P))
    ref = to_float(as_array(pi_ref, name="pi_ref"))
    if ref.ndim == 1:
        ref = ref[None]
    if ref.shape != P_f.shape[:2]:
        raise ShapeMismatchError(f"pi_ref has shape {ref.shape}, expected {P_f.shape[:2]}")
    validate_model(ref, name="pi_ref", K=P_f.shape[1])
    games = _Games.of(P_f - 0.5, ref)
    b = min(max(safe_float(beta_n), BETA_FLOOR), float(REFERENCE_ABOVE))
    if b >= REFERENCE_ABOVE:  # pi = pi_ref to float precision
        pi, its = ref.copy(), np.zeros(len(ref), dtype=int)
        res = _residual(games, pi, b)
    elif b < SCALED_BELOW:
        pi, res, its = _solve_small(games, b, tol)
    else:
        pi, its = _solve_nash(games, b, tol)
        res = _residual(games, pi, b)
    if np.any(res > tol):
        _warn_residual(res, its, b, tol)
    phi = exploitability_of(games.A, pi, beta_n, ref)
    return [
        RegularizedNash(pi[m], float(res[m]), float(max(phi[m], 0.0)), int(its[m]))
        for m in range(ref.shape[0])
    ]


def exploitability_of(A: np.ndarray, pi: np.ndarray, beta: Any, ref: np.ndarray) -> np.ndarray:
    """``phi(pi) = beta log sum_y r(y) exp((A pi)_y / beta) + beta KL(pi || r)`` per row
    (``A`` ``(N, K, K)``, ``pi``, ``ref`` ``(N, K)`` float, ``pi`` supported on ``supp r``),
    evaluated stably for every ``beta > 0`` (float or Fraction): the log-sum-exp by
    :func:`theory._optimum.soft_value`, the KL as ``sum kl_div(pi, r)`` (termwise >= 0, no
    cancellation when ``pi`` is near ``r``)."""
    Api = np.einsum("nij,nj->ni", A, pi)
    value = soft_value(Api, beta, ref, ref > 0)[0]
    kl = np.sum(kl_div(pi, ref), axis=1)
    phi = value + times(beta, kl)
    check_representable(phi, np.isfinite(kl), "the exploitability phi")
    return phi


def _warn_residual(res: np.ndarray, its: np.ndarray, beta: float, tol: float) -> None:
    m = int(np.argmax(res))
    warnings.warn(
        f"regularized_nash: residual {res[m]:.1e} > tol = {tol:g} at prompt {m} with "
        f"beta = {beta:g} after {int(its[m])} Newton steps (below beta ~ 1e-4 the fixed point "
        "needs (P pi) / beta to more digits than float64 has); the result carries its "
        "residual",
        RuntimeWarning,
        stacklevel=3,
    )
