"""The course site and slides: built from tiny executed notebooks, checked in headless Chromium.

The browser tests (``tests/site_browser.py``) serve a built site on 127.0.0.1, start headless
Chromium with the network off (every host name but 127.0.0.1 unresolvable) and drive it over
the DevTools protocol. On every page they check that MathJax (served from ``_static``) has
typeset the maths and left no ``$...$`` in the text, that no request left 127.0.0.1 or failed,
that no image is broken, that the home link, the previous / next links (in the order of the
sidebar, which lists every page) and the page's contents resolve, and that Sphinx's search
finds pages that exist; on every slides page that reveal.js has started with more than one
slide. ``test_the_browser_check_fails_without_the_local_copies`` shows that the same check fails
when ``_static`` is removed. ``test_make_lab_opens_a_notebook_with_its_figures`` starts JupyterLab
as ``make lab`` does and finds the figures of notebook 01. All skip, saying how to install it,
where Chromium is missing (Debian: ``apt-get install -y chromium``).
"""
from __future__ import annotations

import base64
import functools
import http.server
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

from course_utils.publish.catalogue import Notebook
from course_utils.publish.figures import write_figures
from course_utils.publish.site import (
    add_default_slide_metadata,
    build_site,
    build_slides,
    drop_widget_outputs,
    guide_pages,
    jupyter_math_for_myst,
    notebook_title,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from site_browser import Browser, check_page, find_chromium, search  # noqa: E402

KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}
# What the fake course's index says about its notebooks (course_utils.publish.catalogue's role).
ENTRIES = (Notebook("00_start", "Start here", "Where to begin.", laptop_s=8),
           Notebook("01_game", "The game", "The value function.", laptop_s=70, train_s=600))


def _png(seed: int) -> str:
    """A small random grey PNG, base64-encoded as a notebook output holds it."""
    pixels = np.random.default_rng(seed).integers(0, 255, (28, 28), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _executed_notebook(title: str, markdown_image: str, seed: int) -> nbformat.NotebookNode:
    """What nbconvert --execute leaves behind: prose, a code cell and an image output."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {title}\n\n**What it teaches.** Something about $p(x)$."),
        nbformat.v4.new_code_cell("import numpy as np", execution_count=1),
        nbformat.v4.new_markdown_cell(f"## A diagram\n\n{markdown_image}"),
        nbformat.v4.new_code_cell("plt.imshow(x); plt.show()", execution_count=2, outputs=[
            nbformat.v4.new_output("display_data",
                                   data={"image/png": _png(seed), "text/plain": "<Figure>"}),
        ]),
        nbformat.v4.new_markdown_cell("### Details\n\nMore prose, and $$\\int p(x)\\,dx = 1.$$"),
        nbformat.v4.new_code_cell("my_answer = 42", execution_count=3,
                                  metadata={"tags": ["solution"]}),
    ]
    return nb


def _course(tmp_path: Path) -> dict[str, Path]:
    """A fake repository: figures/ drawn by our code, notebooks/ as source, executed/ notebooks,
    a guide in docs/ that links to a benchmark's results file."""
    write_figures(tmp_path / "figures")
    (tmp_path / "notebooks").mkdir()
    executed = tmp_path / "executed"
    executed.mkdir()
    nbformat.write(_executed_notebook("01 · The game", "![steps](../figures/gan_steps.png)", 1),
                   executed / "01_game.ipynb")
    nbformat.write(_executed_notebook("00 · Start here", "![nets](../figures/gan_networks.png)", 2),
                   executed / "00_start.ipynb")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(
        "# The guide\n\n## Pages\n\n- [Presenting](presenting.md)\n- [Scoring](scoring.md)\n")
    (tmp_path / "docs" / "scoring.md").write_text(
        "# Scoring\n\n## The MMD\n\nThe squared MMD $\\mathrm{MMD}^2 \\ge 0$; its speed: "
        "[results](../benchmarks/results/mmd.md).\n\n## A figure\n\n"
        "![the steps](../figures/gan_steps.png)\n")
    (tmp_path / "docs" / "presenting.md").write_text(
        "# Presenting\n\n## Slides\n\nOpen [the first notebook](../notebooks/00_start.ipynb).\n"
        "\n## The site\n\nBuilt by Sphinx.\n")
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "mmd.md").write_text(
        "# `mmd`: latest output\n\n## Output\n\n```text\nPASS  fast enough\n```\n")
    return {"root": tmp_path, "executed": executed, "source": tmp_path / "notebooks"}


@pytest.fixture
def course(tmp_path: Path) -> dict[str, Path]:
    """The fake repository, for a test that changes it or what is built from it."""
    return _course(tmp_path)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The fake repository's site, built once for the tests that only read it."""
    return _site(_course(tmp_path_factory.mktemp("course")))


def _site(course: dict[str, Path]) -> Path:
    return build_site(course["executed"], course["root"] / "site", source_dir=course["source"],
                      entries=ENTRIES).parent


def _slides(course: dict[str, Path]) -> list[Path]:
    return build_slides(course["executed"], course["root"] / "slides", source_dir=course["source"])


def test_titles_are_read_from_the_first_heading():
    assert notebook_title(_executed_notebook("03 · Training", "", 0)) == "03 · Training"
    assert notebook_title(nbformat.v4.new_notebook(), fallback="x") == "x"


def test_default_slide_metadata_only_when_the_notebook_has_none():
    nb = _executed_notebook("01 · The game", "", 0)
    assert add_default_slide_metadata(nb)
    kinds = [cell.metadata["slideshow"]["slide_type"] for cell in nb.cells]
    assert kinds == ["slide", "-", "slide", "-", "subslide", "-"]
    nb.cells[1].metadata["slideshow"] = {"slide_type": "skip"}
    assert not add_default_slide_metadata(nb), "existing metadata must be left alone"
    assert nb.cells[1].metadata["slideshow"]["slide_type"] == "skip"


def test_site_has_an_index_in_lecture_order_from_the_catalogue(site):
    text = (site / "index.html").read_text()
    listing = text[text.index('id="the-notebooks-in-lecture-order"'):text.index('id="the-guide"')]
    links = re.findall(r'href="([^"#]+\.html)"', listing)
    assert links == ["notebooks/00_start.html", "notebooks/01_game.html"], \
        "the index should list the notebooks in lecture order"
    assert "01 · The game" in listing and "The value function." in listing
    assert "About a minute on a laptop CPU with the shipped models" in listing
    assert '<span class="pre">COURSE_TRAIN=1</span>' in listing and "~10 min" in listing


def test_site_pages_show_figures_outputs_and_folded_solutions(site):
    page = (site / "notebooks" / "01_game.html").read_text()
    images = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(images) == 2, "the Markdown diagram and the plot output"
    assert all((site / "notebooks" / src).resolve().is_file() for src in images)
    assert "gan_steps.png" in " ".join(images)
    folded = page[page.index("<details>"):page.index("</details>")]
    assert "Solution (click to show)" in folded and "my_answer" in folded


def test_site_holds_the_guide_and_the_results_it_links_to(site):
    assert [p.name for p in guide_pages(site.parent / "docs")] == \
        ["index.md", "presenting.md", "scoring.md"], "index first, then in the order it links"
    for page in ("docs/index.html", "docs/presenting.html", "docs/scoring.html",
                 "benchmarks/results/mmd.html"):
        assert (site / page).is_file(), page
    scoring = (site / "docs" / "scoring.html").read_text()
    assert 'href="../benchmarks/results/mmd.html"' in scoring
    src = re.search(r'<img [^>]*src="([^"]+)"', scoring).group(1)
    assert (site / "docs" / src).resolve().is_file()
    assert 'href="../notebooks/00_start.html"' in (site / "docs" / "presenting.html").read_text()
    sidebar = (site / "index.html").read_text()
    assert sidebar.index("notebooks/01_game.html") < sidebar.index("docs/presenting.html") \
        < sidebar.index("docs/scoring.html") < sidebar.index("benchmarks/results/mmd.html")


def test_site_refuses_a_folder_without_notebooks(tmp_path):
    with pytest.raises(ValueError, match="no .ipynb"):
        build_site(tmp_path, tmp_path / "site")


def test_slides_are_reveal_js_pages(course):
    written = _slides(course)
    assert [p.name for p in written] == ["00_start.slides.html", "01_game.slides.html"]
    text = written[1].read_text()
    assert "reveal" in text.lower() and text.count("<section") >= 3  # title, diagram, details


def test_slides_hide_the_code_of_cells_tagged_hide_input(course):
    nb = nbformat.read(course["executed"] / "01_game.ipynb", as_version=4)
    nb.cells[3].metadata["tags"] = ["hide-input"]  # the plotting cell: keep the plot, drop the code
    nbformat.write(nb, course["executed"] / "01_game.ipynb")
    slides = build_slides(course["executed"], course["root"] / "slides",
                          source_dir=course["source"])[1].read_text()
    assert "imshow" not in slides and slides.count("data:image/png;base64,") >= 2
    assert "numpy" in slides, "untagged code cells stay on the slides"
    site = (_site(course) / "notebooks" / "01_game.html").read_text()
    assert "imshow" in site, "the site keeps the code (folded away, as Jupyter Book does)"


_EXTERNAL = re.compile(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="(?:https?:)?//',
                       re.IGNORECASE)


def test_pages_slides_and_index_load_nothing_from_the_network(site):
    slides = build_slides(site.parent / "executed", site.parent / "slides",
                          source_dir=site.parent / "notebooks")
    pages = sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts)
    assert len(pages) >= 8  # index, search, genindex, 2 notebooks, 3 guide pages, 1 result
    for page in [*pages, *slides]:
        text = page.read_text()
        assert not _EXTERNAL.search(text), f"{page.name} loads {_EXTERNAL.search(text).group(0)}"
        assert "_static/mathjax/es5/tex-chtml-full.js" in text, \
            f"{page.name} should load the local MathJax"
    assert (site / "_static/mathjax/es5/tex-chtml-full.js").is_file()
    assert (site / "_static/mathjax/LICENSE").is_file(), "MathJax's licence travels with it"
    assert "_static/reveal.js/dist/reveal.js" in slides[0].read_text()
    assert (slides[0].parent / "_static/reveal.js/dist/reveal.js").is_file()
    assert (slides[0].parent / "_static/reveal.js/LICENSE").is_file()


def test_every_page_links_home_previous_next_and_has_its_contents(site):
    first = (site / "notebooks" / "00_start.html").read_text()
    second = (site / "notebooks" / "01_game.html").read_text()

    def link(page: str, css_class: str) -> str | None:
        found = re.search(rf'<a class="{css_class}"\s+href="([^"]*)"', page)
        return found.group(1) if found else None

    assert (link(first, "left-prev"), link(first, "right-next")) == \
        ("../index.html", "01_game.html")
    assert (link(second, "left-prev"), link(second, "right-next")) == \
        ("00_start.html", "../docs/index.html")
    for page in (first, second):
        assert link(page, "navbar-brand logo") == "../index.html"
        assert 'action="../search.html"' in page
        contents = page[page.index('id="pst-page-toc-nav"'):]
        assert 'href="#a-diagram"' in contents and 'href="#details"' in contents
    index = (site / "searchindex.js").read_text()
    assert "diagram" in index and "The game" in index
    assert "base64" not in index, "the search index holds text, not images"


def test_maths_is_written_so_that_myst_reads_it_as_jupyter_does():
    cell = ("The bound\n$$a\n- b.$$\nWriting $x\n- y$ and `$$c$$`, $z$.\n\n"
            "```\n$$\nd\n- e$$\n```")
    assert jupyter_math_for_myst(cell) == (
        "The bound\n\n$$\na\n- b.\n$$\n\nWriting $x - y$ and `$$c$$`, $z$.\n\n"
        "```\n$$\nd\n- e$$\n```"), "display maths on lines of its own, code left alone"
    assert jupyter_math_for_myst("costs $5\n\nand $6") == "costs $5\n\nand $6", \
        "no maths across a paragraph break"


def test_the_guide_and_readme_link_to_files_that_exist():
    """Relative links of README.md and docs/*.md, but to benchmark results (a run writes them)."""
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)\s]*)?\)", page.read_text()):
            if re.match(r"^[a-z]+:", target) or "benchmarks/results/" in target:
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []


def test_widget_outputs_are_dropped_from_static_pages():
    nb = _executed_notebook("01 · The game", "", 0)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "HBox(...)"})]
    assert drop_widget_outputs(nb) == 1
    assert nb.cells[1].outputs == [] and "widgets" not in nb.metadata
    assert len(nb.cells[3].outputs) == 1, "plots stay"


def test_nbval_capture_writes_the_executed_notebooks(tmp_path):
    """tests/nbval_capture.py: the notebooks nbval ran, with their outputs, for slides and site."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title\n\nSome $x$."),
        nbformat.v4.new_code_cell("print('hello')"),
        nbformat.v4.new_code_cell("from IPython.display import Image\n"
                                  f"Image(data=__import__('base64').b64decode('{_png(3)}'))"),
        nbformat.v4.new_code_cell("1 + 1"),
    ])
    nb.metadata["kernelspec"] = KERNEL
    nbformat.write(nb, tmp_path / "tiny.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-p", "tests.nbval_capture", str(tmp_path / "tiny.ipynb"), "--nbval-lax",
         "--nbval-current-env", f"--rootdir={tmp_path}",
         f"--nbval-executed-dir={tmp_path / 'executed'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    executed = nbformat.read(tmp_path / "executed" / "tiny.ipynb", as_version=4)
    nbformat.validate(executed)
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2, 3]
    assert code[0].outputs[0].output_type == "stream" and code[0].outputs[0].text == "hello\n"
    assert "image/png" in code[1].outputs[0].data
    assert code[2].outputs[0].output_type == "execute_result"
    assert code[2].outputs[0].data["text/plain"] == "2"
    assert executed.cells[0].source == "# Title\n\nSome $x$.", "Markdown is kept as it was"


def test_make_lab_serves_the_repository_and_opens_on_notebooks():
    """The notebooks' ../figures/ links need the repository as JupyterLab's root."""
    from course_utils.publish.lab import lab_command

    command = lab_command()
    assert f"--ServerApp.root_dir={ROOT}" in command
    assert "--ServerApp.default_url=/lab/tree/notebooks" in command
    recipe = re.search(r"^lab:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert "-m course_utils lab" in recipe, \
        "make lab should start JupyterLab through genlab lab (lab_command)"

# --- the browser tests ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[Browser]:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed, so the browser test cannot run; install it with "
                    "`apt-get install -y --no-install-recommends chromium` (Debian/Ubuntu) and run "
                    "the tests again.")
    instance = Browser(chromium, tmp_path_factory.mktemp("chromium-profile"))
    yield instance
    instance.close()


@pytest.fixture
def serve() -> Iterator:
    """serve(folder) -> base URL of a localhost http.server in a thread (free port)."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


def page_problems(found: dict, *, maths: bool = True, slides: bool = False,
                  prev: str | None = None, next_: str | None = None) -> list[str]:
    """What is wrong with one page, from check_page's report; [] if nothing.

    ``prev`` and ``next_`` are the URLs the page's previous / next links must lead to."""
    problems = []
    name = found["url"].split("#")[0].rsplit("/", 1)[-1]
    if found["network"]:
        problems.append(f"{name}: requests that left 127.0.0.1 or failed: {found['network'][:5]}")
    if found["mathjax"] in (None, "timeout"):
        state = "did not finish" if found["mathjax"] else "did not load"
        problems.append(f"{name}: MathJax {state}")
    if maths and found["typeset"] == 0:
        problems.append(f"{name}: no typeset maths (no MathJax output element)")
    if found["tex_left"]:
        problems.append(f"{name}: TeX left as text: {found['tex_left'][:3]}")
    if found["math_errors"]:
        problems.append(f"{name}: {found['math_errors']} MathJax errors")
    if found["broken"]:
        problems.append(f"{name}: broken images {found['broken']}")
    if slides:
        reveal = found["reveal"] or {}
        if not reveal.get("ready"):
            problems.append(f"{name}: reveal.js has not started")
        elif reveal["slides"] < 2 or not reveal["moved"]:
            problems.append(f"{name}: reveal.js shows {reveal['slides']} slide(s), "
                            f"next moved: {reveal['moved']}")
        return problems
    nav = found["nav"]
    if not (nav["index"] and nav["index"]["ok"]):
        problems.append(f"{name}: no working link to the index ({nav['index']})")
    for rel, expected in (("prev", prev), ("next", next_)):
        got = nav[rel]["url"] if nav[rel] else None
        if got != expected or (nav[rel] and not nav[rel]["ok"]):
            problems.append(f"{name}: {rel} link {nav[rel]}, expected {expected}")
    if not found["toc"] or not all(entry["ok"] for entry in found["toc"]):
        problems.append(f"{name}: contents missing or broken: {found['toc'][:5]}")
    if not found["search"]:
        problems.append(f"{name}: no search box")
    return problems


def check_site(browser: Browser, site: Path, slides: Path | None, serve, shots: Path,
               expected: list[str] | None = None, maths: set[str] | None = None,
               query: str = "diagram", guide: list[str] | None = None) -> list[str]:
    """Every page of a built site (index first, then in the sidebar's order) and of its slides.

    ``expected``: the notebook pages (relative to the site) the index must list, in order;
    ``guide``: other pages the sidebar must hold; ``maths``: the stems of the pages that must
    show typeset maths (default: all). Returns the problems found.
    """
    base = serve(site)
    index = check_page(browser, base + "index.html", base, screenshot=shots / "index.png")
    pages = index["sidebar"]  # every page of the site, in reading order, the index first
    problems = page_problems(index, maths=False, prev=None,
                             next_=pages[1] if len(pages) > 1 else None)
    if not pages or pages[0] != base + "index.html":
        problems.append(f"the sidebar should start with the index: {pages[:3]}")
    listed = [url.removeprefix(base) for url in index["links"]]
    if expected is not None and listed != expected:
        problems.append(f"index lists {listed}, expected {expected}")
    wanted = set(expected or []) | set(guide or [])
    missing = sorted(wanted - {url.removeprefix(base) for url in pages})
    if missing:
        problems.append(f"the sidebar lacks {missing}")
    if index["search"]:
        hits = search(browser, index["search"], query)
        if not hits["results"] or not all(hit["ok"] for hit in hits["results"]):
            problems.append(f"index: the search finds nothing that resolves: {hits}")
    for i, url in enumerate(pages[1:], start=1):
        stem = Path(url).stem
        shot = url.removeprefix(base).removesuffix(".html").replace("/", "-") + ".png"
        found = check_page(browser, url, base, screenshot=shots / shot)
        problems += page_problems(found, maths=maths is None or stem in maths, prev=pages[i - 1],
                                  next_=pages[i + 1] if i + 1 < len(pages) else None)
    if slides is not None:
        slides_base = serve(slides)
        decks = sorted(p.name for p in slides.glob("*.slides.html"))
        if expected is not None and [d.removesuffix(".slides.html") for d in decks] != sorted(
                Path(e).stem for e in expected):
            problems.append(f"slides {decks} do not match the pages {expected}")
        for deck in decks:
            found = check_page(browser, slides_base + deck, slides_base,
                               screenshot=shots / f"{deck.removesuffix('.html')}.png")
            stem = deck.removesuffix(".slides.html")
            problems += page_problems(found, slides=True, maths=maths is None or stem in maths)
    return problems


NOTEBOOK_PAGES = ["notebooks/00_start.html", "notebooks/01_game.html"]
GUIDE_PAGES = ["docs/index.html", "docs/presenting.html", "docs/scoring.html",
               "benchmarks/results/mmd.html"]


@pytest.fixture
def built(course) -> dict[str, Path]:
    site = _site(course)
    build_slides(course["executed"], course["root"] / "slides", source_dir=course["source"])
    return {"site": site, "slides": course["root"] / "slides"}


def test_site_and_slides_in_headless_chromium(site, browser, serve, tmp_path):
    shots = tmp_path / "screenshots"
    slides = site.parent / "slides"
    build_slides(site.parent / "executed", slides, source_dir=site.parent / "notebooks")
    problems = check_site(browser, site, slides, serve, shots,
                          expected=NOTEBOOK_PAGES, guide=GUIDE_PAGES,
                          maths={"00_start", "01_game", "scoring"})
    assert problems == []
    assert Image.open(shots / "notebooks-01_game.png").size == (1200, 800)
    assert (shots / "01_game.slides.png").is_file() and (shots / "docs-scoring.png").is_file()


def test_the_browser_check_fails_without_the_local_copies(built, browser, serve, tmp_path):
    """Remove _static (MathJax, reveal.js): the same check must report what breaks."""
    shutil.rmtree(built["site"] / "_static" / "mathjax")
    shutil.rmtree(built["slides"] / "_static")
    problems = check_site(browser, built["site"], built["slides"], serve, tmp_path / "screenshots")
    text = "\n".join(problems)
    for page in ("00_start.html", "01_game.html", "scoring.html", "00_start.slides.html",
                 "01_game.slides.html"):
        assert f"{page}: MathJax did not load" in text
        assert f"{page}: TeX left as text" in text
    assert "01_game.slides.html: reveal.js has not started" in text
    assert "HTTP 404" in text, "the missing files should show up as failed requests"


def test_the_browser_check_catches_a_broken_image(course, browser, serve, tmp_path):
    (course["root"] / "figures" / "gan_steps.png").unlink()  # 01's diagram is now missing
    site = _site(course)
    base = serve(site)
    assert page_problems(check_page(browser, base + "notebooks/00_start.html", base),
                         prev=base + "index.html", next_=base + "notebooks/01_game.html") == []
    found = check_page(browser, base + "notebooks/01_game.html", base)
    assert len(found["broken"]) == 1 and found["broken"][0].endswith("figures/gan_steps.png")


def test_make_lab_opens_a_notebook_with_its_figures(browser, tmp_path):
    """JupyterLab as `make lab` starts it (course_utils.publish.lab): 01's diagrams load."""
    from course_utils.publish.lab import lab_command, set_default_viewer

    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    os.environ["JUPYTER_CONFIG_DIR"] = env["JUPYTER_CONFIG_DIR"]
    try:
        overrides = set_default_viewer()
    finally:
        os.environ.pop("JUPYTER_CONFIG_DIR")
    settings = json.loads(overrides.read_text())
    # never touch the sources, never ask the network for news
    settings["@jupyterlab/docmanager-extension:plugin"]["autosave"] = False
    settings["@jupyterlab/apputils-extension:notification"] = {"fetchNews": "false",
                                                               "checkForUpdates": False}
    overrides.write_text(json.dumps(settings))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "genlab-test"
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        lab_command(ROOT, "notebooks", "--no-browser", "--ServerApp.ip=127.0.0.1",
                    f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
                    f"--IdentityProvider.token={token}"),
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}api/status?token={token}", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, \
                    f"JupyterLab did not start:\n{(tmp_path / 'lab.log').read_text()[-3000:]}"
                time.sleep(0.2)
        browser.open(f"{base}lab/tree/notebooks/01_gan_theory.py?token={token}")
        found = browser.evaluate(LAB_CHECK, timeout=90)
        browser.screenshot(ROOT / "build" / "site-screenshots" / "lab-01_gan_theory.png")
        browser.open("about:blank")
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    assert found["notebook"], f"01_gan_theory.py did not open as a notebook: {found}"
    assert len(found["images"]) >= 2, f"notebook 01 shows its two diagrams: {found}"
    broken = [i for i in found["images"] if not i["ok"]]
    assert broken == [], f"broken images in JupyterLab: {found}"


LAB_CHECK = r"""
(async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const deadline = Date.now() + 60000;
  const images = () => Array.from(document.querySelectorAll(
    '.jp-NotebookPanel .jp-MarkdownOutput img, .jp-NotebookPanel .jp-OutputArea img'));
  while (images().length < 2 && Date.now() < deadline) await sleep(100);
  while (images().some(i => !i.complete) && Date.now() < deadline) await sleep(100);
  return {notebook: !!document.querySelector('.jp-NotebookPanel'),
          images: images().map(i => ({src: i.getAttribute('src').slice(0, 100),
                                      ok: i.complete && i.naturalWidth > 0}))};
})()
"""


def _notebooks_with_maths() -> set[str]:
    import jupytext

    return {p.stem for p in (ROOT / "notebooks").glob("*.py")
            if any(c.cell_type == "markdown" and "$" in c.source for c in jupytext.read(p).cells)}


def test_the_built_course_site_in_headless_chromium(browser, serve):
    """The real site (``make site``) and slides (``make slides``), when ``COURSE_SITE`` names the
    site's folder (``COURSE_SLIDES`` the slides', default: ``slides`` beside it); else skipped.
    Screenshots of every page go to ``build/site-screenshots/`` (``notebooks-01_gan_theory.png``).
    """
    folder = os.environ.get("COURSE_SITE")
    if not folder:
        pytest.skip("set COURSE_SITE=build/site (make test does) to check the built course site")
    site = Path(folder)
    slides = Path(os.environ.get("COURSE_SLIDES", site.parent / "slides"))
    # Every notebook and guide page of the course, from the sources, not from what was built.
    expected = sorted(f"notebooks/{p.stem}.html" for p in (ROOT / "notebooks").glob("*.py"))
    guide = [f"docs/{p.stem}.html" for p in guide_pages(ROOT / "docs")]
    shots = site.parent / "site-screenshots"
    problems = check_site(browser, site, slides if slides.is_dir() else None, serve, shots,
                          expected=expected, guide=guide, maths=_notebooks_with_maths(),
                          query="discriminator")
    assert slides.is_dir(), f"no slides at {slides}: make slides writes them"
    assert problems == [], "\n".join(problems)
    assert (shots / "index.png").is_file()
