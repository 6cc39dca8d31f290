"""The GAN families: the lecture's MLP GAN, the DCGAN, the conditional DCGAN and the WGAN-GP.

They share ``course_utils.gan``'s networks, steps and training loop and differ only in their
``GANConfig`` (``gan_config(architecture=...)``): networks, loss, Adam's settings, ``n_critic``.
``train`` runs ``train_gan`` with the config's optimisers and budget; ``monitor(epoch,
gen_model)`` is ``train_gan``'s ``on_epoch_end`` hook. ``sample`` draws g(z), z ~ p_z (the conditional DCGAN:
g(z, y) for the digits y = 0-9 in turn).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch.utils.data import TensorDataset

from ..data import load_mnist
from ..device import DeviceLike
from ..gan import GAN, GANConfig, build_gan, gan_config, make_optimizers, sample_gan, train_gan
from .base import Family

__all__ = ["MLP_GAN", "DCGAN", "CDCGAN", "WGAN_GP"]


def build(config: GANConfig, device: DeviceLike = None) -> GAN:
    return build_gan(config, device)


def train(gan: GAN, data: Any, config: GANConfig, device: DeviceLike = None, seed: int = 1,
          progress: bool = True, monitor: Callable[[int, torch.nn.Module], dict[str, float] | None] | None = None
          ) -> dict[str, Any]:
    g_optimizer, d_optimizer = make_optimizers(gan.gen_model, gan.disc_model, config.lr, config.betas)
    return train_gan(gan.gen_model, gan.disc_model, data, config.epochs, config.batch_size, config.z_size,
                     config.mode_z, device, g_optimizer, d_optimizer, config.sample_epochs, seed=seed,
                     on_epoch_end=monitor, progress=progress, loss=config.loss, n_critic=config.n_critic,
                     gp_lambda=config.gp_lambda)


@dataclass(frozen=True)
class ConditionalSampling:
    """How the conditional DCGAN draws: the digits 0-9 in turn, or only ``digit``."""

    digit: int | None = None


def sample(gan: GAN, n: int, device: DeviceLike = None, seed: int | None = 0, digit: int | None = None
           ) -> torch.Tensor:
    y = None if digit is None else [digit] * n
    return sample_gan(gan.gen_model, n, gan.config.z_size, gan.config.mode_z, device, seed, y=y)


def data(config: GANConfig, root: str | Path | None = None) -> TensorDataset:
    return load_mnist(root=root, train=True, n=config.n_train)


def _family(name: str, title: str, architecture: str, description: str, aliases: tuple[str, ...] = (),
            sample_options: type | None = None) -> Family:
    def make_config(**overrides: Any) -> GANConfig:
        return gan_config(architecture=architecture, **overrides)

    return Family(name=name, title=title, config=GANConfig, build=build, train=train, sample=sample, data=data,
                  make_config=make_config, cli_fields=("epochs", "batch_size", "z_size", "mode_z", "n_train"),
                  required=("epochs",), aliases=aliases, description=description, sample_options=sample_options,
                  tiny={"epochs": 1, "n_train": 256, "batch_size": 32, "n_filters": 8})


MLP_GAN = _family("mlp-gan", "MLP GAN (lecture)", "mlp", "the lecture's MLP GAN", aliases=("gan",))
DCGAN = _family("dcgan", "DCGAN", "dcgan", "the convolutional GAN of Radford et al. (2016)")
CDCGAN = _family("cdcgan", "Conditional DCGAN", "cdcgan",
                 "the DCGAN told which digit to draw (a conditional GAN, Mirza & Osindero 2014)",
                 sample_options=ConditionalSampling)
WGAN_GP = _family("wgan-gp", "WGAN-GP", "wgan-gp", "a DCGAN generator against a Wasserstein critic with gradient penalty")
