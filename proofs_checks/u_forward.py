"""U-forward: every h-win rate with a strictly increasing h satisfies both axioms.

Each instance picks an h (cycling over the registry's ``identity``, ``logit``, ``log`` and a fresh
random strictly increasing h from :func:`theory.hfuncs.random_increasing_h`: rational
piecewise-linear, smooth, or unbounded), a size ``(M, K, d)`` from :data:`theory.axioms.SIZES`,
and tests the evaluation ``WR_h(.; (mu0 + mu1)/2)`` on one random instance of each of the eight
elementary properties of :mod:`theory.axioms`.  Instances are exact (Fractions on the grid 1/d,
compared with ``==``) when h is rational, float otherwise (relative tolerance
:data:`theory.axioms.TOL`); every :data:`LOCAL_EVERY`-th instance adds a targeted local search
(:data:`LOCAL_STEPS` steps perturbing the instance towards a violation).  An instance on which
the property's case could not be built at the drawn size (e.g. too few responses for its
structure; this is what the skips of ``h = identity`` are) or the value is undefined (``+inf``
and ``-inf`` mass together) is skipped and counted.

Positive controls (:data:`PLANTED`): each elementary property has a deliberately broken h-win
rate on which it must fire (a squared model, squared prompt weights, squared data, one data slot
only, a dropped prompt weight, a uniform anchor, a transposed ``P``, a flat ``h``), searched by the
same :func:`theory.axioms.find_violation` predicates the check uses, exactly (grid ``1/d``) and
in floats; the flat ``h = min(p, 1/2)`` is caught only when strict monotonicity is tested as
strict.  A predicate that never fires therefore makes the verdict ``invalid``.  The Borda score
(a catalog evaluation, not a win rate) must break pair-locality.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from theory.axioms import PROPERTIES, SIZES, find_violation, trial
from theory.catalog import CATALOG
from theory.data import PreferenceData, data_anchor
from theory.evaluations import Evaluation, h_win_rate_evaluation
from theory.hfuncs import H_REGISTRY, RANDOM_H_KINDS, HFunction, random_increasing_h
from theory.numbers import Number

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Counts,
    Gallery,
    Tally,
    chunked,
    counts,
)

#: Every LOCAL_EVERY-th instance runs the targeted local search.
LOCAL_EVERY = 8
#: Steps of the targeted local search.
LOCAL_STEPS = 6
H_KINDS = ("identity", "logit", "log", "random")
STATUSES = ("held", "violated", "skipped")


def outcome_key(kind: str, prop: str, status: str) -> str:
    """The tally key of a property instance's outcome for an h kind."""
    return f"{kind} | {prop} | {status}"


@dataclass
class Stats(Tally):
    #: property instances by :func:`outcome_key` (h kind, property, held/violated/skipped)
    outcomes: Counts = counts()
    #: how many random h of each kind (piecewise, smooth, unbounded) were drawn
    random_h_kinds: Counts = counts()
    held: int = 0
    skipped: int = 0
    exact_tests: int = 0
    float_tests: int = 0


def _h_of(n: int, rng: np.random.Generator, stats: Stats) -> tuple[str, HFunction]:
    """Instance ``n``'s h kind and h: the registry's three in turn, then a random h."""
    kind = H_KINDS[n % len(H_KINDS)]
    if kind != "random":
        return kind, H_REGISTRY[kind]
    hk = tuple(RANDOM_H_KINDS)[(n // len(H_KINDS)) % 3]
    stats.random_h_kinds.add(hk)
    return kind, random_increasing_h(rng, hk)


def _instance(n: int, rng: np.random.Generator, stats: Stats) -> None:
    """One h and one random case of each property (exact when h is rational)."""
    kind, h = _h_of(n, rng, stats)
    evaluation = h_win_rate_evaluation(h)
    M, K, d = SIZES[int(rng.integers(len(SIZES)))]
    local = (n // LOCAL_EVERY) % len(PROPERTIES) if n % LOCAL_EVERY == 0 else -1
    for k, (name, prop) in enumerate(PROPERTIES.items()):
        steps = LOCAL_STEPS if k == local else 0
        K_k = K + int(rng.integers(0, 3))
        status, witness = trial(
            evaluation, prop, rng, M, K_k, d if h.rational else None, local_steps=steps
        )
        stats.outcomes.add(outcome_key(kind, name, status))
        stats.held += status == "held"
        stats.skipped += status == "skipped"
        if status != "skipped":
            stats.exact_tests += h.rational
            stats.float_tests += not h.rational
        if witness is not None:
            stats.witness.offer(witness.case.size(), {"h": h.name, **witness.as_dict()})


def chunk(ctx: CheckContext) -> Stats:
    stats = Stats()
    for i in range(ctx.instances):
        _instance(ctx.start + i, ctx.rng, stats)
        ctx.progress(i + 1)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    worst = stats.witness
    observed = (
        f"{worst.count} violations; smallest: {worst.value['property']} with h = {worst.value['h']}"
        if worst.value is not None
        else f"h-win rates (identity, logit, log, {stats.random_h_kinds.total()} random h) held "
        f"all 8 elementary properties on {stats.held} property instances ({stats.exact_tests} "
        f"exact ==, {stats.float_tests} float); {stats.skipped} skipped (a case that could not "
        "be built at the drawn size, or an undefined value)"
    )
    return stats.result(ctx.instances, observed)


def _borda_breaks_locality(rng: np.random.Generator) -> bool:
    """The search finds the Borda score's pair-locality violation (it is not a win rate)."""
    return find_violation(CATALOG["Borda score"], "pair-locality", rng, trials=48) is not None


# --------------------------------------------------------------------------------------------
# positive controls: deliberately broken h-win rates, one per elementary property


def _normalise_rows(a: np.ndarray) -> np.ndarray:
    """Each row of ``a`` divided by its sum (a row summing to 0 is left as it is)."""
    sums = a.sum(axis=-1, keepdims=True)
    return np.where(sums != 0, a / np.where(sums != 0, sums, 1), a)


def _broken_wr(
    data: PreferenceData,
    pi: np.ndarray,
    *,
    model: Callable[[np.ndarray], np.ndarray] = lambda pi: pi,
    weights: Callable[[np.ndarray], np.ndarray] = lambda rho: rho,
    anchor: Callable[[PreferenceData], np.ndarray] = data_anchor,
    prefs: Callable[[np.ndarray], np.ndarray] = lambda P: P,
    h: Callable[[Any], Any] = lambda p: p,
) -> Number:
    """``sum_x rho'_x pi'_x^T h(P'_x) a'_x``, the win rate with one piece replaced (a planted bug);
    written here, on its own, so that the controls do not share code with the library."""
    rho, pi2, a, P = weights(data.rho), model(pi), anchor(data), prefs(data.P)
    total: Any = Fraction(0) if data.exact else 0.0
    cells = itertools.product(range(data.M), range(data.K), range(data.K))
    for x, y, y2 in cells:
        w = rho[x] * pi2[x, y] * a[x, y2]
        if w != 0:
            total += w * h(P[x, y, y2])
    return total if data.exact else float(total)


def _planted(name: str, **bug: Any) -> Evaluation:
    return Evaluation(
        name, "a planted bug (U-forward control)", lambda d, pi: _broken_wr(d, pi, **bug)
    )


def _uniform_anchor(data: PreferenceData) -> np.ndarray:
    one = Fraction(1) if data.exact else 1.0
    return np.full((data.M, data.K), one / data.K, dtype=data.P.dtype)


def _flat_h(p: Any) -> Any:
    return min(p, Fraction(1, 2) if isinstance(p, Fraction) else 0.5)


#: Planted broken h-win rates and the elementary properties each must be caught breaking.
PLANTED: dict[str, tuple[Evaluation, tuple[str, ...]]] = {
    "squared model": (
        _planted("squared model", model=lambda pi: _normalise_rows(pi * pi)),
        ("model-mixture",),
    ),
    "squared prompt weights": (
        _planted("squared prompt weights", weights=lambda rho: _normalise_rows(rho * rho)),
        ("prompt-weights",),
    ),
    "squared data": (
        _planted("squared data", anchor=lambda d: _normalise_rows(data_anchor(d) ** 2)),
        ("data-mixture",),
    ),
    "one data slot": (_planted("one data slot", anchor=lambda d: d.mu1), ("data-prevalence",)),
    "dropped prompt weight": (
        _planted("dropped prompt weight", weights=lambda rho: np.full_like(rho, 1) / len(rho)),
        ("pair-locality",),
    ),
    "uniform anchor": (_planted("uniform anchor", anchor=_uniform_anchor), ("pair-probability",)),
    "transposed P": (
        _planted("transposed P", prefs=lambda P: P.transpose(0, 2, 1)),
        ("preference-monotonicity", "dominance-monotonicity"),
    ),
    "flat h = min(p, 1/2)": (
        _planted("flat h", h=_flat_h),
        ("preference-monotonicity", "dominance-monotonicity"),
    ),
}

#: Instances per (planted bug, property, exact or float) search of a control.
CONTROL_TRIALS = 96


def planted_is_caught(name: str, rng: np.random.Generator) -> bool:
    """The check's predicates catch the planted bug ``name`` breaking each of its properties,
    on exact instances and on float instances alike."""
    evaluation, props = PLANTED[name]
    return all(
        find_violation(evaluation, prop, rng, trials=CONTROL_TRIALS, exact=exact) is not None
        for prop in props
        for exact in (True, False)
    )


def _control(name: str) -> Control:
    props = ", ".join(PLANTED[name][1])
    return Control(f"a {name} breaks {props}", lambda rng: planted_is_caught(name, rng))


def figure(result: CheckResult, gallery: Gallery) -> None:
    from .scaffold.figures import draw_table

    outcomes = result.details.get("outcomes", {})
    props = list(PROPERTIES)
    heads = [r"$h$ = identity", r"$h$ = logit", r"$h$ = log", r"random $h$"]
    cells, colours = [], []
    for p in props:
        row, crow = [p], ["white"]
        for k in H_KINDS:
            held, viol, skip = (outcomes.get(outcome_key(k, p, s), 0) for s in STATUSES)
            row.append(f"{held} held, {skip} skipped\n{viol} violated")
            crow.append("#f4a6a6" if viol else "#d9f0d3" if held else "#eeeeee")
        cells.append(row)
        colours.append(crow)
    note = (
        f"{result.instances} random instances; h cycles identity, logit, log and a random strictly "
        "increasing h (piecewise-linear, smooth, unbounded); sizes (M, K, d) from "
        "theory.axioms.SIZES, exact (Fractions on the grid 1/d) where h is rational.  Skipped: a "
        "case that could not be built at the drawn size, or an undefined value.  Green: held "
        "(no violation); red: some violation."
    )
    with gallery.new("u_forward_properties", instance=note) as (_fig, ax):
        draw_table(ax, cells, ["property", *heads], colours=colours, widths=[1.3, 1, 1, 1, 1])
        ax.set_title(
            r"U-forward: property instances of $\mathrm{WR}_h(\cdot;\ (\mu_0+\mu_1)/2)$ "
            "that held, were violated, were skipped"
        )


CLAIM = Claim(
    "U-forward",
    "every h-win rate (h strictly increasing) satisfies both axioms",
    "holds",
    chunked(chunk, finish, size=100),
    figure,
    default_instances=2000,
    controls=(
        *(_control(name) for name in PLANTED),
        Control("Borda score breaks pair-locality", _borda_breaks_locality),
    ),
)
