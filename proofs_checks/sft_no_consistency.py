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

from fractions import Fraction
from pathlib import Path

import numpy as np

from theory import random_preference_data
from theory.data import PreferenceData, data_anchor
from theory.methods.sft import sft_target, sft_win_rate
from theory.wro import wro_optimum

from .registry import CheckContext, CheckResult, Claim, Smallest

MAX_K = 6


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


def check(ctx: CheckContext) -> CheckResult:
    rng = ctx.rng
    witness = Smallest()
    full = Smallest()  # witnesses whose data has full support (only the variance ceiling binds)
    violations = Smallest()
    gaps = []
    short = 0
    for n in range(ctx.instances):
        data = _small_data(rng, n)
        q = data_anchor(data)
        sft = sft_win_rate(data)
        best = wro_optimum(data.P, q, 0, rho=data.rho).value
        direct = sum((data.rho[x] * max(data.P[x] @ q[x]) for x in range(data.M)), Fraction(0))
        if best != direct or sft > best:
            violations.offer(_size(data), {"P": data.P, "mu0": data.mu0, "sft": sft, "best": best})
        if sft < best:
            short += 1
            gaps.append(float(best - sft))
            record = {
                "K": data.K,
                "M": data.M,
                "P": data.P[0] if data.M == 1 else data.P,
                "mu0": data.mu0[0] if data.M == 1 else data.mu0,
                **({} if data.symmetric else {"mu1": data.mu1[0] if data.M == 1 else data.mu1}),
                "p_w": sft_target(data)[0] if data.M == 1 else sft_target(data),
                "WR(p_w; q)": sft,
                "max_pi WR(pi; q)": best,
                "shortfall": best - sft,
            }
            witness.offer(_size(data), record)
            if all(v > 0 for v in np.concatenate([data.mu0.ravel(), data.mu1.ravel()])):
                full.offer(_size(data), record)
        ctx.progress(n + 1)
    if violations.value is not None:
        return CheckResult(
            observed=f"{violations.count} instances where SFT beat the optimum or the two "
            "maxima disagreed (a bug)",
            instances=ctx.instances,
            found=False,
            counterexample=violations.value,
        )
    found = witness.value is not None
    w = witness.value or {}
    observed = (
        f"SFT's optimum falls short of the best win rate on {short}/{ctx.instances} exact "
        f"instances (median shortfall {np.median(gaps) if gaps else 0:.3f}); never above it; "
        + (
            f"smallest: K={w['K']}, P={_fmt(w['P'])}, mu={_fmt(w['mu0'])}: WR(p_w)="
            f"{_fmt(w['WR(p_w; q)'])} < {_fmt(w['max_pi WR(pi; q)'])}"
            if found
            else "no witness"
        )
        + (
            f"; smallest with full-support data: K={f['K']}, P={_fmt(f['P'])}, "
            f"mu={_fmt(f['mu0'])}: WR(p_w)={_fmt(f['WR(p_w; q)'])} < {_fmt(f['max_pi WR(pi; q)'])}"
            if (f := full.value)
            else ""
        )
    )
    if witness.value is not None and full.value:
        witness.value = {**witness.value, "smallest_with_full_support": dict(full.value)}
    return CheckResult(
        observed=observed,
        instances=ctx.instances,
        found=found,
        counterexample=witness.value,
        details={"short": short, "gaps": gaps[:3000]},
    )


def _fmt(v) -> str:
    from theory.numbers import format_number

    return str(format_number(v)).replace("'", "")


def figure(result: CheckResult, outdir: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    gaps = np.array(result.details.get("gaps", []), dtype=float)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.hist(gaps, bins=40)
    ax.set_xlabel(r"$\max_\pi \mathrm{WR}(\pi; q) - \mathrm{WR}(p_w; q)$")
    ax.set_ylabel("instances")
    ax.set_title("SFT-no-consistency: the shortfall of SFT's optimum")
    fig.tight_layout()
    path = outdir / "sft_no_consistency.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]


CLAIM = Claim(
    id="SFT-no-consistency",
    statement="SFT's optimum falls short of the best achievable win rate",
    expected="counterexample",
    check=check,
    figure=figure,
    default_instances=5000,
)
