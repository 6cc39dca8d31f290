"""Checks for notebook 09 (the 2-D Ising model: energy, Binder cumulant, the critical temperature).

* ``check_ising_energy(my_energy)`` -- e = -(1/N) sum_<ij> s_i s_j on a periodic L x L lattice,
  every nearest-neighbour bond counted once;
* ``check_binder_cumulant(my_binder)`` -- U4 = 1 - <m^4> / (3 <m^2>^2) from magnetisations m;
* ``check_critical_temperature(my_tc)`` -- Onsager's T_c = 2 / ln(1 + sqrt 2) (J = k_B = 1).
"""
from __future__ import annotations

import math

import torch

from ..ising.observables import hamiltonian
from .verdict import call, checker, close_number, compare, generator

__all__ = ["check_ising_energy", "check_binder_cumulant", "check_critical_temperature"]


def _spins(seed: int, n: int, size: int) -> torch.Tensor:
    """Random +-1 lattices, some of them mostly aligned (so that no mistake hides behind e ~ 0)."""
    g = generator(seed)
    bias = torch.linspace(0.5, 0.95, n, dtype=torch.float64)[:, None, None]
    return torch.where(torch.rand(n, size, size, generator=g, dtype=torch.float64) < bias, 1.0,
                       -1.0)


def _open_bonds(s: torch.Tensor) -> torch.Tensor:
    """A mistake's value: the bond sum without the bonds that wrap around the edges."""
    return ((s[:, 1:, :] * s[:, :-1, :]).sum(dim=(1, 2))
            + (s[:, :, 1:] * s[:, :, :-1]).sum(dim=(1, 2)))


@checker("the energy per spin of periodic Ising lattices")
def check_ising_energy(my_energy) -> str:
    s = _spins(90, 6, 5)  # an odd size: a wrong wrap-around cannot cancel
    n_spins = s[0].numel()
    got = call(my_energy, s.clone(), what="my_energy(spins)")
    want = hamiltonian(s) / n_spins  # the library's one definition of the Ising energy
    mistakes = {
        "each bond is counted twice (four neighbours per spin): count one neighbour along each "
        "axis only (torch.roll by +1 gives the upper and the left one), or halve the sum": 2 * want,
        "the sign: H = -J sum s_i s_j, so aligned spins (s_i s_j = +1) lower the energy": -want,
        "the bonds across the edges are missing: the lattice is periodic (torch.roll wraps around)":
            -_open_bonds(s) / n_spins,
        f"this is the total energy; divide by the N = {n_spins} spins for the energy per spin":
            want * n_spins,
        "only one direction of bonds: add the vertical (or horizontal) neighbours too":
            -(s * s.roll(1, dims=2)).sum(dim=(1, 2)) / n_spins,
    }
    compare(got, want, "my_energy", mistakes=mistakes)
    ground = float(call(my_energy, torch.ones(1, 5, 5, dtype=torch.float64),
                        what="my_energy").reshape(-1)[0])
    return f"all spins up give e = {ground:g} (the ground state, -2 per spin: two bonds per spin)"


@checker("the Binder cumulant")
def check_binder_cumulant(my_binder) -> str:
    g = generator(91)
    m = torch.tanh(torch.randn(400, generator=g, dtype=torch.float64) * 1.5)
    got = call(my_binder, m.clone(), what="my_binder(m)")
    m2, m4 = (m ** 2).mean(), (m ** 4).mean()
    want = 1 - m4 / (3 * m2 ** 2)
    mistakes = {
        "the 1 - is missing: U4 = 1 - <m^4> / (3 <m^2>^2)": m4 / (3 * m2 ** 2),
        "the 3 is missing: U4 = 1 - <m^4> / (3 <m^2>^2)": 1 - m4 / m2 ** 2,
        "<m^2> must be squared in the denominator": 1 - m4 / (3 * m2),
        "<m^2>^2 is the square of the mean of m^2, not the mean of m^4": 1 - m4 / (3 * m4),
        "use <m^2> and <m^4>, not powers of <|m|>": 1 - m4 / (3 * m.abs().mean() ** 4),
    }
    compare(torch.as_tensor(got, dtype=torch.float64).reshape(()), want.reshape(()), "my_binder",
            mistakes={k: v.reshape(()) for k, v in mistakes.items()})
    ordered = float(call(my_binder, torch.ones(10, dtype=torch.float64), what="my_binder"))
    return (f"U4 = {float(want):.4f} here; for a perfectly ordered lattice (m = +-1) it is "
            f"{ordered:.4f} = 2/3")


@checker("Onsager's critical temperature")
def check_critical_temperature(my_tc) -> str:
    want = 2 / math.log(1 + math.sqrt(2))
    value = call(my_tc, what="my_tc()") if callable(my_tc) else my_tc
    # a single finite number (any value, for now)
    got = close_number(value, want, "my_tc", rtol=math.inf)
    known = {
        "this is the critical coupling K_c = J / (k_B T_c) = ln(1 + sqrt 2) / 2; T_c is 1 / K_c":
            math.log(1 + math.sqrt(2)) / 2,
        "a factor 2 is missing: T_c = 2 / ln(1 + sqrt 2)": 1 / math.log(1 + math.sqrt(2)),
        "use the natural logarithm (math.log), not log10": 2 / math.log10(1 + math.sqrt(2)),
        "sinh(2 / T_c) = 1 gives T_c = 2 / asinh(1) = 2 / ln(1 + sqrt 2); the square root "
        "belongs inside the log":
            2 / (1 + math.log(math.sqrt(2))),
    }
    for description, wrong in known.items():
        if math.isclose(got, wrong, rel_tol=1e-6):
            raise AssertionError(f"my_tc = {got:.6g}: {description}")
    close_number(got, want, "my_tc", rtol=1e-6)
    return f"T_c = 2 / ln(1 + sqrt 2) = {want:.6f} J/k_B: sinh(2 J / k_B T_c) = 1"
