"""Live progress of a run: one line per claim in flight (instances done, rate, time left).

On a terminal each claim in flight has a tqdm bar, shown once the run is
:data:`PROGRESS_AFTER_S` seconds old and removed when the claim's row is printed; in a log (not a
terminal) one line per claim in flight is written every :data:`PROGRESS_EVERY_LOG_S` seconds.
Report rows go through :meth:`Progress.write`, so bars and rows never interleave.
"""

from __future__ import annotations

import time
from typing import Any, TextIO

__all__ = ["Progress", "PROGRESS_AFTER_S", "PROGRESS_EVERY_LOG_S"]

#: Progress is shown only once the run is this many seconds old.
PROGRESS_AFTER_S = 2.0
#: Seconds between progress lines in a log.
PROGRESS_EVERY_LOG_S = 10.0


class Progress:
    """Instances done per claim, drawn to ``stream``; rows of the report written to ``out``."""

    def __init__(self, claims: dict[int, tuple[str, int]], stream: TextIO, out: TextIO) -> None:
        """``claims``: each claim's (id, instances) by its position in the run."""
        self.labels = {slot: label for slot, (label, _) in claims.items()}
        self.totals = {slot: n for slot, (_, n) in claims.items()}
        self.stream, self.out = stream, out
        self.done = dict.fromkeys(claims, 0)
        self.within: dict[int, int] = {}
        self.began: dict[int, float] = {}
        self.bars: dict[int, Any] = {}
        #: how many report rows have been printed (rows go out in the run's order)
        self.printed = 0
        self.start = time.monotonic()
        self.last_line = self.start
        self.tty = bool(getattr(stream, "isatty", lambda: False)())

    def advance(self, slot: int, instances: int, seconds: float = 0.0) -> None:
        """A task of ``slot`` finished, with ``instances`` instances, in ``seconds``."""
        self.began.setdefault(slot, time.monotonic() - seconds)
        self.done[slot] += instances
        self.within.pop(slot, None)
        self._show(slot)

    def partial(self, slot: int, instances: int) -> None:
        """A running task of ``slot`` (in this process) has done ``instances`` so far."""
        self.within[slot] = instances
        self._show(slot)

    def finished(self, slot: int) -> None:
        """The claim is done: its bar goes."""
        bar = self.bars.pop(slot, None)
        if bar is not None:
            bar.close()

    def write(self, text: str) -> None:
        """Print report text without breaking the bars."""
        if self.bars:
            from tqdm import tqdm

            tqdm.write(text.rstrip("\n"), file=self.out)
        else:
            self.out.write(text)
        self.out.flush()

    def close(self) -> None:
        for slot in list(self.bars):
            self.finished(slot)

    def _count(self, slot: int) -> int:
        return min(self.done[slot] + self.within.get(slot, 0), self.totals[slot])

    def _show(self, slot: int) -> None:
        now = time.monotonic()
        self.began.setdefault(slot, now)
        if now - self.start < PROGRESS_AFTER_S:
            return
        if self.tty:
            self._bar(slot)
        elif now - self.last_line >= PROGRESS_EVERY_LOG_S:
            self.last_line = now
            self._log_lines(now)

    def _bar(self, slot: int) -> None:
        bar = self.bars.get(slot)
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(
                total=self.totals[slot],
                desc=f"  {self.labels[slot]}",
                unit=" inst",
                leave=False,
                file=self.stream,
                dynamic_ncols=True,
                mininterval=0.5,
            )
            self.bars[slot] = bar
        bar.update(self._count(slot) - bar.n)

    def _log_lines(self, now: float) -> None:
        for slot, total in self.totals.items():
            done = self._count(slot)
            if slot not in self.began or done >= total:
                continue
            elapsed = now - self.began[slot]
            pace = ""
            if done > 0 and elapsed >= 1.0:
                rate = done / elapsed
                pace = f", {rate:.3g}/s, ~{(total - done) / rate:.0f} s left"
            self.stream.write(f"  {self.labels[slot]}: {done}/{total} ({done / total:.0%}{pace})\n")
        self.stream.flush()
