"""Training a denoiser eps_theta(x_t, t) (Ho et al. 2020, Algorithm 1) with an EMA of its weights.

* ``diffusion_loss`` -- L_simple = E || eps - eps_theta(x_t, t) ||^2  (Ho et al. eq. 14)
* ``EMA`` -- exponential moving average of the weights, used for sampling
* ``warmup_cosine`` -- the learning-rate schedule: linear warm-up, then cosine decay to 10%
* ``drop_labels`` -- label dropout for classifier-free guidance
* ``train_diffusion`` -- the training loop with EMA, warm-up, cosine decay and a progress bar
"""
from __future__ import annotations

import copy
import math
import time
from typing import Any

import torch
from torch import nn

from ..device import DeviceLike, get_device, seeded_generator
from ..progress import tqdm
from .forward import q_sample
from .schedules import Schedule
from .unet import check_label_values

__all__ = ["diffusion_loss", "EMA", "LossLog", "warmup_cosine", "drop_labels", "train_diffusion",
           "check_training_fields"]


def check_training_fields(ema_decay: float, p_uncond: float | None = None) -> None:
    """One clear line for a config's EMA decay outside [0, 1) or a label-dropout probability
    (classifier-free guidance's p_uncond) outside [0, 1); DDPM and flow configs call it."""
    if not 0.0 <= ema_decay < 1.0:
        raise ValueError(f"ema_decay must be in [0, 1), got {ema_decay}")
    if p_uncond is not None and not 0.0 <= p_uncond < 1.0:
        raise ValueError(f"p_uncond is a probability in [0, 1), got {p_uncond}")


def diffusion_loss(model: nn.Module, x0: torch.Tensor, schedule: Schedule,
                   generator: torch.Generator | None = None,
                   labels: torch.Tensor | None = None) -> torch.Tensor:
    """The simple loss L_simple = E_{t, x_0, eps} || eps - eps_theta(sqrt(abar_t) x_0 +
    sqrt(1-abar_t) eps, t) ||^2 (Ho et al. eq. 14), t uniform on 0..T-1. With ``labels`` (a
    conditional model) eps_theta also sees y. t and eps are drawn on x0's device (``generator``, if
    given, is one of that device)."""
    t = torch.randint(0, schedule.T, (len(x0),), generator=generator, device=x0.device)
    noise = torch.randn(x0.shape, generator=generator, device=x0.device).to(x0.dtype)
    xt = q_sample(x0, t, schedule, noise)
    prediction = model(xt, t) if labels is None else model(xt, t, labels)
    return (prediction - noise).pow(2).mean()


class LossLog:
    """The mean training loss over every ``every`` steps (and the last, shorter stretch), appended
    to ``history[key]`` with the step it ends at in ``history["step"]``.

    The losses are summed on their device, so the host waits for the device once per entry, not
    once per step."""

    def __init__(self, history: dict[str, Any], key: str, steps: int, every: int) -> None:
        self.history, self.key, self.steps, self.every = history, key, steps, every
        self.running: torch.Tensor | float = 0.0
        self.count = 0

    def add(self, k: int, loss: torch.Tensor) -> None:
        """Record the loss of step ``k`` (0-based)."""
        self.running, self.count = self.running + loss.detach(), self.count + 1
        if self.count == self.every or k + 1 == self.steps:
            self.history[self.key].append(float(self.running) / self.count)
            self.history["step"].append(k + 1)
            self.running, self.count = 0.0, 0


class EMA:
    """theta_ema <- d theta_ema + (1 - d) theta, with warm-up d_k =
    min(decay, (1 + k) / (10 + k))."""

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
        for ema_p, p in zip(self.model.parameters(), model.parameters(), strict=True):
            ema_p.mul_(d).add_(p.detach(), alpha=1 - d)
        for ema_b, b in zip(self.model.buffers(), model.buffers(), strict=True):
            ema_b.copy_(b)


def warmup_cosine(optimizer: torch.optim.Optimizer, warmup: int,
                  steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The learning rate lr_k = lr min(1, (k + 1) / warmup) (0.1 + 0.9 (1 + cos(pi k / steps)) / 2):
    a linear warm-up, then a cosine decay to 10% of lr at step ``steps``."""

    def factor(k: int) -> float:
        return min(1.0, (k + 1) / max(1, warmup)) * (
            0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, k / steps))))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def drop_labels(labels: torch.Tensor, p_uncond: float,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Each label replaced by -1 ("no label") with probability ``p_uncond`` (classifier-free
    guidance's label dropout, Ho & Salimans 2022); drawn on the labels' device."""
    drop = torch.rand(labels.shape, generator=generator, device=labels.device) < p_uncond
    return labels.masked_fill(drop, -1)


def train_diffusion(model: nn.Module, data: torch.Tensor, schedule: Schedule, steps: int,
                    batch_size: int = 128, lr: float = 2e-3, warmup: int = 100,
                    ema_decay: float = 0.999, device: DeviceLike = None, seed: int = 0,
                    progress: bool = True, log_every: int = 50, labels: torch.Tensor | None = None,
                    p_uncond: float = 0.1) -> tuple[EMA, dict[str, Any]]:
    """Algorithm 1 of Ho et al.: repeat { x_0 ~ data, t ~ U, eps ~ N(0,I), step on L_simple }.
    Adam with linear warm-up then cosine decay to 10% of lr, grad-norm clip 1. Returns the EMA and a
    history with ``loss`` (mean per ``log_every`` steps), ``seconds`` and ``images_per_second``.

    With ``labels`` (one class per training example) the model learns eps_theta(x_t, t,
    y); each label is replaced by -1 ("no label") with probability ``p_uncond``, so the
    same network also learns the unconditional eps_theta(x_t, t) that classifier-free
    guidance needs (Ho & Salimans 2022).

    The data (and labels) are moved to ``device`` once; batches, t, eps and the label dropout are
    drawn there from one generator seeded with ``seed`` (on the CPU the stream of
    ``torch.Generator().manual_seed(seed)``), and the losses are summed there: no host-device
    traffic per step but the logging."""
    if not isinstance(data, torch.Tensor) or data.dim() < 2 or len(data) == 0:
        raise ValueError("data must be a non-empty tensor of training examples (N, ...)")
    if labels is not None and (not isinstance(labels, torch.Tensor)
                               or labels.shape != (len(data),)):
        raise ValueError("labels must be a tensor with one class per training example, shape "
                         f"({len(data)},)")
    if not 0.0 <= p_uncond < 1.0:
        raise ValueError(f"p_uncond is a probability in [0, 1), got {p_uncond}")
    if labels is not None and isinstance(getattr(model, "num_classes", None), int):
        check_label_values(labels, model.num_classes)  # once here, not at every step on the device
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    device = get_device(device)
    model = model.to(device).train()
    schedule = schedule.to(device)
    generator = seeded_generator(seed, device)
    data = data.to(device)
    labels = labels.to(device) if labels is not None else None
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = warmup_cosine(opt, warmup, steps)
    ema = EMA(model, ema_decay)
    history: dict[str, Any] = {"loss": [], "step": []}
    log = LossLog(history, "loss", steps, log_every)
    start = time.perf_counter()
    for k in tqdm(range(steps), desc="train", disable=not progress):
        batch = min(batch_size, len(data))
        idx = torch.randint(0, len(data), (batch,), generator=generator, device=device)
        x0 = data[idx]
        y = None
        if labels is not None:
            y = drop_labels(labels[idx].long(), p_uncond, generator)  # labels live on the device
        loss = diffusion_loss(model, x0, schedule, generator, labels=y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        ema.update(model)
        log.add(k, loss)
    seconds = time.perf_counter() - start
    history["seconds"] = seconds
    history["images_per_second"] = steps * min(batch_size, len(data)) / seconds
    return ema, history
