"""SFT-no-correspondence: a lower SFT loss (on preferred samples) with a lower win rate.

On each random instance (a float preference data distribution with K in 2..6, a random family,
``mu0 = mu1`` or not, a uniform or random ``pi_ref``) the search of
:mod:`theory.search` draws model pairs until the SFT loss prefers one model and the win rate
against the data the other.  A few witnesses are minimized (fewest responses, instance rounded to
small rationals, models on a small grid) and certified exactly: win rates as Fractions, the loss
order (a cross-entropy) by comparing products of integer powers.  The verdict rests on the
random instances: their smallest witness must pass an independent re-verification written in the
check (exact pairwise win rates, ``arb`` interval losses), and so must the reported smallest
(the exhaustive two-response enumeration is an extra).  The SFT loss ignores ``pi_ref`` and
``beta``.  The shared body is :mod:`proofs_checks.common.contest`.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from theory.data import PreferenceData
from theory.search import SFT_CONTEST, Instance

from .common import contest

H = Fraction(1, 2)
#: The smallest SFT witness (docs/dpo_sft.md): the positive control's instance.
KNOWN = Instance(
    PreferenceData(P=[[H, Fraction(0)], [Fraction(1), H]], mu0=[Fraction(2, 3), Fraction(1, 3)]),
    np.array([[H, H]], dtype=object),
)


CLAIM = contest.contest_claim(
    "SFT-no-correspondence",
    "lower SFT loss, lower win rate",
    SFT_CONTEST,
    KNOWN,
    "sft_no_correspondence",
    __name__,
)
