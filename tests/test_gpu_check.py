"""scripts/gpu_check.py, the parts a CPU can check: refusing without a GPU, the digits it uses, a
failing check reported as FAIL (``make test`` runs the whole script in its smallest setting)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import models
from course_utils.data import write_mnist_raw

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu_check.py"


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    yield module
    del sys.modules["gpu_check"]


def test_without_a_gpu_it_refuses_in_one_line_unless_the_cpu_is_asked_for(gpu_check, monkeypatch,
                                                                           capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert gpu_check.main([]) == 2
    message = capsys.readouterr().err.strip()
    assert "no GPU here" in message and "--device cpu" in message and "\n" not in message
    assert gpu_check.main(["--device", "tpu"]) == 2
    assert "tpu" in capsys.readouterr().err
    assert gpu_check.main(["--device", "cpu", "--threads", "0"]) == 2


def test_the_stand_in_digits_have_mnists_form_and_say_what_they_are(gpu_check, tmp_path):
    data = gpu_check.load_digits(str(tmp_path), 30)  # no MNIST there
    images, labels = data.tensors
    assert images.shape == (30, 1, 28, 28) and images.dtype == torch.float32
    assert float(images.min()) >= -1 and float(images.max()) <= 1 and float(images.std()) > 0.1
    assert labels.tolist() == [i % 10 for i in range(30)]
    assert "synthetic stand-in" in data.source
    assert torch.equal(images, gpu_check.synthetic_digits(30).tensors[0]), "the same every run"
    assert not torch.equal(images[0], images[10]), "images of one class differ"


def test_real_digits_are_used_where_there_are_some_even_only_the_test_split(gpu_check, tmp_path):
    rng = np.random.default_rng(0)
    write_mnist_raw(tmp_path, rng.integers(0, 256, (20, 28, 28)), np.arange(20) % 10, train=False)
    data = gpu_check.load_digits(str(tmp_path), 12)
    assert len(data.tensors[0]) == 12 and "MNIST (test)" in data.source


def test_a_failing_check_is_a_fail_row_and_the_others_still_run(gpu_check):
    report = gpu_check.Report()

    def broken() -> str:
        gpu_check.expect(False, "the samples differ | badly\nsecond line")
        return "never"

    report.run("family", "broken", broken)
    report.run("family", "fine", lambda: "ok")
    assert [r.passed for r in report.rows] == [False, True] and report.failed == report.rows[:1]
    assert report.rows[0].detail == "CheckFailed: the samples differ / badly"
    assert "**FAIL**" in report.table() and "| fine | PASS | ok |" in report.table()


def test_two_samplings_must_agree(gpu_check):
    a = torch.zeros(4, 1, 2, 2)
    assert "0.0e+00" in gpu_check.compare_samples(a, a.clone())
    with pytest.raises(gpu_check.CheckFailed, match="differ"):
        gpu_check.compare_samples(a, a + torch.eye(2))


@pytest.mark.parametrize("name", sorted(models.FAMILIES))
def test_every_sampling_option_variant_is_one_the_family_accepts(gpu_check, name):
    family = models.FAMILIES[name]
    for given in gpu_check.option_variants(family).values():
        family.options(**given)  # a type the family takes (a refusal of the combination is later)
