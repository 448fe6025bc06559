"""DPO-no-correspondence: the DPO loss can fall while the win rate falls.

On each random instance (a float preference data distribution with K in 2..6, a random family,
``mu0 = mu1`` or not, a uniform or random ``pi_ref``, ``beta`` in {0.1, 0.5, 1, 2}) the search of
:mod:`theory.search` draws model pairs until the DPO loss prefers one model and the win rate
against the data the other.  A few witnesses are minimized (fewest responses, instance rounded to
small rationals with ``beta = 1``, models on a small grid) and certified exactly: win rates as
Fractions, the loss order by comparing products of integer powers.  The smallest is reported.
Where no pair disagrees the instance is listed by K (a two-response instance with a deterministic
label is one: there the loss is monotone in the win rate).
"""

from __future__ import annotations

from pathlib import Path

from theory.search import DPO_CONTEST

from . import _contest_check
from .registry import CheckContext, CheckResult, Claim


def check(ctx: CheckContext) -> CheckResult:
    return _contest_check.run(ctx, DPO_CONTEST)


def figure(result: CheckResult, outdir: Path) -> list[Path]:
    return _contest_check.figure(
        result,
        outdir,
        "dpo_no_correspondence",
        "DPO: from pi_b to pi_a the loss falls and the win rate falls",
    )


CLAIM = Claim(
    id="DPO-no-correspondence",
    statement="DPO loss falls while win rate falls",
    expected="counterexample",
    check=check,
    figure=figure,
    default_instances=5000,
)
