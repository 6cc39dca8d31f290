"""Exercises with automatic feedback: one ``check_*`` per exercise of the notebooks.

Each notebook's exercises come as four cells: a Markdown prompt with the formula, a code cell
tagged ``exercise`` where the student replaces ``...``, a cell tagged ``solution`` (removed from
the student edition, ``course_utils.publish.editions``), and a cell tagged ``check`` that calls
one of the functions below. A check draws its own random inputs from a local generator, compares
the answer with its own reference, prints one line -- ``correct: ...``, ``wrong: ...`` (what is
wrong: shape, sign, a missing factor, by how much) or ``not yet: ...`` (still ``...``) -- and
returns a ``Verdict``. It never raises because of the answer (see ``verdict``).

The references. A checker's reference answer is the package's own function wherever one exists
(``check_posterior`` calls ``diffusion.forward.posterior_mean_variance``, ``check_langevin_step``
``summary.score_matching.langevin_step``), so that the notebook, the library and the checker
cannot disagree. When the exercise hands over other inputs than the function takes, the checker
builds the function's inputs from the exercise's (a ``Schedule`` of the given betas, an ``RBM``
of the given weights, the given noise) instead of restating the formula. Where the package has
no such function (the formula exists only as the exercise), the checker writes its reference
out, and ``tests/test_exercises.py`` checks that reference against independent numbers: a
hand-computed value, a brute-force computation, or a well-kept library's own function (torch's
autograd, ``torch.lerp``, SciPy). That file lists every checker under one of the two
(``LIBRARY`` or ``INDEPENDENT``) and fails for a checker in neither. The named mistakes (the
wrong formulas a checker recognises, to say what is wrong) are not references and stay written
out in the checker.

One module per notebook: ``nb00`` (KL, VAE), ``nb00b`` (RBM, Langevin), ``nb01`` (the game),
``nb02`` (networks), ``nb03`` (losses), ``nb04`` (looking at the GAN), ``nb05`` (MMD),
``nb06`` (forward chain), ``nb07`` (diffusion maths), ``nb07b`` (flows and flow matching),
``nb08`` (WGAN-GP, conditioning, mode collapse), ``nb09`` (the Ising model: energy, Binder
cumulant, T_c), ``nb09b`` (lattice phi^4: the action, a checkerboard coupling, the ESS).
"""
from .nb00 import check_kl_normal, check_kl_vae, check_reparameterise
from .nb00b import check_cd1_gradient, check_free_energy, check_langevin_step
from .nb01 import check_logit_gradients, check_optimal_discriminator, check_value_function
from .nb02 import check_discriminator, check_discriminator_size, check_noise
from .nb03 import check_d_loss, check_g_loss
from .nb04 import check_d_accuracy, check_losses_at_solution, check_noise_walk
from .nb05 import check_mmd2_unbiased, check_permutation_test
from .nb06 import check_alpha_bars, check_forward_step, check_q_sample
from .nb07 import check_ddim_step, check_guidance, check_posterior
from .nb07b import check_coupling_layer, check_heun_step, check_linear_path, check_velocity_from_eps
from .nb08 import check_class_spread, check_critic_loss, check_gradient_penalty, check_label_planes
from .nb09 import check_binder_cumulant, check_critical_temperature, check_ising_energy
from .nb09b import check_checkerboard_coupling, check_ess, check_phi4_action
from .verdict import CORRECT, NOT_YET, WRONG, Verdict

CHECKS = {
    "00_kl_and_vae": (check_kl_normal, check_kl_vae, check_reparameterise),
    "00b_energy_and_score": (check_free_energy, check_cd1_gradient, check_langevin_step),
    "01_gan_theory": (check_optimal_discriminator, check_value_function, check_logit_gradients),
    "02_gan_networks": (check_noise, check_discriminator, check_discriminator_size),
    "03_gan_training": (check_d_loss, check_g_loss),
    "04_gan_visualization": (check_losses_at_solution, check_noise_walk, check_d_accuracy),
    "05_mmd_scoring": (check_mmd2_unbiased, check_permutation_test),
    "06_diffusion_intro": (check_alpha_bars, check_forward_step, check_q_sample),
    "07_diffusion_maths_and_mnist": (check_posterior, check_ddim_step, check_guidance),
    "07b_flows": (check_coupling_layer, check_linear_path, check_heun_step,
                  check_velocity_from_eps),
    "08_gan_zoo": (check_gradient_penalty, check_critic_loss, check_label_planes,
                   check_class_spread),
    "09_ising": (check_critical_temperature, check_ising_energy, check_binder_cumulant),
    "09b_lattice_field_theory": (check_phi4_action, check_checkerboard_coupling, check_ess),
}
"""The checks of each notebook, in the order its exercises appear."""

__all__ = [
    "Verdict", "CORRECT", "WRONG", "NOT_YET", "CHECKS",
    "check_kl_normal", "check_kl_vae", "check_reparameterise",
    "check_free_energy", "check_cd1_gradient", "check_langevin_step",
    "check_optimal_discriminator", "check_value_function", "check_logit_gradients",
    "check_noise", "check_discriminator", "check_discriminator_size",
    "check_d_loss", "check_g_loss",
    "check_losses_at_solution", "check_noise_walk", "check_d_accuracy",
    "check_mmd2_unbiased", "check_permutation_test",
    "check_alpha_bars", "check_forward_step", "check_q_sample",
    "check_posterior", "check_ddim_step", "check_guidance",
    "check_coupling_layer", "check_linear_path", "check_heun_step", "check_velocity_from_eps",
    "check_gradient_penalty", "check_critic_loss", "check_label_planes", "check_class_spread",
    "check_critical_temperature", "check_ising_energy", "check_binder_cumulant",
    "check_phi4_action", "check_checkerboard_coupling", "check_ess",
]
