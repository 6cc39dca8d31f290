"""The Ising families: generative models of 2-D Ising configurations (issue 16), ``domain="ising"``.

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
``data_seed``: the cache key of ``ising.ising_dataset``) and the training budget. ``data(config,
root)`` is that Monte Carlo ``TensorDataset`` (``root`` is unused: the data are simulated, cached
under the artifacts folder). ``sample(model, n, device, seed, temperature=None, ...)``: float32
(n, 1, L, L) of +-1 on the CPU; a conditional model takes any temperature T > 0 (``None``: the
trained temperatures in equal blocks); the RBM only its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import TensorDataset

from ..device import DeviceLike
from ..profiles import Profile, get_profile
from ..ising.autoregressive import IsingAR, IsingARConfig, sample_ar, sample_ar_mh, train_ar
from ..ising.conditioning import temperature_rows
from ..ising.data import ising_dataset
from ..ising.diffusion import IsingDDPM, IsingDDPMConfig, sample_ising_ddpm, train_ising_ddpm
from ..ising.gan import IsingGAN, IsingGANConfig, sample_ising_gan, train_ising_gan
from ..ising.rbm import IsingRBM, IsingRBMConfig, check_rbm_temperature, sample_ising_rbm, train_ising_rbm
from .base import Family

__all__ = ["profile_recipe", "ISING_RBM", "ISING_GAN", "ISING_DDPM", "ISING_AR", "IsingSampling", "IsingARSampling", "IsingDDPMSampling",
           "IsingRBMSampling"]


@dataclass(frozen=True)
class IsingSampling:
    """The temperature to draw at (None: the trained temperatures in equal blocks)."""

    temperature: float | None = None


@dataclass(frozen=True)
class IsingARSampling:
    """Temperature; ``mh_steps`` independence Metropolis-Hastings steps with the exact Boltzmann weight
    (0: the network's own samples; see ``ising.autoregressive.sample_ar_mh``)."""

    temperature: float | None = None
    mh_steps: int = 0


@dataclass(frozen=True)
class IsingDDPMSampling:
    """Temperature; DDIM ``steps`` and noise ``eta`` (1: ancestral sampling on the sub-chain)."""

    temperature: float | None = None
    steps: int = 50
    eta: float = 1.0


@dataclass(frozen=True)
class IsingRBMSampling:
    """The RBM's one temperature (or None) and the number of block-Gibbs ``steps``."""

    temperature: float | None = None
    steps: int = 500


def data(config: Any, root: str | Path | None = None) -> TensorDataset:
    return ising_dataset(config.size, config.temperatures, config.n_per_temperature, config.data_seed,
                         chains=config.chains, num_threads=1)


def _tensors(data_set: Any) -> tuple[torch.Tensor, torch.Tensor]:
    configs, temperatures = data_set.tensors[:2]
    return configs, temperatures


def _no_monitor(monitor: Any, name: str) -> None:
    if monitor is not None:
        raise ValueError(f"the {name} training loop takes no monitor")


# --- ising-rbm --------------------------------------------------------------------------------------

def _rbm_train(model: IsingRBM, data_set: Any, config: IsingRBMConfig, device: DeviceLike = None, seed: int = 1,
               progress: bool = True, monitor: None = None) -> dict[str, Any]:
    _no_monitor(monitor, "RBM")
    configs, temps = _tensors(data_set)
    if not bool(torch.all((temps - model.temperature).abs() < 1e-5)):
        raise ValueError(f"the RBM is trained at T = {model.temperature:g}; its data hold other temperatures")
    return train_ising_rbm(model, configs, seed=seed, progress=progress)


def _rbm_sample(model: IsingRBM, n: int, device: DeviceLike = None, seed: int | None = 0,
                temperature: float | None = None, steps: int = 500) -> torch.Tensor:
    check_rbm_temperature(model, temperature)
    return sample_ising_rbm(model, n, device, seed, steps)


# --- conditional families ---------------------------------------------------------------------------

def _conditional(trainer, what: str):  # noqa: ANN001, ANN202
    def train(model: Any, data_set: Any, config: Any, device: DeviceLike = None, seed: int = 1,
              progress: bool = True, monitor: None = None) -> dict[str, Any]:
        _no_monitor(monitor, what)
        configs, temps = _tensors(data_set)
        return trainer(model, configs, temps, device, seed=seed, progress=progress)

    return train


def _gan_sample(model: IsingGAN, n: int, device: DeviceLike = None, seed: int | None = 0,
                temperature: float | None = None) -> torch.Tensor:
    return sample_ising_gan(model, temperature_rows(n, temperature, model.config.temperatures), device, seed)


def _ddpm_sample(model: IsingDDPM, n: int, device: DeviceLike = None, seed: int | None = 0,
                 temperature: float | None = None, steps: int = 50, eta: float = 1.0) -> torch.Tensor:
    if isinstance(steps, bool) or int(steps) != steps or int(steps) < 1:
        raise ValueError(f"steps must be a positive whole number, got {steps!r}")
    return sample_ising_ddpm(model, temperature_rows(n, temperature, model.config.temperatures), device, seed,
                             steps=int(steps), eta=eta)


def _ar_sample(model: IsingAR, n: int, device: DeviceLike = None, seed: int | None = 0,
               temperature: float | None = None, mh_steps: int = 0) -> torch.Tensor:
    temps = temperature_rows(n, temperature, model.config.temperatures)
    if mh_steps:
        return sample_ar_mh(model, temps, device, seed, mh_steps)[0]
    return sample_ar(model, temps, device, seed)


_DATA_FIELDS = ("size", "temperatures", "n_per_temperature", "chains")
_TINY_DATA = {"size": 8, "temperatures": (2.0, 2.5), "n_per_temperature": 64, "chains": 16}

ISING_RBM = Family(
    name="ising-rbm", title="RBM (one T, PCD)", config=IsingRBMConfig, build=lambda c, d=None: IsingRBM(c).to(d),
    train=_rbm_train, sample=_rbm_sample, data=data, sample_options=IsingRBMSampling,
    cli_fields=(*_DATA_FIELDS, "hidden", "epochs", "k", "persistent", "batch_size", "lr"), domain="ising",
    description="the binary RBM of notebook 00b on Ising spins at one temperature (PCD-k, Gibbs sampling)",
    tiny={**_TINY_DATA, "temperatures": (2.5,), "hidden": 8, "epochs": 1, "k": 1, "batch_size": 16})

ISING_GAN = Family(
    name="ising-gan", title="conditional GAN", config=IsingGANConfig, build=lambda c, d=None: IsingGAN(c).to(d),
    train=_conditional(train_ising_gan, "GAN"), sample=_gan_sample, data=data, sample_options=IsingSampling,
    cli_fields=(*_DATA_FIELDS, "z_size", "channels", "train_steps", "batch_size", "lr"), domain="ising",
    description="a temperature-conditioned GAN with circular convolutions (Mirza & Osindero 2014)",
    tiny={**_TINY_DATA, "z_size": 8, "channels": 4, "train_steps": 3, "batch_size": 8})

ISING_DDPM = Family(
    name="ising-ddpm", title="conditional DDPM", config=IsingDDPMConfig, build=lambda c, d=None: IsingDDPM(c).to(d),
    train=_conditional(train_ising_ddpm, "DDPM"), sample=_ddpm_sample, data=data, sample_options=IsingDDPMSampling,
    cli_fields=(*_DATA_FIELDS, "channels", "blocks", "diffusion_steps", "train_steps", "batch_size", "lr",
                "ema_decay"), domain="ising",
    description="a temperature-conditioned diffusion model with a circular denoiser (spins +-1, a sign at the end)",
    tiny={**_TINY_DATA, "channels": 8, "blocks": 2, "diffusion_steps": 20, "train_steps": 3, "batch_size": 8})

ISING_AR = Family(
    name="ising-ar", title="autoregressive (exact context)", config=IsingARConfig,
    build=lambda c, d=None: IsingAR(c).to(d), train=_conditional(train_ar, "autoregressive"), sample=_ar_sample,
    data=data, sample_options=IsingARSampling,
    cli_fields=(*_DATA_FIELDS, "hidden", "depth", "train_steps", "batch_size", "lr"), domain="ising",
    description="a temperature-conditioned autoregressive network, maximum likelihood, exact sampling "
                "(Wu, Wang & Zhang 2019)",
    tiny={**_TINY_DATA, "hidden": 16, "train_steps": 3, "batch_size": 8})


def profile_recipe(name: str, profile: str | Profile | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config overrides, sampling options) of family ``name`` in a run profile (``ising_*`` rows of
    ``course_utils.profiles``): the data of ``ising.profile_dataset`` and the profile's budget."""
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    common = {"size": P.ising_L, "temperatures": tuple(P.ising_temperatures), "n_per_temperature": P.ising_n_configs,
              "chains": P.ising_chains, "data_seed": P.ising_seed}
    if name == "ising-ar":
        return {**common, "hidden": P.ising_ar_hidden, "train_steps": P.ising_ar_steps}, {}
    if name == "ising-gan":
        return {**common, "channels": P.ising_gan_channels, "train_steps": P.ising_gan_steps}, {}
    if name == "ising-ddpm":
        return ({**common, "channels": P.ising_ddpm_channels, "train_steps": P.ising_ddpm_steps},
                {"steps": P.ising_ddpm_sample_steps, "eta": 1.0})
    if name == "ising-rbm":
        return ({**common, "temperatures": (P.ising_rbm_temperature,), "hidden": P.ising_rbm_hidden,
                 "epochs": P.ising_rbm_epochs, "lr": P.ising_rbm_lr}, {"steps": P.ising_rbm_gibbs_steps})
    raise ValueError(f"no profile recipe for {name!r}: choose ising-ar, ising-gan, ising-ddpm or ising-rbm")
