import copy
import dataclasses
import math

import pytest
import torch
from torch import nn

from course_utils.gan import (
    build_gan,
    create_noise,
    d_train,
    g_train,
    gan_config,
    make_discriminator_network,
    make_generator_network,
    make_optimizers,
    sample_gan,
    train_gan,
)


def test_create_noise_modes():
    torch.manual_seed(0)
    u = create_noise(20_000, 20, "uniform")
    n = create_noise(20_000, 20, "normal")
    assert u.shape == n.shape == (20_000, 20)
    assert u.min() >= -1 and u.max() < 1 and abs(u.mean()) < 0.01 and abs(u.var() - 1 / 3) < 0.01
    assert abs(n.mean()) < 0.01 and abs(n.std() - 1) < 0.01 and n.abs().max() > 3


@pytest.mark.parametrize("mode_z", ["Uniform", "gaussian", None])
def test_create_noise_rejects_unknown_modes(mode_z):
    with pytest.raises(ValueError, match="'uniform' or 'normal'"):
        create_noise(4, 20, mode_z)


def _lecture_models(seed=0):
    torch.manual_seed(seed)
    return make_generator_network(), make_discriminator_network(784)


def test_d_train_and_g_train_take_the_lectures_steps():
    """Same weights, same random numbers: our steps must update the weights as the lecture's do.

    The lecture's d_train / g_train (Sigmoid + BCELoss, gradients through G in the D step and
    through D's weights in the G step) are transcribed here as the ground truth.
    """
    gen, disc = _lecture_models()
    gen_ref, disc_ref = copy.deepcopy(gen), copy.deepcopy(disc)
    g_opt, d_opt = make_optimizers(gen, disc)
    g_opt_ref = torch.optim.Adam(gen_ref.parameters())
    d_opt_ref = torch.optim.Adam(disc_ref.parameters())
    loss_fn = nn.BCELoss()
    x = torch.rand(64, 784) * 2 - 1

    def lecture_d_train(x):
        disc_ref.zero_grad()
        d_proba_real = disc_ref(x)
        d_loss_real = loss_fn(d_proba_real, torch.ones(64, 1))
        g_output = gen_ref(torch.rand(64, 20) * 2 - 1)
        d_proba_fake = disc_ref(g_output)
        d_loss = d_loss_real + loss_fn(d_proba_fake, torch.zeros(64, 1))
        d_loss.backward()
        d_opt_ref.step()
        return d_loss.item(), d_proba_real.detach(), d_proba_fake.detach()

    def lecture_g_train():
        gen_ref.zero_grad()
        d_proba_fake = disc_ref(gen_ref(torch.rand(64, 20) * 2 - 1))
        g_loss = loss_fn(d_proba_fake, torch.ones(64, 1))
        g_loss.backward()
        g_opt_ref.step()
        return g_loss.item()

    for step in range(3):
        torch.manual_seed(100 + step)
        d_ref = lecture_d_train(x)
        g_ref = lecture_g_train()
        torch.manual_seed(100 + step)
        d_loss, p_real, p_fake = d_train(x, gen, disc, d_opt, z_size=20, mode_z="uniform")
        g_loss = g_train(64, gen, disc, g_opt, z_size=20, mode_z="uniform")
        assert math.isclose(d_loss.item(), d_ref[0], rel_tol=1e-5)
        assert torch.allclose(p_real, d_ref[1], atol=1e-6)
        assert torch.allclose(p_fake, d_ref[2], atol=1e-6)
        assert math.isclose(g_loss.item(), g_ref, rel_tol=1e-5)
    for ours, ref in zip(list(gen.parameters()) + list(disc.parameters()),
                         list(gen_ref.parameters()) + list(disc_ref.parameters()), strict=True):
        assert torch.allclose(ours, ref, atol=1e-5)
    assert all(p.requires_grad for p in disc.parameters()), "g_train must give D its gradients back"


def _train(data, epochs=2, seed=1, on_epoch_end=None, num_samples=None, **fields):
    torch.manual_seed(seed)
    config = gan_config(epochs=epochs, **fields)
    gen, disc = build_gan(config, "cpu")
    return gen, disc, train_gan(gen, disc, data, config, "cpu", progress=False, seed=seed,
                                on_epoch_end=on_epoch_end, num_samples=num_samples)


@pytest.fixture(scope="module")
def digits(fallback_digits):
    images, labels = fallback_digits
    x = torch.from_numpy(images[:1024]).float().div(127.5).sub(1).unsqueeze(1)
    return x, torch.from_numpy(labels[:1024])


def test_short_training_teaches_the_discriminator(digits):
    _, _, history = _train(digits, epochs=2, sample_epochs=(1, 2))
    assert history["epoch"] == [1, 2]
    # Before training d = 1/2 everywhere; after two epochs it tells real from fake.
    assert history["d_real"][-1] > 0.6 and history["d_fake"][-1] < history["d_real"][-1] - 0.2
    assert all(math.isfinite(v) for key in ("g_loss", "d_loss") for v in history[key])
    # the model range: [-1, 1], (N, 1, 28, 28)
    assert history["samples"].shape == (2, 64, 1, 28, 28)
    assert -1 <= history["samples"].min() and history["samples"].max() <= 1
    assert history["images_per_second"] > 0 and len(history["seconds"]) == 2


def test_training_is_reproducible_under_a_seed(digits):
    _, _, a = _train(digits, epochs=1)
    _, _, b = _train(digits, epochs=1)
    assert a["d_loss"] == b["d_loss"] and torch.equal(a["samples"], b["samples"])
    _, _, c = _train(digits, epochs=1, seed=2)
    assert c["d_loss"] != a["d_loss"]


def test_sample_epochs_and_callback(digits):
    calls = []

    def on_epoch_end(epoch, gen):
        calls.append(epoch)
        return {"mean_pixel": sample_gan(gen, 16, device="cpu").mean().item()}

    _, _, history = _train(digits[0][:256], epochs=3, sample_epochs=(2, 50),
                           on_epoch_end=on_epoch_end, num_samples=10)
    assert history["sample_epochs"] == [2, 3]  # 50 was never reached; the last epoch is always kept
    assert history["samples"].shape == (2, 10, 1, 28, 28)
    assert calls == [1, 2, 3] and len(history["mean_pixel"]) == 3


def test_bad_inputs_are_clear_errors(digits):
    x, y = digits
    one = gan_config(epochs=1)
    gen, disc = build_gan(one, "cpu")
    with pytest.raises(ValueError, match="mode_z"):
        gan_config(mode_z="gauss")
    with pytest.raises(ValueError, match="batch_size"):
        train_gan(gen, disc, x[:10], one)
    with pytest.raises(ValueError, match="epochs must be a positive whole number"):
        gan_config(epochs=0)
    with pytest.raises(ValueError, match="exactly one of them"):
        gan_config(epochs=3, train_images=1000)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        train_gan(gen, disc, (x + 1) * 127.5, one)
    with pytest.raises(ValueError, match="discriminator expects 784"):
        train_gan(gen, disc, x[:, :, :14, :14].contiguous(), one)
    with pytest.raises(ValueError, match="z_size=10"):
        train_gan(gen, disc, digits, gan_config(epochs=1, z_size=10))
    with pytest.raises(ValueError, match="float image tensor"):
        train_gan(gen, disc, y, one)
    with pytest.raises(TypeError, match="takes the run's GANConfig"):
        train_gan(gen, disc, digits, 1)


def test_a_budget_in_images_seen_is_rounded_to_whole_epochs(digits):
    config = gan_config(train_images=700, batch_size=64, sample_epochs=None)
    assert config.epochs is None and config.epochs_for(256) == 3 and config.epochs_for(4000) == 1
    assert config.snapshot_epochs(90) == (1, 22, 45, 90)
    _, _, history = _train(digits[0][:256], epochs=None, train_images=700, sample_epochs=None)
    assert history["epoch"] == [1, 2, 3] and history["sample_epochs"] == [1, 3]


def test_sample_gan_shape_range_and_seed():
    gen, _ = build_gan(gan_config(mode_z="normal"), "cpu")
    a = sample_gan(gen, 5, mode_z="normal", seed=3)
    assert a.shape == (5, 1, 28, 28) and a.min() >= -1 and a.max() <= 1
    assert torch.equal(a, sample_gan(gen, 5, mode_z="normal", seed=3))
    with pytest.raises(ValueError):
        sample_gan(gen, 0)


def test_gradient_penalty_of_a_linear_critic():
    """f(x) = w.x has gradient w everywhere, so the penalty is exactly (|w| - 1)^2."""
    from course_utils.gan import gradient_penalty

    critic = nn.Linear(784, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.full((1, 784), 3.0 / 28))  # |w| = 3
    gp = gradient_penalty(critic, torch.rand(16, 784), torch.rand(16, 784))
    assert math.isclose(gp.item(), (3.0 - 1.0) ** 2, rel_tol=1e-5)


def test_generator_losses_match_their_formulas():
    torch.manual_seed(0)
    gen, disc = make_generator_network(), make_discriminator_network(784)
    disc.eval()  # no dropout, so the loss can be recomputed
    expected = {}
    for loss in ("bce", "minimax"):
        torch.manual_seed(5)
        z = torch.rand(32, 20) * 2 - 1
        with torch.no_grad():
            d = disc(gen(z))
        expected[loss] = (-torch.log(d).mean() if loss == "bce" else torch.log1p(-d).mean()).item()
        g_copy = copy.deepcopy(gen)
        torch.manual_seed(5)
        got = g_train(32, g_copy, disc, torch.optim.SGD(g_copy.parameters(), lr=0.0), loss=loss)
        assert math.isclose(got.item(), expected[loss], rel_tol=1e-5), loss
    with pytest.raises(ValueError, match="loss must be one of"):
        g_train(32, gen, disc, torch.optim.SGD(gen.parameters(), lr=0.0), loss="hinge")


def test_dcgan_and_wgan_gp_train_through_the_same_loop(digits):
    x = digits[0][:384]  # 6 batches of 64: one generator step after 5 critic steps
    for architecture in ("dcgan", "wgan-gp"):
        config = gan_config(architecture=architecture, n_filters=4)
        torch.manual_seed(0)
        gen, disc = build_gan(config, "cpu")
        g_opt, d_opt = make_optimizers(gen, disc, config.lr, config.betas)
        before = [p.detach().clone() for p in gen.parameters()]
        history = train_gan(gen, disc, x, dataclasses.replace(config, epochs=1), "cpu", g_opt,
                            d_opt, progress=False)
        assert all(math.isfinite(v) for v in history["d_loss"] + history["g_loss"])
        assert any(not torch.equal(a, b)
                   for a, b in zip(before, gen.parameters(), strict=True)), architecture
        assert sample_gan(gen, 3, config.z_size).shape == (3, 1, 28, 28)
    with pytest.raises(ValueError, match="never"):
        train_gan(gen, disc, x[:128], gan_config(architecture="wgan-gp", epochs=1), progress=False)
    with pytest.raises(ValueError, match="WGAN-GP loss goes with"):
        gan_config(architecture="dcgan", loss="wgan-gp")
    with pytest.raises(ValueError, match="z_size=20 but the generator expects noise of size 100"):
        train_gan(gen, disc, x, gan_config(architecture="wgan-gp", epochs=1, z_size=20),
                  progress=False)


def _conditional_pair(seed=0, n_filters=4):
    torch.manual_seed(seed)
    return build_gan(gan_config(architecture="cdcgan", n_filters=n_filters), "cpu")


def test_conditional_dcgan_uses_the_digit():
    """g(z, y) and d(x, y) depend on y; d is the sigmoid of its logits;
    the losses are the formulas."""
    gen, disc = _conditional_pair()
    # BatchNorm with running statistics: each output depends on its own input only
    gen.eval(), disc.eval()
    z = torch.rand(10, 100) * 2 - 1
    y = torch.arange(10)
    with torch.no_grad():
        same_z = gen(z[:1].expand(10, -1), y)
        assert same_z.shape == (10, 784) and (same_z[1:] - same_z[0]).abs().amax(dim=1).min() > 1e-4
        logits = disc.logits(same_z, y)
        assert logits.shape == (10, 1) and torch.allclose(disc(same_z, y), torch.sigmoid(logits))
        assert not torch.allclose(disc.logits(same_z, y), disc.logits(same_z, (y + 1) % 10))
    # d_train: L_D = -[log d(x, y) + log(1 - d(g(z, y), y))], with the same labels for the fakes
    x = torch.rand(10, 784) * 2 - 1
    torch.manual_seed(3)
    fake_z = torch.rand(10, 100) * 2 - 1
    with torch.no_grad():
        expected = -(torch.log(disc(x, y)) + torch.log1p(-disc(gen(fake_z, y), y))).mean()
    torch.manual_seed(3)
    d_loss, _, _ = d_train(x, gen, copy.deepcopy(disc), torch.optim.SGD(disc.parameters(), lr=0.0),
                           100, y=y)
    assert math.isclose(d_loss.item(), expected.item(), rel_tol=1e-5)
    torch.manual_seed(3)
    with torch.no_grad():
        expected_g = -torch.log(disc(gen(fake_z, y), y)).mean()
    torch.manual_seed(3)
    g_loss = g_train(10, copy.deepcopy(gen), disc, torch.optim.SGD(gen.parameters(), lr=0.0), 100,
                     y=y)
    assert math.isclose(g_loss.item(), expected_g.item(), rel_tol=1e-5)


def test_conditional_gan_steps_want_labels_and_plain_ones_refuse_them():
    gen, disc = _conditional_pair()
    opt = torch.optim.SGD(disc.parameters(), lr=0.0)
    with pytest.raises(ValueError, match="conditional .* pass the batch's labels as y="):
        d_train(torch.zeros(4, 784), gen, disc, opt, 100)
    with pytest.raises(ValueError, match="conditional .* pass the batch's labels as y="):
        g_train(4, gen, disc, torch.optim.SGD(gen.parameters(), lr=0.0), 100)
    with pytest.raises(ValueError, match="one digit per sample"):
        d_train(torch.zeros(4, 784), gen, disc, opt, 100, y=torch.zeros(3, dtype=torch.long))
    plain_gen, plain_disc = make_generator_network(), make_discriminator_network(784)
    with pytest.raises(ValueError, match="takes no labels"):
        d_train(torch.zeros(4, 784), plain_gen, plain_disc, opt, y=torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="takes no labels"):
        sample_gan(plain_gen, 4, y=torch.zeros(4, dtype=torch.long))


def test_train_gan_gives_a_conditional_gan_the_labels_of_its_batch():
    """Real images that encode their label (constant pixels = label / 10 - 0.5): every real batch
    the discriminator sees must come with its own labels."""
    labels = torch.arange(256) % 10
    images = (labels.float() / 10 - 0.5)[:, None, None, None].expand(-1, 1, 28, 28).contiguous()
    gen, disc = _conditional_pair()
    logits, seen = disc.logits, []

    def spy(x, y):
        constant = (x - x[:, :1]).abs().amax(dim=1) == 0
        if constant.all():  # a real batch
            seen.append(torch.allclose(x[:, 0], y.float() / 10 - 0.5))
        return logits(x, y)

    disc.logits = spy
    config = gan_config(architecture="cdcgan", n_filters=4, epochs=1, batch_size=32)
    history = train_gan(gen, disc, (images, labels), config, progress=False)
    assert len(seen) == 256 // 32 and all(seen)
    assert torch.equal(history["fixed_y"][:12], torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]))
    with pytest.raises(ValueError, match="trains on labelled digits"):
        train_gan(gen, disc, images, config, progress=False)
    with pytest.raises(ValueError, match="digits 0-9, found 1..10"):
        train_gan(gen, disc, (images, labels + 1), config, progress=False)
    with pytest.raises(ValueError, match="z_size=20 but the generator expects noise of size 100"):
        train_gan(gen, disc, (images, labels), dataclasses.replace(config, z_size=20),
                  progress=False)


def test_sample_gan_draws_the_digits_in_turn_or_the_ones_asked_for():
    gen, _ = _conditional_pair()
    default = sample_gan(gen, 12, 100, seed=4)
    asked = sample_gan(gen, 12, 100, seed=4, y=torch.arange(12) % 10)
    assert default.shape == (12, 1, 28, 28) and torch.equal(default, asked)
    threes = sample_gan(gen, 12, 100, seed=4, y=[3] * 12)
    assert not torch.equal(threes, default) and torch.equal(threes[3], default[3])
    with pytest.raises(ValueError, match="digits 0-9"):
        sample_gan(gen, 2, 100, y=[3, 12])
