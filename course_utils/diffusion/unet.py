"""Denoising networks eps_theta(x_t, t) for diffusion models.

* ``SmallUNet`` -- a small UNet for 28x28 images: two resolutions (28 -> 14 -> 7), residual
  blocks with GroupNorm and SiLU, skip connections from the down path to the up path, and a
  sinusoidal time embedding added inside every block. Optionally class-conditional
  (``num_classes``): a learned label embedding is added to the time embedding, and the extra
  label ``-1`` means "no label", so one network is both eps_theta(x_t, t, y) and eps_theta(x_t, t)
  (classifier-free guidance, Ho & Salimans 2022).
* ``MLPDenoiser`` -- a small MLP for 2-D toy data (two moons, swiss roll).

Both take ``(x_t, t)`` with ``t`` an integer tensor of shape (N,) and return a tensor shaped
like ``x_t`` (the predicted noise epsilon); a conditional ``SmallUNet`` also takes labels ``y``.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["timestep_embedding", "SmallUNet", "MLPDenoiser", "check_label_values"]


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal embedding of integer steps (Vaswani et al. 2017):
    emb(t)_{2i} = sin(t / P^{2i/d}), emb(t)_{2i+1} = cos(t / P^{2i/d}); shape (N, dim)."""
    if t.dim() != 1:
        raise ValueError("t must be a 1-D tensor of time steps of shape (N,), got shape "
                         f"{tuple(t.shape)}")
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device,
                                                           dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
    return F.pad(emb, (0, dim % 2))


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv, add the time embedding, GroupNorm-SiLU-conv, plus a residual path."""

    def __init__(self, c_in: int, c_out: int, t_dim: int, groups: int = 8) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(min(groups, c_in), c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.time = nn.Linear(t_dim, c_out)
        self.norm2 = nn.GroupNorm(min(groups, c_out), c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(temb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class SmallUNet(nn.Module):
    """UNet for (N, 1, 28, 28) images: 28x28 (c1) -> 14x14 (c2) -> 7x7 (c2) and back, with skips."""

    def __init__(self, channels: tuple[int, int] = (32, 64), t_dim: int = 128, in_channels: int = 1,
                 num_classes: int | None = None) -> None:
        super().__init__()
        c1, c2 = channels
        if c1 % 8 or c2 % 8 or c1 < 8:
            raise ValueError("UNet channels must be multiples of 8 (GroupNorm uses 8 groups), got "
                             f"{tuple(channels)}")
        if num_classes is not None and num_classes < 1:
            raise ValueError("num_classes must be a positive number of classes or None, got "
                             f"{num_classes}")
        self.t_dim = t_dim
        self.num_classes = num_classes
        self.time_mlp = nn.Sequential(nn.Linear(t_dim, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim))
        # Row num_classes of the table is the learned "no label" embedding.
        self.label_emb = nn.Embedding(num_classes + 1, t_dim) if num_classes else None
        self.inc = nn.Conv2d(in_channels, c1, 3, padding=1)
        self.down1 = ResBlock(c1, c1, t_dim)                       # 28x28
        self.pool1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)     # -> 14x14
        self.down2 = ResBlock(c1, c2, t_dim)                       # 14x14
        self.pool2 = nn.Conv2d(c2, c2, 3, stride=2, padding=1)     # -> 7x7
        self.mid = ResBlock(c2, c2, t_dim)                         # 7x7
        self.up2 = nn.ConvTranspose2d(c2, c2, 4, stride=2, padding=1)  # -> 14x14
        self.dec2 = ResBlock(c2 + c2, c2, t_dim)                   # skip from down2
        self.up1 = nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1)  # -> 28x28
        self.dec1 = ResBlock(c1 + c1, c1, t_dim)                   # skip from down1
        self.out = nn.Sequential(nn.GroupNorm(8, c1), nn.SiLU(),
                                 nn.Conv2d(c1, in_channels, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor,
                y: torch.Tensor | None = None) -> torch.Tensor:
        """eps_theta(x_t, t) or, for a conditional UNet, eps_theta(x_t, t,
        y); y = -1 or None: no label."""
        if x.dim() != 4 or tuple(x.shape[2:]) != (28, 28):
            raise ValueError("SmallUNet expects images of shape (N, C, 28, 28), got "
                             f"{tuple(x.shape)}")
        temb = self.time_mlp(timestep_embedding(t, self.t_dim))
        if self.label_emb is not None:
            temb = temb + self.label_emb(self._label_index(y, len(x), x.device))
        elif y is not None:
            raise ValueError("This UNet was built without num_classes, so it cannot take labels y.")
        h1 = self.down1(self.inc(x), temb)
        h2 = self.down2(self.pool1(h1), temb)
        h = self.mid(self.pool2(h2), temb)
        h = self.dec2(torch.cat([self.up2(h), h2], dim=1), temb)
        h = self.dec1(torch.cat([self.up1(h), h1], dim=1), temb)
        return self.out(h)

    def _label_index(self, y: torch.Tensor | None, n: int, device: torch.device) -> torch.Tensor:
        if y is None:
            return torch.full((n,), self.num_classes, dtype=torch.long, device=device)
        y = torch.as_tensor(y, device=device)
        if y.shape != (n,) or y.dtype.is_floating_point or y.dtype == torch.bool:
            raise ValueError(f"y must hold one integer label per image, shape ({n},), got "
                             f"{y.dtype} {tuple(y.shape)}")
        if y.device.type == "cpu":  # on an accelerator: checked once, where the labels enter a loop
            check_label_values(y, self.num_classes)
        return torch.where(y < 0, torch.full_like(y, self.num_classes), y).long()


def check_label_values(y: torch.Tensor, num_classes: int) -> None:
    """Labels in 0..num_classes-1, or -1 for "no label"; else a one-line ``ValueError``.

    It reads ``y`` back to the host, which on an accelerator waits for the device: the UNet does
    it at every call only for labels on the CPU; training and the samplers do it once per run."""
    if len(y) and (int(y.min()) < -1 or int(y.max()) >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1} (or -1 for 'no label'), "
                         f"got values in {int(y.min())}..{int(y.max())}")


class MLPDenoiser(nn.Module):
    """eps_theta(x_t, t) for 2-D points: [x_t, emb(t)] -> hidden -> hidden -> hidden -> 2."""

    def __init__(self, dim: int = 2, hidden: int = 128, t_dim: int = 32) -> None:
        super().__init__()
        self.t_dim = t_dim
        self.net = nn.Sequential(
            nn.Linear(dim + t_dim, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, dim),
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2:
            raise ValueError("MLPDenoiser expects points of shape (N, "
                             f"{self.net[0].in_features - self.t_dim}), got {tuple(x.shape)}")
        return self.net(torch.cat([x, timestep_embedding(t, self.t_dim)], dim=1))
