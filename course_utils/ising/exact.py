"""Exact results for the 2-D Ising model on the square lattice (J = 1,
k_B = 1, H = -sum_<ij> s_i s_j).

Conventions: ``K = beta J = 1 / T``; an L x L torus has ``N = L^2`` spins and ``2N`` bonds (each
site bonds to its right and lower neighbour, with wrap-around; for L = 2 the two bonds between a
pair both count, as in the transfer-matrix derivation). Energies are per spin, ``e = <H> / N``.

* ``T_C = 2 / ln(1 + sqrt 2) = 2.269185...`` (Kramers-Wannier duality, Onsager 1944).
* Spontaneous magnetisation of the infinite lattice (Onsager 1948, Yang 1952):
  ``m_0(T) = (1 - sinh(2K)^-4)^(1/8)`` for ``T < T_c``, 0 above.
* Infinite-lattice energy (Onsager 1944):
  ``u(T) = -coth(2K) [1 + (2/pi) (2 tanh^2(2K) - 1) K1(k)]`` with ``k = 2 sinh(2K) / cosh^2(2K)``
  and the complete elliptic integral ``K1(k) = int_0^{pi/2} dtheta / sqrt(1 - k^2 sin^2 theta)``;
  specific heat
  ``c(T) = (2/pi) (K coth 2K)^2 {2 K1 - 2 E1 - (1 - tanh^2 2K) [pi + (2 tanh^2 2K - 1) 2 K1]}``
  (``E1`` the complete integral of the second kind). Both integrals are computed with the
  arithmetic-geometric mean (exact to rounding; no scipy).
* Finite L x L torus (Kaufman 1949; see also Beale, PRL 76, 78 (1996)):

      Z = 1/2 (2 sinh 2K)^(N/2) [Z_1 + Z_2 + Z_3 + Z_4],
      Z_1 = prod_{r=0}^{L-1} 2 cosh(L gamma_{2r+1} / 2),
      Z_2 = prod_{r=0}^{L-1} 2 sinh(L gamma_{2r+1} / 2),
      Z_3 = prod_{r=0}^{L-1} 2 cosh(L gamma_{2r} / 2),
      Z_4 = prod_{r=0}^{L-1} 2 sinh(L gamma_{2r} / 2),

  with ``cosh gamma_k = cosh 2K coth 2K - cos(pi k / L)`` (``gamma_k > 0``) for ``k >= 1`` and
  ``gamma_0 = 2K + ln tanh K``, which is positive below ``T_c``, zero at ``T_c`` and negative above,
  so ``Z_4`` changes sign at ``T_c``. ``log Z`` is evaluated as a signed log-sum-exp in float64;
  ``e = -(1/N) d log Z / d beta`` and ``c = (beta^2 / N) d^2 log Z / d beta^2`` are exact
  derivatives of that float64 expression by automatic differentiation (checked against exact
  enumeration to 1e-10 and against a finite difference in the tests).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .observables import hamiltonian

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))  # 2.269185314213022
K_C = 1.0 / T_C  # = ln(1 + sqrt 2) / 2 = 0.44068679...

__all__ = [
    "T_C", "K_C", "onsager_magnetisation", "onsager_energy_per_spin",
    "onsager_specific_heat_per_spin", "log_partition_function", "energy_per_spin",
    "specific_heat_per_spin", "kaufman", "exact_enumeration",
]


def _check_temperature(T: float) -> float:
    T = float(T)
    if not math.isfinite(T) or T <= 0.0:
        raise ValueError("The temperature must be a positive finite number (units of J/k_B), got "
                         f"{T!r}.")
    return T


def _check_L(L: int, largest: int | None = None) -> int:
    if isinstance(L, bool) or int(L) != L or int(L) < 2:
        raise ValueError(f"The lattice size L must be an integer >= 2, got {L!r}.")
    if largest is not None and int(L) > largest:
        raise ValueError(f"L = {L} is too large here: at most {largest}.")
    return int(L)


def _vectorise(fn, T):
    """Apply the scalar ``fn`` to a float or to every element of an array-like of temperatures."""
    if np.ndim(T) == 0:
        return fn(float(T))
    arr = np.asarray(T, dtype=np.float64)
    return np.array([fn(float(t)) for t in arr.ravel()]).reshape(arr.shape)


# --------------------------------------------------------------------------------------------
# Infinite lattice (Onsager)
# --------------------------------------------------------------------------------------------

def onsager_magnetisation(T):
    """Spontaneous magnetisation ``(1 - sinh(2/T)^-4)^(1/8)`` below
    ``T_C``, ``0`` at and above it."""

    def one(t: float) -> float:
        t = _check_temperature(t)
        if t >= T_C:
            return 0.0
        return (1.0 - math.sinh(2.0 / t) ** -4) ** 0.125

    return _vectorise(one, T)


def _elliptic_k_e(k: float) -> tuple[float, float]:
    """Complete elliptic integrals ``K1(k)`` and ``E1(k)`` (modulus ``k``, 0 <= k < 1) by the AGM.

    ``K1 = pi / (2 AGM(1, sqrt(1 - k^2)))``, ``E1 = K1 (1 - sum_n 2^(n-1) c_n^2)`` with ``c_0 = k``.
    """
    a, b = 1.0, math.sqrt(max(0.0, 1.0 - k * k))
    total, power, c = 0.5 * k * k, 0.5, k
    for _ in range(60):
        if abs(a - b) <= 1e-16 * a:
            break
        c = 0.5 * (a - b)
        a, b = 0.5 * (a + b), math.sqrt(a * b)
        power *= 2.0
        total += power * c * c
    kk = math.pi / (2.0 * a)
    return kk, kk * (1.0 - total)


def onsager_energy_per_spin(T):
    """Energy per spin of the infinite lattice, ``-coth 2K [1 + (2/pi)(2 tanh^2 2K - 1) K1(k)]``.

    ``k = 2 sinh 2K / cosh^2 2K``; at ``T_C`` (k = 1, K1 diverges, its prefactor
    vanishes) the value is ``-sqrt 2``.
    """

    def one(t: float) -> float:
        t = _check_temperature(t)
        K = 1.0 / t
        k = 2.0 * math.sinh(2 * K) / math.cosh(2 * K) ** 2
        if abs(k - 1.0) < 1e-15:
            return -math.sqrt(2.0)
        k1, _ = _elliptic_k_e(k)
        return -1.0 / math.tanh(2 * K) * (1.0 + 2.0 / math.pi * (2.0 * math.tanh(2 * K) ** 2 - 1.0)
                                          * k1)

    return _vectorise(one, T)


def onsager_specific_heat_per_spin(T):
    """Specific heat per spin of the infinite lattice (Onsager 1944);
    diverges logarithmically at ``T_C``.

    ``c = (2/pi)(K coth 2K)^2 {2 K1 - 2 E1 - (1 - tanh^2 2K)[pi + (2 tanh^2 2K - 1) 2 K1]}``;
    ``inf`` at ``T_C`` itself.
    """

    def one(t: float) -> float:
        t = _check_temperature(t)
        K = 1.0 / t
        k = 2.0 * math.sinh(2 * K) / math.cosh(2 * K) ** 2
        if abs(k - 1.0) < 1e-15:
            return math.inf
        k1, e1 = _elliptic_k_e(k)
        th2 = math.tanh(2 * K) ** 2
        pref = 2.0 / math.pi * (K / math.tanh(2 * K)) ** 2
        return pref * (2 * k1 - 2 * e1 - (1.0 - th2) * (math.pi + (2 * th2 - 1.0) * 2 * k1))

    return _vectorise(one, T)


# --------------------------------------------------------------------------------------------
# Finite torus (Kaufman)
# --------------------------------------------------------------------------------------------

def _log2cosh(x: torch.Tensor) -> torch.Tensor:
    return torch.logaddexp(x, -x)  # log(e^x + e^-x), smooth and stable, also at x = 0


def _log2sinh_pos(x: torch.Tensor) -> torch.Tensor:
    return x + torch.log(-torch.expm1(-2.0 * x))  # log(2 sinh x) for x > 0


def _kaufman_log_z(L: int, beta: torch.Tensor) -> torch.Tensor:
    """``log Z`` of the L x L torus as a differentiable float64 function of
    the scalar tensor ``beta``."""
    K = beta  # J = 1
    N = L * L
    k = torch.arange(1, 2 * L, dtype=torch.float64)
    cosh_g = torch.cosh(2 * K) / torch.tanh(2 * K) - torch.cos(math.pi * k / L)
    gammas = torch.acosh(cosh_g)  # gamma_1 .. gamma_{2L-1}, all > 0
    gamma0 = 2 * K + torch.log(torch.tanh(K))  # sign changes at T_c
    odd, even = gammas[0::2], gammas[1::2]  # gamma_{2r+1}, r = 0..L-1;  gamma_{2r}, r = 1..L-1
    half = L / 2.0
    l1 = _log2cosh(half * odd).sum()
    l2 = _log2sinh_pos(half * odd).sum()
    l3 = _log2cosh(half * gamma0) + _log2cosh(half * even).sum()
    rest4 = _log2sinh_pos(half * even).sum()  # Z_4 without its r = 0 factor 2 sinh(L gamma_0 / 2)
    x0 = half * gamma0
    shift = torch.maximum(l1, l3).detach()
    total = torch.exp(l1 - shift) + torch.exp(l2 - shift) + torch.exp(l3 - shift)
    # the factor itself: smooth through x0 = 0 (at T_c), where Z_4 = 0
    if abs(float(x0.detach())) < 30.0:
        total = total + torch.exp(rest4 - shift) * 2.0 * torch.sinh(x0)
    else:  # far from T_c: in logs, with its sign
        total = total + torch.sign(x0.detach()) * torch.exp(rest4 + _log2sinh_pos(x0.abs()) - shift)
    return -math.log(2.0) + 0.5 * N * torch.log(2.0 * torch.sinh(2 * K)) + shift + torch.log(total)


def kaufman(L: int, T: float) -> tuple[float, float, float]:
    """``(log Z, e, c)`` of the L x L torus at temperature ``T`` from Kaufman's formula (float64).

    ``e = -(1/N) d log Z/d beta``, ``c = (beta^2/N) d^2 log Z/d beta^2`` =
    ``beta^2 (<E^2> - <E>^2) / N``.
    """
    L, T = _check_L(L), _check_temperature(T)
    with torch.enable_grad():  # the derivatives are autograd's, also when called under no_grad
        beta = torch.tensor(1.0 / T, dtype=torch.float64, requires_grad=True)
        log_z = _kaufman_log_z(L, beta)
        (d1,) = torch.autograd.grad(log_z, beta, create_graph=True)
        (d2,) = torch.autograd.grad(d1, beta)
    N = L * L
    return float(log_z.detach()), -float(d1.detach()) / N, float(d2) * (1.0 / T) ** 2 / N


def log_partition_function(L: int, T):
    """``log Z(L, T)`` of the periodic L x L lattice, exact (Kaufman 1949),
    float64; ``T`` float or array."""
    return _vectorise(lambda t: kaufman(L, t)[0], T)


def energy_per_spin(L: int, T):
    """Exact mean energy per spin ``<H>/N = -(1/N) d log Z / d beta`` of the L x L torus."""
    return _vectorise(lambda t: kaufman(L, t)[1], T)


def specific_heat_per_spin(L: int, T):
    """Exact specific heat per spin
    ``beta^2 (<E^2> - <E>^2) / N = (beta^2/N) d^2 log Z / d beta^2``."""
    return _vectorise(lambda t: kaufman(L, t)[2], T)


# --------------------------------------------------------------------------------------------
# Brute force
# --------------------------------------------------------------------------------------------

def exact_enumeration(L: int, T: float) -> dict[str, float]:
    """Sum over all ``2^(L^2)`` states of the L x L torus (L <= 4), vectorised, float64.

    Returns ``log_z``, ``e`` (= <H>/N), ``c`` (= beta^2 Var(H)/N), ``abs_m`` (<|m|>), ``m2``,
    ``m4`` with ``m = sum_i s_i / N``.
    """
    L, T = _check_L(L, largest=4), _check_temperature(T)
    N = L * L
    codes = torch.arange(2 ** N, dtype=torch.int64)
    bits = (codes[:, None] >> torch.arange(N, dtype=torch.int64)) & 1
    spins = (2 * bits - 1).to(torch.float64).reshape(-1, L, L)
    energy = hamiltonian(spins)
    m = spins.sum((1, 2)) / N
    beta = 1.0 / T
    log_w = -beta * energy
    log_z = torch.logsumexp(log_w, 0)
    p = torch.exp(log_w - log_z)
    mean_e = (p * energy).sum()
    var_e = (p * (energy - mean_e) ** 2).sum()
    return {
        "log_z": float(log_z),
        "e": float(mean_e) / N,
        "c": float(var_e) * beta ** 2 / N,
        "abs_m": float((p * m.abs()).sum()),
        "m2": float((p * m ** 2).sum()),
        "m4": float((p * m ** 4).sum()),
    }
