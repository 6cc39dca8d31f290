"""Tests for course_utils.diffusion and course_utils.unet (fast, CPU)."""
import pytest
import torch

from course_utils.diffusion import (
    EMA, ddim_sample, ddpm_sample, diffusion_loss, make_schedule, posterior_mean_variance, q_sample,
    train_diffusion,
)
from course_utils.unet import MLPDenoiser, SmallUNet


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_schedule_monotone_and_in_range(kind):
    s = make_schedule(1000, kind)
    assert s.betas.min() > 0 and s.betas.max() < 1
    assert torch.all(s.alpha_bars[1:] < s.alpha_bars[:-1])
    assert s.alpha_bars[-1] < 1e-3
    if kind == "linear":
        assert torch.all(s.betas[1:] >= s.betas[:-1])
        assert s.betas[0] == pytest.approx(1e-4) and s.betas[-1] == pytest.approx(0.02)


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
    """q(x_{t-1}|x_t,x_0) is proportional to q(x_t|x_{t-1}) q(x_{t-1}|x_0): product of two Gaussians."""
    s = make_schedule(50, "cosine")
    t = 20
    x0, xt = torch.tensor([[0.7]]), torch.tensor([[-0.3]])
    mean, var = posterior_mean_variance(x0, xt, torch.tensor([t]), s)
    a, b, ab_prev = s.alphas[t].double(), s.betas[t].double(), s.alpha_bars[t - 1].double()
    # likelihood in x_{t-1}: N(x_t; sqrt(a) x, b)  -> precision a/b, mean xt/sqrt(a)
    prec = a / b + 1 / (1 - ab_prev)
    bayes_var = 1 / prec
    bayes_mean = bayes_var * (a.sqrt() * xt.double() / b + ab_prev.sqrt() * x0.double() / (1 - ab_prev))
    assert var.item() == pytest.approx(bayes_var.item(), rel=1e-4)
    assert mean.item() == pytest.approx(bayes_mean.item(), rel=1e-4)


def test_loss_decreases_on_tiny_run():
    torch.manual_seed(0)
    data = torch.randn(512, 2) * 0.1 + torch.tensor([1.0, -1.0])
    s = make_schedule(100)
    model = MLPDenoiser(hidden=64)
    _, history = train_diffusion(model, data, s, steps=300, batch_size=128, lr=2e-3, warmup=10, progress=False, log_every=50)
    assert history["loss"][-1] < 0.7 * history["loss"][0]


def test_samplers_shapes_finite_and_ddim_deterministic():
    torch.manual_seed(0)
    s = make_schedule(20)
    model = SmallUNet((8, 16), t_dim=16)
    x = ddpm_sample(model, (3, 1, 28, 28), s, progress=False)
    assert x.shape == (3, 1, 28, 28) and torch.isfinite(x).all()
    a = ddim_sample(model, (3, 1, 28, 28), s, steps=5, seed=1, progress=False)
    b = ddim_sample(model, (3, 1, 28, 28), s, steps=5, seed=1, progress=False)
    assert a.shape == (3, 1, 28, 28) and torch.isfinite(a).all()
    assert torch.equal(a, b)
    assert diffusion_loss(model, x, s).ndim == 0


def test_ema_warmup_and_update():
    model = torch.nn.Linear(1, 1, bias=False)
    ema = EMA(model, 0.999)
    with torch.no_grad():
        model.weight.fill_(1.0)
        ema.model.weight.fill_(0.0)
    ema.update(model)  # first decay is 2/11
    assert ema.model.weight.item() == pytest.approx(1 - 2 / 11)


def test_bad_input_is_a_clear_error():
    s = make_schedule(10)
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


def test_unet_channels_not_divisible_by_the_group_count_is_a_clear_error():
    from course_utils.unet import SmallUNet

    with pytest.raises(ValueError, match="multiples of 8"):
        SmallUNet((4, 8))
