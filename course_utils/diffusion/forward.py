"""The forward process and its posterior, in closed form (Ho et al. 2020, eqs. 4, 6-7).

* ``q_sample`` -- x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps  (closed form of q(x_t | x_0))
* ``posterior_mean_variance`` -- mean and variance of q(x_{t-1} | x_t, x_0)  (eqs. 6-7)
* ``predict_x0`` -- Tweedie's estimate of x_0 from x_t and the predicted noise (``x0_from_eps``
  for a given abar_t)
* ``optimal_eps_mse`` -- the smallest noise-prediction loss any network can reach at each t, for
  pixels x_0 = +-1 (an exactly solvable case)
"""
from __future__ import annotations

import math

import torch

from .schedules import Schedule, _bcast, _check_t

__all__ = ["q_sample", "posterior_mean_variance", "predict_x0", "x0_from_eps", "optimal_eps_mse"]


def q_sample(x0: torch.Tensor, t: torch.Tensor, schedule: Schedule,
             noise: torch.Tensor | None = None) -> torch.Tensor:
    """Draw x_t ~ q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I):
    x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, eps ~ N(0, I)."""
    t = _check_t(t, x0, schedule)
    if noise is None:
        noise = torch.randn_like(x0)
    elif noise.shape != x0.shape:
        raise ValueError(f"noise must have the shape of x0 {tuple(x0.shape)}, got "
                         f"{tuple(noise.shape)}")
    abar = _bcast(schedule.alpha_bars, t, x0)
    return abar.sqrt() * x0 + (1 - abar).sqrt() * noise


def posterior_mean_variance(x0: torch.Tensor, xt: torch.Tensor, t: torch.Tensor,
                            schedule: Schedule) -> tuple[torch.Tensor, torch.Tensor]:
    """q(x_{t-1} | x_t, x_0) = N(mu~_t, beta~_t I) (Ho et al. eq. 6-7):
    mu~_t = sqrt(abar_{t-1}) beta_t / (1 - abar_t) x_0 + sqrt(alpha_t) (1 - abar_{t-1})
    / (1 - abar_t) x_t, beta~_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t, with
    abar_{-1} = 1 (so beta~_0 = 0)."""
    if x0.shape != xt.shape:
        raise ValueError(f"x0 and xt must have the same shape, got {tuple(x0.shape)} and "
                         f"{tuple(xt.shape)}")
    t = _check_t(t, xt, schedule)
    alpha_bars = schedule.alpha_bars.to(xt.device)  # no copy when the schedule is already there
    abar_prev_all = torch.cat([torch.ones(1, dtype=alpha_bars.dtype, device=xt.device),
                               alpha_bars[:-1]])
    abar = _bcast(schedule.alpha_bars, t, xt)
    abar_prev = _bcast(abar_prev_all, t, xt)
    beta = _bcast(schedule.betas, t, xt)
    alpha = _bcast(schedule.alphas, t, xt)
    mean = (abar_prev.sqrt() * beta / (1 - abar) * x0
            + alpha.sqrt() * (1 - abar_prev) / (1 - abar) * xt)
    var = (1 - abar_prev) / (1 - abar) * beta
    return mean, var.expand_as(xt)


def x0_from_eps(xt: torch.Tensor, eps: torch.Tensor, abar: torch.Tensor | float) -> torch.Tensor:
    """Invert the closed form (Tweedie's estimate): x0_hat = (x_t - sqrt(1 -
    abar_t) eps) / sqrt(abar_t)."""
    abar = torch.as_tensor(abar, dtype=xt.dtype, device=xt.device)
    return (xt - (1 - abar).sqrt() * eps) / abar.sqrt()


def predict_x0(xt: torch.Tensor, eps: torch.Tensor, t: torch.Tensor,
               schedule: Schedule) -> torch.Tensor:
    """``x0_from_eps`` at the time steps ``t`` (one per sample) of ``schedule``."""
    t = _check_t(t, xt, schedule)
    return x0_from_eps(xt, eps, _bcast(schedule.alpha_bars, t, xt))


def optimal_eps_mse(schedule: Schedule, n_points: int = 2001) -> torch.Tensor:
    """min over eps_theta of E||eps - eps_theta(x_t, t)||^2 per pixel, at every t: float64 ``(T,)``.

    For pixels x_0 = +1 or -1 with probability 1/2 each. The best predictor is E[eps | x_t], and
    since eps = (x_t - sqrt(abar_t) x_0) / sqrt(1 - abar_t), what it cannot remove is
        Var[eps | x_t] = abar_t / (1 - abar_t) Var[x_0 | x_t],
    with E[x_0 | x_t] = tanh(sqrt(abar_t) x_t / (1 - abar_t)) and Var[x_0 | x_t] = 1 - tanh^2 here.
    The expectation over x_t = sqrt(abar_t) + sqrt(1 - abar_t) z (given x_0 = +1; x_0 = -1 is its
    mirror image) is a trapezoidal sum over ``n_points`` values of z in [-8, 8].
    The floor vanishes at small t (x_t shows x_0) and at large t (x_t is almost eps): it is
    largest in between.
    """
    abar = schedule.alpha_bars.detach().cpu().double()[:, None]
    z = torch.linspace(-8.0, 8.0, n_points, dtype=torch.float64)
    density = torch.exp(-z**2 / 2) / math.sqrt(2 * math.pi)
    x_t = abar.sqrt() + (1 - abar).sqrt() * z  # (T, n_points), given x_0 = +1
    var_x0 = 1 - torch.tanh(abar.sqrt() * x_t / (1 - abar)) ** 2
    return abar[:, 0] / (1 - abar[:, 0]) * torch.trapezoid(var_x0 * density, z, dim=1)
