"""Root pytest configuration: names available to every doctest."""

from fractions import Fraction

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict) -> None:
    doctest_namespace["Fraction"] = Fraction
    doctest_namespace["np"] = np
