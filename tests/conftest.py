"""Hypothesis profiles: ``dev`` (default, random) and ``ci`` (derandomized, reproducible).

The ``ci`` profile is selected when ``CI`` is set in the environment or by
``HYPOTHESIS_PROFILE=ci``.  The claim runner runs in the test's own process unless a test asks
for workers.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True)
def _one_core_for_the_runner(monkeypatch):
    """``python -m proofs_checks`` uses every core by default; a test that calls the command
    line in this process runs its claims in this process instead (one worker), so monkeypatched
    library code is what runs and the parallel test workers do not each start a pool.
    tests/test_engines.py exercises the parallel engines explicitly."""
    from proofs_checks.scaffold import engines

    monkeypatch.setattr(engines, "usable_cores", lambda: 1)
