"""Training methods: one module per method, each with its population loss, its
finite-sample loss and its fixed points (docs/theory.md, Definitions).

* :mod:`theory.methods.sft`: SFT on preferred / dispreferred samples;
* :mod:`theory.methods.best_of_n`: best-of-n filtering (raises SFT's ceiling);
* :mod:`theory.methods.dpo`: direct preference optimization (its loss, and its minimizer set);
* :mod:`theory.methods.rlhf`: RLHF (a Bradley-Terry reward, then the KL-regularized policy);
* :mod:`theory.methods.nlhf`: NLHF (the regularized Nash equilibrium of self-play).

This package is a namespace of modules (``theory.methods.dpo.dpo_loss``, ...); the main functions
of each are also at the top level of :mod:`theory`.
"""

from . import best_of_n, dpo, nlhf, rlhf, sft

__all__ = ["best_of_n", "dpo", "nlhf", "rlhf", "sft"]
