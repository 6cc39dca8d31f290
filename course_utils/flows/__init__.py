"""Normalizing flows and flow matching (the lecture contrasts them with diffusion).

* ``coupling`` -- affine coupling layers (Real-NVP) and ``CouplingFlow``: an invertible stack on
  an N(0, I) prior with its exact log-density; shared by the Real-NVP of notebook 07b and the
  lattice-field flow of notebook 09b.
"""
from .coupling import AffineCoupling, CouplingFlow, checkerboard_mask, standard_normal_log_prob

__all__ = ["AffineCoupling", "CouplingFlow", "checkerboard_mask", "standard_normal_log_prob"]
