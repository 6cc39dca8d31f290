"""Checks for notebook 07 (the mathematics of diffusion models).

* ``check_posterior(my_posterior_mean_var)`` -- mean and variance of q(x_{t-1} | x_t, x_0);
* ``check_ddim_step(my_ddim_step)`` -- one DDIM step from t to s < t, for eta = 0 and eta = 1;
* ``check_guidance(my_guided_eps)`` -- classifier-free guidance eps_u + w (eps_c - eps_u)
  (Ho & Salimans' w' = w - 1: they write (1 + w') eps_c - w' eps_u).
"""
from __future__ import annotations

import torch

from ..diffusion.forward import posterior_mean_variance, x0_from_eps
from ..diffusion.samplers import ddim_sigma, ddim_step
from ..diffusion.schedules import Schedule, make_schedule
from .verdict import as_tensor, call, checker, compare, generator, pair

__all__ = ["check_posterior", "check_ddim_step", "check_guidance"]


@checker("the Gaussian posterior q(x_{t-1} | x_t, x_0)")
def check_posterior(my_posterior_mean_var) -> str:
    gen = generator(70)
    schedule = make_schedule(100, "linear")
    betas, abar = schedule.betas.double(), schedule.alpha_bars.double()
    n = 6
    x0 = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    xt = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    t = torch.randint(1, 100, (n,), generator=gen)
    what = "my_posterior_mean_var(x0, xt, t, betas, alpha_bars)"
    answer = call(my_posterior_mean_var, x0.clone(), xt.clone(), t.clone(), betas.clone(),
                  abar.clone(), what=what)
    mean, var = pair(answer, what, "mean, variance")
    given = Schedule(betas, 1 - betas, abar)  # the schedule of exactly the betas and abar given
    want_mean, want_var = posterior_mean_variance(x0, xt, t, given)
    # The pieces of the formula, for the mistakes:
    b, a, ap = betas[t][:, None], abar[t][:, None], abar[t - 1][:, None]
    alpha = 1 - b
    c0, ct = ap.sqrt() * b / (1 - a), alpha.sqrt() * (1 - ap) / (1 - a)
    compare(mean, want_mean, "the mean", mistakes={
        "the two coefficients are swapped: x_0 gets sqrt(abar_{t-1}) beta_t / (1 - abar_t)":
            ct * x0 + c0 * xt,
        "abar_{t-1} (the step before t) is replaced by abar_t":
            a.sqrt() * b / (1 - a) * x0 + alpha.sqrt() * (1 - a) / (1 - a) * xt,
        "x_t's coefficient uses alpha_t; it is sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t)":
            c0 * x0 + alpha * (1 - ap) / (1 - a) * xt,
    })
    v = as_tensor(var, "the variance")
    if v.shape != want_var.expand_as(x0).shape:
        try:
            v = torch.broadcast_to(v, x0.shape)
        except RuntimeError as err:
            raise AssertionError(f"the variance has shape {tuple(v.shape)}, which does not "
                                 f"broadcast to x's {tuple(x0.shape)}") from err
    compare(v, want_var.expand_as(x0), "the variance", mistakes={
        "this is beta_t, DDPM's other choice of sigma_t^2; the posterior's variance is "
        "(1 - abar_{t-1}) / (1 - abar_t) beta_t": b.expand_as(x0),
        "this is a standard deviation: the posterior variance is (1 - abar_{t-1}) / (1 - abar_t) "
        "beta_t itself": want_var.sqrt().expand_as(x0),
    })
    return (f"mean and variance of q(x_(t-1) | x_t, x_0) at {n} random time steps of a 100-step "
            "schedule")


def _ddim(x, eps, a_t, a_s, eta, z):
    """The package's own step (``diffusion.samplers.ddim_step``) and its x0_hat and sigma."""
    x0 = x0_from_eps(x, eps, a_t)
    abar_t, abar_s = torch.tensor(a_t, dtype=x.dtype), torch.tensor(a_s, dtype=x.dtype)
    sigma = float(ddim_sigma(abar_t, abar_s, eta))
    return ddim_step(x, eps, a_t, a_s, eta, z), x0, sigma


@checker("one DDIM step")
def check_ddim_step(my_ddim_step) -> str:
    gen = generator(71)
    x = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    eps = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    z = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    a_t, a_s = 0.3, 0.7  # abar at t and at the earlier step s (more signal)
    for eta in (0.0, 1.0):
        what = f"my_ddim_step(x_t, eps, abar_t, abar_s, eta={eta:g}, z)"
        got = call(my_ddim_step, x.clone(), eps.clone(), a_t, a_s, eta, z.clone(), what=what)
        want, x0, sigma = _ddim(x, eps, a_t, a_s, eta, z)
        rest = (1 - a_s - sigma**2) ** 0.5 * eps + sigma * z  # direction and noise, right
        mistakes = {
            "x0_hat divides by abar_t; it should be sqrt(abar_t)":
                a_s**0.5 * (x - (1 - a_t) ** 0.5 * eps) / a_t + rest,
            "x0_hat subtracts (1 - abar_t) eps; it should be sqrt(1 - abar_t) eps":
                a_s**0.5 * (x - (1 - a_t) * eps) / a_t**0.5 + rest,
            "the first term is sqrt(abar_s) x0_hat, at the target step s, not sqrt(abar_t) x0_hat":
                a_t**0.5 * x0 + rest,
            "the direction term is sqrt(1 - abar_s - sigma^2) eps: sigma^2 is missing under the "
            "root": a_s**0.5 * x0 + (1 - a_s) ** 0.5 * eps + sigma * z,
            "the noise sigma z is missing": a_s**0.5 * x0 + (1 - a_s - sigma**2) ** 0.5 * eps,
            "eta is ignored: with eta > 0 the step adds the noise sigma z and shrinks the "
            "direction term to sqrt(1 - abar_s - sigma^2) eps": _ddim(x, eps, a_t, a_s, 0.0, z)[0],
        }
        compare(got, want, f"my_ddim_step with eta = {eta:g}", mistakes=mistakes)
    return ("x_s = sqrt(abar_s) x0_hat + sqrt(1 - abar_s - sigma^2) eps + sigma z for eta = 0 "
            f"(sigma = 0) and eta = 1 (sigma = {float(_ddim(x, eps, a_t, a_s, 1.0, z)[2]):.4f})")


@checker("classifier-free guidance")
def check_guidance(my_guided_eps) -> str:
    gen = generator(72)
    eps_u, eps_c = torch.randn(2, 4, 1, 3, 3, generator=gen, dtype=torch.float64)
    for w in (0.0, 1.0, 3.0):
        what = f"my_guided_eps(eps_uncond, eps_cond, w={w:g})"
        got = call(my_guided_eps, eps_u.clone(), eps_c.clone(), w, what=what)
        want = eps_u + w * (eps_c - eps_u)
        compare(got, want, f"my_guided_eps with w = {w:g}", mistakes={
            "this is eps_c + w (eps_c - eps_u) = (1 + w) eps_c - w eps_u, the (w + 1) "
            "convention of Ho & Salimans, whose weight is ours minus 1; the notebook's is "
            "eps_u + w (eps_c - eps_u), so that w = 1 is the plain conditional model":
                eps_c + w * (eps_c - eps_u),
            "the difference is the wrong way round: eps_c - eps_u points towards the label":
                eps_u + w * (eps_u - eps_c),
            "eps_c and eps_u play each other's part: w = 0 must give the unconditional eps_u":
                eps_c + w * (eps_u - eps_c),
        })
    return ("eps_u + w (eps_c - eps_u): w = 0 gives eps_u, w = 1 gives eps_c, w = 3 goes beyond "
            "(Ho & Salimans' w' = w - 1 = 2)")
