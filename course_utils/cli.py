"""The command line: argparse only. Every command calls one function of the package.

    genlab train gan --epochs 100 --out gan.pt [--data-root DIR] [--device D]   (also: dcgan, wgan-gp, vae, ddpm)
    genlab sample gan.pt -n 64 -o samples.npy [--steps S --eta E --digit D --guidance W]
    genlab scoreboard [CKPT ...] [-n 1000] [--out DIR]
    genlab figures [--out figures] | slides | site [--executed DIR] [--out DIR] | student [--out DIR] | lab

``genlab`` is the installed command; ``python -m course_utils`` is the same command. ``train``
trains a family of ``course_utils.models`` (its options are the family's config fields);
``sample`` writes float32 images in [0, 1] of shape (N, 28, 28) (for the Ising families int8
spins +-1 of shape (N, L, L)) with ``numpy.save``. Nothing in the package imports this module.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch

from . import models
from .checkpoints import CheckpointError
from .data import DataError
from .device import get_device
from .images import to_unit_range
from .paths import artifacts_dir
from .profiles import get_profile
from .publish.editions import write_student_edition
from .publish.figures import write_figures, write_gifs_from
from .publish.lab import run_lab
from .publish.site import build_site, build_slides
from .scoreboard import format_table, score_checkpoints, write_scoreboard

PROG = "genlab"


class CliError(Exception):
    """A mistake in the command line or its inputs: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise CliError(f"{message} (see: {self.prog} --help)")


# --- argument types ------------------------------------------------------------------------


def _positive(kind: type, what: str):  # noqa: ANN202 - an argparse type
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {what}, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive {what}, got {text!r}")
        return value

    return parse


_positive_int = _positive(int, "whole number")
_positive_float = _positive(float, "number")


def _unit_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")
    return value


def _type_of(annotation: str) -> Any:
    """The argparse type of a config field from its annotation ("int | None" -> int)."""
    base = str(annotation).split("|")[0].strip()
    if base.startswith("tuple"):
        base = base[len("tuple["):].split(",")[0].strip()
    return {"int": _positive_int, "float": _positive_float, "str": str}.get(base, str)


# --- the parser, built from the registry ------------------------------------------------------


def _add_config_option(parser: argparse.ArgumentParser, field: dataclasses.Field, required: bool) -> None:
    """One ``train`` option from a config field: --kebab-case name, type from the annotation."""
    flag = "--" + (field.name if field.name.isupper() else field.name.replace("_", "-"))
    meta = dict(field.metadata)
    kwargs: dict[str, Any] = {"dest": field.name, "help": meta.get("help")}
    if str(field.type).startswith("bool"):
        parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, **kwargs)
        return
    kwargs["type"] = _type_of(field.type)
    if "choices" in meta:
        kwargs["choices"] = meta["choices"]
        kwargs["type"] = str
    if str(field.type).startswith("tuple"):
        kwargs["nargs"] = "+" if "..." in str(field.type) else len(field.default)
        kwargs["metavar"] = meta.get("metavar")
    parser.add_argument(flag, required=required, default=None, **kwargs)


def _sample_option_fields() -> dict[str, tuple[dataclasses.Field, list[str]]]:
    """Every sampling option of every family: name -> (field, families that take it)."""
    options: dict[str, tuple[dataclasses.Field, list[str]]] = {}
    for family in models.FAMILIES.values():
        for field in dataclasses.fields(family.sample_options) if family.sample_options else ():
            options.setdefault(field.name, (field, []))[1].append(family.name)
    return options


SAMPLE_HELP = {
    "steps": "sampling steps for diffusion models (DDIM steps, default 50)",
    "eta": "DDIM noise for diffusion models: 0 deterministic (default), 1 DDPM-like",
    "digit": "a conditional model draws only this digit (a diffusion model with classifier-free guidance)",
    "guidance": "guidance weight w of eps_u + w (eps_c - eps_u) with --digit or --all-digits "
                "(default 3; 1 = plain conditional; Ho & Salimans' w is this minus 1)",
    "all_digits": "a conditional diffusion model draws the digits 0-9 in turn (with --guidance 1: a sample of p(x))",
    "temperature": "Ising models: the temperature T > 0 (in J/k_B) to sample at",
    "mh_steps": "ising-ar: independence Metropolis-Hastings steps with the exact Boltzmann weight",
}
SAMPLE_TYPES = {"eta": _unit_float, "digit": int, "guidance": float}


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train a model and save a checkpoint")
    families = train.add_subparsers(dest="model", required=True, parser_class=_Parser)
    for family in models.FAMILIES.values():
        cli_name = family.aliases[0] if family.aliases else family.name
        aliases = [n for n in (family.name, *family.aliases) if n != cli_name]
        sub = families.add_parser(cli_name, aliases=aliases, help=f"train {family.description or family.name}")
        fields = {f.name: f for f in dataclasses.fields(family.config)}
        for name in family.cli_fields:
            _add_config_option(sub, fields[name], required=name in family.required)
        sub.add_argument("--data-root", default=None, help="folder holding MNIST/raw (default: $COURSE_DATA or ./data)")
        sub.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: the best available)")
        sub.add_argument("--seed", type=int, default=1)
        sub.add_argument("--out", required=True, help="checkpoint file to write, e.g. gan.pt")

    sample = commands.add_parser("sample", help="draw images (or Ising configurations) from a checkpoint into a .npy file")
    sample.add_argument("checkpoint")
    sample.add_argument("-n", type=_positive_int, required=True, help="number of images")
    sample.add_argument("-o", "--output", required=True, help="output .npy file")
    sample.add_argument("--device", default=None)
    sample.add_argument("--seed", type=int, default=0)
    for name, (field, _) in _sample_option_fields().items():
        flag = f"--{name.replace('_', '-')}"
        if str(field.type).startswith("bool"):
            sample.add_argument(flag, dest=name, action="store_true", default=None, help=SAMPLE_HELP.get(name))
            continue
        sample.add_argument(flag, dest=name, default=None,
                            type=SAMPLE_TYPES.get(name, _type_of(field.type)), help=SAMPLE_HELP.get(name))

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
    board.add_argument("--all-digits", action="store_true",
                       help="a class-conditional DDPM draws the digits 0-9 in turn (guidance 1) instead of "
                            "sampling without a label")

    figures = commands.add_parser("figures", help="draw the lecture's four diagrams into figures/")
    figures.add_argument("--out", default="figures", help="folder for the diagrams (default: figures)")
    figures.add_argument("--formats", default="png", help="comma-separated: png, svg, pdf (default: png)")
    figures.add_argument("--gifs-from", default=None, metavar="DIR",
                         help="also redraw the sample GIFs from the checkpoints in DIR "
                              "(e.g. build/artifacts/laptop after make run)")
    for name, help_text, out in (("slides", "reveal.js slides from executed notebooks", "build/slides"),
                                 ("site", "static HTML course site from executed notebooks", "build/site")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--executed", default="build/executed-smoke",
                         help="folder of executed .ipynb (default: build/executed-smoke)")
        sub.add_argument("--out", default=out, help=f"output folder (default: {out})")
        sub.add_argument("--source", default="notebooks",
                         help="where relative Markdown image links resolve (default: notebooks)")
    student = commands.add_parser("student", help="the student edition: solutions removed, outputs cleared")
    student.add_argument("--source", default="notebooks", help="folder of the .py notebook sources (default: notebooks)")
    student.add_argument("--out", default="build/student", help="output folder (default: build/student)")
    lab = commands.add_parser("lab", help="JupyterLab with the repository as root, opened on notebooks/")
    lab.add_argument("extra", nargs=argparse.REMAINDER, help="more options for jupyter lab")
    return parser


# --- the commands ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    previous_showwarning, warnings.showwarning = warnings.showwarning, _one_line_warning
    try:
        args = build_parser(prog).parse_args(argv)
        command = {"train": _train, "sample": _sample, "scoreboard": _scoreboard, "figures": _figures,
                   "slides": _slides, "site": _site, "student": _student, "lab": _lab}[args.command]
        return command(args)
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


def _train(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and out.is_dir():
        raise CliError(f"--out {out} is a folder; give a file name such as {out / (args.model + '.pt')}")
    family = models.get(args.model)
    settings = {name: getattr(args, name) for name in family.cli_fields if getattr(args, name) is not None}
    config = family.new_config(**settings)
    device = get_device(args.device)
    data = family.data(config, args.data_root)
    what = "configurations" if family.domain == "ising" else "images"
    print(f"training {args.model} on {device}")
    print(f"data: {len(data):,} {what}, {data.source}")
    start = time.perf_counter()
    trained = models.fit(family, config, data, device, seed=args.seed)
    path = models.save(out, trained)
    print(f"saved {path} after {time.perf_counter() - start:.1f} s")
    if "images_per_second" in trained.history:
        print(f"throughput: {trained.history['images_per_second']:,.0f} images/s")
    return 0


def _sample(args: argparse.Namespace) -> int:
    output = Path(args.output)
    if output.suffix != ".npy":
        raise CliError(f"-o {output}: the output must be a .npy file")
    device = get_device(args.device)
    trained = models.load(args.checkpoint, device)
    given = {name: getattr(args, name) for name in _sample_option_fields() if getattr(args, name) is not None}
    if "steps" not in trained.family.option_names():  # --steps is ignored by one-step samplers
        given.pop("steps", None)
    foreign = sorted(set(given) - set(trained.family.option_names()))
    if foreign:
        takers = sorted({f for name in foreign for f in _sample_option_fields()[name][1]})
        verb = "is" if len(foreign) == 1 else "are"
        raise CliError(f"{', '.join('--' + n for n in foreign)} {verb} for {', '.join(takers)} checkpoints; "
                       f"{args.checkpoint} is a {trained.name}")
    samples = trained.sample(args.n, device, args.seed, **given)
    height, width = samples.shape[-2:]
    if trained.family.domain == "ising":  # spins: int8 +-1 of shape (N, L, L)
        array = torch.where(samples >= 0, 1, -1).to(torch.int8).reshape(args.n, height, width).numpy()
        what = f"{args.n} spin configurations of {height}x{width} (int8, +-1)"
    else:  # digits: float32 in [0, 1] of shape (N, 28, 28)
        array = to_unit_range(samples).clamp(0, 1).reshape(args.n, height, width).numpy().astype(np.float32)
        what = f"{args.n} images of {height}x{width} in [0, 1]"
    output.parent.mkdir(parents=True, exist_ok=True)
    np.save(output, array)
    print(f"wrote {output}: {what} from a {trained.name} checkpoint")
    return 0


def _scoreboard(args: argparse.Namespace) -> int:
    device = get_device(args.device)
    profile_dir = artifacts_dir() / get_profile().name
    paths = [Path(p) for p in args.checkpoints] or sorted(profile_dir.glob("*.pt"))
    if not paths:
        raise CliError(f"no checkpoints given and none found in {profile_dir}: run the notebooks "
                       "(make run) or `genlab train ...` first")
    print(f"scoring {len(paths)} checkpoint(s) with {args.n} samples each on {device}")
    board = score_checkpoints(paths, n=args.n, data_root=args.data_root, device=device,
                              seed=args.seed, steps=args.steps, eta=args.eta, all_digits=args.all_digits)
    written = write_scoreboard(board, args.out or profile_dir)
    print(format_table(board))
    print("wrote " + ", ".join(str(p) for p in written.values()))
    return 0


def _figures(args: argparse.Namespace) -> int:
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    for path in write_figures(args.out, formats=formats):
        print(path)
    if args.gifs_from:
        for path in write_gifs_from(args.gifs_from, args.out):
            print(path)
    plt.close("all")
    return 0


def _slides(args: argparse.Namespace) -> int:
    for path in build_slides(args.executed, args.out, source_dir=args.source):
        print(path)
    return 0


def _site(args: argparse.Namespace) -> int:
    index = build_site(args.executed, args.out, source_dir=args.source)
    print(f"site: {index}  (view: python -m http.server -d {index.parent})")
    return 0


def _student(args: argparse.Namespace) -> int:
    written = write_student_edition(args.source, args.out)
    print(f"student edition: {len(written)} notebooks in {args.out} (solutions removed, outputs cleared)")
    return 0


def _lab(args: argparse.Namespace) -> int:
    return run_lab(args.extra)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    print(f"warning: {message}", file=sys.stderr)
