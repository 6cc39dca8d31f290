"""The GAN game on a 1-D grid: value function, optimal discriminator, Jensen-Shannon link.

Lecture section 2. For densities known on a grid ``x`` these are exact up to quadrature:

* value function  v(g, d) = E_{p_data}[log d(x)] + E_{p_g}[log(1 - d(x))]
* optimal discriminator for a fixed generator  D*(x) = p_data(x) / (p_data(x) + p_g(x))
* at D*:  v(g, D*) = -log 4 + 2 JS(p_data || p_g),   JS(p || q) = KL(p || m)/2 + KL(q || m)/2,
  m = (p + q)/2, so the generator's best reply is p_g = p_data and the game's value is -log 4.
"""
from __future__ import annotations

import math

import torch

from ..device import cpu_threads
from ..progress import trange
from .losses import create_noise, d_train, g_train
from .networks import make_discriminator_network, make_generator_network

__all__ = [
    "normal_pdf", "integrate", "value_function", "optimal_discriminator", "js_divergence",
    "simultaneous_gradient_play",
]

_EPS = 1e-300  # 0 log 0 = 0: densities that vanish contribute nothing


def normal_pdf(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """The Gaussian density N(x; mean, std^2)."""
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}")
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def integrate(values: torch.Tensor, x: torch.Tensor) -> float:
    """Trapezoidal rule on the grid ``x``."""
    return float(torch.trapezoid(values, x))


def value_function(d: torch.Tensor, p_data: torch.Tensor, p_g: torch.Tensor,
                   x: torch.Tensor) -> float:
    """v(g, d) = int p_data log d + p_g log(1 - d) dx, for d with values in (0, 1) on the grid."""
    d = d.clamp(1e-12, 1 - 1e-12)
    return integrate(p_data * torch.log(d) + p_g * torch.log1p(-d), x)


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    """D*(x) = p_data / (p_data + p_g), the pointwise maximiser of a log d + b log(1 - d)."""
    total = p_data + p_g
    return torch.where(total > 0, p_data / total.clamp_min(_EPS), torch.full_like(total, 0.5))


def js_divergence(p: torch.Tensor, q: torch.Tensor, x: torch.Tensor) -> float:
    """JS(p || q) in nats by quadrature; it lies in [0, log 2]."""
    m = (p + q) / 2

    def kl(a: torch.Tensor) -> torch.Tensor:
        return torch.where(a > 0, a * torch.log(a.clamp_min(_EPS) / m.clamp_min(_EPS)),
                           torch.zeros_like(a))

    return integrate((kl(p) + kl(q)) / 2, x)


def simultaneous_gradient_play(
    x0: float, y0: float, lr: float, steps: int, alternating: bool = False
) -> torch.Tensor:
    """Gradient play on the bilinear game min_x max_y f = x y (why GAN convergence is hard).

    The only equilibrium is (0, 0). Simultaneous steps x <- x - lr y, y <- y + lr x multiply the
    distance to it by sqrt(1 + lr^2) each step: the players spiral outwards. Alternating steps
    (y uses the new x, as ``d_train`` then ``g_train`` do) stay on a bounded orbit but never
    converge. Returns the ``(steps + 1, 2)`` trajectory.
    """
    path = torch.empty(steps + 1, 2, dtype=torch.float64)
    x, y = x0, y0
    path[0] = torch.tensor([x, y], dtype=torch.float64)
    for k in range(1, steps + 1):
        x_new = x - lr * y
        y = y + lr * (x_new if alternating else x)
        x = x_new
        path[k] = torch.tensor([x, y], dtype=torch.float64)
    return path


def train_toy_gan(
    mu: float = 0.3,
    sigma: float = 0.15,
    steps: int = 3_000,
    lr: float = 2e-4,
    betas: tuple[float, float] = (0.5, 0.999),
    z_size: int = 4,
    hidden: int = 32,
    batch_size: int = 256,
    seed: int = 0,
    trace_every: int = 25,
    progress: bool = True,
    threads: int | None = 1,
) -> tuple[torch.nn.Module, torch.nn.Module, dict[str, list[float]]]:
    """A GAN on 1-D data p_data = N(mu, sigma^2) with the lecture's networks and training steps.

    The lecture's ``make_generator_network`` / ``make_discriminator_network`` (one hidden layer of
    ``hidden`` units) and its ``d_train`` / ``g_train`` steps, on the CPU. Returns the generator,
    the discriminator and a trace of the generated samples' mean and standard deviation.
    ``threads``: torch's CPU threads meanwhile (1, the fastest for networks this small:
    ``benchmarks/threads.py``; ``None`` keeps the caller's).
    """
    generator = torch.Generator().manual_seed(seed)
    # initial weights and dropout: seeded, caller's state kept; one thread for these tiny networks
    with torch.random.fork_rng(devices=[]), cpu_threads(threads):
        torch.manual_seed(seed)
        gen = make_generator_network(input_size=z_size, num_hidden_units=hidden, num_output_units=1)
        disc = make_discriminator_network(input_size=1, num_hidden_units=hidden)
        trace = _play(gen, disc, mu, sigma, steps, batch_size, z_size, lr, betas, trace_every,
                      progress, generator)
    return gen.eval(), disc.eval(), trace


def _play(gen: torch.nn.Module, disc: torch.nn.Module, mu: float, sigma: float, steps: int,
          batch_size: int, z_size: int, lr: float, betas: tuple[float, float], trace_every: int,
          progress: bool, generator: torch.Generator) -> dict[str, list[float]]:
    g_opt = torch.optim.Adam(gen.parameters(), lr=lr, betas=betas)
    d_opt = torch.optim.Adam(disc.parameters(), lr=lr, betas=betas)
    trace: dict[str, list[float]] = {"step": [], "mean": [], "std": []}
    for step in trange(steps + 1, desc="1-D GAN", disable=not progress):
        if step % trace_every == 0:
            with torch.no_grad():
                fake = gen(create_noise(2_000, z_size, "normal", generator=generator))
            trace["step"].append(step)
            trace["mean"].append(fake.mean().item())
            trace["std"].append(fake.std().item())
        if step == steps:
            break
        x = mu + sigma * torch.randn(batch_size, 1, generator=generator)
        d_train(x, gen, disc, d_opt, z_size=z_size, mode_z="normal", generator=generator)
        g_train(batch_size, gen, disc, g_opt, z_size=z_size, mode_z="normal", device="cpu",
                generator=generator)
    return trace
