"""Lattice phi^4 theory in two dimensions, sampled by HMC and by a normalizing flow (notebook 09b).

* ``action``: ``action(phi, m2, lam)`` (Albergo, Kanwar & Shanahan 2019, no 1/2 on the kinetic
  term), ``force(phi, m2, lam) = -dS/dphi``, the exact free field ``free_field_two_point(L, m2)``
  and ``free_field_chi2(m2)``;
* ``hmc``: ``leapfrog``, ``hmc_step``, ``hmc(L, m2, lam, n_traj, ...) -> HMCRun`` (batched chains);
* ``observables``: ``measure(phi, log_w=None) -> {M, abs_M, chi2, ising_energy, G_c}`` with
  jackknife errors (reweighted with ``log_w``), ``chain_tau_int``;
* ``flow``: ``Phi4FlowConfig``, ``Phi4Flow``, ``build_flow``, ``train_flow`` (reverse KL, no data),
  ``sample_flow(model, n, device, seed) -> (phi, log_q)``, ``log_weights``;
* ``sampler``: ``flow_metrics`` (ESS, independence-MH acceptance and tau_int, observables from the
  corrected chain and by reweighting); ``sample_symmetrised``: the proposal (q(phi) + q(-phi)) / 2.
"""

from .action import action, force, free_field_chi2, free_field_two_point
from .flow import Phi4Flow, Phi4FlowConfig, build_flow, log_weights, sample_flow, train_flow
from .hmc import HMCRun, hamiltonian, hmc, hmc_step, leapfrog
from .observables import chain_tau_int, magnetisation, measure
from .sampler import FlowMCMC, flow_mcmc, sample_symmetrised

__all__ = [
    "action",
    "force",
    "free_field_two_point",
    "free_field_chi2",
    "leapfrog",
    "hamiltonian",
    "hmc_step",
    "hmc",
    "HMCRun",
    "magnetisation",
    "measure",
    "chain_tau_int",
    "Phi4FlowConfig",
    "Phi4Flow",
    "build_flow",
    "train_flow",
    "sample_flow",
    "log_weights",
    "FlowMCMC",
    "flow_mcmc",
    "sample_symmetrised",
]
