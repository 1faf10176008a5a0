"""The layers of the code, checked from its import statements (lazy imports included).

Imports point one way: ``models`` ← ``service.store`` ← ``service.http`` / ``service.cli``, with
``service.plot`` beside them and ``service.deploy`` on top (it runs the HTTP app). The store
speaks the domain, not HTTP: no Flask, werkzeug, flask-smorest or marshmallow there. And no
module imports itself back through a circle of others.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "service")
WEB = ("flask", "flask_smorest", "werkzeug", "marshmallow", "webargs", "apispec")

#: Layer → the project's packages it must never import, and third-party roots it must not use.
RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "models": (("service",), (*WEB, "sqlalchemy", "alembic", "matplotlib")),
    "service.config": (("service.store", "service.http", "service.cli", "service.plot",
                        "service.deploy"), WEB),
    "service.store": (("service.http", "service.cli", "service.plot", "service.deploy"), WEB),
    "service.plot": (("service.http", "service.cli", "service.store", "service.deploy"),
                     ("flask", "werkzeug", "flask_smorest")),
    "service.http": (("service.cli", "service.deploy"), ()),
    "service.cli": (("service.deploy",), ()),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, modules: Iterable[str]) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (lazy imports count too).

    ``from a.b import c`` names ``a.b.c`` when that is a module of the project, else ``a.b``.
    """
    known = set(modules)
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return found


def project_graph() -> dict[str, set[str]]:
    files = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    files = [p for p in files if "migrations" not in p.parts]
    names = {module_name(p) for p in files}
    return {module_name(p): imports_of(p, names) for p in files}


def layer_of(module: str) -> str | None:
    matches = [layer for layer in RULES if module == layer or module.startswith(layer + ".")]
    return max(matches, key=len) if matches else None


def violations(graph: Mapping[str, set[str]]) -> list[str]:
    """Each import that breaks :data:`RULES`, as ``importer -> imported``."""
    found = []
    for module, imported in sorted(graph.items()):
        layer = layer_of(module)
        if layer is None:
            continue
        banned_inside, banned_outside = RULES[layer]
        for target in sorted(imported):
            inside = any(target == b or target.startswith(b + ".") for b in banned_inside)
            outside = target.split(".")[0] in banned_outside
            if inside or outside:
                found.append(f"{module} -> {target}")
    return found


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module, or a module importing itself
    (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    edges = {m: sorted(t for t in targets if t in graph) for m, targets in graph.items()}
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                child = edges[node][i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in edges[node]:
                    groups.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return groups


def test_every_layer_imports_only_what_it_may() -> None:
    assert violations(project_graph()) == []


def test_no_import_circle_in_the_tree() -> None:
    assert cycles(project_graph()) == []


def test_the_checks_catch_what_they_are_for() -> None:
    """The checker itself: a store that imports Flask or the HTTP layer, and a circle."""
    graph = {
        "service.store.repository": {"flask", "service.http.problems", "sqlalchemy"},
        "service.http.problems": {"werkzeug"},
        "models.a": {"models.b"},
        "models.b": {"models.c"},
        "models.c": {"models.a"},
    }
    assert violations(graph) == [
        "service.store.repository -> flask",
        "service.store.repository -> service.http.problems",
    ]
    assert cycles(graph) == [["models.a", "models.b", "models.c"]]


@pytest.mark.parametrize("package", ["service.store", "service.plot"])
def test_importing_a_lower_layer_loads_no_web_stack(package: str) -> None:
    """The same at run time, in a fresh interpreter (this one has imported Flask long ago)."""
    probe = (
        "import importlib, json, pkgutil, sys\n"
        f"import {package} as p\n"
        f"for m in pkgutil.walk_packages(p.__path__, '{package}.'):\n"
        "    if '.migrations' not in m.name: importlib.import_module(m.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded = {name.split(".")[0] for name in json.loads(result.stdout)}
    assert loaded.isdisjoint({"flask", "werkzeug", "flask_smorest"}), sorted(loaded & set(WEB))
