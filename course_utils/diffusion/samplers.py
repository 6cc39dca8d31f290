"""Learning to reverse the chain, used: the DDPM and DDIM samplers and classifier-free guidance.

* ``ddpm_sample`` -- ancestral sampling, x_{t-1} = mu_theta(x_t, t) + sigma_t z   (Ho et al. Algorithm 2)
* ``ddim_sample`` -- DDIM on any sub-sequence of steps, deterministic with eta = 0 (Song et al. eq. 12)
* ``guided_eps`` -- classifier-free guidance (Ho & Salimans 2022):
  eps = eps_theta(x_t, t) + w (eps_theta(x_t, t, y) - eps_theta(x_t, t)); Ho & Salimans write
  (1 + w') eps_theta(x_t, t, y) - w' eps_theta(x_t, t), so their w' is this w - 1

Samplers return tensors in the data's range on ``device`` (images: [-1, 1], (N, 1, 28, 28));
``device=None`` picks the best device, as everywhere in the package.
"""
from __future__ import annotations

import torch
from torch import nn
from tqdm.auto import tqdm

from ..device import DeviceLike, get_device
from .forward import posterior_mean_variance, predict_x0
from .schedules import Schedule

__all__ = ["guided_eps", "ddpm_sample", "ddim_sample"]


def guided_eps(model: nn.Module, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None,
               guidance: float = 1.0) -> torch.Tensor:
    """The noise prediction the samplers use.

    Without labels: eps_theta(x_t, t). With labels y (a conditional UNet trained with label dropout),
    classifier-free guidance (Ho & Salimans 2022):
        eps = eps_theta(x_t, t, -) + w (eps_theta(x_t, t, y) - eps_theta(x_t, t, -)),
    i.e. the score of p(x_t) p(y | x_t)^w: w = 1 samples p(x | y), w > 1 sharpens towards y
    (clearer digits, less variety), w = 0 ignores the label. Ho & Salimans write the same as
    (1 + w') eps_theta(x_t, t, y) - w' eps_theta(x_t, t, -): their w' is this w - 1 (w = 3 here
    is their w' = 2; w = 1 here, the plain conditional model, is their w' = 0). Both
    predictions come from one forward pass over the doubled batch.
    """
    if labels is None:
        return model(x, t)
    labels = labels.to(x.device)
    if guidance == 1.0:
        return model(x, t, labels)
    both = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, torch.full_like(labels, -1)]))
    eps_cond, eps_uncond = both.chunk(2)
    return eps_uncond + guidance * (eps_cond - eps_uncond)


def _check_labels(labels: torch.Tensor | None, n: int, device: torch.device) -> torch.Tensor | None:
    """One class per sample (a single class is repeated), as int64 on the sampling device."""
    if labels is None:
        return None
    labels = torch.as_tensor(labels)
    if labels.dim() == 0:
        labels = labels.expand(n)
    if labels.shape != (n,):
        raise ValueError(f"labels must hold one class per sample, shape ({n},), got shape {tuple(labels.shape)}")
    return labels.to(device=device, dtype=torch.long)


def _noise(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    return torch.randn(shape, generator=generator).to(device)


@torch.no_grad()
def ddpm_sample(model: nn.Module, shape: tuple[int, ...], schedule: Schedule, device: DeviceLike = None,
                seed: int | None = 0, return_chain: int = 0, progress: bool = True, clip: float | None = None,
                labels: torch.Tensor | None = None, guidance: float = 1.0):
    """Ancestral sampling (Ho et al. Algorithm 2): x_T ~ N(0, I), then for t = T..1
    x_{t-1} = 1/sqrt(alpha_t) (x_t - beta_t / sqrt(1 - abar_t) eps_theta(x_t, t)) + sigma_t z,
    sigma_t^2 = beta~_t (posterior variance), z = 0 at the last step. Implemented via the x0-estimate
    plugged into the posterior mean, which is the same formula. For images in [-1, 1] pass
    ``clip=1.0``: the x0-estimate is then clipped to the data range at every step (Ho et al.'s code
    does this; it helps small models a lot). Leave ``clip=None`` for data with no fixed range.
    ``labels`` and ``guidance``: classifier-free guidance for a conditional model (``guided_eps``).
    Returns x_0, or (x_0, chain) with ``return_chain`` snapshots when return_chain > 0."""
    device = get_device(device)
    labels = _check_labels(labels, shape[0], device)
    schedule = schedule.to(device)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    x = _noise(tuple(shape), generator, device)
    keep = set(torch.linspace(schedule.T - 1, 0, return_chain).round().long().tolist()) if return_chain else set()
    chain = []
    was_training = model.training
    model.eval()
    for i in tqdm(range(schedule.T - 1, -1, -1), desc="DDPM", disable=not progress, leave=False):
        t = torch.full((shape[0],), i, device=device, dtype=torch.long)
        x0_hat = predict_x0(x, guided_eps(model, x, t, labels, guidance), t, schedule)
        if clip is not None:
            x0_hat = x0_hat.clamp(-clip, clip)
        mean, var = posterior_mean_variance(x0_hat, x, t, schedule)
        x = mean + (var.sqrt() * _noise(tuple(shape), generator, device) if i > 0 else 0)
        if i in keep:
            chain.append((i, x.cpu()))
    model.train(was_training)
    return (x, chain) if return_chain else x


def _ddim_steps(T: int, steps: int) -> list[int]:
    if not isinstance(steps, int) or not 1 <= steps <= T:
        raise ValueError(f"DDIM steps must be an integer between 1 and T={T}, got {steps!r}")
    # From T-1 down: with one step the sampler jumps from x_T straight to x_0.
    return sorted(set(torch.linspace(T - 1, 0, steps).round().long().tolist()), reverse=True)


@torch.no_grad()
def ddim_sample(model: nn.Module, shape: tuple[int, ...], schedule: Schedule, steps: int = 50,
                device: DeviceLike = None, seed: int | None = 0, x_T: torch.Tensor | None = None,
                progress: bool = True, clip: float | None = None, eta: float = 0.0,
                labels: torch.Tensor | None = None, guidance: float = 1.0) -> torch.Tensor:
    """DDIM (Song et al. eq. 12) on ``steps`` evenly spaced steps tau_1 > ... > tau_S:
    x0_hat = (x_t - sqrt(1-abar_t) eps_theta) / sqrt(abar_t),
    x_{tau_prev} = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - sigma^2) eps_theta + sigma z,
    sigma = eta sqrt((1 - abar_prev) / (1 - abar_t)) sqrt(1 - abar_t / abar_prev), abar_prev = 1 after the last step.
    ``eta = 0`` is the deterministic sampler, one discretisation of the probability flow ODE
    (an Euler step in x / sqrt(abar) and sqrt((1 - abar) / abar), Song et al. section 4.3): the
    same x_T always gives the same x_0. ``eta = 1`` is ancestral sampling on the sub-sequence
    (DDPM when steps = T).
    ``clip=1.0`` clips the x0-estimate to [-1, 1] (for images), as in ``ddpm_sample``; ``labels`` and
    ``guidance`` as there."""
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must lie in [0, 1] (0: deterministic DDIM, 1: DDPM-like), got {eta}")
    device = get_device(device)
    labels = _check_labels(labels, shape[0], device)
    schedule = schedule.to(device)
    taus = _ddim_steps(schedule.T, steps)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    if x_T is None:
        x = _noise(tuple(shape), generator, device)
    else:
        if tuple(x_T.shape) != tuple(shape):
            raise ValueError(f"x_T must have the requested shape {tuple(shape)}, got {tuple(x_T.shape)}")
        x = x_T.to(device).clone()
    was_training = model.training
    model.eval()
    for k, i in enumerate(tqdm(taus, desc=f"DDIM-{len(taus)}", disable=not progress, leave=False)):
        t = torch.full((x.shape[0],), i, device=device, dtype=torch.long)
        eps = guided_eps(model, x, t, labels, guidance)
        x0_hat = predict_x0(x, eps, t, schedule)
        abar_t = schedule.alpha_bars[i]
        if clip is not None:
            x0_hat = x0_hat.clamp(-clip, clip)
            eps = (x - abar_t.sqrt() * x0_hat) / (1 - abar_t).sqrt()
        abar_prev = schedule.alpha_bars[taus[k + 1]] if k + 1 < len(taus) else torch.tensor(1.0, device=device)
        sigma = eta * ((1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev)).clamp(min=0).sqrt()
        x = abar_prev.sqrt() * x0_hat + (1 - abar_prev - sigma**2).clamp(min=0).sqrt() * eps
        if eta > 0 and k + 1 < len(taus):
            x = x + sigma * _noise(tuple(x.shape), generator, device)
    model.train(was_training)
    return x
