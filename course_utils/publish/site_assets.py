"""What the course site and the slides load in the browser, all of it served from the build folder.

* ``local_asset_dirs()``: where the installed packages keep MathJax 3.2 (``django-static-mathjax``,
  which ships MathJax's own build and licence, Apache-2.0, and depends on nothing; Django is not
  needed) and reveal.js 5 (``sphinx-revealjs``, Apache-2.0, which ships reveal.js's ``dist/`` and
  ``plugin/``; reveal.js is MIT). ``copy_assets(out_dir)`` copies what a page needs to
  ``out_dir/_static/``, so slides and site need no network. (The site's theme, fonts and icons
  come with sphinx-book-theme; Sphinx copies them.)
* ``SLIDES_TEMPLATE`` extends nbconvert's ``reveal`` template and drops everything it would load
  from a CDN: require.js, jQuery, the widget manager, and reveal.js / MathJax themselves (pointed
  at ``_static``).
* ``ICON_CSS`` draws the buttons of matplotlib's HTML animations on the slides without Font
  Awesome's CDN (on the site the theme's own Font Awesome does); ``FAVICON_SVG`` is the site's
  icon.
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
    "reveal.js": ("sphinx_revealjs", "_static/revealjs", "dist/reveal.js", "reveal.js 5",
                  "sphinx-revealjs"),
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


# The site's icon (a browser asks for /favicon.ico otherwise, a failed request in the test).
FAVICON_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">
<circle cx="8" cy="8" r="7.5" fill="#1a4f8b"/>
<text x="8" y="12" font-family="sans-serif" font-size="11" text-anchor="middle" fill="#fff">g</text>
</svg>
"""

# Matplotlib's HTML animations (``to_jshtml``) style their buttons with Font Awesome from a CDN;
# site.drop_cdn_links removes that link and these rules draw the buttons with plain characters.
ICON_CSS = """
.anim-buttons i.fa { font-style: normal; font-family: system-ui, sans-serif; }
.fa-fast-backward::before { content: "|\\25C0\\25C0"; }
.fa-step-backward::before { content: "\\25C0|"; }
.fa-play::before { content: "\\25B6"; } .fa-pause::before { content: "||"; }
.fa-step-forward::before { content: "|\\25B6"; }
.fa-fast-forward::before { content: "\\25B6\\25B6|"; }
.fa-minus::before { content: "\\2212"; } .fa-plus::before { content: "+"; }
.fa-flip-horizontal { display: inline-block; transform: scaleX(-1); }
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
