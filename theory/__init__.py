"""theory: exact, executable preference-learning theory through win rate.

Finite-outcome tabular models (probability vectors over K responses, per prompt), preference
matrices and preference data distributions, with exact (Fraction) and float win rates, the
evaluations and axioms of the uniqueness theorem, win rate optimization (RLHF, NLHF), the fixed
points of DPO and SFT, and simulated training.  ``docs/notation.md`` maps the paper's symbols to
names in code; ``docs/theory.md`` states the claims that ``python -m proofs_checks`` verifies.

The top level holds the main functions, the ones a first session uses.  Everything else lives in
a namespace named after its idea:

=========================  ===================================================================
namespace                  holds
=========================  ===================================================================
``theory.numbers``         exact versus float arrays
``theory.errors``          the named errors (``TheoryError`` and its subclasses)
``theory.simplex``         probability vectors and models
``theory.preferences``     preference matrices: families, validation, recognisers
``theory.data``            preference data distributions, sampled datasets
``theory.hfuncs``          the h registry and h constructors
``theory.winrate``         win rates, h-win rates, ``W_q``, the covariance identity
``theory.evaluations``     evaluations as values; ``theory.catalog``: non-win-rate evaluations
``theory.axioms``          the two axioms: properties, violation search, the converse
``theory.bradley_terry``   Bradley-Terry maximum likelihood
``theory.wro``             WRO objectives and optima
``theory.lottery``         maximal lotteries
``theory.methods``         one module per training method: ``rlhf``, ``nlhf``, ``dpo``, ``sft``,
                           ``best_of_n``
``theory.zoo``             the method zoo: pairwise losses as data, classified
``theory.feedback``        ties, rankings and unpaired feedback, with their implied P
``theory.online``          online, iterative and self-play methods as dynamics: fixed points
``theory.search``          counterexample search (loss versus win rate)
``theory.dynamics``        iterated SFT; ``theory.checkpoints``: checkpoint selection
``theory.training``        trainable policies and simulated training
``theory.experiments``     the optimization-success experiment; ``theory.statistics`` its
                           statistics
``theory.kernels``         formulas several modules share (the beta rule, KL rows, DPO loss)
``theory.plot``            simplex and tournament pictures
``theory.strategies``      Hypothesis strategies (imported on demand: a test dependency)
=========================  ===================================================================

Conventions: a leading axis of length ``M`` with prompt weights ``rho`` means prompts; functions
named ``*_batch`` take a leading axis ``N`` of independent instances.  ``exact=`` means the same
everywhere: constructors of named objects (``uniform``, ``total_order``...) are exact by default,
random draws are float by default and exact on request.

The namespaces no main function needs (``theory.zoo``, ``theory.online``...) are imported on
first use, which keeps ``import theory`` cheap.

The names that were top-level before this layout still resolve (``theory.sft_loss``...) with a
:class:`DeprecationWarning` naming their namespace, for one release (``theory/_moved.py``).
"""

import importlib as _importlib
import warnings as _warnings
from types import ModuleType as _ModuleType
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from . import (
    axioms,
    bradley_terry,
    data,
    dynamics,
    errors,
    evaluations,
    hfuncs,
    kernels,
    lottery,
    methods,
    numbers,
    preferences,
    simplex,
    winrate,
    wro,
)
from ._moved import MOVED as _MOVED
from .axioms import check_axioms, recover_h
from .bradley_terry import fit_bradley_terry
from .data import PreferenceData, sample_dataset
from .dynamics import iterated_sft
from .errors import TheoryError
from .lottery import maximal_lottery
from .methods.best_of_n import best_of_n
from .methods.dpo import dpo_loss, dpo_minimizers
from .methods.nlhf import regularized_nash
from .methods.rlhf import rlhf_policy
from .methods.sft import sft_target, sft_win_rate
from .numbers import to_exact, to_float
from .preferences import (
    bradley_terry_from_strengths,
    cyclic,
    random_family_matrix,
    random_preference_matrix,
    rock_paper_scissors,
    total_order,
)
from .simplex import mixture, point_mass, random_distribution, random_model, uniform
from .winrate import data_win_rate, h_win_rate, response_win_rates, win_rate, win_rate_covariance
from .wro import wro_objective, wro_optimum

#: The namespaces no main function needs, imported on first use (``theory.zoo``...), so that
#: ``import theory`` stays cheap: every worker process of the claim runner pays for it.
_ON_DEMAND = (
    "catalog",
    "checkpoints",
    "experiments",
    "feedback",
    "online",
    "plot",
    "search",
    "statistics",
    "training",
    "zoo",
)

if _TYPE_CHECKING:
    from . import (
        catalog,
        checkpoints,
        experiments,
        feedback,
        online,
        plot,
        search,
        statistics,
        training,
        zoo,
    )

#: The public names: the namespaces and the main functions imported above (each listed once).
__all__ = sorted(
    {
        name
        for name, value in dict(globals()).items()
        if not name.startswith("_")
        and (
            isinstance(value, _ModuleType) or getattr(value, "__module__", "").startswith("theory")
        )
    }
    | set(_ON_DEMAND)
)


def __getattr__(name: str) -> _Any:
    """A namespace imported on demand; or an old top-level name: warn, and return it from its
    namespace."""
    if name in _ON_DEMAND:
        return _importlib.import_module(f"{__name__}.{name}")
    try:
        module, new = _MOVED[name]
    except KeyError:
        raise AttributeError(f"module 'theory' has no attribute {name!r}") from None
    renamed = f" (renamed {new})" if new != name else ""
    _warnings.warn(
        f"theory.{name} moved to {module}.{new}{renamed}; the top-level name will be removed in "
        "the next release",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(_importlib.import_module(module), new)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_ON_DEMAND))
