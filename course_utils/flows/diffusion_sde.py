"""Notebook 07's DDPM sampled as an SDE and as an ODE (Song et al. 2021) with our solvers.

The trained noise predictor eps_theta gives the score s = -eps / sigma (``diffusion.sde``), and
with it two more samplers beside DDPM and DDIM, both from tau = 1 (noise) down to tau = 0:

* ``sample_reverse_sde`` -- Euler-Maruyama on the reverse-time SDE (eq. (2) of ``diffusion.sde``);
  its last step adds no noise (as DDPM's);
* ``sample_probability_flow`` -- Euler or Heun on the probability-flow ODE (eq. (3) there), a
  deterministic map from noise to data with the same marginals. DDIM with eta = 0 is another
  discretisation of the same ODE (Song et al. 2021, sec. 4.3), one that is exact for a network
  that predicts the same eps all along the step, which is why it needs fewer steps than Euler.

Both take the eps-network and its schedule (for a shipped DDPM: ``ddpm.ema_model`` and
``ddpm.schedule``) and evaluate the network ``steps`` times (Heun: 2 steps - 1, its last step is
an Euler step because the score is undefined at tau = 0).
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from ..device import DeviceLike, get_device
from ..diffusion.schedules import Schedule
from ..diffusion.sde import eps_field, probability_flow_velocity, reverse_sde_drift, vp_diffusion
from .solvers import euler_maruyama_step, euler_step, integrate, solve_ode, time_grid

__all__ = ["sample_reverse_sde", "sample_probability_flow"]


def _start(
    shape: tuple[int, ...], device: DeviceLike, seed: int | None, x_T: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Generator | None]:
    """The starting noise x_T (drawn, or the one given) and the generator for any later noise."""
    device = get_device(device)
    generator = torch.Generator(device).manual_seed(seed) if seed is not None else None
    if x_T is None:
        return torch.randn(tuple(shape), generator=generator, device=device), generator
    if tuple(x_T.shape) != tuple(shape):
        raise ValueError(
            f"x_T must have the requested shape {tuple(shape)}, got {tuple(x_T.shape)}"
        )
    return x_T.to(device).clone(), generator


def _labels(labels: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor | None:
    if labels is None:
        return None
    labels = torch.as_tensor(labels).to(device=x.device, dtype=torch.long)
    if labels.shape != (len(x),):
        raise ValueError(
            f"labels must hold one class per sample, shape ({len(x)},), "
            f"got shape {tuple(labels.shape)}"
        )
    return labels


@torch.no_grad()
def sample_reverse_sde(
    model: nn.Module,
    schedule: Schedule,
    shape: tuple[int, ...],
    steps: int = 100,
    device: DeviceLike = None,
    seed: int | None = 0,
    labels: torch.Tensor | None = None,
    guidance: float = 1.0,
    clip: float | None = None,
    x_T: torch.Tensor | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Euler-Maruyama on the reverse-time VP-SDE with ``steps`` equal steps from tau = 1 to 0,
    starting from x_T ~ N(0, I) of ``shape`` (or the ``x_T`` given); ``clip``, ``labels`` and
    ``guidance`` as in ``ddim_sample``."""
    x, generator = _start(shape, device, seed, x_T)
    schedule = schedule.to(x.device)
    eps = eps_field(model.eval(), schedule, _labels(labels, x), guidance, clip)
    drift = reverse_sde_drift(eps, schedule)
    times = time_grid(1.0, 0.0, steps)
    step = partial(euler_maruyama_step, drift, vp_diffusion(schedule))
    return integrate(
        step,
        x,
        times,
        generator=generator,
        last_step=partial(euler_step, drift),
        progress=progress,
        desc="reverse SDE",
    )


@torch.no_grad()
def sample_probability_flow(
    model: nn.Module,
    schedule: Schedule,
    shape: tuple[int, ...],
    steps: int = 50,
    solver: str = "heun",
    device: DeviceLike = None,
    seed: int | None = 0,
    labels: torch.Tensor | None = None,
    guidance: float = 1.0,
    clip: float | None = None,
    x_T: torch.Tensor | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Euler or Heun on the probability-flow ODE with ``steps`` equal steps from tau = 1 to 0,
    starting from x_T ~ N(0, I) of ``shape`` (or the ``x_T`` given: the same x_T, the same digit);
    ``clip``, ``labels`` and ``guidance`` as in ``ddim_sample``."""
    x, _ = _start(shape, device, seed, x_T)
    schedule = schedule.to(x.device)
    eps = eps_field(model.eval(), schedule, _labels(labels, x), guidance, clip)
    velocity = probability_flow_velocity(eps, schedule)
    return solve_ode(velocity, x, time_grid(1.0, 0.0, steps), solver, progress, euler_last=True)
