"""SFT-no-correspondence: a lower SFT loss (on preferred samples) with a lower win rate.

On each random instance (a float preference data distribution with K in 2..6, a random family,
``mu0 = mu1`` or not, a uniform or random ``pi_ref``) the search of
:mod:`theory.search` draws model pairs until the SFT loss prefers one model and the win rate
against the data the other.  A few witnesses are minimized (fewest responses, instance rounded to
small rationals, models on a small grid) and certified exactly: win rates as Fractions, the loss
order (a cross-entropy) by comparing products of integer powers.  The smallest is reported.  The
SFT loss ignores ``pi_ref`` and ``beta``.
"""

from __future__ import annotations

from pathlib import Path

from theory.search import SFT_CONTEST

from . import _contest_check
from .registry import CheckContext, CheckResult, Claim


def check(ctx: CheckContext) -> CheckResult:
    return _contest_check.run(ctx, SFT_CONTEST)


def figure(result: CheckResult, outdir: Path) -> list[Path]:
    return _contest_check.figure(
        result,
        outdir,
        "sft_no_correspondence",
        "SFT: from pi_b to pi_a the loss falls and the win rate falls",
    )


CLAIM = Claim(
    id="SFT-no-correspondence",
    statement="lower SFT loss, lower win rate",
    expected="counterexample",
    check=check,
    figure=figure,
    default_instances=5000,
)
