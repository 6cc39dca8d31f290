"""course_utils.lattice: the shared lattice sums, estimates and chains, checked against loops,
autograd and exact small cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_utils.lattice import (
    axial_two_point,
    bond_sum,
    effective_sample_size,
    independence_metropolis,
    integrated_autocorrelation_time,
    jackknife,
    neighbour_sum,
    reweight,
    shifted_product_sum,
    symmetrised_log_q,
    two_point,
)


def _field(n=3, rows=4, cols=5, seed=0):
    return torch.randn(
        n, rows, cols, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )


def test_bond_sum_counts_every_nearest_neighbour_bond_once():
    x = _field()
    n, rows, cols = x.shape
    want = torch.zeros(n, dtype=torch.float64)
    for i in range(rows):
        for j in range(cols):
            want += x[:, i, j] * (x[:, (i + 1) % rows, j] + x[:, i, (j + 1) % cols])
    assert torch.allclose(bond_sum(x), want, atol=1e-12)
    assert bond_sum(torch.ones(1, 6, 6)).item() == 72  # 2V bonds


def test_neighbour_sum_is_the_gradient_of_the_bond_sum():
    x = _field().requires_grad_(True)
    (grad,) = torch.autograd.grad(bond_sum(x).sum(), x)
    assert torch.allclose(grad, neighbour_sum(x.detach()), atol=1e-12)


def test_two_point_function_against_a_loop_and_its_sum_rule():
    x = _field(rows=4, cols=4)
    C = two_point(x)
    assert C.shape == (3, 4, 4)
    y = (1, 2)
    loop = (
        sum(x[:, i, j] * x[:, (i + y[0]) % 4, (j + y[1]) % 4] for i in range(4) for j in range(4))
        / 16
    )
    assert torch.allclose(C[:, 1, 2], loop, atol=1e-12)
    assert torch.allclose(
        C.sum((1, 2)), x.sum((1, 2)) ** 2 / 16, atol=1e-12
    )  # sum_y C(y) = M^2 / V
    G = axial_two_point(x)
    assert G.shape == (3, 3) and torch.allclose(G, (C[:, :3, 0] + C[:, 0, :3]) / 2, atol=1e-12)
    assert torch.allclose(shifted_product_sum(x, (0, 0)), (x * x).sum((1, 2)))


def test_jackknife_of_a_mean_is_the_standard_error_and_weights_of_one_change_nothing():
    x = torch.randn(4000, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    value, error = jackknife(x, lambda a: a[..., 0], n_blocks=4000)
    assert value == pytest.approx(float(x.mean()))
    assert error == pytest.approx(float(x.std() / math.sqrt(len(x))), rel=1e-3)
    same = jackknife(x, lambda a: a[..., 0], n_blocks=50, log_w=torch.full((4000,), 3.0))
    plain = jackknife(x, lambda a: a[..., 0], n_blocks=50)
    assert torch.allclose(same.value, plain.value) and torch.allclose(same.error, plain.error)


def test_reweighting_turns_draws_of_one_gaussian_into_another():
    x = torch.randn(20_000, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    log_w = x - 0.5  # log N(x; 1, 1) - log N(x; 0, 1)
    mean, error = reweight(x, log_w)
    assert abs(float(mean) - 1.0) < 4 * float(error) and float(error) < 0.05
    assert effective_sample_size(log_w) == pytest.approx(
        math.exp(-1.0), rel=0.1
    )  # lognormal: e^{-s^2}


def test_effective_sample_size_limits_and_stability():
    assert float(effective_sample_size(torch.zeros(10))) == pytest.approx(1.0)
    assert float(effective_sample_size(torch.tensor([0.0, -1e4, -1e4, -1e4]))) == pytest.approx(
        0.25
    )
    big = torch.tensor(
        [1e4, 1e4 + math.log(3.0)], dtype=torch.float64
    )  # w = (1, 3) times e^10000: no overflow
    assert float(effective_sample_size(big)) == pytest.approx(16 / (2 * 10))
    with pytest.raises(ValueError, match="finite"):
        effective_sample_size(torch.tensor([0.0, float("nan")]))


def test_independence_metropolis_samples_the_target_with_the_exact_acceptance():
    p = torch.tensor([0.1, 0.2, 0.7], dtype=torch.float64)
    q = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    gen = torch.Generator().manual_seed(3)
    states = torch.multinomial(q, 60_000, replacement=True, generator=gen).reshape(20_000, 3)
    log_w = torch.log(p / q)[states]  # three independent chains, time first
    chain = independence_metropolis(log_w, gen)
    visited = states.gather(0, chain.index)
    freq = torch.bincount(visited[1000:].flatten(), minlength=3).double() / visited[1000:].numel()
    assert torch.allclose(freq, p, atol=0.02)
    w = p / q
    exact = float(
        (p[:, None] * q[None, :] * torch.minimum(torch.ones(3, 3), w[None, :] / w[:, None])).sum()
    )
    assert chain.acceptance == pytest.approx(exact, abs=0.01)
    assert chain.index.shape == (20_000, 3) and bool(chain.accepted[0].all())
    assert torch.equal(chain.accepted[1:], chain.index[1:] == torch.arange(1, 20_000)[:, None])
    assert (
        independence_metropolis(torch.zeros(50)).acceptance == 1.0
    )  # q = p: every proposal accepted


def test_autocorrelation_time_of_an_ar1_chain_in_one_column():
    rng = np.random.default_rng(4)
    x = np.zeros(50_000)
    noise = rng.standard_normal(len(x))
    for t in range(1, len(x)):
        x[t] = 0.8 * x[t - 1] + noise[t]
    assert integrated_autocorrelation_time(x)[0] == pytest.approx(0.5 * 1.8 / 0.2, rel=0.1)


def test_symmetrised_log_q_is_the_log_of_the_mean_density():
    """log((q(x) + q(-x)) / 2) against the densities themselves, and finite where they underflow."""
    a = torch.tensor([-1.0, -3.0, -0.2], dtype=torch.float64)
    b = torch.tensor([-2.0, -3.0, -5.0], dtype=torch.float64)
    assert torch.allclose(symmetrised_log_q(a, b), ((a.exp() + b.exp()) / 2).log())
    assert torch.equal(symmetrised_log_q(a, b), symmetrised_log_q(b, a))
    far = symmetrised_log_q(torch.tensor([-2000.0]), torch.tensor([-2001.0]))
    assert math.isclose(float(far), -2000.0 + math.log((1 + math.exp(-1.0)) / 2), rel_tol=1e-6)
