"""The contract every model family of the course keeps: an abstract base
class, checked at registration.

A family is one kind of model (the lecture's MLP GAN, the DCGAN, the VAE, the DDPM, ...). Its
subclass of ``Family`` names

* ``config_type`` -- a frozen dataclass holding the networks' sizes *and* every choice of the
  training recipe (data size, budget, optimiser), so a checkpoint that stores it says exactly how
  the model was made; ``recipe(profile)`` is the family's config in a run profile (the one recipe
  that notebooks, ``scripts/pretrain.py`` and the benchmarks use);
* ``options_type`` -- a frozen dataclass of the keyword options ``sample`` takes (``NoOptions``
  when there are none); ``sampling(profile)`` the options a profile samples with;
* ``samples`` -- what its samples are (``DIGITS``, ``SPINS``, ...), which says how they are
  written to a file and whether the scoreboard can score them;

and implements four methods with these signatures:

* ``build(config, device) -> nn.Module`` -- a fresh model on ``device``
  (``model.config`` is ``config``);
* ``data(config, root) -> Dataset`` -- the training data the recipe names (``.source`` says which);
* ``train(model, data, config, device, seed, progress, monitor) -> dict`` -- trains in place,
  reading ``config``'s fields, and returns the history (a dict, never a tuple);
* ``sample(model, n, device, seed, options) -> Tensor`` -- float32 (n, 1, H, W) on ``device`` or the
  CPU, in the model range [-1, 1] for digits and spins; the same seed gives the same samples.

A family whose model has an exact density also derives from ``ExactDensity`` and gives
``sample_with_log_q``: the command line then writes log q beside the samples.

``course_utils.models.register`` checks a family against this contract when it is registered
(config and options are frozen dataclasses whose fields the command line can offer, the recipes
build, the ``tiny`` config trains); ``tests/test_models.py`` runs every registered family through
build, train, save, load and sample.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar

import numpy as np
import torch
from torch import nn

from ..data import load_mnist
from ..images import to_unit_range
from ..profiles import PROFILE_NAMES, Profile, get_profile

__all__ = [
    "Family", "DigitFamily", "ExactDensity", "NoOptions", "no_monitor", "SampleKind", "DIGITS",
    "SPINS", "FIELDS", "FieldSpec", "field_specs", "config_from_dict", "check_options_value",
    "check_guided_options",
]

ConfigT = TypeVar("ConfigT")
ModelT = TypeVar("ModelT", bound=nn.Module)
OptionsT = TypeVar("OptionsT")
ProfileLike = str | Profile | None
Monitor = Callable[[int, nn.Module], "dict[str, float] | None"]


# --- what a family's samples are ---------------------------------------------------------------


@dataclass(frozen=True)
class SampleKind:
    """What the samples of a family are: how they are named, stored and scored.

    ``noun`` names them in messages ("images"), ``key`` in an ``.npz`` file; ``dtype`` and
    ``to_array`` say how ``genlab sample`` writes them; ``digits`` marks the kind the scoreboard
    scores (with the MNIST classifier)."""

    noun: str
    key: str
    to_array: Callable[[torch.Tensor], np.ndarray]
    digits: bool = False


def _digit_array(samples: torch.Tensor) -> np.ndarray:
    """Images in [0, 1], float32 (n, H, W)."""
    n, height, width = len(samples), *samples.shape[-2:]
    return to_unit_range(samples).clamp(0, 1).reshape(n, height, width).numpy().astype(np.float32)


def _spin_array(samples: torch.Tensor) -> np.ndarray:
    """Spins +-1, int8 (n, L, L)."""
    n, height, width = len(samples), *samples.shape[-2:]
    return torch.where(samples >= 0, 1, -1).to(torch.int8).reshape(n, height, width).numpy()


def _field_array(samples: torch.Tensor) -> np.ndarray:
    """Real field values, float32 (n, L, L)."""
    n, height, width = len(samples), *samples.shape[-2:]
    return samples.detach().float().reshape(n, height, width).numpy()


DIGITS = SampleKind("images", "images", _digit_array, digits=True)
SPINS = SampleKind("spin configurations", "spins", _spin_array)
FIELDS = SampleKind("field configurations", "phi", _field_array)


# --- sampling options and config fields, read from their types ---------------------------------


@dataclass(frozen=True)
class NoOptions:
    """A family whose sampler takes no options."""


@dataclass(frozen=True)
class FieldSpec:
    """One config field or sampling option as the command line offers it, read from its type.

    ``kind`` is ``int``, ``float``, ``str`` or ``bool``; ``optional`` when ``None`` is allowed;
    ``choices`` for a ``Literal``; ``nargs`` for a tuple (``"+"`` for ``tuple[int, ...]``)."""

    name: str
    kind: type
    optional: bool
    choices: tuple[Any, ...] | None
    nargs: int | str | None
    help: str | None
    default: Any
    metavar: Any = None


_KINDS = (bool, int, float, str)


def _spec(name: str, annotation: Any, field: dataclasses.Field) -> FieldSpec:
    optional, nargs, choices = False, None, None
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"field {name}: only 'X | None' unions are supported, got {annotation}")
        optional, annotation = True, rest[0]
        args = typing.get_args(annotation)
    if typing.get_origin(annotation) is tuple:
        nargs = "+" if len(args) == 2 and args[1] is Ellipsis else len(args)
        annotation = args[0]
        args = typing.get_args(annotation)
    if typing.get_origin(annotation) is Literal:
        choices = args
        annotation = type(args[0])
    if annotation not in _KINDS:
        raise TypeError(f"field {name}: the command line cannot offer a {annotation!r}")
    default = field.default if field.default is not dataclasses.MISSING else None
    meta = dict(field.metadata)
    if choices is None and "choices" in meta:  # a str field that names its choices
        choices = tuple(meta["choices"])
    return FieldSpec(name, annotation, optional, choices, nargs, meta.get("help"), default,
                     meta.get("metavar"))


def field_specs(cls: type) -> dict[str, FieldSpec]:
    """Every field of the dataclass ``cls`` as a ``FieldSpec``, from its resolved type hints."""
    hints = typing.get_type_hints(cls)
    return {f.name: _spec(f.name, hints[f.name], f) for f in dataclasses.fields(cls)}


def check_options_value(spec: FieldSpec, value: Any) -> Any:
    """``value`` checked against ``spec``'s type: a one-line ``ValueError`` names the option."""
    if value is None:
        if spec.optional:
            return None
        raise ValueError(f"{spec.name} needs a value")
    if spec.kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{spec.name} is true or false, got {value!r}")
        return value
    if spec.kind is int and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
        raise ValueError(f"{spec.name} must be a whole number, got {value!r}")
    if spec.kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise ValueError(f"{spec.name} must be a number, got {value!r}")
        if not math.isfinite(float(value)):
            raise ValueError(f"{spec.name} must be a finite number, got {value!r}")
        value = float(value)
    if spec.choices is not None and value not in spec.choices:
        raise ValueError(f"{spec.name} must be one of {', '.join(map(str, spec.choices))}, got "
                         f"{value!r}")
    return value


# --- the contract -------------------------------------------------------------------------------


class Family(ABC, Generic[ConfigT, ModelT, OptionsT]):
    """One model family. Subclasses set the class attributes and implement the four methods."""

    name: ClassVar[str]  # registry key and command-line name, e.g. "dcgan"
    title: ClassVar[str]  # how tables and figures name it, e.g. "DCGAN"
    description: ClassVar[str]  # one line for `genlab train --help`
    config_type: ClassVar[type]
    options_type: ClassVar[type] = NoOptions
    samples: ClassVar[SampleKind] = DIGITS
    aliases: ClassVar[tuple[str, ...]] = ()  # other command-line names (``gan`` for ``mlp-gan``)
    cli_fields: ClassVar[tuple[str, ...]] = ()  # config fields offered as ``genlab train`` options
    required: ClassVar[tuple[str, ...]] = ()  # of those, the ones the command line must be given

    # -- recipes -------------------------------------------------------------------------------

    @abstractmethod
    def recipe(self, profile: ProfileLike = None) -> ConfigT:
        """The family's config in a run profile (default: ``COURSE_PROFILE``)."""

    def sampling(self, profile: ProfileLike = None) -> OptionsT:
        """The sampling options a profile uses (default: the options' defaults)."""
        return self.options_type()

    @abstractmethod
    def tiny(self) -> ConfigT:
        """A config that trains in a second or two (the contract test, ``scripts/gpu_check.py``)."""

    def new_config(self, **overrides: Any) -> ConfigT:
        """The family's default config with ``overrides`` (an unknown name
        is a one-line ``TypeError``)."""
        names = {f.name for f in dataclasses.fields(self.config_type)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(f"{self.name} has no setting {', '.join(unknown)}; "
                            f"its settings: {', '.join(sorted(names))}")
        return self.config_type(**overrides)

    # -- the four methods ----------------------------------------------------------------------

    @abstractmethod
    def build(self, config: ConfigT, device: torch.device) -> ModelT:
        """A fresh model of ``config`` on ``device``."""

    @abstractmethod
    def data(self, config: ConfigT, root: str | Path | None = None) -> Any:
        """The training data that ``config`` names (a ``TensorDataset`` with ``.source``)."""

    @abstractmethod
    def train(self, model: ModelT, data: Any, config: ConfigT, device: torch.device, seed: int = 1,
              progress: bool = True, monitor: Monitor | None = None) -> dict[str, Any]:
        """Train ``model`` in place on ``data`` with the recipe ``config``; return the history."""

    @abstractmethod
    def sample(self, model: ModelT, n: int, device: torch.device, seed: int | None,
               options: OptionsT) -> torch.Tensor:
        """``n`` samples (n, 1, H, W) float32, the same ones for the same ``seed``."""

    # -- shared by every family ------------------------------------------------------------------

    def options(self, **given: Any) -> OptionsT:
        """The sampling options with ``given`` filled in, each checked against its type."""
        specs = field_specs(self.options_type)
        unknown = sorted(set(given) - set(specs))
        if unknown:
            accepted = f"it takes {', '.join(specs)}" if specs else "it takes none"
            raise ValueError(f"a {self.name} model has no sampling option {', '.join(unknown)}: "
                             f"{accepted}")
        values = {k: check_options_value(specs[k], v) for k, v in given.items()}
        return self.options_type(**values)

    def option_names(self) -> tuple[str, ...]:
        return tuple(field_specs(self.options_type))

    def scoreboard_sampling(self, config: ConfigT, all_digits: bool, steps: int | None,
                            eta: float | None) -> tuple[str, OptionsT]:
        """(row name, options) with which the scoreboard samples a model of this family.

        ``all_digits``: a class-conditional model draws the digits 0-9 in turn; ``steps`` and
        ``eta`` apply to iterative samplers. Families that have such options override this."""
        return self.title, self.options()

    def __repr__(self) -> str:
        return f"<family {self.name}: {self.title}>"


class DigitFamily(Family[ConfigT, ModelT, OptionsT]):
    """A family of MNIST digit models: samples ``DIGITS``, trained on the first ``config.n_train``
    training digits (all of them when None)."""

    samples = DIGITS

    def data(self, config: ConfigT, root: str | Path | None = None) -> Any:
        return load_mnist(root=root, train=True, n=config.n_train)


def check_guided_options(steps: int, guidance: float, digit: int | None,
                         all_digits: bool) -> None:
    """The checks every guided digit sampler's options share (DDPM, flow matching): one clear
    line for a step count, guidance weight or digit choice that cannot be."""
    if steps < 1:
        raise ValueError(f"steps must be a positive whole number, got {steps}")
    if guidance < 0:
        raise ValueError(f"guidance must be a number >= 0, got {guidance}")
    if digit is not None and not 0 <= digit <= 9:
        raise ValueError(f"digit must be one of 0-9, got {digit}")
    if digit is not None and all_digits:
        raise ValueError("choose digit or all_digits, not both")


def no_monitor(monitor: Monitor | None, what: str) -> None:
    """Refuse a per-epoch ``monitor`` for a training loop that has no hook for one."""
    if monitor is not None:
        raise ValueError(f"the {what} training loop takes no monitor")


class ExactDensity(ABC):
    """A family whose model gives the exact log-density of its own
    samples (flows, autoregressive)."""

    @abstractmethod
    def sample_with_log_q(self, model: nn.Module, n: int, device: torch.device, seed: int | None,
                          options: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """(samples as ``sample`` returns them, log q of each sample in nats)."""


def profile_of(profile: ProfileLike) -> Profile:
    """``profile`` as a ``Profile`` (a name, a Profile or None for ``COURSE_PROFILE``)."""
    return profile if isinstance(profile, Profile) else get_profile(profile)


def config_from_dict(cls: type, values: dict[str, Any]) -> Any:
    """Rebuild a config dataclass from the plain dict a checkpoint holds (lists back to tuples)."""
    specs = field_specs(cls)
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ValueError(f"the checkpoint's config has settings {cls.__name__} does not know: "
                         f"{', '.join(unknown)}")
    converted = {}
    for name, value in values.items():
        if isinstance(value, list) and specs[name].nargs is not None:
            value = tuple(value)
        converted[name] = value
    return cls(**converted)


__all__ += ["profile_of", "PROFILE_NAMES"]
