"""One test class for every sampler's step (as diffusers tests every scheduler's ``step()`` alike).

A sampler is a step ``step(predict, x, t, s, noise) -> x_s``, a grid of (t, s) pairs and whether it
draws noise; ``course_utils.diffusion.samplers.sample_loop`` walks any of them. Every case below
gets the exact prediction of a problem solved in closed form: data x_0 ~ N(mu, s^2) in every
coordinate. Then

* the step is a pure function: the same inputs give the same output, the input is not changed,
  shape, dtype and device are kept;
* walked over its grid from pure noise, the sampler returns N(mu, s^2): the mean and the standard
  deviation of 4,000 samples within a few standard errors (plus the sampler's own discretisation
  error, stated per case);
* a deterministic sampler ignores the noise; a stochastic one uses it.

For x_0 ~ N(mu, s^2) and x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, the optimal noise prediction
is eps*(x_t, t) = sqrt(1 - abar_t) (x_t - sqrt(abar_t) mu) / (abar_t s^2 + 1 - abar_t).

The ODE and SDE steps of ``course_utils.flows.solvers`` (notebook 07b) take the same tests through
an adapter ``step(predict, x, t, s, noise)``: flow matching's Euler, Heun and ancestral (the DDPM's
step on the linear path) with the linear path's exact velocity (data at t = 1), and the DDPM's
schedule as a VP-SDE (``diffusion.sde``) sampled by Euler-Maruyama on the reverse SDE and by Heun
on the probability-flow ODE, with the exact eps at continuous times tau (``vp_coefficients``:
alpha_tau, sigma_tau in place of sqrt(abar_t), ...).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch

from course_utils.diffusion import make_schedule
from course_utils.diffusion.samplers import ddim_grid, ddim_step, ddpm_step, sample_loop
from course_utils.diffusion.sde import (
    probability_flow_velocity,
    reverse_sde_drift,
    vp_coefficients,
    vp_diffusion,
)
from course_utils.flows import (
    ancestral_step,
    euler_maruyama_step,
    euler_step,
    heun_step,
    time_grid,
)

MU, S = 0.7, 0.5
SCHEDULE = make_schedule(200, "linear")


def exact_eps(x: torch.Tensor, t: object) -> torch.Tensor:
    abar = SCHEDULE.alpha_bars[int(t)].double()
    return (1 - abar).sqrt() * (x - abar.sqrt() * MU) / (abar * S**2 + 1 - abar)


def _ddpm(predict, x, t, s, noise):
    return ddpm_step(x, predict(x, t), int(t), SCHEDULE, noise)


def _ddim(eta: float):
    def step(predict, x, t, s, noise):
        abar_s = SCHEDULE.alpha_bars[s] if s is not None else torch.tensor(1.0)
        return ddim_step(x, predict(x, t), SCHEDULE.alpha_bars[t], abar_s, eta, noise)

    return step


def fm_velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """E[x_1 - x_0 | x_t] on the linear path x_t = (1 - t) x_0 + t x_1, N(0, 1) to N(mu, s^2)."""
    t = t.reshape(-1, *([1] * (x.dim() - 1)))
    return MU + (t * S**2 - (1 - t)) / ((1 - t) ** 2 + t**2 * S**2) * (x - t * MU)


def vp_eps(x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """The exact eps at continuous time tau of the schedule's VP-SDE (alpha^2 + sigma^2 = 1)."""
    shape = (-1, *([1] * (x.dim() - 1)))
    alpha, sigma, _, _ = (c.reshape(shape) for c in vp_coefficients(SCHEDULE, tau))
    return sigma * (x - alpha * MU) / (alpha**2 * S**2 + sigma**2)


def flow_grid(start: float, end: float, steps: int) -> list:
    times = time_grid(start, end, steps).tolist()
    return list(zip(times[:-1], times[1:], strict=True))


def _ode(solver):
    def step(predict, x, t, s, noise):
        return solver(predict, x, t, s)

    return step


def _ancestral(predict, x, t, s, noise):
    return ancestral_step(predict, x, t, s, noise)


def _probability_flow_heun(predict, x, t, s, noise):
    """Heun, but Euler on the last step: the score is undefined at tau = 0 (sigma = 0)."""
    return (euler_step if s == 0 else heun_step)(predict, x, t, s)


def _euler_maruyama(predict, x, t, s, noise):
    """Euler-Maruyama; without noise (the loop's last step) the plain Euler step."""
    if noise is None:
        return euler_step(predict, x, t, s)
    return euler_maruyama_step(predict, vp_diffusion(SCHEDULE), x, t, s, noise)


@dataclass(frozen=True)
class Case:
    name: str
    step: Callable
    grid: list
    noisy: bool
    predict: Callable = exact_eps
    tolerance: float = 0.0  # the sampler's own error on this problem, added to the statistical one


# Tolerances: each sampler's own error on this problem, measured with 20,000 samples (std against
# S = 0.5): DDPM over all 200 steps 0.4815 (its variance beta~_t is that of q(x_{t-1} | x_t, x_0), a
# little less than the true reverse variance: Bao et al. 2022), DDIM-50 with eta = 0 0.4753 and with
# eta = 1 0.4433 (larger jumps, the same effect). The means are right to 0.005.
CASES = [
    Case("ddpm", _ddpm, [(t, t - 1) for t in range(SCHEDULE.T - 1, -1, -1)], noisy=True,
         tolerance=0.03),
    Case("ddim eta=0, 50 steps", _ddim(0.0), ddim_grid(SCHEDULE.T, 50), noisy=False,
         tolerance=0.035),
    Case("ddim eta=1, 50 steps", _ddim(1.0), ddim_grid(SCHEDULE.T, 50), noisy=True, tolerance=0.07),
    # Measured the same way (std against 0.5, means right to 0.006): flow matching's Euler with 20
    # steps 0.4668 (first order), its Heun with 10 steps 0.5044; the probability-flow ODE by Heun
    # with 25 steps 0.4998, the reverse SDE by Euler-Maruyama with 100 steps 0.5024.
    Case("flow matching euler, 20 steps", _ode(euler_step), flow_grid(0.0, 1.0, 20), noisy=False,
         predict=fm_velocity, tolerance=0.04),
    Case("flow matching heun, 10 steps", _ode(heun_step), flow_grid(0.0, 1.0, 10), noisy=False,
         predict=fm_velocity, tolerance=0.01),
    # The DDPM's step on the linear path (flows.paths.ancestral_step), measured the same way: std
    # 0.4310 with 20 steps, 0.4687 with 50, 0.4896 with 200 (the DDIM eta = 1 effect above, first
    # order in the step); means right to 0.002.
    Case("flow matching ancestral, 50 steps", _ancestral, flow_grid(0.0, 1.0, 50), noisy=True,
         predict=fm_velocity, tolerance=0.04),
    Case("probability flow heun, 25 steps", _probability_flow_heun, flow_grid(1.0, 0.0, 25),
         noisy=False, predict=probability_flow_velocity(vp_eps, SCHEDULE), tolerance=0.01),
    Case("reverse sde euler-maruyama, 100 steps", _euler_maruyama, flow_grid(1.0, 0.0, 100),
         noisy=True, predict=reverse_sde_drift(vp_eps, SCHEDULE), tolerance=0.01),
]


@pytest.fixture(params=CASES, ids=lambda case: case.name)
def case(request) -> Case:
    return request.param


class TestEverySamplerStep:
    def test_the_step_is_pure(self, case):
        x = torch.randn(8, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        noise = torch.randn_like(x)
        keep = x.clone()
        t, s = case.grid[len(case.grid) // 2]
        a = case.step(case.predict, x, t, s, noise)
        b = case.step(case.predict, x, t, s, noise)
        assert torch.equal(a, b) and torch.equal(x, keep), ("same inputs, same output, input "
                                                            "untouched")
        assert a.shape == x.shape and a.dtype == x.dtype and a.device == x.device

    def test_noise_is_used_only_by_stochastic_samplers(self, case):
        x = torch.randn(8, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
        t, s = case.grid[len(case.grid) // 2]
        with_noise = case.step(case.predict, x, t, s, torch.randn_like(x))
        without = case.step(case.predict, x, t, s, None)
        assert torch.equal(with_noise, without) != case.noisy

    def test_the_sampler_returns_the_data_distribution(self, case):
        n = 4_000
        generator = torch.Generator().manual_seed(3)
        x_T = torch.randn(n, 1, generator=generator, dtype=torch.float64)
        x, _ = sample_loop(case.predict, x_T, case.grid, case.step, generator, noisy=case.noisy)
        mean, std = float(x.mean()), float(x.std())
        assert abs(mean - MU) < 4 * S / n**0.5 + case.tolerance, (case.name, mean)
        assert abs(std - S) < 4 * S / (2 * n) ** 0.5 + case.tolerance, (case.name, std)


def test_sample_loop_keeps_the_snapshots_asked_for():
    x = torch.zeros(2, 1, dtype=torch.float64)
    grid = ddim_grid(SCHEDULE.T, 5)
    _, chain = sample_loop(exact_eps, x, grid, _ddim(0.0), keep={grid[1][1], None})
    assert [s for s, _ in chain] == [grid[1][1], None]
