"""Witness minimization: a witness of disagreement made as small as possible.

:func:`minimize_witness` runs three named steps on a witness found by the random search:

1. :func:`fewest_responses`: the instance conditioned on subsets of responses of increasing size
   (one prompt at a time), searched at random until a few witnesses turn up;
2. :func:`rounded_witness`: each of those instances rounded to a grid ``k / d`` (``beta = 1``
   first, then ``beta`` rounded) and every pair of models on a small grid tried
   (:func:`grid_witness`), where the loss order can be certified exactly;
3. the smallest of what was found, by :attr:`~theory.search.certify.ContestWitness.size`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np

from ..data import PreferenceData
from ..numbers import Number, as_array, to_float
from .certify import ContestWitness, judge
from .contests import Contest, Instance
from .random_search import find_disagreement

__all__ = [
    "round_to_grid",
    "simplex_grid",
    "restrict",
    "round_instance",
    "grid_witness",
    "fewest_responses",
    "rounded_witness",
    "minimize_witness",
    "search_witness",
]

#: Witnesses collected by :func:`fewest_responses` before it stops.
KEEP = 3


def round_to_grid(p: Any, d: int, *, positive: bool = True) -> np.ndarray | None:
    """The probability vector ``k / d`` (integers ``k``) closest to ``p`` by largest remainders,
    exact; with ``positive`` every entry where ``p > 0`` stays >= ``1/d`` (None if impossible).

    >>> round_to_grid([0.7, 0.3], 4).tolist()
    [Fraction(3, 4), Fraction(1, 4)]
    """
    p = to_float(as_array(p, name="p"))
    support = p > 0
    if positive and int(support.sum()) > d:
        return None
    k = np.floor(p * d).astype(np.int64)
    if positive:
        k = np.where(support & (k == 0), 1, k)
    rest = d - int(k.sum())
    frac = p * d - k
    for i in np.argsort(-frac)[: max(rest, 0)]:
        k[i] += 1
    if rest < 0:  # take back from the smallest remainders, keeping the support when positive
        floor = support.astype(np.int64) if positive else np.zeros_like(k)
        for i in np.argsort(frac):
            take = min(-rest, int(k[i] - floor[i]))
            k[i] -= take
            rest += take
        if rest < 0:
            return None
    return np.array([Fraction(int(v), d) for v in k], dtype=object)


def _round_matrix(P: np.ndarray, d: int) -> np.ndarray:
    K = P.shape[0]
    out = np.full((K, K), Fraction(1, 2), dtype=object)
    for i, j in itertools.combinations(range(K), 2):
        v = Fraction(round(float(P[i, j]) * d), d)
        out[i, j], out[j, i] = v, 1 - v
    return out


def restrict(inst: Instance, x: int, subset: tuple[int, ...]) -> Instance | None:
    """The instance of prompt ``x`` conditioned on the responses ``subset`` (float), or None when
    ``mu0``, ``mu1`` or ``pi_ref`` has no mass there.

    >>> from theory.preferences import total_order
    >>> D = PreferenceData(P=total_order(3), mu0=[0.5, 0.25, 0.25])
    >>> restrict(Instance(D, [[0.2, 0.4, 0.4]]), 0, (0, 2)).data.mu0.tolist()
    [[0.6666666666666666, 0.3333333333333333]]
    """
    d = inst.data
    idx = list(subset)
    mus = []
    for mu in (d.mu0[x], d.mu1[x], np.asarray(inst.pi_ref)[x]):
        m = to_float(mu)[idx]
        if m.sum() <= 0:
            return None
        mus.append(m / m.sum())
    P = to_float(d.P[x])[np.ix_(idx, idx)]
    data = PreferenceData(P=P, mu0=mus[0][None], mu1=None if d.symmetric else mus[1][None])
    return Instance(data, mus[2][None], inst.beta)


def round_instance(inst: Instance, d: int, beta: Any) -> Instance | None:
    """``inst`` with every number rounded to the grid ``k / d`` (:func:`round_to_grid`) and the
    given ``beta``, or None when some distribution cannot keep its support on that grid."""
    data = inst.data
    P = np.stack([_round_matrix(to_float(data.P[x]), d) for x in range(data.M)])
    rows = {}
    for name, arr in (("mu0", data.mu0), ("mu1", data.mu1), ("ref", np.asarray(inst.pi_ref))):
        r = [round_to_grid(arr[x], d) for x in range(data.M)]
        if any(v is None for v in r):
            return None
        rows[name] = np.stack(r)  # type: ignore[arg-type]
    rho = None
    if data.M > 1:
        rho = round_to_grid(data.rho, d)
        if rho is None:
            return None
    new = PreferenceData(P=P, mu0=rows["mu0"], mu1=None if data.symmetric else rows["mu1"], rho=rho)
    return Instance(new, rows["ref"], beta)


def simplex_grid(K: int, d: int) -> Iterator[np.ndarray]:
    """Every full-support probability vector ``k / d`` over ``K`` responses (exact).

    >>> [v.tolist() for v in simplex_grid(2, 3)]
    [[Fraction(1, 3), Fraction(2, 3)], [Fraction(2, 3), Fraction(1, 3)]]
    """
    for cut in itertools.combinations(range(1, d), K - 1):
        bounds = (0, *cut, d)
        yield np.array([Fraction(bounds[i + 1] - bounds[i], d) for i in range(K)], dtype=object)


Evaluated = tuple[np.ndarray, float, Number]


def _new_grid_points(
    contest: Contest, inst: Instance, e: int, seen: list[Evaluated], max_points: int
) -> list[Evaluated]:
    """The models on the grid ``k / e`` not seen at a smaller ``e``, with finite loss, evaluated
    (stopping once more than ``max_points`` are held)."""
    new: list[Evaluated] = []
    for v in simplex_grid(inst.data.K, e):
        if any(np.all(v == s[0][0]) for s in seen):
            continue
        pi = v[None, :]
        loss = contest.loss(inst, pi)
        if not np.isfinite(loss):
            continue
        new.append((pi, loss, contest.win_rate(inst, pi)))
        if len(seen) + len(new) > max_points:
            break
    return new


def _smallest_pair(
    contest: Contest, inst: Instance, new: list[Evaluated], seen: list[Evaluated]
) -> ContestWitness | None:
    """The smallest witness among the pairs with at least one model in ``new``."""
    best: ContestWitness | None = None
    pairs = itertools.chain(itertools.combinations(new, 2), itertools.product(new, seen))
    for (pa, la, wa), (pb, lb, wb) in pairs:
        w = judge(contest, inst, pa, pb, ((la, wa), (lb, wb)))
        if w is not None and (best is None or w.size < best.size):
            best = w
    return best


def grid_witness(
    contest: Contest, inst: Instance, max_d: int, max_points: int
) -> ContestWitness | None:
    """Smallest-denominator witness with both models on a grid ``k / e``, ``e <= max_d``
    (single prompt), or None (also once more than ``max_points`` models were tried)."""
    seen: list[Evaluated] = []
    for e in range(2, max_d + 1):
        new = _new_grid_points(contest, inst, e, seen, max_points)
        best = _smallest_pair(contest, inst, new, seen)
        if best is not None:
            return best
        seen.extend(new)
        if len(seen) > max_points:
            return None
    return None


def fewest_responses(
    contest: Contest, inst: Instance, rng: np.random.Generator, tries: int
) -> list[ContestWitness]:
    """Step 1: for ``k = 2, 3, ..., K``, the instance of each prompt conditioned on each
    ``k``-subset of responses (:func:`restrict`) is searched (:func:`find_disagreement`,
    ``tries`` pairs) until :data:`KEEP` witnesses are found; the witnesses of the smallest ``k``
    that has any (an empty list when none has)."""
    M, K = inst.data.M, inst.data.K
    for k in range(2, K + 1):
        found: list[ContestWitness] = []
        for x, subset in itertools.product(range(M), itertools.combinations(range(K), k)):
            sub = restrict(inst, x, subset)
            w = None if sub is None else find_disagreement(contest, sub, rng, tries=tries)
            if w is not None:
                found.append(w)
            if len(found) >= KEEP:
                break
        if found:
            return found
    return []


def _beta_choices(beta: Any) -> list[Any]:
    out: list[Any] = [Fraction(1)]
    b = Fraction(float(beta)).limit_denominator(4)
    if b > 0 and b != 1:
        out.append(b)
    return out


def rounded_witness(
    contest: Contest,
    found: ContestWitness,
    best: ContestWitness,
    max_denominator: int,
    max_points: int,
) -> ContestWitness:
    """Step 2: ``found``'s instance rounded to ``k / d`` for ``d = 2 .. max_denominator``, for
    ``beta = 1`` then ``beta`` rounded (stopping at a certified witness); at each ``beta`` the
    first ``d`` whose grid search (:func:`grid_witness`) beats ``best`` replaces it."""
    for beta in _beta_choices(found.instance.beta):
        for d in range(2, max_denominator + 1):
            rounded = round_instance(found.instance, d, beta)
            g = (
                None
                if rounded is None
                else grid_witness(contest, rounded, max_denominator, max_points)
            )
            if g is not None and g.size < best.size:
                best = g
                break
        if best.certified:
            break
    return best


def minimize_witness(
    contest: Contest,
    witness: ContestWitness,
    rng: np.random.Generator,
    *,
    max_denominator: int = 8,
    tries: int = 300,
    max_points: int = 60,
) -> ContestWitness:
    """A witness at most as large as ``witness`` (see :attr:`ContestWitness.size`), in the named
    steps of the module docstring: :func:`fewest_responses` (``tries`` random pairs per
    subset), then :func:`rounded_witness` on each witness it found until one is certified, then
    the smallest.  Returns ``witness`` itself when nothing smaller is found.

    >>> from theory.search import SFT_CONTEST, find_disagreement, random_instance
    >>> rng = np.random.default_rng(1)
    >>> w = find_disagreement(SFT_CONTEST, random_instance(rng, K=3, family="general"), rng)
    >>> m = minimize_witness(SFT_CONTEST, w, rng)
    >>> m.size <= w.size, m.certified
    (True, True)
    """
    found = fewest_responses(contest, witness.instance, rng, tries)
    best = witness
    for w in found:
        best = rounded_witness(contest, w, best, max_denominator, max_points)
        if best.certified:
            break
    if not best.certified and found and min(f.size for f in found) < best.size:
        best = min(found, key=lambda f: f.size)
    return best


def search_witness(
    contest: Contest,
    inst: Instance,
    rng: np.random.Generator,
    *,
    tries: int = 2000,
    minimize: bool = True,
    **minimize_options: Any,
) -> ContestWitness | None:
    """:func:`~theory.search.random_search.find_disagreement` then (optionally)
    :func:`minimize_witness`.

    >>> from theory.search import SFT_CONTEST, random_instance
    >>> rng = np.random.default_rng(1)
    >>> w = search_witness(SFT_CONTEST, random_instance(rng, K=3, family="general"), rng)
    >>> w.certified, w.size[0] <= 3
    (True, True)
    """
    w = find_disagreement(contest, inst, rng, tries=tries)
    if w is None or not minimize:
        return w
    return minimize_witness(contest, w, rng, **minimize_options)
