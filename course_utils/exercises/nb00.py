"""Checks for notebook 00 (KL divergence and the VAE).

* ``check_kl_normal(my_kl_normal)`` -- KL(N(mu1, s1^2) || N(mu2, s2^2)) in closed form;
* ``check_kl_vae(my_kl_vae)`` -- the VAE's KL term -1/2 sum_j (1 + logvar - mu^2 - exp(logvar)),
  one per row;
* ``check_reparameterise(my_reparameterise)`` -- h = mu + exp(logvar / 2) * eps, gradients flowing.
"""
from __future__ import annotations

import torch

from ..summary.divergences import kl_diag_normal_standard, kl_normal
from ..summary.vae import reparameterize
from .verdict import (
    StudentError,
    as_tensor,
    call,
    call_elementwise,
    checker,
    compare,
    describe_exception,
    generator,
)

__all__ = ["check_kl_normal", "check_kl_vae", "check_reparameterise"]


def _log(x: torch.Tensor) -> torch.Tensor:
    return torch.log(x)


@checker("KL of two Gaussians")
def check_kl_normal(my_kl_normal) -> str:
    gen = generator(0)
    n = 20
    mu1, mu2 = 2 * torch.randn(2, n, generator=gen, dtype=torch.float64)
    s1, s2 = torch.exp(0.5 * torch.randn(2, n, generator=gen, dtype=torch.float64))
    got, note = call_elementwise(my_kl_normal, mu1, s1, mu2, s2,
                                 what="my_kl_normal(mu1, s1, mu2, s2)")
    want = kl_normal(mu1, s1, mu2, s2)
    rest = (s1**2 + (mu1 - mu2) ** 2) / (2 * s2**2) - 0.5
    mistakes = {
        "that is KL(N(mu2, s2^2) || N(mu1, s1^2)): the arguments are swapped, and KL is not "
        "symmetric": kl_normal(mu2, s2, mu1, s1),
        "the log term is upside down: log(sigma_2 / sigma_1), not log(sigma_1 / sigma_2)":
            _log(s1 / s2) + rest,
        "the log term has the variances: log(sigma_2 / sigma_1) uses the standard deviations, not "
        "log(sigma_2^2 / sigma_1^2)": 2 * _log(s2 / s1) + rest,
        "the fraction is divided by 2 sigma_1^2; it should be 2 sigma_2^2 (the variance of q)":
            _log(s2 / s1) + (s1**2 + (mu1 - mu2) ** 2) / (2 * s1**2) - 0.5,
        "the fraction misses its 2: (sigma_1^2 + (mu_1 - mu_2)^2) / (2 sigma_2^2)":
            _log(s2 / s1) + (s1**2 + (mu1 - mu2) ** 2) / s2**2 - 0.5,
        "the fraction has sigma_1 where sigma_1^2 belongs":
            _log(s2 / s1) + (s1 + (mu1 - mu2) ** 2) / (2 * s2**2) - 0.5,
    }
    compare(got, want, "my_kl_normal", mistakes=mistakes)
    same = as_tensor(call(my_kl_normal, 0.3, 1.7, 0.3, 1.7, what="my_kl_normal"),
                     "my_kl_normal(p, p)")
    if float(same.abs().max()) > 1e-9:
        raise AssertionError(f"KL(p || p) should be 0, my_kl_normal gives {float(same.max()):.4g}")
    return f"matches the closed form on {n} random pairs of Gaussians{note}"


@checker("the VAE's KL term")
def check_kl_vae(my_kl_vae) -> str:
    gen = generator(1)
    n, j = 6, 5
    mu = torch.randn(n, j, generator=gen, dtype=torch.float64)
    logvar = 0.7 * torch.randn(n, j, generator=gen, dtype=torch.float64)
    got = call(my_kl_vae, mu.clone(), logvar.clone(), what="my_kl_vae(mu, logvar)")
    want = kl_diag_normal_standard(mu, logvar)
    terms = 1 + logvar - mu**2 - logvar.exp()
    mistakes = {
        "this is a mean over the latent dimensions j; the KL sums over them":
            -0.5 * terms.mean(dim=-1),
        "logvar is log sigma^2, so sigma^2 = exp(logvar); this uses exp(2 logvar) (as if logvar "
        "were log sigma)": -0.5 * (1 + 2 * logvar - mu**2 - (2 * logvar).exp()).sum(dim=-1),
        "the last term is sigma^2 = exp(logvar), not logvar itself":
            -0.5 * (1 + logvar - mu**2 - logvar).sum(dim=-1),
        "the mean enters squared: -mu^2, not -mu":
            -0.5 * (1 + logvar - mu - logvar.exp()).sum(dim=-1),
    }
    g = as_tensor(got, "my_kl_vae")
    if g.shape == (n, j):
        compare(g, -0.5 * terms, "my_kl_vae")  # raises unless it is the per-dimension KL
        raise AssertionError(f"my_kl_vae returns one KL per latent dimension, shape {(n, j)}: "
                             f"sum over the last dimension to get one KL per row, shape ({n},)")
    if g.dim() == 0:
        for how, value in (("summed", want.sum()), ("averaged", want.mean())):
            if abs(float(g) - float(value)) < 1e-6 * max(1.0, abs(float(value))):
                raise AssertionError(f"my_kl_vae {how} over the batch: it should return one KL "
                                     f"per row, shape ({n},); sum over the last dimension only "
                                     "(dim=-1)")
    compare(g, want, "my_kl_vae", mistakes=mistakes)
    return f"matches -1/2 sum_j (1 + logvar - mu^2 - exp(logvar)) on a random ({n}, {j}) batch"


@checker("the reparameterisation trick")
def check_reparameterise(my_reparameterise) -> str:
    gen = generator(2)
    n, j = 8, 3
    mu = torch.randn(n, j, generator=gen, dtype=torch.float64).requires_grad_(True)
    logvar = torch.randn(n, j, generator=gen, dtype=torch.float64).requires_grad_(True)
    eps = torch.randn(n, j, generator=gen, dtype=torch.float64)
    got = call(my_reparameterise, mu, logvar, eps.clone(),
               what="my_reparameterise(mu, logvar, eps)")
    with torch.no_grad():
        want = reparameterize(mu, logvar, eps)
        mistakes = {
            "this scales eps by the variance exp(logvar); the standard deviation is "
            "sigma = exp(logvar / 2)": mu + torch.exp(logvar) * eps,
            "this scales eps by logvar itself; the standard deviation is sigma = exp(logvar / 2)":
                mu + logvar * eps,
            "this is mu + sigma, without the noise eps": mu + torch.exp(0.5 * logvar),
        }
    compare(got, want, "my_reparameterise", mistakes=mistakes)
    if not isinstance(got, torch.Tensor) or not got.requires_grad:
        raise AssertionError("the values are right but no gradient flows back to mu and logvar "
                             "(no .detach(), .data, .item() or NumPy inside): that is the point "
                             "of the trick")
    try:
        d_mu, d_logvar = torch.autograd.grad(got.sum(), [mu, logvar], allow_unused=True)
    except Exception as err:  # noqa: BLE001
        raise StudentError("backpropagating through my_reparameterise failed: "
                           f"{describe_exception(err)}") from err
    if d_mu is None or d_logvar is None:
        raise AssertionError("the values are right but the result does not depend on both mu and "
                             "logvar through autograd")
    return (f"h = mu + exp(logvar/2) * eps on a random ({n}, {j}) batch, and gradients reach mu "
            "and logvar")
