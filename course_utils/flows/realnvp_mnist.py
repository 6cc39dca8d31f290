"""The Real-NVP of notebook 07b on MNIST as one object: its recipe, its flow, bits per dimension.

``RealNVPConfig`` holds the flow's size, the preprocessing (``alpha`` of the logit map) and the
training recipe; ``RealNVP`` holds the flow being trained and its exponential moving average
(which samples and is evaluated). The density it learns is that of the dequantised digits,

    log p(y) = log p_flow(z) + log |dz/dy|,   z = logit(alpha + (1 - 2 alpha) y),

with y = (k + u) / 256 (``dequantize``); ``bits_per_dim`` turns it into bits per pixel of the
discrete digits, eq. (4) of ``dequantize``, the number papers report (Dinh et al. 2017, sec. 4).
Training is maximum likelihood: the loss *is* the training images' bits per dimension.

Samples: z ~ N(0, I), x = flow(z), the logit map inverted and the result put back into its bin
of 256 levels (``quantize``): images (n, 1, 28, 28) in [-1, 1], like every model of the package.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..device import DeviceLike, get_device
from ..diffusion.training import check_training_fields
from ..progress import tqdm
from .coupling import CouplingFlow
from .dequantize import bits_per_dim, dequantize, inverse_logit_transform, logit_transform, quantize
from .realnvp import realnvp_image
from .training import fit_recipe

__all__ = [
    "RealNVPConfig",
    "RealNVP",
    "build_realnvp",
    "train_realnvp",
    "sample_realnvp",
    "held_out_bpd",
]

IMAGE_SHAPE = (1, 28, 28)
INIT_IMAGES = 1000


@dataclass(frozen=True)
class RealNVPConfig:
    """A Real-NVP of checkerboard couplings on dequantised, logit-mapped digits, and its recipe."""

    n_layers: int = field(default=8, metadata={"help": "coupling layers (even)"})
    hidden: int = field(default=32, metadata={"help": "channels of each coupling's CNN"})
    n_blocks: int = field(default=2, metadata={"help": "residual blocks per coupling's CNN"})
    alpha: float = field(default=1e-5, metadata={"help": "logit map of alpha + (1 - 2 alpha) y"})
    train_steps: int = field(default=2000, metadata={"help": "optimiser steps"})
    batch_size: int = 64
    lr: float = 1e-3
    warmup: int = 100
    ema_decay: float = 0.999
    n_train: int | None = field(
        default=None, metadata={"help": "use only the first N training images"}
    )

    def __post_init__(self) -> None:
        if self.n_layers < 2 or self.n_layers % 2:
            raise ValueError(f"n_layers must be an even number >= 2, got {self.n_layers}")
        if not 0 <= self.alpha < 0.5:
            raise ValueError(f"alpha must lie in [0, 0.5), got {self.alpha}")
        check_training_fields(self.ema_decay)


class RealNVP(nn.Module):
    """The flow being trained, its EMA copy (which samples) and the preprocessing of ``config``."""

    def __init__(self, config: RealNVPConfig) -> None:
        super().__init__()
        self.config = config
        self.flow = self._new_flow()
        self.ema_flow = self._new_flow()
        self.ema_flow.load_state_dict(self.flow.state_dict())
        self.ema_flow.requires_grad_(False).eval()
        self.register_buffer("initialised", torch.tensor(False))

    def _new_flow(self) -> CouplingFlow:
        c = self.config
        return realnvp_image(IMAGE_SHAPE, c.n_layers, c.hidden, c.n_blocks)

    @torch.no_grad()
    def initialise(self, images: torch.Tensor, generator: torch.Generator | None = None) -> None:
        """Set the flow's per-pixel affine layer (its last) to standardise the ``images``
        (dequantised and logit-mapped)."""
        z, _ = logit_transform(dequantize(images, generator), self.config.alpha)
        self.flow.layers[-1].initialise_from_data(z)
        self.ema_flow.load_state_dict(self.flow.state_dict())
        self.initialised.fill_(True)

    def log_prob_dequantized(
        self, y: torch.Tensor, flow: CouplingFlow | None = None
    ) -> torch.Tensor:
        """log p(y) of dequantised images y in [0, 1): the flow's log-density of z = logit(...)
        plus the logit map's log-determinant (change of variables), one per image."""
        z, log_det = logit_transform(y, self.config.alpha)
        flow = self.ema_flow if flow is None else flow
        return flow.log_prob(z) + log_det

    def bits_per_dim(
        self,
        x: torch.Tensor,
        generator: torch.Generator | None = None,
        flow: CouplingFlow | None = None,
    ) -> torch.Tensor:
        """Bits per dimension of images x in [-1, 1] (one dequantisation draw each), per image."""
        y = dequantize(x, generator)
        return bits_per_dim(self.log_prob_dequantized(y, flow), math.prod(IMAGE_SHAPE))

    def sample(
        self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0
    ) -> torch.Tensor:
        """``n`` images in [-1, 1] from the EMA flow; ``temperature`` < 1 shrinks the prior's z."""
        weight = next(self.ema_flow.parameters())
        z = temperature * torch.randn((n, *IMAGE_SHAPE), generator=generator, device=weight.device)
        x, _ = self.ema_flow(z)
        return quantize(inverse_logit_transform(x, self.config.alpha))


def build_realnvp(config: RealNVPConfig, device: DeviceLike = None) -> RealNVP:
    """A fresh Real-NVP of ``config`` on ``device``."""
    if not isinstance(config, RealNVPConfig):
        raise TypeError(f"build_realnvp takes a RealNVPConfig, got {type(config).__name__}")
    device = device if isinstance(device, torch.device) else get_device(device)
    return RealNVP(config).to(device)


def _check_images(images: torch.Tensor) -> None:
    if (
        not isinstance(images, torch.Tensor)
        or images.dim() != 4
        or tuple(images.shape[1:]) != IMAGE_SHAPE
    ):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor (N, 1, 28, 28) in [-1, 1], got {shape}")


def train_realnvp(
    model: RealNVP,
    images: torch.Tensor,
    device: DeviceLike = None,
    seed: int = 0,
    progress: bool = True,
    log_every: int = 50,
) -> dict[str, Any]:
    """Maximum likelihood with the recipe of ``model.config`` on ``images`` (N, 1, 28, 28) in
    [-1, 1] (the first ``n_train`` of them); the loss is the batch's bits per dimension, a fresh
    dequantisation each step. A fresh model's per-pixel layer is first set from (up to 1,000 of)
    the images (``RealNVP.initialise``). The EMA weights land in ``model.ema_flow``; returns the
    history."""
    _check_images(images)
    config = model.config
    images = images[: config.n_train]
    if not bool(model.initialised):
        device = get_device(device)
        model.to(device).initialise(
            images[:INIT_IMAGES].to(device), torch.Generator(device).manual_seed(seed)
        )

    def objective(batch: list[torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        return model.bits_per_dim(batch[0], generator, flow=model.flow).mean()

    ema, history = fit_recipe(model.flow, objective, (images,), config, device=device,
                              seed=seed, progress=progress, log_every=log_every, desc="Real-NVP")
    model.ema_flow.load_state_dict(ema.model.state_dict())
    history["loss_unit"] = "bits per dimension (training batches)"
    return history


@torch.no_grad()
def held_out_bpd(
    model: RealNVP,
    images: torch.Tensor,
    device: DeviceLike = None,
    seed: int = 0,
    batch_size: int = 500,
    progress: bool = False,
) -> float:
    """The mean bits per dimension of ``images`` under the EMA flow: the number to report for
    held-out digits (an upper bound on -log2 P(k) / D, eq. (2) of ``dequantize``)."""
    _check_images(images)
    device = get_device(device)
    model = model.to(device).eval()
    generator = torch.Generator(device).manual_seed(seed)
    total = torch.zeros((), device=device, dtype=torch.float64)  # summed on the device, read once
    for batch in tqdm(images.split(batch_size), desc="bits/dim", disable=not progress, leave=False):
        total += model.bits_per_dim(batch.to(device), generator).sum()
    return float(total) / len(images)


@torch.no_grad()
def sample_realnvp(
    model: RealNVP,
    n: int,
    device: DeviceLike = None,
    seed: int | None = 0,
    temperature: float = 1.0,
) -> torch.Tensor:
    """``n`` images (n, 1, 28, 28) in [-1, 1] on the CPU."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive number of images, got {n!r}")
    if temperature <= 0:
        raise ValueError(
            f"temperature scales the prior's standard deviation and must be > 0, got {temperature}"
        )
    device = get_device(device)
    model = model.to(device).eval()
    generator = torch.Generator(device).manual_seed(seed) if seed is not None else None
    return model.sample(n, generator, temperature).cpu()
