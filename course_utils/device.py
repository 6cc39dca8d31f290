"""Device choice and reproducibility.

The lecture's code moves tensors to the GPU unconditionally (``cuda()``) and so never runs
on a laptop. Here the device is picked once, in the order ``cuda`` -> ``mps`` -> ``cpu``,
and passed explicitly to every function that needs one. GPU and CPU runs take the same code
path; only the device differs.
"""
from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

DeviceLike = str | torch.device | None


def get_device(preferred: DeviceLike = None) -> torch.device:
    """Return the device to compute on.

    ``preferred`` (e.g. ``"cpu"`` or ``"cuda:1"``) or the environment variable ``COURSE_DEVICE``
    wins when given; otherwise the first available of ``cuda``, ``mps``, ``cpu``.
    A requested device that this machine does not have is a clear ``ValueError``.
    """
    choice = preferred if preferred is not None else os.environ.get("COURSE_DEVICE") or None
    if choice is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(choice)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"Unknown device {choice!r}: use 'cpu', 'cuda', 'cuda:N' or 'mps'."
        ) from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"Device {choice!r} was requested but CUDA is not available here; use "
                         "'cpu'.")
    if (device.type == "cuda" and device.index is not None
            and device.index >= torch.cuda.device_count()):
        raise ValueError(
            f"Device {choice!r} was requested but only {torch.cuda.device_count()} GPU(s) exist."
        )
    if device.type == "mps" and not _mps_available():
        raise ValueError(f"Device {choice!r} was requested but MPS is not available here; use "
                         "'cpu'.")
    if device.type not in {"cpu", "cuda", "mps"}:
        raise ValueError(f"Device {choice!r} is not supported: use 'cpu', 'cuda' or 'mps'.")
    return device


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices) and return a CPU generator seeded alike.

    Results are reproducible for a fixed seed on a fixed device and torch version; CPU and GPU
    draw different random numbers, so a GPU run is reproducible but not equal to a CPU run.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA and MPS device
    return torch.Generator().manual_seed(seed)


def seeded_generator(seed: int | None, device: str | torch.device) -> torch.Generator | None:
    """A ``torch.Generator`` for ``device`` seeded with ``seed`` (``None``: no generator of its own,
    so draws use the device's default generator).

    Random numbers are drawn where the tensors live, ``torch.randn(shape, generator=g,
    device=device)``: no host-to-device copy per draw. On the CPU the stream is that of
    ``torch.Generator().manual_seed(seed)``; a GPU draws other numbers from the same seed
    (reproducible on that device).
    """
    if seed is None:
        return None
    return torch.Generator(device=torch.device(device)).manual_seed(int(seed))


@contextmanager
def cpu_threads(n: int | None = 1) -> Iterator[None]:
    """Run the block with ``n`` CPU threads for torch's operations, then restore the caller's number
    (``None``: change nothing).

    For tiny networks (a few thousand weights, batches of a few hundred numbers), whose every
    operation takes microseconds: splitting those over threads costs more than it saves, and on a
    machine that is busy with other work it can cost 5-10x (``benchmarks/threads.py`` measures it).
    GPU work is unaffected.
    """
    if n is None:
        yield
        return
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive whole number of threads, got {n!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
