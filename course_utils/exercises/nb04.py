"""Checks for notebook 04 (looking at the trained GAN).

* ``check_losses_at_solution(my_losses_at_solution)`` -- (L_D, L_G) when d = 1/2 everywhere:
  (log 4, log 2);
* ``check_noise_walk(my_walk)`` -- n points on the straight line from z0 to z1, shape (n, z_size);
* ``check_d_accuracy(my_d_accuracy)`` -- the discriminator's balanced accuracy at threshold 1/2.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from .verdict import (
    NotYet,
    StudentError,
    as_tensor,
    call,
    checker,
    close_number,
    compare,
    generator,
    is_placeholder,
)

__all__ = ["check_losses_at_solution", "check_noise_walk", "check_d_accuracy"]


@checker("the losses at the game's solution")
def check_losses_at_solution(my_losses_at_solution) -> str:
    answer = my_losses_at_solution
    if is_placeholder(answer):
        raise NotYet("my_losses_at_solution is still `...`: write (L_D, L_G) as two numbers")
    if not isinstance(answer, Sequence) or isinstance(answer, str) or len(answer) != 2 \
            or any(is_placeholder(a) for a in answer):
        if isinstance(answer, Sequence) and any(is_placeholder(a) for a in answer):
            raise NotYet("my_losses_at_solution still holds a `...`")
        raise StudentError(f"my_losses_at_solution should be a pair (L_D, L_G), got {answer!r}")
    l_d, l_g = (float(as_tensor(a, "my_losses_at_solution").reshape(-1)[0]) for a in answer)
    log2, log4 = math.log(2), math.log(4)
    if abs(l_d - log2) < 1e-6 and abs(l_g - log4) < 1e-6:
        raise AssertionError("swapped: L_D has two BCE terms (real and fake), L_G one")
    if abs(l_d - log2) < 1e-6:
        raise AssertionError("L_D = log 2 is one term; L_D = BCE(d(x), 1) + BCE(d(g(z)), 0) has "
                             "two, each log 2")
    close_number(l_d, log4, "L_D at d = 1/2", rtol=1e-4)
    close_number(l_g, log2, "L_G at d = 1/2", rtol=1e-4)
    return (f"L_D = -log(1/2) - log(1 - 1/2) = log 4 = {log4:.4f} and "
            f"L_G = -log(1/2) = log 2 = {log2:.4f}")


@checker("a straight walk through noise space")
def check_noise_walk(my_walk) -> str:
    gen = generator(40)
    z0, z1 = torch.rand(2, 20, generator=gen, dtype=torch.float64) * 2 - 1
    n = 7
    got = call(my_walk, z0.clone(), z1.clone(), n, what=f"my_walk(z0, z1, {n})")
    a = torch.linspace(0, 1, n, dtype=torch.float64)[:, None]
    want = (1 - a) * z0 + a * z1
    mistakes = {
        "the walk goes backwards, from z1 to z0: row 0 should be z0": a * z0 + (1 - a) * z1,
        "the walk stops short of z1: the last row should be z1 itself (a = linspace(0, 1, n))":
            (1 - torch.arange(n, dtype=torch.float64)[:, None] / n) * z0
            + torch.arange(n)[:, None] / n * z1,
    }
    compare(got, want, f"my_walk(z0, z1, {n})", mistakes=mistakes)
    return f"{n} rows from z0 to z1, (1 - a) z0 + a z1 with a = 0, 1/{n - 1}, ..., 1"


@checker("the discriminator's balanced accuracy")
def check_d_accuracy(my_d_accuracy) -> str:
    gen = generator(41)
    d_real = torch.rand(30, generator=gen, dtype=torch.float64) ** 0.5  # mostly above 1/2
    d_fake = torch.rand(50, generator=gen, dtype=torch.float64) ** 1.5  # mostly below 1/2
    got = call(my_d_accuracy, d_real.clone(), d_fake.clone(), what="my_d_accuracy(d_real, d_fake)")
    real_ok, fake_ok = (d_real > 0.5).double().mean(), (d_fake < 0.5).double().mean()
    want = (real_ok + fake_ok) / 2
    pooled = (((d_real > 0.5).double().sum() + (d_fake < 0.5).double().sum())
              / (len(d_real) + len(d_fake)))
    mistakes = {
        "this pools all images; balanced accuracy averages the real and the fake accuracy (the "
        "sets differ in size)":
            pooled,
        "a fake is judged correctly when d(g(z)) < 1/2, not > 1/2": (real_ok + (1 - fake_ok)) / 2,
        "this is the accuracy on real digits only; average it with the accuracy on fakes": real_ok,
        "this is the accuracy on fakes only; average it with the accuracy on real digits": fake_ok,
        "this is an error rate: the fraction judged correctly is 1 minus it": 1 - want,
    }
    g = as_tensor(got, "my_d_accuracy")
    if g.numel() != 1:
        raise AssertionError("my_d_accuracy should return a single number, got shape "
                             f"{tuple(g.shape)}")
    compare(g.reshape(()), want, "my_d_accuracy", mistakes=mistakes)
    return (f"{float(want):.4f} = (real {float(real_ok):.3f} + fake {float(fake_ok):.3f}) / 2 on "
            "30 real and 50 fake verdicts")
