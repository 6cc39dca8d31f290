"""The summary half of the lecture (part 1): divergences, VAEs, Boltzmann machines, scores.

* ``divergences`` -- KL (discrete, between Gaussians, Monte Carlo) and Jensen-Shannon;
* ``vae`` -- the variational autoencoder: ELBO = E_q log p(x|h) - KL(q(h|x) || p(h));
* ``rbm`` -- the binary restricted Boltzmann machine, contrastive divergence CD-k and PCD;
* ``score_matching`` -- denoising score matching and (annealed) Langevin dynamics.
"""
from . import divergences, rbm, score_matching, vae

__all__ = ["divergences", "vae", "rbm", "score_matching"]
