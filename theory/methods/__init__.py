"""Non-WRO training methods: one module per method, each with its population loss, its
finite-sample loss and its fixed points (THEORY.md, Definitions: DPO, SFT).

* :mod:`theory.methods.sft`: SFT on preferred / dispreferred samples;
* :mod:`theory.methods.dpo`: direct preference optimization.
"""

from .dpo import (
    DPO_TOL,
    DPOMinimizerSet,
    WinRateRange,
    dpo_data_win_rate_range,
    dpo_implicit_reward,
    dpo_logit_gradient,
    dpo_loss,
    dpo_loss_from_log_probs,
    dpo_loss_from_weights,
    dpo_minimizers,
    dpo_sampled_loss,
    dpo_weights,
    dpo_win_rate_range,
)
from .sft import (
    best_of_n,
    best_of_n_win_rate,
    loser_distribution,
    sft_loss,
    sft_sampled_loss,
    sft_target,
    sft_variance_term,
    sft_win_rate,
    sft_win_rate_formula,
    strict_order_ceiling,
    winner_distribution,
)

__all__ = [
    "DPO_TOL",
    "DPOMinimizerSet",
    "WinRateRange",
    "dpo_data_win_rate_range",
    "dpo_implicit_reward",
    "dpo_logit_gradient",
    "dpo_loss",
    "dpo_loss_from_log_probs",
    "dpo_loss_from_weights",
    "dpo_minimizers",
    "dpo_sampled_loss",
    "dpo_weights",
    "dpo_win_rate_range",
    "best_of_n",
    "best_of_n_win_rate",
    "loser_distribution",
    "sft_loss",
    "sft_sampled_loss",
    "sft_target",
    "sft_variance_term",
    "sft_win_rate",
    "sft_win_rate_formula",
    "strict_order_ceiling",
    "winner_distribution",
]
