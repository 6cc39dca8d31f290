"""What instructors present and students read: the lecture's figures, slides and the course site.

* ``figures`` -- the four lecture diagrams drawn with matplotlib, sample GIFs;
* ``site`` -- a static site and reveal.js slides from executed notebooks (nbconvert).
"""
