"""The command line: argparse only. Every command calls one function of the package.

    genlab train FAMILY [--profile laptop] [--FIELD VALUE ...] --out model.pt
                 [--data-root DIR] [--device D]
    genlab sample model.pt -n 64 -o samples.npy|.npz
                  [--steps S --solver heun --digit D --all-digits ...]
    genlab scoreboard [CKPT ...] [-n 1000] [--out DIR]
    genlab figures [--out figures] | slides | site [--executed DIR] [--out DIR]
    genlab student [--out DIR] | lab

``genlab`` is the installed command; ``python -m course_utils`` is the same command. ``train``
trains a family of ``course_utils.models`` with its recipe for a profile (default: ``laptop``);
its options are the family's config fields, offered from their types. ``sample`` writes what the
family's samples are (digits: float32 images in [0, 1] of shape (N, 28, 28); Ising models: int8
spins +-1 of shape (N, L, L)) with ``numpy.save``, or into an ``.npz`` file under the samples'
name, with ``log_q`` (the exact log-density of every sample) for a family that has one. Every
mistake is one line on stderr and exit status 2, before any training or sampling starts.
Nothing in the package imports this module.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from . import models
from .checkpoints import CheckpointError
from .data import DataError, MnistFallbackWarning
from .device import get_device
from .families.base import ExactDensity, FieldSpec, field_specs
from .paths import artifacts_dir
from .profiles import PROFILE_NAMES, get_profile
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


# --- argument types, from the fields' types ----------------------------------------------------


def _number(kind: type, positive: bool):  # noqa: ANN202 - an argparse type
    what = {int: "whole number", float: "number"}[kind]
    what = f"positive {what}" if positive else what

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {what}, got {text!r}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite {what}, got {text!r}")
        if positive and not value > 0:
            raise argparse.ArgumentTypeError(f"expected a {what}, got {text!r}")
        return value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


_positive_int = _number(int, positive=True)


def _unit_float(text: str) -> float:
    value = _number(float, positive=False)(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")
    return value


def _add_field(parser: argparse.ArgumentParser, spec: FieldSpec, flag_style: str) -> None:
    """One option from a config field or sampling option: --kebab-case, parsed by its type.

    ``flag_style``: "config" (booleans are --x / --no-x) or "option" (booleans are flags)."""
    flag = "--" + (spec.name if spec.name.isupper() else spec.name.replace("_", "-"))
    kwargs: dict[str, Any] = {"dest": spec.name, "default": None, "help": spec.help}
    if spec.kind is bool:
        action = argparse.BooleanOptionalAction if flag_style == "config" else "store_true"
        parser.add_argument(flag, action=action, **kwargs)
        return
    kwargs["type"] = _number(spec.kind, positive=False) if spec.kind in (int, float) else str
    if spec.choices is not None:
        kwargs["choices"] = spec.choices
    if spec.nargs is not None:
        kwargs["nargs"] = spec.nargs
        kwargs["metavar"] = spec.metavar
    parser.add_argument(flag, **kwargs)


def _sample_options() -> dict[str, tuple[FieldSpec, list[str]]]:
    """Every sampling option of every family: name -> (its spec, the families that take it)."""
    options: dict[str, tuple[FieldSpec, list[str]]] = {}
    for family in models.FAMILIES.values():
        for name, spec in field_specs(family.options_type).items():
            options.setdefault(name, (spec, []))[1].append(family.name)
    return options


# --- the parser, built from the registry ---------------------------------------------------------


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train a model and save a checkpoint")
    families = train.add_subparsers(dest="model", required=True, parser_class=_Parser)
    for family in models.FAMILIES.values():
        cli_name = family.aliases[0] if family.aliases else family.name
        aliases = [n for n in (family.name, *family.aliases) if n != cli_name]
        sub = families.add_parser(cli_name, aliases=aliases, help=f"train {family.description}",
                                  description=f"Train {family.description}: the profile's recipe, "
                                              "with the options given here changed.")
        specs = field_specs(family.config_type)
        for name in family.cli_fields:
            _add_field(sub, specs[name], "config")
        sub.add_argument("--profile", choices=PROFILE_NAMES, default=None,
                         help="the recipe to start from (default: $COURSE_PROFILE or laptop)")
        sub.add_argument("--data-root", default=None,
                         help="folder holding MNIST/raw (default: $COURSE_DATA or ./data; given, "
                              "it must hold MNIST)")
        sub.add_argument("--device", default=None,
                         help="cpu, cuda, cuda:N or mps (default: the best available)")
        sub.add_argument("--seed", type=int, default=1, help="training seed (default 1)")
        sub.add_argument("--out", required=True, help="checkpoint file to write, e.g. model.pt")

    sample = commands.add_parser("sample",
                                 help="draw samples from a checkpoint into a .npy or .npz file",
                                 description="Draw samples from a checkpoint. Options a family "
                                             "does not take are refused with the families that do.")
    sample.add_argument("checkpoint",
                        help="a checkpoint written by `genlab train` or shipped with the course")
    sample.add_argument("-n", type=_positive_int, required=True, help="number of samples")
    sample.add_argument("-o", "--output", required=True,
                        help="output file: .npy (the samples) or .npz (the samples and, for a "
                             "model with an exact density, log_q)")
    sample.add_argument("--device", default=None,
                        help="cpu, cuda, cuda:N or mps (default: the best available)")
    sample.add_argument("--seed", type=int, default=0,
                        help="sampling seed: the same seed gives the same samples (default 0)")
    for spec, takers in _sample_options().values():
        help_text = f"{spec.help or ''} [{', '.join(takers)}]".strip()
        _add_field(sample, dataclasses.replace(spec, help=help_text), "option")

    board = commands.add_parser("scoreboard",
                                help="score checkpoints side by side (table + figure)")
    board.add_argument("checkpoints", nargs="*",
                       help="checkpoint files (default: every .pt in build/artifacts/<profile>/)")
    board.add_argument("-n", type=_positive_int, default=1000,
                       help="samples per model and held-out real digits (default 1000)")
    board.add_argument("--out", default=None, help="folder for scoreboard.md/.json/.png "
                       "(default: the artifacts folder of the profile)")
    board.add_argument("--data-root", default=None,
                       help="folder holding MNIST/raw (default: $COURSE_DATA)")
    board.add_argument("--device", default=None,
                       help="cpu, cuda, cuda:N or mps (default: the best available)")
    board.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    board.add_argument("--steps", type=_positive_int, default=None,
                       help="steps of iterative samplers (default: the family's, 50 for the DDPM)")
    board.add_argument("--eta", type=_unit_float, default=1.0,
                       help="DDIM noise for diffusion models (default 1; 0 is deterministic)")
    board.add_argument("--all-digits", action="store_true",
                       help="class-conditional models draw the digits 0-9 in turn instead of "
                            "sampling without a label")

    figures = commands.add_parser("figures", help="draw the lecture's four diagrams into figures/")
    figures.add_argument("--out", default="figures",
                         help="folder for the diagrams (default: figures)")
    figures.add_argument("--formats", default="png",
                         help="comma-separated: png, svg, pdf (default: png)")
    figures.add_argument("--gifs-from", default=None, metavar="DIR",
                         help="also redraw the sample GIFs from the checkpoints in DIR "
                              "(e.g. build/artifacts/laptop after make run)")
    for name, help_text, out in (("slides", "reveal.js slides from executed notebooks",
                                  "build/slides"),
                                 ("site", "static HTML course site from executed notebooks",
                                  "build/site")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--executed", default="build/executed-smoke",
                         help="folder of executed .ipynb (default: build/executed-smoke)")
        sub.add_argument("--out", default=out, help=f"output folder (default: {out})")
        sub.add_argument("--source", default="notebooks",
                         help="where relative Markdown image links resolve (default: notebooks)")
    student = commands.add_parser("student",
                                  help="the student edition: solutions removed, outputs cleared")
    student.add_argument("--source", default="notebooks",
                         help="folder of the .py notebook sources (default: notebooks)")
    student.add_argument("--out", default="build/student",
                         help="output folder (default: build/student)")
    lab = commands.add_parser("lab",
                              help="JupyterLab with the repository as root, opened on notebooks/")
    lab.add_argument("extra", nargs=argparse.REMAINDER, help="more options for jupyter lab")
    return parser


# --- the commands --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    previous_showwarning, warnings.showwarning = warnings.showwarning, _one_line_warning
    try:
        args = build_parser(prog).parse_args(argv)
        command = {"train": _train, "sample": _sample, "scoreboard": _scoreboard,
                   "figures": _figures, "slides": _slides, "site": _site, "student": _student,
                   "lab": _lab}[args.command]
        return command(args)
    except (CliError, ValueError, TypeError, CheckpointError, DataError) as err:
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


def _writable(path: Path, flag: str) -> None:
    """Refuse, before any work, an output path that cannot be written: a folder, or a place where no
    file can be created."""
    if path.is_dir():
        raise CliError(f"{flag} {path} is a folder; give a file name such as {path / 'out'}")
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{path.name}.", suffix=".check"):
            pass
    except OSError as err:
        raise CliError(f"{flag} {path}: cannot write there ({err.strerror or err})") from None


def _training_data(family: models.Family, config: Any, data_root: str | None) -> Any:
    """The recipe's data; an explicit ``--data-root`` without MNIST is a mistake, not a fallback."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MnistFallbackWarning)
        data = family.data(config, data_root)
    fell_back = [w for w in caught if issubclass(w.category, MnistFallbackWarning)]
    if fell_back and data_root is not None:
        raise CliError(f"--data-root {data_root} holds no MNIST (expected "
                       f"{Path(data_root) / 'MNIST' / 'raw'} with the four idx files) and it could "
                       "not be downloaded there; leave --data-root out to train on the offline "
                       "digits")
    for w in caught:
        _one_line_warning(w.message, w.category, w.filename, w.lineno)
    return data


def _train(args: argparse.Namespace) -> int:
    out = Path(args.out)
    _writable(out, "--out")
    family = models.get(args.model)
    settings = {name: getattr(args, name) for name in family.cli_fields
                if getattr(args, name) is not None}
    if ("epochs" in settings and "train_images" in family.cli_fields
            and "train_images" not in settings):
        settings["train_images"] = None  # --epochs replaces a budget given in images seen
    if "train_images" in settings and "epochs" in family.cli_fields and "epochs" not in settings:
        settings["epochs"] = None
    profile = get_profile(args.profile)
    config = models.recipe(family, profile, **settings)
    device = get_device(args.device)
    data = _training_data(family, config, args.data_root)
    print(f"training {family.name} on {device}: the {profile.name} recipe"
          + (f" with {', '.join(f'{k}={v}' for k, v in settings.items())}" if settings else ""))
    print(f"data: {len(data):,} {family.samples.noun}, {data.source}")
    start = time.perf_counter()
    trained = models.fit(family, config, data, device, seed=args.seed)
    trained.meta["recipe"] = {"family": family.name, "profile": profile.name, "overrides": settings}
    path = models.save(out, trained)
    print(f"saved {path} after {time.perf_counter() - start:.1f} s")
    history = trained.history or {}
    rate = history.get("images_per_second", history.get("examples_per_second"))
    if rate is not None:  # the flows' training loop counts examples: the family's samples
        print(f"throughput: {rate:,.0f} {family.samples.noun}/s")
    return 0


def _sample(args: argparse.Namespace) -> int:
    output = Path(args.output)
    if output.suffix not in (".npy", ".npz"):
        raise CliError(f"-o {output}: the output must be a .npy or .npz file")
    _writable(output, "-o")
    device = get_device(args.device)
    trained = models.load(args.checkpoint, device)
    family = trained.family
    everyone = _sample_options()
    # an option given: any value but an absent one (None) or an unset flag (False); 0 is a value
    given = {name: value for name in everyone
             if (value := getattr(args, name)) is not None and value is not False}
    foreign = sorted(set(given) - set(family.option_names()))
    if foreign:
        takers = sorted({f for name in foreign for f in everyone[name][1]})
        verb = "is" if len(foreign) == 1 else "are"
        raise CliError(f"{', '.join('--' + n.replace('_', '-') for n in foreign)} {verb} for "
                       f"{', '.join(takers)} checkpoints; {args.checkpoint} is a {trained.name}")
    family.options(**given)  # a bad value is one line here, before sampling
    arrays: dict[str, np.ndarray] = {}
    if output.suffix == ".npz" and isinstance(family, ExactDensity):
        samples, log_q = trained.sample_with_log_q(args.n, device, args.seed, **given)
        arrays["log_q"] = log_q.numpy()
    else:
        samples = trained.sample(args.n, device, args.seed, **given)
    arrays = {family.samples.key: family.samples.to_array(samples), **arrays}
    if output.suffix == ".npz":
        np.savez(output, **arrays)
    else:
        np.save(output, arrays[family.samples.key])
    shape = "x".join(str(s) for s in arrays[family.samples.key].shape[1:])
    extra = " and their log_q" if "log_q" in arrays else ""
    print(f"wrote {output}: {args.n} {family.samples.noun} of {shape}{extra} from a {trained.name} "
          "checkpoint")
    return 0


def _scoreboard(args: argparse.Namespace) -> int:
    device = get_device(args.device)
    profile_dir = artifacts_dir() / get_profile().name
    paths = [Path(p) for p in args.checkpoints] or sorted(profile_dir.glob("*.pt"))
    if not paths:
        raise CliError(f"no checkpoints given and none found in {profile_dir}: run the notebooks "
                       "(make run) or `genlab train ...` first")
    if args.out is not None:
        _writable(Path(args.out) / "scoreboard.md", "--out")
    print(f"scoring {len(paths)} checkpoint(s) with {args.n} samples each on {device}")
    board = score_checkpoints(paths, n=args.n, data_root=args.data_root, device=device,
                              seed=args.seed, steps=args.steps, eta=args.eta,
                              all_digits=args.all_digits)
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
    print(f"student edition: {len(written)} notebooks in {args.out} (solutions removed, outputs "
          "cleared)")
    return 0


def _lab(args: argparse.Namespace) -> int:
    return run_lab(args.extra)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    print(f"warning: {message}", file=sys.stderr)
