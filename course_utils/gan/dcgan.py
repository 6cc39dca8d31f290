"""Convolutional GANs beyond the lecture's MLPs: DCGAN (Radford et al., 2016) and a WGAN-GP critic.

Following Raschka et al., ch. 17, part 2. The networks keep the lecture's interface: the
generator takes noise of shape ``(batch, z_size)`` and returns *flat* images ``(batch, 784)`` in
[-1, 1] (tanh); the discriminator takes flat images and returns ``(batch, 1)``. So ``d_train``,
``g_train``, ``train_gan`` and ``sample_gan`` work unchanged; only the inside is convolutional:

* generator: z -> (z, 1, 1) -> ConvTranspose 4x4 (4F, 4x4) -> 3x3 stride 2 (2F, 7x7)
  -> 4x4 stride 2 (F, 14x14) -> 4x4 stride 2 (1, 28x28), BatchNorm + LeakyReLU(0.2) between;
* discriminator: the mirror image with strided convolutions, ending in Sigmoid (DCGAN) or in a
  bare score (the WGAN critic, whose normalisation is per-sample InstanceNorm because the
  gradient penalty is defined per sample and BatchNorm would couple the samples of a batch;
  Gulrajani et al. 2017 recommend layer norm, another per-sample choice, so this one is ours).

The conditional DCGAN (a conditional GAN, Mirza & Osindero 2014) is the same pair told the digit
y: the generator g(z, y) gets [z, onehot(y)] as its input, the discriminator d(x, y) gets the image
and ten constant planes holding onehot(y) as input channels. Both take ``(input, y)``; ``y`` is an
int64 tensor of digits, shape (batch,).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["N_CLASSES", "make_dcgan_generator", "make_dcgan_discriminator", "make_wgan_critic",
           "ConditionalGenerator", "ConditionalDiscriminator", "label_planes"]

N_CLASSES = 10  # the digits 0-9


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


def _conv_stack(n_filters: int, norm: type[nn.Module], in_channels: int = 1) -> list[nn.Module]:
    f = n_filters
    return [
        nn.Unflatten(1, (in_channels, 28, 28)),
        nn.Conv2d(in_channels, f, 4, 2, 1, bias=False),  # 14x14
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


class ConditionalGenerator(nn.Module):
    """g(z, y): the DCGAN generator fed [z, onehot(y)], (batch, z_size)
    and (batch,) -> (batch, 784)."""

    def __init__(self, z_size: int = 100, n_filters: int = 32, n_classes: int = N_CLASSES) -> None:
        super().__init__()
        self.z_size, self.n_classes = z_size, n_classes
        self.net = make_dcgan_generator(z_size + n_classes, n_filters)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, _one_hot(y, self.n_classes, z)], dim=1))


class ConditionalDiscriminator(nn.Module):
    """d(x, y): the DCGAN discriminator fed the image and ``n_classes`` planes of onehot(y).

    ``forward`` returns d(x, y) in (0, 1), shape (batch, 1); ``logits``
    its logit (the losses use it).
    """

    def __init__(self, n_filters: int = 32, n_classes: int = N_CLASSES) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.net = nn.Sequential(*_conv_stack(n_filters, nn.BatchNorm2d, in_channels=1 + n_classes))

    def logits(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(label_planes(x.reshape(len(x), 1, 28, 28), y, self.n_classes).flatten(1))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x, y))


def label_planes(images: torch.Tensor, y: torch.Tensor, n_classes: int = N_CLASSES) -> torch.Tensor:
    """The conditional discriminator's input: (N, 1, H, W) images and their digits y ->
    (N, 1 + n_classes, H, W), the image in channel 0, then onehot(y) as constant planes."""
    planes = _one_hot(y, n_classes, images)[:, :, None, None].expand(-1, -1, *images.shape[2:])
    return torch.cat([images, planes], dim=1)


def _one_hot(y: torch.Tensor, n_classes: int, like: torch.Tensor) -> torch.Tensor:
    """onehot(y) in ``like``'s dtype. Shapes are checked here; the digits' range once per run, by
    ``train_gan`` and ``sample_gan`` (checking it here would sync the device on every step)."""
    if (not isinstance(y, torch.Tensor) or y.dtype != torch.int64 or y.ndim != 1
            or len(y) != len(like)):
        raise ValueError("y must hold one digit per sample, an int64 tensor of shape "
                         f"({len(like)},); got {getattr(y, 'dtype', type(y).__name__)} "
                         f"{tuple(getattr(y, 'shape', ()))}")
    return F.one_hot(y, n_classes).to(like.dtype)
