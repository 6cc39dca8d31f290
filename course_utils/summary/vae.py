"""The variational autoencoder (VAE): an MLP encoder q(h|x) and decoder
p(x|h) on MNIST (notebook 00).

Lecture summary section "Variational autoencoders". For every x and any q(h|x),

    log p(x) = ELBO(x) + KL(q(h|x) || p(h|x)),      ELBO(x) = E_q[log p(x|h)] - KL(q(h|x) || p(h)),

so ELBO <= log p(x) (the KL is >= 0). We maximise the ELBO, i.e. minimise the loss
``recon + kl`` (nats per image) with

* recon = -E_q[log p(x|h)], one sample h = mu + sigma * eps, eps ~ N(0, I) (reparameterisation:
  the randomness sits in eps, so gradients flow through mu and sigma), Bernoulli decoder on the
  pixel intensities in [0, 1]: -log p(x|h) = sum_pixels BCE(x, sigmoid(logits));
* kl = KL(N(mu, diag sigma^2) || N(0, I)) = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2).

Units: MNIST pixels are grey (intensities in [0, 1], not 0/1). On such targets the Bernoulli BCE is
a cross-entropy, not the log-density of a normalised distribution on [0, 1]
(int_0^1 lam^x (1 - lam)^(1 - x) dx < 1; the continuous Bernoulli of Loaiza-Ganem & Cunningham 2019
adds the normaliser), so the "nats" compare runs of this code but are not log p(x).

The identity itself is checked exactly on a linear-Gaussian latent model where p(x) and p(h|x) are
closed form (``linear_gaussian_log_evidence``,
``linear_gaussian_posterior``, ``linear_gaussian_elbo``).

Training returns a history (per-epoch recon, kl, loss, seconds); nothing here plots.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..device import DeviceLike, get_device, seeded_generator
from ..images import to_model_range
from ..progress import tqdm
from .divergences import kl_diag_normal_standard, kl_normal

__all__ = [
    "VAE", "VAEConfig", "vae_config", "build_vae", "reparameterize", "vae_loss_terms", "elbo_terms",
    "train_vae", "evaluate_loss", "sample_vae", "reconstruct", "encode_mean",
    "linear_gaussian_log_evidence", "linear_gaussian_posterior", "linear_gaussian_elbo",
]

N_PIXELS = 28 * 28


class VAE(nn.Module):
    """784 -> hidden -> (mu, log sigma^2) of size ``latent_dim``; latent -> hidden -> 784 logits."""

    def __init__(self, latent_dim: int = 20, hidden: int = 400) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(N_PIXELS, hidden), nn.ReLU())
        self.to_mu = nn.Linear(hidden, latent_dim)
        self.to_logvar = nn.Linear(hidden, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),
                                     nn.Linear(hidden, N_PIXELS))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(h|x) = N(mu(x), diag exp(logvar(x))): returns (mu, logvar)."""
        e = self.encoder(x)
        return self.to_mu(e), self.to_logvar(e)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits of p(x|h), shape (N, 784)."""
        return self.decoder(h)

    def forward(self, x: torch.Tensor, eps: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        mu, logvar = self.encode(x)
        h = reparameterize(mu, logvar, eps)
        return self.decode(h), mu, logvar


@dataclass(frozen=True)
class VAEConfig:
    """The VAE's sizes and its training recipe (stored in its checkpoint)."""

    latent_dim: int = 20
    hidden: int = 400
    lr: float = 1e-3
    epochs: int = field(default=30, metadata={"help": "training epochs"})
    batch_size: int = 128
    n_train: int | None = field(default=None, metadata={"help": "use only the first N training "
                                                        "images (default: all)"})

    def __post_init__(self) -> None:
        for name in ("latent_dim", "hidden", "epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")


def vae_config(latent_dim: int = 20, hidden: int = 400, lr: float = 1e-3,
               **training: Any) -> VAEConfig:
    """Everything needed to rebuild and retrain a VAE; ``training``: ``epochs``,
    ``batch_size``, ``n_train``."""
    return VAEConfig(latent_dim=latent_dim, hidden=hidden, lr=lr, **training)


def build_vae(config: VAEConfig, device: DeviceLike = None) -> VAE:
    """A fresh VAE of ``config`` on ``device``."""
    device = device if isinstance(device, torch.device) else get_device(device)
    model = VAE(config.latent_dim, config.hidden).to(device)
    model.config = config
    return model


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor,
                   eps: torch.Tensor | None = None) -> torch.Tensor:
    """h = mu + sigma * eps, sigma = exp(logvar / 2), eps ~ N(0, I) (drawn unless given)."""
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps


def _as_unit_images(x: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] (as ``load_mnist`` returns them) -> flat targets in [0, 1]."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError("images must be a float tensor of shape (N, 1, 28, 28) or (N, 784) in "
                         "[-1, 1]")
    if x[0].numel() != N_PIXELS:
        raise ValueError(f"the VAE takes 28x28 images; got {x[0].numel()} values per image")
    if float(x.min()) < -1.001 or float(x.max()) > 1.001:
        raise ValueError(f"images must lie in [-1, 1] (as load_mnist returns them), got "
                         f"[{float(x.min()):.3g}, {float(x.max()):.3g}]")
    return _unit_targets(x)


def _unit_targets(x: torch.Tensor) -> torch.Tensor:
    """(x + 1) / 2 as flat targets in [0, 1], unchecked (``_as_unit_images`` checks them, once)."""
    return ((x.reshape(len(x), N_PIXELS) + 1) / 2).clamp(0, 1)


def _loss_terms(model: VAE, target: torch.Tensor,
                eps: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(recon, kl) of flat ``target`` in [0, 1] with one reparameterised sample per image."""
    logits, mu, logvar = model(target, eps)
    return vae_loss_terms(target, logits, mu, logvar)


def vae_loss_terms(target: torch.Tensor, logits: torch.Tensor, mu: torch.Tensor,
                   logvar: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The two ELBO terms, averaged over the batch, in nats per image.

    recon = mean_n sum_pixels [-x log sigmoid(l) - (1 - x) log(1 - sigmoid(l))]  (-log p(x|h))
    kl    = mean_n KL(N(mu_n, diag exp(logvar_n)) || N(0, I))
    ``target`` (N, 784) in [0, 1], ``logits`` (N, 784). Loss = recon + kl = -ELBO.
    """
    recon = F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(dim=1).mean()
    kl = kl_diag_normal_standard(mu, logvar).mean()
    return recon, kl


def elbo_terms(model: VAE, images: torch.Tensor,
               eps: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(recon, kl) of ``images`` in [-1, 1] with one reparameterised sample per image."""
    return _loss_terms(model, _as_unit_images(images), eps)


def train_vae(
    model: VAE,
    images: torch.Tensor,
    config: VAEConfig,
    device: DeviceLike = None,
    seed: int = 1,
    test_images: torch.Tensor | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Minimise recon + kl with Adam: ``config.epochs`` epochs of ``config.batch_size`` images,
    learning rate ``config.lr``. ``images`` (N, 1, 28, 28) in [-1, 1].

    Returns the history: per-epoch lists ``recon``, ``kl``, ``loss`` (= -ELBO, nats per image,
    averaged over the epoch's batches), ``test_loss`` (if ``test_images``), ``seconds``; and
    ``images_per_second`` and ``train_seconds``.

    The images are checked and moved to ``device`` once; batches are drawn there by a generator
    seeded with ``seed`` and the epoch's sums stay there (one host sync per epoch).
    """
    if not isinstance(config, VAEConfig):
        raise TypeError("train_vae takes the run's VAEConfig (see vae_config), got "
                        f"{type(config).__name__}")
    epochs, batch_size, lr = config.epochs, config.batch_size, config.lr
    device = device if isinstance(device, torch.device) else get_device(device)
    data = to_model_range(_as_unit_images(images))  # validated once, kept flat
    targets = _unit_targets(data).to(device)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = seeded_generator(seed, device)
    history: dict[str, Any] = {"recon": [], "kl": [], "loss": [], "test_loss": [], "seconds": []}
    # eps of the reparameterisation comes from torch's global generator: seed a fork of it, so the
    # run is reproducible and the caller's random state is left as it was.
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for _ in tqdm(range(epochs), desc="VAE epochs", disable=not progress):
            start = time.perf_counter()
            sums = torch.zeros(2, device=device)
            batches = 0
            for idx in torch.randperm(len(data), generator=gen, device=device).split(batch_size):
                recon, kl = _loss_terms(model, targets[idx])
                opt.zero_grad()
                (recon + kl).backward()
                opt.step()
                sums += torch.stack([recon.detach(), kl.detach()])
                batches += 1
            history["seconds"].append(time.perf_counter() - start)
            recon_mean, kl_mean = (sums / batches).tolist()
            history["recon"].append(recon_mean)
            history["kl"].append(kl_mean)
            history["loss"].append(recon_mean + kl_mean)
            if test_images is not None:
                history["test_loss"].append(evaluate_loss(model, test_images, device))
    model.eval()
    history["train_seconds"] = sum(history["seconds"])
    history["images_per_second"] = epochs * len(data) / max(history["train_seconds"], 1e-9)
    return history


@torch.no_grad()
def evaluate_loss(model: VAE, images: torch.Tensor, device: DeviceLike = None,
                  seed: int = 0) -> float:
    """-ELBO (nats per image) of ``images`` in [-1, 1], one fixed-seed sample of eps per image."""
    device = device if isinstance(device, torch.device) else get_device(device)
    was_training = model.training
    model.eval()
    gen = seeded_generator(seed, device)
    targets = _as_unit_images(images).to(device)  # checked once, not per batch
    losses, sizes = [], []
    for batch in targets.split(500):
        eps = torch.randn(len(batch), model.latent_dim, generator=gen, device=device)
        recon, kl = _loss_terms(model, batch, eps)
        losses.append(recon + kl)
        sizes.append(len(batch))
    total = 0.0
    for loss, size in zip(torch.stack(losses).tolist(), sizes, strict=True):  # one host sync
        total += loss * size
    model.train(was_training)
    return total / len(images)


@torch.no_grad()
def sample_vae(model: VAE, n: int, device: DeviceLike = None, seed: int | None = 0) -> torch.Tensor:
    """Ancestral samples h ~ N(0, I), x = E[x|h] = sigmoid(decoder(h)), in the model range:
    (n, 1, 28, 28) in [-1, 1] on the CPU.

    We show the decoder's mean image, as is customary, rather than a Bernoulli draw of pixels.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    device = device if isinstance(device, torch.device) else get_device(device)
    model = model.to(device).eval()
    h = torch.randn(n, model.latent_dim, generator=seeded_generator(seed, device), device=device)
    return to_model_range(torch.sigmoid(model.decode(h))).reshape(n, 1, 28, 28).cpu()


@torch.no_grad()
def reconstruct(model: VAE, images: torch.Tensor) -> torch.Tensor:
    """sigmoid(decoder(mu(x))): the mean reconstruction, (N, 1, 28, 28) in [-1, 1] on the CPU."""
    device = next(model.parameters()).device
    mu, _ = model.eval().encode(_as_unit_images(images).to(device))
    return to_model_range(torch.sigmoid(model.decode(mu))).reshape(len(images), 1, 28, 28).cpu()


@torch.no_grad()
def encode_mean(model: VAE, images: torch.Tensor) -> torch.Tensor:
    """mu(x) of every image (N, latent_dim) on the CPU: where the encoder puts each digit."""
    device = next(model.parameters()).device
    model.eval()
    return torch.cat([model.encode(_as_unit_images(b).to(device))[0].cpu()
                      for b in images.split(1000)])


# --- a latent-variable model where everything is exact -------------------------------------
# h ~ N(0, 1),  x | h ~ N(w h + b, s^2)  (scalars or broadcastable tensors, float64).


def _linear_gaussian_args(*values: Any) -> list[torch.Tensor]:
    return [torch.as_tensor(v, dtype=torch.float64) for v in values]


def _check_std(name: str, value: torch.Tensor) -> None:
    if not bool((value > 0).all()):
        raise ValueError(f"{name} must be positive (a standard deviation), got {value.tolist()}")


def linear_gaussian_log_evidence(x: Any, w: Any, b: Any, s: Any) -> torch.Tensor:
    """log p(x) for h ~ N(0, 1), x | h ~ N(w h + b, s^2): p(x) = N(x; b,
    w^2 + s^2) (marginalising h)."""
    x, w, b, s = _linear_gaussian_args(x, w, b, s)
    _check_std("s", s)
    var = w**2 + s**2
    return -0.5 * (torch.log(2 * math.pi * var) + (x - b) ** 2 / var)


def linear_gaussian_posterior(x: Any, w: Any, b: Any, s: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """p(h | x) = N(w (x - b) / (w^2 + s^2), s^2 / (w^2 + s^2)) by
    Bayes' rule; returns (mean, std)."""
    x, w, b, s = _linear_gaussian_args(x, w, b, s)
    _check_std("s", s)
    var = w**2 + s**2
    return w * (x - b) / var, torch.sqrt(s**2 / var)


def linear_gaussian_elbo(x: Any, w: Any, b: Any, s: Any, q_mean: Any, q_std: Any) -> torch.Tensor:
    """ELBO(x) = E_q[log p(x|h)] - KL(q || p(h)) for q(h) = N(q_mean, q_std^2), in closed form:

    E_q[log N(x; w h + b, s^2)] = -1/2 log(2 pi s^2) - ((x - b - w q_mean)^2 + w^2 q_std^2) / (2
    s^2), KL(N(q_mean, q_std^2) || N(0, 1)) as in ``divergences.kl_normal``. Then log p(x) = ELBO +
    KL(q || p(h|x)) holds exactly, for any q.
    """
    x, w, b, s, q_mean, q_std = _linear_gaussian_args(x, w, b, s, q_mean, q_std)
    _check_std("s", s)
    _check_std("q_std", q_std)
    expected_log_lik = (-0.5 * torch.log(2 * math.pi * s**2)
                        - ((x - b - w * q_mean) ** 2 + w**2 * q_std**2) / (2 * s**2))
    return expected_log_lik - kl_normal(q_mean, q_std, 0.0, 1.0)
