"""WRO-correspondence: the WRO objective orders models as their (regularized) h-win rates do.

With a fixed anchor ``q`` and ``beta = 0``, ``J(pi) = WR_h(pi; q)``: a better objective value is
a better h-win rate against the anchor, so the objective is a valid checkpoint signal.  With
``beta > 0`` the objective orders models by the *regularized* win rate
``WR_h(pi; q) - beta KL(pi || pi_ref)``.

Each instance draws ``K`` in 2..8, ``h`` (identity on every family; logit and log on families with
entries inside (0, 1)), a data distribution ``(mu0, mu1)`` whose anchor ``(mu0 + mu1) / 2`` or an
unrelated model is the anchor, two models (some zeros), ``pi_ref`` and ``beta`` (0 half the time).
The objective of both models comes from :func:`theory.wro.wro_objective_per_prompt` (batched);
the evaluation they are compared with is computed apart from :mod:`theory.wro`: in the check's own
arithmetic for every instance and by :func:`theory.winrate.h_win_rate` and
:func:`theory.simplex.kl_divergence` for every 5th.  Violation: the two
differences disagree in sign (or by more than :data:`TOL`).  Every 20th instance is exact
(Fractions, identity, beta = 0, data anchor): the objective of :func:`theory.wro.wro_objective`
and the data win rate :func:`theory.winrate.data_win_rate` (the evaluation of the uniqueness
theorem) are compared with ``==``, and so are their orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from theory.data import PreferenceData
from theory.simplex import kl_divergence, random_distribution
from theory.winrate import data_win_rate, h_win_rate
from theory.wro import wro_objective, wro_objective_per_prompt

from .common.wro_instances import (
    ALL_FAMILIES,
    H_NAMES,
    INTERIOR_FAMILIES,
    MAX_K,
    exact_matrix,
    float_then_exact,
    h_values,
    model_batch,
    preference_batch,
)
from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Max,
    Tally,
    cells,
    chunked,
    maximum,
)

#: Float agreement of objective differences and evaluation differences.
TOL = 1e-10
BETAS = (0.0, 0.05, 0.5, 2.0)
LIBRARY_EVERY = 5


@dataclass
class Stats(Tally):
    pairs: int = 0
    strict: int = 0
    max_diff: Max = maximum()
    exact: int = 0
    library_checked: int = 0
    library_mismatch: int = 0


def _kl(pi: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``KL(pi || ref)`` per row in the check's own arithmetic (apart from theory)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pi > 0, pi * np.log(pi / ref), 0.0).sum(axis=1)


def _sign(x: float) -> int:
    return 0 if abs(x) <= TOL else (1 if x > 0 else -1)


def _disagree(dj: float, dv: float) -> bool:
    """The violation rule: the objective and evaluation differences disagree in sign or by more
    than :data:`TOL`."""
    return _sign(dj) != _sign(dv) or abs(dj - dv) > TOL


def _batch(rng: np.random.Generator, N: int, K: int, h: str) -> dict[str, Any]:
    """``N`` instances of one ``K`` and ``h``: ``P`` of one family, the anchor (the data anchor
    ``(mu0 + mu1) / 2`` or an unrelated model, per instance), two models and ``pi_ref``."""
    fams = ALL_FAMILIES if h == "identity" else INTERIOR_FAMILIES
    fam = fams[int(rng.integers(len(fams)))]
    P = preference_batch(rng, N, K, fam)
    mu0, mu1 = model_batch(rng, N, K, zeros=True), model_batch(rng, N, K, zeros=True)
    other = model_batch(rng, N, K, zeros=True)
    use_data = rng.random(N) < 0.5
    q = np.where(use_data[:, None], (mu0 + mu1) / 2, other)
    pi1, pi2 = model_batch(rng, N, K, zeros=True), model_batch(rng, N, K, zeros=True)
    return {"P": P, "q": q, "pi1": pi1, "pi2": pi2, "ref": model_batch(rng, N, K)}


def _evaluation(b: dict[str, Any], h: str, beta: float, stats: Stats) -> tuple[Any, Any]:
    """The (regularized) h-win rates of both models, computed apart from theory.wro: h(P) in the
    check's own arithmetic for every instance, theory.winrate.h_win_rate and
    theory.simplex.kl_divergence on every LIBRARY_EVERY-th (a mismatch there replaces the
    value, so that the comparison flags it)."""
    P, q, pi1, pi2, ref = b["P"], b["q"], b["pi1"], b["pi2"], b["ref"]
    H = h_values(h, P)
    V1 = np.einsum("ni,nij,nj->n", pi1, H, q)
    V2 = np.einsum("ni,nij,nj->n", pi2, H, q)
    if beta > 0:
        V1 = V1 - beta * _kl(pi1, ref)
        V2 = V2 - beta * _kl(pi2, ref)
    for n in range(0, len(P), LIBRARY_EVERY):
        v1 = float(h_win_rate(P[n], pi1[n], q[n], h))
        v2 = float(h_win_rate(P[n], pi2[n], q[n], h))
        if beta > 0:
            v1 -= beta * kl_divergence(pi1[n], ref[n])
            v2 -= beta * kl_divergence(pi2[n], ref[n])
        stats.library_checked += 1
        if abs(v1 - V1[n]) > TOL or abs(v2 - V2[n]) > TOL:
            V1[n], V2[n] = v1, v2
            stats.library_mismatch += 1
    return V1, V2


def _compare(b: dict[str, Any], K: int, h: str, beta: float, stats: Stats) -> None:
    P, q, pi1, pi2, ref = b["P"], b["q"], b["pi1"], b["pi2"], b["ref"]
    J1 = wro_objective_per_prompt(P, pi1, q, beta, ref, h)
    J2 = wro_objective_per_prompt(P, pi2, q, beta, ref, h)
    V1, V2 = _evaluation(b, h, beta, stats)
    for n in range(len(P)):
        dj, dv = J1[n] - J2[n], V1[n] - V2[n]
        stats.max_diff.add(abs(dj - dv))
        stats.pairs += 1
        stats.strict += _sign(dv) != 0
        if _disagree(dj, dv):
            stats.witness.offer(
                (K, beta),
                {
                    "h": h,
                    "beta": beta,
                    "P": P[n],
                    "q": q[n],
                    "pi1": pi1[n],
                    "pi2": pi2[n],
                    "pi_ref": ref[n],
                    "J1 - J2": dj,
                    "V1 - V2": dv,
                },
            )


def _float_part(ctx: CheckContext, n_float: int, stats: Stats) -> None:
    done = 0
    for cell in cells(ctx.rng, n_float, K=range(2, MAX_K + 1), h=H_NAMES, beta=BETAS):
        _compare(_batch(ctx.rng, cell.n, cell.K, cell.h), cell.K, cell.h, cell.beta, stats)
        done += cell.n
        ctx.progress(done)


def _exact_part(ctx: CheckContext, n_exact: int, stats: Stats) -> None:
    rng = ctx.rng
    for _ in range(n_exact):
        P = exact_matrix(rng)
        K = P.shape[0]
        mu0 = random_distribution(rng, K, zeros=True, exact=True)
        mu1 = random_distribution(rng, K, zeros=True, exact=True)
        data = PreferenceData(P=P, mu0=mu0, mu1=mu1)
        q = (mu0 + mu1) / 2
        pis = [random_distribution(rng, K, zeros=True, exact=True) for _ in range(2)]
        J = [wro_objective(P, pi, q) for pi in pis]
        V = [data_win_rate(data, pi) for pi in pis]
        stats.exact += 1
        same_values = all(isinstance(j, Fraction) and j == v for j, v in zip(J, V, strict=True))
        same_order = (J[0] > J[1]) == (V[0] > V[1]) and (J[0] == J[1]) == (V[0] == V[1])
        if not (same_values and same_order):
            stats.witness.offer(
                (K, 0.0), {"what": "exact", "P": P, "mu0": mu0, "mu1": mu1, "J": J, "V": V}
            )


def chunk(ctx: CheckContext) -> Stats:
    """The chunk's float pairs (batched per K, h, beta) and exact pairs (global index a multiple
    of :data:`~proofs_checks.common.wro_instances.EXACT_EVERY`)."""
    stats = Stats()
    float_then_exact(ctx, stats, _float_part, _exact_part)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    worst = stats.witness
    observed = (
        f"{worst.count} order disagreements (smallest at K, beta = {worst.size})"
        if worst
        else f"objective order = (regularized) h-win-rate order on {stats.pairs} float pairs "
        f"({stats.strict} strictly ordered; max |dJ - dV| {float(stats.max_diff):.1e}; "
        f"{stats.library_checked} re-evaluated through theory.winrate) and "
        f"{stats.exact} exact pairs (J == data win rate, exactly)"
    )
    return stats.result(stats.pairs + stats.exact, observed)


def _wrong_anchor_is_caught(rng: np.random.Generator) -> bool:
    """Positive control: an objective measured against the wrong anchor (a planted bug) compared
    with the evaluation against the right one, judged by the check's rule."""
    b = _batch(rng, 40, 4, "identity")
    wrong_q = model_batch(rng, 40, 4)
    J1 = wro_objective_per_prompt(b["P"], b["pi1"], wrong_q, 0, None, "identity")
    J2 = wro_objective_per_prompt(b["P"], b["pi2"], wrong_q, 0, None, "identity")
    V1, V2 = _evaluation(b, "identity", 0.0, Stats())
    return any(_disagree(J1[n] - J2[n], V1[n] - V2[n]) for n in range(40))


CLAIM = Claim(
    "WRO-correspondence",
    "objective order = h-win-rate order between any two models (beta = 0; the "
    "regularized win rate for beta > 0)",
    "holds",
    chunked(chunk, finish, size=2500),
    None,
    default_instances=10_000,
    controls=(Control("an objective against the wrong anchor is caught", _wrong_anchor_is_caught),),
)
