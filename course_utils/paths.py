"""Where the project keeps data and trained models.

``COURSE_DATA`` and ``COURSE_ARTIFACTS`` override the defaults, so notebooks, the command line
and the tests agree on one place whatever the working directory (Jupyter starts a kernel in the
notebook's folder; ``make`` sets both variables to folders of the checkout).
"""
from __future__ import annotations

import os
from pathlib import Path


def data_root() -> Path:
    """``$COURSE_DATA`` or ``./data``: the folder that holds (or will hold) ``MNIST/raw``."""
    return Path(os.environ.get("COURSE_DATA") or "data")


def artifacts_dir() -> Path:
    """``$COURSE_ARTIFACTS`` or ``./build/artifacts``: checkpoints and
    histories written by notebooks."""
    return Path(os.environ.get("COURSE_ARTIFACTS") or Path("build") / "artifacts")
