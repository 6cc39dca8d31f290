"""A temperature-conditioned diffusion model for Ising configurations (DDPM, Ho et al. 2020).

Spins +-1 are the data x_0 (already in the model range [-1, 1]); the forward chain of
``course_utils.diffusion`` (cosine schedule, ``q_sample``) noises them, a denoiser
eps_theta(x_t, t, T) learns the noise by L_simple, and DDIM / ancestral sampling
(``course_utils.diffusion.ddim_sample``) runs the chain back; the last step is a sign,
s = sign(x_0), which turns the continuous sample into spins.

The denoiser fits the lattice rather than the project's 28 x 28 UNet: it never downsamples and all
its 3x3 convolutions are *circular* (the torus), so it is exactly equivariant under lattice
translations; residual blocks (GroupNorm, SiLU, conv) with dilations 1, 2, 4, ... reach across
the whole lattice (the receptive field must cover the clusters at T_c). The embedding of the
diffusion step t (sinusoidal) and of the temperature (``temperature_features``, an MLP) are added
inside every block: one network for every temperature. An exponential moving average of the
weights (``ema_decay``) is what samples.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..diffusion import LossLog, ddim_sample, make_schedule, q_sample, timestep_embedding
from .conditioning import LatticeData, N_FEATURES, check_temperatures, temperature_features

__all__ = ["IsingDDPMConfig", "IsingDDPM", "LatticeDenoiser", "train_ising_ddpm", "sample_ising_ddpm"]


@dataclass(frozen=True)
class IsingDDPMConfig(LatticeData):
    """Lattice, data, denoiser, diffusion chain and training budget."""

    channels: int = 16
    blocks: int = 4  # residual blocks, dilations 1, 2, 4, ... (cycling up to L/4)
    diffusion_steps: int = 200  # T of the chain (cosine schedule)
    train_steps: int = field(default=4_000, metadata={"help": "optimiser steps"})
    batch_size: int = 64
    lr: float = 2e-3
    ema_decay: float = 0.995


class _Block(nn.Module):
    def __init__(self, C: int, dilation: int, emb: int) -> None:
        super().__init__()
        self.n1, self.n2 = nn.GroupNorm(min(8, C), C), nn.GroupNorm(min(8, C), C)
        self.c1 = nn.Conv2d(C, C, 3, padding=dilation, dilation=dilation, padding_mode="circular")
        self.c2 = nn.Conv2d(C, C, 3, padding=1, padding_mode="circular")
        self.emb = nn.Linear(emb, C)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.c1(F.silu(self.n1(x))) + self.emb(emb)[:, :, None, None]
        return x + self.c2(F.silu(self.n2(h)))


class LatticeDenoiser(nn.Module):
    """eps_theta(x_t, t, T) on (N, 1, L, L): circular convolutions at full resolution."""

    def __init__(self, L: int, C: int, blocks: int, emb: int = 64) -> None:
        super().__init__()
        self.emb_dim = emb
        self.t_mlp = nn.Sequential(nn.Linear(emb, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.y_mlp = nn.Sequential(nn.Linear(N_FEATURES, emb), nn.SiLU(), nn.Linear(emb, emb))
        top = max(1, L // 4)
        dilations, d = [], 1
        for _ in range(blocks):
            dilations.append(d)
            d = d * 2 if d * 2 <= top else 1
        self.inc = nn.Conv2d(1, C, 3, padding=1, padding_mode="circular")
        self.blocks = nn.ModuleList(_Block(C, dil, emb) for dil in dilations)
        self.out = nn.Sequential(nn.GroupNorm(min(8, C), C), nn.SiLU(), nn.Conv2d(C, 1, 3, padding=1,
                                                                               padding_mode="circular"))

    def forward(self, x: torch.Tensor, t: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
        emb = F.silu(self.t_mlp(timestep_embedding(t, self.emb_dim)) + self.y_mlp(temperature_features(T)))
        h = self.inc(x)
        for block in self.blocks:
            h = block(h, emb)
        return self.out(h)


class _AtTemperature(nn.Module):
    """eps(x_t, t) of the denoiser at fixed temperatures, for the samplers of ``course_utils.diffusion``."""

    def __init__(self, net: LatticeDenoiser, T: torch.Tensor) -> None:
        super().__init__()
        self.net, self.T = net, T

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(x, t, self.T)


class IsingDDPM(nn.Module):
    """The denoiser, its EMA copy (which samples) and the config."""

    def __init__(self, config: IsingDDPMConfig) -> None:
        super().__init__()
        if int(config.size) < 2 or int(config.size) % 2:
            raise ValueError(f"the lattice size must be an even integer >= 2, got {config.size!r}")
        check_temperatures(config.temperatures)
        self.config = config
        self.L = int(config.size)
        self.net = LatticeDenoiser(self.L, int(config.channels), int(config.blocks))
        self.ema = copy.deepcopy(self.net)
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.schedule = make_schedule(int(config.diffusion_steps), "cosine")


def train_ising_ddpm(model: IsingDDPM, configs: torch.Tensor, temperatures: torch.Tensor, device: torch.device,
                     seed: int = 1, progress: bool = True) -> dict[str, Any]:
    """Adam on L_simple (Ho et al. eq. 14), warm-up 5 %, EMA of the weights. History: ``loss``, ``step``, ``seconds``."""
    cfg = model.config
    x_all = configs.to(torch.float32).reshape(len(configs), 1, model.L, model.L).to(device)
    t_all = temperatures.to(torch.float32).to(device)
    schedule = model.schedule.to(device)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.net.parameters(), lr=cfg.lr)
    steps = int(cfg.train_steps)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: min(1.0, (k + 1) / warm))
    history: dict[str, Any] = {"loss": [], "step": [], "seconds": 0.0}
    log = LossLog(history, "loss", steps, max(1, steps // 40))
    start = time.perf_counter()
    model.net.train()
    for k in tqdm(range(steps), desc="DDPM steps", disable=not progress):
        b = min(int(cfg.batch_size), len(x_all))
        idx = torch.randint(0, len(x_all), (b,), generator=gen)
        sign = torch.where(torch.rand(b, generator=gen) < 0.5, -1.0, 1.0).to(device)
        x0 = x_all[idx] * sign[:, None, None, None]
        t = torch.randint(0, schedule.T, (b,), generator=gen).to(device)
        noise = torch.randn(x0.shape, generator=gen).to(device)
        loss = (model.net(q_sample(x0, t, schedule, noise), t, t_all[idx]) - noise).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            d = min(float(cfg.ema_decay), (1 + k) / (10 + k))
            for pe, p in zip(model.ema.parameters(), model.net.parameters()):
                pe.mul_(d).add_(p.detach(), alpha=1 - d)
        log.add(k, loss)
    model.eval()
    history["seconds"] = time.perf_counter() - start
    return history


@torch.no_grad()
def sample_ising_ddpm(model: IsingDDPM, T: torch.Tensor, device: torch.device, seed: int | None = 0,
                      steps: int = 50, eta: float = 1.0) -> torch.Tensor:
    """DDIM with ``steps`` steps and noise ``eta`` (1: ancestral), then the sign: float32 (n, 1, L, L) +-1, CPU."""
    steps = min(int(steps), model.schedule.T)
    wrapped = _AtTemperature(model.ema, T.to(device))
    x = ddim_sample(wrapped, (len(T), 1, model.L, model.L), model.schedule, steps=steps, device=device,
                    seed=0 if seed is None else int(seed), progress=False, eta=float(eta))
    return torch.where(x.cpu() >= 0, 1.0, -1.0)
