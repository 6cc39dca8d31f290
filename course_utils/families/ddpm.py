"""The DDPM family: notebook 07's class-conditional UNet DDPM, sampled with DDIM.

Recipe: notebook 07's (the ``ddpm_*`` sizes of the profile, T = 1000, linear schedule, label
dropout 10 %). ``sample`` draws with DDIM (``steps``, noise ``eta``); a conditional model draws one
``digit`` with classifier-free guidance ``guidance``, or ``all_digits`` 0-9 in turn.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..data import split_of
from ..diffusion import DDPM, DDPMConfig, build_ddpm, sample_ddpm, train_ddpm
from .base import (
    DigitFamily,
    Monitor,
    ProfileLike,
    check_guided_options,
    no_monitor,
    profile_of,
)

__all__ = ["DDPMFamily", "DDPMSampling"]


@dataclass(frozen=True)
class DDPMSampling:
    """How a DDPM draws: DDIM ``steps`` and noise ``eta``; a ``digit`` with guidance weight
    ``guidance``, or ``all_digits`` in turn (``course_utils.diffusion.sample_ddpm``)."""

    steps: int = field(default=50,
                       metadata={"help": "sampler steps (network evaluations per sample)"})
    eta: float = field(default=0.0, metadata={
        "help": "DDIM noise in [0, 1]: 0 deterministic (default), 1 ancestral"})
    digit: int | None = field(default=None, metadata={"help": "draw only this digit (0-9)"})
    guidance: float = field(default=3.0, metadata={
        "help": "guidance weight w with --digit or --all-digits: eps_u + w (eps_c - eps_u); 1 = "
                "plain conditional (default 3; Ho & Salimans's weight is w - 1)"})
    all_digits: bool = field(default=False, metadata={
        "help": "draw the digits 0-9 in turn (with --guidance 1: a sample of p(x))"})

    def __post_init__(self) -> None:
        check_guided_options(self.steps, self.guidance, self.digit, self.all_digits)
        if not 0.0 <= self.eta <= 1.0:
            raise ValueError("eta must lie in [0, 1] (0: deterministic DDIM, 1: ancestral), got "
                             f"{self.eta}")


class DDPMFamily(DigitFamily[DDPMConfig, DDPM, DDPMSampling]):
    name = "ddpm"
    title = "DDPM"
    description = "notebook 07's UNet DDPM (class-conditional unless --no-conditional)"
    config_type = DDPMConfig
    options_type = DDPMSampling
    cli_fields = ("train_steps", "batch_size", "lr", "T", "schedule", "channels", "ema_decay",
                  "n_train", "conditional")

    def recipe(self, profile: ProfileLike = None) -> DDPMConfig:
        """Notebook 07's recipe in the profile."""
        P = profile_of(profile)
        return DDPMConfig(T=P.diff_T, schedule="linear", channels=tuple(P.ddpm_channels),
                          conditional=True, train_steps=P.ddpm_train_steps,
                          batch_size=P.ddpm_batch_size, warmup=min(100, P.ddpm_train_steps),
                          n_train=P.ddpm_n_train)

    def sampling(self, profile: ProfileLike = None) -> DDPMSampling:
        return DDPMSampling(steps=profile_of(profile).ddpm_ddim_steps)

    def tiny(self) -> DDPMConfig:
        return DDPMConfig(train_steps=3, batch_size=8, n_train=64, channels=(8, 8), T=50, warmup=1)

    def build(self, config: DDPMConfig, device: torch.device) -> DDPM:
        return build_ddpm(config, device)

    def train(self, model: DDPM, data: Any, config: DDPMConfig, device: torch.device, seed: int = 1,
              progress: bool = True, monitor: Monitor | None = None) -> dict[str, Any]:
        no_monitor(monitor, "DDPM")
        images, labels = split_of(data)
        return train_ddpm(model, images, labels, device, seed=seed, progress=progress)

    def sample(self, model: DDPM, n: int, device: torch.device, seed: int | None,
               options: DDPMSampling) -> torch.Tensor:
        return sample_ddpm(model, n, device, seed, steps=options.steps, eta=options.eta,
                           digit=options.digit, guidance=options.guidance,
                           all_digits=options.all_digits)

    def scoreboard_sampling(self, config: DDPMConfig, all_digits: bool, steps: int | None,
                            eta: float | None) -> tuple[str, DDPMSampling]:
        """DDIM with ``steps`` and ``eta``; with ``all_digits`` a conditional model draws the digits
        0-9 in turn from p(x | y) with guidance 1, a sample of p(x) with p(y) uniform."""
        given = {k: v for k, v in {"steps": steps, "eta": eta}.items() if v is not None}
        if all_digits and config.conditional:
            return f"{self.title}, digits 0-9", self.options(all_digits=True, guidance=1.0, **given)
        return self.title, self.options(**given)
