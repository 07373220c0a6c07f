"""The package's layering, read from its source: who imports whom.

Every ``import`` of an epmt_graph module counts, at module level or inside a function
(an import moved into a function still ties the two modules together). The read side
(``api/``, ``tree/``, ``explore/``, ``outliers/``) never imports the write side
(``loader/``); ``schema`` and ``config`` import nothing of the project but ``errors`` (and
``schema`` itself); and there is no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "epmt_graph"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The epmt_graph modules ``path`` imports (``from pkg import mod`` names ``pkg.mod``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return found & modules


@pytest.fixture(scope="module")
def imports() -> nx.DiGraph:
    """Module -> the epmt_graph modules it imports."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(paths)
    for name, path in paths.items():
        graph.add_edges_from((name, target) for target in _imports(path, set(paths)))
    return graph


def test_the_reader_finds_the_package(imports: nx.DiGraph) -> None:
    assert {"epmt_graph.api.formats", "epmt_graph.loader.reader", "epmt_graph.schema"} <= set(
        imports
    )
    assert ("epmt_graph.loader.reader", "epmt_graph.schema") in imports.edges


def test_no_import_cycle(imports: nx.DiGraph) -> None:
    cycles = [c for c in nx.simple_cycles(imports) if len(c) > 1]
    assert cycles == []


def test_the_api_never_imports_the_loader(imports: nx.DiGraph) -> None:
    read_side = [
        n
        for n in imports
        if n.startswith(
            ("epmt_graph.api", "epmt_graph.tree", "epmt_graph.explore", "epmt_graph.outliers")
        )
    ]
    crossing = [
        (a, b)
        for a in read_side
        for b in imports.successors(a)
        if b.startswith("epmt_graph.loader")
    ]
    assert crossing == []


@pytest.mark.parametrize("base", ["epmt_graph.config", "epmt_graph.schema", "epmt_graph.errors"])
def test_foundations_import_only_errors(imports: nx.DiGraph, base: str) -> None:
    modules = [n for n in imports if n == base or n.startswith(base + ".")]
    outside = {
        target
        for module in modules
        for target in imports.successors(module)
        if target != "epmt_graph.errors" and not target.startswith(base)
    }
    assert outside == set()
