"""One module per model family, each an instance of the ``Family`` interface (``base``).

``gans`` (the lecture's MLP GAN, DCGAN, WGAN-GP), ``vae``, ``ddpm``. ``course_utils.models``
registers them; add a family by writing a module here and one line there.
"""
