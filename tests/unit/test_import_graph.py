"""The imports of contest/, read with ast (function-level ones included): no blueprint package imports another,
and no import cycle outside the models. What two blueprints share lives in a top-level module or a service."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTEST = ROOT / "contest"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in CONTEST.rglob("*.py")}


def _type_checking_only(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every import statement, at any depth, except those only a type checker runs."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif not _type_checking_only(node):
            yield from _import_nodes(node)


def imports_of(name: str) -> set[str]:
    """The modules of contest/ that a module imports: `from a.b import c` names a.b.c when c is a module,
    else a.b."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        submodules = [f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in MODULES]
        found.update(submodules)
        if len(submodules) < len(node.names):
            found.add(source)
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: imports_of(name) for name in MODULES}


def blueprint_packages() -> set[str]:
    """The packages of contest/ that make a Flask blueprint (a `Blueprint(` in one of their modules)."""
    return {package_of(name) for name, path in MODULES.items()
            if package_of(name) is not None and "Blueprint(" in path.read_text()}


def package_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) >= 2 and (CONTEST / parts[1]).is_dir() else None


def cross_blueprint_imports(graph: dict[str, set[str]], blueprints: set[str]) -> list[str]:
    found = []
    for name, imported in sorted(graph.items()):
        for other in sorted(imported):
            own, theirs = package_of(name), package_of(other)
            if own in blueprints and theirs in blueprints and own != theirs:
                found.append(f"{name} -> {other}")
    return found


def cycles(graph: dict[str, set[str]], outside: str = "contest.models") -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), the models left out."""
    inside = {name for name in graph if name != outside and not name.startswith(outside + ".")}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for other in graph[name] & inside:
            if other not in index:
                visit(other)
                low[name] = min(low[name], low[other])
            elif other in on_stack:
                low[name] = min(low[name], index[other])
        if low[name] == index[name]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == name:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for name in sorted(inside):
        if name not in index:
            visit(name)
    return found


def test_the_blueprint_packages_are_found():
    blueprints = blueprint_packages()
    assert {"api", "console", "public", "vote", "submit", "jury", "feeds", "followup"} <= blueprints
    assert "services" not in blueprints and "models" not in blueprints


def test_the_walk_sees_function_level_and_relative_imports():
    assert cross_blueprint_imports({"contest.public.routes": {"contest.vote.routes"}}, {"public", "vote"}) == [
        "contest.public.routes -> contest.vote.routes"]
    assert cycles({"contest.p": {"contest.q"}, "contest.q": {"contest.p"}}) == [["contest.p", "contest.q"]]
    assert cycles({"contest.models.a": {"contest.models.b"}, "contest.models.b": {"contest.models.a"}}) == []
    # contest/__init__.py imports the blueprints inside create_app, not at the top of the module.
    assert "contest.console.routes" in GRAPH["contest"]


def test_no_blueprint_package_imports_another():
    assert cross_blueprint_imports(GRAPH, blueprint_packages()) == []


def test_no_import_cycle_outside_the_models():
    assert cycles(GRAPH) == []
