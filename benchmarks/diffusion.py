"""Sampling speed and quality: ancestral DDPM with T steps vs DDIM with
50 and 20 steps, one checkpoint.

Usage (the shipped DDPM by default; after notebook 07 in the laptop profile, its checkpoint; or
any made by ``python -m course_utils train ddpm --out ddpm.pt``):

    python benchmarks/diffusion.py [--checkpoint PATH] [-n 500] [--threads 2] [--ddim-steps 50 20]

Every sampler starts from the same x_T (seed 0), draws ``n`` digits without a label (the
unconditional model) and clips its x0-estimate to [-1, 1]. DDIM runs deterministic (eta = 0,
the issue's sampler) and stochastic (eta = 1). Printed per sampler: seconds, images/second, the
project classifier's mean confidence, and two distances to ``n`` held-out real digits in the
classifier's 64 features: the Frechet distance (FD, biased at this n, but alike for every
sampler) and the unbiased MMD^2 (median bandwidth). Goal (issue 4): DDIM-50 at least 15x faster
than DDPM-T at a score (FD) no more than 10% above DDPM's; PASS/FAIL lines say how each DDIM-50
fares. ``--ddim-steps 50 20 200 1000`` adds longer DDIM runs, which tell the error of few steps
from the difference between the deterministic (eta = 0) and the stochastic sampler.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings

import torch
from _results import recorded  # benchmarks/, the script's own folder

from course_utils import models, pretrained
from course_utils.data import MnistFallbackWarning, load_mnist, split_of
from course_utils.diffusion import ddim_sample, ddpm_sample
from course_utils.paths import artifacts_dir
from course_utils.profiles import get_profile
from course_utils.scoring import classifier_features, classify_samples, frechet_distance, mmd2

SPEED_GOAL, SCORE_GOAL = 15.0, 1.10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", default=None,
                        help="a DDPM checkpoint (default: the current profile's from notebook 07 "
                             "if there is one, else the shipped ddpm.pt)")
    parser.add_argument("-n", type=int, default=500, help="images per sampler (and held-out reals)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-root", default=None,
                        help="folder with MNIST/raw (default: $COURSE_DATA)")
    parser.add_argument("--ddim-steps", type=int, nargs="+", default=[50, 20],
                        help="DDIM step counts to run")
    args = parser.parse_args(argv)
    if args.checkpoint is None:
        trained = artifacts_dir() / get_profile().name / "ddpm.pt"
        args.checkpoint = str(trained if trained.exists() else pretrained.verify("ddpm"))
    with recorded("diffusion"):  # also into benchmarks/results/ (see _results.py)
        return measure(args)


def measure(args: argparse.Namespace) -> int:
    """Sample with every sampler, print the table and the verdicts."""
    torch.set_num_threads(args.threads)
    ddpm = models.load(args.checkpoint, "cpu", family="ddpm").model
    model, schedule = ddpm.ema_model, ddpm.schedule
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MnistFallbackWarning)
        test = load_mnist(root=args.data_root, train=False)
    real, _ = split_of(test)
    real = real[torch.randperm(len(real), generator=torch.Generator().manual_seed(0))[:args.n]]
    f_real = classifier_features(real)
    x_T = torch.randn((args.n, 1, 28, 28), generator=torch.Generator().manual_seed(0))
    shape = tuple(x_T.shape)
    samplers = [(f"DDPM-{schedule.T}",
                 lambda: ddpm_sample(model, shape, schedule, seed=0, progress=False, clip=1.0))]
    for eta in (0.0, 1.0):
        for steps in args.ddim_steps:
            samplers.append((f"DDIM-{steps}, eta={eta:g}", lambda s=steps, e=eta: ddim_sample(
                model, shape, schedule, s, x_T=x_T, seed=0, progress=False, clip=1.0, eta=e)))
    print(f"{args.n} samples per sampler (no label) against {len(real)} held-out digits "
          f"({test.source}); checkpoint {args.checkpoint}; {torch.get_num_threads()} threads")
    rows = []
    for name, run in samplers:
        start = time.perf_counter()
        x = run().clamp(-1, 1)
        seconds = time.perf_counter() - start
        f_fake = classifier_features(x)
        rows.append((name, seconds, classify_samples(x).mean_confidence,
                     float(frechet_distance(f_real, f_fake)),
                     float(mmd2(f_real, f_fake, bandwidth="median"))))
        print(f"  {name}: {seconds:.1f} s", flush=True)
    print(f"{'sampler':<16} {'seconds':>8} {'img/s':>7} {'confidence':>10} {'FD':>8} {'MMD2_u':>8} "
          f"{'speed-up':>8}")
    for name, seconds, conf, fd, mmd in rows:
        print(f"{name:<16} {seconds:8.1f} {args.n / seconds:7.1f} {conf:10.3f} {fd:8.1f} "
              f"{mmd:8.4f} {rows[0][1] / seconds:7.1f}x")
    ddpm = rows[0]
    for name, seconds, _, fd, _ in rows[1:]:
        if not name.startswith("DDIM-50"):
            continue
        speed, score = ddpm[1] / seconds, fd / ddpm[3]
        verdict = "PASS" if speed >= SPEED_GOAL and score <= SCORE_GOAL else "FAIL"
        print(f"{verdict}  {name}: {speed:.1f}x faster than {ddpm[0]} (goal >= {SPEED_GOAL:.0f}x), "
              f"FD {score:.2f} x DDPM's (goal <= {SCORE_GOAL:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
