"""Counterexample search for the "counterexample" claims: a loss and a win rate that disagree.

A *contest* pairs a training loss ``L`` (lower is better) with a win rate ``WR`` (higher is
better) on an :class:`Instance` (a preference data distribution, a reference model ``pi_ref`` and
``beta``).  A *witness of disagreement* is a pair of models ``(pi_a, pi_b)`` with

    L(pi_a) < L(pi_b)   and   WR(pi_a) < WR(pi_b),

so moving from ``pi_b`` to ``pi_a`` the loss falls while the win rate falls (docs/theory.md,
claims ``DPO-no-correspondence`` and ``SFT-no-correspondence``; a WRO objective never has one,
``WRO-correspondence``).  The package, one module per step:

* :mod:`~theory.search.contests`: the instance, the contests (DPO, SFT, SFT on dispreferred
  samples) and their batch kernels;
* :mod:`~theory.search.certify`: judging a pair (:func:`judge`), the exact loss order
  (:func:`exact_log_order`, a comparison of products of integer powers) and the witness record;
* :mod:`~theory.search.random_search`: :func:`find_disagreement` draws random model pairs on an
  instance until one disagrees; :func:`disagreement_rate` measures how often random pairs do;
* :mod:`~theory.search.minimize`: :func:`minimize_witness` shrinks a witness: one prompt and the
  fewest responses, then the smallest denominators (the instance rounded to a grid ``k / d``
  with ``beta = 1`` where possible, the models enumerated on the grid), certified **exactly**
  when the loss is ``-sum_k a_k log v_k`` with rational ``a_k``, ``v_k`` (SFT; DPO with an
  integer ``beta``);
* :mod:`~theory.search.exhaustive`: :func:`smallest_witness`, the smallest witness over two
  responses by exhaustive enumeration.

Win rates are against the data anchor (:func:`theory.winrate.data_win_rate`) and exact on exact
instances.  Sizes order witnesses: ``(K, M, largest denominator, sum of denominators)``.
"""

from .certify import LOSS_TOL, MAX_EXACT_BITS, ContestWitness, exact_log_order, judge
from .contests import (
    CONTESTS,
    DPO_CONTEST,
    SFT_CONTEST,
    SFT_DISPREFERRED_CONTEST,
    Contest,
    Instance,
    LossTerms,
)
from .exhaustive import farey, smallest_witness
from .minimize import (
    fewest_responses,
    grid_witness,
    minimize_witness,
    restrict,
    round_instance,
    round_to_grid,
    rounded_witness,
    search_witness,
    simplex_grid,
)
from .random_search import (
    BATCH,
    DisagreementStats,
    disagreement_rate,
    find_disagreement,
    random_instance,
)

__all__ = [
    "LOSS_TOL",
    "MAX_EXACT_BITS",
    "BATCH",
    "Instance",
    "Contest",
    "LossTerms",
    "ContestWitness",
    "DisagreementStats",
    "DPO_CONTEST",
    "SFT_CONTEST",
    "SFT_DISPREFERRED_CONTEST",
    "CONTESTS",
    "random_instance",
    "find_disagreement",
    "judge",
    "minimize_witness",
    "fewest_responses",
    "rounded_witness",
    "grid_witness",
    "restrict",
    "round_instance",
    "search_witness",
    "smallest_witness",
    "farey",
    "disagreement_rate",
    "exact_log_order",
    "round_to_grid",
    "simplex_grid",
]
