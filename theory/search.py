"""Counterexample search for the "counterexample" claims: a loss and a win rate that disagree.

A *contest* pairs a training loss ``L`` (lower is better) with a win rate ``WR`` (higher is
better) on an :class:`Instance` (a preference data distribution, a reference model ``pi_ref`` and
``beta``).  A *witness of disagreement* is a pair of models ``(pi_a, pi_b)`` with

    L(pi_a) < L(pi_b)   and   WR(pi_a) < WR(pi_b),

so moving from ``pi_b`` to ``pi_a`` the loss falls while the win rate falls (THEORY.md, claims
``DPO-no-correspondence`` and ``SFT-no-correspondence``; a WRO objective never has one,
``WRO-correspondence``).  The search

1. :func:`find_disagreement`: draws random model pairs on an instance until one disagrees;
2. :func:`minimize_witness`: shrinks a witness: one prompt, then the fewest responses (the
   instance conditioned on a subset), then the smallest denominators (the instance rounded to a
   grid ``k / d`` with ``beta = 1`` where possible, and the models enumerated on the grid), and
   certifies the loss order **exactly** when the loss is ``-sum_k a_k log v_k`` with rational
   ``a_k``, ``v_k`` (SFT; DPO with an integer ``beta``) by comparing products of integer powers;
3. :func:`disagreement_rate`: how often random model pairs disagree on random instances.

Win rates are against the data anchor (:func:`theory.winrate.data_win_rate`) and exact on exact
instances.  Sizes order witnesses: ``(K, M, largest denominator, sum of denominators)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.special import log_expit

from .data import PreferenceData, data_anchor, winner_loser_distribution
from .errors import InvalidParameterError
from .methods.dpo import dpo_loss
from .methods.sft import sft_loss, sft_target
from .numbers import Number, as_array, is_exact, to_float
from .simplex import random_model
from .winrate import data_win_rate

__all__ = [
    "LOSS_TOL",
    "MAX_EXACT_BITS",
    "Instance",
    "Contest",
    "ContestWitness",
    "DisagreementStats",
    "DPO_CONTEST",
    "SFT_CONTEST",
    "SFT_DISPREFERRED_CONTEST",
    "CONTESTS",
    "random_instance",
    "find_disagreement",
    "minimize_witness",
    "search_witness",
    "smallest_witness",
    "disagreement_rate",
    "exact_log_order",
    "round_to_grid",
    "simplex_grid",
]

#: Two float losses closer than this are treated as tied (not a disagreement) unless certified.
LOSS_TOL = 1e-9
#: Largest bit size of the integer powers compared by :func:`exact_log_order`.
MAX_EXACT_BITS = 200_000


@dataclass(frozen=True)
class Instance:
    """What a loss and a win rate are evaluated on: ``data`` (a
    :class:`~theory.data.PreferenceData`), ``pi_ref`` ``(M, K)`` and ``beta > 0``."""

    data: PreferenceData
    pi_ref: Any
    beta: Any = 1

    @property
    def exact(self) -> bool:
        return (
            self.data.exact
            and is_exact(np.asarray(self.pi_ref))
            and isinstance(self.beta, Fraction | int)
        )

    def as_dict(self) -> dict[str, Any]:
        d = self.data
        out: dict[str, Any] = {"K": d.K, "M": d.M, "P": d.P if d.M > 1 else d.P[0]}
        out["mu0"] = d.mu0 if d.M > 1 else d.mu0[0]
        if not d.symmetric:
            out["mu1"] = d.mu1 if d.M > 1 else d.mu1[0]
        if d.M > 1:
            out["rho"] = d.rho
        ref = np.asarray(self.pi_ref)
        out["pi_ref"] = ref if d.M > 1 else ref[0]
        out["beta"] = self.beta
        return out


LossTerms = Callable[[Instance, np.ndarray], tuple[list[Fraction], list[Fraction]] | None]


@dataclass(frozen=True)
class Contest:
    """A loss (lower is better) against a win rate (higher is better).

    ``loss(instance, pi) -> float``, ``win_rate(instance, pi) -> Number`` (exact on exact input),
    and optionally ``terms(instance, pi) -> (a, v)`` with ``loss = -sum_k a_k log v_k`` exactly
    (rational ``a_k >= 0``, ``v_k > 0``) or None when they are not rational, used to certify the
    loss order exactly; ``uses_reference`` False when the loss ignores ``pi_ref`` and ``beta``;
    ``batch(instance, pis)`` optionally evaluates ``(losses, win_rates)`` of ``N`` float models
    ``(N, M, K)`` at once (a fast screen; a pair it flags is re-judged one model at a time)."""

    name: str
    loss: Callable[[Instance, np.ndarray], float]
    win_rate: Callable[[Instance, np.ndarray], Number]
    terms: LossTerms | None = None
    uses_reference: bool = True
    batch: Callable[[Instance, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None


def _dpo_terms(inst: Instance, pi: np.ndarray) -> tuple[list, list] | None:
    """DPO with integer beta: ``sigmoid(beta log rho) = rho^beta / (1 + rho^beta)`` with the
    rational odds ``rho = (pi(i) / pi_ref(i)) / (pi(j) / pi_ref(j))``."""
    if not (inst.exact and is_exact(pi)):
        return None
    b = Fraction(inst.beta)
    if b.denominator != 1:
        return None
    w = winner_loser_distribution(inst.data)
    ref = np.asarray(inst.pi_ref)
    a, v = [], []
    for x, i, j in zip(*np.nonzero(w), strict=True):
        if i == j:
            a.append(w[x, i, j])
            v.append(Fraction(1, 2))
            continue
        odds = (pi[x, i] * ref[x, j]) / (pi[x, j] * ref[x, i])
        p = odds**b.numerator
        a.append(w[x, i, j])
        v.append(p / (1 + p))
    return a, v


def _sft_terms(side: str) -> LossTerms:
    def terms(inst: Instance, pi: np.ndarray) -> tuple[list, list] | None:
        if not (inst.data.exact and is_exact(pi)):
            return None
        t = sft_target(inst.data, side)  # type: ignore[arg-type]
        rho = inst.data.rho
        a, v = [], []
        for x, y in zip(*np.nonzero(t), strict=True):
            a.append(rho[x] * t[x, y])
            v.append(pi[x, y])
        return a, v

    return terms


def _float_parts(inst: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    d = inst.data
    W = np.einsum("xij,xj->xi", to_float(d.P), to_float(data_anchor(d)))
    return to_float(winner_loser_distribution(d)), W, to_float(d.rho), to_float(inst.pi_ref)


def _dpo_batch(inst: Instance, pis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w, W, rho, ref = _float_parts(inst)
    d = np.log(pis) - np.log(ref)[None]
    m = float(inst.beta) * (d[:, :, :, None] - d[:, :, None, :])
    losses = -np.einsum("xij,nxij->n", w, log_expit(m))
    return losses, np.einsum("x,nxk,xk->n", rho, pis, W)


def _sft_batch(side: str) -> Callable[[Instance, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    def batch(inst: Instance, pis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, W, rho, _ = _float_parts(inst)
        t = to_float(sft_target(inst.data, side))  # type: ignore[arg-type]
        losses = -np.einsum("x,xk,nxk->n", rho, t, np.log(pis))
        wr = np.einsum("x,nxk,xk->n", rho, pis, W)
        return losses, (wr if side == "preferred" else -wr)

    return batch


DPO_CONTEST = Contest(
    "DPO",
    lambda inst, pi: dpo_loss(inst.data, pi, inst.pi_ref, inst.beta),
    lambda inst, pi: data_win_rate(inst.data, pi),
    _dpo_terms,
    batch=_dpo_batch,
)
SFT_CONTEST = Contest(
    "SFT",
    lambda inst, pi: sft_loss(inst.data, pi, "preferred"),
    lambda inst, pi: data_win_rate(inst.data, pi),
    _sft_terms("preferred"),
    uses_reference=False,
    batch=_sft_batch("preferred"),
)
SFT_DISPREFERRED_CONTEST = Contest(
    "SFT-dispreferred",
    lambda inst, pi: sft_loss(inst.data, pi, "dispreferred"),
    lambda inst, pi: -data_win_rate(inst.data, pi),  # trained to produce losers
    _sft_terms("dispreferred"),
    uses_reference=False,
    batch=_sft_batch("dispreferred"),
)
CONTESTS = {c.name: c for c in (DPO_CONTEST, SFT_CONTEST, SFT_DISPREFERRED_CONTEST)}


def exact_log_order(terms_a: tuple[list, list], terms_b: tuple[list, list]) -> int | None:
    """The exact sign of ``L_a - L_b`` for ``L = -sum_k a_k log v_k`` with rational ``a_k``,
    ``v_k``: with ``D`` a common denominator of every ``a_k``,
    ``L_a < L_b  iff  prod v_a^(D a_a) > prod v_b^(D a_b)``, compared in integers.  Returns -1, 0
    or 1, or None when the integers would exceed :data:`MAX_EXACT_BITS` bits.

    >>> half = Fraction(1, 2)
    >>> exact_log_order(([1], [half]), ([1], [Fraction(1, 3)]))  # log 2 < log 3
    -1
    """
    a_all = list(terms_a[0]) + list(terms_b[0])
    D = 1
    for a in a_all:
        D = D * Fraction(a).denominator // np.gcd(D, Fraction(a).denominator)
    bits = 0
    for a, v in itertools.chain(zip(*terms_a, strict=True), zip(*terms_b, strict=True)):
        v = Fraction(v)
        bits += int(a * D) * (v.numerator.bit_length() + v.denominator.bit_length())
        if bits > MAX_EXACT_BITS:
            return None

    def product(terms: tuple[list, list]) -> tuple[int, int]:
        num, den = 1, 1
        for a, v in zip(*terms, strict=True):
            e = int(Fraction(a) * D)
            v = Fraction(v)
            num *= v.numerator**e
            den *= v.denominator**e
        return num, den

    na, da = product(terms_a)
    nb, db = product(terms_b)
    # L_a - L_b = log(prod_b / prod_a): sign of (nb/db - na/da)
    diff = nb * da - na * db
    return (diff > 0) - (diff < 0)


@dataclass(frozen=True)
class ContestWitness:
    """Two models where the loss prefers ``pi_a`` and the win rate prefers ``pi_b``.

    ``loss_a < loss_b`` and ``win_rate_a < win_rate_b``; ``certified`` is True when the loss order
    was verified exactly (:func:`exact_log_order`) and the win rates are exact Fractions."""

    contest: str
    instance: Instance
    pi_a: np.ndarray
    pi_b: np.ndarray
    loss_a: float
    loss_b: float
    win_rate_a: Number
    win_rate_b: Number
    certified: bool

    @property
    def size(self) -> tuple[int, int, int, int]:
        """``(K, M, largest denominator, sum of denominators)`` over every number shown."""
        dens = _denominators(self.instance, self.pi_a, self.pi_b)
        d = self.instance.data
        return (d.K, d.M, max(dens, default=0), sum(dens))

    def as_dict(self) -> dict[str, Any]:
        one = self.instance.data.M == 1
        out = {"contest": self.contest, **self.instance.as_dict()}
        contest = CONTESTS.get(self.contest)
        if contest is not None and not contest.uses_reference:
            out.pop("pi_ref")
            out.pop("beta")
        out.update(
            pi_a=self.pi_a[0] if one else self.pi_a,
            pi_b=self.pi_b[0] if one else self.pi_b,
            loss_a=self.loss_a,
            loss_b=self.loss_b,
            win_rate_a=self.win_rate_a,
            win_rate_b=self.win_rate_b,
            certified=self.certified,
            reading="the loss prefers pi_a (lower), the win rate prefers pi_b (higher)",
        )
        return out


def _denominators(inst: Instance, *models: np.ndarray) -> list[int]:
    d = inst.data
    arrays = [d.P, d.mu0, d.mu1, np.asarray(inst.pi_ref), *models]
    if d.M > 1:
        arrays.append(d.rho)
    out: list[int] = []
    for a in arrays:
        if not is_exact(np.asarray(a)):
            return [10**18]
        out.extend(int(Fraction(v).denominator) for v in np.asarray(a).ravel())
    if isinstance(inst.beta, Fraction | int):
        out.append(Fraction(inst.beta).denominator)
    else:
        out.append(10**18)
    return out


def _judge(
    contest: Contest,
    inst: Instance,
    pi_a: np.ndarray,
    pi_b: np.ndarray,
    evals: tuple[tuple[float, Number], tuple[float, Number]] | None = None,
) -> ContestWitness | None:
    """The pair as a witness (``pi_b`` the one that wins more) if it disagrees, else None."""
    (la, wa), (lb, wb) = evals or (
        (contest.loss(inst, pi_a), contest.win_rate(inst, pi_a)),
        (contest.loss(inst, pi_b), contest.win_rate(inst, pi_b)),
    )
    if not (np.isfinite(la) and np.isfinite(lb)) or wa == wb:
        return None
    if wa > wb:  # orient: b has the higher win rate
        pi_a, pi_b, la, lb, wa, wb = pi_b, pi_a, lb, la, wb, wa
    certified = False
    exact_wr = isinstance(wa, Fraction) and isinstance(wb, Fraction)
    if contest.terms is not None and exact_wr:
        ta, tb = contest.terms(inst, pi_a), contest.terms(inst, pi_b)
        if ta is not None and tb is not None:
            sign = exact_log_order(ta, tb)
            if sign is not None:
                if sign >= 0:
                    return None
                certified = True
    if not certified and not la < lb - LOSS_TOL:
        return None
    return ContestWitness(contest.name, inst, pi_a, pi_b, la, lb, wa, wb, certified)


def random_instance(
    rng: np.random.Generator,
    *,
    K: int | None = None,
    M: int = 1,
    family: str | None = None,
    symmetric: bool | None = None,
    max_K: int = 6,
) -> Instance:
    """A random float instance: ``K`` in ``2..max_K``, a random family per prompt, ``mu0 = mu1``
    half of the time (unless ``symmetric`` says), full-support ``mu``, ``pi_ref`` uniform or
    random, ``beta`` in ``{0.1, 0.5, 1, 2}``.

    >>> inst = random_instance(np.random.default_rng(0), K=3, M=2)
    >>> inst.data.K, inst.data.M, inst.exact
    (3, 2, False)
    """
    from .data import random_preference_data

    K = int(rng.integers(2, max_K + 1)) if K is None else K
    sym = bool(rng.integers(2)) if symmetric is None else symmetric
    data = random_preference_data(rng, M, K, family=family, symmetric=sym)
    ref = np.full((M, K), 1.0 / K) if rng.integers(2) else random_model(rng, M, K)
    beta = float(rng.choice([0.1, 0.5, 1.0, 2.0]))
    return Instance(data, ref, beta)


def find_disagreement(
    contest: Contest, inst: Instance, rng: np.random.Generator, *, tries: int = 2000
) -> ContestWitness | None:
    """Random full-support model pairs on ``inst`` (Dirichlet(1) per prompt, plus pairs along the
    line through ``pi_ref`` and a random model) until one disagrees; None after ``tries`` pairs.

    >>> from theory.preferences import bradley_terry_from_strengths
    >>> D = PreferenceData(P=bradley_terry_from_strengths([1, 2]), mu0=[Fraction(1, 2)] * 2)
    >>> w = find_disagreement(DPO_CONTEST, Instance(D, [[0.5, 0.5]], 1.0), np.random.default_rng(0))
    >>> w.loss_a < w.loss_b and w.win_rate_a < w.win_rate_b
    True
    """
    M, K = inst.data.M, inst.data.K
    ref = to_float(np.asarray(inst.pi_ref))
    if contest.batch is not None:
        return _find_batched(contest, inst, rng, tries, ref)
    for n in range(tries):
        if n % 2:
            pa, pb = random_model(rng, M, K), random_model(rng, M, K)
        else:  # log-linear path from pi_ref: covers overshooting an optimum
            target = random_model(rng, M, K)
            ta, tb = rng.uniform(0, 4, size=2)
            pa = _geodesic(ref, target, ta)
            pb = _geodesic(ref, target, tb)
        w = _judge(contest, inst, pa, pb)
        if w is not None:
            return w
    return None


#: Models evaluated per batch by the batched screen of :func:`find_disagreement`.
BATCH = 64


def _find_batched(
    contest: Contest, inst: Instance, rng: np.random.Generator, tries: int, ref: np.ndarray
) -> ContestWitness | None:
    """Screen ``2 * tries`` models in batches: sorted by win rate, a pair disagrees iff some
    model has a higher loss than a model of lower win rate (running minimum); re-judge it."""
    M, K = inst.data.M, inst.data.K
    assert contest.batch is not None
    done = 0
    while done < 2 * tries:
        n = min(BATCH, 2 * tries - done)
        done += n
        half = n // 2
        pis = rng.dirichlet(np.ones(K), size=(n, M))
        targets = rng.dirichlet(np.ones(K), size=(half, M))
        t = rng.uniform(0, 4, size=(half, 1, 1))
        z = (1 - t) * np.log(ref)[None] + t * np.log(targets)
        z = np.exp(z - z.max(axis=2, keepdims=True))
        pis[:half] = z / z.sum(axis=2, keepdims=True)
        pis = np.clip(pis, 1e-300, None)
        pis = pis / pis.sum(axis=2, keepdims=True)
        losses, wrs = contest.batch(inst, pis)
        order = np.argsort(wrs, kind="stable")
        best_i = order[0]
        for j in order[1:]:
            if wrs[j] > wrs[best_i] and losses[j] > losses[best_i] + LOSS_TOL:
                w = _judge(contest, inst, pis[best_i], pis[j])
                if w is not None:
                    return w
            if losses[j] < losses[best_i]:
                best_i = j
    return None


def _geodesic(ref: np.ndarray, target: np.ndarray, t: float) -> np.ndarray:
    z = (1 - t) * np.log(ref) + t * np.log(target)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


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
    order = np.argsort(-frac)
    if rest > 0:
        for i in order[:rest]:
            k[i] += 1
    elif rest < 0:
        for i in np.argsort(frac):
            while rest < 0 and k[i] > (1 if positive and support[i] else 0):
                k[i] -= 1
                rest += 1
        if rest < 0:
            return None
    return np.array([Fraction(int(v), d) for v in k], dtype=object)


def _round_matrix(P: np.ndarray, d: int) -> np.ndarray:
    K = P.shape[0]
    out = np.full((K, K), Fraction(1, 2), dtype=object)
    for i in range(K):
        for j in range(i + 1, K):
            v = Fraction(round(float(P[i, j]) * d), d)
            out[i, j], out[j, i] = v, 1 - v
    return out


def _restrict(inst: Instance, x: int, subset: tuple[int, ...]) -> Instance | None:
    """The instance of prompt ``x`` conditioned on the responses ``subset`` (float)."""
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


def _round_instance(inst: Instance, d: int, beta: Any) -> Instance | None:
    data = inst.data
    P = np.stack([_round_matrix(to_float(data.P[x]), d) for x in range(data.M)])
    rows = {}
    for name, arr in (("mu0", data.mu0), ("mu1", data.mu1), ("ref", np.asarray(inst.pi_ref))):
        r = [round_to_grid(arr[x], d) for x in range(data.M)]
        kept = [v for v in r if v is not None]
        if len(kept) < len(r):
            return None
        rows[name] = np.stack(kept)
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


def _grid_search(
    contest: Contest, inst: Instance, max_d: int, max_points: int
) -> ContestWitness | None:
    """Smallest-denominator witness with both models on a grid ``k / e``, ``e <= max_d``
    (single prompt), or None."""
    K = inst.data.K
    seen: list[tuple[np.ndarray, float, Number]] = []
    for e in range(2, max_d + 1):
        new = []
        for v in simplex_grid(K, e):
            if any(np.all(v == s[0][0]) for s in seen):
                continue
            pi = v[None, :]
            loss = contest.loss(inst, pi)
            if not np.isfinite(loss):
                continue
            new.append((pi, loss, contest.win_rate(inst, pi)))
            if len(seen) + len(new) > max_points:
                break
        best: ContestWitness | None = None
        for (pa, la, wa), (pb, lb, wb) in itertools.chain(
            itertools.combinations(new, 2), itertools.product(new, seen)
        ):
            w = _judge(contest, inst, pa, pb, ((la, wa), (lb, wb)))
            if w is not None and (best is None or w.size < best.size):
                best = w
        if best is not None:
            return best
        seen.extend(new)
        if len(seen) > max_points:
            return None
    return None


def minimize_witness(
    contest: Contest,
    witness: ContestWitness,
    rng: np.random.Generator,
    *,
    max_denominator: int = 8,
    tries: int = 300,
    max_points: int = 60,
) -> ContestWitness:
    """A witness at most as large as ``witness`` (see :attr:`ContestWitness.size`): it tries one
    prompt, then subsets of responses of increasing size (the instance conditioned on the subset;
    random pairs, ``tries`` of them), then rounds the instance to ``k / d`` for ``d = 2 ..
    max_denominator`` (``beta = 1`` first, then ``beta`` rounded) and enumerates grid models.
    Returns the smallest witness found (``witness`` itself when nothing smaller is)."""
    inst = witness.instance
    best = witness
    candidates: list[Instance] = []
    M, K = inst.data.M, inst.data.K
    for k in range(2, K + 1):
        for x in range(M):
            for subset in itertools.combinations(range(K), k):
                sub = _restrict(inst, x, subset)
                if sub is not None:
                    candidates.append(sub)
        if candidates:
            found = []
            for sub in candidates:
                w = find_disagreement(contest, sub, rng, tries=tries)
                if w is not None:
                    found.append(w)
                    if len(found) >= 3:
                        break
            if found:
                break
            candidates = []
    else:
        found = []
    for w in found:
        for beta in _beta_choices(w.instance.beta):
            for d in range(2, max_denominator + 1):
                rounded = _round_instance(w.instance, d, beta)
                if rounded is None:
                    continue
                g = _grid_search(contest, rounded, max_denominator, max_points)
                if g is not None and g.size < best.size:
                    best = g
                    break
            if best.certified:
                break
        if best.certified:
            break
    if not best.certified and found and min(f.size for f in found) < best.size:
        best = min(found, key=lambda f: f.size)
    return best


def _beta_choices(beta: Any) -> list[Any]:
    out: list[Any] = [Fraction(1)]
    b = Fraction(float(beta)).limit_denominator(4)
    if b > 0 and b != 1:
        out.append(b)
    return out


def _farey(d: int, *, ends: bool = False) -> list[Fraction]:
    vals = {
        Fraction(k, e)
        for e in range(1, d + 1)
        for k in range(0 if ends else 1, e + (1 if ends else 0))
    }
    return sorted(vals)


def smallest_witness(
    contest: Contest, *, max_denominator: int = 4, beta: Any = 1
) -> ContestWitness | None:
    """The witness over two responses (one prompt, ``beta`` fixed, default 1) whose largest
    denominator is smallest, by exhaustive enumeration: for ``d = 2, 3, ...`` every ``P[0, 1]``
    in ``[0, 1]``, ``mu0``, ``mu1`` and ``pi_ref`` (only when the loss uses it) of full support and
    both models with entries of denominator at most ``d``; among the witnesses at the first ``d``
    that has one, the smallest by :attr:`ContestWitness.size`.  Every witness is certified
    exactly.  None when no witness has denominators ``<= max_denominator``.

    >>> w = smallest_witness(SFT_CONTEST, max_denominator=3)
    >>> w.size[0], w.size[2], w.certified
    (2, 3, True)
    """
    b = Fraction(beta)
    for d in range(2, max_denominator + 1):
        inner, closed = _farey(d), _farey(d, ends=True)
        models = [np.array([[v, 1 - v]], dtype=object) for v in inner]
        refs = inner if contest.uses_reference else [Fraction(1, 2)]
        best: ContestWitness | None = None
        for p01, m0, m1, r in itertools.product(closed, inner, inner, refs):
            P = np.array([[Fraction(1, 2), p01], [1 - p01, Fraction(1, 2)]], dtype=object)
            data = PreferenceData(P=P, mu0=[m0, 1 - m0], mu1=None if m1 == m0 else [m1, 1 - m1])
            inst = Instance(data, np.array([[r, 1 - r]], dtype=object), b)
            evals = [(contest.loss(inst, m), contest.win_rate(inst, m)) for m in models]
            for i, j in itertools.combinations(range(len(models)), 2):
                w = _judge(contest, inst, models[i], models[j], (evals[i], evals[j]))
                if w is not None and w.certified and (best is None or w.size < best.size):
                    best = w
        if best is not None:
            return best
    return None


def search_witness(
    contest: Contest,
    inst: Instance,
    rng: np.random.Generator,
    *,
    tries: int = 2000,
    minimize: bool = True,
    **minimize_options: Any,
) -> ContestWitness | None:
    """:func:`find_disagreement` then (optionally) :func:`minimize_witness`.

    >>> rng = np.random.default_rng(1)
    >>> w = search_witness(SFT_CONTEST, random_instance(rng, K=3, family="general"), rng)
    >>> w.certified, w.size[0] <= 3
    (True, True)
    """
    w = find_disagreement(contest, inst, rng, tries=tries)
    if w is None or not minimize:
        return w
    return minimize_witness(contest, w, rng, **minimize_options)


@dataclass(frozen=True)
class DisagreementStats:
    """How often random model pairs disagree: ``pairs`` tried over ``instances`` instances,
    ``disagreements`` of them disagreeing strictly, ``instances_with_witness`` instances with at
    least one disagreeing pair; ``rate`` = disagreements / pairs."""

    instances: int
    pairs: int
    disagreements: int
    instances_with_witness: int
    per_instance: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.disagreements / self.pairs if self.pairs else 0.0


def disagreement_rate(
    contest: Contest,
    rng: np.random.Generator,
    *,
    instances: int = 100,
    pairs: int = 50,
    sampler: Callable[[np.random.Generator], Instance] | None = None,
) -> DisagreementStats:
    """The fraction of random model pairs (Dirichlet(1) per prompt) whose loss order and win-rate
    order disagree, over ``instances`` random instances (``sampler``, default
    :func:`random_instance`) with ``pairs`` pairs each.  Ties count as agreement.

    >>> s = disagreement_rate(DPO_CONTEST, np.random.default_rng(0), instances=5, pairs=20)
    >>> s.pairs, 0 <= s.rate <= 1
    (100, True)
    """
    if instances < 1 or pairs < 1:
        raise InvalidParameterError("instances and pairs must be positive integers")
    sampler = sampler or random_instance
    total, hits, with_witness, per = 0, 0, 0, []
    for _ in range(instances):
        inst = sampler(rng)
        M, K = inst.data.M, inst.data.K
        models = [random_model(rng, M, K) for _ in range(2 * pairs)]
        evals = [(contest.loss(inst, p), contest.win_rate(inst, p)) for p in models]
        h = 0
        for n in range(pairs):
            (la, wa), (lb, wb) = evals[2 * n], evals[2 * n + 1]
            if (la - lb) * (wa - wb) > 0 and abs(la - lb) > LOSS_TOL:
                h += 1
        total += pairs
        hits += h
        with_witness += h > 0
        per.append(h / pairs)
    return DisagreementStats(instances, total, hits, with_witness, per)
