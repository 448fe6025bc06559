"""in-group-judge-is-NLHF: REINFORCE with an in-group pairwise judge is NLHF at beta (G-1)/G.

A group ``y_1..y_G ~ pi`` is judged in-group: ``r_i = (1/(G-1)) sum_{j != i} P[y_i, y_j] -
beta d(y_i)`` (``d = log pi - log pi_ref``, KL inside the reward), advantage
``A_i = r_i - (1/(G-1)) sum_{j != i} r_j`` (leave-one-out baseline).  The claim
(:mod:`theory.online.reinforce`): the expected REINFORCE direction vanishes exactly at NLHF's
regularized Nash equilibrium at ``beta (G-1)/G``.

Each instance draws ``K`` in 2..:data:`MAX_K`, a preference family, ``G`` in
2..:data:`MAX_G`, ``beta`` from :data:`BETAS` and a reference (zeros allowed), and:

* takes the library's fixed point (:func:`theory.online.reinforce.reinforce_fixed_point`) and
  compares it with :func:`theory.methods.nlhf.regularized_nash` at ``beta (G-1)/G``;
* recomputes, independently, the expected direction ``E[A_1 (e_{y_1} - pi)]`` at that point by
  enumerating all ``K^G`` groups with their probabilities, from the definitions above (this
  module's own code: rewards, baseline, KL), and requires it to vanish (:data:`GRADIENT_TOL`);
* reports how far the fixed point is from NLHF at the undiscounted ``beta`` (the answer without
  the baseline's ``G/(G-1)``), which the same enumeration shows is not a fixed point;
* on the instances with ``K^G <= EXACT_GROUPS``, checks the judge's part of the advantage
  exactly: at a random rational ``pi`` the enumerated ``E[judge part of A_1 | y_1 = y]`` equals
  :func:`theory.online.reinforce.judge_advantage` ``(G/(G-1)) (W_pi(y) - 1/2)`` with
  Fractions (``==``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from theory.methods.nlhf import regularized_nash
from theory.numbers import to_float
from theory.online.core import total_variation
from theory.online.reinforce import judge_advantage, reinforce_fixed_point
from theory.preferences import FAMILIES, random_family_matrix
from theory.simplex import random_distribution

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Counts,
    Gallery,
    Max,
    Min,
    Samples,
    Tally,
    cells,
    chunked,
    counts,
    maximum,
    minimum,
    samples,
)

MAX_K = 5
MAX_G = 5
BETAS = (3.0, 1.0, 0.3, 0.1)
#: The enumerated expected direction must vanish to this (max-norm).
GRADIENT_TOL = 1e-10
#: The library's fixed point and regularized_nash at beta (G-1)/G must agree to this.
AGREE_TOL = 1e-10
#: A candidate is "not a fixed point" when its enumerated direction exceeds this.
NOT_FIXED = 1e-6
#: Exact (Fraction) enumeration only where there are at most this many groups.
EXACT_GROUPS = 256


@dataclass
class Stats(Tally):
    instances: int = 0
    exact_checked: int = 0
    max_gradient: Max = maximum()
    max_disagreement: Max = maximum()
    min_naive_gradient: Min = minimum()
    max_naive_tv: Max = maximum()
    by_G: Counts = counts()
    naive_tv: Samples = samples(2000)


def groups(K: int, G: int) -> np.ndarray:
    """Every group ``(y_1..y_G)`` of ``G`` responses out of ``K`` (``(K^G, G)`` ints)."""
    return np.array(list(itertools.product(range(K), repeat=G)), dtype=int).reshape(-1, G)


def enumerated_direction(
    P: np.ndarray, pi: np.ndarray, beta: float, pi_ref: np.ndarray, G: int
) -> np.ndarray:
    """``E[A_1 (e_{y_1} - pi)]`` by enumeration of all groups (float), from the definitions of
    the module docstring: each group's probability ``prod pi(y_j)``, rewards ``r_i`` with the
    in-group judge and the KL inside, ``A_1 = r_1 - mean_{j != 1} r_j``."""
    K = len(pi)
    Y = groups(K, G)
    prob = np.prod(pi[Y], axis=1)
    keep = prob > 0
    Y, prob = Y[keep], prob[keep]
    with np.errstate(divide="ignore"):
        d = np.where(pi > 0, np.log(np.where(pi > 0, pi, 1.0) / np.where(pi > 0, pi_ref, 1.0)), 0.0)
    pair = P[Y[:, :, None], Y[:, None, :]]  # pair[g, i, j] = P[y_i, y_j]
    judge = (pair.sum(axis=2) - 0.5) / (G - 1)  # the diagonal P[y_i, y_i] = 1/2 left out
    r = judge - beta * d[Y]
    A1 = r[:, 0] - r[:, 1:].mean(axis=1)
    onehot = np.eye(K)[Y[:, 0]]
    return np.sum((prob * A1)[:, None] * (onehot - pi[None]), axis=0)


def exact_judge_advantage(P: np.ndarray, pi: np.ndarray, G: int) -> list[Any]:
    """``E[A_1^judge | y_1 = y]`` with Fractions by enumerating the other ``G - 1`` samples
    (``A^judge`` the advantage of the judge's reward alone; not re-centred: the definition
    makes ``E_pi`` of it 0 by itself)."""
    K = len(pi)
    out = []
    for y in range(K):
        total = Fraction(0)
        for rest in itertools.product(range(K), repeat=G - 1):
            w = Fraction(1)
            for j in rest:
                w *= pi[j]
            if w == 0:
                continue
            Y = (y, *rest)
            r = [
                sum((P[Y[i], Y[j]] for j in range(G) if j != i), Fraction(0)) / (G - 1)
                for i in range(G)
            ]
            total += w * (r[0] - sum(r[1:], Fraction(0)) / (G - 1))
        out.append(total)
    return out


def _instance(rng: np.random.Generator, K: int, G: int) -> dict[str, Any]:
    family = FAMILIES[int(rng.integers(len(FAMILIES)))]
    P = to_float(random_family_matrix(rng, K, family))
    ref = random_distribution(rng, K, zeros=bool(rng.integers(4) == 0))
    beta = BETAS[int(rng.integers(len(BETAS)))]
    return {"family": family, "P": P, "pi_ref": ref, "beta": beta, "G": G}


def _check_one(case: dict[str, Any], stats: Stats, index: int) -> None:
    P, ref, beta, G = case["P"], case["pi_ref"], case["beta"], case["G"]
    pi = reinforce_fixed_point(P, beta, ref, G=G).pi
    nash = regularized_nash(P, beta * (G - 1) / G, ref).pi
    grad = float(np.max(np.abs(enumerated_direction(P, pi, beta, ref, G))))
    diff = float(np.max(np.abs(pi - nash)))
    naive = regularized_nash(P, beta, ref).pi
    naive_grad = float(np.max(np.abs(enumerated_direction(P, naive, beta, ref, G))))
    naive_tv = total_variation(pi, naive)
    stats.instances += 1
    stats.by_G.add(G)
    stats.max_gradient.add(grad)
    stats.max_disagreement.add(diff)
    stats.max_naive_tv.add(naive_tv)
    stats.naive_tv.add((G, naive_tv))
    if naive_tv > 1e-3:  # the naive answer is distinguishable: it must not be a fixed point
        stats.min_naive_gradient.add(naive_grad)
    if grad > GRADIENT_TOL or diff > AGREE_TOL:
        stats.witness.offer(
            (len(ref), G, index),
            {**case, "pi": pi, "nash": nash, "gradient": grad, "disagreement": diff},
        )


def _check_exact(rng: np.random.Generator, case: dict[str, Any], stats: Stats, index: int) -> None:
    K, G = len(case["pi_ref"]), case["G"]
    P = random_family_matrix(rng, K, case["family"], exact=True)
    pi = random_distribution(rng, K, zeros=bool(rng.integers(3) == 0), exact=True)
    lib = judge_advantage(P, pi, G=G).tolist()
    enum = exact_judge_advantage(P, pi, G)
    stats.exact_checked += 1
    if lib != enum:
        stats.witness.offer(
            (K, G, index),
            {
                "part": "exact judge advantage",
                "P": P,
                "pi": pi,
                "G": G,
                "library": lib,
                "enumerated": enum,
            },
        )


def chunk(ctx: CheckContext) -> Stats:
    stats = Stats()
    rng = ctx.rng
    done = 0
    for cell in cells(rng, ctx.instances, K=range(2, MAX_K + 1), G=range(2, MAX_G + 1)):
        for k in range(cell.n):
            index = ctx.start + int(cell.index[k])
            case = _instance(rng, cell.K, cell.G)
            _check_one(case, stats, index)
            if cell.K**cell.G <= EXACT_GROUPS:
                _check_exact(rng, case, stats, index)
            done += 1
            ctx.progress(done)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    w = stats.witness
    if w.value is not None and w.size is not None:
        observed = f"{w.count} violations; smallest at K = {w.size[0]}, G = {w.size[1]}"
        return stats.result(ctx.instances, observed)
    observed = (
        f"on {stats.instances} instances (K = 2..{MAX_K}, G = 2..{MAX_G}, beta in {BETAS}) the "
        f"fixed point equals regularized Nash at beta (G-1)/G (max diff "
        f"{float(stats.max_disagreement):.1e}) and the expected REINFORCE direction, recomputed "
        f"by enumerating all K^G groups, vanishes there (max {float(stats.max_gradient):.1e}); "
        f"NLHF at beta itself is up to {float(stats.max_naive_tv):.2f} away in TV and is not a "
        f"fixed point (enumerated direction >= {float(stats.min_naive_gradient):.1e} where it "
        f"differs); judge advantage (G/(G-1))(W_pi - 1/2) exact (==) on "
        f"{stats.exact_checked} rational instances"
    )
    return stats.result(ctx.instances, observed)


def figure(result: CheckResult, gallery: Gallery) -> None:
    from .common.online_pictures import draw_in_group, in_group_caption

    note = in_group_caption(result.instances)
    with gallery.new("in_group_judge_is_nlhf", ncols=2, instance=note) as (_fig, axes):
        draw_in_group(axes, result.details.get("naive_tv", []))


def _naive_nash_is_caught(rng: np.random.Generator) -> bool:
    """Positive control: NLHF at the undiscounted ``beta`` (what a judge without the baseline's
    ``G/(G-1)`` would give) offered as the fixed point must be flagged by the enumeration."""
    P = to_float(random_family_matrix(rng, 3, "general"))
    ref = random_distribution(rng, 3)
    naive = regularized_nash(P, 0.3, ref).pi
    return bool(np.max(np.abs(enumerated_direction(P, naive, 0.3, ref, 2))) > GRADIENT_TOL)


def _missing_factor_is_caught(rng: np.random.Generator) -> bool:
    """Positive control of the exact part: the judge advantage without the factor ``G/(G-1)``
    (``W_pi - 1/2``) must differ from the exact enumeration."""
    P = random_family_matrix(rng, 3, "general", exact=True)
    pi = random_distribution(rng, 3, exact=True)
    wrong = [v * Fraction(2, 3) for v in judge_advantage(P, pi, G=3).tolist()]
    enum = exact_judge_advantage(P, pi, 3)
    return wrong != enum


CLAIM = Claim(
    "in-group-judge-is-NLHF",
    "REINFORCE with an in-group leave-one-out pairwise judge (group size G) has the regularized "
    "Nash equilibrium at beta (G-1)/G as its fixed point",
    "holds",
    chunked(chunk, finish, size=100),
    figure,
    default_instances=500,
    quick_instances=50,
    controls=(
        Control("NLHF at beta (no G/(G-1)) is not a fixed point", _naive_nash_is_caught),
        Control("a judge advantage without G/(G-1) is caught exactly", _missing_factor_is_caught),
    ),
)
