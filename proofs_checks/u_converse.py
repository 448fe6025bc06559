"""U-converse: an evaluation satisfying both axioms is an h-win rate, constructively.

For each black-box evaluation ``V`` in a panel (the registry's h-win rates ``identity``,
``logit``, ``log``; :data:`N_RANDOM_H` random strictly increasing h from
:func:`theory.hfuncs.random_increasing_h`; and two h-win rates *in disguise*, computed by
other formulas: ``sum rho pi^T P a`` written through ``W_a = P a``, and the margin
``sum rho pi^T (P - P^T) a``, which is ``WR_h`` for ``h(p) = 2p - 1``):

1. **premise**: the eight elementary properties are searched for a violation
   (:func:`theory.axioms.check_axioms`, :data:`PREMISE_TRIALS` instances each; exact when the
   evaluation is rational);
2. **recovery**: ``h`` is read off pair probes, ``g(p) = V(one prompt, K = 2, P[0, 1] = p, model
   delta_0, data delta_1)`` (:func:`theory.axioms.recover_h`) on a 99-point interior grid and at
   0 and 1, and compared with the h the evaluation was built from (relative error at most
   :data:`RECOVERY_TOL`; the endpoint values, possibly signed infinities, must be equal);
3. **confirmation**: on ``ctx.instances`` fresh random instances (M in 1..3, K in 2..5, exact
   where possible, spread over the panel) ``V(D, pi)`` must equal the reconstruction
   ``sum rho pi_x(y) a_x(y') g(P_x[y, y'])`` (:func:`theory.axioms.reconstruct_h_win_rate`),
   exactly for exact instances, to :data:`theory.axioms.TOL` otherwise.

Every black box of the panel is an h-win rate by construction, so it must pass all three steps:
a black box that fails any of them (the premise included: a premise that rejects a known h-win
rate is not excused) is a violation.  As a check on the check, the confirmation is also run on
every catalog evaluation (which fail the premise); their largest disagreement is reported.

Positive controls (they feed the verdict: a missed one makes it ``invalid``): the premise must
reject a transposed ``P`` and a flat ``h = min(p, 1/2)`` (caught only when strict monotonicity is
tested as strict); the recovery must reject a mislabelled ``h`` (the logit win rate presented as
the identity's); the confirmation must separate a dropped prompt weight (exactly) and the Borda
score; and every catalog evaluation must be rejected by the premise or by the confirmation.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from theory.axioms import TOL, check_axioms, reconstruct_h_win_rate, recover_h
from theory.catalog import CATALOG
from theory.data import PreferenceData, data_anchor, random_preference_data
from theory.errors import UndefinedEvaluationError, UndefinedWinRateError
from theory.evaluations import Evaluation, h_win_rate_evaluation
from theory.hfuncs import H_REGISTRY, RANDOM_H_KINDS, HFunction, apply_h, random_increasing_h
from theory.simplex import random_model

from .common.text import format_exact
from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Collected,
    Control,
    Gallery,
    Max,
    Samples,
    Tally,
    chunked,
    collected,
    maximum,
    samples,
)
from .u_forward import PLANTED

#: Largest relative disagreement allowed between the recovered and the true h on the grid.
RECOVERY_TOL = 1e-9
#: Random strictly increasing h in the panel.
N_RANDOM_H = 6
#: Instances per elementary property in the premise check.
PREMISE_TRIALS = 24
#: Fresh instances per catalog evaluation in the catalog confirmation.
CONTROL_INSTANCES = 20


def _via_response_win_rates(data: PreferenceData, pi: np.ndarray) -> Any:
    """``sum_x rho_x sum_y pi_x(y) W_a(x, y)`` with ``W_a = P a``: the win rate, other formula."""
    a = data_anchor(data)
    total = sum((data.rho[x] * (pi[x] @ (data.P[x] @ a[x])) for x in range(data.M)), Fraction(0))
    return total if data.exact else float(total)


def _margin(data: PreferenceData, pi: np.ndarray) -> Any:
    """``sum_x rho_x pi_x^T (P_x - P_x^T) a_x``: the expected preference margin."""
    a = data_anchor(data)
    total = sum(
        (data.rho[x] * (pi[x] @ (data.P[x] - data.P[x].T) @ a[x]) for x in range(data.M)),
        Fraction(0),
    )
    return total if data.exact else float(total)


def _two_p_minus_one(p: Any) -> Any:
    return 2 * p - 1


def panel(rng: np.random.Generator) -> list[tuple[Evaluation, HFunction, bool]]:
    """``(evaluation, the h it is built from, rational)`` for every black box in the panel."""
    out = []
    for name in ("identity", "logit", "log"):
        h = H_REGISTRY[name]
        out.append((h_win_rate_evaluation(h), h, h.rational))
    kinds = tuple(RANDOM_H_KINDS)
    for k in range(N_RANDOM_H):
        h = random_increasing_h(rng, kinds[k % 3])
        out.append((h_win_rate_evaluation(h, name=f"WR_h random {k} ({h.name})"), h, h.rational))
    identity = H_REGISTRY["identity"]
    disguised = Evaluation("W_a formula", "sum rho pi . (P a)", _via_response_win_rates)
    out.append((disguised, identity, True))
    margin = Evaluation("preference margin", "sum rho pi^T (P - P^T) a", _margin)
    out.append((margin, HFunction("2p - 1", _two_p_minus_one, rational=True), True))
    return out


def _fresh(rng: np.random.Generator, exact: bool, interior: bool) -> tuple[PreferenceData, Any]:
    M, K = int(rng.integers(1, 4)), int(rng.integers(2, 6))
    family = "general" if interior else None
    data = random_preference_data(
        rng, M, K, family=family, exact=exact, symmetric=bool(rng.integers(2)), zeros=True
    )
    return data, random_model(rng, M, K, zeros=True, exact=exact)


def _disagreement(v: Any, r: Any) -> float:
    vf, rf = float(v), float(r)
    if math.isinf(vf) or math.isinf(rf):
        return 0.0 if vf == rf else math.inf
    if isinstance(v, Fraction) and isinstance(r, Fraction):
        return float(abs(v - r))
    return abs(vf - rf) / (1 + max(abs(vf), abs(rf)))


@dataclass(frozen=True)
class Confirmation:
    """The confirmation on fresh instances: how many were ``tested`` and ``skipped`` (undefined),
    the largest disagreement ``gap`` between ``V`` and its reconstruction, and where (``worst``)."""

    tested: int
    skipped: int
    gap: float
    worst: dict[str, Any] | None


def _confirm(evaluation: Evaluation, rng: np.random.Generator, n: int, exact: bool) -> Confirmation:
    """``V`` against its reconstruction from pair probes on ``n`` fresh instances."""
    tested = skipped = 0
    worst, worst_case = 0.0, None
    for _ in range(n):
        data, pi = _fresh(rng, exact, interior=not exact)
        try:
            v = evaluation(data, pi)
            r = reconstruct_h_win_rate(evaluation, data, pi)
        except (UndefinedEvaluationError, UndefinedWinRateError):
            skipped += 1
            continue
        tested += 1
        gap = _disagreement(v, r)
        if gap > worst:
            worst = gap
            worst_case = {"P": data.P, "mu0": data.mu0, "mu1": data.mu1, "rho": data.rho}
            worst_case.update(pi=pi, V=v, reconstruction=r)
    return Confirmation(tested, skipped, worst, worst_case)


@dataclass
class Stats(Tally):
    #: one row per black box of the panel (premise, recovery, confirmation)
    panel: Samples = samples(64)
    #: one row per catalog evaluation: the confirmation's verdict on a non-win-rate
    controls: Samples = samples(64)
    confirmed: int = 0
    max_recovery_error: Max = maximum()
    #: for finish: (panel index, row) of each black box tested
    rows: Collected = collected()


def _recovered(rec: Any) -> bool:
    """The recovery step passed: the grid agrees within :data:`RECOVERY_TOL` and the endpoint
    values (signed infinities included) are equal (``max_error`` is set because a reference h
    was given; None counts as a failure)."""
    return rec.max_error is not None and rec.max_error <= RECOVERY_TOL and bool(rec.endpoints_ok)


def _confirmed(conf: Confirmation, rational: bool) -> bool:
    """The confirmation step passed: ``==`` on exact instances, within :data:`TOL` on floats."""
    return conf.gap == 0.0 if rational else conf.gap <= TOL


def _test_black_box(
    j: int,
    entry: tuple[Evaluation, HFunction, bool],
    rng: np.random.Generator,
    per: int,
    stats: Stats,
) -> None:
    """Premise, recovery and confirmation for black box ``j``; a failure of any step (every
    panel member is an h-win rate, so none is excused) is offered as a witness (in panel order)."""
    evaluation, h, rational = entry
    premise = check_axioms(evaluation, rng, trials=PREMISE_TRIALS, exact=rational)
    broken = [name for name, w in premise.items() if w is not None]
    rec = recover_h(evaluation, reference=h)
    conf = _confirm(evaluation, rng, per, exact=rational)
    row = {
        "evaluation": evaluation.name,
        "h": h.name,
        "premise_violations": broken,
        "recovery_max_error": rec.max_error,
        "h(0)": rec.h0,
        "h(1)": rec.h1,
        "endpoints_ok": rec.endpoints_ok,
        "confirmed": conf.tested,
        "skipped": conf.skipped,
        "max_disagreement": conf.gap,
        "grid": rec.grid.tolist(),
        "recovered": rec.values.tolist(),
        "true_h": apply_h(h, rec.grid).tolist(),
    }
    stats.rows.add((j, row))
    stats.confirmed += conf.tested
    stats.max_recovery_error.add(rec.max_error)
    if broken or not (_recovered(rec) and _confirmed(conf, rational)):
        stats.witness.offer((j + 1,), {**row, "worst_instance": conf.worst})


#: Instances per chunk; the panel's black boxes are dealt out over the chunks (small, so that
#: even a smoke-sized run spreads the 11 black boxes over 11 chunks).
CHUNK = 9


def _panel_of(seed: int) -> list[tuple[Evaluation, HFunction, bool]]:
    """The panel, the same in every chunk: drawn from a generator of the seed and claim alone."""
    return panel(np.random.default_rng([seed, zlib.crc32(b"U-converse panel")]))


def chunk(ctx: CheckContext) -> Stats:
    """The black boxes dealt to this chunk (box ``j`` to chunk ``j mod chunks``), each confirmed
    on ``size // len(panel)`` fresh instances from the chunk's generator."""
    stats = Stats()
    entries = _panel_of(ctx.seed)
    total = ctx.total or ctx.instances
    per = max(1, total // len(entries))
    chunks, index = max(1, math.ceil(total / CHUNK)), ctx.start // CHUNK
    for j, entry in enumerate(entries):
        if j % chunks == index:
            _test_black_box(j, entry, ctx.rng, per, stats)
    ctx.progress(ctx.instances)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    """The panel in order, and the control: the same confirmation on the catalog evaluations."""
    for _, row in sorted(stats.rows.values, key=lambda jr: jr[0]):
        stats.panel.add(row)
    for name, evaluation in CATALOG.items():
        conf = _confirm(evaluation, ctx.rng, CONTROL_INSTANCES, exact=False)
        stats.controls.add(
            {"evaluation": name, "tested": conf.tested, "max_disagreement": conf.gap}
        )
    separated = sum(c["max_disagreement"] > TOL for c in stats.controls.values)
    defined = sum(c["tested"] > 0 for c in stats.controls.values)
    worst = stats.witness
    observed = (
        f"{worst.count} black box(es) built as h-win rates fail the premise, the recovery of h "
        "or the confirmation"
        if worst
        else f"{len(stats.panel)} axiom-satisfying black boxes: h recovered from pair probes (max "
        f"grid error {float(stats.max_recovery_error):.1e}, endpoints incl. +-inf equal) and "
        f"V = WR_h(recovered) on {stats.confirmed} fresh instances (exact == where rational); "
        f"control: the same confirmation separates {separated} of the {defined} catalog "
        f"evaluations defined on the probes"
    )
    return stats.result(ctx.instances, observed)


def _borda_is_separated(rng: np.random.Generator) -> bool:
    """The confirmation tells the Borda score (not a win rate) from its reconstruction."""
    return _confirm(CATALOG["Borda score"], rng, CONTROL_INSTANCES, exact=False).gap > TOL


def _premise_rejects(name: str) -> Any:
    """A control: the premise (as the check runs it) finds a violation by the planted bug."""
    evaluation = PLANTED[name][0]

    def run(rng: np.random.Generator) -> bool:
        found = check_axioms(evaluation, rng, trials=PREMISE_TRIALS, exact=True)
        return any(w is not None for w in found.values())

    return run


def _recovery_rejects_mislabelled_h(rng: np.random.Generator) -> bool:
    """The recovery step rejects the logit win rate presented as the identity's."""
    return not _recovered(
        recover_h(h_win_rate_evaluation("logit"), reference=H_REGISTRY["identity"])
    )


def _confirmation_rejects_dropped_weight(rng: np.random.Generator) -> bool:
    """The exact confirmation separates a win rate that ignores the prompt weights."""
    conf = _confirm(PLANTED["dropped prompt weight"][0], rng, CONTROL_INSTANCES, exact=True)
    return not _confirmed(conf, rational=True)


def _catalog_rejected(rng: np.random.Generator) -> bool:
    """Every catalog evaluation is rejected: the confirmation separates it, or (where it cannot,
    e.g. the majority win rate, an h-win rate for a step h) the premise finds a violation."""
    for evaluation in CATALOG.values():
        if _confirm(evaluation, rng, CONTROL_INSTANCES, exact=False).gap > TOL:
            continue
        found = check_axioms(evaluation, rng, trials=PREMISE_TRIALS, exact=True)
        if all(w is None for w in found.values()):
            return False
    return True


def _readable_h(name: str) -> str:
    """A random h's registry name (``pl['0', '1/4', '1']``, ``smooth[1.8, 0.4, 1.6]``,
    ``unbounded[...]``) as words for a figure title."""
    kinds = {"pl": "piecewise-linear", "smooth": "smooth", "unbounded": "unbounded"}
    head, _, rest = name.partition("[")
    if head not in kinds:
        return name
    knots = rest.rstrip("]").replace("'", "").replace(",", ", ").replace(",  ", ", ")
    return f"{kinds[head]} $h$\n({'knots ' if head == 'pl' else ''}{knots})"


def _panel_title(row: dict[str, Any]) -> str:
    """The panel's title in the paper's notation (no code names)."""
    ev = str(row["evaluation"])
    if ev.startswith("WR_h random"):
        return "random " + _readable_h(str(row["h"]))
    if ev.startswith("WR_"):
        return rf"$\mathrm{{WR}}_h$, $h$ = {ev[3:]}"
    names = {"W_a formula": "$W_a$ formula", "2p - 1": "$2p - 1$"}
    return f"{names.get(ev, ev)}\n($h$ = {names.get(str(row['h']), row['h'])})"


def _draw_recovery(ax: Any, row: dict[str, Any], legend: bool) -> None:
    g = np.asarray(row["grid"], dtype=float)
    ax.plot(g, np.asarray(row["recovered"], dtype=float), lw=5, alpha=0.45, label="recovered")
    ax.plot(g, np.asarray(row["true_h"], dtype=float), "k--", lw=1.5, label="true $h$")
    if legend:
        ax.legend(loc="lower right", fontsize=14)
    ax.set_title(_panel_title(row), fontsize=15)
    ends = f"$h(0)$ = {format_exact(row['h(0)'], 3)}, $h(1)$ = {format_exact(row['h(1)'], 3)}"
    ax.text(0.03, 0.95, ends, transform=ax.transAxes, fontsize=14, va="top")
    ax.tick_params(labelsize=14)
    ax.set_xlabel("$p$", fontsize=15, labelpad=0)
    ax.set_ylabel("$h(p)$", fontsize=15, labelpad=0)


def figure(result: CheckResult, gallery: Gallery) -> None:
    rows = result.details.get("panel", [])
    cols = 4
    nrows = max(1, math.ceil((len(rows) + 1) / cols))
    worst = max((float(r["recovery_max_error"]) for r in rows), default=0.0)
    note = (
        f"Black boxes: {len(rows)} axiom-satisfying evaluations V (h-win rates built from the "
        "h in each title); probe: V(model = point mass on response 0; data = point mass on "
        "response 1; P[0, 1] = p) on a grid of p in (0, 1); recovered h = the probe's value, "
        f"true h = the h the box was built from (largest gap {worst:.1g})."
    )
    with gallery.new("u_converse_recovered_h", nrows=nrows, ncols=cols, instance=note) as (
        fig,
        axes,
    ):
        for ax in axes.ravel()[len(rows) :]:
            ax.axis("off")
        for k, (ax, row) in enumerate(zip(axes.ravel(), rows, strict=False)):
            _draw_recovery(ax, row, legend=k == 0)
        fig.suptitle(
            "U-converse: the $h$ recovered from pair probes equals the $h$ each evaluation "
            "was built from"
        )


CLAIM = Claim(
    "U-converse",
    "an evaluation satisfying both axioms is an h-win rate: probe it with point masses, "
    "recover h, confirm equality on fresh instances",
    "holds",
    chunked(chunk, finish, size=CHUNK),
    figure,
    default_instances=2000,
    controls=(
        Control("the premise rejects a transposed P", _premise_rejects("transposed P")),
        Control(
            "the premise rejects a flat h (strictness)", _premise_rejects("flat h = min(p, 1/2)")
        ),
        Control("the recovery rejects a mislabelled h", _recovery_rejects_mislabelled_h),
        Control(
            "the confirmation rejects a dropped prompt weight", _confirmation_rejects_dropped_weight
        ),
        Control("the confirmation separates the Borda score", _borda_is_separated),
        Control("every catalog evaluation is rejected", _catalog_rejected),
    ),
)
