"""The SDE view of the DDPM (Song et al. 2021): its chain as a continuous-time VP-SDE.

In the limit of many small steps the forward chain x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps
becomes the variance-preserving SDE, for a time tau from 0 (data) to 1 (noise),

    dx = -1/2 beta(tau) x dtau + sqrt(beta(tau)) dW,                                       (1)

whose marginals are the Gaussian path x_tau = alpha_tau x_0 + sigma_tau eps with
alpha_tau^2 = abar(tau) = exp(-int_0^tau beta) and sigma_tau^2 = 1 - abar(tau). Run backwards,

    dx = [-1/2 beta x - beta s(x, tau)] dtau + sqrt(beta) dW_bar  (reverse SDE, Anderson 1982) (2)
    dx/dtau = -1/2 beta (x + s(x, tau))                        (the probability-flow ODE)      (3)

both carry N(0, I) at tau = 1 to the data at tau = 0, (2) with noise, (3) deterministically; they
need the score s = grad log p_tau, and the trained noise predictor gives it: s = -eps / sigma_tau
(``gaussian_path.score_from_eps``). The velocity (3) is eq. (4) of ``gaussian_path`` for this path.

The continuous times come from the DDPM's own discrete schedule, so its trained network can be used
unchanged: step t = 0..T-1 sits at tau_t = (t + 1) / T, log abar(tau) is interpolated linearly
between the steps (and is 0 at tau = 0), so beta(tau) = -d log abar / dtau = -T log(1 - beta_t) ~
T beta_t on (tau_{t-1}, tau_t], and the network is asked at the (fractional) step t = tau T - 1.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .gaussian_path import data_from_eps, eps_from_data, score_from_eps, velocity_from_eps
from .samplers import guided_eps
from .schedules import Schedule

__all__ = [
    "log_alpha_bar",
    "vp_beta",
    "vp_coefficients",
    "network_time",
    "eps_field",
    "score_field",
    "probability_flow_velocity",
    "reverse_sde_drift",
    "vp_diffusion",
]

Field = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _precise(tau: torch.Tensor) -> torch.Tensor:
    """tau in float64 for the interpolation (float32 on Apple's MPS, which has no float64)."""
    return tau.float() if tau.device.type == "mps" else tau.double()


def _knots(schedule: Schedule, tau: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(tau_t, log abar_t) for t = -1..T-1: tau = 0, 1/T, ..., 1; log abar = 0, log abar_0, ..."""
    like = _precise(tau)
    taus = torch.arange(schedule.T + 1, device=tau.device).to(like.dtype) / schedule.T
    log_abar = schedule.alpha_bars.to(tau.device).to(like.dtype).log()
    return taus, torch.cat([torch.zeros_like(log_abar[:1]), log_abar])


def _interval(schedule: Schedule, tau: torch.Tensor) -> torch.Tensor:
    """The step t whose interval (tau_{t-1}, tau_t] holds tau, as an index 1..T into the knots
    (a time within 1e-6 steps of a knot counts as on it: float32 times rarely hit one exactly)."""
    return torch.ceil(_precise(tau) * schedule.T - 1e-6).clamp(1, schedule.T).long()


def log_alpha_bar(schedule: Schedule, tau: torch.Tensor) -> torch.Tensor:
    """log abar(tau), interpolated linearly between the schedule's steps; tau in [0, 1]."""
    taus, log_abar = _knots(schedule, tau)
    k = _interval(schedule, tau)
    w = (_precise(tau) - taus[k - 1]) * schedule.T
    return ((1 - w) * log_abar[k - 1] + w * log_abar[k]).to(tau.dtype)


def vp_beta(schedule: Schedule, tau: torch.Tensor) -> torch.Tensor:
    """beta(tau) = -d log abar / dtau: piecewise constant, -T log(1 - beta_t) on interval t."""
    _, log_abar = _knots(schedule, tau)
    k = _interval(schedule, tau)
    return (-(log_abar[k] - log_abar[k - 1]) * schedule.T).to(tau.dtype)


def vp_coefficients(schedule: Schedule, tau: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """(alpha, sigma, d alpha / dtau, d sigma / dtau) of the path x_tau = alpha x_0 + sigma eps:
    alpha = sqrt(abar), sigma = sqrt(1 - abar), d alpha = -beta alpha / 2,
    d sigma = beta abar / (2 sigma)."""
    abar = log_alpha_bar(schedule, tau).exp()
    beta = vp_beta(schedule, tau)
    alpha, sigma = abar.sqrt(), (1 - abar).sqrt()
    return alpha, sigma, -beta * alpha / 2, beta * abar / (2 * sigma)


def network_time(schedule: Schedule, tau: torch.Tensor) -> torch.Tensor:
    """The (fractional) step t = tau T - 1 at which the DDPM's network sees time tau."""
    return tau * schedule.T - 1


def _column(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return values.reshape(-1, *([1] * (x.dim() - 1)))


def eps_field(
    model: nn.Module,
    schedule: Schedule,
    labels: torch.Tensor | None = None,
    guidance: float = 1.0,
    clip: float | None = None,
) -> Field:
    """eps(x, tau) from the DDPM's network (classifier-free guidance as in ``samplers.guided_eps``).
    ``clip``: the implied x_0 estimate is clipped to [-clip, clip] and eps recomputed from it, as
    the DDPM and DDIM samplers do for images."""

    def eps(x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        prediction = guided_eps(model, x, network_time(schedule, tau), labels, guidance)
        if clip is None:
            return prediction
        alpha, sigma, _, _ = (_column(c, x) for c in vp_coefficients(schedule, tau))
        x0_hat = data_from_eps(x, prediction, alpha, sigma).clamp(-clip, clip)
        return eps_from_data(x, x0_hat, alpha, sigma)

    return eps


def score_field(eps: Field, schedule: Schedule) -> Field:
    """s(x, tau) = -eps(x, tau) / sigma_tau (``gaussian_path.score_from_eps``)."""

    def score(x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        _, sigma, _, _ = vp_coefficients(schedule, tau)
        return score_from_eps(eps(x, tau), _column(sigma, x))

    return score


def probability_flow_velocity(eps: Field, schedule: Schedule) -> Field:
    """Eq. (3), dx/dtau = -beta (x + s) / 2, written as the path's velocity from eps
    (``gaussian_path.velocity_from_eps``): the same field."""

    def velocity(x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        coefficients = (_column(c, x) for c in vp_coefficients(schedule, tau))
        return velocity_from_eps(x, eps(x, tau), *coefficients)

    return velocity


def reverse_sde_drift(eps: Field, schedule: Schedule) -> Field:
    """The drift of eq. (2), -beta x / 2 - beta s(x, tau), integrated from tau = 1 down to 0."""
    score = score_field(eps, schedule)

    def drift(x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        beta = _column(vp_beta(schedule, tau), x)
        return -beta * x / 2 - beta * score(x, tau)

    return drift


def vp_diffusion(schedule: Schedule) -> Callable[[torch.Tensor], torch.Tensor]:
    """g(tau) = sqrt(beta(tau)) of eqs. (1)-(2), one value per time."""

    def g(tau: torch.Tensor) -> torch.Tensor:
        return vp_beta(schedule, tau).sqrt()

    return g
