"""WR-basic: WR(pi; pi) = 1/2, WR(pi; q) + WR(q; pi) = 1, bilinearity, the covariance identity.

Each instance draws K in 2..8, a preference family, and models; half the instances are exact
(Fractions: every identity is tested with ``==``), half are float (tested to :data:`TOL`, and the
batched float kernel is compared with the single-instance path).  Exact instances are also
recomputed in floats and compared to the exact value (exact-versus-float agreement).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from theory import (
    FAMILIES,
    batched_win_rate,
    mixture,
    random_distribution,
    random_family_matrix,
    random_model,
    to_float,
    win_rate,
    win_rate_covariance,
)

from .registry import CheckContext, CheckResult, Claim, Smallest

#: Float tolerance for identities that hold exactly in exact arithmetic.
TOL = 1e-12
MAX_K = 8


def _equal(a: Any, b: Any, exact: bool) -> bool:
    return a == b if exact else abs(float(a) - float(b)) <= TOL


def _identities(P, pi, pi2, q, t, exact: bool) -> dict[str, tuple[Any, Any]]:
    """Each identity as (left side, right side), computed through the library."""
    wr_pi_q = win_rate(P, pi, q)
    half = Fraction(1, 2) if exact else 0.5
    return {
        "WR(pi;pi) = 1/2": (win_rate(P, pi, pi), half),
        "WR(pi;q) + WR(q;pi) = 1": (wr_pi_q + win_rate(P, q, pi), 1),
        "linear in pi": (
            win_rate(P, mixture(pi, pi2, t), q),
            t * wr_pi_q + (1 - t) * win_rate(P, pi2, q),
        ),
        "linear in q": (
            win_rate(P, q, mixture(pi, pi2, t)),
            t * win_rate(P, q, pi) + (1 - t) * win_rate(P, q, pi2),
        ),
        "WR - 1/2 = Cov_q(pi/q, W_q)": (wr_pi_q - half, win_rate_covariance(P, pi, q)),
    }


def check(ctx: CheckContext) -> CheckResult:
    rng = ctx.rng
    worst = Smallest()
    tested = {"exact": 0, "float": 0}
    max_float_error = 0.0
    max_exact_vs_float = 0.0
    batch: dict[int, list] = {}
    scatter: list[tuple[float, float]] = []
    for n in range(ctx.instances):
        exact = n % 2 == 0
        K = int(rng.integers(2, MAX_K + 1))
        family = FAMILIES[int(rng.integers(len(FAMILIES)))]
        P = random_family_matrix(rng, K, family, exact=exact)
        pi, pi2 = random_model(rng, 2, K, zeros=True, exact=exact)
        q = random_distribution(rng, K, exact=exact)  # full support: pi << q
        t = Fraction(int(rng.integers(0, 13)), 12) if exact else float(rng.uniform())
        tested["exact" if exact else "float"] += 1
        for name, (lhs, rhs) in _identities(P, pi, pi2, q, t, exact).items():
            if not exact:
                max_float_error = max(max_float_error, abs(lhs - rhs))
            if not _equal(lhs, rhs, exact):
                worst.offer(
                    (K, n),
                    {
                        "identity": name,
                        "family": family,
                        "P": P,
                        "pi": pi,
                        "pi2": pi2,
                        "q": q,
                        "t": t,
                        "lhs": lhs,
                        "rhs": rhs,
                    },
                )
        if exact:
            wr_exact = win_rate(P, pi, q)
            wr_float = win_rate(to_float(P), to_float(pi), to_float(q))
            max_exact_vs_float = max(max_exact_vs_float, abs(float(wr_exact) - wr_float))
            if abs(float(wr_exact) - wr_float) > TOL:
                worst.offer(
                    (K, n),
                    {
                        "identity": "exact = float",
                        "P": P,
                        "pi": pi,
                        "q": q,
                        "exact": wr_exact,
                        "float": wr_float,
                    },
                )
        else:
            wr = float(win_rate(P, pi, q))
            batch.setdefault(K, []).append((P, pi, q, wr))
            if len(scatter) < 2000:
                scatter.append((wr - 0.5, float(win_rate_covariance(P, pi, q))))
        ctx.progress(n + 1)
    max_batch_error = 0.0
    for items in batch.values():
        Ps, pis, qs, singles = (np.array(v) for v in zip(*items, strict=True))
        err = float(np.max(np.abs(batched_win_rate(Ps, pis, qs) - singles)))
        max_batch_error = max(max_batch_error, err)
        if err > TOL:
            worst.offer((Ps.shape[1], 0), {"identity": "batched = single", "max_error": err})
    found = worst.value is not None
    if worst.value is not None:
        observed = f"{worst.count} violations; smallest: {worst.value['identity']}"
    else:
        observed = (
            f"all 5 identities held on {tested['exact']} exact instances (==) and "
            f"{tested['float']} float instances (max error {max_float_error:.1e}); exact vs "
            f"float max {max_exact_vs_float:.1e}; batched vs single max {max_batch_error:.1e}"
        )
    return CheckResult(
        observed=observed,
        instances=ctx.instances,
        found=found,
        counterexample=worst.value,
        details={
            "exact_instances": tested["exact"],
            "float_instances": tested["float"],
            "max_float_error": max_float_error,
            "max_exact_vs_float": max_exact_vs_float,
            "max_batch_error": max_batch_error,
            "scatter": scatter,
        },
    )


def figure(result: CheckResult, outdir: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    pts = np.array(result.details.get("scatter", []), dtype=float).reshape(-1, 2)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(pts[:, 1], pts[:, 0], s=6, alpha=0.5, label="random instances")
    lim = 0.5
    ax.plot([-lim, lim], [-lim, lim], "k--", lw=1, label="y = x")
    ax.set_xlabel(r"$\mathrm{Cov}_{y\sim q}(\pi(y)/q(y),\ W_q(y))$")
    ax.set_ylabel(r"$\mathrm{WR}(\pi; q) - 1/2$")
    ax.set_title("WR-basic: the covariance identity")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path = outdir / "wr_basic_covariance.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]


CLAIM = Claim(
    id="WR-basic",
    statement="WR(pi;pi)=1/2, WR(pi;q)+WR(q;pi)=1, bilinearity, covariance identity",
    expected="holds",
    check=check,
    figure=figure,
    default_instances=10_000,
)
