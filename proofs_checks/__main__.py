"""Command line: ``python -m proofs_checks [--list] [--only ID ...] [--instances N] [--quick]
[--seed S] [--json PATH] [--figures DIR] [--no-figures]``.  Exit status 1 when any verdict
disagrees."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .registry import all_claims
from .runner import run_claims, write_json

DEFAULT_FIGURES = Path(__file__).resolve().parent.parent / "figures"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m proofs_checks",
        description="Check the claims of THEORY.md on random instances.",
    )
    parser.add_argument("--list", action="store_true", help="list the claims and exit")
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these claim ids")
    parser.add_argument(
        "--instances", type=int, metavar="N", help="instances per claim (default: per claim)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: each claim at its small quick size (ignored with --instances)",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the JSON report here")
    parser.add_argument(
        "--figures",
        type=Path,
        default=DEFAULT_FIGURES,
        metavar="DIR",
        help=f"where figures go (default {DEFAULT_FIGURES})",
    )
    parser.add_argument("--no-figures", action="store_true", help="draw no figures")
    args = parser.parse_args(argv)

    claims = all_claims()
    if args.list:
        for c in claims:
            print(f"{c.id:<24} {c.expected:<15} {c.statement}")
        return 0
    if args.only:
        known = {c.id: c for c in claims}
        unknown = [cid for cid in args.only if cid not in known]
        if unknown:
            parser.error(f"unknown claim id(s) {unknown}; known: {sorted(known)}")
        claims = [known[cid] for cid in args.only]
    if args.instances is not None and args.instances < 1:
        parser.error("--instances must be at least 1")
    runs = run_claims(
        claims,
        instances=args.instances,
        seed=args.seed,
        figures_dir=None if args.no_figures else args.figures,
        quick=args.quick,
    )
    if args.json is not None:
        write_json(runs, args.json)
    failed = [r.claim.id for r in runs if r.verdict != "agrees"]
    print(
        f"\n{len(runs) - len(failed)} of {len(runs)} claims agree"
        + (f"; DISAGREE: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
