"""benchmarks/gan_throughput.py and benchmarks/threads.py: their training work runs, briefly, with
today's API (a change of ``train_gan``'s signature once broke both without any test noticing)."""

from __future__ import annotations

import torch

from course_utils.data import write_mnist_raw
from tests.benchmark_loader import load_benchmark


def test_both_loops_train_and_report_images_per_second(tmp_path):
    bench = load_benchmark("gan_throughput")
    images = torch.rand(128, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    ours = bench.ours(images, 1, torch.device("cpu"))
    assert ours > 0
    pixels = ((images.reshape(-1, 28, 28) + 1) * 127.5).round().to(torch.uint8).numpy()
    for train in (True, False):  # as the benchmark writes them: torchvision wants both splits
        write_mnist_raw(tmp_path, pixels, torch.zeros(len(images)).numpy(), train=train)
    lecture = bench.lecture_loop(str(tmp_path), 1, torch.device("cpu"))
    assert lecture > 0


def test_every_work_item_of_the_threads_benchmark_runs():
    bench = load_benchmark("threads")
    for _, (fn, n) in bench.WORK.items():
        fn(max(1, n // 100))  # bench.timed would also set torch's threads for the whole process
