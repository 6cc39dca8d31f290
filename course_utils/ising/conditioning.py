"""What the temperature-conditioned models share: temperature features and temperature checks.

``temperature_features(T)`` maps temperatures (N,) to three smooth features centred on T_c,
``[4 (beta - beta_c), (T - T_c) / 2, tanh(8 (beta - beta_c))]``: a network sees where a temperature
lies relative to the transition in both T and beta, at order-one scale. ``check_temperature``
turns any bad temperature into a one-line ``ValueError``; ``temperature_rows(n, temperature,
trained)`` is the temperature of every sample row (``None``: the trained temperatures in equal
blocks, in order).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from .exact import K_C, T_C

__all__ = ["LatticeData", "temperature_features", "check_temperature", "check_temperatures",
           "temperature_rows", "N_FEATURES"]


@dataclass(frozen=True)
class LatticeData:
    """What every Ising model's config starts with: the lattice and its Monte Carlo training data
    (``size``, ``temperatures``, ``n_per_temperature``, ``chains`` and ``data_seed`` are together
    the cache key of ``ising.data.ising_dataset``)."""

    size: int = field(default=16, metadata={"help": "lattice size L of the L x L torus (even)"})
    temperatures: tuple[float, ...] = field(default=(1.5, 2.0, 2.269, 2.5, 3.5),
                                            metadata={"help": "training temperatures in units of "
                                                      "J/k_B"})
    n_per_temperature: int = field(default=10_000,
                                   metadata={"help": "Monte Carlo configurations per temperature "
                                                     "(cached)"})
    chains: int = field(default=256,
                        metadata={"help": "Monte Carlo chains per temperature (part of the data's "
                                          "cache key)"})
    data_seed: int = 0


N_FEATURES = 3


def temperature_features(T: torch.Tensor) -> torch.Tensor:
    """(N,) temperatures -> (N, 3) float features: 4 (beta - beta_c), (T -
    T_c)/2, tanh(8 (beta - beta_c))."""
    T = T.to(torch.float32)
    db = 1.0 / T - K_C
    return torch.stack([4.0 * db, (T - T_C) / 2.0, torch.tanh(8.0 * db)], dim=-1)


def check_temperature(T, what: str = "temperature") -> float:
    """``T`` as a float; anything but a positive finite number is a one-line ``ValueError``."""
    try:
        value = float(T)
    except (TypeError, ValueError):
        raise ValueError(f"the {what} must be a positive number (units of J/k_B), got "
                         f"{T!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"the {what} must be a positive number (units of J/k_B), got {T!r}")
    return value


def check_temperatures(temperatures) -> tuple[float, ...]:
    """A non-empty tuple of distinct positive temperatures, else a one-line ``ValueError``."""
    temps = tuple(check_temperature(t, "training temperature") for t in temperatures)
    if not temps:
        raise ValueError("give at least one training temperature")
    if len(set(temps)) != len(temps):
        raise ValueError(f"the training temperatures must be distinct, got {temps}")
    return temps


def temperature_rows(n: int, temperature, trained: tuple[float, ...]) -> torch.Tensor:
    """The temperature of each of ``n`` sample rows, float32 (n,).

    ``temperature`` a positive number: every row; ``None``: the ``trained`` temperatures in equal
    blocks (row j at ``trained[j * k // n]``, k of them).
    """
    if temperature is None:
        k = len(trained)
        index = torch.arange(n) * k // n
        return torch.tensor(trained, dtype=torch.float32)[index]
    return torch.full((n,), check_temperature(temperature), dtype=torch.float32)
