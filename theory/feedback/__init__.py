"""theory.feedback: preference data beyond one labelled pair (docs/zoo_data.md).

Each data model is validated at construction (named errors, :mod:`theory.errors`), comes in an
exact form (Fractions in, Fractions out) and a sampled form (a seeded generator), and reduces to
the pairwise ``P`` that win rates need:

* :mod:`~theory.feedback.ties`: three outcomes per pair (Rao-Kupper, Davidson, general), with an
  explicit tie convention (``"half"``, the default, or ``"drop"``);
* :mod:`~theory.feedback.rankings`: rankings of ``k`` responses (Plackett-Luce, general);
  ``P[i, j] = Pr(i ranked above j)``;
* :mod:`~theory.feedback.unpaired`: one response marked desirable with probability ``g``;
  ``P[i, j] = 1/2 + (g_i - g_j) / 2``.

>>> from fractions import Fraction
>>> from theory.feedback import davidson_outcomes, tie_preferences
>>> win, tie = davidson_outcomes([1, 4], nu=1)
>>> tie_preferences(win, tie, "half")[0, 1], tie_preferences(win, tie, "drop")[0, 1]
(Fraction(2, 7), Fraction(1, 5))
"""

from . import rankings, ties, unpaired
from .rankings import *  # noqa: F403  (the names of rankings.__all__)
from .ties import *  # noqa: F403  (the names of ties.__all__)
from .unpaired import *  # noqa: F403  (the names of unpaired.__all__)

#: The submodules and everything they export (each name listed once, in its own module).
__all__ = ["ties", "rankings", "unpaired", *ties.__all__, *rankings.__all__, *unpaired.__all__]
