"""Two editions from one source: the full notebooks (with solutions) and the student edition.

The ``.py`` sources in ``notebooks/`` (jupytext percent format) are the instructor's edition. An
exercise is four consecutive cells, marked with **cell tags** (jupytext writes them as
``# %% tags=["exercise"]``):

* a Markdown prompt with the formula (no tag);
* ``exercise`` -- the student's cell, with ``...`` where their code goes (it runs as it is and
  defines the names, e.g. ``def my_kl_normal(...): ...``);
* ``solution`` -- the instructor's answer, defining the same names;
* ``check`` -- calls ``course_utils.exercises.check_*``, which prints "correct", "wrong: ..." or
  "not yet: ..." and never raises because of the answer.

Tags rather than nbgrader's ``### BEGIN SOLUTION`` markers: they are plain notebook metadata that
Jupyter, JupyterLab, jupytext and nbconvert's ``TagRemovePreprocessor`` understand, so no nbgrader
install (or its database and course layout) is needed, a solution is a whole cell that can be
collapsed or dropped, and the student's cell stays runnable in both editions.

* ``student_notebook(nb)`` -- solutions removed, outputs and execution counts cleared;
* ``write_student_edition(source_dir, out_dir)`` -- every ``.py`` source to a student ``.ipynb``
  (``make student``, ``python -m course_utils student``);
* ``hide_solutions(nb)`` -- for the site and slides: each solution folded into a ``<details>``
  block (exercises and checks stay visible), or removed with ``mode="remove"``.
"""
from __future__ import annotations

import copy
from pathlib import Path

import jupytext
import nbformat

__all__ = [
    "EXERCISE_TAG", "SOLUTION_TAG", "CHECK_TAG", "student_notebook", "write_student_edition",
    "hide_solutions",
]

EXERCISE_TAG, SOLUTION_TAG, CHECK_TAG = "exercise", "solution", "check"
NOTE_TAG = "edition-note"
STUDENT_NOTE = (
    "*Student edition.* The solutions of the exercises are not in this notebook. Replace each "
    "`...` by your code and run the cell after it: the check prints `correct`, what is wrong, or "
    "`not yet` while the `...` is still there. The other cells run with or without your answers."
)


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _is_solution(cell: nbformat.NotebookNode) -> bool:
    return SOLUTION_TAG in _tags(cell)


def student_notebook(nb: nbformat.NotebookNode, note: bool = True) -> nbformat.NotebookNode:
    """A copy of ``nb`` without its ``solution`` cells, with every
    output and execution count cleared.

    With ``note`` a short Markdown cell (tagged ``edition-note``) after the title says so.
    """
    out = copy.deepcopy(nb)
    out.cells = [cell for cell in out.cells if not _is_solution(cell)]
    for cell in out.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    if note and not any(NOTE_TAG in _tags(c) for c in out.cells):
        out.cells.insert(1 if out.cells else 0,
                         nbformat.v4.new_markdown_cell(STUDENT_NOTE, metadata={"tags": [NOTE_TAG]}))
    return out


def write_student_edition(source_dir: str | Path = "notebooks",
                          out_dir: str | Path = "build/student") -> list[Path]:
    """Write ``out_dir/<name>.ipynb``, the student edition of every ``source_dir/<name>.py``.

    Sources are read with jupytext (the ``.py`` files keep their solutions); each notebook gets the
    ``python3`` kernel, is validated with nbformat and written as ``.ipynb``. Returns the written
    paths in file-name (lecture) order.
    """
    src = Path(source_dir)
    sources = sorted(p for p in src.glob("*.py") if not p.name.startswith((".", "_")))
    if not sources:
        raise ValueError(f"No notebook sources (*.py) in {src}: expected e.g. "
                         f"{src / '01_gan_theory.py'}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sources:
        nb = student_notebook(jupytext.read(path))
        nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                     "name": "python3"}
        nb.metadata.pop("jupytext", None)
        nbformat.validate(nb)
        target = out / f"{path.stem}.ipynb"
        nbformat.write(nb, target)
        written.append(target)
    return written


def _details(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    code = cell.source.rstrip("\n")
    fence = "````" if "```" in code else "```"
    source = ("<details>\n<summary>Solution (click to "
              f"show)</summary>\n\n{fence}python\n{code}\n{fence}\n\n</details>")
    metadata = copy.deepcopy(dict(cell.get("metadata", {})))
    return nbformat.v4.new_markdown_cell(source, metadata=metadata)


def hide_solutions(nb: nbformat.NotebookNode, mode: str = "collapse") -> nbformat.NotebookNode:
    """A copy of ``nb`` for the site and slides, solutions hidden by default.

    ``mode="collapse"``: every ``solution`` code cell becomes a Markdown cell holding the code in a
    closed ``<details>`` block ("Solution (click to show)"), keeping the cell's tags and slide
    metadata (its outputs are dropped); ``mode="remove"``: solution cells are left out. Exercise
    and check cells (with the checks' printed verdicts) are untouched.
    """
    if mode not in ("collapse", "remove"):
        raise ValueError(f"mode must be 'collapse' or 'remove', got {mode!r}")
    out = copy.deepcopy(nb)
    cells = []
    for cell in out.cells:
        if not _is_solution(cell):
            cells.append(cell)
        elif mode == "collapse":
            cells.append(_details(cell) if cell.cell_type == "code" else cell)
    out.cells = cells
    return out
