import math

import pytest
import torch
from matplotlib.figure import Figure

from course_utils.gan.game import (
    js_divergence,
    normal_pdf,
    optimal_discriminator,
    simultaneous_gradient_play,
    value_function,
)
from course_utils.plotting import plot_epoch_samples, plot_gan_history, show_images

HISTORY = {
    "epoch": [1, 2, 3], "g_loss": [1.0, 0.9, 0.8], "d_loss": [1.2, 1.3, 1.3],
    "d_real": [0.7, 0.6, 0.6], "d_fake": [0.3, 0.4, 0.4],
    "sample_epochs": [1, 3], "samples": torch.rand(2, 8, 1, 28, 28) * 2 - 1,
}


def test_history_figure_has_the_lectures_two_panels():
    fig = plot_gan_history(HISTORY)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    loss_lines = fig.axes[0].get_lines()
    assert list(loss_lines[1].get_ydata()) == [0.6, 0.65, 0.65]  # the lecture plots L_D / 2
    assert list(fig.axes[1].get_lines()[0].get_ydata()) == HISTORY["d_real"]


def test_a_wgan_history_is_plotted_as_critic_scores_not_probabilities():
    fig = plot_gan_history({**HISTORY, "d_real": [3.0, 2.0, 1.5], "d_fake": [-4.0, -2.0, -1.0],
                            "loss": "wgan-gp"})
    assert fig.axes[1].get_ylabel() == "Critic score"
    assert [line.get_ydata()[0] for line in fig.axes[1].get_lines()] == [3.0, -4.0]  # no 1/2 line
    assert fig.axes[1].get_ylim()[0] < -3.9, "scores below 0 must stay visible"


def test_sample_grid_one_row_per_epoch():
    fig = plot_epoch_samples(HISTORY, n_per_epoch=5)
    assert len(fig.axes) == 2 * 5
    with pytest.raises(ValueError, match=r"epoch\(s\) \[2\]"):
        plot_epoch_samples(HISTORY, epochs=[1, 2])
    with pytest.raises(ValueError, match="lacks"):
        plot_gan_history({"epoch": [1]})


def test_sample_grid_asks_for_at_most_the_kept_samples():
    assert len(plot_epoch_samples(HISTORY, n_per_epoch=8).axes) == 2 * 8  # all 8 kept samples
    with pytest.raises(ValueError, match="only 8 samples per epoch"):
        plot_epoch_samples(HISTORY, n_per_epoch=9)
    with pytest.raises(ValueError, match="positive"):
        plot_epoch_samples(HISTORY, n_per_epoch=0)
    # what an older history may hold
    as_lists = dict(HISTORY, samples=[s.numpy() for s in HISTORY["samples"]])
    with pytest.raises(ValueError, match="n_per_epoch <= 8"):
        plot_epoch_samples(as_lists, n_per_epoch=20)


def test_show_images_accepts_flat_and_channel_shapes():
    assert len(show_images(torch.rand(10, 784), nrow=5).axes) == 10
    assert len(show_images(torch.rand(3, 1, 28, 28), nrow=8).axes) == 3
    with pytest.raises(ValueError):
        show_images(torch.rand(0, 28, 28))


def test_optimal_discriminator_and_jensen_shannon():
    x = torch.linspace(-10, 10, 40_001, dtype=torch.float64)
    p, q = normal_pdf(x, 0, 1), normal_pdf(x, 2, 1)
    d_star = optimal_discriminator(p, q)
    v = value_function(d_star, p, q, x)
    assert math.isclose(v, -math.log(4) + 2 * js_divergence(p, q, x), abs_tol=1e-9)
    assert value_function(torch.full_like(x, 0.5), p, q, x) < v  # D* beats the constant 1/2
    assert math.isclose(js_divergence(p, p, x), 0, abs_tol=1e-12)
    far = normal_pdf(x, 6, 0.5)
    assert math.isclose(js_divergence(normal_pdf(x, -6, 0.5), far, x), math.log(2), rel_tol=1e-6)


def test_gradient_play_on_the_bilinear_game():
    sim = simultaneous_gradient_play(1.0, 0.0, lr=0.2, steps=50)
    assert math.isclose(float(sim[-1].norm()), (1 + 0.2**2) ** 25, rel_tol=1e-9)
    alt = simultaneous_gradient_play(1.0, 0.0, lr=0.2, steps=500, alternating=True)
    assert float(alt.norm(dim=1).max()) < 1.2 and float(alt.norm(dim=1).min()) > 0.8
