"""The layout a newcomer reads first: every package of app/ says what lives there and what it may import,
and imports sit at the top of modules (the package rules themselves are `lint-imports`, run by `make test`)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(p for p in (ROOT / "app").iterdir() if p.is_dir() and (p / "__init__.py").exists())
SOURCES = sorted(f for top in ("app", "miniprogram_api", "tasks") for f in (ROOT / top).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES, ids=[p.name for p in PACKAGES])
def test_every_package_says_what_lives_there_and_what_it_may_import(package):
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert len(doc) > 40, f"app/{package.name}: say in its docstring what lives there"
    assert "May import" in doc, f"app/{package.name}: say in its docstring what it may import"


def _function_level_imports(path: Path) -> list[str]:
    """Imports of the project's own modules inside functions, unless the line says why (a comment)."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom):
                module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                if (module or "").split(".")[0] in ("app", "miniprogram_api", "tasks") and "#" not in lines[node.lineno - 1]:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {module}")
    return found


def test_imports_sit_at_the_top_of_modules():
    inside = [hit for path in SOURCES for hit in _function_level_imports(path)]
    assert inside == [], "move these imports to the top of their module (or say on the line why not):\n" + "\n".join(inside)
