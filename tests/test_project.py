"""The project's own promises: one test command, dependencies in step, no GPU-only calls,
paired notebooks in sync with their sources."""
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"pytorch": "torch"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_lists_what_pyproject_lists():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_names = {_name(r)
                 for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    conda_names = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text[text.index("dependencies:"):].splitlines():
        m = re.match(r"^\s*-\s+([A-Za-z][\w.-]*)", line)
        if m and m.group(1) not in {"python", "pip"}:
            conda_names.add(CONDA_NAMES.get(m.group(1).lower(), m.group(1).lower()))
    assert conda_names == pip_names
    assert "-e ." in (ROOT / "environment.yml").read_text()


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"^make test$", ci, re.M)
    assert "make test" in readme and "make run" in readme


def test_no_gpu_only_calls_anywhere():
    gpu_only = "." + "cuda("
    offenders = [str(p.relative_to(ROOT)) for folder in ("course_utils", "notebooks", "benchmarks",
                                                         "tests", "scripts")
                 for p in (ROOT / folder).rglob("*.py") if gpu_only in p.read_text()]
    assert offenders == []


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


def test_there_are_notebooks_in_lecture_order():
    names = [p.stem for p in NOTEBOOKS]
    assert names == sorted(names) and {"01_gan_theory", "02_gan_networks", "03_gan_training",
                                       "04_gan_visualization"} <= set(names)


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_paired_ipynb_matches_its_source(source):
    paired = source.with_suffix(".ipynb")
    assert paired.exists(), f"{paired.name} is missing: run `make notebooks`"
    expected = [(c.cell_type, c.source) for c in jupytext.read(source).cells]
    actual = [(c.cell_type, c.source) for c in nbformat.read(paired, as_version=4).cells]
    assert actual == expected, f"{paired.name} is out of date: run `make notebooks`"
    assert all(not c.get("outputs") for c in nbformat.read(paired, as_version=4).cells)


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_with_what_it_teaches_and_its_run_time(source):
    first = jupytext.read(source).cells[0]
    assert first.cell_type == "markdown"
    assert "teaches" in first.source and "Run time" in first.source
