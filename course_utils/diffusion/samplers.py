"""Learning to reverse the chain, used: one step of each sampler, one
loop, classifier-free guidance.

A sampler is a *step* that takes x from time t to an earlier time s, plus the grid of (t, s)
pairs it walks; ``sample_loop`` walks any grid with any step (as diffusers' schedulers share one
``step()`` contract). The steps are pure functions of their inputs:

* ``ddpm_step`` -- ancestral sampling, x_{t-1} = mu~_t(x_t, x0_hat) + sigma_t z
  (Ho et al. Algorithm 2)
* ``ddim_step`` -- x_s = sqrt(abar_s) x0_hat + sqrt(1 - abar_s - sigma^2) eps
  + sigma z (Song et al. eq. 12)
* ``guided_eps`` -- classifier-free guidance (Ho & Salimans 2022):
  eps = eps_theta(x_t, t) + w (eps_theta(x_t, t, y) - eps_theta(x_t, t)); Ho & Salimans write
  (1 + w') eps_theta(x_t, t, y) - w' eps_theta(x_t, t), so their w' is this w - 1

``ddpm_sample`` and ``ddim_sample`` run them from x_T ~ N(0, I). Samplers return tensors in the
data's range on ``device`` (images: [-1, 1], (N, 1, 28, 28)); ``device=None`` picks the best
device, as everywhere in the package. Every random number is drawn on ``device`` from one
generator seeded with ``seed``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from ..device import DeviceLike, get_device
from ..progress import tqdm
from .forward import posterior_mean_variance, x0_from_eps
from .gaussian_path import posterior_sigma, posterior_step
from .schedules import Schedule
from .unet import check_label_values

__all__ = ["guided_eps", "ddpm_step", "ddim_step", "ddim_sigma", "ddim_grid", "sample_loop",
           "ddpm_sample", "ddim_sample"]

# predict(x, t) -> the network's output at time t (eps for diffusion, a velocity for a flow)
Predict = Callable[[torch.Tensor, object], torch.Tensor]
# step(predict, x, t, s, noise) -> x at the earlier time s
Step = Callable[[Predict, torch.Tensor, object, object, "torch.Tensor | None"], torch.Tensor]


def guided_eps(model: nn.Module, x: torch.Tensor, t: torch.Tensor,
               labels: torch.Tensor | None = None, guidance: float = 1.0) -> torch.Tensor:
    """The noise prediction the samplers use.

    Without labels: eps_theta(x_t, t). With labels y (a conditional UNet trained with label
    dropout), classifier-free guidance (Ho & Salimans 2022):
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
    both = model(torch.cat([x, x]), torch.cat([t, t]),
                 torch.cat([labels, torch.full_like(labels, -1)]))
    eps_cond, eps_uncond = both.chunk(2)
    return eps_uncond + guidance * (eps_cond - eps_uncond)


# --- the steps --------------------------------------------------------------------------------


def ddpm_step(x_t: torch.Tensor, eps: torch.Tensor, t: int, schedule: Schedule,
              noise: torch.Tensor | None = None, clip: float | None = None) -> torch.Tensor:
    """One ancestral step (Ho et al. Algorithm 2): x_{t-1} = mu~_t(x_t, x0_hat) + sqrt(beta~_t) z.

    x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t) plugged into the posterior mean is the
    same as 1/sqrt(alpha_t) (x_t - beta_t / sqrt(1 - abar_t) eps). sigma_t^2 = beta~_t
    (the posterior variance); ``noise`` z ~ N(0, I) is not used at t = 0. ``clip``
    clips x0_hat to [-clip, clip]."""
    if not 0 <= int(t) < schedule.T:
        raise ValueError(f"time steps must lie in 0..{schedule.T - 1}, got {t}")
    steps = torch.full((len(x_t),), int(t), device=x_t.device, dtype=torch.long)
    abar_t = schedule.alpha_bars.to(x_t.device)[steps].reshape(-1, *[1] * (x_t.dim() - 1))
    x0_hat = x0_from_eps(x_t, eps, abar_t)
    if clip is not None:
        x0_hat = x0_hat.clamp(-clip, clip)
    mean, var = posterior_mean_variance(x0_hat, x_t, steps, schedule)
    if t == 0 or noise is None:
        return mean
    return mean + var.sqrt() * noise


def ddim_sigma(abar_t: torch.Tensor, abar_s: torch.Tensor, eta: float) -> torch.Tensor:
    """DDIM's noise level (Song et al. eq. 16): sigma = eta sqrt((1 - abar_s) / (1 -
    abar_t)) sqrt(1 - abar_t / abar_s), which is ``gaussian_path.posterior_sigma`` (eq. (7)
    there) on the VP path alpha = sqrt(abar), sigma = sqrt(1 - abar)."""
    abar_t, abar_s = torch.as_tensor(abar_t), torch.as_tensor(abar_s)
    return posterior_sigma(abar_t.sqrt(), (1 - abar_t).sqrt(), abar_s.sqrt(), (1 - abar_s).sqrt(),
                           eta)


def ddim_step(x_t: torch.Tensor, eps: torch.Tensor, abar_t: torch.Tensor | float,
              abar_s: torch.Tensor | float, eta: float = 0.0, noise: torch.Tensor | None = None,
              clip: float | None = None) -> torch.Tensor:
    """One DDIM step (Song et al. eq. 12) from t to an earlier step s (abar_s >
    abar_t; abar_s = 1 at the end):

        x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t),
        x_s = sqrt(abar_s) x0_hat + sqrt(1 - abar_s - sigma^2) eps + sigma z,
        sigma = ``ddim_sigma``,

    i.e. ``gaussian_path.posterior_step`` on the VP path. ``eta = 0`` is deterministic (one
    discretisation of the probability-flow ODE), ``eta = 1`` ancestral on the sub-sequence;
    ``noise`` z is ignored when None. ``clip``: x0_hat is clipped to [-clip, clip] and eps
    recomputed from it, so the step stays consistent with the clipped x0."""
    abar_t = torch.as_tensor(abar_t, dtype=x_t.dtype, device=x_t.device)
    abar_s = torch.as_tensor(abar_s, dtype=x_t.dtype, device=x_t.device)
    x0_hat = x0_from_eps(x_t, eps, abar_t)
    if clip is not None:
        x0_hat = x0_hat.clamp(-clip, clip)
        eps = (x_t - abar_t.sqrt() * x0_hat) / (1 - abar_t).sqrt()
    sigma = ddim_sigma(abar_t, abar_s, eta)
    return posterior_step(x0_hat, eps, abar_s.sqrt(), (1 - abar_s).sqrt(), sigma, noise)


def ddim_grid(T: int, steps: int) -> list[tuple[int, int | None]]:
    """``steps`` evenly spaced time steps from T-1 down to 0, as (t, s) pairs; s = None after the
    last (x_0). With one step the sampler jumps from x_T straight to x_0."""
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= T:
        raise ValueError(f"DDIM steps must be an integer between 1 and T={T}, got {steps!r}")
    taus = sorted(set(torch.linspace(T - 1, 0, steps).round().long().tolist()), reverse=True)
    return list(zip(taus, [*taus[1:], None], strict=True))


# --- the loop ---------------------------------------------------------------------------------


def sample_loop(predict: Predict, x: torch.Tensor, grid: Sequence[tuple[object, object]],
                step: Step, generator: torch.Generator | None = None, noisy: bool = False,
                progress: bool = False, desc: str = "sampling",
                keep: set | None = None) -> tuple[torch.Tensor, list]:
    """Walk ``grid`` from its first time to its last: ``x = step(predict, x, t, s, noise)``.

    A ``noisy`` (stochastic) sampler gets fresh z ~ N(0, I) at every step but the last, drawn on
    x's device from ``generator``; a deterministic one gets None. Returns x and the ``(s, x)``
    snapshots after the steps whose target s is in ``keep`` (on the CPU)."""
    chain = []
    for k, (t, s) in enumerate(tqdm(grid, desc=desc, disable=not progress, leave=False)):
        last = k + 1 == len(grid)
        noise = (torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
                 if noisy and not last else None)
        x = step(predict, x, t, s, noise)
        if keep and s in keep:
            chain.append((s, x.cpu()))
    return x, chain


def _check_labels(labels: torch.Tensor | None, n: int, device: torch.device,
                  model: nn.Module) -> torch.Tensor | None:
    """One class per sample (a single class is repeated), as int64 on the sampling device; the
    values checked against the model's classes once here, not at every step."""
    if labels is None:
        return None
    labels = torch.as_tensor(labels)
    if labels.dim() == 0:
        labels = labels.expand(n)
    if labels.shape != (n,):
        raise ValueError(f"labels must hold one class per sample, shape ({n},), got shape "
                         f"{tuple(labels.shape)}")
    if not labels.dtype.is_floating_point and isinstance(getattr(model, "num_classes", None), int):
        check_label_values(labels, model.num_classes)
    return labels.to(device=device, dtype=torch.long)


def _eps_of(model: nn.Module, labels: torch.Tensor | None, guidance: float) -> Predict:
    """predict(x, t) = the (guided) noise prediction at the integer time step t."""

    def predict(x: torch.Tensor, t: object) -> torch.Tensor:
        steps = torch.full((len(x),), int(t), device=x.device, dtype=torch.long)
        return guided_eps(model, x, steps, labels, guidance)

    return predict


def _start(shape: Sequence[int], device: torch.device, seed: int | None,
           x_T: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Generator | None]:
    """x_T ~ N(0, I) on ``device`` (or the given ``x_T``) and the run's generator there."""
    generator = torch.Generator(device=device).manual_seed(seed) if seed is not None else None
    if x_T is None:
        return torch.randn(tuple(shape), generator=generator, device=device), generator
    if tuple(x_T.shape) != tuple(shape):
        raise ValueError(f"x_T must have the requested shape {tuple(shape)}, got "
                         f"{tuple(x_T.shape)}")
    return x_T.to(device).clone(), generator


# --- the two samplers -------------------------------------------------------------------------


@torch.no_grad()
def ddpm_sample(model: nn.Module, shape: tuple[int, ...], schedule: Schedule,
                device: DeviceLike = None, seed: int | None = 0, return_chain: int = 0,
                progress: bool = True, clip: float | None = None,
                labels: torch.Tensor | None = None, guidance: float = 1.0):
    """Ancestral sampling (Ho et al. Algorithm 2): x_T ~ N(0, I), then ``ddpm_step`` for t = T-1..0.

    For images in [-1, 1] pass ``clip=1.0``: the x0-estimate is then clipped to the data range at
    every step (Ho et al.'s code does this; it helps small models a lot). Leave ``clip=None`` for
    data with no fixed range. ``labels`` and ``guidance``: classifier-free guidance for a
    conditional model (``guided_eps``). Returns x_0, or (x_0, chain) with ``return_chain``
    snapshots (t, x_t) when return_chain > 0."""
    device = get_device(device)
    labels = _check_labels(labels, shape[0], device, model)
    schedule = schedule.to(device)
    x, generator = _start(shape, device, seed)
    grid = [(t, t - 1) for t in range(schedule.T - 1, -1, -1)]
    keep = (set(torch.linspace(schedule.T - 1, 0, return_chain).round().long().tolist())
            if return_chain else None)

    def step(predict: Predict, x: torch.Tensor, t: object, s: object,
             noise: torch.Tensor | None) -> torch.Tensor:
        return ddpm_step(x, predict(x, t), int(t), schedule, noise, clip)

    with _evaluating(model):
        x, chain = sample_loop(_eps_of(model, labels, guidance), x, grid, step, generator,
                               noisy=True, progress=progress, desc="DDPM",
                               keep={k - 1 for k in keep} if keep else None)
    chain = [(s + 1, snapshot) for s, snapshot in chain]  # label each snapshot x_t by its t
    return (x, chain) if return_chain else x


@torch.no_grad()
def ddim_sample(model: nn.Module, shape: tuple[int, ...], schedule: Schedule, steps: int = 50,
                device: DeviceLike = None, seed: int | None = 0, x_T: torch.Tensor | None = None,
                progress: bool = True, clip: float | None = None, eta: float = 0.0,
                labels: torch.Tensor | None = None, guidance: float = 1.0) -> torch.Tensor:
    """DDIM (``ddim_step``) on ``steps`` evenly spaced steps tau_1 > ... > tau_S (``ddim_grid``).

    ``eta = 0`` is the deterministic sampler (one discretisation of the probability-flow ODE: an
    Euler step in x / sqrt(abar) and sqrt((1 - abar) / abar), Song et al. section 4.3): the same x_T
    always gives the same x_0. ``eta = 1`` is ancestral sampling on the sub-sequence (DDPM when
    steps = T). ``clip=1.0`` clips the x0-estimate to [-1, 1] (for images), as in ``ddpm_sample``;
    ``labels`` and ``guidance`` as there."""
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must lie in [0, 1] (0: deterministic DDIM, 1: DDPM-like), got {eta}")
    device = get_device(device)
    labels = _check_labels(labels, shape[0], device, model)
    schedule = schedule.to(device)
    grid = ddim_grid(schedule.T, steps)
    x, generator = _start(shape, device, seed, x_T)
    one = torch.tensor(1.0, device=device)

    def step(predict: Predict, x: torch.Tensor, t: object, s: object,
             noise: torch.Tensor | None) -> torch.Tensor:
        abar_s = schedule.alpha_bars[s] if s is not None else one
        return ddim_step(x, predict(x, t), schedule.alpha_bars[t], abar_s, eta, noise, clip)

    with _evaluating(model):
        x, _ = sample_loop(_eps_of(model, labels, guidance), x, grid, step, generator,
                           noisy=eta > 0, progress=progress, desc=f"DDIM-{len(grid)}")
    return x


class _evaluating:
    """Put ``model`` in eval mode for a block and restore its mode after."""

    def __init__(self, model: nn.Module) -> None:
        self.model, self.was_training = model, model.training

    def __enter__(self) -> nn.Module:
        return self.model.eval()

    def __exit__(self, *exc: object) -> None:
        self.model.train(self.was_training)
