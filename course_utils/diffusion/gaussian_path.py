"""Noise, score and velocity of a Gaussian path are the same knowledge in three forms.

Diffusion and flow matching both noise the data along a *Gaussian path*

    x_t = alpha_t x_data + sigma_t eps,   eps ~ N(0, I),                                  (1)

the DDPM's forward process with alpha_t = sqrt(abar_t), sigma_t = sqrt(1 - abar_t) (Ho et al.
2020), flow matching's linear path with alpha_t = t, sigma_t = 1 - t (Lipman et al. 2023; Liu et
al. 2023). Given x_t, a network may predict the noise eps, the score grad log p_t(x_t) or the
velocity dx_t/dt; each is an affine function of the others (Song et al. 2021, sec. 3-4;
Albergo & Vanden-Eijnden 2023, sec. 2; Lipman et al. 2023, sec. 4.1):

    data     x_data_hat = (x_t - sigma_t eps) / alpha_t                  (eq. (1) solved)      (2)
    score    s = -eps / sigma_t                                (Tweedie; Song et al. 2021)      (3)
    velocity v = d alpha x_data_hat + d sigma eps                (the time derivative of (1))
               = (d alpha / alpha) x_t + (d sigma - d alpha sigma / alpha) eps                   (4)

with eps standing for E[eps | x_t] (what a trained network predicts), d alpha = d alpha_t / dt
and d sigma = d sigma_t / dt. So a model of one is a model of all three: the trained
eps-network of notebook 07 gives a score and a velocity, and a flow-matching velocity gives a
noise prediction. One function per conversion; the coefficients are numbers or tensors that
broadcast against x.
"""

from __future__ import annotations

import torch

__all__ = [
    "data_from_eps",
    "eps_from_data",
    "score_from_eps",
    "eps_from_score",
    "velocity_from_eps",
    "eps_from_velocity",
]

Coefficient = float | torch.Tensor


def data_from_eps(
    x: torch.Tensor, eps: torch.Tensor, alpha: Coefficient, sigma: Coefficient
) -> torch.Tensor:
    """Eq. (2): the estimate of the clean data, (x_t - sigma_t eps) / alpha_t."""
    return (x - sigma * eps) / alpha


def eps_from_data(
    x: torch.Tensor, x_data: torch.Tensor, alpha: Coefficient, sigma: Coefficient
) -> torch.Tensor:
    """Eq. (1) solved for the noise: eps = (x_t - alpha_t x_data) / sigma_t."""
    return (x - alpha * x_data) / sigma


def score_from_eps(eps: torch.Tensor, sigma: Coefficient) -> torch.Tensor:
    """Eq. (3): s = -eps / sigma_t."""
    return -eps / sigma


def eps_from_score(score: torch.Tensor, sigma: Coefficient) -> torch.Tensor:
    """Eq. (3) solved for the noise: eps = -sigma_t s."""
    return -sigma * score


def velocity_from_eps(
    x: torch.Tensor,
    eps: torch.Tensor,
    alpha: Coefficient,
    sigma: Coefficient,
    d_alpha: Coefficient,
    d_sigma: Coefficient,
) -> torch.Tensor:
    """Eq. (4): v = d alpha x_data_hat + d sigma eps, with x_data_hat from eq. (2)."""
    return d_alpha * data_from_eps(x, eps, alpha, sigma) + d_sigma * eps


def eps_from_velocity(
    x: torch.Tensor,
    v: torch.Tensor,
    alpha: Coefficient,
    sigma: Coefficient,
    d_alpha: Coefficient,
    d_sigma: Coefficient,
) -> torch.Tensor:
    """Eq. (4) solved for the noise:
    eps = (v - (d alpha / alpha) x_t) / (d sigma - d alpha sigma / alpha)."""
    return (v - d_alpha / alpha * x) / (d_sigma - d_alpha * sigma / alpha)
