"""The DDPM family: notebook 07's UNet DDPM, class-conditional by default, sampled with DDIM."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import TensorDataset

from ..data import load_mnist, split_of
from ..device import DeviceLike
from ..diffusion import DDPM, DDPMConfig, build_ddpm, sample_ddpm, train_ddpm
from .base import Family

__all__ = ["DDPM_FAMILY", "DDPMSampling"]


@dataclass(frozen=True)
class DDPMSampling:
    """How a DDPM draws: DDIM ``steps`` and noise ``eta``; a ``digit`` with guidance weight
    ``guidance``, or ``all_digits`` in turn (``sample_ddpm``)."""

    steps: int = 50
    eta: float = 0.0
    digit: int | None = None
    guidance: float = 3.0
    all_digits: bool = False


def build(config: DDPMConfig, device: DeviceLike = None) -> DDPM:
    return build_ddpm(config, device)


def train(ddpm: DDPM, data: Any, config: DDPMConfig, device: DeviceLike = None, seed: int = 0,
          progress: bool = True, monitor: None = None) -> dict[str, Any]:
    if monitor is not None:
        raise ValueError("the DDPM's training loop takes no monitor")
    images, labels = split_of(data)
    return train_ddpm(ddpm, images, labels, device, seed=seed, progress=progress,
                      log_every=max(1, config.train_steps // 40))


def sample(ddpm: DDPM, n: int, device: DeviceLike = None, seed: int | None = 0, steps: int = 50, eta: float = 0.0,
           digit: int | None = None, guidance: float = 3.0, all_digits: bool = False) -> torch.Tensor:
    return sample_ddpm(ddpm, n, device, seed, steps=steps, eta=eta, digit=digit, guidance=guidance,
                       all_digits=all_digits)


def data(config: DDPMConfig, root: str | Path | None = None) -> TensorDataset:
    return load_mnist(root=root, train=True, n=config.n_train)


DDPM_FAMILY = Family(name="ddpm", title="DDPM", config=DDPMConfig, build=build, train=train, sample=sample, data=data,
                     sample_options=DDPMSampling,
                     cli_fields=("train_steps", "batch_size", "lr", "T", "schedule", "channels", "ema_decay",
                                 "n_train", "conditional"),
                     description="notebook 07's UNet DDPM (class-conditional unless --no-conditional)",
                     tiny={"train_steps": 3, "batch_size": 8, "n_train": 64, "channels": (8, 8), "T": 50,
                           "warmup": 1})
