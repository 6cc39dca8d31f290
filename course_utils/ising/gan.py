"""A temperature-conditioned GAN for Ising configurations (a
conditional GAN, Mirza & Osindero 2014).

One generator and one discriminator for every temperature: both see the condition y = T, as the
three ``temperature_features``. The generator g(z, y): [z, emb(y)] -> Linear -> (4C, L/4, L/4) ->
two x2 nearest-neighbour upsamplings, each followed by a 3x3 *circular* convolution (the lattice is
a torus, so the network must be translation-equivariant across the edges), BatchNorm and ReLU ->
a 3x3 circular convolution to one channel -> tanh. The discriminator d(x, y): the lattice and three
constant planes holding y as input channels (Mirza & Osindero concatenate y to the input), 3x3
circular convolutions with LeakyReLU(0.2), two of stride 2, global average pooling, a linear
read-out. Non-saturating loss (the generator minimises -log d(g(z), y)), Adam(2e-4, betas 0.5,
0.999).

The generator's tanh outputs are continuous; real spins are exactly +-1, so the discriminator
pushes the generator towards saturated +-1 values; ``sample`` returns sign(g(z, y)).
Known failure modes, visible in the physics: mode collapse (all samples of one sign of m below
T_c: the balance is far from 50 %) and too few large clusters at T_c (chi too small).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..device import seeded_generator
from ..progress import tqdm
from .conditioning import N_FEATURES, LatticeData, check_temperatures, temperature_features

__all__ = ["IsingGANConfig", "IsingGAN", "train_ising_gan", "sample_ising_gan"]


@dataclass(frozen=True)
class IsingGANConfig(LatticeData):
    """Lattice, data, networks and training budget of the conditional GAN."""

    z_size: int = 64
    channels: int = 16
    train_steps: int = field(default=1_500, metadata={"help": "optimiser steps"})
    batch_size: int = 64
    lr: float = 2e-4


def _conv(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, padding_mode="circular")


class Generator(nn.Module):
    def __init__(self, L: int, z_size: int, C: int) -> None:
        super().__init__()
        self.L, self.C = L, C
        self.y_emb = nn.Linear(N_FEATURES, 16)
        self.fc = nn.Linear(z_size + 16, 4 * C * (L // 4) ** 2)
        self.net = nn.Sequential(
            nn.BatchNorm2d(4 * C), nn.ReLU(),
            nn.Upsample(scale_factor=2), _conv(4 * C, 2 * C), nn.BatchNorm2d(2 * C), nn.ReLU(),
            nn.Upsample(scale_factor=2), _conv(2 * C, C), nn.BatchNorm2d(C), nn.ReLU(),
            _conv(C, 1), nn.Tanh())

    def forward(self, z: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
        h = self.fc(torch.cat([z, self.y_emb(temperature_features(T))], 1))
        return self.net(h.view(len(z), 4 * self.C, self.L // 4, self.L // 4))


class Discriminator(nn.Module):
    def __init__(self, C: int) -> None:
        super().__init__()
        act = nn.LeakyReLU(0.2)
        self.net = nn.Sequential(_conv(1 + N_FEATURES, C), act, _conv(C, 2 * C, 2), act,
                                 _conv(2 * C, 4 * C, 2), act, _conv(4 * C, 4 * C), act)
        self.out = nn.Linear(4 * C + N_FEATURES, 1)

    def forward(self, x: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
        y = temperature_features(T)
        planes = y[:, :, None, None].expand(-1, -1, *x.shape[2:])
        h = self.net(torch.cat([x, planes], 1)).mean((2, 3))
        return self.out(torch.cat([h, y], 1)).squeeze(1)


class IsingGAN(nn.Module):
    """The generator and discriminator of one conditional GAN, with its config."""

    def __init__(self, config: IsingGANConfig) -> None:
        super().__init__()
        L = int(config.size)
        if L < 4 or L % 4:
            raise ValueError(f"the GAN needs a lattice size divisible by 4, got {config.size!r}")
        check_temperatures(config.temperatures)
        self.config = config
        self.L = L
        self.gen_model = Generator(L, int(config.z_size), int(config.channels))
        self.disc_model = Discriminator(int(config.channels))


def train_ising_gan(gan: IsingGAN, configs: torch.Tensor, temperatures: torch.Tensor,
                    device: torch.device, seed: int = 1, progress: bool = True) -> dict[str, Any]:
    """``train_steps`` alternating updates of d and g (one each) on
    minibatches of (config, T) pairs.

    Real configurations are augmented by the global spin flip. History: ``d_loss``, ``g_loss``
    (means over each 1/40 of the steps), ``step``, ``seconds``. The data live on ``device``, where
    the batches, flips and z are drawn from one generator seeded with ``seed``; the losses are read
    back once per logged stretch, not once per step.
    """
    cfg = gan.config
    x_all = configs.to(torch.float32).reshape(len(configs), 1, gan.L, gan.L).to(device)
    t_all = temperatures.to(torch.float32).to(device)
    gen = seeded_generator(seed, device)
    g_opt = torch.optim.Adam(gan.gen_model.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(gan.disc_model.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    steps, every = int(cfg.train_steps), max(1, int(cfg.train_steps) // 40)
    history: dict[str, Any] = {"d_loss": [], "g_loss": [], "step": [], "seconds": 0.0}
    window: list[torch.Tensor] = []  # (d_loss, g_loss) of the steps since the last entry
    start = time.perf_counter()
    gan.train()
    for k in tqdm(range(steps), desc="cGAN steps", disable=not progress):
        b = min(int(cfg.batch_size), len(x_all))
        idx = torch.randint(0, len(x_all), (b,), generator=gen, device=device)
        sign = torch.where(torch.rand(b, generator=gen, device=device) < 0.5, -1.0, 1.0)
        real, T = x_all[idx] * sign[:, None, None, None], t_all[idx]
        z = torch.randn(b, cfg.z_size, generator=gen, device=device)
        fake = gan.gen_model(z, T)
        d_loss = (F.softplus(-gan.disc_model(real, T)).mean()  # -log d(x)
                  + F.softplus(gan.disc_model(fake.detach(), T)).mean())  # -log(1 - d(g(z)))
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        g_loss = F.softplus(-gan.disc_model(fake, T)).mean()  # non-saturating: -log d(g(z))
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        window.append(torch.stack([d_loss.detach(), g_loss.detach()]))
        if (k + 1) % every == 0 or k + 1 == steps:
            _log_means(history, torch.stack(window).tolist(), k + 1)
            window = []
    gan.eval()
    history["seconds"] = time.perf_counter() - start
    if not all(math.isfinite(v) for v in history["d_loss"] + history["g_loss"]):
        history["diverged"] = True
    return history


def _log_means(history: dict[str, Any], losses: list[list[float]], step: int) -> None:
    """Append the means of the (d_loss, g_loss) pairs ``losses`` (summed in order, as floats)."""
    sums = [0.0, 0.0]
    for d_loss, g_loss in losses:
        sums[0] += d_loss
        sums[1] += g_loss
    history["d_loss"].append(sums[0] / len(losses))
    history["g_loss"].append(sums[1] / len(losses))
    history["step"].append(step)


@torch.no_grad()
def sample_ising_gan(gan: IsingGAN, T: torch.Tensor, device: torch.device, seed: int | None = 0,
                     batch: int = 2_000) -> torch.Tensor:
    """sign(g(z, T)) for z ~ N(0, I), one sample per entry of ``T``: float32 (n, 1, L, L) +-1, CPU.
    The GAN is moved to ``device``, where z is drawn (seed None: seed 0)."""
    gen = seeded_generator(0 if seed is None else int(seed), device)
    z = torch.randn(len(T), gan.config.z_size, generator=gen, device=device)
    T = T.to(device)
    was_training = gan.training
    gan.to(device).eval()
    out = [gan.gen_model(zb, tb) for zb, tb in zip(z.split(batch), T.split(batch), strict=True)]
    gan.train(was_training)
    x = torch.cat(out)
    return torch.where(x >= 0, 1.0, -1.0).cpu()
