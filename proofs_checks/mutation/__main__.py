"""``python -m proofs_checks.mutation [--only NAME ...] [--instances N] [--claims ID ...]
[--all-claims] [--tests] [--workers N] [--timeout S] [--no-baseline] [--json PATH] [--list]``

Runs every mutant (or those named) on a temporary copy of the repository and prints one row per
mutant (what caught it) and the score.  By default each mutant runs the claims that call the
code it mutates (its ``claims``); ``--all-claims`` runs every claim but :data:`SLOW_CLAIMS` for
every mutant (add ``--claims opt-success ...`` to choose the set yourself).  First an unmutated
copy is run (the baseline, on the union of the claims the mutants use): a claim that does not
agree there would make the score meaningless, so it is reported and the run stops.
Exit status 0 (the score is printed), 2 on a bad baseline or bad arguments.  Run it with
``nice``: it costs several CPU-minutes (docs/mutation.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .harness import MutantOutcome, run_mutant
from .mutants import MUTANTS, Mutant, by_name

#: Claims left out by default: at 200 instances opt-success alone takes about two minutes of
#: CPU (it trains many runs), more than every other claim together; it checks the experiment
#: pipeline (theory.experiments, theory.statistics), which no default mutant touches.
SLOW_CLAIMS = ("opt-success",)


def _claim_ids(args: argparse.Namespace, mutant: Mutant | None) -> list[str]:
    """The claims a mutant runs (``None``: the baseline, the union over the run)."""
    if args.claims:
        return list(args.claims)
    from ..scaffold.registry import CLAIM_ORDER, all_claims

    if args.all_claims:
        return [c.id for c in all_claims() if c.id not in SLOW_CLAIMS]
    wanted = set(mutant.claims) if mutant else {i for m in args.mutants for i in m.claims}
    order = list(CLAIM_ORDER) + sorted(wanted - set(CLAIM_ORDER))
    return [i for i in order if i in wanted]


def _row(o: MutantOutcome, tests: bool) -> str:
    verdict = "CAUGHT" if o.caught else "survived"
    by = ", ".join(o.caught_by) or ("crashed: " + ", ".join(o.crashed) if o.crashed else "-")
    t = "" if not tests else f"  tests: {'caught' if o.tests_caught else 'missed'}"
    note = f"  ({o.note})" if o.note else ""
    return f"{o.name:30s} {o.kind:34s} {verdict:8s} {o.seconds:6.1f}s  {by}{t}{note}"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m proofs_checks.mutation", description="Mutation testing of theory/."
    )
    p.add_argument("--list", action="store_true", help="list the mutants and exit")
    p.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutants")
    p.add_argument("--instances", type=int, default=200, help="instances per claim (200)")
    p.add_argument("--claims", nargs="+", metavar="ID", help="run only these claims")
    p.add_argument(
        "--all-claims", action="store_true", help="every claim but " + ", ".join(SLOW_CLAIMS)
    )
    p.add_argument("--tests", action="store_true", help="also run the test suite per mutant")
    p.add_argument("--workers", type=int, default=1, help="claim runner processes (1)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per mutant run (900)")
    p.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    p.add_argument("--json", type=Path, metavar="PATH", help="write the outcomes here")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:30s} {m.kind:34s} {m.path}: {m.what}")
        return 0
    try:
        mutants = [by_name(n) for n in args.only] if args.only else list(MUTANTS)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    args.mutants = mutants
    extra = ["--workers", str(args.workers)]
    common = dict(instances=args.instances, timeout=args.timeout, extra=extra)
    ids = _claim_ids(args, None)
    print(f"claims ({len(ids)}) at {args.instances} instances: {' '.join(ids)}", flush=True)
    if not args.no_baseline:
        base = run_mutant(None, ids, **common)
        print(_row(base, False), flush=True)
        if base.caught or base.crashed or base.note:
            print("the unmutated copy does not agree everywhere: no score", file=sys.stderr)
            return 2
    outcomes = []
    for m in mutants:
        o = run_mutant(m, _claim_ids(args, m), tests=args.tests, **common)
        outcomes.append(o)
        print(_row(o, args.tests), flush=True)
    n, caught = len(outcomes), sum(o.caught for o in outcomes)
    print(f"\nscore: the claims caught {caught} of {n} mutants ({100 * caught / max(n, 1):.0f}%)")
    if args.tests:
        t = sum(bool(o.tests_caught) for o in outcomes)
        print(f"       the tests caught {t} of {n}")
    if args.json:
        report = {"instances": args.instances, "caught": caught, "mutants": n}
        report["outcomes"] = [o.as_dict() for o in outcomes]
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
