"""The package's layering, from the source alone (ast; nothing imported), as docs/architecture.md states it.

No import cycles; nothing outside cli/ imports the CLI (benchmarks, metrics and pipelines neither);
CLI functions stay short (they parse and call; stages hold the logic); lower stages never import
higher ones (features -> relevance -> coverage -> catalog -> synthesis).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "fac_datasets"
MAX_CLI_LINES = 60
# stage -> stages it must never import (imports flow one way: inputs -> features -> relevance -> coverage -> ...)
NEVER = {
    "features": ("relevance", "coverage", "catalog", "synthesis", "generation", "review", "hub", "cli"),
    "relevance": ("coverage", "catalog", "synthesis", "generation", "review", "hub", "cli"),
    "coverage": ("catalog", "synthesis", "generation", "review", "hub", "cli"),
}


def _modules(package: Path) -> dict[str, Path]:
    mods = {}
    for path in package.rglob("*.py"):
        name = ".".join(path.relative_to(package.parent).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = path
    return mods


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes under `if TYPE_CHECKING:` (not imported at run time)."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return skipped


def _imports(path: Path) -> set[str]:
    """Every module named by an absolute import in the file (module level or inside functions)."""
    tree = ast.parse(path.read_text())
    skipped = _type_checking_nodes(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


MODULES = _modules(PACKAGE)
PACKAGES = {name for name, path in MODULES.items() if path.name == "__init__.py"}
EDGES = {name: {m for m in _imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    cycles, seen, done = [], set(), set()

    def visit(node: str, stack: list[str]) -> None:
        for nxt in sorted(EDGES[node]):
            if nxt in PACKAGES:
                continue
            if nxt in stack:
                cycle = stack[stack.index(nxt) :]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    cycles.append(cycle)
            elif nxt not in done:
                visit(nxt, [*stack, nxt])
        done.add(node)

    for name in sorted(MODULES):
        if name not in PACKAGES and name not in done:
            visit(name, [name])
    return cycles


def test_no_import_cycles():
    assert [" -> ".join(c) for c in _cycles()] == []


def test_nothing_outside_cli_imports_the_cli():
    users = [name for name, targets in EDGES.items() if not name.startswith("fac_datasets.cli") and
             any(t.startswith("fac_datasets.cli") for t in targets)]  # fmt: skip
    for folder in ("benchmarks", "metrics", "pipelines"):
        for path in (ROOT / folder).rglob("*.py"):
            if any(m.startswith("fac_datasets.cli") for m in _imports(path)):
                users.append(str(path.relative_to(ROOT)))
    assert users == []


def test_cli_modules_import_no_other_cli_module_but_options():
    crossing = [
        f"{name} -> {target}"
        for name, targets in EDGES.items()
        if name.startswith("fac_datasets.cli.")
        for target in targets
        if target.startswith("fac_datasets.cli.") and target != "fac_datasets.cli.options"
    ]
    assert crossing == []


def test_cli_functions_are_short():
    long = []
    for path in (PACKAGE / "cli").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_CLI_LINES:
                    long.append(f"{path.name}:{node.name} ({lines} lines)")
    assert long == []


@pytest.mark.parametrize("stage", sorted(NEVER))
def test_lower_stages_never_import_higher_ones(stage):
    prefix = f"fac_datasets.{stage}"
    bad = [
        f"{name} -> {target}"
        for name, targets in EDGES.items()
        if name == prefix or name.startswith(prefix + ".")
        for target in targets
        if any(
            target == f"fac_datasets.{higher}" or target.startswith(f"fac_datasets.{higher}.")
            for higher in NEVER[stage]
        )
    ]
    assert bad == []


def test_the_checks_see_a_planted_violation(tmp_path):
    """The walker is not vacuous: a planted cycle and a planted CLI import are found."""
    package = tmp_path / "pkg"
    (package / "cli").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "cli" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import x\nfrom pkg.cli import app\n")
    (package / "b.py").write_text("def f():\n    from pkg import a\n\nfrom pkg.a import y\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import z\n")
    assert _imports(package / "a.py") >= {"pkg.b", "pkg.cli"}
    assert "pkg.a" in _imports(package / "b.py") and "pkg.a" not in _imports(package / "c.py")
