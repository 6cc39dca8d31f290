"""Publish executed notebooks: a static course site (``build/site``) and reveal.js slides.

Both read a folder of *executed* ``.ipynb`` files (``make test`` keeps the ones its nbval run
executed, see tests/nbval_capture.py; ``make site`` / ``make slides`` alone execute the notebooks
in the smoke profile first) and use nbconvert, which Jupyter already installs, with our own
templates (``course_utils.publish.site_assets``) so that nothing is loaded from the network:

* ``build_site(executed_dir, out_dir)``: one page per notebook (nbconvert's ``lab`` HTML, every
  image inlined) with a sidebar (index, search box, the notebooks, the page's table of contents
  from its headings) and previous / next links, an ``index.html`` in lecture order (file-name
  order ``00_``, ``01_``, ...) with each notebook's title (its first heading) and its "Run time"
  line, and ``_static/``: MathJax 3 (from django-static-mathjax), the CSS and JavaScript of the
  navigation, and ``search-index.js`` (one entry per section) for the client-side search.
* ``build_slides(executed_dir, out_dir)``: nbconvert's reveal.js slides per notebook, with
  reveal.js 5 (from sphinx-revealjs) and MathJax in ``out_dir/_static/``. Cells carry jupytext
  metadata ``slideshow={"slide_type": ...}``; a notebook without any gets a sensible default (a
  new slide at every ``#``/``##`` heading, a sub-slide at ``###``).

Markdown images with a relative path (``![..](../figures/gan_steps.png)``) are resolved against
``source_dir`` (the folder of the ``.py`` sources, ``notebooks/``) and inlined as data URIs. Live
widget outputs (tqdm's progress bars) are dropped: a static page cannot run them offline.

Command line: ``python -m course_utils site|slides --executed DIR --out DIR [--source notebooks]``
(``course_utils.cli``).
"""
from __future__ import annotations

import base64
import html
import json
import mimetypes
import re
import shutil
from pathlib import Path

import nbformat

from . import site_assets
from .editions import hide_solutions

__all__ = [
    "notebook_title", "run_time_line", "add_default_slide_metadata", "inline_markdown_images",
    "drop_widget_outputs", "drop_cdn_links", "page_headings", "search_entries", "build_site", "build_slides",
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


_CDN_LINK = re.compile(r"<link\b[^>]*\bhref=[\"']https?://[^\"']*font-awesome[^>]*>\s*", re.IGNORECASE)


def drop_cdn_links(nb: nbformat.NotebookNode) -> int:
    """Remove the Font Awesome ``<link>`` of matplotlib's HTML animations from outputs (in place).

    The stylesheet only draws the player's button icons; ``site_assets.ICON_CSS`` draws them
    offline. Returns how many links were removed.
    """
    removed = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = out.get("data", {})
            if "text/html" in data:
                text = data["text/html"] if isinstance(data["text/html"], str) else "".join(data["text/html"])
                new, n = _CDN_LINK.subn("", text)
                if n:
                    data["text/html"], removed = new, removed + n
    return removed


def _read(path: Path, source_dir: str | Path | None) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    missing = inline_markdown_images(nb, source_dir if source_dir is not None else path.parent)
    for src in missing:
        print(f"warning: {path.name}: image {src} not found under {source_dir or path.parent}")
    drop_widget_outputs(nb)
    drop_cdn_links(nb)
    return hide_solutions(nb)  # exercises and checks visible, each solution folded away


_HTML_HEADING = re.compile(r'<h([1-6])\s+id="([^"]+)"[^>]*>(.*?)</h\1>', re.DOTALL)
_ANCHOR_LINK = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SCRIPT_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1>", re.DOTALL | re.IGNORECASE)
TOC_PLACEHOLDER = "<!--genlab-toc-->"


def _text(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


def page_headings(body: str, max_level: int = 3) -> list[tuple[int, str, str]]:
    """``(level, id, inner HTML)`` of the headings of an nbconvert HTML page, in order."""
    return [(int(level), html.unescape(anchor), _ANCHOR_LINK.sub("", inner).strip())
            for level, anchor, inner in _HTML_HEADING.findall(body) if int(level) <= max_level]


def search_entries(body: str, page: str, title: str, max_chars: int = 1500) -> list[dict]:
    """One search entry per section (the text between two headings) of an nbconvert page."""
    main = body[body.find("<main"):] if "<main" in body else body
    main = _SCRIPT_STYLE.sub(" ", main)
    main = re.sub(r'src="data:[^"]*"', "", main)
    cuts = list(_HTML_HEADING.finditer(main))
    entries = []
    for i, match in enumerate(cuts):
        end = cuts[i + 1].start() if i + 1 < len(cuts) else len(main)
        text = _text(main[match.end():end])
        entries.append({"page": page, "title": _text(title), "anchor": html.unescape(match.group(2)),
                        "section": _text(_ANCHOR_LINK.sub("", match.group(3))),
                        "text": text[:max_chars]})
    if not cuts:
        entries.append({"page": page, "title": _text(title), "anchor": "", "section": "",
                        "text": _text(main)[:max_chars]})
    return entries


def _toc_html(headings: list[tuple[int, str, str]]) -> str:
    if not headings:
        return ""
    top = min(level for level, _, _ in headings)
    items = "\n".join(f'<li class="level-{level - top + 1}"><a href="#{html.escape(anchor)}">{inner}</a></li>'
                      for level, anchor, inner in headings)
    return f'<nav class="genlab-toc" aria-label="On this page"><h2>On this page</h2><ul>\n{items}\n</ul></nav>'


def _sidebar(site_title: str, pages: list[tuple[str, str]], current: str | None) -> str:
    """The sidebar: home link, search box, the notebooks (and the current page's TOC placeholder)."""
    items = []
    for href, name in pages:
        here = href == current
        li, aria, toc = (' class="current"', ' aria-current="page"', TOC_PLACEHOLDER) if here else ("", "", "")
        items.append(f'<li{li}><a href="{html.escape(href)}"{aria}>{_inline_markdown(name)}</a>{toc}</li>')
    return ('<nav class="genlab-sidebar" aria-label="Course">'
            f'<a class="genlab-home" rel="index" href="index.html">{html.escape(site_title)}</a>'
            '<div class="genlab-search" role="search"><input id="genlab-search" type="search" '
            'placeholder="Search the notebooks" aria-label="Search the notebooks">'
            '<ul id="genlab-search-results"></ul></div>'
            '<h2>Notebooks</h2><ol class="genlab-notebooks">' + "".join(items) + "</ol></nav>")


def _pager(pages: list[tuple[str, str]], i: int) -> str:
    prev = (f'<a class="prev" rel="prev" href="{html.escape(pages[i - 1][0])}">← '
            f'{_inline_markdown(pages[i - 1][1])}</a>') if i > 0 else "<span></span>"
    nxt = (f'<a class="next" rel="next" href="{html.escape(pages[i + 1][0])}">'
           f'{_inline_markdown(pages[i + 1][1])} →</a>') if i + 1 < len(pages) else "<span></span>"
    return (f'<nav class="genlab-pager" aria-label="Previous and next">{prev}'
            f'<a class="up" href="index.html">Index</a>{nxt}</nav>')


_INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{static}/genlab/site.css">
{mathjax}</head>
<body class="genlab-index">
{sidebar}
<main class="genlab-index-main">
<h1>{title}</h1>
<p>{intro}</p>
<ol class="notebooks">
{items}
</ol>
</main>
<script src="{static}/genlab/search-index.js"></script>
<script src="{static}/genlab/site.js"></script>
</body></html>
"""


def _write_site_static(out: Path, entries: list[dict]) -> None:
    static = site_assets.copy_assets(out, ("mathjax",))
    (static / "genlab").mkdir(parents=True, exist_ok=True)
    (static / "genlab" / "site.css").write_text(site_assets.SITE_CSS, encoding="utf-8")
    (static / "genlab" / "site.js").write_text(site_assets.SITE_JS, encoding="utf-8")
    (static / "genlab" / "search-index.js").write_text(
        "window.GENLAB_SEARCH = " + json.dumps(entries, ensure_ascii=False) + ";\n", encoding="utf-8")


def build_site(executed_dir: str | Path, out_dir: str | Path = "build/site",
               source_dir: str | Path | None = None, title: str = "genlab: deep generative models",
               intro: str = "The lecture's notebooks, executed, in lecture order.") -> Path:
    """Write ``out_dir/<notebook>.html`` for every executed notebook and ``out_dir/index.html``.

    Each page is nbconvert's ``lab`` HTML with every image inlined, a sidebar (index, search,
    the notebooks, the page's table of contents from its headings) and previous / next links.
    MathJax is served from ``out_dir/_static/mathjax`` (MathJax 3, copied from django-static-mathjax) and
    the search index is ``_static/genlab/search-index.js``: no page loads anything from the
    network. Returns the path of the index page.
    """
    from nbconvert import HTMLExporter

    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    notebooks = [(path, _read(path, source_dir)) for path in _notebooks(executed_dir)]
    pages = [(f"{path.stem}.html", notebook_title(nb, fallback=path.stem)) for path, nb in notebooks]
    exporter = HTMLExporter(template_name="lab", embed_images=True,
                            mathjax_url=site_assets.mathjax_url(site_assets.STATIC))
    exporter.raw_template = site_assets.PAGE_TEMPLATE
    items, entries = [], []
    for i, ((path, nb), (href, name)) in enumerate(zip(notebooks, pages)):
        resources = {"metadata": {"name": _text(_inline_markdown(name))},
                     "genlab": {"static": site_assets.STATIC, "sidebar": _sidebar(title, pages, href),
                                "pager": _pager(pages, i)}}
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        headings = page_headings(body)
        if headings and headings[0][0] == 1:
            headings = headings[1:]  # the page's title is already the sidebar's entry
        body = body.replace(TOC_PLACEHOLDER, _toc_html(headings), 1)
        (out / href).write_text(body, encoding="utf-8")
        entries += search_entries(body, href, name)
        runtime = run_time_line(nb)
        items.append(f'<li><a href="{html.escape(href)}">{_inline_markdown(name)}</a>'
                     + (f'<div class="runtime">{_inline_markdown(runtime)}</div>' if runtime else "")
                     + "</li>")
    _write_site_static(out, entries)
    index = out / "index.html"
    index.write_text(_INDEX.format(
        title=html.escape(title), intro=html.escape(intro), items="\n".join(items),
        static=site_assets.STATIC, mathjax=site_assets.mathjax_head(site_assets.STATIC),
        sidebar=_sidebar(title, pages, None)),
        encoding="utf-8")
    return index


def build_slides(executed_dir: str | Path, out_dir: str | Path = "build/slides",
                 source_dir: str | Path | None = None, reveal_url: str | None = None) -> list[Path]:
    """reveal.js slides (nbconvert's ``reveal`` template) for every executed notebook into ``out_dir``.

    Notebooks without slide metadata get ``add_default_slide_metadata``. Code cells tagged
    ``hide-input`` show only their output on the slides (the site shows the code). reveal.js
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
    exporter = SlidesExporter(embed_images=True, mathjax_url=site_assets.mathjax_url(site_assets.STATIC),
                              reveal_url_prefix=reveal_url or f"{site_assets.STATIC}/reveal.js",
                              reveal_theme="white")  # "simple", nbconvert's default, imports Google fonts
    exporter.raw_template = site_assets.SLIDES_TEMPLATE
    # A long code cell whose plot matters is tagged "hide-input": the slide shows the plot only.
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={HIDE_INPUT_TAG}, enabled=True),
                                   enabled=True)
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
