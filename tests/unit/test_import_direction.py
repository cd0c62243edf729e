"""Imports run one way (docs/design.md §1 "Direction of imports"): web and
jobs call services; services call workflow and db; nothing calls back up.

Every module of the project is parsed with ``ast`` (nothing is imported),
and its imports are checked against the layers, against imports hidden in
functions without a reason, and for cycles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("workflow", "rules", "db", "services", "jobs", "web")

#: What marks an import inside a function as deliberate: a comment starting
#: so on its line, or on the line just above it (or above the run of imports
#: it belongs to) — docs/design.md §1.
JUSTIFIED = "# lazy:"

#: Imports inside functions that still dodge a cycle, each (file, module it
#: loads) -> why it is not fixed yet. Each must disappear with its cause;
#: ``test_the_pending_exceptions_are_still_needed`` says when one can go.
PENDING: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    """One import statement: where it is, which project modules it loads
    (``targets``) and the top-level package of everything it names (``roots``)."""

    path: str
    line: int
    module: str
    targets: tuple[str, ...]
    roots: tuple[str, ...]
    in_function: bool
    type_checking: bool
    justified: bool

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _project_module(name: str) -> str | None:
    """The project module ``name`` loads: itself, or its nearest package."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _resolve(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> tuple[list[str], list[str]]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        return [m for n in names if (m := _project_module(n))], [n.split(".")[0] for n in names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[:len(package) - (node.level - 1)]
        base = ".".join(package + ([base] if base else []))
    targets = []
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        if (found := _project_module(submodule if submodule in MODULES else base)) is not None:
            targets.append(found)
    return targets, [base.split(".")[0]]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _justified(lines: list[str], import_lines: set[int], node: ast.stmt) -> bool:
    """A ``# lazy:`` comment on the statement's lines, or on the first line
    above it that is neither blank nor part of another import."""
    if any(JUSTIFIED in lines[n - 1] for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)):
        return True
    above = node.lineno - 1
    while above >= 1 and (not lines[above - 1].strip() or above in import_lines):
        above -= 1
    return above >= 1 and lines[above - 1].strip().startswith(JUSTIFIED)


def _imports_of(module: str, path: Path) -> Iterator[Import]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, str(path))
    lines = source.splitlines()
    import_lines = {n for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                    for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)}
    relative = path.relative_to(ROOT).as_posix()

    def walk(body: list[ast.stmt], in_function: bool, type_checking: bool) -> Iterator[Import]:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets, roots = _resolve(node, module, path.name == "__init__.py")
                yield Import(relative, node.lineno, module, tuple(t for t in targets if t != module), tuple(roots),
                             in_function, type_checking,
                             in_function and _justified(lines, import_lines, node))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield from walk(node.body, True, type_checking)
            elif isinstance(node, ast.If) and _is_type_checking(node.test):
                yield from walk(node.body, in_function, True)
                yield from walk(node.orelse, in_function, type_checking)
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    children = getattr(node, field, None)
                    if isinstance(children, list):
                        yield from walk(children, in_function, type_checking)

    yield from walk(tree.body, False, False)


IMPORTS = [imported for module, path in MODULES.items() for imported in _imports_of(module, path)]


def _reaching(layer: str, forbidden: set[str]) -> list[str]:
    """Every import of a module under ``layer`` that names a forbidden
    top-level package (project layer or third-party library)."""
    return sorted(f"{i} {i.module} imports {', '.join(sorted(set(i.roots) & forbidden))}" for i in IMPORTS
                  if i.module.split(".")[0] == layer and set(i.roots) & forbidden)


def _pending(imported: Import) -> bool:
    return any((imported.path, target) in PENDING for target in imported.targets)


def _graph() -> dict[str, set[str]]:
    """Module -> the project modules it loads when it runs: its imports at
    the top and in its functions (an import in a function still closes a
    cycle, only later), not those under ``TYPE_CHECKING``, nor ``PENDING``."""
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for imported in IMPORTS:
        if not imported.type_checking:
            graph[imported.module].update(
                loaded for t in imported.targets if (imported.path, t) not in PENDING
                for loaded in _initialised(imported.module, t))
    return graph


def _initialised(importer: str, target: str) -> list[str]:
    """What importing ``target`` from ``importer`` runs: ``target`` and the
    packages above it whose ``__init__`` is not already running (those of
    ``importer`` itself): ``from rules.model import X`` first runs
    ``rules/__init__.py``, and whatever that imports."""
    parts = target.split(".")
    above = {".".join(parts[:k]) for k in range(1, len(parts))}
    running = {".".join(importer.split(".")[:k]) for k in range(1, importer.count(".") + 2)}
    return [target, *sorted(p for p in above - running if p in MODULES)]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's
    algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def test_the_pure_core_imports_no_framework_database_or_outer_layer():
    """It may read the frozen rule objects (rules.model), nothing above."""
    forbidden = {"services", "web", "jobs", "db", "flask", "sqlalchemy", "redis", "rq", "openpyxl"}
    assert _reaching("workflow", forbidden) == []


def test_services_import_neither_web_nor_jobs():
    assert _reaching("services", {"web", "jobs"}) == []


def test_the_database_layer_imports_no_service_web_or_job():
    assert _reaching("db", {"services", "web", "jobs"}) == []


def test_the_rules_loader_imports_no_service_web_job_or_database():
    assert _reaching("rules", {"services", "web", "jobs", "db"}) == []


def test_jobs_import_nothing_from_web():
    """A job runs in the app its process's entry point built (``jobs.runner.use_app``)."""
    assert _reaching("jobs", {"web"}) == []


def test_every_import_inside_a_function_says_why():
    unexplained = [f"{i} {i.module}: import inside a function without a '{JUSTIFIED} why' comment"
                   for i in IMPORTS if i.in_function and not i.justified and not _pending(i)]
    assert unexplained == []


def test_the_import_graph_has_no_cycle():
    graph = _graph()
    described = [" <-> ".join(component) + "".join(
        f"\n    {module} -> {', '.join(sorted(graph[module] & set(component)))}" for module in component)
        for component in _cycles(graph)]
    assert described == []


def test_the_pending_exceptions_are_still_needed():
    present = {(i.path, target) for i in IMPORTS if i.in_function for target in i.targets}
    assert [f"{path} -> {target}: gone, remove it from PENDING" for path, target in PENDING
            if (path, target) not in present] == []


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
