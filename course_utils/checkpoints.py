"""Checkpoints: a trained model's weights plus what is needed to rebuild and judge it.

A checkpoint is one file written by ``torch.save`` holding only plain data (dicts, lists,
numbers, strings and tensors), so it loads with ``torch.load(..., weights_only=True)``, which
cannot execute code hidden in a file. Layout::

    {"format": 1, "kind": "gan" | "ddpm" | ..., "config": {...},
     "state_dicts": {"gen_model": {...}, "disc_model": {...}}, "history": {...}}

``kind`` and ``config`` say how to rebuild the networks (see ``course_utils.cli``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

FORMAT = 1

__all__ = ["save_checkpoint", "load_checkpoint", "CheckpointError"]


class CheckpointError(RuntimeError):
    """The file is not a checkpoint this project wrote (or was written by another version)."""


def save_checkpoint(
    path: str | Path,
    kind: str,
    models: dict[str, nn.Module],
    config: dict[str, Any],
    history: dict[str, Any] | None = None,
) -> Path:
    """Write ``models`` (by name), their ``config`` and the training ``history`` to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "kind": kind,
        "config": dict(config),
        "state_dicts": {name: _cpu_state(model) for name, model in models.items()},
        "history": _plain(history or {}),
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # never leave a half-written checkpoint behind
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by ``save_checkpoint`` with ``weights_only=True``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}: train one first (see README, 'Command line').")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - unpickling errors come in many types
        raise CheckpointError(f"{path} is not a readable checkpoint: {err}") from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or "kind" not in payload:
        raise CheckpointError(f"{path} is not a course_utils checkpoint (format {FORMAT}).")
    return payload


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}


def _plain(obj: Any) -> Any:
    """Tensors to CPU, tuples to lists, NumPy to tensors: what ``weights_only`` loading accepts."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu")
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "__array__") and not isinstance(obj, (str, bytes)):
        return torch.as_tensor(obj)
    if hasattr(obj, "item") and callable(obj.item):  # NumPy scalars
        return obj.item()
    return obj
