"""Flow matching on the linear (optimal-transport) path: the path, its velocity, the loss.

Flow matching (Lipman et al. 2023) and rectified flow (Liu et al. 2023) learn a velocity field
v_theta(x, t) whose ODE dx/dt = v carries noise at t = 0 to data at t = 1. The marginal velocity
is unknown, but regressing on the *conditional* velocity of a path between a noise draw x_0 and
a data point x_1 has the same minimiser (Lipman et al., Theorem 2). On the linear path

    x_t = (1 - t) x_0 + t x_1,   x_0 ~ N(0, I), x_1 ~ data, t in [0, 1],                (1)

the conditional velocity is d x_t / dt = x_1 - x_0 (straight lines at constant speed; the
optimal-transport path of Lipman et al. with sigma_min = 0), and the loss is the regression

    L(theta) = E_{t, x_0, x_1} || v_theta(x_t, t) - (x_1 - x_0) ||^2.                       (2)

Eq. (1) is a Gaussian path x_t = alpha_t x_1 + sigma_t x_0 with alpha_t = t, sigma_t = 1 - t
(``linear_path_coefficients``), so ``diffusion.gaussian_path`` converts its velocity into a noise
prediction or a score. Times t are drawn uniformly or, as Esser et al. (2024) found better for
images, from a logit-normal distribution that favours the middle of the path.

Being a Gaussian path, it can also be sampled by the DDPM's own step (``ancestral_step``): the
velocity gives x_1_hat and eps (``gaussian_path`` eq. (5)), and the step draws x_s from the
forward chain's posterior given them (eq. (6)-(7) there). With eta = 0 that step *is* Euler's.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..diffusion.gaussian_path import (
    data_from_velocity,
    eps_from_velocity,
    posterior_sigma,
    posterior_step,
)

__all__ = [
    "TIME_SAMPLINGS",
    "linear_path",
    "target_velocity",
    "linear_path_coefficients",
    "sample_times",
    "flow_matching_loss",
    "ancestral_step",
]

TIME_SAMPLINGS = ("uniform", "logit-normal")


def _column(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
    if t.dim() == 0:
        return t
    if t.shape != (len(x),):
        raise ValueError(
            f"t must be one time per sample, shape ({len(x)},), got shape {tuple(t.shape)}"
        )
    return t.reshape(-1, *([1] * (x.dim() - 1)))


def linear_path(x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Eq. (1): x_t = (1 - t) x_0 + t x_1, with one t per sample (shape (n,)) or one for all."""
    if x0.shape != x1.shape:
        raise ValueError(
            f"x0 (noise) and x1 (data) must have the same shape, got {tuple(x0.shape)} "
            f"and {tuple(x1.shape)}"
        )
    t = _column(t, x1)
    return (1 - t) * x0 + t * x1


def target_velocity(x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
    """The conditional velocity d x_t / dt of eq. (1): x_1 - x_0, the same at every t."""
    return x1 - x0


def linear_path_coefficients(t: torch.Tensor | float) -> tuple:
    """(alpha_t, sigma_t, d alpha_t / dt, d sigma_t / dt) = (t, 1 - t, 1, -1) of eq. (1) read as the
    Gaussian path alpha_t x_1 + sigma_t x_0 (``diffusion.gaussian_path``)."""
    return t, 1 - t, 1.0, -1.0


def sample_times(
    n: int,
    kind: str = "uniform",
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """n times in (0, 1): ``uniform``, or ``logit-normal`` t = sigmoid(u), u ~ N(0, 1) (Esser et
    al. 2024)."""
    if kind == "uniform":
        return torch.rand(n, generator=generator, device=device)
    if kind == "logit-normal":
        return torch.sigmoid(torch.randn(n, generator=generator, device=device))
    raise ValueError(f"unknown time sampling {kind!r}: choose one of {', '.join(TIME_SAMPLINGS)}")


def flow_matching_loss(
    velocity: Callable[..., torch.Tensor],
    x1: torch.Tensor,
    generator: torch.Generator | None = None,
    labels: torch.Tensor | None = None,
    time_sampling: str = "uniform",
) -> torch.Tensor:
    """Eq. (2) on a batch of data x_1: draw t and x_0 ~ N(0, I) (on x_1's device), regress
    v(x_t, t) (or v(x_t, t, labels)) on x_1 - x_0; the mean over samples and dimensions."""
    t = sample_times(len(x1), time_sampling, generator, x1.device).to(x1.dtype)
    x0 = torch.randn(x1.shape, generator=generator, device=x1.device, dtype=x1.dtype)
    xt = linear_path(x0, x1, t)
    prediction = velocity(xt, t) if labels is None else velocity(xt, t, labels)
    return (prediction - target_velocity(x0, x1)).pow(2).mean()


def ancestral_step(
    velocity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    t: float | torch.Tensor,
    t_next: float | torch.Tensor,
    noise: torch.Tensor | None = None,
    eta: float = 1.0,
) -> torch.Tensor:
    """One DDPM step on the linear path, from t to a later t_next (towards the data; one network
    evaluation). The velocity v(x, t) gives x_1_hat = x + (1 - t) v and eps = x - t v
    (``gaussian_path`` eq. (5)); then x_{t_next} = t_next x_1_hat + sqrt(sigma^2 - c^2) eps + c z
    with sigma = 1 - t_next and c = eta sigma sqrt(1 - SNR_t / SNR_{t_next}) (eq. (6)-(7) there):
    eta = 1 draws from the forward chain's posterior q(x_{t_next} | x_t, x_1 = x_1_hat), as DDPM
    does; eta = 0 is deterministic and equal to Euler's x + (t_next - t) v. ``noise`` z ~ N(0, I)
    is left out when None (and c = 0 at t_next = 1, the data)."""
    t, t_next = float(t), float(t_next)
    v = velocity(x, torch.full((len(x),), t, dtype=x.dtype, device=x.device))
    alpha, sigma, d_alpha, d_sigma = linear_path_coefficients(t)
    x1_hat = data_from_velocity(x, v, alpha, sigma, d_alpha, d_sigma)
    eps = eps_from_velocity(x, v, alpha, sigma, d_alpha, d_sigma)
    alpha_next, sigma_next, _, _ = linear_path_coefficients(t_next)
    c = posterior_sigma(alpha, sigma, alpha_next, sigma_next, eta)
    return posterior_step(x1_hat, eps, alpha_next, sigma_next, c, noise)
