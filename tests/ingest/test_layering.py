"""The ingest package has no import cycles, counting imports made inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import twin.ingest

PACKAGE = Path(twin.ingest.__file__).parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found |= {n for n in names if n in known}
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_ingest_modules_import_each_other_without_cycles() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    known = {_module_name(f) for f in files}
    graph = {_module_name(f): _imports(f, known) - {_module_name(f)} for f in files}
    assert graph["twin.ingest.detect"], "the import graph was not read"
    assert _cycle(graph) is None, " → ".join(_cycle(graph) or [])
