"""benchmarks/gan_throughput.py: both training loops run on a few images with today's API (a
change of ``train_gan``'s signature once broke the benchmark without any test noticing)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch

from course_utils.data import write_mnist_raw

ROOT = Path(__file__).resolve().parents[1]


def _benchmark():
    sys.path.insert(0, str(ROOT / "benchmarks"))  # the benchmark imports its sibling _results
    try:
        spec = importlib.util.spec_from_file_location(
            "benchmarks_gan_throughput", ROOT / "benchmarks" / "gan_throughput.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


def test_both_loops_train_and_report_images_per_second(tmp_path):
    bench = _benchmark()
    images = torch.rand(128, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    ours = bench.ours(images, 1, torch.device("cpu"))
    assert ours > 0
    pixels = ((images.reshape(-1, 28, 28) + 1) * 127.5).round().to(torch.uint8).numpy()
    for train in (True, False):  # as the benchmark writes them: torchvision wants both splits
        write_mnist_raw(tmp_path, pixels, torch.zeros(len(images)).numpy(), train=train)
    lecture = bench.lecture_loop(str(tmp_path), 1, torch.device("cpu"))
    assert lecture > 0
