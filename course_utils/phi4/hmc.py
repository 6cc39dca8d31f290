"""Hybrid (Hamiltonian) Monte Carlo for lattice phi^4, vectorised over independent chains.

Duane, Kennedy, Pendleton & Roweth (1987). Give the field conjugate momenta pi_x ~ N(0, 1) and
the Hamiltonian H(phi, pi) = sum_x pi_x^2 / 2 + S(phi). One trajectory integrates Hamilton's
equations, dphi/dt = pi, dpi/dt = F(phi) = -dS/dphi (``action.force``), with the leapfrog

    pi <- pi + (dt/2) F(phi);  then n times { phi <- phi + dt pi;  pi <- pi + dt F(phi) }, the last
    kick halved,                                                                            (1)

which is reversible (flip pi, run again: back to the start) and area-preserving, so accepting
the end point with probability min(1, exp(-dH)) leaves exp(-S) exactly invariant; the energy
error dH of a trajectory of fixed length shrinks like dt^2, so the acceptance rises to 1 as
dt -> 0 (Creutz 1988: <exp(-dH)> = 1 exactly).

**Jittered step size.** With a fixed trajectory length tau, a mode of the field that oscillates
with frequency omega (for the free field omega_k^2 = 2 (khat^2 + m^2)) is rotated by omega tau
in its phase space at every trajectory; where omega tau is close to a multiple of pi it hardly
decorrelates (at pi its amplitude only changes sign), which from a cold start leaves such modes
frozen near zero for a very long time (Mackenzie 1989). Drawing dt afresh for every trajectory
and chain, uniformly in [(1 - jitter) dt, (1 + jitter) dt], breaks these resonances; the
algorithm stays exact (dt is chosen independently of the state, and is kept within a trajectory).

``hmc(...)`` runs ``chains`` chains from a cold start (phi = 0), discards ``burn_in``
trajectories and returns every later configuration, time first, with the acceptance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from ..progress import tqdm
from .action import action, check_couplings, force

__all__ = ["leapfrog", "hamiltonian", "hmc_step", "HMCRun", "hmc"]


def hamiltonian(phi: torch.Tensor, pi: torch.Tensor, m2: float, lam: float) -> torch.Tensor:
    """H = sum_x pi_x^2 / 2 + S(phi) per chain."""
    return 0.5 * (pi * pi).sum((-2, -1)) + action(phi, m2, lam)


def leapfrog(
    phi: torch.Tensor,
    pi: torch.Tensor,
    dt: float | torch.Tensor,
    n_steps: int,
    m2: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_steps`` leapfrog steps of size ``dt``, eq. (1); returns the new (phi, pi) (new tensors).

    ``dt``: a number, or one step size per chain broadcastable to phi (e.g. (chains, 1, 1))."""
    pi = pi + 0.5 * dt * force(phi, m2, lam)
    for step in range(n_steps):
        phi = phi + dt * pi
        kick = dt if step < n_steps - 1 else 0.5 * dt
        pi = pi + kick * force(phi, m2, lam)
    return phi, pi


def hmc_step(
    phi: torch.Tensor,
    m2: float,
    lam: float,
    dt: float,
    n_steps: int,
    generator: torch.Generator | None = None,
    jitter: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One HMC trajectory per chain of ``phi`` (chains, L, L): returns (new phi, accepted (chains,),
    dH (chains,)). Momenta, step sizes (``jitter``: see the module docstring) and uniforms are
    drawn on phi's device with ``generator``."""
    pi = torch.randn(phi.shape, generator=generator, device=phi.device, dtype=phi.dtype)
    u = torch.rand((len(phi), 1, 1), generator=generator, device=phi.device, dtype=phi.dtype)
    phi_new, pi_new = leapfrog(phi, pi, dt * (1 + jitter * (2 * u - 1)), n_steps, m2, lam)
    dH = hamiltonian(phi_new, pi_new, m2, lam) - hamiltonian(phi, pi, m2, lam)
    u = torch.rand(dH.shape, generator=generator, device=phi.device, dtype=phi.dtype)
    accepted = torch.log(u) < -dH
    return torch.where(accepted[:, None, None], phi_new, phi), accepted, dH


@dataclass(frozen=True)
class HMCRun:
    """``configs`` (n_traj, chains, L, L) after burn-in, time first (float64, CPU);
    ``acceptance`` over the kept trajectories; ``mean_exp_minus_dH`` (should be 1); ``seconds``."""

    configs: torch.Tensor
    acceptance: float
    mean_exp_minus_dH: float
    seconds: float

    def flat(self) -> torch.Tensor:
        """All configurations chain by chain (a chain's rows contiguous, for jackknife blocks)."""
        return self.configs.transpose(0, 1).reshape(-1, *self.configs.shape[2:])


def hmc(
    L: int,
    m2: float,
    lam: float,
    n_traj: int,
    chains: int = 64,
    dt: float = 0.1,
    n_steps: int = 10,
    burn_in: int = 200,
    seed: int = 0,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float64,
    jitter: float = 0.5,
    progress: bool = False,
) -> HMCRun:
    """``chains`` HMC chains of ``n_traj`` kept trajectories each (after ``burn_in``), cold start,
    step sizes jittered by +-``jitter`` (relative)."""
    m2, lam = check_couplings(m2, lam)
    if (
        int(L) < 2
        or int(n_traj) < 1
        or int(chains) < 1
        or int(n_steps) < 1
        or not dt > 0
        or not 0 <= jitter < 1
    ):
        raise ValueError(
            f"need L >= 2, n_traj >= 1, chains >= 1, n_steps >= 1, dt > 0; got "
            f"L={L}, n_traj={n_traj}, chains={chains}, n_steps={n_steps}, dt={dt}"
        )
    device = torch.device(device)
    gen = torch.Generator(device=device).manual_seed(int(seed))
    phi = torch.zeros(int(chains), int(L), int(L), device=device, dtype=dtype)
    kept, accepted, boltzmann = (
        [],
        torch.zeros((), device=device),
        torch.zeros((), device=device, dtype=dtype),
    )
    start = time.perf_counter()
    for k in tqdm(range(int(burn_in) + int(n_traj)), desc="HMC", disable=not progress):
        phi, acc, dH = hmc_step(phi, m2, lam, dt, int(n_steps), gen, jitter)
        if k >= burn_in:
            kept.append(phi)
            accepted = accepted + acc.sum()
            boltzmann = boltzmann + torch.exp(-dH).sum()
    total = int(n_traj) * int(chains)
    return HMCRun(
        torch.stack(kept).double().cpu(),
        float(accepted) / total,
        float(boltzmann) / total,
        time.perf_counter() - start,
    )
