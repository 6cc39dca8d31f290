"""The restricted Boltzmann machine of notebook 00b learning Ising
configurations at one temperature.

Torlai & Melko (PRB 94, 165134, 2016) trained an RBM per temperature on Monte Carlo configurations
and read thermodynamics off its Gibbs samples. Here: spins s = +-1 are mapped to visible units
v = (s + 1) / 2 in {0, 1}^N, N = L^2, and ``course_utils.summary.rbm`` does the rest: CD-k or
persistent CD (PCD-k, the default: the negative chains keep running between updates, which matters
below T_c where a chain started at the data never leaves its phase) and block Gibbs sampling. An
RBM knows nothing of T: one RBM is one temperature, and ``sample`` refuses any other.

Sampling: ``steps`` block-Gibbs sweeps v -> h -> v from independent random spins (p = 1/2), the
last *sampled* v (not its probabilities) mapped back to s = 2 v - 1. The Gibbs chain of an RBM
mixes slowly below T_c: a chain that has chosen a sign of m keeps it, so the +m/-m balance is a
test of the chain, not only of the weights.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..summary.rbm import RBM, gibbs_step, init_visible_bias, train_rbm
from .conditioning import LatticeData, check_temperature, check_temperatures

__all__ = ["IsingRBMConfig", "IsingRBM", "train_ising_rbm", "sample_ising_rbm",
           "check_rbm_temperature"]


@dataclass(frozen=True)
class IsingRBMConfig(LatticeData):
    """Lattice, the one temperature, data, RBM size and CD/PCD recipe."""

    temperatures: tuple[float, ...] = field(default=(2.269,),
                                            metadata={"help": "training temperatures in units of "
                                                      "J/k_B"})
    hidden: int = 64
    epochs: int = 20
    k: int = 10  # Gibbs steps per update (CD-k / PCD-k)
    persistent: bool = True
    batch_size: int = 100
    lr: float = 0.3


class IsingRBM(nn.Module):
    """An ``RBM`` of N = L^2 visible and ``hidden`` hidden units, with its config."""

    def __init__(self, config: IsingRBMConfig) -> None:
        super().__init__()
        temps = check_temperatures(config.temperatures)
        if len(temps) != 1:
            raise ValueError(f"an RBM is trained at one temperature; got {len(temps)}: {temps} "
                             f"(train one RBM per temperature)")
        if int(config.size) < 2 or int(config.size) % 2:
            raise ValueError(f"the lattice size must be an even integer >= 2, got {config.size!r}")
        self.config = config
        self.L = int(config.size)
        self.temperature = temps[0]
        self.rbm = RBM(self.L * self.L, int(config.hidden))


def check_rbm_temperature(model: IsingRBM, temperature) -> None:
    """A temperature other than the one the RBM was trained at is a one-line ``ValueError``."""
    if temperature is None:
        return
    T = check_temperature(temperature)
    if abs(T - model.temperature) > 1e-9:
        raise ValueError(f"this ising-rbm was trained at T = {model.temperature:g} only and cannot "
                         f"sample T = {T:g}: an RBM has no temperature input (train one at {T:g})")


def train_ising_rbm(model: IsingRBM, configs: torch.Tensor, device: torch.device | None = None,
                    seed: int = 1, progress: bool = True) -> dict[str, Any]:
    """PCD-k (or CD-k) on the configurations (n, [1,] L, L) of +-1, on the RBM's device (or
    ``device``, where the RBM is moved); history of ``train_rbm``."""
    cfg = model.config
    device = device if device is not None else next(model.parameters()).device
    model.to(device)
    v = (configs.reshape(len(configs), -1) > 0).float().to(device)
    init_visible_bias(model.rbm, v)
    history = train_rbm(model.rbm, v, int(cfg.epochs), k=int(cfg.k),
                        persistent=bool(cfg.persistent), batch_size=int(cfg.batch_size),
                        lr=float(cfg.lr), seed=seed, progress=progress)
    history["train_seconds"] = float(sum(history["seconds"]))
    return history


@torch.no_grad()
def sample_ising_rbm(model: IsingRBM, n: int, device, seed: int | None = 0,
                     steps: int = 500) -> torch.Tensor:
    """``steps`` block-Gibbs sweeps from random spins on ``device`` (where the RBM is moved);
    float32 (n, 1, L, L) of +-1 on the CPU."""
    if int(steps) < 1:
        raise ValueError(f"steps (Gibbs sweeps) must be a positive integer, got {steps!r}")
    model.to(device)
    gen = torch.Generator(device=device).manual_seed(0 if seed is None else int(seed))
    v = torch.bernoulli(torch.full((n, model.rbm.n_visible), 0.5, device=device), generator=gen)
    for _ in range(int(steps)):
        v, _ = gibbs_step(model.rbm, v, gen)
    return (2 * v - 1).reshape(n, 1, model.L, model.L).float().cpu()
