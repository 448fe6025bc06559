"""KTO-no-consistency: KTO's minimizer is spread over every desirable-leaning response, not the
best one, so it falls short of the best achievable win rate.

KTO on unpaired feedback (:mod:`theory.zoo.kto`, TRL's loss with ``lambda_D = lambda_U = 1``):
as ``beta -> 0`` its fixed point tends to ``pi ∝ c_+``, ``c = mu (2 g - 1)``
(:func:`theory.zoo.kto.kto_limit`), whose support is ``{g > 1/2}``, not ``argmax g``.  Against
the data, ``WR(pi; mu) = 1/2 + (E_pi g - E_mu g)/2`` (claim
unpaired-win-rate-is-desirability), so the shortfall from the best achievable ``1/2 +
(max g - E_mu g)/2`` is ``(max g - E_pi g)/2 > 0`` whenever two responses have ``g > 1/2``.

The planted example is docs/zoo.md's APO-zero instance unpaired as TRL unpairs it
(:func:`theory.feedback.unpair`): a strict order ``0 > 1 > 2`` with ``mu = (1/5, 1/5, 3/5)``
gives ``g = omega = (9/10, 7/10, 3/10)`` and ``mu`` unchanged; the limit is ``(2/3, 1/3, 0)``
with win rate ``2/3 < 7/10`` (the best) under the unpaired ``P``, and ``5/6 < 9/10`` under the
original order.
Random rational instances (K in 2..6, ``g`` in sixths) count how often the limit falls short
and keep the smallest witness.  Every witness is re-verified by separate paths: the limit and
its win rate recomputed here in Fractions from ``(g, mu)`` alone, and the fixed-``beta`` solver
(:func:`theory.zoo.kto.kto_minimizer`, nested root finding, both ``z0`` rules: the KL and
TRL's batch estimate) at ``beta = 1e-2`` and ``1e-3`` within :data:`APPROACH` of the limit with
a win rate (summed here) short of the best by more than half the exact shortfall.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from theory.data import PreferenceData
from theory.feedback import UnpairedData, random_unpaired_data, unpair
from theory.preferences import total_order
from theory.zoo.kto import kto_limit, kto_minimizer

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Counts,
    Gallery,
    Max,
    Tally,
    cells,
    chunked,
    counts,
    maximum,
)

MAX_K = 6
#: How close the solver's small-beta fixed point must come to the exact limit.
APPROACH = 2e-2
BETAS = (1e-2, 1e-3)


def example() -> UnpairedData:
    """The planted example (module docstring)."""
    F = Fraction
    return unpair(PreferenceData(P=total_order(3), mu0=[F(1, 5), F(1, 5), F(3, 5)]))


def limit_here(g: list, mu: list) -> list | None:
    """``pi ∝ mu (2g - 1)_+`` written here (None when no entry is positive)."""
    c = [
        m * (2 * v - 1) if m * (2 * v - 1) > 0 else Fraction(0) for v, m in zip(g, mu, strict=True)
    ]
    tot = sum(c)
    return None if tot == 0 else [v / tot for v in c]


def shortfall_here(g: list, pi: list) -> Fraction:
    """``(max g - E_pi g) / 2``: best achievable minus achieved win rate against ``mu``."""
    return (max(g) - sum(p * v for p, v in zip(pi, g, strict=True))) / 2


def reverify(D: UnpairedData) -> dict | None:
    """The separate paths (module docstring) for a one-prompt instance; None unless they
    confirm a shortfall."""
    g, mu = D.g[0].tolist(), D.mu[0].tolist()
    pi = limit_here(g, mu)
    if pi is None or list(kto_limit(D)[0]) != pi:
        return None
    gap = shortfall_here(g, pi)
    if gap <= 0:
        return None
    ref = np.full((1, D.K), 1.0 / D.K)
    gf = np.array(g, dtype=float)
    solver = {}
    for rule in ("kl", "trl"):
        for beta in BETAS:
            sol = kto_minimizer(D, ref, beta, rule)
            far = float(np.abs(sol.pi[0] - np.array(pi, dtype=float)).max())
            short = (gf.max() - float(sol.pi[0] @ gf)) / 2
            if far > APPROACH or short < float(gap) / 2 or sol.residual > 1e-8:
                return None
            solver[f"{rule}, beta={beta:g}"] = {"pi": sol.pi[0], "z0": sol.z0, "shortfall": short}
    support = [y for y in range(D.K) if pi[y] > 0]
    best = [y for y in range(D.K) if g[y] == max(g)]
    return {
        "limit_pi": pi,
        "shortfall": gap,
        "support": support,
        "argmax_g": best,
        "solver": solver,
    }


@dataclass
class Stats(Tally):
    short: Counts = counts()
    tried: Counts = counts()
    undefined: int = 0
    max_shortfall: Max = maximum()


def _size(D: UnpairedData) -> int:
    return max(Fraction(v).denominator for v in [*D.g[0], *D.mu[0]])


def chunk(ctx: CheckContext) -> Stats:
    stats = Stats()
    done = 0
    for cell in cells(ctx.rng, ctx.instances, K=range(2, MAX_K + 1)):
        for t in range(cell.n):
            D = random_unpaired_data(ctx.rng, 1, cell.K, exact=True)
            pi = limit_here(D.g[0].tolist(), D.mu[0].tolist())
            if pi is None:
                stats.undefined += 1
                continue
            stats.tried.add(cell.K)
            gap = shortfall_here(D.g[0].tolist(), pi)
            if gap <= 0:
                continue
            stats.short.add(cell.K)
            stats.max_shortfall.add(float(gap))
            size = (cell.K, _size(D), int(cell.index[t]) + ctx.start)
            if stats.witness.size is not None and size >= stats.witness.size:
                continue
            proof = reverify(D)
            if proof is not None:
                stats.witness.offer(size, {"K": cell.K, "g": D.g[0], "mu": D.mu[0], **proof})
        done += cell.n
        ctx.progress(done)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    D = example()
    proof = reverify(D)
    found = bool(stats.witness) and proof is not None
    short, tried = stats.short.by_key, stats.tried.by_key
    w = stats.witness.value
    g, mu = D.g[0].tolist(), D.mu[0].tolist()
    base = sum(m * v for m, v in zip(mu, g, strict=True))
    pi = limit_here(g, mu) or [Fraction(0)] * D.K
    wr = Fraction(1, 2) + (sum(p * v for p, v in zip(pi, g, strict=True)) - base) / 2
    best = Fraction(1, 2) + (max(g) - base) / 2
    observed = (
        "KTO, strict order 0 > 1 > 2 unpaired (g = (9/10, 7/10, 3/10), mu = (1/5, 1/5, 3/5)): "
        f"beta -> 0 limit (2/3, 1/3, 0), win rate {wr} < best {best} under the unpaired P "
        "(5/6 < 9/10 under the order) "
        f"(solver at beta = 1e-2, 1e-3, z0 = KL and TRL's "
        f"{'agrees' if proof else 'DOES NOT agree'})"
        f"; on {ctx.instances} random instances the limit falls short on "
        f"{sum(short.values())} of {sum(tried.values())} (max {float(stats.max_shortfall):.3f})"
        + (
            f"; smallest re-verified witness K = {w['K']}, support {w['support']} vs argmax "
            f"{w['argmax_g']}"
            if w
            else ""
        )
    )
    result = stats.result(ctx.instances, observed, example=proof)
    result.found = found
    return result


def figure(result: CheckResult, gallery: Gallery) -> None:
    """The example: desirability ``g`` and KTO's ``beta -> 0`` limit beside the best model (all
    mass on ``argmax g``), with the exact win rates."""
    D = example()
    g = [float(v) for v in D.g[0]]
    pi = [float(v) for v in kto_limit(D)[0]]
    best = [float(v == max(g)) for v in g]
    x = np.arange(D.K)
    instance = {
        "P": "strict order y0 > y1 > y2",
        "mu": [Fraction(1, 5), Fraction(1, 5), Fraction(3, 5)],
        "g": D.g[0].tolist(),
        "lambda_D = lambda_U": 1,
    }
    with gallery.new("kto_no_consistency", instance=instance) as (_fig, ax):
        ax.bar(x - 0.25, g, 0.25, label="desirability g = (9/10, 7/10, 3/10)", color="0.6")
        ax.bar(x, pi, 0.25, label="KTO, beta -> 0: (2/3, 1/3, 0), WR 2/3")
        ax.bar(x + 0.25, best, 0.25, label="argmax g: (1, 0, 0), WR 7/10")
        ax.set_xticks(x, [f"y{k}" for k in x])
        ax.set_xlabel("response (y0 > y1 > y2)")
        ax.set_ylabel("probability")
        ax.set_title(
            "KTO's limit spreads over {g > 1/2}; the best model is the point mass on argmax g"
        )
        ax.legend()


def _control_argmax(rng: np.random.Generator) -> bool:
    """The detector is not vacuous: a planted consistent method (the point mass on ``argmax g``)
    shows no shortfall, while KTO's limit on the example does."""
    D = example()
    g = D.g[0].tolist()
    top = [Fraction(int(v == max(g))) for v in g]
    return shortfall_here(g, top) == 0 and reverify(D) is not None


CLAIM = Claim(
    "KTO-no-consistency",
    "KTO's minimizer is supported on {g > 1/2}, not on argmax g: its win rate falls short of "
    "the best achievable (K = 3 example: 2/3 < 7/10)",
    "counterexample",
    chunked(chunk, finish, size=200),
    figure,
    default_instances=400,
    quick_instances=50,
    controls=(Control("argmax has no shortfall; KTO's example re-verifies", _control_argmax),),
)
