"""Checks for notebook 05 (scoring with the MMD).

* ``check_mmd2_unbiased(my_mmd2_unbiased)`` -- the unbiased MMD^2 with the Gaussian kernel of
  bandwidth h;
* ``check_permutation_test(my_permutation_test)`` -- a permutation test by hand: the null from given
  permutations and p = (1 + #{null >= observed}) / (1 + B).
"""
from __future__ import annotations

import torch

from ..scoring.mmd import mmd2, permutation_p_value
from .verdict import StudentError, as_tensor, call, checker, close_number, generator

__all__ = ["check_mmd2_unbiased", "check_permutation_test"]


def _kernel(a: torch.Tensor, b: torch.Tensor, h: float, squared: bool = True,
            two: bool = True) -> torch.Tensor:
    d = torch.cdist(a, b)
    return torch.exp(-(d**2 if squared else d) / ((2 if two else 1) * h**2))


def _reference(X: torch.Tensor, Y: torch.Tensor, h: float) -> float:
    """The package's unbiased MMD^2, Gaussian kernel exp(-|x - y|^2 / (2 h^2)), in float64."""
    return mmd2(X, Y, kernel="gaussian", bandwidth=h, estimator="unbiased", dtype=torch.float64)


def _mmd2(X, Y, h, unbiased=True, cross=2.0, squared=True, two=True, offdiag_n2=False) -> float:
    """The mistakes' estimators: the kernel and the averages written out, one variant per flag."""
    kxx, kyy = _kernel(X, X, h, squared, two), _kernel(Y, Y, h, squared, two)
    kxy = _kernel(X, Y, h, squared, two)
    n, m = len(X), len(Y)
    if offdiag_n2:
        xx = (kxx.sum() - kxx.diagonal().sum()) / n**2
        yy = (kyy.sum() - kyy.diagonal().sum()) / m**2
    elif unbiased:
        xx = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
        yy = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    else:
        xx, yy = kxx.mean(), kyy.mean()
    return float(xx + yy - cross * kxy.mean())


def _number(value, what: str) -> float:
    g = as_tensor(value, what)
    if g.numel() != 1:
        raise AssertionError(f"{what} should be a single number, got shape {tuple(g.shape)}")
    return float(g.reshape(()))


@checker("the unbiased MMD^2")
def check_mmd2_unbiased(my_mmd2_unbiased) -> str:
    gen = generator(50)
    X = torch.randn(12, 3, generator=gen, dtype=torch.float64)
    Y = torch.randn(9, 3, generator=gen, dtype=torch.float64) * 1.3 + 1.0
    h = 1.7
    got = _number(call(my_mmd2_unbiased, X.clone(), Y.clone(), h,
                       what="my_mmd2_unbiased(X, Y, h)"), "my_mmd2_unbiased")
    want = _reference(X, Y, h)
    mistakes = {
        "this keeps the i = j terms k(x_i, x_i) = 1: that is the biased estimator (the "
        "lecture's); the unbiased one averages over i != j, dividing by n (n - 1)":
            _mmd2(X, Y, h, unbiased=False),
        "the cross term misses its factor 2: - 2 mean k(x_i, y_j)": _mmd2(X, Y, h, cross=1.0),
        "the kernel is exp(-|x - y|^2 / (2 h^2)): this one has no 2 in the denominator":
            _mmd2(X, Y, h, two=False),
        "the kernel takes the squared distance |x - y|^2, not the distance":
            _mmd2(X, Y, h, squared=False),
        "this is MMD, the square root; the exercise asks for MMD^2":
            want ** 0.5 if want > 0 else float("nan"),
        "the off-diagonal sums are divided by n^2 instead of n (n - 1)":
            _mmd2(X, Y, h, offdiag_n2=True),
    }
    for description, value in mistakes.items():
        matches = abs(got - value) < 1e-8 + 1e-6 * abs(value)
        if value == value and matches and abs(value - want) > 1e-8:
            raise AssertionError(f"my_mmd2_unbiased: {description}")
    close_number(got, want, "my_mmd2_unbiased", rtol=1e-6, atol=1e-9)
    same = _number(call(my_mmd2_unbiased, X[:6].clone(), X[6:].clone(), h,
                        what="my_mmd2_unbiased"), "my_mmd2_unbiased")
    close_number(same, _reference(X[:6], X[6:], h),
                 "my_mmd2_unbiased on two halves of the same sample")
    return (f"MMD^2_u = {want:.5f} on 12 vs 9 random points (h = {h}); two halves of one sample "
            f"give {same:+.5f} (the unbiased estimator can be negative)")


def _statistic(a: torch.Tensor, b: torch.Tensor) -> float:
    """A cheap two-sample statistic with ties: the distance of the means, rounded to 0.1."""
    return float(torch.round(10 * (a.mean(0) - b.mean(0)).norm()) / 10)


def _p_values(X, Y, perms):
    Z, n = torch.cat([X, Y]), len(X)
    observed = _statistic(X, Y)
    null = torch.tensor([_statistic(Z[p[:n]], Z[p[n:]]) for p in perms], dtype=torch.float64)
    m = len(Y)
    null_m = torch.tensor([_statistic(Z[p[:m]], Z[p[m:]]) for p in perms], dtype=torch.float64)
    B = len(perms)
    right = permutation_p_value(observed, null)
    return right, {
        "without the +1s: p = (1 + #{null >= observed}) / (1 + B), which is never 0 and is a "
        "valid p-value": float((null >= observed).sum() / B),
        "the denominator is 1 + B (the observed split counts as one of the B + 1 splits), not B":
            float((1 + (null >= observed).sum()) / B),
        "ties count against the null hypothesis: use null >= observed, not null > observed":
            float((1 + (null > observed).sum()) / (1 + B)),
        "the split is the wrong way round: the first len(X) permuted points play X":
            float((1 + (null_m >= observed).sum()) / (1 + B)),
        "this is the fraction of the null *below* the observed statistic; p counts "
        "null >= observed": float((1 + (null <= observed).sum()) / (1 + B)),
    }


@checker("a permutation test by hand")
def check_permutation_test(my_permutation_test) -> str:
    gen = generator(51)
    verdicts = []
    for shift in (1.0, 0.0):
        X = torch.randn(8, 2, generator=gen, dtype=torch.float64)
        Y = torch.randn(12, 2, generator=gen, dtype=torch.float64) + shift
        perms = torch.stack([torch.randperm(20, generator=gen) for _ in range(99)])
        what = "my_permutation_test(X, Y, statistic, perms)"
        got = call(my_permutation_test, X.clone(), Y.clone(), _statistic, perms.clone(), what=what)
        if isinstance(got, tuple):
            raise StudentError(f"{what} should return the p-value only, got a tuple of {len(got)}")
        p = _number(got, "my_permutation_test")
        want, mistakes = _p_values(X, Y, perms)
        for description, value in mistakes.items():
            if abs(p - value) < 1e-6 and abs(value - want) > 1e-6:
                raise AssertionError(f"my_permutation_test: {description}")
        if not 0 < p <= 1:
            raise AssertionError(f"a p-value lies in (0, 1]; my_permutation_test gave {p:.4g}")
        close_number(p, want, f"the p-value (mean shift {shift})", rtol=1e-6, atol=1e-9)
        verdicts.append(p)
    return (f"p = {verdicts[0]:.2f} for shifted samples and {verdicts[1]:.2f} for samples of one "
            "distribution, with 99 given permutations")
