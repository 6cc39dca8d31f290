"""Convolutional GANs beyond the lecture's MLPs: DCGAN (Radford et al., 2016) and a WGAN-GP critic.

Following Raschka et al., ch. 17, part 2. The networks keep the lecture's interface: the
generator takes noise of shape ``(batch, z_size)`` and returns *flat* images ``(batch, 784)`` in
[-1, 1] (tanh); the discriminator takes flat images and returns ``(batch, 1)``. So ``d_train``,
``g_train``, ``train_gan`` and ``sample_gan`` work unchanged; only the inside is convolutional:

* generator: z -> (z, 1, 1) -> ConvTranspose 4x4 (4F, 4x4) -> 3x3 stride 2 (2F, 7x7)
  -> 4x4 stride 2 (F, 14x14) -> 4x4 stride 2 (1, 28x28), BatchNorm + LeakyReLU(0.2) between;
* discriminator: the mirror image with strided convolutions, ending in Sigmoid (DCGAN) or in a
  bare score (the WGAN critic, whose normalisation is per-sample InstanceNorm because the
  gradient penalty is defined per sample and BatchNorm would couple the samples of a batch).
"""
from __future__ import annotations

from torch import nn

__all__ = ["make_dcgan_generator", "make_dcgan_discriminator", "make_wgan_critic"]


def make_dcgan_generator(z_size: int = 100, n_filters: int = 32) -> nn.Sequential:
    """DCGAN generator: (batch, z_size) noise -> (batch, 784) image in [-1, 1]."""
    f = n_filters
    return nn.Sequential(
        nn.Unflatten(1, (z_size, 1, 1)),
        nn.ConvTranspose2d(z_size, f * 4, 4, 1, 0, bias=False),  # 4x4
        nn.BatchNorm2d(f * 4),
        nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(f * 4, f * 2, 3, 2, 1, bias=False),  # 7x7
        nn.BatchNorm2d(f * 2),
        nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(f * 2, f, 4, 2, 1, bias=False),  # 14x14
        nn.BatchNorm2d(f),
        nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(f, 1, 4, 2, 1, bias=False),  # 28x28
        nn.Tanh(),
        nn.Flatten(),
    )


def _conv_stack(n_filters: int, norm: type[nn.Module]) -> list[nn.Module]:
    f = n_filters
    return [
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, f, 4, 2, 1, bias=False),  # 14x14
        nn.LeakyReLU(0.2),
        nn.Conv2d(f, f * 2, 4, 2, 1, bias=False),  # 7x7
        _norm(norm, f * 2),
        nn.LeakyReLU(0.2),
        nn.Conv2d(f * 2, f * 4, 3, 2, 1, bias=False),  # 4x4
        _norm(norm, f * 4),
        nn.LeakyReLU(0.2),
        nn.Conv2d(f * 4, 1, 4, 1, 0, bias=False),  # 1x1: one score per image
        nn.Flatten(),
    ]


def _norm(kind: type[nn.Module], channels: int) -> nn.Module:
    return kind(channels, affine=True) if kind is nn.InstanceNorm2d else kind(channels)


def make_dcgan_discriminator(n_filters: int = 32) -> nn.Sequential:
    """DCGAN discriminator: (batch, 784) -> d(x) in (0, 1), shape (batch, 1)."""
    return nn.Sequential(*_conv_stack(n_filters, nn.BatchNorm2d), nn.Sigmoid())


def make_wgan_critic(n_filters: int = 32) -> nn.Sequential:
    """WGAN-GP critic: (batch, 784) -> an unbounded score f(x), shape (batch, 1). No sigmoid:
    the critic estimates the Wasserstein-1 distance, not a probability."""
    return nn.Sequential(*_conv_stack(n_filters, nn.InstanceNorm2d))
