"""Observables of 2-D Ising configurations, with jackknife error bars.

The same code judges Monte Carlo samples and samples of a generative model. Input: a torch tensor
or numpy array of shape ``(n, L, L)`` or ``(n, 1, L, L)`` whose entries are exactly ``-1`` or ``+1``
(int8, any integer or float dtype); anything else is a ``ValueError`` that says what is wrong.

Per configuration (``N = L^2``, periodic, J = 1):

* ``e = H / N`` with ``H = hamiltonian(s) = -sum_<ij> s_i s_j`` (each bond once,
  ``lattice.bond_sum``), ``m = (1/N) sum_i s_i``;
* ``G(r) = (1/2N) sum_i s_i (s_{i+r x} + s_{i+r y})`` for ``r = 0..L//2`` (``G(0) = 1``; not
  connected; ``lattice.axial_two_point``).

``torch.roll(s, r, dim)`` puts ``s[i - r]`` at position ``i``: rolling by +1 pairs each spin with
its upper (dim 1) and left (dim 2) neighbour. On the torus that is the same set of 2N bonds as the
right and lower neighbours, so e and G are the same either way.

Ensemble estimates returned by ``measure(configs, T)`` (each an ``Estimate(value, error)``):

* ``e``, ``abs_m`` (<|m|>), ``m`` (<m>), ``m2``, ``m4``;
* ``c = N (<e^2> - <e>^2) / T^2`` (specific heat per spin);
* ``chi = N (<m^2> - <|m|>^2) / T``: the finite-lattice susceptibility chi' built with ``|m|``, not
  chi = N (<m^2> - <m>^2) / T. On a finite torus <m> = 0 by symmetry at every T, so chi would be
  ``N <m^2> / T``, which grows like N m_0^2 / T below T_c instead of giving the susceptibility of
  one phase; chi' is the usual finite-lattice choice at and below T_c (Landau & Binder). Above
  T_c, where m is nearly Gaussian around 0 and <|m|>^2 = (2/pi) <m^2>, chi' is only about
  (1 - 2/pi) ~ 0.36 of chi (exact enumeration at L = 4: 0.26 at T = 3.5, 0.36 at T = 10):
  compare with published susceptibilities above T_c as N <m^2> / T, from ``m2``;
* ``U4 = 1 - <m^4> / (3 <m^2>^2)`` (Binder cumulant: 2/3 when ordered, -> 0 for Gaussian m);
* ``balance``: fraction of configurations with ``m > 0``, ``m == 0`` counted as one half (0.5 in
  equilibrium by the spin-flip symmetry);
* ``m_hist``: the histogram of m as probabilities per bin, bins from ``histogram_edges(L)`` (one bin
  per attainable value ``m = (2k - N) / N`` for ``N + 1 <= max_bins``, otherwise groups of equally
  many attainable values);
* ``G``: ``G(r)``, r = 0..L//2.

Errors: delete-one-block jackknife (``lattice.jackknife``) over ``n_blocks`` contiguous blocks
(default 50, or n if fewer configurations): ``sigma^2 = (B - 1)/B sum_b (f_(b) - mean f_(.))^2``
with ``f_(b)`` the estimate without block b; contiguous blocks also absorb correlations between
neighbouring rows (the Monte Carlo output is ordered chain by chain). Values are the plain
full-sample estimates (the O(1/n) bias of the variance-type ones, c and chi, is far below their
errors for n >= 100).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..lattice import Estimate, axial_two_point, bond_sum, jackknife

__all__ = [
    "Estimate", "as_spins", "hamiltonian", "energy_per_config", "magnetisation_per_config",
    "correlation_per_config", "histogram_edges", "jackknife", "measure",
]


def as_spins(configs) -> torch.Tensor:
    """Check ``configs`` and return them as float64 ``(n, L, L)``; else a
    ``ValueError`` with the reason."""
    if isinstance(configs, np.ndarray):
        configs = torch.from_numpy(configs)
    if not isinstance(configs, torch.Tensor):
        raise ValueError(
            "Ising configurations must be a torch tensor or numpy array, got "
            f"{type(configs).__name__}.")
    shape = tuple(configs.shape)
    if configs.dim() == 4:
        if shape[1] != 1:
            raise ValueError(
                f"Expected configurations of shape (n, L, L) or (n, 1, L, L); got {shape}: a 4-D "
                f"input must have one channel.")
        configs = configs[:, 0]
    if configs.dim() != 3 or configs.shape[-1] != configs.shape[-2] or configs.shape[-1] < 2:
        raise ValueError(
            "Expected configurations of shape (n, L, L) or (n, 1, L, L) with square L x L "
            f"lattices, L >= 2; got {shape}.")
    if configs.shape[0] < 1:
        raise ValueError(f"Got no configurations (shape {shape}).")
    if configs.dtype == torch.bool or configs.is_complex():
        raise ValueError("Spins must be -1 or +1 in an integer or float tensor, got dtype "
                         f"{configs.dtype}.")
    x = configs.detach().cpu().to(torch.float64)
    bad = ~((x == 1.0) | (x == -1.0))
    if bool(bad.any()):
        found = torch.unique(x[bad])[:6].tolist()
        hint = " (0/1 spins? map them with 2 * x - 1)" if set(found) <= {0.0, 1.0} else ""
        raise ValueError(
            f"Spins must be exactly -1 or +1; {int(bad.sum())} of {x.numel()} entries are not, "
            f"e.g. {found}{hint}.")
    return x


def hamiltonian(spins: torch.Tensor) -> torch.Tensor:
    """The Ising energy ``H(s) = -J sum_<ij> s_i s_j`` (J = 1, each bond once) per configuration.

    THE definition the package uses (exact enumeration, Monte Carlo, ``measure``, the samplers,
    the exercise's reference). No checks, any dtype and device: ``spins`` (..., L, L) of +-1.
    """
    return -bond_sum(spins)


def energy_per_config(configs) -> torch.Tensor:
    """``e = H / N`` per configuration (``hamiltonian``) of checked spins: float64 ``(n,)``, CPU."""
    s = as_spins(configs)
    return hamiltonian(s) / s.shape[-1] ** 2


def magnetisation_per_config(configs) -> torch.Tensor:
    """``m = (1/N) sum_i s_i`` per configuration, float64 ``(n,)``."""
    s = as_spins(configs)
    return s.mean((1, 2))


def correlation_per_config(configs) -> torch.Tensor:
    """``G(r) = (1/2N) sum_i s_i (s_{i - r x} + s_{i - r y})``, r = 0..L//2, per configuration.

    Shape ``(n, L//2 + 1)``.
    """
    return axial_two_point(as_spins(configs))


def _histogram_group(n_spins: int, max_bins: int) -> int:
    return max(1, math.ceil((n_spins + 1) / max_bins))


def histogram_edges(L: int, max_bins: int = 257) -> torch.Tensor:
    """Bin edges in m of ``measure(...)["m_hist"]`` for an L x L lattice (float64, bins + 1 values).

    The attainable values are ``m_k = (2k - N) / N``, k = 0..N up spins; bin b holds k in
    ``[b g, (b + 1) g)`` with ``g = ceil((N + 1) / max_bins)`` (g = 1: one
    bin per value, centred on it).
    """
    n_spins = int(L) ** 2
    g = _histogram_group(n_spins, max_bins)
    n_bins = math.ceil((n_spins + 1) / g)
    k_lo = torch.arange(n_bins + 1, dtype=torch.float64) * g
    k_lo[-1] = n_spins + 1
    return (2 * k_lo - n_spins - 1) / n_spins


def measure(configs, T: float, *, n_blocks: int = 50, max_bins: int = 257) -> dict[str, Estimate]:
    """Every observable of the module docstring with its jackknife error, as ``{name: Estimate}``.

    Keys: ``e``, ``abs_m``, ``m``, ``m2``, ``m4``, ``c``, ``chi``, ``U4``, ``balance`` (floats) and
    ``m_hist``, ``G`` (float64 tensors). ``T`` (units of J/k_B) enters c and chi. At least two
    configurations are needed for error bars.
    """
    T = float(T)
    if not math.isfinite(T) or T <= 0:
        raise ValueError(f"The temperature must be a positive finite number, got {T!r}.")
    s = as_spins(configs)
    n, L = s.shape[0], s.shape[-1]
    if n < 2:
        raise ValueError(f"Need at least 2 configurations for error bars, got {n}.")
    n_spins = L * L
    e = hamiltonian(s) / n_spins
    m = s.mean((1, 2))
    G = axial_two_point(s)
    up = torch.round((m * n_spins + n_spins) / 2).long()  # number of up spins k
    g = _histogram_group(n_spins, max_bins)
    n_bins = math.ceil((n_spins + 1) / g)
    hist = torch.nn.functional.one_hot(up // g, n_bins).to(torch.float64)
    balance = (m > 0).double() + 0.5 * (m == 0).double()
    cols = torch.stack([e, e * e, m.abs(), m, m * m, m ** 4, balance], 1)
    out: dict[str, Estimate] = {}

    def scalar(fn):
        est = jackknife(cols, fn, n_blocks)
        return Estimate(float(est.value), float(est.error))

    out["e"] = scalar(lambda a: a[..., 0])
    out["abs_m"] = scalar(lambda a: a[..., 2])
    out["m"] = scalar(lambda a: a[..., 3])
    out["m2"] = scalar(lambda a: a[..., 4])
    out["m4"] = scalar(lambda a: a[..., 5])
    out["c"] = scalar(lambda a: n_spins * (a[..., 1] - a[..., 0] ** 2) / T ** 2)
    out["chi"] = scalar(lambda a: n_spins * (a[..., 4] - a[..., 2] ** 2) / T)
    out["U4"] = scalar(lambda a: 1 - a[..., 5] / (3 * a[..., 4] ** 2))
    out["balance"] = scalar(lambda a: a[..., 6])
    out["m_hist"] = jackknife(hist, lambda a: a, n_blocks)
    out["G"] = jackknife(G, lambda a: a, n_blocks)
    return out
