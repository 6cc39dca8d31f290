"""A temperature-conditioned diffusion model for Ising configurations (DDPM, Ho et al. 2020).

Spins s = +-1 are the data x_0; the forward chain of ``course_utils.diffusion`` (cosine schedule,
``q_sample``) noises them, x_t = sqrt(abar_t) s + sqrt(1 - abar_t) eps, and DDIM / ancestral
sampling (``course_utils.diffusion.ddim_sample``) runs the chain back; a sign turns the last x_0
into spins, and a random global sign per sample draws from q_sym(s) = (q(s) + q(-s)) / 2, which
has the spin-flip symmetry of the Boltzmann weight exactly (as ``ising.autoregressive`` does).

**What the denoiser predicts** (``prediction``). With ``"spin"`` (the default) it outputs a local
field h_i(x_t, t, T) per site: the posterior of spin i given the noisy lattice is
p(s_i | x_t, T) = exp(h_i s_i) / (2 cosh h_i), trained by its cross-entropy
-log p(s_i | x_t) = log(1 + exp(-2 h_i s_i)); the samplers get E[s_i | x_t] = tanh(h_i) as the
estimate of x_0 and the noise eps = (x_t - sqrt(abar_t) tanh h) / sqrt(1 - abar_t) it implies.
With ``"eps"`` it predicts the noise by L_simple (Ho et al. eq. 14), as for images: on +-1 spins
this model ignores the temperature (notebook 09: eps_theta ~ x_t / sqrt(1 - abar_t) at high noise,
and the temperature lives in its small remainder, which the sampler divides by sqrt(abar_t)).

The denoiser fits the lattice rather than the project's 28 x 28 UNet: it never downsamples and all
its 3x3 convolutions are *circular* (the torus), so it is exactly equivariant under lattice
translations; residual blocks (norm, SiLU, conv) with dilations 1, 2, 4, ... reach across the
whole lattice. The embedding of the diffusion step t (sinusoidal) and of the temperature
(``temperature_features``, an MLP) scale and shift the normalised features of every block (FiLM,
Perez et al. 2018; "adaptive group norm", Dhariwal & Nichol 2021): one network for every
temperature. The normalisation (``norm``) is ``"rms"``: each group of channels divided by its
root-mean-square, *not centred*; GroupNorm (``"group"``) subtracts each sample's spatial mean,
i.e. removes the uniform mode -- the magnetisation -- from what every block sees, and the model's
m then fluctuates too little at high T. An exponential moving average of the weights
(``ema_decay``) is what samples.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..device import seeded_generator
from ..diffusion import LossLog, ddim_sample, make_schedule, q_sample, timestep_embedding
from ..progress import tqdm
from .conditioning import N_FEATURES, LatticeData, check_temperatures, temperature_features

__all__ = ["PREDICTIONS", "NORMS", "IsingDDPMConfig", "IsingDDPM", "LatticeDenoiser",
           "RMSGroupNorm", "spin_loss", "eps_from_x0", "ising_ddpm_loss", "train_ising_ddpm",
           "sample_ising_ddpm"]

PREDICTIONS = ("spin", "eps")
NORMS = ("rms", "group")


@dataclass(frozen=True)
class IsingDDPMConfig(LatticeData):
    """Lattice, data, denoiser, diffusion chain and training budget."""

    channels: int = 16
    blocks: int = 4  # residual blocks, dilations 1, 2, 4, ... (cycling up to L/4)
    diffusion_steps: int = 200  # T of the chain (cosine schedule)
    prediction: str = field(default="spin", metadata={
        "help": "'spin': the local field h of p(s_i | x_t, T) (cross-entropy); "
                "'eps': the noise (L_simple)"})
    norm: str = field(default="rms", metadata={
        "help": "'rms': groups divided by their RMS; 'group': GroupNorm (centred: hides m)"})
    train_steps: int = field(default=8_000, metadata={"help": "optimiser steps"})
    batch_size: int = 64
    lr: float = 2e-3
    ema_decay: float = 0.995


class RMSGroupNorm(nn.Module):
    """GroupNorm without the centring: y = x / sqrt(mean_group(x^2) + 1e-5) * w + b per channel.

    GroupNorm (Wu & He 2018) also subtracts each group's mean over the lattice, which on a spin
    lattice is (a multiple of) the magnetisation; this keeps it."""

    def __init__(self, groups: int, channels: int) -> None:
        super().__init__()
        self.groups = groups
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        grouped = x.reshape(len(x), self.groups, -1)
        y = (grouped * torch.rsqrt(grouped.pow(2).mean(-1, keepdim=True) + 1e-5)).reshape(x.shape)
        return y * self.weight[:, None, None] + self.bias[:, None, None]


def _norm(kind: str, C: int) -> nn.Module:
    return RMSGroupNorm(min(8, C), C) if kind == "rms" else nn.GroupNorm(min(8, C), C)


def _circular(C_in: int, C_out: int, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(C_in, C_out, 3, padding=dilation, dilation=dilation, padding_mode="circular")


class _Block(nn.Module):
    """x + conv(SiLU((1 + scale) norm(conv(SiLU(norm x))) + shift)); scale, shift from the
    embedding."""

    def __init__(self, C: int, dilation: int, emb: int, norm: str) -> None:
        super().__init__()
        self.n1, self.n2 = _norm(norm, C), _norm(norm, C)
        self.c1, self.c2 = _circular(C, C, dilation), _circular(C, C)
        self.film = nn.Linear(emb, 2 * C)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(emb)[:, :, None, None].chunk(2, dim=1)
        h = self.n2(self.c1(F.silu(self.n1(x)))) * (1 + scale) + shift
        return x + self.c2(F.silu(h))


class LatticeDenoiser(nn.Module):
    """f_theta(x_t, t, T) on (N, 1, L, L): circular convolutions at full resolution, FiLM
    conditioning."""

    def __init__(self, L: int, C: int, blocks: int, emb: int = 64, norm: str = "rms") -> None:
        super().__init__()
        self.emb_dim = emb
        self.t_mlp = nn.Sequential(nn.Linear(emb, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.y_mlp = nn.Sequential(nn.Linear(N_FEATURES, emb), nn.SiLU(), nn.Linear(emb, emb))
        top = max(1, L // 4)
        dilations, d = [], 1
        for _ in range(blocks):
            dilations.append(d)
            d = d * 2 if d * 2 <= top else 1
        self.inc = _circular(1, C)
        self.blocks = nn.ModuleList(_Block(C, dil, emb, norm) for dil in dilations)
        self.out = nn.Sequential(_norm(norm, C), nn.SiLU(), _circular(C, 1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
        emb = self.t_mlp(timestep_embedding(t, self.emb_dim)) + self.y_mlp(temperature_features(T))
        emb = F.silu(emb)
        h = self.inc(x)
        for block in self.blocks:
            h = block(h, emb)
        return self.out(h)


def spin_loss(h: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy -log p(s | h) of spins s = +-1 under p(s) = exp(h s) / (2 cosh h):
    log(2 cosh h) - h s = softplus(-2 h s)."""
    return F.softplus(-2.0 * h * s).mean()


def eps_from_x0(x_t: torch.Tensor, x0: torch.Tensor, t: torch.Tensor,
                abar: torch.Tensor) -> torch.Tensor:
    """The noise an estimate of x_0 implies (the closed form of q(x_t | x_0) solved for eps):
    eps = (x_t - sqrt(abar_t) x_0) / sqrt(1 - abar_t)."""
    a = abar.to(x_t.device)[t].reshape(-1, *([1] * (x_t.dim() - 1)))
    return (x_t - a.sqrt() * x0) / (1 - a).sqrt()


class _AtTemperature(nn.Module):
    """eps(x_t, t) of the EMA denoiser at fixed temperatures, for the samplers of
    ``course_utils.diffusion``."""

    def __init__(self, model: IsingDDPM, T: torch.Tensor) -> None:
        super().__init__()
        self.net, self.T = model.ema, T
        self.prediction, self.alpha_bars = model.config.prediction, model.schedule.alpha_bars

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = self.net(x, t, self.T)
        if self.prediction == "eps":
            return out
        return eps_from_x0(x, torch.tanh(out), t, self.alpha_bars)


class IsingDDPM(nn.Module):
    """The denoiser, its EMA copy (which samples) and the config."""

    def __init__(self, config: IsingDDPMConfig) -> None:
        super().__init__()
        if int(config.size) < 2 or int(config.size) % 2:
            raise ValueError(f"the lattice size must be an even integer >= 2, got {config.size!r}")
        check_temperatures(config.temperatures)
        if config.prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {', '.join(PREDICTIONS)}, "
                             f"got {config.prediction!r}")
        if config.norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {config.norm!r}")
        self.config = config
        self.L = int(config.size)
        self.net = LatticeDenoiser(self.L, int(config.channels), int(config.blocks),
                                   norm=config.norm)
        self.ema = copy.deepcopy(self.net)
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.schedule = make_schedule(int(config.diffusion_steps), "cosine")


def ising_ddpm_loss(model: IsingDDPM, net: nn.Module, s: torch.Tensor, t: torch.Tensor,
                    T: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """The training loss of ``net`` on spins s at steps t: the spins' cross-entropy given x_t
    (``prediction="spin"``) or L_simple = |eps - eps_theta(x_t, t, T)|^2 (``"eps"``)."""
    out = net(q_sample(s, t, model.schedule, noise), t, T)
    if model.config.prediction == "eps":
        return (out - noise).pow(2).mean()
    return spin_loss(out, s)


def train_ising_ddpm(model: IsingDDPM, configs: torch.Tensor, temperatures: torch.Tensor,
                     device: torch.device, seed: int = 1, progress: bool = True) -> dict[str, Any]:
    """Adam on ``ising_ddpm_loss``, warm-up 5 %, EMA of the weights; every batch augmented by the
    global spin flip. History: ``loss``, ``step``, ``seconds`` (wall) and ``cpu_seconds`` (this
    process's CPU time: the wall time on a machine of its own)."""
    cfg = model.config
    x_all = configs.to(torch.float32).reshape(len(configs), 1, model.L, model.L).to(device)
    t_all = temperatures.to(torch.float32).to(device)
    gen = seeded_generator(seed, device)  # every draw made on the device
    opt = torch.optim.Adam(model.net.parameters(), lr=cfg.lr)
    steps = int(cfg.train_steps)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: min(1.0, (k + 1) / warm))
    history: dict[str, Any] = {"loss": [], "step": [], "seconds": 0.0, "cpu_seconds": 0.0}
    log = LossLog(history, "loss", steps, max(1, steps // 40))
    start, cpu_start = time.perf_counter(), time.process_time()
    model.net.train()
    for k in tqdm(range(steps), desc="DDPM steps", disable=not progress):
        b = min(int(cfg.batch_size), len(x_all))
        idx = torch.randint(0, len(x_all), (b,), generator=gen, device=device)
        sign = torch.where(torch.rand(b, generator=gen, device=device) < 0.5, -1.0, 1.0)
        s = x_all[idx] * sign[:, None, None, None]
        t = torch.randint(0, model.schedule.T, (b,), generator=gen, device=device)
        noise = torch.randn(s.shape, generator=gen, device=device)
        loss = ising_ddpm_loss(model, model.net, s, t, t_all[idx], noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            d = min(float(cfg.ema_decay), (1 + k) / (10 + k))
            for pe, p in zip(model.ema.parameters(), model.net.parameters(), strict=True):
                pe.mul_(d).add_(p.detach(), alpha=1 - d)
        log.add(k, loss)
    model.eval()
    history["seconds"] = time.perf_counter() - start
    history["cpu_seconds"] = time.process_time() - cpu_start
    return history


@torch.no_grad()
def sample_ising_ddpm(model: IsingDDPM, T: torch.Tensor, device: torch.device, seed: int | None = 0,
                      steps: int = 50, eta: float = 1.0) -> torch.Tensor:
    """DDIM with ``steps`` steps and noise ``eta`` (1: ancestral), the sign, and a random global
    sign per sample (a draw of q_sym): float32 (n, 1, L, L) +-1, CPU."""
    steps = min(int(steps), model.schedule.T)
    seed = 0 if seed is None else int(seed)
    x = ddim_sample(_AtTemperature(model, T.to(device)), (len(T), 1, model.L, model.L),
                    model.schedule, steps=steps, device=device, seed=seed, progress=False,
                    eta=float(eta))
    coin = torch.rand(len(T), generator=seeded_generator(seed + 1, device), device=device)
    flip = torch.where(coin < 0.5, -1.0, 1.0).cpu()
    return torch.where(x.cpu() >= 0, 1.0, -1.0) * flip[:, None, None, None]
