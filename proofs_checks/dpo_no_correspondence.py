"""DPO-no-correspondence: the DPO loss can fall while the win rate falls.

On each random instance (a float preference data distribution with K in 2..6, a random family,
``mu0 = mu1`` or not, a uniform or random ``pi_ref``, ``beta`` in {0.1, 0.5, 1, 2}) the search of
:mod:`theory.search` draws model pairs until the DPO loss prefers one model and the win rate
against the data the other.  A few witnesses are minimized (fewest responses, instance rounded to
small rationals with ``beta = 1``, models on a small grid) and certified exactly: win rates as
Fractions, the loss order by comparing products of integer powers.  The verdict rests on the
random instances: their smallest witness must pass an independent re-verification written in the
check (exact pairwise win rates, ``arb`` interval losses;
:func:`proofs_checks.common.contest.reverify`),
and so must the reported smallest (the exhaustive two-response enumeration is an extra).
Where no pair disagrees the instance is listed by K (a two-response instance with a deterministic
label is one: there the loss is monotone in the win rate).  The shared body is
:mod:`proofs_checks.common.contest`.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from theory.data import PreferenceData
from theory.search import DPO_CONTEST, Instance

from .common import contest

H = Fraction(1, 2)
#: The smallest DPO witness (docs/dpo_sft.md): the positive control's instance.
KNOWN = Instance(
    PreferenceData(P=[[H, Fraction(1, 3)], [Fraction(2, 3), H]], mu0=[H, H]),
    np.array([[Fraction(2, 3), Fraction(1, 3)]], dtype=object),
    Fraction(1),
)


CLAIM = contest.contest_claim(
    "DPO-no-correspondence",
    "DPO loss falls while win rate falls",
    DPO_CONTEST,
    KNOWN,
    "dpo_no_correspondence",
    __name__,
)
