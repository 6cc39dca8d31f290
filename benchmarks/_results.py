"""Where a benchmark's latest output goes: ``benchmarks/results/<name>.md``, linked from the guide.

A benchmark prints its table and PASS/FAIL lines as usual; wrapped in ``recorded(name)`` the same
text is also written, with the date and the exact command that reproduces it, to its results
file (overwritten by the next run: the guide never holds a stale copy of it)::

    with recorded("diffusion"):
        main()
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import platform
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NoReturn

RESULTS = Path(__file__).resolve().with_name("results")


class _Tee(io.TextIOBase):
    def __init__(self, *streams: io.TextIOBase) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


def _command() -> str:
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(RESULTS.parents[1])
    except ValueError:
        pass
    return "python " + " ".join(shlex.quote(a) for a in [str(script), *sys.argv[1:]])


@contextlib.contextmanager
def recorded(name: str, results_dir: str | Path | None = None) -> Iterator[None]:
    """Print as usual and also write what was printed to ``results/<name>.md`` when the block
    ends; a run that raises (or is interrupted) leaves the previous results file as it was."""
    captured = io.StringIO()
    stdout = sys.stdout
    sys.stdout = _Tee(stdout, captured)
    try:
        yield
    finally:
        sys.stdout = stdout
    folder = Path(results_dir) if results_dir is not None else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = (f"{platform.machine()}, {os.cpu_count()} CPU cores, "
               f"Python {platform.python_version()}")
    # two sections, so that the page has contents on the course site like every other page
    text = (f"# `{name}`: latest output\n\n## How it was run\n\n{when} on {machine}:\n\n"
            f"    {_command()}\n\n## Output\n\n```text\n{captured.getvalue().rstrip()}\n```\n")
    (folder / f"{name}.md").write_text(text)


def print_checks(checks: Iterable[tuple[str, bool]]) -> bool:
    """Print one ``PASS``/``FAIL`` line per (text, ok) goal; True when every goal passed."""
    oks = []
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}: {text}")
        oks.append(bool(ok))
    return all(oks)


def run_recorded(name: str, main: Callable[[], int]) -> NoReturn:
    """A benchmark's entry point: ``main()`` inside ``recorded(name)``, its return code the exit
    status."""
    with recorded(name):
        code = main()
    sys.exit(code)
