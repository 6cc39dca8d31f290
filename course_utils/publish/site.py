"""Publish executed notebooks: the course site (Sphinx) and reveal.js slides (nbconvert).

Both read a folder of *executed* ``.ipynb`` files (``make test`` keeps the ones its nbval run
executed, see tests/nbval_capture.py; ``make site`` / ``make slides`` alone execute the notebooks
in the smoke profile first). Nothing they write loads anything from the network.

* ``build_site(executed_dir, out_dir)``: the course site, built by Sphinx with MyST-NB (notebook
  pages from the executed notebooks, never executed again) and sphinx-book-theme (the Jupyter
  Book look: the sidebar of every page, each page's contents, previous / next links, Sphinx's
  search). Its pages: an index of the notebooks in lecture order (their titles, what they
  teach and their run times from ``catalogue.NOTEBOOKS``), one page per notebook, the guide
  (``docs/*.md``, in the order of the links of ``docs/index.md``) and the files the guide links
  to (the benchmarks' ``results/*.md``, figures). MathJax 3 is served from ``_static/mathjax``
  (copied from django-static-mathjax), the theme's fonts and icons come with the theme.
* ``build_slides(executed_dir, out_dir)``: nbconvert's reveal.js slides per notebook, with
  reveal.js 5 (from sphinx-revealjs) and MathJax in ``out_dir/_static/``. Cells carry jupytext
  metadata ``slideshow={"slide_type": ...}``; a notebook without any gets a sensible default (a
  new slide at every ``#``/``##`` heading, a sub-slide at ``###``).

On both, each exercise's solution is folded away (``editions.hide_solutions``) and live widget
outputs (tqdm's progress bars) are dropped: a static page cannot run them offline. Markdown
images with a relative path (``![..](../figures/gan_steps.png)``) are resolved against
``source_dir`` (the folder of the ``.py`` sources, ``notebooks/``): the site copies them beside
its pages, the slides inline them as data URIs.

Command line: ``python -m course_utils site|slides --executed DIR --out DIR [--source notebooks]``
(``course_utils.cli``).
"""
from __future__ import annotations

import base64
import contextlib
import mimetypes
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import nbformat

from . import site_assets
from .catalogue import NOTEBOOKS, Notebook, run_time_paragraph
from .editions import hide_solutions

__all__ = [
    "notebook_title", "add_default_slide_metadata", "inline_markdown_images", "drop_widget_outputs",
    "drop_cdn_links", "jupyter_math_for_myst", "sphinx_config", "guide_pages", "build_site",
    "build_slides",
]

HIDE_INPUT_TAG = "hide-input"
_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)")
_LINK = re.compile(r"\]\((?P<src>[^)\s#]+)(?:#[^)\s]*)?(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$", re.MULTILINE)
_EXTERNAL = re.compile(r"^(data:|[a-z][a-z0-9+.-]*:|#|/)", re.IGNORECASE)
_DOCUMENTS = {".md", ".ipynb"}  # pages of the site, not files to copy


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


def add_default_slide_metadata(nb: nbformat.NotebookNode) -> bool:
    """Give a notebook without any slide metadata a default slide structure (in place).

    A Markdown cell that starts with a ``#`` or ``##`` heading opens a new slide, one with
    ``###`` a sub-slide; every other cell continues the current slide. Returns True if the
    defaults were applied, False if the notebook already had ``slideshow`` metadata.
    """
    if any("slideshow" in cell.get("metadata", {}) for cell in nb.cells):
        return False
    for i, cell in enumerate(nb.cells):
        match = (re.match(r"^(#{1,6})\s", cell.source.lstrip())
                 if cell.cell_type == "markdown" else None)
        if i == 0 or (match and len(match.group(1)) <= 2):
            kind = "slide"
        elif match and len(match.group(1)) == 3:
            kind = "subslide"
        else:
            kind = "-"
        cell.metadata["slideshow"] = {"slide_type": kind}
    return True


def inline_markdown_images(nb: nbformat.NotebookNode, source_dir: str | Path) -> list[str]:
    """Replace relative image links in Markdown cells by data URIs (in place; for the slides).

    ``source_dir`` is where the links resolve (the notebook's own folder, ``notebooks/``).
    Returns the links that could not be found, which stay as they are (the browser test then
    reports them as broken images).
    """
    base = Path(source_dir)
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        src = match.group("src")
        if _EXTERNAL.match(src):
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


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def drop_widget_outputs(nb: nbformat.NotebookNode) -> int:
    """Remove live-widget outputs (tqdm.auto's progress bars) and the widget state (in place).

    A static page cannot run a widget without loading the widget manager from a CDN; the bars
    carry no content. Returns how many outputs were dropped.
    """
    dropped = 0
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        keep = [out for out in cell.get("outputs", []) if WIDGET_VIEW not in out.get("data", {})]
        dropped += len(cell.get("outputs", [])) - len(keep)
        cell.outputs = keep
    return dropped


_CDN_LINK = re.compile(r"<link\b[^>]*\bhref=[\"']https?://[^\"']*font-awesome[^>]*>\s*",
                       re.IGNORECASE)


def drop_cdn_links(nb: nbformat.NotebookNode) -> int:
    """Remove the Font Awesome ``<link>`` of matplotlib's HTML animations from outputs (in place).

    The stylesheet only draws the player's button icons: on the site the theme's own copy of
    Font Awesome draws them, on the slides ``site_assets.ICON_CSS``. Returns how many links were
    removed.
    """
    removed = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = out.get("data", {})
            if "text/html" in data:
                html = data["text/html"]
                text = html if isinstance(html, str) else "".join(html)
                new, n = _CDN_LINK.subn("", text)
                if n:
                    data["text/html"], removed = new, removed + n
    return removed


_CODE = re.compile(r"^(```|~~~).*?^\1[ \t]*$|`[^`\n]*`", re.MULTILINE | re.DOTALL)
_DISPLAY_MATH = re.compile(r"[ \t]*\$\$(?P<tex>.+?)\$\$[ \t]*", re.DOTALL)
_INLINE_MATH = re.compile(  # $...$, a line break inside but no blank line
    r"(?<![\\$])\$(?!\$)(?P<tex>(?:[^$\n]|\n(?![ \t]*\n))+?)(?<![\\$])\$(?!\$)")


def _math_as_myst_reads_it(text: str) -> str:
    text = _DISPLAY_MATH.sub(lambda m: "\n\n$$\n" + m.group("tex").strip() + "\n$$\n\n", text)
    return _INLINE_MATH.sub(lambda m: "$" + " ".join(m.group("tex").split("\n")) + "$", text)


def jupyter_math_for_myst(markdown: str) -> str:
    """A Markdown cell's maths written so that MyST reads it as Jupyter does.

    Jupyter finds the maths before it parses the Markdown, so ``$$`` may sit inside a paragraph
    and a line of maths may start with ``- `` (a minus sign). MyST parses the Markdown first:
    there such a line would open a list. So every ``$$...$$`` goes on lines of its own, blank
    lines around (Jupyter shows it on a line of its own too), and the line breaks inside
    ``$...$`` become spaces. Code (fenced or inline) is left alone.
    """
    pieces, start = [], 0
    for code in _CODE.finditer(markdown):
        pieces += [_math_as_myst_reads_it(markdown[start:code.start()]), code.group(0)]
        start = code.end()
    pieces.append(_math_as_myst_reads_it(markdown[start:]))
    return re.sub(r"\n{3,}", "\n\n", "".join(pieces)).strip("\n")


def _for_the_web(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What site and slides show of a notebook: no widgets, no CDN links, solutions folded."""
    drop_widget_outputs(nb)
    drop_cdn_links(nb)
    return hide_solutions(nb)  # exercises and checks visible, each solution folded away


# --- the site ------------------------------------------------------------------------------------

def sphinx_config(title: str) -> dict:
    """Sphinx's configuration of the course site (what a ``conf.py`` would hold)."""
    return {
        "project": title,
        "html_title": title,
        "extensions": ["myst_nb"],
        "nb_execution_mode": "off",  # the notebooks are executed already (make test, make site)
        "nb_ipywidgets_js": {},  # widget outputs are dropped; never load the widget manager
        "myst_enable_extensions": ["dollarmath", "amsmath"],
        "myst_heading_anchors": 3,
        "mathjax_path": f"mathjax/{site_assets.MATHJAX_SCRIPT}",  # relative to _static: local
        "html_theme": "sphinx_book_theme",
        "html_theme_options": {
            "home_page_in_toc": True, "show_toc_level": 2, "use_download_button": False,
            "navigation_with_keys": True,
        },
        "html_context": {"default_mode": "light"},  # matplotlib's figures are drawn on white
        "html_static_path": ["_genlab_static"],
        "html_favicon": "_genlab_static/favicon.svg",  # else browsers ask for /favicon.ico
        "html_copy_source": False,  # no second copy of every notebook under _sources/
        "html_show_sourcelink": False,
        "html_show_sphinx": False,
        "suppress_warnings": ["mystnb.unknown_mime_type"],
    }


def _copy_target(src: str, origin: Path, page_dir: Path, build_src: Path) -> tuple[Path, str]:
    """Where the file that a relative link of ``page_dir`` names goes, and the link to it."""
    mirrored = Path(os.path.normpath(page_dir / src))
    if mirrored.is_relative_to(build_src):
        return mirrored, src
    flat = build_src / "_linked" / origin.name
    return flat, os.path.relpath(flat, page_dir).replace(os.sep, "/")


def _copy_linked_files(text: str, base: Path, page_dir: Path, build_src: Path,
                       pattern: re.Pattern[str] = _IMAGE) -> tuple[str, list[str]]:
    """Copy what the relative links of a Markdown ``text`` point at (resolved against ``base``)
    into the site's source tree beside the page in ``page_dir``; return the text and the links
    that point at nothing."""
    missing: list[str] = []

    def copy(match: re.Match[str]) -> str:
        src = match.group("src")
        origin = (base / src).resolve()
        if _EXTERNAL.match(src) or origin.suffix in _DOCUMENTS:
            return match.group(0)  # a page of the site (or another site): nothing to copy
        if not origin.is_file():
            missing.append(src)
            return match.group(0)
        target, link = _copy_target(src, origin, page_dir, build_src)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)
        return match.group(0).replace(src, link, 1)

    return pattern.sub(copy, text), missing


def guide_pages(guide_dir: str | Path) -> list[Path]:
    """The guide's pages in reading order: ``index.md``, then the pages it links to, in order,
    then any other ``.md`` page of the folder."""
    folder = Path(guide_dir)
    index = folder / "index.md"
    pages = [index] if index.is_file() else []
    if pages:
        for match in _LINK.finditer(index.read_text(encoding="utf-8")):
            page = (folder / match.group("src")).resolve()
            if page.parent == folder.resolve() and page.suffix == ".md" and page.is_file() \
                    and page not in [p.resolve() for p in pages]:
                pages.append(folder / page.name)
    listed = {p.resolve() for p in pages}
    return pages + sorted(p for p in folder.glob("*.md") if p.resolve() not in listed)


def _linked_pages(pages: Sequence[Path], root: Path) -> list[Path]:
    """Markdown files outside the guide that its pages link to (benchmark results), in order."""
    found: list[Path] = []
    for page in pages:
        for match in _LINK.finditer(page.read_text(encoding="utf-8")):
            target = (page.parent / match.group("src")).resolve()
            if (target.suffix == ".md" and target.is_file() and target.is_relative_to(root)
                    and target.parent != page.parent.resolve() and target not in found):
                found.append(target)
    return found


def _write_notebooks(executed: list[Path], source_dir: Path | None, build_src: Path) -> list[str]:
    folder = build_src / "notebooks"
    folder.mkdir(parents=True)
    for path in executed:
        nb = _for_the_web(nbformat.read(path, as_version=4))
        base = source_dir if source_dir is not None else path.parent
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = jupyter_math_for_myst(cell.source)
                cell.source, missing = _copy_linked_files(cell.source, base, folder, build_src)
                for src in missing:
                    print(f"warning: {path.name}: image {src} not found under {base}")
        nbformat.write(nb, folder / path.name)
    return [f"notebooks/{path.stem}" for path in executed]


def _write_pages(pages: Sequence[Path], root: Path, build_src: Path) -> list[str]:
    """Copy Markdown pages (and the files they link to) to the same place under ``build_src``."""
    names = []
    for page in pages:
        relative = page.resolve().relative_to(root)
        target = build_src / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = page.read_text(encoding="utf-8")
        text, missing = _copy_linked_files(text, page.parent, target.parent, build_src, _LINK)
        for src in missing:
            print(f"warning: {relative}: link {src} points at nothing")
        target.write_text(text, encoding="utf-8")
        names.append(relative.with_suffix("").as_posix())
    return names


def _index_entry(doc: str, title: str, entry: Notebook | None) -> str:
    line = f"- [{title}]({doc}.ipynb)"
    if entry is None:
        return line
    time = run_time_paragraph(entry).removeprefix("**Run time.** ")
    return f"{line}  \n   {entry.teaches} *{time}*"


def _toctree(caption: str, docs: Sequence[str]) -> str:
    return ("```{toctree}\n:hidden:\n:caption: " + caption + "\n\n" + "\n".join(docs)
            + "\n```\n") if docs else ""


def _write_index(build_src: Path, title: str, intro: str, notebooks: list[tuple[str, str]],
                 entries: Sequence[Notebook], guide: list[str], results: list[str]) -> None:
    by_name = {entry.name: entry for entry in entries}
    lines = [f"# {title}", "", intro, "", "## The notebooks, in lecture order", ""]
    lines += [_index_entry(doc, name, by_name.get(Path(doc).name)) for doc, name in notebooks]
    if guide:
        lines += ["", "## The guide", "",
                  "For instructors and students: presenting, editions and exercises, the command "
                  "line, the models, scoring, physics, and how the kit is built: "
                  f"[the guide]({guide[0]}.md).", ""]
    lines += ["", _toctree("Notebooks", [doc for doc, _ in notebooks]), _toctree("Guide", guide),
              _toctree("Benchmark results", results)]
    (build_src / "index.md").write_text("\n".join(lines), encoding="utf-8")


def build_site(executed_dir: str | Path, out_dir: str | Path = "build/site",
               source_dir: str | Path | None = None, title: str = "genlab: deep generative models",
               intro: str = "The lecture's notebooks, executed, in lecture order, with the guide "
                            "for instructors and students.",
               guide_dir: str | Path | None = None,
               entries: Sequence[Notebook] = NOTEBOOKS) -> Path:
    """Build the course site into ``out_dir`` with Sphinx and return the path of its index page.

    ``executed_dir`` holds the executed notebooks (each one page, in file-name order, which is
    lecture order); ``source_dir`` is the folder of their sources, where the Markdown images
    resolve (default: ``executed_dir``). The guide is ``guide_dir`` (default: ``docs/`` beside
    ``source_dir``, if there is one). The index describes each notebook by its entry in
    ``entries``. MathJax is served from ``out_dir/_static/mathjax``: no page loads anything from
    the network.
    """
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    executed = _notebooks(executed_dir)
    source = Path(source_dir).resolve() if source_dir is not None else None
    root = source.parent if source is not None else Path(executed_dir).resolve()
    guide = Path(guide_dir) if guide_dir is not None else root / "docs"
    pages = guide_pages(guide) if guide.is_dir() else []
    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory(prefix="genlab-site-") as tmp:
        build_src = Path(tmp) / "src"
        docs = _write_notebooks(executed, source, build_src)
        titles = [notebook_title(nbformat.read(build_src / f"{doc}.ipynb", as_version=4), doc)
                  for doc in docs]
        guide_docs = _write_pages(pages, guide.resolve().parent, build_src)
        results = _write_pages(_linked_pages(pages, root), root, build_src) if pages else []
        _write_index(build_src, title, intro, list(zip(docs, titles, strict=True)), entries,
                     guide_docs, results)
        static = build_src / "_genlab_static"
        static.mkdir()
        (static / "favicon.svg").write_text(site_assets.FAVICON_SVG, encoding="utf-8")
        with docutils_namespace():  # Sphinx's roles and directives, for this build only
            app = Sphinx(str(build_src), None, str(out), str(Path(tmp) / "doctrees"), "html",
                         confoverrides=sphinx_config(title), status=None, freshenv=True)
            app.set_html_assets_policy("always")  # MathJax on every page, as on notebook pages
            app.build()
    with contextlib.suppress(OSError):
        (out / "_sources").rmdir()  # empty: the notebooks' sources are not copied
    site_assets.copy_assets(out, ("mathjax",))
    return out / "index.html"


# --- the slides ----------------------------------------------------------------------------------

def build_slides(executed_dir: str | Path, out_dir: str | Path = "build/slides",
                 source_dir: str | Path | None = None, reveal_url: str | None = None) -> list[Path]:
    """reveal.js slides (nbconvert's ``reveal`` template) for every executed notebook.

    Notebooks without slide metadata get ``add_default_slide_metadata``. Code cells tagged
    ``hide-input`` show only their output on the slides (the site folds their code). reveal.js
    (from sphinx-revealjs) and MathJax 3 (from django-static-mathjax) are copied to
    ``out_dir/_static/`` and loaded from there, so the slides work with no network; pass
    ``reveal_url`` to load reveal.js from elsewhere instead. Returns the written
    ``*.slides.html`` paths.
    """
    from nbconvert import SlidesExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    site_assets.copy_assets(out, ("mathjax",) if reveal_url else ("mathjax", "reveal.js"))
    exporter = SlidesExporter(
        embed_images=True, mathjax_url=site_assets.mathjax_url(site_assets.STATIC),
        reveal_url_prefix=reveal_url or f"{site_assets.STATIC}/reveal.js",
        reveal_theme="white")  # "simple", nbconvert's default, imports Google fonts
    exporter.raw_template = site_assets.SLIDES_TEMPLATE
    # A long code cell whose plot matters is tagged "hide-input": the slide shows the plot only.
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_input_tags={HIDE_INPUT_TAG}, enabled=True), enabled=True)
    written = []
    for path in _notebooks(executed_dir):
        nb = nbformat.read(path, as_version=4)
        base = source_dir if source_dir is not None else path.parent
        for src in inline_markdown_images(nb, base):
            print(f"warning: {path.name}: image {src} not found under {base}")
        nb = _for_the_web(nb)
        add_default_slide_metadata(nb)
        body, _ = exporter.from_notebook_node(
            nb, resources={"metadata": {"name": notebook_title(nb, fallback=path.stem)}})
        target = out / f"{path.stem}.slides.html"
        target.write_text(body, encoding="utf-8")
        written.append(target)
    return written
