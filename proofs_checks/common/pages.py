"""Generated docs pages: write one, or check that the committed one is fresh.

Used by the generators of docs/uniqueness.md (:mod:`proofs_checks.common.docs_uniqueness`) and
docs/zoo.md (:mod:`proofs_checks.common.docs_zoo`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_or_check"]


def write_or_check(
    path: Path, render: Callable[[], str], argv: list[str] | None, command: str
) -> int:
    """The ``main`` of a page generator: with ``--check`` in ``argv`` (default ``sys.argv[1:]``)
    exit status 1 when ``path`` differs from ``render()`` (naming ``command``, which
    regenerates it), else 0; without it, write ``render()`` to ``path`` and return 0."""
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        current = path.read_text() if path.exists() else ""
        if current != text:
            print(f"{path} is stale; run {command}", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}")
    return 0
