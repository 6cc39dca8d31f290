"""The course site and slides: built from tiny executed notebooks, checked in headless Chromium.

The browser test serves the site on a free localhost port, opens a checker page that loads the
index and every page it links in same-origin iframes, and reads back (via ``--dump-dom``)
which images failed to load (``naturalWidth == 0``). It skips, saying how to install Chromium,
where Chromium is missing (Debian: ``apt-get install -y chromium``).
"""
from __future__ import annotations

import base64
import functools
import html
import http.server
import io
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

from course_utils.figures import write_figures
from course_utils.site import (
    add_default_slide_metadata, build_site, build_slides, notebook_title, run_time_line,
)

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars"]


def _png(seed: int) -> str:
    """A small random grey PNG, base64-encoded as a notebook output holds it."""
    pixels = np.random.default_rng(seed).integers(0, 255, (28, 28), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _executed_notebook(title: str, runtime: str, markdown_image: str, seed: int) -> nbformat.NotebookNode:
    """What nbconvert --execute leaves behind: prose, a code cell and an image output."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {title}\n\n**What it teaches.** Something.\n\n{runtime}"),
        nbformat.v4.new_code_cell("import numpy as np", execution_count=1),
        nbformat.v4.new_markdown_cell(f"## A diagram\n\n{markdown_image}"),
        nbformat.v4.new_code_cell("plt.imshow(x); plt.show()", execution_count=2, outputs=[
            nbformat.v4.new_output("display_data", data={"image/png": _png(seed), "text/plain": "<Figure>"}),
        ]),
        nbformat.v4.new_markdown_cell("### Details\n\nMore prose."),
    ]
    return nb


@pytest.fixture
def course(tmp_path: Path) -> dict[str, Path]:
    """A fake repository: figures/ drawn by our code, notebooks/ as source, executed/ notebooks."""
    write_figures(tmp_path / "figures")
    (tmp_path / "notebooks").mkdir()
    executed = tmp_path / "executed"
    executed.mkdir()
    nbformat.write(_executed_notebook("01 · The game", "**Run time.** `smoke`: ~1 s",
                                      "![steps](../figures/gan_steps.png)", 1), executed / "01_game.ipynb")
    nbformat.write(_executed_notebook("00 · Start here", "**Run time.** seconds",
                                      "![networks](../figures/gan_networks.png)", 2), executed / "00_start.ipynb")
    return {"root": tmp_path, "executed": executed, "source": tmp_path / "notebooks"}


def test_titles_and_run_time_lines_are_read_from_the_first_cells():
    nb = _executed_notebook("03 · Training", "**Run time** on 2 cores: ~5 s", "", 0)
    assert notebook_title(nb) == "03 · Training"
    assert run_time_line(nb) == "**Run time** on 2 cores: ~5 s"
    assert notebook_title(nbformat.v4.new_notebook(), fallback="x") == "x"


def test_default_slide_metadata_only_when_the_notebook_has_none():
    nb = _executed_notebook("01 · The game", "**Run time.** 1 s", "", 0)
    assert add_default_slide_metadata(nb)
    kinds = [cell.metadata["slideshow"]["slide_type"] for cell in nb.cells]
    assert kinds == ["slide", "-", "slide", "-", "subslide"]
    nb.cells[1].metadata["slideshow"] = {"slide_type": "skip"}
    assert not add_default_slide_metadata(nb), "existing metadata must be left alone"
    assert nb.cells[1].metadata["slideshow"]["slide_type"] == "skip"


def test_site_has_an_index_in_lecture_order_and_self_contained_pages(course):
    index = build_site(course["executed"], course["root"] / "site", source_dir=course["source"])
    text = index.read_text()
    links = re.findall(r'href="([^"]+\.html)"', text)
    assert links == ["00_start.html", "01_game.html"], "the index should list notebooks in lecture order"
    assert "01 · The game" in text and "<code>smoke</code>: ~1 s" in text
    page = (index.parent / "01_game.html").read_text()
    assert "../figures/gan_steps.png" not in page, "Markdown figures should be inlined"
    assert page.count("data:image/png;base64,") >= 2  # the diagram and the plot output


def test_site_refuses_a_folder_without_notebooks(tmp_path):
    with pytest.raises(ValueError, match="no .ipynb"):
        build_site(tmp_path, tmp_path / "site")


def test_slides_are_reveal_js_pages(course):
    written = build_slides(course["executed"], course["root"] / "slides", source_dir=course["source"])
    assert [p.name for p in written] == ["00_start.slides.html", "01_game.slides.html"]
    text = written[1].read_text()
    assert "reveal" in text.lower() and text.count("<section") >= 3  # title, diagram, details


def test_slides_hide_the_code_of_cells_tagged_hide_input(course):
    nb = nbformat.read(course["executed"] / "01_game.ipynb", as_version=4)
    nb.cells[3].metadata["tags"] = ["hide-input"]  # the plotting cell: keep the plot, drop the code
    nbformat.write(nb, course["executed"] / "01_game.ipynb")
    slides = build_slides(course["executed"], course["root"] / "slides", source_dir=course["source"])[1].read_text()
    assert "imshow" not in slides and slides.count("data:image/png;base64,") >= 2
    assert "numpy" in slides, "untagged code cells stay on the slides"
    site = (build_site(course["executed"], course["root"] / "site", source_dir=course["source"]).parent
            / "01_game.html").read_text()
    assert "imshow" in site, "the site shows all the code"


# --- the browser test ---------------------------------------------------------------------------

CHECKER = """<!DOCTYPE html><html><body><script>
function load(url) {
  return new Promise(resolve => {
    const frame = document.createElement('iframe');
    frame.style.width = '1000px'; frame.style.height = '700px';
    const timer = setTimeout(() => resolve({url: url, error: 'timeout'}), 15000);
    frame.onload = () => {
      const doc = frame.contentDocument;
      const images = Array.from(doc.images);
      const settle = () => {
        if (!images.every(i => i.complete)) { setTimeout(settle, 50); return; }
        clearTimeout(timer);
        resolve({url: url, title: doc.title, images: images.length,
                 broken: images.filter(i => i.naturalWidth === 0).map(i => i.src.slice(0, 80)),
                 links: Array.from(doc.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))});
      };
      settle();
    };
    frame.src = url;
    document.body.appendChild(frame);
  });
}
(async () => {
  const index = await load('index.html');
  const pages = [];
  for (const href of (index.links || []).filter(h => h.endsWith('.html'))) pages.push(await load(href));
  const out = document.createElement('pre');
  out.id = 'results';
  out.textContent = JSON.stringify({index: index, pages: pages});
  document.body.appendChild(out);
})();
</script></body></html>
"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("Chromium is not installed, so the browser test cannot run; install it with "
                "`apt-get install -y chromium` (Debian/Ubuntu) and run the tests again.")


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


def check_in_browser(site: Path, base_url: str, chromium: str, profile: Path) -> dict:
    """Open the checker page in headless Chromium and return what it found."""
    (site / "_check.html").write_text(CHECKER)
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=30000",
         "--dump-dom", base_url + "_check.html"],
        capture_output=True, text=True, timeout=120)
    match = re.search(r'<pre id="results">(.*?)</pre>', result.stdout, re.DOTALL)
    assert match, f"the checker page wrote no results; Chromium said:\n{result.stderr[-2000:]}"
    return json.loads(html.unescape(match.group(1)))


def test_site_in_headless_chromium(course, serve, tmp_path):
    chromium = _chromium()
    site = course["root"] / "site"
    build_site(course["executed"], site, source_dir=course["source"])
    base_url = serve(site)
    found = check_in_browser(site, base_url, chromium, tmp_path / "chromium-profile")

    assert sorted(h for h in found["index"]["links"] if h.endswith(".html")) == ["00_start.html", "01_game.html"]
    for page in found["pages"]:
        assert "error" not in page, f"{page['url']} did not load: {page}"
        assert page["images"] >= 2, f"{page['url']} should show the diagram and the plot"
        assert page["broken"] == [], f"broken images on {page['url']}: {page['broken']}"

    screenshot = tmp_path / "index.png"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}",
                    "--window-size=1100,700", f"--screenshot={screenshot}", base_url + "index.html"],
                   capture_output=True, timeout=120)
    assert screenshot.is_file() and Image.open(screenshot).size == (1100, 700)


def test_the_browser_check_catches_a_broken_image(course, serve, tmp_path):
    chromium = _chromium()
    (course["root"] / "figures" / "gan_steps.png").unlink()  # 01's diagram is now missing
    site = course["root"] / "site"
    build_site(course["executed"], site, source_dir=course["source"])
    found = check_in_browser(site, serve(site), chromium, tmp_path / "chromium-profile")
    broken = {page["url"]: page["broken"] for page in found["pages"]}
    assert broken["00_start.html"] == []
    assert len(broken["01_game.html"]) == 1 and broken["01_game.html"][0].endswith("figures/gan_steps.png")


def test_the_built_course_site_in_headless_chromium(serve, tmp_path):
    """The real site (``make site``), when ``COURSE_SITE`` names its folder; else skipped."""
    import os

    folder = os.environ.get("COURSE_SITE")
    if not folder:
        pytest.skip("set COURSE_SITE=build/site (make site does) to check the built course site")
    chromium = _chromium()
    site = tmp_path / "site"
    shutil.copytree(folder, site)  # the checker page goes into a copy, not into the build
    found = check_in_browser(site, serve(site), chromium, tmp_path / "chromium-profile")
    # Every notebook of the course, from the sources, not from what happened to be built.
    expected = sorted(f"{p.stem}.html" for p in (Path(__file__).resolve().parents[1] / "notebooks").glob("*.py"))
    assert sorted(h for h in found["index"]["links"] if h.endswith(".html")) == expected
    for page in found["pages"]:
        assert "error" not in page, f"{page['url']} did not load: {page}"
        assert page["broken"] == [], f"broken images on {page['url']}: {page['broken']}"
        assert page["images"] > 0, f"{page['url']} shows no figure at all"
    shot = Path(folder).parent / "site-index.png"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}",
                    "--window-size=1100,700", f"--screenshot={shot}", f"{serve(site)}index.html"],
                   capture_output=True, timeout=120)
    assert shot.is_file(), "Chromium should have saved a screenshot of the index"
