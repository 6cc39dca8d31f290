"""Checks for notebook 03 (training: the two losses, on logits).

* ``check_d_loss(my_d_loss)`` -- L_D = BCE(d(x), 1) + BCE(d(g(z)), 0), from the logits;
* ``check_g_loss(my_g_loss)`` -- the non-saturating L_G = BCE(d(g(z)), 1), from the logits.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .verdict import as_tensor, call, checker, compare, generator

__all__ = ["check_d_loss", "check_g_loss"]

_HINTS = {"between 0 and 1": "binary_cross_entropy expects probabilities; on logits use "
                             "F.binary_cross_entropy_with_logits"}


def _bce(logits: torch.Tensor, label: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))


def _logits(seed: int, n: int) -> torch.Tensor:
    return 2 * torch.randn(n, 1, generator=generator(seed), dtype=torch.float64) + 0.5


def _scalar(got, n: int, what: str) -> torch.Tensor:
    g = as_tensor(got, what)
    if g.numel() == n and g.numel() > 1:
        raise AssertionError(f"{what} returns one loss per image, shape {tuple(g.shape)}: return "
                             "the mean over the batch, a single number")
    if g.numel() != 1:
        raise AssertionError(f"{what} should be a single number, got shape {tuple(g.shape)}")
    return g.reshape(())


@checker("the discriminator loss on logits")
def check_d_loss(my_d_loss) -> str:
    n = 16
    real, fake = _logits(30, n), _logits(31, n) - 1
    got = _scalar(call(my_d_loss, real.clone(), fake.clone(),
                       what="my_d_loss(logit_real, logit_fake)", hints=_HINTS), n, "my_d_loss")
    want = _bce(real, 1) + _bce(fake, 0)
    sig = torch.sigmoid
    mistakes = {
        "the fake batch has the wrong label: fakes get label 0, BCE(d(g(z)), 0)":
            _bce(real, 1) + _bce(fake, 1),
        "the real batch has the wrong label: reals get label 1, BCE(d(x), 1)":
            _bce(real, 0) + _bce(fake, 0),
        "the labels are swapped for both batches: real -> 1, fake -> 0":
            _bce(real, 0) + _bce(fake, 1),
        "the sigmoid is applied twice: *_with_logits takes the logits themselves, "
        "not sigmoid(logits)":
            _bce(sig(real), 1) + _bce(sig(fake), 0),
        "only the real term: L_D also has BCE(d(g(z)), 0) for the fake batch": _bce(real, 1),
        "only the fake term: L_D also has BCE(d(x), 1) for the real batch": _bce(fake, 0),
        "this is the mean of the two terms; L_D is their sum (it starts near log 4, not log 2)":
            (_bce(real, 1) + _bce(fake, 0)) / 2,
        f"summed over the batch: BCE averages over the {n} images":
            n * (_bce(real, 1) + _bce(fake, 0)),
    }
    compare(got, want, "my_d_loss", mistakes=mistakes)
    zero = torch.zeros(n, 1, dtype=torch.float64)
    at_half = float(_scalar(call(my_d_loss, zero, zero.clone(), what="my_d_loss"), n, "my_d_loss"))
    return (f"L_D = {float(want):.4f} on random logits; at d = 1/2 everywhere "
            f"L_D = {at_half:.4f} = log 4")


@checker("the non-saturating generator loss on logits")
def check_g_loss(my_g_loss) -> str:
    n = 16
    fake = _logits(32, n) - 1
    got = _scalar(call(my_g_loss, fake.clone(), what="my_g_loss(logit_fake)", hints=_HINTS), n,
                  "my_g_loss")
    want = _bce(fake, 1)
    mistakes = {
        "this is the minimax loss E log(1 - d(g(z))); the lecture's generator minimises "
        "-log d(g(z)) = BCE(d(g(z)), 1)":
            -F.softplus(fake).mean(),
        "label 0 is the discriminator's target for fakes; the generator wants d(g(z)) -> 1, "
        "label 1":
            _bce(fake, 0),
        "the sigmoid is applied twice: *_with_logits takes the logits themselves":
            _bce(torch.sigmoid(fake), 1),
        f"summed over the batch: BCE averages over the {n} images": n * _bce(fake, 1),
    }
    compare(got, want, "my_g_loss", mistakes=mistakes)
    return f"L_G = -mean log sigmoid(l) = {float(want):.4f} on random logits"
