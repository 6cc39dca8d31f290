"""Denoising diffusion probabilistic models (DDPM, Ho et al. 2020) and DDIM (Song et al. 2021).

Notation follows the lecture / Ho et al.: beta_t, alpha_t = 1 - beta_t, abar_t = prod_{s<=t} alpha_s,
time steps t = 0, ..., T-1 (index t here is step t+1 of the paper).

* ``make_schedule(T, kind)`` -- linear (1e-4 .. 0.02 at T = 1000) or cosine (Nichol & Dhariwal 2021) betas.
* ``q_sample`` -- x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps            (closed form of q(x_t | x_0))
* ``posterior_mean_variance`` -- mean/variance of q(x_{t-1} | x_t, x_0)        (Ho et al. eq. 6-7)
* ``diffusion_loss`` -- E || eps - eps_theta(x_t, t) ||^2                       (Ho et al. eq. 14)
* ``ddpm_sample`` -- ancestral sampling, x_{t-1} = mu_theta(x_t, t) + sigma_t z   (Algorithm 2)
* ``ddim_sample`` -- DDIM on any sub-sequence of steps, deterministic with eta = 0 (Song et al. eq. 12)
* ``guided_eps`` -- classifier-free guidance (Ho & Salimans 2022):
  eps = eps_theta(x_t, t) + w (eps_theta(x_t, t, y) - eps_theta(x_t, t)); both samplers take ``labels``, ``guidance``
* ``EMA`` -- exponential moving average of the weights used for sampling.
* ``train_diffusion`` -- the training loop (Algorithm 1) with EMA, warm-up and a tqdm bar.
* CLI hooks ``add_ddpm_args``, ``train_ddpm_from_args``, ``sample_ddpm_checkpoint``, ``load_ddpm``.
"""
from __future__ import annotations

import argparse
import copy
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

__all__ = [
    "Schedule", "make_schedule", "q_sample", "posterior_mean_variance", "predict_x0",
    "diffusion_loss", "guided_eps", "ddpm_sample", "ddim_sample", "EMA", "train_diffusion",
    "add_ddpm_args", "train_ddpm_from_args", "sample_ddpm_checkpoint", "load_ddpm", "ddpm_config",
]


@dataclass(frozen=True)
class Schedule:
    """All per-step constants, each a float32 tensor of shape (T,)."""

    betas: torch.Tensor
    alphas: torch.Tensor
    alpha_bars: torch.Tensor

    @property
    def T(self) -> int:
        return len(self.betas)

    def to(self, device: torch.device | str) -> "Schedule":
        return Schedule(self.betas.to(device), self.alphas.to(device), self.alpha_bars.to(device))


def make_schedule(T: int = 1000, kind: str = "linear", beta_start: float | None = None,
                  beta_end: float | None = None) -> Schedule:
    """beta_t for t = 1..T.

    ``linear``: evenly from beta_start to beta_end (Ho et al.). The default range, 1e-4 .. 0.02, is
    Ho et al.'s for T = 1000; for another T both ends are scaled by 1000 / T (Nichol & Dhariwal
    2021), which keeps sum_t beta_t and hence abar_T ~ exp(-sum beta) the same: x_T is pure noise
    (sqrt(abar_T) < 0.01) for every T. An unscaled 1e-4 .. 0.02 over T = 100 steps would leave
    sqrt(abar_T) = 0.6 of the image in x_T, a common bug. Below T = 21 the scaled beta_T would
    reach 1: use the cosine schedule there.
    ``cosine``: abar_t = f(t)/f(0), f(t) = cos^2(((t/T + s)/(1 + s)) pi/2), s = 0.008, betas clipped at 0.999.
    """
    if not isinstance(T, int) or isinstance(T, bool) or T < 1:
        raise ValueError(f"T (number of diffusion steps) must be a positive integer, got {T!r}")
    if kind == "linear":
        if beta_start is None and beta_end is None and 1000 / T * 0.02 >= 1:
            raise ValueError(f"The linear schedule needs T >= 21 steps (its betas are scaled by 1000/T and "
                             f"beta_T would be {1000 / T * 0.02:.2f} at T={T}); use kind='cosine' for so few steps.")
        beta_start = 1e-4 * 1000 / T if beta_start is None else beta_start
        beta_end = 0.02 * 1000 / T if beta_end is None else beta_end
        if not 0 < beta_start <= beta_end < 1:
            raise ValueError(f"Need 0 < beta_start <= beta_end < 1, got {beta_start} and {beta_end}")
        betas = torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
    elif kind == "cosine":
        s = 0.008
        steps = torch.arange(T + 1, dtype=torch.float64)
        f = torch.cos(((steps / T + s) / (1 + s)) * math.pi / 2) ** 2
        abar = f / f[0]
        betas = (1 - abar[1:] / abar[:-1]).clamp(max=0.999)
    else:
        raise ValueError(f"Unknown schedule kind {kind!r}: choose 'linear' or 'cosine'")
    alphas = 1 - betas
    alpha_bars = torch.cumprod(alphas, dim=0)
    return Schedule(betas.float(), alphas.float(), alpha_bars.float())


def _check_t(t: torch.Tensor, x: torch.Tensor, schedule: Schedule) -> torch.Tensor:
    t = torch.as_tensor(t, device=x.device)
    if t.dim() == 0:
        t = t.expand(len(x))
    if t.dim() != 1 or len(t) != len(x):
        raise ValueError(f"t must be one time step per sample, shape ({len(x)},), got shape {tuple(t.shape)}")
    if t.dtype.is_floating_point or t.dtype == torch.bool:
        raise ValueError(f"t must hold integer time steps 0..T-1, got a {t.dtype} tensor")
    if len(t) and (int(t.min()) < 0 or int(t.max()) >= schedule.T):
        raise ValueError(f"time steps must lie in 0..{schedule.T - 1}, got values in {int(t.min())}..{int(t.max())}")
    return t


def _bcast(values: torch.Tensor, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """values[t] reshaped to (N, 1, 1, ...) to multiply x."""
    return values.to(x.device)[t].reshape(-1, *([1] * (x.dim() - 1)))


def q_sample(x0: torch.Tensor, t: torch.Tensor, schedule: Schedule, noise: torch.Tensor | None = None) -> torch.Tensor:
    """Draw x_t ~ q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I):
    x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, eps ~ N(0, I)."""
    t = _check_t(t, x0, schedule)
    if noise is None:
        noise = torch.randn_like(x0)
    elif noise.shape != x0.shape:
        raise ValueError(f"noise must have the shape of x0 {tuple(x0.shape)}, got {tuple(noise.shape)}")
    abar = _bcast(schedule.alpha_bars, t, x0)
    return abar.sqrt() * x0 + (1 - abar).sqrt() * noise


def posterior_mean_variance(x0: torch.Tensor, xt: torch.Tensor, t: torch.Tensor, schedule: Schedule) -> tuple[torch.Tensor, torch.Tensor]:
    """q(x_{t-1} | x_t, x_0) = N(mu~_t, beta~_t I) (Ho et al. eq. 6-7):
    mu~_t = sqrt(abar_{t-1}) beta_t / (1 - abar_t) x_0 + sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t) x_t,
    beta~_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t, with abar_{-1} = 1 (so beta~_0 = 0)."""
    if x0.shape != xt.shape:
        raise ValueError(f"x0 and xt must have the same shape, got {tuple(x0.shape)} and {tuple(xt.shape)}")
    t = _check_t(t, xt, schedule)
    abar_prev_all = torch.cat([torch.ones(1), schedule.alpha_bars.cpu()[:-1]]).to(xt.device)
    abar = _bcast(schedule.alpha_bars, t, xt)
    abar_prev = _bcast(abar_prev_all, t, xt)
    beta = _bcast(schedule.betas, t, xt)
    alpha = _bcast(schedule.alphas, t, xt)
    mean = abar_prev.sqrt() * beta / (1 - abar) * x0 + alpha.sqrt() * (1 - abar_prev) / (1 - abar) * xt
    var = (1 - abar_prev) / (1 - abar) * beta
    return mean, var.expand_as(xt)


def predict_x0(xt: torch.Tensor, eps: torch.Tensor, t: torch.Tensor, schedule: Schedule) -> torch.Tensor:
    """Invert the closed form (Tweedie's estimate): x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)."""
    t = _check_t(t, xt, schedule)
    abar = _bcast(schedule.alpha_bars, t, xt)
    return (xt - (1 - abar).sqrt() * eps) / abar.sqrt()


def diffusion_loss(model: nn.Module, x0: torch.Tensor, schedule: Schedule, generator: torch.Generator | None = None,
                   labels: torch.Tensor | None = None) -> torch.Tensor:
    """The simple loss L_simple = E_{t, x_0, eps} || eps - eps_theta(sqrt(abar_t) x_0 + sqrt(1-abar_t) eps, t) ||^2
    (Ho et al. eq. 14), t uniform on 0..T-1. With ``labels`` (a conditional model) eps_theta also sees y."""
    t = torch.randint(0, schedule.T, (len(x0),), generator=generator).to(x0.device)
    noise = torch.randn(x0.shape, generator=generator).to(x0.device)
    xt = q_sample(x0, t, schedule, noise)
    prediction = model(xt, t) if labels is None else model(xt, t, labels)
    return (prediction - noise).pow(2).mean()


def guided_eps(model: nn.Module, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None,
               guidance: float = 1.0) -> torch.Tensor:
    """The noise prediction the samplers use.

    Without labels: eps_theta(x_t, t). With labels y (a conditional UNet trained with label dropout),
    classifier-free guidance (Ho & Salimans 2022, with their w + 1 written as w here):
        eps = eps_theta(x_t, t, -) + w (eps_theta(x_t, t, y) - eps_theta(x_t, t, -)),
    i.e. the score of p(x_t) p(y | x_t)^w: w = 1 samples p(x | y), w > 1 sharpens towards y
    (clearer digits, less variety), w = 0 ignores the label. Both predictions come from one
    forward pass over the doubled batch.
    """
    if labels is None:
        return model(x, t)
    labels = labels.to(x.device)
    if guidance == 1.0:
        return model(x, t, labels)
    both = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, torch.full_like(labels, -1)]))
    eps_cond, eps_uncond = both.chunk(2)
    return eps_uncond + guidance * (eps_cond - eps_uncond)


def _check_labels(labels: torch.Tensor | None, n: int, device: torch.device) -> torch.Tensor | None:
    """One class per sample (a single class is repeated), as int64 on the sampling device."""
    if labels is None:
        return None
    labels = torch.as_tensor(labels)
    if labels.dim() == 0:
        labels = labels.expand(n)
    if labels.shape != (n,):
        raise ValueError(f"labels must hold one class per sample, shape ({n},), got shape {tuple(labels.shape)}")
    return labels.to(device=device, dtype=torch.long)


def _noise(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    return torch.randn(shape, generator=generator).to(device)


@torch.no_grad()
def ddpm_sample(model: nn.Module, shape: tuple[int, ...], schedule: Schedule, device: torch.device | str = "cpu",
                seed: int | None = 0, return_chain: int = 0, progress: bool = True, clip: float | None = None,
                labels: torch.Tensor | None = None, guidance: float = 1.0):
    """Ancestral sampling (Ho et al. Algorithm 2): x_T ~ N(0, I), then for t = T..1
    x_{t-1} = 1/sqrt(alpha_t) (x_t - beta_t / sqrt(1 - abar_t) eps_theta(x_t, t)) + sigma_t z,
    sigma_t^2 = beta~_t (posterior variance), z = 0 at the last step. Implemented via the x0-estimate
    plugged into the posterior mean, which is the same formula. For images in [-1, 1] pass
    ``clip=1.0``: the x0-estimate is then clipped to the data range at every step (Ho et al.'s code
    does this; it helps small models a lot). Leave ``clip=None`` for data with no fixed range.
    ``labels`` and ``guidance``: classifier-free guidance for a conditional model (``guided_eps``).
    Returns x_0, or (x_0, chain) with ``return_chain`` snapshots when return_chain > 0."""
    device = torch.device(device)
    labels = _check_labels(labels, shape[0], device)
    schedule = schedule.to(device)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    x = _noise(tuple(shape), generator, device)
    keep = set(torch.linspace(schedule.T - 1, 0, return_chain).round().long().tolist()) if return_chain else set()
    chain = []
    was_training = model.training
    model.eval()
    for i in tqdm(range(schedule.T - 1, -1, -1), desc="DDPM", disable=not progress, leave=False):
        t = torch.full((shape[0],), i, device=device, dtype=torch.long)
        x0_hat = predict_x0(x, guided_eps(model, x, t, labels, guidance), t, schedule)
        if clip is not None:
            x0_hat = x0_hat.clamp(-clip, clip)
        mean, var = posterior_mean_variance(x0_hat, x, t, schedule)
        x = mean + (var.sqrt() * _noise(tuple(shape), generator, device) if i > 0 else 0)
        if i in keep:
            chain.append((i, x.cpu()))
    model.train(was_training)
    return (x, chain) if return_chain else x


def _ddim_steps(T: int, steps: int) -> list[int]:
    if not isinstance(steps, int) or not 1 <= steps <= T:
        raise ValueError(f"DDIM steps must be an integer between 1 and T={T}, got {steps!r}")
    # From T-1 down: with one step the sampler jumps from x_T straight to x_0.
    return sorted(set(torch.linspace(T - 1, 0, steps).round().long().tolist()), reverse=True)


@torch.no_grad()
def ddim_sample(model: nn.Module, shape: tuple[int, ...], schedule: Schedule, steps: int = 50,
                device: torch.device | str = "cpu", seed: int | None = 0, x_T: torch.Tensor | None = None,
                progress: bool = True, clip: float | None = None, eta: float = 0.0,
                labels: torch.Tensor | None = None, guidance: float = 1.0) -> torch.Tensor:
    """DDIM (Song et al. eq. 12) on ``steps`` evenly spaced steps tau_1 > ... > tau_S:
    x0_hat = (x_t - sqrt(1-abar_t) eps_theta) / sqrt(abar_t),
    x_{tau_prev} = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - sigma^2) eps_theta + sigma z,
    sigma = eta sqrt((1 - abar_prev) / (1 - abar_t)) sqrt(1 - abar_t / abar_prev), abar_prev = 1 after the last step.
    ``eta = 0`` is the deterministic sampler (the probability flow ODE): the same x_T always gives the
    same x_0. ``eta = 1`` is ancestral sampling on the sub-sequence (DDPM when steps = T).
    ``clip=1.0`` clips the x0-estimate to [-1, 1] (for images), as in ``ddpm_sample``; ``labels`` and
    ``guidance`` as there."""
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must lie in [0, 1] (0: deterministic DDIM, 1: DDPM-like), got {eta}")
    device = torch.device(device)
    labels = _check_labels(labels, shape[0], device)
    schedule = schedule.to(device)
    taus = _ddim_steps(schedule.T, steps)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    if x_T is None:
        x = _noise(tuple(shape), generator, device)
    else:
        if tuple(x_T.shape) != tuple(shape):
            raise ValueError(f"x_T must have the requested shape {tuple(shape)}, got {tuple(x_T.shape)}")
        x = x_T.to(device).clone()
    was_training = model.training
    model.eval()
    for k, i in enumerate(tqdm(taus, desc=f"DDIM-{len(taus)}", disable=not progress, leave=False)):
        t = torch.full((x.shape[0],), i, device=device, dtype=torch.long)
        eps = guided_eps(model, x, t, labels, guidance)
        x0_hat = predict_x0(x, eps, t, schedule)
        abar_t = schedule.alpha_bars[i]
        if clip is not None:
            x0_hat = x0_hat.clamp(-clip, clip)
            eps = (x - abar_t.sqrt() * x0_hat) / (1 - abar_t).sqrt()
        abar_prev = schedule.alpha_bars[taus[k + 1]] if k + 1 < len(taus) else torch.tensor(1.0, device=device)
        sigma = eta * ((1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev)).clamp(min=0).sqrt()
        x = abar_prev.sqrt() * x0_hat + (1 - abar_prev - sigma**2).clamp(min=0).sqrt() * eps
        if eta > 0 and k + 1 < len(taus):
            x = x + sigma * _noise(tuple(x.shape), generator, device)
    model.train(was_training)
    return x


class EMA:
    """theta_ema <- d theta_ema + (1 - d) theta, with warm-up d_k = min(decay, (1 + k) / (10 + k))."""

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.num_updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.num_updates += 1
        d = min(self.decay, (1 + self.num_updates) / (10 + self.num_updates))
        for ema_p, p in zip(self.model.parameters(), model.parameters()):
            ema_p.mul_(d).add_(p.detach(), alpha=1 - d)
        for ema_b, b in zip(self.model.buffers(), model.buffers()):
            ema_b.copy_(b)


def train_diffusion(model: nn.Module, data: torch.Tensor, schedule: Schedule, steps: int, batch_size: int = 128,
                    lr: float = 2e-3, warmup: int = 100, ema_decay: float = 0.999, device: torch.device | str = "cpu",
                    seed: int = 0, progress: bool = True, log_every: int = 50, labels: torch.Tensor | None = None,
                    p_uncond: float = 0.1) -> tuple[EMA, dict[str, Any]]:
    """Algorithm 1 of Ho et al.: repeat { x_0 ~ data, t ~ U, eps ~ N(0,I), step on L_simple }.
    Adam with linear warm-up then cosine decay to 10% of lr, grad-norm clip 1. Returns the EMA and a history
    with ``loss`` (mean per ``log_every`` steps), ``seconds`` and ``images_per_second``.

    With ``labels`` (one class per training example) the model learns eps_theta(x_t, t, y); each label is
    replaced by -1 ("no label") with probability ``p_uncond``, so the same network also learns the
    unconditional eps_theta(x_t, t) that classifier-free guidance needs (Ho & Salimans 2022)."""
    if not isinstance(data, torch.Tensor) or data.dim() < 2 or len(data) == 0:
        raise ValueError("data must be a non-empty tensor of training examples (N, ...)")
    if labels is not None and (not isinstance(labels, torch.Tensor) or labels.shape != (len(data),)):
        raise ValueError(f"labels must be a tensor with one class per training example, shape ({len(data)},)")
    if not 0.0 <= p_uncond < 1.0:
        raise ValueError(f"p_uncond is a probability in [0, 1), got {p_uncond}")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    device = torch.device(device)
    model = model.to(device).train()
    schedule = schedule.to(device)
    generator = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: min(1.0, (k + 1) / max(1, warmup)) * (
        0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, k / steps)))))
    ema = EMA(model, ema_decay)
    history: dict[str, Any] = {"loss": [], "step": []}
    running, count = torch.zeros((), device=device), 0
    start = time.perf_counter()
    for k in tqdm(range(steps), desc="train", disable=not progress):
        idx = torch.randint(0, len(data), (min(batch_size, len(data)),), generator=generator)
        x0 = data[idx].to(device)
        y = None
        if labels is not None:
            y = labels[idx].long().masked_fill(torch.rand(len(idx), generator=generator) < p_uncond, -1).to(device)
        loss = diffusion_loss(model, x0, schedule, generator, labels=y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        ema.update(model)
        running, count = running + loss.detach(), count + 1
        if count == log_every or k == steps - 1:  # one host sync per log_every steps
            history["loss"].append(running.item() / count)
            history["step"].append(k + 1)
            running, count = torch.zeros((), device=device), 0
    seconds = time.perf_counter() - start
    history["seconds"] = seconds
    history["images_per_second"] = steps * min(batch_size, len(data)) / seconds
    return ema, history


# --- checkpoints and CLI hooks ------------------------------------------------------------


def ddpm_config(T: int = 1000, schedule: str = "linear", channels: tuple[int, int] = (32, 64), t_dim: int = 128,
                num_classes: int | None = None) -> dict[str, Any]:
    """Plain-data description stored in a 'ddpm' checkpoint (``num_classes``: a conditional UNet)."""
    from .unet import unet_config

    return {"T": int(T), "schedule": schedule, "unet": unet_config(channels, t_dim, num_classes)}


def load_ddpm(path_or_payload: str | Path | dict[str, Any], device: torch.device | str = "cpu") -> tuple[nn.Module, Schedule, dict[str, Any]]:
    """Rebuild (EMA UNet in eval mode, schedule, config) from a 'ddpm' checkpoint file or payload."""
    from .checkpoints import load_checkpoint
    from .unet import build_unet

    payload = path_or_payload if isinstance(path_or_payload, dict) else load_checkpoint(path_or_payload)
    if payload.get("kind") != "ddpm":
        raise ValueError(f"Expected a checkpoint of kind 'ddpm', got kind {payload.get('kind')!r}")
    config = payload["config"]
    model = build_unet(config["unet"], device)
    model.load_state_dict(payload["state_dicts"]["ema_model"])
    return model.eval(), make_schedule(config["T"], config["schedule"]), config


def add_ddpm_args(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m course_utils train ddpm``."""
    from .cli import _positive_int

    parser.add_argument("--train-steps", type=_positive_int, default=3000, help="optimiser steps (default 3000)")
    parser.add_argument("--batch-size", type=_positive_int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--T", type=_positive_int, default=1000, help="diffusion steps T")
    parser.add_argument("--schedule", choices=("linear", "cosine"), default="linear")
    parser.add_argument("--channels", type=_positive_int, nargs=2, default=(32, 64), metavar=("C1", "C2"))
    parser.add_argument("--ema-decay", type=float, default=0.999)
    parser.add_argument("--n-train", type=_positive_int, default=None, help="use only the first N training images")
    parser.add_argument("--conditional", action=argparse.BooleanOptionalAction, default=True,
                        help="learn eps(x_t, t, digit) with 10%% label dropout, so the model samples with or "
                             "without a digit (default: on; --no-conditional for the plain DDPM)")


def train_ddpm_from_args(args: argparse.Namespace, device: torch.device | None = None) -> tuple[Path, float]:
    """Train a UNet DDPM on MNIST and save it with kind 'ddpm'; returns (checkpoint, images/second)."""
    from .checkpoints import save_checkpoint
    from .data import load_mnist, split_of
    from .device import get_device, seed_everything
    from .unet import build_unet

    device = device if isinstance(device, torch.device) else get_device(getattr(args, "device", None))
    data = load_mnist(root=args.data_root, train=True, n=args.n_train)
    print(f"data: {len(data):,} images, {data.source}")
    images, digits = split_of(data)
    seed_everything(args.seed)
    config = ddpm_config(args.T, args.schedule, tuple(args.channels), num_classes=10 if args.conditional else None)
    model = build_unet(config["unet"], device)
    ema, history = train_diffusion(model, images, make_schedule(args.T, args.schedule), args.train_steps,
                                   args.batch_size, args.lr, ema_decay=args.ema_decay, device=device, seed=args.seed,
                                   labels=digits if args.conditional else None)
    path = save_checkpoint(args.out, "ddpm", {"model": model, "ema_model": ema.model}, config, history)
    return path, history["images_per_second"]


def sample_ddpm_checkpoint(payload: dict[str, Any], n: int, device: torch.device, seed: int,
                           args: argparse.Namespace | None = None) -> torch.Tensor:
    """n images (n, 28, 28) in [0, 1] on the CPU: DDIM with ``args.steps`` steps (None -> 50) and
    ``args.eta`` (None -> 0); unconditional unless ``args.digit`` names a digit for a conditional
    model, then classifier-free guidance with ``args.guidance`` (None -> 3)."""
    model, schedule, _ = load_ddpm(payload, device)
    steps = getattr(args, "steps", None) or 50
    eta = getattr(args, "eta", None) or 0.0
    digit = getattr(args, "digit", None)
    labels = None
    if digit is not None:
        if model.num_classes is None:
            raise ValueError("This DDPM was trained without labels (--no-conditional), so it cannot draw a chosen digit.")
        if not 0 <= digit < model.num_classes:
            raise ValueError(f"--digit must be one of 0..{model.num_classes - 1}, got {digit}")
        labels = torch.full((n,), digit, dtype=torch.long)
    guidance = getattr(args, "guidance", None)
    x = ddim_sample(model, (n, 1, 28, 28), schedule, min(steps, schedule.T), device, seed, clip=1.0, eta=eta,
                    labels=labels, guidance=3.0 if guidance is None else guidance)
    return ((x.clamp(-1, 1) + 1) / 2).reshape(n, 28, 28).cpu()
