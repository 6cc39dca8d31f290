"""course_utils.publish.catalogue: one table of the notebooks, and what is generated from it."""
from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

from course_utils.publish.catalogue import (
    NOTEBOOKS,
    Notebook,
    about,
    existing,
    header_with_run_time,
    readme_table,
    run_time_paragraph,
    write_headers,
    write_readme_table,
)

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks").glob("*.py"))


def test_every_notebook_is_in_the_catalogue_in_lecture_order():
    names = [entry.name for entry in NOTEBOOKS]
    assert names == sorted(names), "the catalogue lists the notebooks in file-name (lecture) order"
    assert len(set(names)) == len(names)
    assert {p.stem for p in SOURCES} <= set(names), "add the new notebook to catalogue.NOTEBOOKS"
    assert [e.name for e in existing(ROOT / "notebooks")] == [p.stem for p in SOURCES]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_the_notebook_header_says_what_the_catalogue_says(source):
    entry = next(e for e in NOTEBOOKS if e.name == source.stem)
    first = jupytext.read(source).cells[0].source
    title = re.search(r"^# (.+)$", first, re.M).group(1)
    assert title.endswith(entry.title), \
        f"{source.name}: heading {title!r}, catalogue {entry.title!r}"
    assert run_time_paragraph(entry) in " ".join(first.split()), \
        f"{source.name}: its Run time paragraph is stale: run python scripts/headers.py"


def test_headers_and_readme_table_are_up_to_date():
    assert write_headers(ROOT / "notebooks", check=True) == [], "run python scripts/headers.py"
    assert not write_readme_table(ROOT / "README.md", ROOT / "notebooks", check=True), \
        "README's notebook table is stale: run python scripts/headers.py"


def test_durations_read_as_a_person_says_them():
    assert [about(s) for s in (3, 24, 47, 53, 89, 480)] == [
        "about 5 s", "about 25 s", "about 45 s", "about a minute", "about a minute", "about 8 min"]
    assert [about(s, short=True) for s in (24, 75, 660)] == ["~25 s", "~1 min", "~11 min"]


def test_run_time_paragraph_with_and_without_shipped_models():
    shipped = Notebook("07_x", "X", "x", laptop_s=67, train_s=480)
    assert run_time_paragraph(shipped) == (
        "**Run time.** About a minute on a laptop CPU with the shipped models; "
        "`COURSE_TRAIN=1` (train them here): ~8 min.")
    assert "the same with `COURSE_TRAIN=1`" in run_time_paragraph(Notebook("01_x", "X", "x", 20))
    assert run_time_paragraph(Notebook("07b_x", "X", "x", None)) == "**Run time.** Not timed yet."


HEADER = """# %% [markdown] slideshow={"slide_type": "slide"}
# # 03 · Training
#
# **What this notebook teaches.** The loop.
#
# **Run time** (measured on 2 cores at load ~2, 2026-12-02): `smoke` ~10 s · `laptop` 11 s;
# with full MNIST 1.5 min.
#
# ![A figure](../figures/x.png)

# %%
x = 1  # **Run time** in a comment stays
"""


def test_only_the_run_time_paragraph_changes():
    entry = Notebook("03_training", "Training", "The loop.", laptop_s=10, train_s=40)
    new = header_with_run_time(HEADER, entry)
    assert new == HEADER.replace(
        "# **Run time** (measured on 2 cores at load ~2, 2026-12-02): `smoke` ~10 s · "
        "`laptop` 11 s;\n# with full MNIST 1.5 min.\n",
        "# **Run time.** About 10 s on a laptop CPU with the shipped models; `COURSE_TRAIN=1` "
        "(train them\n# here): ~40 s.\n")
    assert header_with_run_time(new, entry) == new, "rewriting twice changes nothing"
    with pytest.raises(ValueError, match="no paragraph starting with"):
        header_with_run_time(HEADER.replace("**Run time**", "Time"), entry)


def test_coming_notebooks_are_skipped_until_they_exist(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "03_training.py").write_text(HEADER)
    entries = (Notebook("03_training", "Training", "The loop.", laptop_s=10, train_s=40),
               Notebook("03b_coming", "Coming", "Later.", laptop_s=None))
    source = tmp_path / "notebooks" / "03_training.py"
    assert write_headers(tmp_path / "notebooks", entries) == [source]
    assert "About 10 s" in source.read_text()
    readme = tmp_path / "README.md"
    readme.write_text("# Kit\n\n<!-- notebooks: generated from course_utils/publish/catalogue.py "
                      "by scripts/headers.py -->\nold\n<!-- end of notebooks -->\n\nMore.\n")
    assert write_readme_table(readme, tmp_path / "notebooks", entries)
    text = readme.read_text()
    assert "03_training" in text and "03b_coming" not in text and "old" not in text
    assert text.endswith("<!-- end of notebooks -->\n\nMore.\n")
    assert readme_table(entries[:1]).count("\n") == 2
