"""WR-basic: WR(pi; pi) = 1/2, WR(pi; q) + WR(q; pi) = 1, bilinearity, the covariance identity.

Each instance draws K in 2..8, a preference family, and models; half the instances are exact
(Fractions: every identity is tested with ``==``), half are float (tested to :data:`TOL`, and the
batched float kernel is compared with the single-instance path).  Exact instances are also
recomputed in floats and compared to the exact value (exact-versus-float agreement).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from theory import (
    mixture,
    random_distribution,
    random_family_matrix,
    random_model,
    to_float,
    win_rate,
    win_rate_covariance,
)
from theory.preferences import FAMILIES
from theory.winrate import response_win_rates, win_rate_batch

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Gallery,
    Max,
    Samples,
    Tally,
    chunked,
    maximum,
    samples,
)

#: Float tolerance for identities that hold exactly in exact arithmetic.
TOL = 1e-12
MAX_K = 8


def _equal(a: Any, b: Any, exact: bool) -> bool:
    return a == b if exact else abs(float(a) - float(b)) <= TOL


def _identities(
    P, pi, pi2, q, t, exact: bool, win_rate: Any = win_rate
) -> dict[str, tuple[Any, Any]]:
    """Each identity as (left side, right side), computed through the library (or, for the
    positive controls, through a deliberately broken ``win_rate``)."""
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


@dataclass
class Stats(Tally):
    exact_instances: int = 0
    float_instances: int = 0
    max_float_error: Max = maximum()
    max_exact_vs_float: Max = maximum()
    max_batch_error: Max = maximum()
    scatter: Samples = samples(2000)


def _offer(stats: Stats, n: int, K: int, identity: str, **case: Any) -> None:
    stats.witness.offer((K, n), {"identity": identity, **case})


def chunk(ctx: CheckContext) -> Stats:
    """The chunk's instances: those of even global index are exact, the others float."""
    rng = ctx.rng
    stats = Stats()
    batch: dict[int, list] = {}
    for i in range(ctx.instances):
        n = ctx.start + i
        exact = n % 2 == 0
        K = int(rng.integers(2, MAX_K + 1))
        family = FAMILIES[int(rng.integers(len(FAMILIES)))]
        P = random_family_matrix(rng, K, family, exact=exact)
        pi, pi2 = random_model(rng, 2, K, zeros=True, exact=exact)
        q = random_distribution(rng, K, exact=exact)  # full support: pi << q
        t = Fraction(int(rng.integers(0, 13)), 12) if exact else float(rng.uniform())
        case = {"family": family, "P": P, "pi": pi, "pi2": pi2, "q": q, "t": t}
        for name, (lhs, rhs) in _identities(P, pi, pi2, q, t, exact).items():
            if not exact:
                stats.max_float_error.add(abs(lhs - rhs))
            if not _equal(lhs, rhs, exact):
                _offer(stats, n, K, name, lhs=lhs, rhs=rhs, **case)
        if exact:
            stats.exact_instances += 1
            wr_exact = win_rate(P, pi, q)
            wr_float = win_rate(to_float(P), to_float(pi), to_float(q))
            stats.max_exact_vs_float.add(abs(float(wr_exact) - wr_float))
            if abs(float(wr_exact) - wr_float) > TOL:
                _offer(
                    stats, n, K, "exact = float", P=P, pi=pi, q=q, exact=wr_exact, float=wr_float
                )
        else:
            stats.float_instances += 1
            wr = float(win_rate(P, pi, q))
            batch.setdefault(K, []).append((P, pi, q, wr))
            stats.scatter.add((wr - 0.5, float(win_rate_covariance(P, pi, q))))
        ctx.progress(i + 1)
    _compare_batched(stats, batch, ctx.start)
    return stats


def _compare_batched(stats: Stats, batch: dict[int, list], start: int) -> None:
    """The batched float kernel against the single-instance values, one batch per K."""
    for items in batch.values():
        Ps, pis, qs, singles = (np.array(v) for v in zip(*items, strict=True))
        err = float(np.max(np.abs(win_rate_batch(Ps, pis, qs) - singles)))
        stats.max_batch_error.add(err)
        if err > TOL:
            stats.witness.offer(
                (Ps.shape[1], start), {"identity": "batched = single", "max_error": err}
            )


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    worst = stats.witness
    if worst.value is not None:
        observed = f"{worst.count} violations; smallest: {worst.value['identity']}"
    else:
        observed = (
            f"all 5 identities held on {stats.exact_instances} exact instances (==) and "
            f"{stats.float_instances} float instances (max error "
            f"{float(stats.max_float_error):.1e}); exact vs float max "
            f"{float(stats.max_exact_vs_float):.1e}; batched vs single max "
            f"{float(stats.max_batch_error):.1e}"
        )
    return stats.result(ctx.instances, observed)


def figure(result: CheckResult, gallery: Gallery) -> None:
    from .common.text import format_exact
    from .scaffold.figures import caption, tex

    pts = np.array(result.details.get("scatter", []), dtype=float).reshape(-1, 2)
    example = _example()
    P, q, pi = example["P"], example["q"], example["pi"]
    note = (
        f"Left: {len(pts)} random float instances (K = 2..8, preference families "
        f"{', '.join(FAMILIES)}; seed as in the report).\n" + caption(example, prefix="Right: ")
    )
    with gallery.new("wr_basic_covariance", ncols=2, instance=note) as (_fig, (ax, bx)):
        ax.scatter(pts[:, 1], pts[:, 0], s=30, alpha=0.6, label="one random instance")
        ax.plot([-0.5, 0.5], [-0.5, 0.5], "k--", lw=1.5, label="the identity: both sides equal")
        ax.set_xlabel(r"$\mathrm{Cov}_{y\sim q}\,(\pi(y)/q(y),\ W_q(y))$")
        ax.set_ylabel(r"$\mathrm{WR}(\pi; q) - 1/2$")
        ax.set_title(r"WR-basic: $\mathrm{WR}(\pi; q) - 1/2 = \mathrm{Cov}$ on every instance")
        ax.legend(loc="upper left")
        W = response_win_rates(P, q)
        ratio = pi / q
        cov = sum(q * ratio * W) - sum(q * ratio) * sum(q * W)
        x = np.arange(len(q))
        for k, (vals, name) in enumerate(
            [(q, r"$q(y)$"), (ratio, r"$\pi(y)/q(y)$"), (W, r"$W_q(y) = (Pq)(y)$")]
        ):
            bars = bx.bar(x + (k - 1) * 0.27, [float(v) for v in vals], 0.27, label=name)
            bx.bar_label(bars, [format_exact(v) for v in vals], padding=2, fontsize=15)
        bx.axhline(0.5, color="gray", ls=":", lw=1.5, label="1/2")
        bx.set_xticks(x, [f"$y = {i}$" for i in x])
        bx.set_xlabel("response $y$")
        bx.set_ylabel("value")
        bx.set_ylim(0, 1.5 * float(max(ratio)))
        bx.legend(loc="upper left")
        bx.set_title("one exact instance, decomposed")
        bx.text(
            0.97,
            0.97,
            rf"$\mathrm{{WR}}(\pi; q) = \sum_y \pi(y)\,W_q(y) = {tex(win_rate(P, pi, q))}$"
            "\n"
            rf"$\mathrm{{Cov}}_{{y\sim q}}(\pi/q,\ W_q) = {tex(cov)}$"
            "\n"
            rf"$1/2 + \mathrm{{Cov}} = {tex(Fraction(1, 2) + cov)}$",
            transform=bx.transAxes,
            ha="right",
            va="top",
            linespacing=1.8,
            bbox={"facecolor": "white", "edgecolor": "gray"},
        )


def _example() -> dict[str, np.ndarray]:
    """The figure's decomposed example (exact): a cyclic ``P`` on 3 responses, an anchor ``q``
    and a model ``pi``."""
    F = Fraction
    P = [[F(1, 2), F(3, 4), F(1, 5)], [F(1, 4), F(1, 2), F(2, 3)], [F(4, 5), F(1, 3), F(1, 2)]]
    q, pi = [F(1, 2), F(1, 3), F(1, 6)], [F(1, 6), F(1, 3), F(1, 2)]
    return {k: np.array(v, dtype=object) for k, v in (("P", P), ("q", q), ("pi", pi))}


def _planted_bug_is_caught(broken: Any) -> Any:
    """A positive control: the identities, evaluated with a broken win rate on an exact
    instance where the bug shows, must report a violation (the detector of the check)."""

    def run(rng: np.random.Generator) -> bool:
        P = random_family_matrix(rng, 3, "general", exact=True)
        pi, pi2 = random_model(rng, 2, 3, zeros=False, exact=True)
        q = random_distribution(rng, 3, exact=True)
        ids = _identities(P, pi, pi2, q, Fraction(1, 3), True, win_rate=broken)
        return any(not _equal(lhs, rhs, True) for lhs, rhs in ids.values())

    return run


def _transposed(P: Any, pi: Any, q: Any) -> Any:  # P^T in place of P: the bug of a transpose
    return win_rate(np.asarray(P).T, pi, q)


def _dropped_last(P: Any, pi: Any, q: Any) -> Any:  # the last response's row left out
    P2 = np.array(P, dtype=object)
    P2[-1, :] = 0
    return sum((pi[i] * P2[i, j] * q[j] for i in range(len(pi)) for j in range(len(q))), 0)


CONTROLS = (
    Control("a transposed P breaks the identities", _planted_bug_is_caught(_transposed)),
    Control("a dropped response breaks the identities", _planted_bug_is_caught(_dropped_last)),
)

CLAIM = Claim(
    "WR-basic",
    "WR(pi;pi)=1/2, WR(pi;q)+WR(q;pi)=1, bilinearity, covariance identity",
    "holds",
    chunked(chunk, finish, size=500),
    figure,
    default_instances=10_000,
    controls=CONTROLS,
)
