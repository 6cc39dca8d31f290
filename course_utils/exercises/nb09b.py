"""Checks for notebook 09b (lattice phi^4: the action, a checkerboard coupling, the ESS).

* ``check_phi4_action(my_action)`` -- S(phi) = sum_x [sum_mu phi_x (2 phi_x - phi_{x+mu} -
  phi_{x-mu}) + m^2 phi_x^2 + lambda phi_x^4] on a periodic lattice (Albergo, Kanwar & Shanahan
  2019, eq. (13));
* ``check_checkerboard_coupling(my_coupling)`` -- an affine coupling on a checkerboard: the sites
  with (i + j) % 2 == parity frozen, the others z exp(s) + t, and log |det| = the sum of s over
  the sites that move;
* ``check_ess(my_ess)`` -- ESS/N = (sum w)^2 / (N sum w^2) from log-weights, without overflow.

Every reference is the package's own function (``phi4.action``, ``flows.AffineCoupling`` with
``flows.checkerboard_mask``, ``lattice.effective_sample_size``).
"""

from __future__ import annotations

import torch

from ..flows.conditioners import FixedConditioner
from ..flows.coupling import AffineCoupling, checkerboard_mask
from ..lattice import bond_sum, effective_sample_size
from ..phi4.action import action
from .verdict import call, checker, close_number, compare, generator, pair

__all__ = ["check_phi4_action", "check_checkerboard_coupling", "check_ess"]


@checker("the lattice phi^4 action")
def check_phi4_action(my_action) -> str:
    phi = torch.randn(5, 5, 5, generator=generator(95), dtype=torch.float64)  # odd L: no cancelling
    m2, lam = -1.3, 2.5
    got = call(my_action, phi.clone(), m2, lam, what="my_action(phi, m2, lam)")
    want = action(phi, m2, lam)
    phi2 = phi * phi
    kinetic = 4 * phi2.sum((1, 2)) - 2 * bond_sum(phi)  # 2d sum phi^2 - 2 sum_<xy> phi_x phi_y
    potential = (m2 * phi2 + lam * phi2 * phi2).sum((1, 2))
    open_bonds = ((phi[:, 1:] * phi[:, :-1]).sum((1, 2))
                  + (phi[:, :, 1:] * phi[:, :, :-1]).sum((1, 2)))
    one_axis = (phi * phi.roll(1, 1)).sum((1, 2))
    compare(got, want, "my_action", mistakes={
        "the kinetic term is half the right one: a 1/2 in front (this normalisation, Albergo et "
        "al.'s, has none), or one neighbour per direction where each mu has two, x + mu and x - mu":
            kinetic / 2 + potential,
        "the bonds across the edges are missing: the lattice is periodic (torch.roll wraps)":
            4 * phi2.sum((1, 2)) - 2 * open_bonds + potential,
        "only one direction: sum over both axes mu = 1, 2":
            2 * phi2.sum((1, 2)) - 2 * one_axis + potential,
        "the hopping term has the wrong sign: phi_x (2 phi_x - phi_{x+mu} - phi_{x-mu})":
            4 * phi2.sum((1, 2)) + 2 * bond_sum(phi) + potential,
        "the quartic term is lambda phi^4, not lambda phi^2":
            kinetic + (m2 * phi2 + lam * phi2).sum((1, 2)),
        "the mass term is m^2 phi^2 (m2 is already m squared)":
            kinetic + (m2 * m2 * phi2 + lam * phi2 * phi2).sum((1, 2)),
    })
    zero = float(call(my_action, torch.zeros(1, 4, 4, dtype=torch.float64), -4.0, 8.0,
                      what="my_action").reshape(-1)[0])
    close_number(zero, 0.0, "my_action(phi = 0)")
    return (f"S on 5 random 5 x 5 fields at m^2 = {m2}, lambda = {lam}; S(0) = 0 "
            "(the action of the Albergo et al. normalisation, no 1/2)")


def _board_coupling(z, s, t, mask):
    """AffineCoupling on fields (n, L, L) with the given mask (1 = frozen): (x, log_det)."""
    layer = AffineCoupling(mask, FixedConditioner(s[:, None], t[:, None])).double()
    x, log_det = layer(z[:, None])
    return x[:, 0], log_det


@checker("an affine coupling on a checkerboard and its log-determinant")
def check_checkerboard_coupling(my_coupling) -> str:
    gen = generator(96)
    n, L, parity = 4, 6, 1
    z, s, t = torch.randn(3, n, L, L, generator=gen, dtype=torch.float64)
    what = "my_coupling(z, s, t, parity)"
    answer = call(my_coupling, z.clone(), s.clone(), t.clone(), parity, what=what)
    x, log_det = pair(answer, what, "x, log_det")
    mask = checkerboard_mask((L, L), parity).double()
    want_x, want_log_det = _board_coupling(z, s, t, mask)
    flipped = _board_coupling(z, s, t, 1 - mask)
    stripes = (torch.arange(L)[:, None] % 2 == parity).double().expand(L, L)
    striped = _board_coupling(z, s, t, stripes)
    everywhere = _board_coupling(z, s, t, torch.zeros(L, L, dtype=torch.float64))
    compare(x, want_x, "x", mistakes={
        "the parity is the wrong way round: the sites with (i + j) % 2 == parity stay frozen":
            flipped[0],
        "these are stripes (rows), not a checkerboard: the mask is (i + j) % 2 == parity":
            striped[0],
        "every site moved: the frozen sites must be copied unchanged": everywhere[0],
        "the scale is exp(s), not s": torch.where(mask > 0, z, z * s + t),
    })
    active = 1 - mask
    compare(log_det, want_log_det, "log_det", mistakes={
        "the sum runs over the sites that move only; the frozen ones have derivative 1":
            everywhere[1],
        "this sums s over the frozen sites; the moving ones ((i + j) % 2 != parity) are scaled":
            flipped[1],
        "this sums s over stripes; the moving sites form a checkerboard": striped[1],
        "log |det| of a diagonal scaling is the sum of s, not of exp(s)":
            (active * s.exp()).sum((1, 2)),
        "this is log |det| of the inverse map: the forward map's is +sum s": -want_log_det,
    })
    return (f"x and log|det dx/dz| = sum of s over the {L * L // 2} moving sites of a {L} x {L} "
            f"checkerboard (parity {parity}), on {n} random fields")


@checker("the effective sample size of importance weights")
def check_ess(my_ess) -> str:
    gen = generator(97)
    log_w = -700.0 + 2.0 * torch.randn(500, generator=gen, dtype=torch.float64)  # like -S - log q
    got = call(my_ess, log_w.clone(), what="my_ess(log_w)")
    want = effective_sample_size(log_w)
    w = torch.exp(log_w - log_w.max())
    n = len(log_w)
    value = torch.as_tensor(got.detach() if isinstance(got, torch.Tensor) else got,
                            dtype=torch.float64)
    if value.numel() == 1 and not bool(torch.isfinite(value).all()):
        raise AssertionError(
            f"my_ess = {float(value.reshape(-1)[0])}: exp(log_w) underflows for log_w near -700 "
            "(exp(-700)^2 is 0 in float64). Weights matter only up to a constant factor: use "
            "w = exp(log_w - log_w.max()), or torch.logsumexp")
    value = value.reshape(()) if value.numel() == 1 else value
    compare(value, want.reshape(()), "my_ess", mistakes={
        "this is the ESS itself; divide by N for the fraction ESS/N": want * n,
        "upside down: ESS/N = (sum w)^2 / (N sum w^2)": 1 / want,
        "the weights are w = exp(log_w), not log_w":
            (log_w.sum() ** 2 / (n * (log_w**2).sum())).reshape(()),
        "(sum w)^2 is the square of the sum, not the sum of the squares":
            ((w * w).sum() / (n * (w * w).sum())).reshape(()),
    })
    same = call(my_ess, torch.zeros(10, dtype=torch.float64), what="my_ess")
    close_number(same, 1.0, "my_ess(equal weights)")
    return (f"ESS/N = {float(want):.4f} for 500 log-weights near -700 (where exp underflows: "
            "subtracting max log w first keeps it finite); equal weights give 1")

