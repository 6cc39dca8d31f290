"""Score-based models on 2-D data: denoising score matching, Langevin and annealed Langevin
(notebook 00b).

Lecture summary section "Score-based models".

* The score of a density is s(x) = grad_x log p(x). For an energy model p = exp(-E)/Z,
  s(x) = -grad_x E(x): log Z does not depend on x, so the intractable Z drops out.
* Denoising score matching (Vincent 2011): perturb x with fixed Gaussian noise,
  x~ = x + sigma eps. The score of the noised density p_sigma is the minimiser of
  E ||s(x~, sigma) - grad log q(x~|x)||^2 = E ||s(x~, sigma) + eps / sigma||^2,
  so no knowledge of p is needed. Weighting by sigma^2 over a ladder of sigmas gives the
  noise-conditional loss of Song & Ermon (2019):
  E_sigma E ||sigma s(x + sigma eps, sigma) + eps||^2.
* Langevin dynamics (the convention of Welling & Teh 2011 and Song & Ermon 2019, used in every
  notebook):  x <- x + (eta/2) grad log p(x) + sqrt(eta) z,  z ~ N(0, I). It samples p as eta -> 0
  and steps -> infinity; for a Gaussian with variance s^2 the chain's stationary variance is
  s^2 / (1 - eta / (4 s^2)) (a small step bias), and the chain diverges for eta >= 4 s^2.
* Annealed Langevin (Song & Ermon 2019, Alg. 1) runs T Langevin steps on each p_{sigma_i},
  sigma_1 > ... > sigma_L, with step alpha_i = eps sigma_i^2 / sigma_L^2; it is stable for every
  data distribution when eps < 4 sigma_L^2 (see ``annealed_langevin``).
* Tweedie's formula: E[x | x~] = x~ + sigma^2 grad log p_sigma(x~); the denoiser of a diffusion
  model is a score model in disguise (notebooks 06-07).
The noising is a fixed process with no parameters: only the score network is learned.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..device import cpu_threads, seeded_generator
from ..progress import tqdm

__all__ = [
    "gmm_params", "gmm_sample", "gmm_log_prob", "gmm_score", "ScoreNet", "noise_levels", "dsm_loss",
    "train_score_model", "langevin_step", "langevin", "annealed_langevin", "max_stable_eps",
    "tweedie_denoise",
]

ScoreFn = Callable[[torch.Tensor], torch.Tensor]


def gmm_params(n_modes: int = 3, radius: float = 3.0, std: float = 0.35,
               weights: tuple[float, ...] | None = None) -> dict[str, torch.Tensor]:
    """A 2-D Gaussian mixture: ``n_modes`` isotropic modes on a circle, with the given weights."""
    if not isinstance(n_modes, int) or n_modes < 1:
        raise ValueError(f"n_modes must be a positive integer, got {n_modes!r}")
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}")
    w = (torch.full((n_modes,), 1.0 / n_modes) if weights is None
         else torch.tensor(weights, dtype=torch.float32))
    if len(w) != n_modes or bool((w <= 0).any()) or abs(float(w.sum()) - 1) > 1e-5:
        raise ValueError(f"weights must be {n_modes} positive numbers summing to 1, got {weights}")
    angles = torch.arange(n_modes) * (2 * math.pi / n_modes) + math.pi / 2
    means = radius * torch.stack([angles.cos(), angles.sin()], dim=1)
    return {"weights": w, "means": means, "std": torch.tensor(float(std))}


def gmm_sample(params: dict[str, torch.Tensor], n: int,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` samples (n, 2) of the mixture."""
    k = torch.multinomial(params["weights"], n, replacement=True, generator=generator)
    return params["means"][k] + params["std"] * torch.randn(n, 2, generator=generator)


def _variance(params: dict[str, torch.Tensor], sigma: float | torch.Tensor,
              x: torch.Tensor) -> torch.Tensor:
    """s^2 + sigma^2 as a scalar, or (N, 1) for one sigma per point: p_sigma = p * N(0, sigma^2 I)
    is again a mixture whose modes have that variance."""
    sigma = torch.as_tensor(sigma, dtype=x.dtype)
    if sigma.ndim:
        if sigma.numel() != len(x):
            raise ValueError(f"sigma must be a number or one value per point ({len(x)}), got "
                             f"{sigma.numel()} values")
        sigma = sigma.reshape(-1, 1)
    return params["std"].to(x.dtype) ** 2 + sigma**2


def _log_joint(params: dict[str, torch.Tensor], x: torch.Tensor,
               var: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if x.ndim != 2 or x.shape[1] != params["means"].shape[1]:
        raise ValueError(f"x must be (N, {params['means'].shape[1]}) points, got shape "
                         f"{tuple(x.shape)}")
    diff = x[:, None, :] - params["means"].to(x.dtype)[None]  # (N, K, 2)
    log_comp = -0.5 * (diff**2).sum(-1) / var - torch.log(2 * math.pi * var)  # 2-D isotropic normal
    return log_comp + params["weights"].to(x.dtype).log(), diff


def gmm_log_prob(params: dict[str, torch.Tensor], x: torch.Tensor,
                 sigma: float | torch.Tensor = 0.0) -> torch.Tensor:
    """log p_sigma(x) of the mixture convolved with N(0, sigma^2 I): (N,)."""
    log_joint, _ = _log_joint(params, x, _variance(params, sigma, x))
    return torch.logsumexp(log_joint, dim=1)


def gmm_score(params: dict[str, torch.Tensor], x: torch.Tensor,
              sigma: float | torch.Tensor = 0.0) -> torch.Tensor:
    """The exact score grad_x log p_sigma(x) = sum_k r_k(x) (mu_k - x) / (s^2 + sigma^2): (N, 2).

    r_k(x) are the posterior mode probabilities; ``sigma`` is a number or one value per point.
    """
    var = _variance(params, sigma, x)
    log_joint, diff = _log_joint(params, x, var)
    r = torch.softmax(log_joint, dim=1)
    return -(r[..., None] * diff).sum(1) / var


class ScoreNet(nn.Module):
    """A noise-conditional score network s(x, sigma): an MLP on (x, log sigma), output / sigma.

    Dividing by sigma builds in the right scale (the true score of p_sigma is ~ -eps / sigma).
    """

    def __init__(self, hidden: int = 128, dim: int = 2) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 1, hidden), nn.SiLU(),
                                 nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor, sigma: torch.Tensor | float) -> torch.Tensor:
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
        sigma = sigma.reshape(-1, 1).expand(len(x), 1)
        return self.net(torch.cat([x, sigma.log()], dim=1)) / sigma


def noise_levels(sigma_max: float = 3.0, sigma_min: float = 0.05, n: int = 10) -> torch.Tensor:
    """A geometric ladder sigma_1 = sigma_max > ... > sigma_n = sigma_min (Song & Ermon 2019)."""
    if not (sigma_max > sigma_min > 0) or n < 2:
        raise ValueError(f"need sigma_max > sigma_min > 0 and n >= 2, got {sigma_max}, "
                         f"{sigma_min}, {n}")
    return torch.logspace(math.log10(sigma_max), math.log10(sigma_min), n)


def dsm_loss(model: nn.Module, x: torch.Tensor, sigmas: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """E_{sigma, eps} || sigma s(x + sigma eps, sigma) + eps ||^2 / 2 (sigma^2-weighted DSM loss).
    sigma and eps are drawn on x's device (``generator``, if given, is one of that device)."""
    idx = torch.randint(len(sigmas), (len(x),), generator=generator, device=x.device)
    sigma = sigmas.to(x)[idx].reshape(-1, 1)
    eps = torch.randn(x.shape, generator=generator, device=x.device).to(x.dtype)
    return 0.5 * ((sigma * model(x + sigma * eps, sigma) + eps) ** 2).sum(dim=1).mean()


def train_score_model(model: nn.Module, data: torch.Tensor, sigmas: torch.Tensor, steps: int,
                      batch_size: int = 256, lr: float = 1e-3, seed: int = 0,
                      progress: bool = True, threads: int | None = 1) -> dict[str, Any]:
    """Adam on ``dsm_loss`` with minibatches of ``data`` (N, 2). History: ``loss`` per step,
    ``seconds``.
    ``threads``: torch's CPU threads meanwhile (1, the fastest for networks this small:
    ``benchmarks/threads.py``; ``None`` keeps the caller's). Batches and noise are drawn on the
    data's device (the model's too) from a generator seeded with ``seed``."""
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if data.ndim != 2:
        raise ValueError(f"data must be (N, dim) points, got shape {tuple(data.shape)}")
    gen = seeded_generator(seed, data.device)
    sigmas = sigmas.to(data)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    losses = []
    start = time.perf_counter()
    model.train()
    with cpu_threads(threads):
        for _ in tqdm(range(steps), desc="score matching", disable=not progress):
            batch = data[torch.randint(len(data), (batch_size,), generator=gen, device=data.device)]
            loss = dsm_loss(model, batch, sigmas, gen)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.detach())
    model.eval()
    return {"loss": torch.stack(losses).tolist(), "seconds": time.perf_counter() - start}


def langevin_step(score: ScoreFn, x: torch.Tensor, step_size: float,
                  noise: torch.Tensor) -> torch.Tensor:
    """One Langevin step x + (eta/2) s(x) + sqrt(eta) z with ``step_size`` eta and the given
    noise z ~ N(0, I)."""
    return x + 0.5 * step_size * score(x) + math.sqrt(step_size) * noise


@torch.no_grad()
def langevin(score: ScoreFn, x0: torch.Tensor, step_size: float, n_steps: int,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """Unadjusted Langevin: ``n_steps`` times ``langevin_step``, x <- x + (eta/2) s(x) + sqrt(eta) z
    with z ~ N(0, I), from ``x0``.

    ``step_size`` is eta. On N(mu, s^2 I) the chain converges to N(mu, s^2 / (1 - eta / (4 s^2)))
    for eta < 4 s^2 and diverges for larger steps. z is drawn on x0's device (``generator``, if
    given, is one of that device).
    """
    if not step_size > 0:
        raise ValueError(f"step_size must be positive, got {step_size}")
    if not isinstance(n_steps, int) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    x = x0.clone()
    for _ in range(n_steps):
        z = torch.randn(x.shape, generator=generator, device=x.device).to(x.dtype)
        x = langevin_step(score, x, step_size, z)
    return x


def max_stable_eps(sigmas: torch.Tensor) -> float:
    """The largest stable base step of ``annealed_langevin``: eps < 4 sigma_L^2 (see its
    docstring)."""
    return 4.0 * float(sigmas[-1]) ** 2


@torch.no_grad()
def annealed_langevin(score: Callable[[torch.Tensor, float], torch.Tensor], x0: torch.Tensor,
                      sigmas: torch.Tensor, steps_per_level: int, eps: float = 5e-4,
                      generator: torch.Generator | None = None) -> list[torch.Tensor]:
    """Annealed Langevin dynamics, Song & Ermon (2019), Algorithm 1, as written there:
    for i = 1..L, alpha_i = eps sigma_i^2 / sigma_L^2, then T = ``steps_per_level`` steps
    x <- x + (alpha_i / 2) s(x, sigma_i) + sqrt(alpha_i) z, from the largest sigma to the smallest.

    Stability: the drift is a gradient step of size alpha_i / 2 on -log p_{sigma_i}. For any data
    distribution, p_sigma = p * N(0, sigma^2 I) has Hessian -grad^2 log p_sigma = I / sigma^2 -
    Cov[x | x~] / sigma^4 <= I / sigma^2, and the bound is reached where the data look like a point
    at that noise level (at sigma_1, or off a data manifold). A gradient step on curvature
    1/sigma^2 is stable iff alpha_i / 2 < 2 sigma_i^2, i.e. alpha_i < 4 sigma_i^2. As
    alpha_i / sigma_i^2 = eps / sigma_L^2 at every level, the condition is the same at all levels:
    eps < 4 sigma_L^2 (``max_stable_eps``; exact for the true score, a learned score can be
    rougher). A larger ``eps`` is a ``ValueError``. The default 5e-4 with sigma_L = 0.05 gives
    eps / sigma_L^2 = 0.2, the ratio of the paper's CIFAR-10 settings (eps = 2e-5, sigma_L = 0.01).

    ``score(x, sigma)``; returns the particles after each level (a list of L tensors).
    """
    decreasing = bool((sigmas[:-1] >= sigmas[1:]).all())
    if len(sigmas) < 1 or not decreasing or not bool((sigmas > 0).all()):
        raise ValueError("sigmas must be a non-empty, decreasing sequence of positive noise levels")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    sigma_1, sigma_l = float(sigmas[0]), float(sigmas[-1])
    if eps >= max_stable_eps(sigmas):
        alpha_1 = eps * sigma_1**2 / sigma_l**2
        raise ValueError(
            f"eps={eps:g} is unstable: the first step alpha_1 = eps sigma_1^2 / sigma_L^2 = "
            f"{alpha_1:.3g} is not below 4 sigma_1^2 = {4 * sigma_1**2:.3g} (the curvature of "
            f"-log p_sigma reaches 1/sigma^2), so the particles would blow up; use "
            f"eps < 4 sigma_L^2 = {max_stable_eps(sigmas):.3g}, e.g. eps = {0.2 * sigma_l**2:.2g}")
    x, path = x0.clone(), []
    for sigma in sigmas.tolist():
        alpha = eps * sigma**2 / sigma_l**2
        x = langevin(lambda y, s=sigma: score(y, s), x, alpha, steps_per_level, generator)
        path.append(x.clone())
    return path


def tweedie_denoise(score: Callable[[torch.Tensor, float], torch.Tensor], x_noisy: torch.Tensor,
                    sigma: float) -> torch.Tensor:
    """Tweedie: E[x | x~] = x~ + sigma^2 grad log p_sigma(x~)."""
    with torch.no_grad():
        return x_noisy + sigma**2 * score(x_noisy, sigma)
