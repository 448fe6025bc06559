"""Random search for a disagreeing pair, and how often random pairs disagree.

:func:`random_instance` draws a float :class:`~theory.search.contests.Instance`;
:func:`find_disagreement` draws model pairs on it until a pair disagrees (a batched screen when
the contest has a batch kernel); :func:`disagreement_rate` measures how often random pairs
disagree over many instances.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..data import random_preference_data
from ..errors import InvalidParameterError
from ..numbers import to_float
from ..simplex import random_model
from .certify import LOSS_TOL, ContestWitness, judge
from .contests import Contest, Instance

__all__ = [
    "BATCH",
    "DisagreementStats",
    "random_instance",
    "find_disagreement",
    "disagreement_rate",
]

#: Models evaluated per batch by the batched screen of :func:`find_disagreement`.
BATCH = 64


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
    K = int(rng.integers(2, max_K + 1)) if K is None else K
    sym = bool(rng.integers(2)) if symmetric is None else symmetric
    data = random_preference_data(rng, M, K, family=family, symmetric=sym)
    ref = np.full((M, K), 1.0 / K) if rng.integers(2) else random_model(rng, M, K)
    beta = float(rng.choice([0.1, 0.5, 1.0, 2.0]))
    return Instance(data, ref, beta)


def _geodesic(ref: np.ndarray, target: np.ndarray, t: float) -> np.ndarray:
    z = (1 - t) * np.log(ref) + t * np.log(target)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def find_disagreement(
    contest: Contest, inst: Instance, rng: np.random.Generator, *, tries: int = 2000
) -> ContestWitness | None:
    """Random full-support model pairs on ``inst`` (Dirichlet(1) per prompt, plus pairs along the
    line through ``pi_ref`` and a random model) until one disagrees; None after ``tries`` pairs.

    >>> from fractions import Fraction
    >>> from theory.data import PreferenceData
    >>> from theory.preferences import bradley_terry_from_strengths
    >>> from theory.search import DPO_CONTEST
    >>> D = PreferenceData(P=bradley_terry_from_strengths([1, 2]), mu0=[Fraction(1, 2)] * 2)
    >>> w = find_disagreement(DPO_CONTEST, Instance(D, [[0.5, 0.5]], 1.0), np.random.default_rng(0))
    >>> w.loss_a < w.loss_b and w.win_rate_a < w.win_rate_b
    True
    """
    M, K = inst.data.M, inst.data.K
    ref = to_float(np.asarray(inst.pi_ref))
    if contest.batch is not None:
        return _find_batched(contest, contest.batch, inst, rng, tries, ref)
    for n in range(tries):
        if n % 2:
            pa, pb = random_model(rng, M, K), random_model(rng, M, K)
        else:  # log-linear path from pi_ref: covers overshooting an optimum
            target = random_model(rng, M, K)
            ta, tb = rng.uniform(0, 4, size=2)
            pa = _geodesic(ref, target, ta)
            pb = _geodesic(ref, target, tb)
        w = judge(contest, inst, pa, pb)
        if w is not None:
            return w
    return None


def _draw_batch(rng: np.random.Generator, n: int, M: int, K: int, ref: np.ndarray) -> np.ndarray:
    """``n`` full-support float models ``(n, M, K)``: the first half along log-linear paths from
    ``pi_ref``, the rest Dirichlet(1)."""
    half = n // 2
    pis = rng.dirichlet(np.ones(K), size=(n, M))
    targets = rng.dirichlet(np.ones(K), size=(half, M))
    t = rng.uniform(0, 4, size=(half, 1, 1))
    z = (1 - t) * np.log(ref)[None] + t * np.log(targets)
    z = np.exp(z - z.max(axis=2, keepdims=True))
    pis[:half] = z / z.sum(axis=2, keepdims=True)
    pis = np.clip(pis, 1e-300, None)
    return pis / pis.sum(axis=2, keepdims=True)


def _screen(
    contest: Contest, inst: Instance, pis: np.ndarray, losses: np.ndarray, wrs: np.ndarray
) -> ContestWitness | None:
    """Sorted by win rate, a pair disagrees iff some model has a higher loss than a model of
    lower win rate (the running minimum of the loss); each flagged pair is re-judged."""
    order = np.argsort(wrs, kind="stable")
    best_i = order[0]
    for j in order[1:]:
        if wrs[j] > wrs[best_i] and losses[j] > losses[best_i] + LOSS_TOL:
            w = judge(contest, inst, pis[best_i], pis[j])
            if w is not None:
                return w
        if losses[j] < losses[best_i]:
            best_i = j
    return None


def _find_batched(
    contest: Contest,
    batch: Callable[[Instance, np.ndarray], tuple[np.ndarray, np.ndarray]],
    inst: Instance,
    rng: np.random.Generator,
    tries: int,
    ref: np.ndarray,
) -> ContestWitness | None:
    """Screen ``2 * tries`` models in batches of :data:`BATCH` (:func:`_screen`)."""
    done = 0
    while done < 2 * tries:
        n = min(BATCH, 2 * tries - done)
        done += n
        pis = _draw_batch(rng, n, inst.data.M, inst.data.K, ref)
        losses, wrs = batch(inst, pis)
        w = _screen(contest, inst, pis, losses, wrs)
        if w is not None:
            return w
    return None


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


def _disagreeing_pairs(
    contest: Contest, inst: Instance, rng: np.random.Generator, pairs: int
) -> int:
    """How many of ``pairs`` random model pairs on ``inst`` disagree strictly."""
    M, K = inst.data.M, inst.data.K
    models = [random_model(rng, M, K) for _ in range(2 * pairs)]
    evals = [(contest.loss(inst, p), contest.win_rate(inst, p)) for p in models]
    hits = 0
    for n in range(pairs):
        (la, wa), (lb, wb) = evals[2 * n], evals[2 * n + 1]
        hits += bool((la - lb) * (wa - wb) > 0 and abs(la - lb) > LOSS_TOL)
    return hits


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

    >>> from theory.search import DPO_CONTEST
    >>> s = disagreement_rate(DPO_CONTEST, np.random.default_rng(0), instances=5, pairs=20)
    >>> s.pairs, 0 <= s.rate <= 1
    (100, True)
    """
    if instances < 1 or pairs < 1:
        raise InvalidParameterError("instances and pairs must be positive integers")
    sampler = sampler or random_instance
    hits = [_disagreeing_pairs(contest, sampler(rng), rng, pairs) for _ in range(instances)]
    return DisagreementStats(
        instances, instances * pairs, sum(hits), sum(h > 0 for h in hits), [h / pairs for h in hits]
    )
