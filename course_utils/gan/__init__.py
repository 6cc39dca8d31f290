"""GANs (lecture section 2 and 3): the game, the lecture's networks and code, and what comes after.

* ``networks`` -- the lecture's MLPs ``make_generator_network`` / ``make_discriminator_network``;
* ``dcgan`` -- convolutional networks: DCGAN (Radford et al. 2016), its conditional version
  (``ConditionalGenerator`` / ``ConditionalDiscriminator``, told the digit) and the WGAN-GP critic;
* ``losses`` -- the value function and one step of each player: ``create_noise`` (``mode_z``
  ``'uniform'`` or ``'normal'``), ``d_train``, ``g_train``, ``gradient_penalty``;
* ``training`` -- ``GANConfig`` / ``gan_config``, ``build_gan``, ``make_optimizers`` (Adam),
  ``train_gan`` (the training loop) and ``sample_gan``;
* ``game`` -- the 1-D Gaussian game of notebook 01, where the optimal discriminator is known.

Images are in the model's range [-1, 1] (tanh), shape (N, 1, 28, 28); see ``course_utils.images``.
"""
from .dcgan import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    label_planes,
    make_dcgan_discriminator,
    make_dcgan_generator,
    make_wgan_critic,
)
from .losses import (
    LOSSES,
    MODES_Z,
    create_noise,
    d_train,
    g_train,
    gradient_penalty,
    is_conditional,
)
from .networks import discriminator_logits, make_discriminator_network, make_generator_network
from .training import (
    ARCHITECTURES,
    GAN,
    GANConfig,
    build_gan,
    gan_config,
    make_optimizers,
    sample_gan,
    train_gan,
)

__all__ = [
    "make_generator_network", "make_discriminator_network", "discriminator_logits",
    "make_dcgan_generator", "make_dcgan_discriminator", "make_wgan_critic", "ConditionalGenerator",
    "ConditionalDiscriminator", "label_planes", "MODES_Z", "LOSSES", "create_noise", "d_train",
    "g_train", "gradient_penalty", "is_conditional",
    "ARCHITECTURES", "GANConfig", "GAN", "gan_config", "build_gan", "make_optimizers", "train_gan",
    "sample_gan",
]
