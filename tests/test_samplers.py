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
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch

from course_utils.diffusion import make_schedule
from course_utils.diffusion.samplers import ddim_grid, ddim_step, ddpm_step, sample_loop

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
    Case("ddpm", _ddpm, [(t, t - 1) for t in range(SCHEDULE.T - 1, -1, -1)], noisy=True, tolerance=0.03),
    Case("ddim eta=0, 50 steps", _ddim(0.0), ddim_grid(SCHEDULE.T, 50), noisy=False, tolerance=0.035),
    Case("ddim eta=1, 50 steps", _ddim(1.0), ddim_grid(SCHEDULE.T, 50), noisy=True, tolerance=0.07),
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
        assert torch.equal(a, b) and torch.equal(x, keep), "same inputs, same output, input untouched"
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
