"""An invertible layer besides the couplings: a learned affine map per coordinate.

    x = z * exp(a) + b   (elementwise),   log |det dx/dz| = sum of a,                        (1)

with one (a, b) per pixel. Dinh et al. (2017, sec. 3.7) put batch normalisation between their
couplings for the same reason Glow (Kingma & Dhariwal 2018) has "actnorm": a flow that starts as
the identity learns scales of e^-4 slowly, one small optimiser step at a time. Initialised from
data (``initialise_from_data``: a = log std, b = mean of a batch), the layer starts by mapping each
pixel's standardised values onto the prior, and the couplings only learn what is left: the
dependences between pixels. It has the interface of ``coupling.AffineCoupling``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["ElementwiseAffine"]


class ElementwiseAffine(nn.Module):
    """Eq. (1) on events of ``event_shape``; starts as the identity (a = b = 0)."""

    def __init__(self, event_shape: Sequence[int]) -> None:
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(*event_shape))
        self.shift = nn.Parameter(torch.zeros(*event_shape))

    def _log_det(self, n: int) -> torch.Tensor:
        return self.log_scale.sum().expand(n)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x = z exp(a) + b and log |det dx/dz| = sum a, one per sample."""
        return z * torch.exp(self.log_scale) + self.shift, self._log_det(len(z))

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z = (x - b) exp(-a) and log |det dz/dx| = -sum a, one per sample."""
        return (x - self.shift) * torch.exp(-self.log_scale), -self._log_det(len(x))

    @torch.no_grad()
    def initialise_from_data(self, x: torch.Tensor) -> None:
        """a = log std, b = mean of the batch ``x`` per coordinate: the inverse standardises x."""
        if x.shape[1:] != self.shift.shape or len(x) < 2:
            raise ValueError(
                f"initialise from a batch (N >= 2, {', '.join(map(str, self.shift.shape))}), "
                f"got shape {tuple(x.shape)}"
            )
        self.shift.copy_(x.mean(dim=0))
        self.log_scale.copy_(x.std(dim=0).clamp_min(1e-6).log())
