"""Command line for instructors: pretrain before class, sample later.

    python -m course_utils train gan --epochs 100 --out gan.pt [--data-root DIR] [--device D]
    python -m course_utils sample gan.pt -n 64 -o samples.npy
    python -m course_utils train ddpm --train-steps 2000 --out ddpm.pt    (also: vae, dcgan, wgan-gp)
    python -m course_utils scoreboard [CKPT ...] [-n 1000] [--out DIR]
    python -m course_utils figures [--out figures]
    python -m course_utils slides|site [--executed DIR] [--out DIR]

``sample`` writes float32 images in [0, 1] of shape (N, 28, 28) with ``numpy.save``.
Each model family registers how to add its ``train`` options, how to train from them, and how
to sample a checkpoint of its ``kind``; this file only dispatches.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .checkpoints import CheckpointError, load_checkpoint
from .device import get_device

# model name -> (module, function adding its options, function training from the parsed args).
# The trainer returns (path written, images trained on per second or None).
TRAINERS: dict[str, tuple[str, str, str]] = {
    "gan": ("course_utils.cli", "add_gan_args", "train_gan_from_args"),  # the lecture's MLP GAN
    "dcgan": ("course_utils.cli", "add_gan_args", "train_gan_from_args"),
    "wgan-gp": ("course_utils.cli", "add_gan_args", "train_gan_from_args"),
    "vae": ("course_utils.vae", "add_vae_args", "train_vae_from_args"),
    "ddpm": ("course_utils.diffusion", "add_ddpm_args", "train_ddpm_from_args"),
}
# checkpoint kind -> (module, function(payload, n, device, seed, args) -> images in [0, 1], (N, 28, 28))
SAMPLERS: dict[str, tuple[str, str]] = {
    "gan": ("course_utils.cli", "sample_gan_checkpoint"),
    "vae": ("course_utils.vae", "sample_vae_checkpoint"),
    "ddpm": ("course_utils.diffusion", "sample_ddpm_checkpoint"),
}
# commands that need no device: name -> (module, add-options function, main(args) -> exit status)
TOOLS: dict[str, tuple[str, str, str, str]] = {
    "figures": ("course_utils.figures", "add_figures_args", "figures_main",
                "draw the lecture's four diagrams into figures/"),
    "slides": ("course_utils.site", "add_slides_args", "slides_main",
               "reveal.js slides from executed notebooks"),
    "site": ("course_utils.site", "add_site_args", "site_main",
             "static HTML course site from executed notebooks"),
}


class CliError(Exception):
    """A mistake in the command line or its inputs: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise CliError(f"{message} (see: {self.prog} --help)")


def _resolve(module: str, name: str) -> Callable[..., Any]:
    return getattr(importlib.import_module(module), name)


# --- the lecture's GAN -------------------------------------------------------------------


def add_gan_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epochs", type=_positive_int, required=True, help="training epochs")
    parser.add_argument("--batch-size", type=_positive_int, default=64)
    parser.add_argument("--z-size", type=_positive_int, default=None,
                        help="noise size (default: 20 for gan, 100 for dcgan and wgan-gp)")
    parser.add_argument("--mode-z", choices=("uniform", "normal"), default="uniform")
    parser.add_argument("--n-train", type=_positive_int, default=None,
                        help="use only the first N training images (default: all)")


def train_gan_from_args(args: argparse.Namespace, device: torch.device) -> tuple[Path, float]:
    from .data import load_mnist
    from .device import seed_everything
    from .gan import fit_gan, gan_config, save_gan

    data = load_mnist(root=args.data_root, train=True, n=args.n_train)
    print(f"data: {len(data):,} images, {data.source}")
    seed_everything(args.seed)
    architecture = "mlp" if args.model == "gan" else args.model
    config = gan_config(z_size=args.z_size, mode_z=args.mode_z, architecture=architecture)
    gen_model, disc_model, history = fit_gan(config, data, args.epochs, device, seed=args.seed,
                                             batch_size=args.batch_size)
    return save_gan(args.out, gen_model, disc_model, config, history), history["images_per_second"]


def sample_gan_checkpoint(payload: dict[str, Any], n: int, device: torch.device, seed: int,
                          args: argparse.Namespace) -> torch.Tensor:
    from .gan import build_gan, sample_gan

    config = payload["config"]
    gen_model, _ = build_gan(config, device)
    gen_model.load_state_dict(payload["state_dicts"]["gen_model"])
    return sample_gan(gen_model, n, config["z_size"], config["mode_z"], device, seed)


# --- parser and dispatch -----------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m course_utils", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train a model and save a checkpoint")
    models = train.add_subparsers(dest="model", required=True, parser_class=_Parser)
    for name, (module, add_args, _) in TRAINERS.items():
        sub = models.add_parser(name, help=f"train the {name} model")
        _resolve(module, add_args)(sub)
        sub.add_argument("--data-root", default=None, help="folder holding MNIST/raw (default: $COURSE_DATA or ./data)")
        sub.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: the best available)")
        sub.add_argument("--seed", type=int, default=1)
        sub.add_argument("--out", required=True, help="checkpoint file to write, e.g. gan.pt")

    sample = commands.add_parser("sample", help="draw images from a checkpoint into a .npy file")
    sample.add_argument("checkpoint")
    sample.add_argument("-n", type=_positive_int, required=True, help="number of images")
    sample.add_argument("-o", "--output", required=True, help="output .npy file")
    sample.add_argument("--device", default=None)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--steps", type=_positive_int, default=None,
                        help="sampling steps for diffusion models (DDIM steps, default 50)")
    sample.add_argument("--eta", type=_unit_float, default=None,
                        help="DDIM noise for diffusion models: 0 deterministic (default), 1 DDPM-like")
    sample.add_argument("--digit", type=int, default=None,
                        help="a conditional diffusion model draws this digit (classifier-free guidance)")
    sample.add_argument("--guidance", type=float, default=None,
                        help="guidance weight w with --digit (default 3; 1 = plain conditional)")

    board = commands.add_parser("scoreboard", help="score checkpoints side by side (table + figure)")
    board.add_argument("checkpoints", nargs="*",
                       help="checkpoint files (default: every .pt in build/artifacts/<profile>/)")
    board.add_argument("-n", type=_positive_int, default=1000,
                       help="samples per model and held-out real digits (default 1000)")
    board.add_argument("--out", default=None, help="folder for scoreboard.md/.json/.png "
                       "(default: the artifacts folder of the profile)")
    board.add_argument("--data-root", default=None)
    board.add_argument("--device", default=None)
    board.add_argument("--seed", type=int, default=0)
    board.add_argument("--steps", type=_positive_int, default=None,
                       help="DDIM steps for diffusion models (default 50)")
    board.add_argument("--eta", type=_unit_float, default=1.0,
                       help="DDIM noise for diffusion models (default 1; 0 is deterministic)")

    for name, (module, add_args, _, help_text) in TOOLS.items():
        _resolve(module, add_args)(commands.add_parser(name, help=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .data import DataError

    previous_showwarning, warnings.showwarning = warnings.showwarning, _one_line_warning
    try:
        args = build_parser().parse_args(argv)
        if args.command in TOOLS:
            module, _, run, _ = TOOLS[args.command]
            return _resolve(module, run)(args)
        device = get_device(args.device)
        if args.command == "train":
            return _train(args, device)
        if args.command == "scoreboard":
            return _scoreboard(args, device)
        return _sample(args, device)
    except (CliError, ValueError, CheckpointError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a missing input, an unwritable --out or -o, a full disk
        print(f"error: {err.strerror or err}: {err.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = previous_showwarning


def _train(args: argparse.Namespace, device: torch.device) -> int:
    out = Path(args.out)
    if out.exists() and out.is_dir():
        raise CliError(f"--out {out} is a folder; give a file name such as {out / (args.model + '.pt')}")
    module, _, trainer = TRAINERS[args.model]
    print(f"training {args.model} on {device}")
    start = time.perf_counter()
    path, images_per_second = _resolve(module, trainer)(args, device)
    print(f"saved {path} after {time.perf_counter() - start:.1f} s")
    if images_per_second is not None:
        print(f"throughput: {images_per_second:,.0f} images/s")
    return 0


def _sample(args: argparse.Namespace, device: torch.device) -> int:
    output = Path(args.output)
    if output.suffix != ".npy":
        raise CliError(f"-o {output}: the output must be a .npy file")
    payload = load_checkpoint(args.checkpoint)
    kind = payload["kind"]
    if kind not in SAMPLERS:
        raise CliError(f"{args.checkpoint} holds a {kind!r} model, which cannot be sampled here")
    if kind != "ddpm" and (args.digit is not None or args.eta is not None or args.guidance is not None):
        raise CliError(f"--digit, --eta and --guidance are for diffusion checkpoints; {args.checkpoint} is a {kind}")
    images = sample_checkpoint(payload, args.n, device, args.seed, args.steps,
                               eta=args.eta, digit=args.digit, guidance=args.guidance).numpy()
    output.parent.mkdir(parents=True, exist_ok=True)
    np.save(output, images.astype(np.float32))
    print(f"wrote {output}: {images.shape[0]} images of 28x28 in [0, 1] from a {kind} checkpoint")
    return 0


def sample_checkpoint(payload: dict[str, Any], n: int, device: torch.device, seed: int = 0,
                      steps: int | None = None, **options: Any) -> torch.Tensor:
    """``n`` images in [0, 1], shape (n, 28, 28), float32 on the CPU, from any loaded checkpoint.

    ``steps`` and ``options`` (``eta``, ``digit``, ``guidance``) go to samplers that use them
    (diffusion); the others ignore them."""
    kind = payload["kind"]
    if kind not in SAMPLERS:
        raise CliError(f"a {kind!r} checkpoint cannot be sampled (known kinds: {', '.join(SAMPLERS)})")
    images = _resolve(*SAMPLERS[kind])(payload, n, device, seed, argparse.Namespace(steps=steps, **options))
    images = torch.as_tensor(images).detach().float().cpu()
    return images.reshape(n, 28, 28).clamp_(0, 1)


def _scoreboard(args: argparse.Namespace, device: torch.device) -> int:
    from .paths import artifacts_dir
    from .profiles import get_profile
    from .scoreboard import format_table, score_checkpoints, write_scoreboard

    profile_dir = artifacts_dir() / get_profile().name
    paths = [Path(p) for p in args.checkpoints] or sorted(profile_dir.glob("*.pt"))
    if not paths:
        raise CliError(f"no checkpoints given and none found in {profile_dir}: run the notebooks "
                       "(make run) or `python -m course_utils train ...` first")
    print(f"scoring {len(paths)} checkpoint(s) with {args.n} samples each on {device}")
    board = score_checkpoints(paths, n=args.n, data_root=args.data_root, device=device,
                              seed=args.seed, steps=args.steps, eta=args.eta)
    written = write_scoreboard(board, args.out or profile_dir)
    print(format_table(board))
    print("wrote " + ", ".join(str(p) for p in written.values()))
    return 0


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    print(f"warning: {message}", file=sys.stderr)


def _unit_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value
