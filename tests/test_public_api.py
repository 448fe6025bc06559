"""The public surface: main functions at the top level, the rest in namespaces; every name that
was top-level before the namespaces still resolves, with a DeprecationWarning naming its new
place; no private name crosses modules."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import types
from pathlib import Path

import pytest

import theory
from theory._moved import MOVED

ROOT = Path(__file__).resolve().parent.parent


def test_top_level_holds_main_functions_and_namespaces():
    functions = [n for n in theory.__all__ if not isinstance(getattr(theory, n), types.ModuleType)]
    assert 25 <= len(functions) <= 40, functions
    for name in ("win_rate", "wro_optimum", "dpo_minimizers", "maximal_lottery", "PreferenceData"):
        assert name in functions
    for namespace in ("winrate", "axioms", "search", "training", "methods", "errors"):
        assert isinstance(getattr(theory, namespace), types.ModuleType)
    assert len(theory.__all__) == len(set(theory.__all__))


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_top_level_names_resolve_with_a_warning(old):
    module, new = MOVED[old]
    expected = getattr(importlib.import_module(module), new)
    assert new in importlib.import_module(module).__all__
    with pytest.warns(DeprecationWarning, match=f"theory.{old} moved to {module}"):
        assert getattr(theory, old) is expected


def test_namespaces_no_main_function_needs_are_imported_on_first_use():
    code = (
        "import sys, theory\n"
        "lazy = [n for n in theory._ON_DEMAND if f'theory.{n}' in sys.modules]\n"
        "assert not lazy, lazy\n"
        "assert set(theory._ON_DEMAND) <= set(theory.__all__) <= set(dir(theory))\n"
        "assert theory.zoo is sys.modules['theory.zoo']\n"
        "from theory import online\n"
        "assert online.__name__ == 'theory.online'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
    for name in theory._ON_DEMAND:
        assert isinstance(getattr(theory, name), types.ModuleType)


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError):
        theory.no_such_name  # noqa: B018


def _private_imports(path: Path) -> list[str]:
    """``from <module> import _name`` statements that take a private name across modules."""
    tree = ast.parse(path.read_text())
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    bad.append(f"{path.relative_to(ROOT)}: from {node.module} import {alias.name}")
    return bad


def test_no_private_name_is_imported_across_modules():
    files = [
        p
        for folder in ("theory", "proofs_checks", "benchmarks")
        for p in sorted((ROOT / folder).rglob("*.py"))
    ]
    bad = [b for p in files for b in _private_imports(p)]
    # the one deliberate exception: the package's own table of moved names
    bad = [b for b in bad if "import MOVED" not in b and "_moved import" not in b]
    assert not bad, bad
