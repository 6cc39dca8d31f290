"""Benchmark: flow matching against the DDPM at equal network evaluations; the Real-NVP's bits/dim.

    python benchmarks/flows.py [--n 1000] [--threads 2] [--quick] [--skip-laptop]
                               [--checkpoints DIR] [--data-root DIR]

Issue 22. The shipped DDPM and the shipped flow-matching model are the same class-conditional UNet
(``SmallUNet``) trained with the same budget (optimiser steps x batch, printed from both
checkpoints' ``meta``). Each draws ``--n`` digits, the digits 0-9 in turn (p(x | y), guidance 1,
as the scoreboard's "digits 0-9" rows), starting from seed 0, with every sampler at 5, 10, 20 and
50 network evaluations (NFE):

* DDPM, ancestral: the DDIM step with eta = 1 on K evenly spaced steps, which *is* Ho et al.'s
  ancestral step on that sub-sequence (Song et al. 2021, eq. 16 with eta = 1: the posterior
  q(x_s | x_t, x0_hat) of the respaced chain); it is the scoreboard's sampler (eta = 1);
* DDIM, eta = 0: the deterministic DDIM (a discretisation of the probability-flow ODE);
* flow matching, Euler: K Euler steps of dx/dt = v(x, t, y) from t = 0 to 1, one NFE each;
* flow matching, Heun: two NFE per step; an odd budget ends with one Euler step (``solve_ode``'s
  ``euler_last``), so Heun at 5 NFE is two Heun steps and one Euler step;
* flow matching, ancestral: the DDPM's step on the linear path (``flows.paths.ancestral_step``,
  eta = 1: the forward chain's posterior given the velocity's x_1_hat), K steps on the same grid
  as Euler, one NFE each; with eta = 0 it would be Euler's step exactly.

NFE is counted, not assumed: a forward hook counts the network's calls during each run (one call
per evaluation; the whole batch in one call). Samplers run interleaved (all five at 5 NFE, then at
10, ...) so that background load hits them alike; one warm-up draw of 2 digits per model comes
first, as in the scoreboard. Each run is scored as the scoreboard scores (``score_images``):
the Frechet distance (FD) and the unbiased MMD^2 in the project classifier's 64 features against
``--n`` held-out real digits (the scoreboard's choice: test split, permutation of seed 0), the
classifier's mean confidence and the class spread; seconds are wall seconds per 1,000 digits (and
the process's CPU seconds, all threads, beside them).
A floor row scores ``--n`` real training digits the same way.

Goals (PASS/FAIL lines):

(a) flow matching with at most 20 NFE reaches an FD no worse than the DDPM's 50-NFE FD with the
    scoreboard's eta (= 1), in at most 40 % of its sampling time (same run);
(b) the shipped Real-NVP reaches at most 1.5 bits/dim on the held-out digits (every one of them,
    one dequantisation each, seed 0: ``flows.held_out_bpd``). Beside it, unless ``--skip-laptop``,
    the laptop profile's recipe (``models.recipe("realnvp", "laptop")``) is trained here and
    measured the same way (minutes).

``--quick`` (for the tests): 16 digits, NFE 5 and 50 only, no laptop Real-NVP unless asked.
``--checkpoints DIR`` loads ``ddpm.pt``, ``flow-matching.pt`` and ``realnvp.pt`` from DIR
instead of ``course_utils/pretrained/`` (models.load, weights_only). Like the other benchmarks it
prints its verdicts and exits 0; run as a script it also writes ``benchmarks/results/flows.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import print_checks, run_recorded
from course_utils import models, pretrained
from course_utils.data import MnistFallbackWarning, load_mnist, split_of
from course_utils.flows import (
    flow_matching_sampler,
    guided_velocity,
    held_out_bpd,
    sampler_evaluations,
    sampling_labels,
)
from course_utils.progress import tqdm
from course_utils.scoreboard import score_images
from course_utils.scoring import classifier_features

NFES = (5, 10, 20, 50)
QUICK_NFES = (5, 50)
QUICK_N = 16
SEED = 0
FM_NFE_MAX, TIME_RATIO, FD_REF_NFE = 20, 0.40, 50  # goal (a)
BPD_GOAL = 1.5  # goal (b)
SCOREBOARD_ETA = 1.0  # score_checkpoints' default eta
IMAGE_SHAPE = (1, 28, 28)


@dataclass
class Row:
    sampler: str
    model: str
    nfe: int
    steps: int
    seconds: float
    cpu_seconds: float
    scores: dict


@contextlib.contextmanager
def counting(network: nn.Module) -> Iterator[list[int]]:
    """Count the calls of ``network`` inside the block (a forward hook): ``count[0]``."""
    count = [0]

    def hook(*_: object) -> None:
        count[0] += 1

    handle = network.register_forward_hook(hook)
    try:
        yield count
    finally:
        handle.remove()


def heun_plan(nfe: int) -> tuple[int, bool]:
    """(steps, euler_last) of Heun at ``nfe`` evaluations: nfe / 2 Heun steps, or (nfe + 1) / 2
    steps whose last is an Euler step (one evaluation) when ``nfe`` is odd."""
    return (nfe + 1) // 2, nfe % 2 == 1


def sample_flow_matching_nfe(
    fm: nn.Module, n: int, solver: str, nfe: int, seed: int = SEED
) -> torch.Tensor:
    """``n`` digits 0-9 in turn from the flow-matching model at exactly ``nfe`` network
    evaluations: ``sample_flow_matching``'s draw (x_0, then any step noise, from one generator
    seeded with ``seed``; guidance 1) with Heun's optional final Euler step."""
    steps, euler_last = (nfe, False) if solver != "heun" else heun_plan(nfe)
    assert sampler_evaluations(solver, steps, euler_last) == nfe
    network = fm.ema_model.eval()
    labels = sampling_labels(network.num_classes, n, all_digits=network.num_classes is not None)
    generator = torch.Generator().manual_seed(seed)
    x0 = torch.randn((n, *IMAGE_SHAPE), generator=generator)
    velocity = guided_velocity(network, labels, 1.0)
    with torch.no_grad():
        x1 = flow_matching_sampler(velocity, x0, steps, solver, generator, euler_last=euler_last)
    return x1.clamp(-1, 1)


def ddpm_sampler(ddpm: models.Trained, eta: float, steps: int) -> Callable[[int], torch.Tensor]:
    """The scoreboard's way of drawing from the DDPM (``scoreboard_sampling`` with all_digits)."""
    _, options = ddpm.family.scoreboard_sampling(ddpm.config, True, steps, eta)
    return lambda n: ddpm.family.sample(ddpm.model, n, torch.device("cpu"), SEED, options)


def load_model(folder: Path, name: str) -> models.Trained:
    path = folder / pretrained.file_name(name)
    if not path.is_file():
        raise SystemExit(
            f"no {name} checkpoint at {path}: train it (scripts/pretrain.py --only {name}) "
            "or pass --checkpoints DIR"
        )
    return models.load(path, "cpu", family=name)


def budget(trained: models.Trained) -> tuple[int, int, str]:
    """(optimiser steps, batch size, where from): the checkpoint's meta, else its config."""
    recorded_budget = trained.meta.get("budget") or {}
    if "steps" in recorded_budget:
        return int(recorded_budget["steps"]), int(recorded_budget["batch_size"]), "meta"
    return int(trained.config.train_steps), int(trained.config.batch_size), "config (no meta)"


def describe(name: str, trained: models.Trained) -> str:
    steps, batch, source = budget(trained)
    c = trained.config
    took = trained.meta.get("seconds")
    return (
        f"{name}: UNet channels {tuple(c.channels)}, t_dim {c.t_dim}, conditional {c.conditional}; "
        f"{steps:,} steps x {batch} = {steps * batch:,} images seen (from {source})"
        + (f"; trained in {took / 60:.0f} min" if took else "")
    )


def real_digits(
    n: int, data_root: str | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, str]:
    """(n held-out digits as the scoreboard picks them, all held-out digits, n train digits,
    the data's source)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MnistFallbackWarning)
        test = load_mnist(root=data_root, train=False)
        train = load_mnist(root=data_root, train=True)
    held_out, _ = split_of(test)
    if n > len(held_out):
        raise SystemExit(f"--n {n} but only {len(held_out)} held-out digits ({test.source})")
    generator = torch.Generator().manual_seed(SEED)
    real = held_out[torch.randperm(len(held_out), generator=generator)[:n]]
    train_images, _ = split_of(train)
    floor = train_images[torch.randperm(len(train_images), generator=generator)[:n]]
    return real, held_out, floor, test.source


def compare_samplers(
    ddpm: models.Trained,
    fm: models.Trained,
    real: torch.Tensor,
    floor: torch.Tensor,
    nfes: tuple[int, ...],
    progress: bool = True,
) -> list[Row]:
    """Every sampler at every NFE, interleaved; each run timed, its NFE counted, its digits
    scored."""
    n = len(real)
    real_features = classifier_features(real, device="cpu")
    runs = []
    for nfe in nfes:
        runs += [
            (
                f"DDPM ancestral (DDIM eta={SCOREBOARD_ETA:g})",
                "ddpm",
                nfe,
                nfe,
                ddpm_sampler(ddpm, SCOREBOARD_ETA, nfe),
            ),
            ("DDIM eta=0", "ddpm", nfe, nfe, ddpm_sampler(ddpm, 0.0, nfe)),
            (
                "FM Euler",
                "fm",
                nfe,
                nfe,
                lambda k, nfe=nfe: sample_flow_matching_nfe(fm.model, k, "euler", nfe),
            ),
            (
                "FM Heun",
                "fm",
                nfe,
                heun_plan(nfe)[0],
                lambda k, nfe=nfe: sample_flow_matching_nfe(fm.model, k, "heun", nfe),
            ),
            (
                "FM ancestral (DDPM step)",
                "fm",
                nfe,
                nfe,
                lambda k, nfe=nfe: sample_flow_matching_nfe(fm.model, k, "ancestral", nfe),
            ),
        ]
    networks = {"ddpm": ddpm.model.ema_model, "fm": fm.model.ema_model}
    ddpm_sampler(ddpm, SCOREBOARD_ETA, 2)(2)  # warm-up: one-time costs are not sampling
    sample_flow_matching_nfe(fm.model, 2, "euler", 2)
    rows = [
        Row(
            "MNIST train digits (floor)",
            "real",
            0,
            0,
            float("nan"),
            float("nan"),
            score_images(floor, real, real_features, "cpu"),
        )
    ]
    bar = tqdm(runs, desc="samplers", disable=not progress)
    for label, model, nfe, steps, run in bar:
        bar.set_postfix(run=f"{label} {nfe}")
        with counting(networks[model]) as calls:
            start, cpu = time.perf_counter(), time.process_time()
            x = run(n)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        rows.append(
            Row(
                label,
                model,
                calls[0],
                steps,
                seconds,
                cpu,
                score_images(x.detach().float().cpu(), real, real_features, "cpu"),
            )
        )
        if calls[0] != nfe and not (model == "ddpm" and nfe > ddpm.config.T):
            raise AssertionError(f"{label} at {nfe} NFE called the network {calls[0]} times")
    return rows


def print_table(rows: list[Row], n: int) -> None:
    print(
        f"\n{'sampler':<30} {'NFE':>4} {'steps':>5} {'FD':>8} {'MMD2_u':>9} {'confidence':>10} "
        f"{'spread':>6} {'s / 1,000':>9} {'CPU s':>7}"
    )
    for r in rows:
        s = r.scores
        seconds = "" if r.model == "real" else f"{r.seconds * 1000 / n:9.1f}"
        cpu = "" if r.model == "real" else f"{r.cpu_seconds * 1000 / n:7.1f}"
        nfe = "" if r.model == "real" else f"{r.nfe:4d}"
        steps = "" if r.model == "real" else f"{r.steps:5d}"
        print(
            f"{r.sampler:<30} {nfe:>4} {steps:>5} {s['fd_features']:8.2f} "
            f"{s['mmd2_features']:9.5f} {s['confidence']:10.3f} {s['class_spread']:6.3f} "
            f"{seconds:>9} {cpu:>7}"
        )
    print(
        "NFE: network evaluations per digit, counted (a forward hook on the UNet; one call per "
        "evaluation for the whole batch). Euler, ancestral and DDPM/DDIM: one per step; Heun: two "
        "per step, and an odd NFE ends with one Euler step (Heun at 5 = 2 Heun steps + 1 Euler "
        "step). "
        "s / 1,000: wall seconds per 1,000 digits (the goal's time); CPU s: this process's CPU "
        "seconds per 1,000 digits, all threads (less sensitive to other work on the machine)."
    )
    for model, title in (("ddpm", "DDPM"), ("fm", "flow matching")):
        per = sorted(r.seconds * 1000 / n / r.nfe for r in rows if r.model == model)
        print(
            f"one network evaluation for 1,000 digits, {title}'s UNet: "
            f"{per[len(per) // 2]:.2f} s (median over its runs)"
        )


def goal_a(rows: list[Row], ref_nfe: int) -> tuple[str, bool]:
    ref = next(
        r for r in rows if r.model == "ddpm" and r.sampler.startswith("DDPM") and r.nfe == ref_nfe
    )
    fd_ref = ref.scores["fd_features"]
    candidates = [r for r in rows if r.model == "fm" and r.nfe <= FM_NFE_MAX]
    good = [
        r
        for r in candidates
        if r.scores["fd_features"] <= fd_ref and r.seconds <= TIME_RATIO * ref.seconds
    ]
    best = min(good or candidates, key=lambda r: r.scores["fd_features"])
    text = (
        f"(a) flow matching with <= {FM_NFE_MAX} NFE reaches the DDPM's {ref_nfe}-NFE FD "
        f"(eta={SCOREBOARD_ETA:g}: FD {fd_ref:.2f}, {ref.seconds:.1f} s) "
        f"in <= {TIME_RATIO:.0%} of its time: best {best.sampler} at {best.nfe} NFE, "
        f"FD {best.scores['fd_features']:.2f}, "
        f"{best.seconds:.1f} s = {best.seconds / ref.seconds:.0%}"
        + (f" ({len(good)} of {len(candidates)} runs meet both)" if good else " (none meets both)")
    )
    return text, bool(good)


def realnvp_section(
    shipped: models.Trained, held_out: torch.Tensor, args: argparse.Namespace, source: str
) -> tuple[str, bool]:
    print(
        f"\n## Real-NVP: bits/dim on all {len(held_out):,} held-out digits ({source}), one "
        "dequantisation each, seed 0"
    )
    start = time.perf_counter()
    bpd = held_out_bpd(shipped.model, held_out, "cpu", seed=SEED)
    steps, batch, where = budget(shipped)
    recorded_bpd = (shipped.meta.get("bpd") or {}).get("held_out")
    print(
        f"shipped: {bpd:.4f} bits/dim ({steps:,} steps x {batch}, from {where}; "
        f"{time.perf_counter() - start:.1f} s to score)"
        + (f"; recorded when shipped: {recorded_bpd:.4f}" if recorded_bpd is not None else "")
    )
    if not args.skip_laptop:
        config = models.recipe("realnvp", args.recipe_profile)
        start = time.perf_counter()
        with warnings.catch_warnings():  # the data's source was printed above
            warnings.simplefilter("ignore", MnistFallbackWarning)
            data = load_mnist(root=args.data_root, train=True, n=config.n_train)
            laptop = models.fit(
                "realnvp", config, data=data, device="cpu", seed=1, progress=not args.no_progress
            )
        train_s = time.perf_counter() - start
        laptop_bpd = held_out_bpd(laptop.model, held_out, "cpu", seed=SEED)
        print(
            f"{args.recipe_profile} recipe, trained here: {laptop_bpd:.4f} bits/dim "
            f"({config.train_steps:,} steps x {config.batch_size}, {config.n_layers} couplings "
            f"of {config.hidden} channels; "
            f"trained in {train_s:.0f} s on {torch.get_num_threads()} threads)"
        )
    else:
        print("(--skip-laptop: the laptop recipe was not trained)")
    return (
        f"(b) the shipped Real-NVP reaches <= {BPD_GOAL} bits/dim on held-out digits: {bpd:.4f}",
        bpd <= BPD_GOAL,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--n", type=int, default=None, help="digits per sampler (default 1000; --quick 16)"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_N} digits and NFE {QUICK_NFES} only, no laptop Real-NVP (a test)",
    )
    parser.add_argument(
        "--skip-laptop", action="store_true", help="do not train the laptop Real-NVP"
    )
    # the profile whose Real-NVP recipe is trained beside the shipped one (a test passes a tiny one)
    parser.add_argument("--recipe-profile", default="laptop", help=argparse.SUPPRESS)
    parser.add_argument(
        "--checkpoints",
        default=str(pretrained.DIR),
        help="folder with ddpm.pt, flow-matching.pt, realnvp.pt (default: the shipped ones)",
    )
    parser.add_argument(
        "--data-root", default=None, help="folder with MNIST/raw (default: $COURSE_DATA)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    n = args.n or (QUICK_N if args.quick else 1000)
    nfes = QUICK_NFES if args.quick else NFES
    if args.quick and args.recipe_profile == "laptop":
        args.skip_laptop = True
    torch.set_num_threads(args.threads)
    folder = Path(args.checkpoints)
    ddpm, fm, realnvp = (load_model(folder, name) for name in ("ddpm", "flow-matching", "realnvp"))
    real, held_out, floor, source = real_digits(n, args.data_root)
    print(
        f"Flows benchmark (issue 22): {n:,} digits per sampler (0-9 in turn, guidance 1, "
        f"seed {SEED}) against {n:,} held-out digits ({source}); NFE {list(nfes)}; "
        f"{torch.get_num_threads()} torch threads; checkpoints from {folder}"
    )
    print(describe("DDPM         ", ddpm))
    print(describe("flow matching", fm))
    same_net = (tuple(ddpm.config.channels), ddpm.config.t_dim, ddpm.config.conditional) == (
        tuple(fm.config.channels),
        fm.config.t_dim,
        fm.config.conditional,
    )
    same_budget = budget(ddpm)[:2] == budget(fm)[:2]
    rows = compare_samplers(ddpm, fm, real, floor, nfes, progress=not args.no_progress)
    print_table(rows, n)
    checks = [
        (
            f"same UNet ({'yes' if same_net else 'no'}) and same budget, steps x batch "
            f"({'yes' if same_budget else 'no'}) for the DDPM and flow matching",
            same_net and same_budget,
        ),
        goal_a(rows, FD_REF_NFE),
    ]
    checks.append(realnvp_section(realnvp, held_out, args, source))
    print("\n## Goals (issue 22)")
    print_checks(checks)
    if n < 1000:
        print(f"(FD at n = {n} is biased upwards; the goals are stated for n = 1,000)")
    return 0


if __name__ == "__main__":
    run_recorded("flows", main)
