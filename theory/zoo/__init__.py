"""theory.zoo: the method zoo of offline pairwise preference losses (docs/zoo.md).

A loss as data (:class:`PairwiseLoss`, :func:`margin_loss` for a user's loss), the registry
:data:`ZOO` keyed by TRL's ``loss_type``, population values (:func:`population_loss`, exact for
rational losses), minimizers with certificates (:func:`minimize`), closed forms
(:mod:`theory.zoo.closed_forms`), correspondence witnesses certified by interval arithmetic
(:mod:`theory.zoo.witness`) and the classification of a loss (:func:`classify`).

Methods on data beyond one labelled pair (docs/zoo_data.md): tie-aware DPO
(:mod:`theory.zoo.tie_dpo`), listwise DPO (:mod:`theory.zoo.listwise`), KTO
(:mod:`theory.zoo.kto`), and their classification (:func:`classify_beyond_pairs`).

>>> from theory.zoo import ZOO, classify
>>> classify("ipo", instances=40, max_K=3).optimum.k2_wro
True
"""

from .beyond_pairs import BEYOND_PAIRS, BeyondPairsReport, classify_beyond_pairs
from .classify import (
    Classification,
    Consistency,
    OptimumEquivalence,
    Shortfall,
    classify,
    consistency,
    k2_link_profile,
    member_range,
    optimum_equivalence,
)
from .closed_forms import (
    apo_zero_limit,
    bco_minimizer,
    debiased_matrix,
    ipo_rewards,
    ipo_tilt_rewards,
    k2_link,
    pair_counts,
    rdpo_cut_slopes,
    rdpo_unbounded,
    smoothed_data,
    tilt,
)
from .instances import InstanceBatch, random_instances
from .kto import KTOMinimizer, kto_limit, kto_loss, kto_minimizer
from .listwise import ListwiseMinimizer, listwise_dpo_loss, listwise_dpo_minimizer
from .loss import (
    NaNLossError,
    NonFiniteLossError,
    NotAMarginLossError,
    PairwiseLoss,
    margin_loss,
)
from .population import PairBatch, batch_from_data, loss_and_gradient, population_loss
from .registry import ZOO, zoo_loss
from .solve import BatchSolution, ZooMinimizer, hinge_face_vertices, minimize, minimize_batch
from .tie_dpo import TieDPOMinimizer, tie_dpo_loss, tie_dpo_minimizer
from .witness import Witness, WitnessSearch, certify, search_witnesses

__all__ = [
    # loss
    "PairwiseLoss",
    "margin_loss",
    "NotAMarginLossError",
    "NonFiniteLossError",
    "NaNLossError",
    # registry
    "ZOO",
    "zoo_loss",
    # population
    "PairBatch",
    "batch_from_data",
    "population_loss",
    "loss_and_gradient",
    # solve
    "ZooMinimizer",
    "BatchSolution",
    "minimize",
    "minimize_batch",
    "hinge_face_vertices",
    # closed forms
    "pair_counts",
    "ipo_rewards",
    "ipo_tilt_rewards",
    "tilt",
    "smoothed_data",
    "debiased_matrix",
    "rdpo_cut_slopes",
    "rdpo_unbounded",
    "k2_link",
    "bco_minimizer",
    "apo_zero_limit",
    # instances and witnesses
    "InstanceBatch",
    "random_instances",
    "Witness",
    "WitnessSearch",
    "search_witnesses",
    "certify",
    # classification
    "Classification",
    "Consistency",
    "Shortfall",
    "OptimumEquivalence",
    "classify",
    "consistency",
    "member_range",
    "k2_link_profile",
    "optimum_equivalence",
    # data beyond one labelled pair
    "TieDPOMinimizer",
    "tie_dpo_loss",
    "tie_dpo_minimizer",
    "ListwiseMinimizer",
    "listwise_dpo_loss",
    "listwise_dpo_minimizer",
    "KTOMinimizer",
    "kto_loss",
    "kto_limit",
    "kto_minimizer",
    "BEYOND_PAIRS",
    "BeyondPairsReport",
    "classify_beyond_pairs",
]
