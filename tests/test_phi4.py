"""Lattice phi^4: the action and its force, HMC against the exact free field, observables, and
the flow (exact log q, reverse-KL training, the Metropolis correction)."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils.phi4 import (
    Phi4FlowConfig,
    action,
    build_flow,
    flow_mcmc,
    force,
    free_field_chi2,
    free_field_two_point,
    hamiltonian,
    hmc,
    leapfrog,
    measure,
    sample_flow,
    sample_symmetrised,
    train_flow,
)
from course_utils.phi4.flow import batch_size_at, lr_factor_at

M2, LAM = -4.0, 8.0  # the tutorial's point


def _phi(n=4, L=6, seed=0):
    return torch.randn(n, L, L, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_action_is_the_papers_formula_term_by_term():
    phi = _phi()
    kinetic = sum(phi * (2 * phi - torch.roll(phi, -1, d) - torch.roll(phi, 1, d)) for d in (1, 2))
    want = (kinetic + M2 * phi**2 + LAM * phi**4).sum((1, 2))
    assert torch.allclose(action(phi, M2, LAM), want, atol=1e-10)
    assert float(action(torch.zeros(1, 4, 4), M2, LAM)) == 0.0
    with pytest.raises(ValueError, match="lambda"):
        action(phi, 1.0, -1.0)


def test_force_is_minus_the_gradient_of_the_action():
    phi = _phi().requires_grad_(True)
    (grad,) = torch.autograd.grad(action(phi, M2, LAM).sum(), phi)
    assert torch.allclose(force(phi.detach(), M2, LAM), -grad, atol=1e-10)


def test_free_field_propagator_is_the_inverse_of_the_actions_hessian():
    """S = phi^T A phi (no 1/2): the covariance is (2A)^-1 = Hessian^-1; eq. (4) must agree."""
    L, m2 = 4, 0.7
    hessian = torch.autograd.functional.hessian(
        lambda f: action(f.reshape(1, L, L), m2, 0.0).sum(), torch.zeros(L * L, dtype=torch.float64)
    )
    covariance = torch.linalg.inv(hessian)
    G = free_field_two_point(L, m2)
    assert torch.allclose(covariance[0].reshape(L, L), G, atol=1e-12)
    assert float(G.sum()) == pytest.approx(free_field_chi2(m2), rel=1e-12)


def test_leapfrog_is_reversible_and_its_energy_error_scales_like_dt_squared():
    phi, pi = _phi(seed=1) * 0.5, _phi(seed=2)
    end_phi, end_pi = leapfrog(phi, pi, 0.05, 20, M2, LAM)
    back_phi, back_pi = leapfrog(end_phi, -end_pi, 0.05, 20, M2, LAM)
    assert torch.allclose(back_phi, phi, atol=1e-10) and torch.allclose(-back_pi, pi, atol=1e-10)
    errors = []
    for dt in (0.02, 0.01):  # the same trajectory length 0.4
        new_phi, new_pi = leapfrog(phi, pi, dt, round(0.4 / dt), M2, LAM)
        errors.append(
            (hamiltonian(new_phi, new_pi, M2, LAM) - hamiltonian(phi, pi, M2, LAM)).abs().mean()
        )
    assert float(errors[0] / errors[1]) == pytest.approx(4.0, rel=0.15)


def test_hmc_reproduces_the_exact_free_field():
    L, m2 = 6, 0.5
    run = hmc(L, m2, 0.0, n_traj=400, chains=32, dt=0.2, n_steps=5, burn_in=100, seed=0)
    assert 0.8 < run.acceptance < 1.0 and run.mean_exp_minus_dH == pytest.approx(1.0, abs=0.02)
    configs = run.flat()
    est = measure(configs)
    exact = free_field_two_point(L, m2)
    G, err = est["G_c"]
    assert torch.all((G - exact).abs() < 4 * err + 1e-3), (G - exact) / err
    assert abs(est["chi2"].value - free_field_chi2(m2)) < 4 * est["chi2"].error
    S = action(configs, m2, 0.0)
    assert float(S.mean()) == pytest.approx(L * L / 2, rel=0.02)  # equipartition
    small = hmc(L, m2, 0.0, n_traj=50, chains=8, dt=0.02, n_steps=25, burn_in=10, seed=1)
    assert small.acceptance > 0.98 > run.acceptance  # smaller steps: smaller dH, higher acceptance
    fixed = hmc(
        L, m2, 0.0, n_traj=400, chains=32, dt=0.2, n_steps=5, burn_in=100, seed=0, jitter=0.0
    )
    assert (
        float(action(fixed.flat(), m2, 0.0).mean()) < 0.97 * L * L / 2
    )  # resonant modes stay frozen


def test_observables_of_known_fields():
    c = 0.5
    up = torch.full((6, 4, 4), c, dtype=torch.float64)
    est = measure(up)
    assert est["M"].value == pytest.approx(16 * c) and est["chi2"].value == pytest.approx(
        0.0, abs=1e-12
    )
    assert torch.allclose(est["G_c"].value, torch.zeros(4, 4, dtype=torch.float64), atol=1e-12)
    both = torch.cat([up, -up])  # two vacua: <M> = 0, chi2 = <M^2> / V = c^2 V
    est = measure(both)
    assert est["M"].value == pytest.approx(0.0, abs=1e-12) and est["abs_M"].value == pytest.approx(
        16 * c
    )
    assert est["chi2"].value == pytest.approx(c * c * 16)
    assert est["ising_energy"].value == pytest.approx(c * c)
    weighted = measure(
        both, log_w=torch.cat([torch.zeros(6), torch.full((6,), -50.0)])
    )  # only +c counts
    assert weighted["M"].value == pytest.approx(16 * c) and weighted["chi2"].value == pytest.approx(
        0, abs=1e-12
    )
    with pytest.raises(ValueError, match="shape"):
        measure(torch.zeros(5, 4, 3))


def test_flow_density_is_exact_and_schedules_are_as_configured():
    config = Phi4FlowConfig(
        L=4, n_layers=4, hidden=(8,), train_steps=100, batch_size=16, batch_size_final=64, warmup=10
    )
    model = build_flow(config, seed=0)
    with torch.no_grad():
        for layer in model.flow.layers:  # non-trivial couplings (the last conv starts at zero)
            torch.nn.init.normal_(layer.conditioner.net[-1].weight, std=0.3)
        phi, log_q = model.sample(5, torch.Generator().manual_seed(0))
        assert phi.shape == (5, 4, 4)
        assert torch.allclose(model.log_prob(phi), log_q, atol=1e-4)
    assert [batch_size_at(config, k) for k in (0, 33, 34, 67, 99)] == [16, 16, 32, 64, 64]
    assert lr_factor_at(config, 0) == pytest.approx(0.1) and lr_factor_at(
        config, 100
    ) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="even"):
        Phi4FlowConfig(n_layers=3)


def test_reverse_kl_training_learns_the_free_field_without_data():
    """lambda = 0: p is Gaussian, so KL -> 0 is reachable; the loss tends to -log Z (exact here)."""
    L, m2 = 4, 1.0
    config = Phi4FlowConfig(
        L=L,
        m2=m2,
        lam=0.0,
        n_layers=4,
        hidden=(8,),
        train_steps=300,
        batch_size=64,
        batch_size_final=64,
        lr=5e-3,
        warmup=10,
        log_every=100,
        ess_samples=512,
    )
    torch.set_num_threads(1)
    model = build_flow(config, seed=0)
    untrained = flow_mcmc(model, 2048, seed=5)
    history = train_flow(model, config, seed=1, progress=False)
    trained = flow_mcmc(model, 2048, seed=5)
    hessian = torch.autograd.functional.hessian(
        lambda f: action(f.reshape(1, L, L), m2, 0.0).sum(), torch.zeros(L * L, dtype=torch.float64)
    )
    log_z = 0.5 * L * L * math.log(2 * math.pi) - 0.5 * float(
        torch.logdet(hessian)
    )  # S = phi^T H phi / 2
    assert history["loss"][-1] == pytest.approx(-log_z, abs=0.3)
    assert history["loss"][-1] >= -log_z - 0.05  # the loss is KL - log Z >= -log Z (up to noise)
    assert untrained.ess < 0.01 and trained.ess > 0.5 and trained.acceptance > 0.5, (
        untrained,
        trained,
    )
    assert len(history["ess"]) == 3 and history["loss"][0] > history["loss"][-1]
    est = trained.observables("mcmc")
    assert abs(est["chi2"].value - free_field_chi2(m2)) < 4 * est["chi2"].error


def test_symmetrised_proposal_has_the_exact_density_and_both_signs():
    """q_sym = (q(phi) + q(-phi)) / 2: half the draws flipped, log q_sym exact for either sign."""
    config = Phi4FlowConfig(L=4, n_layers=2, hidden=(4,))
    model = build_flow(config, seed=0)
    with torch.no_grad():
        for layer in model.flow.layers:  # a flow that is not symmetric under phi -> -phi
            torch.nn.init.normal_(layer.conditioner.net[-1].weight, std=0.3)
            torch.nn.init.normal_(layer.conditioner.net[-1].bias, mean=0.5, std=0.1)
    phi, log_q_sym = sample_symmetrised(model, 400, seed=3)
    plain, _ = sample_flow(model, 400, seed=3)
    flipped = (phi != plain).any(dim=(1, 2))
    assert torch.equal(phi[flipped], -plain[flipped]) and 0.4 < float(flipped.double().mean()) < 0.6
    with torch.no_grad():
        want = torch.logaddexp(model.log_prob(phi), model.log_prob(-phi)).double() - math.log(2)
    assert torch.allclose(log_q_sym, want, atol=1e-4)
    sym = flow_mcmc(model, 400, seed=3, symmetrise=True)
    assert torch.equal(sym.phi, phi) and torch.allclose(sym.log_q, log_q_sym)
