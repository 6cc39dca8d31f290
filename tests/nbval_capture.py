"""A pytest plugin: keep the notebooks that nbval executes, so nothing executes them twice.

``make test`` runs nbval over every notebook (smoke profile) and then builds slides and site from
executed notebooks. With this plugin the nbval run *is* that execution: enable it with
``-p tests.nbval_capture --nbval-executed-dir=build/executed-smoke`` and, at the end of the
session, every notebook nbval ran is written there as an executed ``.ipynb`` (outputs and
execution counts from the run, the rest of the notebook as nbval read it).

How: nbval collects one ``IPyNbCell`` item per code cell; ``item.cell`` is the cell object of the
notebook its parent ``IPyNbFile`` read (``parent.nb``), and after ``runtest`` the outputs that the
kernel sent are in ``item.test_outputs`` (streams merged, ``\\r`` applied). After each call we copy
them into ``item.cell.outputs``; at session end we write each ``parent.nb``. A notebook with a
failed or timed-out cell is written too (its error output shows where), and the session fails
anyway, so ``make test`` stops before building from it.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

_NOTEBOOKS = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--nbval-executed-dir", default=None, metavar="DIR",
                     help="write the notebooks nbval executed, with their outputs, to DIR")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_NOTEBOOKS] = {}


def _output(out: dict) -> nbformat.NotebookNode:
    """An nbformat v4 output from what nbval keeps of an iopub message."""
    kind = out.get("output_type")
    if kind == "stream":
        return nbformat.v4.new_output("stream", name=out["name"], text=out["text"])
    if kind in ("display_data", "execute_result"):
        extra = {"execution_count": out.get("execution_count")} if kind == "execute_result" else {}
        return nbformat.v4.new_output(kind, data=out.get("data", {}),
                                      metadata=out.get("metadata", {}), **extra)
    if kind == "error":
        return nbformat.v4.new_output("error", ename=out["ename"], evalue=out["evalue"],
                                      traceback=out["traceback"])
    raise ValueError(kind)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    yield
    if item.config.getoption("--nbval-executed-dir") is None:
        return
    outputs = getattr(item, "test_outputs", None)
    parent = getattr(item, "parent", None)
    if outputs is None or getattr(parent, "nb", None) is None or not hasattr(item, "cell"):
        return  # not an nbval cell, or a skipped one: it keeps what the notebook had
    notebooks = item.config.stash[_NOTEBOOKS]
    count = notebooks.setdefault(str(parent.fspath), [parent.nb, 0])
    count[1] += 1
    item.cell.execution_count = count[1]
    item.cell.outputs = [_output(out) for out in outputs
                         if out.get("output_type") in ("stream", "display_data", "execute_result",
                                                       "error")]
    for out in item.cell.outputs:
        if out.output_type == "execute_result":
            out.execution_count = count[1]


def pytest_sessionfinish(session: pytest.Session) -> None:
    folder = session.config.getoption("--nbval-executed-dir")
    if folder is None:
        return
    notebooks = session.config.stash[_NOTEBOOKS]
    if not notebooks:
        return
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for path, (nb, _) in notebooks.items():
        nbformat.write(nb, out / Path(path).name)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(f"nbval_capture: {len(notebooks)} executed notebooks written to {out}/")
