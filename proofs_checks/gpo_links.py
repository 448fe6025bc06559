"""GPO-links: the K = 2 links ``z*(p)`` of the zoo's pairwise losses, and which are WRO optima.

At K = 2 a pairwise loss's minimizing margin ``z*(p)`` minimizes ``p f(z) + (1 - p) f(-z)``.
The closed forms (:func:`theory.zoo.closed_forms.k2_link`): logistic (DPO) ``logit p``,
exponential ``logit(p)/2``, squared ``2p - 1`` (IPO: ``p - 1/2`` in its own scale), hinge
``sign(2p - 1)``, cDPO ``logit(eps + (1 - 2 eps) p)``, rDPO ``logit((p - eps)/(1 - 2 eps))``,
EXO ``(2p - 1) log((1 - eps)/eps)``, SimPO the root of a quadratic.  Each is compared with the
generic solver on random ``p`` (rDPO inside ``[eps, 1 - eps]``).

Every strictly increasing link that is odd around 1/2 is a WRO optimum at K = 2: with ``h`` the
link, any fixed anchor ``q`` and ``beta = 1``, the WRO optimum's margin is
``(h(1/2) - h(1 - p)) q_0 + (h(p) - h(1/2)) q_1 = h(p)``.  This is checked against
:func:`theory.wro_optimum` with random anchors.  The hinge link is not strictly increasing (its
LP minimizer has margin 1 for every ``p > 1/2``), so it is no WRO optimum.

Positive control: the link ``logit p + 1/2`` (a naive guess at SimPO's; SimPO's true link is odd)
is increasing but not odd; the same WRO comparison must fail for some anchor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from theory import wro_optimum
from theory.zoo import ZOO
from theory.zoo.closed_forms import k2_link
from theory.zoo.population import PairBatch
from theory.zoo.solve import minimize_batch

from .scaffold import CheckContext, CheckResult, Claim, Control, Max, Tally, chunked, maximum

LINKS = (
    "sigmoid",
    "gpo_logistic",
    "gpo_exponential",
    "gpo_squared",
    "ipo",
    "cdpo",
    "robust",
    "exo_pair",
    "simpo",
    "hinge",
    "gpo_hinge",
)
#: Links that are strictly increasing and odd on [0, 1]: all but rDPO's (defined on
#: [eps, 1 - eps]) and the two hinge links.
ODD_LINKS = tuple(name for name in LINKS if name not in ("robust", "hinge", "gpo_hinge"))
#: WRO margins against closed forms (both closed forms: rounding only).
TOL = 1e-9
#: Solver margins against closed forms (flat losses such as EXO: the margin error is the
#: gradient certificate over a small curvature).
LINK_TOL = 1e-5


def solver_link(name: str, p: np.ndarray) -> np.ndarray:
    """The generic solver's K = 2 margin ``u_0 - u_1`` (``mu``, ``pi_ref`` uniform, beta 1)."""
    loss = ZOO[name]
    n = len(p)
    P = np.empty((n, 2, 2))
    P[:, 0, 0] = P[:, 1, 1] = 0.5
    P[:, 0, 1], P[:, 1, 0] = p, 1 - p
    log_ref = np.zeros((n, 2)) if loss.reference_free else np.full((n, 2), np.log(0.5))
    sol = minimize_batch(loss, PairBatch(w=P * 0.5, log_ref=log_ref, beta=np.ones(n)))
    return sol.u[:, 0] - sol.u[:, 1]


def wro_gap(
    link: Callable[[np.ndarray], np.ndarray], p: np.ndarray, q: np.ndarray, ref: np.ndarray
) -> float:
    """Largest gap between ``link(p)`` and the margin of the WRO optimum with ``h = link``."""

    def h(x: np.ndarray) -> np.ndarray:
        return link(np.clip(np.asarray(x, dtype=float), 0.0, 1.0))

    gaps = []
    for t in range(len(p)):
        P = np.array([[0.5, p[t]], [1 - p[t], 0.5]])
        pi = wro_optimum(P, q[t], beta=1.0, pi_ref=ref[t], h=h).pi
        margin = np.log(pi[0] / pi[1]) - np.log(ref[t, 0] / ref[t, 1])
        gaps.append(abs(margin - float(link(np.array([p[t]]))[0])))
    return max(gaps)


def _link_of(name: str) -> Callable[[np.ndarray], np.ndarray]:
    def link(x: np.ndarray) -> np.ndarray:
        return k2_link(name, x)

    return link


@dataclass
class Stats(Tally):
    max_link_gap: Max = maximum()
    max_wro_gap: Max = maximum()
    hinge_margins: tuple = ()


def chunk(ctx: CheckContext) -> Stats:
    """Every link against the generic solver on the chunk's ``ctx.instances`` random ``p``."""
    rng, stats = ctx.rng, Stats()
    n = ctx.instances
    for name in LINKS:
        lo, hi = (0.12, 0.88) if name == "robust" else (0.02, 0.98)
        p = rng.uniform(lo, hi, size=n)
        gap = float(np.abs(solver_link(name, p) - k2_link(name, p)).max())
        if name in ("hinge", "gpo_hinge"):  # LP vertices: any margin in the optimal face counts
            gap = 0.0 if np.all(np.sign(solver_link(name, p)) == np.sign(2 * p - 1)) else 1.0
        stats.max_link_gap.add(gap)
        if gap > LINK_TOL:
            stats.witness.offer((0, LINKS.index(name)), {"loss": name, "link_gap": gap})
    ctx.progress(n)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    """Once per claim (from the finish generator): the odd links as WRO optima on
    ``max(instances // 10, 5)`` random ``p`` and anchors each, and the hinge's margins."""
    rng, n = ctx.rng, ctx.instances
    m = max(n // 10, 5)
    for name in ODD_LINKS:
        p = rng.uniform(0.02, 0.98, size=m)
        q, ref = rng.dirichlet(np.ones(2), size=m), rng.dirichlet(np.ones(2), size=m)
        gap = wro_gap(_link_of(name), p, q, ref)
        stats.max_wro_gap.add(gap)
        if gap > TOL:
            stats.witness.offer((1, ODD_LINKS.index(name)), {"loss": name, "wro_gap": gap})
    hinge = solver_link("hinge", np.array([0.6, 0.9]))
    stats.hinge_margins = tuple(float(v) for v in hinge)
    if abs(hinge[0] - hinge[1]) > TOL:
        stats.witness.offer((2, 0), {"loss": "hinge", "margins": hinge})
    if stats.witness:
        observed = f"{stats.witness.count} link disagreements"
    else:
        observed = (
            f"{len(LINKS)} K = 2 links match their closed forms on {n} random p (max "
            f"{float(stats.max_link_gap):.1e}); the {len(ODD_LINKS)} strictly increasing odd links "
            f"are WRO optima for random anchors (max {float(stats.max_wro_gap):.1e}); "
            "hinge: margin "
            f"{hinge[0]:g} at p = .6 and .9"
        )
    return stats.result(n, observed)


def _control(rng: np.random.Generator) -> bool:
    p = np.array([0.3, 0.7])
    q = np.array([[0.9, 0.1], [0.2, 0.8]])

    def naive(x: np.ndarray) -> np.ndarray:  # "logit p + gamma": increasing, not odd
        return k2_link("sigmoid", x) + 0.5

    return wro_gap(naive, p, q, np.full((2, 2), 0.5)) > TOL


CLAIM = Claim(
    "GPO-links",
    "K = 2: the links z*(p) have their closed forms; the strictly increasing odd ones are WRO "
    "optima",
    "holds",
    chunked(chunk, finish, size=100),
    None,
    default_instances=400,
    quick_instances=40,
    controls=(Control("a non-odd link is no WRO optimum", _control),),
)
