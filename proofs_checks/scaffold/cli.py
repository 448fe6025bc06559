"""The command line: ``python -m proofs_checks [--list] [--only ID ...] [--instances N] [--quick]
[--seed S] [--json PATH] [--figures DIR] [--no-figures]``.

Exit status (RUNNER.md): 0 every verdict agrees or is inconclusive; 1 some verdict disagrees;
2 usage error (bad flags or paths, found before any work); 3 some verdict is invalid and none
disagrees; 130 interrupted (the partial JSON report of the finished claims is written).

Figures: without ``--figures``, the canonical run (default seed and sizes, every claim) refreshes
the committed gallery ``figures/``; every other run writes to ``reports/figures/``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .registry import all_claims
from .runner import ClaimRun, run_claims, write_json

__all__ = ["main", "GALLERY", "SCRATCH_FIGURES", "DEFAULT_SEED"]

ROOT = Path(__file__).resolve().parents[2]
#: The committed gallery, refreshed by the canonical run.
GALLERY = ROOT / "figures"
#: Where every other run's figures go (git-ignored).
SCRATCH_FIGURES = Path("reports") / "figures"
DEFAULT_SEED = 0

EXIT_OK, EXIT_DISAGREES, EXIT_USAGE, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m proofs_checks",
        description="Check the claims of docs/theory.md on random instances.",
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
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, metavar="S", help="random seed >= 0 (default 0)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the JSON report here")
    parser.add_argument(
        "--figures",
        type=Path,
        metavar="DIR",
        help="where figures go (default: figures/ for the canonical run, else reports/figures/)",
    )
    parser.add_argument("--no-figures", action="store_true", help="draw no figures")
    return parser


def _writable_dir(path: Path) -> str | None:
    """Why ``path`` cannot be a folder to write into, or None."""
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    return None


def _check_paths(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.json is not None:
        if args.json.is_dir():
            parser.error(f"--json {args.json} is a folder; expected a file path")
        if args.json.exists() and not os.access(args.json, os.W_OK):
            parser.error(f"--json {args.json} is not writable")
        why = _writable_dir(args.json.parent)
        if why:
            parser.error(f"--json {args.json}: {why}")
    if args.figures is not None and not args.no_figures:
        if args.figures.exists() and not args.figures.is_dir():
            parser.error(f"--figures {args.figures} is not a folder")
        why = _writable_dir(args.figures)
        if why:
            parser.error(f"--figures {args.figures}: {why}")


def _figures_dir(args: argparse.Namespace) -> Path | None:
    if args.no_figures:
        return None
    if args.figures is not None:
        return args.figures
    canonical = (
        args.seed == DEFAULT_SEED and args.instances is None and not args.quick and not args.only
    )
    return GALLERY if canonical else SCRATCH_FIGURES


def exit_status(runs: list[ClaimRun]) -> int:
    """The exit status for finished runs (module docstring)."""
    verdicts = {r.verdict for r in runs}
    if "disagrees" in verdicts:
        return EXIT_DISAGREES
    if "invalid" in verdicts:
        return EXIT_INVALID
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    claims = all_claims()
    if args.list:
        for c in claims:
            print(f"{c.id:<24} {c.expected:<15} {c.statement}")
        return EXIT_OK
    if args.only:
        known = {c.id: c for c in claims}
        unknown = [cid for cid in args.only if cid not in known]
        if unknown:
            parser.error(f"unknown claim id(s) {unknown}; known: {sorted(known)}")
        claims = [known[cid] for cid in dict.fromkeys(args.only)]
    if args.instances is not None and args.instances < 1:
        parser.error(f"--instances {args.instances}: expected at least 1")
    if args.seed < 0:
        parser.error(f"--seed {args.seed}: expected a whole number >= 0")
    _check_paths(parser, args)
    figures_dir = _figures_dir(args)
    runs: list[ClaimRun] = []
    try:
        run_claims(
            claims,
            instances=args.instances,
            seed=args.seed,
            figures_dir=figures_dir,
            quick=args.quick,
            done=runs,
        )
    except KeyboardInterrupt:
        if args.json is not None:
            write_json(runs, args.json, complete=False)
        print(
            f"\ninterrupted after {len(runs)} of {len(claims)} claims"
            + (f"; partial report in {args.json}" if args.json is not None else ""),
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if args.json is not None:
        write_json(runs, args.json)
    status = exit_status(runs)
    bad = [f"{r.claim.id} ({r.verdict})" for r in runs if r.verdict in ("disagrees", "invalid")]
    agree = sum(r.verdict == "agrees" for r in runs)
    undecided = [r.claim.id for r in runs if r.verdict == "inconclusive"]
    print(
        f"\n{agree} of {len(runs)} claims agree"
        + (f"; inconclusive: {', '.join(undecided)}" if undecided else "")
        + (f"; NOT AGREEING: {', '.join(bad)}" if bad else "")
        + f" (exit status {status})"
        + (f"; figures in {figures_dir}" if figures_dir is not None else "")
    )
    return status
