"""``python -m course_utils ...``: the same command as the installed
``genlab`` (``course_utils.cli``)."""
import sys

from .cli import main

sys.exit(main(prog="python -m course_utils"))
