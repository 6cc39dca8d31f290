"""Checkpoints shipped with the course: load one when it serves the profile, train otherwise.

``course_utils/pretrained/`` holds one checkpoint per shipped family, named after it
(``<family>.pt``): the VAE of notebook 00, the UNet DDPM of 07 and the DCGAN, conditional DCGAN and
WGAN-GP of 08, trained longer than the laptop profile by ``scripts/pretrain.py``; the lecture's MLP
GAN of notebooks 03 and 05 (the laptop run itself, with 05's MMD after every epoch); the four Ising
models of notebook 09 (``ising-rbm``, ``ising-gan``, ``ising-ddpm``, ``ising-ar``), trained with
the laptop profile's own recipe; and ``manifest.json`` (file, family, the profiles each serves,
sha256, size, recipe, budget, scores). A notebook hands its own training code to ``load_or_train``::

    from course_utils import pretrained
    trained = pretrained.load_or_train("ddpm", lambda: models.fit("ddpm", config, data=data))

which loads the shipped ``ddpm.pt`` (checksum checked) when it serves the current profile
(``COURSE_PROFILE``; only ``laptop`` has shipped checkpoints, so ``smoke`` and ``full`` train),
and otherwise calls ``train_fn``; ``COURSE_TRAIN=1`` always trains. Either way one line says
which it did. Both return a ``models.Trained``; a loaded one's training history is its
``.history`` and its recipe, budget and scores are in ``.meta``.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import models
from .paths import artifacts_dir
from .profiles import get_profile
from .scoring.classifier import sha256_of

__all__ = ["DIR", "PretrainedError", "manifest", "entry", "shipped", "verify", "force_training",
           "load_or_train", "describe", "file_name"]

DIR = Path(__file__).resolve().with_name("pretrained")
MANIFEST = DIR / "manifest.json"
TRAIN_SWITCH = "COURSE_TRAIN"


class PretrainedError(models.CheckpointError):
    """A shipped checkpoint does not match its manifest (one line, naming the file)."""


def _name(name: str) -> str:
    """The family name of ``name`` (a family name or alias), which the manifest and file use."""
    return models.get(name).name


def file_name(name: str) -> str:
    """The shipped file of family ``name``: ``<family>.pt``."""
    return f"{_name(name)}.pt"


def manifest() -> dict[str, Any]:
    """The manifest's ``models`` (name -> entry); empty when nothing is shipped."""
    if not MANIFEST.is_file():
        return {}
    try:
        return json.loads(MANIFEST.read_text())["models"]
    except (ValueError, KeyError, TypeError) as err:
        raise PretrainedError(f"{MANIFEST} is not a valid manifest ({type(err).__name__}); "
                              "expected the file scripts/pretrain.py writes") from None


def entry(name: str) -> dict[str, Any] | None:
    """The manifest entry of family ``name`` (``"ddpm"``, ``"dcgan"``,
    ``"wgan-gp"``, ...), if shipped."""
    return manifest().get(_name(name))


def shipped(name: str, profile: str | None = None) -> Path | None:
    """The shipped checkpoint of ``name`` if its manifest entry serves ``profile`` (default: the
    current one) and the file is there; else ``None`` (then the notebook trains)."""
    found = entry(name)
    profile_name = get_profile(profile).name
    if found is None or profile_name not in found.get("profiles", ()):
        return None
    path = DIR / found["file"]
    return path if path.is_file() else None


def verify(name: str) -> Path:
    """The shipped file of ``name`` after checking its size and sha256 against the manifest."""
    found = entry(name)
    if found is None:
        raise PretrainedError(f"{MANIFEST} lists no {_name(name)} checkpoint")
    path = DIR / found["file"]
    if not path.is_file():
        raise PretrainedError(f"{path} is listed in {MANIFEST.name} but missing")
    if sha256_of(path) != found["sha256"]:
        raise PretrainedError(f"{path} does not match its sha256 in {MANIFEST.name} (changed or "
                              "corrupt): restore it from the repository or run scripts/pretrain.py")
    return path


def force_training() -> bool:
    """True when ``COURSE_TRAIN`` is set to 1 (or true / yes / on): train even
    if a checkpoint is shipped."""
    return os.environ.get(TRAIN_SWITCH, "").strip().lower() in ("1", "true", "yes", "on")


def describe(meta: dict[str, Any]) -> str:
    """A short account of a shipped checkpoint's budget and time, e.g. '4,000 steps of 128, 2x the
    laptop profile, trained in 41 min on a 2-core CPU with 1 torch thread'."""
    budget = meta.get("budget", {})
    if "steps" in budget:
        text = f"{budget['steps']:,} steps of {budget.get('batch_size', '?')}"
    elif "epochs" in budget:
        text = f"{budget['epochs']} epochs"
        if "images_seen" in budget:
            text += f" ({budget['images_seen']:,} images seen)"
    else:
        text = "budget not recorded"
    if "vs_laptop" in budget:
        text += f", {budget['vs_laptop']:g}x the laptop profile"
    if "seconds" in meta:
        machine = meta.get("machine", {})
        cores, threads = machine.get("cpu_count"), machine.get("torch_threads")
        seconds = meta["seconds"]
        took = f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
        text += f", trained in {took}" + (f" on a {cores}-core CPU" if cores else "")
        if threads:
            text += f" with {threads} torch thread{'s' if threads != 1 else ''}"
    return text


def load_or_train(name: str, train_fn: Callable[[], models.Trained], device: Any = None,
                  save_to: str | Path | None = None) -> models.Trained:
    """The shipped ``name`` if one serves this profile (and ``COURSE_TRAIN``
    is not 1), else ``train_fn()``.

    Prints one line saying which. ``train_fn`` is the notebook's own training code and returns a
    ``models.Trained``. ``save_to``: also write the model used there (e.g. for the scoreboard;
    ``True`` means ``artifacts_dir()/<profile>/<name>.pt``).
    """
    key = _name(name)
    family = models.get(key)
    profile = get_profile()
    path = shipped(key)
    if force_training() or path is None:
        why = (f"{TRAIN_SWITCH}=1" if force_training()
               else f"no shipped {key} checkpoint serves the {profile.name!r} profile")
        print(f"Training the {family.title} here ({why}).", flush=True)
        trained = train_fn()
        if not isinstance(trained, models.Trained):
            raise TypeError("train_fn must return a course_utils.models.Trained, got "
                            f"{type(trained).__name__}")
    else:
        trained = models.load(verify(key), device, family=family.name)
        print(f"Loaded the shipped {family.title}: course_utils/pretrained/{path.name} "
              f"({describe(trained.meta)}); {TRAIN_SWITCH}=1 trains it here instead.", flush=True)
    if save_to is not None:
        target = artifacts_dir() / profile.name / f"{key}.pt" if save_to is True else Path(save_to)
        models.save(target, trained)
    return trained
