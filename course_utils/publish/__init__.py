"""What instructors present and students read: the lecture's figures, slides and the course site.

* ``figures`` -- the four lecture diagrams drawn with matplotlib, sample GIFs;
* ``site`` -- the course site (Sphinx, MyST-NB, sphinx-book-theme) and reveal.js slides
  (nbconvert) from executed notebooks; ``site_assets`` -- what they load, served offline;
* ``catalogue`` -- the notebooks in lecture order: what each teaches and how long it runs;
* ``editions`` -- the student edition, and the solutions folded on the site and the slides;
* ``lab`` -- JupyterLab as ``make lab`` starts it.
"""
