"""One CPU thread or two for the course's tiny networks: the same work
timed both ways, side by side.

The 1-D GAN of notebook 01 (``train_toy_gan``), the 2-D score model of notebook 00b
(``train_score_model``), the 2-D MLP denoiser of notebook 06 (``train_diffusion``) and, for
contrast, one epoch of the lecture's MLP GAN on 4,000 random "digits" (``train_gan``). Their
operations take microseconds, so splitting them over threads costs more than it saves; on a
machine that is busy with other work (``--load``: one more process spinning on the other core)
the cost grows several-fold. Runs alternate between 1 and 2 threads (best of ``--repeats``) so
that background load hits both alike. Prints seconds and the ratio (2 threads / 1 thread: above
1 means one thread is faster); this is the measurement behind ``course_utils.device.cpu_threads``.

    python benchmarks/threads.py                 # quiet machine
    python benchmarks/threads.py --load          # with a busy-loop process on the other core
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import recorded  # noqa: E402  (benchmarks/, the script's own folder)

from course_utils.diffusion import make_schedule, train_diffusion  # noqa: E402
from course_utils.diffusion.toy_data import standardise, two_moons  # noqa: E402
from course_utils.diffusion.unet import MLPDenoiser  # noqa: E402
from course_utils.gan import build_gan, gan_config, make_optimizers, train_gan  # noqa: E402
from course_utils.gan.game import train_toy_gan  # noqa: E402
from course_utils.summary import score_matching as S  # noqa: E402


def toy_gan(steps: int) -> None:
    """Notebook 01's 1-D GAN; ``threads=None``: the thread count set by
    ``timed``, not its own choice."""
    train_toy_gan(steps=steps, progress=False, threads=None)


def score_model(steps: int) -> None:
    params = S.gmm_params(3, 3.0, 0.35, (0.5, 0.3, 0.2))
    pts = S.gmm_sample(params, 5_000, torch.Generator().manual_seed(0))
    S.train_score_model(S.ScoreNet(128), pts, S.noise_levels(6.0, 0.05, 10), steps, progress=False,
                        threads=None)


def denoiser(steps: int) -> None:
    moons = standardise(two_moons(2_000, noise=0.05, seed=0))
    train_diffusion(MLPDenoiser(dim=2, hidden=128), moons, make_schedule(1_000), steps=steps,
                    batch_size=256, lr=2e-3, warmup=50, ema_decay=0.995, seed=0, progress=False)


def mlp_gan_epoch(_: int) -> None:
    images = torch.rand(4_000, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    torch.manual_seed(0)
    config = gan_config(epochs=1, sample_epochs=())
    gen, disc = build_gan(config, "cpu")
    g_opt, d_opt = make_optimizers(gen, disc)
    train_gan(gen, disc, images, config, "cpu", g_optimizer=g_opt, d_optimizer=d_opt,
              progress=False)


WORK: dict[str, tuple[Callable[[int], None], int]] = {
    "1-D GAN (01), 500 steps": (toy_gan, 500),
    "2-D score model (00b), 500 steps": (score_model, 500),
    "2-D MLP denoiser (06), 500 steps": (denoiser, 500),
    "MLP GAN (03), 1 epoch of 4,000": (mlp_gan_epoch, 1),
}


def _spin(stop: mp.Event) -> None:  # type: ignore[valid-type]
    while not stop.is_set():
        pass


def timed(fn: Callable[[int], None], n: int, threads: int) -> float:
    torch.set_num_threads(threads)
    start = time.perf_counter()
    fn(n)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per setting, best kept (default 3)")
    parser.add_argument("--load", action="store_true",
                        help="run a busy-loop process beside the benchmark")
    args = parser.parse_args(argv)
    with recorded("threads_load" if args.load else "threads"):  # also into benchmarks/results/
        return measure(args)


def measure(args: argparse.Namespace) -> int:
    """Time every work item with one and two threads, print the table."""
    stop, spinner = mp.Event(), None
    if args.load:
        spinner = mp.Process(target=_spin, args=(stop,), daemon=True)
        spinner.start()
    print(f"{'work':<34} {'1 thread s':>10} {'2 threads s':>11} {'2 / 1':>6}   "
          f"({'with a busy process beside, ' if args.load else ''}load average "
          f"{os.getloadavg()[0]:.2f} before the run; best of {args.repeats})")
    try:
        for name, (fn, n) in WORK.items():
            fn(max(1, n // 10))  # warm-up
            best = {1: float("inf"), 2: float("inf")}
            for _ in range(args.repeats):
                for threads in (1, 2):
                    best[threads] = min(best[threads], timed(fn, n, threads))
            print(f"{name:<34} {best[1]:10.2f} {best[2]:11.2f} {best[2] / best[1]:5.1f}x",
                  flush=True)
    finally:
        stop.set()
        if spinner is not None:
            spinner.join(timeout=5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
