"""Train the checkpoints that ship with the course
(``course_utils/pretrained/``) and their manifest.

The notebooks load these instead of training when the profile matches (``course_utils.pretrained``);
``COURSE_TRAIN=1`` makes them train anyway. Every shipped model is its family's laptop recipe
(``models.recipe(family, "laptop")``, the notebooks' own) with the overrides in ``SHIPPED`` (a
longer budget for the MNIST models), trained with seed 1, then sampled and scored. The checkpoint
stores that config; its ``meta`` records the recipe (profile and overrides), the budget, the data,
the time, the machine, this command and the scores; ``manifest.json`` lists every file
(``<family>.pt``) with its sha256, size, recipe, scores and budget and the profiles it serves.

    python scripts/pretrain.py                           # all, in the order of SHIPPED
    python scripts/pretrain.py --only ising-rbm ising-gan ising-ddpm ising-ar --threads 1
    python scripts/pretrain.py --only ddpm --set train_steps=6000   # another budget (recorded)
    python scripts/pretrain.py --check                   # verify the manifest's checksums and sizes
    python scripts/pretrain.py --rescore --only ddpm     # score a shipped file again, no training

Scores of the digit models (``course_utils.scoreboard.score_checkpoints``,
the scoreboard's own code):

* ``scores``: 500 samples (seed 0; as the scoreboard samples the family with ``all_digits``: the
  DDPM with DDIM-50, eta = 1, the digits 0-9 in turn with guidance 1, i.e. p(x) = sum_y p(y)
  p(x | y); the conditional DCGAN the digits 0-9 in turn too) against 500 held-out digits;
  ``reference`` is the floor, 500 real training digits scored the same way; for a conditional
  DDPM, ``scores_unlabelled`` is the same without a label (as the unconditional GANs sample);
* ``scores_1000``: the guide's scoreboard setting, 1,000 against 1,000;
* ``test_scores``: the setting of ``tests/test_pretrained.py``, 200 against 200 (iterative
  samplers: 20 steps, eta = 1), which the test recomputes and compares.

The Ising models of notebook 09 are judged by their physics
(``course_utils.ising.compare.physics_scores``):

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
import ast
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
from course_utils.flows import held_out_bpd  # noqa: E402
from course_utils.ising import measure, profile_dataset  # noqa: E402
from course_utils.ising.compare import physics_scores  # noqa: E402
from course_utils.phi4 import flow_mcmc  # noqa: E402
from course_utils.profiles import get_profile  # noqa: E402
from course_utils.scoreboard import classifier_monitor, mmd_monitor, score_checkpoints  # noqa: E402
from course_utils.scoring import MMDScorer  # noqa: E402
from course_utils.scoring.classifier import sha256_of  # noqa: E402
from course_utils.summary.vae import train_vae  # noqa: E402

OUT = ROOT / "course_utils" / "pretrained"
# family -> overrides of its laptop recipe: the shipped budget. Training
# order: what matters most first.
SHIPPED: dict[str, dict[str, Any]] = {
    "ddpm": {"train_steps": 4_000},  # 2x the laptop profile
    "flow-matching": {"train_steps": 4_000},  # the DDPM's UNet and budget
    "realnvp": {"train_steps": 4_000},  # 8x the laptop profile
    "dcgan": {"train_images": 360_000},  # 1.5x
    "cdcgan": {"train_images": 360_000},
    "vae": {"epochs": 60},  # 2x
    "wgan-gp": {"train_images": 360_000},
    # notebook 03's run itself: 03, 04 and 05 show its history at the lecture's epochs
    "mlp-gan": {},
    "ising-rbm": {},  # notebook 09's four models: the laptop profile's own recipe
    "ising-gan": {},
    "ising-ddpm": {},
    "ising-ar": {},
    "phi4-flow": {"train_steps": 6_000},  # notebook 09b's flow: 1.5x the laptop recipe
}
SCORE_N, TEST_N, BOARD_N = 500, 200, 1000
ISING_TEST_N = 100  # Ising samples per temperature of test_scores
SEED = 0  # sampling seed of every score (and of the held-out subset)
MAX_TOTAL_BYTES = 20 * 1024 * 1024


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def shipped_recipe(name: str, extra: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
    """(config, recipe record) of the shipped ``name``: the laptop recipe with ``SHIPPED[name]``
    and ``extra`` (from ``--set``) applied."""
    overrides = {**SHIPPED[name], **(extra or {})}
    config = models.recipe(name, "laptop", **overrides)
    return config, {"family": name, "profile": "laptop", "overrides": overrides}


def budget_of(config: Any, n_data: int) -> dict[str, Any]:
    """The training budget of ``config`` on ``n_data`` examples, and its
    ratio to the laptop recipe's."""
    laptop = models.recipe(models.family_of(config).name, "laptop")
    if hasattr(config, "train_steps"):
        return {"steps": config.train_steps, "batch_size": config.batch_size,
                "vs_laptop": round(config.train_steps / laptop.train_steps, 2)}
    if hasattr(config, "epochs_for"):  # a GAN: epochs, or images seen rounded to epochs
        epochs = config.epochs_for(n_data)
        # train_gan drops the last batch
        seen = (n_data // config.batch_size) * config.batch_size * epochs
        laptop_seen = laptop.train_images or ((n_data // laptop.batch_size) * laptop.batch_size
                                              * laptop.epochs)
        budget = {"epochs": epochs, "batch_size": config.batch_size, "images_seen": seen,
                  "vs_laptop": round(seen / laptop_seen, 2)}
        if config.n_critic > 1:
            budget["generator_steps"] = seen // config.batch_size // config.n_critic
        return budget
    return {"epochs": config.epochs, "batch_size": config.batch_size,
            "vs_laptop": round(config.epochs / laptop.epochs, 2)}


def provenance(**machine: float) -> dict:
    """When, with what and how a checkpoint was made: date, torch,
    platform, machine, this command."""
    return {
        "date": now(),
        "torch": str(torch.__version__),
        "platform": platform.platform(),
        "machine": {"processor": platform.processor() or platform.machine(),
                    "python": platform.python_version(), "cpu_count": os.cpu_count(),
                    "torch_threads": torch.get_num_threads(), **machine},
        "command": "python " + " ".join(shlex.quote(a)
                                        for a in ["scripts/pretrain.py", *sys.argv[1:]]),
    }


def notebook_05_reals() -> torch.Tensor:
    """Notebook 05's reals for its MMD-per-epoch curve: the first
    min(gan_n_train, 2,000) training digits."""
    n_real = min(get_profile("laptop").gan_n_train or 2_000, 2_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MnistFallbackWarning)
        return split_of(load_mnist(n=n_real))[0]


def monitor_of(name: str, config: Any):  # noqa: ANN201 - a train_gan hook or None
    """What the notebooks record while training: 08's classifier verdict
    per epoch, 05's MMD per epoch."""
    if name in ("dcgan", "cdcgan", "wgan-gp"):
        return classifier_monitor(config)
    if name == "mlp-gan":
        return mmd_monitor(MMDScorer(notebook_05_reals()), config)
    return None


def train(name: str, args: argparse.Namespace) -> dict:
    """Train the shipped ``name``, save it with its recipe and provenance,
    score it; its manifest entry."""
    config, recipe = shipped_recipe(name, args.set)
    family = models.get(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MnistFallbackWarning)
        data = family.data(config, None)
    budget = budget_of(config, len(data))
    print(f"== {name}: {budget} ({data.source})", flush=True)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    if name == "vae":  # notebook 00's call: the held-out digits' loss per epoch in the history too
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MnistFallbackWarning)
            test_images, _ = split_of(load_mnist(train=False))
        with torch.random.fork_rng():
            torch.manual_seed(args.seed)
            trained = models.build("vae", config)
        trained.history = train_vae(trained.model, split_of(data)[0], config, "cpu", seed=args.seed,
                                    test_images=test_images, progress=not args.quiet)
    else:
        trained = models.fit(name, config, data, "cpu", seed=args.seed, progress=not args.quiet,
                             monitor=monitor_of(name, config))
    seconds = time.perf_counter() - start
    path = OUT / f"{name}.pt"
    meta = {"shipped": True,
            "recipe": {**recipe, "config": dataclasses.asdict(config), "seed": args.seed},
            "budget": budget, "data": data.source, "n_train": len(data),
            "seconds": round(seconds, 1), **provenance(load_average_at_start=round(load, 2))}
    trained.meta = meta
    models.save(path, trained)
    print(f"   trained in {seconds:.0f} s; scoring", flush=True)
    return recorder(trained)(path, trained, args)


def score(path: Path, n: int, steps: int, all_digits: bool = True) -> tuple[dict, dict, str]:
    """(model scores, floor scores, real source): the scoreboard's code on the file as written."""
    with warnings.catch_warnings():  # the offline-data warning was given once, at training
        warnings.simplefilter("ignore", MnistFallbackWarning)
        board = score_checkpoints([path], n=n, seed=SEED, steps=steps, eta=1.0,
                                  all_digits=all_digits)
    reference, row = board["rows"]
    keep = ("mmd2_features", "mmd2_pixels", "fd_features", "confidence", "class_spread",
            "histogram", "sample_seconds")
    return ({k: row[k] for k in keep}, {k: reference[k] for k in keep if k in reference},
            board["real_source"])


def _plain(scores: dict) -> dict:
    return {k: v for k, v in scores.items() if k != "histogram"}


def _entry(path: Path, trained: models.Trained) -> dict:
    meta = trained.meta
    return {"file": path.name, "family": trained.name, "profiles": ["laptop"],
            "sha256": sha256_of(path), "size": path.stat().st_size,
            "recipe": {k: meta["recipe"][k] for k in ("profile", "overrides")},
            "budget": meta["budget"], "seconds": meta["seconds"]}


def record(path: Path, trained: models.Trained, args: argparse.Namespace) -> dict:
    """Score the digit model at ``path``, store the scores in its ``meta``; its manifest entry."""
    meta = trained.meta
    steps = getattr(trained.family.sampling("laptop"), "steps", 50)  # DDPM 50, flow matching 20
    scores, reference, real_source = score(path, SCORE_N, steps)
    sampling = trained.family.scoreboard_sampling(trained.config, True, steps, 1.0)
    meta["scores"], meta["reference"] = scores, reference
    meta["score_setting"] = {"n": SCORE_N, "seed": SEED,
                             "real": f"{SCORE_N} held-out digits ({real_source})",
                             "row": sampling[0], "options": dataclasses.asdict(sampling[1])}
    if "all_digits" in trained.family.option_names():  # the same model without a label
        meta["scores_unlabelled"], _, _ = score(path, SCORE_N, steps, all_digits=False)
    meta["test_scores"], _, _ = score(path, TEST_N, 20)
    iterative = "steps" in trained.family.option_names()
    meta["test_setting"] = {"n": TEST_N, "seed": SEED,
                            **({"steps": 20, "eta": 1.0, "all_digits": True} if iterative else {})}
    if trained.name == "realnvp":  # a likelihood model: held-out bits per dimension
        meta["bpd"] = held_out_bits_per_dim(trained)
    if args.board:
        meta["scores_1000"], meta["reference_1000"], _ = score(path, BOARD_N, steps)
    meta["scored"] = now()
    models.save(path, trained)
    entry = _entry(path, trained) | {
        "scores": _plain(scores), "test_scores": _plain(meta["test_scores"]),
        "score_setting": meta["score_setting"], "test_setting": meta["test_setting"],
        "reference": _plain(reference), "date": meta["date"], "command": meta["command"],
        "scored": meta["scored"]}
    for key in ("scores_unlabelled", "scores_1000", "reference_1000", "bpd"):
        if key in meta:
            entry[key] = _plain(meta[key])
    print(f"   {path.name}: {entry['size']:,} bytes; FD {scores['fd_features']:.1f} "
          f"(floor {reference['fd_features']:.1f}), confidence {scores['confidence']:.3f}, "
          f"spread {scores['class_spread']:.3f}", flush=True)
    return entry


def held_out_bits_per_dim(trained: models.Trained) -> dict:
    """Bits per dimension of every held-out digit (one dequantisation each, seed 0), and of the
    first 200 (``test``: what ``tests/test_pretrained.py`` recomputes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MnistFallbackWarning)
        held_out = load_mnist(train=False)
    images = split_of(held_out)[0]
    return {"held_out": held_out_bpd(trained.model, images, "cpu", seed=0), "n": len(images),
            "test": held_out_bpd(trained.model, images[:TEST_N], "cpu", seed=0), "test_n": TEST_N,
            "real": held_out.source}


def record_field(path: Path, trained: models.Trained, args: argparse.Namespace) -> dict:
    """The phi^4 flow as a sampler (notebook 09b, benchmarks/phi4.py): ESS/N of 4,096 fresh draws,
    the acceptance of independence Metropolis-Hastings through 8,192 others, the observables of
    the corrected chain; ``test_scores``: the ESS/N of 1,024 draws (seed 0), which the test
    recomputes."""
    meta, model = trained.meta, trained.model
    fresh = flow_mcmc(model, 4_096, "cpu", seed=SEED)
    chain = flow_mcmc(model, 8_192, "cpu", seed=SEED + 1)
    observables = chain.observables("mcmc")
    meta["scores"] = {"ess": fresh.ess, "ess_n": 4_096, "acceptance": chain.acceptance,
                      "mh_n": 8_192, "tau_int": chain.tau_int,
                      "corrected": {k: list(observables[k])
                                    for k in ("chi2", "abs_M", "ising_energy")}}
    meta["test_setting"] = {"n": 1_024, "seed": SEED}
    meta["test_scores"] = {"ess": flow_mcmc(model, 1_024, "cpu", seed=SEED).ess}
    meta["scored"] = now()
    models.save(path, trained)
    entry = _entry(path, trained) | {"scores": meta["scores"], "test_scores": meta["test_scores"],
                                     "test_setting": meta["test_setting"], "date": meta["date"],
                                     "command": meta["command"], "scored": meta["scored"]}
    print(f"   {path.name}: ESS/N {fresh.ess:.3f}, acceptance {chain.acceptance:.3f}", flush=True)
    return entry


def ising_test_scores(trained: models.Trained, setting: dict) -> dict:
    """``{T: {"e": [value, error], "abs_m": [value, error]}}`` of ``setting["n"]``
    samples per trained temperature (seed ``setting["seed"]``, options
    ``setting["options"]``): what the test recomputes."""
    out = {}
    for T in trained.config.temperatures:
        samples = trained.sample(setting["n"], "cpu", seed=setting["seed"],
                                 **{**setting["options"], "temperature": T})
        est = measure(samples, T)
        out[f"{T:g}"] = {"e": list(est["e"]), "abs_m": list(est["abs_m"])}
    return out


def record_ising(path: Path, trained: models.Trained, args: argparse.Namespace) -> dict:
    """Judge the Ising checkpoint at ``path`` as ``benchmarks/ising.py`` does (the laptop profile's
    sample sizes, seeds and sampler, against its Monte Carlo data, and against Kaufman's exact e
    and c), store the physics in its ``meta``; its manifest entry."""
    P, meta = get_profile("laptop"), trained.meta
    options = {k: v for k, v in dataclasses.asdict(trained.family.sampling("laptop")).items()
               if k != "temperature"}
    configs, temps = profile_dataset(P, num_threads=torch.get_num_threads()).tensors
    n = P.ising_n_samples if trained.name == "ising-ar" else P.ising_n_samples_slow
    variants = {"scores": options}
    # the notebook's best sampler: the network corrected by independence MH
    if trained.name == "ising-ar":
        variants["scores_mh"] = {**options, "mh_steps": P.ising_ar_mh_steps}
    for key, opts in variants.items():
        by_T, start = {}, time.perf_counter()
        for T in trained.config.temperatures:
            samples = trained.sample(n, "cpu", seed=100 + int(1000 * T), temperature=T, **opts)
            by_T[f"{T:g}"] = physics_scores(samples, T, configs[temps == T])
        meta[key] = {"by_T": by_T, "misses": [m for s in by_T.values() for m in s["misses"]],
                     "options": opts, "sample_seconds": round(time.perf_counter() - start, 1)}
        print(f"   {key} ({opts or 'no options'}): {len(meta[key]['misses'])} of the goal's "
              "tolerances missed; "
              + "; ".join(f"T={T}: e {s['dev_percent']['e']:+.1f} %, chi "
                          f"{s['dev_percent']['chi']:+.0f} %"
                          for T, s in by_T.items()), flush=True)
    meta["score_setting"] = {"n": n,
                             "seed": "100 + int(1000 T) at temperature T (benchmarks/ising.py)",
                             "reference": f"{P.ising_n_configs:,} Monte Carlo configurations per "
                                          "temperature (profile_dataset('laptop'))",
                             "goal": "e 1 %, |m| 3 %, c and chi 10 %, balance 50 +- 3 % "
                                     "(course_utils.ising.compare.GOAL)"}
    meta["test_setting"] = {"n": ISING_TEST_N, "seed": SEED, "options": options}
    meta["test_scores"] = ising_test_scores(trained, meta["test_setting"])
    meta["scored"] = now()
    models.save(path, trained)
    # the manifest's summary: deviations from Monte Carlo and exact
    keep = ("e", "abs_m", "c", "chi")
    entry = _entry(path, trained)
    for key in variants:
        entry[key] = {"misses": len(meta[key]["misses"]),
                      "sample_seconds": meta[key]["sample_seconds"],
                      "options": meta[key]["options"],
                      "dev_percent_from_mc": {T: {k: round(s["dev_percent"][k], 2) for k in keep}
                                              for T, s in meta[key]["by_T"].items()},
                      "balance": {T: round(s["balance"][0], 4) for T,
                                  s in meta[key]["by_T"].items()},
                      "e_vs_exact_percent": {T: round(s["exact"]["e_vs_exact_percent"], 2)
                                             for T, s in meta[key]["by_T"].items()}}
    entry |= {"score_setting": meta["score_setting"], "test_scores": meta["test_scores"],
              "test_setting": meta["test_setting"], "date": meta["date"],
              "command": meta["command"], "scored": meta["scored"]}
    print(f"   {path.name}: {entry['size']:,} bytes", flush=True)
    return entry


def recorder(trained: models.Trained):  # noqa: ANN201
    """How a shipped model is judged: digits by the scoreboard, spins by their physics, fields as a
    sampler."""
    if trained.family.samples.digits:
        return record
    return record_field if trained.name == "phi4-flow" else record_ising


def read_manifest() -> dict:
    path = OUT / "manifest.json"
    if path.is_file():
        return json.loads(path.read_text())
    return {"about": "Checkpoints shipped with genlab, written by scripts/pretrain.py; "
                     "course_utils.pretrained loads them (COURSE_TRAIN=1 retrains).", "models": {}}


def write_manifest(manifest: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    manifest["models"] = {k: manifest["models"][k] for k in SHIPPED if k in manifest["models"]}
    tmp = OUT / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    tmp.replace(OUT / "manifest.json")


def check() -> int:
    manifest = read_manifest()
    problems, total = [], 0
    for entry in manifest["models"].values():
        path = OUT / entry["file"]
        if not path.is_file():
            problems.append(f"{path}: missing")
            continue
        total += path.stat().st_size
        if path.stat().st_size != entry["size"]:
            problems.append(f"{path}: {path.stat().st_size} bytes, the manifest says "
                            f"{entry['size']}")
        if sha256_of(path) != entry["sha256"]:
            problems.append(f"{path}: sha256 differs from the manifest's")
        else:
            print(f"ok  {entry['file']:<16} {entry['size']:>10,} bytes  sha256 "
                  f"{entry['sha256'][:12]}…")
    total += (OUT / "manifest.json").stat().st_size if (OUT / "manifest.json").is_file() else 0
    if total > MAX_TOTAL_BYTES:
        problems.append(f"{total:,} bytes in all, more than the {MAX_TOTAL_BYTES:,} allowed")
    for p in problems:
        print("FAIL", p)
    print(f"{len(manifest['models'])} checkpoints, {total:,} bytes with the manifest")
    return 1 if problems else 0


def _setting(text: str) -> tuple[str, Any]:
    """``field=value`` of ``--set`` (the value read as a Python literal:
    6000, 1e-3, (16, 32), None)."""
    name, _, value = text.partition("=")
    if not name or not value:
        raise argparse.ArgumentTypeError(f"expected FIELD=VALUE, got {text!r}")
    try:
        return name.strip(), ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        return name.strip(), value.strip()


def main(argv: list[str] | None = None) -> int:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=tuple(SHIPPED),
                        help="train only these (default: all)")
    parser.add_argument("--set", nargs="+", type=_setting, default=[], metavar="FIELD=VALUE",
                        help="change a field of the shipped recipe (recorded in the checkpoint)")
    parser.add_argument("--seed", type=int, default=1, help="training seed")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--no-board", dest="board", action="store_false",
                        help="skip the 1,000-sample scoreboard score")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--check", action="store_true",
                        help="only verify the manifest's checksums and sizes")
    parser.add_argument("--rescore", action="store_true",
                        help="score the shipped files again (after a change of the scores' "
                             "setting) without training")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="folder (default course_utils/pretrained)")
    args = parser.parse_args(argv)
    args.set = dict(args.set)
    OUT = args.out
    if args.check:
        return check()
    torch.set_num_threads(args.threads)
    for name in args.only or SHIPPED:
        if args.rescore:
            path = OUT / f"{name}.pt"
            trained = models.load(path, "cpu", family=name)
            print(f"== {name}: scoring {path} again", flush=True)
            entry = recorder(trained)(path, trained, args)
        else:
            entry = train(name, args)
        manifest = read_manifest()  # re-read: one file per model, the others kept
        manifest["models"][name] = entry
        write_manifest(manifest)
    return check()


if __name__ == "__main__":
    raise SystemExit(main())
