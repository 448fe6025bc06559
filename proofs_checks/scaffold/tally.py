"""The typed tally of a claim check: what it counted, the extremes it saw, the smallest witness.

A check declares its own tally as a dataclass deriving from :class:`Tally`, one typed field per
statistic, so that a misspelt statistic is an ``AttributeError`` and not a silently new key::

    @dataclass
    class Stats(Tally):
        exact: int = 0                       # a count
        max_error: Max = maximum()           # the largest value offered
        scatter: Samples = samples(2000)     # the first 2000 points, in instance order

Every tally carries ``witness``, a :class:`Smallest`: the smallest violation (or, for a
counterexample claim, the smallest witness) by a size key, with the number offered.

Merging (:meth:`Tally.merge`, used to combine the tallies of chunks of instances, in chunk
order) follows one rule per field type:

=================  =============================================================================
field type         ``a.merge(b)``
=================  =============================================================================
``int``, ``float`` the sum
:class:`Max`       the larger value (``None`` when neither saw one)
:class:`Min`       the smaller value
:class:`Samples`   ``a``'s values then ``b``'s, the first ``cap`` kept
:class:`Counts`    counts added key by key (keys in first-seen order)
:class:`Smallest`  the smaller size key (a tie keeps ``a``'s, the earlier chunk); counts added
:class:`Collected` ``a``'s values then ``b``'s, all kept (data for ``finish``, not in the summary)
=================  =============================================================================

Merging is associative, and tallies merged in chunk order give the same result however the
chunks were scheduled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Self

from .claim import CheckResult

__all__ = [
    "Tally",
    "Max",
    "Min",
    "Samples",
    "Counts",
    "Smallest",
    "Collected",
    "collected",
    "maximum",
    "minimum",
    "samples",
    "counts",
]


class Max:
    """The largest value offered (``value`` is ``None`` until one is)."""

    def __init__(self, value: float | None = None) -> None:
        self.value = value

    def add(self, *values: Any) -> None:
        """Offer values (numbers or arrays; arrays contribute their maximum)."""
        for v in values:
            v = _extreme(v, max)
            if v is not None and (self.value is None or v > self.value):
                self.value = v

    def merge(self, other: Max) -> Max:
        out = Max(self.value)
        out.add(other.value)
        return out

    def __float__(self) -> float:
        return float("nan") if self.value is None else float(self.value)

    def __repr__(self) -> str:
        return f"Max({self.value!r})"


class Min(Max):
    """The smallest value offered (``value`` is ``None`` until one is)."""

    def add(self, *values: Any) -> None:
        for v in values:
            v = _extreme(v, min)
            if v is not None and (self.value is None or v < self.value):
                self.value = v

    def merge(self, other: Max) -> Min:
        out = Min(self.value)
        out.add(other.value)
        return out

    def __repr__(self) -> str:
        return f"Min({self.value!r})"


def _extreme(v: Any, pick: Any) -> Any:
    if v is None:
        return None
    if hasattr(v, "size") and hasattr(v, "ravel"):  # a numpy array or scalar
        if v.size == 0:
            return None
        return float(pick(v.ravel().tolist()))
    return v


class Samples:
    """The first ``cap`` values offered, in order (for figures and summaries)."""

    def __init__(self, cap: int, values: Iterable[Any] = ()) -> None:
        self.cap = cap
        self.values: list[Any] = list(values)[:cap]
        self.offered = len(self.values)

    def add(self, *values: Any) -> None:
        """Offer values one by one."""
        self.extend(values)

    def extend(self, values: Iterable[Any]) -> None:
        """Offer every value of an iterable."""
        for v in values:
            self.offered += 1
            if len(self.values) < self.cap:
                self.values.append(v)

    def merge(self, other: Samples) -> Samples:
        out = Samples(self.cap, self.values)
        out.offered = self.offered
        out.extend(other.values)
        out.offered = self.offered + other.offered
        return out

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return f"Samples({len(self.values)} of {self.offered})"


class Counts:
    """Counts by key (a family, a K, a property name), keys kept in first-seen order."""

    def __init__(self, items: Iterable[tuple[Any, int]] = ()) -> None:
        self.by_key: dict[Any, int] = {}
        for k, n in items:
            self.add(k, n)

    def add(self, key: Any, n: int = 1) -> None:
        self.by_key[key] = self.by_key.get(key, 0) + int(n)

    def __getitem__(self, key: Any) -> int:
        return self.by_key.get(key, 0)

    def total(self) -> int:
        return sum(self.by_key.values())

    def merge(self, other: Counts) -> Counts:
        out = Counts(self.by_key.items())
        for k, n in other.by_key.items():
            out.add(k, n)
        return out

    def __repr__(self) -> str:
        return f"Counts({self.by_key!r})"


class Smallest:
    """The smallest candidate offered by a size key, and how many were offered.

    ``offer(size, value)`` keeps ``value`` when ``size`` is smaller than the kept one's (the
    first offered wins a tie); ``count`` counts every offer, kept or not.
    """

    def __init__(self) -> None:
        self.size: tuple | None = None
        self.value: dict[str, Any] | None = None
        self.count = 0

    def offer(self, size: tuple, value: dict[str, Any]) -> None:
        self.count += 1
        if self.size is None or size < self.size:
            self.size, self.value = size, value

    def merge(self, other: Smallest) -> Smallest:
        out = Smallest()
        out.size, out.value, out.count = self.size, self.value, self.count + other.count
        if other.size is not None and (out.size is None or other.size < out.size):
            out.size, out.value = other.size, other.value
        return out

    def __bool__(self) -> bool:
        return self.value is not None

    def __repr__(self) -> str:
        return f"Smallest(size={self.size!r}, count={self.count})"


def maximum() -> Any:
    """A :class:`Max` field of a tally."""
    return field(default_factory=Max)


def minimum() -> Any:
    """A :class:`Min` field of a tally."""
    return field(default_factory=Min)


def samples(cap: int) -> Any:
    """A :class:`Samples` field of a tally keeping the first ``cap`` values."""
    return field(default_factory=lambda: Samples(cap))


def counts() -> Any:
    """A :class:`Counts` field of a tally."""
    return field(default_factory=Counts)


class Collected:
    """Every value offered, in order: what a chunk hands to ``finish`` (per-problem runs, say)
    that is not a statistic; :meth:`Tally.summary` leaves it out of the report."""

    def __init__(self, values: Iterable[Any] = ()) -> None:
        self.values: list[Any] = list(values)

    def add(self, *values: Any) -> None:
        self.values.extend(values)

    def merge(self, other: Collected) -> Collected:
        return Collected([*self.values, *other.values])

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return f"Collected({len(self.values)} values)"


def collected() -> Any:
    """A :class:`Collected` field of a tally."""
    return field(default_factory=Collected)


@dataclass
class Tally:
    """The base of every check's tally: ``witness`` holds the smallest violation or witness."""

    witness: Smallest = field(default_factory=Smallest)

    def merge(self, other: Self) -> Self:
        """This tally followed by ``other`` (a later chunk), field by field (module docstring)."""
        if type(other) is not type(self):
            raise TypeError(f"cannot merge a {type(other).__name__} into a {type(self).__name__}")
        merged = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            merged[f.name] = a.merge(b) if hasattr(a, "merge") else a + b
        return type(self)(**merged)

    def result(self, instances: int, observed: str, **details: Any) -> CheckResult:
        """The check's result: ``found`` when a witness was offered, the smallest witness as the
        counterexample, and :meth:`summary` plus ``details`` (whose keys may not shadow a
        statistic of the tally) as the details."""
        summary = self.summary()
        clash = sorted(set(summary) & set(details))
        if clash:
            raise ValueError(f"details {clash} would overwrite statistics of the tally")
        return CheckResult(
            observed=observed,
            instances=instances,
            found=bool(self.witness),
            counterexample=self.witness.value,
            details={**summary, **details},
        )

    def summary(self) -> dict[str, Any]:
        """Every statistic as plain data (for the report's details), the witness left out; a
        further :class:`Smallest` field (a check that keeps more than one) gives its value."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "witness" or isinstance(getattr(self, f.name), Collected):
                continue
            v = getattr(self, f.name)
            if isinstance(v, Max):
                out[f.name] = v.value
            elif isinstance(v, Samples):
                out[f.name] = v.values
            elif isinstance(v, Counts):
                out[f.name] = dict(v.by_key)
            elif isinstance(v, Smallest):  # a second smallest (besides the witness): its value
                out[f.name] = v.value
            else:
                out[f.name] = asdict(v) if hasattr(v, "__dataclass_fields__") else v
        return out
