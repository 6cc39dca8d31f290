"""Feature spaces for scoring samples: raw pixels, and the project's MNIST classifier.

* ``pixel_features``: every image as its 784 pixel values (what the lecture's MMD compares).
* ``classifier_features``: the 64 penultimate-layer features of the shipped classifier
  (``course_utils.scoring.classifier``), in which two images of the same digit are close even when
  their pixels are not. Extracted in batches under ``torch.inference_mode()``.
* ``classifier_probabilities`` and ``classify_samples``: what the classifier thinks the samples
  are: per-sample class probabilities, predicted classes, the mean confidence (mean of the
  largest probability) and the class histogram -- a quick check of sample quality and of mode
  collapse (a generator that only draws 1s has a one-bar histogram).

Images come as (N, 1, 28, 28), (N, 28, 28) or (N, 784) with values in ``value_range``: (-1, 1)
by default (``load_mnist`` and the generator's tanh); pass ``value_range=(0, 1)`` for images
mapped to [0, 1] (``sample_gan``, the lecture's saved samples).
"""
from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import torch
from torch import nn

from ..device import DeviceLike, get_device
from .checks import RangeMismatchWarning, as_samples
from .classifier import load_classifier

__all__ = [
    "pixel_features",
    "classifier_features",
    "classifier_probabilities",
    "classify_samples",
    "ClassifierSummary",
]


class ClassifierSummary(NamedTuple):
    """What the classifier says about a batch of samples.

    ``predictions`` (N,), ``confidence`` (N,) = largest class probability per sample,
    ``mean_confidence``, ``histogram`` (10,) counts per predicted class, ``class_fractions``
    (10,) the same as fractions, ``accuracy`` vs the given labels (``None`` without labels).
    """

    predictions: torch.Tensor
    confidence: torch.Tensor
    mean_confidence: float
    histogram: torch.Tensor
    class_fractions: torch.Tensor
    accuracy: float | None


def pixel_features(images: Any) -> torch.Tensor:
    """Images as rows of pixel values: (N, ...) -> (N, 784), detached, on their device."""
    return as_samples(images, "images")


def _as_images(images: Any, value_range: tuple[float, float]) -> torch.Tensor:
    x = as_samples(images, "images")
    if x.shape[1] != 28 * 28:
        raise ValueError(
            f"The classifier takes 28x28 MNIST images; got {x.shape[1]} values per image."
        )
    lo, hi = (float(v) for v in value_range)
    if not hi > lo:
        raise ValueError(f"value_range must be (low, high) with low < high, got {value_range}")
    x_lo, x_hi = float(x.min()), float(x.max())
    if (lo, hi) == (-1.0, 1.0) and x_lo >= 0 and x_hi > 0.5:
        warnings.warn(
            f"The images lie in [{x_lo:.3g}, {x_hi:.3g}] but value_range=(-1, 1) was assumed: "
            "they look like [0, 1] images (e.g. from sample_gan). Pass value_range=(0, 1), or "
            "the classifier sees grey backgrounds and its features mean little.",
            RangeMismatchWarning,
            stacklevel=3,
        )
    x = x.reshape(-1, 1, 28, 28)
    if (lo, hi) != (-1.0, 1.0):
        x = (x - lo) * (2.0 / (hi - lo)) - 1.0
    return x


@torch.inference_mode()
def _batched(fn: Any, x: torch.Tensor, device: torch.device, batch_size: int) -> torch.Tensor:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    out = [fn(x[a:a + batch_size].to(device, torch.float32)).float().cpu()
           for a in range(0, len(x), batch_size)]
    return torch.cat(out)


def _model(model: nn.Module | None, device: DeviceLike) -> tuple[nn.Module, torch.device]:
    if model is None:
        dev = get_device(device) if not isinstance(device, torch.device) else device
        return load_classifier(dev), dev
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    return model.to(dev).eval(), dev


def classifier_features(
    images: Any,
    model: nn.Module | None = None,
    device: DeviceLike = None,
    batch_size: int = 500,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> torch.Tensor:
    """The classifier's 64 penultimate-layer features of each image: (N, 64) float32 on the CPU.

    ``model`` defaults to the shipped classifier (``load_classifier``) on ``device``.
    """
    x = _as_images(images, value_range)
    net, dev = _model(model, device)
    return _batched(net.features, x, dev, batch_size)


def classifier_probabilities(
    images: Any,
    model: nn.Module | None = None,
    device: DeviceLike = None,
    batch_size: int = 500,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> torch.Tensor:
    """Class probabilities softmax(logits): (N, 10) float32 on the CPU."""
    x = _as_images(images, value_range)
    net, dev = _model(model, device)
    return _batched(lambda b: net(b).softmax(dim=1), x, dev, batch_size)


def classify_samples(
    images: Any,
    labels: Any = None,
    model: nn.Module | None = None,
    device: DeviceLike = None,
    batch_size: int = 500,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> ClassifierSummary:
    """Predicted digits, confidences, the class histogram and (with ``labels``) the accuracy.

    For a conditional generator pass the requested ``labels``: ``accuracy`` is then the fraction
    of samples that the classifier reads as the digit that was asked for.
    """
    probs = classifier_probabilities(images, model, device, batch_size, value_range)
    confidence, predictions = probs.max(dim=1)
    histogram = torch.bincount(predictions, minlength=10)
    acc = None
    if labels is not None:
        labels = torch.as_tensor(labels).reshape(-1).cpu()
        if len(labels) != len(predictions):
            raise ValueError(f"Got {len(labels)} labels for {len(predictions)} images.")
        acc = float((labels == predictions).double().mean())
    return ClassifierSummary(predictions, confidence, float(confidence.mean()), histogram,
                             histogram.double() / len(predictions), acc)


def class_spread(histogram: Any) -> float:
    """Entropy of a class histogram divided by log(number of classes): 1 = every class equally
    often, 0 = one class only (complete mode collapse)."""
    counts = torch.as_tensor(histogram, dtype=torch.float64).reshape(-1)
    if counts.sum() <= 0:
        raise ValueError("The class histogram is empty.")
    p = counts / counts.sum()
    p = p[p > 0]
    return float(-(p * p.log()).sum() / math.log(len(counts))) + 0.0  # no "-0.0"
