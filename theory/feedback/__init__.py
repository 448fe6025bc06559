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
from .rankings import (
    RankingData,
    RankingDataset,
    above_weights,
    empirical_ranking_data,
    list_marginal,
    pairwise_preferences,
    plackett_luce_probability,
    plackett_luce_rankings,
    random_ranking_data,
    ranking_preference_data,
    sample_rankings,
    validate_rankings,
)
from .ties import (
    TIE,
    TIE_CONVENTIONS,
    Y0_WINS,
    Y1_WINS,
    TieData,
    TieDataset,
    check_convention,
    davidson_outcomes,
    empirical_tie_preferences,
    random_tie_data,
    random_tie_outcomes,
    rao_kupper_outcomes,
    sample_ties,
    tie_preference_data,
    tie_preferences,
    validate_outcomes,
)
from .unpaired import (
    UnpairedData,
    UnpairedDataset,
    desirability_preferences,
    desirability_win_rate,
    empirical_unpaired_data,
    random_unpaired_data,
    sample_unpaired,
    unpair,
    unpaired_preference_data,
)

__all__ = [
    "ties",
    "rankings",
    "unpaired",
    # ties
    "TIE_CONVENTIONS",
    "Y0_WINS",
    "Y1_WINS",
    "TIE",
    "TieData",
    "TieDataset",
    "check_convention",
    "validate_outcomes",
    "rao_kupper_outcomes",
    "davidson_outcomes",
    "tie_preferences",
    "tie_preference_data",
    "random_tie_outcomes",
    "random_tie_data",
    "sample_ties",
    "empirical_tie_preferences",
    # rankings
    "RankingData",
    "RankingDataset",
    "validate_rankings",
    "plackett_luce_probability",
    "plackett_luce_rankings",
    "above_weights",
    "pairwise_preferences",
    "list_marginal",
    "ranking_preference_data",
    "random_ranking_data",
    "sample_rankings",
    "empirical_ranking_data",
    # unpaired
    "UnpairedData",
    "UnpairedDataset",
    "desirability_preferences",
    "unpaired_preference_data",
    "desirability_win_rate",
    "unpair",
    "random_unpaired_data",
    "sample_unpaired",
    "empirical_unpaired_data",
]
