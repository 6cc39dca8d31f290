"""Affine coupling layers: invertible, and their log-determinant is the autograd Jacobian's."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from course_utils.flows import (
    AffineCoupling,
    CouplingFlow,
    checkerboard_mask,
    standard_normal_log_prob,
)


class _Conditioner(nn.Module):
    """A small MLP on flat 2-D events: (n, 2) -> (n, 4) = (s, t)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 4))

    def forward(self, x):
        return self.net(x)


def _flow_2d() -> CouplingFlow:
    torch.manual_seed(0)
    masks = [torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])] * 2
    return CouplingFlow([AffineCoupling(m, _Conditioner()) for m in masks], (2,)).double()


def test_checkerboard_masks_are_complements():
    a, b = checkerboard_mask((1, 4, 4), 0), checkerboard_mask((1, 4, 4), 1)
    assert a.shape == (1, 4, 4) and torch.equal(a + b, torch.ones(1, 4, 4))
    assert a[0, 0, 0] == 1 and a[0, 0, 1] == 0 and a[0, 1, 0] == 0
    with pytest.raises(ValueError, match="parity"):
        checkerboard_mask((4, 4), 2)


def test_the_flow_inverts_and_its_log_det_is_the_jacobians():
    flow = _flow_2d()
    z = torch.randn(5, 2, dtype=torch.float64)
    x, log_det = flow(z)
    back, inv_log_det = flow.inverse(x)
    assert torch.allclose(back, z, atol=1e-10) and torch.allclose(inv_log_det, -log_det, atol=1e-10)
    for k in range(len(z)):  # brute force: the 2 x 2 Jacobian of g at each z from autograd
        jacobian = torch.autograd.functional.jacobian(lambda v: flow(v[None])[0][0], z[k])
        assert torch.isclose(torch.linalg.slogdet(jacobian).logabsdet, log_det[k], atol=1e-10)


def test_log_prob_of_samples_matches_the_change_of_variables():
    flow = _flow_2d()
    x, log_q = flow.sample(7, torch.Generator().manual_seed(1))
    assert x.dtype == torch.float64 and log_q.shape == (7,)
    assert torch.allclose(flow.log_prob(x), log_q, atol=1e-8)


def test_standard_normal_log_prob():
    z = torch.zeros(3, 4)
    expected = -0.5 * 4 * torch.log(torch.tensor(2 * torch.pi))
    assert torch.allclose(standard_normal_log_prob(z), expected.expand(3))
