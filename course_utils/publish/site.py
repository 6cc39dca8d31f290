"""Publish executed notebooks: a static course site (``build/site``) and reveal.js slides.

Both read a folder of *executed* ``.ipynb`` files (``make site`` / ``make slides`` execute the
notebooks in the smoke profile first) and use nothing but nbconvert, which Jupyter already
installs:

* ``build_site(executed_dir, out_dir)``: one self-contained HTML page per notebook
  (``nbconvert --to html`` with every image inlined, so pages work from ``python -m http.server``
  or straight from disk) and an ``index.html`` in lecture order (file-name order ``00_``,
  ``01_``, ...) with each notebook's title (its first heading) and its "Run time" line.
* ``build_slides(executed_dir, out_dir)``: ``nbconvert --to slides`` per notebook. Cells carry
  jupytext metadata ``slideshow={"slide_type": ...}``; a notebook without any gets a sensible
  default (a new slide at every ``#``/``##`` heading, a sub-slide at ``###``).

Markdown images with a relative path (``![..](../figures/gan_steps.png)``) are resolved against
``source_dir`` (the folder of the ``.py`` sources, ``notebooks/``) and inlined as data URIs.

Command line: ``python -m course_utils site|slides --executed DIR --out DIR [--source notebooks]``
(``course_utils.cli``).
"""
from __future__ import annotations

import base64
import copy
import html
import mimetypes
import re
import shutil
from pathlib import Path

import nbformat

__all__ = [
    "notebook_title", "run_time_line", "add_default_slide_metadata", "inline_markdown_images",
    "build_site", "build_slides",
]

HIDE_INPUT_TAG = "hide-input"
_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$", re.MULTILINE)


def _notebooks(executed_dir: str | Path) -> list[Path]:
    folder = Path(executed_dir)
    if not folder.is_dir():
        raise ValueError(f"No folder {folder}: execute the notebooks first (make site does it, or "
                         f"jupyter nbconvert --to notebook --execute --output-dir {folder} ...).")
    paths = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if not paths:
        raise ValueError(f"{folder} holds no .ipynb files; expected executed notebooks such as "
                         f"01_gan_theory.ipynb.")
    return paths


def notebook_title(nb: nbformat.NotebookNode, fallback: str = "") -> str:
    """The text of the notebook's first Markdown heading (``# 01 · ...``), else ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = _HEADING.search(cell.source)
            if match:
                return match.group(2).strip()
    return fallback


def run_time_line(nb: nbformat.NotebookNode) -> str:
    """The paragraph that starts with "**Run time**" in the first Markdown cells, or ``""``.

    Our notebooks open with what they teach and roughly how long they run per profile; the index
    shows that line.
    """
    for cell in nb.cells[:3]:
        if cell.cell_type != "markdown":
            continue
        for paragraph in re.split(r"\n\s*\n", cell.source):
            if "Run time" in paragraph:
                return " ".join(line.strip() for line in paragraph.splitlines())
    return ""


def _inline_markdown(text: str) -> str:
    """Markdown of one line (`code`, **bold**, *italic*) to HTML, escaping everything else."""
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"(?<!\*)\*([^*]+)\*(?!\*)", r"<em>\1</em>", text)


def add_default_slide_metadata(nb: nbformat.NotebookNode) -> bool:
    """Give a notebook without any slide metadata a default slide structure (in place).

    A Markdown cell that starts with a ``#`` or ``##`` heading opens a new slide, one with
    ``###`` a sub-slide; every other cell continues the current slide. Returns True if the
    defaults were applied, False if the notebook already had ``slideshow`` metadata.
    """
    if any("slideshow" in cell.get("metadata", {}) for cell in nb.cells):
        return False
    for i, cell in enumerate(nb.cells):
        match = re.match(r"^(#{1,6})\s", cell.source.lstrip()) if cell.cell_type == "markdown" else None
        if i == 0 or (match and len(match.group(1)) <= 2):
            kind = "slide"
        elif match and len(match.group(1)) == 3:
            kind = "subslide"
        else:
            kind = "-"
        cell.metadata["slideshow"] = {"slide_type": kind}
    return True


def inline_markdown_images(nb: nbformat.NotebookNode, source_dir: str | Path) -> list[str]:
    """Replace relative image links in Markdown cells by data URIs (in place).

    ``source_dir`` is where the links resolve (the notebook's own folder, ``notebooks/``).
    Returns the links that could not be found, which stay as they are (the browser test then
    reports them as broken images).
    """
    base = Path(source_dir)
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        src = match.group("src")
        if re.match(r"^(data:|https?:|attachment:)", src):
            return match.group(0)
        path = (base / src).resolve()
        if not path.is_file():
            missing.append(src)
            return match.group(0)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"![{match.group('alt')}](data:{mime};base64,{data}{match.group('title') or ''})"

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _IMAGE.sub(replace, cell.source)
    return missing


def _read(path: Path, source_dir: str | Path | None) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    missing = inline_markdown_images(nb, source_dir if source_dir is not None else path.parent)
    for src in missing:
        print(f"warning: {path.name}: image {src} not found under {source_dir or path.parent}")
    return nb


_INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.45; color: #222; }}
li {{ margin: 0 0 1rem 0; }} a {{ font-weight: 600; }} .runtime {{ color: #555; font-size: 0.92rem; }}
code {{ background: #f2f2f2; padding: 0 0.2rem; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{intro}</p>
<ol class="notebooks">
{items}
</ol>
</body></html>
"""


def build_site(executed_dir: str | Path, out_dir: str | Path = "build/site",
               source_dir: str | Path | None = None, title: str = "genlab: deep generative models",
               intro: str = "The lecture's notebooks, executed, in lecture order.") -> Path:
    """Write ``out_dir/<notebook>.html`` for every executed notebook and ``out_dir/index.html``.

    Each page is ``nbconvert --to html`` with ``embed_images`` (outputs are inline already;
    Markdown images are inlined by ``inline_markdown_images``), so the folder is self-contained.
    Returns the path of the index page.
    """
    from nbconvert import HTMLExporter

    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    items = []
    for path in _notebooks(executed_dir):
        nb = _read(path, source_dir)
        name = notebook_title(nb, fallback=path.stem)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name}})
        page = out / f"{path.stem}.html"
        page.write_text(body, encoding="utf-8")
        runtime = run_time_line(nb)
        items.append(f'<li><a href="{html.escape(page.name)}">{_inline_markdown(name)}</a>'
                     + (f'<div class="runtime">{_inline_markdown(runtime)}</div>' if runtime else "")
                     + "</li>")
    index = out / "index.html"
    index.write_text(_INDEX.format(title=html.escape(title), intro=html.escape(intro),
                                   items="\n".join(items)), encoding="utf-8")
    return index


def build_slides(executed_dir: str | Path, out_dir: str | Path = "build/slides",
                 source_dir: str | Path | None = None, reveal_url: str | None = None) -> list[Path]:
    """``jupyter nbconvert --to slides`` for every executed notebook into ``out_dir``.

    Notebooks without slide metadata get ``add_default_slide_metadata``. Code cells tagged
    ``hide-input`` show only their output on the slides (the site shows the code). reveal.js is loaded from
    a CDN by default (nbconvert's choice); pass ``reveal_url`` to point at a local copy.
    Returns the written ``*.slides.html`` paths.
    """
    from nbconvert import SlidesExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    exporter = SlidesExporter(embed_images=True)
    # A long code cell whose plot matters is tagged "hide-input": the slide shows the plot only.
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={HIDE_INPUT_TAG}, enabled=True),
                                   enabled=True)
    if reveal_url:
        exporter.reveal_url_prefix = reveal_url
    written = []
    for path in _notebooks(executed_dir):
        nb = _read(path, source_dir)
        add_default_slide_metadata(nb)
        body, _ = exporter.from_notebook_node(
            nb, resources={"metadata": {"name": notebook_title(nb, fallback=path.stem)}})
        target = out / f"{path.stem}.slides.html"
        target.write_text(body, encoding="utf-8")
        written.append(target)
    return written
