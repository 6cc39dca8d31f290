"""The Ising DDPM's parts (course_utils.ising.diffusion): the spin posterior's loss, the noise an
x_0 implies, the uncentred norm that keeps the magnetisation, the torus, the exact spin-flip
symmetry of the samples, and readable errors. Fast: tiny lattices, a few training steps."""
from __future__ import annotations

import math

import pytest
import torch

from course_utils.diffusion import make_schedule, q_sample
from course_utils.ising.diffusion import (
    IsingDDPM,
    IsingDDPMConfig,
    LatticeDenoiser,
    RMSGroupNorm,
    eps_from_x0,
    sample_ising_ddpm,
    spin_loss,
    train_ising_ddpm,
)


def _tiny(**fields) -> IsingDDPM:
    config = IsingDDPMConfig(size=8, temperatures=(2.0, 3.0), channels=8, blocks=2,
                             diffusion_steps=20, train_steps=3, batch_size=8, **fields)
    torch.manual_seed(0)
    return IsingDDPM(config)


def test_spin_loss_is_the_cross_entropy_of_exp_hs_over_2_cosh_h():
    h = torch.tensor([-2.0, -0.3, 0.0, 0.7, 3.0])
    s = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0])
    by_hand = -(h * s - torch.log(2 * torch.cosh(h))).mean()
    assert torch.allclose(spin_loss(h, s), by_hand, atol=1e-6)


def test_the_spin_loss_is_smallest_at_the_field_whose_mean_spin_is_the_data_mean():
    """For spins with <s> = 0.6 the expected loss is minimal where tanh(h) = 0.6: the denoiser's
    tanh(h) is the posterior mean E[s | x_t] that the sampler uses as x_0."""
    s = torch.tensor([1.0] * 8 + [-1.0] * 2)  # <s> = 0.6
    h = torch.linspace(-2, 2, 4001)
    losses = torch.stack([spin_loss(hk.expand(10), s) for hk in h])
    assert abs(math.tanh(float(h[losses.argmin()])) - 0.6) < 2e-3


def test_eps_from_x0_inverts_the_forward_chain():
    schedule = make_schedule(20, "cosine")
    gen = torch.Generator().manual_seed(1)
    x0 = torch.where(torch.rand(5, 1, 4, 4, generator=gen) < 0.5, -1.0, 1.0)
    noise = torch.randn(x0.shape, generator=gen)
    t = torch.tensor([0, 3, 9, 15, 19])
    x_t = q_sample(x0, t, schedule, noise)
    assert torch.allclose(eps_from_x0(x_t, x0, t, schedule.alpha_bars), noise, atol=1e-4)


def test_the_rms_norm_keeps_the_uniform_mode_that_groupnorm_removes():
    """A lattice of constant features (the magnetisation) survives RMSGroupNorm, not GroupNorm;
    both are invariant under a positive rescaling of their input."""
    x = torch.full((2, 4, 6, 6), 0.3)
    x[1] = -0.3
    rms, group = RMSGroupNorm(2, 4), torch.nn.GroupNorm(2, 4)
    assert group(x).abs().max() < 1e-3
    assert torch.allclose(rms(x)[0], torch.ones(4, 6, 6), atol=1e-3)
    assert torch.allclose(rms(x)[1], -torch.ones(4, 6, 6), atol=1e-3)
    y = torch.randn(3, 4, 6, 6, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(rms(5 * y), rms(y), atol=1e-4)


@pytest.mark.parametrize("norm", ["rms", "group"])
def test_the_denoiser_is_equivariant_under_lattice_translations(norm):
    torch.manual_seed(3)
    net = LatticeDenoiser(8, 8, 3, norm=norm).eval()
    x = torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(4))
    t, T = torch.tensor([2, 7]), torch.tensor([2.0, 3.0])
    shifted = torch.roll(x, shifts=(3, -2), dims=(2, 3))
    with torch.no_grad():
        moved = torch.roll(net(x, t, T), (3, -2), (2, 3))
        assert torch.allclose(net(shifted, t, T), moved, atol=1e-5)


def test_the_samples_are_spin_flip_symmetric_even_when_the_network_is_not():
    """A denoiser pushed hard towards +1 draws s and -s equally often (the random global sign)."""
    model = _tiny()
    with torch.no_grad():
        model.ema.out[-1].bias.fill_(20.0)  # tanh(h) = +1 everywhere: unflipped draws all +1
    s = sample_ising_ddpm(model, torch.full((400,), 2.0), "cpu", seed=5, steps=4)
    m = s.mean(dim=(1, 2, 3))
    assert set(m.tolist()) == {-1.0, 1.0}
    assert abs(float((m > 0).float().mean()) - 0.5) < 0.1


@pytest.mark.parametrize("prediction", ["spin", "eps"])
def test_both_predictions_train_and_sample_reproducibly(prediction):
    model = _tiny(prediction=prediction)
    gen = torch.Generator().manual_seed(6)
    configs = torch.where(torch.rand(16, 1, 8, 8, generator=gen) < 0.5, -1.0, 1.0)
    temps = torch.tensor([2.0, 3.0]).repeat(8)
    history = train_ising_ddpm(model, configs, temps, "cpu", progress=False)
    assert len(history["loss"]) == 3 and all(math.isfinite(v) for v in history["loss"])
    assert history["cpu_seconds"] > 0
    T = torch.full((4,), 2.5)
    first = sample_ising_ddpm(model, T, "cpu", seed=7, steps=3)
    assert first.shape == (4, 1, 8, 8) and set(first.unique().tolist()) <= {-1.0, 1.0}
    assert torch.equal(first, sample_ising_ddpm(model, T, "cpu", seed=7, steps=3))


@pytest.mark.parametrize("bad", [{"prediction": "x0"}, {"norm": "batch"}])
def test_an_unknown_prediction_or_norm_is_a_one_line_error(bad):
    with pytest.raises(ValueError) as info:
        _tiny(**bad)
    assert "must be one of" in str(info.value) and "\n" not in str(info.value)
