"""Normalizing flows and flow matching (notebook 07b; the lecture contrasts them with diffusion).

Exact likelihood with invertible maps (Real-NVP, Dinh et al. 2017):

* ``coupling`` -- affine coupling layers and ``CouplingFlow``: an invertible stack on an N(0, I)
  prior with its exact log-density; shared by the Real-NVP here and the lattice-field flow of 09b;
* ``conditioners`` -- the networks inside a coupling: ``MLPConditioner``, ``ConvConditioner``;
* ``layers`` -- ``ElementwiseAffine``, a per-pixel affine map initialised from data;
* ``realnvp`` -- ``realnvp_2d`` (points) and ``realnvp_image`` (checkerboard couplings);
* ``dequantize`` -- from 256 grey levels to a density: dequantisation, logit map, ``bits_per_dim``;
* ``realnvp_mnist`` -- ``RealNVPConfig``, ``RealNVP``, ``build_realnvp``, ``train_realnvp``,
  ``sample_realnvp``, ``held_out_bpd``.

Learning a velocity instead (flow matching, Lipman et al. 2023; rectified flow, Liu et al. 2023):

* ``paths`` -- the linear path x_t = (1 - t) x_0 + t x_1, its velocity x_1 - x_0, the loss, and
  ``ancestral_step``, the DDPM's step on that path;
* ``velocity`` -- ``TimeScaled`` diffusion networks as velocity networks, ``velocity_mlp_2d``;
* ``solvers`` -- pure ``euler_step``, ``heun_step``, ``euler_maruyama_step``; one ``integrate``;
* ``flow_matching`` -- ``FlowMatchingConfig``, ``FlowMatching``, ``build_flow_matching``,
  ``train_flow_matching``, ``sample_flow_matching`` (the class-conditional UNet of notebook 07),
  ``flow_matching_sampler`` (Euler, Heun or ancestral steps on the linear path);
* ``diffusion_sde`` -- notebook 07's DDPM sampled by the reverse SDE and the probability-flow ODE;
* ``training`` -- ``fit``, the one training loop (Adam, warm-up and cosine decay, EMA).
"""

from .conditioners import ConvConditioner, MLPConditioner
from .coupling import AffineCoupling, CouplingFlow, checkerboard_mask, standard_normal_log_prob
from .dequantize import bits_per_dim, dequantize, inverse_logit_transform, logit_transform, quantize
from .diffusion_sde import sample_probability_flow, sample_reverse_sde
from .flow_matching import (
    FM_SAMPLERS,
    FlowMatching,
    FlowMatchingConfig,
    build_flow_matching,
    flow_matching_sampler,
    guided_velocity,
    sample_flow_matching,
    sampler_evaluations,
    sampling_labels,
    train_flow_matching,
)
from .layers import ElementwiseAffine
from .paths import (
    ancestral_step,
    flow_matching_loss,
    linear_path,
    linear_path_coefficients,
    sample_times,
    target_velocity,
)
from .realnvp import alternating_masks_2d, realnvp_2d, realnvp_image
from .realnvp_mnist import (
    RealNVP,
    RealNVPConfig,
    build_realnvp,
    held_out_bpd,
    sample_realnvp,
    train_realnvp,
)
from .solvers import (
    euler_maruyama_step,
    euler_step,
    evaluations,
    heun_step,
    integrate,
    per_sample,
    solve_ode,
    time_grid,
)
from .training import fit
from .velocity import TimeScaled, velocity_mlp_2d

__all__ = [
    "AffineCoupling",
    "CouplingFlow",
    "checkerboard_mask",
    "standard_normal_log_prob",
    "MLPConditioner",
    "ConvConditioner",
    "ElementwiseAffine",
    "dequantize",
    "quantize",
    "logit_transform",
    "inverse_logit_transform",
    "bits_per_dim",
    "alternating_masks_2d",
    "realnvp_2d",
    "realnvp_image",
    "RealNVPConfig",
    "RealNVP",
    "build_realnvp",
    "train_realnvp",
    "sample_realnvp",
    "held_out_bpd",
    "linear_path",
    "target_velocity",
    "linear_path_coefficients",
    "sample_times",
    "flow_matching_loss",
    "TimeScaled",
    "velocity_mlp_2d",
    "euler_step",
    "heun_step",
    "euler_maruyama_step",
    "integrate",
    "solve_ode",
    "time_grid",
    "evaluations",
    "per_sample",
    "FlowMatchingConfig",
    "FlowMatching",
    "build_flow_matching",
    "train_flow_matching",
    "sample_flow_matching",
    "flow_matching_sampler",
    "sampler_evaluations",
    "FM_SAMPLERS",
    "ancestral_step",
    "sampling_labels",
    "guided_velocity",
    "sample_reverse_sde",
    "sample_probability_flow",
    "fit",
]
