"""benchmarks/flows.py (issue 22): --quick on tiny models trained here; its NFE counting."""

from __future__ import annotations

import re

import pytest
import torch
from torch.utils.data import TensorDataset

from course_utils import models
from course_utils.device import cpu_threads
from tests.benchmark_loader import load_benchmark


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny networks: one torch thread (the benchmark's --threads 1 too), the caller's restored."""
    with cpu_threads(1):
        yield


@pytest.fixture(scope="module")
def tiny_checkpoints(tmp_path_factory, mnist_digits):
    """ddpm.pt, flow-matching.pt and realnvp.pt of the families' tiny configs (a few steps on 64
    digits)."""
    images, labels = mnist_digits
    data = TensorDataset(images[:64], labels[:64])
    data.source = "64 offline digits"
    folder = tmp_path_factory.mktemp("flow_checkpoints")
    with cpu_threads(1):
        for name in ("ddpm", "flow-matching", "realnvp"):
            trained = models.fit(
                name, models.get(name).tiny(), data=data, device="cpu", progress=False
            )
            models.save(folder / f"{name}.pt", trained)
    return folder


def test_flow_matching_at_a_given_nfe_is_the_familys_sampler(tiny_checkpoints):
    """Euler at K NFE and Heun at an even NFE are the family's (the scoreboard's) samples; Heun at
    an odd NFE ends with an Euler step and calls the network exactly that often."""
    flows = load_benchmark("flows")
    fm = models.load(tiny_checkpoints / "flow-matching.pt", "cpu", family="flow-matching")
    for solver, nfe, steps in (("euler", 5, 5), ("heun", 6, 3)):
        ours = flows.sample_flow_matching_nfe(fm.model, 10, solver, nfe)
        family = fm.sample(
            10, "cpu", seed=flows.SEED, steps=steps, solver=solver, all_digits=True, guidance=1.0
        )
        torch.testing.assert_close(ours, family)
    assert flows.heun_plan(5) == (3, True) and flows.heun_plan(10) == (5, False)
    with flows.counting(fm.model.ema_model) as calls:
        flows.sample_flow_matching_nfe(fm.model, 4, "heun", 5)
    assert calls[0] == 5


def test_quick_run_prints_the_table_and_the_goals(
    tiny_checkpoints, mnist_digits, monkeypatch, capsys
):
    flows = load_benchmark("flows")
    tiny_recipe = models.get("realnvp").tiny()
    real_recipe = models.recipe
    monkeypatch.setattr(
        models,
        "recipe",
        lambda name, profile=None, **kw: (
            tiny_recipe
            if name == "realnvp" and profile == "tiny"
            else real_recipe(name, profile, **kw)
        ),
    )
    images, labels = mnist_digits

    def offline(
        root=None, train=True, n=None
    ):  # the session's digits: no second parse of the files
        part = slice(0, 3_000) if train else slice(3_000, 3_200)
        data = TensorDataset(images[part][:n], labels[part][:n])
        data.source = f"offline digits ({'train' if train else 'held out'})"
        return data

    monkeypatch.setattr(flows, "load_mnist", offline)
    code = flows.main(
        [
            "--quick",
            "--checkpoints",
            str(tiny_checkpoints),
            "--threads",
            "1",
            "--no-progress",
            "--recipe-profile",
            "tiny",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    for sampler in ("DDPM ancestral (DDIM eta=1)", "DDIM eta=0", "FM Euler", "FM Heun"):
        assert len(re.findall(rf"^{re.escape(sampler)} +(5|50) ", out, re.M)) == 2, sampler
    assert re.search(r"^FM Heun +5 +3 ", out, re.M)  # 5 NFE: 2 Heun steps + 1 Euler step
    assert "3 steps x 8 = 24 images seen" in out
    assert "tiny recipe, trained here:" in out
    verdicts = re.findall(r"^(PASS|FAIL): (.*)$", out, re.M)
    assert [text[:3] for _, text in verdicts] == ["sam", "(a)", "(b)"]
    assert verdicts[0][0] == "PASS"  # the tiny DDPM and flow matching share UNet and budget
