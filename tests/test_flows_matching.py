"""Flow matching: the linear path, its target velocity and the loss, against hand-made cases and the
``flow_matching`` package; the eps / score / velocity conversions of a Gaussian path round-trip;
the DDPM/DDIM step of any Gaussian path (``gaussian_path.posterior_step``) keeps the marginals, and
on the linear path its deterministic form is Euler's step."""

from __future__ import annotations

import pytest
import torch

from course_utils.diffusion import make_schedule
from course_utils.diffusion.gaussian_path import (
    data_from_eps,
    data_from_velocity,
    eps_from_data,
    eps_from_score,
    eps_from_velocity,
    posterior_sigma,
    posterior_step,
    score_from_eps,
    velocity_from_eps,
)
from course_utils.diffusion.samplers import ddim_sigma
from course_utils.diffusion.sde import log_alpha_bar, vp_beta, vp_coefficients
from course_utils.flows import (
    ancestral_step,
    euler_step,
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
    assert torch.allclose(
        data_from_velocity(xt, v, *coefficients), path.velocity_to_target(v, xt, t[:, None])
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
    assert torch.allclose(data_from_velocity(xt, v, a, s, da, ds), x1)
    assert torch.allclose(data_from_velocity(xt, v, a, s, da, ds), xt + (1 - t[:, None]) * v)


def test_velocity_conversions_hold_at_pure_noise():
    """At t = 0 (alpha = 0) x_t is the noise itself and x_1_hat = x_t + v: eq. (5), no 0 / 0."""
    x, v = torch.randn(2, 4, 3, dtype=torch.float64)
    coefficients = linear_path_coefficients(0.0)
    assert torch.equal(eps_from_velocity(x, v, *coefficients), x)
    assert torch.allclose(data_from_velocity(x, v, *coefficients), x + v)


def _posterior_variance(a_t, s_t, a_s, s_s):
    """Var q(x_s | x_t, x) of the chain q(x_t | x_s) = N((a_t / a_s) x_s, s_t^2 - (a_t / a_s)^2
    s_s^2): the transition's variance times s_s^2 / s_t^2 (Kingma et al. 2021, eq. 25)."""
    transition = s_t**2 - (a_t / a_s) ** 2 * s_s**2
    return transition * s_s**2 / s_t**2


def test_posterior_sigma_is_the_chains_posterior_and_ddims_sigma():
    t = torch.tensor([0.0, 0.1, 0.4, 0.7], dtype=torch.float64)  # linear path, t -> s > t
    s = torch.tensor([0.05, 0.3, 0.9, 1.0], dtype=torch.float64)
    c = posterior_sigma(t, 1 - t, s, 1 - s, 1.0)
    assert torch.allclose(c**2, _posterior_variance(t, 1 - t, s, 1 - s))
    assert torch.allclose(posterior_sigma(t, 1 - t, s, 1 - s, 0.3), 0.3 * c)
    abar_t = torch.tensor([0.01, 0.2, 0.5, 0.9], dtype=torch.float64)  # VP path, abar_s > abar_t
    abar_s = torch.tensor([0.1, 0.5, 0.6, 1.0], dtype=torch.float64)
    song = ((1 - abar_s) / (1 - abar_t) * (1 - abar_t / abar_s)).sqrt()  # Song et al. eq. 16
    assert torch.allclose(ddim_sigma(abar_t, abar_s, 1.0), song)
    assert torch.allclose(
        song**2, _posterior_variance(abar_t.sqrt(), (1 - abar_t).sqrt(), abar_s.sqrt(),
                                     (1 - abar_s).sqrt())
    )


@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
def test_posterior_step_with_the_true_data_keeps_the_marginal(eta):
    """Given the clean x and the true eps, x_t ~ N(alpha_t x, sigma_t^2) steps to x_s ~ N(alpha_s x,
    sigma_s^2) for every eta (the DDIM property): mean and std of 200,000 draws."""
    n, x, (t, s) = 200_000, 0.8, (0.3, 0.6)
    g = torch.Generator().manual_seed(7)
    eps, z = torch.randn(2, n, generator=g, dtype=torch.float64)
    x_t = t * x + (1 - t) * eps
    c = posterior_sigma(t, 1 - t, s, 1 - s, eta)
    x_s = posterior_step(torch.full_like(x_t, x), eps, s, 1 - s, c, z)
    assert abs(float(x_s.mean()) - s * x) < 0.005
    assert abs(float(x_s.std()) - (1 - s)) < 0.005


def test_the_ancestral_step_without_noise_is_eulers_step():
    """eta = 0 on the linear path: t x_1_hat + (1 - t_next) eps = x + (t_next - t) v, exactly."""
    weight = torch.randn(3, 3, generator=torch.Generator().manual_seed(8), dtype=torch.float64)

    def velocity(x, t):
        return torch.tanh(x @ weight) + t[:, None] * x

    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    for t, t_next in ((0.0, 0.1), (0.35, 0.6), (0.9, 1.0)):
        deterministic = ancestral_step(velocity, x, t, t_next, None, eta=0.0)
        assert torch.allclose(deterministic, euler_step(velocity, x, t, t_next), atol=1e-12)
        noisy = ancestral_step(velocity, x, t, t_next, torch.ones_like(x), eta=1.0)
        assert torch.equal(noisy, ancestral_step(velocity, x, t, t_next, None)) == (t_next == 1.0)


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
