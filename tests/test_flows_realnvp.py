"""Real-NVP: its exact log-likelihood against a brute-force Jacobian and against zuko, its density
integrates to one, and the MNIST model's recipe, bits per dimension, training and samples."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils.flows import (
    RealNVPConfig,
    build_realnvp,
    held_out_bpd,
    realnvp_2d,
    realnvp_image,
    sample_realnvp,
    standard_normal_log_prob,
    train_realnvp,
)


def _randomised(flow: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """A flow whose couplings are not the identity (fresh conditioners end in zeros)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in flow.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=generator, dtype=p.dtype))
    return flow


def test_2d_log_likelihood_equals_the_brute_force_jacobian():
    flow = _randomised(realnvp_2d(n_layers=4, hidden=16).double())
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    log_q = flow.log_prob(x)
    for k in range(
        len(x)
    ):  # log q(x) = log N(g^{-1}(x)) + log |det d g^{-1} / dx|, autograd's 2 x 2 Jacobian
        jacobian = torch.autograd.functional.jacobian(lambda v: flow.inverse(v[None])[0][0], x[k])
        z = flow.inverse(x[k : k + 1])[0]
        brute = standard_normal_log_prob(z)[0] + torch.linalg.slogdet(jacobian).logabsdet
        assert torch.isclose(log_q[k], brute, atol=1e-10), (k, float(log_q[k]), float(brute))


def test_2d_density_integrates_to_one():
    flow = _randomised(realnvp_2d(n_layers=4, hidden=16).double(), seed=2)
    grid = torch.linspace(-12, 12, 601, dtype=torch.float64)
    xx, yy = torch.meshgrid(grid, grid, indexing="ij")
    with torch.no_grad():
        q = flow.log_prob(torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)).exp()
    mass = float(q.sum()) * float(grid[1] - grid[0]) ** 2
    assert abs(mass - 1) < 5e-3, mass


def test_2d_log_density_agrees_with_zuko():
    zuko = pytest.importorskip("zuko")
    flow = _randomised(realnvp_2d(n_layers=4, hidden=16).double(), seed=3)
    bound = -math.log(1e-3)  # zuko's affine map soft-clips its log-scale a to a / (1 + |a| / bound)

    def zuko_coupling(layer):
        mask = layer.mask.bool()

        def meta(x_a):  # our coupling's inverse x -> z as zuko's f(x_b | x_a) = exp(a) x_b + b
            frozen = torch.zeros(*x_a.shape[:-1], 2, dtype=x_a.dtype)
            frozen[..., mask] = x_a
            s, t = (v[..., ~mask] for v in layer.scale_shift(frozen))
            log_scale = -s
            a = log_scale / (1 - log_scale.abs() / bound)  # the pre-image of the soft clip
            affine = zuko.transforms.MonotonicAffineTransform(-t * torch.exp(-s), a, slope=1e-3)
            return zuko.transforms.DependentTransform(affine, 1)  # one log-det per sample

        return zuko.transforms.CouplingTransform(meta, mask)

    transform = zuko.transforms.ComposedTransform(
        *[zuko_coupling(layer) for layer in reversed(flow.layers)]
    )
    base = zuko.distributions.DiagNormal(
        torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    )
    theirs = zuko.distributions.NormalizingFlow(transform, base)
    x = 2 * torch.randn(50, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(flow.log_prob(x), theirs.log_prob(x), atol=1e-9)


def test_image_flow_inverts_and_keeps_the_shape():
    flow = _randomised(realnvp_image((1, 6, 6), n_layers=2, hidden=8, n_blocks=1).double(), seed=5)
    x = torch.randn(3, 1, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    z, log_det = flow.inverse(x)
    back, forward_log_det = flow(z)
    assert z.shape == x.shape and torch.allclose(back, x, atol=1e-10)
    assert torch.allclose(log_det, -forward_log_det, atol=1e-10)


def test_bad_sizes_are_one_line_errors():
    with pytest.raises(ValueError, match="even number"):
        realnvp_2d(n_layers=3)
    with pytest.raises(ValueError, match="even number"):
        RealNVPConfig(n_layers=5)
    with pytest.raises(ValueError, match="alpha"):
        RealNVPConfig(alpha=0.5)
    with pytest.raises(TypeError, match="RealNVPConfig"):
        build_realnvp({"n_layers": 2}, "cpu")


def _digits(n: int = 8) -> torch.Tensor:
    levels = torch.randint(0, 256, (n, 1, 28, 28), generator=torch.Generator().manual_seed(7))
    return 2 * levels.float() / 255 - 1


def test_fresh_realnvp_bits_per_dim_is_the_per_pixel_gaussian_by_hand():
    """A fresh flow is the identity (its conditioners end in zeros), so each dequantised pixel y has
    log p(y) = log N(z; 0, 1) + log |dz/dy|, z = logit(alpha + (1 - 2 alpha) y), written out."""
    config = RealNVPConfig(n_layers=2, hidden=8, n_blocks=1, alpha=0.05)
    model = build_realnvp(config, "cpu").double()
    x = _digits(2).double()
    got = model.bits_per_dim(x, torch.Generator().manual_seed(8))
    u = torch.rand(x.shape, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    y = (torch.round((x + 1) * 255 / 2) + u) / 256
    s = 0.05 + 0.9 * y
    z = torch.log(s / (1 - s))
    log_p = -(z**2) / 2 - math.log(2 * math.pi) / 2 + math.log(0.9) - torch.log(s * (1 - s))
    want = (-log_p.sum(dim=(1, 2, 3)) / 784 + math.log(256)) / math.log(2)
    assert torch.allclose(got, want, atol=1e-9)


def test_train_evaluate_and_sample_a_tiny_realnvp():
    config = RealNVPConfig(
        n_layers=2, hidden=8, n_blocks=1, train_steps=3, batch_size=4, warmup=1, n_train=8
    )
    model = build_realnvp(config, "cpu")
    before = held_out_bpd(model, _digits(4), "cpu")
    history = train_realnvp(model, _digits(16), "cpu", progress=False, log_every=1)
    assert len(history["loss"]) == 3 and all(math.isfinite(v) for v in history["loss"])
    after = held_out_bpd(model, _digits(4), "cpu")
    assert math.isfinite(after) and after != before  # the EMA weights moved
    x = sample_realnvp(model, 5, "cpu", seed=0)
    assert x.shape == (5, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert torch.equal(x, sample_realnvp(model, 5, "cpu", seed=0))
    levels = (x + 1) * 255 / 2  # samples lie on the 256 grey levels of a digit
    assert torch.allclose(levels, levels.round(), atol=1e-4)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        train_realnvp(model, torch.zeros(4, 784), "cpu", progress=False)
