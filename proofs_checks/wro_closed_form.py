"""WRO-closed-form: the closed-form WRO optima equal an independent numerical maximiser; beta -> 0.

For a fixed anchor ``q`` the objective ``J(pi) = WR_h(pi; q) - beta KL(pi || pi_ref)`` has the
optimum ``pi* ∝ pi_ref exp(h(P) q / beta)`` with ``J(pi*) = beta log Z`` (beta > 0) and the argmax
set of the scores ``h(P) q`` (beta = 0).  Each float instance draws ``K`` in 2..8, ``h`` in
identity / logit / log, ``P`` from a family (for logit and log only families with entries inside
(0, 1), so the generic maximiser sees finite numbers), an anchor ``q`` (some zeros), a full-support
``pi_ref`` and ``beta`` from :data:`BETAS`; instances are solved in batches by
:func:`theory.wro.wro_optimum` and, independently, by a constrained Newton maximiser of the
objective's definition (proofs_checks/common/wro_instances.py) that knows nothing of the closed
form.

Violations: the maximiser finds a better value than the closed form (by > :data:`TOL`), or it
converged and disagrees (value by > :data:`TOL`, model by > :data:`PI_TOL`), or the closed form's
own certificate exceeds :data:`TOL`.  beta -> 0: on the same instances the closed-form value must
satisfy ``v0 + beta log pi_ref(A) <= v(beta) <= v0`` with ``A`` the argmax set and ``v0`` the
beta = 0 value (both sides follow from ``Z`` between ``pi_ref(A) e^{v0/beta}`` and ``e^{v0/beta}``),
and the mass on ``A`` must tend to 1.  Every 20th instance is exact (Fractions, identity,
beta = 0): the argmax set and value are compared with ``==`` to an enumeration of point masses
through :func:`theory.winrate.h_win_rate`.

Infinite scores: after these, one more instance per :data:`INFINITE_EVERY` draws a deterministic
family (total order or random tournament) with ``h`` = logit or log, so ``h(P)`` has infinite
entries and the library's infinite-score branch runs.  The limit optimum (docs/wro.md: responses
ranked by the infinite-mass balance ``n`` then the finite part ``f``) is recomputed here from
``h(P)`` alone: the model on the top-``n`` responses, its value ``+-inf`` or ``beta log Z``, the
argmax set at ``beta = 0``; models must agree to :data:`PI_TOL`, values exactly in their infinite
part."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from theory.simplex import point_mass, random_distribution
from theory.winrate import h_win_rate, win_rate
from theory.wro import wro_optimum, wro_scores

from .common.wro_instances import (
    ALL_FAMILIES,
    H_NAMES,
    INTERIOR_FAMILIES,
    MAX_K,
    TOL,
    argmax_sets,
    exact_matrix,
    float_then_exact,
    h_values,
    limit_optimum_by_definition,
    model_batch,
    multiples_in,
    numerical_maximum,
    preference_batch,
)
from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Gallery,
    Max,
    Min,
    Tally,
    cells,
    chunked,
    maximum,
    minimum,
)

#: Agreement of the optimal models (max-norm).
PI_TOL = 1e-6
#: The regularisation strengths drawn for the comparison with the numerical maximiser.
BETAS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
#: One extra instance with deterministic P and unbounded h per this many instances.
INFINITE_EVERY = 20
#: The strengths of the beta -> 0 limit.
LIMIT_BETAS = (1e-1, 1e-2, 1e-3, 1e-4)


@dataclass
class Stats(Tally):
    float: int = 0
    exact: int = 0
    max_value_diff: Max = maximum()
    max_pi_diff: Max = maximum()
    max_certificate: Max = maximum()
    not_converged: int = 0
    infinite: int = 0
    infinite_values: int = 0
    min_mass_on_argmax: Min = minimum()
    max_limit_gap: Max = maximum()


def _float_batch(rng: np.random.Generator, N: int, K: int, h: str) -> dict[str, Any]:
    """``N`` float instances of one ``K`` and ``h`` (families with entries inside (0, 1) unless
    ``h`` is the identity)."""
    fams = ALL_FAMILIES if h == "identity" else INTERIOR_FAMILIES
    fam_idx = rng.integers(0, len(fams), size=N)
    P = np.empty((N, K, K))
    for f, fam in enumerate(fams):
        sel = fam_idx == f
        P[sel] = preference_batch(rng, int(sel.sum()), K, fam)
    q = model_batch(rng, N, K, zeros=True)
    ref = model_batch(rng, N, K)
    beta = np.array(BETAS)[rng.integers(0, len(BETAS), size=N)]
    return {"P": P, "q": q, "ref": ref, "beta": beta}


def _float_part(ctx: CheckContext, n_float: int, stats: Stats) -> None:
    done = 0
    for cell in cells(ctx.rng, n_float, K=range(2, MAX_K + 1), h=H_NAMES):
        K, h = cell.K, cell.h
        inst = _float_batch(ctx.rng, cell.n, K, h)
        P, q, ref, beta = inst["P"], inst["q"], inst["ref"], inst["beta"]
        pi_num, J_num, conv = numerical_maximum(h_values(h, P), q, beta, ref)
        for b in BETAS:
            sel = np.flatnonzero(beta == b)
            if len(sel):
                _compare(stats, inst, sel, b, h, pi_num, J_num, conv)
        _limit(P, q, ref, h, stats)
        done += cell.n
        stats.float += cell.n
        ctx.progress(done)


def _compare(
    stats: Stats,
    inst: dict[str, Any],
    sel: np.ndarray,
    b: float,
    h: str,
    pi_num: np.ndarray,
    J_num: np.ndarray,
    conv: np.ndarray,
) -> None:
    """The closed form of the instances ``sel`` (one ``beta``) against the numerical maximiser."""
    P, q, ref = inst["P"], inst["q"], inst["ref"]
    sol = wro_optimum(P[sel], q[sel], b, ref[sel], h)
    J_cf = sol.values
    better = J_num[sel] - J_cf
    diff = np.abs(better)
    dpi = np.abs(pi_num[sel] - sol.pi).max(axis=1)
    stats.max_value_diff.add(float(diff.max()))
    stats.max_pi_diff.add(float(dpi.max()))
    stats.max_certificate.add(float(sol.certificate))
    stats.not_converged += int(np.sum(~conv[sel]))
    bad = _disagrees(better, dpi, conv[sel], float(sol.certificate))
    for m in np.flatnonzero(bad):
        n = sel[m]
        stats.witness.offer(
            (P.shape[1], b),
            {
                "what": "closed form vs numerical maximiser",
                "h": h,
                "beta": b,
                "P": P[n],
                "q": q[n],
                "pi_ref": ref[n],
                "closed_form_pi": sol.pi[m],
                "numerical_pi": pi_num[n],
                "closed_form_J": float(J_cf[m]),
                "numerical_J": float(J_num[n]),
            },
        )


def _disagrees(better: np.ndarray, dpi: np.ndarray, conv: np.ndarray, cert: float) -> np.ndarray:
    """The violation rule: the maximiser beats the closed form by more than :data:`TOL`, or it
    converged and disagrees (value by > :data:`TOL`, model by > :data:`PI_TOL`), or the closed
    form's certificate exceeds :data:`TOL` (then every instance of the batch is flagged)."""
    bad = (better > TOL) | (conv & ((np.abs(better) > TOL) | (dpi > PI_TOL)))
    return bad | (cert > TOL)


def _limit(P, q, ref, h, stats: Stats) -> None:
    """beta -> 0: the closed-form value is squeezed onto the argmax value."""
    zero = wro_optimum(P, q, 0, None, h)
    v0 = np.asarray(zero.values, dtype=float)
    A = np.zeros(P.shape[:2], dtype=bool)
    for x, s in enumerate(argmax_sets(zero.argmax)):
        A[x, list(s)] = True
    refA = np.where(A, ref, 0.0).sum(axis=1)
    for b in LIMIT_BETAS:
        sol = wro_optimum(P, q, b, ref, h)
        v = sol.values
        lo = v0 + b * np.log(refA)
        bad = (v > v0 + TOL) | (v < lo - TOL)
        mass = np.where(A, sol.pi, 0.0).sum(axis=1)
        if b == LIMIT_BETAS[-1]:
            stats.min_mass_on_argmax.add(float(mass.min()))
            stats.max_limit_gap.add(float(np.max(v0 - v)))
        for n in np.flatnonzero(bad):
            stats.witness.offer(
                (P.shape[1], 1.0),
                {
                    "what": "beta -> 0 bound",
                    "h": h,
                    "beta": b,
                    "P": P[n],
                    "q": q[n],
                    "pi_ref": ref[n],
                    "value": float(v[n]),
                    "argmax_value": float(v0[n]),
                },
            )


def _exact_part(ctx: CheckContext, n_exact: int, stats: Stats) -> None:
    rng = ctx.rng
    for _ in range(n_exact):
        P = exact_matrix(rng)
        K = P.shape[0]
        q = random_distribution(rng, K, zeros=True, exact=True)
        sol = wro_optimum(P, q)
        # independent: the h-win rate of every point mass, exactly
        wr = [h_win_rate(P, point_mass(K, y), q, "identity") for y in range(K)]
        best = max(wr)
        argmax = tuple(y for y in range(K) if wr[y] == best)
        got = sol.argmax[0] if sol.argmax is not None else None  # None: a disagreement
        ok = (
            got == argmax
            and sol.value == best
            and win_rate(P, sol.pi, q) == best
            and sol.certificate == 0
        )
        stats.exact += 1
        if not ok:
            stats.witness.offer(
                (K, 0.0),
                {
                    "what": "exact argmax set",
                    "P": P,
                    "q": q,
                    "argmax": got,
                    "enumerated": argmax,
                    "value": sol.value,
                    "best": best,
                },
            )


def _infinite_part(rng: np.random.Generator, n: int, stats: Stats) -> None:
    """Deterministic ``P`` with unbounded ``h``: the library's infinite-score branch against
    :func:`~proofs_checks.common.wro_instances.limit_optimum_by_definition`."""
    for _ in range(n):
        K = int(rng.integers(2, MAX_K + 1))
        fam = ("total_order", "cyclic")[int(rng.integers(2))]
        h = ("logit", "log")[int(rng.integers(2))]
        P = preference_batch(rng, 1, K, fam)[0]
        q = model_batch(rng, 1, K, zeros=True)[0]
        ref = model_batch(rng, 1, K)[0]
        beta = float(((0.0,) + BETAS)[int(rng.integers(len(BETAS) + 1))])
        pi, value, arg = limit_optimum_by_definition(h_values(h, P), q, ref, beta)
        sol = wro_optimum(P, q, beta, ref if beta > 0 else None, h)
        got = float(sol.value)
        same_value = (got == value) if np.isinf(value) or np.isinf(got) else abs(got - value) <= TOL
        ok = same_value and (
            (arg is not None and sol.argmax is not None and tuple(sol.argmax[0]) == arg)
            if beta == 0
            else float(np.abs(np.asarray(sol.pi, dtype=float).reshape(-1) - pi).max()) <= PI_TOL
        )
        stats.infinite += 1
        stats.infinite_values += bool(np.isinf(value))
        if not ok:
            stats.witness.offer(
                (K, beta),
                {
                    "what": "infinite scores: limit optimum",
                    "h": h,
                    "beta": beta,
                    "P": P,
                    "q": q,
                    "pi_ref": ref,
                    "library_pi": sol.pi,
                    "by_definition_pi": pi,
                    "library_value": got,
                    "by_definition_value": value,
                },
            )


def _curves() -> dict:
    """Win rate of the KL-regularised optimum against beta, for the figure (a fixed non-BT P)."""
    rng = np.random.default_rng(2025)
    K = 6
    P = preference_batch(rng, 1, K, "general")[0]
    mu = model_batch(rng, 1, K)[0]
    anchors = {"data mu": mu, "uniform": np.full(K, 1.0 / K)}
    betas = np.logspace(-3, 1, 40)
    out: dict[str, Any] = {"betas": betas.tolist(), "series": []}
    for aname, q in anchors.items():
        for h in H_NAMES:
            wr = [win_rate(P, wro_optimum(P, q, b, mu, h).pi, q) for b in betas]
            out["series"].append({"anchor": aname, "h": h, "win_rate": [float(w) for w in wr]})
        out.setdefault("best", {})[aname] = float(np.max(wro_scores(P, q)))
        out.setdefault("ref", {})[aname] = float(win_rate(P, mu, q))
    out["P"], out["pi_ref"] = P.tolist(), mu.tolist()
    return out


def chunk(ctx: CheckContext) -> Stats:
    """The chunk's float and exact instances (exact: global index a multiple of
    :data:`~proofs_checks.common.wro_instances.EXACT_EVERY`), then its share of the infinite-score
    instances (one per global index that is a multiple of :data:`INFINITE_EVERY`)."""
    stats = Stats()
    float_then_exact(ctx, stats, _float_part, _exact_part)
    _infinite_part(ctx.rng, multiples_in(ctx.start, ctx.instances, INFINITE_EVERY), stats)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    worst = stats.witness
    observed = (
        f"{worst.count} disagreements; smallest: {worst.value['what']}"
        if worst.value is not None
        else f"closed form = numerical maximiser on {stats.float} float instances (max value "
        f"diff {float(stats.max_value_diff):.1e}, max pi diff {float(stats.max_pi_diff):.1e}, "
        f"{stats.not_converged} maximiser runs unconverged and never better); beta -> 0 bounds "
        f"held (mass on argmax >= {float(stats.min_mass_on_argmax):.6f} at beta = "
        f"{LIMIT_BETAS[-1]:g}); exact argmax sets = enumeration on {stats.exact} instances; "
        f"infinite scores (deterministic P, h = logit/log): limit optimum = its definition on "
        f"{stats.infinite} more instances ({stats.infinite_values} with value +-inf)"
    )
    return stats.result(stats.float + stats.exact, observed, curves=_curves())


def figure(result: CheckResult, gallery: Gallery) -> None:
    from .scaffold.figures import caption

    curves = result.details["curves"]
    betas = np.array(curves["betas"])
    anchors = sorted({s["anchor"] for s in curves["series"]})
    shown = {"P": np.round(curves["P"], 2), "pi_ref": np.round(curves["pi_ref"], 3)}
    prefix = r"Instance (random non-BT $P$, $K = 6$, rounded; $\mu = \pi_{\mathrm{ref}}$): "
    note = caption(shown, prefix=prefix)
    with gallery.new("wro_closed_form_beta", ncols=len(anchors), sharey=True, instance=note) as (
        fig,
        axes,
    ):
        axes = np.atleast_1d(axes)
        for ax, aname in zip(axes, anchors, strict=True):
            for s in (s for s in curves["series"] if s["anchor"] == aname):
                ax.semilogx(betas, s["win_rate"], label=rf"$\pi^*_\beta$, $h$ = {s['h']}")
            best = curves["best"][aname]
            ax.axhline(best, color="k", ls="--", lw=1.5, label=r"$\max_y W_q(y)$ ($\beta \to 0$)")
            if "ref" in curves:
                ax.axhline(
                    curves["ref"][aname],
                    color="tab:purple",
                    ls="-.",
                    lw=1.5,
                    label=r"$\pi_{\mathrm{ref}}$ ($\beta \to \infty$)",
                )
            ax.axhline(0.5, color="grey", ls=":", lw=1.5, label=r"$1/2 = \mathrm{WR}(q; q)$")
            ax.set_xlabel(r"$\beta$ (KL weight)")
            ax.set_ylabel(r"$\mathrm{WR}(\pi; q)$")
            ax.set_title("anchor $q$ = " + ("data $\\mu$" if aname == "data mu" else aname))
        axes[0].legend(loc="lower left")
        fig.suptitle(
            r"WRO-closed-form: win rate of the WRO optimum $\pi^*_\beta \propto \pi_{\mathrm{ref}}"
            r"\, e^{h(P) q / \beta}$ against its anchor $q$, as $\beta$ varies"
        )


def _closed_form_at_twice_beta_is_caught(rng: np.random.Generator) -> bool:
    """Positive control: the closed form solved at ``2 beta`` (a planted solver bug) against the
    numerical maximiser at ``beta``, judged by the check's rule."""
    inst = _float_batch(rng, 30, 4, "identity")
    P, q, ref = inst["P"], inst["q"], inst["ref"]
    beta = np.full(30, 0.5)
    pi_num, J_num, conv = numerical_maximum(h_values("identity", P), q, beta, ref)
    wrong = wro_optimum(P, q, 1.0, ref)
    dpi = np.abs(pi_num - wrong.pi).max(axis=1)
    return bool(_disagrees(J_num - wrong.values, dpi, conv, float(wrong.certificate)).any())


CLAIM = Claim(
    "WRO-closed-form",
    "closed-form WRO optima equal numerical maximizers; the beta -> 0 limit is the argmax set",
    "holds",
    chunked(chunk, finish, size=2000),
    figure,
    default_instances=10_000,
    controls=(
        Control("a closed form at twice beta is caught", _closed_form_at_twice_beta_is_caught),
    ),
)
