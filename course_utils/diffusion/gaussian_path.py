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
broadcast against x. Read backwards, (1) and (4) are two linear equations for x_data_hat and
eps given x_t and v; with D = alpha d sigma - sigma d alpha (D = -1 on the linear path),

    x_data_hat = (d sigma x_t - sigma v) / D,    eps = (alpha v - d alpha x_t) / D,          (5)

which hold at alpha_t = 0 too (pure noise: flow matching's t = 0).

The step that samples any such path is the one of DDPM and DDIM (Ho et al. 2020; Song et al.
2021, eq. 12; Kingma et al. 2021, eq. 25 for the posterior): from x_t to a less noisy time s,

    x_s = alpha_s x_data_hat + sqrt(sigma_s^2 - c^2) eps + c z,   z ~ N(0, I),              (6)
    c = eta sigma_s sqrt(1 - SNR_t / SNR_s),   SNR = alpha^2 / sigma^2.                       (7)

eta = 1 draws from the posterior q(x_s | x_t, x_data = x_data_hat) of the forward chain
(ancestral sampling), eta = 0 is deterministic (DDIM). On the linear path the deterministic step
is exactly Euler's step of dx/dt = v: x_s = x_t + (s - t) v (``flows.paths.ancestral_step``).
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
    "data_from_velocity",
    "posterior_sigma",
    "posterior_step",
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


def _determinant(
    alpha: Coefficient, sigma: Coefficient, d_alpha: Coefficient, d_sigma: Coefficient
) -> Coefficient:
    """D = alpha d sigma - sigma d alpha of eq. (5): the determinant of (1) and (4) as equations
    for x_data_hat and eps (-1 on the linear path, never 0 on a path that moves)."""
    return alpha * d_sigma - sigma * d_alpha


def eps_from_velocity(
    x: torch.Tensor,
    v: torch.Tensor,
    alpha: Coefficient,
    sigma: Coefficient,
    d_alpha: Coefficient,
    d_sigma: Coefficient,
) -> torch.Tensor:
    """Eq. (5): eps = (alpha v - d alpha x_t) / D, eq. (4) solved for the noise (it holds at
    alpha = 0 too)."""
    return (alpha * v - d_alpha * x) / _determinant(alpha, sigma, d_alpha, d_sigma)


def data_from_velocity(
    x: torch.Tensor,
    v: torch.Tensor,
    alpha: Coefficient,
    sigma: Coefficient,
    d_alpha: Coefficient,
    d_sigma: Coefficient,
) -> torch.Tensor:
    """Eq. (5): x_data_hat = (d sigma x_t - sigma v) / D; on the linear path x_t + (1 - t) v."""
    return (d_sigma * x - sigma * v) / _determinant(alpha, sigma, d_alpha, d_sigma)


def posterior_sigma(
    alpha_t: Coefficient,
    sigma_t: Coefficient,
    alpha_s: Coefficient,
    sigma_s: Coefficient,
    eta: float,
) -> torch.Tensor:
    """Eq. (7): the noise level c of a step from t to the less noisy s,
    eta sigma_s sqrt(1 - SNR_t / SNR_s), with SNR_t / SNR_s = (alpha_t sigma_s / (alpha_s
    sigma_t))^2 (finite at alpha_t = 0 and at sigma_s = 0). For eta = 1, c^2 is the variance of
    the forward chain's posterior q(x_s | x_t, x_data)."""
    ratio = torch.as_tensor((alpha_t * sigma_s / (alpha_s * sigma_t)) ** 2)
    return eta * sigma_s * (1 - ratio).clamp(min=0).sqrt()


def posterior_step(
    x_data_hat: torch.Tensor,
    eps: torch.Tensor,
    alpha_s: Coefficient,
    sigma_s: Coefficient,
    c: Coefficient,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Eq. (6): x_s = alpha_s x_data_hat + sqrt(sigma_s^2 - c^2) eps + c z, with c from
    ``posterior_sigma``; ``noise`` z ~ N(0, I) is left out when None."""
    c = torch.as_tensor(c, dtype=eps.dtype, device=eps.device)
    sigma_s = torch.as_tensor(sigma_s, dtype=eps.dtype, device=eps.device)
    x_s = alpha_s * x_data_hat + (sigma_s**2 - c**2).clamp(min=0).sqrt() * eps
    return x_s if noise is None else x_s + c * noise
