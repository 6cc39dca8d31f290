"""A normalizing flow for the phi^4 field, trained by reverse KL with no data.

Albergo, Kanwar & Shanahan (PRD 100, 034515, 2019) and their tutorial (arXiv:2101.08176, sec. 4):
a Real-NVP of ``n_layers`` affine couplings (``flows.AffineCoupling``) on alternating checkerboard
masks, each conditioned by a small CNN with circular padding (the lattice is periodic), on a
prior N(0, 1) per site. Sampling is z ~ N(0, I), phi = g(z), with the exact

    log q(phi) = log r(z) - log |det dg/dz|.                                                  (1)

**Training needs no data.** The reverse KL divergence from q to p = exp(-S) / Z is

    KL(q || p) = E_q[log q(phi) + S(phi)] + log Z >= 0,                                       (2)

so the loss ``mean(log q(phi) + S(phi))`` over a batch of reparametrised samples phi = g(z)
(gradients flow through g) is KL up to the constant log Z, and its minimum is -log Z.

Two gradient estimators of (2) (``gradient``): ``"reparam"`` differentiates the loss as written;
``"path"`` differentiates only through the sample path, log q_theta'(g_theta(z)) + S(g_theta(z))
with theta' = theta held fixed (Roeder, Wu & Duvenaud 2017, "sticking the landing"; Vaitl, Nicoli,
Nakajima & Kessel 2022 for lattice fields). Both have the same mean (the dropped term,
E_q[d log q_theta / d theta] = 0, is the score's mean), but the path gradient's variance vanishes
as q -> p, which matters exactly when ESS is close to 1; it costs one more pass through the flow.

Reverse KL is mode-seeking: in the broken phase a flow can settle on one of the two vacua and
still show a small loss; the Metropolis correction (``sampler``) then cannot reach the other one.

``Phi4FlowConfig`` holds every recipe choice; ``build_flow``, ``train_flow`` (reads the config)
and ``sample_flow`` are what a model family wraps.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..flows import AffineCoupling, CouplingFlow, checkerboard_mask
from ..lattice import effective_sample_size
from ..progress import tqdm
from .action import action, check_couplings

__all__ = [
    "Phi4FlowConfig",
    "ConvConditioner",
    "Phi4Flow",
    "build_flow",
    "reverse_kl_loss",
    "train_flow",
    "sample_flow",
    "log_weights",
    "batch_size_at",
    "lr_factor_at",
]


@dataclass(frozen=True)
class Phi4FlowConfig:
    """The theory (L, m^2, lambda), the flow's architecture and its training recipe."""

    L: int = field(default=8, metadata={"help": "lattice size L of the L x L torus"})
    m2: float = field(default=-4.0, metadata={"help": "bare mass squared m^2"})
    lam: float = field(default=8.0, metadata={"help": "quartic coupling lambda"})
    n_layers: int = field(
        default=16, metadata={"help": "affine coupling layers (alternating checkerboards)"}
    )
    hidden: tuple[int, ...] = field(
        default=(8, 8), metadata={"help": "channels of the conditioners' hidden convs"}
    )
    kernel_size: int = 3
    tanh_scale: bool = field(
        default=True, metadata={"help": "bound the log-scale s by tanh (stable training)"}
    )
    train_steps: int = field(default=6000, metadata={"help": "optimiser steps"})
    batch_size: int = field(default=64, metadata={"help": "samples per step at the start"})
    batch_size_final: int = field(
        default=64,
        metadata={
            "help": "samples per step at the end: the batch doubles in equal stages from batch_size"
        },
    )
    lr: float = 1e-2
    lr_schedule: str = field(default="cosine", metadata={"choices": ("cosine", "constant")})
    warmup: int = field(default=100, metadata={"help": "linear learning-rate warm-up steps"})
    log_every: int = field(default=250, metadata={"help": "steps between history entries"})
    ess_samples: int = field(
        default=1024, metadata={"help": "fresh samples for the ESS of each history entry"}
    )
    gradient: str = field(
        default="path",
        metadata={"choices": ("reparam", "path"), "help": "gradient estimator of the reverse KL"},
    )

    def __post_init__(self) -> None:
        check_couplings(self.m2, self.lam)
        if int(self.L) < 2 or int(self.L) % 2:
            raise ValueError(f"L must be an even integer >= 2 (checkerboard masks), got {self.L!r}")
        if int(self.n_layers) < 2 or int(self.n_layers) % 2:
            raise ValueError(
                f"n_layers must be an even number >= 2 (both checkerboards), got {self.n_layers!r}"
            )
        if int(self.kernel_size) % 2 == 0:
            raise ValueError(
                f"kernel_size must be odd (a centred stencil), got {self.kernel_size!r}"
            )
        if not 1 <= self.batch_size <= self.batch_size_final:
            raise ValueError(
                f"need 1 <= batch_size <= batch_size_final, got {self.batch_size}, "
                f"{self.batch_size_final}"
            )
        if self.gradient not in ("reparam", "path"):
            raise ValueError(f"gradient must be 'reparam' or 'path', got {self.gradient!r}")
        if self.lr_schedule not in ("cosine", "constant"):
            raise ValueError(
                f"lr_schedule must be 'cosine' or 'constant', got {self.lr_schedule!r}"
            )


class ConvConditioner(nn.Module):
    """(s, t) from the frozen sites: circular convs ``1 -> hidden... -> 2`` with LeakyReLU between.

    With ``tanh_scale`` the log-scale is s = tanh(.) in (-1, 1), so no layer can blow a sample up
    early in training; the last conv starts at zero, so every coupling starts as the identity.
    """

    def __init__(self, hidden: tuple[int, ...], kernel_size: int, tanh_scale: bool = True) -> None:
        super().__init__()
        channels = [1, *hidden, 2]
        layers: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:], strict=True)):
            layers.append(
                nn.Conv2d(
                    c_in, c_out, kernel_size, padding=kernel_size // 2, padding_mode="circular"
                )
            )
            if i < len(channels) - 2:
                layers.append(nn.LeakyReLU())
        nn.init.zeros_(layers[-1].weight)
        nn.init.zeros_(layers[-1].bias)
        self.net = nn.Sequential(*layers)
        self.tanh_scale = tanh_scale

    def forward(self, frozen: torch.Tensor) -> torch.Tensor:
        s, t = self.net(frozen).chunk(2, dim=1)
        return torch.cat([torch.tanh(s) if self.tanh_scale else s, t], dim=1)


class Phi4Flow(nn.Module):
    """The Real-NVP of the module docstring on fields (n, L, L); couplings on on (n, 1, L, L)."""

    def __init__(self, config: Phi4FlowConfig) -> None:
        super().__init__()
        self.config = config
        L = int(config.L)
        couplings = [
            AffineCoupling(
                checkerboard_mask((1, L, L), i % 2),
                ConvConditioner(tuple(config.hidden), int(config.kernel_size), config.tanh_scale),
            )
            for i in range(int(config.n_layers))
        ]
        self.flow = CouplingFlow(couplings, (1, L, L))

    def sample(
        self, n: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` fields phi = g(z) (n, L, L) on the flow's device and their exact log q, eq. (1)."""
        phi, log_q = self.flow.sample(n, generator)
        return phi[:, 0], log_q

    def log_prob(self, phi: torch.Tensor) -> torch.Tensor:
        """log q(phi) (n,) of fields (n, L, L), through the inverse flow."""
        return self.flow.log_prob(phi[:, None])


def build_flow(
    config: Phi4FlowConfig, device: torch.device | str = "cpu", seed: int = 0
) -> Phi4Flow:
    """A fresh flow of ``config`` on ``device``, its initial weights drawn with seed ``seed``."""
    if not isinstance(config, Phi4FlowConfig):
        raise TypeError(f"build_flow takes a Phi4FlowConfig, got {type(config).__name__}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model = Phi4Flow(config)
    return model.to(torch.device(device))


def log_weights(phi: torch.Tensor, log_q: torch.Tensor, m2: float, lam: float) -> torch.Tensor:
    """log w = log p~ - log q = -S(phi) - log q(phi): the importance weights of flow samples."""
    return -action(phi, m2, lam) - log_q


def batch_size_at(config: Phi4FlowConfig, step: int) -> int:
    """The batch doubles from ``batch_size`` to ``batch_size_final`` in stages of equal length."""
    stages = int(round(math.log2(config.batch_size_final / config.batch_size))) + 1
    stage = min(stages - 1, step * stages // max(1, int(config.train_steps)))
    return min(int(config.batch_size) * 2**stage, int(config.batch_size_final))


def lr_factor_at(config: Phi4FlowConfig, step: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to 0 (or constant)."""
    warm = min(1.0, (step + 1) / max(1, int(config.warmup)))
    if config.lr_schedule == "constant":
        return warm
    return warm * 0.5 * (1 + math.cos(math.pi * min(step, config.train_steps) / config.train_steps))


def reverse_kl_loss(
    model: Phi4Flow,
    config: Phi4FlowConfig,
    n: int,
    generator: torch.Generator,
    frozen: Phi4Flow | None = None,
) -> torch.Tensor:
    """mean(log q(phi) + S(phi)) over ``n`` reparametrised draws, eq. (2). With ``frozen`` (a copy
    of ``model`` holding the same weights, no gradients) log q is evaluated by it on the drawn
    fields: the value is the same, the gradient is the path gradient."""
    phi, log_q = model.sample(n, generator)
    if frozen is not None:
        log_q = frozen.log_prob(phi)
    return (log_q + action(phi, config.m2, config.lam)).mean()


def train_flow(
    model: Phi4Flow,
    config: Phi4FlowConfig,
    device: torch.device | str = "cpu",
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Adam on the reverse-KL loss mean(log q + S), eq. (2), with the recipe of ``config``.

    History (one entry per ``log_every`` steps): ``step``, ``loss`` (mean over the entry's steps;
    -log Z + KL), ``ess`` (ESS/N of ``ess_samples`` fresh samples: an honest estimate, unlike the
    training batch's), ``batch_size``, ``lr``, ``seconds``; losses are summed on the device and
    read once per entry.
    """
    device = torch.device(device)
    model.to(device).train()
    gen = torch.Generator(device=device).manual_seed(int(seed))
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: lr_factor_at(config, k))
    history: dict[str, Any] = {
        "step": [],
        "loss": [],
        "ess": [],
        "batch_size": [],
        "lr": [],
        "seconds": 0.0,
    }
    frozen = copy.deepcopy(model).requires_grad_(False) if config.gradient == "path" else None
    total, count = torch.zeros((), device=device), 0
    start = time.perf_counter()
    for step in tqdm(
        range(int(config.train_steps)), desc="phi4 flow (reverse KL)", disable=not progress
    ):
        if frozen is not None:
            frozen.load_state_dict(model.state_dict())
        loss = reverse_kl_loss(model, config, batch_size_at(config, step), gen, frozen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        total, count = total + loss.detach(), count + 1
        if (step + 1) % int(config.log_every) == 0 or step + 1 == config.train_steps:
            with torch.no_grad():
                fresh, fresh_log_q = model.sample(int(config.ess_samples), gen)
                ess = effective_sample_size(log_weights(fresh, fresh_log_q, config.m2, config.lam))
            history["step"].append(step + 1)
            history["loss"].append(float(total) / count)
            history["ess"].append(float(ess))
            history["batch_size"].append(batch_size_at(config, step))
            history["lr"].append(opt.param_groups[0]["lr"])
            total, count = torch.zeros((), device=device), 0
    model.eval()
    history["seconds"] = time.perf_counter() - start
    return history


@torch.no_grad()
def sample_flow(
    model: Phi4Flow, n: int, device: torch.device | str = "cpu", seed: int = 0, chunk: int = 4096
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` fields (n, L, L) and their exact log q (n,), float32 on the CPU, drawn in chunks on
    ``device`` with a generator made for it and seeded with ``seed``."""
    if int(n) < 1:
        raise ValueError(f"n must be a positive number of samples, got {n!r}")
    device = torch.device(device)
    model.to(device).eval()
    gen = torch.Generator(device=device).manual_seed(int(seed))
    phis, log_qs = [], []
    for size in [min(chunk, int(n) - i) for i in range(0, int(n), chunk)]:
        phi, log_q = model.sample(size, gen)
        phis.append(phi)
        log_qs.append(log_q)
    return torch.cat(phis).cpu(), torch.cat(log_qs).cpu()
