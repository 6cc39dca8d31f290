"""The flow-matching model (the UNet of notebook 07 as a velocity) and notebook 07's shipped DDPM
sampled through its SDE and probability-flow ODE: recipes, one-line errors, training, samples."""

from __future__ import annotations

import math
from dataclasses import fields

import pytest
import torch

from course_utils import models
from course_utils.flows import (
    FM_SAMPLERS,
    FlowMatchingConfig,
    TimeScaled,
    build_flow_matching,
    guided_velocity,
    sample_flow_matching,
    sample_probability_flow,
    sample_reverse_sde,
    sampler_evaluations,
    sampling_labels,
    train_flow_matching,
)
from course_utils.pretrained import DIR as PRETRAINED

TINY = dict(channels=(8, 16), t_dim=16, train_steps=2, batch_size=4, warmup=1, n_train=8)


def _digits(n: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 28, 28, generator=g) * 2 - 1, torch.arange(n) % 10


def test_the_config_holds_the_whole_recipe_and_checks_it():
    names = {f.name for f in fields(FlowMatchingConfig)}
    assert {
        "n_train",
        "train_steps",
        "batch_size",
        "lr",
        "warmup",
        "ema_decay",
        "channels",
        "p_uncond",
        "time_sampling",
        "conditional",
    } <= names
    with pytest.raises(ValueError, match="time_sampling"):
        FlowMatchingConfig(time_sampling="beta")
    with pytest.raises(ValueError, match="p_uncond"):
        FlowMatchingConfig(p_uncond=1.0)
    with pytest.raises(TypeError, match="FlowMatchingConfig"):
        build_flow_matching({"channels": (8, 16)}, "cpu")


def test_time_scaled_network_sees_1000_t():
    seen = {}

    class Probe(torch.nn.Module):
        def forward(self, x, t, y=None):
            seen["t"], seen["y"] = t, y
            return x

    TimeScaled(Probe())(torch.zeros(3, 2), torch.tensor([0.0, 0.5, 1.0]), torch.tensor([1, 2, -1]))
    assert torch.equal(seen["t"], torch.tensor([0.0, 500.0, 1000.0])) and seen["y"].tolist() == [
        1,
        2,
        -1,
    ]


def test_guided_velocity_is_v_u_plus_w_times_the_difference():
    class Net(torch.nn.Module):  # v = x + 1 with a label, x - 1 without
        def forward(self, x, t, y):
            return x + torch.where(y >= 0, 1.0, -1.0)[:, None]

    x, t, labels = torch.zeros(4, 2), torch.full((4,), 0.3), torch.tensor([0, 1, 2, 3])
    for w in (0.0, 1.0, 3.0):
        assert torch.allclose(
            guided_velocity(Net(), labels, w)(x, t), torch.full((4, 2), -1.0 + 2 * w)
        )


def test_sampling_labels_and_their_errors():
    assert sampling_labels(10, 12, all_digits=True).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert sampling_labels(10, 3, digit=7).tolist() == [7, 7, 7] and sampling_labels(10, 3) is None
    with pytest.raises(ValueError, match="without labels"):
        sampling_labels(None, 3, digit=1)
    with pytest.raises(ValueError, match="not both"):
        sampling_labels(10, 3, digit=1, all_digits=True)
    with pytest.raises(ValueError, match="0..9"):
        sampling_labels(10, 3, digit=10)


def test_train_and_sample_a_tiny_flow_matching_model():
    images, labels = _digits()
    fm = build_flow_matching(FlowMatchingConfig(**TINY), "cpu")
    before = [p.clone() for p in fm.ema_model.parameters()]
    history = train_flow_matching(fm, images, labels, "cpu", progress=False, log_every=1)
    assert len(history["loss"]) == 2 and all(math.isfinite(v) for v in history["loss"])
    after = fm.ema_model.parameters()
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
    for solver in FM_SAMPLERS:
        x = sample_flow_matching(
            fm, 5, "cpu", seed=0, steps=2, solver=solver, all_digits=True, guidance=2.0
        )
        assert (
            x.shape == (5, 1, 28, 28) and x.min() >= -1 and x.max() <= 1 and x.device.type == "cpu"
        )
    for solver in FM_SAMPLERS:  # one seed, one draw (the ancestral step's noise included)
        a = sample_flow_matching(fm, 3, "cpu", seed=1, steps=2, digit=4, solver=solver)
        same = sample_flow_matching(fm, 3, "cpu", seed=1, steps=2, digit=4, solver=solver)
        other = sample_flow_matching(fm, 3, "cpu", seed=2, steps=2, digit=4, solver=solver)
        assert torch.equal(a, same) and not torch.equal(a, other), solver
    with pytest.raises(ValueError, match="one label per training image"):
        train_flow_matching(fm, images, None, "cpu", progress=False)
    with pytest.raises(ValueError, match="solver"):
        sample_flow_matching(fm, 2, "cpu", solver="rk4")
    assert [sampler_evaluations(s, 5) for s in ("euler", "heun", "ancestral")] == [5, 10, 5]
    assert sampler_evaluations("heun", 5, euler_last=True) == 9
    unconditional = build_flow_matching(FlowMatchingConfig(**TINY, conditional=False), "cpu")
    train_flow_matching(unconditional, images, None, "cpu", progress=False)
    with pytest.raises(ValueError, match="without labels"):
        sample_flow_matching(unconditional, 2, "cpu", digit=3)


def test_the_shipped_ddpm_samples_through_its_sde_and_its_ode():
    ddpm = models.load(PRETRAINED / "ddpm.pt", device="cpu").model
    labels = torch.tensor([3, 8])
    for sample in (sample_reverse_sde, sample_probability_flow):
        x = sample(
            ddpm.ema_model,
            ddpm.schedule,
            (2, 1, 28, 28),
            3,
            device="cpu",
            seed=0,
            labels=labels,
            clip=1.0,
        )
        assert x.shape == (2, 1, 28, 28) and bool(torch.isfinite(x).all())
