"""Sphinx configuration of the docs site (MyST Markdown, MyST-NB notebooks, autodoc).

Build (from the repository root, with the ``docs`` extra installed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The API reference is generated at build time: :func:`write_api_pages` writes one page per public
module of the ``theory`` package into ``docs/api/generated/`` (git-ignored), so a new module
appears without editing anything here. Only the standard library is imported at module level, so
pytest's ``--doctest-modules`` can import this file without Sphinx installed.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

project = "winrate-theory"
author = "winrate-theory contributors"
copyright = "2025, winrate-theory contributors"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

# MyST: $...$ and $$...$$ math, amsmath environments, ::: fences, heading anchors for links
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
source_suffix = {".md": "myst-nb"}
exclude_patterns = ["_build", "lectures/solutions", "**/.ipynb_checkpoints"]

# notebooks are executed at every build, top to bottom; an error in a cell fails the build
nb_execution_mode = "force"
nb_execution_timeout = 180
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"

html_theme = "alabaster"
html_title = "winrate-theory"
html_theme_options = {"description": "Preference learning through win rate, executable"}

API_DIR = HERE / "api" / "generated"


def public_modules(package: str = "theory") -> list[str]:
    """Every importable module of ``package`` with no private (``_``) component, sorted."""
    pkg = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def _module_page(name: str) -> str:
    """One reference page: the module's docstring and every member it defines."""
    if name == "theory":
        return _package_index()
    return f"# `{name}`\n\n```{{eval-rst}}\n.. automodule:: {name}\n```\n"


def _package_index() -> str:
    """The top-level page: the package docstring and a table of every name ``theory`` exports,
    linked to the module that defines it."""
    theory = importlib.import_module("theory")
    rows = []
    for export in theory.__all__:
        obj = getattr(theory, export)
        if isinstance(obj, ModuleType):
            rows.append(f"| `{export}` | {{py:mod}}`theory.{export}` (namespace) |")
            continue
        home = getattr(obj, "__module__", None)
        if not isinstance(home, str) or not home.startswith("theory"):
            home = _defining_module(theory, export)
        rows.append(f"| `{export}` | {{py:obj}}`{home}.{export}` |")
    table = "\n".join(["| name | defined in |", "|---|---|", *rows])
    return (
        "# `theory` (every top-level name)\n\n"
        "```{eval-rst}\n.. automodule:: theory\n   :no-members:\n```\n\n" + table + "\n"
    )


def _defining_module(theory: object, export: str) -> str:
    """The public module whose ``__all__`` lists ``export`` (for constants, which carry no
    ``__module__``)."""
    for name in public_modules():
        mod = importlib.import_module(name)
        if name != "theory" and export in getattr(mod, "__all__", ()) and export in vars(mod):
            if not hasattr(mod, "__path__"):
                return name
    return "theory"


def write_api_pages(app: Any = None) -> list[str]:
    """Write ``docs/api/generated/<module>.md`` for every public module (only files whose text
    changed are rewritten, stale pages are removed); return the module names."""
    API_DIR.mkdir(parents=True, exist_ok=True)
    names = public_modules()
    wanted = {API_DIR / f"{name}.md": _module_page(name) for name in names}
    for path in API_DIR.glob("*.md"):
        if path not in wanted:
            path.unlink()
    for path, text in wanted.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    return names


#: Where index.md ends its how-to and its explanation toctrees. Pages under docs/ that index.md
#: does not name are added to one of them (``howto*`` pages to the how-to guides, the others to
#: the explanation), so a new page (docs/zoo.md, say) is never left out of the site.
HOWTO_ANCHOR = "howto/classify_a_loss\n```"
EXPLANATION_ANCHOR = "architecture\n```"


def unlisted_pages(index_text: str) -> list[str]:
    """Top-level pages of docs/ that ``index_text`` does not name, sorted."""
    listed = set(index_text.split())
    return sorted(p.stem for p in HERE.glob("*.md") if p.stem != "index" and p.stem not in listed)


def add_unlisted_pages(app: Any, docname: str, source: list[str]) -> None:
    """``source-read`` hook: append :func:`unlisted_pages` to their toctree of index.md."""
    if docname != "index":
        return
    pages = unlisted_pages(source[0])
    for anchor, chosen in (
        (HOWTO_ANCHOR, [p for p in pages if p.startswith("howto")]),
        (EXPLANATION_ANCHOR, [p for p in pages if not p.startswith("howto")]),
    ):
        head = anchor.removesuffix("```")
        source[0] = source[0].replace(anchor, head + "".join(f"{p}\n" for p in chosen) + "```", 1)


def reread_index(app: Any, env: Any, added: set, changed: set, removed: set) -> list[str]:
    """``env-get-outdated`` hook: read index.md at every build, so that :func:`add_unlisted_pages`
    sees pages added since the last (incremental) build."""
    return ["index"]


def setup(app: Any) -> dict[str, bool]:
    write_api_pages()
    app.connect("source-read", add_unlisted_pages)
    app.connect("env-get-outdated", reread_index)
    return {"parallel_read_safe": True}
