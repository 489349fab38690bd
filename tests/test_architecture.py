"""Rules of the code's shape that import-linter cannot state (its contracts, in
pyproject.toml, run first in `make test` and in `make lint`)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("clipgen", "workers")


def _private_imports(source: str) -> list[str]:
    """`from module import _name` lines in `source`: another module's private name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
    return found


def test_the_check_finds_a_private_import() -> None:
    source = "from clipgen.services.market.campaigns import _escrows, view_of\nimport os\n"
    assert _private_imports(source) == [
        "line 1: from clipgen.services.market.campaigns import _escrows"
    ]
    assert _private_imports("from __future__ import annotations\n") == []


def test_no_module_imports_a_private_name_of_another() -> None:
    offenders = {
        str(path.relative_to(ROOT)): found
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if (found := _private_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "make the name public or move it where it is used"
