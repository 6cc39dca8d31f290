"""Kullback-Leibler and Jensen-Shannon divergences: closed forms,
Monte Carlo, fitting (notebook 00).

Lecture summary section "Kullback-Leibler divergence". All values are in nats (natural logarithm).

* KL(p || q) = E_p[log p(x) - log q(x)] >= 0 (Jensen: E_p[log q/p] <= log E_p[q/p] = log 1 = 0),
  zero only for p = q, and not symmetric.
* Two univariate Gaussians:
  KL(N(mu_1, s_1^2) || N(mu_2, s_2^2)) = log(s_2/s_1) + (s_1^2 + (mu_1 - mu_2)^2) / (2 s_2^2) - 1/2.
* A diagonal Gaussian against N(0, I) (the VAE's KL term):
  KL(N(mu, diag sigma^2) || N(0, I)) = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2).
* JS(p || q) = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2; 0 <= JS <= log 2 (in nats; the bound
  is 1 only with base-2 logarithms). At the optimal discriminator the GAN value is
  L(G, D*) = 2 JS(p_data || p_g) - 2 log 2 (notebook 01).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch

__all__ = [
    "kl_normal", "kl_diag_normal_standard", "kl_monte_carlo", "kl_discrete", "js_discrete",
    "mixture_log_prob", "mixture_sample", "fit_gaussian_kl",
]

LogProb = Callable[[torch.Tensor], torch.Tensor]


def _positive(name: str, value: torch.Tensor) -> None:
    if not bool((value > 0).all()):
        raise ValueError(f"{name} must be positive (a standard deviation), got {value.tolist()}")


def kl_normal(mu_1: float | torch.Tensor, sigma_1: float | torch.Tensor,
              mu_2: float | torch.Tensor, sigma_2: float | torch.Tensor) -> torch.Tensor:
    """KL(N(mu_1, sigma_1^2) || N(mu_2, sigma_2^2)) in nats, elementwise (closed form above)."""
    mu_1, sigma_1, mu_2, sigma_2 = (torch.as_tensor(v, dtype=torch.float64)
                                    for v in (mu_1, sigma_1, mu_2, sigma_2))
    _positive("sigma_1", sigma_1)
    _positive("sigma_2", sigma_2)
    return torch.log(sigma_2 / sigma_1) + (sigma_1**2 + (mu_1 - mu_2) ** 2) / (2 * sigma_2**2) - 0.5


def kl_diag_normal_standard(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)).

    ``mu`` and ``logvar`` have shape (N, J); returns (N,), one KL per row. This is the VAE's
    regulariser KL(q(h|x) || p(h)).
    """
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} and "
                         f"{tuple(logvar.shape)}")
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=-1)


def kl_monte_carlo(samples_p: torch.Tensor, log_p: LogProb, log_q: LogProb) -> tuple[float, float]:
    """Monte Carlo KL(p || q) ~ (1/n) sum_i [log p(x_i) - log q(x_i)], x_i ~ p.

    Returns ``(estimate, standard_error)``. Only needs samples of p and both log-densities:
    this is how KL is estimated when no closed form exists.
    """
    if samples_p.ndim == 0 or len(samples_p) < 2:
        raise ValueError("kl_monte_carlo needs at least 2 samples of p (a tensor of shape (n, "
                         "...)).")
    ratio = (log_p(samples_p) - log_q(samples_p)).double()
    return float(ratio.mean()), float(ratio.std() / math.sqrt(len(ratio)))


def _distribution(name: str, p: torch.Tensor) -> torch.Tensor:
    p = torch.as_tensor(p, dtype=torch.float64)
    if p.ndim != 1 or len(p) == 0:
        raise ValueError(f"{name} must be a 1-D vector of probabilities, got shape "
                         f"{tuple(p.shape)}")
    if bool((p < 0).any()) or abs(float(p.sum()) - 1) > 1e-6:
        raise ValueError(f"{name} must be non-negative and sum to 1, got sum {float(p.sum()):.6g}")
    return p


def kl_discrete(p: torch.Tensor, q: torch.Tensor) -> float:
    """KL(p || q) = sum_x p(x) log(p(x)/q(x)) for probability vectors
    (0 log 0 = 0; inf if q=0<p)."""
    p, q = _distribution("p", p), _distribution("q", q)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same length, got {len(p)} and {len(q)}")
    support = p > 0
    if bool((q[support] == 0).any()):
        return math.inf
    return float((p[support] * (p[support].log() - q[support].log())).sum())


def js_discrete(p: torch.Tensor, q: torch.Tensor) -> float:
    """JS(p || q) = KL(p || m)/2 + KL(q || m)/2, m = (p + q)/2; in [0, log 2] nats."""
    p, q = _distribution("p", p), _distribution("q", q)
    m = (p + q) / 2
    return 0.5 * kl_discrete(p, m) + 0.5 * kl_discrete(q, m)


def mixture_log_prob(x: torch.Tensor, weights: torch.Tensor, means: torch.Tensor,
                     stds: torch.Tensor) -> torch.Tensor:
    """log sum_k w_k N(x; mu_k, s_k^2) for a 1-D Gaussian mixture, elementwise in ``x``."""
    weights, means, stds = (torch.as_tensor(v, dtype=torch.float64) for v in (weights, means, stds))
    _positive("stds", stds)
    x = torch.as_tensor(x, dtype=torch.float64).unsqueeze(-1)
    log_components = (-0.5 * ((x - means) / stds) ** 2 - torch.log(stds)
                      - 0.5 * math.log(2 * math.pi))
    return torch.logsumexp(log_components + torch.log(weights), dim=-1)


def mixture_sample(n: int, weights: torch.Tensor, means: torch.Tensor, stds: torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` samples of the 1-D Gaussian mixture (float64)."""
    weights, means, stds = (torch.as_tensor(v, dtype=torch.float64) for v in (weights, means, stds))
    k = torch.multinomial(weights, n, replacement=True, generator=generator)
    return means[k] + stds[k] * torch.randn(n, dtype=torch.float64, generator=generator)


def fit_gaussian_kl(log_target: LogProb, grid: torch.Tensor, direction: str,
                    steps: int = 500, lr: float = 0.05,
                    init: tuple[float, float] = (0.5, 1.0)) -> tuple[float, float]:
    """Fit q = N(mu, sigma^2) to a 1-D target p by minimising a KL
    computed by quadrature on ``grid``.

    * ``direction="forward"``: min_q KL(p || q) = -E_p[log q] + const -- "mode covering": q must
      put mass wherever p has mass. Its optimum is moment matching (mu
      = E_p[x], sigma^2 = Var_p[x]).
    * ``direction="reverse"``: min_q KL(q || p) = E_q[log q - log p] -- "mode seeking": q is
      punished for mass where p is small, so it settles on one mode.

    Returns the fitted ``(mu, sigma)``; gradient descent (Adam) on (mu, log sigma).
    """
    if direction not in ("forward", "reverse"):
        raise ValueError(f"direction must be 'forward' or 'reverse', got {direction!r}")
    grid = torch.as_tensor(grid, dtype=torch.float64)
    log_p = log_target(grid)
    p = log_p.exp()
    mu = torch.tensor(float(init[0]), dtype=torch.float64, requires_grad=True)
    log_sigma = torch.tensor(math.log(init[1]), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([mu, log_sigma], lr=lr)
    for _ in range(steps):
        log_q = (-0.5 * ((grid - mu) / log_sigma.exp()) ** 2 - log_sigma
                 - 0.5 * math.log(2 * math.pi))
        if direction == "forward":
            loss = torch.trapezoid(p * (log_p - log_q), grid)
        else:
            loss = torch.trapezoid(log_q.exp() * (log_q - log_p), grid)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(mu.detach()), float(log_sigma.detach().exp())
