"""The VAE family: notebook 00's MLP VAE, trained on the ELBO; samples are the decoder's means."""
from __future__ import annotations

from typing import Any

import torch

from ..data import split_of
from ..summary.vae import VAE, VAEConfig, build_vae, sample_vae, train_vae
from .base import DigitFamily, Monitor, NoOptions, ProfileLike, no_monitor, profile_of

__all__ = ["VAEFamily"]


class VAEFamily(DigitFamily[VAEConfig, VAE, NoOptions]):
    name = "vae"
    title = "VAE"
    description = "the MLP variational autoencoder of notebook 00"
    config_type = VAEConfig
    cli_fields = ("epochs", "batch_size", "latent_dim", "hidden", "lr", "n_train")

    def recipe(self, profile: ProfileLike = None) -> VAEConfig:
        """Notebook 00's VAE: a 20-dimensional latent, the profile's epochs and digits."""
        P = profile_of(profile)
        return VAEConfig(latent_dim=20, epochs=P.vae_epochs, n_train=P.vae_n_train)

    def tiny(self) -> VAEConfig:
        return VAEConfig(epochs=1, n_train=256, hidden=32, latent_dim=4)

    def build(self, config: VAEConfig, device: torch.device) -> VAE:
        return build_vae(config, device)

    def train(self, model: VAE, data: Any, config: VAEConfig, device: torch.device, seed: int = 1,
              progress: bool = True, monitor: Monitor | None = None) -> dict[str, Any]:
        no_monitor(monitor, "VAE")
        images, _ = split_of(data)
        return train_vae(model, images, config, device, seed=seed, progress=progress)

    def sample(self, model: VAE, n: int, device: torch.device, seed: int | None,
               options: NoOptions) -> torch.Tensor:
        return sample_vae(model, n, device, seed)
