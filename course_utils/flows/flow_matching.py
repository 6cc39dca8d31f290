"""The flow-matching model of notebook 07b on MNIST as one object, beside notebook 07's DDPM.

``FlowMatchingConfig`` holds the UNet's size (the DDPM's ``SmallUNet``, class-conditional with
label dropout) and the whole training recipe; ``FlowMatching`` holds the velocity network being
trained and its exponential moving average, which samples. Training regresses the network on the
linear path's velocity x_1 - x_0 (``paths.flow_matching_loss``, Lipman et al. 2023; Liu et al.
2023); sampling integrates dx/dt = v(x, t) from noise at t = 0 to digits at t = 1 with Euler or
Heun steps (``solvers.solve_ode``), or walks the same grid with the DDPM's ancestral step on the
linear path (``paths.ancestral_step``: fresh noise at every step, one evaluation per step).

Classifier-free guidance (Ho & Salimans 2022) mixes the conditional and the unconditional
velocity of the same network (``diffusion.samplers.guided_eps``, the same formula):

    v = v(x, t, -) + w (v(x, t, y) - v(x, t, -)),

w = 1 is the conditional model, w = 0 ignores the label, w > 1 pushes towards the digit. Ho &
Salimans write (1 + w') v(x, t, y) - w' v(x, t, -): their weight w' is our w - 1. Because the
velocity is affine in the noise prediction at fixed (x, t) (``diffusion.gaussian_path``),
guiding the velocity is guiding eps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import torch
from torch import nn

from ..device import DeviceLike, get_device
from ..diffusion.samplers import guided_eps
from ..diffusion.training import check_training_fields, drop_labels
from ..diffusion.unet import SmallUNet
from .paths import TIME_SAMPLINGS, ancestral_step, flow_matching_loss
from .solvers import SOLVERS, Field, evaluations, integrate, solve_ode, time_grid
from .training import fit_recipe
from .velocity import TimeScaled

__all__ = [
    "FM_SAMPLERS",
    "FlowMatchingConfig",
    "FlowMatching",
    "build_flow_matching",
    "train_flow_matching",
    "sampling_labels",
    "guided_velocity",
    "sampler_evaluations",
    "flow_matching_sampler",
    "sample_flow_matching",
]

IMAGE_SHAPE = (1, 28, 28)
FM_SAMPLERS = (*SOLVERS, "ancestral")
"""Flow matching's samplers: the ODE solvers, and the DDPM's step on the linear path."""


@dataclass(frozen=True)
class FlowMatchingConfig:
    """A (class-conditional) UNet velocity v(x, t[, y]) on the linear path, and its recipe."""

    channels: tuple[int, int] = field(default=(16, 32), metadata={"metavar": ("C1", "C2")})
    t_dim: int = 128
    conditional: bool = field(
        default=True,
        metadata={
            "help": "learn v(x_t, t, digit) with label dropout, so the model samples with or "
            "without a digit"
        },
    )
    time_sampling: str = field(default="uniform", metadata={"choices": TIME_SAMPLINGS})
    train_steps: int = field(default=4000, metadata={"help": "optimiser steps"})
    batch_size: int = 128
    lr: float = 2e-3
    warmup: int = 100
    ema_decay: float = 0.999
    p_uncond: float = 0.1
    n_train: int | None = field(
        default=None, metadata={"help": "use only the first N training images"}
    )

    def __post_init__(self) -> None:
        if self.time_sampling not in TIME_SAMPLINGS:
            raise ValueError(
                f"time_sampling must be one of {', '.join(TIME_SAMPLINGS)}, "
                f"got {self.time_sampling!r}"
            )
        check_training_fields(self.ema_decay, self.p_uncond)

    @property
    def num_classes(self) -> int | None:
        return 10 if self.conditional else None


class FlowMatching(nn.Module):
    """The velocity UNet being trained (``model``) and its EMA copy (``ema_model``: it samples)."""

    def __init__(self, config: FlowMatchingConfig) -> None:
        super().__init__()
        self.config = config
        self.model = self._new_network()
        self.ema_model = self._new_network()
        self.ema_model.load_state_dict(self.model.state_dict())
        self.ema_model.requires_grad_(False).eval()

    def _new_network(self) -> TimeScaled:
        c = self.config
        return TimeScaled(SmallUNet(tuple(c.channels), c.t_dim, num_classes=c.num_classes))


def build_flow_matching(config: FlowMatchingConfig, device: DeviceLike = None) -> FlowMatching:
    """A fresh flow-matching model of ``config`` on ``device``."""
    if not isinstance(config, FlowMatchingConfig):
        raise TypeError(
            f"build_flow_matching takes a FlowMatchingConfig, got {type(config).__name__}"
        )
    device = device if isinstance(device, torch.device) else get_device(device)
    return FlowMatching(config).to(device)


def train_flow_matching(
    fm: FlowMatching,
    images: torch.Tensor,
    labels: torch.Tensor | None,
    device: DeviceLike = None,
    seed: int = 0,
    progress: bool = True,
    log_every: int = 50,
) -> dict[str, Any]:
    """Flow matching with the recipe of ``fm.config`` on ``images`` (N, 1, 28, 28) in [-1, 1] (the
    first ``n_train``); a conditional model needs ``labels`` and drops each with probability
    ``p_uncond``. The EMA weights land in ``fm.ema_model``; returns the history (``loss``,
    ``step``, ``seconds``)."""
    config = fm.config
    if (
        not isinstance(images, torch.Tensor)
        or images.dim() != 4
        or tuple(images.shape[1:]) != IMAGE_SHAPE
    ):
        raise ValueError("images must be a tensor (N, 1, 28, 28) in [-1, 1]")
    if config.conditional and labels is None:
        raise ValueError("a conditional flow-matching model needs one label per training image")
    data = (images[: config.n_train],)
    if config.conditional:
        data = (images[: config.n_train], labels[: config.n_train].long())

    def objective(batch: list[torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        y = drop_labels(batch[1], config.p_uncond, generator) if config.conditional else None
        return flow_matching_loss(fm.model, batch[0], generator, y, config.time_sampling)

    ema, history = fit_recipe(fm.model, objective, data, config, device=device, seed=seed,
                              progress=progress, log_every=log_every, desc="flow matching")
    fm.ema_model.load_state_dict(ema.model.state_dict())
    return history


def sampling_labels(
    num_classes: int | None, n: int, digit: int | None = None, all_digits: bool = False
) -> torch.Tensor | None:
    """The label of each of ``n`` samples: None (unconditional), ``digit`` for all, or with
    ``all_digits`` the digits 0, 1, ..., 9, 0, ... in turn; one-line errors for what cannot be."""
    if (digit is not None or all_digits) and num_classes is None:
        what = "a chosen digit" if digit is not None else "the digits in turn"
        raise ValueError(
            f"This model was trained without labels (--no-conditional), so it cannot draw {what}."
        )
    if digit is not None and all_digits:
        raise ValueError("choose --digit or --all-digits, not both")
    if digit is not None:
        if not 0 <= digit < num_classes:
            raise ValueError(f"--digit must be one of 0..{num_classes - 1}, got {digit}")
        return torch.full((n,), digit, dtype=torch.long)
    if all_digits:
        return torch.arange(n) % num_classes
    return None


def guided_velocity(
    network: nn.Module, labels: torch.Tensor | None = None, guidance: float = 1.0
) -> Field:
    """The field v(x, t) that the ODE solvers integrate: the network's velocity, guided towards
    ``labels`` with weight ``guidance`` (w above) when labels are given."""

    def velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return guided_eps(network, x, t, labels, guidance)

    return velocity


def sampler_evaluations(solver: str, steps: int, euler_last: bool = False) -> int:
    """Network evaluations of ``flow_matching_sampler``: one per ancestral step, else as
    ``solvers.evaluations`` counts the ODE solvers' (two per Heun step)."""
    if solver not in FM_SAMPLERS:
        raise ValueError(f"--solver must be one of {', '.join(FM_SAMPLERS)}, got {solver!r}")
    return steps if solver == "ancestral" else evaluations(solver, steps, euler_last)


def flow_matching_sampler(
    velocity: Field,
    x0: torch.Tensor,
    steps: int,
    solver: str = "heun",
    generator: torch.Generator | None = None,
    euler_last: bool = False,
    progress: bool = False,
) -> torch.Tensor:
    """x_0 carried to t = 1 over ``steps`` equal steps: ``euler`` or ``heun`` on dx/dt = v
    (``solve_ode``; ``euler_last`` as there), or ``ancestral``: the DDPM step on the linear path
    (``paths.ancestral_step``, eta = 1) with its noise drawn from ``generator``; its last step,
    onto the data, adds none (c = 0 there)."""
    sampler_evaluations(solver, steps, euler_last)  # an unknown solver: one line, before any work
    times = time_grid(0.0, 1.0, steps)
    if solver != "ancestral":
        return solve_ode(velocity, x0, times, solver, progress, euler_last=euler_last)
    if generator is None:  # unseeded: the noise follows torch's global random state
        seed = int(torch.randint(2**62, (1,)))
        generator = torch.Generator(x0.device).manual_seed(seed)
    step = partial(ancestral_step, velocity)
    return integrate(step, x0, times, generator=generator, last_step=step, progress=progress,
                     desc="ancestral")


@torch.no_grad()
def sample_flow_matching(
    fm: FlowMatching,
    n: int,
    device: DeviceLike = None,
    seed: int | None = 0,
    steps: int = 10,
    solver: str = "heun",
    digit: int | None = None,
    guidance: float = 1.0,
    all_digits: bool = False,
    progress: bool = False,
) -> torch.Tensor:
    """``n`` images (n, 1, 28, 28) in [-1, 1] on the CPU: x_0 ~ N(0, I) carried to t = 1 by
    ``steps`` steps of the EMA network's velocity: Euler, Heun or the ancestral step
    (``flow_matching_sampler``; network calls: one per Euler or ancestral step, two per Heun
    step). ``digit``, ``all_digits`` and ``guidance`` as in ``sample_ddpm``."""
    device = get_device(device)
    network = fm.ema_model.to(device).eval()
    labels = sampling_labels(network.num_classes, n, digit, all_digits)
    labels = labels.to(device) if labels is not None else None
    generator = torch.Generator(device).manual_seed(seed) if seed is not None else None
    x0 = torch.randn((n, *IMAGE_SHAPE), generator=generator, device=device)
    velocity = guided_velocity(network, labels, guidance)
    x1 = flow_matching_sampler(velocity, x0, steps, solver, generator, progress=progress)
    return x1.clamp(-1, 1).cpu()
