"""One module per model family, each an instance of the ``Family`` interface (``base``).

``gans`` (the lecture's MLP GAN, DCGAN, WGAN-GP), ``vae``, ``ddpm``, and ``ising`` (an RBM, a
conditional GAN, a conditional DDPM and an autoregressive network of 2-D Ising lattices, whose
samples are spins +-1 of shape (n, 1, L, L)). ``course_utils.models``
registers them; add a family by writing a module here and one line there.
"""
