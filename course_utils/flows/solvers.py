"""Solving dx/dt = v(x, t) and dx = f dt + g dW numerically: pure steps and one loop.

Flow matching samples by integrating an ODE from noise to data, diffusion by integrating an SDE
(or its probability-flow ODE) backwards in time (Song et al. 2021). Each step maps (x, t, t_next)
to x at t_next, with h = t_next - t (negative when integrating backwards):

* ``euler_step``           x + h v(x, t)                                           (1 evaluation)
* ``heun_step``            x + h (v(x, t) + v(x_E, t_next)) / 2,  x_E = x + h v(x, t)  (2)
* ``euler_maruyama_step``  x + h f(x, t) + g(t) sqrt(|h|) z,  z ~ N(0, I) given       (1)

Heun's method (the explicit trapezoidal rule) is second order: its error per unit time falls as
h^2, Euler's as h, so Heun needs far fewer steps for the same accuracy (Karras et al. 2022 use
it for diffusion). Euler-Maruyama is Euler plus Brownian increments of variance |h|.

Steps are pure: no random numbers inside (Euler-Maruyama takes its noise ``z`` as an argument)
and no state. ``integrate`` runs one step over a time grid; it draws the noise of stochastic
steps from a generator it is given, on x's device. The fields are callables: ``velocity(x, t)``
and ``drift(x, t)`` get t as one time per sample, shape (n,), and return a tensor shaped like x;
``diffusion(t)`` returns g(t), one value per sample (``per_sample`` reshapes it to (n, 1, ..., 1)).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import torch

from ..progress import tqdm

__all__ = [
    "Field",
    "Step",
    "SOLVERS",
    "per_sample",
    "time_grid",
    "euler_step",
    "heun_step",
    "euler_maruyama_step",
    "integrate",
    "solve_ode",
    "evaluations",
]

Field = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""v(x, t): x of shape (n, ...), t of shape (n,) -> a tensor shaped like x."""
Step = Callable[..., torch.Tensor]
"""step(x, t, t_next) -> x at t_next (or step(x, t, t_next, noise) for a stochastic step)."""


def per_sample(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """One value per sample, shape (n,), reshaped to (n, 1, ..., 1) to broadcast against x."""
    return values.reshape(-1, *([1] * (x.dim() - 1)))


def _times(t: float | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The time t as one value per sample of x, shape (n,), on x's device and in x's dtype."""
    return torch.as_tensor(t, dtype=x.dtype, device=x.device).expand(len(x))


def time_grid(start: float, end: float, steps: int) -> torch.Tensor:
    """``steps`` equal steps from ``start`` to ``end``: steps + 1 times, float64."""
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive whole number, got {steps!r}")
    return torch.linspace(start, end, steps + 1, dtype=torch.float64)


def euler_step(
    velocity: Field, x: torch.Tensor, t: float | torch.Tensor, t_next: float | torch.Tensor
) -> torch.Tensor:
    """One Euler step of dx/dt = v(x, t): x + h v(x, t), h = t_next - t."""
    h = float(t_next) - float(t)
    return x + h * velocity(x, _times(t, x))


def heun_step(
    velocity: Field, x: torch.Tensor, t: float | torch.Tensor, t_next: float | torch.Tensor
) -> torch.Tensor:
    """One Heun step: an Euler predictor x_E = x + h v(x, t), then the average of the slopes at
    both ends, x + h (v(x, t) + v(x_E, t_next)) / 2."""
    h = float(t_next) - float(t)
    v = velocity(x, _times(t, x))
    x_euler = x + h * v
    return x + h / 2 * (v + velocity(x_euler, _times(t_next, x)))


def euler_maruyama_step(
    drift: Field,
    diffusion: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    t: float | torch.Tensor,
    t_next: float | torch.Tensor,
    noise: torch.Tensor,
) -> torch.Tensor:
    """One Euler-Maruyama step of dx = f(x, t) dt + g(t) dW: x + h f(x, t) + g(t) sqrt(|h|) z,
    with the standard normal ``noise`` z given (shaped like x); forwards or backwards in time.
    ``diffusion(t)`` returns g, one value per sample (shape (n,))."""
    if noise.shape != x.shape:
        raise ValueError(
            f"noise must have the shape of x {tuple(x.shape)}, got {tuple(noise.shape)}"
        )
    h = float(t_next) - float(t)
    times = _times(t, x)
    return x + h * drift(x, times) + per_sample(diffusion(times), x) * math.sqrt(abs(h)) * noise


def integrate(
    step: Step,
    x: torch.Tensor,
    times: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
    last_step: Step | None = None,
    progress: bool = False,
    desc: str = "ODE",
) -> torch.Tensor:
    """Apply ``step`` from times[0] to times[-1] through every time of the grid ``times``.

    With a ``generator`` the step is stochastic: it is called as step(x, t, t_next, z) with
    z ~ N(0, I) drawn from the generator on x's device. ``last_step`` (e.g. an Euler step, or a
    step without noise) replaces ``step`` on the final interval: it saves Heun's second network
    evaluation at the end of the path, and a sampler's last step adds no noise, as in DDPM."""
    times = torch.as_tensor(times, dtype=torch.float64).reshape(-1)
    if len(times) < 2:
        raise ValueError(f"times must hold at least a start and an end, got {len(times)} value(s)")
    n_steps = len(times) - 1
    for k in tqdm(range(n_steps), desc=desc, disable=not progress, leave=False):
        t, t_next = times[k], times[k + 1]
        if k == n_steps - 1 and last_step is not None:
            x = last_step(x, t, t_next)
        elif generator is not None:
            z = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
            x = step(x, t, t_next, z)
        else:
            x = step(x, t, t_next)
    return x


SOLVERS = ("euler", "heun")


def _check_solver(solver: str) -> None:
    if solver not in SOLVERS:
        raise ValueError(f"unknown ODE solver {solver!r}: choose one of {', '.join(SOLVERS)}")


def evaluations(solver: str, steps: int, euler_last: bool = False) -> int:
    """Network evaluations of ``solve_ode``: one per Euler step, two per Heun step (one for a final
    Euler step, ``euler_last``)."""
    _check_solver(solver)
    return steps if solver == "euler" else 2 * steps - int(euler_last)


def solve_ode(
    velocity: Field,
    x: torch.Tensor,
    times: torch.Tensor,
    solver: str = "heun",
    progress: bool = False,
    euler_last: bool = False,
) -> torch.Tensor:
    """dx/dt = v(x, t) from times[0] to times[-1] with Euler or Heun steps (``evaluations`` says
    how many calls of v that takes). ``euler_last``: Heun's last step is an Euler step, so v is
    never asked at times[-1] (needed where it is undefined there, as the diffusion score at
    zero noise; Karras et al. 2022 do the same)."""
    _check_solver(solver)
    if solver == "euler":
        return integrate(partial(euler_step, velocity), x, times, progress=progress, desc="Euler")
    last = partial(euler_step, velocity) if euler_last else None
    return integrate(
        partial(heun_step, velocity), x, times, last_step=last, progress=progress, desc="Heun"
    )
