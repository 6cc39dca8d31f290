"""The exercises as they stand in the notebooks: 2 to 4 per notebook, each a prompt, an ``exercise``
cell with ``...``, a ``solution`` cell and a ``check`` cell; the solution passes its check and the
placeholder reports "not yet"; no later cell depends on the student's answer; and the student
edition (``make student``) has no solutions, keeps the exercises and has no outputs."""
from __future__ import annotations

import ast
import contextlib
import io
from pathlib import Path

import jupytext
import nbformat
import pytest

from course_utils.exercises import CHECKS, CORRECT, NOT_YET
from course_utils.exercises.verdict import EXPECT_ENV
from course_utils.publish.editions import (
    CHECK_TAG,
    EXERCISE_TAG,
    SOLUTION_TAG,
    hide_solutions,
    write_student_edition,
)

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("*.py"))
# the same modules the notebooks use under these names
ALLOWED_IMPORTS = {"torch", "math", "F", "nn"}


@pytest.fixture(autouse=True)
def _no_expectation(monkeypatch):
    monkeypatch.delenv(EXPECT_ENV, raising=False)


def _tags(cell) -> set[str]:
    return set(cell.metadata.get("tags", []))


def _exercises(nb) -> list[tuple[int, int, int]]:
    """(exercise, solution, check) cell indices, in order; each solution and
    check follows its exercise."""
    found = []
    for i, cell in enumerate(nb.cells):
        if EXERCISE_TAG in _tags(cell):
            j = next(k for k in range(i + 1, len(nb.cells)) if SOLUTION_TAG in _tags(nb.cells[k]))
            k = next(k for k in range(j + 1, len(nb.cells)) if CHECK_TAG in _tags(nb.cells[k]))
            assert j == i + 1 and k == j + 1, (f"cell {i}: exercise, solution and check cells "
                                               "must follow each other")
            assert nb.cells[i - 1].cell_type == "markdown", (f"cell {i}: an exercise starts "
                                                             "with a Markdown prompt")
            found.append((i, j, k))
    return found


def _bound_names(source: str) -> set[str]:
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _used_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _run(source: str, namespace: dict) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<cell>", "exec"), namespace)  # noqa: S102
    return out.getvalue()


@pytest.mark.parametrize("path", SOURCES, ids=[p.stem for p in SOURCES])
def test_notebook_exercises_are_well_formed(path):
    nb = jupytext.read(path)
    triples = _exercises(nb)
    assert 2 <= len(triples) <= 4, f"{path.name}: {len(triples)} exercises"
    assert len(triples) == len(CHECKS[path.stem])
    for i, j, k in triples:
        exercise, solution, check = (nb.cells[n].source for n in (i, j, k))
        assert "..." in exercise, (f"{path.name} cell {i}: the student cell needs a `...` "
                                   "placeholder")
        mine = _bound_names(exercise) - ALLOWED_IMPORTS
        assert mine and all(n.startswith("my_") for n in mine), (f"{path.name} cell {i}: "
                                                                 f"names {mine}")
        assert _bound_names(solution) - ALLOWED_IMPORTS == mine, (f"{path.name} cell {j}: "
                                                                 "defines other names")
        assert all(n.startswith("check_") for n in _bound_names(check)), f"{path.name} cell {k}"
        prompt = nb.cells[i - 1].source
        assert "$" in prompt or "`" in prompt, "the prompt shows the formula"
    # Nothing outside an exercise's own cells reads a name that an exercise or a solution defines.
    own = {n for t in triples for n in t}
    answers = {n for i, j, _ in triples
               for n in _bound_names(nb.cells[i].source) | _bound_names(nb.cells[j].source)}
    answers -= ALLOWED_IMPORTS
    for n, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and n not in own:
            leaked = _used_names(cell.source) & answers
            assert not leaked, f"{path.name} cell {n} uses the exercise names {leaked}"


@pytest.mark.parametrize("path", SOURCES, ids=[p.stem for p in SOURCES])
def test_solutions_pass_and_placeholders_say_not_yet(path):
    nb = jupytext.read(path)
    for i, j, k in _exercises(nb):
        namespace: dict = {}
        printed = _run(nb.cells[i].source, namespace) + _run(nb.cells[k].source, namespace)
        assert printed.startswith(NOT_YET + ":"), f"{path.name} cell {k}: {printed}"
        assert printed.count("\n") == 1, f"{path.name} cell {k}: {printed}"
        printed = _run(nb.cells[j].source, namespace) + _run(nb.cells[k].source, namespace)
        assert printed.startswith(CORRECT + ":"), (f"{path.name} cell {k} with the solution: "
                                                   f"{printed}")


def test_student_edition(tmp_path):
    written = write_student_edition(NOTEBOOKS, tmp_path / "student")
    assert [p.stem for p in written] == [p.stem for p in SOURCES]
    for path in written:
        assert path.suffix == ".ipynb"
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        tags = [_tags(c) for c in nb.cells]
        assert not any(SOLUTION_TAG in t for t in tags), path.name
        assert sum(EXERCISE_TAG in t for t in tags) == sum(CHECK_TAG in t for t in tags) >= 2
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None
        assert nb.metadata["kernelspec"]["name"] == "python3"
    source = (NOTEBOOKS / "01_gan_theory.py").read_text()
    assert 'tags=["solution"]' in source, "the sources keep their solutions"


def test_hide_solutions_collapses_or_removes():
    nb = jupytext.read(NOTEBOOKS / "03_gan_training.py")
    solutions = [c.source for c in nb.cells if SOLUTION_TAG in _tags(c)]
    n_cells = len(nb.cells)
    collapsed = hide_solutions(nb)
    assert len(nb.cells) == n_cells, "hide_solutions works on a copy"
    assert sum(SOLUTION_TAG in _tags(c) for c in nb.cells) == len(solutions), \
        "hide_solutions works on a copy"
    details = [c for c in collapsed.cells if SOLUTION_TAG in _tags(c)]
    assert [c.cell_type for c in details] == ["markdown"] * len(solutions)
    for cell, code in zip(details, solutions, strict=True):
        assert cell.source.startswith("<details>") and code in cell.source
        assert cell.source.rstrip().endswith("</details>")
    assert sum(EXERCISE_TAG in _tags(c) for c in collapsed.cells) == len(solutions)
    removed = hide_solutions(nb, mode="remove")
    assert len(removed.cells) == n_cells - len(solutions)
    with pytest.raises(ValueError, match="mode"):
        hide_solutions(nb, mode="hide")


def test_collapsed_solution_renders_as_details_in_html():
    from nbconvert import HTMLExporter

    nb = hide_solutions(jupytext.read(NOTEBOOKS / "03_gan_training.py"))
    nb.cells = [c for c in nb.cells
                if set(c.metadata.get("tags", [])) & {SOLUTION_TAG, EXERCISE_TAG}]
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    assert "<details>" in body and "<summary>" in body
    assert "binary_cross_entropy_with_logits" in body  # the code is on the page, folded
