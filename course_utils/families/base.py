"""The interface every model family of the course provides, with the same signatures.

A ``Family`` bundles, for one kind of model (the lecture's MLP GAN, the DCGAN, the VAE, the
DDPM, ...):

* ``config`` -- a frozen dataclass: the networks' sizes *and* the training recipe and budget, so a
  checkpoint that stores it says exactly how the model was made; ``make_config(**overrides)``;
* ``build(config, device) -> nn.Module`` -- a fresh model (its ``.config`` attribute is ``config``);
* ``train(model, data, config, device, seed, progress, monitor) -> history`` -- a dict of lists
  and numbers, never a tuple; ``monitor`` is the family's optional per-epoch hook;
* ``sample(model, n, device, seed, **options) -> images`` -- float32 on the CPU, shape
  (n, 1, H, W), values in the model range [-1, 1] (``course_utils.images``): pixels for digits,
  spins +-1 for lattices; the same seed gives the same images;
* ``data(config, root) -> TensorDataset`` -- the training data the recipe names.

``course_utils.models`` registers the families and saves and loads every one of them in the one
checkpoint format of ``course_utils.checkpoints``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

__all__ = ["Family", "config_from_dict"]


@dataclass(frozen=True)
class Family:
    """One model family: its name, its config dataclass and the four functions of the contract."""

    name: str  # registry key and command-line name, e.g. "dcgan"
    title: str  # how tables and figures name it, e.g. "DCGAN"
    config: type  # the config dataclass
    build: Callable[..., nn.Module]
    train: Callable[..., dict[str, Any]]
    sample: Callable[..., torch.Tensor]
    data: Callable[..., Any]
    make_config: Callable[..., Any] | None = None  # defaults to ``config(**overrides)``
    sample_options: type | None = None  # dataclass of the keyword options ``sample`` takes
    cli_fields: tuple[str, ...] = ()  # config fields offered as ``train`` options
    required: tuple[str, ...] = ()  # of those, the ones the command line must be given
    aliases: tuple[str, ...] = ()  # other command-line names (``gan`` for ``mlp-gan``)
    domain: str = "mnist"  # what the samples are: "mnist" digits or "ising" spins
    description: str = ""
    tiny: dict[str, Any] = field(default_factory=dict)  # config overrides for a seconds-long run (tests)

    def new_config(self, **overrides: Any) -> Any:
        """The family's config with ``overrides`` (unknown names are a clear ``TypeError``)."""
        names = {f.name for f in dataclasses.fields(self.config)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(f"{self.name} has no setting {', '.join(unknown)}; its settings: {', '.join(sorted(names))}")
        maker = self.make_config or self.config
        return maker(**overrides)

    def option_names(self) -> tuple[str, ...]:
        """The keyword options ``sample`` accepts."""
        return tuple(f.name for f in dataclasses.fields(self.sample_options)) if self.sample_options else ()

    def check_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """``options`` with the sample options' defaults filled in; an unknown one is a ``ValueError``."""
        known = self.option_names()
        unknown = sorted(set(options) - set(known))
        if unknown:
            accepted = f"it takes {', '.join(known)}" if known else "it takes none"
            raise ValueError(f"a {self.name} model has no sampling option {', '.join(unknown)}: {accepted}")
        if self.sample_options is None:
            return {}
        return dataclasses.asdict(self.sample_options(**{k: v for k, v in options.items() if v is not None}))


def config_from_dict(cls: type, values: dict[str, Any]) -> Any:
    """Rebuild a config dataclass from the plain dict a checkpoint holds (lists back to tuples)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"the checkpoint's config has settings {cls.__name__} does not know: {', '.join(unknown)}")
    converted = {}
    for name, value in values.items():
        if isinstance(value, list) and str(fields[name].type).startswith("tuple"):
            value = tuple(value)
        converted[name] = value
    return cls(**converted)
