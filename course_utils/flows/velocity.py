"""Velocity networks v_theta(x, t): the diffusion networks, asked at a continuous time t in [0, 1].

Flow matching needs a network of (x, t) shaped like x, exactly what a denoiser is; only the time
differs: t in [0, 1] instead of a step 0..T-1. ``TimeScaled`` feeds the network t * 1000, so its
sinusoidal time embedding (``diffusion.unet.timestep_embedding``) sees the same range of
frequencies as in notebook 07, and the flow-matching model of notebook 07b is the *same*
class-conditional UNet as the DDPM (``diffusion.unet.SmallUNet``), label dropout included.

* ``TimeScaled(net)`` -- v(x, t[, y]) = net(x, 1000 t[, y]);
* ``velocity_mlp_2d`` -- the 2-D toy data's velocity: notebook 06's ``MLPDenoiser``, time-scaled.
"""

from __future__ import annotations

import torch
from torch import nn

from ..diffusion.unet import MLPDenoiser

__all__ = ["TIME_SCALE", "TimeScaled", "velocity_mlp_2d"]

TIME_SCALE = 1000.0
"""t in [0, 1] is fed to the network as t * TIME_SCALE, the range of the DDPM's steps."""


class TimeScaled(nn.Module):
    """v(x, t) = net(x, TIME_SCALE t), or net(x, TIME_SCALE t, y) with labels (-1: no label)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    @property
    def num_classes(self) -> int | None:
        return getattr(self.net, "num_classes", None)

    def forward(
        self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        if t.dim() == 0:
            t = t.expand(len(x))
        scaled = TIME_SCALE * t
        return self.net(x, scaled) if y is None else self.net(x, scaled, y)


def velocity_mlp_2d(hidden: int = 128, t_dim: int = 32) -> TimeScaled:
    """v_theta(x, t) for points in R^2: [x, emb(1000 t)] -> 3 hidden layers -> 2."""
    return TimeScaled(MLPDenoiser(2, hidden, t_dim))
