"""Every file the docs cite exists, and nothing cites a file outside the repository.

The README, the pages under ``docs/`` and the docstrings and comments of the code name files of
the repository (``docs/theory.md``, ``theory/wro.py``, ``figures/nlhf_is_wro.png``...) and link
pages to each other.  A moved or renamed file leaves such references dangling; this test finds
them.  The docs must stand alone: the steering files the project was specified from
(``THEORY.md``, ``RUNNER.md``...) are not part of the repository and may not be cited.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP_FOLDERS = ("docs", "theory", "proofs_checks", "tests", "figures", "benchmarks")
#: A repository path: one of the top folders, then path characters, ending in a file suffix.
PATH = re.compile(
    r"(?<![\w./-])((?:" + "|".join(TOP_FOLDERS) + r")/[\w./-]*\.(?:md|py|png|json|csv|toml))"
)
#: A relative markdown link target.
LINK = re.compile(r"\]\((?!https?://|#|mailto:)([^)#\s]+)")
#: Files outside the repository that must not be cited.
OUTSIDE = re.compile(r"\b(?:THEORY|RUNNER|ZOO|STYLE|ARCHITECTURE|DEVELOPERS)\.md\b|\.\./shared")
#: Names that look like paths but are patterns or outputs of a run or a docs build (the API pages
#: under docs/api/generated/ are written at build time), not files of the repo.
GENERATED = ("reports/", "generated/")


def _sources() -> list[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    for folder in ("theory", "proofs_checks", "benchmarks", "tests"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return [f for f in files if f.name != Path(__file__).name]


SOURCES = _sources()


def _resolves(ref: str, source: Path) -> bool:
    if "*" in ref or "<" in ref or ref.startswith(GENERATED):
        return True
    return (ROOT / ref).exists() or (source.parent / ref).exists()


@pytest.mark.parametrize("source", SOURCES, ids=[str(s.relative_to(ROOT)) for s in SOURCES])
def test_cited_files_exist(source):
    text = source.read_text()
    refs = set(PATH.findall(text))
    if source.suffix == ".md":
        refs |= {r for r in LINK.findall(text) if not r.startswith("http")}
    missing = sorted(r for r in refs if not _resolves(r.rstrip("."), source))
    assert not missing, f"{source.relative_to(ROOT)} cites files that do not exist: {missing}"


@pytest.mark.parametrize("source", SOURCES, ids=[str(s.relative_to(ROOT)) for s in SOURCES])
def test_no_file_outside_the_repository_is_cited(source):
    hits = sorted(set(OUTSIDE.findall(source.read_text())))
    assert not hits, f"{source.relative_to(ROOT)} cites files outside the repository: {hits}"
