"""Two-dimensional toy data sets for the diffusion and score-based notebooks (06, 00b).

``two_moons`` draws the classic two interleaving half circles (as scikit-learn's ``make_moons``
does, without the dependency); ``standardise`` rescales points to mean 0 and standard deviation
1 per coordinate, the scale that the forward chain's N(0, I) end point expects.
"""
from __future__ import annotations

import math

import torch

__all__ = ["two_moons", "standardise"]


def two_moons(n: int = 2_000, noise: float = 0.05, seed: int = 0) -> torch.Tensor:
    """``n`` points (float32, shape (n, 2)) on two half circles of
    radius 1, plus N(0, noise^2) jitter.

    The upper moon is (cos a, sin a), the lower one (1 - cos a, 1/2 - sin a), a uniform in [0, pi];
    half of the points on each (the first moon gets the extra point when n is odd).
    """
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2 (points on both moons), got {n!r}")
    if noise < 0:
        raise ValueError(f"noise is a standard deviation and must be >= 0, got {noise}")
    generator = torch.Generator().manual_seed(seed)
    n_upper = n - n // 2
    a_upper = torch.rand(n_upper, generator=generator, dtype=torch.float64) * math.pi
    a_lower = torch.rand(n // 2, generator=generator, dtype=torch.float64) * math.pi
    upper = torch.stack([torch.cos(a_upper), torch.sin(a_upper)], dim=1)
    lower = torch.stack([1 - torch.cos(a_lower), 0.5 - torch.sin(a_lower)], dim=1)
    points = (torch.cat([upper, lower])
              + noise * torch.randn(n, 2, generator=generator, dtype=torch.float64))
    return points[torch.randperm(n, generator=generator)].float()


def standardise(points: torch.Tensor) -> torch.Tensor:
    """(points - mean) / std per coordinate."""
    return (points - points.mean(0)) / points.std(0)
