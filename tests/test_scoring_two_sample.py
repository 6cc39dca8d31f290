"""Permutation test, KID, Frechet distance and 1-NN accuracy against independent references."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.scoring import (
    RangeMismatchWarning,
    frechet_distance,
    frechet_distance_from_moments,
    kernels,
    kid,
    mmd2,
    mmd_permutation_test,
    one_nn_accuracy,
)

# --- permutation test -----------------------------------------------------------------------


def test_permutation_statistics_equal_mmd2_of_the_permuted_splits():
    """The fast K0 @ w trick against brute force: each null value is MMD^2_u of one relabelling."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(12, 3, generator=g), torch.randn(9, 3, generator=g) + 0.5
    result = mmd_permutation_test(x, y, n_permutations=25, seed=3, block_size=5)
    pooled = torch.cat([x, y])
    h = kernels.median_distance(pooled)  # the bandwidth comes from the pooled sample
    assert result.statistic == pytest.approx(mmd2(x, y, bandwidth=h, dtype=torch.float64), rel=1e-5)
    replay = torch.Generator().manual_seed(3)
    for b in range(25):
        idx = torch.randperm(len(pooled), generator=replay)
        is_x = torch.zeros(len(pooled), dtype=torch.bool)
        is_x[idx[: len(x)]] = True
        brute = mmd2(pooled[is_x], pooled[~is_x], bandwidth=h, dtype=torch.float64)
        assert float(result.null[b]) == pytest.approx(brute, rel=1e-5, abs=1e-7)
    expected_p = (1 + int((result.null >= result.statistic).sum())) / 26
    assert result.p_value == pytest.approx(expected_p)


def test_permutation_test_is_calibrated_under_the_null():
    """When X and Y come from the same distribution, p < 0.05 about 5% of the time."""
    g = torch.Generator().manual_seed(2024)
    trials, p_values = 300, []
    for t in range(trials):
        x, y = torch.randn(15, 2, generator=g), torch.randn(15, 2, generator=g)
        p_values.append(mmd_permutation_test(x, y, n_permutations=99, seed=t).p_value)
    p = np.array(p_values)
    se = math.sqrt(0.05 * 0.95 / trials)
    assert abs((p < 0.05).mean() - 0.05) < 3.5 * se
    assert abs(p.mean() - 0.5) < 4 * math.sqrt(1 / 12 / trials)  # p ~ uniform on (0, 1]


def test_permutation_test_detects_a_shift_and_p_is_never_zero():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(60, 4, generator=g), torch.randn(60, 4, generator=g) + 0.8
    result = mmd_permutation_test(x, y, n_permutations=199, seed=0)
    assert result.p_value == pytest.approx(1 / 200)
    assert len(result.null) == 199


def test_permutation_test_does_not_depend_on_the_block_size():
    g = torch.Generator().manual_seed(9)
    x, y = torch.randn(40, 3, generator=g), torch.randn(30, 3, generator=g) + 0.2
    a = mmd_permutation_test(x, y, 50, seed=1, dtype=torch.float64)
    b = mmd_permutation_test(x, y, 50, seed=1, dtype=torch.float64, block_size=7,
                             memory_budget=200_000)
    assert a.p_value == b.p_value
    torch.testing.assert_close(a.null, b.null, rtol=1e-10, atol=1e-12)


# --- KID against torchmetrics ----------------------------------------------------------------


def test_polynomial_mmd2_equals_torchmetrics_poly_mmd():
    from torchmetrics.image.kid import poly_mmd

    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(80, 16, generator=g), torch.rand(80, 16, generator=g) * 1.1
    ours = mmd2(x, y, kernel="polynomial", dtype=torch.float64)
    assert ours == pytest.approx(float(poly_mmd(x.double(), y.double())), rel=1e-10)


def test_kid_equals_torchmetrics_kernel_inception_distance():
    """Same features fed to torchmetrics' KID through an identity 'feature extractor'."""
    from torchmetrics.image.kid import KernelInceptionDistance

    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(70, 12, generator=g), torch.rand(50, 12, generator=g) + 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchmetrics warns that it keeps all features in memory
        metric = KernelInceptionDistance(feature=nn.Identity(), subsets=8, subset_size=30)
    metric.update(x, real=True)
    metric.update(y, real=False)
    torch.manual_seed(5)  # torchmetrics draws its subsets from the global generator
    tm_mean, tm_std = metric.compute()
    ours = kid(x, y, subsets=8, subset_size=30, seed=5)
    assert ours.mean == pytest.approx(float(tm_mean), rel=1e-4)
    assert ours.std == pytest.approx(float(tm_std), rel=1e-3)


def test_kid_with_full_subsets_is_the_polynomial_mmd2():
    g = torch.Generator().manual_seed(3)
    x, y = torch.rand(40, 5, generator=g), torch.rand(40, 5, generator=g)
    result = kid(x, y, subsets=3, subset_size=40, dtype=torch.float64)
    assert result.mean == pytest.approx(mmd2(x, y, "polynomial", dtype=torch.float64), rel=1e-10)
    assert result.std == pytest.approx(0.0, abs=1e-12)


# --- Frechet distance ------------------------------------------------------------------------


def test_frechet_distance_closed_form_for_commuting_covariances():
    """Diagonal covariances: FD = |dmu|^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2."""
    a, b = torch.tensor([1.0, 4.0, 0.25]), torch.tensor([9.0, 1.0, 0.25])
    mu_x, mu_y = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, 1.0, 0.0])
    truth = 1 + 4 + ((a.sqrt() - b.sqrt()) ** 2).sum().item()
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(0)).double())
    # A common rotation keeps the covariances commuting and the distance unchanged.
    rot = lambda m: q @ torch.diag(m).double() @ q.T  # noqa: E731
    assert (frechet_distance_from_moments(mu_x, torch.diag(a), mu_y, torch.diag(b))
            == pytest.approx(truth, rel=1e-12))
    assert (frechet_distance_from_moments(q @ mu_x.double(), rot(a), q @ mu_y.double(), rot(b))
            == pytest.approx(truth, rel=1e-10))


def test_frechet_distance_matches_the_sqrtm_formula():
    from scipy import linalg

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6)) @ rng.normal(size=(6, 6))
    y = rng.normal(size=(150, 6)) @ rng.normal(size=(6, 6)) + 0.5
    mu_x, mu_y = x.mean(0), y.mean(0)
    cov_x, cov_y = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    reference = ((mu_x - mu_y) ** 2).sum() + np.trace(cov_x + cov_y - 2
                                                      * linalg.sqrtm(cov_x @ cov_y).real)
    assert (frechet_distance(torch.from_numpy(x), torch.from_numpy(y))
            == pytest.approx(reference, rel=1e-8))
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-10)


def test_frechet_distance_of_a_set_to_itself_is_zero_even_when_singular():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(10, 30, generator=g)  # fewer samples than features: singular covariance
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(x, torch.randn(12, 30, generator=g)) > 0


# --- 1-NN two-sample accuracy ----------------------------------------------------------------


def test_one_nn_accuracy_on_hand_made_sets():
    x = torch.tensor([[0.0], [0.1], [0.2]])
    far = torch.tensor([[5.0], [5.1], [5.3]])
    with pytest.warns(RangeMismatchWarning):  # [0, 0.2] vs [5, 5.3]: fair warning, still computed
        assert one_nn_accuracy(x, far).accuracy == 1.0  # every neighbour is of the same kind
    copies = x + 1e-3  # a generator that memorised the reals
    assert one_nn_accuracy(x, copies).accuracy == 0.0
    result = one_nn_accuracy(torch.tensor([[0.0], [1.0], [2.0], [3.0]]),
                             torch.tensor([[10.0], [0.4]]))
    # reals: 0 -> 0.4 (fake, wrong), 1 -> 0.4 (wrong), 2 -> 1, 3 -> 2: 2/4; fakes: 10
    # -> 3 (wrong), 0.4 -> 0 (wrong)
    assert result == pytest.approx((0.25, 0.5, 0.0))


def test_one_nn_accuracy_is_about_one_half_for_equal_distributions_and_block_invariant():
    g = torch.Generator().manual_seed(4)
    x, y = torch.randn(400, 3, generator=g), torch.randn(300, 3, generator=g)
    result = one_nn_accuracy(x, y)
    assert abs(result.accuracy - 0.5) < 0.06
    assert one_nn_accuracy(x, y, block_size=37) == result
    assert one_nn_accuracy(x, y + 3).accuracy > 0.95
