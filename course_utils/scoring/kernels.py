"""Kernels, bandwidths and memory-bounded kernel sums (the arithmetic under every MMD score).

Kernels (lecture section "Evaluating GANs: maximum mean discrepancy"):

* ``gaussian``:   k(x, y) = exp(-|x - y|^2 / (2 h^2)), h the *bandwidth*; with several
  bandwidths h_1..h_L the kernel is their average (1/L) sum_l exp(-|x - y|^2 / (2 h_l^2));
* ``polynomial``: k(x, y) = (x.y / d + 1)^3, the kernel of the Kernel Inception Distance
  (Binkowski et al., 2018);
* ``linear``:     k(x, y) = x.y, for which MMD is the distance between the two means.

Squared distances come from |x - y|^2 = |x|^2 + |y|^2 - 2 x.y, one matrix product per tile. For
distance-based kernels both sets are first shifted by the same vector (the mean of the reals):
distances do not change, but the norms shrink, which keeps the float32 cancellation error small.

Bandwidth heuristics for the Gaussian kernel, computed on the reference (real) set only, so that
the kernel does not depend on the samples being scored:

* ``"median"``: h = the median distance |x_i - x_j| over pairs i < j of (a subsample of) the
  reals -- the median heuristic of Gretton et al. (2012);
* ``"mean"``:   h^2 = s, the mean squared distance over *all* n^2 real-real pairs (the zero
  diagonal included) -- the lecture's ``scale = Mxx.mean()``. Since
  s = (1/n^2) sum_ij |x_i - x_j|^2 = (2/n) sum_i |x_i - xbar|^2, it costs O(n d), not O(n^2 d).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from ..progress import tqdm
from .tiling import Accumulator, chunks, square_tile, tile_shape, to_float64

__all__ = [
    "KERNELS",
    "Kernel",
    "Samples",
    "PairSums",
    "make_kernel",
    "resolve_bandwidths",
    "mean_squared_distance",
    "median_distance",
    "column_mean",
    "prepare",
    "kernel_sum",
    "kernel_matmul",
    "squared_distance_tile",
]

KERNELS = ("gaussian", "polynomial", "linear")
MEDIAN_SUBSAMPLE = 1_000
# multiply-adds above which a progress bar is shown (several seconds on a CPU)
_PROGRESS_WORK = 5e10


@dataclass(frozen=True)
class Kernel:
    """A kernel by name; ``bandwidths`` (the h_l) only for the Gaussian kernel."""

    name: str
    bandwidths: tuple[float, ...] = ()

    @property
    def uses_distances(self) -> bool:
        return self.name == "gaussian"

    @property
    def buffers(self) -> int:
        """Tile-sized temporaries alive at once (for the memory budget), with a margin of one."""
        return 3 if len(self.bandwidths) > 1 else 2


class Samples(NamedTuple):
    """A sample set ready for tiles: ``x`` (n, d) in the tile dtype on the compute device, and
    ``sq`` = |x_i|^2 (n,) for distance-based kernels (``None`` otherwise)."""

    x: torch.Tensor
    sq: torch.Tensor | None


class PairSums(NamedTuple):
    """Sum of k(x_i, x_j) over all pairs, and over the diagonal i = j
    alone (for the U-statistic)."""

    total: float
    diagonal: float


def make_kernel(kernel: str, bandwidth: Sequence[float] | float | str | None,
                reference: torch.Tensor, seed: int = 0) -> Kernel:
    """Check ``kernel`` and resolve ``bandwidth`` (on ``reference``) into a ``Kernel``."""
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {', '.join(KERNELS)}; got {kernel!r}")
    if kernel != "gaussian":
        if bandwidth is not None:
            raise ValueError(f"The {kernel} kernel has no bandwidth; leave bandwidth=None.")
        return Kernel(kernel)
    return Kernel("gaussian", resolve_bandwidths(bandwidth, reference, seed))


def resolve_bandwidths(bandwidth: Sequence[float] | float | str | None, reference: torch.Tensor,
                       seed: int = 0) -> tuple[float, ...]:
    """Bandwidths h_l as positive floats: a number, a list (multi-scale),
    ``"median"`` (default) or ``"mean"``."""
    if bandwidth is None or isinstance(bandwidth, str):
        rule = "median" if bandwidth is None else bandwidth
        if rule == "median":
            h = median_distance(reference, seed=seed)
        elif rule == "mean":
            h = math.sqrt(mean_squared_distance(reference))
        else:
            raise ValueError(
                "bandwidth must be a positive number, a list of them, 'median' or 'mean'; got "
                f"{bandwidth!r}"
            )
        if not h > 0:
            raise ValueError(
                f"The {rule!r} bandwidth of the real samples is 0: they are all identical, so "
                "there is no scale to measure distances against. Pass a number instead."
            )
        return (h,)
    values = [bandwidth] if isinstance(bandwidth, (int, float)) else list(bandwidth)
    if not values:
        raise ValueError("bandwidth is an empty list; give at least one positive number.")
    out = []
    for h in values:
        if isinstance(h, bool) or not isinstance(h, (int, float)) or not math.isfinite(h) or h <= 0:
            raise ValueError(f"Every bandwidth must be a positive finite number; got {h!r}")
        out.append(float(h))
    return tuple(out)


def _row_chunk(x: torch.Tensor, memory_budget: int | None = None) -> int:
    budget = memory_budget or 32 * 2**20
    return max(1, min(len(x), budget // (16 * max(x.shape[1], 1))))


def column_mean(x: torch.Tensor) -> torch.Tensor:
    """The mean vector xbar in float64, summed chunk by chunk (no float64 copy of ``x``)."""
    total = None
    for a, b in chunks(len(x), _row_chunk(x)):
        part = to_float64(x[a:b]).sum(dim=0)
        total = part if total is None else total + part
    return total / len(x)


def mean_squared_distance(x: torch.Tensor) -> float:
    """s = (1/n^2) sum_ij |x_i - x_j|^2 = (2/n) sum_i |x_i - xbar|^2 in float64, in O(n d).

    This is the lecture's ``scale = Mxx.mean()`` (the diagonal zeros included) without the
    n x n matrix ``Mxx``.
    """
    mean = column_mean(x)
    total = torch.zeros((), dtype=torch.float64, device=mean.device)  # summed there, read once
    for a, b in chunks(len(x), _row_chunk(x)):
        total += ((to_float64(x[a:b]) - mean) ** 2).sum()
    return 2.0 * float(total) / len(x)


def median_distance(x: torch.Tensor, max_samples: int = MEDIAN_SUBSAMPLE, seed: int = 0) -> float:
    """Median of |x_i - x_j| over pairs i < j of at most ``max_samples`` rows (seeded subsample)."""
    if len(x) < 2:
        raise ValueError("The median bandwidth needs at least two real samples.")
    if len(x) > max_samples:
        idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:max_samples]
        x = x[idx.to(x.device)]
    z = to_float64(x).cpu()
    sq = (z * z).sum(dim=1)
    d2 = (sq[:, None] + sq[None, :] - 2 * z @ z.T).clamp_min_(0)
    i, j = torch.triu_indices(len(z), len(z), offset=1)
    return float(np.median(np.sqrt(d2[i, j].numpy())))


def prepare(x: torch.Tensor, kernel: Kernel, device: torch.device, dtype: torch.dtype,
            center: torch.Tensor | None = None) -> Samples:
    """Move ``x`` to ``device``/``dtype`` for tiles; shift it by ``center`` for distance kernels."""
    if not kernel.uses_distances:
        return Samples(x.to(device=device, dtype=dtype).contiguous(), None)
    out = torch.empty(x.shape, dtype=dtype, device=device)
    sq = torch.empty(len(x), dtype=dtype, device=device)
    shift = center.to(device=device, dtype=dtype) if center is not None else None
    for a, b in chunks(len(x), _row_chunk(x)):
        part = x[a:b].to(device=device, dtype=dtype)
        if shift is not None:
            part = part - shift
        out[a:b] = part
        sq[a:b] = (part * part).sum(dim=1)
    return Samples(out, sq)


def squared_distance_tile(a: Samples, b: Samples, rows: tuple[int, int], cols: tuple[int, int],
                          same: bool = False) -> torch.Tensor:
    """|a_i - b_j|^2 for a tile, as |a_i|^2 + |b_j|^2 - 2 a_i.b_j, clamped at 0.

    ``same`` marks a diagonal tile of a set against itself: its diagonal is set to exactly 0.
    """
    xa, xb = a.x[rows[0]:rows[1]], b.x[cols[0]:cols[1]]
    # A contiguous transposed operand is several times faster for skinny products (few fakes).
    d2 = torch.addmm(b.sq[cols[0]:cols[1]].unsqueeze(0), xa, xb.t().contiguous(), alpha=-2.0)
    d2.add_(a.sq[rows[0]:rows[1]].unsqueeze(1)).clamp_min_(0.0)
    if same:
        d2.fill_diagonal_(0.0)
    return d2


def kernel_tile(kernel: Kernel, a: Samples, b: Samples, rows: tuple[int, int],
                cols: tuple[int, int], same: bool = False) -> torch.Tensor:
    """k(a_i, b_j) for one tile, in the tile dtype."""
    if kernel.name == "gaussian":
        d2 = squared_distance_tile(a, b, rows, cols, same)
        gammas = [1.0 / (2.0 * h * h) for h in kernel.bandwidths]
        if len(gammas) == 1:
            return d2.mul_(-gammas[0]).exp_()
        out = (d2 * -gammas[0]).exp_()
        for gamma in gammas[1:]:
            out.add_((d2 * -gamma).exp_())
        return out.div_(len(gammas))
    prod = a.x[rows[0]:rows[1]] @ b.x[cols[0]:cols[1]].t().contiguous()
    if kernel.name == "polynomial":
        return prod.mul_(1.0 / a.x.shape[1]).add_(1.0).pow_(3)
    return prod  # linear


def _bar(total: int, work: float, progress: bool | None, desc: str) -> tqdm:
    show = work > _PROGRESS_WORK if progress is None else progress
    return tqdm(total=total, desc=desc, unit="tile", leave=False, disable=not show or total < 2)


def kernel_sum(kernel: Kernel, a: Samples, b: Samples | None = None, *,
               memory_budget: int | None = None, block_size: int | None = None,
               progress: bool | None = None) -> PairSums:
    """sum_{i,j} k(a_i, b_j) in float64, tile by tile; ``b=None`` means ``a`` against itself.

    Against itself only the tiles on and above the diagonal are computed (k is symmetric) and
    the diagonal sum sum_i k(a_i, a_i) is returned as well.
    """
    itemsize = a.x.element_size()
    total, diagonal = Accumulator(), Accumulator()
    n, d = a.x.shape
    if b is None:
        side = square_tile(n, itemsize, kernel.buffers, memory_budget, block_size)
        spans = list(chunks(n, side))
        pairs = [(i, j) for i in range(len(spans)) for j in range(i, len(spans))]
        with _bar(len(pairs), n * n * d / 2, progress, "kernel tiles") as bar:
            for i, j in pairs:
                tile = kernel_tile(kernel, a, a, spans[i], spans[j], same=i == j)
                if i == j:
                    diagonal.add(tile.diagonal().unsqueeze(0))
                total.add(tile, 1.0 if i == j else 2.0)
                bar.update()
        return PairSums(total.value(), diagonal.value())
    m = len(b.x)
    rows, cols = tile_shape(n, m, itemsize, kernel.buffers, memory_budget, block_size)
    spans_r, spans_c = list(chunks(n, rows)), list(chunks(m, cols))
    with _bar(len(spans_r) * len(spans_c), n * m * d, progress, "kernel tiles") as bar:
        for r in spans_r:
            for c in spans_c:
                total.add(kernel_tile(kernel, a, b, r, c))
                bar.update()
    return PairSums(total.value(), 0.0)


def kernel_matmul(kernel: Kernel, z: Samples, w: torch.Tensor, *, memory_budget: int | None = None,
                  block_size: int | None = None) -> torch.Tensor:
    """K0 @ w in float64 for the N x N kernel matrix K0 of ``z`` with its diagonal set to 0.

    ``w`` is (N, B). Used by the permutation test, where each column of ``w`` marks one split
    of the pooled sample into "real" and "fake". Tiles on and above the diagonal are computed
    once each and used for both K0_ij and its transpose.
    """
    n = len(z.x)
    side = square_tile(n, z.x.element_size(), kernel.buffers + 1, memory_budget, block_size)
    spans = list(chunks(n, side))
    w_tile = w.to(device=z.x.device, dtype=z.x.dtype)
    out = to_float64(torch.zeros(n, w.shape[1], device=z.x.device))
    for i, (r0, r1) in enumerate(spans):
        for j in range(i, len(spans)):
            c0, c1 = spans[j]
            tile = kernel_tile(kernel, z, z, (r0, r1), (c0, c1), same=i == j)
            if i == j:
                tile.fill_diagonal_(0.0)
            out[r0:r1] += to_float64(tile @ w_tile[c0:c1])
            if i != j:
                out[c0:c1] += to_float64(tile.t() @ w_tile[r0:r1])
    return out
