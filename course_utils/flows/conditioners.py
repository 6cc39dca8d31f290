"""The networks inside a coupling layer: (s, t) from the frozen part (Dinh et al. 2017, sec. 3.3).

A coupling layer (``coupling.AffineCoupling``) may use *any* network for its scale s and shift t,
because its Jacobian never needs the network's derivative. Two choices here:

* ``MLPConditioner`` -- for points in R^D (the 2-D toy data);
* ``ConvConditioner`` -- for images: a small residual CNN that sees the frozen pixels and the mask.

Both bound the log-scale, s = c * tanh(s_raw) with a learned c per feature (the tanh keeps early
training stable: exp(s) cannot explode), and start as the identity map: the last layer is zero,
so s = t = 0 and the layer leaves its input unchanged until training moves it.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MLPConditioner", "ConvConditioner", "FixedConditioner"]


class _BoundedScale(nn.Module):
    """Split the raw output into (s_raw, t) along dim 1 and return cat(c * tanh(s_raw), t)."""

    def __init__(self, channels: int, event_dims: int) -> None:
        super().__init__()
        self.c = nn.Parameter(torch.ones(channels, *([1] * event_dims)))

    def forward(self, raw: torch.Tensor) -> torch.Tensor:
        s_raw, t = raw.chunk(2, dim=1)
        return torch.cat([self.c * torch.tanh(s_raw), t], dim=1)


class MLPConditioner(nn.Module):
    """(s, t) for points in R^dim: an MLP dim -> hidden (x n_hidden) -> 2 dim."""

    def __init__(self, dim: int = 2, hidden: int = 64, n_hidden: int = 2) -> None:
        super().__init__()
        sizes = [dim] + [hidden] * n_hidden
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(a, b), nn.SiLU()]
        last = nn.Linear(sizes[-1], 2 * dim)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, last)
        self.bound = _BoundedScale(dim, 0)

    def forward(self, frozen: torch.Tensor) -> torch.Tensor:
        return self.bound(self.net(frozen))


class _ResidualBlock(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.GroupNorm(1, hidden),
            nn.SiLU(),
            nn.Conv2d(hidden, hidden, 3, padding=1),
            nn.GroupNorm(1, hidden),
            nn.SiLU(),
            nn.Conv2d(hidden, hidden, 3, padding=1),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.net(h)


class ConvConditioner(nn.Module):
    """(s, t) for images (n, C, H, W): conv 3x3 on [frozen pixels, mask], ``n_blocks`` residual
    blocks of width ``hidden``, conv 3x3 to 2 C channels. The mask tells the network which zeros
    are hidden pixels rather than dark ones."""

    def __init__(self, mask: torch.Tensor, hidden: int = 32, n_blocks: int = 2) -> None:
        super().__init__()
        if mask.dim() != 3:
            raise ValueError(
                f"the mask of an image coupling has shape (C, H, W), got {tuple(mask.shape)}"
            )
        channels = mask.shape[0]
        self.register_buffer("mask", mask.float())
        self.inc = nn.Conv2d(2 * channels, hidden, 3, padding=1)
        self.blocks = nn.Sequential(*[_ResidualBlock(hidden) for _ in range(n_blocks)])
        self.out = nn.Sequential(
            nn.GroupNorm(1, hidden), nn.SiLU(), nn.Conv2d(hidden, 2 * channels, 3, padding=1)
        )
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)
        self.bound = _BoundedScale(channels, 2)

    def forward(self, frozen: torch.Tensor) -> torch.Tensor:
        mask = self.mask.expand(len(frozen), *self.mask.shape)
        return self.bound(self.out(self.blocks(self.inc(torch.cat([frozen, mask], dim=1)))))


class FixedConditioner(nn.Module):
    """A conditioner that returns given (s, t) whatever it sees: a coupling layer with chosen s
    and t, for checking the layer's arithmetic (the exercises of notebooks 07b and 09b)."""

    def __init__(self, s: torch.Tensor, t: torch.Tensor) -> None:
        super().__init__()
        self.s, self.t = s, t

    def forward(self, frozen: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.s, self.t], dim=1)
