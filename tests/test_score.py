"""Score-based models: Langevin on a Gaussian, exact mixture scores,
Tweedie, denoising score matching."""

import pytest
import torch

from course_utils.summary.score_matching import (
    ScoreNet,
    annealed_langevin,
    dsm_loss,
    gmm_log_prob,
    gmm_params,
    gmm_sample,
    gmm_score,
    langevin,
    max_stable_eps,
    noise_levels,
    train_score_model,
    tweedie_denoise,
)


def test_langevin_on_a_gaussian_reaches_its_mean_and_variance():
    mu, s, eta = torch.tensor([1.0, -2.0]), 0.5, 0.01
    score = lambda x: -(x - mu) / s**2  # noqa: E731 - grad log N(mu, s^2 I)
    x = langevin(score, torch.zeros(20_000, 2), eta, 500, torch.Generator().manual_seed(0))
    assert torch.allclose(x.mean(0), mu, atol=0.02)
    # x <- x + (eta/2) s(x) + sqrt(eta) z: a 1% bias here
    stationary = s**2 / (1 - eta / (4 * s**2))
    assert torch.allclose(x.var(0), torch.full((2,), stationary), rtol=0.05)


def test_langevin_on_a_gaussian_is_stable_below_eta_4s2_and_diverges_above():
    s = 0.5
    score = lambda x: -x / s**2  # noqa: E731
    below = langevin(score, torch.zeros(5_000, 1), 0.9 * 4 * s**2, 200,
                     torch.Generator().manual_seed(0))
    assert torch.isfinite(below).all()
    # stationary s^2 / (1 - eta / (4 s^2))
    assert float(below.var()) == pytest.approx(s**2 / (1 - 0.9), rel=0.1)
    above = langevin(score, torch.zeros(100, 1), 1.1 * 4 * s**2, 200,
                     torch.Generator().manual_seed(0))
    assert float(above.abs().max()) > 1e6


def test_annealed_langevin_takes_song_and_ermons_steps():
    """Alg. 1: alpha_i = eps sigma_i^2 / sigma_L^2, then x <- x + (alpha_i / 2) s + sqrt(alpha_i) z.

    With a constant score c from x = 0, after T steps per level: mean (T/2) sum_i
    alpha_i c, variance T sum_i alpha_i.
    """
    sigmas, eps, steps = noise_levels(1.0, 0.1, 4), 1e-3, 25
    c = torch.tensor([2.0, -1.0])
    path = annealed_langevin(lambda x, sg: c.expand_as(x), torch.zeros(40_000, 2), sigmas, steps,
                             eps=eps, generator=torch.Generator().manual_seed(0))
    total = steps * float((eps * sigmas**2 / sigmas[-1] ** 2).sum())
    assert torch.allclose(path[-1].mean(0), total / 2 * c, rtol=0.03)
    assert torch.allclose(path[-1].var(0), torch.full((2,), total), rtol=0.03)
    first = steps * eps * float(sigmas[0] ** 2 / sigmas[-1] ** 2)
    assert torch.allclose(path[0].var(0), torch.full((2,), first), rtol=0.03)


def test_annealed_langevin_refuses_an_unstable_step():
    sigmas = noise_levels(6.0, 0.05, 10)
    assert max_stable_eps(sigmas) == pytest.approx(4 * 0.05**2)
    with pytest.raises(ValueError, match="unstable"):
        annealed_langevin(lambda x, sg: -x / sg**2, torch.zeros(4, 2), sigmas, 5, eps=0.02)
    # the default step is stable with the default ladder and with the notebook's
    params = gmm_params(3, 3.0, 0.35)
    for ladder in (noise_levels(), sigmas):
        path = annealed_langevin(lambda x, sg: gmm_score(params, x, sg), 6 * torch.randn(500, 2),
                                 ladder, 20)
        assert torch.isfinite(path[-1]).all()


def test_gmm_score_is_the_gradient_of_the_log_density():
    params = gmm_params(3, 3.0, 0.4, (0.5, 0.3, 0.2))
    x = torch.randn(50, 2, dtype=torch.float64, requires_grad=True) * 3
    (grad,) = torch.autograd.grad(gmm_log_prob(params, x, 0.7).sum(), x)
    assert torch.allclose(gmm_score(params, x.detach(), 0.7), grad, atol=1e-8)
    z = gmm_log_prob(params, torch.zeros(1, 2, dtype=torch.float64), 0.0)
    assert torch.isfinite(z).all()


def test_tweedie_with_the_exact_score_is_the_posterior_mean():
    """One Gaussian mode x ~ N(m, s^2): E[x | x~] = m + s^2 / (s^2 + sigma^2) (x~ - m)."""
    params = gmm_params(1, 2.0, 0.5)
    m, s, sigma = params["means"][0], 0.5, 0.8
    x_noisy = torch.randn(10, 2)
    denoised = tweedie_denoise(lambda y, sg: gmm_score(params, y, sg), x_noisy, sigma)
    assert torch.allclose(denoised, m + s**2 / (s**2 + sigma**2) * (x_noisy - m), atol=1e-5)


def test_the_exact_score_minimises_denoising_score_matching():
    params = gmm_params(3, 3.0, 0.4)
    data = gmm_sample(params, 4000, torch.Generator().manual_seed(0))
    sigmas = noise_levels(2.0, 0.2, 4)
    exact = lambda x, sigma: gmm_score(params, x, sigma)  # noqa: E731
    wrong = lambda x, sigma: 0.8 * gmm_score(params, x, sigma)  # noqa: E731
    loss_exact = float(dsm_loss(exact, data, sigmas, torch.Generator().manual_seed(1)))
    loss_wrong = float(dsm_loss(wrong, data, sigmas, torch.Generator().manual_seed(1)))
    assert loss_exact < loss_wrong


def test_annealed_langevin_with_the_exact_score_recovers_the_mode_weights():
    params = gmm_params(3, 3.0, 0.3, (0.6, 0.3, 0.1))
    sigmas = noise_levels(6.0, 0.05, 10)  # sigma_1 larger than the distance between modes
    gen = torch.Generator().manual_seed(0)
    path = annealed_langevin(lambda x, sg: gmm_score(params, x, sg),
                             6.0 * torch.randn(6000, 2, generator=gen), sigmas, 100, eps=5e-4,
                             generator=gen)
    nearest = torch.cdist(path[-1], params["means"]).argmin(1)
    fractions = torch.bincount(nearest, minlength=3).float() / len(nearest)
    assert torch.allclose(fractions, params["weights"], atol=0.03)


def test_training_the_score_net_lowers_the_loss():
    params = gmm_params(2, 2.0, 0.3)
    data = gmm_sample(params, 2000, torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    model = ScoreNet(hidden=32)
    history = train_score_model(model, data, noise_levels(2.0, 0.1, 5), steps=300, batch_size=128,
                                progress=False)
    assert sum(history["loss"][-50:]) / 50 < sum(history["loss"][:50]) / 50


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="step_size"):
        langevin(lambda x: x, torch.zeros(2, 2), -0.1, 10)
    with pytest.raises(ValueError, match="decreasing"):
        annealed_langevin(lambda x, s: x, torch.zeros(2, 2), torch.tensor([0.1, 1.0]), 5)
    with pytest.raises(ValueError, match="eps"):
        annealed_langevin(lambda x, s: x, torch.zeros(2, 2), torch.tensor([1.0, 0.1]), 5, eps=0.0)
    with pytest.raises(ValueError, match="sigma_max"):
        noise_levels(0.1, 1.0, 5)
    with pytest.raises(ValueError, match="weights"):
        gmm_params(2, weights=(0.5, 0.6))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        gmm_score(gmm_params(2), torch.zeros(3, 3))
