"""proofs_checks: one executable check per claim of THEORY.md, and the runner.

``python -m proofs_checks`` runs every registered claim on random instances; see
:mod:`proofs_checks.registry` for what a claim module provides.
"""
