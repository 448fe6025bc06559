"""theory: exact, executable preference-learning theory through win rate.

Finite-outcome tabular models (probability vectors over K responses, per prompt), preference
matrices and preference data distributions, with exact (Fraction) and float win rates.  See
``docs/notation.md`` for the map from the paper's symbols to names in code, and THEORY.md for the
claims that ``python -m proofs_checks`` verifies.

The Hypothesis strategies live in :mod:`theory.strategies` (imported on demand, since Hypothesis is
a test dependency).
"""

from .data import (
    EmpiricalPreferences,
    PreferenceData,
    PreferenceDataset,
    data_anchor,
    empirical_distribution,
    random_preference_data,
    sample_dataset,
    winner_loser_distribution,
)
from .errors import (
    InvalidParameterError,
    NonFiniteInputError,
    NotANumberError,
    NotAPreferenceMatrixError,
    NotAProbabilityVectorError,
    NotBradleyTerryError,
    NotIncreasingError,
    ShapeMismatchError,
    SupportMismatchError,
    TheoryError,
    UndefinedWinRateError,
)
from .hfuncs import H_REGISTRY, HFunction, apply_h, as_h, register_h
from .numbers import as_array, is_exact, to_exact, to_float
from .preferences import (
    FAMILIES,
    bradley_terry_matrix,
    bradley_terry_from_strengths,
    bradley_terry_rewards,
    bradley_terry_strengths,
    condorcet_winner,
    cyclic,
    is_bradley_terry,
    is_transitive,
    random_bradley_terry,
    random_family_matrix,
    random_preference_matrix,
    rock_paper_scissors,
    total_order,
    validate_preference_matrix,
    validate_preference_stack,
)
from .simplex import (
    kl_divergence,
    mixture,
    point_mass,
    random_distribution,
    random_model,
    uniform,
    validate_distribution,
    validate_model,
)
from .winrate import (
    batched_win_rate,
    data_win_rate,
    h_win_rate,
    response_win_rates,
    win_rate,
    win_rate_covariance,
)

__all__ = [
    # data
    "PreferenceData",
    "PreferenceDataset",
    "EmpiricalPreferences",
    "data_anchor",
    "winner_loser_distribution",
    "sample_dataset",
    "empirical_distribution",
    "random_preference_data",
    # errors
    "TheoryError",
    "NotAProbabilityVectorError",
    "NotAPreferenceMatrixError",
    "ShapeMismatchError",
    "NonFiniteInputError",
    "NotANumberError",
    "NotIncreasingError",
    "UndefinedWinRateError",
    "InvalidParameterError",
    "NotBradleyTerryError",
    "SupportMismatchError",
    # h functions
    "H_REGISTRY",
    "HFunction",
    "as_h",
    "register_h",
    "apply_h",
    # numbers
    "as_array",
    "is_exact",
    "to_exact",
    "to_float",
    # preferences
    "FAMILIES",
    "validate_preference_matrix",
    "validate_preference_stack",
    "bradley_terry_matrix",
    "bradley_terry_from_strengths",
    "total_order",
    "cyclic",
    "rock_paper_scissors",
    "random_preference_matrix",
    "random_bradley_terry",
    "random_family_matrix",
    "is_bradley_terry",
    "bradley_terry_strengths",
    "bradley_terry_rewards",
    "is_transitive",
    "condorcet_winner",
    # simplex
    "validate_distribution",
    "validate_model",
    "uniform",
    "point_mass",
    "mixture",
    "kl_divergence",
    "random_distribution",
    "random_model",
    # win rates
    "win_rate",
    "h_win_rate",
    "response_win_rates",
    "win_rate_covariance",
    "data_win_rate",
    "batched_win_rate",
]
