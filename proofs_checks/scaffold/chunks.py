"""Chunked checks: a claim's instances split into chunks that run anywhere and merge in order.

A check that can be spread over processes or machines is written as two functions::

    def chunk(ctx: CheckContext) -> Stats:          # ctx.instances instances, from ctx.rng;
        ...                                          # the first one's global index is ctx.start,
                                                     # the claim's size ctx.total
    def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
        ...                                          # after the merge; ctx.instances is the total

    CLAIM = Claim(ID, STATEMENT, "holds", chunked(chunk, finish, size=500), figure)

The reproducibility rule (docs/architecture.md, "Scale"): the chunks have a fixed ``size`` (never
a function of the worker count); chunk ``i`` draws from its own generator, spawned from the claim's
seed sequence with the spawn key ``(0, i)``; the tallies are merged in chunk order
(:meth:`~proofs_checks.scaffold.tally.Tally.merge`); ``finish`` gets a generator of its own
(spawn key ``(1,)``) for resampling statistics.  So a claim's result is the same function of the
seed and the size whether its chunks run in turn (calling the :class:`Chunked` itself, as a plain
``check``), in local processes or on a Dask cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import reduce
from typing import Any, Generic, TypeVar

import numpy as np

from .claim import CheckContext, CheckResult
from .tally import Tally

__all__ = ["Chunked", "chunked", "chunk_bounds", "chunk_context", "finish_context", "merge_all"]

T = TypeVar("T", bound=Tally)

#: The default number of instances in a chunk.
DEFAULT_CHUNK = 500


@dataclass(frozen=True)
class Chunked(Generic[T]):
    """A check split into ``chunk`` (instances -> tally) and ``finish`` (merged tally -> result),
    in chunks of ``size`` instances.  Calling it runs every chunk in turn (the serial run)."""

    chunk: Callable[[CheckContext], T]
    finish: Callable[[T, CheckContext], CheckResult]
    size: int = DEFAULT_CHUNK

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"chunk size {self.size}: expected at least 1")

    def __call__(self, ctx: CheckContext) -> CheckResult:
        tallies = [self.chunk(c) for c in _contexts(ctx, self.size)]
        return self.finish(merge_all(tallies), finish_context(ctx))


def chunked(
    chunk: Callable[[CheckContext], T],
    finish: Callable[[T, CheckContext], CheckResult],
    *,
    size: int = DEFAULT_CHUNK,
) -> Chunked[T]:
    """The check made of ``chunk`` and ``finish`` (module docstring)."""
    return Chunked(chunk, finish, size)


def chunk_bounds(instances: int, size: int) -> list[tuple[int, int]]:
    """``(start, count)`` of each chunk of ``instances`` in chunks of ``size`` (the last one may
    be shorter; zero instances make one empty chunk, so ``finish`` always sees a tally).

    >>> chunk_bounds(1200, 500)
    [(0, 500), (500, 500), (1000, 200)]
    """
    if instances <= 0:
        return [(0, 0)]
    return [(s, min(size, instances - s)) for s in range(0, instances, size)]


def _spawned(rng: np.random.Generator, key: tuple[int, ...]) -> np.random.Generator:
    """A generator spawned from ``rng``'s seed sequence with the spawn key ``key`` appended:
    the same stream wherever and whenever it is made (unlike ``SeedSequence.spawn``, which
    counts the children already spawned)."""
    seq: Any = rng.bit_generator.seed_seq  # a SeedSequence (typed as its interface)
    child = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, *key))
    return np.random.default_rng(child)


def chunk_context(ctx: CheckContext, index: int, start: int, count: int) -> CheckContext:
    """The context of chunk ``index``: ``count`` instances from global index ``start``, with the
    chunk's own generator; its progress reports are offset by ``start``."""
    outer = ctx.progress
    return replace(
        ctx,
        instances=count,
        start=start,
        total=ctx.instances,
        rng=_spawned(ctx.rng, (0, index)),
        progress=lambda done: outer(start + done),
    )


def finish_context(ctx: CheckContext) -> CheckContext:
    """The context ``finish`` gets: the total size and a generator of its own."""
    return replace(ctx, start=0, total=ctx.instances, rng=_spawned(ctx.rng, (1,)))


def _contexts(ctx: CheckContext, size: int) -> Iterator[CheckContext]:
    for index, (start, count) in enumerate(chunk_bounds(ctx.instances, size)):
        yield chunk_context(ctx, index, start, count)


def merge_all(tallies: list[T]) -> T:
    """The tallies merged in the order given (chunk order)."""
    return reduce(lambda a, b: a.merge(b), tallies)
