"""Nash-MD-shifted: Nash-MD's fixed point is shifted from the regularized Nash equilibrium.

Nash-MD (:mod:`theory.online.nash_md`) plays against the geometric mixture
``pi^alpha ∝ pi_ref^alpha pi^(1 - alpha)``; its fixed point solves
``pi = softmax(log pi_ref + P pi^alpha / beta)``, while NLHF's regularized Nash equilibrium
solves ``pi* = softmax(log pi_ref + P pi* / beta)``.  For ``alpha > 0`` and ``K >= 3`` the two
differ (generically); the shift is first order in ``alpha``, so it tends to 0 as
``alpha -> 0``; at ``alpha = 1`` the fixed point is the fixed-anchor WRO optimum
``pi_ref exp(P pi_ref / beta)``.  At ``K = 2`` all of them coincide: ``(P m)_0 - (P m)_1 =
P_01 - 1/2`` for every model ``m``, so the opponent does not matter.

Each instance draws ``K`` in 3..8, ``beta`` in :data:`BETAS` (:func:`cells`), a general ``P``
with entries in ``(0, 1)`` and ``pi_ref`` of full support, and solves the fixed point for every
``alpha`` of :data:`ALPHAS`.  Checked: (1) every fixed point's residual is ``<= 1e-12``, and its
equation, recomputed here (geometric mixture and softmax written in the check), holds to
:data:`TOL`; (2) each fixed point violates the regularized Nash equation (recomputed here) by
more than :data:`SHIFTED` (100 times the solvers' residual), for every ``alpha``
(the equilibrium is unique, so it is not the equilibrium); (3) the total-variation distance to
the equilibrium (:func:`theory.methods.nlhf.regularized_nash`) falls linearly: its ratio between
``alpha = 1e-3`` and ``1e-2`` lies in :data:`RATIO_RANGE` (first order: 0.1), and it is below
:data:`LIMIT_TOL` at the smallest ``alpha``; (4) at ``alpha = 1`` the fixed point equals the
WRO closed form written here.  Instances where even the ``alpha = 1`` fixed point is within
:data:`DEGENERATE` (total variation) of the equilibrium are counted as degenerate and skipped
(e.g. ``P pi_ref`` constant, where every point coincides with ``pi_ref``).

Positive control: the regularized Nash equilibrium itself, fed to detector (2) in place of a
Nash-MD fixed point, must be flagged as not shifted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import softmax

from theory.methods.nlhf import regularized_nash
from theory.online.nash_md import nash_md_fixed_point

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Gallery,
    Max,
    Min,
    Samples,
    Tally,
    cells,
    chunked,
    maximum,
    minimum,
    samples,
)

ID = "Nash-MD-shifted"
STATEMENT = (
    "Nash-MD's fixed point pi = softmax(log pi_ref + P pi^alpha / beta) differs from the "
    "regularized Nash equilibrium for every alpha > 0 (K >= 3) and tends to it (linearly) as "
    "alpha -> 0"
)
MAX_K = 8
BETAS = (0.1, 0.5, 2.0)
ALPHAS = (1.0, 0.3, 0.1, 1e-2, 1e-3)
TOL = 1e-10
RESIDUAL_TOL = 1e-12
#: A fixed point "is shifted" when it violates the equilibrium equation by more than this.
SHIFTED = 1e-10
RATIO_RANGE = (0.05, 0.2)
LIMIT_TOL = 1e-2
DEGENERATE = 1e-6
CHUNK = 100


@dataclass
class Stats(Tally):
    degenerate: int = 0
    max_residual: Max = maximum()
    max_equation_error: Max = maximum()
    min_shift_ratio: Min = minimum()
    max_shift_ratio: Max = maximum()
    max_limit_tv: Max = maximum()
    max_alpha1_error: Max = maximum()
    curves: Samples = samples(30)


def nash_md_equation(P, ref, beta, alpha, pi) -> float:
    """``max |pi - softmax(log pi_ref + P m / beta)|``, ``m ∝ pi_ref^alpha pi^(1-alpha)``,
    written here."""
    m = softmax(alpha * np.log(ref) + (1 - alpha) * np.log(pi))
    return float(np.max(np.abs(pi - softmax(np.log(ref) + P @ m / beta))))


def nash_equation(P, ref, beta, pi) -> float:
    """``max |pi - softmax(log pi_ref + P pi / beta)|``, written here."""
    return float(np.max(np.abs(pi - softmax(np.log(ref) + P @ pi / beta))))


def _tv(p: np.ndarray, q: np.ndarray) -> float:
    return 0.5 * float(np.sum(np.abs(p - q)))


def shifted(P, ref, beta, pi) -> bool:
    """Detector (2): ``pi`` violates the equilibrium equation by more than :data:`SHIFTED`."""
    return nash_equation(P, ref, beta, pi) > SHIFTED


def _check_one(stats: Stats, n: int, K: int, beta: float, P, ref) -> None:
    star = regularized_nash(P, beta, ref).pi
    fps = {a: nash_md_fixed_point(P, ref, beta, a) for a in ALPHAS}
    if _tv(fps[1.0].pi, star) < DEGENERATE:
        stats.degenerate += 1
        return
    problems, tv = [], {}
    for a, fp in fps.items():
        eq = nash_md_equation(P, ref, beta, a, fp.pi)
        stats.max_residual.add(float(fp.residual))
        stats.max_equation_error.add(eq)
        if fp.residual > RESIDUAL_TOL or eq > TOL:
            problems.append(f"alpha={a}: residual")
        if not shifted(P, ref, beta, fp.pi):
            problems.append(f"alpha={a}: not shifted")
        tv[a] = _tv(fp.pi, star)
        if a == 1.0:
            wro = softmax(np.log(ref) + P @ ref / beta)
            stats.max_alpha1_error.add(float(np.max(np.abs(fp.pi - wro))))
            if np.max(np.abs(fp.pi - wro)) > TOL:
                problems.append("alpha=1 is not the WRO optimum")
    stats.curves.add([tv[a] for a in ALPHAS])
    ratio = tv[1e-3] / tv[1e-2]
    stats.min_shift_ratio.add(ratio)
    stats.max_shift_ratio.add(ratio)
    stats.max_limit_tv.add(tv[1e-3])
    if not RATIO_RANGE[0] <= ratio <= RATIO_RANGE[1] or tv[1e-3] > LIMIT_TOL:
        problems.append(f"not linear in alpha (ratio {ratio:.3g})")
    if problems:
        case = {"K": K, "beta": beta, "P": P.tolist(), "pi_ref": ref.tolist()}
        stats.witness.offer((K, n), {**case, "problems": problems})


def chunk(ctx: CheckContext) -> Stats:
    rng, stats = ctx.rng, Stats()
    done = 0
    for cell in cells(rng, ctx.instances, K=range(3, MAX_K + 1), beta=BETAS):
        for i in cell.index:
            u = rng.uniform(0.02, 0.98, size=(cell.K, cell.K))
            P = np.triu(u, 1) + np.tril(1.0 - u.T, -1) + 0.5 * np.eye(cell.K)
            ref = rng.dirichlet(np.ones(cell.K))
            _check_one(stats, ctx.start + int(i), cell.K, cell.beta, P, ref)
            done += 1
            ctx.progress(done)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    if stats.witness:
        problems = (stats.witness.value or {}).get("problems")
        observed = f"Nash-MD fixed point not shifted as claimed: {problems}"
    else:
        observed = (
            f"shifted from the regularized Nash equilibrium at every alpha in {ALPHAS} on "
            f"{ctx.instances - stats.degenerate} instances; TV ratio alpha 1e-3 / 1e-2 in "
            f"[{float(stats.min_shift_ratio):.3f}, {float(stats.max_shift_ratio):.3f}], "
            f"max TV at alpha 1e-3 {float(stats.max_limit_tv):.1e}"
        )
    return stats.result(ctx.instances, observed)


def _control_equilibrium(rng: np.random.Generator) -> bool:
    """The equilibrium itself is flagged by detector (2) as not shifted."""
    K = 4
    u = rng.uniform(0.02, 0.98, size=(K, K))
    P = np.triu(u, 1) + np.tril(1.0 - u.T, -1) + 0.5 * np.eye(K)
    ref = rng.dirichlet(np.ones(K))
    star = regularized_nash(P, 0.5, ref).pi
    return not shifted(P, ref, 0.5, star)


#: The figure's worked instance (the method zoo's online-DPO example).
FIG_P = np.array([[0.5, 0.8, 0.3], [0.2, 0.5, 0.7], [0.7, 0.3, 0.5]])
FIG_REF = np.array([0.5, 0.3, 0.2])
FIG_BETA = 0.5


def figure(result: CheckResult, gallery: Gallery) -> None:
    curves = np.array(result.details.get("curves", []), dtype=float).reshape(-1, len(ALPHAS))
    alphas = np.logspace(-3, 0, 25)
    fps = np.array([nash_md_fixed_point(FIG_P, FIG_REF, FIG_BETA, a).pi for a in alphas])
    star = regularized_nash(FIG_P, FIG_BETA, FIG_REF).pi
    wro = softmax(np.log(FIG_REF) + FIG_P @ FIG_REF / FIG_BETA)
    note = (
        f"Left: the first {len(curves)} random instances of the check (K = 3..8, beta in "
        f"{BETAS}).  Right: P = {FIG_P.tolist()}, pi_ref = {FIG_REF.tolist()}, beta = {FIG_BETA}."
    )
    with gallery.new("nash_md_shifted", ncols=2, instance=note) as (_fig, (ax, bx)):
        for k, c in enumerate(curves):
            ax.loglog(ALPHAS, c, "o-", alpha=0.5, label="one random instance" if k == 0 else None)
        ax.loglog(
            [1e-3, 1.0], [1e-4, 1e-1], "k--", lw=1.5, label=r"slope 1: shift $\propto \alpha$"
        )
        ax.set_xlabel(r"mixture parameter $\alpha$")
        ax.set_ylabel(r"TV(Nash-MD fixed point, regularized Nash)")
        ax.set_title(r"the shift vanishes linearly as $\alpha \to 0$")
        ax.legend(loc="lower right")
        for y in range(3):
            (line,) = bx.semilogx(alphas, fps[:, y], lw=2.5, label=rf"$\pi(y={y})$")
            bx.axhline(star[y], color=line.get_color(), ls=":", lw=1.5)
            bx.plot([1.0], [wro[y]], "s", color=line.get_color(), ms=10)
        bx.plot([], [], "k:", label="regularized Nash (dotted)")
        bx.plot([], [], "ks", label=r"fixed-anchor WRO optimum ($\alpha = 1$)")
        bx.set_xlabel(r"mixture parameter $\alpha$")
        bx.set_ylabel("probability")
        bx.set_title("Nash-MD's fixed point moves from WRO to NLHF")
        bx.legend(loc="center left")


CLAIM = Claim(
    ID,
    STATEMENT,
    "holds",
    chunked(chunk, finish, size=CHUNK),
    figure,
    default_instances=200,
    quick_instances=20,
    controls=(Control("the equilibrium itself is not shifted", _control_equilibrium),),
)
