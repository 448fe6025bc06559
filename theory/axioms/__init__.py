"""The two axioms of the uniqueness theorem as executable predicates (claims U-forward,
U-converse, U-catalog; docs/uniqueness.md).

An evaluation ``V(D, pi)`` (:class:`~theory.evaluations.Evaluation`, higher is better) is applied
to *sides*: a data distribution ``D = (P, mu0, mu1, rho)`` with a model ``pi``.  Our formalization
(docs/uniqueness.md) splits the two axioms of docs/theory.md into eight elementary properties,
each a relation between the values of ``V`` on two sides (or mixtures of sides):

*Prevalence consistency* (each prompt, model response and data response counts at the rate at
which it occurs):

1. ``model-mixture``: ``V(D, t pi1 + (1-t) pi2) = t V(D, pi1) + (1-t) V(D, pi2)``.
2. ``prompt-weights``: ``V(D[rho = t rho1 + (1-t) rho2], pi) = t V(D[rho1], pi) + (1-t) V(D[rho2],
   pi)``.
3. ``data-mixture``: ``V(D[mu_t], pi) = t V(D[mu], pi) + (1-t) V(D[mu'], pi)`` where
   ``mu_t = t (mu0, mu1) + (1-t) (mu0', mu1')``.
4. ``data-prevalence``: ``V(D[mu0, mu1], pi) = V(D[a, a], pi)`` with ``a = (mu0 + mu1) / 2``: a data
   response counts at the rate at which it occurs in a pair, whichever slot it fills.

*Preference consistency*:

5. ``pair-locality``: ``V`` is unchanged when ``P_x[y, y']`` changes for a pair the evaluation
   never compares (``pi_x(y) a_x(y') = pi_x(y') a_x(y) = 0``), when the responses are
   relabelled, when a response of zero mass (in ``pi``, ``mu0`` and ``mu1``) is added, when
   anything at a prompt of zero weight changes, or when a prompt of zero weight is added.
6. ``pair-probability``: for single-prompt point masses (model ``delta_y``, data ``delta_y'``)
   ``V`` depends only on ``p = P[y, y']``: two such instances with equal ``p`` (any ``K``, any
   other entries, ``y = y'`` allowed when ``p = 1/2``) get equal values.
7. ``preference-monotonicity``: ``V`` strictly increases when ``P_x[y, y']`` increases for a
   response ``y`` the model generates (``pi_x(y) > 0``) against a response ``y'`` the data contains
   (``a_x(y') > 0``), at a prompt of positive weight, while the reverse pair is not compared
   (``pi_x(y') a_x(y) = 0``).
8. ``dominance-monotonicity``: ``V`` strictly increases when model mass ``eps > 0`` moves from ``y``
   to ``z`` where ``z`` dominates ``y`` on the data: ``P_x[z, v] >= P_x[y, v]`` for every ``v``
   with ``a_x(v) > 0``, strictly for at least one (``rho_x > 0``).

The package is cut at its seams:

* :mod:`~theory.axioms.cases`: sides, cases, values in the extended reals and the relation
  test (:data:`TOL`);
* :mod:`~theory.axioms.draws` (internal): instances drawn from a stream of uniforms;
* :mod:`~theory.axioms.properties`: the eight properties as instance builders
  (:data:`PROPERTIES`, :data:`AXIOMS`);
* :mod:`~theory.axioms.search`: the violation search (:func:`trial`, :func:`find_violation`,
  :func:`check_axioms`, :func:`smallest_counterexample`) returning :class:`AxiomWitness`;
* :mod:`~theory.axioms.converse`: the converse by pair probes (:func:`probe_pair`,
  :func:`recover_h`, :func:`reconstruct_h_win_rate`).
"""

from .cases import TOL, Case, Side, case_values, holds_on
from .converse import HRecovery, probe_pair, reconstruct_h_win_rate, recover_h
from .draws import STREAM_LEN
from .properties import AXIOMS, PROPERTIES, Property
from .search import (
    SIZES,
    AxiomWitness,
    check_axioms,
    find_violation,
    smallest_counterexample,
    trial,
)

__all__ = [
    "TOL",
    "SIZES",
    "STREAM_LEN",
    "Side",
    "Case",
    "AxiomWitness",
    "Property",
    "PROPERTIES",
    "AXIOMS",
    "case_values",
    "holds_on",
    "trial",
    "find_violation",
    "check_axioms",
    "smallest_counterexample",
    "probe_pair",
    "recover_h",
    "HRecovery",
    "reconstruct_h_win_rate",
]
