"""The VAE family: notebook 00's MLP VAE, trained on the ELBO; samples are the decoder's means."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.utils.data import TensorDataset

from ..data import load_mnist, split_of
from ..device import DeviceLike
from ..summary.vae import VAE, VAEConfig, build_vae, sample_vae, train_vae
from .base import Family

__all__ = ["VAE_FAMILY"]


def build(config: VAEConfig, device: DeviceLike = None) -> VAE:
    return build_vae(config, device)


def train(model: VAE, data: Any, config: VAEConfig, device: DeviceLike = None, seed: int = 1,
          progress: bool = True, monitor: None = None) -> dict[str, Any]:
    if monitor is not None:
        raise ValueError("the VAE's training loop takes no monitor")
    images, _ = split_of(data)
    return train_vae(model, images, config.epochs, config.batch_size, config.lr, device, seed=seed, progress=progress)


def sample(model: VAE, n: int, device: DeviceLike = None, seed: int | None = 0) -> torch.Tensor:
    return sample_vae(model, n, device, seed)


def data(config: VAEConfig, root: str | Path | None = None) -> TensorDataset:
    return load_mnist(root=root, train=True, n=config.n_train)


VAE_FAMILY = Family(name="vae", title="VAE", config=VAEConfig, build=build, train=train, sample=sample, data=data,
                    cli_fields=("epochs", "batch_size", "latent_dim", "hidden", "lr", "n_train"),
                    required=("epochs",), description="the MLP variational autoencoder of notebook 00",
                    tiny={"epochs": 1, "n_train": 256, "hidden": 32, "latent_dim": 4})
