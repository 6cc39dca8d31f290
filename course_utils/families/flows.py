"""The flow families of notebook 07b: ``realnvp`` (exact likelihood) and ``flow-matching``.

* ``realnvp`` -- a Real-NVP of checkerboard affine couplings on dequantised, logit-mapped digits,
  trained by maximum likelihood (``course_utils.flows.realnvp_mnist``); its score of choice is the
  held-out bits per dimension;
* ``flow-matching`` -- notebook 07's class-conditional UNet as a velocity field v(x, t, y) on the
  linear path, trained by regression on x_1 - x_0 with the DDPM's budget, sampled by an ODE solver
  (``--solver euler|heun``, ``--steps``) or by the DDPM's ancestral step on its path
  (``--solver ancestral``), with classifier-free guidance like the DDPM.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from ..data import split_of
from ..flows import (
    FlowMatching,
    FlowMatchingConfig,
    RealNVP,
    RealNVPConfig,
    build_flow_matching,
    build_realnvp,
    sample_flow_matching,
    sample_realnvp,
    train_flow_matching,
    train_realnvp,
)
from .base import (
    DigitFamily,
    Monitor,
    NoOptions,
    ProfileLike,
    check_guided_options,
    no_monitor,
    profile_of,
)

__all__ = ["RealNVPFamily", "FlowMatchingFamily", "FlowMatchingSampling", "RealNVPSampling"]


@dataclass(frozen=True)
class RealNVPSampling:
    """The prior's temperature: z ~ N(0, temperature^2 I) (1: the model's own density)."""

    temperature: float = field(default=1.0, metadata={
        "help": "Real-NVP: scale of the prior's z (1 = the model; < 1 smoother digits)"})

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")


class RealNVPFamily(DigitFamily[RealNVPConfig, RealNVP, RealNVPSampling]):
    name = "realnvp"
    title = "Real-NVP"
    description = ("a Real-NVP normalizing flow on dequantised digits (Dinh et al. 2017), "
                   "exact likelihood")
    config_type = RealNVPConfig
    options_type = RealNVPSampling
    cli_fields = ("train_steps", "batch_size", "n_layers", "hidden", "n_blocks", "lr", "n_train")

    def recipe(self, profile: ProfileLike = None) -> RealNVPConfig:
        """Notebook 07b's Real-NVP: 8 checkerboard couplings with one residual block each."""
        P = profile_of(profile)
        return RealNVPConfig(n_layers=P.realnvp_layers, hidden=P.realnvp_hidden, n_blocks=1,
                             train_steps=P.realnvp_train_steps, batch_size=P.realnvp_batch_size,
                             warmup=min(100, P.realnvp_train_steps), n_train=None)

    def tiny(self) -> RealNVPConfig:
        return RealNVPConfig(n_layers=2, hidden=4, n_blocks=1, train_steps=2, batch_size=8,
                             warmup=1, n_train=64)

    def build(self, config: RealNVPConfig, device: torch.device) -> RealNVP:
        return build_realnvp(config, device)

    def train(self, model: RealNVP, data: Any, config: RealNVPConfig, device: torch.device,
              seed: int = 1, progress: bool = True,
              monitor: Monitor | None = None) -> dict[str, Any]:
        no_monitor(monitor, "Real-NVP")
        images, _ = split_of(data)
        return train_realnvp(model, images, device, seed=seed, progress=progress,
                             log_every=max(1, config.train_steps // 40))

    def sample(self, model: RealNVP, n: int, device: torch.device, seed: int | None,
               options: RealNVPSampling) -> torch.Tensor:
        return sample_realnvp(model, n, device, seed, temperature=options.temperature)


@dataclass(frozen=True)
class FlowMatchingSampling:
    """How flow matching draws: ``steps`` of a ``solver`` (an ODE solver, or the DDPM's ancestral
    step on the linear path); a ``digit`` with guidance
    ``guidance``, or ``all_digits`` in turn (``course_utils.flows.sample_flow_matching``)."""

    steps: int = field(default=20,
                       metadata={"help": "sampler steps (network evaluations per sample)"})
    solver: Literal["euler", "heun", "ancestral"] = field(default="euler", metadata={
        "help": "flow matching's sampler: the ODE solvers euler (one network evaluation per "
                "step) or heun (two), or ancestral (the DDPM's step on the linear path, fresh "
                "noise at each step; one)"})
    digit: int | None = field(default=None, metadata={"help": "draw only this digit (0-9)"})
    guidance: float = field(default=1.0, metadata={
        "help": "guidance weight w with --digit or --all-digits: v_u + w (v_c - v_u) (1 = plain "
                "conditional; Ho & Salimans's weight is w - 1)"})
    all_digits: bool = field(default=False, metadata={
        "help": "draw the digits 0-9 in turn (with guidance 1: a sample of p(x))"})

    def __post_init__(self) -> None:
        check_guided_options(self.steps, self.guidance, self.digit, self.all_digits)


class FlowMatchingFamily(DigitFamily[FlowMatchingConfig, FlowMatching, FlowMatchingSampling]):
    name = "flow-matching"
    title = "Flow matching"
    description = ("notebook 07's class-conditional UNet trained by flow matching (Lipman et al. "
                   "2023), sampled by an ODE solver")
    config_type = FlowMatchingConfig
    options_type = FlowMatchingSampling
    cli_fields = ("train_steps", "batch_size", "lr", "channels", "ema_decay", "time_sampling",
                  "n_train", "conditional")

    def recipe(self, profile: ProfileLike = None) -> FlowMatchingConfig:
        """The DDPM's recipe of notebook 07 (UNet, steps, batch,
        learning rate, EMA, label dropout)."""
        P = profile_of(profile)
        return FlowMatchingConfig(channels=tuple(P.ddpm_channels), conditional=True,
                                  train_steps=P.ddpm_train_steps, batch_size=P.ddpm_batch_size,
                                  warmup=min(100, P.ddpm_train_steps), n_train=P.ddpm_n_train)

    def sampling(self, profile: ProfileLike = None) -> FlowMatchingSampling:
        return FlowMatchingSampling(steps=profile_of(profile).fm_sample_steps)

    def tiny(self) -> FlowMatchingConfig:
        return FlowMatchingConfig(channels=(8, 8), train_steps=3, batch_size=8, warmup=1,
                                  n_train=64)

    def build(self, config: FlowMatchingConfig, device: torch.device) -> FlowMatching:
        return build_flow_matching(config, device)

    def train(self, model: FlowMatching, data: Any, config: FlowMatchingConfig,
              device: torch.device, seed: int = 1, progress: bool = True,
              monitor: Monitor | None = None) -> dict[str, Any]:
        no_monitor(monitor, "flow-matching")
        images, labels = split_of(data)
        return train_flow_matching(model, images, labels, device, seed=seed, progress=progress,
                                   log_every=max(1, config.train_steps // 40))

    def sample(self, model: FlowMatching, n: int, device: torch.device, seed: int | None,
               options: FlowMatchingSampling) -> torch.Tensor:
        return sample_flow_matching(model, n, device, seed, steps=options.steps,
                                    solver=options.solver, digit=options.digit,
                                    guidance=options.guidance, all_digits=options.all_digits)

    def scoreboard_sampling(self, config: FlowMatchingConfig, all_digits: bool, steps: int | None,
                            eta: float | None) -> tuple[str, FlowMatchingSampling]:
        """The DDPM's ancestral step on the linear path (``solver="ancestral"``, the counterpart of
        the DDPM's eta = 1 row; from 10 to 50 evaluations the best of flow matching's three
        samplers in ``benchmarks/flows.py``) with ``steps`` steps (default 20); ``eta`` is the
        DDPM's and is not used. With ``all_digits`` a conditional model draws the digits 0-9 in
        turn from p(x | y) with guidance 1, a sample of p(x)."""
        given = {"solver": "ancestral"} | ({"steps": steps} if steps is not None else {})
        if all_digits and config.conditional:
            return f"{self.title}, digits 0-9", self.options(all_digits=True, guidance=1.0, **given)
        return self.title, self.options(**given)


__all__ += ["NoOptions"]
