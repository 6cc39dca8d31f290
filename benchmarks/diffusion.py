"""Sampling speed and quality: ancestral DDPM with T steps vs DDIM with 50 and 20 steps, one checkpoint.

Usage (after notebook 07 or ``python -m course_utils train ddpm --out ddpm.pt``):

    python benchmarks/diffusion.py [--checkpoint PATH] [-n 200] [--threads 2]

Prints seconds, images/second, the project classifier's mean confidence and the Frechet distance
in classifier features against real test digits, and the DDPM/DDIM time ratio.
Goal (issue 4): DDIM-50 at least 15x faster than DDPM-1000, Frechet distance no more than 10% above it.
"""
from __future__ import annotations

import argparse
import time

import torch

from course_utils.data import load_mnist, split_of
from course_utils.diffusion import ddim_sample, ddpm_sample, load_ddpm
from course_utils.paths import artifacts_dir
from course_utils.profiles import get_profile
from course_utils.scoring import classifier_features, classify_samples, frechet_distance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=str(artifacts_dir() / get_profile().name / "ddpm.pt"))
    parser.add_argument("-n", type=int, default=200, help="images per sampler")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, schedule, _ = load_ddpm(args.checkpoint, "cpu")
    real, _ = split_of(load_mnist(train=False, n=max(args.n, 500)))
    f_real = classifier_features(real)
    rows = []
    for name, run in [
        (f"DDPM-{schedule.T}", lambda: ddpm_sample(model, (args.n, 1, 28, 28), schedule, seed=0, progress=False, clip=1.0)),
        ("DDIM-50", lambda: ddim_sample(model, (args.n, 1, 28, 28), schedule, 50, seed=0, progress=False, clip=1.0)),
        ("DDIM-20", lambda: ddim_sample(model, (args.n, 1, 28, 28), schedule, 20, seed=0, progress=False, clip=1.0)),
    ]:
        start = time.perf_counter()
        x = run().clamp(-1, 1)
        seconds = time.perf_counter() - start
        fd = float(frechet_distance(f_real, classifier_features(x)))
        rows.append((name, seconds, classify_samples(x).mean_confidence, fd))
    print(f"{'sampler':<10} {'seconds':>9} {'img/s':>8} {'confidence':>11} {'FD':>8} {'speed-up':>9}")
    for name, seconds, conf, fd in rows:
        print(f"{name:<10} {seconds:9.1f} {args.n / seconds:8.1f} {conf:11.3f} {fd:8.2f} {rows[0][1] / seconds:8.1f}x")
    print(f"DDIM-50 vs DDPM: {rows[0][1] / rows[1][1]:.1f}x faster, FD ratio {rows[1][3] / rows[0][3]:.2f}")


if __name__ == "__main__":
    main()
