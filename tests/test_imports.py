"""The app's modules import one another without a circle, lazy imports included.

Read with ``ast``, never imported: a cycle that a lazy import inside a
function hides from Python at start-up is still a circle for a reader, so
imports in function bodies count. Imports under ``if TYPE_CHECKING:`` do not:
they never run. ``from pkg import name`` points at ``pkg.name`` when that is a
module, else at ``pkg``; the parent package that Python runs first is not
counted, as in the usual tools (grimp, pydeps), or every package whose
``__init__`` gathers its modules would be a circle with each of them.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

from app.config import BASE_DIR

# (importer, imported) -> line of the first such import in the importer.
Graph = dict[str, dict[str, int]]


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Every module under ``root`` by dotted name; a package's ``__init__`` is the package."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join([package, *parts])] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(nodes: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in ``nodes``, at any depth, except under ``if TYPE_CHECKING:``."""
    for node in nodes:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                yield from _imports([child])
            elif isinstance(child, ast.excepthandler | ast.match_case):
                yield from _imports(child.body)


def _base(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module that ``from <node.module> import ...`` names, relative or not."""
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _nearest(name: str, modules: dict[str, Path]) -> str | None:
    """The module ``name`` is, or the closest package holding it (``import a.b.c`` runs a.b.c)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path, package: str) -> Graph:
    """Who imports whom among the modules of ``package`` (its source at ``root``)."""
    modules = module_names(root, package)
    graph: Graph = {}
    for module, path in modules.items():
        edges = graph.setdefault(module, {})
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _imports(tree.body):
            if isinstance(node, ast.Import):
                targets = [_nearest(alias.name, modules) for alias in node.names]
            else:
                base = _base(module, path, node)
                targets = [
                    f"{base}.{alias.name}"
                    if f"{base}.{alias.name}" in modules
                    else _nearest(base, modules)
                    for alias in node.names
                ]
            for target in targets:
                if target and target != module:
                    edges.setdefault(target, node.lineno)
    return graph


def strongly_connected(graph: Graph) -> list[list[str]]:
    """The groups of modules that reach one another (Tarjan), each of two or more."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def shortest_cycle(graph: Graph, start: str, within: set[str]) -> list[str]:
    """The shortest chain from ``start`` back to itself inside one strongly connected group."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph.get(node, {})):
                if target not in within or target in came_from:
                    continue
                came_from[target] = node
                if target == start:
                    chain = [start]
                    while chain[-1] != start or len(chain) == 1:
                        chain.append(came_from[chain[-1]])
                    return chain[::-1]
                following.append(target)
        frontier = following
    return []


def cycles(graph: Graph) -> list[str]:
    """Each circle as ``a (line) -> b (line) -> a``, one per module of every circular group."""
    found: list[str] = []
    seen: set[tuple[str, ...]] = set()
    for group in strongly_connected(graph):
        for start in group:
            chain = shortest_cycle(graph, start, set(group))
            turn = chain.index(min(chain[:-1]))
            key = tuple(chain[turn:-1] + chain[:turn])
            if key in seen:
                continue
            seen.add(key)
            steps = [f"{a}:{graph[a][b]}" for a, b in itertools.pairwise(chain)]
            found.append(" -> ".join([*steps, chain[-1]]))
    return found


def test_the_app_imports_in_no_circle() -> None:
    graph = import_graph(BASE_DIR / "app", "app")
    found = cycles(graph)
    assert not found, "import cycles (module:line of the import -> ...):\n" + "\n".join(found)


def test_the_graph_sees_module_level_lazy_and_from_imports() -> None:
    graph = import_graph(BASE_DIR / "app", "app")
    assert "app.services.cameras" in graph["app.routers.cameras"]
    assert "app.models.units" in graph["app.models"]
    # cli.py imports its commands' modules inside the commands, to start fast.
    assert "app.migrations" in graph["app.cli"]


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


class TestFindsCycles:
    def test_a_lazy_import_inside_a_function_closes_a_circle(self, tmp_path: Path) -> None:
        root = write(
            tmp_path / "pkg",
            {
                "__init__.py": "",
                "entry.py": "def seeders():\n    from pkg import seeder\n    return seeder\n",
                "seeder.py": "from pkg.entry import seeders\n",
            },
        )
        assert cycles(import_graph(root, "pkg")) == ["pkg.entry:2 -> pkg.seeder:1 -> pkg.entry"]

    def test_relative_and_submodule_imports_are_resolved(self, tmp_path: Path) -> None:
        root = write(
            tmp_path / "pkg",
            {
                "__init__.py": "",
                "sub/__init__.py": "from . import a\n",
                "sub/a.py": "from .. import b\n",
                "b.py": "import pkg.sub.a as alias\n",
            },
        )
        graph = import_graph(root, "pkg")
        assert graph["pkg.sub"] == {"pkg.sub.a": 1}
        assert graph["pkg.sub.a"] == {"pkg.b": 1}
        assert cycles(graph) == ["pkg.b:1 -> pkg.sub.a:1 -> pkg.b"]

    def test_type_checking_imports_and_the_parent_package_do_not_count(
        self, tmp_path: Path
    ) -> None:
        root = write(
            tmp_path / "pkg",
            {
                "__init__.py": "from pkg import a\n",
                "a.py": "from typing import TYPE_CHECKING\n"
                "from pkg.b import x\n"
                "if TYPE_CHECKING:\n    from pkg import c\nelse:\n    import os\n",
                "b.py": "x = 1\n",
                "c.py": "import pkg.a\n",
            },
        )
        graph = import_graph(root, "pkg")
        assert graph["pkg.a"] == {"pkg.b": 2}
        assert cycles(graph) == []
