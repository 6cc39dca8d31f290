"""Train the checkpoints that ship with the course (``course_utils/pretrained/``) and their manifest.

The notebooks load these instead of training when the profile matches (``course_utils.pretrained``);
``COURSE_TRAIN=1`` makes them train anyway. Each model is trained with a recipe longer than the
laptop profile's, then sampled and scored against held-out digits; the checkpoint's ``meta``
records the recipe, the budget, the data, the time, the machine, this command and the scores, and
``manifest.json`` lists every file with its sha256, size, scores, budget and the profiles it serves.

    python scripts/pretrain.py                      # all: ddpm, dcgan, cdcgan, vae, wgan_gp, mlp_gan, the four Ising models
    python scripts/pretrain.py --only ising_rbm ising_gan ising_ddpm ising_ar --threads 1
    python scripts/pretrain.py --only ddpm --ddpm-steps 4000
    python scripts/pretrain.py --check              # verify the manifest's checksums and sizes
    python scripts/pretrain.py --rescore --only ddpm  # score a shipped file again, no training

Scores (``course_utils.scoreboard.score_checkpoints``, the scoreboard's own code):

* ``scores``: 500 samples (seed 0; the DDPM with DDIM-50, eta = 1, the digits 0-9 in turn with
  guidance 1, i.e. p(x) = sum_y p(y) p(x | y); the conditional DCGAN ``cdcgan`` the digits 0-9 in
  turn too) against 500 held-out digits; ``reference`` is the floor, 500 real training digits
  scored the same way; for the DDPM, ``scores_unlabelled`` is the same without a label (the
  label-dropout token, as the unconditional GANs sample);
* ``scores_1000``: the README scoreboard's setting, 1,000 against 1,000 (comparable to its rows);
* ``test_scores``: the setting of ``tests/test_pretrained.py``, 200 against 200 (DDPM: DDIM-20,
  eta = 1), which the test recomputes and compares.

The Ising models of notebook 09 (``ising_rbm``, ``ising_gan``, ``ising_ddpm``, ``ising_ar``) are trained
with the laptop profile's own recipe (``profile_recipe``, seed 1, as the notebook and
``benchmarks/ising.py``) and judged by their physics (``course_utils.ising.compare.physics_scores``):

* ``scores``: the benchmark's setting (``ising_n_samples`` / ``ising_n_samples_slow`` samples per
  temperature, seed 100 + int(1000 T), the profile's sampler) against the laptop profile's Monte
  Carlo data: every observable with its jackknife error, the deviations from Monte Carlo, the
  goal's misses, and e and c against Kaufman's exact values; ``scores_mh`` the same for the
  autoregressive network corrected by ``ising_ar_mh_steps`` Metropolis-Hastings steps;
* ``test_scores``: e and |m| (value, error) of 100 samples per temperature, seed 0, which
  ``tests/test_pretrained.py`` recomputes.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import shlex
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_utils import models  # noqa: E402
from course_utils.data import MnistFallbackWarning, load_mnist, split_of  # noqa: E402
from course_utils.families.ising import profile_recipe  # noqa: E402
from course_utils.gan import gan_config  # noqa: E402
from course_utils.ising import measure, profile_dataset  # noqa: E402
from course_utils.ising.compare import physics_scores  # noqa: E402
from course_utils.profiles import get_profile  # noqa: E402
from course_utils.scoring.classifier import sha256_of  # noqa: E402
from course_utils.scoreboard import classifier_monitor, mmd_monitor, score_checkpoints  # noqa: E402
from course_utils.scoring import MMDScorer  # noqa: E402
from course_utils.summary.vae import train_vae  # noqa: E402

OUT = ROOT / "course_utils" / "pretrained"
ISING = ("ising_rbm", "ising_gan", "ising_ddpm", "ising_ar")  # notebook 09, the laptop profile's recipes
ORDER = ("ddpm", "dcgan", "cdcgan", "vae", "wgan_gp", "mlp_gan", *ISING)  # training order: what matters most first
FAMILY = {"ddpm": "ddpm", "dcgan": "dcgan", "cdcgan": "cdcgan", "wgan_gp": "wgan-gp", "vae": "vae", "mlp_gan": "mlp-gan",
          **{name: name.replace("_", "-") for name in ISING}}
SCORE_N, TEST_N, BOARD_N = 500, 200, 1000
ISING_TEST_N = 100  # Ising samples per temperature of test_scores
SEED = 0  # sampling seed of every score (and of the held-out subset)
MAX_TOTAL_BYTES = 20 * 1024 * 1024


def sampler(name: str, steps: int, all_digits: bool = True) -> dict:
    """The sampling options of a score: for the DDPM, DDIM with ``steps`` steps and eta = 1, drawing
    the digits 0-9 in turn with guidance 1 (``all_digits``, a sample of p(x)) or without a label."""
    return {"steps": steps, "eta": 1.0, "all_digits": all_digits} if name == "ddpm" else {}


def laptop_budget(name: str) -> str:
    L = get_profile("laptop")
    if name == "ddpm":
        return f"{L.ddpm_train_steps:,} steps of {L.ddpm_batch_size}, channels {tuple(L.ddpm_channels)}, T {L.diff_T}"
    if name == "vae":
        return f"{L.vae_epochs} epochs"
    if name == "mlp_gan":
        return f"{L.gan_epochs} epochs of {L.gan_batch_size} on up to {L.gan_n_train:,} digits"
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
    if name == "mlp_gan":  # notebook 03's run itself: 03, 04 and 05 show its history at the lecture's epochs
        config = gan_config(z_size=20, mode_z="uniform", epochs=L.gan_epochs, sample_epochs=L.gan_sample_epochs)
        seen = (n_data // config.batch_size) * config.batch_size * config.epochs
        return config, {"epochs": config.epochs, "batch_size": config.batch_size, "images_seen": seen,
                        "vs_laptop": 1.0}
    images = {"dcgan": args.gan_images, "cdcgan": args.cgan_images}.get(name, args.wgan_images)
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


def provenance(**machine: float) -> dict:
    """When, with what and how a checkpoint was made: date, torch, platform, machine, this command."""
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "torch": str(torch.__version__),
        "platform": platform.platform(),
        "machine": {"processor": platform.processor() or platform.machine(), "python": platform.python_version(),
                    "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), **machine},
        "command": "python " + " ".join(shlex.quote(a) for a in ["scripts/pretrain.py", *sys.argv[1:]]),
    }


def notebook_05_reals() -> torch.Tensor:
    """Notebook 05's reals for its MMD-per-epoch curve: the first min(gan_n_train, 2,000) training digits."""
    n_real = min(get_profile("laptop").gan_n_train or 2_000, 2_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MnistFallbackWarning)
        return split_of(load_mnist(n=n_real))[0]


def score(path: Path, name: str, n: int, steps: int, all_digits: bool = True) -> tuple[dict, dict, str]:
    """(model scores, floor scores, real source): the scoreboard's code on the file as written."""
    with warnings.catch_warnings():  # the offline-data warning was given once, at training
        warnings.simplefilter("ignore", MnistFallbackWarning)
        board = score_checkpoints([path], n=n, seed=SEED, **sampler(name, steps, all_digits))
    reference, row = board["rows"]
    keep = ("mmd2_features", "mmd2_pixels", "fd_features", "confidence", "class_spread", "histogram",
            "sample_seconds")
    return ({k: row[k] for k in keep}, {k: reference[k] for k in keep if k in reference}, board["real_source"])


def train_one(name: str, args: argparse.Namespace) -> dict:
    family = FAMILY[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MnistFallbackWarning)
        data = load_mnist(train=True, n=get_profile("laptop").gan_n_train if name == "mlp_gan" else None)
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
        monitor = (classifier_monitor(config) if family in ("dcgan", "cdcgan", "wgan-gp")
                   else mmd_monitor(MMDScorer(notebook_05_reals()), config) if family == "mlp-gan" else None)
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
        **provenance(),
    }
    models.save(path, trained, meta)
    print(f"   trained in {seconds:.0f} s; scoring", flush=True)
    return record(name, path, trained, meta, args)


def _plain(scores: dict) -> dict:
    return {k: v for k, v in scores.items() if k != "histogram"}


def record(name: str, path: Path, trained: models.Trained, meta: dict, args: argparse.Namespace) -> dict:
    """Score the checkpoint at ``path``, store the scores in its ``meta`` and return its manifest entry."""
    scores, reference, real_source = score(path, name, SCORE_N, 50)
    meta["scores"] = scores
    meta["score_setting"] = {"n": SCORE_N, "seed": SEED, "real": f"{SCORE_N} held-out digits ({real_source})",
                             "sampler": ("DDIM-50, eta=1, the digits 0-9 in turn, guidance 1" if name == "ddpm"
                                         else "g(z, y), the digits 0-9 in turn" if name == "cdcgan"
                                         else "g(z) / decoder means")}
    meta["reference"] = reference
    if name == "ddpm":  # the same model without a label (the label-dropout token), as the GANs sample
        meta["scores_unlabelled"], _, _ = score(path, name, SCORE_N, 50, all_digits=False)
    test_scores, _, _ = score(path, name, TEST_N, 20)
    meta["test_scores"] = test_scores
    meta["test_setting"] = {"n": TEST_N, "seed": SEED,
                            **({"steps": 20, "eta": 1.0, "all_digits": True} if name == "ddpm" else {})}
    if args.board:
        meta["scores_1000"], meta["reference_1000"], _ = score(path, name, BOARD_N, 50)
        if name == "ddpm":
            meta["scores_1000_unlabelled"], _, _ = score(path, name, BOARD_N, 50, all_digits=False)
    meta["scored"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    models.save(path, trained, meta)
    entry = {"file": path.name, "family": trained.family.name, "profiles": ["laptop"], "sha256": sha256_of(path),
             "size": path.stat().st_size, "budget": meta["budget"], "seconds": meta["seconds"],
             "scores": _plain(scores), "test_scores": _plain(test_scores),
             "score_setting": meta["score_setting"], "test_setting": meta["test_setting"],
             "reference": _plain(reference), "date": meta["date"], "command": meta["command"],
             "scored": meta["scored"]}
    for key in ("scores_unlabelled", "scores_1000", "reference_1000", "scores_1000_unlabelled"):
        if key in meta:
            entry[key] = _plain(meta[key])
    print(f"   {path.name}: {entry['size']:,} bytes; FD {scores['fd_features']:.1f} "
          f"(floor {reference['fd_features']:.1f}), confidence {scores['confidence']:.3f}, "
          f"spread {scores['class_spread']:.3f}", flush=True)
    return entry


# --- the Ising models of notebook 09: the laptop profile's own recipe, judged by their physics ---

def ising_recipe(name: str) -> tuple[Any, dict, dict]:
    """(config, sampling options, budget) of the laptop profile's recipe for the Ising model ``name``:
    the notebook's and the benchmark's ``profile_recipe``, so ``COURSE_TRAIN=1`` retrains the same model."""
    overrides, options = profile_recipe(FAMILY[name], "laptop")
    config = models.get(FAMILY[name]).new_config(**overrides)
    if name == "ising_rbm":
        budget = {"epochs": config.epochs, "batch_size": config.batch_size, "gibbs_k": config.k, "vs_laptop": 1.0}
    else:
        budget = {"steps": config.train_steps, "batch_size": config.batch_size, "vs_laptop": 1.0}
    return config, options, budget


def train_ising(name: str, args: argparse.Namespace) -> dict:
    """Train the Ising model ``name`` on the laptop profile's Monte Carlo data (seed ``args.seed``, as
    notebook 09 and ``benchmarks/ising.py``: 1), save it and return its scored manifest entry."""
    family = FAMILY[name]
    config, _, budget = ising_recipe(name)
    data = models.get(family).data(config, None)  # ising_dataset, cached under the artifacts folder
    print(f"== {name}: {budget} (the laptop profile's recipe; Monte Carlo data: {data.source})", flush=True)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    trained = models.fit(family, config, data=data, device="cpu", seed=args.seed, progress=not args.quiet)
    seconds = time.perf_counter() - start
    path = OUT / f"{name}.pt"
    meta = {
        "shipped": True,
        "recipe": {"family": family, "config": dataclasses.asdict(config), "seed": args.seed,
                   "laptop_profile": "profile_recipe(%r, 'laptop') of course_utils.families.ising" % family},
        "budget": budget,
        "data": f"{len(data):,} Monte Carlo configurations (ising_dataset, L = {config.size}, "
                f"T = {', '.join(f'{t:g}' for t in config.temperatures)}, seed {config.data_seed})",
        "n_train": len(data),
        "seconds": round(seconds, 1),
        **provenance(load_average_at_start=round(load, 2)),
    }
    models.save(path, trained, meta)
    print(f"   trained in {seconds:.0f} s; judging its physics", flush=True)
    return record_ising(name, path, trained, meta, args)


def ising_test_scores(trained: models.Trained, setting: dict) -> dict:
    """``{T: {"e": [value, error], "abs_m": [value, error]}}`` of ``setting["n"]`` samples per trained
    temperature (seed ``setting["seed"]``, options ``setting["options"]``): what the test recomputes."""
    out = {}
    for T in trained.config.temperatures:
        samples = trained.sample(setting["n"], "cpu", seed=setting["seed"], temperature=T, **setting["options"])
        est = measure(samples, T)
        out[f"{T:g}"] = {"e": list(est["e"]), "abs_m": list(est["abs_m"])}
    return out


def record_ising(name: str, path: Path, trained: models.Trained, meta: dict, args: argparse.Namespace) -> dict:
    """Judge the Ising checkpoint at ``path`` as ``benchmarks/ising.py`` does (the laptop profile's
    sample sizes, seeds and sampler, against its Monte Carlo data, and against Kaufman's exact e
    and c), store the physics in its ``meta`` and return its manifest entry."""
    P = get_profile("laptop")
    _, options, _ = ising_recipe(name)
    mc = profile_dataset(P, num_threads=torch.get_num_threads())
    configs, temps = mc.tensors
    n = P.ising_n_samples if name == "ising_ar" else P.ising_n_samples_slow
    variants = {"scores": options}
    if name == "ising_ar":  # the notebook's best sampler: the network corrected by independence MH
        variants["scores_mh"] = {"mh_steps": P.ising_ar_mh_steps}
    for key, opts in variants.items():
        by_T, start = {}, time.perf_counter()
        for T in trained.config.temperatures:
            samples = trained.sample(n, "cpu", seed=100 + int(1000 * T), temperature=T, **opts)
            by_T[f"{T:g}"] = physics_scores(samples, T, configs[temps == T])
        meta[key] = {"by_T": by_T, "misses": [m for s in by_T.values() for m in s["misses"]],
                     "options": opts, "sample_seconds": round(time.perf_counter() - start, 1)}
        print(f"   {key} ({opts or 'no options'}): {len(meta[key]['misses'])} of the goal's tolerances missed; "
              + "; ".join(f"T={T}: e {s['dev_percent']['e']:+.1f} %, chi {s['dev_percent']['chi']:+.0f} %"
                          for T, s in by_T.items()), flush=True)
    meta["score_setting"] = {"n": n, "seed": "100 + int(1000 T) at temperature T (benchmarks/ising.py)",
                             "reference": f"{P.ising_n_configs:,} Monte Carlo configurations per temperature "
                                          "(profile_dataset('laptop'))",
                             "goal": "e 1 %, |m| 3 %, c and chi 10 %, balance 50 +- 3 % (course_utils.ising.compare.GOAL)"}
    meta["test_setting"] = {"n": ISING_TEST_N, "seed": SEED, "options": options}
    meta["test_scores"] = ising_test_scores(trained, meta["test_setting"])
    meta["scored"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    models.save(path, trained, meta)
    keep = ("e", "abs_m", "c", "chi")  # the manifest's summary: deviations from Monte Carlo and exact
    entry = {"file": path.name, "family": trained.family.name, "profiles": ["laptop"], "sha256": sha256_of(path),
             "size": path.stat().st_size, "budget": meta["budget"], "seconds": meta["seconds"]}
    for key in variants:
        entry[key] = {"misses": len(meta[key]["misses"]), "sample_seconds": meta[key]["sample_seconds"],
                      "options": meta[key]["options"],
                      "dev_percent_from_mc": {T: {k: round(s["dev_percent"][k], 2) for k in keep}
                                              for T, s in meta[key]["by_T"].items()},
                      "balance": {T: round(s["balance"][0], 4) for T, s in meta[key]["by_T"].items()},
                      "e_vs_exact_percent": {T: round(s["exact"]["e_vs_exact_percent"], 2)
                                             for T, s in meta[key]["by_T"].items()}}
    entry |= {"score_setting": meta["score_setting"], "test_scores": meta["test_scores"],
              "test_setting": meta["test_setting"], "date": meta["date"], "command": meta["command"],
              "scored": meta["scored"]}
    print(f"   {path.name}: {entry['size']:,} bytes", flush=True)
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
            print(f"ok  {entry['file']:<14} {entry['size']:>10,} bytes  sha256 {entry['sha256'][:12]}…")
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
    parser.add_argument("--cgan-images", type=int, default=360_000,
                        help="conditional DCGAN images seen (laptop: 240,000)")
    parser.add_argument("--wgan-images", type=int, default=360_000, help="WGAN-GP images seen (laptop: 240,000)")
    parser.add_argument("--vae-epochs", type=int, default=60, help="VAE epochs (laptop: 30)")
    parser.add_argument("--seed", type=int, default=1, help="training seed")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--no-board", dest="board", action="store_false",
                        help="skip the 1,000-sample scoreboard score")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--check", action="store_true", help="only verify the manifest's checksums and sizes")
    parser.add_argument("--rescore", action="store_true",
                        help="score the shipped files again (after a change of the scores' setting) without training")
    parser.add_argument("--out", type=Path, default=OUT, help="folder (default course_utils/pretrained)")
    args = parser.parse_args(argv)
    OUT = args.out
    if args.check:
        return check()
    torch.set_num_threads(args.threads)
    for name in args.only or ORDER:
        if args.rescore:
            path = OUT / f"{name}.pt"
            trained = models.load(path, "cpu", family=FAMILY[name])
            print(f"== {name}: scoring {path} again", flush=True)
            entry = (record_ising if name in ISING else record)(name, path, trained, dict(trained.meta), args)
        else:
            entry = train_ising(name, args) if name in ISING else train_one(name, args)
        manifest = read_manifest()  # re-read: one file per model, the others kept
        manifest["models"][name] = entry
        manifest["models"] = {k: manifest["models"][k] for k in ORDER if k in manifest["models"]}
        write_manifest(manifest)
    return check()


if __name__ == "__main__":
    raise SystemExit(main())
