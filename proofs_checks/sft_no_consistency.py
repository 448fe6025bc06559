"""SFT-no-consistency: SFT's optimum falls short of the best achievable win rate.

The best achievable win rate against the data is the WRO optimum with ``beta = 0``
(:func:`theory.wro.wro_optimum`, anchor ``q = (mu0 + mu1)/2``): ``sum_x rho_x max_y W_q(x, y)``.
SFT on preferred samples converges to the winner distribution ``p_w`` instead, whose win rate is
``1/2 + 2 Var`` (SFT-closed-form).  Each instance draws an exact data distribution (K in 2..6, M
in 1..2, random family, ``mu0 = mu1`` or not, small rationals) and compares the two exactly; an
instance where ``WR(p_w) < max`` is a witness (the sought counterexample to consistency).  As an
independent second computation the maximum is also taken directly as ``max_y W_q(y)``.  The
smallest witness (fewest responses, then smallest denominators) is reported; the proportion of
instances where SFT falls short and the size of the shortfall are recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from theory import total_order
from theory.data import PreferenceData, data_anchor, random_preference_data
from theory.methods.sft import sft_target, sft_win_rate
from theory.wro import wro_optimum

from .common.text import format_exact
from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Gallery,
    Samples,
    Smallest,
    Tally,
    chunked,
    samples,
)

MAX_K = 6
#: Shortfalls kept (for their median and the figure): every instance at the default sizes.
GAPS_KEPT = 100_000


def _size(data: PreferenceData) -> tuple:
    arrays = [data.P, data.mu0, data.mu1] + ([data.rho] if data.M > 1 else [])
    dens = [Fraction(v).denominator for a in arrays for v in a.ravel()]
    return (data.K, data.M, max(dens), sum(dens))


def _small_data(rng: np.random.Generator, n: int) -> PreferenceData:
    """Exact data; every third instance is drawn with tiny denominators so that small witnesses
    are in reach."""
    K = int(rng.integers(2, MAX_K + 1)) if n % 3 else int(rng.integers(2, 4))
    M = 1 if n % 5 else 2
    if n % 3 == 0:
        d = int(rng.integers(2, 5))
        P = np.full((K, K), Fraction(1, 2), dtype=object)
        for i in range(K):
            for j in range(i + 1, K):
                P[i, j] = Fraction(int(rng.integers(0, d + 1)), d)
                P[j, i] = 1 - P[i, j]
        k = rng.integers(1, 3, size=K)
        mu = np.array([Fraction(int(v), int(k.sum())) for v in k], dtype=object)
        return PreferenceData(P=P, mu0=mu)
    return random_preference_data(
        rng, M, K, exact=True, symmetric=bool(n % 2), zeros=bool(rng.integers(2))
    )


@dataclass
class Stats(Tally):
    """``witness``: the smallest instance where SFT falls short; ``full_support``: the smallest
    one whose data has full support (only the variance ceiling binds); ``violations``: SFT above
    the optimum, or the two maxima disagreeing (a bug)."""

    short: int = 0
    gaps: Samples = samples(GAPS_KEPT)
    full_support: Smallest = field(default_factory=Smallest)
    violations: Smallest = field(default_factory=Smallest)


def _one(data: PreferenceData) -> dict[str, Any]:
    """The data's numbers, one prompt shown without its prompt axis."""
    one = data.M == 1
    out: dict[str, Any] = {"K": data.K, "M": data.M, "P": data.P[0] if one else data.P}
    out["mu0"] = data.mu0[0] if one else data.mu0
    if not data.symmetric:
        out["mu1"] = data.mu1[0] if one else data.mu1
    return out


def _record(data: PreferenceData, sft: Any, best: Any) -> dict[str, Any]:
    target = sft_target(data)
    return _one(data) | {
        "p_w": target[0] if data.M == 1 else target,
        "WR(p_w; q)": sft,
        "max_pi WR(pi; q)": best,
        "shortfall": best - sft,
    }


def _compare(stats: Stats, data: PreferenceData) -> None:
    """SFT's win rate against the best one, the best computed two ways."""
    q = data_anchor(data)
    sft = sft_win_rate(data)
    best = wro_optimum(data.P, q, 0, rho=data.rho).value
    direct = sum((data.rho[x] * max(data.P[x] @ q[x]) for x in range(data.M)), Fraction(0))
    if best != direct or sft > best:
        stats.violations.offer(
            _size(data), {"P": data.P, "mu0": data.mu0, "sft": sft, "best": best}
        )
    if sft < best:
        stats.short += 1
        stats.gaps.add(float(best - sft))
        record = _record(data, sft, best)
        stats.witness.offer(_size(data), record)
        if all(v > 0 for v in np.concatenate([data.mu0.ravel(), data.mu1.ravel()])):
            stats.full_support.offer(_size(data), record)


def _line(w: dict[str, Any]) -> str:
    f = lambda v: format_exact(v, digits=None)  # noqa: E731
    return (
        f"K={w['K']}, P={f(w['P'])}, mu={f(w['mu0'])}: WR(p_w)={f(w['WR(p_w; q)'])} < "
        f"{f(w['max_pi WR(pi; q)'])}"
    )


def _observed(stats: Stats, n: int) -> str:
    gaps = stats.gaps.values
    found = stats.witness.value
    full = stats.full_support.value
    return (
        f"SFT's optimum falls short of the best win rate on {stats.short}/{n} exact "
        f"instances (median shortfall {np.median(gaps) if gaps else 0:.3f}); never above it; "
        + (f"smallest: {_line(found)}" if found else "no witness")
        + (f"; smallest with full-support data: {_line(full)}" if full else "")
    )


def chunk(ctx: CheckContext) -> Stats:
    """The chunk's exact instances (their kind set by their global index, :func:`_small_data`)."""
    stats = Stats()
    for i in range(ctx.instances):
        _compare(stats, _small_data(ctx.rng, ctx.start + i))
        ctx.progress(i + 1)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    if stats.violations:
        return CheckResult(
            observed=f"{stats.violations.count} instances where SFT beat the optimum or the two "
            "maxima disagreed (a bug)",
            instances=ctx.instances,
            found=False,
            counterexample=stats.violations.value,
            details=stats.summary(),
        )
    witness = stats.witness.value
    if witness is not None and stats.full_support.value:
        witness = witness | {"smallest_with_full_support": dict(stats.full_support.value)}
    return CheckResult(
        observed=_observed(stats, ctx.instances),
        instances=ctx.instances,
        found=witness is not None,
        counterexample=witness,
        details=stats.summary(),
    )


def figure(result: CheckResult, gallery: Gallery) -> None:
    from .scaffold.figures import caption

    gaps = np.array(result.details.get("gaps", []), dtype=float)
    cx = result.counterexample or {}
    note = f"The shortfall on {len(gaps)} random instances (of {result.instances} tried)."
    if cx:
        keys = ("P", "mu0", "mu1", "mu", "q")
        note += "  " + caption({k: cx[k] for k in keys if k in cx}, prefix="The smallest: ")
    with gallery.new("sft_no_consistency", instance=note) as (_fig, ax):
        ax.hist(gaps, bins=40, label="instances")
        ax.set_xlabel(r"shortfall $\max_\pi \mathrm{WR}(\pi; q) - \mathrm{WR}(p_w; q)$")
        ax.set_ylabel("instances")
        ax.set_title("SFT-no-consistency: SFT's optimum $p_w$ falls short of the best win rate")
        ax.legend(loc="upper right")


def _known_shortfall(rng: np.random.Generator) -> bool:
    """Positive control: a strict order over two responses from the uniform start, where SFT's
    optimum wins 5/8 and the top response 3/4; the check's comparison must count a witness."""
    stats = Stats()
    _compare(stats, PreferenceData(P=total_order(2), mu0=[Fraction(1, 2)] * 2))
    return bool(stats.witness) and stats.short == 1


CLAIM = Claim(
    "SFT-no-consistency",
    "SFT's optimum falls short of the best achievable win rate",
    "counterexample",
    chunked(chunk, finish, size=1000),
    figure,
    default_instances=5000,
    controls=(Control("counts SFT's known shortfall (strict order, K = 2)", _known_shortfall),),
)
