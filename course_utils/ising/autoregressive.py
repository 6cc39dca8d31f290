"""A temperature-conditioned autoregressive network for Ising configurations,
trained by maximum likelihood.

In the spirit of the variational autoregressive networks of Wu, Wang & Zhang (PRL 122, 080602,
2019): the joint distribution of the N = L^2 spins, in raster order i = (row r, column c), is a
product of conditionals,

    q(s | T) = prod_i q(s_i | s_<i, T),
    q(s_i = +1 | s_<i, T) = sigmoid(f_theta(context_i, i, T)),

so ``log q`` is exact and sampling is exact (N passes, one spin each, no Markov chain).

**The context is exact, not a window.** The Ising model is a Markov random field: given the spins
already drawn (the past P), the conditional of s_i, after summing over all the spins not yet drawn
(the future F), depends on P only through the past spins that touch {i} u F. On the L x L torus
in raster order those are exactly the last L spins drawn, s_{i-L} .. s_{i-1} (the "zipper": the
previous row from column c on and the current row up to c), and the first row s_0 .. s_{L-1}
(which touches the last row through the periodic boundary). So with

    context_i = (s_{i-L}, ..., s_{i-1}, s_0, ..., s_{L-1}),  spins not yet drawn set to 0,

a network of 2L inputs can represent the true conditional exactly; the network only has to learn
the function (which depends on the site i: a learned embedding, and on T: ``temperature_features``).
f_theta is an MLP: Linear(2L -> H) + site embedding + temperature embedding, then ``depth - 1``
SiLU-Linear(H -> H) layers and a linear read-out.

Training minimises the negative log-likelihood of the Monte Carlo configurations (the forward KL
from the data; Wu et al. minimised the reverse KL with the Boltzmann weight instead, which needs no
data). **Spin-flip symmetry** is imposed exactly at sampling: every sample is multiplied by an
independent random sign, which draws from q_sym(s) = (q(s) + q(-s)) / 2 (Wu et al. symmetrise the
same way); ``log_prob(..., symmetric=True)`` is log q_sym.

``variational_free_energy`` gives F_q = <E + T log q> over samples of q (per spin): F_q >= F, the
exact free energy (``exact.log_partition_function``), with equality iff q = p; ``sampler_metrics``
adds the other numbers the sampler literature compares: ESS/N of the importance weights, the
acceptance of independence Metropolis-Hastings and the autocorrelation time of its chain.

Devices: the sampling loops draw their random numbers on the model's device from a generator
made for it (on the CPU the same stream as before), and copy nothing per spin or per step.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..diffusion import LossLog
from ..lattice import (
    effective_sample_size,
    independence_metropolis,
    integrated_autocorrelation_time,
    symmetrised_log_q,
)
from ..progress import tqdm
from .conditioning import N_FEATURES, LatticeData, check_temperatures, temperature_features
from .exact import log_partition_function
from .observables import hamiltonian

__all__ = ["IsingARConfig", "IsingAR", "train_ar", "sample_ar", "sample_ar_mh", "log_prob",
           "variational_free_energy", "boltzmann_log_weights", "sampler_metrics"]


@dataclass(frozen=True)
class IsingARConfig(LatticeData):
    """Lattice, data, network and training budget of the autoregressive model."""

    hidden: int = 128
    depth: int = 2  # hidden layers
    train_steps: int = field(default=3_000, metadata={"help": "optimiser steps"})
    batch_size: int = 64  # configurations per step (each gives N conditionals)
    lr: float = 3e-3


class IsingAR(nn.Module):
    """f_theta(context_i, i, T) for all sites at once (``logits``) or one site (``site_logits``)."""

    def __init__(self, config: IsingARConfig) -> None:
        super().__init__()
        L = int(config.size)
        if L < 2 or L % 2:
            raise ValueError(f"the lattice size must be an even integer >= 2, got {config.size!r}")
        check_temperatures(config.temperatures)
        self.config = config
        self.L, self.N, H = L, L * L, int(config.hidden)
        self.inp = nn.Linear(2 * L, H)
        self.site = nn.Parameter(0.1 * torch.randn(self.N, H))
        self.temb = nn.Sequential(nn.Linear(N_FEATURES, H), nn.SiLU(), nn.Linear(H, H))
        layers: list[nn.Module] = []
        for _ in range(int(config.depth) - 1):
            layers += [nn.SiLU(), nn.Linear(H, H)]
        self.body = nn.Sequential(*layers, nn.SiLU(), nn.Linear(H, 1))
        # mask[i, j] = 1 if first-row spin j was drawn before site i
        self.register_buffer("first_row_mask",
                             (torch.arange(L)[None, :] < torch.arange(self.N)[:, None]).float(),
                             persistent=False)

    def context(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N) spins +-1 in raster order -> (B, N, 2L) contexts
        (zipper, first row; future = 0)."""
        padded = F.pad(x, (self.L, 0))
        zipper = padded.unfold(1, self.L, 1)[:, : self.N]  # zipper[:, i] = x[:, i-L : i]
        first = x[:, None, : self.L] * self.first_row_mask
        return torch.cat([zipper, first], dim=-1)

    def logits(self, x: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
        """(B, N) logits of q(s_i = +1 | s_<i, T) for spins ``x`` (B, N)
        at temperatures ``T`` (B,)."""
        h = self.inp(self.context(x)) + self.site + self.temb(temperature_features(T))[:, None]
        return self.body(h).squeeze(-1)

    def site_logits(self, x: torch.Tensor, i: int, temb: torch.Tensor) -> torch.Tensor:
        """(B,) logits at site ``i`` given the spins drawn so far in ``x`` (B, N) (later ones 0)."""
        lo = max(0, i - self.L)
        zipper = F.pad(x[:, lo:i], (self.L - (i - lo), 0))
        first = x[:, : self.L] * self.first_row_mask[i]
        h = self.inp(torch.cat([zipper, first], dim=-1)) + self.site[i] + temb
        return self.body(h).squeeze(-1)


def _flat(configs: torch.Tensor, N: int) -> torch.Tensor:
    return configs.reshape(len(configs), N).to(torch.float32)


def log_prob(model: IsingAR, configs: torch.Tensor, T: torch.Tensor,
             symmetric: bool = True) -> torch.Tensor:
    """log q(s | T) per configuration (n,) for spins +-1 (n, [1,] L,
    L); ``symmetric``: log q_sym."""
    x = _flat(configs, model.N)
    T = torch.as_tensor(T, dtype=torch.float32).expand(len(x))
    lp = F.logsigmoid(x * model.logits(x, T)).sum(1)
    if not symmetric:
        return lp
    lm = F.logsigmoid(-x * model.logits(-x, T)).sum(1)
    return symmetrised_log_q(lp, lm)


def train_ar(model: IsingAR, configs: torch.Tensor, temperatures: torch.Tensor,
             device: torch.device, seed: int = 1, progress: bool = True) -> dict[str, Any]:
    """Adam on the mean negative log-likelihood per spin (nats), ``train_steps`` minibatches.

    Learning rate: linear warm-up over 5 % of the steps, then cosine decay to 0. The data are
    augmented by the global spin flip (a random sign per configuration and step). History:
    ``nll`` (per spin, mean over each 1/40 of the steps), ``step``, ``seconds``.
    """
    cfg = model.config
    x_all = _flat(configs, model.N).to(device)
    t_all = temperatures.to(torch.float32).to(device)
    gen = torch.Generator(device=device).manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    steps = int(cfg.train_steps)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda k: min(1.0, (k + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(k, steps) / steps)))
    history: dict[str, Any] = {"nll": [], "step": [], "seconds": 0.0}
    log = LossLog(history, "nll", steps, max(1, steps // 40))
    start = time.perf_counter()
    model.train()
    for k in tqdm(range(steps), desc="AR steps", disable=not progress):
        size = (min(cfg.batch_size, len(x_all)),)
        idx = torch.randint(0, len(x_all), size, generator=gen, device=device)
        sign = torch.where(torch.rand(len(idx), generator=gen, device=device) < 0.5, -1.0, 1.0)
        x = x_all[idx] * sign[:, None]
        loss = -F.logsigmoid(x * model.logits(x, t_all[idx])).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        log.add(k, loss)
    model.eval()
    history["seconds"] = time.perf_counter() - start
    return history


def _generator(device: torch.device, seed: int | None) -> torch.Generator:
    """A generator made for ``device`` (random numbers are drawn where the spins live), seeded."""
    return torch.Generator(device=device).manual_seed(0 if seed is None else int(seed))


def _device(model: IsingAR, device) -> torch.device:
    return torch.device(device) if device is not None else next(model.parameters()).device


@torch.no_grad()
def _draw(model: IsingAR, T: torch.Tensor, device: torch.device, gen: torch.Generator,
          flipped: bool = False):
    """Ancestral draws of q (not symmetrised): spins (n, N), log q (n,) float32, both on ``device``;
    with ``flipped`` also log q(-s) (n,), evaluated site by site along the same loop.

    All N uniforms of a row are drawn at once on ``device`` (no copy per spin); the loop over the
    sites only runs the network. Evaluating log q(-s) in the loop costs one more small pass per
    site and draws no random numbers, so the spins are the same with or without it; it is several
    times cheaper than ``log_prob`` on the finished configurations, whose one large batch of n x N
    contexts does not fit in the cache."""
    n = len(T)
    was_training = model.training
    model.eval()
    temb = model.temb(temperature_features(T.to(device)))
    x = torch.zeros(n, model.N, device=device)
    logq = torch.zeros(n, device=device)
    logq_flipped = torch.zeros(n, device=device) if flipped else None
    uniform = torch.rand(n, model.N, generator=gen, device=device)
    for i in range(model.N):
        logit = model.site_logits(x, i, temb)
        s = torch.where(uniform[:, i] < torch.sigmoid(logit), 1.0, -1.0)
        if flipped:  # q(-s_i | -s_<i): the sites before i are set, the later ones are 0 = -0
            logq_flipped += F.logsigmoid(s * -model.site_logits(-x, i, temb))
        x[:, i] = s
        logq += F.logsigmoid(s * logit)
    model.train(was_training)
    return (x, logq, logq_flipped) if flipped else (x, logq)


def _random_flip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    flip = torch.where(torch.rand(len(x), generator=gen, device=x.device) < 0.5, -1.0, 1.0)
    return x * flip[:, None]


@torch.no_grad()
def _draw_symmetric(model: IsingAR, T: torch.Tensor, device: torch.device,
                    gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Draws of q_sym (a draw s of q times a random sign) and their exact log q_sym, on ``device``
    (``lattice.symmetrised_log_q``, as ``log_prob`` with ``symmetric``)."""
    x, log_q, log_q_flipped = _draw(model, T, device, gen, flipped=True)
    return _random_flip(x, gen), symmetrised_log_q(log_q, log_q_flipped)


def boltzmann_log_weights(model: IsingAR, x: torch.Tensor, log_q: torch.Tensor,
                          T: torch.Tensor) -> torch.Tensor:
    """log w = -H(s) / T - log q(s) (``observables.hamiltonian``): the importance weights that turn
    draws of q into draws of p = exp(-H/T) / Z; computed where ``x`` lives."""
    return -hamiltonian(x.reshape(len(x), model.L, model.L)) / T.to(x.device) - log_q


@torch.no_grad()
def sample_ar(model: IsingAR, T: torch.Tensor, device: torch.device | None = None,
              seed: int | None = 0, symmetric: bool = True) -> torch.Tensor:
    """Exact ancestral samples, one per temperature in ``T`` (n,): float32
    (n, 1, L, L) of +-1 on the CPU.

    ``symmetric``: each sample times an independent random sign (a draw of q_sym)."""
    device = _device(model, device)
    gen = _generator(device, seed)
    x, _ = _draw(model, T, device, gen)
    if symmetric:
        x = _random_flip(x, gen)
    return x.reshape(len(T), 1, model.L, model.L).cpu()


@torch.no_grad()
def sample_ar_mh(model: IsingAR, T: torch.Tensor, device: torch.device | None = None,
                 seed: int | None = 0, mh_steps: int = 3) -> tuple[torch.Tensor, float]:
    """Samples of the network corrected towards the Boltzmann distribution by
    independence Metropolis-Hastings.

    Each row is a chain started at a draw of q_sym; ``mh_steps`` times a fresh draw s' of q_sym is
    proposed and accepted with probability min(1, w(s') / w(s)), w(s) = exp(-H(s)/T) / q_sym(s)
    (``boltzmann_log_weights``; exact: log q is exact, H is the Ising energy), by
    ``lattice.independence_metropolis``. The chain leaves p = exp(-H/T)/Z invariant, so each row
    approaches p as ``mh_steps`` grows (Nicoli et al., PRE 101, 023304, 2020); rows stay
    independent, and the sign of a row is a fair coin (w(-s) = w(s)). Costs ``mh_steps + 1`` draws
    per row. Returns (samples float32 (n, 1, L, L) on the CPU, acceptance rate).
    """
    if isinstance(mh_steps, bool) or int(mh_steps) != mh_steps or int(mh_steps) < 0:
        raise ValueError(f"mh_steps must be a whole number >= 0, got {mh_steps!r}")
    device = _device(model, device)
    gen = _generator(device, seed)
    T = T.to(device=device, dtype=torch.float32)
    draws = [_draw_symmetric(model, T, device, gen) for _ in range(int(mh_steps) + 1)]
    log_w = torch.stack([boltzmann_log_weights(model, x, lq, T) for x, lq in draws])  # (steps, n)
    chain = independence_metropolis(log_w, gen)
    proposals = torch.stack([x for x, _ in draws])  # (steps, n, N)
    final = proposals[chain.index[-1].to(device), torch.arange(len(T), device=device)]
    rate = chain.acceptance if int(mh_steps) else float("nan")
    return final.reshape(len(T), 1, model.L, model.L).cpu(), rate


@torch.no_grad()
def variational_free_energy(model: IsingAR, T: float, n: int = 2_000, device=None, seed: int = 0):
    """(F_q per spin, its standard error) from ``n`` draws of q_sym:
    F_q = <e + T log q_sym / N>_q >= F / N (``sampler_metrics``)."""
    metrics = sampler_metrics(model, T, n, device, seed)
    return metrics["F_q"], metrics["F_q_error"]


@torch.no_grad()
def sampler_metrics(model: IsingAR, T: float, n: int = 4_096, device=None,
                    seed: int = 0) -> dict[str, float]:
    """The sampler metrics of the literature for ``n`` draws of q_sym at temperature ``T``.

    * ``F_q`` (+- ``F_q_error``): the variational free energy per spin <e + T log q / N>_q, an
      upper bound of the exact ``F = -T log Z / N`` (Kaufman, ``exact.log_partition_function``);
      ``rel_F = (F_q - F) / |F|`` (Wu, Wang & Zhang, PRL 122, 080602, 2019);
    * ``ess``: ESS / n of the weights w = exp(-H/T) / q (``lattice.effective_sample_size``);
    * ``acceptance``: of one independence-Metropolis chain through the n draws in order
      (``lattice.independence_metropolis``; Nicoli et al., PRE 101, 023304, 2020);
    * ``tau_abs_m``, ``tau_e``: tau_int of |m| and e along that chain, in proposals (1/2 when
      independent).
    """
    device = _device(model, device)
    gen = _generator(device, seed)
    temps = torch.full((int(n),), float(T), device=device)
    x, log_q = _draw_symmetric(model, temps, device, gen)
    log_w = boltzmann_log_weights(model, x, log_q, temps)
    chain = independence_metropolis(log_w, gen)
    spins = x.reshape(len(x), model.L, model.L).cpu().double()
    e = hamiltonian(spins) / model.N
    abs_m = spins.mean((1, 2)).abs()
    f = e + float(T) * log_q.cpu().double() / model.N
    F_q, F = float(f.mean()), -float(T) * float(log_partition_function(model.L, float(T))) / model.N
    return {
        "F_q": F_q, "F_q_error": float(f.std() / math.sqrt(len(f))), "F": F,
        "rel_F": (F_q - F) / abs(F),
        "ess": float(effective_sample_size(log_w)), "acceptance": chain.acceptance,
        "tau_abs_m": integrated_autocorrelation_time(abs_m[chain.index])[0],
        "tau_e": integrated_autocorrelation_time(e[chain.index])[0],
    }
