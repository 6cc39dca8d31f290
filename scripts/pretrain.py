"""Train the checkpoints that ship with the course (``course_utils/pretrained/``) and their manifest.

The notebooks load these instead of training when the profile matches (``course_utils.pretrained``);
``COURSE_TRAIN=1`` makes them train anyway. Each model is trained with a recipe longer than the
laptop profile's, then sampled and scored against held-out digits; the checkpoint's ``meta``
records the recipe, the budget, the data, the time, the machine, this command and the scores, and
``manifest.json`` lists every file with its sha256, size, scores, budget and the profiles it serves.

    python scripts/pretrain.py                      # all four: ddpm, dcgan, vae, wgan_gp
    python scripts/pretrain.py --only ddpm --ddpm-steps 4000
    python scripts/pretrain.py --check              # verify the manifest's checksums and sizes

Scores (``course_utils.scoreboard.score_checkpoints``, the scoreboard's own code):

* ``scores``: 500 samples (seed 0; the DDPM unconditional, DDIM-50, eta = 1) against 500 held-out
  digits; ``reference`` is the floor, 500 real training digits scored the same way;
* ``scores_1000``: the README scoreboard's setting, 1,000 against 1,000 (comparable to its rows);
* ``test_scores``: the setting of ``tests/test_pretrained.py``, 200 against 200 (DDPM: DDIM-20,
  eta = 1), which the test recomputes and compares.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import platform
import shlex
import sys
import time
import warnings
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_utils import models  # noqa: E402
from course_utils.data import MnistFallbackWarning, load_mnist, split_of  # noqa: E402
from course_utils.gan import gan_config  # noqa: E402
from course_utils.profiles import get_profile  # noqa: E402
from course_utils.scoring.classifier import sha256_of  # noqa: E402
from course_utils.scoreboard import classifier_monitor, score_checkpoints  # noqa: E402
from course_utils.summary.vae import train_vae  # noqa: E402

OUT = ROOT / "course_utils" / "pretrained"
ORDER = ("ddpm", "dcgan", "vae", "wgan_gp")  # training order: what matters most first
FAMILY = {"ddpm": "ddpm", "dcgan": "dcgan", "wgan_gp": "wgan-gp", "vae": "vae"}
SCORE_N, TEST_N, BOARD_N = 500, 200, 1000
SEED = 0  # sampling seed of every score (and of the held-out subset)
MAX_TOTAL_BYTES = 20 * 1024 * 1024


def sampler(name: str, steps: int) -> dict:
    """The sampling options of a score: DDIM with ``steps`` steps and eta = 1 for the DDPM."""
    return {"steps": steps, "eta": 1.0} if name == "ddpm" else {}


def laptop_budget(name: str) -> str:
    L = get_profile("laptop")
    if name == "ddpm":
        return f"{L.ddpm_train_steps:,} steps of {L.ddpm_batch_size}, channels {tuple(L.ddpm_channels)}, T {L.diff_T}"
    if name == "vae":
        return f"{L.vae_epochs} epochs"
    return f"{L.zoo_train_images:,} images seen, n_filters {L.zoo_n_filters}"


def recipe(name: str, args: argparse.Namespace, n_data: int):
    """(config, budget) of the shipped recipe for ``name``; ``n_data`` training digits."""
    L = get_profile("laptop")
    if name == "ddpm":
        config = models.get("ddpm").new_config(T=L.diff_T, schedule="linear", channels=tuple(L.ddpm_channels),
                                               conditional=True, train_steps=args.ddpm_steps,
                                               batch_size=L.ddpm_batch_size, n_train=None)
        budget = {"steps": config.train_steps, "batch_size": config.batch_size,
                  "images_seen": config.train_steps * config.batch_size,
                  "vs_laptop": round(config.train_steps / L.ddpm_train_steps, 2)}
        return config, budget
    if name == "vae":
        config = models.get("vae").new_config(epochs=args.vae_epochs)
        budget = {"epochs": config.epochs, "images_seen": config.epochs * n_data,
                  "vs_laptop": round(config.epochs / L.vae_epochs, 2)}
        return config, budget
    images = args.gan_images if name == "dcgan" else args.wgan_images
    epochs = max(1, round(images / n_data))
    architecture = FAMILY[name]
    # notebook 08's recipe: its snapshots of the fixed-noise samples and, per epoch, the classifier's
    # confidence and class spread (``classifier_monitor``), which the notebook plots from the history
    config = gan_config(architecture=architecture, n_filters=L.zoo_n_filters, epochs=epochs,
                        sample_epochs=tuple(sorted({1, max(1, epochs // 4), max(1, epochs // 2), epochs})))
    seen = (n_data // config.batch_size) * config.batch_size * epochs  # train_gan drops the last batch
    budget = {"epochs": epochs, "batch_size": config.batch_size, "images_seen": seen,
              "vs_laptop": round(seen / L.zoo_train_images, 2)}
    if config.n_critic > 1:
        budget["generator_steps"] = seen // config.batch_size // config.n_critic
    return config, budget


def score(path: Path, name: str, n: int, steps: int) -> tuple[dict, dict, str]:
    """(model scores, floor scores, real source): the scoreboard's code on the file as written."""
    with warnings.catch_warnings():  # the offline-data warning was given once, at training
        warnings.simplefilter("ignore", MnistFallbackWarning)
        board = score_checkpoints([path], n=n, seed=SEED, **sampler(name, steps))
    reference, row = board["rows"]
    keep = ("mmd2_features", "mmd2_pixels", "fd_features", "confidence", "class_spread", "histogram",
            "sample_seconds")
    return ({k: row[k] for k in keep}, {k: reference[k] for k in keep if k in reference}, board["real_source"])


def train_one(name: str, args: argparse.Namespace) -> dict:
    family = FAMILY[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MnistFallbackWarning)
        data = load_mnist(train=True)
    config, budget = recipe(name, args, len(data))
    print(f"== {name}: {budget} (laptop: {laptop_budget(name)})", flush=True)
    start = time.perf_counter()
    if family == "vae":  # notebook 00's call: the held-out digits' loss per epoch in the history too
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MnistFallbackWarning)
            test_images, _ = split_of(load_mnist(train=False))
        images, _ = split_of(data)
        with torch.random.fork_rng():
            torch.manual_seed(args.seed)
            trained = models.build("vae", config)
        trained.history = train_vae(trained.model, images, config.epochs, config.batch_size, config.lr, "cpu",
                                    seed=args.seed, test_images=test_images, progress=not args.quiet)
        trained.meta = {"data": data.source, "seed": args.seed}
    else:
        monitor = classifier_monitor(config) if family in ("dcgan", "wgan-gp") else None
        trained = models.fit(family, config=config, data=data, seed=args.seed, progress=not args.quiet,
                             monitor=monitor)
    seconds = time.perf_counter() - start
    path = OUT / f"{name}.pt"
    meta = {
        "shipped": True,
        "recipe": {"family": family, "config": dataclasses.asdict(config), "seed": args.seed,
                   "laptop_profile": laptop_budget(name)},
        "budget": budget,
        "data": data.source,
        "n_train": len(data),
        "seconds": round(seconds, 1),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "torch": str(torch.__version__),
        "platform": platform.platform(),
        "machine": {"processor": platform.processor() or platform.machine(), "python": platform.python_version(),
                    "cpu_count": __import__("os").cpu_count(), "torch_threads": torch.get_num_threads()},
        "command": "python " + " ".join(shlex.quote(a) for a in ["scripts/pretrain.py", *sys.argv[1:]]),
    }
    models.save(path, trained, meta)
    print(f"   trained in {seconds:.0f} s; scoring", flush=True)
    scores, reference, real_source = score(path, name, SCORE_N, 50)
    meta["scores"] = scores
    meta["score_setting"] = {"n": SCORE_N, "seed": SEED, "real": f"{SCORE_N} held-out digits ({real_source})",
                             "sampler": "DDIM-50, eta=1, no label" if name == "ddpm" else "g(z) / decoder means"}
    meta["reference"] = reference
    test_scores, _, _ = score(path, name, TEST_N, 20)
    meta["test_scores"] = test_scores
    meta["test_setting"] = {"n": TEST_N, "seed": SEED, **({"steps": 20, "eta": 1.0} if name == "ddpm" else {})}
    if args.board:
        board_scores, board_reference, _ = score(path, name, BOARD_N, 50)
        meta["scores_1000"] = board_scores
        meta["reference_1000"] = board_reference
    models.save(path, trained, meta)
    entry = {"file": path.name, "family": family, "profiles": ["laptop"], "sha256": sha256_of(path),
             "size": path.stat().st_size, "budget": budget, "seconds": meta["seconds"],
             "scores": {k: v for k, v in scores.items() if k != "histogram"},
             "test_scores": {k: v for k, v in test_scores.items() if k != "histogram"},
             "score_setting": meta["score_setting"], "test_setting": meta["test_setting"],
             "reference": {k: v for k, v in reference.items() if k != "histogram"},
             "date": meta["date"], "command": meta["command"]}
    if args.board:
        entry["scores_1000"] = {k: v for k, v in meta["scores_1000"].items() if k != "histogram"}
        entry["reference_1000"] = {k: v for k, v in meta["reference_1000"].items() if k != "histogram"}
    print(f"   {path.name}: {entry['size']:,} bytes; FD {scores['fd_features']:.1f} "
          f"(floor {reference['fd_features']:.1f}), confidence {scores['confidence']:.3f}, "
          f"spread {scores['class_spread']:.3f}", flush=True)
    return entry


def read_manifest() -> dict:
    path = OUT / "manifest.json"
    if path.is_file():
        return json.loads(path.read_text())
    return {"about": "Checkpoints shipped with genlab, written by scripts/pretrain.py; "
                     "course_utils.pretrained loads them (COURSE_TRAIN=1 retrains).", "models": {}}


def write_manifest(manifest: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = OUT / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    tmp.replace(OUT / "manifest.json")


def check() -> int:
    manifest = read_manifest()
    problems, total = [], 0
    for name, entry in manifest["models"].items():
        path = OUT / entry["file"]
        if not path.is_file():
            problems.append(f"{path}: missing")
            continue
        total += path.stat().st_size
        if path.stat().st_size != entry["size"]:
            problems.append(f"{path}: {path.stat().st_size} bytes, the manifest says {entry['size']}")
        if sha256_of(path) != entry["sha256"]:
            problems.append(f"{path}: sha256 differs from the manifest's")
        else:
            print(f"ok  {entry['file']:<12} {entry['size']:>10,} bytes  sha256 {entry['sha256'][:12]}…")
    total += (OUT / "manifest.json").stat().st_size if (OUT / "manifest.json").is_file() else 0
    if total > MAX_TOTAL_BYTES:
        problems.append(f"{total:,} bytes in all, more than the {MAX_TOTAL_BYTES:,} allowed")
    for p in problems:
        print("FAIL", p)
    print(f"{len(manifest['models'])} checkpoints, {total:,} bytes with the manifest")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=ORDER, help="train only these (default: all)")
    parser.add_argument("--ddpm-steps", type=int, default=4000, help="DDPM optimiser steps of 128 (laptop: 2,000)")
    parser.add_argument("--gan-images", type=int, default=360_000, help="DCGAN images seen (laptop: 240,000)")
    parser.add_argument("--wgan-images", type=int, default=360_000, help="WGAN-GP images seen (laptop: 240,000)")
    parser.add_argument("--vae-epochs", type=int, default=60, help="VAE epochs (laptop: 30)")
    parser.add_argument("--seed", type=int, default=1, help="training seed")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--no-board", dest="board", action="store_false",
                        help="skip the 1,000-sample scoreboard score")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--check", action="store_true", help="only verify the manifest's checksums and sizes")
    parser.add_argument("--out", type=Path, default=OUT, help="folder (default course_utils/pretrained)")
    args = parser.parse_args(argv)
    OUT = args.out
    if args.check:
        return check()
    torch.set_num_threads(args.threads)
    for name in args.only or ORDER:
        entry = train_one(name, args)
        manifest = read_manifest()  # re-read: one file per model, the others kept
        manifest["models"][name] = entry
        manifest["models"] = {k: manifest["models"][k] for k in ORDER if k in manifest["models"]}
        write_manifest(manifest)
    return check()


if __name__ == "__main__":
    raise SystemExit(main())
