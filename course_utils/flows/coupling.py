"""Affine coupling layers (Real-NVP, Dinh, Sohl-Dickstein & Bengio 2017) and a flow made of them.

A normalizing flow is an invertible map x = g(z) from a simple prior z ~ r(z) (here N(0, I)) to
the data. The change of variables gives its exact density,

    log q(x) = log r(z) - log |det dg/dz|,   z = g^{-1}(x).                              (1)

An affine coupling layer keeps the sites where ``mask`` is 1 ("frozen") and moves the others
("active") by a scale and a shift computed from the frozen sites only:

    x = m * z + (1 - m) * (z * exp(s) + t),   (s, t) = conditioner(m * z).             (2)

Its Jacobian is triangular (the active outputs depend on themselves only through exp(s)), so

    log |det dx/dz| = sum over active sites of s,                                        (3)

and it inverts in closed form, z = m * x + (1 - m) * (x - t) * exp(-s), with the same (s, t)
because m * x = m * z. Alternating masks let every site be moved by some layer.

Convention: ``forward`` is the generative direction z -> x (sampling, the phi^4 flow's reverse
KL), ``inverse`` is x -> z (density evaluation, maximum likelihood). Both return the log of the
absolute Jacobian determinant *of the map they compute*, one number per sample.

Shapes: a batch of events (n, *event_shape); the mask has ``event_shape``; the conditioner maps
(n, *event_shape) to (n, 2 * C, ...) (split into s and t along dim 1, C = event_shape[0]).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["AffineCoupling", "CouplingFlow", "checkerboard_mask", "standard_normal_log_prob"]


def checkerboard_mask(shape: Sequence[int], parity: int = 0) -> torch.Tensor:
    """A float mask of ``shape`` (the last two dimensions are the lattice) that is 1 where
    (i + j) % 2 == parity and 0 elsewhere; its complement is
    ``checkerboard_mask(shape, 1 - parity)``."""
    if parity not in (0, 1):
        raise ValueError(f"parity must be 0 or 1, got {parity!r}")
    *lead, rows, cols = (int(s) for s in shape)
    i = torch.arange(rows).reshape(-1, 1)
    j = torch.arange(cols).reshape(1, -1)
    board = ((i + j) % 2 == parity).float()
    return board.expand(*lead, rows, cols).clone()


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) per sample: -|z|^2 / 2 - (D / 2) log(2 pi), summed over
    all but the batch dimension."""
    flat = z.reshape(len(z), -1)
    return -0.5 * (flat**2).sum(dim=1) - 0.5 * flat.shape[1] * math.log(2 * math.pi)


def _sum_per_sample(values: torch.Tensor) -> torch.Tensor:
    return values.reshape(len(values), -1).sum(dim=1)


class AffineCoupling(nn.Module):
    """One affine coupling layer, eq. (2): the sites where ``mask`` is 0
    move, conditioned on the rest."""

    def __init__(self, mask: torch.Tensor, conditioner: nn.Module) -> None:
        super().__init__()
        self.register_buffer("mask", mask.float())
        self.conditioner = conditioner

    def scale_shift(self, frozen: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(s, t) from the frozen part ``m * z``; both zero on the frozen sites."""
        s, t = self.conditioner(frozen).chunk(2, dim=1)
        active = 1 - self.mask
        return s * active, t * active

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x = g(z) and log |det dx/dz| (eq. (3)), one per sample."""
        frozen = z * self.mask
        s, t = self.scale_shift(frozen)
        x = frozen + (1 - self.mask) * (z * torch.exp(s) + t)
        return x, _sum_per_sample(s)

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z = g^{-1}(x) and log |det dz/dx| = -sum s, one per sample."""
        frozen = x * self.mask
        s, t = self.scale_shift(frozen)
        z = frozen + (1 - self.mask) * (x - t) * torch.exp(-s)
        return z, -_sum_per_sample(s)


class CouplingFlow(nn.Module):
    """A stack of invertible layers on an N(0, I) prior: samples with their exact log q, eq. (1)."""

    def __init__(self, layers: Sequence[nn.Module], event_shape: Sequence[int]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.event_shape = tuple(int(s) for s in event_shape)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x = g(z) through every layer, and the summed log |det dx/dz|."""
        log_det = torch.zeros(len(z), device=z.device, dtype=z.dtype)
        for layer in self.layers:
            z, step = layer(z)
            log_det = log_det + step
        return z, log_det

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z = g^{-1}(x) through the layers in reverse, and the summed log |det dz/dx|."""
        log_det = torch.zeros(len(x), device=x.device, dtype=x.dtype)
        for layer in reversed(self.layers):
            x, step = layer.inverse(x)
            log_det = log_det + step
        return x, log_det

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log q(x) = log r(z) + log |det dz/dx|, eq. (1), one per sample."""
        z, log_det = self.inverse(x)
        return standard_normal_log_prob(z) + log_det

    def sample(self, n: int,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` draws x = g(z), z ~ N(0, I) on the flow's device, and their log q(x)."""
        weight = next(self.parameters())
        z = torch.randn((n, *self.event_shape), generator=generator, device=weight.device,
                        dtype=weight.dtype)
        x, log_det = self(z)
        return x, standard_normal_log_prob(z) - log_det
