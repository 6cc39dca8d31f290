"""MMD against ground truth: closed forms, an exact identity, and the lecture's own code."""
from __future__ import annotations

import importlib.util
import io
import math
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import torch

from course_utils.scoring import MMDScorer, compute_score, kernels, mmd2
from course_utils.scoring.tiling import DEFAULT_MEMORY_BUDGET

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) + (
    ["mps"] if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else [])


def _lecture():
    """The lecture's transcribed MMD code (benchmarks/lecture_mmd.py), imported by path."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "lecture_mmd.py"
    spec = importlib.util.spec_from_file_location("lecture_mmd", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lecture_score(fake, real, sigma=1.0, device="cpu"):
    module = _lecture()
    module.device = torch.device(device)
    with redirect_stdout(io.StringIO()):  # the lecture prints its score
        return module.compute_score(fake, real, sigma=sigma)


def gaussian_expectation(var_sum: float, delta2: float, d: int, h: float = 1.0) -> float:
    """E exp(-|x - y|^2 / (2 h^2)) for x - y ~ N(delta, var_sum * I_d): the Gaussian integral."""
    return (h * h / (h * h + var_sum)) ** (d / 2) * math.exp(-delta2 / (2 * (h * h + var_sum)))


# --- closed forms ---------------------------------------------------------------------------


def test_gaussian_closed_forms_are_the_issue_numbers():
    one_d = 2 * gaussian_expectation(2, 0, 1) - 2 * gaussian_expectation(2, 1, 1)
    assert one_d == pytest.approx(0.1772676349, abs=1e-10)
    two_d = (gaussian_expectation(2, 0, 2) + gaussian_expectation(4, 0, 2)
             - 2 * gaussian_expectation(3, 0, 2))
    assert two_d == pytest.approx(1 / 30, abs=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "d, scale_y, shift, truth",
    [(1, 1.0, 1.0, 0.1772676349),          # N(0, 1) vs N(1, 1), h = 1
     (2, math.sqrt(2.0), 0.0, 1 / 30)],    # N(0, I) vs N(0, 2 I), h = 1
)
def test_unbiased_mmd2_matches_gaussian_closed_form(device, d, scale_y, shift, truth):
    g = torch.Generator().manual_seed(1234)
    reps, n = 20, 400
    est = []
    for _ in range(reps):
        x = torch.randn(n, d, generator=g)
        y = torch.randn(n, d, generator=g) * scale_y + shift / math.sqrt(d)
        est.append(mmd2(x.to(device), y.to(device), bandwidth=1.0))
    est = torch.tensor(est, dtype=torch.float64)
    se = float(est.std() / math.sqrt(reps))
    assert abs(float(est.mean()) - truth) < 4 * se, (float(est.mean()), truth, se)


def test_biased_mmd2_has_the_predicted_bias():
    """E[MMD^2_b] = MMD^2 + (1 - E k(x,x'))/n + (1 - E k(y,y'))/m: why the
    lecture's score has a floor."""
    g = torch.Generator().manual_seed(7)
    n, m, reps = 300, 64, 30
    ekxx = gaussian_expectation(2, 0, 1)
    truth = 0.1772676349 + (1 - ekxx) / n + (1 - ekxx) / m
    est = torch.tensor([mmd2(torch.randn(n, 1, generator=g), torch.randn(m, 1, generator=g) + 1,
                             bandwidth=1.0, estimator="biased") for _ in range(reps)],
                       dtype=torch.float64)
    se = float(est.std() / math.sqrt(reps))
    assert abs(float(est.mean()) - truth) < 4 * se


# --- an exact identity ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-10), (None, 1e-5)])
def test_linear_kernel_identity(dtype, rtol):
    """MMD^2_u with k(x, y) = x.y equals |mean x - mean y|^2 - tr(S_x)/n - tr(S_y)/m exactly."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(97, 13, generator=g) + 0.5, 2 * torch.randn(41, 13, generator=g)
    x64, y64 = x.double(), y.double()
    truth = float(((x64.mean(0) - y64.mean(0)) ** 2).sum()
                  - torch.cov(x64.T).trace() / len(x) - torch.cov(y64.T).trace() / len(y))
    assert mmd2(x, y, kernel="linear", dtype=dtype, block_size=16) == pytest.approx(truth, rel=rtol)


# --- the lecture's code -----------------------------------------------------------------------


@pytest.mark.parametrize("n, m, d, sigma",
                         [(300, 64, 784, 1.0), (120, 90, 5, 0.5), (50, 200, 20, 2.0)])
def test_compute_score_equals_the_lecture_code(n, m, d, sigma):
    g = torch.Generator().manual_seed(n + m + d)
    real = torch.rand(n, d, generator=g) * 2 - 1
    fake = torch.rand(m, d, generator=g).pow(2) * 2 - 1
    expected = lecture_score(fake, real, sigma)
    assert compute_score(fake, real, sigma=sigma) == pytest.approx(expected, rel=2e-5)
    assert (compute_score(fake, real, sigma=sigma, dtype=torch.float64)
            == pytest.approx(expected, rel=2e-5))


def test_compute_score_on_images_equals_the_lecture_code():
    g = torch.Generator().manual_seed(3)
    real = torch.rand(150, 1, 28, 28, generator=g) * 2 - 1
    fake = (real[:64] + 0.3 * torch.randn(64, 1, 28, 28, generator=g)).clamp(-1, 1)
    assert compute_score(fake, real) == pytest.approx(lecture_score(fake, real), rel=2e-5)


@pytest.mark.parametrize("device", DEVICES)
def test_scorer_returns_compute_score_exactly(device):
    g = torch.Generator().manual_seed(11)
    real = (torch.rand(200, 30, generator=g) * 2 - 1).to(device)
    scorer = MMDScorer(real, sigma=1.5)
    for m in (1, 2, 64):
        fake = (torch.rand(m, 30, generator=g) * 2 - 1).to(device)
        assert scorer.score(fake) == pytest.approx(compute_score(fake, real, sigma=1.5), rel=1e-12,
                                                   abs=1e-15)
    fake = torch.rand(64, 30, generator=g) * 2 - 1
    assert scorer.mmd2(fake.to(device)) == pytest.approx(
        mmd2(real, fake.to(device), bandwidth=scorer.bandwidth), rel=1e-9, abs=1e-12)
    assert (scorer.mmd2(fake.to(device), "biased")
            == pytest.approx(scorer.score(fake.to(device)) ** 2, rel=1e-9))


def test_mean_bandwidth_is_the_lecture_scale():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(60, 7, generator=g)
    lecture_scale = float(_lecture().distance(x, x, False).double().mean())
    assert kernels.mean_squared_distance(x) == pytest.approx(lecture_scale, rel=1e-5)
    assert MMDScorer(x).bandwidth == pytest.approx(math.sqrt(lecture_scale), rel=1e-5)


def test_real_kernel_mean_is_the_mean_over_distinct_pairs():
    """The E k(x, x') behind the floor, against the Gaussian integral and a brute-force mean."""
    g = torch.Generator().manual_seed(9)
    x = torch.randn(400, 3, generator=g)
    scorer = MMDScorer(x)
    k = torch.exp(-torch.cdist(x.double(), x.double()) ** 2 / (2 * scorer.bandwidth**2))
    brute = float((k.sum() - k.trace()) / (400 * 399))
    assert scorer.real_kernel_mean == pytest.approx(brute, rel=1e-6)
    assert scorer.real_kernel_mean == pytest.approx(gaussian_expectation(2, 0, 3, scorer.bandwidth),
                                                    abs=0.02)


def test_median_bandwidth_is_the_median_pairwise_distance():
    x = torch.tensor([[0.0], [1.0], [3.0], [7.0]])  # distances 1, 3, 7, 2, 6, 4 -> median 3.5
    assert kernels.median_distance(x) == pytest.approx(3.5)
    assert kernels.resolve_bandwidths("median", x) == pytest.approx((3.5,))


def test_multi_scale_kernel_is_the_average_of_kernels():
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(40, 3, generator=g), torch.randn(30, 3, generator=g) + 0.2
    single = [mmd2(x, y, bandwidth=h, dtype=torch.float64) for h in (0.5, 1.0, 4.0)]
    multi = mmd2(x, y, bandwidth=[0.5, 1.0, 4.0], dtype=torch.float64)
    assert multi == pytest.approx(sum(single) / 3, rel=1e-10)


# --- symmetry and block-size invariance -------------------------------------------------------


@pytest.mark.parametrize("kernel, bandwidth", [("gaussian", 1.3), ("gaussian", [0.7, 3.0]),
                                               ("polynomial", None), ("linear", None)])
@pytest.mark.parametrize("estimator", ["unbiased", "biased"])
def test_mmd2_is_symmetric_for_a_fixed_kernel(kernel, bandwidth, estimator):
    g = torch.Generator().manual_seed(4)
    x, y = torch.randn(50, 6, generator=g), torch.randn(35, 6, generator=g) * 1.2
    a = mmd2(x, y, kernel, bandwidth, estimator, dtype=torch.float64)
    b = mmd2(y, x, kernel, bandwidth, estimator, dtype=torch.float64)
    assert a == pytest.approx(b, rel=1e-10, abs=1e-14)


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-12), (torch.float32, 1e-6)])
def test_results_do_not_depend_on_the_block_size(dtype, rtol):
    # MMD^2 is a small difference of kernel means of order 1: compare it to rtol in absolute terms.
    g = torch.Generator().manual_seed(8)
    real, fake = torch.randn(130, 20, generator=g), torch.randn(70, 20, generator=g) + 0.1
    ref = compute_score(fake, real, dtype=dtype)
    for opts in ({"block_size": 1000}, {"block_size": 17}, {"block_size": 64},
                 {"memory_budget": 4096}):
        assert compute_score(fake, real, dtype=dtype, **opts) == pytest.approx(ref, rel=rtol)
        assert MMDScorer(real, dtype=dtype, **opts).score(fake) == pytest.approx(ref, rel=rtol)
    for kernel, bw in (("gaussian", [1.0, 5.0]), ("polynomial", None)):
        ref2 = mmd2(real, fake, kernel, bw, dtype=dtype)
        for bs in (9, 50, 500):
            assert (mmd2(real, fake, kernel, bw, dtype=dtype, block_size=bs)
                    == pytest.approx(ref2, abs=rtol))


def test_tiles_stay_within_the_memory_budget(monkeypatch):
    """No n x n matrix: every tile fits the budget that was asked for."""
    seen = []
    original = kernels.kernel_tile

    def spy(*args, **kwargs):
        tile = original(*args, **kwargs)
        seen.append(tile.numel() * tile.element_size())
        return tile

    monkeypatch.setattr(kernels, "kernel_tile", spy)
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(600, 10, generator=g), torch.randn(300, 10, generator=g)
    budget = 64 * 1024
    compute_score(fake, real, memory_budget=budget)
    assert seen and max(seen) <= budget // 2  # two tile-sized buffers for a single-bandwidth kernel
    assert len(seen) > 3
    seen.clear()
    compute_score(fake, real)
    assert max(seen) <= DEFAULT_MEMORY_BUDGET // 2


def test_a_perfect_generator_scores_zero_only_with_the_unbiased_estimator():
    g = torch.Generator().manual_seed(21)
    pool = torch.randn(2000, 5, generator=g)
    real, fakes = pool[:1000], pool[1000:]
    scorer = MMDScorer(real)
    floors = [scorer.score(fakes[i * 64:(i + 1) * 64]) for i in range(10)]
    unbiased = [scorer.mmd2(fakes[i * 64:(i + 1) * 64]) for i in range(10)]
    assert min(floors) > 0.03  # the biased floor, sqrt((1 - E k(y,y')) / 64) ~ 0.08 here
    assert abs(sum(unbiased) / 10) < 3 * float(torch.tensor(unbiased).std()) / math.sqrt(10)
