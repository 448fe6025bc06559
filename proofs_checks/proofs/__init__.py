"""Symbolic proofs of the algebraic claims for small K (issue 16; see ``docs/proofs.md``).

Random instances give evidence; for a fixed number ``K`` of responses an algebraic identity can be
proved outright.  Each module here (one per claim) writes its statement from ``docs/theory.md``'s
formulas with sympy symbols, reduces ``statement - closed form`` to the literal 0 with
``expand`` / ``together`` / ``cancel`` (:mod:`~proofs_checks.proofs.core`), and links the library's
function to the formula.  A proof for ``K = 2, 3, 4`` is a proof of those cases only.

>>> from proofs_checks.proofs import available, prove
>>> "WR-basic" in available()
True
>>> prove("WR-basic", Ks=(2,)).status
'proved'
"""

from __future__ import annotations

import importlib
from functools import cache

from .core import ProofResult, run_proof

__all__ = ["PROOFS", "ProofResult", "available", "prove", "show"]

#: Claim id -> the module (in this package) that proves it.
PROOFS = {
    "WR-basic": "wr_basic",
    "U-forward": "u_forward",
    "WRO-closed-form": "wro_closed_form",
    "WRO-consistency": "wro_consistency",
    "RLHF-is-WRO": "rlhf_is_wro",
    "DPO-fixed-points": "dpo_fixed_points",
    "SFT-closed-form": "sft_closed_form",
    "mitigations": "mitigations",
    # the method zoo
    "IPO-optimum-is-WRO": "ipo_optimum_is_wro",
    "cDPO-is-smoothed-DPO": "cdpo_is_smoothed_dpo",
}

#: How the symbols of every step are built (printed by :func:`show`).
SUBSTITUTION = (
    "substitution: P[i, j] = p_ij for i < j, P[j, i] = 1 - p_ij, P[i, i] = 1/2; a distribution "
    "m = (m0, ..., m_{K-2}, 1 - m0 - ... - m_{K-2}); beta > 0; h undefined (increasing)"
)

#: The numbers of responses every proof covers by default.
DEFAULT_KS = (2, 3, 4)


def available() -> list[str]:
    """The claim ids that have a proof here."""
    return list(PROOFS)


def _module(claim_id: str):
    if claim_id not in PROOFS:
        raise KeyError(f"no proof for claim {claim_id!r}; proofs exist for {available()}")
    return importlib.import_module(f"{__name__}.{PROOFS[claim_id]}")


def prove(claim_id: str, Ks: tuple[int, ...] = DEFAULT_KS, *, seed: int = 0) -> ProofResult:
    """Prove ``claim_id`` for each ``K`` in ``Ks``: a :class:`ProofResult` with the status
    (``"proved"``, ``"not proved"``, ``"disproved"``), the residual, the counterexample and the
    steps.  ``seed`` fixes the rational points of the fallback and of the library links."""
    return run_proof(claim_id, Ks, _module(claim_id).build, seed=seed)


@cache
def _statement(claim_id: str) -> str:
    doc = _module(claim_id).__doc__ or ""
    return doc.strip()


def show(claim_id: str, Ks: tuple[int, ...] = (2,), *, seed: int = 0) -> str:
    """The readable steps of ``claim_id``'s proof for ``Ks`` (default ``K = 2``, the smallest):
    the statement, each identity with its residual as written and as reduced, each library link,
    and the status.  For teaching; :func:`prove` runs the same steps."""
    result = prove(claim_id, Ks, seed=seed)
    Ks_text = ", ".join(map(str, result.Ks))
    lines = [
        f"Proof of {claim_id} for K = {Ks_text}",
        "",
        _statement(claim_id),
        "",
        SUBSTITUTION,
        "",
    ]
    for step in result.steps:
        lines.append(f"[K = {step.K}] {step.name}")
        if step.method in ("symbolic", "exact", "sampled"):
            lines.append(f"    library link ({step.method}): difference {step.reduced}")
            continue
        lines.append(f"    statement:  {step.statement}")
        lines.append(f"    residual:   {step.residual}")
        lines.append(f"    reduced ({step.method}): {step.reduced}")
    lines += ["", f"library: {result.library}", f"status: {result.status}"]
    if result.failed:
        lines.append(f"failed: {result.failed}")
    if result.counterexample:
        lines.append(f"counterexample: {result.counterexample}")
    return "\n".join(lines)
