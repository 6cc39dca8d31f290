"""Checks for notebook 07b (normalizing flows and flow matching).

* ``check_coupling_layer(my_coupling)`` -- an affine coupling layer x = m z + (1 - m)(z exp(s) + t)
  and its log-determinant, the sum of s over the active sites (Dinh et al. 2017);
* ``check_linear_path(my_linear_path)`` -- x_t = (1 - t) x_0 + t x_1 and its velocity x_1 - x_0
  (Lipman et al. 2023);
* ``check_heun_step(my_heun_step)`` -- one Heun step of dx/dt = v(x, t);
* ``check_velocity_from_eps(my_velocity_from_eps)`` -- the linear path's velocity from a noise
  prediction, v = (x_t - eps) / t.

Every reference is the package's own function (``flows.coupling.AffineCoupling``,
``flows.paths``, ``flows.solvers.heun_step``, ``diffusion.gaussian_path.velocity_from_eps``).
"""

from __future__ import annotations

import torch

from ..diffusion.gaussian_path import velocity_from_eps
from ..flows.conditioners import FixedConditioner
from ..flows.coupling import AffineCoupling
from ..flows.paths import linear_path, linear_path_coefficients, target_velocity
from ..flows.solvers import euler_step, heun_step
from .verdict import call, checker, compare, generator, pair

__all__ = [
    "check_coupling_layer",
    "check_linear_path",
    "check_heun_step",
    "check_velocity_from_eps",
]


def _coupling(z, mask, s, t):
    return AffineCoupling(mask, FixedConditioner(s, t)).double()(z)


@checker("an affine coupling layer and its log-determinant")
def check_coupling_layer(my_coupling) -> str:
    gen = generator(73)
    n, d = 5, 4
    z, s, t = torch.randn(3, n, d, generator=gen, dtype=torch.float64)
    mask = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64)
    what = "my_coupling(z, mask, s, t)"
    answer = call(my_coupling, z.clone(), mask.clone(), s.clone(), t.clone(), what=what)
    x, log_det = pair(answer, what, "x, log_det")
    want_x, want_log_det = _coupling(z, mask, s, t)
    flipped = _coupling(z, 1 - mask, s, t)
    everywhere = _coupling(z, torch.zeros(d, dtype=torch.float64), s, t)  # every site active
    inverse = AffineCoupling(mask, FixedConditioner(s, t)).double().inverse(z)[0]
    compare(x, want_x, "x", mistakes={
        "the mask is the wrong way round: sites where m = 1 stay as they are, the others move":
            flipped[0],
        "every site moved: the frozen sites (m = 1) must be copied unchanged": everywhere[0],
        "the scale is exp(s), not s": mask * z + (1 - mask) * (z * s + t),
        "this is the inverse map (x - t) exp(-s); the layer computes z exp(s) + t": inverse,
    })
    compare(log_det, want_log_det, "log_det", mistakes={
        "the sum runs over the active sites only (where m = 0); the frozen ones have "
        "derivative 1": everywhere[1],
        "this sums s over the frozen sites; the active ones (m = 0) are scaled by exp(s)":
            flipped[1],
        "the log-determinant of a diagonal scaling is the sum of s, not of exp(s)":
            ((1 - mask) * torch.exp(s)).sum(dim=1),
        "this is log |det| of the inverse map: the forward map's is +sum s": -want_log_det,
    })
    return f"x and log|det dx/dz| = sum of s over the active sites, on {n} random inputs"


@checker("the linear path and its velocity")
def check_linear_path(my_linear_path) -> str:
    gen = generator(74)
    x0, x1 = torch.randn(2, 6, 1, 3, 3, generator=gen, dtype=torch.float64)
    t = torch.rand(6, generator=gen, dtype=torch.float64)
    what = "my_linear_path(x0, x1, t)"
    hints = {"must match the size": "reshape t to (n, 1, 1, 1) so that it broadcasts"}
    answer = call(my_linear_path, x0.clone(), x1.clone(), t.clone(), what=what, hints=hints)
    xt, u = pair(answer, what, "x_t, u_t")
    t_column = t.reshape(-1, 1, 1, 1)
    compare(xt, linear_path(x0, x1, t), "x_t", mistakes={
        "x_0 and x_1 are swapped: the path starts at the noise x_0 (t = 0) and ends at the "
        "data x_1 (t = 1)": linear_path(x1, x0, t),
        "the weights do not sum to one: x_t = (1 - t) x_0 + t x_1": x0 + t_column * x1,
    })
    u_t = target_velocity(x0, x1)
    compare(u, u_t, "u_t", mistakes={
        "the velocity points from the data to the noise: d x_t / dt = x_1 - x_0":
            target_velocity(x1, x0),
        "this is the data x_1; the velocity is the time derivative of x_t, x_1 - x_0": x1,
        "the velocity of a straight line at constant speed does not depend on t: it is "
        "x_1 - x_0": t_column * u_t,
    })
    return "x_t = (1 - t) x_0 + t x_1 and u_t = x_1 - x_0 on 6 random images, one t per image"


def _field(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A velocity that depends on both x and t (a rotation that speeds up)."""
    t = t.reshape(-1, 1)
    return (1 + t) * torch.stack([-x[:, 1], x[:, 0]], dim=1) - 0.3 * x


@checker("one Heun step")
def check_heun_step(my_heun_step) -> str:
    x = torch.randn(7, 2, generator=generator(75), dtype=torch.float64)
    t, t_next = 0.3, 0.55
    got = call(my_heun_step, _field, x.clone(), t, t_next, what="my_heun_step(v, x, t, t_next)")
    h = t_next - t
    at_t = torch.full((7,), t, dtype=torch.float64)
    at_t_next = torch.full((7,), t_next, dtype=torch.float64)
    v_1 = _field(x, at_t)
    x_euler = euler_step(_field, x, t, t_next)
    want = heun_step(_field, x, t, t_next)
    compare(got, want, "my_heun_step", mistakes={
        "this is the Euler step x + h v(x, t): Heun averages it with the slope at the predicted "
        "point": x_euler,
        "the second slope is taken at time t; it belongs to the end of the step, t_next":
            x + h / 2 * (v_1 + _field(x_euler, at_t)),
        "the second slope is taken at x; it belongs to the Euler prediction x + h v(x, t)":
            x + h / 2 * (v_1 + _field(x, at_t_next)),
        "the two slopes are added, not averaged: x + h/2 (v_1 + v_2)": 2 * want - x,
        "the step uses only the second slope: average it with the first, x + h/2 (v_1 + v_2)":
            x + h * _field(x_euler, at_t_next),
    })
    return f"x + h/2 (v(x, t) + v(x + h v(x, t), t_next)) on 7 points, t = {t}, t_next = {t_next}"


@checker("the velocity from a noise prediction")
def check_velocity_from_eps(my_velocity_from_eps) -> str:
    gen = generator(76)
    xt, eps = torch.randn(2, 6, 3, generator=gen, dtype=torch.float64)
    t = 0.1 + 0.8 * torch.rand(6, 1, generator=gen, dtype=torch.float64)
    what = "my_velocity_from_eps(x_t, eps, t)"
    got = call(my_velocity_from_eps, xt.clone(), eps.clone(), t.clone(), what=what)
    want = velocity_from_eps(xt, eps, *linear_path_coefficients(t))
    compare(got, want, "my_velocity_from_eps", mistakes={
        "this is the data estimate x_1 = (x_t - (1 - t) eps) / t; the velocity is "
        "x_1 - x_0 = x_1 - eps": (xt - (1 - t) * eps) / t,
        "the velocity points from the data to the noise: it is x_1 - eps, not eps - x_1": -want,
        "t and 1 - t are swapped: on this path x_t = (1 - t) eps + t x_1": (xt - eps) / (1 - t),
        "this is the score -eps / sigma_t; the velocity is x_1 - eps": -eps / (1 - t),
    })
    return "v = (x_t - eps) / t, the velocity of the straight line through x_t, on 6 random points"
