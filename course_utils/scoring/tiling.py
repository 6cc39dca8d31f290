"""Memory-bounded block arithmetic for pairwise scores: tile sizes, dtypes and float64 sums.

An n x m matrix of kernel values or distances is never built. It is visited tile by tile;
a tile's size follows from a memory budget (``DEFAULT_MEMORY_BUDGET`` unless told otherwise), so
memory stays bounded whatever n and m are, and the result does not depend on the tile size up
to rounding.

Precision: tiles are computed in ``float32`` by default (a float64 matrix product is several
times slower on CPUs and impossible on Apple's MPS) and every sum is accumulated in ``float64``.
On CUDA and the CPU ``dtype=torch.float64`` computes the tiles in float64 as well. MPS has no
float64 at all, so there each tile is reduced to float32 row sums on the device and those are
summed in float64 on the CPU: the same code path, with the last step on the host.
"""
from __future__ import annotations

import math
from collections.abc import Iterator

import torch

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "compute_dtype",
    "tile_shape",
    "square_tile",
    "chunks",
    "Accumulator",
    "to_float64",
]

DEFAULT_MEMORY_BUDGET = 128 * 2**20  # bytes for the temporary tiles of one computation


def compute_dtype(device: torch.device, dtype: torch.dtype | None = None) -> torch.dtype:
    """The dtype of the tiles: ``float32`` by default, ``float64`` on request (not on MPS)."""
    if dtype is None:
        return torch.float32
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    if dtype == torch.float64 and device.type == "mps":
        raise ValueError(
            "MPS devices have no float64: use dtype=torch.float32 (sums are still accumulated "
            "in float64 on the CPU) or compute on the CPU."
        )
    return dtype


def _entries(itemsize: int, buffers: int, memory_budget: int | None) -> int:
    budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else int(memory_budget)
    if budget < 1:
        raise ValueError(f"memory_budget must be a positive number of bytes, got {memory_budget}")
    return max(1, budget // (itemsize * buffers))


def _check_block_size(block_size: int | None) -> None:
    if block_size is not None and (not isinstance(block_size, int) or block_size < 1):
        raise ValueError(f"block_size must be a positive integer, got {block_size!r}")


def tile_shape(
    n_rows: int,
    n_cols: int,
    itemsize: int,
    buffers: int,
    memory_budget: int | None = None,
    block_size: int | None = None,
) -> tuple[int, int]:
    """Rows and columns of a tile such that ``buffers`` tiles of ``itemsize`` fit the budget.

    ``block_size`` overrides the budget with square ``block_size`` x ``block_size`` tiles.
    Tiles are as wide as possible (all ``n_cols`` if that fits), then as tall as the budget allows.
    """
    _check_block_size(block_size)
    if block_size is not None:
        return min(n_rows, block_size), min(n_cols, block_size)
    entries = _entries(itemsize, buffers, memory_budget)
    # Square tiles, or wider ones when all rows fit at once (few real or few fake samples).
    cols = max(1, min(n_cols, max(math.isqrt(entries), entries // max(n_rows, 1))))
    rows = max(1, min(n_rows, entries // cols))
    return rows, cols


def square_tile(
    n: int, itemsize: int, buffers: int, memory_budget: int | None = None,
    block_size: int | None = None
) -> int:
    """Side of the square tiles of a symmetric n x n matrix (diagonal tiles stay aligned)."""
    _check_block_size(block_size)
    if block_size is not None:
        return min(n, block_size)
    return max(1, min(n, math.isqrt(_entries(itemsize, buffers, memory_budget))))


def chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` of consecutive chunks of ``size`` covering ``range(n)``."""
    for start in range(0, n, size):
        yield start, min(n, start + size)


def to_float64(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float64, on its own device, or on the CPU if the device has no float64 (MPS)."""
    if x.device.type == "mps":
        x = x.to("cpu")
    return x.to(torch.float64)


class Accumulator:
    """A float64 running sum of tiles, kept on the tile's device (the CPU for MPS).

    ``add(tile, weight)`` adds ``weight * tile.sum()``: the tile is first reduced to row sums in
    its own dtype (each a sum of at most one tile row), which are then summed in float64. No
    float64 copy of the tile is made, and there is one host sync in ``value()``, not one per tile.
    """

    def __init__(self) -> None:
        self._total: torch.Tensor | None = None

    def add(self, tile: torch.Tensor, weight: float = 1.0) -> None:
        part = to_float64(tile.sum(dim=-1)).sum()
        if weight != 1.0:
            part = part * weight
        self._total = part if self._total is None else self._total + part

    def value(self) -> float:
        return 0.0 if self._total is None else float(self._total.item())
