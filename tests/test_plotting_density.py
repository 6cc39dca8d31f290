"""The 2-D density plot of notebook 07b: the grid is the density, rows are y, its mass is one."""

import math

import matplotlib.pyplot as plt
import torch

from course_utils.plotting import density_grid, plot_density_2d

CENTRE = torch.tensor([1.0, -2.0])


def log_normal(points: torch.Tensor) -> torch.Tensor:
    """log N(points; (1, -2), I)."""
    return -0.5 * ((points - CENTRE) ** 2).sum(dim=1) - math.log(2 * math.pi)


def test_density_grid_is_the_density_with_rows_along_y():
    xs, ys, p = density_grid(log_normal, lim=6.0, n=241)
    assert p.shape == (241, 241)
    assert abs(float(p.sum()) * float(xs[1] - xs[0]) * float(ys[1] - ys[0]) - 1) < 1e-3
    row, col = divmod(int(p.argmax()), 241)
    assert abs(float(ys[row]) - CENTRE[1]) < 0.06 and abs(float(xs[col]) - CENTRE[0]) < 0.06
    assert torch.allclose(p[row, col], torch.tensor(1 / (2 * math.pi)), rtol=1e-3)


def test_plot_density_2d_draws_one_panel_per_entry_and_the_density():
    points = {"a": torch.randn(50, 2), "b": torch.randn(30, 2)}
    fig = plot_density_2d(log_normal, points, lim=4.0, n=40, title="t")
    assert [ax.get_title() for ax in fig.axes] == ["density of the model", "a", "b"]
    assert all(ax.get_xlim() == (-4.0, 4.0) for ax in fig.axes)
    assert len(plot_density_2d(None, points).axes) == 2
    plt.close("all")
