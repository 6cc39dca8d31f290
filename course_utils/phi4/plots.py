"""Figures of notebook 09b: fields, a phase scan, a training curve, G_c, histograms.

* ``plot_fields({label: configs}, n)``: a row of n fields per label, one colour scale for all;
* ``plot_scan(lams, estimates, L)``: <|M|>/V and chi_2 against lambda (``estimates``: one
  ``measure`` dict per lambda);
* ``plot_training(history)``: the reverse-KL loss and the ESS/N of fresh draws against the step;
* ``plot_two_point({label: measure(...)}, exact=None)``: G_c along an axis with error bars (and an
  exact curve, e.g. ``free_field_two_point``);
* ``plot_histograms({label: values}, xlabel)``: normalised histograms on shared bins.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

__all__ = ["plot_fields", "plot_scan", "plot_training", "plot_two_point", "plot_histograms"]


def plot_fields(fields: dict, n: int = 4, title: str = "") -> Figure:
    """One row per label, ``n`` fields each, coloured on one symmetric scale."""
    rows = {label: torch.as_tensor(f)[:n].double() for label, f in fields.items()}
    top = max(float(f.abs().max()) for f in rows.values())
    fig, axes = plt.subplots(len(rows), n, figsize=(2 * n, 2.1 * len(rows)), squeeze=False)
    for axs, (label, f) in zip(axes, rows.items(), strict=True):
        for k, ax in enumerate(axs):
            image = ax.imshow(f[k], cmap="RdBu_r", vmin=-top, vmax=top)
            ax.set_xticks([])
            ax.set_yticks([])
        axs[0].set_ylabel(label)
    fig.colorbar(image, ax=axes, shrink=0.8, label="phi_x")
    if title:
        fig.suptitle(title)
    return fig


def plot_scan(lams, estimates: list, L: int, marks: dict | None = None) -> Figure:
    """<|M|>/V and chi_2 = (<M^2> - <M>^2)/V against lambda; ``marks`` {lambda: label}."""
    volume = L * L
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, key, scale, name in ((axes[0], "abs_M", volume, "<|M|> / V"),
                                 (axes[1], "chi2", 1, "chi_2")):
        values = [e[key].value / scale for e in estimates]
        errors = [e[key].error / scale for e in estimates]
        ax.errorbar(lams, values, errors, marker="o", capsize=3)
        ax.set(xlabel="lambda", ylabel=name, title=f"{name}, m^2 = -4, L = {L}")
        if key == "chi2":
            ax.set_yscale("log")
        for lam, text in (marks or {}).items():
            ax.axvline(lam, color="grey", ls=":")
            ax.annotate(text, (lam, ax.get_ylim()[1]), rotation=90, va="top", ha="right",
                        fontsize=8)
    fig.tight_layout()
    return fig


def plot_training(history: dict, title: str = "") -> Figure:
    """The loss mean(log q + S) = KL - log Z and the ESS/N of fresh draws, per history entry."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
    left.plot(history["step"], history["loss"], marker=".")
    left.set(xlabel="step", ylabel="mean(log q + S)", title="reverse-KL loss (KL - log Z)")
    right.plot(history["step"], history["ess"], marker=".", color="C1")
    right.set(xlabel="step", ylabel="ESS / N", ylim=(0, 1), title="ESS/N of fresh draws")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_two_point(estimates: dict, exact=None, title: str = "") -> Figure:
    """G_c(y, 0) (y = 0..L/2, averaged with G_c(0, y)) with error bars; ``exact`` (L, L)."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for k, (label, est) in enumerate(estimates.items()):
        G, err = (torch.as_tensor(x) for x in est["G_c"])
        L = G.shape[-1]
        r = np.arange(L // 2 + 1)
        value = ((G[r, 0] + G[0, r]) / 2).numpy()
        error = ((err[r, 0] + err[0, r]) / 2).numpy()
        ax.errorbar(r + 0.06 * k, value, error, marker="o", ls="", capsize=3, label=label)
    if exact is not None:
        exact = torch.as_tensor(exact)
        r = np.arange(exact.shape[-1] // 2 + 1)
        ax.plot(r, exact[r, 0].numpy(), color="black", label="exact")
    ax.set(xlabel="distance y along an axis", ylabel="G_c(y)", yscale="log", title=title)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_histograms(values: dict, xlabel: str, bins: int = 60, title: str = "") -> Figure:
    """Normalised histograms of each label's values on one set of bins."""
    arrays = {label: torch.as_tensor(v).double().reshape(-1).numpy() for label, v in values.items()}
    lo = min(a.min() for a in arrays.values())
    hi = max(a.max() for a in arrays.values())
    edges = np.linspace(lo, hi, bins + 1)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, a in arrays.items():
        ax.hist(a, edges, density=True, histtype="step", lw=1.5, label=label)
    ax.set(xlabel=xlabel, ylabel="density", title=title)
    ax.legend()
    fig.tight_layout()
    return fig
