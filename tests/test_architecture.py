"""The tree keeps its shape: imports point down the layers, no circles, Mesa's privates in one module, short modules.

Layers, top to bottom (docs/ARCHITECTURE.md): command line and page → batches, comparison and calibration →
running → models → agents and levers (with the world they act on) → inputs and geography. Every import of a
project module, at module level or inside a function, must point to the same layer or a lower one, and the
import graph (a package's ``__init__`` counted as imported with any of its modules) has no circle. Imports
under ``if TYPE_CHECKING:`` are for annotations only and never run, so they are left out.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sim", "calibration")
MAX_LINES = 400

#: Layer of each module, by longest matching prefix; higher numbers are higher layers.
LAYERS = {
    "sim.cli": 6,
    "sim.app": 6,
    "sim.batch": 5,
    "sim.compare": 5,
    "sim.report": 5,
    "sim.outcomes": 5,
    "sim.explore": 5,
    "sim.discover": 5,
    "sim.cluster": 5,
    "calibration": 5,
    "sim.run": 4,
    "sim.protocol": 4,
    "sim.posterior": 4,
    "sim.attribution": 4,
    "sim.model": 3,
    "sim.epstein": 3,
    "sim.agents": 2,
    "sim.levers": 2,
    "sim.world": 2,
    "sim.record": 2,
    "sim.faces": 2,
    "sim.mesa_adapter": 2,
    "sim.scenario": 2,
    "sim.frontend": 1,
    "sim.tables": 1,
    "sim.geography": 1,
    "sim.data": 1,
    "sim.events": 1,
    "sim.parameters": 1,
    "sim.schema": 1,
    "sim.textfiles": 1,
    "sim.tomlfile": 1,
    "sim.errors": 1,
    "sim.provenance": 1,
    "sim.processes": 1,
    "sim": 0,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def layer(name: str) -> int:
    matches = [prefix for prefix in LAYERS if name == prefix or name.startswith(prefix + ".")]
    assert matches, f"{name} has no layer: add it to LAYERS in tests/test_architecture.py and docs/ARCHITECTURE.md"
    return LAYERS[max(matches, key=len)]


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                for inner in ast.walk(child):
                    skipped.add(id(inner))
    return skipped


def project_imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports at run time (module level or in functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_blocks(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    graph = {}
    for name, path in found.items():
        edges = project_imports(name, path, known)
        # Importing a module runs its packages' __init__ first.
        for target in list(edges):
            parent = target.rpartition(".")[0]
            while parent:
                if parent in known and parent != name and not name.startswith(parent + "."):
                    edges.add(parent)
                parent = parent.rpartition(".")[0]
        graph[name] = edges
    return graph


def test_every_import_points_down_the_layers() -> None:
    upward = [f"{source} ({layer(source)}) imports {target} ({layer(target)})"
              for source, targets in import_graph().items() for target in targets if layer(target) > layer(source)]
    assert not upward, "imports against the layers:\n" + "\n".join(sorted(upward))


def test_there_is_no_import_circle() -> None:
    graph = import_graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                circle = [*stack[stack.index(target) :], target]
                pytest.fail("import circle: " + " -> ".join(circle))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_mesas_private_names_are_touched_in_one_module_only() -> None:
    private = re.compile(r"\b(_HardKeyAgentSet|_all_agents|_agents_by_type|_has_subscribers|_mesa_logger|_celllist|"
                         r"_try_random|_ndims|_datasets|agent_id_counter)\b|\._cells\b|\._agents\b")
    offenders = []
    for name, path in modules().items():
        if name == "sim.mesa_adapter":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if private.search(line.split("#", 1)[0]):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "Mesa internals outside sim/mesa_adapter.py:\n" + "\n".join(offenders)


def test_no_module_is_longer_than_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in modules().values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_the_page_never_branches_on_the_model_kind() -> None:
    """What differs between model kinds on the page is looked up in ``sim/app/views.py`` (painters) or asked of
    the model (``LiveModel.changes_policy``); no other module of the page compares a name of a model kind."""
    kinds = {"national", "epstein"}
    offenders = []
    for name, path in modules().items():
        if not name.startswith("sim.app") or name == "sim.app.views":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(
                    isinstance(part, ast.Constant) and part.value in kinds for part in [node.left, *node.comparators]):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not offenders, "the page branches on the model kind:\n" + "\n".join(offenders)
