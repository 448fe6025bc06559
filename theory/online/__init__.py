"""Online, iterative and self-play methods as population dynamics (docs/zoo_online.md).

Each module gives, for one prompt (``P`` ``(K, K)``, ``pi_ref`` ``(K,)``, ``beta > 0``), the
exact population update (the expected gradient of the method's per-step loss, or its
train-to-convergence map), its fixed point with a residual certificate
(:class:`~theory.online.core.FixedPoint`), a trajectory from a start
(:class:`~theory.online.core.Trajectory`) and the comparison with the WRO optimum or the
regularized Nash equilibrium it is closest to.  A dynamic without a fixed point raises
:class:`~theory.errors.NoFixedPointError`; a solver that does not converge raises
:class:`~theory.errors.NotConvergedError`.

============================  ==============================================================
module                        method
============================  ==============================================================
``theory.online.core``        shared result types (``FixedPoint``, ``Trajectory``), Newton
``theory.online.dpo``         online DPO (judge-labelled pairs from pi), iterative DPO
``theory.online.nash_md``     Nash-MD (geometric mixture with pi_ref, parameter alpha)
``theory.online.rloo``        RLOO with a reward (leave-one-out baseline, KL in the reward)
``theory.online.grpo``        GRPO (group-normalized advantage, k3 KL estimator)
``theory.online.sppo``        SPPO / DNO (ideal multiplicative self-play step, regret bounds)
``theory.online.reinforce``   pairwise-judge REINFORCE (fixed opponent q, in-group judge)
============================  ==============================================================
"""

from . import core, dpo, grpo, nash_md, reinforce, rloo, sppo
from .core import FixedPoint, Trajectory

__all__ = [
    "core",
    "dpo",
    "grpo",
    "nash_md",
    "rloo",
    "reinforce",
    "sppo",
    "FixedPoint",
    "Trajectory",
]
