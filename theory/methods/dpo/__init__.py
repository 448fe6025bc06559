"""Direct preference optimization (DPO), in two parts (docs/theory.md, Definitions: DPO):

* :mod:`theory.methods.dpo.loss`: the population and sampled losses, their winner-loser
  weights, the implicit reward and the logit gradient;
* :mod:`theory.methods.dpo.minimizers`: the minimizer set, prompt by prompt, and the range of
  win rates over it (claim ``DPO-fixed-points``).

Every name is importable from ``theory.methods.dpo``.
"""

from .loss import (
    LOG_PROB_TOL,
    Source,
    beta_as_float,
    check_reference_support,
    dpo_implicit_reward,
    dpo_logit_gradient,
    dpo_loss,
    dpo_loss_from_log_probs,
    dpo_loss_from_weights,
    dpo_sampled_loss,
    dpo_weights,
)
from .minimizers import (
    DPO_TOL,
    EXACT_POWER_BITS,
    DPOMinimizerSet,
    PromptMinimizers,
    WinRateRange,
    dpo_data_win_rate_range,
    dpo_minimizers,
    dpo_win_rate_range,
    prompt_minimizers,
)

__all__ = [
    "Source",
    "dpo_weights",
    "dpo_loss",
    "dpo_loss_from_weights",
    "dpo_loss_from_log_probs",
    "dpo_sampled_loss",
    "dpo_implicit_reward",
    "dpo_logit_gradient",
    "LOG_PROB_TOL",
    "beta_as_float",
    "check_reference_support",
    "DPO_TOL",
    "EXACT_POWER_BITS",
    "PromptMinimizers",
    "DPOMinimizerSet",
    "WinRateRange",
    "prompt_minimizers",
    "dpo_minimizers",
    "dpo_win_rate_range",
    "dpo_data_win_rate_range",
]
