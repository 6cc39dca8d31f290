"""Observables of phi^4 configurations with jackknife errors, plain or reweighted.

As in Albergo, Kanwar & Shanahan (PRD 100, 034515, 2019, sec. IV) and their tutorial, for
configurations phi (n, L, L), V = L^2:

* magnetisation M = sum_x phi_x; <M> (0 by the phi -> -phi symmetry) and <|M|>;
* the connected two-point function, by translation invariance
  G_c(y) = (1/V) sum_x <phi_x phi_{x+y}> - <phi>^2 = <C(y)> - <M>^2 / V^2  (``lattice.two_point``);
* the two-point susceptibility chi_2 = sum_y G_c(y) = (<M^2> - <M>^2) / V;
* the "Ising energy" E = (1/d) sum_mu G_c(e_mu): G_c at distance one, averaged over the two axes.

``measure(phi, log_w=None)`` returns each as an ``Estimate``; with log-weights
``log w = -S - log q`` of flow samples the averages are self-normalised importance-weighted
(``lattice.jackknife``), which removes the flow's bias. ``tau_int`` of a chain's M^2 and |M|.
"""

from __future__ import annotations

import torch

from ..lattice import Estimate, integrated_autocorrelation_time, jackknife, two_point

__all__ = ["magnetisation", "measure", "chain_tau_int"]


def magnetisation(phi: torch.Tensor) -> torch.Tensor:
    """M = sum_x phi_x per configuration."""
    return phi.sum((-2, -1))


def _as_field(phi: torch.Tensor) -> torch.Tensor:
    phi = torch.as_tensor(phi)
    if phi.dim() == 4 and phi.shape[1] == 1:
        phi = phi[:, 0]
    if phi.dim() != 3 or phi.shape[-1] != phi.shape[-2] or len(phi) < 2:
        raise ValueError(
            f"expected at least 2 configurations of shape (n, L, L), got {tuple(phi.shape)}"
        )
    if not torch.isfinite(phi).all():
        raise ValueError("the configurations contain inf or nan")
    return phi.detach().double().cpu()


def measure(
    phi: torch.Tensor, log_w: torch.Tensor | None = None, n_blocks: int = 50
) -> dict[str, Estimate]:
    """``{M, abs_M, chi2, ising_energy}`` (floats) and ``G_c`` ((L, L) tensor, G_c[y_1, y_2])."""
    phi = _as_field(phi)
    L = phi.shape[-1]
    volume = L * L
    M = magnetisation(phi)
    columns = torch.cat(
        [torch.stack([M, M.abs(), M * M], 1), two_point(phi).reshape(len(phi), -1)], 1
    )

    def estimate(fn) -> Estimate:
        return jackknife(columns, fn, n_blocks, log_w=log_w)

    def connected(a: torch.Tensor) -> torch.Tensor:  # G_c(y) from the means (..., 3 + V)
        return a[..., 3:] - (a[..., :1] / volume) ** 2

    def scalar(fn) -> Estimate:
        est = estimate(fn)
        return Estimate(float(est.value), float(est.error))

    G_c = estimate(connected)
    return {
        "M": scalar(lambda a: a[..., 0]),
        "abs_M": scalar(lambda a: a[..., 1]),
        "chi2": scalar(lambda a: (a[..., 2] - a[..., 0] ** 2) / volume),
        "ising_energy": scalar(lambda a: (connected(a)[..., 1] + connected(a)[..., L]) / 2),
        "G_c": Estimate(G_c.value.reshape(L, L), G_c.error.reshape(L, L)),
    }


def chain_tau_int(configs: torch.Tensor) -> dict[str, float]:
    """tau_int (Sokal) of M^2 and |M| of a chain (n_steps, [chains,] L, L), time first."""
    M = magnetisation(torch.as_tensor(configs).double())
    return {
        "M2": integrated_autocorrelation_time(M * M)[0],
        "abs_M": integrated_autocorrelation_time(M.abs())[0],
    }
