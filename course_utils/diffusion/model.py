"""The DDPM of notebook 07 as one object: its configuration, its networks and how it draws digits.

``DDPMConfig`` holds the UNet's size, the forward chain (T and the schedule) and the training
recipe (steps, batch, learning rate, EMA, label dropout); ``DDPM`` holds the trained UNet and
its exponential moving average, which is what samples; ``sample_ddpm`` draws images in the
model's range [-1, 1], shape (N, 1, 28, 28), with DDIM (any number of steps, ``eta`` from 0 =
deterministic to 1 = ancestral) and, for a conditional model, classifier-free guidance.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from ..device import DeviceLike, get_device
from .samplers import ddim_sample
from .schedules import Schedule, make_schedule
from .training import check_training_fields, train_diffusion
from .unet import SmallUNet

__all__ = ["DDPMConfig", "DDPM", "build_ddpm", "train_ddpm", "sample_ddpm"]


@dataclass(frozen=True)
class DDPMConfig:
    """A class-conditional (``conditional=True``) or plain UNet DDPM and its training recipe."""

    T: int = field(default=1000, metadata={"help": "diffusion steps T"})
    schedule: Literal["linear", "cosine"] = field(default="linear",
                                                  metadata={"help": "noise schedule"})
    channels: tuple[int, int] = field(default=(32, 64),
                                      metadata={"metavar": ("C1", "C2"),
                                                "help": "UNet channels at 28 and 14 pixels"})
    t_dim: int = 128
    conditional: bool = field(default=True, metadata={
        "help": "learn eps(x_t, t, digit) with 10%% label dropout, so the model samples with or "
                "without a digit (default: on; --no-conditional for the plain DDPM)"})
    train_steps: int = field(default=3000, metadata={"help": "optimiser steps (default 3000)"})
    batch_size: int = field(default=128, metadata={"help": "images per step"})
    lr: float = field(default=2e-3,
                      metadata={"help": "Adam's learning rate (cosine decay to 10 %%)"})
    warmup: int = 100
    ema_decay: float = field(default=0.999,
                             metadata={"help": "decay of the weights' moving average"})
    p_uncond: float = 0.1
    n_train: int | None = field(default=None,
                                metadata={"help": "use only the first N training images"})

    def __post_init__(self) -> None:
        make_schedule(self.T, self.schedule)  # a clear error for a T the schedule cannot take
        check_training_fields(self.ema_decay, self.p_uncond)

    @property
    def num_classes(self) -> int | None:
        return 10 if self.conditional else None


class DDPM(nn.Module):
    """The UNet eps_theta being trained, its EMA copy (which samples) and the noise schedule."""

    def __init__(self, config: DDPMConfig) -> None:
        super().__init__()
        self.config = config
        self.model = SmallUNet(tuple(config.channels), config.t_dim, num_classes=config.num_classes)
        self.ema_model = SmallUNet(tuple(config.channels), config.t_dim,
                                   num_classes=config.num_classes)
        self.ema_model.load_state_dict(self.model.state_dict())
        self.ema_model.requires_grad_(False).eval()

    @property
    def schedule(self) -> Schedule:
        return make_schedule(self.config.T, self.config.schedule)


def build_ddpm(config: DDPMConfig, device: DeviceLike = None) -> DDPM:
    """A fresh DDPM of ``config`` on ``device``."""
    if not isinstance(config, DDPMConfig):
        raise TypeError(f"build_ddpm takes a DDPMConfig, got {type(config).__name__}")
    return DDPM(config).to(device if isinstance(device, torch.device) else get_device(device))


def train_ddpm(ddpm: DDPM, images: torch.Tensor, labels: torch.Tensor | None,
               device: DeviceLike = None, seed: int = 0, progress: bool = True,
               log_every: int | None = None) -> dict[str, Any]:
    """Algorithm 1 with the recipe of ``ddpm.config``; the EMA weights land in ``ddpm.ema_model``.
    The loss is logged as its mean over every ``log_every`` steps (default: 40 entries per run)."""
    config = ddpm.config
    log_every = log_every or max(1, config.train_steps // 40)
    if config.conditional and labels is None:
        raise ValueError("a conditional DDPM needs one label per training image")
    ema, history = train_diffusion(ddpm.model, images, ddpm.schedule, config.train_steps,
                                   config.batch_size, config.lr, warmup=config.warmup,
                                   ema_decay=config.ema_decay, device=device, seed=seed,
                                   progress=progress, log_every=log_every, labels=labels
                                   if config.conditional else None, p_uncond=config.p_uncond)
    ddpm.ema_model.load_state_dict(ema.model.state_dict())
    return history


@torch.no_grad()
def sample_ddpm(ddpm: DDPM, n: int, device: DeviceLike = None, seed: int | None = 0,
                steps: int = 50, eta: float = 0.0, digit: int | None = None, guidance: float = 3.0,
                all_digits: bool = False, progress: bool = False) -> torch.Tensor:
    """``n`` images (n, 1, 28, 28) in [-1, 1] on the CPU: DDIM with ``steps`` steps and noise
    ``eta`` from the EMA UNet, the x0-estimate clipped to [-1, 1].

    Without a label ("-": the label-dropout token) the model samples p(x) directly. ``digit``
    draws that digit with classifier-free guidance of weight ``guidance`` (``samplers.guided_eps``).
    ``all_digits`` draws the digits 0, 1, ..., 9, 0, ... in turn, sample i from p(x | y = i mod 10):
    with ``guidance = 1`` that is a sample of p(x) = sum_y p(y) p(x | y) with p(y) uniform (MNIST's
    digits are 9-11 % each), and it uses the network where it was trained 90 % of the time, not
    the 10 % of label dropout that trains the unlabelled p(x)."""
    device = get_device(device)
    model = ddpm.ema_model.to(device)
    labels = None
    if (digit is not None or all_digits) and model.num_classes is None:
        what = "a chosen digit" if digit is not None else "the digits in turn"
        raise ValueError("This DDPM was trained without labels (--no-conditional), so it cannot "
                         f"draw {what}.")
    if digit is not None and all_digits:
        raise ValueError("choose --digit or --all-digits, not both")
    if digit is not None:
        if not 0 <= digit < model.num_classes:
            raise ValueError(f"--digit must be one of 0..{model.num_classes - 1}, got {digit}")
        labels = torch.full((n,), digit, dtype=torch.long)
    if all_digits:
        labels = torch.arange(n) % model.num_classes
    schedule = ddpm.schedule
    x = ddim_sample(model, (n, 1, 28, 28), schedule, min(steps, schedule.T), device, seed, clip=1.0,
                    eta=eta, labels=labels, guidance=guidance, progress=progress)
    return x.clamp(-1, 1).cpu()
