"""The sampler metrics of an autoregressive Ising network against exact enumeration (L = 4)."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils.ising import exact_enumeration, hamiltonian
from course_utils.ising.autoregressive import (
    IsingAR,
    IsingARConfig,
    log_prob,
    sample_ar,
    sampler_metrics,
)


def _states(L: int) -> torch.Tensor:
    codes = torch.arange(2 ** (L * L))
    bits = (codes[:, None] >> torch.arange(L * L)) & 1
    return (2.0 * bits - 1).reshape(-1, 1, L, L)


def test_variational_free_energy_and_ess_agree_with_the_sum_over_all_states():
    torch.manual_seed(0)
    L, T = 4, 8.0  # hot: p is close to the nearly uniform q of a small read-out, ESS is large
    model = IsingAR(IsingARConfig(size=L, temperatures=(T,), hidden=8)).eval()
    with torch.no_grad():
        model.body[-1].weight.mul_(0.2)
    states = _states(L)
    with torch.no_grad():
        log_q = log_prob(model, states, torch.tensor(T), symmetric=True).double()
    q = log_q.exp()
    energy = hamiltonian(states[:, 0].double())
    F_q_exact = float((q * (energy + T * log_q)).sum()) / (L * L)
    log_w = -energy / T - log_q
    ess_exact = float(
        torch.exp(2 * torch.logsumexp(log_w + log_q, 0) - torch.logsumexp(2 * log_w + log_q, 0))
    )
    F_exact = -T * exact_enumeration(L, T)["log_z"] / (L * L)

    got = sampler_metrics(model, T, n=4000, device="cpu", seed=1)
    assert abs(got["F_q"] - F_q_exact) < 4 * got["F_q_error"]
    assert got["F"] == pytest.approx(F_exact, rel=1e-9)  # Kaufman's F at L = 4 is the enumeration's
    assert F_q_exact > F_exact and got["rel_F"] == pytest.approx(
        (got["F_q"] - F_exact) / abs(F_exact)
    )
    assert got["ess"] == pytest.approx(ess_exact, rel=0.1)  # ESS of 4,000 draws vs (E w)^2 / E w^2
    assert 0 < got["acceptance"] < 1 and got["tau_abs_m"] >= 0.5 and math.isfinite(got["tau_e"])


def test_sampling_keeps_its_random_stream_on_the_cpu():
    """The device fix draws all uniforms on the model's device; on the CPU the stream is unchanged:
    the first row's spins follow from torch.rand with the seed, as before the fix."""
    model = IsingAR(IsingARConfig(size=4, temperatures=(2.0,), hidden=8)).eval()
    a = sample_ar(model, torch.full((3,), 2.0), seed=7)
    b = sample_ar(model, torch.full((3,), 2.0), "cpu", seed=7)
    assert torch.equal(a, b)
    gen = torch.Generator().manual_seed(7)
    uniform = torch.rand(3, 16, generator=gen)
    flips = torch.where(torch.rand(3, generator=gen) < 0.5, -1.0, 1.0)
    with torch.no_grad():
        x = a.reshape(3, 16) * flips[:, None]  # undo the random flip
        p_up = torch.sigmoid(model.logits(x, torch.full((3,), 2.0)))
    assert torch.equal(x, torch.where(uniform < p_up, 1.0, -1.0))
