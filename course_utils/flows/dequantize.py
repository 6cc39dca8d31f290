"""From 256 grey levels to a density: dequantisation, the logit map and bits per dimension.

A flow is a density on R^D, but an MNIST pixel takes one of 256 levels k = 0..255 (the package
stores it as x = 2 k / 255 - 1 in [-1, 1], ``course_utils.data``). A density on discrete values
can grow without bound, so we model the *dequantised* pixels (Theis et al. 2016; Dinh et al.
2017, sec. 4.1)

    y = (k + u) / 256,   u ~ U[0, 1)^D,                                                   (1)

which fill the bins [k/256, (k+1)/256) of width 1/256. For any density p on [0, 1)^D,
P(k) = integral of p over the bin of k, and Jensen's inequality gives

    log P(k) >= E_u[ log p(y) ] - D log 256.                                              (2)

The flow works on unbounded values, so y is first mapped by the logit transform (Dinh et al.
2017, sec. 4.1, with alpha keeping it away from 0 and 1)

    z = logit(s),  s = alpha + (1 - 2 alpha) y,
    log |dz/dy| = sum over pixels of [ log(1 - 2 alpha) - log s - log(1 - s) ],            (3)

and p(y) = p_flow(z) |dz/dy| (change of variables). Bits per dimension turn (2) into the
number of bits an ideal code needs per pixel,

    bpd = -log2 P(k) / D = -( log p(y) - D log 256 ) / (D log 2).                          (4)

Every term of (2)-(4) is one function here, so that a notebook can print each of them.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "LEVELS",
    "dequantize",
    "quantize",
    "logit_transform",
    "inverse_logit_transform",
    "bits_per_dim",
]

LEVELS = 256
"""Grey levels of an 8-bit image."""


def _levels(x: torch.Tensor) -> torch.Tensor:
    """The grey level k = 0..255 of an image in the model range x = 2 k / 255 - 1."""
    return torch.round((x + 1) * (LEVELS - 1) / 2).clamp(0, LEVELS - 1)


def dequantize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Eq. (1): y = (k + u) / 256 in [0, 1) with u ~ U[0, 1), drawn on x's device."""
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (_levels(x) + u) / LEVELS


def quantize(y: torch.Tensor) -> torch.Tensor:
    """The inverse of eq. (1): the bin k = floor(256 y) of y, as the image 2 k / 255 - 1."""
    k = torch.floor(y * LEVELS).clamp(0, LEVELS - 1)
    return 2 * k / (LEVELS - 1) - 1


def logit_transform(y: torch.Tensor, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. (3): z = logit(alpha + (1 - 2 alpha) y) and log |det dz/dy|, one per sample."""
    if not 0 <= alpha < 0.5:
        raise ValueError(
            f"alpha keeps the logit away from 0 and 1 and must lie in [0, 0.5), got {alpha}"
        )
    s = alpha + (1 - 2 * alpha) * y
    z = torch.log(s) - torch.log1p(-s)
    log_det = math.log(1 - 2 * alpha) - torch.log(s) - torch.log1p(-s)
    return z, log_det.reshape(len(y), -1).sum(dim=1)


def inverse_logit_transform(z: torch.Tensor, alpha: float) -> torch.Tensor:
    """The inverse of eq. (3): y = (sigmoid(z) - alpha) / (1 - 2 alpha)."""
    return (torch.sigmoid(z) - alpha) / (1 - 2 * alpha)


def bits_per_dim(log_p_y: torch.Tensor, dims: int) -> torch.Tensor:
    """Eq. (4): bits per dimension from the log-density log p(y) of the dequantised y in [0, 1)^D
    (natural log, one per sample), counting the bin width 1/256 of each of D = ``dims`` pixels."""
    return -(log_p_y - dims * math.log(LEVELS)) / (dims * math.log(2))
