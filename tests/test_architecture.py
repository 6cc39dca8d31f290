"""The package's layers, read from its source with ``ast``: no circles, nothing imports upwards.

Layers, lowest first (a module may import its own layer's modules and any lower layer):

0. ``device``, ``paths``, ``profiles``, ``images``, ``progress``  the ground every part stands on
1. ``data``, ``checkpoints``, ``plotting``, ``lattice``  data, files, pictures, lattice statistics
2. the lecture's parts: ``summary``, ``gan``, ``scoring``, ``diffusion``, ``flows`` (which may
   use ``diffusion``'s UNet and schedules), ``ising`` (which may use ``diffusion``'s and
   ``summary``'s building blocks), ``phi4`` (which may use ``flows``' coupling layers),
   ``exercises`` (checks on all of them)
3. ``families``                                              one interface per model family
4. ``models``                                                the registry
5. ``scoreboard``, ``pretrained``                            everything scored or shipped
6. ``publish``                                               figures, slides, site, editions
7. ``cli``, ``__main__``                                     the command line: nothing imports it
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "course_utils"

LAYERS = {
    "device": 0, "paths": 0, "profiles": 0, "images": 0, "progress": 0,
    "data": 1, "checkpoints": 1, "plotting": 1, "lattice": 1,
    "summary": 2, "gan": 2, "scoring": 2, "diffusion": 2, "flows": 2, "ising": 2, "phi4": 2,
    "exercises": 2, "families": 3, "models": 4, "scoreboard": 5, "pretrained": 5, "publish": 6,
    "cli": 7, "__main__": 7,
}
# Within layer 2, which parts may use which (everything else across parts is forbidden).
LATERAL = {
    "ising": {"diffusion", "summary"},
    "flows": {"diffusion"},
    "phi4": {"flows"},
    "exercises": {"summary", "gan", "scoring", "diffusion", "flows", "ising", "phi4"},
}


def _modules() -> dict[str, Path]:
    """Dotted name (without the ``course_utils.`` prefix) -> file, for
    every module of the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> list[tuple[str, int, bool]]:
    """(imported package module, line, inside a function) for every import in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = []
    functions = [n for n in ast.walk(tree) if isinstance(n,
                                                         (ast.FunctionDef, ast.AsyncFunctionDef))]
    local_lines = {id(n) for f in functions for n in ast.walk(f)
                   if isinstance(n, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name[len("course_utils."):] for a in node.names
                       if a.name.startswith("course_utils.")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1] if node.level > 1 else package
                module = ".".join([*base, *([node.module] if node.module else [])])
            elif node.module and node.module.startswith("course_utils"):
                module = node.module[len("course_utils"):].lstrip(".")
            else:
                continue
            # ``from . import models`` names a module; ``from .x import f`` names x.
            candidates = [f"{module}.{a.name}".strip(".") for a in node.names]
            targets = [c for c in candidates if c in known] or ([module] if module else [])
        for target in targets:
            while target and target not in known:
                target = target.rsplit(".", 1)[0] if "." in target else ""
            if target and target != name:
                out.append((target, node.lineno, id(node) in local_lines))
    return out


def _graph() -> dict[str, list[tuple[str, int, bool]]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _part(name: str) -> str:
    return name.split(".")[0] if name else ""


def test_every_module_has_a_layer():
    unplaced = sorted({_part(n) for n in _modules() if n and _part(n) not in LAYERS})
    assert not unplaced, f"modules with no layer in tests/test_architecture.py: {unplaced}"


def test_no_module_imports_a_higher_layer_or_a_sibling_part():
    wrong = []
    for name, imports in _graph().items():
        if not name:  # the package's __init__ re-exports from layer 0 only
            assert all(LAYERS[_part(t)] == 0 for t, _, _ in imports), imports
            continue
        here = _part(name)
        for target, line, _ in imports:
            there = _part(target)
            if there == here:
                continue
            if LAYERS[there] > LAYERS[here]:
                wrong.append(f"{name}:{line} imports {target} (layer {LAYERS[there]} above "
                             f"{LAYERS[here]})")
            elif LAYERS[there] == LAYERS[here] == 2 and there not in LATERAL.get(here, set()):
                wrong.append(f"{name}:{line} imports {target}: {here} may not use {there}")
    assert not wrong, "\n".join(wrong)


def test_nothing_imports_the_command_line():
    users = [f"{n}:{line}" for n, imports in _graph().items() for t, line, _ in imports
             if t == "cli" and n != "__main__"]
    assert not users, f"only __main__ may import course_utils.cli: {users}"


def test_no_function_local_imports_of_package_modules():
    local = [f"{n}:{line} imports {t}" for n, imports in _graph().items() for t, line,
             inside in imports if inside]
    assert not local, ("imports of package modules belong at the top of the module:\n"
                       + "\n".join(local))


def test_no_import_cycles():
    graph = {n: {t for t, _, _ in imports} for n, imports in _graph().items()}
    # A package's __init__ that re-exports its children is not a cycle with them.
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".") and t}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, stack: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle.extend(stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, [*stack, nxt]):
                return True
        state[node] = 2
        return False

    for start in sorted(graph):
        if state.get(start) is None and visit(start, [start]):
            break
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def _imports_argparse(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import) and any(a.name == "argparse" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "argparse":
            return True
    return False


def test_argparse_only_in_the_command_line():
    users = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
             if p.name != "cli.py" and _imports_argparse(p)]
    assert not users, f"argparse outside course_utils/cli.py: {users}"


@pytest.mark.parametrize("bad, message", [
    ("from ..cli import main\n", "cli"),
    ("def f():\n    from ..data import load_mnist\n", "top of the module"),
])
def test_the_checks_catch_what_they_should(tmp_path, monkeypatch, bad, message):
    """The walk is not vacuous: a module of layer 2 that imports the CLI, or imports inside a
    function, is reported."""
    fake = tmp_path / "course_utils"
    for path in PACKAGE.rglob("*.py"):
        target = fake / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    (fake / "gan" / "bad.py").write_text(bad)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    checks = [test_nothing_imports_the_command_line,
              test_no_function_local_imports_of_package_modules,
              test_no_module_imports_a_higher_layer_or_a_sibling_part]
    failures = []
    for check in checks:
        try:
            check()
        except AssertionError as err:
            failures.append(str(err))
    assert any(message in f for f in failures), failures
