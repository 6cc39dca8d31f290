"""The one checkpoint format: a trained model's weights plus what is needed to rebuild and judge it.

A checkpoint is one file written by ``torch.save`` holding only plain data (dicts, lists, tuples,
numbers, strings and tensors), so it loads with ``torch.load(..., weights_only=True)``, which
cannot execute code hidden in a file. Layout::

    {"format": 2, "family": "dcgan" | "ddpm" | ..., "config": {...}, "state_dict": {...},
     "history": {...}, "meta": {...}}

``family`` names the model family in ``course_utils.models``, whose config dataclass ``config``
fills and whose ``build`` makes the module that ``state_dict`` loads into; ``meta`` records where
the checkpoint came from (for the shipped ones: the recipe, the budget, the machine, the scores).
Write and read them with ``course_utils.models.save`` / ``load``; this module only checks files.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

FORMAT = 2

__all__ = ["FORMAT", "save_checkpoint", "load_checkpoint", "CheckpointError"]


class CheckpointError(RuntimeError):
    """The file is not a checkpoint this project wrote (or was written by another version)."""


def save_checkpoint(
    path: str | Path,
    family: str,
    model: nn.Module,
    config: dict[str, Any],
    history: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write ``model``'s weights, its ``family`` and ``config`` and the
    training ``history`` to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "family": family,
        "config": _plain(dict(config)),
        "state_dict": {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()},
        "history": _plain(history or {}),
        "meta": _plain(meta or {}),
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # never leave a half-written checkpoint behind
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True``; any other file is
    one ``CheckpointError`` line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}: train one first (see README, 'Command "
                                "line').")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - unpickling errors come in many types
        # torch's message is several lines of advice to load with weights_only=False, which would
        # run whatever code the file holds: never pass it on.
        raise CheckpointError(
            f"{path} is not a genlab checkpoint: torch.load cannot read it as plain weights "
            f"({type(err).__name__}); expected a file written by course_utils.models.save."
        ) from None
    if not isinstance(payload, dict) or "format" not in payload:
        raise CheckpointError(f"{path} is not a genlab checkpoint: it holds no 'format' and "
                              "'family' entries; expected a file written by "
                              "course_utils.models.save.")
    if payload["format"] != FORMAT or "family" not in payload:
        raise CheckpointError(f"{path} was written by another version of genlab (format "
                              f"{payload['format']!r}, this one reads format {FORMAT}): train it "
                              "again with this version.")
    return payload


def _plain(obj: Any) -> Any:
    """Tensors to CPU, NumPy to tensors or numbers: what ``weights_only`` loading accepts."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu")
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(_plain(v) for v in obj)
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if hasattr(obj, "__array__") and not isinstance(obj, (str, bytes)):
        return torch.as_tensor(obj)
    if hasattr(obj, "item") and callable(obj.item):  # NumPy scalars
        return obj.item()
    return obj
