"""Run profiles: one environment variable, ``COURSE_PROFILE``, picks the sizes of every run.

* ``smoke``  -- CI: seconds per notebook, tiny subsets, one or two epochs.
* ``laptop`` -- the default: minutes on a 2-core CPU.
* ``full``   -- the lecture's settings (100 epochs on all of MNIST); a GPU is advised.

The code path is the same in all three; only the numbers in ``SIZES`` change. A notebook asks
``get_profile()`` for its sizes and prints which profile it runs, e.g. ``P.gan_epochs``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

PROFILE_NAMES = ("smoke", "laptop", "full")
DEFAULT_PROFILE = "laptop"

# One row per size: (smoke, laptop, full). ``None`` for a number of images means "all of them".
SIZES: dict[str, tuple[Any, Any, Any]] = {
    # --- GAN (notebooks 02-04, lecture section 3) ---
    "gan_epochs": (2, 100, 100),
    "gan_n_train": (1_024, 20_000, None),
    "gan_batch_size": (64, 64, 64),
    "gan_sample_epochs": ((1, 2), (1, 2, 4, 10, 50, 100), (1, 2, 4, 10, 50, 100)),
    "gan_toy_steps": (300, 3_000, 3_000),  # 1-D Gaussian GAN in notebook 01
    # --- GAN zoo and scoreboard (notebook 08) ---
    # Training budgets in images seen, so a run takes the same time with 4,000 or 60,000 digits.
    "zoo_train_images": (2_048, 240_000, 1_500_000),  # DCGAN, conditional DCGAN and WGAN-GP
    "zoo_n_filters": (8, 32, 32),
    "zoo_compare_epochs": (2, 30, 100),  # non-saturating vs minimax, the lecture's MLP GAN
    "zoo_n_score": (256, 500, 1_000),  # samples per model and held-out real digits (notebook 08)
    # --- diffusion (notebooks 06-07) ---
    "diff_toy_steps": (300, 3_000, 3_000),  # 2-D MLP denoiser in notebook 06
    "diff_T": (1_000, 1_000, 1_000),  # diffusion steps T (same chain in every profile)
    "ddpm_n_train": (512, None, None),  # MNIST digits (None = all; 4,000 offline)
    "ddpm_train_steps": (40, 2_000, 20_000),  # optimiser steps, batch ddpm_batch_size
    "ddpm_batch_size": (32, 128, 128),
    "ddpm_channels": ((8, 16), (16, 32), (32, 64)),
    "ddpm_n_samples": (16, 300, 1_000),  # samples scored (notebook 07)
    "ddpm_ddim_steps": (5, 50, 50),
    "ddpm_n_per_digit": (2, 10, 100),  # guided samples per requested digit
    # --- flows (notebook 07b): flow matching has the DDPM's UNet and budget (ddpm_* rows) ---
    "fm_sample_steps": (5, 20, 20),  # Euler steps of the flow-matching sampler
    "realnvp_layers": (4, 8, 8),  # checkerboard couplings of the MNIST Real-NVP
    "realnvp_hidden": (8, 32, 32),  # channels of each coupling's CNN
    "realnvp_train_steps": (30, 500, 10_000),  # optimiser steps, batch realnvp_batch_size
    "realnvp_batch_size": (16, 32, 64),
    "flows_toy_steps": (300, 3_000, 3_000),  # the 2-D Real-NVP and flow matching of notebook 07b
    "realnvp_n_bpd": (200, 500, 10_000),  # held-out digits whose bits/dim notebook 07b reports
    "flows_budgets": ((2, 4), (5, 10, 20, 50), (5, 10, 20, 50)),  # evaluations compared in 07b
    "flows_n_score": (16, 100, 1_000),  # samples per sampler and budget in that comparison
    # --- lattice phi^4 (notebook 09b): L = 8, m^2 = -4, lambda = 8 (Albergo et al.'s tutorial) ---
    "phi4_layers": (4, 16, 16),  # affine couplings of the flow
    "phi4_train_steps": (60, 4_000, 12_000),  # reverse-KL steps (laptop: <= 10 min, 1 thread)
    "phi4_hmc_steps": (100, 1_000, 5_000),  # HMC trajectories per chain (the reference: 64 chains)
    "phi4_n_samples": (512, 8_192, 32_768),  # flow proposals for ESS and Metropolis-Hastings
    "phi4_broken_layers": (4, 4, 8),  # the flow of notebook 09b at a broken point (two vacua)
    "phi4_broken_steps": (60, 120, 2_000),  # its reverse-KL steps (trained in the notebook)
    # --- summary: KL, VAE, RBM, score (notebooks 00, 00b) ---
    "kl_mc_samples": (10_000, 200_000, 1_000_000),  # Monte Carlo KL check
    "vae_epochs": (2, 30, 50),
    "vae_n_train": (1_024, None, None),
    "vae_2d_epochs": (2, 20, 50),  # the 2-D latent VAE for the latent-space plot
    "vae_n_score": (256, 1_000, 1_000),
    "rbm_n_train": (2_048, None, None),  # binarised digits (None = all; 4,000 offline)
    "rbm_hidden": (16, 16, 16),  # small enough to enumerate 2^H hidden states: exact log Z
    "rbm_epochs": (2, 20, 50),
    "rbm_gibbs_steps": (100, 1_000, 1_000),
    "score_steps": (300, 4_000, 8_000),
    "langevin_steps": (20, 100, 200),  # per noise level
    # --- Ising model (notebook 09) ---
    "ising_L": (8, 16, 32),  # periodic L x L lattices
    "ising_temperatures": ((1.5, 2.0, 2.269, 2.5, 3.5),) * 3,  # 2.269 ~ T_c = 2.2692
    "ising_n_configs": (500, 10_000, 20_000),  # independent configurations per temperature
    "ising_chains": (64, 256, 512),  # parallel Markov chains per temperature
    "ising_seed": (0, 0, 0),
    # generative models of the Ising configurations (notebook 09, benchmarks/ising.py)
    "ising_ar_hidden": (32, 128, 128),  # autoregressive network (the best model)
    "ising_ar_steps": (60, 9_000, 12_000),  # laptop: (F_q - F)/|F| <= 1e-3 at T_c, < 10 min
    # independence Metropolis-Hastings steps of its corrected sampler
    "ising_ar_mh_steps": (3, 6, 6),
    "ising_gan_channels": (8, 16, 32),
    "ising_gan_steps": (40, 1_500, 6_000),
    "ising_ddpm_channels": (8, 16, 32),
    "ising_ddpm_steps": (40, 6_000, 12_000),
    "ising_ddpm_sample_steps": (10, 20, 50),  # DDIM steps (eta = 1)
    "ising_rbm_temperature": (2.269, 2.269, 2.269),  # the RBM learns one temperature: T_c
    "ising_rbm_hidden": (16, 64, 256),
    "ising_rbm_epochs": (1, 20, 50),
    "ising_rbm_lr": (0.3, 0.3, 0.1),
    "ising_rbm_gibbs_steps": (50, 500, 2_000),
    # benchmarks/ising.py: samples judged per temperature (AR)
    "ising_n_samples": (500, 10_000, 20_000),
    # benchmarks/ising.py: the GAN, DDPM and RBM (slower samplers)
    "ising_n_samples_slow": (200, 2_000, 10_000),
    # notebook 09 per temperature: AR (alone, + MH), GAN, RBM
    "ising_notebook_samples": (250, 1_000, 10_000),
    # notebook 09 per temperature: the DDPM (its sampler is slowest)
    "ising_notebook_samples_ddpm": (200, 100, 10_000),
}


@dataclass(frozen=True)
class Profile:
    """The sizes of one profile; read them as attributes: ``get_profile().gan_epochs``."""

    name: str
    sizes: dict[str, Any] = field(repr=False)

    def __getattr__(self, key: str) -> Any:
        sizes = self.__dict__.get("sizes", {})
        if key in sizes:
            return sizes[key]
        raise AttributeError(
            f"Profile {self.__dict__.get('name')!r} has no size {key!r}; known: "
            f"{', '.join(sorted(sizes))}"
        )

    def __str__(self) -> str:
        return f"profile {self.name!r}"


def get_profile(name: str | None = None) -> Profile:
    """Return the profile ``name``, else ``$COURSE_PROFILE``, else ``laptop``.

    An unknown name is a ``ValueError`` that lists the valid ones.
    """
    chosen = name if name is not None else (os.environ.get("COURSE_PROFILE") or DEFAULT_PROFILE)
    chosen = chosen.strip().lower()
    if chosen not in PROFILE_NAMES:
        raise ValueError(
            f"Unknown profile {chosen!r} (from COURSE_PROFILE or the argument): "
            f"choose one of {', '.join(PROFILE_NAMES)}."
        )
    column = PROFILE_NAMES.index(chosen)
    return Profile(chosen, {key: row[column] for key, row in SIZES.items()})
