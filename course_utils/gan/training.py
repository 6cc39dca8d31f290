"""Training the lecture's GAN: the configuration, the networks, Adam and the training loop.

``train_gan`` is the lecture's loop (per batch one ``d_train``, then one ``g_train``, see
``course_utils.gan.losses`` for the value function and the two losses) with differences that do
not change the maths:

* the whole dataset lives as one tensor on the device and batches are drawn by ``randperm``
  (the lecture runs PIL transforms on every image of every epoch);
* running means stay on the device; there is one host sync per epoch, not several per batch;
* the run draws its noise and batches from its own seeded generators and its dropout masks
  inside ``torch.random.fork_rng``, so it is reproducible from ``seed`` and leaves the caller's
  global random state untouched.

Images are in the model's range, [-1, 1] (the generator ends in tanh), shape (N, 1, 28, 28).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from ..data import split_of
from ..device import DeviceLike, get_device
from ..progress import tqdm
from .dcgan import (
    N_CLASSES,
    ConditionalDiscriminator,
    ConditionalGenerator,
    make_dcgan_discriminator,
    make_dcgan_generator,
    make_wgan_critic,
)
from .losses import (
    MODES_Z,
    _check_labels,
    _check_loss,
    _generate,
    create_noise,
    d_train,
    g_train,
    is_conditional,
)
from .networks import make_discriminator_network, make_generator_network

__all__ = [
    "ARCHITECTURES", "GANConfig", "GAN", "gan_config", "build_gan", "make_optimizers", "train_gan",
    "sample_gan",
]

IMAGE_SIZE = (28, 28)
LECTURE_SAMPLE_EPOCHS = (1, 2, 4, 10, 50, 100)

ARCHITECTURES = {
    # name: (default z_size, default loss, Adam lr, Adam betas, default n_critic)
    "mlp": (20, "bce", 1e-3, (0.9, 0.999), 1),  # the lecture (Adam's defaults)
    "dcgan": (100, "bce", 2e-4, (0.5, 0.999), 1),  # Radford et al. (2016)
    # the DCGAN told the digit (Mirza & Osindero 2014)
    "cdcgan": (100, "bce", 2e-4, (0.5, 0.999), 1),
    # Gulrajani et al. (2017): n_critic = 5; Adam (1e-4, (0.5, 0.9)) as in their published
    # MNIST code (their Algorithm 1 has beta_1 = 0). The shipped checkpoints were trained so.
    "wgan-gp": (100, "wgan-gp", 1e-4, (0.5, 0.9), 5),
}


Architecture = Literal["mlp", "dcgan", "cdcgan", "wgan-gp"]
ModeZ = Literal["uniform", "normal"]
Loss = Literal["bce", "minimax", "wgan-gp"]


@dataclass(frozen=True)
class GANConfig:
    """Everything that defines a GAN run: its networks, its game, its data and its training budget.

    Build one with ``gan_config(...)``, which fills in the architecture's defaults. Stored (as a
    plain dict) in every checkpoint, so a checkpoint says exactly how it was made. The budget is
    ``epochs`` over the first ``n_train`` digits, or ``train_images`` images seen whatever the
    number of digits (then ``epochs`` is None and ``epochs_for(n)`` rounds the budget to whole
    epochs: the same run time with 4,000 or 60,000 digits). ``sample_epochs``: after which epochs
    the fixed-noise samples are kept (None: the first, a quarter, half and the last).
    ``architecture="cdcgan"`` is the conditional DCGAN: it trains on the labels too and draws the
    digits 0-9 in turn (``conditional``).
    """

    architecture: Architecture = "mlp"
    z_size: int = field(default=20,
                        metadata={"help": "noise size (the architecture's default: 20 for "
                                                      "the lecture's MLP, 100 for the DCGANs)"})
    mode_z: ModeZ = field(default="uniform", metadata={"help": "noise distribution p_z"})
    image_size: tuple[int, int] = IMAGE_SIZE
    gen_hidden_layers: int = 1
    gen_hidden_size: int = 100
    disc_hidden_layers: int = 1
    disc_hidden_size: int = 100
    n_filters: int = field(default=32, metadata={"help": "filters of the convolutional networks"})
    loss: Loss = "bce"
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    n_critic: int = 1
    gp_lambda: float = 10.0
    epochs: int | None = field(default=100, metadata={"help": "training epochs"})
    train_images: int | None = field(default=None, metadata={
        "help": "budget in images seen instead of epochs (epochs = train_images / digits, "
                "rounded)"})
    batch_size: int = field(default=64, metadata={"help": "images per batch"})
    n_train: int | None = field(default=None,
                                metadata={"help": "use only the first N training digits "
                                                                "(default: all)"})
    sample_epochs: tuple[int, ...] | None = LECTURE_SAMPLE_EPOCHS

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, "
                             f"got {self.architecture!r}")
        if self.mode_z not in MODES_Z:
            raise ValueError(f"mode_z must be 'uniform' or 'normal', got {self.mode_z!r}")
        _check_loss(self.loss)
        if (self.loss == "wgan-gp") != (self.architecture == "wgan-gp"):
            raise ValueError("the WGAN-GP loss goes with the 'wgan-gp' critic (no sigmoid), and "
                             "only with it")
        if (self.epochs is None) == (self.train_images is None):
            raise ValueError("give the budget as epochs or as train_images, exactly one of them")
        for name in ("z_size", "epochs", "train_images", "batch_size", "n_critic", "n_filters",
                     "n_train"):
            value = getattr(self, name)
            if value is None and name in ("epochs", "train_images", "n_train"):
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive whole number, got {value!r}")

    @property
    def conditional(self) -> bool:
        """Whether both players take the digit y (the conditional DCGAN)."""
        return self.architecture == "cdcgan"

    def epochs_for(self, n_images: int) -> int:
        """The number of epochs this budget makes on ``n_images`` training digits."""
        if self.epochs is not None:
            return self.epochs
        return max(1, round(self.train_images / n_images))

    def snapshot_epochs(self, epochs: int) -> tuple[int, ...]:
        """The epochs after which ``train_gan`` keeps the fixed-noise samples (the last always)."""
        wanted = (self.sample_epochs if self.sample_epochs is not None
                  else (1, max(1, epochs // 4), max(1, epochs // 2)))
        return tuple(sorted({e for e in wanted if 1 <= e <= epochs} | {epochs}))


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
    **training: Any,
) -> GANConfig:
    """The lecture's hyperparameters (``architecture="mlp"``) or those of a convolutional GAN.

    ``"dcgan"``, ``"cdcgan"`` (conditional) and ``"wgan-gp"`` are the networks of
    ``course_utils.gan.dcgan``. Unset ``z_size`` and ``loss`` take the architecture's defaults
    (20 and BCE for the lecture's MLP; 100 for the convolutional ones), and so do Adam's
    learning rate and betas and ``n_critic``. ``training`` sets the budget fields of
    ``GANConfig`` (``epochs`` or ``train_images``, ``batch_size``, ``n_train``, ...).
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got "
                         f"{architecture!r}")
    default_z, default_loss, lr, betas, n_critic = ARCHITECTURES[architecture]
    defaults: dict[str, Any] = {"lr": lr, "betas": betas, "n_critic": n_critic}
    if training.get("train_images") is not None and "epochs" not in training:
        defaults["epochs"] = None  # a budget in images seen replaces the epochs
    defaults.update(training)
    return GANConfig(architecture=architecture, z_size=z_size or default_z, mode_z=mode_z,
                     gen_hidden_layers=gen_hidden_layers, gen_hidden_size=gen_hidden_size,
                     disc_hidden_layers=disc_hidden_layers, disc_hidden_size=disc_hidden_size,
                     n_filters=n_filters, loss=loss or default_loss, **defaults)


class GAN(nn.Module):
    """The two players in one module, so that they are saved, loaded and moved together.

    ``gen_model, disc_model = gan`` unpacks it, as the lecture's code holds the two networks.
    """

    def __init__(self, gen_model: nn.Module, disc_model: nn.Module,
                 config: GANConfig | None = None) -> None:
        super().__init__()
        self.gen_model = gen_model
        self.disc_model = disc_model
        self.config = config

    def __iter__(self) -> Iterator[nn.Module]:
        return iter((self.gen_model, self.disc_model))


def build_gan(config: GANConfig, device: DeviceLike = None) -> GAN:
    """Build the generator and discriminator (or critic) that
    ``config`` describes, on ``device``."""
    if not isinstance(config, GANConfig):
        raise TypeError("build_gan takes a GANConfig (see gan_config), got "
                        f"{type(config).__name__}")
    device = get_device(device) if not isinstance(device, torch.device) else device
    n_pixels = config.image_size[0] * config.image_size[1]
    if config.architecture == "mlp":
        gen_model = make_generator_network(
            input_size=config.z_size,
            num_hidden_layers=config.gen_hidden_layers,
            num_hidden_units=config.gen_hidden_size,
            num_output_units=n_pixels,
        )
        disc_model = make_discriminator_network(
            input_size=n_pixels,
            num_hidden_layers=config.disc_hidden_layers,
            num_hidden_units=config.disc_hidden_size,
        )
    elif config.architecture == "dcgan":
        gen_model = make_dcgan_generator(config.z_size, config.n_filters)
        disc_model = make_dcgan_discriminator(config.n_filters)
    elif config.architecture == "cdcgan":
        gen_model = ConditionalGenerator(config.z_size, config.n_filters, N_CLASSES)
        disc_model = ConditionalDiscriminator(config.n_filters, N_CLASSES)
    else:
        gen_model = make_dcgan_generator(config.z_size, config.n_filters)
        disc_model = make_wgan_critic(config.n_filters)
    return GAN(gen_model, disc_model, config).to(device)


def make_optimizers(
    gen_model: nn.Module,
    disc_model: nn.Module,
    lr: float = 1e-3,
    betas: tuple[float, float] | list[float] = (0.9, 0.999),
) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """The lecture's optimizers: Adam with its defaults (lr = 1e-3, betas = (0.9, 0.999)).

    Where the device supports it, Adam's fused kernel is used: the same update rule in one
    kernel per step instead of a Python loop over parameters (~10% faster training on a CPU).
    For the convolutional GANs pass the ``lr`` and ``betas`` of their ``GANConfig``.
    """
    return _adam(gen_model, lr, betas), _adam(disc_model, lr, betas)


def _adam(model: nn.Module, lr: float, betas: Any) -> torch.optim.Adam:
    betas = tuple(betas)
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):  # older torch, or a device without the kernel
        return torch.optim.Adam(model.parameters(), lr=lr, betas=betas)


def train_gan(
    gen_model: nn.Module,
    disc_model: nn.Module,
    data: Any,
    config: GANConfig,
    device: DeviceLike = None,
    g_optimizer: torch.optim.Optimizer | None = None,
    d_optimizer: torch.optim.Optimizer | None = None,
    seed: int = 1,
    on_epoch_end: Callable[[int, nn.Module], dict[str, float] | None] | None = None,
    progress: bool = True,
    num_samples: int | None = None,
) -> dict[str, Any]:
    """Train the GAN as in the lecture: per batch one ``d_train`` then one ``g_train``.

    ``config`` is the run's recipe, read field by field: the budget (``epochs``, or
    ``train_images`` images seen), ``batch_size``, the noise (``z_size``, ``mode_z``), the game
    (``loss``: ``"bce"`` is the lecture's BCE for D and non-saturating loss for G, ``"minimax"``
    lets G minimise log(1 - d(g(z))) as in the value function, ``"wgan-gp"`` a critic with gradient
    penalty ``gp_lambda``), ``n_critic`` (the generator steps after every ``n_critic``-th
    discriminator step: 1 in the lecture, 5 for WGAN-GP) and ``sample_epochs``. The optimizers
    default to Adam with the config's ``lr`` and ``betas`` (``make_optimizers``).

    ``data`` is what ``load_mnist`` returns (or an ``(images, labels)`` pair, or an image tensor)
    with images in [-1, 1]. Batches are shuffled every epoch, the last incomplete batch is dropped
    (the lecture's ``drop_last=True``). A conditional GAN (``ConditionalGenerator``) trains on the
    labels too: both steps get the batch's digits ``y`` (``course_utils.gan.losses``).

    Returns a history dict:

    * ``epoch``, ``g_loss``, ``d_loss``, ``d_real``, ``d_fake``, ``seconds``: one entry per epoch,
      the means over the epoch's batches of the losses and of d(x) and d(g(z));
    * ``sample_epochs`` and ``samples``: images (in [-1, 1], shape (k, n, 1, 28, 28)) generated
      from one fixed noise batch ``fixed_z`` (``num_samples`` of them, default one batch) after the
      epochs of ``config.snapshot_epochs``, as in the lecture's ``create_samples`` (conditional:
      the digits ``fixed_y`` = 0, 1, ..., 9, 0, 1, ...);
    * ``images_per_second``: training throughput over all epochs;
    * whatever ``on_epoch_end(epoch, gen_model)`` returns, one entry per epoch per key.
    """
    if not isinstance(config, GANConfig):
        raise TypeError("train_gan takes the run's GANConfig (see gan_config), got "
                        f"{type(config).__name__}")
    if device is None or not isinstance(device, torch.device):
        device = get_device(device)
    x_all, y_all = _training_tensor(data, gen_model, disc_model, config, device)
    num_epochs = config.epochs_for(len(x_all))
    gen_model.to(device).train()
    disc_model.to(device).train()
    if g_optimizer is None or d_optimizer is None:
        default_g, default_d = make_optimizers(gen_model, disc_model, config.lr, config.betas)
        g_optimizer = g_optimizer or default_g
        d_optimizer = d_optimizer or default_d
    # The run's own random streams: noise and batches from ``generator``; dropout (which takes no
    # generator) from the forked global state, restored when the run ends.
    generator = torch.Generator(device=device).manual_seed(seed)
    fixed_z = create_noise(num_samples or config.batch_size, config.z_size, config.mode_z, device,
                           generator)
    fixed_y = _digits_in_turn(gen_model, len(fixed_z), device)
    wanted = set(config.snapshot_epochs(num_epochs))
    history = _new_history(fixed_z, config)
    if fixed_y is not None:
        history["fixed_y"] = fixed_y.cpu()
    players = (gen_model, disc_model)
    optimizers = (g_optimizer, d_optimizer)
    bar = tqdm(range(1, num_epochs + 1), desc="GAN epochs", unit="epoch", disable=not progress)
    started = time.perf_counter()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for epoch in bar:
            t0 = time.perf_counter()
            means = _train_epoch(x_all, y_all, players, optimizers, config, generator)
            _record_epoch(history, epoch, means, time.perf_counter() - t0)
            if epoch in wanted:
                history["sample_epochs"].append(epoch)
                history["samples"].append(_samples(gen_model, fixed_z, fixed_y))
            if on_epoch_end is not None:
                for key, value in (on_epoch_end(epoch, gen_model) or {}).items():
                    history.setdefault(key, []).append(value)
                gen_model.train()
            bar.set_postfix(G=f"{means[1]:.3f}", D=f"{means[0]:.3f}", Dx=f"{means[2]:.2f}",
                            DGz=f"{means[3]:.2f}")
    total = time.perf_counter() - started
    history["samples"] = torch.stack(history["samples"])
    history["images_per_second"] = ((len(x_all) // config.batch_size) * config.batch_size
                                     * num_epochs / total)
    return history


def _training_tensor(data: Any, gen_model: nn.Module, disc_model: nn.Module, config: GANConfig,
                     device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The training images as one flat float tensor on the device, checked against the networks
    and the config, and for a conditional GAN their labels (else ``None``)."""
    images, labels = split_of(data)
    batch_size, n_critic = config.batch_size, config.n_critic
    n_pixels = _check_images(images, gen_model, disc_model, config.z_size)
    if batch_size < 1 or batch_size > len(images):
        raise ValueError(
            f"batch_size must be between 1 and the number of images ({len(images)}), got "
            f"{batch_size}"
        )
    n_batches = len(images) // batch_size  # drop_last=True, as in the lecture
    if n_batches < n_critic:
        raise ValueError(
            f"With {n_batches} batches per epoch and n_critic={n_critic} the generator would never "
            "take a step: use more images, a smaller batch_size or a smaller n_critic."
        )
    x_all = images.reshape(len(images), n_pixels).to(device, torch.float32)
    if not is_conditional(gen_model):
        return x_all, None
    if labels is None:
        raise ValueError("A conditional GAN trains on labelled digits: pass what load_mnist "
                         "returns, or an (images, labels) pair, not bare images.")
    return x_all, _checked_digits(labels, len(images), gen_model.n_classes).to(device)


def _checked_digits(y: Any, n: int, n_classes: int) -> torch.Tensor:
    """``y`` as int64 digits 0..n_classes-1, one per image (checked once per run, not per step)."""
    y = torch.as_tensor(y)
    if y.ndim != 1 or len(y) != n or y.is_floating_point() or y.dtype == torch.bool:
        raise ValueError(f"Expected {n} integer labels, one per image; got {y.dtype} of shape "
                         f"{tuple(y.shape)}")
    if n and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise ValueError(f"Labels must be digits 0-{n_classes - 1}, found "
                         f"{int(y.min())}..{int(y.max())}")
    return y.long()


def _digits_in_turn(gen_model: nn.Module, n: int, device: torch.device) -> torch.Tensor | None:
    """0, 1, ..., 9, 0, 1, ... (n of them) for a conditional generator, ``None`` otherwise."""
    if not is_conditional(gen_model):
        return None
    return torch.arange(n, device=device) % gen_model.n_classes


def _new_history(fixed_z: torch.Tensor, config: GANConfig) -> dict[str, Any]:
    history: dict[str, Any] = {key: [] for key in ("epoch", "g_loss", "d_loss", "d_real", "d_fake",
                                                   "seconds")}
    history.update(sample_epochs=[], samples=[], fixed_z=fixed_z.cpu(), mode_z=config.mode_z,
                   z_size=config.z_size, loss=config.loss)
    return history


def _train_epoch(x_all: torch.Tensor, y_all: torch.Tensor | None,
                 players: tuple[nn.Module, nn.Module],
                 optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer], config: GANConfig,
                 generator: torch.Generator) -> list[float]:
    """One pass over the shuffled data: ``d_train`` on every batch, ``g_train`` after every
    ``n_critic``-th. Returns the epoch's means of L_D, L_G, d(x) and d(g(z))."""
    gen_model, disc_model = players
    g_optimizer, d_optimizer = optimizers
    batch_size, z_size, mode_z, loss = config.batch_size, config.z_size, config.mode_z, config.loss
    device = x_all.device
    n_batches = len(x_all) // batch_size
    sums = torch.zeros(4, device=device)  # d_loss, g_loss, d(x), d(g(z)): summed on the device
    perm = torch.randperm(len(x_all), device=device, generator=generator)
    g_steps = 0
    for i in range(n_batches):
        batch = perm[i * batch_size : (i + 1) * batch_size]
        x = x_all[batch]
        y = y_all[batch] if y_all is not None else None  # a conditional GAN's digits
        d_loss, d_proba_real, d_proba_fake = d_train(
            x, gen_model, disc_model, d_optimizer, z_size, mode_z, loss, config.gp_lambda,
            generator, y
        )
        sums[0] += d_loss
        sums[2] += d_proba_real.mean()
        sums[3] += d_proba_fake.mean()
        if (i + 1) % config.n_critic == 0:
            sums[1] += g_train(batch_size, gen_model, disc_model, g_optimizer, z_size, mode_z,
                               device, loss, generator, y)
            g_steps += 1
    counts = torch.tensor([n_batches, max(g_steps, 1), n_batches, n_batches], device=device)
    return (sums / counts).tolist()  # the epoch's one host sync


def _record_epoch(history: dict[str, Any], epoch: int, means: list[float], seconds: float) -> None:
    history["epoch"].append(epoch)
    for key, value in zip(("d_loss", "g_loss", "d_real", "d_fake"), means, strict=True):
        history[key].append(value)
    history["seconds"].append(seconds)


@torch.no_grad()
def _samples(gen_model: nn.Module, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """The lecture's ``create_samples``: g(z) (or g(z, y)) reshaped to images (N, 1, 28, 28), in
    [-1, 1], on the CPU."""
    was_training = gen_model.training
    gen_model.eval()
    images = _generate(gen_model, z, y).reshape(len(z), 1, *IMAGE_SIZE)
    gen_model.train(was_training)
    return images.cpu()


@torch.no_grad()
def sample_gan(
    gen_model: nn.Module,
    n: int,
    z_size: int = 20,
    mode_z: str = "uniform",
    device: DeviceLike = None,
    seed: int | None = 0,
    y: Any = None,
) -> torch.Tensor:
    """Draw ``n`` images g(z), z ~ p_z, from a trained generator: (n, 1,
    28, 28) in [-1, 1], on the CPU.

    A conditional generator draws g(z, y) for the digits ``y`` (``n`` of them), by default the
    digits 0-9 in turn: with p(y) uniform, a sample of p(x) = sum_y p(y) p(x | y).
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if device is None or not isinstance(device, torch.device):
        device = get_device(device)
    generator = torch.Generator(device=device).manual_seed(seed) if seed is not None else None
    z = create_noise(n, z_size, mode_z, device, generator)
    if y is None:
        y = _digits_in_turn(gen_model, n, device)  # None for an unconditional generator
    else:
        _check_labels(gen_model, y, "generator")  # an unconditional one takes no y
        y = _checked_digits(y, n, gen_model.n_classes).to(device)
    return _samples(gen_model.to(device), z, y)


def _check_images(images: torch.Tensor, gen_model: nn.Module, disc_model: nn.Module,
                  z_size: int) -> int:
    if not isinstance(images, torch.Tensor) or images.ndim < 2 or not images.is_floating_point():
        raise ValueError(
            "Expected a float image tensor of shape (N, 1, 28, 28) or (N, 784), as load_mnist "
            f"returns; got {getattr(images, 'shape', type(images).__name__)}"
        )
    n_pixels = images[0].numel()
    first_gen, first_disc = _first_linear(gen_model), _first_linear(disc_model)
    expected_z = (first_gen.in_features if first_gen is not None
                  else _first_deconv_channels(gen_model))
    if expected_z is not None and is_conditional(gen_model):
        expected_z -= gen_model.n_classes  # its input is [z, onehot(y)]
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
            f"Images should be in [-1, 1] (the generator ends in tanh), found [{lo:.3g}, "
            f"{hi:.3g}]. load_mnist returns them in that range."
        )
    return n_pixels


def _first_linear(model: nn.Module) -> nn.Linear | None:
    return next((m for m in model.modules() if isinstance(m, nn.Linear)), None)


def _first_deconv_channels(model: nn.Module) -> int | None:
    """The noise size a DCGAN generator expects: the input channels of its first transposed conv."""
    first = next((m for m in model.modules() if isinstance(m, nn.ConvTranspose2d)), None)
    return first.in_channels if first is not None else None

