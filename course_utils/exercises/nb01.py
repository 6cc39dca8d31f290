"""Checks for notebook 01 (the GAN game and its solution).

* ``check_optimal_discriminator(my_optimal_discriminator)`` -- D*(x) = p_data / (p_data + p_g)
  for two Gaussians;
* ``check_value_function(my_value_function)`` -- v = int p_data log d + p_g log(1 - d) dx, and
  v(D*) = -log 4 + 2 JS;
* ``check_logit_gradients(my_grad_minimax, my_grad_nonsaturating)`` --
  d/dl log(1 - sigmoid(l)) = -d and
  d/dl (-log sigmoid(l)) = -(1 - d).
"""
from __future__ import annotations

import math

import torch

from ..gan.game import js_divergence, normal_pdf, optimal_discriminator, value_function
from .verdict import call, checker, close_number, compare, generator

__all__ = ["check_optimal_discriminator", "check_value_function", "check_logit_gradients"]


@checker("the optimal discriminator of two Gaussians")
def check_optimal_discriminator(my_optimal_discriminator) -> str:
    gen = generator(10)
    x = torch.linspace(-4, 4, 41, dtype=torch.float64)
    mu_data, mu_g = (float(v) for v in torch.randn(2, generator=gen))
    s_data, s_g = 0.6, 1.4  # different spreads: the densities' 1/sigma does not cancel
    got = call(my_optimal_discriminator, x.clone(), mu_data, s_data, mu_g, s_g,
               what="my_optimal_discriminator(x, mu_data, s_data, mu_g, s_g)")
    p_data, p_g = normal_pdf(x, mu_data, s_data), normal_pdf(x, mu_g, s_g)
    want = optimal_discriminator(p_data, p_g)

    def unnormalised(t, m, s):
        return torch.exp(-0.5 * ((t - m) / s) ** 2)

    mistakes = {
        "this is p_g / (p_data + p_g) = 1 - D*: D* is the probability that x is *real*": 1 - want,
        "the densities miss their 1 / sigma: it cancels only when both Gaussians have the "
        "same spread":
            optimal_discriminator(unnormalised(x, mu_data, s_data), unnormalised(x, mu_g, s_g)),
        "s_data and s_g are standard deviations; this uses them as variances":
            optimal_discriminator(normal_pdf(x, mu_data, math.sqrt(s_data)),
                                  normal_pdf(x, mu_g, math.sqrt(s_g))),
        "this is p_data / p_g, not p_data / (p_data + p_g)": p_data / p_g,
    }
    compare(got, want, "my_optimal_discriminator", mistakes=mistakes, rtol=1e-4, atol=1e-7)
    return (f"D*(x) = p_data / (p_data + p_g) for N({mu_data:.2f}, {s_data}^2) vs N({mu_g:.2f}, "
            f"{s_g}^2) on {len(x)} points")


@checker("the value function on a grid")
def check_value_function(my_value_function) -> str:
    gen = generator(11)
    x = torch.linspace(-8, 8, 4001, dtype=torch.float64)
    p_data, p_g = normal_pdf(x, 0.0, 1.0), normal_pdf(x, 1.2, 0.8)
    # any discriminator in (0, 1)
    d = torch.sigmoid(torch.sin(3 * x + float(torch.randn(1, generator=gen))))
    what = "my_value_function(d, p_data, p_g, x)"
    got = call(my_value_function, d.clone(), p_data.clone(), p_g.clone(), x.clone(), what=what)
    want = value_function(d, p_data, p_g, x)
    dx = float(x[1] - x[0])
    swapped = value_function(1 - d, p_data, p_g, x)
    summed = float((p_data * torch.log(d) + p_g * torch.log1p(-d)).sum())
    for description, value in (
            ("log d and log(1 - d) are swapped: the data term is p_data log d", swapped),
            (f"this is a plain sum over the grid: multiply by the spacing dx = {dx:g} (or use "
             "torch.trapezoid)",
             summed)):
        if abs(float(got) - value) < 1e-6 * max(1.0, abs(value)) and abs(value - want) > 1e-6:
            raise AssertionError(f"my_value_function: {description}")
    close_number(got, want, "my_value_function for a sinusoidal d", rtol=1e-4, atol=1e-6)
    d_star = optimal_discriminator(p_data, p_g)
    at_d_star = call(my_value_function, d_star, p_data, p_g, x, what=what)
    v_star = close_number(at_d_star, value_function(d_star, p_data, p_g, x),
                          "my_value_function at D*", rtol=1e-4, atol=1e-6)
    js = js_divergence(p_data, p_g, x)
    return (f"v = {float(got):.4f} for a sinusoidal d; at D*, v = {v_star:.4f} = -log 4 + 2 JS = "
            f"{-math.log(4) + 2 * js:.4f} (JS = {js:.4f} nats)")


@checker("the generator's gradients through the logit")
def check_logit_gradients(my_grad_minimax, my_grad_nonsaturating) -> str:
    gen = generator(12)
    logit = 4 * torch.randn(25, generator=gen, dtype=torch.float64)
    d = torch.sigmoid(logit)
    got_minimax = call(my_grad_minimax, logit.clone(), what="my_grad_minimax(logit)")
    got_ns = call(my_grad_nonsaturating, logit.clone(), what="my_grad_nonsaturating(logit)")
    compare(got_minimax, -d, "my_grad_minimax", mistakes={
        "this is the non-saturating loss's gradient -(1 - d); the minimax loss log(1 - d) "
        "gives -d":
            -(1 - d),
        "this is the gradient of log(1 - d) with respect to d, -1/(1 - d); we want it with "
        "respect to the logit":
            -1 / (1 - d)})
    compare(got_ns, -(1 - d), "my_grad_nonsaturating", mistakes={
        "this is the minimax loss's gradient -d; the non-saturating loss -log d gives -(1 - d)": -d,
        "this is the gradient of -log d with respect to d, -1/d; we want it with respect to "
        "the logit":
            -1 / d})
    tiny = float(torch.sigmoid(torch.tensor(-6.0)))
    return ("d/dl log(1 - d) = -d and d/dl (-log d) = -(1 - d) at 25 random logits; at d = "
            f"{tiny:.4f} the minimax gradient is {tiny:.4f}, the non-saturating one {1 - tiny:.4f}")
