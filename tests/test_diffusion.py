"""Tests for course_utils.diffusion (schedules, forward, samplers, training, unet; fast, CPU)."""
import pytest
import torch

from course_utils.diffusion import (
    EMA,
    ddim_sample,
    ddpm_sample,
    diffusion_loss,
    make_schedule,
    optimal_eps_mse,
    posterior_mean_variance,
    q_sample,
    train_diffusion,
)
from course_utils.diffusion.unet import MLPDenoiser, SmallUNet


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_schedule_monotone_and_in_range(kind):
    s = make_schedule(1000, kind)
    assert s.betas.min() > 0 and s.betas.max() < 1
    assert torch.all(s.alpha_bars[1:] < s.alpha_bars[:-1])
    assert s.alpha_bars[-1] < 1e-3
    if kind == "linear":
        assert torch.all(s.betas[1:] >= s.betas[:-1])
        assert s.betas[0] == pytest.approx(1e-4) and s.betas[-1] == pytest.approx(0.02)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
@pytest.mark.parametrize("T", [25, 50, 100, 1000, 4000])
def test_x_T_is_pure_noise_for_every_number_of_steps(kind, T):
    s = make_schedule(T, kind)
    assert s.alpha_bars[-1].sqrt() < 0.01, (f"{kind}, T={T}: x_T keeps "
                                            f"{s.alpha_bars[-1].sqrt():.3f} of x_0")
    assert s.betas.max() < 1


def test_too_few_steps_for_the_linear_schedule_is_a_clear_error():
    with pytest.raises(ValueError, match="cosine"):
        make_schedule(20, "linear")
    assert make_schedule(10, "cosine").alpha_bars[-1].sqrt() < 0.01
    with pytest.raises(ValueError, match="beta_start <= beta_end"):
        make_schedule(100, "linear", 0.5, 1.5)


def test_closed_form_matches_step_by_step_chain():
    torch.manual_seed(0)
    s = make_schedule(100, "linear", 1e-3, 0.05)
    x0 = torch.full((200_000, 1), 1.5)
    x = x0.clone()
    t = 37
    for i in range(t + 1):  # x_i = sqrt(alpha_i) x_{i-1} + sqrt(beta_i) eps
        x = s.alphas[i].sqrt() * x + s.betas[i].sqrt() * torch.randn_like(x)
    closed = q_sample(x0, torch.full((len(x0),), t), s)
    abar = s.alpha_bars[t]
    for sample in (x, closed):
        assert sample.mean().item() == pytest.approx(abar.sqrt().item() * 1.5, abs=0.01)
        assert sample.var().item() == pytest.approx(1 - abar.item(), abs=0.01)


def test_posterior_matches_bayes_in_1d():
    """q(x_{t-1}|x_t,x_0) is proportional to q(x_t|x_{t-1})
    q(x_{t-1}|x_0): product of two Gaussians."""
    s = make_schedule(50, "cosine")
    t = 20
    x0, xt = torch.tensor([[0.7]]), torch.tensor([[-0.3]])
    mean, var = posterior_mean_variance(x0, xt, torch.tensor([t]), s)
    a, b, ab_prev = s.alphas[t].double(), s.betas[t].double(), s.alpha_bars[t - 1].double()
    # likelihood in x_{t-1}: N(x_t; sqrt(a) x, b)  -> precision a/b, mean xt/sqrt(a)
    prec = a / b + 1 / (1 - ab_prev)
    bayes_var = 1 / prec
    bayes_mean = bayes_var * (a.sqrt() * xt.double() / b + ab_prev.sqrt() * x0.double()
                              / (1 - ab_prev))
    assert var.item() == pytest.approx(bayes_var.item(), rel=1e-4)
    assert mean.item() == pytest.approx(bayes_mean.item(), rel=1e-4)


def test_optimal_eps_mse_of_plus_minus_one_pixels_matches_monte_carlo_and_peaks_in_between():
    """For x_0 = +-1 the best predictor is
    E[eps | x_t] = (x_t - sqrt(abar) tanh(sqrt(abar) x_t / (1 - abar))) / sqrt(1 - abar);
    its mean squared error on fresh draws must match the quadrature, and that floor is ~0 at
    small and large t and largest at intermediate t (not "mostly at large t")."""
    s = make_schedule(1000)
    floor = optimal_eps_mse(s)
    assert floor.shape == (1000,) and floor.dtype == torch.float64
    gen = torch.Generator().manual_seed(0)
    for t in (100, 220, 500, 700):
        x0 = torch.where(torch.rand(400_000, generator=gen, dtype=torch.float64) < 0.5, -1.0, 1.0)
        eps = torch.randn(400_000, generator=gen, dtype=torch.float64)
        abar = s.alpha_bars[t].double()
        xt = abar.sqrt() * x0 + (1 - abar).sqrt() * eps
        best = (xt - abar.sqrt() * torch.tanh(abar.sqrt() * xt / (1 - abar))) / (1 - abar).sqrt()
        squared = (eps - best) ** 2
        mse, standard_error = squared.mean().item(), squared.std().item() / len(squared) ** 0.5
        assert abs(mse - floor[t].item()) < 4 * standard_error, f"t = {t}: {mse:.4f}"
        assert ((eps - 0.9 * best) ** 2).mean().item() > mse  # another predictor does worse
    assert floor[:51].max() < 1e-5 and floor[700:].max() < 0.01
    assert 100 < int(floor.argmax()) < 500 and floor.max() > 0.4
    assert floor[200].item() == pytest.approx(0.467, abs=0.002)
    assert floor[500].item() == pytest.approx(0.078, abs=0.002)


def test_loss_decreases_on_tiny_run():
    torch.manual_seed(0)
    data = torch.randn(512, 2) * 0.1 + torch.tensor([1.0, -1.0])
    s = make_schedule(100)
    model = MLPDenoiser(hidden=64)
    _, history = train_diffusion(model, data, s, steps=300, batch_size=128, lr=2e-3, warmup=10,
                                 progress=False, log_every=50)
    assert history["loss"][-1] < 0.7 * history["loss"][0]


def test_samplers_shapes_and_finite_values():
    torch.manual_seed(0)
    s = make_schedule(30)
    model = SmallUNet((8, 16), t_dim=16)
    x = ddpm_sample(model, (3, 1, 28, 28), s, progress=False, clip=1.0)
    assert x.shape == (3, 1, 28, 28) and torch.isfinite(x).all() and x.abs().max() <= 1.0 + 1e-5
    a = ddim_sample(model, (3, 1, 28, 28), s, steps=5, seed=1, progress=False)
    assert a.shape == (3, 1, 28, 28) and torch.isfinite(a).all()
    assert diffusion_loss(model, x, s).ndim == 0


class ExactEps(torch.nn.Module):
    """The optimal noise predictor when x_0 ~ N(mu, s^2) (no training needed):
    eps*(x_t, t) = E[eps | x_t] = sqrt(1 - abar_t) (x_t - sqrt(abar_t) mu)
    / (abar_t s^2 + 1 - abar_t)."""

    def __init__(self, schedule, mu=2.0, s=0.5):
        super().__init__()
        self.abar, self.mu, self.s = schedule.alpha_bars, mu, s

    def forward(self, x, t):
        abar = self.abar[t].reshape(-1, *([1] * (x.dim() - 1)))
        return (1 - abar).sqrt() * (x - abar.sqrt() * self.mu) / (abar * self.s**2 + 1 - abar)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim-1000", "ddim-200", "ddim-50", "ddim-50-eta1"])
def test_samplers_with_the_exact_noise_predictor_return_the_data_distribution(sampler):
    """With eps* plugged in, DDPM and DDIM must turn N(0, 1) noise into N(mu, s^2) = N(2, 0.25).
    mu = 2 lies outside [-1, 1]: a sampler that clipped by default would fail here."""
    s = make_schedule(1000)
    model, shape = ExactEps(s), (5_000, 1)
    if sampler == "ddpm":
        x = ddpm_sample(model, shape, s, seed=0, progress=False)
    else:
        steps = int(sampler.split("-")[1])
        x = ddim_sample(model, shape, s, steps, seed=0, progress=False,
                        eta=1.0 if "eta1" in sampler else 0.0)
    # 50 steps plug the point estimate E[x_0 | x_t] in where the chain needs x_0 itself: the coarse
    # steps lose some of the spread (std 0.47 deterministic, 0.45 with eta = 1); 200+ steps do not.
    tolerance = 0.07 if sampler.startswith("ddim-50") else 0.02
    assert x.mean().item() == pytest.approx(2.0, abs=0.02)
    assert x.std().item() == pytest.approx(0.5, abs=tolerance)


def test_ddim_with_one_step_jumps_from_noise_to_the_data_mean():
    s = make_schedule(1000)
    x = ddim_sample(ExactEps(s), (2_000, 1), s, steps=1, seed=0, progress=False)
    assert x.mean().item() == pytest.approx(2.0, abs=0.02)  # one step: x0_hat = E[x_0 | x_T] ~ mu


def test_ddim_eta0_is_deterministic_given_x_T_and_stochastic_samplers_are_not():
    s = make_schedule(100)
    model = MLPDenoiser(hidden=16)
    x_T = torch.randn(64, 2)
    a = ddim_sample(model, (64, 2), s, steps=10, seed=1, x_T=x_T, progress=False)
    b = ddim_sample(model, (64, 2), s, steps=10, seed=2, x_T=x_T, progress=False)
    assert torch.equal(a, b), "DDIM with eta = 0 must not use any randomness after x_T"
    c = ddim_sample(model, (64, 2), s, steps=10, seed=1, x_T=x_T, eta=1.0, progress=False)
    d = ddim_sample(model, (64, 2), s, steps=10, seed=2, x_T=x_T, eta=1.0, progress=False)
    assert not torch.allclose(c, d), "with eta = 1 each seed adds different noise"
    e = ddpm_sample(model, (64, 2), s, seed=1, progress=False)
    f = ddpm_sample(model, (64, 2), s, seed=2, progress=False)
    assert not torch.allclose(e, f)


def test_ema_warmup_and_update():
    model = torch.nn.Linear(1, 1, bias=False)
    ema = EMA(model, 0.999)
    with torch.no_grad():
        model.weight.fill_(1.0)
        ema.model.weight.fill_(0.0)
    ema.update(model)  # first decay is 2/11
    assert ema.model.weight.item() == pytest.approx(1 - 2 / 11)


def test_bad_input_is_a_clear_error():
    s = make_schedule(10, "cosine")
    x = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="0..9"):
        q_sample(x, torch.full((4,), 10), s)
    with pytest.raises(ValueError, match="one time step per sample"):
        q_sample(x, torch.zeros(3, dtype=torch.long), s)
    with pytest.raises(ValueError, match="same shape"):
        posterior_mean_variance(x, torch.zeros(4, 3), torch.zeros(4, dtype=torch.long), s)
    with pytest.raises(ValueError, match="28, 28"):
        SmallUNet((8, 16))(torch.zeros(2, 1, 32, 32), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="linear"):
        make_schedule(10, "quadratic")
    with pytest.raises(ValueError, match="DDIM steps"):
        ddim_sample(MLPDenoiser(), (2, 2), s, steps=11, progress=False)
    with pytest.raises(ValueError, match="eta"):
        ddim_sample(MLPDenoiser(), (2, 2), s, steps=5, eta=2.0, progress=False)
    with pytest.raises(ValueError, match="x_T"):
        ddim_sample(MLPDenoiser(), (2, 2), s, steps=5, x_T=torch.zeros(3, 2), progress=False)
    with pytest.raises(ValueError, match="integer time steps"):
        q_sample(x, torch.zeros(4), s)


def test_unet_channels_not_divisible_by_the_group_count_is_a_clear_error():
    from course_utils.diffusion.unet import SmallUNet

    with pytest.raises(ValueError, match="multiples of 8"):
        SmallUNet((4, 8))


def test_conditional_unet_uses_the_label_and_minus_one_means_no_label():
    torch.manual_seed(0)
    model = SmallUNet((8, 16), t_dim=16, num_classes=10).eval()
    with torch.no_grad():
        model.label_emb.weight.normal_()  # make the labels matter before any training
    x, t = torch.randn(3, 1, 28, 28), torch.tensor([5, 50, 500])
    none = model(x, t)
    assert torch.equal(none, model(x, t, torch.tensor([-1, -1, -1])))
    assert not torch.allclose(model(x, t, torch.tensor([0, 1, 2])), none)
    with pytest.raises(ValueError, match="0..9"):
        model(x, t, torch.tensor([0, 1, 10]))
    with pytest.raises(ValueError, match="one integer label per image"):
        model(x, t, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="without num_classes"):
        SmallUNet((8, 16), t_dim=16)(x, t, torch.tensor([0, 1, 2]))


def test_classifier_free_guidance_combines_the_two_predictions():
    from course_utils.diffusion import guided_eps

    torch.manual_seed(0)
    model = SmallUNet((8, 16), t_dim=16, num_classes=10).eval()
    with torch.no_grad():
        model.label_emb.weight.normal_()
    x, t, y = torch.randn(4, 1, 28, 28), torch.full((4,), 300), torch.tensor([3, 1, 4, 1])
    with torch.no_grad():
        cond, uncond = model(x, t, y), model(x, t)
        assert torch.allclose(guided_eps(model, x, t, y, 1.0), cond, atol=1e-6)
        assert torch.allclose(guided_eps(model, x, t, y, 0.0), uncond, atol=1e-6)
        assert torch.allclose(guided_eps(model, x, t, y, 3.0), uncond + 3 * (cond - uncond),
                              atol=1e-5)
        assert torch.equal(guided_eps(model, x, t), uncond)


def test_conditional_training_and_guided_sampling_run():
    torch.manual_seed(0)
    data, labels = torch.randn(64, 1, 28, 28).clamp(-1, 1), torch.arange(64) % 10
    s = make_schedule(50)
    model = SmallUNet((8, 16), t_dim=16, num_classes=10)
    ema, history = train_diffusion(model, data, s, steps=3, batch_size=16, progress=False,
                                   labels=labels)
    x = ddim_sample(ema.model, (4, 1, 28, 28), s, 5, labels=torch.tensor([0, 1, 2, 3]),
                    guidance=3.0, clip=1.0, progress=False)
    assert x.shape == (4, 1, 28, 28) and torch.isfinite(x).all()
    with pytest.raises(ValueError, match="one class per training example"):
        train_diffusion(model, data, s, steps=1, progress=False, labels=labels[:10])
    with pytest.raises(ValueError, match="p_uncond"):
        train_diffusion(model, data, s, steps=1, progress=False, labels=labels, p_uncond=1.0)
    with pytest.raises(ValueError, match="one class per sample"):
        ddim_sample(ema.model, (4, 1, 28, 28), s, 5, labels=torch.tensor([0, 1]), progress=False)
