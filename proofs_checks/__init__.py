"""proofs_checks: one executable check per claim of docs/theory.md, and the runner.

``python -m proofs_checks`` runs every registered claim on random instances; see
:mod:`proofs_checks.scaffold` for what a claim module provides (and ``docs/architecture.md``,
"Writing a claim check").
"""
