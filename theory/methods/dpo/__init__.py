"""Direct preference optimization (DPO), in two parts (docs/theory.md, Definitions: DPO):

* :mod:`theory.methods.dpo.loss`: the population and sampled losses, their winner-loser
  weights, the implicit reward and the logit gradient;
* :mod:`theory.methods.dpo.minimizers`: the minimizer set, prompt by prompt, and the range of
  win rates over it (claim ``DPO-fixed-points``).

Every name is importable from ``theory.methods.dpo``.
"""

from . import loss, minimizers
from .loss import *  # noqa: F403  (the names of loss.__all__)
from .minimizers import *  # noqa: F403  (the names of minimizers.__all__)

#: Built from the two modules' own lists, so a new name is listed once.
__all__ = [*loss.__all__, *minimizers.__all__]
