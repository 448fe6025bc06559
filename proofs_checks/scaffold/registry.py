"""Discovery of the claim modules, the order of the report, the per-claim generator, JSON.

Every top-level module of :mod:`proofs_checks` that defines ``CLAIM`` (a
:class:`~proofs_checks.scaffold.claim.Claim`) is a claim; subpackages (``scaffold``,
``common``) hold the machinery and the pieces several checks share.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import zlib
from typing import Any

import numpy as np

from theory.numbers import format_number

from .claim import Claim

__all__ = ["CLAIM_ORDER", "all_claims", "claim_rng", "jsonable"]

#: The claim ids of docs/theory.md, in the order of its table.
CLAIM_ORDER = (
    "WR-basic",
    "U-forward",
    "U-converse",
    "U-catalog",
    "WRO-closed-form",
    "RLHF-is-WRO",
    "NLHF-is-WRO",
    "WRO-correspondence",
    "WRO-consistency",
    "DPO-no-correspondence",
    "DPO-fixed-points",
    "SFT-closed-form",
    "SFT-no-consistency",
    "SFT-no-correspondence",
    "mitigations",
    "opt-success",
    "IPO-optimum-is-WRO",
    "IPO-mu0-ne-mu1",
    "cDPO-is-smoothed-DPO",
    "rDPO-is-debiased-DPO",
    "zoo-no-correspondence",
    "zoo-no-consistency",
    "GPO-links",
    "ties-convention",
    "PL-marginals-are-BT",
    "unpaired-win-rate-is-desirability",
    "KTO-no-consistency",
    "online-DPO-is-RLHF-under-BT",
    "online-DPO-not-WRO",
    "Nash-MD-shifted",
    "SPPO-average-is-maximal-lottery",
    "GRPO-forward-KL",
    "in-group-judge-is-NLHF",
)


def claim_rng(seed: int, claim_id: str) -> np.random.Generator:
    """The generator a claim's check uses: independent of which other claims run."""
    return np.random.default_rng([seed, zlib.crc32(claim_id.encode())])


def control_rng(seed: int, claim_id: str) -> np.random.Generator:
    """The generator of a claim's positive controls, apart from its check's."""
    return np.random.default_rng([seed, zlib.crc32(claim_id.encode()), 1])


def jsonable(value: Any) -> Any:
    """A JSON-ready copy: Fractions as ``"p/q"``, arrays as nested lists, dict keys as strings,
    dataclasses as dicts of their fields, and any other object as its ``repr`` (so a witness of
    an unforeseen type still reaches the report)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist()) if value.dtype != object else format_number(value)
    formatted = format_number(value)
    if isinstance(formatted, float) and not np.isfinite(formatted):
        return str(formatted)
    if isinstance(formatted, np.generic):  # a numpy bool or number
        formatted = formatted.item()
    if formatted is None or isinstance(formatted, bool | int | float | str | list | dict):
        return formatted
    return repr(formatted)


def all_claims() -> list[Claim]:
    """Every claim module's ``CLAIM``, in docs/theory.md's order (unknown ids last)."""
    package = importlib.import_module("proofs_checks")
    claims = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"proofs_checks.{info.name}")
        claim = getattr(module, "CLAIM", None)
        if isinstance(claim, Claim):
            claims.append(claim)
    rank = {cid: i for i, cid in enumerate(CLAIM_ORDER)}
    return sorted(claims, key=lambda c: (rank.get(c.id, len(rank)), c.id))
