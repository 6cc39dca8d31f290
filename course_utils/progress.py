"""Progress bars: tqdm's when it is installed, silent stand-ins when it is not.

Every loop of the package that runs for more than a few seconds shows a bar (``tqdm.auto``: a
widget in Jupyter, text in a terminal). tqdm is a dependency of the course, but not of torch: a
machine that has only torch and numpy (a GPU lent for a few minutes, where
``scripts/gpu_check.py`` runs) can still import and run everything, without bars. Import the
bars from here, never from tqdm directly (``tests/test_device_consistency.py`` checks it).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["tqdm", "trange", "HAS_TQDM"]


class _SilentBar:
    """The part of tqdm's bar the package uses, doing nothing: iterating yields the items."""

    def __init__(self, iterable: Iterable[Any] | None = None, *args: Any, **kwargs: Any) -> None:
        self.iterable = iterable

    def __iter__(self) -> Iterator[Any]:
        return iter(self.iterable if self.iterable is not None else ())

    def __len__(self) -> int:
        return len(self.iterable) if self.iterable is not None else 0  # type: ignore[arg-type]

    def __enter__(self) -> _SilentBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int = 1) -> None:
        """Advance the bar by ``n`` (nothing to show)."""

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        """Show numbers after the bar (nothing to show)."""

    def close(self) -> None:
        """Close the bar (nothing to close)."""


def _silent_trange(*args: int, **kwargs: Any) -> _SilentBar:
    return _SilentBar(range(*args))


try:
    from tqdm.auto import tqdm, trange

    HAS_TQDM = True
except ImportError:  # only torch and numpy here: loops run without bars
    tqdm, trange = _SilentBar, _silent_trange  # type: ignore[assignment,misc]
    HAS_TQDM = False
