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

    def __init__(self, totals: dict[str, int], stream: TextIO, out: TextIO) -> None:
        self.totals, self.stream, self.out = totals, stream, out
        self.done = dict.fromkeys(totals, 0)
        self.within: dict[str, int] = {}
        self.began: dict[str, float] = {}
        self.bars: dict[str, Any] = {}
        self.start = time.monotonic()
        self.last_line = self.start
        self.tty = bool(getattr(stream, "isatty", lambda: False)())

    def advance(self, claim_id: str, instances: int, seconds: float = 0.0) -> None:
        """A task of ``claim_id`` finished, with ``instances`` instances, in ``seconds``."""
        self.began.setdefault(claim_id, time.monotonic() - seconds)
        self.done[claim_id] += instances
        self.within.pop(claim_id, None)
        self._show(claim_id)

    def partial(self, claim_id: str, instances: int) -> None:
        """A running task of ``claim_id`` (in this process) has done ``instances`` so far."""
        self.within[claim_id] = instances
        self._show(claim_id)

    def finished(self, claim_id: str) -> None:
        """The claim is done: its bar goes."""
        bar = self.bars.pop(claim_id, None)
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
        for claim_id in list(self.bars):
            self.finished(claim_id)

    def _count(self, claim_id: str) -> int:
        return min(self.done[claim_id] + self.within.get(claim_id, 0), self.totals[claim_id])

    def _show(self, claim_id: str) -> None:
        now = time.monotonic()
        self.began.setdefault(claim_id, now)
        if now - self.start < PROGRESS_AFTER_S:
            return
        if self.tty:
            self._bar(claim_id)
        elif now - self.last_line >= PROGRESS_EVERY_LOG_S:
            self.last_line = now
            self._log_lines(now)

    def _bar(self, claim_id: str) -> None:
        bar = self.bars.get(claim_id)
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(
                total=self.totals[claim_id],
                desc=f"  {claim_id}",
                unit=" inst",
                leave=False,
                file=self.stream,
                dynamic_ncols=True,
                mininterval=0.5,
            )
            self.bars[claim_id] = bar
        bar.update(self._count(claim_id) - bar.n)

    def _log_lines(self, now: float) -> None:
        for claim_id, total in self.totals.items():
            done = self._count(claim_id)
            if claim_id not in self.began or done >= total:
                continue
            elapsed = now - self.began[claim_id]
            pace = ""
            if done > 0 and elapsed >= 1.0:
                rate = done / elapsed
                pace = f", {rate:.3g}/s, ~{(total - done) / rate:.0f} s left"
            self.stream.write(f"  {claim_id}: {done}/{total} ({done / total:.0%}{pace})\n")
        self.stream.flush()
