"""Noise schedules of the forward process (Ho et al. 2020; Nichol & Dhariwal 2021).

beta_t, alpha_t = 1 - beta_t and abar_t = prod_{s<=t} alpha_s for the time steps t = 0, ..., T-1
(index t here is step t+1 of the paper). ``make_schedule(T, kind)``: linear (1e-4 .. 0.02 at
T = 1000, scaled by 1000/T for other T) or cosine betas; ``Schedule.from_betas(betas)``: the
schedule of any given betas.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["Schedule", "make_schedule"]


@dataclass(frozen=True)
class Schedule:
    """All per-step constants, each a tensor of shape (T,) (float32 from ``make_schedule``)."""

    betas: torch.Tensor
    alphas: torch.Tensor
    alpha_bars: torch.Tensor

    @classmethod
    def from_betas(cls, betas: torch.Tensor) -> Schedule:
        """The schedule of given betas, in their dtype: alpha_t = 1 - beta_t and
        abar_t = prod_{s<=t} alpha_s."""
        alphas = 1 - betas
        return cls(betas, alphas, torch.cumprod(alphas, dim=0))

    @property
    def T(self) -> int:
        return len(self.betas)

    def to(self, device: torch.device | str) -> Schedule:
        return Schedule(self.betas.to(device), self.alphas.to(device), self.alpha_bars.to(device))


def make_schedule(T: int = 1000, kind: str = "linear", beta_start: float | None = None,
                  beta_end: float | None = None) -> Schedule:
    """beta_t for t = 1..T.

    ``linear``: evenly from beta_start to beta_end (Ho et al.). The default range, 1e-4 .. 0.02, is
    Ho et al.'s for T = 1000; for another T both ends are scaled by 1000 / T (Nichol & Dhariwal
    2021), which keeps sum_t beta_t and hence abar_T ~ exp(-sum beta) the same: x_T is pure noise
    (sqrt(abar_T) < 0.01) for every T. An unscaled 1e-4 .. 0.02 over T = 100 steps would leave
    sqrt(abar_T) = 0.6 of the image in x_T, a common bug. Below T = 21 the scaled beta_T would
    reach 1: use the cosine schedule there.
    ``cosine``: abar_t = f(t)/f(0), f(t) = cos^2(((t/T + s)/(1 + s)) pi/2), s = 0.008, betas
    clipped at 0.999.
    """
    if not isinstance(T, int) or isinstance(T, bool) or T < 1:
        raise ValueError(f"T (number of diffusion steps) must be a positive integer, got {T!r}")
    if kind == "linear":
        if beta_start is None and beta_end is None and 1000 / T * 0.02 >= 1:
            raise ValueError(f"The linear schedule needs T >= 21 steps (its betas are scaled by "
                             f"1000/T and beta_T would be {1000 / T * 0.02:.2f} at T={T}); use "
                             "kind='cosine' for so few steps.")
        beta_start = 1e-4 * 1000 / T if beta_start is None else beta_start
        beta_end = 0.02 * 1000 / T if beta_end is None else beta_end
        if not 0 < beta_start <= beta_end < 1:
            raise ValueError(f"Need 0 < beta_start <= beta_end < 1, got {beta_start} and "
                             f"{beta_end}")
        betas = torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
    elif kind == "cosine":
        s = 0.008
        steps = torch.arange(T + 1, dtype=torch.float64)
        f = torch.cos(((steps / T + s) / (1 + s)) * math.pi / 2) ** 2
        abar = f / f[0]
        betas = (1 - abar[1:] / abar[:-1]).clamp(max=0.999)
    else:
        raise ValueError(f"Unknown schedule kind {kind!r}: choose 'linear' or 'cosine'")
    exact = Schedule.from_betas(betas)  # float64, then stored as float32
    return Schedule(exact.betas.float(), exact.alphas.float(), exact.alpha_bars.float())


def _check_t(t: torch.Tensor, x: torch.Tensor, schedule: Schedule) -> torch.Tensor:
    t = torch.as_tensor(t, device=x.device)
    if t.dim() == 0:
        t = t.expand(len(x))
    if t.dim() != 1 or len(t) != len(x):
        raise ValueError(f"t must be one time step per sample, shape ({len(x)},), got shape "
                         f"{tuple(t.shape)}")
    if t.dtype.is_floating_point or t.dtype == torch.bool:
        raise ValueError(f"t must hold integer time steps 0..T-1, got a {t.dtype} tensor")
    # The range check reads t back to the host: free on the CPU, but on an accelerator a wait for
    # the device at every step of a loop. There t comes from the package's loops, in range.
    if len(t) and t.device.type == "cpu" and (int(t.min()) < 0 or int(t.max()) >= schedule.T):
        raise ValueError(f"time steps must lie in 0..{schedule.T - 1}, got values in "
                         f"{int(t.min())}..{int(t.max())}")
    return t


def _bcast(values: torch.Tensor, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """values[t] reshaped to (N, 1, 1, ...) to multiply x."""
    return values.to(x.device)[t].reshape(-1, *([1] * (x.dim() - 1)))
