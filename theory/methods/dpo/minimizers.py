"""The DPO minimizer set, prompt by prompt, and the range of win rates over it.

``L`` (:mod:`theory.methods.dpo.loss`) depends on ``pi`` only through the margins
``beta (d(i) - d(j))`` of compared pairs, and ``-L`` is the Bradley-Terry log-likelihood of the
"reward" ``beta d`` (claim ``DPO-fixed-points``, docs/theory.md).  Per prompt, let
``C_1, ..., C_m`` be the weakly connected components of the comparison graph of ``w_x``
(:func:`theory.bradley_terry.comparison_graph`) and ``U`` the responses in no comparison.  When the
Bradley-Terry MLE ``r`` exists, the minimizer set is

    { pi : pi_x = sum_c t_c nu_c + u,  t_c > 0,  u >= 0 on U,  sum_c t_c + sum u = 1 },
    nu_c(y) proportional to pi_ref(y) exp(r(y) / beta) on C_c,

so ``beta d = r + const_c`` on each component and the mass on ``U`` is free.  The win rate is
linear in ``pi``, so its supremum and infimum over the set (a linear program in ``(t, u)``) are
attained on the closure at a vertex: a ``nu_c`` or a point mass on ``U``.  When the MLE does not
exist (some group wins every comparison with the rest of its component), no minimizer exists
and ``L`` keeps falling along the direction that lowers the losers' log-probabilities.

With ``mu0 = mu1 = mu`` of full support and ``P`` Bradley-Terry there is one component and
``U`` is empty: the set is the single model ``pi_ref exp(r / beta) / Z``, the RLHF optimum.

The set separates over prompts: :func:`prompt_minimizers` computes one prompt's part (a
:class:`PromptMinimizers`) and :func:`dpo_minimizers` assembles them into a
:class:`DPOMinimizerSet`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np

from ..._validate import prompt_model
from ...bradley_terry import ComparisonGraph, comparison_graph, fit_bradley_terry
from ...data import PreferenceData, data_anchor
from ...errors import (
    InvalidParameterError,
    NoMaximumLikelihoodError,
    NonFiniteInputError,
    NotANumberError,
    ShapeMismatchError,
)
from ...kernels import check_beta, dpo_pair_loss
from ...numbers import Number, as_array, format_number, is_exact, scalar, to_float
from ...preferences import validate_preference_stack
from ...simplex import validate_distribution, validate_model
from .loss import Source, beta_as_float, check_reference_support, dpo_weights

__all__ = [
    "DPO_TOL",
    "EXACT_POWER_BITS",
    "PromptMinimizers",
    "DPOMinimizerSet",
    "WinRateRange",
    "prompt_minimizers",
    "dpo_minimizers",
    "dpo_win_rate_range",
    "dpo_data_win_rate_range",
]

#: Float tolerance for recognising that a float minimizer satisfies its defining equations.
DPO_TOL = 1e-8

#: Largest size (in bits) of the exact powers ``s^(1/beta)`` computed for an exact ``nu_c``;
#: beyond it (``beta = 1/10**400``, say) ``nu_c`` is computed in floats from the logarithms,
#: which is the ``beta -> 0`` limit to float precision.
EXACT_POWER_BITS = 1 << 16


def _scaled(v: np.ndarray, inv_beta: float) -> np.ndarray:
    """``(v - max v) / beta`` with ``inv_beta = 1 / beta`` possibly ``inf`` (``beta`` below
    float64) or ``0.0`` (``beta`` above it): entries at the maximum stay exactly 0, the others
    go to ``-inf`` or ``0`` in the limits, never NaN."""
    diff = v - v.max()
    with np.errstate(over="ignore", invalid="ignore"):
        out = diff * inv_beta
    return np.where(diff == 0, 0.0, out)


def _inverse_beta(beta: Any) -> float:
    """``1 / beta`` as a float, ``inf`` when it overflows."""
    b = beta_as_float(beta)
    if b == 0.0:
        return float("inf")
    try:
        return float(1 / beta) if not isinstance(beta, float) else 1.0 / b
    except OverflowError:
        return float("inf")


@dataclass(frozen=True)
class PromptMinimizers:
    """One prompt's part of the DPO minimizer set (module docstring).

    ``graph``: the comparison graph of ``weights`` ``(K, K)`` (float); ``components``: its weakly
    connected components (int arrays); ``free``: the responses in no comparison (their mass is
    unconstrained); ``groups``: the components, or the strongly connected ones when no minimizer
    exists; ``rewards`` ``(K,)``: the Bradley-Terry MLE (mean zero per group, float) on each
    group; ``nus``: the component distributions ``nu_c`` ``(K,)`` (zero off ``C_c``; empty when
    no minimizer exists), ``exact_parts[c]`` True when ``nus[c]`` is exact; ``direction``
    ``(K,)``: when no minimizer exists, a log-probability direction along which the loss falls
    for ever, else zeros; ``gradient_norm``: the largest Bradley-Terry certificate (0 when exact).
    """

    weights: np.ndarray = field(repr=False)
    graph: ComparisonGraph = field(repr=False)
    groups: tuple[np.ndarray, ...]
    free: np.ndarray
    rewards: np.ndarray
    nus: tuple[np.ndarray, ...]
    exact_parts: tuple[bool, ...]
    direction: np.ndarray
    gradient_norm: float

    @property
    def exists(self) -> bool:
        """True when this prompt's loss has a minimizer (the Bradley-Terry MLE exists)."""
        return self.graph.exists

    @property
    def components(self) -> tuple[np.ndarray, ...]:
        return self.graph.weak

    def min_loss(self) -> float:
        """Minus the Bradley-Terry log-likelihood of the fitted rewards, group by group
        (self-pairs excluded): :func:`theory.kernels.dpo_pair_loss` with ``beta d = r``."""
        total = 0.0
        K = self.weights.shape[0]
        for comp in self.groups:
            if len(comp) < 2:
                continue
            sub = self.weights if len(comp) == K else self.weights[np.ix_(comp, comp)]
            sub = sub.copy()
            np.fill_diagonal(sub, 0.0)
            total += float(dpo_pair_loss(sub[None], self.rewards[comp][None], 1.0))
        return total

    def mixture(self, tx: list, ux: list, exact: bool) -> np.ndarray:
        """``sum_c tx[c] nu_c + sum_k ux[k] e_{free[k]}`` ``(K,)`` (weights already checked)."""
        K = self.weights.shape[0]
        row = np.array([Fraction(0)] * K, dtype=object) if exact else np.zeros(K)
        for weight, nu in zip(tx, self.nus, strict=True):
            row = row + weight * (nu if exact else to_float(nu))
        for weight, y in zip(ux, self.free, strict=True):
            row[y] = row[y] + weight
        return row

    def path_log(self, t: float, ref: np.ndarray, b: float) -> np.ndarray:
        """``log pi_t`` at this prompt (see :meth:`DPOMinimizerSet.path_log`), float ``(K,)``;
        ``b`` is ``1 / beta`` as a float (``inf`` allowed)."""
        out = np.full(ref.shape, -np.inf)
        n = len(self.components) + len(self.free)
        for comp in self.components:
            logits = np.log(ref[comp]) + _scaled(self.rewards[comp] + t * self.direction[comp], b)
            out[comp] = logits - np.logaddexp.reduce(logits) - np.log(n)
        out[self.free] = -np.log(n)
        return out

    def path(self, t: float, ref: np.ndarray, b: float) -> np.ndarray:
        """``pi_t`` at this prompt (see :meth:`DPOMinimizerSet.path`), float ``(K,)``;
        ``b`` is ``1 / beta`` as a float (``inf`` allowed)."""
        out = np.zeros(ref.shape)
        n = len(self.components) + len(self.free)
        for comp in self.components:
            logits = np.log(ref[comp]) + _scaled(self.rewards[comp] + t * self.direction[comp], b)
            wts = np.exp(logits - logits.max())
            out[comp] = wts / wts.sum() / n
        out[self.free] = 1.0 / n
        return out


@dataclass(frozen=True)
class WinRateRange:
    """The best and worst win rate over (the closure of) the DPO minimizer set.

    ``best``/``worst``: ``sup`` and ``inf`` of ``WR(pi; q)`` over the set (exact Fractions when
    every vertex is exact); ``best_model``/``worst_model`` ``(M, K)``: vertices of the closure
    attaining them; ``attained``: True when they are attained by minimizers themselves (each
    prompt's set has a single vertex, i.e. it is one point); ``vertex_values``: per prompt, the
    win rate of each vertex (``[(label, value), ...]``, label ``"C<k>"`` for a component's
    ``nu`` or ``"y<i>"`` for a point mass on a free response).
    """

    best: Number
    worst: Number
    best_model: np.ndarray
    worst_model: np.ndarray
    attained: bool
    exact: bool
    vertex_values: tuple


@dataclass(frozen=True)
class DPOMinimizerSet:
    """The set of minimizers of a DPO loss: one :class:`PromptMinimizers` per prompt.

    ``beta``, ``pi_ref`` ``(M, K)`` and ``prompts``.  The per-prompt parts read across prompts:
    ``exists`` (False when some prompt has no minimizer), ``nus[x]``, ``exact_parts[x]``,
    ``components[x]``, ``free[x]``, ``groups[x]``, ``graphs[x]``, ``rewards`` and ``direction``
    ``(M, K)``, ``weights`` ``(M, K, K)``, ``gradient_norm`` (the largest certificate) and
    ``min_loss``: the minimum (or, when none exists, the infimum) of the loss.
    """

    beta: Any
    pi_ref: np.ndarray
    prompts: tuple[PromptMinimizers, ...]

    @property
    def M(self) -> int:
        return len(self.prompts)

    @property
    def exists(self) -> bool:
        return all(p.exists for p in self.prompts)

    @property
    def nus(self) -> tuple[tuple[np.ndarray, ...], ...]:
        return tuple(p.nus for p in self.prompts)

    @property
    def exact_parts(self) -> tuple[tuple[bool, ...], ...]:
        return tuple(p.exact_parts for p in self.prompts)

    @property
    def components(self) -> tuple[tuple[np.ndarray, ...], ...]:
        return tuple(p.components for p in self.prompts)

    @property
    def free(self) -> tuple[np.ndarray, ...]:
        return tuple(p.free for p in self.prompts)

    @property
    def groups(self) -> tuple[tuple[np.ndarray, ...], ...]:
        return tuple(p.groups for p in self.prompts)

    @property
    def graphs(self) -> tuple[ComparisonGraph, ...]:
        return tuple(p.graph for p in self.prompts)

    @property
    def rewards(self) -> np.ndarray:
        return np.stack([p.rewards for p in self.prompts])

    @property
    def direction(self) -> np.ndarray:
        return np.stack([p.direction for p in self.prompts])

    @property
    def weights(self) -> np.ndarray:
        return np.stack([p.weights for p in self.prompts])

    @property
    def gradient_norm(self) -> float:
        return max((p.gradient_norm for p in self.prompts), default=0.0)

    @cached_property
    def min_loss(self) -> float:
        """The minimum of the loss (its infimum when no minimizer exists): ``sum w_ii log 2`` plus,
        per prompt, :meth:`PromptMinimizers.min_loss`.  Computed on first use (``O(K^2)``)."""
        w = self.weights
        idx = np.arange(w.shape[1])
        total = float(w[:, idx, idx].sum() * np.log(2.0))
        return total + sum(p.min_loss() for p in self.prompts)

    @property
    def is_point(self) -> bool:
        """True when the set is a single model (one component per prompt, no free response)."""
        return self.exists and all(len(p.nus) == 1 and len(p.free) == 0 for p in self.prompts)

    def point(self, t: Any = None, u: Any = None) -> np.ndarray:
        """A member of the set: ``pi_x = sum_c t[x][c] nu_c + sum_y u[x][y] e_y``.

        Default weights: equal weights over the components and the free responses, which is a
        minimizer (every ``t_c > 0``).  ``(M, K)``, exact when every part is exact.
        """
        if not self.exists:
            raise InvalidParameterError("the DPO loss has no minimizer here (see .direction)")
        rows = [self._row(x, t, u) for x in range(self.M)]
        if all(is_exact(r) for r in rows):
            return np.stack(rows)
        return np.stack([to_float(r) for r in rows])

    def _row(self, x: int, t: Any, u: Any) -> np.ndarray:
        """Prompt ``x``'s row of :meth:`point`, its weights checked."""
        part = self.prompts[x]
        n = len(part.nus) + len(part.free)
        t, u = _weight_rows(t, self.M, "t"), _weight_rows(u, self.M, "u")
        given = ([] if t is None else list(t[x])) + ([] if u is None else list(u[x]))
        exact = (
            all(part.exact_parts)
            and is_exact(self.pi_ref)
            and all(isinstance(v, Fraction | int | np.integer) for v in given)
        )
        one = Fraction(1) if exact else 1.0
        tx = [one / n] * len(part.nus) if t is None else list(t[x])
        ux = [one / n] * len(part.free) if u is None else list(u[x])
        if len(tx) != len(part.nus) or len(ux) != len(part.free):
            raise ShapeMismatchError(
                f"prompt {x}: {len(tx)} component weights and {len(ux)} free masses given, "
                f"expected {len(part.nus)} and {len(part.free)}"
            )
        total = sum(tx) + sum(ux)
        if any(v <= 0 for v in tx) or any(v < 0 for v in ux) or abs(total - 1) > DPO_TOL:
            raise InvalidParameterError(
                f"prompt {x}: component weights must be > 0 and free masses >= 0, summing "
                f"to 1 (they sum to {format_number(total)})"
            )
        return part.mixture(tx, ux, exact)

    def path_log(self, t: float) -> np.ndarray:
        """``log pi_t`` for :meth:`path` (float ``(M, K)``), exact in floats even where ``pi_t``
        itself underflows to 0 (far along the path); ``-inf`` nowhere on compared responses."""
        ref = to_float(self.pi_ref)
        b = _inverse_beta(self.beta)
        tf = _real_scalar(t, "t")
        return np.stack([p.path_log(tf, ref[x], b) for x, p in enumerate(self.prompts)])

    def path(self, t: float) -> np.ndarray:
        """When no minimizer exists: ``pi_t`` proportional (per weak component, with the
        components' masses and free responses as in :meth:`point`) to
        ``pi_ref exp((r + t v) / beta)``; the loss falls strictly in ``t`` towards
        ``min_loss``.  Float ``(M, K)``."""
        ref = to_float(self.pi_ref)
        b = _inverse_beta(self.beta)
        tf = _real_scalar(t, "t")
        return np.stack([p.path(tf, ref[x], b) for x, p in enumerate(self.prompts)])


def _real_scalar(v: Any, name: str) -> float:
    """``v`` as a finite real float, or a named error."""
    if isinstance(v, bool) or not isinstance(v, int | float | Fraction | np.integer | np.floating):
        raise NotANumberError(f"{name} = {v!r} (type {type(v).__name__}), not a real number")
    f = beta_as_float(v)
    if not np.isfinite(f):
        raise NonFiniteInputError(f"{name} = {v!r}, expected a finite number")
    return f


def _weight_rows(t: Any, M: int, name: str) -> list[list[Any]] | None:
    """Per-prompt weights ``t`` (one sequence per prompt) checked to be real and finite."""
    if t is None:
        return None
    try:
        rows = [list(row) for row in t]
    except TypeError:
        raise ShapeMismatchError(f"{name} must hold one sequence of weights per prompt") from None
    if len(rows) != M:
        raise ShapeMismatchError(f"{name} has {len(rows)} rows, expected one per prompt ({M})")
    for row in rows:
        for v in row:
            _real_scalar(v, name)
    return rows


# ---------------------------------------------------------------------------------------------
# one prompt, step by step


def _exact_strengths(w: np.ndarray, comp: np.ndarray) -> list[Fraction] | None:
    """Rational strengths ``s`` on ``comp`` with ``w[i, j] / w[j, i] = s_i / s_j`` on every
    compared pair, or None.  Such ``s`` makes the Bradley-Terry gradient exactly zero, so
    ``log s`` is the MLE (exact certificate)."""
    members = [int(c) for c in comp]
    s = {members[0]: Fraction(1)}
    frontier = [members[0]]
    while frontier:
        i = frontier.pop()
        for j in (j for j in members if j not in s and w[i, j] + w[j, i] != 0):
            if w[i, j] == 0 or w[j, i] == 0:
                return None
            s[j] = s[i] * w[j, i] / w[i, j]
            frontier.append(j)
    if len(s) != len(members):
        return None
    pairs = [(i, j) for i in members for j in members if i < j and w[i, j] + w[j, i] > 0]
    if any(w[i, j] * s[j] != w[j, i] * s[i] for i, j in pairs):
        return None
    return [s[c] for c in members]


def _integer_inverse(beta: Any) -> int | None:
    """``1 / beta`` when it is a positive integer (so ``s^(1/beta)`` stays rational), else None."""
    if isinstance(beta, Fraction) and beta.numerator == 1:
        return beta.denominator
    if isinstance(beta, int) and beta == 1:
        return 1
    return None


def _exact_powers(s_exact: list[Fraction], k_inv: int) -> np.ndarray | None:
    """``s^k_inv`` exactly, or None when the powers would exceed :data:`EXACT_POWER_BITS`."""
    bits = max(max(v.numerator.bit_length(), v.denominator.bit_length()) for v in s_exact)
    if k_inv * bits > EXACT_POWER_BITS:
        return None
    return np.array([v**k_inv for v in s_exact], dtype=object)


def _graph_and_fit(wx: np.ndarray) -> tuple[ComparisonGraph, np.ndarray | None, float]:
    """Step 1: the comparison graph of ``wx`` and, when the MLE exists, one fit for the whole
    prompt (its rewards and certificate); a prompt with no weight at all has no fit."""
    if not wx.any():
        return comparison_graph(wx), None, 0.0
    try:
        fit = fit_bradley_terry(wx)
    except NoMaximumLikelihoodError as err:
        return err.graph, None, 0.0  # type: ignore[return-value]
    return fit.graph, fit.rewards, fit.gradient_norm


def _group_rewards(
    w_exact: np.ndarray | None, wx: np.ndarray, comp: np.ndarray, whole: np.ndarray | None
) -> tuple[np.ndarray, list[Fraction] | None, float]:
    """Step 2: the MLE on one group, ``(r, s, gradient_norm)``: ``r = log s`` (centred) from
    exact strengths ``s`` when the odds factor, else the whole-prompt fit or a fit of the
    group's own weights."""
    s_exact = None if w_exact is None else _exact_strengths(w_exact, comp)
    if s_exact is not None:
        r = np.array([float(np.log(float(v))) for v in s_exact])
        return r - r.mean(), s_exact, 0.0
    if len(comp) == 1:
        return np.zeros(1), None, 0.0
    if whole is not None:
        return whole[comp], None, 0.0
    fit = fit_bradley_terry(wx[np.ix_(comp, comp)])
    return fit.rewards, None, fit.gradient_norm


def _component_nu(
    ref_x: np.ndarray,
    comp: np.ndarray,
    r: np.ndarray,
    s_exact: list[Fraction] | None,
    k_inv: int | None,
    beta: Any,
) -> tuple[np.ndarray, bool]:
    """Step 3: ``nu_c`` proportional to ``pi_ref exp(r / beta)`` on ``comp`` and whether it is
    exact (one response; or rational strengths with ``1 / beta`` an integer)."""
    K = ref_x.shape[0]
    if len(comp) == 1:
        exact = is_exact(ref_x)
        nu = np.array([Fraction(0)] * K, dtype=object) if exact else np.zeros(K)
        nu[comp] = Fraction(1) if exact else 1.0
        return nu, exact
    powers = None if s_exact is None or k_inv is None else _exact_powers(s_exact, k_inv)
    if powers is not None:
        wts = ref_x[comp] * powers
        nu = np.array([Fraction(0)] * K, dtype=object)
        nu[comp] = wts / sum(wts, Fraction(0))
        return nu, True
    if s_exact is not None:  # exact strengths: their logarithms, without float overflow
        r = np.array([math.log(v.numerator) - math.log(v.denominator) for v in s_exact])
    logits = np.log(to_float(ref_x[comp])) + _scaled(r, _inverse_beta(beta))
    wts = np.exp(logits - logits.max())
    nu = np.zeros(K)
    nu[comp] = wts / wts.sum()
    return nu, False


def prompt_minimizers(
    w_x: np.ndarray, ref_x: np.ndarray, beta: Any, *, k_inv: int | None = None
) -> PromptMinimizers:
    """One prompt's part of the DPO minimizer set from its winner-loser weights ``w_x``
    ``(K, K)`` (exact or float, validated) and reference ``ref_x`` ``(K,)``: the comparison
    graph and a fit (step 1), the MLE on each group (step 2), each component's ``nu_c``
    (step 3, only when the MLE exists).  ``k_inv = 1 / beta`` when it is an integer and the
    inputs are exact (then ``nu_c`` is exact where the odds factor).

    >>> half = Fraction(1, 2)
    >>> w_x = np.array([[0, half], [0, half]], dtype=object)   # 0 always beats 1: no MLE
    >>> p = prompt_minimizers(w_x, np.array([half, half]), 1)
    >>> p.exists, p.direction.tolist()
    (False, [0.5, -0.5])
    """
    wx = to_float(w_x)
    graph, whole, gnorm = _graph_and_fit(wx)
    groups = graph.weak if graph.exists else graph.strong
    w_exact = w_x if is_exact(w_x) else None
    rewards = np.zeros(wx.shape[0])
    nus, exact_parts = [], []
    for comp in groups:
        r, s_exact, g = _group_rewards(w_exact, wx, comp, whole)
        rewards[comp], gnorm = r, max(gnorm, g)
        if graph.exists:
            nu, exact = _component_nu(ref_x, comp, r, s_exact, k_inv, beta)
            nus.append(nu)
            exact_parts.append(exact)
    direction = np.zeros(wx.shape[0]) if graph.exists else graph.divergence_direction()
    free = np.flatnonzero(~graph.compared)
    return PromptMinimizers(
        wx, graph, groups, free, rewards, tuple(nus), tuple(exact_parts), direction, gnorm
    )


def dpo_minimizers(source: Source, pi_ref: Any, beta: Any = 1) -> DPOMinimizerSet:
    """The DPO minimizer set of ``source`` (population data or a sampled dataset) for reference
    ``pi_ref`` ``(M, K)`` and ``beta > 0``; see the module docstring for the set.

    Costs one Bradley-Terry fit (:func:`theory.bradley_terry.fit_bradley_terry`) per prompt plus
    ``O(K^2)`` work (:func:`prompt_minimizers`).  A component's ``nu_c`` is **exact** when the
    data is exact, the odds ``w[i, j] / w[j, i]`` of its compared pairs factor as ``s_i / s_j``
    with rational ``s`` (then ``r = log s`` with an exactly zero gradient; always the case for
    population data with an exact Bradley-Terry ``P``), ``pi_ref`` is exact and ``1 / beta`` is a
    positive integer (``nu_c`` proportional to ``pi_ref s^(1/beta)``); a component of one
    response is always exact.  Otherwise it is a float computed from the fit (certificate
    ``gradient_norm``).

    When the MLE does not exist on some prompt, ``exists`` is False, ``rewards`` holds the
    within-strong-component fits, ``min_loss`` the infimum of the loss (the sum of the
    strong components' own minima) and ``direction`` the comparison graph's divergence direction.

    >>> from theory.preferences import bradley_terry_from_strengths
    >>> D = PreferenceData(P=bradley_terry_from_strengths([1, 3]), mu0=[Fraction(1, 2)] * 2)
    >>> S = dpo_minimizers(D, [[Fraction(1, 2)] * 2])
    >>> S.is_point, S.point().tolist()  # pi_ref * s / Z: the RLHF optimum
    (True, [[Fraction(1, 4), Fraction(3, 4)]])
    """
    b = check_beta(beta, positive=True)
    w_all = dpo_weights(source)
    M, K = w_all.shape[0], w_all.shape[1]
    ref = prompt_model(pi_ref, "pi_ref", M, K)
    off = to_float(w_all).copy()
    off[:, np.arange(K), np.arange(K)] = 0.0
    check_reference_support(ref, (off.sum(axis=2) + off.sum(axis=1)) > 0)
    k_inv = _integer_inverse(b) if is_exact(w_all) and is_exact(ref) else None
    prompts = tuple(prompt_minimizers(w_all[x], ref[x], b, k_inv=k_inv) for x in range(M))
    return DPOMinimizerSet(beta=b, pi_ref=ref, prompts=prompts)


# ---------------------------------------------------------------------------------------------
# the win-rate range over the set


def _vertices(part: PromptMinimizers, K: int, exact: bool) -> list[tuple[str, np.ndarray]]:
    """The vertices of one prompt's closed set: each ``nu_c`` and a point mass per free response."""
    verts = [(f"C{c}", nu if exact else to_float(nu)) for c, nu in enumerate(part.nus)]
    for y in part.free:
        e = np.array([Fraction(0) if exact else 0.0] * K, dtype=object if exact else float)
        e[y] = Fraction(1) if exact else 1.0
        verts.append((f"y{int(y)}", e))
    return verts


def _range_inputs(
    minimizers: DPOMinimizerSet, P: Any, q: Any, rho: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """``P``, ``q``, ``rho`` validated against the set, converted to one kind, and whether the
    range is exact."""
    M = minimizers.M
    P3 = validate_preference_stack(P)
    q_arr = validate_model(q, name="q", K=P3.shape[1])
    if P3.shape[0] != M or q_arr.shape[0] != M:
        raise ShapeMismatchError(f"P and q must have {M} prompts, like the minimizer set")
    rho_arr = (
        as_array([Fraction(1, M)] * M) if rho is None else validate_distribution(rho, name="rho")
    )
    exact = all(all(p) for p in minimizers.exact_parts) and all(
        is_exact(a) for a in (P3, q_arr, rho_arr)
    )
    if exact:
        return P3, q_arr, rho_arr, True
    return to_float(P3), to_float(q_arr), to_float(rho_arr), False


def dpo_win_rate_range(
    minimizers: DPOMinimizerSet, P: Any, q: Any, rho: Any = None
) -> WinRateRange:
    """``sup`` and ``inf`` of ``WR(pi; q) = sum_x rho_x pi_x^T P_x q_x`` over the DPO minimizer
    set: the linear program ``max/min sum_x rho_x (sum_c t_c WR_x(nu_c) + sum_y u_y W_q(x, y))``
    over ``t_c > 0``, ``u >= 0``, ``sum t + sum u = 1`` per prompt, solved exactly at its vertices
    (the LP separates over prompts and its feasible set is a simplex).  Exact when ``P``, ``q``,
    ``rho`` and the vertices are exact.  Raises :class:`~theory.errors.InvalidParameterError`
    when the set is empty (no minimizer).

    >>> D = PreferenceData(P=[[Fraction(1, 2), Fraction(2, 3)], [Fraction(1, 3), Fraction(1, 2)]],
    ...                    mu0=[[1, 0]])   # only response 0 is ever shown: response 1 is free
    >>> S = dpo_minimizers(D, [[Fraction(1, 2)] * 2])
    >>> R = dpo_win_rate_range(S, D.P, [[1, 0]])
    >>> R.best, R.worst, R.attained
    (Fraction(1, 2), Fraction(1, 3), False)
    """
    if not minimizers.exists:
        raise InvalidParameterError(
            "the DPO loss has no minimizer (the Bradley-Terry MLE does not exist): the win-rate "
            "range over the minimizer set is undefined"
        )
    P3, q_arr, rho_arr, exact = _range_inputs(minimizers, P, q, rho)
    zero: Any = Fraction(0) if exact else 0.0
    best, worst = zero, zero
    best_rows, worst_rows, values_all = [], [], []
    for x, part in enumerate(minimizers.prompts):
        Wq = P3[x] @ q_arr[x]
        verts = _vertices(part, P3.shape[1], exact)
        vals = [v @ Wq for _, v in verts]
        labels = [label for label, _ in verts]
        values_all.append(tuple((lb, scalar(v, exact)) for lb, v in zip(labels, vals, strict=True)))
        i_best = max(range(len(vals)), key=lambda i: vals[i])
        i_worst = min(range(len(vals)), key=lambda i: vals[i])
        best = best + rho_arr[x] * vals[i_best]
        worst = worst + rho_arr[x] * vals[i_worst]
        best_rows.append(verts[i_best][1])
        worst_rows.append(verts[i_worst][1])
    return WinRateRange(
        best=scalar(best, exact),
        worst=scalar(worst, exact),
        best_model=np.stack(best_rows),
        worst_model=np.stack(worst_rows),
        attained=all(len(v) == 1 for v in values_all),
        exact=exact,
        vertex_values=tuple(values_all),
    )


def dpo_data_win_rate_range(data: PreferenceData, pi_ref: Any, beta: Any = 1) -> WinRateRange:
    """:func:`dpo_win_rate_range` of the population minimizer set against the data anchor
    ``(mu0 + mu1) / 2`` under ``data.rho``.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(2), mu0=[[1, 0]])   # 1 never shown: free, and worse
    >>> R = dpo_data_win_rate_range(D, [[Fraction(1, 2)] * 2])
    >>> R.best, R.worst
    (Fraction(1, 2), Fraction(0, 1))
    """
    S = dpo_minimizers(data, pi_ref, beta)
    return dpo_win_rate_range(S, data.P, data_anchor(data), data.rho)
