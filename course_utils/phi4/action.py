"""The lattice phi^4 action, its force, and the exact free field.

A real scalar field phi_x on a periodic L x L lattice (d = 2, lattice units), in the
normalisation of Albergo, Kanwar & Shanahan (PRD 100, 034515, 2019, eq. (13)) and of their
tutorial (arXiv:2101.08176):

    S(phi) = sum_x [ sum_mu phi_x (2 phi_x - phi_{x+mu} - phi_{x-mu})
                     + m^2 phi_x^2 + lambda phi_x^4 ],                                        (1)

p(phi) = exp(-S(phi)) / Z. There is no 1/2 in front of the kinetic term. Summed over x, the
kinetic term is 2d sum_x phi_x^2 - 2 sum_x sum_mu phi_x phi_{x+mu} (``lattice.bond_sum``), so

    S = (2d + m^2) sum_x phi_x^2 - 2 sum_<xy> phi_x phi_y + lambda sum_x phi_x^4,            (2)

and the force that drives HMC is

    F_x = -dS/dphi_x = -2 (2d + m^2) phi_x + 2 sum_mu (phi_{x+mu} + phi_{x-mu})
                       - 4 lambda phi_x^3.                                                    (3)

At m^2 = -4 (= -2d) the quadratic single-site term cancels: each site feels only lambda phi^4 and
its neighbours, and for small lambda the field orders (two vacua +-phi_0, the broken phase).

**Free field** (lambda = 0, m^2 > 0). S = phi^T A phi with A = -Delta + m^2 (Delta the lattice
Laplacian), i.e. a Gaussian of covariance (2A)^{-1} (the missing 1/2 doubles A). In momentum
space, k_mu = 2 pi n_mu / L and khat^2 = sum_mu 4 sin^2(k_mu / 2),

    G(y) = <phi_x phi_{x+y}> = (1/V) sum_k cos(k . y) / (2 (khat^2 + m^2)),                  (4)

so chi_2 = sum_y G(y) = 1 / (2 m^2) (the k = 0 term) and <S> = V / 2 (equipartition).
"""

from __future__ import annotations

import math

import torch

from ..lattice import bond_sum, neighbour_sum

__all__ = ["DIM", "action", "force", "free_field_two_point", "free_field_chi2", "check_couplings"]

DIM = 2  # d: the lattice is two-dimensional


def check_couplings(m2: float, lam: float) -> tuple[float, float]:
    """(m^2, lambda) as floats; a clear error for non-numbers and lambda < 0 (S unbounded below)."""
    m2, lam = float(m2), float(lam)
    if not (math.isfinite(m2) and math.isfinite(lam)):
        raise ValueError(f"m^2 and lambda must be finite numbers, got m2={m2!r}, lam={lam!r}")
    if lam < 0:
        raise ValueError(
            f"lambda must be >= 0 (with lambda < 0 the action is unbounded below), got {lam}"
        )
    return m2, lam


def action(phi: torch.Tensor, m2: float, lam: float) -> torch.Tensor:
    """S(phi), eq. (1) in the form (2), one value per configuration of ``phi`` (..., L, L)."""
    m2, lam = check_couplings(m2, lam)
    phi2 = phi * phi
    return ((2 * DIM + m2) * phi2 + lam * phi2 * phi2).sum((-2, -1)) - 2 * bond_sum(phi)


def force(phi: torch.Tensor, m2: float, lam: float) -> torch.Tensor:
    """F = -dS/dphi, eq. (3), at every site (the shape of ``phi``)."""
    m2, lam = check_couplings(m2, lam)
    return -2 * (2 * DIM + m2) * phi + 2 * neighbour_sum(phi) - 4 * lam * phi**3


def free_field_two_point(L: int, m2: float) -> torch.Tensor:
    """The exact G(y) = <phi_x phi_{x+y}> of the free field, eq. (4); float64 (L, L)."""
    m2 = float(m2)
    if not m2 > 0:
        raise ValueError(
            f"the free field needs m^2 > 0 (else the Gaussian does not exist), got {m2}"
        )
    k = 2 * math.pi * torch.arange(L, dtype=torch.float64) / L
    khat2 = 4 * torch.sin(k / 2) ** 2
    propagator = 1 / (2 * (khat2[:, None] + khat2[None, :] + m2))  # (k_1, k_2)
    return torch.fft.ifft2(propagator).real  # (1/V) sum_k e^{i k y} f(k); f is even, so real


def free_field_chi2(m2: float) -> float:
    """chi_2 = sum_y G(y) = 1 / (2 m^2) of the free field, eq. (4) at k = 0."""
    return 1 / (2 * float(m2))
