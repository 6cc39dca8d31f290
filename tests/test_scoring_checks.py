"""Bad inputs give a clear ValueError or warning that names the problem, never a torch traceback."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from course_utils.scoring import (
    MMDScorer,
    RangeMismatchWarning,
    compute_score,
    frechet_distance,
    kid,
    mmd2,
    mmd_permutation_test,
    one_nn_accuracy,
)
from course_utils.scoring.tiling import compute_dtype

g = torch.Generator().manual_seed(0)
REAL = torch.rand(40, 1, 28, 28, generator=g) * 2 - 1   # like load_mnist: [-1, 1]
FAKE = torch.rand(20, 1, 28, 28, generator=g) * 2 - 1
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) + (
    ["mps"] if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else [])

ALL_SCORES = [
    lambda x, y: compute_score(y, x),
    lambda x, y: MMDScorer(x).score(y),
    lambda x, y: mmd2(x, y),
    lambda x, y: mmd_permutation_test(x, y, n_permutations=5),
    lambda x, y: kid(x, y, subsets=2, subset_size=5),
    lambda x, y: frechet_distance(x, y),
    lambda x, y: one_nn_accuracy(x, y),
]


@pytest.mark.parametrize("score", ALL_SCORES)
def test_mismatched_feature_sizes(score):
    with pytest.raises(ValueError, match="features"):
        score(REAL, torch.rand(20, 1, 14, 14) * 2 - 1)


@pytest.mark.parametrize("score", ALL_SCORES)
@pytest.mark.parametrize("bad, word", [(float("nan"), "NaN"), (float("inf"), "inf")])
def test_nan_and_inf_are_named(score, bad, word):
    fake = FAKE.clone()
    fake[3, 0, 5, 5] = bad
    with pytest.raises(ValueError, match=word):
        score(REAL, fake)
    with pytest.raises(ValueError, match=word):
        score(fake, REAL)


@pytest.mark.parametrize("score", ALL_SCORES)
def test_empty_sets(score):
    with pytest.raises(ValueError, match="0 samples"):
        score(REAL, FAKE[:0])


def test_single_samples_where_pairs_are_needed():
    with pytest.raises(ValueError, match="at least 2"):
        mmd2(REAL, FAKE[:1])  # the unbiased estimator averages over distinct pairs
    with pytest.raises(ValueError, match="at least 2"):
        MMDScorer(REAL).mmd2(FAKE[:1])
    with pytest.raises(ValueError, match="at least 2"):
        compute_score(FAKE, REAL[:1])  # s, the lecture's scale, needs two reals
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(REAL, FAKE[:1])
    # ... but the biased estimator is defined for one fake
    assert mmd2(REAL, FAKE[:1], estimator="biased") > 0
    assert compute_score(FAKE[:1], REAL) > 0


def test_identical_reals_have_no_scale():
    with pytest.raises(ValueError, match="identical"):
        compute_score(FAKE, REAL[:1].repeat(5, 1, 1, 1))


def test_the_lecture_range_mistake_warns():
    fake01 = (FAKE + 1) / 2  # generated digits in [0, 1], reals in [-1, 1]: the lecture's mistake
    with pytest.warns(RangeMismatchWarning, match=r"\[0"):
        compute_score(fake01, REAL)
    with pytest.warns(RangeMismatchWarning):
        MMDScorer(REAL).score(fake01)
    with pytest.warns(RangeMismatchWarning):
        mmd2(REAL, REAL * 255)  # a scale mismatch


def test_matching_ranges_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compute_score(FAKE, REAL)
        compute_score(FAKE * 0.2, REAL)  # an untrained generator: small outputs of both signs
        mmd2((REAL + 1) / 2, (FAKE + 1) / 2)  # both in [0, 1]


def test_outputs_below_a_tenth_of_the_reals_magnitude_are_flagged():
    """What check_ranges' docstring promises: tiny outputs of both signs are a scale mismatch."""
    with pytest.warns(RangeMismatchWarning, match="range"):
        compute_score(FAKE * 0.05, REAL)


def test_tensors_that_require_grad_are_detached():
    fake = FAKE.clone().requires_grad_(True)
    scorer = MMDScorer(REAL)
    assert scorer.score(fake * 1.0) == pytest.approx(scorer.score(FAKE))
    assert (compute_score(fake, REAL.clone().requires_grad_(True))
            == pytest.approx(compute_score(FAKE, REAL)))


def test_numpy_input_and_one_dimensional_samples():
    assert compute_score(FAKE.numpy(), REAL.numpy()) == pytest.approx(compute_score(FAKE, REAL))
    x, y = np.linspace(-1, 1, 30), np.linspace(-0.8, 1, 25)  # 1-D: N samples of one number
    assert mmd2(x, y, bandwidth=1.0) == pytest.approx(
        mmd2(x.reshape(-1, 1), y.reshape(-1, 1), bandwidth=1.0))


@pytest.mark.parametrize(
    "kwargs, match",
    [({"kernel": "rbf"}, "kernel"),
     ({"estimator": "plugin"}, "estimator"),
     ({"bandwidth": "silverman"}, "bandwidth"),
     ({"bandwidth": -1.0}, "positive"),
     ({"bandwidth": []}, "empty"),
     ({"bandwidth": [1.0, float("nan")]}, "positive"),
     ({"kernel": "polynomial", "bandwidth": 1.0}, "no bandwidth"),
     ({"block_size": 0}, "block_size"),
     ({"memory_budget": 0}, "memory_budget"),
     ({"dtype": torch.float16}, "dtype")],
)
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mmd2(REAL, FAKE, **kwargs)


def test_bad_sigma_subset_size_and_permutations():
    with pytest.raises(ValueError, match="sigma"):
        compute_score(FAKE, REAL, sigma=0)
    with pytest.raises(ValueError, match="subset_size"):
        kid(REAL, FAKE, subsets=2, subset_size=25)  # only 20 fakes
    with pytest.raises(ValueError, match="n_permutations"):
        mmd_permutation_test(REAL, FAKE, n_permutations=0)


def test_not_a_tensor():
    with pytest.raises(ValueError, match="Tensor"):
        compute_score([[0.0, 1.0]], REAL)


@pytest.mark.parametrize("device", DEVICES)
def test_float64_numpy_input_is_cast_before_it_moves(device):
    """NumPy gives float64, which MPS cannot hold: the pooled tests cast and move in one step."""
    x64, y64 = REAL.double().numpy(), FAKE.double().numpy()
    t64 = mmd_permutation_test(x64, y64, n_permutations=20, device=device)
    t32 = mmd_permutation_test(REAL, FAKE, n_permutations=20, device=device)
    assert t64.statistic == pytest.approx(t32.statistic, rel=1e-5) and t64.p_value == t32.p_value
    assert one_nn_accuracy(x64, y64, device=device) == one_nn_accuracy(REAL, FAKE, device=device)


def test_float64_is_refused_on_mps_only():
    assert compute_dtype(torch.device("cpu"), torch.float64) == torch.float64
    assert compute_dtype(torch.device("mps")) == torch.float32
    with pytest.raises(ValueError, match="MPS"):
        compute_dtype(torch.device("mps"), torch.float64)
