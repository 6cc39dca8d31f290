"""The lecture's figures, drawn from a training history (plotting never trains).

Every function returns the ``matplotlib`` Figure so that a notebook can show it and a script can
save it (``fig.savefig(...)``).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

__all__ = ["plot_gan_history", "plot_epoch_samples", "show_images"]


def plot_gan_history(history: dict[str, Any], figsize: tuple[float, float] = (14, 5)) -> Figure:
    """The lecture's two panels: the losses, and the discriminator's mean outputs per epoch.

    Left: generator loss -log d(g(z)) and the discriminator loss *halved* (the lecture plots
    L_D / 2, the mean of its real and fake terms, so that both curves share a scale). At the
    game's equilibrium d = 1/2 everywhere, so L_D / 2 -> log 2 and L_G -> log 2 (dotted line).
    Right: mean d(x) on real images and mean d(g(z)) on generated ones; both tend to 1/2 when
    the discriminator can no longer tell them apart.
    """
    _require(history, "epoch", "g_loss", "d_loss", "d_real", "d_fake")
    epochs = history["epoch"]
    fig, (ax_loss, ax_d) = plt.subplots(1, 2, figsize=figsize)
    # a critic's scores are not probabilities: no 1/2, no log 2
    critic = history.get("loss") == "wgan-gp"
    if critic:
        ax_loss.plot(epochs, history["g_loss"], label=r"Generator loss $-E f(G(z))$")
        ax_loss.plot(epochs, history["d_loss"], label="Critic loss (with gradient penalty)")
    else:
        ax_loss.plot(epochs, history["g_loss"], label="Generator loss")
        ax_loss.plot(epochs, [d / 2 for d in history["d_loss"]], label="Discriminator loss / 2")
        ax_loss.axhline(torch.log(torch.tensor(2.0)).item(), ls=":", c="grey", label=r"$\log 2$")
    d = "f" if critic else "D"
    ax_d.plot(epochs, history["d_real"], label=rf"Real: ${d}(\mathbf{{x}})$")
    ax_d.plot(epochs, history["d_fake"], label=rf"Fake: ${d}(G(\mathbf{{z}}))$")
    if not critic:
        ax_d.axhline(0.5, ls=":", c="grey", label="1/2")
        ax_d.set_ylim(0, 1)
    for ax, ylabel in ((ax_loss, "Loss"),
                       (ax_d, "Critic score" if critic else "Discriminator output")):
        ax.set_xlabel("Epoch")
        ax.set_ylabel(ylabel)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_epoch_samples(
    history: dict[str, Any],
    epochs: Sequence[int] | None = None,
    n_per_epoch: int = 5,
) -> Figure:
    """The lecture's grid: one row per selected epoch, ``n_per_epoch`` images from the fixed noise.

    ``epochs`` defaults to every epoch whose samples the history kept (the lecture's 1, 2, 4, 10,
    50, 100 in the ``full`` profile). The same noise vectors give every row, so a column shows
    how one ``z`` is turned into a digit as training goes on. ``n_per_epoch`` can be at most the
    number of samples kept per epoch (a ``ValueError`` says how many there are).
    """
    _require(history, "sample_epochs", "samples")
    kept = list(history["sample_epochs"])
    epochs = kept if epochs is None else list(epochs)
    missing = [e for e in epochs if e not in kept]
    if missing:
        raise ValueError(f"No samples were kept for epoch(s) {missing}; the history has {kept}.")
    samples = history["samples"]
    if not epochs:
        raise ValueError(f"No epochs to plot: pass some of {kept}, or epochs=None for all of them.")
    available = min(len(samples[kept.index(e)]) for e in epochs)
    if isinstance(n_per_epoch, bool) or not isinstance(n_per_epoch, int) or n_per_epoch < 1:
        raise ValueError(f"n_per_epoch must be a positive whole number, got {n_per_epoch!r}")
    if n_per_epoch > available:
        raise ValueError(
            f"n_per_epoch={n_per_epoch}, but the history kept only {available} samples per epoch: "
            f"pass n_per_epoch <= {available} (train_gan keeps one sample per fixed noise vector)."
        )
    fig, axes = plt.subplots(len(epochs), n_per_epoch,
                             figsize=(1.6 * n_per_epoch, 1.7 * len(epochs)), squeeze=False)
    for row, epoch in zip(axes, epochs, strict=True):
        images = samples[kept.index(epoch)]
        for j, ax in enumerate(row):
            ax.imshow(torch.as_tensor(images[j]).reshape(28, 28).numpy(), cmap="gray_r", vmin=-1,
                      vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(f"Epoch {epoch}", color="tab:red", size=12)
    fig.tight_layout()
    return fig


def show_images(
    images: torch.Tensor,
    nrow: int = 8,
    title: str | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
    cmap: str = "gray_r",
    labels: Sequence[Any] | None = None,
) -> Figure:
    """A grid of images (``(N, 28, 28)``, ``(N, 1, 28, 28)`` or ``(N, 784)``) in ``value_range``,
    by default the model range [-1, 1] of the data and of every
    sampler (``course_utils.images``)."""
    images = torch.as_tensor(images).detach().float().cpu()
    n = len(images)
    if n == 0:
        raise ValueError("show_images needs at least one image")
    side = int(round(images[0].numel() ** 0.5))
    images = images.reshape(n, side, side).numpy()
    ncol = min(nrow, n)
    nrows = -(-n // ncol)
    fig, axes = plt.subplots(nrows, ncol, figsize=(1.1 * ncol, 1.1 * nrows + (0.4 if title else 0)),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            ax.imshow(images[k], cmap=cmap, vmin=value_range[0], vmax=value_range[1])
            if labels is not None:
                ax.set_title(str(labels[k]), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _require(history: dict[str, Any], *keys: str) -> None:
    missing = [k for k in keys if k not in history]
    if missing:
        raise ValueError(f"The history lacks {missing}: pass what train_gan returns (or "
                         "models.load(...).history).")
