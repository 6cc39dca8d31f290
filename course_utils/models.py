"""The registry of model families: build, train, sample, save and load any model of the course.

Every family (``course_utils.families``) provides the same five things, with the same
signatures: a config dataclass, ``build``, ``train`` (returns a history), ``sample(n, device,
seed, **options)`` (float32 images on the CPU, (n, 1, H, W), in the model range [-1, 1]) and
the training data of its recipe. This module lists them and adds what is the same for all:

    >>> from course_utils import models
    >>> trained = models.fit("dcgan", epochs=2, n_train=512)        # build, load data, train
    >>> models.save("dcgan.pt", trained)                             # one checkpoint format
    >>> trained = models.load("dcgan.pt")                            # weights_only=True
    >>> images = trained.sample(64, seed=0)                          # (64, 1, 28, 28) in [-1, 1]

The command line (``course_utils.cli``), the scoreboard and the notebooks reach every family
through here. Adding a family: one module in ``course_utils/families/`` and one line in
``FAMILIES`` below.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from .device import DeviceLike, get_device
from .families import ddpm, gans, ising, vae
from .families.base import Family, config_from_dict

__all__ = ["FAMILIES", "Family", "Trained", "get", "family_of", "build", "fit", "wrap", "save", "load"]

FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        gans.MLP_GAN,
        gans.DCGAN,
        gans.CDCGAN,
        gans.WGAN_GP,
        vae.VAE_FAMILY,
        ddpm.DDPM_FAMILY,
        ising.ISING_RBM,
        ising.ISING_GAN,
        ising.ISING_DDPM,
        ising.ISING_AR,
    )
}


@dataclass
class Trained:
    """A model of a family with its config, its training history and, for loaded ones, ``meta``."""

    family: Family
    model: nn.Module
    config: Any
    history: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.family.name

    def sample(self, n: int, device: DeviceLike = None, seed: int | None = 0, **options: Any) -> torch.Tensor:
        """``n`` samples, float32 on the CPU, (n, 1, H, W) in [-1, 1]; ``options`` as the family takes them."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive whole number of samples, got {n!r}")
        options = self.family.check_options(options)
        images = self.family.sample(self.model, n, get_device(device), seed, **options)
        return images.detach().float().cpu()


def get(name: str) -> Family:
    """The family called ``name`` (or one of its aliases, e.g. ``gan`` for ``mlp-gan``)."""
    if isinstance(name, Family):
        return name
    for family in FAMILIES.values():
        if name == family.name or name in family.aliases:
            return family
    raise ValueError(f"unknown model family {name!r}; known: {', '.join(FAMILIES)}")


def family_of(config: Any) -> Family:
    """The family whose config ``config`` is (for the GANs: by its architecture)."""
    matches = [f for f in FAMILIES.values() if isinstance(config, f.config)]
    if len(matches) > 1:
        architecture = getattr(config, "architecture", None)
        matches = [f for f in matches if f.new_config().__dict__.get("architecture") == architecture]
    if len(matches) != 1:
        raise ValueError(f"no single model family takes a {type(config).__name__}")
    return matches[0]


def build(name: str | Family, config: Any = None, device: DeviceLike = None, **overrides: Any) -> Trained:
    """A fresh, untrained model of family ``name`` (config: ``config`` or the defaults with ``overrides``)."""
    family = get(name)
    config = _config(family, config, overrides)
    return Trained(family, family.build(config, get_device(device)), config)


def _config(family: Family, config: Any, overrides: dict[str, Any]) -> Any:
    if config is None:
        return family.new_config(**overrides)
    if not isinstance(config, family.config):
        raise TypeError(f"a {family.name} model takes a {family.config.__name__}, got {type(config).__name__}")
    return dataclasses.replace(config, **overrides) if overrides else config


def fit(name: str | Family, config: Any = None, data: Any = None, device: DeviceLike = None, seed: int = 1,
        progress: bool = True, monitor: Any = None, data_root: str | Path | None = None,
        **overrides: Any) -> Trained:
    """Build a model of family ``name``, get its recipe's training data (unless ``data`` is given)
    and train it: the short form of build / data / train for any family."""
    device = get_device(device)
    family = get(name)
    config = _config(family, config, overrides)
    if data is None:
        data = family.data(config, data_root)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)  # the initial weights: drawn from the seed, the caller's state kept
        model = family.build(config, device)
    history = family.train(model, data, config, device, seed=seed, progress=progress, monitor=monitor)
    return Trained(family, model, config, history, {"data": getattr(data, "source", "given"), "seed": seed})


def wrap(model: nn.Module, config: Any, history: dict[str, Any] | None = None) -> Trained:
    """A model trained outside ``fit`` (e.g. with the lecture's own loop) as a ``Trained`` of its family."""
    return Trained(family_of(config), model, config, dict(history or {}))


def save(path: str | Path, trained: Trained, meta: dict[str, Any] | None = None) -> Path:
    """Write ``trained`` in the checkpoint format of ``course_utils.checkpoints``."""
    return save_checkpoint(path, trained.family.name, trained.model, dataclasses.asdict(trained.config),
                           trained.history, {**trained.meta, **(meta or {})})


def load(path: str | Path, device: DeviceLike = None, family: str | None = None) -> Trained:
    """Load a checkpoint of any family (``weights_only=True``), its model in eval mode on ``device``.

    ``family``: the family expected (a one-line ``CheckpointError`` names the file if it holds
    another). A corrupt or foreign file is a one-line ``CheckpointError`` too.
    """
    payload = load_checkpoint(path)
    try:
        found = get(payload["family"])
    except ValueError:
        raise CheckpointError(f"{path} holds a model of family {payload['family']!r}, which this version "
                              f"does not know (known: {', '.join(FAMILIES)})") from None
    if family is not None and found is not get(family):
        raise CheckpointError(f"{path} holds a {found.name} model, not a {get(family).name} one")
    try:
        config = config_from_dict(found.config, payload["config"])
        model = found.build(config, get_device(device))
        model.load_state_dict(payload["state_dict"])
    except (TypeError, ValueError, RuntimeError, KeyError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path} does not match the {found.name} family's networks: {first_line}") from None
    return Trained(found, model.eval(), config, payload.get("history", {}), payload.get("meta", {}))
