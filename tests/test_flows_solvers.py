"""The ODE/SDE steps and loop: pure, of the right order, and exact-in-the-limit on Gaussian data,
where the velocity of flow matching and the noise predictor of the DDPM are known in closed form."""

from __future__ import annotations

from functools import partial

import pytest
import torch

from course_utils.diffusion import ddim_sample, make_schedule
from course_utils.diffusion.sde import log_alpha_bar
from course_utils.flows import (
    euler_maruyama_step,
    euler_step,
    evaluations,
    heun_step,
    integrate,
    sample_probability_flow,
    sample_reverse_sde,
    solve_ode,
    time_grid,
)

MU, S = 0.7, 0.4  # the data: x_1 ~ N(MU, S^2)


def exact_velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """E[x_1 - x_0 | x_t] on the linear path from N(0, 1) to N(MU, S^2): with m_t = t MU and
    v_t = (1 - t)^2 + t^2 S^2, E[x_1 | x_t] = MU + t S^2 (x_t - m_t) / v_t and
    E[x_0 | x_t] = (1 - t) (x_t - m_t) / v_t."""
    t = t.reshape(-1, *([1] * (x.dim() - 1)))
    var = (1 - t) ** 2 + t**2 * S**2
    return MU + (t * S**2 - (1 - t)) / var * (x - t * MU)


def _noise(n: int = 2_000, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 1, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _error(solver: str, steps: int, x0: torch.Tensor) -> float:
    """The flow between Gaussians is affine, x_1 = MU + S x_0: the largest deviation from it."""
    x1 = solve_ode(exact_velocity, x0, time_grid(0.0, 1.0, steps), solver)
    return float((x1 - (MU + S * x0)).abs().max())


def test_heun_needs_far_fewer_steps_than_euler_for_gaussian_data():
    x0 = torch.linspace(-3, 3, 13, dtype=torch.float64)[:, None]
    heun_10, euler_200, euler_20 = (
        _error("heun", 10, x0),
        _error("euler", 200, x0),
        _error("euler", 20, x0),
    )
    assert heun_10 < euler_200 < 0.01, (heun_10, euler_200)  # 20 network evaluations beat 200
    assert euler_20 > 0.05, euler_20  # the same 20 evaluations with Euler
    x1 = solve_ode(exact_velocity, _noise(), time_grid(0.0, 1.0, 10), "heun")
    assert abs(float(x1.mean()) - MU) < 0.03 and abs(float(x1.std()) - S) < 0.03  # N(MU, S^2)


def test_orders_of_convergence():
    x0 = torch.linspace(-3, 3, 7, dtype=torch.float64)[:, None]
    euler = _error("euler", 20, x0) / _error("euler", 40, x0)
    heun = _error("heun", 20, x0) / _error("heun", 40, x0)
    assert 1.8 < euler < 2.2, euler  # first order: halving h halves the error
    assert 3.6 < heun < 4.4, heun  # second order: a quarter


def test_steps_are_pure_and_euler_maruyama_without_noise_is_euler():
    x = _noise(5, seed=1)
    state = torch.random.get_rng_state()
    a, b = heun_step(exact_velocity, x, 0.2, 0.5), heun_step(exact_velocity, x, 0.2, 0.5)
    assert torch.equal(a, b) and torch.equal(torch.random.get_rng_state(), state)
    euler = euler_step(exact_velocity, x, 0.2, 0.5)
    assert torch.equal(
        euler, x + 0.3 * exact_velocity(x, torch.full((5,), 0.2, dtype=torch.float64))
    )
    em = euler_maruyama_step(
        exact_velocity, lambda t: torch.ones_like(t), x, 0.2, 0.5, torch.zeros_like(x)
    )
    assert torch.allclose(em, euler)
    noise = torch.ones_like(x)
    shifted = euler_maruyama_step(
        exact_velocity, lambda t: 2 * torch.ones_like(t), x, 0.5, 0.2, noise
    )
    assert torch.allclose(shifted - euler_step(exact_velocity, x, 0.5, 0.2), 2 * 0.3**0.5 * noise)
    with pytest.raises(ValueError, match="noise"):
        euler_maruyama_step(exact_velocity, torch.ones_like, x, 0.2, 0.5, torch.zeros(3, 1))


def test_integrate_draws_noise_from_its_generator_and_uses_the_last_step():
    x = _noise(4, seed=2)
    g = lambda t: torch.ones_like(t)  # noqa: E731
    step = partial(euler_maruyama_step, exact_velocity, g)
    times = time_grid(0.0, 1.0, 5)
    a = integrate(step, x, times, generator=torch.Generator().manual_seed(3))
    b = integrate(step, x, times, generator=torch.Generator().manual_seed(3))
    c = integrate(step, x, times, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    calls = []
    integrate(
        lambda x, t, tn: calls.append("step") or x,
        x,
        times,
        last_step=lambda x, t, tn: calls.append("last") or x,
    )
    assert calls == ["step"] * 4 + ["last"]
    assert (
        evaluations("euler", 10) == 10
        and evaluations("heun", 10) == 20
        and evaluations("heun", 10, True) == 19
    )
    with pytest.raises(ValueError, match="solver"):
        solve_ode(exact_velocity, x, times, "rk4")
    with pytest.raises(ValueError, match="steps"):
        time_grid(0.0, 1.0, 0)


class ExactEps(torch.nn.Module):
    """The optimal noise predictor for x_0 ~ N(MU, S^2) (design notes): at step t (fractional steps
    through the interpolated schedule),
    eps* = sqrt(1 - abar) (x - sqrt(abar) MU) / (abar S^2 + 1 - abar)."""

    def __init__(self, schedule) -> None:
        super().__init__()
        self.schedule = schedule

    def forward(self, x, t, y=None):
        tau = (t.double() + 1) / self.schedule.T
        abar = (
            log_alpha_bar(self.schedule, tau).exp().reshape(-1, *([1] * (x.dim() - 1))).to(x.dtype)
        )
        return (1 - abar).sqrt() * (x - abar.sqrt() * MU) / (abar * S**2 + 1 - abar)


@pytest.mark.parametrize("solver, steps", [("euler", 200), ("heun", 50)])
def test_probability_flow_ode_of_the_exact_eps_returns_the_data(solver, steps):
    """Between Gaussian marginals the ODE's map is affine: x_T = sqrt(abar_T) MU + sqrt(abar_T S^2 +
    1 - abar_T) xi goes to MU + S xi."""
    schedule = make_schedule(1000, "linear")
    abar_T = float(schedule.alpha_bars[-1])
    xi = torch.linspace(-3, 3, 13, dtype=torch.float64)[:, None]
    x_T = abar_T**0.5 * MU + (abar_T * S**2 + 1 - abar_T) ** 0.5 * xi
    x = sample_probability_flow(
        ExactEps(schedule), schedule, (13, 1), steps, solver, device="cpu", x_T=x_T
    )
    assert float((x - (MU + S * xi)).abs().max()) < 0.01


def test_reverse_sde_of_the_exact_eps_returns_the_data():
    schedule = make_schedule(1000, "linear")
    x = sample_reverse_sde(
        ExactEps(schedule), schedule, (4_000, 1), 100, device="cpu", seed=0
    ).double()
    assert abs(float(x.mean()) - MU) < 0.02 and abs(float(x.std()) - S) < 0.02


def test_ddim_and_the_probability_flow_ode_are_the_same_map():
    """DDIM with eta = 0 discretises the probability-flow ODE: from the same x_T both land on the
    same points (Song et al. 2021, sec. 4.3)."""
    schedule = make_schedule(1000, "linear")
    x_T = torch.linspace(-2.5, 2.5, 11)[:, None]
    ddim = ddim_sample(
        ExactEps(schedule), (11, 1), schedule, steps=1000, device="cpu", x_T=x_T, progress=False
    )
    ode = sample_probability_flow(
        ExactEps(schedule), schedule, (11, 1), 200, "heun", device="cpu", x_T=x_T
    )
    assert torch.allclose(ddim, ode, atol=0.01), (ddim - ode).abs().max()
