"""Data sets of equilibrium 2-D Ising configurations for training generative models.

``ising_dataset(L, temperatures, n_per_T, seed)`` samples ``n_per_T`` independent configurations
at each temperature with ``monte_carlo.sample_configurations`` (Wolff + Metropolis below
``T_SWITCH``, Metropolis above; thinned by ``ceil(2 tau_int)``) and returns a ``TensorDataset`` of
``(configs float32 (N, 1, L, L) in {-1, +1}, temperatures float32 (N,))``, temperature by
temperature, with two attributes:

* ``.report``: ``{T: {"tau_abs_m", "tau_e", "thin", "burn_in", "steps", "sweeps", "wolff_steps",
  "chains", "algorithm", "seconds"}}`` (``seconds`` of the run that
  made the data, also when loaded);
* ``.source``: ``"monte carlo"`` or ``"cache <path>"``.

The result is cached under ``artifacts_dir() / "ising"`` in a file named by all the arguments that
change the data (a ``torch.save`` of plain tensors, read back with ``weights_only=True``); a file
that does not match its name is ignored and rewritten. The device and thread count are not part of
the key (the numbers do not depend on the thread count; a GPU draws different ones). The seed of
temperature ``T`` is ``seed * 100_003 + round(10_000 T)``, so a temperature gets the same
configurations whatever the other temperatures of the list.

``profile_dataset(profile=None)`` uses the ``ising_*`` rows of ``course_utils.profiles.SIZES``:
L = 8 / 16 / 32 for smoke / laptop / full at T = 1.5, 2.0, 2.269 (T_c), 2.5, 3.5.
"""
from __future__ import annotations

import math

import torch
from torch.utils.data import TensorDataset

from ..paths import artifacts_dir
from ..profiles import Profile, get_profile
from .monte_carlo import ALGORITHMS, sample_configurations

CACHE_VERSION = 1
_REPORT_KEYS = ("tau_abs_m", "tau_e", "thin", "burn_in", "steps", "sweeps", "wolff_steps", "chains",
                "seconds")
_FLOAT_KEYS = ("tau_abs_m", "tau_e", "seconds")

__all__ = ["CACHE_VERSION", "temperature_seed", "cache_path", "ising_dataset", "profile_dataset"]


def temperature_seed(seed: int, T: float) -> int:
    """The Monte Carlo seed of temperature ``T`` in a data set with ``seed``."""
    return int(seed) * 100_003 + int(round(10_000 * float(T)))


def _check(L, temperatures, n_per_T, seed, chains):
    if isinstance(L, bool) or int(L) != L or int(L) < 2 or int(L) % 2:
        raise ValueError(f"L must be an even integer >= 2, got {L!r}.")
    temps = tuple(float(t)
                  for t in (temperatures if hasattr(temperatures, "__iter__") else [temperatures]))
    if not temps:
        raise ValueError("Give at least one temperature.")
    if any(not math.isfinite(t) or t <= 0 for t in temps):
        raise ValueError(f"Temperatures must be positive finite numbers, got {temps}.")
    if len(set(temps)) != len(temps):
        raise ValueError(f"Temperatures must be distinct, got {temps}.")
    if isinstance(n_per_T, bool) or int(n_per_T) != n_per_T or int(n_per_T) < 1:
        raise ValueError(f"n_per_T must be a positive integer, got {n_per_T!r}.")
    if int(seed) != seed:
        raise ValueError(f"seed must be an integer, got {seed!r}.")
    if chains is not None and (int(chains) != chains or int(chains) < 1):
        raise ValueError(f"chains must be a positive integer or None, got {chains!r}.")
    return int(L), temps, int(n_per_T), int(seed), None if chains is None else int(chains)


def cache_path(L: int, temperatures, n_per_T: int, seed: int, chains: int | None = None):
    """The cache file of ``ising_dataset(L, temperatures, n_per_T, seed, chains=chains)``."""
    L, temps, n_per_T, seed, chains = _check(L, temperatures, n_per_T, seed, chains)
    tag = "-".join(repr(t) for t in temps)
    if len(tag) > 120:  # many temperatures: count, range and a checksum of the exact values
        check = sum((i + 1) * round(t * 1e9) for i, t in enumerate(temps)) % 10 ** 12
        tag = f"{len(temps)}x{temps[0]!r}..{temps[-1]!r}_{check}"
    name = f"ising_v{CACHE_VERSION}_L{L}_n{n_per_T}_seed{seed}_chains{chains or 'auto'}_T{tag}.pt"
    return artifacts_dir() / "ising" / name


def _make_dataset(configs, temps_per_row, report, source) -> TensorDataset:
    dataset = TensorDataset(configs.to(torch.float32).unsqueeze(1), temps_per_row.to(torch.float32))
    dataset.report = report
    dataset.source = source
    return dataset


def _load(path, L, temps, n_per_T):
    try:
        blob = torch.load(path, weights_only=True)
        configs, t_list = blob["configs"], blob["T_list"]
        ok = (int(blob["version"]) == CACHE_VERSION and configs.dtype == torch.int8
              and tuple(configs.shape) == (len(temps) * n_per_T, L, L)
              and t_list.tolist() == list(temps))
    except (OSError, RuntimeError, KeyError, AttributeError, EOFError, ValueError):
        return None
    if not ok:
        return None
    report = {}
    for i, t in enumerate(temps):
        row = {key: blob[key][i].item() for key in _REPORT_KEYS}
        row.update({key: int(row[key]) for key in _REPORT_KEYS if key not in _FLOAT_KEYS})
        row["algorithm"] = ALGORITHMS[int(blob["algorithm"][i])]
        report[t] = row
    return configs, blob["temperatures"], report


def ising_dataset(L: int, temperatures, n_per_T: int, seed: int, cache: bool = True, *,
                  chains: int | None = None, device=None,
                  num_threads: int | None = None) -> TensorDataset:
    """``n_per_T`` independent equilibrium configurations per temperature as a ``TensorDataset``.

    Tensors: configs float32 ``(len(temperatures) * n_per_T, 1, L, L)`` in ``{-1, +1}`` and their
    temperatures float32; attributes ``.report`` and ``.source`` (see the module docstring).
    ``chains`` parallel Markov chains per temperature (default ``min(n_per_T, 256)``). With
    ``cache`` the data are read from / written to ``cache_path(...)``. ``num_threads``: torch
    threads during the sampling (see ``sample_configurations``; 1 is much faster on a busy machine).
    """
    L, temps, n_per_T, seed, chains = _check(L, temperatures, n_per_T, seed, chains)
    path = cache_path(L, temps, n_per_T, seed, chains)
    if cache and path.exists():
        loaded = _load(path, L, temps, n_per_T)
        if loaded is not None:
            return _make_dataset(*loaded, source=f"cache {path}")
    blocks, report = [], {}
    for t in temps:
        configs, rep = sample_configurations(L, t, n_per_T, temperature_seed(seed, t),
                                             chains=chains, device=device, num_threads=num_threads)
        blocks.append(configs)
        report[t] = {key: rep[key] for key in _REPORT_KEYS} | {"algorithm": rep["algorithm"]}
    configs = torch.cat(blocks)
    temps_per_row = torch.tensor(temps, dtype=torch.float32).repeat_interleave(n_per_T)
    if cache:
        blob = {"version": torch.tensor(CACHE_VERSION), "configs": configs,
                "temperatures": temps_per_row, "T_list": torch.tensor(temps, dtype=torch.float64),
                "algorithm": torch.tensor([ALGORITHMS.index(report[t]["algorithm"])
                                           for t in temps])}
        for key in _REPORT_KEYS:
            blob[key] = torch.tensor([float(report[t][key]) for t in temps], dtype=torch.float64)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        torch.save(blob, partial)
        partial.replace(path)
    return _make_dataset(configs, temps_per_row, report, source="monte carlo")


def profile_dataset(profile: str | Profile | None = None, cache: bool = True,
                    num_threads: int | None = None) -> TensorDataset:
    """``ising_dataset`` with the profile's ``ising_L``, ``ising_temperatures``,
    ``ising_n_configs``, ``ising_chains`` and ``ising_seed`` (``profile``: a name, a ``Profile``, or
    None for ``$COURSE_PROFILE``).
    """
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    return ising_dataset(P.ising_L, P.ising_temperatures, P.ising_n_configs, P.ising_seed, cache,
                         chains=P.ising_chains, num_threads=num_threads)
