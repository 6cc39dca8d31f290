"""One training loop for every flow here: minimise an objective on random mini-batches.

Real-NVP minimises the negative log-likelihood (maximum likelihood, Dinh et al. 2017); flow
matching minimises a regression loss (Lipman et al. 2023). Everything else is shared: mini-batches
drawn with replacement, Adam with a linear warm-up and a cosine decay
(``diffusion.training.warmup_cosine``), gradient-norm clipping, an exponential moving average of
the weights (``diffusion.training.EMA``, which is what samples) and a progress bar. Training returns
a history; it never plots.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import torch
from torch import nn

from ..device import DeviceLike, get_device
from ..diffusion.training import EMA, LossLog, warmup_cosine
from ..progress import tqdm

__all__ = ["Objective", "Recipe", "fit", "fit_recipe"]

Objective = Callable[[Sequence[torch.Tensor], torch.Generator], torch.Tensor]
"""objective(batch, generator) -> the scalar loss of one mini-batch (tensors on the device);
``generator`` draws any noise it needs (dequantisation, times, label dropout) on that device."""


class Recipe(Protocol):
    """The training fields every flow's config has (``FlowMatchingConfig``, ``RealNVPConfig``)."""

    train_steps: int
    batch_size: int
    lr: float
    warmup: int
    ema_decay: float


def _check_data(data: Sequence[torch.Tensor]) -> None:
    if not data or not all(isinstance(d, torch.Tensor) for d in data) or len(data[0]) == 0:
        raise ValueError(
            "data must be a non-empty tuple of tensors, e.g. (images,) or (images, labels)"
        )
    if any(len(d) != len(data[0]) for d in data):
        raise ValueError(
            f"every tensor in data needs one row per example, got lengths {[len(d) for d in data]}"
        )


def fit(
    model: nn.Module,
    objective: Objective,
    data: Sequence[torch.Tensor],
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    warmup: int = 100,
    ema_decay: float = 0.999,
    grad_clip: float = 1.0,
    device: DeviceLike = None,
    seed: int = 0,
    progress: bool = True,
    log_every: int = 50,
    desc: str = "train",
) -> tuple[EMA, dict[str, Any]]:
    """``steps`` Adam steps on ``objective`` with mini-batches of ``batch_size`` rows of ``data``.

    Returns the EMA of the weights (``ema.model``) and a history with ``loss`` (the mean per
    ``log_every`` steps), ``step``, ``seconds`` and ``examples_per_second``."""
    _check_data(data)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    device = get_device(device)
    model = model.to(device).train()
    data = [d.to(device) for d in data]
    generator = torch.Generator(device).manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = warmup_cosine(optimizer, warmup, steps)
    ema = EMA(model, ema_decay)
    history: dict[str, Any] = {"loss": [], "step": []}
    log = LossLog(history, "loss", steps, log_every)
    n = min(batch_size, len(data[0]))
    start = time.perf_counter()
    for k in tqdm(range(steps), desc=desc, disable=not progress):
        idx = torch.randint(0, len(data[0]), (n,), generator=generator, device=device)
        loss = objective([d[idx] for d in data], generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        schedule.step()
        ema.update(model)
        log.add(k, loss)
    history["seconds"] = time.perf_counter() - start
    history["examples_per_second"] = steps * n / history["seconds"]
    return ema, history


def fit_recipe(model: nn.Module, objective: Objective, data: Sequence[torch.Tensor],
               recipe: Recipe, **options: Any) -> tuple[EMA, dict[str, Any]]:
    """``fit`` with the optimiser fields read from a model's config (its recipe); ``options`` are
    ``fit``'s others (``device``, ``seed``, ``progress``, ``log_every``, ``desc``)."""
    return fit(model, objective, data, recipe.train_steps, recipe.batch_size, recipe.lr,
               recipe.warmup, recipe.ema_decay, **options)
