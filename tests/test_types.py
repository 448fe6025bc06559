"""The library and the executable claims type-check: mypy reports no error on ``theory`` and
``proofs_checks`` under the configuration in pyproject.toml (``[tool.mypy]``)."""

from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

#: The repository root (this file is ``<root>/tests/test_types.py``), so the test runs from any
#: working directory.
ROOT = Path(__file__).resolve().parent.parent


def test_mypy_reports_no_errors() -> None:
    stdout, stderr, status = mypy_api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            str(ROOT / "theory"),
            str(ROOT / "proofs_checks"),
        ]
    )
    assert status == 0, f"mypy exited with status {status}:\n{stdout}{stderr}"
