"""Real-NVP (Dinh, Sohl-Dickstein & Bengio 2017): affine coupling layers with alternating masks.

Each layer (``coupling.AffineCoupling``) moves the sites its mask leaves active, by a scale and a
shift computed from the others; the next layer uses the complementary mask, so after two layers
every coordinate has been moved. The log-determinant of the stack is the sum of the layers' sums
of s (eq. (3) of ``coupling``), so the exact log-likelihood costs one pass through the network.

* ``realnvp_2d`` -- points in R^2, masks (1, 0) and (0, 1) in turn, MLP conditioners;
* ``realnvp_image`` -- images (C, H, W), checkerboard masks of both parities in turn, residual
  CNN conditioners (Dinh et al. sec. 3.4; the multi-scale squeezing of the paper is left out
  for 28 x 28 digits), and a per-pixel affine layer at the data end (``layers.ElementwiseAffine``,
  initialised from data, in place of the paper's batch normalisation).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .conditioners import ConvConditioner, MLPConditioner
from .coupling import AffineCoupling, CouplingFlow, checkerboard_mask
from .layers import ElementwiseAffine

__all__ = ["alternating_masks_2d", "realnvp_2d", "realnvp_image"]


def alternating_masks_2d(n_layers: int) -> list[torch.Tensor]:
    """The masks (1, 0), (0, 1), (1, 0), ... of a Real-NVP on points in R^2."""
    return [
        torch.tensor([1.0, 0.0]) if k % 2 == 0 else torch.tensor([0.0, 1.0])
        for k in range(n_layers)
    ]


def _check_layers(n_layers: int) -> None:
    if not isinstance(n_layers, int) or n_layers < 2 or n_layers % 2:
        raise ValueError(
            f"a Real-NVP needs an even number >= 2 of coupling layers (so that every "
            f"coordinate is moved equally often), got {n_layers!r}"
        )


def realnvp_2d(n_layers: int = 8, hidden: int = 64, n_hidden: int = 2) -> CouplingFlow:
    """A Real-NVP on R^2: ``n_layers`` couplings, each an MLP (``n_hidden`` x ``hidden``)."""
    _check_layers(n_layers)
    layers = [
        AffineCoupling(m, MLPConditioner(2, hidden, n_hidden))
        for m in alternating_masks_2d(n_layers)
    ]
    return CouplingFlow(layers, (2,))


def realnvp_image(
    shape: Sequence[int] = (1, 28, 28), n_layers: int = 8, hidden: int = 32, n_blocks: int = 2
) -> CouplingFlow:
    """A Real-NVP on images of ``shape`` (C, H, W): ``n_layers`` checkerboard couplings (parity
    0, 1, 0, ...), each with a residual CNN of ``n_blocks`` blocks of ``hidden`` channels, then
    (its last layer, on the data side) a per-pixel ``ElementwiseAffine``."""
    _check_layers(n_layers)
    if len(shape) != 3:
        raise ValueError(f"an image flow needs an event shape (C, H, W), got {tuple(shape)}")
    masks = [checkerboard_mask(shape, k % 2) for k in range(n_layers)]
    layers = [AffineCoupling(m, ConvConditioner(m, hidden, n_blocks)) for m in masks]
    return CouplingFlow([*layers, ElementwiseAffine(shape)], shape)
