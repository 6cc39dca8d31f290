"""Monte Carlo sampling of the 2-D Ising model, vectorised over many independent chains.

Spins live in float32 tensors of shape ``(chains, L, L)`` with values ``+-1`` on a periodic lattice;
neighbours come from ``torch.roll``.

* ``metropolis_sweep``: checkerboard Metropolis. The two sublattices ``(i + j)`` even / odd do not
  interact, so each half of a sweep flips all its spins in parallel with probability
  ``min(1, exp(-beta dE))``, ``dE = 2 s_i sum_nn s_j``. One sweep = both sublattices = one attempted
  flip per spin. Needs even L.
* ``wolff_step``: one Wolff (1989) cluster flip per chain. All bonds are drawn at once (a bond is
  open with probability ``p = 1 - exp(-2 beta)`` if its two spins agree); the cluster of a uniformly
  chosen seed spin is grown by a boolean flood fill with ``torch.roll`` until it stops changing, and
  flipped. Growing the component of the seed in pre-drawn bonds is the same distribution as Wolff's
  sequential growth (each bond is tested at most once, independently). ``wolff_step_numpy`` is the
  textbook stack version for one chain, kept as a reference and for timing.
* ``integrated_autocorrelation_time`` (defined in ``lattice``, re-exported here): Sokal's automatic
  windowing, ``tau_int(W) = 1/2 + sum_{t=1}^{W} rho(t)`` with the smallest window
  ``W >= c tau_int(W)`` (c = 6); ``rho`` is the normalised autocorrelation averaged over chains.
  With this convention independent samples have ``tau_int = 1/2`` and the variance of a mean of
  n samples is ``2 tau_int Var / n``.
* ``sample_configurations``: burn-in, a pilot run that measures ``tau_int`` of ``|m|`` and ``e``,
  thinning by ``ceil(2 tau_int)`` (the larger of the two), production, and a final ``tau_int`` from
  the whole post-burn-in series.

Which update where (``algorithm="auto"``): measured on the 2 shared CPU cores at L = 16 with 256
chains (600 steps after 300 of burn-in; "cost" = time per chain per ``2 tau_int`` steps, i.e. per
independent configuration)::

    T      Metropolis sweep              Wolff step                    Wolff + Metropolis
           ms/step tau|m| tau_e cost     ms/step tau|m| tau_e cost     ms/step tau|m| tau_e cost
    1.5    1.7     0.74   0.70  10 us    7.1     0.58   0.58  32 us    8.8     0.52   0.51  35 us
    2.0    1.7     3.3    1.6   45 us    10.2    1.0    1.0   81 us    8.4     0.79   0.73  52 us
    2.269  1.4     9.1    5.2   102 us   9.3     2.1    2.5   178 us   11.5    1.6    1.5   144 us
    2.5    1.7     5.7    3.5   74 us    12.7    2.3    4.8   477 us   13.1    1.5    1.5   156 us
    3.5    1.4     0.98   0.72  11 us    7.1     4.2    14.5  807 us   6.1     0.86   0.68  41 us

So for ``T < T_SWITCH = 2.4`` one *step* is a Wolff cluster flip followed by one Metropolis sweep;
at and above, one step is one Metropolis sweep. The vectorised Metropolis sweep is so cheap that
by tau_int alone it would win even at T_c (102 vs 144 us) on this small lattice, but tau_int of |m|
and e does not see what goes wrong with Metropolis below T_c: a chain never reverses the sign of m
(at T = 1.5 and 2.0 every chain keeps the sign it chose during burn-in, so the +m / -m balance of
the data set rests on the number of chains, not configurations), and a hot start can freeze into
long-lived stripe states. One Wolff flip reverses m (cluster ~ the whole ordered domain) and removes
such domain walls; near T_c Metropolis's tau grows as L^2.17 while Wolff's stays ~ L^0.25, so the
Wolff step is the robust choice at and below T_c (and in the finite-size critical region just above
it at L = 16). Wolff alone decorrelates the energy less well (tau_e 2.5 at T_c), and the extra
Metropolis sweep halves that at ~20 % extra cost. Above ~2.4 clusters are small (mean size ~ chi), a
Wolff step is nearly wasted, and Metropolis alone has tau_int ~ 1 sweep at T = 3.5.

The vectorised flood-fill Wolff step costs 28-50 us per chain step at L = 16 with 256 chains;
``wolff_step_numpy`` (an explicit stack, one chain at a time) costs 316 us at T_c and 364 us at
T = 2.0 per step: the torch version is ~8x faster, so it is the one used.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch

from ..device import get_device
from ..lattice import integrated_autocorrelation_time, neighbour_sum
from .observables import hamiltonian

T_SWITCH = 2.4  # below: Wolff flip + Metropolis sweep per step; at and above: Metropolis sweep

__all__ = [
    "T_SWITCH", "ALGORITHMS", "random_spins", "metropolis_sweep", "wolff_step", "wolff_step_numpy",
    "energy_and_magnetisation", "integrated_autocorrelation_time", "choose_algorithm",
    "run_chains", "sample_configurations",
]


def _check(L: int, T: float) -> tuple[int, float]:
    if isinstance(L, bool) or int(L) != L or int(L) < 2 or int(L) % 2:
        raise ValueError(f"L must be an even integer >= 2 (checkerboard updates), got {L!r}.")
    T = float(T)
    if not math.isfinite(T) or T <= 0:
        raise ValueError(f"The temperature must be a positive finite number, got {T!r}.")
    return int(L), T


def random_spins(chains: int, L: int, generator: torch.Generator, device=None) -> torch.Tensor:
    """Independent uniform (infinite-temperature) spins, float32
    ``(chains, L, L)`` in ``{-1, +1}``."""
    device = generator.device if device is None else torch.device(device)
    u = torch.rand((chains, L, L), generator=generator, device=device)
    return torch.where(u < 0.5, -1.0, 1.0)


def _checkerboard(L: int, device) -> torch.Tensor:
    idx = torch.arange(L, device=device)
    return ((idx[:, None] + idx[None, :]) % 2 == 0)


def metropolis_sweep(spins: torch.Tensor, beta: float, generator: torch.Generator,
                     masks: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """One checkerboard Metropolis sweep of every chain of ``spins`` (float
    ``(chains, L, L)``), in place.

    Each sublattice in turn: ``dE = 2 s_i h_i`` with ``h_i`` the sum of the four neighbours; flip
    with probability ``min(1, exp(-beta dE))``.
    """
    if masks is None:
        even = _checkerboard(spins.shape[-1], spins.device)
        masks = (even, ~even)
    for mask in masks:
        local = spins * neighbour_sum(spins)  # dE = 2 * local
        u = torch.rand(spins.shape, generator=generator, device=spins.device)
        flip = mask & (u < torch.exp(-2.0 * beta * local))
        spins.mul_(torch.where(flip, -1.0, 1.0))
    return spins


def wolff_step(spins: torch.Tensor, beta: float, generator: torch.Generator) -> torch.Tensor:
    """One Wolff cluster flip in every chain of ``spins`` (float ``(chains, L, L)``), in place.

    Returns the cluster sizes ``(chains,)``. Bonds to the right and downwards are open with
    probability ``1 - exp(-2 beta)`` when the spins agree; the seed's
    component is found by flood fill.
    """
    chains, L, _ = spins.shape
    device = spins.device
    p_add = -math.expm1(-2.0 * beta)
    open_r = (spins == torch.roll(spins, -1, 2)) & (
        torch.rand(spins.shape, generator=generator, device=device) < p_add)
    open_d = (spins == torch.roll(spins, -1, 1)) & (
        torch.rand(spins.shape, generator=generator, device=device) < p_add)
    seeds = torch.randint(0, L * L, (chains,), generator=generator, device=device)
    cluster = torch.zeros((chains, L * L), dtype=torch.bool, device=device)
    cluster[torch.arange(chains, device=device), seeds] = True
    cluster = cluster.view(chains, L, L)
    size = cluster.sum()
    while True:
        for _ in range(2):  # two growth rounds per convergence check
            cluster = (cluster
                       | torch.roll(cluster & open_r, 1, 2) | (open_r & torch.roll(cluster, -1, 2))
                       | torch.roll(cluster & open_d, 1, 1) | (open_d & torch.roll(cluster, -1, 1)))
        new_size = cluster.sum()
        if bool(new_size == size):
            break
        size = new_size
    spins.mul_(torch.where(cluster, -1.0, 1.0))
    return cluster.sum((1, 2))


def wolff_step_numpy(spins: np.ndarray, beta: float, rng: np.random.Generator) -> int:
    """The textbook Wolff step (explicit stack) on one ``(L, L)`` numpy lattice, in place.

    Returns the cluster size.
    """
    L = spins.shape[0]
    p_add = -math.expm1(-2.0 * beta)
    i, j = divmod(int(rng.integers(L * L)), L)
    s0 = spins[i, j]
    spins[i, j] = -s0
    stack, size = [(i, j)], 1
    while stack:
        i, j = stack.pop()
        for a, b in (((i + 1) % L, j), ((i - 1) % L, j), (i, (j + 1) % L), (i, (j - 1) % L)):
            if spins[a, b] == s0 and rng.random() < p_add:
                spins[a, b] = -s0
                stack.append((a, b))
                size += 1
    return size


def energy_and_magnetisation(spins: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-chain energy per spin ``H / N`` (``observables.hamiltonian``) and ``m = sum s / N``."""
    n = spins.shape[-1] * spins.shape[-2]
    return hamiltonian(spins) / n, spins.sum((-2, -1)) / n


def choose_algorithm(T: float) -> str:
    """``"wolff+metropolis"`` below ``T_SWITCH``, ``"metropolis"`` at and above
    (see the module docstring)."""
    return "wolff+metropolis" if float(T) < T_SWITCH else "metropolis"


ALGORITHMS = ("metropolis", "wolff", "wolff+metropolis")


def run_chains(spins: torch.Tensor, T: float, steps: int, generator: torch.Generator,
               algorithm: str = "auto", every: int = 1):
    """Advance ``spins`` by ``steps`` steps in place; returns ``(e, m, snapshots)``.

    ``e`` and ``m`` are ``(steps, chains)`` float64 series measured after every step; ``snapshots``
    are int8 copies ``(k, chains, L, L)`` taken after every ``every``-th step (``every=0``: none).
    """
    algorithm = choose_algorithm(T) if algorithm == "auto" else algorithm
    if algorithm not in ALGORITHMS:
        raise ValueError(f"Unknown algorithm {algorithm!r}: use 'auto' or one of "
                         f"{', '.join(ALGORITHMS)}.")
    beta = 1.0 / float(T)
    even = _checkerboard(spins.shape[-1], spins.device)
    masks = (even, ~even)
    es, ms, snaps = [], [], []
    for step in range(1, steps + 1):
        if algorithm != "metropolis":
            wolff_step(spins, beta, generator)
        if algorithm != "wolff":
            metropolis_sweep(spins, beta, generator, masks)
        e, m = energy_and_magnetisation(spins)
        es.append(e.double())
        ms.append(m.double())
        if every and step % every == 0:
            snaps.append(spins.to(torch.int8))
    empty = torch.zeros((0, spins.shape[0]), dtype=torch.float64)
    e = torch.stack(es) if es else empty
    m = torch.stack(ms) if ms else empty
    shots = torch.stack(snaps) if snaps else torch.zeros((0, *spins.shape), dtype=torch.int8)
    return e.cpu(), m.cpu(), shots.cpu()


def sample_configurations(L: int, T: float, n: int, seed: int, *, chains: int | None = None,
                          algorithm: str = "auto", burn_in: int | None = None,
                          pilot: int | None = None, thin: int | None = None,
                          random_flip: bool = True, device=None, num_threads: int | None = None):
    """``n`` independent equilibrium configurations of the L x L torus at temperature ``T``.

    Returns ``(configs, report)``: ``configs`` int8 ``(n, L, L)`` in ``{-1, +1}``, ordered chain by
    chain (consecutive rows of one chain are ``thin`` steps apart); ``report`` a dict with
    ``algorithm``, ``chains``, ``per_chain`` (rows ``k * per_chain`` to ``(k + 1) * per_chain - 1``
    come from chain k), ``burn_in``, ``thin``, ``tau_abs_m`` and ``tau_e`` (tau_int in steps of
    ``algorithm`` from the whole post-burn-in series), ``window_abs_m``, ``window_e``, ``pilot_tau``
    (the pilot's larger tau_int), ``steps`` (per chain, all included), ``sweeps`` (Metropolis sweeps
    per chain), ``wolff_steps`` (per chain) and ``seconds``.

    Procedure: hot start (independent random spins) in ``chains`` chains; ``burn_in`` steps
    (default 100, extended until it is at least 20 tau_int); a ``pilot`` of ``max(100, 10 tau)``
    steps measures tau_int of ``|m|`` and ``e``; then thinning ``thin = ceil(2 max(tau))`` (at least
    1) and ``ceil(n / chains)`` snapshots per chain. ``device``: CPU unless given (then
    ``get_device(device)``). With ``random_flip`` (default) every returned configuration is
    multiplied by an independent random sign: the global spin flip maps the equilibrium distribution
    to itself, and it makes the sign of m independent between rows even where the dynamics reverses
    it almost deterministically (below T_c nearly every Wolff flip reverses m, so with thinning 2
    consecutive rows would share their sign; tau_int of |m| cannot see that). Deterministic for a
    fixed ``seed``, device and torch version (and any thread count).

    ``num_threads``: torch's intra-op threads for this call only (set, then restored); ``None``
    keeps the current setting. The tensors are small, so threads help little, and they hurt on a
    busy machine: at L = 16 with 96 chains on 2 cores shared with other jobs (load ~4.5) the five
    temperatures of the tests took 6.0 s with 1 thread and 31.8 s with 2; on a quiet machine 2
    threads were ~1.7x faster than 1 at 256 chains.
    """
    if num_threads is not None:
        previous = torch.get_num_threads()
        torch.set_num_threads(int(num_threads))
        try:
            return sample_configurations(L, T, n, seed, chains=chains, algorithm=algorithm,
                                         burn_in=burn_in, pilot=pilot, thin=thin,
                                         random_flip=random_flip, device=device)
        finally:
            torch.set_num_threads(previous)
    L, T = _check(L, T)
    if int(n) < 1:
        raise ValueError(f"n must be a positive number of configurations, got {n!r}.")
    n = int(n)
    device = get_device(device) if device is not None else torch.device("cpu")
    chains = int(chains) if chains is not None else min(n, 256)
    if chains < 1:
        raise ValueError(f"chains must be a positive integer, got {chains}.")
    algorithm = choose_algorithm(T) if algorithm == "auto" else algorithm
    gen = torch.Generator(device=device).manual_seed(int(seed))
    start = time.perf_counter()
    spins = random_spins(chains, L, gen, device)
    burn = 100 if burn_in is None else int(burn_in)
    pilot_len = 100 if pilot is None else int(pilot)
    run_chains(spins, T, burn, gen, algorithm, every=0)
    done = burn
    e_series, m_series = [], []
    while True:
        e, m, _ = run_chains(spins, T, pilot_len, gen, algorithm, every=0)
        tau = max(integrated_autocorrelation_time(m.abs())[0],
                  integrated_autocorrelation_time(e)[0])
        if burn_in is not None or burn >= 20 * tau:
            e_series.append(e)
            m_series.append(m)
            break
        extra = int(math.ceil(20 * tau)) - burn  # the pilot counts as burn-in; measure again
        if extra > 0:
            run_chains(spins, T, extra, gen, algorithm, every=0)
        burn += pilot_len + max(extra, 0)
        done = burn
        pilot_len = max(pilot_len, int(math.ceil(10 * tau)))
    done += pilot_len
    pilot_tau = tau
    thin = max(1, int(math.ceil(2 * pilot_tau))) if thin is None else int(thin)
    per_chain = -(-n // chains)
    e, m, shots = run_chains(spins, T, per_chain * thin, gen, algorithm, every=thin)
    done += per_chain * thin
    e_series.append(e)
    m_series.append(m)
    e_all, m_all = torch.cat(e_series), torch.cat(m_series)
    tau_m, w_m = integrated_autocorrelation_time(m_all.abs())
    tau_e, w_e = integrated_autocorrelation_time(e_all)
    configs = shots.transpose(0, 1).reshape(-1, L, L)[:n].contiguous()  # chain-major
    if random_flip:
        flips = torch.rand(n, generator=gen, device=device).cpu() < 0.5
        configs[flips] *= -1
    report = {
        "L": L, "T": T, "n": n, "seed": int(seed), "algorithm": algorithm, "chains": chains,
        "per_chain": per_chain, "burn_in": burn, "thin": thin, "tau_abs_m": tau_m, "tau_e": tau_e,
        "window_abs_m": w_m, "window_e": w_e, "pilot_tau": pilot_tau, "steps": done,
        "sweeps": done if algorithm != "wolff" else 0,
        "wolff_steps": done if algorithm != "metropolis" else 0,
        "seconds": time.perf_counter() - start,
    }
    return configs, report
