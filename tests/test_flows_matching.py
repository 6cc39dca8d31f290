"""Flow matching: the linear path, its target velocity and the loss, against hand-made cases and the
``flow_matching`` package; the eps / score / velocity conversions of a Gaussian path round-trip."""

from __future__ import annotations

import pytest
import torch

from course_utils.diffusion import make_schedule
from course_utils.diffusion.gaussian_path import (
    data_from_eps,
    eps_from_data,
    eps_from_score,
    eps_from_velocity,
    score_from_eps,
    velocity_from_eps,
)
from course_utils.diffusion.sde import log_alpha_bar, vp_beta, vp_coefficients
from course_utils.flows import (
    flow_matching_loss,
    linear_path,
    linear_path_coefficients,
    sample_times,
    target_velocity,
)


def _noise_data_times(n: int = 6, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x0, x1 = torch.randn(2, n, 3, generator=g, dtype=torch.float64)
    return x0, x1, torch.rand(n, generator=g, dtype=torch.float64)


def test_linear_path_ends_and_its_time_derivative_is_the_target():
    x0, x1, t = _noise_data_times()
    assert torch.equal(linear_path(x0, x1, torch.zeros(6, dtype=torch.float64)), x0)
    assert torch.equal(linear_path(x0, x1, torch.ones(6, dtype=torch.float64)), x1)
    t = t.requires_grad_(True)  # d x_t / dt of every coordinate, by autograd
    for i in range(3):
        (d_dt,) = torch.autograd.grad(linear_path(x0, x1, t)[:, i].sum(), t)
        assert torch.allclose(d_dt, target_velocity(x0, x1)[:, i])
    with pytest.raises(ValueError, match="same shape"):
        linear_path(x0, x1[:, :2], t)


def test_loss_is_zero_for_the_exact_velocity_of_a_single_data_point():
    """For data concentrated at c the marginal velocity is v*(x, t) = (c - x) / (1 - t): every
    conditional target x_1 - x_0 equals it, so the loss vanishes; a zero field pays E|c - x_0|^2."""
    c = torch.tensor([1.5, -0.5], dtype=torch.float64)
    x1 = c.expand(4000, 2)

    def exact(x, t):
        return (c - x) / (1 - t[:, None])

    generator = torch.Generator().manual_seed(1)
    assert float(flow_matching_loss(exact, x1, generator)) < 1e-20
    zero = float(
        flow_matching_loss(lambda x, t: torch.zeros_like(x), x1, torch.Generator().manual_seed(1))
    )
    assert abs(zero - (float((c**2).sum()) + 2) / 2) < 0.1  # the mean over 2 coordinates


def test_loss_passes_labels_and_time_samplings():
    seen = {}

    def velocity(x, t, y):
        seen["t"], seen["y"] = t, y
        return torch.zeros_like(x)

    x1 = torch.zeros(500, 2)
    flow_matching_loss(
        velocity,
        x1,
        torch.Generator().manual_seed(2),
        labels=torch.arange(500),
        time_sampling="logit-normal",
    )
    assert (
        torch.equal(seen["y"], torch.arange(500))
        and 0 < float(seen["t"].min())
        and float(seen["t"].max()) < 1
    )
    assert (
        abs(float(seen["t"].mean()) - 0.5) < 0.03 and float(seen["t"].std()) < 0.25
    )  # logit-normal: near 1/2
    with pytest.raises(ValueError, match="time sampling"):
        sample_times(3, "beta")


def test_path_and_target_agree_with_the_flow_matching_package():
    fm_path = pytest.importorskip("flow_matching.path")
    scheduler = pytest.importorskip("flow_matching.path.scheduler")
    x0, x1, t = _noise_data_times(seed=3)
    theirs = fm_path.AffineProbPath(scheduler=scheduler.CondOTScheduler()).sample(
        x_0=x0, x_1=x1, t=t
    )
    assert torch.allclose(linear_path(x0, x1, t), theirs.x_t)
    assert torch.allclose(target_velocity(x0, x1), theirs.dx_t)


@pytest.mark.parametrize("name", ["CondOTScheduler", "CosineScheduler", "VPScheduler"])
def test_eps_velocity_conversions_agree_with_the_flow_matching_package(name):
    fm_path = pytest.importorskip("flow_matching.path")
    scheduler = getattr(pytest.importorskip("flow_matching.path.scheduler"), name)()
    path = fm_path.AffineProbPath(scheduler=scheduler)
    x0, x1, t = _noise_data_times(seed=4)
    t = 0.05 + 0.9 * t
    xt = path.sample(x_0=x0, x_1=x1, t=t).x_t
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    c = scheduler(t)
    coefficients = [v[:, None] for v in (c.alpha_t, c.sigma_t, c.d_alpha_t, c.d_sigma_t)]
    v = velocity_from_eps(xt, eps, *coefficients)
    assert torch.allclose(v, path.epsilon_to_velocity(eps, xt, t[:, None]))
    assert torch.allclose(
        eps_from_velocity(xt, v, *coefficients), path.velocity_to_epsilon(v, xt, t[:, None])
    )


def test_conversions_round_trip_and_match_the_linear_path_by_hand():
    x0, x1, t = _noise_data_times(seed=6)
    a, s, da, ds = linear_path_coefficients(t[:, None])
    xt = linear_path(x0, x1, t)
    eps = x0  # the noise of the linear path
    assert torch.allclose(data_from_eps(xt, eps, a, s), x1)
    assert torch.allclose(eps_from_data(xt, x1, a, s), eps)
    assert torch.allclose(eps_from_score(score_from_eps(eps, s), s), eps)
    v = velocity_from_eps(xt, eps, a, s, da, ds)
    assert torch.allclose(v, target_velocity(x0, x1))  # eps and x_t pin the straight line down
    assert torch.allclose(v, (xt - eps) / t[:, None])  # by hand: x_1 = (x_t - (1 - t) eps) / t
    assert torch.allclose(eps_from_velocity(xt, v, a, s, da, ds), eps)


def test_vp_coefficients_of_the_ddpm_schedule():
    schedule = make_schedule(1000, "linear")
    steps = torch.tensor([0, 10, 499, 999])
    tau = ((steps + 1) / 1000).double()  # step t sits at tau = (t + 1) / T
    assert torch.allclose(
        log_alpha_bar(schedule, tau).exp(), schedule.alpha_bars[steps].double(), rtol=1e-6
    )
    assert float(log_alpha_bar(schedule, torch.zeros(1, dtype=torch.float64))) == 0.0
    assert torch.allclose(vp_beta(schedule, tau), 1000 * schedule.betas[steps].double(), rtol=0.02)
    inside = torch.tensor(
        [0.2503, 0.7777], dtype=torch.float64
    )  # derivatives by central differences
    h = 1e-7
    alpha, sigma, d_alpha, d_sigma = vp_coefficients(schedule, inside)
    plus, minus = vp_coefficients(schedule, inside + h), vp_coefficients(schedule, inside - h)
    assert torch.allclose(d_alpha, (plus[0] - minus[0]) / (2 * h), rtol=1e-5)
    assert torch.allclose(d_sigma, (plus[1] - minus[1]) / (2 * h), rtol=1e-5)
    assert torch.allclose(alpha**2 + sigma**2, torch.ones(2, dtype=torch.float64))
