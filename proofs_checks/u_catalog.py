"""U-catalog: every catalog evaluation that is not an h-win rate breaks a named elementary property.

Two parts:

1. **Smallest exact counterexamples** (:func:`catalog_counterexamples`): for each member of
   :data:`theory.catalog.CATALOG`, :func:`theory.axioms.smallest_counterexample` searches
   every elementary property smallest-first over :data:`theory.axioms.SIZES` (exact rationals on
   the grid 1/d) with the fixed seed :data:`CATALOG_SEED` and :data:`CATALOG_TRIALS` instances per
   property; the smallest witness by (prompts, responses, largest denominator, sum of
   denominators) is kept.  Each witness is then re-checked independently (:func:`refute`): the
   member's values on the two sides are recomputed, the relation is tested by this module's own
   comparison (:func:`breaks`: a strict increase ``<`` is broken by equal values, so strict
   monotonicity is tested as strict), and the ordinary win rate, evaluated on the *same* sides,
   must satisfy the relation the member breaks (otherwise the instance would not separate the
   member from a win rate and the member counts as not refuted).  The reported witness must be
   minimal among every violation the search found (:func:`smaller_candidate`, with this
   module's own size key :func:`size_key`).  The seed is fixed so the report, the figure and
   docs/uniqueness.md show the same counterexamples.
2. **Survey** (``ctx.instances`` random instances, ``ctx.rng``): member, property and size cycle;
   the violation counts per (member, property) go to ``details`` and the second figure.

Positive controls (:data:`CLAIM`'s ``controls``; a missed one makes the verdict ``invalid``): the
minimality test rejects a non-minimal report; the re-verification rejects a "witness" against
the win rate itself; the search finds and re-verifies the smallest counterexample of a planted
transposed ``P`` (on one prompt, two responses) and of a flat ``h = min(p, 1/2)`` (only a strict
monotonicity test catches it).
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from theory.axioms import (
    PROPERTIES,
    SIZES,
    AxiomWitness,
    Side,
    case_values,
    find_violation,
    smallest_counterexample,
    trial,
)
from theory.catalog import CATALOG
from theory.evaluations import WIN_RATE, Evaluation

from .common.text import format_exact
from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Collected,
    Control,
    Counts,
    Gallery,
    Samples,
    Tally,
    chunked,
    collected,
    counts,
    samples,
)
from .u_forward import PLANTED

#: Seed of the smallest-counterexample search (fixed: report, figure and docs agree).
CATALOG_SEED = 20250214
#: Instances per (member, property) in the smallest-counterexample search.
CATALOG_TRIALS = 240


@dataclass(frozen=True)
class CatalogSearch:
    """One member's search: the ``witness`` it reported (None if none) and every violation it
    found on the way (``candidates``, in search order)."""

    witness: AxiomWitness | None
    candidates: tuple[AxiomWitness, ...]


@functools.cache
def search_one(name: str, seed: int = CATALOG_SEED, trials: int = CATALOG_TRIALS) -> CatalogSearch:
    """The smallest exact witness found for the catalog member ``name``, with every candidate
    seen (its own generator, from ``seed`` and the name)."""
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    seen: list[AxiomWitness] = []
    w = smallest_counterexample(CATALOG[name], rng, trials=trials, on_witness=seen.append)
    return CatalogSearch(w, tuple(seen))


def catalog_search(
    seed: int = CATALOG_SEED, trials: int = CATALOG_TRIALS
) -> dict[str, CatalogSearch]:
    """The smallest exact witness found for each catalog member, with every candidate seen."""
    return {name: search_one(name, seed, trials) for name in CATALOG}


def catalog_counterexamples(
    seed: int = CATALOG_SEED, trials: int = CATALOG_TRIALS
) -> dict[str, AxiomWitness | None]:
    """The smallest exact witness found for each catalog member (None if none was found)."""
    return {name: found.witness for name, found in catalog_search(seed, trials).items()}


# --------------------------------------------------------------------------------------------
# independent re-verification: the relation and the size key, written here


def breaks(relation: str, lhs: Any, rhs: Any) -> bool:
    """True when ``lhs relation rhs`` fails, tested here on its own: ``"="`` fails on a
    difference (exact ``!=``; floats beyond ``1e-9`` relative; an infinity against anything
    else); ``"<"`` (a *strict* increase) fails unless ``lhs < rhs``, so equal values break it."""
    lf, rf = float(lhs), float(rhs)
    if relation == "<":
        if math.isinf(lf) and lf == rf:  # the same infinity on both sides: no strict test
            return False
        return not lhs < rhs
    if isinstance(lhs, Fraction | int) and isinstance(rhs, Fraction | int):
        return lhs != rhs
    if math.isinf(lf) or math.isinf(rf):
        return lf != rf
    return abs(lf - rf) > 1e-9 * (1 + max(abs(lf), abs(rf)))


def size_key(w: AxiomWitness) -> tuple:
    """(prompts, responses, an infinite value?, largest denominator, sum of denominators) of a
    witness, computed here from its sides and coefficients: smaller is simpler (the order the
    search promises, :func:`theory.axioms.search.witness_key`, recomputed independently)."""
    sides = [side for _, side in w.case.lhs + w.case.rhs]
    M = max(len(side.rho) for side in sides)
    K = max(side.pi.shape[1] for side in sides)
    infinite = any(math.isinf(float(v)) for v in (w.value_lhs, w.value_rhs))
    arrays = [a for side in sides for a in (side.P, side.mu0, side.mu1, side.rho, side.pi)]
    if any(a.dtype != object for a in arrays):  # a float case: no denominators
        return (M, K, infinite, math.inf, math.inf)
    # the denominators of every Fraction entry and Fraction coefficient (an integer 1 has none)
    dens = [v.denominator for a in arrays for v in a.ravel() if isinstance(v, Fraction)]
    dens += [c.denominator for c, _ in w.case.lhs + w.case.rhs if isinstance(c, Fraction)]
    return (M, K, infinite, max(dens, default=1), sum(dens))


def smaller_candidate(
    reported: AxiomWitness, candidates: Sequence[AxiomWitness]
) -> AxiomWitness | None:
    """A candidate strictly smaller than the ``reported`` witness by :func:`size_key` (None when
    the reported one is minimal among them)."""
    key = size_key(reported)
    return next((c for c in candidates if size_key(c) < key), None)


def describe_side(side: Side) -> str:
    """``P``, data and model of one side in one line (the prompt axis dropped when ``M = 1``)."""
    one = side.P.shape[0] == 1
    parts = []
    for key, value in side.as_dict().items():
        if one and key == "rho":
            continue
        parts.append(f"{key} = {format_exact(value[0] if one else value)}")
    return "; ".join(parts)


def describe(witness: AxiomWitness) -> list[str]:
    """Human-readable lines: the relation, each side, both values."""
    case = witness.case
    lines = [f"{witness.property}: {PROPERTIES[witness.property].statement}"]
    params = {k: v for k, v in case.params.items() if k not in ("pi1", "pi2", "rho1", "rho2", "a")}
    if params:
        lines.append(
            "parameters: " + ", ".join(f"{k} = {format_exact(v)}" for k, v in params.items())
        )
    for label, terms in (("lhs", case.lhs), ("rhs", case.rhs)):
        for coef, side in terms:
            prefix = f"{label}" if coef == 1 else f"{label} ({format_exact(coef)} x)"
            lines.append(f"{prefix}: {describe_side(side)}")
    lines.append(
        f"values: lhs = {format_exact(witness.value_lhs)}, rhs = "
        f"{format_exact(witness.value_rhs)} (required: lhs {case.relation} rhs)"
    )
    return lines


def refute_with(
    name: str, evaluation: Evaluation, w: AxiomWitness | None
) -> tuple[dict[str, Any] | None, str | None]:
    """``(the refutation, None)`` when ``w`` re-verifies as a violation by ``evaluation`` that the
    win rate keeps (values recomputed from the case alone, the relation tested by
    :func:`breaks`); ``(None, the problem)`` else."""
    if w is None:
        return None, f"{name}: no counterexample found"
    again = case_values(evaluation, w.case)
    if again is None or not breaks(w.relation, *again):
        return None, f"{name}: the witness does not reproduce"
    wr_values = case_values(WIN_RATE, w.case)
    if wr_values is None or breaks(w.relation, *wr_values):
        return None, f"{name}: the win rate also breaks the witness ({w.property})"
    refutation = {
        **w.as_dict(),
        "size": list(w.case.size()),
        "win_rate_lhs": wr_values[0],
        "win_rate_rhs": wr_values[1],
    }
    return refutation, None


def refute(name: str, w: AxiomWitness | None) -> tuple[dict[str, Any] | None, str | None]:
    """:func:`refute_with` for the catalog member ``name``."""
    return refute_with(name, CATALOG[name], w)


def survey_key(name: str, prop: str) -> str:
    """The survey's key for a (member, property) pair."""
    return f"{name} | {prop}"


@dataclass
class Stats(Tally):
    #: property instances of the survey that were defined, by :func:`survey_key`
    tested: Counts = counts()
    #: of those, the ones the member violated
    violated: Counts = counts()
    problems: Samples = samples(64)
    #: for finish: (member, its exhaustive search)
    searches: Collected = collected()


#: Survey instances per chunk; the catalog searches are dealt out over the chunks (small, so
#: that even a smoke-sized run spreads the 13 searches over 13 chunks).
SURVEY_CHUNK = 8


def _survey(ctx: CheckContext, stats: Stats) -> None:
    """Member, property and size cycle over the chunk's random instances (by global index)."""
    names, props = list(CATALOG), list(PROPERTIES)
    rng = ctx.rng
    for i in range(ctx.instances):
        k = ctx.start + i
        name = names[k % len(names)]
        prop = props[(k // len(names)) % len(props)]
        M, K, d = SIZES[int(rng.integers(len(SIZES)))]
        status, _ = trial(CATALOG[name], prop, rng, M, K, d)
        if status != "skipped":
            stats.tested.add(survey_key(name, prop))
            stats.violated.add(survey_key(name, prop), status == "violated")
        ctx.progress(i + 1)


def chunk(ctx: CheckContext) -> Stats:
    """The chunk's survey instances, and the exhaustive searches of the catalog members dealt
    to it (member ``j`` to chunk ``j mod chunks``; each search has its own fixed generator)."""
    stats = Stats()
    _survey(ctx, stats)
    chunks = max(1, math.ceil((ctx.total or ctx.instances) / SURVEY_CHUNK))
    index = ctx.start // SURVEY_CHUNK
    for j, name in enumerate(CATALOG):
        if j % chunks == index:
            stats.searches.add((name, search_one(name)))
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    """Re-verify each member's witness independently, and check that it is the smallest."""
    searches = dict(stats.searches.values)
    refuted: dict[str, Any] = {}
    for name in CATALOG:
        w = searches[name].witness
        refutation, problem = refute(name, w)
        smaller = smaller_candidate(w, searches[name].candidates) if w is not None else None
        if refutation is None:
            stats.problems.add(problem)
        elif w is not None and smaller is not None:
            stats.problems.add(
                f"{name}: the reported witness {size_key(w)} is not minimal; the "
                f"search also found {size_key(smaller)} ({smaller.property})"
            )
        else:
            refuted[name] = refutation
    found = not stats.problems.values and len(refuted) == len(CATALOG)
    sizes = [tuple(v["size"][:2]) for v in refuted.values()]
    observed = (
        f"all {len(CATALOG)} catalog evaluations violate an elementary property on an exact "
        f"counterexample (largest: M = {max(s[0] for s in sizes)}, K = {max(s[1] for s in sizes)})"
        f" that the win rate satisfies; survey of {ctx.instances} random instances: "
        f"{stats.violated.total()} violations"
        if found
        else f"{len(refuted)}/{len(CATALOG)} refuted; " + "; ".join(stats.problems.values)
    )
    return CheckResult(
        observed=observed,
        instances=ctx.instances,
        found=found,
        counterexample=refuted,
        details=stats.summary(),
        figure_data={"witnesses": {name: searches[name].witness for name in CATALOG}},
    )


# --------------------------------------------------------------------------------------------
# figures


def _bar_values(values: tuple[Any, Any]) -> tuple[list[float], list[str]]:
    """Bar heights (infinities drawn beyond the finite values) and their labels."""
    finite = [float(v) for v in values if not math.isinf(float(v))]
    span = (max(finite) - min(finite)) if len(finite) > 1 else 1.0
    low = min(finite, default=0.0) - max(span, 1.0)
    high = max(finite, default=0.0) + max(span, 1.0)
    out, labels = [], []
    for v in values:
        f = float(v)
        out.append(low if f == -math.inf else high if f == math.inf else f)
        labels.append(format_exact(v))
    return out, labels


def _side_lines(w: AxiomWitness) -> list[str]:
    """The witness's two inputs, A (the relation's left side) and B (its right side; a mixture
    of inputs for the mixture properties), one line each."""
    from .scaffold.figures import caption

    params = {k: v for k, v in w.case.params.items() if k not in ("pi1", "pi2", "rho1", "rho2")}
    lines = [caption(params, prefix="parameters: ")] if params else []
    for label, terms in (("A", w.case.lhs), ("B", w.case.rhs)):
        for coef, side in terms:
            prefix = f"input {label}" if coef == 1 else f"input {label} ({format_exact(coef)} x)"
            one = side.P.shape[0] == 1
            shown = {k: (v[0] if one else v) for k, v in side.as_dict().items()}
            if one:
                shown.pop("rho", None)
            lines.append(caption(shown, prefix=f"{prefix}: "))
    return lines


def _value_bars(ax: Any, values: tuple[Any, Any], colour: str, ylabel: str) -> None:
    """``values`` at inputs A and B as bars with a marker on top (a zero-height bar shows as a
    marker on the axis line), each labelled with its exact value."""
    heights, labels = _bar_values(values)
    ax.bar([0, 1], heights, width=0.55, color=colour, alpha=0.6, edgecolor=colour, lw=2)
    ax.plot([0, 1], heights, "D", color=colour, ms=12, ls="none")
    ax.axhline(0, color="black", lw=1)
    lo, hi = min(heights + [0.0]), max(heights + [0.0])
    pad = 0.25 * max(hi - lo, 0.5)
    ax.set_ylim(lo - pad, hi + pad)
    for x, v, lab in zip([0, 1], heights, labels, strict=True):
        ax.annotate(lab, (x, v), xytext=(0, 12), textcoords="offset points", ha="center")
    ax.set_xticks([0, 1], ["input A", "input B"])
    ax.set_xlim(-0.6, 1.6)
    ax.set_xlabel("the two inputs the property compares")
    ax.set_ylabel(ylabel)


def _witness_figure(gallery: Gallery, name: str, w: AxiomWitness) -> None:
    """One evaluation's smallest counterexample: its values at the two inputs (left) beside the
    win rate's (right), the property it breaks and why (title), the inputs (caption)."""
    wr = case_values(WIN_RATE, w.case)
    if wr is None:  # pragma: no cover - check() reports an undefined win rate as a problem
        raise RuntimeError(f"{name}: the win rate is undefined on the witness")
    rel = "<" if w.relation == "<" else "="
    statement = PROPERTIES[w.property].statement
    note = "\n".join(_side_lines(w)) + f"\n{w.property}: {statement}"
    with gallery.new(f"u_catalog_{_slug(name)}", ncols=2, instance=note) as (fig, (ax, bx)):
        _value_bars(ax, (w.value_lhs, w.value_rhs), "#c0504d", f"$V$ = {name}")
        wr_label = r"win rate $\mathrm{WR}(\pi; a)$, $a = (\mu_0 + \mu_1)/2$"
        _value_bars(bx, (wr[0], wr[1]), "#4f81bd", wr_label)
        ev = f"{format_exact(w.value_lhs)} vs {format_exact(w.value_rhs)}"
        ax.set_title(f"$V$ needs V(A) {rel} V(B); has {ev}: fails")
        wr_text = f"{format_exact(wr[0])} vs {format_exact(wr[1])}"
        bx.set_title(f"win rate on the same inputs: {wr_text}: holds")
        fig.suptitle(f"U-catalog: {name} is not a win rate: it breaks {w.property}")


def _slug(name: str) -> str:
    """A file-name stem for a catalog evaluation (``"DPO loss (negated)"`` ->
    ``"dpo_loss_negated"``)."""
    return "_".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def _survey_figure(result: CheckResult, gallery: Gallery) -> None:
    tested, violated = result.details.get("tested", {}), result.details.get("violated", {})
    names, props = list(CATALOG), list(PROPERTIES)
    rates = np.array(
        [
            [
                violated.get(survey_key(n, p), 0) / tested[survey_key(n, p)]
                if tested.get(survey_key(n, p))
                else np.nan
                for p in props
            ]
            for n in names
        ]
    )
    total = sum(tested.values())
    note = (
        f"{result.instances} random instances ({total} property instances in all over the "
        f"{len(names)} evaluations), each property drawn at a random size (M, K, d) of "
        "theory.axioms.SIZES; a blank cell: not tested."
    )
    with gallery.new("u_catalog_survey", instance=note) as (fig, ax):
        im = ax.imshow(rates, cmap="Reds", vmin=0, vmax=1, aspect="auto")
        for i, j in np.ndindex(rates.shape):
            if not np.isnan(rates[i, j]):
                colour = "white" if rates[i, j] > 0.6 else "black"
                ax.text(j, i, f"{rates[i, j]:.2f}", ha="center", va="center", color=colour)
        ax.set_xticks(range(len(props)), props, rotation=20, ha="right")
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("elementary property")
        ax.set_ylabel("evaluation $V$")
        fig.colorbar(im, ax=ax, label="fraction of random instances violated")
        ax.set_title("U-catalog survey: which elementary property each evaluation breaks")


def figure(result: CheckResult, gallery: Gallery) -> None:
    witnesses = result.figure_data.get("witnesses") or catalog_counterexamples()
    for name, w in witnesses.items():
        if w is not None:
            _witness_figure(gallery, name, w)
    if result.details.get("tested"):
        _survey_figure(result, gallery)


# --------------------------------------------------------------------------------------------
# positive controls


def _minimality_rejects_non_minimal(rng: np.random.Generator) -> bool:
    """Reporting the largest violation a search found (a search that keeps its first or last
    candidate) is caught by :func:`smaller_candidate`."""
    seen: list[AxiomWitness] = []
    evaluation = PLANTED["transposed P"][0]
    find_violation(
        evaluation,
        "preference-monotonicity",
        rng,
        trials=48,
        first_phase=False,
        on_witness=seen.append,
    )
    if not seen:
        return False
    largest = max(seen, key=size_key)
    return smaller_candidate(largest, seen) is not None


def _refutation_rejects_win_rate(rng: np.random.Generator) -> bool:
    """A violation by the Borda score does not re-verify as a violation by the win rate."""
    w = smallest_counterexample(CATALOG["Borda score"], rng, trials=48)
    if w is None:
        return False
    refutation, _ = refute_with("win rate", WIN_RATE, w)
    return (
        refutation is None and refute_with("Borda score", CATALOG["Borda score"], w)[0] is not None
    )


def _planted_refuted(name: str) -> Any:
    """A control: the planted bug's smallest counterexample is found on one prompt and two
    responses, is minimal among the search's candidates, and re-verifies."""
    evaluation = PLANTED[name][0]

    def run(rng: np.random.Generator) -> bool:
        seen: list[AxiomWitness] = []
        w = smallest_counterexample(evaluation, rng, trials=96, on_witness=seen.append)
        if w is None or size_key(w)[:2] != (1, 2) or smaller_candidate(w, seen) is not None:
            return False
        return refute_with(name, evaluation, w)[0] is not None

    return run


CLAIM = Claim(
    "U-catalog",
    "each non-win-rate evaluation in a catalog (DPO loss, preferred-sample likelihood, "
    "ranking accuracy, misspecified BT reward, Borda/Copeland, KL to the SFT target, ...) "
    "violates an axiom",
    "counterexample",
    chunked(chunk, finish, size=SURVEY_CHUNK),
    figure,
    default_instances=2000,
    controls=(
        Control(
            "the minimality test rejects a non-minimal report", _minimality_rejects_non_minimal
        ),
        Control("the re-verification rejects the win rate", _refutation_rejects_win_rate),
        Control("a transposed P is refuted at (1, 2)", _planted_refuted("transposed P")),
        Control(
            "a flat h is refuted at (1, 2) (strictness)", _planted_refuted("flat h = min(p, 1/2)")
        ),
    ),
)
