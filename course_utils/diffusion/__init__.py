"""Diffusion models (lecture part 5): the forward noising chain, learning to reverse it, sampling.

Denoising diffusion probabilistic models (DDPM, Ho et al. 2020) and DDIM (Song et al. 2021), in
the notation of the lecture and Ho et al.: beta_t, alpha_t = 1 - beta_t, abar_t = prod_{s<=t}
alpha_s, time steps t = 0, ..., T-1 (index t here is step t+1 of the paper). One module per idea:

* ``schedules`` -- ``Schedule``, ``make_schedule(T, kind)``: linear or cosine betas;
* ``forward`` -- ``q_sample`` (q(x_t | x_0) in closed form), ``posterior_mean_variance``
  (q(x_{t-1} | x_t, x_0), eqs. 6-7), ``predict_x0`` (Tweedie), ``optimal_eps_mse`` (the loss floor
  of an exactly solvable case);
* ``training`` -- ``diffusion_loss`` (L_simple, eq. 14), ``EMA``, ``train_diffusion`` (Algorithm 1);
* ``samplers`` -- ``ddpm_sample`` (Algorithm 2), ``ddim_sample`` (eq. 12), ``guided_eps``
  (classifier-free guidance);
* ``unet`` -- ``SmallUNet`` for 28x28 images and ``MLPDenoiser`` for 2-D points;
* ``model`` -- ``DDPMConfig``, ``DDPM`` (UNet + EMA), ``build_ddpm``,
  ``train_ddpm``, ``sample_ddpm``;
* ``toy_data`` -- two moons for the 2-D examples of notebooks 00b and 06.
"""
from .forward import optimal_eps_mse, posterior_mean_variance, predict_x0, q_sample
from .model import DDPM, DDPMConfig, build_ddpm, sample_ddpm, train_ddpm
from .samplers import ddim_sample, ddpm_sample, guided_eps
from .schedules import Schedule, make_schedule
from .training import EMA, LossLog, diffusion_loss, train_diffusion
from .unet import MLPDenoiser, SmallUNet, timestep_embedding

__all__ = [
    "Schedule", "make_schedule", "q_sample", "posterior_mean_variance", "predict_x0",
    "optimal_eps_mse",
    "diffusion_loss", "EMA", "LossLog", "train_diffusion", "guided_eps", "ddpm_sample",
    "ddim_sample", "SmallUNet", "MLPDenoiser", "timestep_embedding",
    "DDPMConfig", "DDPM", "build_ddpm", "train_ddpm", "sample_ddpm",
]
