"""SFT-closed-form: the SFT optimum is the winner distribution p_w; WR(p_w; mu) = 1/2 + 2 Var.

Each instance draws an exact preference data distribution (K in 2..8, M in 1..2, a random family
per prompt, ``mu0 = mu1`` on two instances out of three, zeros allowed) and verifies **exactly**
(``==`` on Fractions):

1. ``sft_target`` equals the winner marginal of the winner-loser distribution,
   ``sum_j w[x, y, j] / rho_x`` (an independent computation from the sampling law);
2. the win rate of ``p_w`` against the data computed directly equals the closed form
   (``1/2 + 2 Var_mu(W_mu)`` when ``mu0 = mu1``, its general counterpart otherwise), and the
   dispreferred mirror (``1/2 - 2 Var``);
3. the Bhatia-Davis bound ``WR(p_w; mu) <= 1/2 + 2 (max W_mu - 1/2)(1/2 - min W_mu)`` (max and
   min over the support of ``mu``, ``W_mu`` summed pair by pair here, exactly) when
   ``mu0 = mu1``, prompt by prompt.  It replaces the old "``WR <= 1``", which input validation
   guarantees and so could not fail; this one fails when the library's win rate is too large;
4. for a strict order, ``WR(p_w; mu) = 2/3 - (sum_y mu(y)^3) / 6`` (ties-corrected midrank
   variance), and best-of-2 under the order's reward equals ``p_w``;
5. ``p_w`` minimises the SFT loss: a random perturbation never has a lower loss (float);
6. the float path agrees with the exact one to :data:`TOL`.

Separately, the uniform start over ``K`` responses of a strict order gives exactly
``2/3 - 1/(6 K^2)``, increasing to the ``2/3`` ceiling (K = 2 .. 400).

Positive controls (:data:`CONTROLS`; a missed one makes the verdict ``invalid``): the loser
marginal is not ``p_w`` (detector 1), a pure best response breaks the Bhatia-Davis bound
(detector 3, through the library's win rate) and the strict-order formula fails on a cycle
(detector 4).  Chunked (:func:`~proofs_checks.scaffold.chunked`, 500 instances a chunk).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from theory import cyclic, to_float, total_order, win_rate
from theory.data import PreferenceData, random_preference_data, winner_loser_distribution
from theory.errors import TheoryError
from theory.methods.best_of_n import best_of_n, best_of_n_win_rate, strict_order_ceiling
from theory.methods.sft import (
    sft_loss,
    sft_target,
    sft_variance_term,
    sft_win_rate,
    sft_win_rate_formula,
)
from theory.simplex import random_distribution, uniform

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Gallery,
    Samples,
    Tally,
    chunked,
    samples,
)

#: Float agreement with the exact path, and slack for the float loss comparison.
TOL = 1e-12
MAX_K = 6
CEILING_KS = (2, 3, 4, 5, 10, 20, 50, 100, 200, 500, 1000)
#: Ceilings also recomputed through the K x K matrix path (best_of_n_win_rate) up to this K.
MATRIX_K = 12


def _size(data: PreferenceData) -> tuple:
    dens = [Fraction(v).denominator for v in np.concatenate([data.P.ravel(), data.mu0.ravel()])]
    return (data.K, data.M, max(dens))


def _bhatia_davis_bound(data: PreferenceData) -> Any:
    """``sum_x rho_x (1/2 + 2 (max W - 1/2)(1/2 - min W))`` with ``W(y) = sum_j P[y, j] mu(j)``
    over ``supp mu`` (``mu0 = mu1 = mu``), pair by pair: ``Var_mu(W) <= (max - mean)(mean - min)``
    with mean 1/2."""
    total: Any = 0
    for x in range(data.M):
        mu = data.mu0[x]
        W = [sum(data.P[x, y, j] * mu[j] for j in range(data.K)) for y in range(data.K)]
        live = [W[y] for y in range(data.K) if mu[y] > 0]
        half = Fraction(1, 2) if data.exact else 0.5
        total += data.rho[x] * (half + 2 * (max(live) - half) * (half - min(live)))
    return total


def _instance_failures(data: PreferenceData, rng: np.random.Generator) -> list[tuple[str, Any]]:
    fails: list[tuple[str, Any]] = []
    pw = sft_target(data, "preferred")
    w = winner_loser_distribution(data)
    marg = np.stack([w[x].sum(axis=1) / data.rho[x] for x in range(data.M)])
    if not np.all(pw == marg):  # the identities below take p_w as their input: stop here
        return [("p_w = winner marginal of w", (pw, marg))]
    rates = {}
    for side in ("preferred", "dispreferred"):
        direct, formula = sft_win_rate(data, side), sft_win_rate_formula(data, side)
        rates[side] = direct
        if direct != formula:
            fails.append((f"WR({side} target) = closed form", (direct, formula)))
    wr = rates["preferred"]
    if data.symmetric and wr > _bhatia_davis_bound(data):
        fails.append(("WR(p_w; mu) <= Bhatia-Davis bound", (wr, _bhatia_davis_bound(data))))
    fl = PreferenceData(
        P=to_float(data.P), mu0=to_float(data.mu0), mu1=to_float(data.mu1), rho=to_float(data.rho)
    )
    if abs(float(sft_win_rate(fl)) - float(wr)) > TOL:
        fails.append(("float = exact", (sft_win_rate(fl), wr)))
    base = sft_loss(data, pw)
    eps = float(rng.uniform(0.01, 0.5))  # one random perturbation of p_w
    other = (1 - eps) * to_float(pw) + eps * rng.dirichlet(np.ones(data.K), size=data.M)
    if sft_loss(data, other) < base - TOL:
        fails.append(("p_w minimises the SFT loss", (other, sft_loss(data, other), base)))
    return fails


def _strict_order_failures(rng: np.random.Generator, K: int) -> list[tuple[str, Any]]:
    mu = random_distribution(rng, K, exact=True, zeros=bool(rng.integers(2)))
    ranking = rng.permutation(K)
    P = total_order(K, ranking)
    D = PreferenceData(P=P, mu0=mu)
    wr = sft_win_rate(D)
    expected = Fraction(2, 3) - sum(v**3 for v in mu) / 6
    fails: list[tuple[str, Any]] = []
    if wr != expected:
        fails.append(("strict order: 2/3 - sum mu^3 / 6", (P, mu, wr, expected)))
    reward = np.empty(K)
    reward[ranking] = np.arange(K, 0, -1)
    if not np.all(best_of_n(mu, reward, 2) == sft_target(D)[0]):
        fails.append(("best-of-2 = p_w for a strict order", (P, mu)))
    return fails


@dataclass
class Stats(Tally):
    symmetric: int = 0
    asymmetric: int = 0
    #: (Var_mu(W_mu), WR(p_w; mu) - 1/2) on one-prompt instances with mu0 = mu1
    scatter: Samples = samples(3000)


def _instance(stats: Stats, rng: np.random.Generator, n: int) -> None:
    """One random exact instance and one strict order over the same ``K``."""
    K = int(rng.integers(2, MAX_K + 1))
    M = 1 if n % 4 else 2
    sym = n % 3 != 0
    data = random_preference_data(rng, M, K, exact=True, symmetric=sym, zeros=bool(n % 2))
    stats.symmetric += sym
    stats.asymmetric += not sym
    try:
        failures = _instance_failures(data, rng) + _strict_order_failures(rng, K)
    except TheoryError as exc:  # the instance is valid by construction: a refusal is a failure
        failures = [("the library accepts a valid instance", f"{type(exc).__name__}: {exc}")]
    for name, value in failures:
        stats.witness.offer(
            _size(data), {"identity": name, "P": data.P, "mu0": data.mu0, "value": value}
        )
    if failures:
        return
    if sym and M == 1:
        var = sft_variance_term(data.P[0], data.mu0[0])
        stats.scatter.add((float(var), float(sft_win_rate(data)) - 0.5))


def _ceilings(stats: Stats) -> dict[int, Fraction]:
    """The uniform-start ceilings of strict orders: the O(K) formula against the matrix path,
    against ``2/3 - 1/(6 K^2)``, and increasing to 2/3."""
    ceilings = {K: strict_order_ceiling(K) for K in CEILING_KS}
    for K in range(1, MATRIX_K + 1):
        via_matrix = best_of_n_win_rate(total_order(K), uniform(K), list(range(K, 0, -1)), 2)
        if via_matrix != strict_order_ceiling(K):
            stats.witness.offer((K, 1, 0), {"identity": "O(K) ceiling = matrix path", "K": K})
    for K, c in ceilings.items():
        if c != Fraction(2, 3) - Fraction(1, 6 * K * K):
            stats.witness.offer(
                (K, 1, 0), {"identity": "uniform strict order: 2/3 - 1/(6K^2)", "K": K}
            )
    values = list(ceilings.values())
    if not all(a < b < Fraction(2, 3) for a, b in zip(values, values[1:], strict=False)):
        stats.witness.offer((0, 0, 0), {"identity": "ceiling increases to 2/3", "values": values})
    return ceilings


def chunk(ctx: CheckContext) -> Stats:
    """The chunk's instances (global index ``ctx.start + k`` picks M, mu0 = mu1 and zeros)."""
    stats = Stats()
    for k in range(ctx.instances):
        _instance(stats, ctx.rng, ctx.start + k)
        ctx.progress(k + 1)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    """The uniform-start ceilings (after the merge) and the report."""
    ceilings = _ceilings(stats)
    worst = stats.witness
    gap = Fraction(2, 3) - ceilings[CEILING_KS[-1]]
    observed = (
        f"{worst.count} violations; smallest: {worst.value['identity']}"
        if worst.value is not None
        else f"p_w, WR(p_w)=1/2+2Var (and the mu0!=mu1 form, and the loser mirror) exact (==) on "
        f"{ctx.instances} instances ({stats.symmetric} mu0=mu1, {stats.asymmetric} mu0!=mu1), "
        "WR <= 1/2 + 2 (max W - 1/2)(1/2 - min W) (Bhatia-Davis, exact), strict order "
        "2/3 - sum mu^3/6 exact; uniform start 2/3 - 1/(6K^2): K=2 -> "
        f"{ceilings[2]}, K={CEILING_KS[-1]} -> 2/3 - {gap}"
    )
    return stats.result(ctx.instances, observed, ceilings={str(k): v for k, v in ceilings.items()})


def figure(result: CheckResult, gallery: Gallery) -> None:
    pts = np.array(result.details.get("scatter", []), dtype=float).reshape(-1, 2)
    note = (
        f"Left: {len(pts)} random exact instances ($P$ from the preference families, a random "
        r"start $\mu = \mu_0 = \mu_1$); SFT's optimum is the winners' distribution "
        r"$p_w = 2\mu\, W_\mu$.  Right: $P$ a strict order on $K$ responses, $\mu$ uniform "
        "(exact)."
    )
    with gallery.new("sft_closed_form", ncols=2, instance=note) as (fig, axes):
        ax = axes[0]
        ax.scatter(pts[:, 0], pts[:, 1], s=30, alpha=0.5, label="one random instance")
        v = np.linspace(0, max(0.1, 1.1 * float(pts[:, 0].max(initial=0.0))), 50)
        ax.plot(v, 2 * v, "k--", lw=1.5, label=r"the formula $2\,\mathrm{Var}$")
        ax.axhline(1 / 6, color="C3", lw=1.5, ls=":", label="strict order, continuous start: 1/6")
        ax.set_xlabel(r"$\mathrm{Var}_{y\sim\mu}(W_\mu(y))$")
        ax.set_ylabel(r"$\mathrm{WR}(p_w;\mu) - 1/2$")
        ax.set_title(r"SFT's win-rate gain is $2\,\mathrm{Var}(W_\mu)$")
        ax.legend(loc="upper left")
        ax = axes[1]
        cs = result.details.get("ceilings", {})
        ax.semilogx(
            [int(k) for k in cs],
            [float(Fraction(c)) for c in cs.values()],
            "o-",
            label="uniform start, exact",
        )
        ax.axhline(2 / 3, color="k", ls="--", lw=1.5, label="2/3")
        ax.axhline(0.5, color="grey", ls=":", lw=1.5, label=r"1/2 = $\mathrm{WR}(\mu; \mu)$")
        ax.set_xlabel("$K$ (responses in the strict order)")
        ax.set_ylabel(r"$\mathrm{WR}(p_w;\ \mathrm{uniform})$")
        ax.set_title("the ceiling 2/3 of one round of SFT")
        ax.legend(loc="lower right")
        fig.suptitle("SFT-closed-form: SFT on preferred samples gains only 2 Var, at most 2/3")


# positive controls: each plants a known failure on an exact instance and runs the check's own
# detector on it; a library that computes the wrong thing gives the wrong answer here too


def _control_instance(rng: np.random.Generator, K: int = 3) -> PreferenceData:
    """An exact one-prompt instance, ``mu0 = mu1`` of full support, whose ``W_mu`` is not
    constant and not 0 anywhere (redrawn until so)."""
    while True:
        data = random_preference_data(rng, 1, K, exact=True, symmetric=True, zeros=False)
        W = data.P[0] @ data.mu0[0]
        if len(set(W.tolist())) > 1 and min(W) > 0:
            return data


def _loser_marginal_is_caught(rng: np.random.Generator) -> bool:
    """The loser marginal (p_l, what a transposed P gives) is not the winner marginal of ``w``:
    the detector of identity 1 must fire."""
    data = _control_instance(rng)
    w = winner_loser_distribution(data)
    marg = np.stack([w[x].sum(axis=1) / data.rho[x] for x in range(data.M)])
    return not np.all(sft_target(data, "dispreferred") == marg)


def _best_response_breaks_the_bound(rng: np.random.Generator) -> bool:
    """The pure best response has win rate ``max W > 1/2 + 2 (max W - 1/2)(1/2 - min W)`` when
    ``min W > 0``: the Bhatia-Davis detector (identity 3) must fire on it (a library win rate
    that is too small, e.g. transposed, makes this control miss)."""
    data = _control_instance(rng)
    W = data.P[0] @ data.mu0[0]
    best = np.array([Fraction(int(i == int(np.argmax(W)))) for i in range(data.K)], dtype=object)
    return bool(win_rate(data.P[0], best, data.mu0[0]) > _bhatia_davis_bound(data))


def _formula_fails_off_its_premise(rng: np.random.Generator) -> bool:
    """The strict-order formula ``2/3 - sum mu^3 / 6`` is wrong for a cyclic P (not an order):
    the detector of identity 4 must fire."""
    mu = random_distribution(rng, 3, exact=True, zeros=False)
    data = PreferenceData(P=cyclic(3, Fraction(3, 4)), mu0=mu)
    return sft_win_rate(data) != Fraction(2, 3) - sum(v**3 for v in mu) / 6


CONTROLS = (
    Control("the loser marginal is not p_w", _loser_marginal_is_caught),
    Control("a best response breaks the Bhatia-Davis bound", _best_response_breaks_the_bound),
    Control("the strict-order formula fails on a cycle", _formula_fails_off_its_premise),
)

CLAIM = Claim(
    "SFT-closed-form",
    "p_w and 1/2 + 2 Var formula; bound 1 (checked as the sharper Bhatia-Davis bound); 2/3 for "
    "a strict order with a continuous start",
    "holds",
    chunked(chunk, finish, size=500),
    figure,
    default_instances=5000,
    controls=CONTROLS,
)
