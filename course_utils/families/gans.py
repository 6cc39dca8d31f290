"""The GAN families: the lecture's MLP GAN, the DCGAN, the conditional DCGAN and the WGAN-GP.

They share ``course_utils.gan``'s networks, steps and training loop (``train_gan``) and differ only
in their ``GANConfig`` (``gan_config(architecture=...)``): networks, loss, Adam's settings,
``n_critic``. ``monitor(epoch, gen_model)`` is ``train_gan``'s ``on_epoch_end`` hook. ``sample``
draws g(z), z ~ p_z; the conditional DCGAN draws g(z, y) for the digits y = 0-9 in turn, or one
``digit``.

Recipes: the MLP GAN's is notebook 03's run (the lecture's hyperparameters, ``gan_*`` sizes of
the profile); the convolutional ones are notebook 08's (``zoo_*``: a budget in images seen, so a
run takes as long with 4,000 digits as with 60,000).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from ..gan import GAN, GANConfig, build_gan, gan_config, sample_gan, train_gan
from .base import DigitFamily, Monitor, NoOptions, ProfileLike, profile_of

__all__ = ["GANFamily", "MLPGAN", "DCGAN", "ConditionalDCGAN", "WGANGP", "ConditionalSampling"]


@dataclass(frozen=True)
class ConditionalSampling:
    """How the conditional DCGAN draws: the digits 0-9 in turn, or only ``digit``."""

    digit: int | None = field(default=None, metadata={"help": "draw only this digit (0-9)"})
    all_digits: bool = field(default=False, metadata={
        "help": "draw the digits 0-9 in turn: a sample of p(x) with p(y) uniform (the conditional "
                "DCGAN does so without it too)"})

    def __post_init__(self) -> None:
        if self.digit is not None and not 0 <= self.digit <= 9:
            raise ValueError(f"digit must be one of 0-9, got {self.digit}")
        if self.digit is not None and self.all_digits:
            raise ValueError("choose digit or all_digits, not both")


class GANFamily(DigitFamily[GANConfig, GAN, Any]):
    """A GAN of ``course_utils.gan``: its architecture names its networks and defaults."""

    config_type = GANConfig
    architecture: ClassVar[str]
    cli_fields = ("epochs", "train_images", "batch_size", "z_size", "mode_z", "n_filters",
                  "n_train")
    tiny_overrides: ClassVar[dict[str, Any]] = {"epochs": 1, "n_train": 256, "batch_size": 32,
                                                "n_filters": 8}

    def new_config(self, **overrides: Any) -> GANConfig:
        super().new_config(**overrides)  # unknown names: one line
        return gan_config(architecture=self.architecture, **overrides)

    def recipe(self, profile: ProfileLike = None) -> GANConfig:
        P = profile_of(profile)
        return gan_config(architecture=self.architecture, n_filters=P.zoo_n_filters,
                          train_images=P.zoo_train_images, sample_epochs=None)

    def tiny(self) -> GANConfig:
        return self.new_config(**self.tiny_overrides)

    def build(self, config: GANConfig, device: torch.device) -> GAN:
        return build_gan(config, device)

    def train(self, model: GAN, data: Any, config: GANConfig, device: torch.device, seed: int = 1,
              progress: bool = True, monitor: Monitor | None = None) -> dict[str, Any]:
        return train_gan(model.gen_model, model.disc_model, data, config, device, seed=seed,
                         on_epoch_end=monitor, progress=progress)

    def sample(self, model: GAN, n: int, device: torch.device, seed: int | None,
               options: Any) -> torch.Tensor:
        config = model.config
        return sample_gan(model.gen_model, n, config.z_size, config.mode_z, device, seed)


class MLPGAN(GANFamily):
    name = "mlp-gan"
    title = "MLP GAN (lecture)"
    description = "the lecture's MLP GAN"
    aliases = ("gan",)
    architecture = "mlp"
    options_type = NoOptions

    def recipe(self, profile: ProfileLike = None) -> GANConfig:
        """Notebook 03's run: the lecture's hyperparameters, the profile's epochs and digits."""
        P = profile_of(profile)
        return gan_config(z_size=20, mode_z="uniform", epochs=P.gan_epochs,
                          batch_size=P.gan_batch_size, n_train=P.gan_n_train,
                          sample_epochs=P.gan_sample_epochs)


class DCGAN(GANFamily):
    name = "dcgan"
    title = "DCGAN"
    description = "the convolutional GAN of Radford et al. (2016)"
    architecture = "dcgan"


class WGANGP(GANFamily):
    name = "wgan-gp"
    title = "WGAN-GP"
    description = "a DCGAN generator against a Wasserstein critic with gradient penalty"
    architecture = "wgan-gp"


class ConditionalDCGAN(GANFamily):
    name = "cdcgan"
    title = "Conditional DCGAN"
    description = "the DCGAN told which digit to draw (a conditional GAN, Mirza & Osindero 2014)"
    architecture = "cdcgan"
    options_type = ConditionalSampling

    def sample(self, model: GAN, n: int, device: torch.device, seed: int | None,
               options: ConditionalSampling) -> torch.Tensor:
        config = model.config
        y = None if options.digit is None else [options.digit] * n  # None: the digits in turn
        return sample_gan(model.gen_model, n, config.z_size, config.mode_z, device, seed, y=y)

    def scoreboard_sampling(self, config: GANConfig, all_digits: bool, steps: int | None,
                            eta: float | None) -> tuple[str, ConditionalSampling]:
        return f"{self.title}, digits 0-9", self.options()
