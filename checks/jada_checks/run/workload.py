"""How much Testinfra work the user's own checks hold, read from their source, not run.

``-n N`` pays only when the run's Testinfra calls, one round trip each and made one
after another in one process, outweigh what xdist workers cost to start
(:func:`jada_checks.run.workers.plan`). That has to be known before the workers start,
so before pytest collects: here the user's test files are parsed (:mod:`ast`, never
imported) and each test function counted as

    its Testinfra calls (``host.<attribute>`` in its body, at least 1)
    × its literal ``pytest.mark.parametrize`` cases
    × the targets it runs against (its literal ``jada_targets`` marks and the module's
      literal ``testinfra_hosts``, matched as :func:`jada_checks.run.own_fixtures.narrow`
      matches them; every target otherwise).

An estimate, and a low one where it cannot see: a call in a helper function or repeated
in a loop counts once (or not at all), so the run may stay in one process where workers
would have paid a little; it never splits a run because of work it imagined, except where
pytest's own selection (``-k``, ``-m``) or a mark whose value is not a literal drops tests
it counted. Tests that use none of ``host``, ``target`` and ``lightsail`` are no checks
(deselected in a profile run) and count nothing. Reading stops as soon as the count
reaches ``enough`` (the caller's threshold), so a large test tree costs no more than the
files needed to show it is large.
"""

from __future__ import annotations

import ast
import fnmatch
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from jada_checks.run.own_fixtures import testinfra_host_name

FIXTURES = frozenset({"host", "target", "lightsail"})


def estimate(paths: Sequence[str], targets: Sequence[tuple[str, str | None]], *,
             rootdir: Path, python_files: Sequence[str] = ("test_*.py", "*_test.py"),
             python_functions: Sequence[str] = ("test",),
             python_classes: Sequence[str] = ("Test",),
             norecursedirs: Sequence[str] = (), enough: int | None = None) -> int:
    """Testinfra calls (see the module docstring) of the tests under ``paths`` (files,
    directories, ``file.py::name`` node ids, relative to ``rootdir``), against
    ``targets``: (name, ssh host or None) in the run's order."""
    total = 0
    for file, names in _files(paths, rootdir, python_files, norecursedirs):
        try:
            tree = ast.parse(file.read_bytes(), str(file))
        except (OSError, SyntaxError, ValueError):
            continue  # pytest reports it when it collects; nothing to count here
        total += _count(tree, names, targets, python_functions, python_classes)
        if enough is not None and total >= enough:
            break
    return total


def _files(paths: Sequence[str], rootdir: Path, python_files: Sequence[str],
           norecursedirs: Sequence[str]) -> Iterator[tuple[Path, str | None]]:
    """Each test file once, with the name a node id picks in it (None: the whole file)."""
    seen: set[Path] = set()
    for arg in paths:
        part, _, rest = arg.partition("::")
        name = rest.split("::", 1)[0].split("[", 1)[0] or None
        path = (rootdir / part) if not os.path.isabs(part) else Path(part)
        if path.is_file():
            if path not in seen:
                seen.add(path)
                yield path, name
            continue
        for here, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not any(fnmatch.fnmatch(d, p)
                                                        for p in norecursedirs))
            for f in sorted(files):
                file = Path(here) / f
                if f.endswith(".py") and file not in seen and \
                        any(fnmatch.fnmatch(f, p) for p in python_files):
                    seen.add(file)
                    yield file, None


def _count(tree: ast.Module, only: str | None, targets: Sequence[tuple[str, str | None]],
           functions: Sequence[str], classes: Sequence[str]) -> int:
    module_marks = _module_marks(tree)
    hosts = _literal_assignment(tree, "testinfra_hosts")
    total = 0
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if (only is None or node.name == only) and _named(node.name, functions):
                total += _one(node, [*module_marks, *node.decorator_list], hosts, targets)
        elif isinstance(node, ast.ClassDef) and (only is None or node.name == only) \
                and _named(node.name, classes):
            for fn in node.body:
                if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and \
                        _named(fn.name, functions):
                    marks = [*module_marks, *node.decorator_list, *fn.decorator_list]
                    total += _one(fn, marks, hosts, targets)
    return total


def _named(name: str, prefixes: Sequence[str]) -> bool:
    """pytest's ``python_functions``/``python_classes``: prefixes or glob patterns."""
    return any(fnmatch.fnmatch(name, p) if any(c in p for c in "*?[") else name.startswith(p)
               for p in prefixes)


def _one(fn: ast.FunctionDef | ast.AsyncFunctionDef, marks: list[ast.expr],
         hosts: list[str] | None, targets: Sequence[tuple[str, str | None]]) -> int:
    params = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
    if not params & FIXTURES:
        return 0  # no check of a target: deselected in a profile run
    calls = sum(1 for n in ast.walk(fn) if isinstance(n, ast.Attribute)
                and isinstance(n.value, ast.Name) and n.value.id == "host")
    cases = 1
    names = [name for name, _ in targets]
    for mark in marks:
        kind, args = _mark(mark)
        if kind == "parametrize" and len(args) >= 2 and \
                isinstance(args[1], ast.List | ast.Tuple):
            cases *= len(args[1].elts)
        elif kind == "jada_targets":
            pats = [a.value for a in args if isinstance(a, ast.Constant)
                    and isinstance(a.value, str)]
            if len(pats) == len(args):  # all literal; else counted as every target
                names = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in pats)]
    if hosts is not None:
        wanted = [testinfra_host_name(h) for h in hosts]
        ssh = dict(targets)
        names = [n for n in names if any(fnmatch.fnmatchcase(n, w) or ssh.get(n) == w
                                         for w in wanted)]
    return max(calls, 1) * cases * len(names)


def _mark(node: ast.expr) -> tuple[str | None, list[ast.expr]]:
    """``pytest.mark.NAME(args)`` / ``mark.NAME(args)`` -> (NAME, args); else (None, [])."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        inner = node.func.value
        if (isinstance(inner, ast.Attribute) and inner.attr == "mark") or \
                (isinstance(inner, ast.Name) and inner.id == "mark"):
            return node.func.attr, list(node.args)
    return None, []


def _module_marks(tree: ast.Module) -> list[ast.expr]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark"
                                                for t in node.targets):
            value = node.value
            return list(value.elts) if isinstance(value, ast.List | ast.Tuple) else [value]
    return []


def _literal_assignment(tree: ast.Module, name: str) -> list[str] | None:
    """A module-level ``name = [...]`` of strings (or one string); None if absent or not a
    literal (then every target counts)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return None
            if isinstance(value, str):
                return [value]
            if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
                return list(value)
    return None
