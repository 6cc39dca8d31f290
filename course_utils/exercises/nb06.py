"""Checks for notebook 06 (the forward chain of a diffusion model).

* ``check_alpha_bars(my_alpha_bars)`` -- abar_t = prod_{s <= t} (1 - beta_s);
* ``check_forward_step(my_forward_step)`` -- x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps;
* ``check_q_sample(my_q_sample)`` -- x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, one t per
  sample.
"""
from __future__ import annotations

import torch

from ..diffusion.forward import q_sample
from ..diffusion.schedules import Schedule, make_schedule
from .verdict import call, checker, compare, generator

__all__ = ["check_alpha_bars", "check_forward_step", "check_q_sample"]


@checker("the signal left after t steps, alpha-bar")
def check_alpha_bars(my_alpha_bars) -> str:
    betas = make_schedule(50, "linear").betas.double()
    got = call(my_alpha_bars, betas.clone(), what="my_alpha_bars(betas)")
    want = Schedule.from_betas(betas).alpha_bars
    mistakes = {
        "this is the product of the betas; abar_t multiplies the alphas, 1 - beta_s":
            torch.cumprod(betas, 0),
        "this is 1 - sum of the betas (a first-order approximation); abar_t is a product":
            1 - torch.cumsum(betas, 0),
        "these are the alphas 1 - beta_t; abar_t is their running product (torch.cumprod)":
            1 - betas,
        "shifted by one step: abar_t includes step t itself, so abar_1 = 1 - beta_1":
            torch.cat([torch.ones(1, dtype=torch.float64), want[:-1]]),
    }
    compare(got, want, "my_alpha_bars", mistakes=mistakes, rtol=1e-5, atol=1e-7)
    return (f"abar_t = prod (1 - beta_s) for a linear schedule of {len(betas)} steps; "
            f"abar_T = {float(want[-1]):.2e}")


@checker("one step of the forward chain")
def check_forward_step(my_forward_step) -> str:
    gen = generator(60)
    x = torch.randn(6, 2, generator=gen, dtype=torch.float64)
    noise = torch.randn(6, 2, generator=gen, dtype=torch.float64)
    beta = 0.04
    got = call(my_forward_step, x.clone(), beta, noise.clone(),
               what="my_forward_step(x_prev, beta, noise)")
    # One step of the chain is q(x_1 | x_0) of a one-step schedule: the package's q_sample at t = 0.
    one_step = Schedule.from_betas(torch.tensor([beta], dtype=torch.float64))
    want = q_sample(x, torch.zeros(len(x), dtype=torch.long), one_step, noise=noise)
    mistakes = {
        "1 - beta and beta are variances: the mean is sqrt(1 - beta) x and the noise is scaled by "
        "sqrt(beta)": (1 - beta) * x + beta * noise,
        "the noise is scaled by beta; its standard deviation is sqrt(beta)":
            (1 - beta) ** 0.5 * x + beta * noise,
        "the mean is sqrt(1 - beta) x_{t-1}, not (1 - beta) x_{t-1}":
            (1 - beta) * x + beta**0.5 * noise,
        "x_{t-1} is not shrunk: without sqrt(1 - beta) the variance grows without bound":
            x + beta**0.5 * noise,
    }
    compare(got, want, "my_forward_step", mistakes=mistakes)
    return f"sqrt(1 - beta) x + sqrt(beta) eps on 6 random points (beta = {beta})"


@checker("sampling q(x_t | x_0) in closed form")
def check_q_sample(my_q_sample) -> str:
    gen = generator(61)
    schedule = make_schedule(100, "linear")
    alpha_bars = schedule.alpha_bars.double()
    # The schedule of exactly the alpha_bars the student gets:
    given = Schedule(schedule.betas.double(), schedule.alphas.double(), alpha_bars)
    shapes = ((5, 2), (4, 1, 6, 6))
    for shape in shapes:
        x0 = torch.randn(shape, generator=gen, dtype=torch.float64)
        noise = torch.randn(shape, generator=gen, dtype=torch.float64)
        t = torch.randint(0, 100, (shape[0],), generator=gen)
        what = f"my_q_sample(x0, t, alpha_bars, noise) with x0 of shape {shape}"
        hints = {"must match the size": "alpha_bars[t] has shape (N,): reshape it to (N, 1, ...) "
                                        "so that it broadcasts over each sample"}
        got = call(my_q_sample, x0.clone(), t.clone(), alpha_bars.clone(), noise.clone(), what=what,
                   hints=hints)
        want = q_sample(x0, t, given, noise=noise)
        ab = alpha_bars[t].reshape(-1, *([1] * (len(shape) - 1)))
        ab_prev = alpha_bars[(t - 1).clamp(min=0)].reshape(ab.shape)
        mistakes = {
            "(1 - abar_t) is the variance: the noise is scaled by the standard deviation "
            "sqrt(1 - abar_t)": ab.sqrt() * x0 + (1 - ab) * noise,
            "the mean is sqrt(abar_t) x_0, not abar_t x_0": ab * x0 + (1 - ab).sqrt() * noise,
            "the noise is scaled by sqrt(abar_t) and x_0 by sqrt(1 - abar_t): swapped":
                (1 - ab).sqrt() * x0 + ab.sqrt() * noise,
            "off by one step: time step t uses alpha_bars[t]":
                ab_prev.sqrt() * x0 + (1 - ab_prev).sqrt() * noise,
        }
        compare(got, want, f"my_q_sample for x0 of shape {shape}", mistakes=mistakes, rtol=1e-5,
                atol=1e-6)
    return ("sqrt(abar_t) x0 + sqrt(1 - abar_t) eps with one t per sample, for 2-D points and for "
            "images")
