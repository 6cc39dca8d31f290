"""The lecture's game, one step at a time: noise, ``d_train``, ``g_train`` and the gradient penalty.

The value function of the two-player game (lecture section 2) is

    v(theta_g, theta_d) = E_{x ~ p_data}[log d(x)] + E_{z ~ p_z}[log(1 - d(g(z)))],

which the discriminator maximises and the generator minimises. In practice (Goodfellow et al.,
2014) the generator instead maximises E_z[log d(g(z))], the *non-saturating* loss, which gives
strong gradients early in training when d(g(z)) is close to 0. With binary cross-entropy
BCE(p, y) = -[y log p + (1 - y) log(1 - p)] both steps are ordinary classification losses:

* ``d_train``:  L_D = BCE(d(x), 1) + BCE(d(g(z)), 0)  = -[log d(x) + log(1 - d(g(z)))]
* ``g_train``:  L_G = BCE(d(g(z)), 1)                 = -log d(g(z))          (non-saturating)

The losses are computed on logits with ``binary_cross_entropy_with_logits``: the same value as
Sigmoid + ``BCELoss``, without overflow when d(x) saturates. The discriminator step does not
back-propagate into the generator and the generator step computes no gradients for the
discriminator's weights (the lecture computes both and then throws them away with ``zero_grad``).
Every step takes an optional ``generator`` for its noise, so a training run can be reproduced
without touching torch's global random state.

A *conditional* GAN (Mirza & Osindero, 2014; ``course_utils.gan.dcgan.ConditionalGenerator``)
plays the same game with both players told a label y, here the digit:

    v = E_{(x, y) ~ p_data}[log d(x, y)] + E_{z ~ p_z, y ~ p_data(y)}[log(1 - d(g(z, y), y))],

so g must draw *that* digit: a fake 3 labelled 7 is easy to reject. Pass the real batch's labels
as ``y`` to both steps; the fakes are asked for the same digits, so y follows the data's class
frequencies.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..device import DeviceLike

__all__ = ["MODES_Z", "LOSSES", "create_noise", "d_train", "g_train", "gradient_penalty",
           "is_conditional"]

MODES_Z = ("uniform", "normal")
LOSSES = ("bce", "minimax", "wgan-gp")


def create_noise(
    batch_size: int,
    z_size: int,
    mode_z: str,
    device: DeviceLike = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw the generator's input z ~ p_z: ``'uniform'`` on [-1, 1) or ``'normal'`` N(0, I).

    Returns a ``(batch_size, z_size)`` tensor on ``device`` (the CPU by default), as the
    lecture's ``create_noise`` does before its ``.to(device)``.
    """
    if mode_z not in MODES_Z:
        raise ValueError(f"mode_z must be 'uniform' or 'normal', got {mode_z!r}")
    if batch_size < 1 or z_size < 1:
        raise ValueError(f"batch_size and z_size must be positive, got {batch_size} and {z_size}")
    device = torch.device(device) if device is not None else torch.device("cpu")
    if mode_z == "uniform":
        return torch.rand(batch_size, z_size, device=device, generator=generator) * 2 - 1
    return torch.randn(batch_size, z_size, device=device, generator=generator)


def d_train(
    x: torch.Tensor,
    gen_model: nn.Module,
    disc_model: nn.Sequential,
    d_optimizer: torch.optim.Optimizer,
    z_size: int = 20,
    mode_z: str = "uniform",
    loss: str = "bce",
    gp_lambda: float = 10.0,
    generator: torch.Generator | None = None,
    y: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One discriminator step: minimise L_D = BCE(d(x), 1) + BCE(d(g(z)), 0).

    ``x`` is a batch of real images (any shape with the batch first) on the models' device.
    Returns ``(d_loss, d_proba_real, d_proba_fake)``, all detached and still on the device (the
    lecture returns ``d_loss.item()``, which forces a device sync on every batch).

    With ``loss="wgan-gp"`` the discriminator is a critic f with unbounded scores, and the step
    minimises the WGAN-GP loss (Gulrajani et al., 2017)

        L_f = E[f(g(z))] - E[f(x)] + lambda E[(||grad f(x_hat)||_2 - 1)^2],
        x_hat = eps x + (1 - eps) g(z), eps ~ U[0, 1] per sample,

    and the second and third return values are the critic's scores f(x) and f(g(z)).

    ``y``: the digits of ``x`` for a conditional GAN (then d(x, y) and g(z, y); see the module).
    """
    _check_loss(loss)
    batch_size = x.size(0)
    x = x.reshape(batch_size, -1)
    score = _logits_of(disc_model, y)
    disc_model.zero_grad(set_to_none=True)
    # Real batch (label 1 for BCE).
    d_logit_real = score(x)
    # Fake batch (label 0). Only D's parameters are optimised, so G's graph is not needed.
    input_z = create_noise(batch_size, z_size, mode_z, device=x.device, generator=generator)
    with torch.no_grad():
        g_output = _generate(gen_model, input_z, y)
    d_logit_fake = score(g_output)
    if loss == "wgan-gp":
        penalty = gradient_penalty(score, x, g_output, generator)
        d_loss = d_logit_fake.mean() - d_logit_real.mean() + gp_lambda * penalty
        d_loss.backward()
        d_optimizer.step()
        return d_loss.detach(), d_logit_real.detach(), d_logit_fake.detach()
    d_loss_real = F.binary_cross_entropy_with_logits(d_logit_real, torch.ones_like(d_logit_real))
    d_loss_fake = F.binary_cross_entropy_with_logits(d_logit_fake, torch.zeros_like(d_logit_fake))
    d_loss = d_loss_real + d_loss_fake
    d_loss.backward()
    d_optimizer.step()
    return (d_loss.detach(), torch.sigmoid(d_logit_real.detach()),
            torch.sigmoid(d_logit_fake.detach()))


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     generator: torch.Generator | None = None,
                     eps: torch.Tensor | None = None) -> torch.Tensor:
    """E[(||grad_x f(x_hat)||_2 - 1)^2] on random interpolates x_hat = eps x + (1 - eps) x_fake,
    eps ~ U[0, 1] per sample, shape (N, 1) (drawn from ``generator`` unless given).

    The *optimal* critic has gradient norm 1 almost everywhere on the straight lines between the
    real and generated points that the optimal transport plan pairs (Gulrajani et al., 2017,
    Proposition 1); lines between random real and fake pairs stand in for those. Asking for norm 1
    there keeps f close to the 1-Lipschitz functions the Wasserstein dual ranges over (a 1-Lipschitz
    function in general only has norm <= 1).
    """
    if eps is None:
        eps = torch.rand(real.size(0), 1, device=real.device, generator=generator)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()


def g_train(
    batch_size: int,
    gen_model: nn.Module,
    disc_model: nn.Sequential,
    g_optimizer: torch.optim.Optimizer,
    z_size: int = 20,
    mode_z: str = "uniform",
    device: DeviceLike = None,
    loss: str = "bce",
    generator: torch.Generator | None = None,
    y: torch.Tensor | None = None,
) -> torch.Tensor:
    """One generator step with the non-saturating loss L_G = BCE(d(g(z)), 1) = -log d(g(z)).

    The lecture's ``g_train(x)`` uses ``x`` only for its batch size, so this one takes the size.
    Returns the detached loss on the device. ``loss="minimax"`` minimises the original
    log(1 - d(g(z))) of the value function instead (it saturates when d(g(z)) ~ 0, notebook 01);
    ``loss="wgan-gp"`` minimises -E[f(g(z))] for a WGAN critic f.
    ``y``: for a conditional GAN, the ``batch_size`` digits to draw, -log d(g(z, y), y).
    """
    _check_loss(loss)
    device = torch.device(device) if device is not None else next(gen_model.parameters()).device
    gen_model.zero_grad(set_to_none=True)
    input_z = create_noise(batch_size, z_size, mode_z, device=device, generator=generator)
    g_output = _generate(gen_model, input_z, y)
    # D's weights are fixed in this step: no gradient for them, only through them to G.
    disc_model.requires_grad_(False)
    try:
        d_logit_fake = _logits_of(disc_model, y)(g_output)
    finally:
        disc_model.requires_grad_(True)
    if loss == "bce":
        g_loss = F.binary_cross_entropy_with_logits(d_logit_fake, torch.ones_like(d_logit_fake))
    elif loss == "minimax":  # log(1 - sigmoid(l)) = -softplus(l)
        g_loss = -F.softplus(d_logit_fake).mean()
    else:
        g_loss = -d_logit_fake.mean()
    g_loss.backward()
    g_optimizer.step()
    return g_loss.detach()



def _check_loss(loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")


def is_conditional(model: nn.Module) -> bool:
    """Whether a generator or discriminator takes the digit y too (``n_classes`` > 0)."""
    return getattr(model, "n_classes", 0) > 0


def _check_labels(model: nn.Module, y: torch.Tensor | None, role: str) -> None:
    if is_conditional(model) and y is None:
        raise ValueError(f"This {role} is conditional (it takes the digit y): pass the batch's "
                         "labels as y=")
    if not is_conditional(model) and y is not None:
        raise ValueError(f"This {role} takes no labels: y= is only for a conditional GAN")


def _generate(gen_model: nn.Module, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """g(z), or g(z, y) for a conditional generator."""
    _check_labels(gen_model, y, "generator")
    return gen_model(z) if y is None else gen_model(z, y)


def _logits_of(disc_model: nn.Module,
               y: torch.Tensor | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """x -> d's logits l (d = sigmoid(l): its final Sigmoid dropped), or a WGAN critic's scores as
    they are; for a conditional discriminator, x -> its logits of (x, y)."""
    _check_labels(disc_model, y, "discriminator")
    if y is not None:
        return lambda x: disc_model.logits(x, y)
    if isinstance(disc_model, nn.Sequential) and isinstance(disc_model[-1], nn.Sigmoid):
        return disc_model[:-1]
    return disc_model
