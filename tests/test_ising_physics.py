"""Physics of the 2-D Ising model (course_utils.ising): exact results,
Monte Carlo, observables, data."""
import math

import numpy as np
import pytest
import torch

from course_utils.ising import (
    T_C,
    energy_per_spin,
    exact_enumeration,
    histogram_edges,
    integrated_autocorrelation_time,
    ising_dataset,
    kaufman,
    log_partition_function,
    measure,
    onsager_energy_per_spin,
    onsager_magnetisation,
    onsager_specific_heat_per_spin,
    profile_dataset,
    sample_configurations,
    specific_heat_per_spin,
    wolff_step_numpy,
)
from course_utils.ising.data import cache_path
from course_utils.profiles import get_profile


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Small tensors: on a busy 2-core machine torch's second thread
    makes these tests 5-10x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


TEMPS = (1.0, 1.8, 2.2, T_C, 2.3, 2.6, 3.5, 6.0)  # both sides of T_c, and T_c itself
MC_TEMPS = (1.5, 2.0, 2.269, 2.5, 3.5)


# ------------------------------------------------------------------------------------------ exact

@pytest.mark.parametrize("L", [2, 3, 4])
def test_kaufman_equals_exact_enumeration(L):
    for T in TEMPS:
        log_z, e, c = kaufman(L, T)
        ref = exact_enumeration(L, T)
        assert abs(log_z - ref["log_z"]) < 1e-10, (L, T)
        assert abs(e - ref["e"]) < 1e-10, (L, T)
        assert abs(c - ref["c"]) < 1e-10, (L, T)


def test_enumeration_limits_and_vectorised_api():
    cold, hot = exact_enumeration(4, 0.2), exact_enumeration(4, 1e4)
    assert cold["e"] == pytest.approx(-2.0, abs=1e-12)
    assert cold["abs_m"] == pytest.approx(1.0, abs=1e-12)
    assert cold["m4"] == pytest.approx(1.0, abs=1e-12)
    assert cold["c"] == pytest.approx(0.0, abs=1e-12)
    # 2^N states, all equally likely
    assert hot["log_z"] == pytest.approx(16 * math.log(2), abs=1e-3)
    assert hot["m2"] == pytest.approx(1 / 16, abs=1e-3)  # independent spins: <m^2> = 1/N
    temps = np.array([1.5, 2.5, 3.5])
    np.testing.assert_allclose(log_partition_function(6, temps), [kaufman(6, t)[0] for t in temps],
                               rtol=0, atol=0)
    assert energy_per_spin(6, temps).shape == (3,)
    assert specific_heat_per_spin(6, temps).shape == (3,)
    with pytest.raises(ValueError, match="at most 4"):
        exact_enumeration(5, 2.0)
    with pytest.raises(ValueError, match="temperature"):
        kaufman(8, -1.0)


@pytest.mark.parametrize("T", [1.7, T_C, 3.0])
def test_kaufman_derivatives_agree_with_a_finite_difference(T):
    L, h = 16, 2e-4  # fourth-order central differences in beta of log Z and of e
    N, beta = L * L, 1 / T

    def log_z(b):
        return kaufman(L, 1 / b)[0]

    def e(b):
        return kaufman(L, 1 / b)[1]

    d1 = (-log_z(beta + 2 * h) + 8 * log_z(beta + h) - 8 * log_z(beta - h)
          + log_z(beta - 2 * h)) / (12 * h)
    de = (-e(beta + 2 * h) + 8 * e(beta + h) - 8 * e(beta - h) + e(beta - 2 * h)) / (12 * h)
    _, e0, c0 = kaufman(L, T)
    assert e0 == pytest.approx(-d1 / N, abs=1e-8)
    assert c0 == pytest.approx(-beta ** 2 * de, abs=1e-6)  # c = -beta^2 de/dbeta


def test_onsager_critical_temperature_and_magnetisation():
    assert T_C == pytest.approx(2.269185314213022, abs=1e-14)
    assert math.sinh(2 / T_C) == pytest.approx(1.0, abs=1e-14)  # self-duality sinh 2K_c = 1
    assert onsager_magnetisation(T_C) == 0.0 and onsager_magnetisation(3.0) == 0.0
    assert onsager_magnetisation(2.0) == pytest.approx(0.911319, abs=1e-6)  # literature value
    assert onsager_magnetisation(1.0) == pytest.approx(0.999276, abs=1e-6)
    t = T_C * (1 - np.array([1e-6, 1e-5]))  # m ~ (T_c - T)^(1/8)
    m = onsager_magnetisation(t)
    assert math.log(m[1] / m[0]) / math.log(10) == pytest.approx(1 / 8, abs=1e-3)
    assert np.all(np.diff(onsager_magnetisation(np.linspace(0.5, 2.26, 30))) < 0)


def test_onsager_energy_and_specific_heat_are_the_large_lattice_limit():
    assert onsager_energy_per_spin(T_C) == pytest.approx(-math.sqrt(2), abs=1e-15)
    # exponentially small finite-size corrections away from T_c at L = 128
    for T in (1.5, 2.0, 3.0):
        _, e, c = kaufman(128, T)
        assert onsager_energy_per_spin(T) == pytest.approx(e, abs=1e-9)
        assert onsager_specific_heat_per_spin(T) == pytest.approx(c, abs=1e-8)
    assert onsager_energy_per_spin(T_C * 1.001) == pytest.approx(-math.sqrt(2), abs=1e-2)
    # ~ (8/pi K_c^2) ln L
    assert specific_heat_per_spin(64, T_C) > specific_heat_per_spin(32, T_C) + 0.3


# ------------------------------------------------------------------------------------ Monte Carlo

def test_tau_int_of_an_ar1_series():
    rng = np.random.default_rng(1)
    for rho in (0.0, 0.6, 0.9):
        x = np.zeros((20_000, 16))
        noise = rng.standard_normal(x.shape)
        for t in range(1, len(x)):
            x[t] = rho * x[t - 1] + noise[t]
        tau, window = integrated_autocorrelation_time(x)
        assert tau == pytest.approx((1 + rho) / (2 * (1 - rho)), rel=0.06), rho
        assert window >= 5 * tau
    assert integrated_autocorrelation_time(np.ones(100))[0] == 0.5


@pytest.fixture(scope="module")
def mc16():
    return {T: sample_configurations(16, T, 1_500, seed=11 + i, chains=96, num_threads=1) for i,
            T in enumerate(MC_TEMPS)}


@pytest.mark.parametrize("T", MC_TEMPS)
def test_monte_carlo_reproduces_the_exact_energy_and_specific_heat(mc16, T):
    configs, report = mc16[T]
    assert configs.dtype == torch.int8 and configs.shape == (1_500, 16, 16)
    assert report["thin"] >= 2 * max(report["pilot_tau"], 0.5)
    assert report["burn_in"] >= 20 * report["pilot_tau"]
    _, e, c = kaufman(16, T)
    obs = measure(configs, T)
    assert abs(obs["e"].value - e) < 3 * obs["e"].error, (obs["e"], e)
    assert abs(obs["c"].value - c) < 3 * obs["c"].error, (obs["c"], c)
    assert abs(obs["balance"].value - 0.5) < 3 * obs["balance"].error + 1e-9
    assert obs["e"].error < 0.01 and obs["c"].error < 0.1 * c + 0.03  # informative error bars


@pytest.mark.parametrize("T", [1.5, 2.0])
def test_the_sign_of_m_is_independent_between_consecutive_rows(mc16, T):
    # rows are chain by chain, thin steps apart; Wolff reverses m nearly every step
    configs, report = mc16[T]
    per_chain = report["per_chain"]
    whole = (len(configs) // per_chain) * per_chain  # the last chain may be cut short
    sign = torch.sign(configs[:whole].double().sum((1, 2))).reshape(-1, per_chain)
    product = (sign[:, 1:] * sign[:, :-1]).flatten()
    assert abs(float(product.mean())) < 4 / math.sqrt(len(product))


def test_wolff_and_metropolis_each_sample_the_exact_distribution_at_L4():
    ref = exact_enumeration(4, T_C)
    for algorithm in ("wolff", "metropolis"):
        configs, _ = sample_configurations(4, T_C, 2_000, seed=5, chains=100, algorithm=algorithm,
                                           num_threads=1)
        obs = measure(configs, T_C)
        for key in ("e", "abs_m", "m2"):
            assert abs(obs[key].value - ref[key]) < 3.5 * obs[key].error, (algorithm, key)
    rng = np.random.default_rng(0)  # the explicit-stack reference version
    spins = np.ones((4, 4), dtype=np.int8)
    abs_m = []
    for _ in range(3_000):
        wolff_step_numpy(spins, 1 / T_C, rng)
        abs_m.append(abs(spins.mean()))
    series = np.array(abs_m[200:])
    tau = integrated_autocorrelation_time(series)[0]
    error = series.std() * math.sqrt(2 * tau / len(series))
    assert abs(series.mean() - ref["abs_m"]) < 3.5 * error


def test_sampling_is_deterministic_for_a_seed():
    threads = torch.get_num_threads()
    # torch's own thread count
    a, ra = sample_configurations(8, 2.0, 64, seed=3, chains=16, burn_in=20, pilot=40)
    # num_threads=1 gives the same numbers
    b, rb = sample_configurations(8, 2.0, 64, seed=3, chains=16, burn_in=20, pilot=40,
                                  num_threads=1)
    c, _ = sample_configurations(8, 2.0, 64, seed=4, chains=16, burn_in=20, pilot=40, num_threads=1)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.get_num_threads() == threads  # restored
    assert ra["thin"] == rb["thin"] and ra["tau_e"] == rb["tau_e"]
    assert set(torch.unique(a).tolist()) == {-1, 1}
    with pytest.raises(ValueError, match="even"):
        sample_configurations(7, 2.0, 10, seed=0)


# ------------------------------------------------------------------------------------ observables

def test_observables_of_known_configurations():
    up = torch.ones(10, 1, 6, 6, dtype=torch.int8)
    obs = measure(up, 2.0)
    assert obs["abs_m"].value == 1.0 and obs["e"].value == -2.0 and obs["balance"].value == 1.0
    assert obs["U4"].value == pytest.approx(2 / 3, abs=1e-15)
    assert obs["c"].value == 0.0 and obs["chi"].value == 0.0 and obs["e"].error == 0.0
    assert torch.equal(obs["G"].value, torch.ones(4, dtype=torch.float64))
    hist, edges = obs["m_hist"].value, histogram_edges(6)
    assert len(edges) == len(hist) + 1 == 38 and hist[-1] == 1.0 and hist.sum() == 1.0
    assert edges[-2] < 1.0 < edges[-1] and edges[0] < -1.0 < edges[1]
    assert measure(-up, 2.0)["balance"].value == 0.0 and measure(-up, 2.0)["e"].value == -2.0
    stripes = torch.ones(4, 6, 6)
    stripes[:, :, ::2] = -1  # columns alternate: m = 0, vertical bonds +, horizontal bonds -
    neel = stripes.clone()
    neel[:, ::2] *= -1  # checkerboard: every bond antiparallel
    assert measure(neel, 2.0)["e"].value == 2.0 and measure(stripes, 2.0)["e"].value == 0.0
    # m = +1 x10, 0 x2, -1 x4
    mixed = torch.cat([up[:, 0].float(), stripes[:2], -up[:4, 0].float()])
    assert measure(mixed, 2.0)["balance"].value == pytest.approx(11 / 16)  # m == 0 counts one half


def test_random_spins_have_no_correlations_and_all_inputs_agree():
    gen = torch.Generator().manual_seed(0)
    spins = torch.where(torch.rand(2_000, 16, 16, generator=gen) < 0.5, -1, 1).to(torch.int8)
    obs = measure(spins, 3.0)
    G, err = obs["G"]
    assert G[0] == 1.0 and err[0] == 0.0
    assert torch.all((G[1:]).abs() < 4 * err[1:]) and torch.all(G[1:].abs() < 0.01)
    assert abs(obs["e"].value) < 4 * obs["e"].error
    assert obs["m2"].value == pytest.approx(1 / 256, rel=0.1)  # independent spins: N <m^2> = 1
    assert obs["U4"].value == pytest.approx(0.0, abs=0.05)  # Gaussian m
    few = spins[:100]
    ref = measure(few, 3.0)["chi"]
    for other in (few.float(), few.unsqueeze(1), few.numpy(), few.double().unsqueeze(1)):
        assert measure(other, 3.0)["chi"] == ref


@pytest.mark.parametrize("bad, message", [
    (torch.randint(0, 2, (5, 4, 4)), "exactly -1 or \\+1.*2 \\* x - 1"),
    (torch.full((5, 4, 4), 0.5), "exactly -1 or \\+1"),
    (torch.tensor([[[1.0, float("nan")], [1.0, 1.0]]] * 3), "exactly -1 or \\+1"),
    (torch.ones(5, 2, 4, 4), "one channel"),
    (torch.ones(5, 4, 6), "square"),
    (torch.ones(4, 4), "shape"),
    ([[[1, -1], [1, 1]]], "torch tensor or numpy array"),
    (torch.ones(1, 4, 4), "at least 2"),
    (torch.ones(5, 4, 4, dtype=torch.bool), "dtype"),
])
def test_bad_inputs_raise_readable_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        measure(bad, 2.0)


def test_bad_temperature_raises():
    with pytest.raises(ValueError, match="temperature"):
        measure(torch.ones(3, 4, 4), 0.0)


# ------------------------------------------------------------------------------------------- data

def test_dataset_shapes_report_and_cache():
    ds = ising_dataset(4, (2.0, 3.0), 40, seed=1, num_threads=1)
    x, t = ds.tensors
    assert x.dtype == torch.float32 and x.shape == (80, 1, 4, 4)
    assert set(x.unique().tolist()) == {-1.0, 1.0}
    assert t.dtype == torch.float32 and t[:40].eq(2.0).all() and t[40:].eq(3.0).all()
    assert ds.source == "monte carlo" and set(ds.report) == {2.0, 3.0}
    assert {"tau_abs_m", "tau_e", "thin", "sweeps", "seconds"} <= set(ds.report[2.0])
    assert cache_path(4, (2.0, 3.0), 40, 1).exists()
    again = ising_dataset(4, (2.0, 3.0), 40, seed=1, num_threads=1)
    assert again.source.startswith("cache ") and torch.equal(again.tensors[0], x)
    assert again.report == ds.report
    # a temperature's data do not depend on the others
    alone = ising_dataset(4, (3.0,), 40, seed=1, cache=False, num_threads=1)
    assert alone.source == "monte carlo" and torch.equal(alone.tensors[0], x[40:])
    with pytest.raises(ValueError, match="distinct"):
        ising_dataset(4, (2.0, 2.0), 10, seed=0)


def test_profile_rows_and_smoke_dataset():
    rows = [get_profile(name) for name in ("smoke", "laptop", "full")]
    assert [p.ising_L for p in rows] == [8, 16, 32]
    assert all(2.269 in p.ising_temperatures for p in rows)
    assert rows[1].ising_n_configs >= 2_000
    ds = profile_dataset(num_threads=1)  # the tests run the smoke profile
    assert ds.tensors[0].shape == (5 * rows[0].ising_n_configs, 1, 8, 8)
