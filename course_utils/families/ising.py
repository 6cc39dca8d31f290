"""The Ising families: generative models of 2-D Ising configurations, samples ``SPINS``.

* ``ising-rbm``  -- the binary RBM of notebook 00b on spins mapped to {0, 1}, PCD-k at ONE
  temperature, Gibbs sampling (``course_utils.ising.rbm``);
* ``ising-gan``  -- a temperature-conditioned GAN with circular convolutions (``ising.gan``);
* ``ising-ddpm`` -- a temperature-conditioned diffusion model with a circular denoiser, spins +-1,
  a sign at the end (``ising.diffusion``);
* ``ising-ar``   -- a temperature-conditioned autoregressive network with the exact Markov context,
  trained by maximum likelihood, exact sampling (``ising.autoregressive``); with the sampling option
  ``mh_steps`` its draws are corrected by independence Metropolis-Hastings with the exact weight.

Every config names the lattice ``size`` L, the training ``temperatures``, the data
(``n_per_temperature`` Monte Carlo configurations per temperature from ``chains`` chains and
``data_seed``: the cache key of ``ising.ising_dataset``) and the training budget;
``recipe(profile)`` is notebook 09's (the ``ising_*`` sizes of the profile).
``data(config, root)`` is that Monte Carlo ``TensorDataset`` (``root`` is unused: the data are
simulated and cached under the artifacts folder). ``sample(model, n, device, seed, options)``:
float32 (n, 1, L, L) of +-1; a conditional model takes any temperature T > 0 (``None``: the
trained temperatures in equal blocks); the RBM only its own.
"""
from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn
from torch.utils.data import TensorDataset

from ..ising.autoregressive import (
    IsingAR,
    IsingARConfig,
    log_prob,
    sample_ar,
    sample_ar_mh,
    train_ar,
)
from ..ising.conditioning import LatticeData, check_temperature, temperature_rows
from ..ising.data import ising_dataset
from ..ising.diffusion import IsingDDPM, IsingDDPMConfig, sample_ising_ddpm, train_ising_ddpm
from ..ising.gan import IsingGAN, IsingGANConfig, sample_ising_gan, train_ising_gan
from ..ising.rbm import (
    IsingRBM,
    IsingRBMConfig,
    check_rbm_temperature,
    sample_ising_rbm,
    train_ising_rbm,
)
from ..profiles import Profile
from .base import SPINS, ExactDensity, Family, Monitor, ProfileLike, no_monitor, profile_of

__all__ = ["IsingFamily", "IsingRBMFamily", "IsingGANFamily", "IsingDDPMFamily", "IsingARFamily",
           "IsingSampling", "IsingARSampling", "IsingDDPMSampling", "IsingRBMSampling"]

_TEMPERATURE_HELP = ("the temperature T > 0 (units of J/k_B) to sample at "
                     "(default: the trained ones in turn)")


@dataclass(frozen=True)
class IsingSampling:
    """The temperature to draw at (None: the trained temperatures in equal blocks)."""

    temperature: float | None = field(default=None, metadata={"help": _TEMPERATURE_HELP})

    def __post_init__(self) -> None:
        if self.temperature is not None:
            check_temperature(self.temperature)


@dataclass(frozen=True)
class IsingARSampling(IsingSampling):
    """Temperature; ``mh_steps`` independence Metropolis-Hastings steps with the exact Boltzmann
    weight (0: the network's own samples; see ``ising.autoregressive.sample_ar_mh``)."""

    mh_steps: int = field(default=0, metadata={
        "help": "independence Metropolis-Hastings steps with the exact Boltzmann weight (default "
                "0)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mh_steps < 0:
            raise ValueError(f"mh_steps must be a whole number >= 0, got {self.mh_steps}")


@dataclass(frozen=True)
class IsingDDPMSampling(IsingSampling):
    """Temperature; DDIM ``steps`` and noise ``eta`` (1: ancestral sampling on the sub-chain)."""

    steps: int = field(default=50,
                       metadata={"help": "sampler steps (network evaluations per sample)"})
    eta: float = field(default=1.0,
                       metadata={"help": "DDIM noise in [0, 1] (default 1: ancestral)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.steps < 1:
            raise ValueError(f"steps must be a positive whole number, got {self.steps}")
        if not 0.0 <= self.eta <= 1.0:
            raise ValueError(f"eta must lie in [0, 1], got {self.eta}")


@dataclass(frozen=True)
class IsingRBMSampling(IsingSampling):
    """The RBM's one temperature (or None) and the number of block-Gibbs ``steps``."""

    steps: int = field(default=500,
                       metadata={"help": "block-Gibbs sweeps of the RBM (default 500)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.steps < 1:
            raise ValueError(f"steps must be a positive whole number, got {self.steps}")


_DATA_FIELDS = ("size", "temperatures", "n_per_temperature", "chains")
_TINY_DATA = {"size": 8, "temperatures": (2.0, 2.5), "n_per_temperature": 64, "chains": 16}


class IsingFamily(Family):
    """What the Ising families share: Monte Carlo data named by the config, spins as samples."""

    samples = SPINS
    module: ClassVar[type[nn.Module]]
    tiny_overrides: ClassVar[dict[str, Any]]

    @abstractmethod
    def profile_overrides(self, P: Profile) -> dict[str, Any]:
        """The family's own recipe fields in profile ``P`` (network size, budget)."""

    def recipe(self, profile: ProfileLike = None) -> LatticeData:
        """Notebook 09's recipe: the profile's lattice, temperatures and
        data, and the family's budget."""
        P = profile_of(profile)
        common = {"size": P.ising_L, "temperatures": tuple(P.ising_temperatures),
                  "n_per_temperature": P.ising_n_configs, "chains": P.ising_chains,
                  "data_seed": P.ising_seed}
        return self.config_type(**{**common, **self.profile_overrides(P)})

    def tiny(self) -> LatticeData:
        return self.config_type(**{**_TINY_DATA, **self.tiny_overrides})

    def build(self, config: Any, device: torch.device) -> nn.Module:
        return self.module(config).to(device)

    def data(self, config: Any, root: str | Path | None = None) -> TensorDataset:
        return ising_dataset(config.size, config.temperatures, config.n_per_temperature,
                             config.data_seed, chains=config.chains, num_threads=1)

    @staticmethod
    def temperatures_of(model: nn.Module, n: int, options: IsingSampling) -> torch.Tensor:
        """The temperature of each of ``n`` samples (None: the trained
        temperatures in equal blocks)."""
        return temperature_rows(n, options.temperature, model.config.temperatures)


class IsingRBMFamily(IsingFamily):
    name = "ising-rbm"
    title = "RBM (one T, PCD)"
    description = ("the binary RBM of notebook 00b on Ising spins at one temperature "
                   "(PCD-k, Gibbs sampling)")
    config_type = IsingRBMConfig
    options_type = IsingRBMSampling
    module = IsingRBM
    cli_fields = (*_DATA_FIELDS, "hidden", "epochs", "k", "persistent", "batch_size", "lr")
    tiny_overrides = {"temperatures": (2.5,), "hidden": 8, "epochs": 1, "k": 1, "batch_size": 16}

    def profile_overrides(self, P: Profile) -> dict[str, Any]:
        return {"temperatures": (P.ising_rbm_temperature,), "hidden": P.ising_rbm_hidden,
                "epochs": P.ising_rbm_epochs, "lr": P.ising_rbm_lr}

    def sampling(self, profile: ProfileLike = None) -> IsingRBMSampling:
        return IsingRBMSampling(steps=profile_of(profile).ising_rbm_gibbs_steps)

    def train(self, model: IsingRBM, data: Any, config: IsingRBMConfig, device: torch.device,
              seed: int = 1, progress: bool = True,
              monitor: Monitor | None = None) -> dict[str, Any]:
        no_monitor(monitor, "RBM")
        configs, temps = data.tensors[:2]
        if not bool(torch.all((temps - model.temperature).abs() < 1e-5)):
            raise ValueError(f"the RBM is trained at T = {model.temperature:g}; its data hold "
                             "other temperatures")
        return train_ising_rbm(model, configs, device, seed=seed, progress=progress)

    def sample(self, model: IsingRBM, n: int, device: torch.device, seed: int | None,
               options: IsingRBMSampling) -> torch.Tensor:
        check_rbm_temperature(model, options.temperature)
        return sample_ising_rbm(model, n, device, seed, options.steps)


class ConditionalIsingFamily(IsingFamily):
    """A temperature-conditioned model: ``trainer(model, configs, temperatures, device, seed,
    progress)`` learns p(s | T) from the (configuration, temperature) pairs of the data."""

    trainer: ClassVar[Callable[..., dict[str, Any]]]

    def train(self, model: nn.Module, data: Any, config: Any, device: torch.device, seed: int = 1,
              progress: bool = True, monitor: Monitor | None = None) -> dict[str, Any]:
        no_monitor(monitor, self.title)
        configs, temps = data.tensors[:2]
        return self.trainer(model, configs, temps, device, seed=seed, progress=progress)


class IsingGANFamily(ConditionalIsingFamily):
    name = "ising-gan"
    title = "conditional GAN"
    description = "a temperature-conditioned GAN with circular convolutions (Mirza & Osindero 2014)"
    config_type = IsingGANConfig
    options_type = IsingSampling
    module = IsingGAN
    trainer = staticmethod(train_ising_gan)
    cli_fields = (*_DATA_FIELDS, "z_size", "channels", "train_steps", "batch_size", "lr")
    tiny_overrides = {"z_size": 8, "channels": 4, "train_steps": 3, "batch_size": 8}

    def profile_overrides(self, P: Profile) -> dict[str, Any]:
        return {"channels": P.ising_gan_channels, "train_steps": P.ising_gan_steps}

    def sample(self, model: IsingGAN, n: int, device: torch.device, seed: int | None,
               options: IsingSampling) -> torch.Tensor:
        return sample_ising_gan(model, self.temperatures_of(model, n, options), device, seed)


class IsingDDPMFamily(ConditionalIsingFamily):
    name = "ising-ddpm"
    title = "conditional DDPM"
    description = ("a temperature-conditioned diffusion model with a circular denoiser "
                   "(spins +-1, a sign at the end)")
    config_type = IsingDDPMConfig
    options_type = IsingDDPMSampling
    module = IsingDDPM
    trainer = staticmethod(train_ising_ddpm)
    cli_fields = (*_DATA_FIELDS, "channels", "blocks", "diffusion_steps", "train_steps",
                  "batch_size", "lr", "ema_decay")
    tiny_overrides = {"channels": 8, "blocks": 2, "diffusion_steps": 20, "train_steps": 3,
                      "batch_size": 8}

    def profile_overrides(self, P: Profile) -> dict[str, Any]:
        return {"channels": P.ising_ddpm_channels, "train_steps": P.ising_ddpm_steps}

    def sampling(self, profile: ProfileLike = None) -> IsingDDPMSampling:
        return IsingDDPMSampling(steps=profile_of(profile).ising_ddpm_sample_steps, eta=1.0)

    def sample(self, model: IsingDDPM, n: int, device: torch.device, seed: int | None,
               options: IsingDDPMSampling) -> torch.Tensor:
        return sample_ising_ddpm(model, self.temperatures_of(model, n, options), device, seed,
                                 steps=options.steps, eta=options.eta)


class IsingARFamily(ConditionalIsingFamily, ExactDensity):
    name = "ising-ar"
    title = "autoregressive (exact context)"
    description = ("a temperature-conditioned autoregressive network, maximum likelihood, exact "
                   "sampling (Wu, Wang & Zhang 2019)")
    config_type = IsingARConfig
    options_type = IsingARSampling
    module = IsingAR
    trainer = staticmethod(train_ar)
    cli_fields = (*_DATA_FIELDS, "hidden", "depth", "train_steps", "batch_size", "lr")
    tiny_overrides = {"hidden": 16, "train_steps": 3, "batch_size": 8}

    def profile_overrides(self, P: Profile) -> dict[str, Any]:
        return {"hidden": P.ising_ar_hidden, "train_steps": P.ising_ar_steps}

    def sample(self, model: IsingAR, n: int, device: torch.device, seed: int | None,
               options: IsingARSampling) -> torch.Tensor:
        temps = self.temperatures_of(model, n, options)
        if options.mh_steps:
            return sample_ar_mh(model, temps, device, seed, options.mh_steps)[0]
        return sample_ar(model, temps, device, seed)

    def sample_with_log_q(self, model: IsingAR, n: int, device: torch.device, seed: int | None,
                          options: IsingARSampling) -> tuple[torch.Tensor, torch.Tensor]:
        """The network's samples and log q(s | T) of each (with ``mh_steps``, of the corrected
        chain's states under the network)."""
        samples = self.sample(model, n, device, seed, options)
        temps = self.temperatures_of(model, n, options)
        with torch.no_grad():
            log_q = log_prob(model, samples.to(device), temps.to(device))
        return samples, log_q.float().cpu()
