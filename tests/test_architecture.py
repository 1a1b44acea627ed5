"""The house's shape: no import circles in jaki/, no module over 700 lines, no reach into another's privates.

The import graph is read from the source with `ast` (nothing is imported). A module is a file under jaki/ (a
package is its __init__.py). Each `import` and `from ... import` statement, at module level or inside a function
or method, is an edge from the module that holds it to the jaki module it names: `from jaki.a import b` names
jaki.a.b when that is a module, else jaki.a; relative imports are resolved; a name that is no module resolves to
the nearest enclosing module. These do not count:
- imports inside `create_app` and `_register_blueprints` in jaki/__init__.py, and inside any function named
  `init_app` or `register`: that is the app factory wiring the rooms together (blueprints, CLI commands, demo
  seeders, export sections), run once when the app is built, never while a room is imported;
- imports under `if TYPE_CHECKING:` (never run);
- the implicit import of a module's parent packages (jaki/<room>/__init__.py holds wiring only).
A circle is a strongly connected component of that graph with more than one module, or a module importing itself.
Because the factory's imports are left out, a module that imports the factory (the package jaki itself, e.g.
`from jaki import create_app`) would close a circle through every room unseen: no module of jaki/ may import it.

A private name is one that starts with a single underscore. Reaching into one is `from jaki.x import _name`, or
`x._name` where x was imported as a jaki module, in a module other than jaki.x itself.

Rooms whose owners are still at work (issue 13's reports/open311 split, issue 17's notifications) are allowlisted
by name below; a test checks that every allowlisted item is still a violation, so an entry is deleted as soon as
its fix lands (and the test fails until it is).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "jaki"
MAX_LINES = 700
WIRING = {"init_app", "register"}  # anywhere in jaki/
FACTORY = {"create_app", "_register_blueprints"}  # in jaki/__init__.py

# Issue 13's other half (jaki/reports, jaki/open311) has landed and left nothing here; kept, empty, for the shape.
KNOWN_UNTIL_13R: dict[str, set] = {"cycles": set(), "long": set(), "private": set()}
# Issue 17 (jaki/notifications): delete each entry when that branch lands.
KNOWN_UNTIL_17: dict[str, set] = {"cycles": set(), "long": set(), "private": set()}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    """The jaki module a dotted name lives in (itself, or the nearest enclosing module)."""
    modules = _modules()
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@cache
def _imports(module: str) -> list:
    """(statement, imported names as (full dotted name, bound alias)) for every counted import of the module."""
    path = _modules()[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def walk(node: ast.AST, functions: tuple[str, ...]):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                yield from walk(ast.Module(body=child.orelse, type_ignores=[]), functions)
                continue
            inner = functions
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = (*functions, child.name)
            wiring = bool(WIRING & set(inner)) or (module == "jaki" and bool(FACTORY & set(inner)))
            if isinstance(child, ast.Import) and not wiring:
                yield child, [(alias.name, alias.asname or alias.name.partition(".")[0]) for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and not wiring:
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                yield child, [(f"{base}.{alias.name}", alias.asname or alias.name) for alias in child.names]
            yield from walk(child, inner)

    return list(walk(tree, ()))


@cache
def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for module in _modules():
        graph[module]  # every module is a node, importing or not
        for statement, names in _imports(module):
            for full, _alias in names:
                if not (full == "jaki" or full.startswith("jaki.")):
                    continue
                if isinstance(statement, ast.ImportFrom) and full not in _modules():
                    full = full.rpartition(".")[0]  # a name from a module: the module
                target = _resolve(full)
                if target is not None:
                    graph[module].add(target)
    return graph


def _cycles() -> set[frozenset[str]]:
    """Strongly connected components (Tarjan) with more than one module, and self-imports."""
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.add(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def _long_modules() -> set[str]:
    return {
        str(path.relative_to(ROOT)) for path in _modules().values() if len(path.read_text().splitlines()) > MAX_LINES
    }


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_reaches() -> set[str]:
    """'importer -> module._name' for each private name of another jaki module that a module imports or reads."""
    modules = _modules()
    found = set()
    for module, path in modules.items():
        aliases: dict[str, str] = {}  # a local name bound to a jaki module -> that module
        for statement, names in _imports(module):
            for full, alias in names:
                if not full.startswith("jaki."):
                    continue
                if full in modules:
                    if isinstance(statement, ast.Import) and alias == "jaki":
                        continue  # `import jaki.x`: read through the dotted name below
                    aliases[alias] = full
                elif isinstance(statement, ast.ImportFrom):
                    owner, _, name = full.rpartition(".")
                    if _private(name) and owner != module:
                        found.add(f"{module} -> {owner}.{name}")
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and _private(node.attr)):
                continue
            owner = None
            if isinstance(node.value, ast.Name):
                owner = aliases.get(node.value.id)
            else:
                dotted = ast.unparse(node.value)
                owner = dotted if dotted in modules else None
            if owner is not None and owner != module:
                found.add(f"{module} -> {owner}.{node.attr}")
    return found


def _allowed(kind: str) -> set:
    return KNOWN_UNTIL_13R[kind] | KNOWN_UNTIL_17[kind]


def test_no_import_cycles():
    cycles = _cycles() - _allowed("cycles")
    assert not cycles, "import circles in jaki/: " + "; ".join(" <-> ".join(sorted(c)) for c in cycles)


def test_nothing_in_jaki_imports_the_app_factory():
    """create_app imports every room; a room importing it back is a circle through the whole package."""
    importers = sorted(module for module, targets in _graph().items() if "jaki" in targets)
    assert not importers, f"these import jaki (create_app); take the app from the caller instead: {importers}"


def test_no_module_over_700_lines():
    long = _long_modules() - _allowed("long")
    assert not long, f"modules over {MAX_LINES} lines (split them by job): {sorted(long)}"


def test_no_module_reaches_into_another_modules_privates():
    reaches = _private_reaches() - _allowed("private")
    assert not reaches, f"make the name public where it lives, or move it: {sorted(reaches)}"


def test_every_allowlisted_item_is_still_a_violation():
    """When another branch fixes a violation, its KNOWN_UNTIL_* entry must go too."""
    stale = {
        "cycles": _allowed("cycles") - _cycles(),
        "long": _allowed("long") - _long_modules(),
        "private": _allowed("private") - _private_reaches(),
    }
    assert not any(stale.values()), f"fixed: delete these from KNOWN_UNTIL_13R / KNOWN_UNTIL_17: {stale}"


def test_the_walk_sees_what_it_must():
    """The checks are only as good as the graph: the known edges, both kinds of import, and the wiring rule."""
    graph = _graph()
    assert "jaki.errors" in graph["jaki.api"]  # module level
    assert "jaki.geo.outlines" in graph["jaki.geo.queries"]  # inside a function
    assert "jaki.clients.agencies" in graph["jaki.auth.population_http"]
    assert "jaki.auth.models" in graph["jaki.auth.population"]
    assert not any(m.startswith("jaki.services") for m in graph["jaki.auth.operations"])
    assert not any(m.startswith("jaki.services") for m in graph["jaki.agencies.operations"])
    assert graph["jaki"] == set()  # create_app's imports are wiring
