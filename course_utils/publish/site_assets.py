"""What the course site and the slides load in the browser, all of it served from the build folder.

* ``local_asset_dirs()``: where the installed packages keep MathJax 3.2 (``django-static-mathjax``,
  which ships MathJax's own build and licence, Apache-2.0, and depends on nothing; Django is not
  needed) and reveal.js 5 (``sphinx-revealjs``, Apache-2.0, which ships reveal.js's ``dist/`` and
  ``plugin/``; reveal.js is MIT). ``copy_assets(out_dir)`` copies what a page needs to
  ``out_dir/_static/``, so slides, pages and index need no network.
* The nbconvert templates (``PAGE_TEMPLATE``, ``SLIDES_TEMPLATE``) extend nbconvert's ``lab`` and
  ``reveal`` templates and drop everything they would load from a CDN: require.js, jQuery,
  mermaid, the widget manager, and reveal.js / MathJax themselves (pointed at ``_static``).
* ``SITE_CSS`` and ``SITE_JS``: the sidebar (index link, notebooks, the page's table of
  contents), previous / next links, and a client-side search over ``search-index.js``.
"""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

STATIC = "_static"
MATHJAX_SCRIPT = "es5/tex-chtml-full.js"  # MathJax 3: TeX input with every extension, HTML output

# name under _static/: (importable package, folder inside it, marker file, what, PyPI name)
_ASSETS = {
    "mathjax": ("mathjax", "static/mathjax", MATHJAX_SCRIPT, "MathJax 3", "django-static-mathjax"),
    "reveal.js": ("sphinx_revealjs", "_static/revealjs", "dist/reveal.js", "reveal.js 5", "sphinx-revealjs"),
}
# What of each is copied (MathJax's package also holds its sources, SVG builds, speech rules).
_COPY = {
    "mathjax": ["LICENSE", "README.md", MATHJAX_SCRIPT, "es5/output/chtml.js", "es5/output/chtml",
                "es5/input", "es5/ui", "es5/a11y", "es5/adaptors"],
    "reveal.js": ["LICENSE", "dist", "plugin"],
}


def local_asset_dirs() -> dict[str, Path]:
    """``{"mathjax": MathJax's folder, "reveal.js": reveal.js's folder}`` in the installed packages.

    Found without importing them (sphinx-revealjs would import Sphinx). A missing package is an
    error that says what to install.
    """
    found = {}
    for name, (package, sub, marker, what, dist) in _ASSETS.items():
        spec = importlib.util.find_spec(package)
        locations = list(spec.submodule_search_locations or []) if spec else []
        folder = Path(locations[0]) / sub if locations else None
        if folder is None or not (folder / marker).is_file():
            raise RuntimeError(f"{what} is missing: the site and the slides serve it from the "
                               f"package {dist} (pip install {dist}, or pip install -e . here).")
        found[name] = folder
    return found


def copy_assets(out_dir: str | Path, names: tuple[str, ...] = ("mathjax", "reveal.js")) -> Path:
    """Copy MathJax and/or reveal.js into ``out_dir/_static/<name>/`` and return ``_static``."""
    static = Path(out_dir) / STATIC
    sources = local_asset_dirs()
    ignore = shutil.ignore_patterns("*.map", "*.esm.js", "__pycache__")
    for name in names:
        target = static / name
        if target.exists():
            shutil.rmtree(target)
        for part in _COPY[name]:
            src, dst = sources[name] / part, target / part
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, ignore=ignore)
            elif src.is_file():
                shutil.copy2(src, dst)
    return static


def mathjax_url(prefix: str = STATIC) -> str:
    return f"{prefix}/mathjax/{MATHJAX_SCRIPT}"


# MathJax 3 with the delimiters and numbering of nbconvert's MathJax 2 configuration.
_MATHJAX_CONFIG = r"""<script>
window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']],
        processEscapes: true, processEnvironments: true, tags: 'ams'}
};
</script>
"""
_MATHJAX = _MATHJAX_CONFIG + '<script defer src="{{ resources.mathjax_url }}"></script>\n'


def mathjax_head(prefix: str = STATIC) -> str:
    """The <script> tags that load the local MathJax, for pages not made by nbconvert."""
    return _MATHJAX_CONFIG + f'<script defer src="{mathjax_url(prefix)}"></script>' + "\n"

# Matplotlib's HTML animations (``to_jshtml``) style their buttons with Font Awesome from a CDN;
# site.drop_cdn_links removes that link and these rules draw the buttons with plain characters.
ICON_CSS = """
.anim-buttons i.fa { font-style: normal; font-family: system-ui, sans-serif; }
.fa-fast-backward::before { content: "|\\25C0\\25C0"; } .fa-step-backward::before { content: "\\25C0|"; }
.fa-play::before { content: "\\25B6"; } .fa-pause::before { content: "||"; }
.fa-step-forward::before { content: "|\\25B6"; } .fa-fast-forward::before { content: "\\25B6\\25B6|"; }
.fa-minus::before { content: "\\2212"; } .fa-plus::before { content: "+"; }
.fa-flip-horizontal { display: inline-block; transform: scaleX(-1); }
"""

# Extends nbconvert's lab template (template_name="lab"): no CDN, a sidebar, prev / next links.
# resources["genlab"] holds the HTML of the sidebar and the pager and the path to _static.
PAGE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
""" + _MATHJAX + """{%- endblock html_head_js_mathjax -%}
{%- block html_head_css -%}
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{ resources.genlab.static }}/genlab/site.css">
{%- endblock html_head_css -%}
{%- block body_header -%}
<body class="jp-Notebook genlab-page" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
{{ resources.genlab.sidebar }}
<main class="genlab-main">
{{ resources.genlab.pager }}
{%- endblock body_header -%}
{% block body_footer %}
{{ resources.genlab.pager }}
</main>
<script src="{{ resources.genlab.static }}/genlab/search-index.js"></script>
<script src="{{ resources.genlab.static }}/genlab/site.js"></script>
</body>
{% endblock body_footer %}
"""

# Extends nbconvert's reveal template (template_name="reveal"): reveal.js and its notes plugin
# loaded with plain <script> tags (their UMD builds define window.Reveal / RevealNotes), so
# neither require.js nor jQuery is needed.
SLIDES_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}
""" + _MATHJAX + """{%- endblock html_head_js_mathjax -%}
{%- block html_head_css -%}<link rel="icon" href="data:,">
<style>""" + ICON_CSS + """</style>{%- endblock html_head_css -%}
{% block footer_js %}
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script src="{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({
  controls: true, progress: true, history: true, hash: true,
  transition: "{{ resources.reveal.transition | default('slide', true) }}",
  slideNumber: "{{ resources.reveal.number | default('', true) }}",
  width: {{ resources.reveal.width | default('960', true) }},
  height: {{ resources.reveal.height | default('700', true) }},
  plugins: [RevealNotes]
});
</script>
{% endblock footer_js %}
"""

SITE_CSS = """
body.genlab-page, body.genlab-index { margin: 0; }
.genlab-sidebar { position: fixed; top: 0; left: 0; bottom: 0; width: 17rem; overflow-y: auto;
  box-sizing: border-box; padding: 1rem; background: #f7f7f9; border-right: 1px solid #ddd;
  font: 14px/1.4 system-ui, sans-serif; }
.genlab-sidebar a { color: #1a4f8b; text-decoration: none; }
.genlab-sidebar a:hover { text-decoration: underline; }
.genlab-home { display: block; font-weight: 700; font-size: 1.1rem; margin-bottom: 0.6rem; }
.genlab-sidebar h2 { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.05em;
  color: #666; margin: 1rem 0 0.3rem; }
.genlab-sidebar ol, .genlab-sidebar ul { margin: 0; padding-left: 1.1rem; }
.genlab-sidebar li { margin: 0.15rem 0; }
.genlab-sidebar li.current > a { font-weight: 700; color: #000; }
.genlab-toc li.level-2 { margin-left: 0.8rem; } .genlab-toc li.level-3 { margin-left: 1.6rem; }
.genlab-search input { width: 100%; box-sizing: border-box; padding: 0.35rem; font-size: 14px; }
.genlab-search ul { list-style: none; padding: 0; margin: 0.3rem 0 0; }
.genlab-search li { margin: 0.35rem 0; } .genlab-search small { color: #555; display: block; }
.genlab-main { margin-left: 17rem; padding: 0.5rem 1.5rem 2rem; max-width: 70rem; }
.genlab-pager { display: flex; justify-content: space-between; gap: 1rem; margin: 0.5rem 0;
  padding: 0.5rem 0; border-bottom: 1px solid #eee; font: 14px system-ui, sans-serif; }
.genlab-pager + * { clear: both; }
.genlab-pager a { color: #1a4f8b; text-decoration: none; }
.genlab-pager .up { text-align: center; flex: 1; }
.genlab-index-main { margin-left: 17rem; padding: 1rem 2rem; max-width: 52rem;
  font-family: system-ui, sans-serif; line-height: 1.45; color: #222; }
.genlab-index-main li { margin: 0 0 1rem 0; } .genlab-index-main a { font-weight: 600; }
.genlab-index-main .runtime { color: #555; font-size: 0.92rem; }
.genlab-index-main code { background: #f2f2f2; padding: 0 0.2rem; }
@media (max-width: 800px) { .genlab-sidebar { position: static; width: auto; }
  .genlab-main, .genlab-index-main { margin-left: 0; } }
@media print { .genlab-sidebar, .genlab-pager { display: none; } .genlab-main { margin: 0; } }
""" + ICON_CSS

# Client-side search over window.GENLAB_SEARCH ([{page, title, section, anchor, text}], written
# by build_site into search-index.js: a script, not JSON, so that it also works from file://).
SITE_JS = r"""
(function () {
  var input = document.getElementById('genlab-search');
  var list = document.getElementById('genlab-search-results');
  if (!input || !list) { return; }
  var entries = window.GENLAB_SEARCH || [];
  function escape(s) {
    return s.replace(/[&<>"]/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; });
  }
  function snippet(text, term) {
    var i = text.toLowerCase().indexOf(term);
    var start = Math.max(0, i - 40);
    return (start > 0 ? '…' : '') + text.slice(start, start + 120) + '…';
  }
  function search() {
    var terms = input.value.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 1; });
    list.innerHTML = '';
    if (!terms.length) { return; }
    var hits = entries.filter(function (e) {
      var hay = (e.title + ' ' + e.section + ' ' + e.text).toLowerCase();
      return terms.every(function (t) { return hay.indexOf(t) >= 0; });
    }).slice(0, 25);
    if (!hits.length) { list.innerHTML = '<li class="none">No match.</li>'; return; }
    list.innerHTML = hits.map(function (e) {
      var href = e.page + (e.anchor ? '#' + e.anchor : '');
      return '<li><a href="' + escape(href) + '">' + escape(e.section || e.title) + '</a>'
        + '<small>' + escape(e.title) + ': ' + escape(snippet(e.text, terms[0])) + '</small></li>';
    }).join('');
  }
  input.addEventListener('input', search);
  var query = new URLSearchParams(window.location.search).get('q');
  if (query) { input.value = query; search(); }
})();
"""
