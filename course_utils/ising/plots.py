"""Figures of notebook 09: autocorrelation, observables against the exact curves, lattices, G(r).

* ``autocorrelation(series, max_lag)``: the normalised autocorrelation rho(t) of a (steps, chains)
  series (the mean over all chains removed; defined in ``lattice``, re-exported here);
* ``plot_autocorrelation({label: series}, max_lag)``;
* ``plot_observables(estimates, L)``: e(T), |m|(T), c(T), chi(T) with error bars for Monte Carlo
  and every model, against Kaufman's exact e and c of the L x L torus and Onsager's infinite-lattice
  curves; ``estimates`` is ``{label: {T: measure(...)}}``;
* ``plot_lattices({label: configs}, n)``: a row of configurations per label;
* ``plot_correlations({label: measure(...)}, T)``: G(r) with error bars.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from ..lattice import autocorrelation
from .exact import (
    T_C,
    energy_per_spin,
    onsager_energy_per_spin,
    onsager_magnetisation,
    onsager_specific_heat_per_spin,
    specific_heat_per_spin,
)

__all__ = ["autocorrelation", "plot_autocorrelation", "plot_observables", "plot_lattices",
           "plot_correlations"]

_PANELS = (("e", "energy per spin e"), ("abs_m", "|m|"), ("c", "specific heat c"),
           ("chi", "susceptibility chi"))


def plot_autocorrelation(series: dict, max_lag: int = 50, title: str = "") -> Figure:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, s in series.items():
        ax.plot(autocorrelation(s, max_lag), label=label)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set(xlabel="lag t (steps)", ylabel="rho(t)", title=title)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_observables(estimates: dict, L: int) -> Figure:
    """Four panels; ``estimates`` {label: {T: measure dict}}; 'Monte Carlo' drawn in black."""
    T_fine = np.linspace(1.2, 3.8, 131)
    exact_curves = {
        "e": ([energy_per_spin(L, t) for t in T_fine],
              [onsager_energy_per_spin(t) for t in T_fine]),
        "c": ([specific_heat_per_spin(L, t) for t in T_fine],
              [onsager_specific_heat_per_spin(t) for t in T_fine]),
        "abs_m": (None, [onsager_magnetisation(t) for t in T_fine]),
        "chi": (None, None),
    }
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    for ax, (key, title) in zip(axes, _PANELS, strict=True):
        finite, infinite = exact_curves[key]
        if finite is not None:
            ax.plot(T_fine, finite, color="black", lw=1.2, label=f"exact, {L}x{L} torus (Kaufman)")
        if infinite is not None:
            ax.plot(T_fine, infinite, color="grey", lw=1, ls="--",
                    label="exact, infinite lattice (Onsager)")
        for k, (label, by_T) in enumerate(estimates.items()):
            Ts = sorted(by_T)
            v = [float(by_T[t][key].value) for t in Ts]
            err = [float(by_T[t][key].error) for t in Ts]
            mc = label == "Monte Carlo"
            ax.errorbar(np.array(Ts) + (0 if mc else 0.012 * k), v, yerr=err,
                        fmt="o" if mc else "s", ms=6 if mc else 4, color="black" if mc else None,
                        mfc="none" if mc else None, capsize=2, label=label)
        ax.axvline(T_C, color="grey", lw=0.5, ls=":")
        ax.set(xlabel="T", title=title)
        if key in ("c", "chi"):
            ax.set_yscale("log")  # a broken model can be off by orders of magnitude
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_lattices(configs: dict, n: int = 4, title: str = "") -> Figure:
    """``n`` configurations per label, one row each (black = +1)."""
    fig, axes = plt.subplots(len(configs), n, figsize=(1.6 * n + 1.5, 1.6 * len(configs)),
                             squeeze=False)
    for row, (label, x) in enumerate(configs.items()):
        x = torch.as_tensor(x).reshape(len(x), *x.shape[-2:])
        for col in range(n):
            ax = axes[row, col]
            if col < len(x):
                ax.imshow(x[col].numpy(), cmap="gray_r", vmin=-1, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_correlations(estimates: dict, T: float) -> Figure:
    """G(r), r = 0..L/2, per label (``estimates`` {label: measure dict at T})."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, est in estimates.items():
        G, err = est["G"]
        ax.errorbar(np.arange(len(G)), G.numpy(), yerr=err.numpy(), marker="o", ms=3, capsize=2,
                    label=label, color="black" if label == "Monte Carlo" else None)
    ax.set(xlabel="distance r", ylabel="G(r)", title=f"spin-spin correlation at T = {T:g}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
