"""The VAE: loss terms against a hand computation, training, checkpoint and CLI
(course_utils.summary.vae)."""
import math

import numpy as np
import pytest
import torch

from course_utils import models
from course_utils.checkpoints import CheckpointError
from course_utils.summary.divergences import kl_normal
from course_utils.summary.vae import (
    VAE,
    build_vae,
    elbo_terms,
    linear_gaussian_elbo,
    linear_gaussian_log_evidence,
    linear_gaussian_posterior,
    reparameterize,
    sample_vae,
    train_vae,
    vae_config,
    vae_loss_terms,
)


def test_loss_terms_match_hand_computation():
    target = torch.tensor([[1.0, 0.0, 0.25]], dtype=torch.float64)
    logits = torch.tensor([[2.0, -1.0, 0.5]], dtype=torch.float64)
    mu = torch.tensor([[0.3, -0.4]], dtype=torch.float64)
    logvar = torch.tensor([[0.1, -0.5]], dtype=torch.float64)
    recon, kl = vae_loss_terms(target, logits, mu, logvar)
    sig = [1 / (1 + math.exp(-v)) for v in (2.0, -1.0, 0.5)]
    recon_hand = -(math.log(sig[0]) + math.log(1 - sig[1]) + 0.25 * math.log(sig[2]) + 0.75
                   * math.log(1 - sig[2]))
    kl_hand = sum(0.5 * (math.exp(lv) + m * m - 1 - lv) for m, lv in ((0.3, 0.1), (-0.4, -0.5)))
    assert float(recon) == pytest.approx(recon_hand, rel=1e-12)
    assert float(kl) == pytest.approx(kl_hand, rel=1e-12)


def test_reparameterization_is_mu_plus_sigma_eps_and_differentiable():
    mu = torch.tensor([1.0, -2.0], requires_grad=True)
    logvar = torch.tensor([math.log(4.0), 0.0], requires_grad=True)
    h = reparameterize(mu, logvar, torch.tensor([0.5, -1.0]))
    assert torch.allclose(h, torch.tensor([2.0, -3.0]))
    h.sum().backward()
    assert torch.allclose(mu.grad, torch.ones(2))  # gradients reach mu and sigma through the sample
    assert torch.allclose(logvar.grad, torch.tensor([0.5 * 2.0 * 0.5, 0.5 * 1.0 * -1.0]))


def test_log_evidence_is_elbo_plus_kl_to_the_posterior_for_any_q():
    """h ~ N(0, 1), x | h ~ N(w h + b, s^2): log p(x) = ELBO(q) + KL(q ||
    p(h|x)) exactly, ELBO <= log p(x)."""
    gen = torch.Generator().manual_seed(0)
    x, w, b, q_mean = (3 * torch.randn(1000, generator=gen, dtype=torch.float64) for _ in range(4))
    s, q_std = (torch.exp(torch.randn(1000, generator=gen, dtype=torch.float64)) for _ in range(2))
    post_mean, post_std = linear_gaussian_posterior(x, w, b, s)
    log_px = linear_gaussian_log_evidence(x, w, b, s)
    elbo = linear_gaussian_elbo(x, w, b, s, q_mean, q_std)
    assert torch.allclose(elbo + kl_normal(q_mean, q_std, post_mean, post_std), log_px, atol=1e-10,
                          rtol=0)
    assert bool((elbo < log_px).all())
    assert torch.allclose(linear_gaussian_elbo(x, w, b, s, post_mean, post_std), log_px, atol=1e-10,
                          rtol=0)


def test_linear_gaussian_closed_forms_match_quadrature_and_monte_carlo():
    x, w, b, s = 1.3, 0.8, -0.2, 0.5
    x_t = torch.tensor(x, dtype=torch.float64)
    h = torch.linspace(-12, 12, 200_001, dtype=torch.float64)
    normal = torch.distributions.Normal
    joint = (normal(0.0, 1.0).log_prob(h) + normal(w * h + b, s).log_prob(x_t)).exp()
    evidence = torch.trapezoid(joint, h)  # p(x) = int p(h) p(x|h) dh
    assert (float(linear_gaussian_log_evidence(x, w, b, s))
            == pytest.approx(math.log(evidence), abs=1e-9))
    post = joint / evidence  # Bayes: p(h|x) = p(h) p(x|h) / p(x)
    mean = torch.trapezoid(h * post, h)
    std = torch.sqrt(torch.trapezoid((h - mean) ** 2 * post, h))
    post_mean, post_std = linear_gaussian_posterior(x, w, b, s)
    assert float(post_mean) == pytest.approx(float(mean), abs=1e-8)
    assert float(post_std) == pytest.approx(float(std), abs=1e-8)
    q_mean, q_std = 0.4, 0.9  # ELBO = E_q[log p(x, h) - log q(h)] by reparameterised samples
    hq = q_mean + q_std * torch.randn(400_000, generator=torch.Generator().manual_seed(0),
                                      dtype=torch.float64)
    terms = (normal(w * hq + b, s).log_prob(x_t) + normal(0.0, 1.0).log_prob(hq)
             - normal(q_mean, q_std).log_prob(hq))
    stderr = float(terms.std()) / math.sqrt(len(terms))
    assert (float(linear_gaussian_elbo(x, w, b, s, q_mean, q_std))
            == pytest.approx(float(terms.mean()), abs=4 * stderr))
    with pytest.raises(ValueError, match="q_std"):
        linear_gaussian_elbo(x, w, b, s, 0.0, -1.0)
    with pytest.raises(ValueError, match="s must be positive"):
        linear_gaussian_posterior(x, w, b, 0.0)


def test_training_lowers_the_loss_and_round_trips(tmp_path, mnist_digits):
    images = mnist_digits[0][:512]
    torch.manual_seed(0)
    config = vae_config(latent_dim=4, hidden=64)
    model = build_vae(config, "cpu")
    with torch.no_grad():
        before = float(sum(elbo_terms(model, images[:256], torch.zeros(256, 4))))
    history = train_vae(model, images, vae_config(latent_dim=4, hidden=64, epochs=3, batch_size=64),
                        "cpu", progress=False)
    assert len(history["loss"]) == 3 and history["loss"][-1] < history["loss"][0] < before
    assert all(k >= 0 for k in history["kl"])
    path = models.save(tmp_path / "vae.pt", models.wrap(model, config, history))
    loaded = models.load(path, "cpu", family="vae")
    assert loaded.config == config and loaded.history["loss"] == pytest.approx(history["loss"])
    samples = sample_vae(loaded.model, 8, "cpu", seed=3)
    assert samples.shape == (8, 1, 28, 28)
    assert -1 <= float(samples.min()) and float(samples.max()) <= 1
    assert torch.equal(samples, sample_vae(model, 8, "cpu", seed=3))
    assert torch.equal(loaded.sample(8, "cpu", seed=3), samples)


def test_bad_inputs_give_clear_errors(tmp_path):
    model = VAE(latent_dim=2, hidden=8)
    with pytest.raises(ValueError, match="28x28"):
        elbo_terms(model, torch.zeros(2, 1, 14, 14))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        elbo_terms(model, torch.full((2, 1, 28, 28), 255.0))
    with pytest.raises(ValueError, match="epochs"):
        vae_config(epochs=0)
    with pytest.raises(TypeError, match="takes the run's VAEConfig"):
        train_vae(model, torch.zeros(4, 1, 28, 28), 3)
    with pytest.raises(ValueError, match="latent_dim"):
        vae_config(latent_dim=0)
    models.save(tmp_path / "gan.pt", models.build("dcgan", device="cpu"))
    with pytest.raises(CheckpointError, match="holds a dcgan model, not a vae one"):
        models.load(tmp_path / "gan.pt", family="vae")


def test_cli_train_and_sample_vae(tmp_path, capsys):
    from course_utils.cli import main

    out = tmp_path / "v.pt"
    assert main(["train", "vae", "--epochs", "1", "--n-train", "256", "--latent-dim", "3",
                 "--hidden", "32", "--device", "cpu", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "images/s" in captured.out
    assert "warning: Full MNIST was not found" in captured.err  # offline: said once, on one line
    assert models.load(out).config.latent_dim == 3
    assert main(["sample", str(out), "-n", "5", "-o", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (5, 28, 28)
