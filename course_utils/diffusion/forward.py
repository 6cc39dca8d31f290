"""The forward process and its posterior, in closed form (Ho et al. 2020, eqs. 4, 6-7).

* ``q_sample`` -- x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps            (closed form of q(x_t | x_0))
* ``posterior_mean_variance`` -- mean and variance of q(x_{t-1} | x_t, x_0)  (eqs. 6-7)
* ``predict_x0`` -- Tweedie's estimate of x_0 from x_t and the predicted noise (``x0_from_eps``
  for a given abar_t)
"""
from __future__ import annotations

import torch

from .schedules import Schedule, _bcast, _check_t

__all__ = ["q_sample", "posterior_mean_variance", "predict_x0", "x0_from_eps"]


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
    alpha_bars = schedule.alpha_bars.to(xt.device)  # no copy when the schedule is already there
    abar_prev_all = torch.cat([torch.ones(1, dtype=alpha_bars.dtype, device=xt.device), alpha_bars[:-1]])
    abar = _bcast(schedule.alpha_bars, t, xt)
    abar_prev = _bcast(abar_prev_all, t, xt)
    beta = _bcast(schedule.betas, t, xt)
    alpha = _bcast(schedule.alphas, t, xt)
    mean = abar_prev.sqrt() * beta / (1 - abar) * x0 + alpha.sqrt() * (1 - abar_prev) / (1 - abar) * xt
    var = (1 - abar_prev) / (1 - abar) * beta
    return mean, var.expand_as(xt)


def x0_from_eps(xt: torch.Tensor, eps: torch.Tensor, abar: torch.Tensor | float) -> torch.Tensor:
    """Invert the closed form (Tweedie's estimate): x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)."""
    abar = torch.as_tensor(abar, dtype=xt.dtype, device=xt.device)
    return (xt - (1 - abar).sqrt() * eps) / abar.sqrt()


def predict_x0(xt: torch.Tensor, eps: torch.Tensor, t: torch.Tensor, schedule: Schedule) -> torch.Tensor:
    """``x0_from_eps`` at the time steps ``t`` (one per sample) of ``schedule``."""
    t = _check_t(t, xt, schedule)
    return x0_from_eps(xt, eps, _bcast(schedule.alpha_bars, t, xt))
