"""The package's import graph, read statically from the tree (no install, no import): every
``jada_checks`` import resolves to a file, the run flows one way (no circle but the one
docs/architecture.md argues), and no control imports another control."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import REPO

ROOT = REPO / "checks"
PACKAGE = ROOT / "jada_checks"
# model.py names CheckContext for the type checker only (docs/architecture.md, "Layout").
ARGUED = {("jada_checks.model", "jada_checks.context")}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported(path: Path) -> set[str]:
    """Every jada_checks module the file imports, anywhere in it (also inside functions and
    ``if TYPE_CHECKING``): ``from a.b import c`` is a.b.c when that is a module, else a.b."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("jada_checks")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jada_checks"):
            assert node.level == 0, f"{path}: relative import"
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in MODULES else node.module)  # type: ignore[arg-type]
    return out


EDGES = {(name, dep) for name, path in MODULES.items() for dep in imported(path)
         if dep != name}


def test_every_import_resolves_to_a_file_of_the_tree() -> None:
    assert len(MODULES) > 50
    assert not {dep for _, dep in EDGES if dep not in MODULES}


def cycles(edges: set[tuple[str, str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, list[str]] = {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_circle_but_the_argued_one() -> None:
    assert cycles(EDGES - ARGUED) == []
    assert ARGUED <= EDGES, "the argued edge is gone: drop it from ARGUED and the docs"


def test_no_control_imports_a_control() -> None:
    controls = {n for n in MODULES if n.startswith("jada_checks.controls.")}
    assert not sorted((a, b) for a, b in EDGES if a in controls and b in controls)


def test_the_test_sees_a_circle() -> None:
    """The cycle finder itself: a two-module circle and a three-module one."""
    assert cycles({("a", "b"), ("b", "a"), ("b", "c")}) == [{"a", "b"}]
    assert cycles({("a", "b"), ("b", "c"), ("c", "a")}) == [{"a", "b", "c"}]
