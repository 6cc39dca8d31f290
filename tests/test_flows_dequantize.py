"""Dequantisation, the logit map and bits per dimension, checked by hand on tiny cases."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils.flows import (
    bits_per_dim,
    dequantize,
    inverse_logit_transform,
    logit_transform,
    quantize,
)
from course_utils.flows.coupling import standard_normal_log_prob


def _all_levels() -> torch.Tensor:
    return (2 * torch.arange(256, dtype=torch.float64) / 255 - 1).reshape(1, 256)


def test_dequantised_pixels_fill_their_bins_and_quantize_undoes_it():
    x = _all_levels().expand(50, 256)
    y = dequantize(x, torch.Generator().manual_seed(0))
    k = torch.arange(256, dtype=torch.float64)
    assert bool(((y >= k / 256) & (y < (k + 1) / 256)).all())
    assert torch.equal(quantize(y), x)


def test_logit_transform_inverts_and_its_log_det_is_the_derivative():
    y = torch.rand(4, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    z, log_det = logit_transform(y, alpha=0.05)
    assert torch.allclose(inverse_logit_transform(z, 0.05), y, atol=1e-12)
    for k in range(len(y)):  # a diagonal Jacobian: sum of log dz_i / dy_i from autograd
        jacobian = torch.autograd.functional.jacobian(
            lambda v: logit_transform(v[None], 0.05)[0][0], y[k]
        )
        assert torch.isclose(log_det[k], torch.linalg.slogdet(jacobian).logabsdet, atol=1e-10)
    with pytest.raises(ValueError, match="alpha"):
        logit_transform(y, 0.5)


def test_bits_per_dim_of_simple_densities():
    # the uniform density on [0, 1)^D puts 1/256 on every bin of every pixel: 8 bits per pixel
    assert torch.allclose(bits_per_dim(torch.zeros(3), dims=784), torch.full((3,), 8.0))
    # a density 256^D on a single bin: P(k) = 1, zero bits
    assert torch.allclose(
        bits_per_dim(torch.full((2,), 10 * math.log(256)), dims=10), torch.zeros(2), atol=1e-12
    )


def test_bits_per_dim_bounds_the_exact_bin_probability_of_one_pixel():
    """One pixel, the density N(0, 1) on z = logit(alpha + (1 - 2 alpha) y): P(k) is a difference of
    normal CDFs at the bin's edges, and the dequantised bound E_u[bpd] is at least -log2 P(k) and
    close to it (the density is nearly flat within a bin)."""
    alpha = 0.05
    normal = torch.distributions.Normal(0.0, 1.0)
    for k in (0, 37, 128, 255):
        edges = torch.tensor([k / 256, (k + 1) / 256], dtype=torch.float64)
        z_edges, _ = logit_transform(edges[:, None], alpha)
        exact_bits = -math.log2(float(normal.cdf(z_edges[1]) - normal.cdf(z_edges[0])))
        x = torch.full((20_000, 1), 2 * k / 255 - 1, dtype=torch.float64)
        z, log_det = logit_transform(dequantize(x, torch.Generator().manual_seed(k)), alpha)
        bound = float(bits_per_dim(standard_normal_log_prob(z) + log_det, dims=1).mean())
        assert exact_bits <= bound + 1e-3 and bound - exact_bits < 0.01, (k, exact_bits, bound)
