"""The registry of model families: build, train, sample, save and load any model of the course.

Every family (``course_utils.families``) is a subclass of ``families.base.Family``: a config
dataclass that records the whole recipe, ``recipe(profile)``, ``build``, ``data``, ``train`` and
``sample``. This module registers one instance of each (checking it against the contract) and adds
what is the same for all::

    >>> from course_utils import models
    >>> config = models.recipe("dcgan")                        # notebook 08's recipe, this profile
    >>> trained = models.fit("dcgan", config)                  # data, build, train
    >>> models.save("dcgan.pt", trained)                       # one checkpoint format
    >>> trained = models.load("dcgan.pt")                      # weights_only=True
    >>> images = trained.sample(64, seed=0)                    # (64, 1, 28, 28) in [-1, 1]

The command line (``course_utils.cli``), the scoreboard, ``scripts/pretrain.py`` and the
notebooks reach every family through here. Adding a family: a module in
``course_utils/families/`` with a ``Family`` subclass, and one line in ``FAMILIES`` below.
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
from .families import ddpm, flows, gans, ising, phi4, vae
from .families.base import (
    PROFILE_NAMES,
    ExactDensity,
    Family,
    NoOptions,
    ProfileLike,
    config_from_dict,
    field_specs,
)

__all__ = ["FAMILIES", "Family", "Trained", "register", "get", "family_of", "recipe", "build",
           "fit", "wrap", "save", "load"]

FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    """Add ``family`` to ``FAMILIES`` after checking it keeps the contract of ``families.base``:
    config and sampling options are frozen dataclasses whose fields the command line can offer
    (``field_specs`` reads their types), every ``cli_fields`` entry is a config field, and the
    recipe of every profile and the ``tiny`` config are configs of the family. A broken family is
    a ``TypeError`` naming it, at import time."""
    if not isinstance(family, Family):
        raise TypeError(f"{family!r} is not a course_utils.families.base.Family")
    name = getattr(family, "name", None)
    if not name or name in FAMILIES or any(name in f.aliases for f in FAMILIES.values()):
        raise TypeError(f"family {name!r}: a family needs a new, unique name")
    for what in ("config_type", "options_type"):
        cls = getattr(family, what)
        params = getattr(cls, "__dataclass_params__", None)
        if params is None or not params.frozen:
            raise TypeError(f"family {name}: its {what} {cls!r} must be a frozen dataclass")
        try:
            field_specs(cls)
        except TypeError as err:
            raise TypeError(f"family {name}: {cls.__name__} {err}") from None
    fields = set(field_specs(family.config_type))
    missing = sorted(set(family.cli_fields) - fields)
    if missing:
        raise TypeError(f"family {name}: cli_fields {missing} are not fields of "
                        f"{family.config_type.__name__}")
    for label, config in [("tiny", family.tiny()), *((p, family.recipe(p)) for p in PROFILE_NAMES)]:
        if not isinstance(config, family.config_type):
            raise TypeError(f"family {name}: its {label} recipe is a {type(config).__name__}, "
                            f"not a {family.config_type.__name__}")
    if not isinstance(family.sampling(), family.options_type):
        raise TypeError(f"family {name}: sampling() must return a {family.options_type.__name__}")
    FAMILIES[name] = family
    return family


for _family in (gans.MLPGAN(), gans.DCGAN(), gans.ConditionalDCGAN(), gans.WGANGP(),
                vae.VAEFamily(), ddpm.DDPMFamily(), flows.RealNVPFamily(),
                flows.FlowMatchingFamily(), ising.IsingRBMFamily(), ising.IsingGANFamily(),
                ising.IsingDDPMFamily(), ising.IsingARFamily(), phi4.Phi4FlowFamily()):
    register(_family)


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

    def sample(self, n: int, device: DeviceLike = None, seed: int | None = 0,
               **options: Any) -> torch.Tensor:
        """``n`` samples, float32 on the CPU, (n, 1, H, W); ``options`` as
        the family's ``options_type``."""
        device = get_device(device)
        samples = self.family.sample(self.model, _count(n), device, seed,
                                     self.family.options(**options))
        return samples.detach().float().cpu()

    def sample_with_log_q(self, n: int, device: DeviceLike = None, seed: int | None = 0,
                          **options: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """(samples as ``sample`` gives them, their exact log q) for a
        family with an exact density."""
        if not isinstance(self.family, ExactDensity):
            raise ValueError(f"a {self.name} model has no exact density: only flows and "
                             f"autoregressive models give log q of their samples")
        device = get_device(device)
        samples, log_q = self.family.sample_with_log_q(self.model, _count(n), device, seed,
                                                       self.family.options(**options))
        return samples.detach().float().cpu(), log_q.detach().double().cpu()


def _count(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive whole number of samples, got {n!r}")
    return n


def get(name: str | Family) -> Family:
    """The family called ``name`` (or one of its aliases, e.g. ``gan`` for ``mlp-gan``)."""
    if isinstance(name, Family):
        return name
    for family in FAMILIES.values():
        if name == family.name or name in family.aliases:
            return family
    raise ValueError(f"unknown model family {name!r}; known: {', '.join(FAMILIES)}")


def family_of(config: Any) -> Family:
    """The family whose config ``config`` is (for the GANs, which share
    ``GANConfig``: by architecture)."""
    matches = [f for f in FAMILIES.values() if isinstance(config, f.config_type)]
    if len(matches) > 1:
        matches = [f for f in matches
                   if getattr(f, "architecture", None) == getattr(config, "architecture", None)]
    if len(matches) != 1:
        raise ValueError(f"no single model family takes a {type(config).__name__}")
    return matches[0]


def recipe(name: str | Family, profile: ProfileLike = None, **overrides: Any) -> Any:
    """The family's config in ``profile`` (default ``COURSE_PROFILE``), some fields replaced."""
    config = get(name).recipe(profile)
    return dataclasses.replace(config, **overrides) if overrides else config


def build(name: str | Family, config: Any = None, device: DeviceLike = None,
          **overrides: Any) -> Trained:
    """A fresh, untrained model of family ``name`` (config: ``config`` or the
    defaults with ``overrides``)."""
    family = get(name)
    config = _config(family, config, overrides)
    return Trained(family, family.build(config, get_device(device)), config)


def _config(family: Family, config: Any, overrides: dict[str, Any]) -> Any:
    if config is None:
        return family.new_config(**overrides)
    if not isinstance(config, family.config_type):
        raise TypeError(f"a {family.name} model takes a {family.config_type.__name__}, got "
                        f"{type(config).__name__}")
    return dataclasses.replace(config, **overrides) if overrides else config


def fit(name: str | Family, config: Any = None, data: Any = None, device: DeviceLike = None,
        seed: int = 1, progress: bool = True, monitor: Any = None,
        data_root: str | Path | None = None, **overrides: Any) -> Trained:
    """Build a model of family ``name``, get its recipe's training data (unless ``data`` is given)
    and train it: the short form of build / data / train for any family. ``config`` defaults to
    the family's defaults with ``overrides`` (use ``recipe(name)`` for a profile's recipe)."""
    device = get_device(device)
    family = get(name)
    config = _config(family, config, overrides)
    if data is None:
        data = family.data(config, data_root)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)  # the initial weights: drawn from the seed, the caller's state kept
        model = family.build(config, device)
    history = family.train(model, data, config, device, seed=seed, progress=progress,
                           monitor=monitor)
    return Trained(family, model, config, history,
                   {"data": getattr(data, "source", "given"), "seed": seed})


def wrap(model: nn.Module, config: Any, history: dict[str, Any] | None = None) -> Trained:
    """A model trained outside ``fit`` (e.g. with the lecture's own loop) as
    a ``Trained`` of its family."""
    return Trained(family_of(config), model, config, dict(history or {}))


def save(path: str | Path, trained: Trained, meta: dict[str, Any] | None = None) -> Path:
    """Write ``trained`` in the checkpoint format of ``course_utils.checkpoints``."""
    return save_checkpoint(path, trained.family.name, trained.model,
                           dataclasses.asdict(trained.config), trained.history,
                           {**trained.meta, **(meta or {})})


def load(path: str | Path, device: DeviceLike = None, family: str | None = None) -> Trained:
    """Load a checkpoint of any family (``weights_only=True``), its
    model in eval mode on ``device``.

    ``family``: the family expected (a one-line ``CheckpointError`` names the file if it holds
    another). A corrupt or foreign file is a one-line ``CheckpointError`` too.
    """
    payload = load_checkpoint(path)
    try:
        found = get(payload["family"])
    except ValueError:
        raise CheckpointError(f"{path} holds a model of family {payload['family']!r}, which this "
                              f"version does not know (known: {', '.join(FAMILIES)})") from None
    if family is not None and found is not get(family):
        raise CheckpointError(f"{path} holds a {found.name} model, not a {get(family).name} one")
    try:
        config = config_from_dict(found.config_type, payload["config"])
        model = found.build(config, get_device(device))
        model.load_state_dict(payload["state_dict"])
    except (TypeError, ValueError, RuntimeError, KeyError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path} does not match the {found.name} family's networks: "
                              f"{first_line}") from None
    return Trained(found, model.eval(), config, payload.get("history", {}), payload.get("meta", {}))


__all__ += ["NoOptions"]
