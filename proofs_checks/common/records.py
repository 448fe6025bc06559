"""Writers of experiment records: the runner side of the ``opt-success`` outputs.

The library (``theory/``) writes no files (the runner's output contract, docs/architecture.md);
a check that keeps per-run records hands them to these writers, which put them where the runner
says outputs go (``reports/``, git-ignored).

* :func:`write_runs_csv`: one row per run, one column per field of a record dataclass;
* :func:`write_experiment_json`: a configuration and statistics payload as indented JSON.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_runs_csv", "write_experiment_json", "json_default"]


def write_runs_csv(records: Sequence[Any], path: Path) -> Path:
    """One row per run with every field of the records' dataclass (the folder is created).

    ``records`` are instances of one dataclass (e.g. :class:`theory.experiments.RunRecord`) or
    plain dicts with the same keys; an empty sequence writes an empty file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [asdict(r) if is_dataclass(r) and not isinstance(r, type) else dict(r) for r in records]
    with path.open("w", newline="") as fh:
        if rows:
            names = (
                [f.name for f in fields(records[0])] if is_dataclass(records[0]) else list(rows[0])
            )
            writer = csv.DictWriter(fh, fieldnames=names)
            writer.writeheader()
            writer.writerows(rows)
    return path


def write_experiment_json(payload: dict[str, Any], path: Path) -> Path:
    """The configuration and summary statistics as indented JSON (the folder is created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=json_default) + "\n")
    return path


def json_default(v: Any) -> Any:
    """JSON for what :mod:`json` cannot write: dataclasses as dicts, arrays as lists, numpy
    scalars as numbers, anything else as its ``str``."""
    if is_dataclass(v) and not isinstance(v, type):
        return asdict(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.integer | np.floating):
        return v.item()
    return str(v)
