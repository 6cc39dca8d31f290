"""The 2-D Ising model: exact results, Monte Carlo sampling, observables and data sets (issue 16).

Model: spins ``s_i = +-1`` on a periodic L x L square lattice (a torus), ``N = L^2`` spins,
coupling ``J = 1``, temperatures in units of ``J / k_B``, ``K = beta = 1 / T``,

    H(s) = -J sum_<ij> s_i s_j   (each nearest-neighbour bond once; 2N bonds),
    p(s) = exp(-beta H(s)) / Z,    Z = sum_s exp(-beta H(s)),

per-spin energy ``e = H / N`` and magnetisation ``m = sum_i s_i / N``. Onsager's critical
temperature ``T_c = 2 / ln(1 + sqrt 2) = 2.2692``; below it the infinite lattice orders with
``m_0 = (1 - sinh(2K)^-4)^(1/8)``. Specific heat ``c = beta^2 (<H^2> - <H>^2) / N``.

Modules and public names:

* ``exact``: ``T_C``, ``K_C``, ``onsager_magnetisation(T)``, ``onsager_energy_per_spin(T)``,
  ``onsager_specific_heat_per_spin(T)`` (infinite lattice); ``log_partition_function(L, T)``,
  ``energy_per_spin(L, T)``, ``specific_heat_per_spin(L, T)``, ``kaufman(L, T) -> (log Z, e, c)``
  (Kaufman's exact finite torus, float64); ``exact_enumeration(L, T)``
  (all ``2^(L^2)`` states, L <= 4).
* ``monte_carlo``: ``metropolis_sweep``, ``wolff_step`` (vectorised over chains),
  ``wolff_step_numpy``, ``run_chains``,
  ``integrated_autocorrelation_time(series) -> (tau_int, window)`` (Sokal), ``choose_algorithm(T)``,
  ``T_SWITCH``, ``sample_configurations(L, T, n, seed, ...) -> (int8 configs (n, L, L), report)``.
* ``observables``: ``hamiltonian(spins)`` (THE Ising energy H = -sum_<ij> s_i s_j per config);
  ``measure(configs, T) -> {name: Estimate(value, error)}`` for ``e``, ``abs_m``,
  ``m``, ``m2``, ``m4``, ``c = N(<e^2> - <e>^2)/T^2``, ``chi = N(<m^2> - <|m|>^2)/T``,
  ``U4 = 1 - <m^4>/(3<m^2>^2)``, ``balance`` (fraction with m > 0), ``m_hist``, ``G`` (spin-spin
  correlation, r = 0..L/2); per-configuration ``energy_per_config``, ``magnetisation_per_config``,
  ``correlation_per_config``; ``as_spins`` (validation), ``histogram_edges``; ``Estimate``,
  ``jackknife`` and ``integrated_autocorrelation_time`` are ``course_utils.lattice``'s, re-exported.
* ``data``: ``ising_dataset(L, temperatures, n_per_T, seed, cache=True)`` -> ``TensorDataset``
  (configs float32 (N, 1, L, L), temperatures float32 (N,)) with ``.report`` and ``.source``;
  ``profile_dataset(profile=None)``; ``cache_path``.
"""
from __future__ import annotations

from .data import cache_path, ising_dataset, profile_dataset
from .exact import (
    K_C,
    T_C,
    energy_per_spin,
    exact_enumeration,
    kaufman,
    log_partition_function,
    onsager_energy_per_spin,
    onsager_magnetisation,
    onsager_specific_heat_per_spin,
    specific_heat_per_spin,
)
from .monte_carlo import (
    T_SWITCH,
    choose_algorithm,
    integrated_autocorrelation_time,
    metropolis_sweep,
    run_chains,
    sample_configurations,
    wolff_step,
    wolff_step_numpy,
)
from .observables import (
    Estimate,
    as_spins,
    correlation_per_config,
    energy_per_config,
    hamiltonian,
    histogram_edges,
    jackknife,
    magnetisation_per_config,
    measure,
)

__all__ = [
    "T_C", "K_C", "onsager_magnetisation", "onsager_energy_per_spin",
    "onsager_specific_heat_per_spin", "log_partition_function", "energy_per_spin",
    "specific_heat_per_spin", "kaufman", "exact_enumeration", "T_SWITCH", "choose_algorithm",
    "metropolis_sweep", "wolff_step", "wolff_step_numpy", "run_chains",
    "integrated_autocorrelation_time", "sample_configurations", "Estimate", "as_spins",
    "hamiltonian", "energy_per_config", "magnetisation_per_config", "correlation_per_config",
    "histogram_edges", "jackknife", "measure", "ising_dataset", "profile_dataset", "cache_path",
]
