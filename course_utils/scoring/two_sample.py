"""Two more ways to compare real and generated samples: the Frechet distance and 1-NN accuracy.

* **Frechet distance** (the "FD" of FID, Heusel et al., 2017): fit a Gaussian to each set of
  features and take the 2-Wasserstein distance between the two Gaussians,

      FD = |mu_x - mu_y|^2 + tr(S_x) + tr(S_y) - 2 tr((S_x^{1/2} S_y S_x^{1/2})^{1/2}).      (4)

  The last trace is the sum of the square roots of the eigenvalues of the symmetric positive
  semi-definite matrix S_x^{1/2} S_y S_x^{1/2}, computed here with two symmetric eigen-
  decompositions in float64 (no ``scipy.linalg.sqrtm``, whose iterations can return complex
  values or lose accuracy on the nearly singular covariances of small sample sets).

* **1-nearest-neighbour two-sample accuracy** (Lopez-Paz & Oquab, 2017; the ``knn`` score of
  Xu et al., 2018): pool the two sets, label every point by the nearest *other* point of the
  pool, and report the balanced accuracy (real accuracy + fake accuracy) / 2. 0.5 is ideal (the
  sets cannot be told apart); near 1 the fakes are easy to spot; well below 0.5 the fakes sit on
  top of reals (copies of the training data).
"""
from __future__ import annotations

from typing import Any, NamedTuple

import torch

from .checks import as_samples, check_pair, check_ranges, value_range
from .kernels import Kernel, column_mean, prepare, squared_distance_tile
from .tiling import chunks, compute_dtype, tile_shape, to_float64

__all__ = ["frechet_distance", "frechet_distance_from_moments", "one_nn_accuracy", "OneNNResult"]


class OneNNResult(NamedTuple):
    """``accuracy`` = (``real_accuracy`` + ``fake_accuracy``) / 2; 0.5 is ideal."""

    accuracy: float
    real_accuracy: float
    fake_accuracy: float


def _moments(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and unbiased covariance (divisor n - 1) in float64, accumulated in row chunks."""
    mean = column_mean(x)
    d = x.shape[1]
    cov = torch.zeros(d, d, dtype=torch.float64, device=mean.device)
    rows = max(1, (32 * 2**20) // (8 * d))
    for a, b in chunks(len(x), rows):
        centred = to_float64(x[a:b]) - mean
        cov += centred.T @ centred
    return mean, cov / (len(x) - 1)


def _psd_sqrt(cov: torch.Tensor) -> torch.Tensor:
    """S^{1/2} of a symmetric positive semi-definite S (round-off negatives clamped to 0)."""
    w, v = torch.linalg.eigh((cov + cov.T) / 2)
    return (v * w.clamp_min(0).sqrt()) @ v.T


def frechet_distance_from_moments(mu_x: Any, cov_x: Any, mu_y: Any, cov_y: Any) -> float:
    """Eq. (4) from two means and two covariance matrices (converted to float64)."""
    mu_x, mu_y = (torch.as_tensor(m, dtype=torch.float64).reshape(-1).cpu() for m in (mu_x, mu_y))
    cov_x, cov_y = (torch.as_tensor(c, dtype=torch.float64).cpu() for c in (cov_x, cov_y))
    d = len(mu_x)
    if len(mu_y) != d or cov_x.shape != (d, d) or cov_y.shape != (d, d):
        raise ValueError(
            f"Means and covariances must agree in size: got means of {len(mu_x)} and {len(mu_y)} "
            f"and covariances of {tuple(cov_x.shape)} and {tuple(cov_y.shape)}."
        )
    root_x = _psd_sqrt(cov_x)
    middle = root_x @ cov_y @ root_x
    eig = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0)
    fd = float(((mu_x - mu_y) ** 2).sum() + cov_x.trace() + cov_y.trace() - 2 * eig.sqrt().sum())
    return max(fd, 0.0)


def frechet_distance(X: Any, Y: Any) -> float:
    """Frechet distance (4) between the Gaussians fitted to features ``X`` (real) and ``Y`` (fake).

    Means and covariances in float64 (divisor n - 1, as in FID code). Each set needs at least two
    samples; with fewer samples than features the covariances are singular, which (4) handles,
    but the estimate is then strongly biased upwards: compare FDs only at equal sample sizes.
    """
    why = "a covariance matrix needs at least two samples"
    x, y = as_samples(X, "X (real)", 2, why), as_samples(Y, "Y (fake)", 2, why)
    check_pair(x, y, "X (real)", "Y (fake)")
    check_ranges(value_range(x), value_range(y), "X (real)", "Y (fake)")
    (mu_x, cov_x), (mu_y, cov_y) = _moments(x), _moments(y)
    return frechet_distance_from_moments(mu_x, cov_x, mu_y, cov_y)


def one_nn_accuracy(
    X: Any,
    Y: Any,
    *,
    device: Any = None,
    dtype: torch.dtype | None = None,
    memory_budget: int | None = None,
    block_size: int | None = None,
) -> OneNNResult:
    """Balanced leave-one-out 1-nearest-neighbour accuracy of telling
    ``X`` (real) from ``Y`` (fake).

    Each of the n + m pooled points is labelled like its nearest neighbour (Euclidean) among the
    other n + m - 1 points; ties go to the earlier point (reals come first). Distances are
    computed tile by tile within the memory budget, as for ``mmd2``.
    """
    why = "every point needs a neighbour of its own kind to be judged fairly"
    x, y = as_samples(X, "X (real)", 2, why), as_samples(Y, "Y (fake)", 2, why)
    check_pair(x, y, "X (real)", "Y (fake)")
    check_ranges(value_range(x), value_range(y), "X (real)", "Y (fake)")
    device = torch.device(device) if device is not None else x.device
    dt = compute_dtype(device, dtype)
    # Cast and move in one step: float64 input cannot even land on MPS, which has no float64.
    pooled = torch.cat([x.to(device=device, dtype=dt), y.to(device=device, dtype=dt)])
    spec = Kernel("gaussian", (1.0,))  # only its distance tiles are used
    z = prepare(pooled, spec, device, dt, column_mean(pooled))
    big = len(pooled)
    rows, cols = tile_shape(big, big, z.x.element_size(), 2, memory_budget, block_size)
    nearest = torch.empty(big, dtype=torch.long, device=device)
    for r0, r1 in chunks(big, rows):
        best = torch.full((r1 - r0,), float("inf"), dtype=dt, device=device)
        best_idx = torch.zeros(r1 - r0, dtype=torch.long, device=device)
        for c0, c1 in chunks(big, cols):
            d2 = squared_distance_tile(z, z, (r0, r1), (c0, c1))
            # Exclude each point itself: entries (i, i) of the pooled matrix that fall in this tile.
            lo, hi = max(r0, c0), min(r1, c1)
            if lo < hi:
                idx = torch.arange(lo, hi, device=device)
                d2[idx - r0, idx - c0] = float("inf")
            value, where = d2.min(dim=1)
            better = value < best  # strict: on ties the earlier column (tile) wins
            best = torch.where(better, value, best)
            best_idx = torch.where(better, where + c0, best_idx)
        nearest[r0:r1] = best_idx
    is_real = torch.arange(big, device=device) < len(x)
    correct = (is_real[nearest] == is_real).double()
    real_acc, fake_acc = float(correct[: len(x)].mean()), float(correct[len(x):].mean())
    return OneNNResult((real_acc + fake_acc) / 2, real_acc, fake_acc)
