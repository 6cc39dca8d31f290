"""Checks for notebook 08 (DCGAN, WGAN-GP, the conditional DCGAN, mode collapse).

* ``check_gradient_penalty(my_gradient_penalty)`` -- E[(||grad f(x_hat)||_2 - 1)^2] on given
  interpolates;
* ``check_critic_loss(my_critic_loss)`` -- L_f = E f(g(z)) - E f(x) + lambda * penalty;
* ``check_label_planes(my_label_planes)`` -- the conditional discriminator's input
  [x, onehot(y) planes];
* ``check_class_spread(my_class_spread)`` -- entropy of the class histogram / log(number of
  classes).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..gan.dcgan import label_planes
from ..gan.losses import gradient_penalty
from ..scoring import class_spread
from .verdict import (
    StudentError,
    as_tensor,
    call,
    checker,
    close_number,
    compare,
    describe_exception,
    generator,
)

__all__ = ["check_gradient_penalty", "check_critic_loss", "check_label_planes",
           "check_class_spread"]


def _critic(gen: torch.Generator, d: int) -> nn.Module:
    critic = nn.Sequential(nn.Linear(d, 8), nn.Tanh(), nn.Linear(8, 1)).double()
    with torch.no_grad():
        for p in critic.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    return critic


def _penalty(critic, real, fake, eps, how: str) -> torch.Tensor:
    """What each named mistake gives (the right penalty is the package's ``gradient_penalty``)."""
    if how == "eps swapped":
        x_hat = (1 - eps) * real + eps * fake
    else:
        x_hat = eps * real + (1 - eps) * fake
    if how == "at reals":
        x_hat = real
    x_hat = x_hat.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norm = grad.norm(2, dim=1)
    return {
        "eps swapped": ((norm - 1) ** 2).mean(), "at reals": ((norm - 1) ** 2).mean(),
        "squared norm": ((grad.pow(2).sum(1) - 1) ** 2).mean(),
        "no minus one": (norm**2).mean(),
        "absolute": (norm - 1).abs().mean(),
        "whole batch norm": (grad.norm() - 1) ** 2,
    }[how]


@checker("the WGAN-GP gradient penalty")
def check_gradient_penalty(my_gradient_penalty) -> str:
    gen = generator(80)
    n, d = 6, 5
    critic = _critic(gen, d)
    real = torch.randn(n, d, generator=gen, dtype=torch.float64)
    fake = torch.randn(n, d, generator=gen, dtype=torch.float64) + 1
    eps = torch.rand(n, 1, generator=gen, dtype=torch.float64)
    what = "my_gradient_penalty(critic, real, fake, eps)"
    got = call(my_gradient_penalty, critic, real.clone(), fake.clone(), eps.clone(), what=what)
    g = as_tensor(got, "my_gradient_penalty")
    if g.numel() != 1:
        raise AssertionError("the penalty should be a single number (a mean over the batch), got "
                             f"shape {tuple(g.shape)}")
    mistakes = {
        "x_hat = eps x + (1 - eps) x_fake: eps multiplies the real batch":
            _penalty(critic, real, fake, eps, "eps swapped"),
        "the gradient is taken at the real images; the penalty is on the interpolates x_hat":
            _penalty(critic, real, fake, eps, "at reals"),
        "this uses the squared norm ||grad||^2; the penalty is (||grad||_2 - 1)^2 with the norm "
        "itself": _penalty(critic, real, fake, eps, "squared norm"),
        "the penalty pushes the norm towards 1: (||grad||_2 - 1)^2, not ||grad||^2":
            _penalty(critic, real, fake, eps, "no minus one"),
        "this is |norm - 1|; the penalty squares it": _penalty(critic, real, fake, eps, "absolute"),
        "this is the norm of the whole batch's gradient; take one norm per sample (dim=1), then "
        "the mean": _penalty(critic, real, fake, eps, "whole batch norm"),
    }
    want = gradient_penalty(critic, real, fake, eps=eps)
    compare(g.reshape(()), want, "my_gradient_penalty", mistakes=mistakes)
    if not isinstance(got, torch.Tensor) or not got.requires_grad:
        raise AssertionError("the value is right, but the penalty cannot be back-propagated to the "
                             "critic's weights: pass create_graph=True to torch.autograd.grad (and "
                             "do not .detach() or .item() it)")
    try:
        grads = torch.autograd.grad(got.reshape(()), list(critic.parameters()), allow_unused=True)
    except Exception as err:  # noqa: BLE001
        raise StudentError("back-propagating the penalty failed: "
                           f"{describe_exception(err)}") from err
    if all(gr is None for gr in grads):
        raise AssertionError("the value is right, but the critic's weights get no gradient from "
                             "it: pass create_graph=True to torch.autograd.grad")
    return (f"penalty {float(g):.4f} on a random critic and batch, and it back-propagates to the "
            "critic's weights")


@checker("the WGAN-GP critic loss")
def check_critic_loss(my_critic_loss) -> str:
    gen = generator(81)
    f_real = torch.randn(10, 1, generator=gen, dtype=torch.float64) + 1
    f_fake = torch.randn(10, 1, generator=gen, dtype=torch.float64) - 1
    penalty, lam = torch.tensor(0.37, dtype=torch.float64), 10.0
    got = call(my_critic_loss, f_real.clone(), f_fake.clone(), penalty.clone(), lam,
               what="my_critic_loss(f_real, f_fake, penalty, lam)")
    g = as_tensor(got, "my_critic_loss")
    if g.numel() != 1:
        raise AssertionError("the loss should be a single number (means over the batch), got "
                             f"shape {tuple(g.shape)}")
    want = f_fake.mean() - f_real.mean() + lam * penalty
    compare(g.reshape(()), want, "my_critic_loss", mistakes={
        "the critic *minimises* E f(g(z)) - E f(x) (it maximises E f(x) - E f(g(z))): the sign "
        "of the two means is flipped": f_real.mean() - f_fake.mean() + lam * penalty,
        "the penalty is missing its weight lambda": f_fake.mean() - f_real.mean() + penalty,
        "the penalty is added, not subtracted: + lambda * penalty":
            f_fake.mean() - f_real.mean() - lam * penalty,
        "the penalty term is missing": f_fake.mean() - f_real.mean(),
    })
    return f"L_f = E f(g(z)) - E f(x) + lambda * penalty = {float(want):.4f}"


@checker("the conditional discriminator's input")
def check_label_planes(my_label_planes) -> str:
    gen = generator(83)
    n = 6
    images = torch.rand(n, 1, 28, 28, generator=gen) * 2 - 1
    y = torch.tensor([3, 0, 9, 3, 7, 1])
    got = call(my_label_planes, images.clone(), y.clone(), what="my_label_planes(images, y)")
    g = as_tensor(got, "my_label_planes")
    want = label_planes(images, y)  # what ConditionalDiscriminator reads
    if g.shape == (n, 11) or g.shape == (n, 10, 28, 28):
        raise AssertionError(f"shape {tuple(g.shape)}: the input is the image *and* ten planes of "
                             "28 x 28, (N, 11, 28, 28), image first")
    single = want.clone()
    single[:, 1:] = 0
    single[torch.arange(n), 1 + y, 0, 0] = 1
    compare(g, want, "my_label_planes", mistakes={
        "the image comes first, then the ten label planes (channel 0 is the image)":
            torch.cat([want[:, 1:], want[:, :1]], dim=1),
        "each label plane must be constant: all 28 x 28 pixels of plane y are 1, not one pixel":
            single,
        "plane k is 1 for the digit k itself: digit 0 lights plane 0 (no shift by one)":
            label_planes(images, (y + 1) % 10),
    })
    return ("image in channel 0, then onehot(y) as ten constant planes: what "
            "ConditionalDiscriminator reads")


@checker("the class spread of a generator")
def check_class_spread(my_class_spread) -> str:
    gen = generator(82)
    cases = {
        "a random histogram with two empty classes": torch.cat(
            [torch.randint(1, 60, (8,), generator=gen), torch.zeros(2, dtype=torch.long)]).double(),
        "ten equal classes": torch.full((10,), 25.0, dtype=torch.float64),
        "one class only (complete mode collapse)":
            torch.tensor([0, 0, 0, 40.0, 0, 0, 0, 0, 0, 0], dtype=torch.float64),
    }
    for name, counts in cases.items():
        got = call(my_class_spread, counts.clone(), what="my_class_spread(counts)")
        g = as_tensor(got, "my_class_spread")
        if g.numel() != 1:
            raise AssertionError("my_class_spread should return one number, got shape "
                                 f"{tuple(g.shape)}")
        value, want = float(g.reshape(())), class_spread(counts)
        if value != value:
            raise AssertionError(f"my_class_spread gives NaN for {name}: empty classes contribute "
                                 "0 (0 log 0 = 0); leave them out of the sum")
        entropy = want * math.log(10)
        hints = {
            "this is the entropy in nats; divide by log 10 so that ten equal classes give 1":
                entropy,
            "this is the entropy in bits, not normalised; divide by log(10), not log(2)":
                entropy / math.log(2),
            "the entropy is of the probabilities p = counts / counts.sum(), not of the counts":
                float(-(counts[counts > 0] * counts[counts > 0].log()).sum() / math.log(10)),
            "minus signs: the entropy is -sum p log p, which is >= 0": -want,
        }
        for description, bad in hints.items():
            if abs(value - bad) < 1e-6 * max(1.0, abs(bad)) and abs(bad - want) > 1e-9:
                raise AssertionError(f"my_class_spread for {name}: {description}")
        close_number(value, want, f"my_class_spread for {name}", rtol=1e-6, atol=1e-9)
    return "1 for ten equal classes, 0 for one class, and the normalised entropy in between"
