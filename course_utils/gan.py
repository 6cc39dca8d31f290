"""Training the lecture's GAN: noise, the two alternating steps and the training loop.

The value function of the two-player game (lecture section 2) is

    v(theta_g, theta_d) = E_{x ~ p_data}[log d(x)] + E_{z ~ p_z}[log(1 - d(g(z)))],

which the discriminator maximises and the generator minimises. In practice (Goodfellow et al.,
2014) the generator instead maximises E_z[log d(g(z))], the *non-saturating* loss, which gives
strong gradients early in training when d(g(z)) is close to 0. With binary cross-entropy
BCE(p, y) = -[y log p + (1 - y) log(1 - p)] both steps are ordinary classification losses:

* ``d_train``:  L_D = BCE(d(x), 1) + BCE(d(g(z)), 0)  = -[log d(x) + log(1 - d(g(z)))]
* ``g_train``:  L_G = BCE(d(g(z)), 1)                 = -log d(g(z))          (non-saturating)

Differences from the lecture's loop, none of which changes the maths:

* the losses are computed on logits with ``binary_cross_entropy_with_logits``: the same value
  as Sigmoid + ``BCELoss``, but without overflow when d(x) saturates;
* the whole dataset lives as one tensor on the device and batches are drawn by ``randperm``
  (the lecture runs PIL transforms on every image of every epoch);
* the discriminator step does not back-propagate into the generator and the generator step does
  not compute gradients for the discriminator's weights (the lecture computes both and then throws
  them away with ``zero_grad``);
* running means stay on the device; there is one host sync per epoch, not several per batch.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .checkpoints import load_checkpoint, save_checkpoint
from .data import split_of
from .device import DeviceLike, get_device
from .networks import make_discriminator_network, make_generator_network

__all__ = [
    "MODES_Z",
    "LOSSES",
    "ARCHITECTURES",
    "gradient_penalty",
    "create_noise",
    "d_train",
    "g_train",
    "train_gan",
    "gan_config",
    "build_gan",
    "make_optimizers",
    "sample_gan",
    "fit_gan",
    "save_gan",
    "load_gan",
]

MODES_Z = ("uniform", "normal")
LOSSES = ("bce", "minimax", "wgan-gp")
IMAGE_SIZE = (28, 28)


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
    """
    _check_loss(loss)
    batch_size = x.size(0)
    x = x.reshape(batch_size, -1)
    score = _score_model(disc_model)
    disc_model.zero_grad(set_to_none=True)
    # Real batch (label 1 for BCE).
    d_logit_real = score(x)
    # Fake batch (label 0). Only D's parameters are optimised, so G's graph is not needed.
    input_z = create_noise(batch_size, z_size, mode_z, device=x.device)
    with torch.no_grad():
        g_output = gen_model(input_z)
    d_logit_fake = score(g_output)
    if loss == "wgan-gp":
        d_loss = d_logit_fake.mean() - d_logit_real.mean() + gp_lambda * gradient_penalty(score, x, g_output)
        d_loss.backward()
        d_optimizer.step()
        return d_loss.detach(), d_logit_real.detach(), d_logit_fake.detach()
    d_loss_real = F.binary_cross_entropy_with_logits(d_logit_real, torch.ones_like(d_logit_real))
    d_loss_fake = F.binary_cross_entropy_with_logits(d_logit_fake, torch.zeros_like(d_logit_fake))
    d_loss = d_loss_real + d_loss_fake
    d_loss.backward()
    d_optimizer.step()
    return d_loss.detach(), torch.sigmoid(d_logit_real.detach()), torch.sigmoid(d_logit_fake.detach())


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E[(||grad_x f(x_hat)||_2 - 1)^2] on random interpolates x_hat = eps x + (1 - eps) x_fake.

    A 1-Lipschitz critic has gradient norm 1 almost everywhere along such lines (Gulrajani et
    al., 2017); the penalty pushes f towards that, which the Wasserstein dual needs.
    """
    eps = torch.rand(real.size(0), 1, device=real.device)
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
) -> torch.Tensor:
    """One generator step with the non-saturating loss L_G = BCE(d(g(z)), 1) = -log d(g(z)).

    The lecture's ``g_train(x)`` uses ``x`` only for its batch size, so this one takes the size.
    Returns the detached loss on the device. ``loss="minimax"`` minimises the original
    log(1 - d(g(z))) of the value function instead (it saturates when d(g(z)) ~ 0, notebook 01);
    ``loss="wgan-gp"`` minimises -E[f(g(z))] for a WGAN critic f.
    """
    _check_loss(loss)
    device = torch.device(device) if device is not None else next(gen_model.parameters()).device
    gen_model.zero_grad(set_to_none=True)
    input_z = create_noise(batch_size, z_size, mode_z, device=device)
    g_output = gen_model(input_z)
    # D's weights are fixed in this step: no gradient for them, only through them to G.
    disc_model.requires_grad_(False)
    try:
        d_logit_fake = _score_model(disc_model)(g_output)
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


ARCHITECTURES = {
    # name: (default z_size, default loss, Adam lr, Adam betas, default n_critic)
    "mlp": (20, "bce", 1e-3, (0.9, 0.999), 1),  # the lecture (Adam's defaults)
    "dcgan": (100, "bce", 2e-4, (0.5, 0.999), 1),  # Radford et al. (2016)
    "wgan-gp": (100, "wgan-gp", 1e-4, (0.5, 0.9), 5),  # Gulrajani et al. (2017)
}


def gan_config(
    z_size: int | None = None,
    mode_z: str = "uniform",
    gen_hidden_layers: int = 1,
    gen_hidden_size: int = 100,
    disc_hidden_layers: int = 1,
    disc_hidden_size: int = 100,
    architecture: str = "mlp",
    n_filters: int = 32,
    loss: str | None = None,
) -> dict[str, Any]:
    """The hyperparameters as one dict (stored in checkpoints to rebuild the models).

    ``architecture="mlp"`` (default) is the lecture's GAN; ``"dcgan"`` and ``"wgan-gp"`` are the
    convolutional networks of ``course_utils.dcgan``. Unset ``z_size`` and ``loss`` take the
    architecture's defaults (20 and BCE for the lecture's MLP; 100 for the convolutional ones).
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {architecture!r}")
    if mode_z not in MODES_Z:
        raise ValueError(f"mode_z must be 'uniform' or 'normal', got {mode_z!r}")
    default_z, default_loss, lr, betas, n_critic = ARCHITECTURES[architecture]
    loss = loss or default_loss
    _check_loss(loss)
    if (loss == "wgan-gp") != (architecture == "wgan-gp"):
        raise ValueError("the WGAN-GP loss goes with the 'wgan-gp' critic (no sigmoid), and only with it")
    return {
        "architecture": architecture,
        "z_size": z_size or default_z,
        "mode_z": mode_z,
        "image_size": list(IMAGE_SIZE),
        "gen_hidden_layers": gen_hidden_layers,
        "gen_hidden_size": gen_hidden_size,
        "disc_hidden_layers": disc_hidden_layers,
        "disc_hidden_size": disc_hidden_size,
        "n_filters": n_filters,
        "loss": loss,
        "lr": lr,
        "betas": list(betas),
        "n_critic": n_critic,
    }


def build_gan(config: dict[str, Any], device: DeviceLike = None) -> tuple[nn.Sequential, nn.Sequential]:
    """Build the generator and discriminator (or critic) described by a ``gan_config`` dict."""
    from .dcgan import make_dcgan_discriminator, make_dcgan_generator, make_wgan_critic

    device = get_device(device) if not isinstance(device, torch.device) else device
    architecture = config.get("architecture", "mlp")
    n_pixels = config["image_size"][0] * config["image_size"][1]
    if architecture == "mlp":
        gen_model = make_generator_network(
            input_size=config["z_size"],
            num_hidden_layers=config["gen_hidden_layers"],
            num_hidden_units=config["gen_hidden_size"],
            num_output_units=n_pixels,
        )
        disc_model = make_discriminator_network(
            input_size=n_pixels,
            num_hidden_layers=config["disc_hidden_layers"],
            num_hidden_units=config["disc_hidden_size"],
        )
    elif architecture == "dcgan":
        gen_model = make_dcgan_generator(config["z_size"], config["n_filters"])
        disc_model = make_dcgan_discriminator(config["n_filters"])
    elif architecture == "wgan-gp":
        gen_model = make_dcgan_generator(config["z_size"], config["n_filters"])
        disc_model = make_wgan_critic(config["n_filters"])
    else:
        raise ValueError(f"unknown architecture {architecture!r} in the configuration")
    return gen_model.to(device), disc_model.to(device)


def make_optimizers(
    gen_model: nn.Module,
    disc_model: nn.Module,
    lr: float = 1e-3,
    betas: tuple[float, float] | list[float] = (0.9, 0.999),
) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """The lecture's optimizers: Adam with its defaults (lr = 1e-3, betas = (0.9, 0.999)).

    Where the device supports it, Adam's fused kernel is used: the same update rule in one
    kernel per step instead of a Python loop over parameters (~10% faster training on a CPU).
    For the convolutional GANs pass the ``lr`` and ``betas`` of their ``gan_config``.
    """
    return _adam(gen_model, lr, betas), _adam(disc_model, lr, betas)


def _adam(model: nn.Module, lr: float, betas: Any) -> torch.optim.Adam:
    betas = tuple(betas)
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):  # older torch, or a device without the kernel
        return torch.optim.Adam(model.parameters(), lr=lr, betas=betas)


def train_gan(
    gen_model: nn.Sequential,
    disc_model: nn.Sequential,
    data: Any,
    num_epochs: int,
    batch_size: int = 64,
    z_size: int = 20,
    mode_z: str = "uniform",
    device: DeviceLike = None,
    g_optimizer: torch.optim.Optimizer | None = None,
    d_optimizer: torch.optim.Optimizer | None = None,
    sample_epochs: tuple[int, ...] | list[int] | None = (1, 2, 4, 10, 50, 100),
    num_samples: int | None = None,
    seed: int = 1,
    on_epoch_end: Callable[[int, nn.Module], dict[str, float] | None] | None = None,
    progress: bool = True,
    loss: str = "bce",
    n_critic: int = 1,
    gp_lambda: float = 10.0,
) -> dict[str, Any]:
    """Train the GAN for ``num_epochs`` as in the lecture: per batch one ``d_train`` then one ``g_train``.

    ``data`` is what ``load_mnist`` returns (or an ``(images, labels)`` pair, or an image
    tensor) with images in [-1, 1]. Batches are shuffled every epoch, the last incomplete batch
    is dropped (the lecture's ``drop_last=True``). Optimizers default to the lecture's Adam.

    ``loss`` chooses the game: ``"bce"`` (the lecture: BCE for D, non-saturating loss for G),
    ``"minimax"`` (BCE for D, G minimises log(1 - d(g(z))) as in the value function) or
    ``"wgan-gp"`` (a critic with gradient penalty ``gp_lambda``). The generator takes one step
    after every ``n_critic`` discriminator steps (1 in the lecture; 5 is usual for WGAN-GP).

    Returns a history dict:

    * ``epoch``, ``g_loss``, ``d_loss``, ``d_real``, ``d_fake``, ``seconds``: one entry per epoch,
      the means over the epoch's batches of the losses and of d(x) and d(g(z));
    * ``sample_epochs`` and ``samples``: images (in [0, 1], shape (k, n, 28, 28)) generated from
      one fixed noise batch ``fixed_z`` after each epoch listed in ``sample_epochs`` (and the
      last epoch), as in the lecture's ``create_samples``;
    * ``images_per_second``: training throughput over all epochs;
    * whatever ``on_epoch_end(epoch, gen_model)`` returns, one entry per epoch per key.
    """
    if mode_z not in MODES_Z:
        raise ValueError(f"mode_z must be 'uniform' or 'normal', got {mode_z!r}")
    _check_loss(loss)
    if n_critic < 1:
        raise ValueError(f"n_critic must be at least 1, got {n_critic}")
    if num_epochs < 1:
        raise ValueError(f"num_epochs must be at least 1, got {num_epochs}")
    device = get_device(device) if device is None or not isinstance(device, torch.device) else device
    images, _ = split_of(data)
    n_pixels = _check_images(images, gen_model, disc_model, z_size)
    if batch_size < 1 or batch_size > len(images):
        raise ValueError(
            f"batch_size must be between 1 and the number of images ({len(images)}), got {batch_size}"
        )
    gen_model.to(device).train()
    disc_model.to(device).train()
    if g_optimizer is None or d_optimizer is None:
        default_g, default_d = make_optimizers(gen_model, disc_model)
        g_optimizer = g_optimizer or default_g
        d_optimizer = d_optimizer or default_d

    x_all = images.reshape(len(images), n_pixels).to(device, torch.float32)
    n_batches = len(x_all) // batch_size  # drop_last=True, as in the lecture
    if n_batches < n_critic:
        raise ValueError(
            f"With {n_batches} batches per epoch and n_critic={n_critic} the generator would never "
            "take a step: use more images, a smaller batch_size or a smaller n_critic."
        )
    torch.manual_seed(seed)
    fixed_z = create_noise(num_samples or batch_size, z_size, mode_z).to(device)
    wanted = {e for e in (sample_epochs or ()) if 1 <= e <= num_epochs} | {num_epochs}

    history: dict[str, Any] = {
        key: [] for key in ("epoch", "g_loss", "d_loss", "d_real", "d_fake", "seconds")
    }
    history.update(sample_epochs=[], samples=[], fixed_z=fixed_z.cpu(), mode_z=mode_z, z_size=z_size, loss=loss)
    bar = tqdm(range(1, num_epochs + 1), desc="GAN epochs", unit="epoch", disable=not progress)
    started = time.perf_counter()
    for epoch in bar:
        t0 = time.perf_counter()
        sums = torch.zeros(4, device=device)  # d_loss, g_loss, d(x), d(g(z)): summed on the device
        perm = torch.randperm(len(x_all), device=device)
        g_steps = 0
        for i in range(n_batches):
            x = x_all[perm[i * batch_size : (i + 1) * batch_size]]
            d_loss, d_proba_real, d_proba_fake = d_train(
                x, gen_model, disc_model, d_optimizer, z_size, mode_z, loss, gp_lambda
            )
            sums[0] += d_loss
            sums[2] += d_proba_real.mean()
            sums[3] += d_proba_fake.mean()
            if (i + 1) % n_critic == 0:
                sums[1] += g_train(batch_size, gen_model, disc_model, g_optimizer, z_size, mode_z,
                                   device, loss)
                g_steps += 1
        counts = torch.tensor([n_batches, max(g_steps, 1), n_batches, n_batches], device=device)
        means = (sums / counts).tolist()  # the epoch's one host sync
        history["epoch"].append(epoch)
        for key, value in zip(("d_loss", "g_loss", "d_real", "d_fake"), means):
            history[key].append(value)
        history["seconds"].append(time.perf_counter() - t0)
        if epoch in wanted:
            history["sample_epochs"].append(epoch)
            history["samples"].append(_samples(gen_model, fixed_z))
        if on_epoch_end is not None:
            for key, value in (on_epoch_end(epoch, gen_model) or {}).items():
                history.setdefault(key, []).append(value)
            gen_model.train()
        bar.set_postfix(G=f"{means[1]:.3f}", D=f"{means[0]:.3f}", Dx=f"{means[2]:.2f}", DGz=f"{means[3]:.2f}")
    total = time.perf_counter() - started
    history["samples"] = torch.stack(history["samples"])
    history["images_per_second"] = n_batches * batch_size * num_epochs / total
    return history


def fit_gan(
    config: dict[str, Any],
    data: Any,
    num_epochs: int,
    device: DeviceLike = None,
    seed: int = 1,
    **train_kwargs: Any,
) -> tuple[nn.Sequential, nn.Sequential, dict[str, Any]]:
    """Build the GAN of ``config`` (``gan_config``), give it the Adam of its architecture and train it.

    The short form of the lecture's build / optimizers / ``train_gan`` sequence for any
    architecture: loss, learning rate, betas and ``n_critic`` come from the config. Extra keyword
    arguments go to ``train_gan``. Returns ``(gen_model, disc_model, history)``.
    """
    device = get_device(device) if not isinstance(device, torch.device) else device
    torch.manual_seed(seed)
    gen_model, disc_model = build_gan(config, device)
    g_optimizer, d_optimizer = make_optimizers(gen_model, disc_model, config["lr"], config["betas"])
    history = train_gan(gen_model, disc_model, data, num_epochs, z_size=config["z_size"],
                        mode_z=config["mode_z"], device=device, seed=seed, g_optimizer=g_optimizer,
                        d_optimizer=d_optimizer, loss=config["loss"], n_critic=config["n_critic"],
                        **train_kwargs)
    return gen_model, disc_model, history


@torch.no_grad()
def _samples(gen_model: nn.Module, fixed_z: torch.Tensor) -> torch.Tensor:
    """The lecture's ``create_samples``: g(fixed_z) reshaped to images and mapped to [0, 1]."""
    was_training = gen_model.training
    gen_model.eval()
    images = gen_model(fixed_z).reshape(len(fixed_z), *IMAGE_SIZE)
    gen_model.train(was_training)
    return ((images + 1) / 2).cpu()


@torch.no_grad()
def sample_gan(
    gen_model: nn.Module,
    n: int,
    z_size: int = 20,
    mode_z: str = "uniform",
    device: DeviceLike = None,
    seed: int | None = 0,
) -> torch.Tensor:
    """Draw ``n`` images from a trained generator: shape ``(n, 28, 28)``, values in [0, 1], on the CPU."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    device = get_device(device) if device is None or not isinstance(device, torch.device) else device
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    z = create_noise(n, z_size, mode_z, generator=generator).to(device)
    return _samples(gen_model.to(device), z)


def _check_images(images: torch.Tensor, gen_model: nn.Module, disc_model: nn.Module, z_size: int) -> int:
    if not isinstance(images, torch.Tensor) or images.ndim < 2 or not images.is_floating_point():
        raise ValueError(
            "Expected a float image tensor of shape (N, 1, 28, 28) or (N, 784), as load_mnist returns; "
            f"got {getattr(images, 'shape', type(images).__name__)}"
        )
    n_pixels = images[0].numel()
    first_gen, first_disc = _first_linear(gen_model), _first_linear(disc_model)
    expected_z = first_gen.in_features if first_gen is not None else _first_deconv_channels(gen_model)
    if expected_z is not None and expected_z != z_size:
        raise ValueError(f"z_size={z_size} but the generator expects noise of size {expected_z}")
    if first_disc is not None and first_disc.in_features != n_pixels:
        raise ValueError(
            f"The images have {n_pixels} pixels each (shape {tuple(images.shape[1:])}) but the "
            f"discriminator expects {first_disc.in_features}."
        )
    lo, hi = float(images.min()), float(images.max())
    if lo < -1.0001 or hi > 1.0001:
        raise ValueError(
            f"Images should be in [-1, 1] (the generator ends in tanh), found [{lo:.3g}, {hi:.3g}]. "
            "load_mnist returns them in that range."
        )
    return n_pixels


def _check_loss(loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")


def _score_model(disc_model: nn.Module) -> nn.Module:
    """The discriminator's logits (its final Sigmoid dropped), or a critic's scores as they are."""
    if isinstance(disc_model, nn.Sequential) and isinstance(disc_model[-1], nn.Sigmoid):
        return disc_model[:-1]
    return disc_model


def _first_linear(model: nn.Module) -> nn.Linear | None:
    return next((m for m in model.modules() if isinstance(m, nn.Linear)), None)


def _first_deconv_channels(model: nn.Module) -> int | None:
    """The noise size a DCGAN generator expects: the input channels of its first transposed conv."""
    first = next((m for m in model.modules() if isinstance(m, nn.ConvTranspose2d)), None)
    return first.in_channels if first is not None else None


def save_gan(
    path: Any, gen_model: nn.Module, disc_model: nn.Module, config: dict[str, Any],
    history: dict[str, Any] | None = None,
) -> Any:
    """Save both networks, their ``gan_config`` and the training history (kind ``"gan"``)."""
    return save_checkpoint(path, "gan", {"gen_model": gen_model, "disc_model": disc_model},
                           config, history)


def load_gan(
    path: Any, device: DeviceLike = None
) -> tuple[nn.Sequential, nn.Sequential, dict[str, Any], dict[str, Any]]:
    """Load a checkpoint written by ``save_gan`` (``weights_only=True``).

    Returns ``(gen_model, disc_model, config, history)`` with the models on ``device`` in eval mode.
    """
    payload = load_checkpoint(path)
    if payload["kind"] != "gan":
        raise ValueError(f"{path} holds a {payload['kind']!r} model, not the lecture's GAN.")
    config = payload["config"]
    gen_model, disc_model = build_gan(config, device)
    gen_model.load_state_dict(payload["state_dicts"]["gen_model"])
    disc_model.load_state_dict(payload["state_dicts"]["disc_model"])
    return gen_model.eval(), disc_model.eval(), config, payload["history"]
