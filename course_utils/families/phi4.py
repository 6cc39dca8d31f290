"""The ``phi4-flow`` family: a Real-NVP for the lattice field of phi^4 theory, trained with no data.

The model is ``course_utils.phi4.Phi4Flow`` (checkerboard affine couplings with circular CNNs, a
prior N(0, 1) per site), trained by the reverse KL divergence to exp(-S) / Z
(``course_utils.phi4.train_flow``): the action S plays the part of the data, and (m^2, lambda)
the part the temperature plays for the Ising models. Samples are real fields (n, 1, L, L); the
flow gives the exact log q of each, so ``genlab sample -o x.npz`` writes ``phi`` and ``log_q``,
from which log w = -S - log q reweights them or corrects them by Metropolis-Hastings.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.utils.data import TensorDataset

from ..phi4 import Phi4Flow, Phi4FlowConfig, build_flow, sample_flow, train_flow
from .base import (
    FIELDS,
    ExactDensity,
    Family,
    Monitor,
    NoOptions,
    ProfileLike,
    no_monitor,
    profile_of,
)

__all__ = ["Phi4FlowFamily"]


class Phi4FlowFamily(Family[Phi4FlowConfig, Phi4Flow, NoOptions], ExactDensity):
    name = "phi4-flow"
    title = "phi^4 flow (reverse KL)"
    description = ("a Real-NVP for 2-D lattice phi^4 theory trained by reverse KL with no data "
                   "(Albergo, Kanwar & Shanahan 2019)")
    config_type = Phi4FlowConfig
    samples = FIELDS
    cli_fields = ("L", "m2", "lam", "n_layers", "hidden", "train_steps", "batch_size",
                  "batch_size_final", "lr", "gradient")

    def recipe(self, profile: ProfileLike = None) -> Phi4FlowConfig:
        """Notebook 09b's flow at the tutorial's point L = 8, m^2 = -4, lambda = 8."""
        P = profile_of(profile)
        return Phi4FlowConfig(L=8, m2=-4.0, lam=8.0, n_layers=P.phi4_layers,
                              train_steps=P.phi4_train_steps,
                              log_every=max(1, min(250, P.phi4_train_steps // 4)))

    def tiny(self) -> Phi4FlowConfig:
        return Phi4FlowConfig(L=4, n_layers=2, hidden=(4,), train_steps=3, batch_size=8,
                              batch_size_final=8, warmup=1, log_every=3, ess_samples=16)

    def build(self, config: Phi4FlowConfig, device: torch.device) -> Phi4Flow:
        return Phi4Flow(config).to(device)

    def data(self, config: Phi4FlowConfig, root: str | Path | None = None) -> TensorDataset:
        """No data: the flow learns from the action alone (an empty data set says so)."""
        empty = TensorDataset(torch.empty(0, 1, config.L, config.L))
        empty.source = (f"none: trained on the action S (m^2 = {config.m2:g}, "
                        f"lambda = {config.lam:g})")
        return empty

    def train(self, model: Phi4Flow, data: Any, config: Phi4FlowConfig, device: torch.device,
              seed: int = 1, progress: bool = True,
              monitor: Monitor | None = None) -> dict[str, Any]:
        no_monitor(monitor, "phi^4 flow")
        return train_flow(model, config, device, seed=seed, progress=progress)

    def sample_with_log_q(self, model: Phi4Flow, n: int, device: torch.device, seed: int | None,
                          options: NoOptions) -> tuple[torch.Tensor, torch.Tensor]:
        phi, log_q = sample_flow(model, n, device, 0 if seed is None else seed)
        return phi[:, None], log_q

    def sample(self, model: Phi4Flow, n: int, device: torch.device, seed: int | None,
               options: NoOptions) -> torch.Tensor:
        return self.sample_with_log_q(model, n, device, seed, options)[0]


__all__ += ["build_flow"]
