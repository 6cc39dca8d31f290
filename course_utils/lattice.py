"""Statistics shared by the lattice models (Ising spins, phi^4 fields): one definition each.

Configurations are tensors ``(..., L1, L2)`` on a periodic L1 x L2 lattice (a torus); sums run over
the last two dimensions, one value per configuration. ``torch.roll(x, r, dim)`` puts ``x[i - r]``
at ``i``: it brings the LEFT (dim -1) or UPPER (dim -2) neighbour at distance r to each site. On a
torus ``sum_x x_x x_{x - r e} = sum_x x_x x_{x + r e}``, so the rolled sums below are the usual
forward ones.

Per configuration

* ``shifted_product_sum(x, shift)``: ``sum_x x_x x_{x + y}`` for a displacement ``y = shift``;
* ``bond_sum(x)``: ``sum_x sum_mu x_x x_{x + mu}``, every nearest-neighbour bond once (2V bonds);
* ``neighbour_sum(x)``: ``sum_mu (x_{x + mu} + x_{x - mu})`` at every site, the gradient of
  ``bond_sum`` with respect to ``x_x``;
* ``two_point(x)``: ``C(y) = (1/V) sum_x x_x x_{x + y}`` for every displacement y, (n, L1, L2);
* ``axial_two_point(x, r_max)``: ``G(r) = (C(r e_1) + C(r e_2)) / 2``, r = 0..r_max (default L//2).

Ensembles and chains

* ``Estimate(value, error)`` and the delete-one-block ``jackknife`` of any function of means,
  optionally self-normalised with importance weights ``w = exp(log_w)``; ``reweight``;
* ``autocorrelation`` rho(t) and Sokal's ``integrated_autocorrelation_time``;
* ``effective_sample_size(log_w) = (sum w)^2 / (n sum w^2)`` (Kish), as a fraction of n;
* ``symmetrised_log_q(log_q, log_q_flipped)``: log q_sym = log((q(x) + q(-x)) / 2), the exact
  log-density of a model made symmetric under x -> -x by a random global sign;
* ``independence_metropolis(log_w, generator)``: the Metropolis-Hastings chain over independent
  proposals with importance weights ``w = p~ / q`` (Tierney 1994; for flows Albergo, Kanwar &
  Shanahan, PRD 100, 034515, 2019, and Nicoli et al., PRE 101, 023304, 2020).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "shifted_product_sum",
    "bond_sum",
    "neighbour_sum",
    "two_point",
    "axial_two_point",
    "Estimate",
    "jackknife",
    "reweight",
    "autocorrelation",
    "integrated_autocorrelation_time",
    "effective_sample_size",
    "symmetrised_log_q",
    "MetropolisChain",
    "independence_metropolis",
]

_SITES = (-2, -1)  # the lattice dimensions of a configuration


# ------------------------------------------------------------------------------ per configuration


def shifted_product_sum(x: torch.Tensor, shift: Sequence[int]) -> torch.Tensor:
    """``sum_x x_x x_{x + y}`` per configuration for a displacement ``y = (y_1, y_2)``."""
    return (x * torch.roll(x, tuple(int(s) for s in shift), _SITES)).sum(_SITES)


def bond_sum(x: torch.Tensor) -> torch.Tensor:
    """``sum_x sum_mu x_x x_{x + mu}`` per configuration: each nearest-neighbour bond once.

    Rolled by one in each direction, i.e. each site times its upper and its left neighbour, which
    on the torus is the same set of 2V bonds as the lower and right ones.
    """
    return shifted_product_sum(x, (1, 0)) + shifted_product_sum(x, (0, 1))


def neighbour_sum(x: torch.Tensor) -> torch.Tensor:
    """``sum_mu (x_{x + mu} + x_{x - mu})`` at every site: the four nearest neighbours, periodic.

    It is ``d bond_sum / d x_x`` (each site sits in four bonds).
    """
    return (
        torch.roll(x, 1, -2) + torch.roll(x, -1, -2) + torch.roll(x, 1, -1) + torch.roll(x, -1, -1)
    )


def two_point(x: torch.Tensor) -> torch.Tensor:
    """``C(y) = (1/V) sum_x x_x x_{x + y}`` for every displacement y: shape ``(n, L1, L2)``,
    ``C[:, y_1, y_2]``. Its ensemble mean is the two-point function of a translation-invariant
    ensemble; ``sum_y C(y) = (sum_x x_x)^2 / V``."""
    rows, cols = x.shape[-2], x.shape[-1]
    sums = [[shifted_product_sum(x, (-a, -b)) for b in range(cols)] for a in range(rows)]
    return torch.stack([torch.stack(row, -1) for row in sums], -2) / (rows * cols)


def axial_two_point(x: torch.Tensor, r_max: int | None = None) -> torch.Tensor:
    """``G(r) = (1/2V) sum_x x_x (x_{x + r e_1} + x_{x + r e_2})``, r = 0..r_max: (n, r_max + 1).

    ``r_max`` defaults to ``L // 2`` (the largest distance on a torus of side L = L2).
    """
    volume = x.shape[-2] * x.shape[-1]
    r_max = x.shape[-1] // 2 if r_max is None else int(r_max)
    return torch.stack(
        [
            (shifted_product_sum(x, (r, 0)) + shifted_product_sum(x, (0, r))) / volume / 2
            for r in range(r_max + 1)
        ],
        -1,
    )


# ------------------------------------------------------------------------------ estimates


class Estimate(tuple):
    """``(value, error)``: a value and its standard error (floats, or tensors for whole functions).

    A plain 2-tuple (``value, error = est``) that also reads as ``est.value`` and ``est.error``.
    """

    __slots__ = ()

    def __new__(cls, value, error):
        return super().__new__(cls, (value, error))

    @property
    def value(self):
        return self[0]

    @property
    def error(self):
        return self[1]

    def __repr__(self) -> str:
        return f"Estimate(value={self[0]!r}, error={self[1]!r})"


def _weights(log_w: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``w = exp(log_w - max log_w)``: the importance weights up to a constant, which cancels."""
    log_w = torch.as_tensor(log_w, dtype=like.dtype, device=like.device).reshape(-1)
    if len(log_w) != len(like):
        raise ValueError(
            f"need one log-weight per row: {len(log_w)} log-weights for {len(like)} rows"
        )
    return torch.exp(log_w - log_w.max())


def jackknife(
    primary: torch.Tensor,
    fn: Callable[[torch.Tensor], torch.Tensor],
    n_blocks: int = 50,
    log_w: torch.Tensor | None = None,
) -> Estimate:
    """Delete-one-block jackknife of ``fn(means)``, ``means`` the column means of ``primary``.

    ``primary`` is (n, k); ``fn`` maps a ``(..., k)`` tensor of means to ``(...)`` or ``(..., j)``
    values (it is called on the full means and on the ``B`` leave-one-block-out means at once).
    Blocks are contiguous, so they absorb correlations between neighbouring rows (a Markov
    chain's). The error is
    ``sqrt((B - 1)/B sum_b (f_(b) - mean f_(.))^2)``, ``f_(b)`` the estimate without block b.

    ``log_w`` (n,): self-normalised importance weights, ``means = sum_i w_i a_i / sum_i w_i``
    (the ratio estimator, jackknifed as a whole).
    """
    if log_w is not None:
        w = _weights(log_w, primary)
        weighted = torch.cat([primary * w[:, None], w[:, None]], 1)
        return jackknife(weighted, lambda a: fn(a[..., :-1] / a[..., -1:]), n_blocks)
    n = primary.shape[0]
    blocks = max(1, min(int(n_blocks), n))
    sums = torch.stack([chunk.sum(0) for chunk in torch.tensor_split(primary, blocks)])
    counts = torch.tensor(
        [len(c) for c in torch.tensor_split(torch.arange(n), blocks)],
        dtype=primary.dtype,
        device=primary.device,
    )
    total = sums.sum(0)
    value = fn(total / n)
    if blocks < 2:
        return Estimate(value, torch.full_like(torch.as_tensor(value), float("nan")))
    leave_out = fn((total - sums) / (n - counts)[:, None])
    error = torch.sqrt((blocks - 1) / blocks * ((leave_out - leave_out.mean(0)) ** 2).sum(0))
    return Estimate(value, error)


def reweight(values: torch.Tensor, log_w: torch.Tensor, n_blocks: int = 50) -> Estimate:
    """``<O>_p = sum_i w_i O_i / sum_i w_i`` for draws ``O_i`` of q and ``log w = log p~ - log q``,
    with its jackknife error; ``values`` (n,) or (n, k). Consistent for any q that covers p."""
    values = torch.as_tensor(values, dtype=torch.float64)
    est = jackknife(values.reshape(len(values), -1), lambda a: a, n_blocks, log_w=log_w)
    shape = values.shape[1:]
    return Estimate(est.value.reshape(shape), est.error.reshape(shape))


# ------------------------------------------------------------------------------ chains


def _series(series) -> np.ndarray:
    """A (steps, chains) float64 numpy copy of a (steps,) or (steps, chains) series."""
    if isinstance(series, torch.Tensor):
        x = series.detach().cpu().double().numpy()
    else:
        x = np.asarray(series, dtype=np.float64)
    return x[:, None] if x.ndim == 1 else x


def _autocovariance(x: np.ndarray) -> np.ndarray:
    """Autocovariance at lags 0..n-1 (FFT, biased 1/n normalisation), the mean over all chains
    removed (not each chain's own: a chain stuck away from the others shows up as a long
    correlation instead of being hidden), averaged over chains."""
    n = x.shape[0]
    x = x - x.mean()
    f = np.fft.rfft(x, 2 * n, axis=0)
    return np.fft.irfft(f * np.conj(f), axis=0)[:n].mean(1) / n


def autocorrelation(series, max_lag: int | None = None) -> np.ndarray:
    """rho(t) = Gamma(t) / Gamma(0), t = 0..max_lag, of a (steps,) or (steps, chains) series
    (time first; see ``_autocovariance``); a constant series gives ones."""
    x = _series(series)
    acov = _autocovariance(x)
    max_lag = len(acov) - 1 if max_lag is None else int(max_lag)
    return acov[: max_lag + 1] / acov[0] if acov[0] > 1e-300 else np.ones(max_lag + 1)


def integrated_autocorrelation_time(series, c: float = 6.0) -> tuple[float, int]:
    """Sokal's windowed ``tau_int = 1/2 + sum_{t=1}^{W} rho(t)``; returns ``(tau_int, W)``.

    ``series``: shape ``(n_steps,)`` or ``(n_steps, chains)`` (time first). ``W`` is the smallest
    window with ``W >= c tau_int(W)`` (Madras & Sokal 1988). Independent samples have
    ``tau_int = 1/2``; the variance of a mean of n samples is ``2 tau_int Var / n``. A constant
    series gives ``(0.5, 0)``.
    """
    x = _series(series)
    if x.ndim != 2 or x.shape[0] < 4:
        raise ValueError(
            f"need a series of shape (n_steps >= 4,) or (n_steps, chains), got {x.shape}"
        )
    acov = _autocovariance(x)
    if acov[0] <= 1e-300:
        return 0.5, 0
    taus = np.cumsum(acov / acov[0]) - 0.5  # taus[W] = 1/2 + sum_{t=1}^{W} rho(t)
    ok = np.arange(len(taus)) >= c * taus
    window = int(np.argmax(ok)) if ok.any() else len(taus) - 1
    return float(max(taus[window], 0.5)), window


def effective_sample_size(log_w: torch.Tensor) -> torch.Tensor:
    """ESS / n = (sum w)^2 / (n sum w^2) for importance weights ``w = exp(log_w)`` (Kish).

    1 when all weights are equal (q = p), about 1/n when one weight dominates. Computed in logs,
    ``exp(2 logsumexp(log w) - logsumexp(2 log w) - log n)``, so no weight overflows. A 0-d float64
    tensor on the CPU.
    """
    log_w = (
        torch.as_tensor(log_w).detach().reshape(-1).cpu().double()
    )  # one copy; float64 where it exists
    if len(log_w) < 1 or not torch.isfinite(log_w).all():
        raise ValueError("effective_sample_size needs at least one finite log-weight")
    return torch.exp(
        2 * torch.logsumexp(log_w, 0) - torch.logsumexp(2 * log_w, 0) - math.log(len(log_w))
    )


def symmetrised_log_q(log_q: torch.Tensor, log_q_flipped: torch.Tensor) -> torch.Tensor:
    """log q_sym(x) = log((q(x) + q(-x)) / 2) from log q(x) and log q(-x), elementwise.

    q_sym draws x ~ q and negates it with probability 1/2; it is the same for x and -x, so a
    flipped draw keeps the value computed before the flip. Computed as
    ``logaddexp(log q(x), log q(-x)) - log 2``, in the inputs' dtype and on their device."""
    return torch.logaddexp(log_q, log_q_flipped) - math.log(2.0)


@dataclass(frozen=True)
class MetropolisChain:
    """An independence-Metropolis chain over proposals 0..n-1 (time first, one column per chain).

    ``index[k]``: the proposal the chain is at after step k (``index[0] = 0``, the start);
    ``accepted[k]``: whether step k moved to proposal k (``accepted[0]`` is True);
    ``acceptance``: the fraction of accepted proposals over steps 1..n-1 and all chains.
    """

    index: torch.Tensor
    accepted: torch.Tensor
    acceptance: float


def independence_metropolis(
    log_w: torch.Tensor, generator: torch.Generator | None = None
) -> MetropolisChain:
    """Run Metropolis-Hastings with independent proposals x_k ~ q, given ``log_w = log p~ - log q``.

    From the state x the chain moves to the proposal x' with probability ``min(1, w(x') / w(x))``:
    the acceptance min(1, p(x') q(x) / (p(x) q(x'))) of Hastings for a proposal that ignores x.
    It leaves p invariant whatever q (with the same support), and exact samples of q with exact
    log q make the chain correct: repeated states are how it removes q's bias.

    ``log_w``: shape (n,) for one chain or (n, chains) for independent chains (time first), on
    any device. The uniforms are drawn on that device with ``generator`` (which must be made for
    it); the chain itself runs on the CPU (one copy in, no copy per step). Returns ``index`` and
    ``accepted`` of the shape of ``log_w`` on the CPU.
    """
    log_w = torch.as_tensor(log_w)
    if log_w.dim() not in (1, 2) or len(log_w) < 1:
        raise ValueError(
            f"log_w must have shape (n,) or (n, chains) with n >= 1, got {tuple(log_w.shape)}"
        )
    u = torch.rand(log_w.shape, generator=generator, device=log_w.device)
    lw = log_w.detach().double().cpu().reshape(len(log_w), -1)
    log_u = torch.log(u).double().cpu().reshape(lw.shape)
    index = torch.zeros(lw.shape, dtype=torch.long)
    accepted = torch.zeros(lw.shape, dtype=torch.bool)
    accepted[0] = True
    current, lw_current = index[0].clone(), lw[0].clone()
    for k in range(1, len(lw)):
        accept = log_u[k] < lw[k] - lw_current
        current = torch.where(accept, k, current)
        lw_current = torch.where(accept, lw[k], lw_current)
        index[k], accepted[k] = current, accept
    steps = accepted[1:]
    acceptance = float(steps.double().mean()) if steps.numel() else float("nan")
    return MetropolisChain(index.reshape(log_w.shape), accepted.reshape(log_w.shape), acceptance)
