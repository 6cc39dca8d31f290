"""``make lab``: JupyterLab with the repository as the server's root, opened on ``notebooks/``.

The notebooks show their diagrams with ``![..](../figures/x.png)``; JupyterLab serves only files
under its root, so a root of ``notebooks/`` breaks every one of them. The root is the repository
and the file browser starts in ``notebooks/``. The ``.py`` sources open as notebooks through
jupytext's "Jupytext Notebook" viewer, made the default for Python files in JupyterLab's user
settings (what ``jupytext-config set-default-viewer python`` does).

``genlab lab [extra jupyter lab options]`` (``run_lab``) is what ``make lab`` runs;
``lab_command()`` is the same command line, for the browser test.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_IN = "notebooks"


def set_default_viewer() -> Path:
    """Make jupytext's notebook view the default for ``.py`` files, as ``jupytext-config
    set-default-viewer python`` does: in ``<jupyter config
    dir>/labconfig/default_setting_overrides.json`` (``$JUPYTER_CONFIG_DIR``
    moves it). Returns that file."""
    from jupyter_core.paths import jupyter_config_dir
    from jupytext_config.labconfig import LabConfig

    path = Path(jupyter_config_dir()) / "labconfig" / "default_setting_overrides.json"
    LabConfig(settings_file=path).read().set_default_viewers(["python"]).write()
    return path


def lab_command(root: str | Path = ROOT, start_in: str = START_IN, *extra: str) -> list[str]:
    """``jupyter lab`` with ``root`` as the server's root, opened on ``root/start_in``."""
    # CI, containers
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={Path(root).resolve()}",
            f"--ServerApp.default_url=/lab/tree/{start_in}", *as_root, *extra]


def run_lab(extra: list[str] | tuple[str, ...] = ()) -> int:
    """Set the default viewer, then run JupyterLab as ``lab_command`` says; its exit status."""
    set_default_viewer()
    return subprocess.call(lab_command(ROOT, START_IN, *extra))
