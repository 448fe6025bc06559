"""The command line: ``python -m proofs_checks [--list] [--only ID ...] [--instances N] [--quick]
[--seed S] [--json PATH] [--figures DIR] [--no-figures] [--workers N | --scheduler ADDRESS]
[--prove | --prove-only] [--show-proof ID]``.

Where the work runs (:mod:`proofs_checks.scaffold.engines`): ``--workers N`` local processes
(default: every usable core; ``--workers 1`` runs in this process), or ``--scheduler ADDRESS`` a
Dask distributed cluster (``local:N`` starts a local one of N workers).  The report is the same
for any of them (docs/architecture.md, "Scale"); the JSON records the engine and worker count.

Proofs (:mod:`proofs_checks.proofs`, ``docs/proofs.md``): ``--prove`` also runs each claim's
symbolic proof for K = 2, 3, 4 beside its random instances; ``--prove-only`` runs only the proofs
(claims without one are skipped and named); ``--show-proof ID`` prints a proof's steps and exits.

Exit status (the runner's contract, docs/architecture.md and the README): 0 every verdict
agrees or is inconclusive; 1 some verdict disagrees; 2 usage error (bad flags or paths, found
before any work); 3 some verdict is invalid and none disagrees; 130 interrupted (the partial
JSON report of the finished claims is written).

Figures: without ``--figures``, the canonical run (default seed and sizes, every claim) refreshes
the committed gallery ``figures/``; every other run writes to ``reports/figures/``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .claim import Claim
from .engines import Engine, EngineError, engine_for, local_workers, usable_cores
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


def build_parser() -> argparse.ArgumentParser:
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
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help=f"local worker processes (default: every usable core, here {usable_cores()})",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster: a scheduler address, or local:N for a local cluster "
        "(needs pip install -e '.[distributed]')",
    )
    # --- proofs (proofs_checks.proofs) ---
    proofs = parser.add_mutually_exclusive_group()
    proofs.add_argument(
        "--prove", action="store_true", help="also run the symbolic proofs (K = 2, 3, 4)"
    )
    proofs.add_argument(
        "--prove-only", action="store_true", help="run only the symbolic proofs, no instances"
    )
    parser.add_argument(
        "--show-proof", metavar="ID", help="print the steps of a claim's proof and exit"
    )
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


def figures_dir_for(args: argparse.Namespace) -> Path | None:
    """Where figures go: none with ``--no-figures``; ``--figures DIR``; the committed gallery for
    the canonical run (default seed and sizes, every claim); ``reports/figures/`` otherwise."""
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


def _validated_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The parsed flags, every usage error (bad numbers, bad output paths) raised before any
    work (exit status 2)."""
    args = parser.parse_args(argv)
    if args.instances is not None and args.instances < 1:
        parser.error(f"--instances {args.instances}: expected at least 1")
    if args.seed < 0:
        parser.error(f"--seed {args.seed}: expected a whole number >= 0")
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers {args.workers}: expected at least 1")
    if args.scheduler is not None:
        try:
            local_workers(args.scheduler)
        except ValueError as exc:
            parser.error(str(exc))
    _check_paths(parser, args)
    return args


def _selected_claims(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[Claim]:
    """The claims to run, in report order; ``--only`` ids checked, duplicates run once."""
    claims = all_claims()
    if args.only:
        known = {c.id: c for c in claims}
        unknown = [cid for cid in args.only if cid not in known]
        if unknown:
            parser.error(f"unknown claim id(s) {unknown}; known: {sorted(known)}")
        claims = [known[cid] for cid in dict.fromkeys(args.only)]
    return _with_proofs(claims) if args.prove_only else claims


def _stopped(
    runs: list[ClaimRun], claims: list[Claim], json_path: Path | None, engine: Engine, why: str
) -> None:
    """Write the finished claims' partial report (``runs`` is kept in report order by
    :func:`~proofs_checks.scaffold.runner.run_claims`) and say so in one line."""
    if json_path is not None:
        write_json(runs, json_path, complete=False, engine=engine)
    where = f"; partial report in {json_path}" if json_path is not None else ""
    print(f"\n{why} after {len(runs)} of {len(claims)} claims{where}", file=sys.stderr)


def _summary(runs: list[ClaimRun], status: int, figures_dir: Path | None) -> str:
    """The report's last line: how many agree, which do not, the exit status, the figures."""
    bad = [f"{r.claim.id} ({r.verdict})" for r in runs if r.verdict in ("disagrees", "invalid")]
    agree = sum(r.verdict == "agrees" for r in runs)
    undecided = [r.claim.id for r in runs if r.verdict == "inconclusive"]
    return (
        f"\n{agree} of {len(runs)} claims agree"
        + (f"; inconclusive: {', '.join(undecided)}" if undecided else "")
        + (f"; NOT AGREEING: {', '.join(bad)}" if bad else "")
        + f" (exit status {status})"
        + (f"; figures in {figures_dir}" if figures_dir is not None else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = _validated_args(parser, argv)
    if args.show_proof is not None:
        return _show_proof(parser, args.show_proof)
    if args.list:
        for c in all_claims():
            print(f"{c.id:<33} {c.expected:<15} {c.statement}")
        return EXIT_OK
    claims = _selected_claims(parser, args)
    figures_dir = None if args.prove_only else figures_dir_for(args)
    try:
        engine = engine_for(args.workers, args.scheduler)
    except EngineError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    runs: list[ClaimRun] = []
    try:
        run_claims(
            claims,
            instances=args.instances,
            seed=args.seed,
            figures_dir=figures_dir,
            quick=args.quick,
            done=runs,
            prove=args.prove or args.prove_only,
            sample=not args.prove_only,
            engine=engine,
        )
    except KeyboardInterrupt:
        _stopped(runs, claims, args.json, engine, "interrupted")
        return EXIT_INTERRUPTED
    except EngineError as exc:
        _stopped(runs, claims, args.json, engine, f"error: {type(exc).__name__}: {exc};\nstopped")
        return EXIT_INVALID
    finally:
        engine.close()
    if args.json is not None:
        write_json(runs, args.json, engine=engine)
    status = exit_status(runs)
    print(_summary(runs, status, figures_dir))
    if args.prove or args.prove_only:
        print(_proof_summary(runs))
    return status


# --- proofs (proofs_checks.proofs) ------------------------------------------------------------


def _show_proof(parser: argparse.ArgumentParser, claim_id: str) -> int:
    from .. import proofs

    if claim_id not in proofs.available():
        parser.error(f"--show-proof {claim_id}: no proof; proofs exist for {proofs.available()}")
    print(proofs.show(claim_id))
    return EXIT_OK


def _with_proofs(claims: list[Claim]) -> list[Claim]:
    """The claims that have a proof; the others are named as skipped."""
    from .. import proofs

    skipped = [c.id for c in claims if c.id not in proofs.available()]
    if skipped:
        print(f"no proof (skipped by --prove-only): {', '.join(skipped)}")
    return [c for c in claims if c.id in proofs.available()]


def _proof_summary(runs: list[ClaimRun]) -> str:
    """The timing line of the proofs: how many proved, in how many seconds of CPU."""
    done = [r.proof for r in runs if r.proof is not None]
    proved = sum(p.status == "proved" for p in done)
    seconds = sum(p.seconds for p in done)
    return f"proofs: {proved} of {len(done)} proved for K = 2, 3, 4 in {seconds:.1f} s of CPU"
