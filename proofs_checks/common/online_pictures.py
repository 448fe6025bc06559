"""Pictures of the online, iterative and self-play dynamics on the 3-response simplex.

Used by the figures of the claims ``SPPO-average-is-maximal-lottery`` (``sppo_average``,
``online_trajectories``) and ``in-group-judge-is-NLHF`` (``in_group_judge_is_nlhf``).  Every
trajectory is computed here from :mod:`theory.online` (exact population updates, no sampling).
Each ``*_caption`` function gives the instance a figure shows (``P``, ``pi_ref``, ``beta`` as
fractions) for the gallery's caption; the simplices are declared as such
(:func:`~proofs_checks.scaffold.figures.exempt`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from theory.lottery import maximal_lottery
from theory.methods.nlhf import regularized_nash
from theory.numbers import to_float
from theory.online.dpo import online_dpo_fixed_point, online_dpo_trajectory
from theory.online.nash_md import nash_md_fixed_point, nash_md_trajectory
from theory.online.reinforce import reinforce_fixed_point, reinforce_trajectory
from theory.online.sppo import sppo_run, step_sizes
from theory.plot import simplex_axes, simplex_path, simplex_points
from theory.preferences import bradley_terry_from_strengths, cyclic

from ..scaffold.figures import caption, exempt

__all__ = [
    "INSTANCES",
    "draw_online_trajectories",
    "online_caption",
    "draw_sppo",
    "sppo_caption",
    "draw_in_group",
    "in_group_caption",
]

#: The two instances of the trajectory picture: a cyclic P and a Bradley-Terry P.
PI_REF = (Fraction(3, 5), Fraction(3, 10), Fraction(1, 10))
BETA = Fraction(1, 5)
INSTANCES = (
    ("cyclic", cyclic(3, Fraction(4, 5))),
    ("Bradley-Terry", bradley_terry_from_strengths([1, 2, 4])),
)
#: Nash-MD's mixture parameter and the in-group judge's group size in the picture.
ALPHA = Fraction(1, 4)
GROUP = 2
#: ``beta`` of the in-group picture (larger, so that the fixed points for several G spread out).
BETA_GROUP = Fraction(1, 2)
LABELS = (r"$y=0$", r"$y=1$", r"$y=2$")
REF = r"$\pi_{\mathrm{ref}}$"
#: How the pictures mark the maximal lottery, the regularized Nash equilibrium and pi_ref.
MAXIMAL_LOTTERY: dict[str, Any] = {
    "label": "maximal lottery",
    "marker": "*",
    "color": "gold",
    "size": 400,
}
REGULARIZED_NASH: dict[str, Any] = {
    "label": r"regularized Nash at $\beta$",
    "marker": "D",
    "color": "white",
    "size": 110,
}
REFERENCE: dict[str, Any] = {"label": REF, "marker": "s", "color": "black", "size": 90}


def _ref() -> np.ndarray:
    return np.array([float(v) for v in PI_REF])


def _sppo_average(P: np.ndarray, start: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    run = sppo_run(P, start, step_sizes(1.0, steps))
    return run.models[:, 0, :], run.averages()[:, 0, :]


def _simplex(ax: Any, title: str, labels: tuple[str, str, str] = LABELS) -> None:
    simplex_axes(ax, labels=labels, title=title)
    exempt(ax, "simplex")


def online_caption() -> str:
    """The instances of ``online_trajectories``."""
    return caption(
        {
            "cyclic P": INSTANCES[0][1],
            "Bradley-Terry P": INSTANCES[1][1],
            "pi_ref": list(PI_REF),
            "beta": BETA,
        },
        prefix="",
    ) + (
        f"\nNash-MD: $\\alpha$ = {ALPHA}; REINFORCE: in-group G = {GROUP}, fixed q = {REF}; "
        r"SPPO: $\eta_t = 1/\sqrt{t}$, 5000 steps.  Filled markers: each method's fixed point."
    )


def draw_online_trajectories(axes: Any) -> None:
    """One panel per instance of :data:`INSTANCES`: trajectories from ``pi_ref`` of online DPO,
    Nash-MD (``alpha`` :data:`ALPHA`), SPPO's time average (``eta_t = 1/sqrt t``), in-group
    REINFORCE (``G`` :data:`GROUP`) and fixed-opponent REINFORCE (``q = pi_ref``), each with its
    fixed point (filled marker), and the maximal lottery and NLHF's equilibrium; one legend."""
    ref, b = _ref(), float(BETA)
    for ax, (name, P_exact) in zip(axes, INSTANCES, strict=True):
        P = to_float(P_exact)
        _simplex(ax, f"{name} $P$")
        paths = [
            (
                "online DPO",
                online_dpo_trajectory(P, ref, ref, b, 1000, lr=20.0).points,
                online_dpo_fixed_point(P, ref, b).pi,
                "tab:blue",
            ),
            (
                f"Nash-MD, $\\alpha$ = {ALPHA}",
                nash_md_trajectory(P, ref, ref, b, float(ALPHA), 200).points,
                nash_md_fixed_point(P, ref, b, float(ALPHA)).pi,
                "tab:orange",
            ),
            (
                f"in-group REINFORCE, G = {GROUP}",
                reinforce_trajectory(P, ref, b, ref, lr=4.0, steps=1500, G=GROUP).points,
                reinforce_fixed_point(P, b, ref, G=GROUP).pi,
                "tab:green",
            ),
            (
                f"REINFORCE against q = {REF}",
                reinforce_trajectory(P, ref, b, ref, lr=4.0, steps=1500, q=ref).points,
                reinforce_fixed_point(P, b, ref, q=ref).pi,
                "tab:purple",
            ),
        ]
        for label, pts, fp, color in paths:
            simplex_path(pts, ax, label=label, color=color)
            simplex_points(fp, ax, color=color, size=90)
        _, avg = _sppo_average(P, ref, 5000)
        simplex_path(avg, ax, label=r"SPPO time average $\bar\pi_t$", color="tab:red")
        simplex_points(to_float(maximal_lottery(P_exact).pi), ax, **MAXIMAL_LOTTERY)
        simplex_points(regularized_nash(P, b, ref).pi, ax, **REGULARIZED_NASH)
        simplex_points(ref, ax, **REFERENCE)
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].figure.legend(handles, labels, loc="outside right upper", frameon=False)


def sppo_caption(start: Any, eta0: float, eta_const: float, steps: int) -> str:
    """The instance of ``sppo_average``."""
    return caption(
        {"P": cyclic(3), "start": [Fraction(v).limit_denominator(100) for v in start]},
        prefix="Rock-paper-scissors (wins with probability 1): ",
    ) + (
        f"; left: $\\eta_t = {eta0:g}/\\sqrt{{t}}$, {steps} steps; right: 20000 steps with "
        f"$\\eta_t = {eta0:g}/\\sqrt{{t}}$ and with a constant $\\eta$ = {eta_const:g}.  "
        r"$m$ = the maximal lottery (uniform)."
    )


def draw_sppo(axes: Any, rps: dict[str, Any], eta0: float, eta_const: float, start: Any) -> None:
    """Left: the rock-paper-scissors series of the check (exploitability of ``bar pi_t``, the two
    regret bounds over ``t``, TV to the maximal lottery).  Right: on the simplex, the last
    iterate with ``eta_t = eta0/sqrt t`` and with a constant step, and the time average."""
    ax, ax2 = axes
    t = np.asarray(rps["t"], dtype=float)
    ax.loglog(t, rps["exploitability"], label=r"$\max_y W_{\bar\pi_t}(y) - 1/2$")
    ax.loglog(t, rps["bound_trajectory"], "--", label="trajectory regret bound / t")
    ax.loglog(t, rps["bound_a_priori"], ":", label="a priori regret bound / t")
    ax.loglog(t, rps["tv"], label=r"TV$(\bar\pi_t, m)$")
    ax.set_xlabel("step t")
    ax.set_ylabel("exploitability, bound, distance")
    ax.set_title(r"time average $\bar\pi_t$: within the regret bound at every t")
    ax.legend(loc="lower left", frameon=False)
    P = to_float(cyclic(3))
    p0 = np.asarray(start, dtype=float)
    last, avg = _sppo_average(P, p0, 20_000)
    const = sppo_run(P, p0, step_sizes(eta_const, 20_000, "constant")).models[:, 0, :]
    _simplex(ax2, "last iterate and time average", ("rock", "scissors", "paper"))
    simplex_path(
        const,
        ax2,
        label=f"last iterate, constant $\\eta$ = {eta_const:g}",
        color="tab:gray",
        arrow=False,
    )
    simplex_path(last, ax2, label=r"last iterate, $\eta_t = 1/\sqrt{t}$", color="tab:blue")
    simplex_path(avg, ax2, label=r"time average $\bar\pi_t$", color="tab:red")
    simplex_points(np.full(3, 1 / 3), ax2, **MAXIMAL_LOTTERY)
    ax2.set_ylim(-0.12, 1.45)
    ax2.legend(loc="upper center", frameon=False, fontsize=15)


def in_group_caption(instances: int) -> str:
    """The instances of ``in_group_judge_is_nlhf``."""
    return caption(
        {"P": cyclic(3), "pi_ref": list(PI_REF), "beta": BETA_GROUP},
        prefix="Left (rock-paper-scissors): ",
    ) + (
        f"\nRight: the check's {instances} random instances (K = 2..5, "
        r"$\beta \in$ {3, 1, 3/10, 1/10}), the fixed point's total-variation distance to "
        r"NLHF at $\beta$ itself."
    )


def draw_in_group(axes: Any, naive_tv: Any) -> None:
    """Left: on the simplex for rock-paper-scissors (``beta`` :data:`BETA_GROUP`), NLHF's
    regularized Nash equilibrium as ``beta`` varies and the in-group REINFORCE fixed points for a
    few ``G`` (on that curve, at ``beta (G-1)/G``).  Right: the check's distance from NLHF at
    ``beta`` itself (the answer without the baseline's ``G/(G-1)``), by ``G``."""
    ax, ax2 = axes
    P_exact = cyclic(3)
    P, ref, b = to_float(P_exact), _ref(), float(BETA_GROUP)
    _simplex(ax, r"in-group fixed point = regularized Nash at $\beta(G-1)/G$")
    betas = np.geomspace(20.0, 0.05, 80)
    curve = np.stack([regularized_nash(P, bb, ref).pi for bb in betas])
    simplex_path(
        curve,
        ax,
        label=r"regularized Nash, $\beta$ from 20 to 1/20",
        color="gray",
        arrow=False,
        start=False,
    )
    shades = ("#00441b", "#238b45", "#74c476", "#c7e9c0")
    for G, shade in zip((2, 3, 5, 20), shades, strict=True):
        fp = reinforce_fixed_point(P, b, ref, G=G).pi
        simplex_points(fp, ax, label=f"in-group REINFORCE, G = {G}", color=shade, size=110)
    simplex_points(regularized_nash(P, b, ref).pi, ax, **REGULARIZED_NASH)
    simplex_points(to_float(maximal_lottery(P_exact).pi), ax, **MAXIMAL_LOTTERY)
    simplex_points(ref, ax, **REFERENCE)
    ax.set_ylim(-0.12, 1.6)
    ax.legend(loc="upper center", frameon=False, fontsize=15, ncol=2)
    pts = np.asarray(naive_tv, dtype=float).reshape(-1, 2)
    if len(pts):
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(pts))
        ax2.scatter(pts[:, 0] + jitter, pts[:, 1], s=25, alpha=0.5)
        ax2.set_xticks(sorted({int(g) for g in pts[:, 0]}))
    ax2.set_xlabel("group size G")
    ax2.set_ylabel(r"TV to regularized Nash at $\beta$")
    ax2.set_title("without the factor G/(G-1) the answer is off")
