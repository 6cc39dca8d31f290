"""Variety within a class: what the class histogram cannot see (notebook 08, section 3).

The class spread (the entropy of the classifier's class histogram) sees a generator that drops
whole digits. A conditional generator asked for the digits 0-9 in turn has an even histogram by
construction, yet it can still draw one style of 7 for every 7 it is asked for: mode collapse
*within* a class. The mean pairwise distance of the samples of one class in a feature space,

    d_k = 1 / (n_k (n_k - 1)) sum_{i != j, y_i = y_j = k} ||f_i - f_j||_2,

measures that variety; compared with d_k of real digits of the same class k, a ratio well below
1 is collapse within the class (0 when every sample of the class is the same image).
"""
from __future__ import annotations

from typing import Any

import torch

from .checks import as_samples

__all__ = ["within_class_distance"]


def within_class_distance(features: Any, labels: Any, n_classes: int = 10) -> torch.Tensor:
    """d_k of the module docstring for k = 0..n_classes-1: float64 ``(n_classes,)`` on the CPU.

    ``features`` (N, d) (e.g. ``classifier_features`` of the samples), ``labels`` (N,) integers in
    0..n_classes-1 (the digit each sample was asked for, or a real digit's label). A class with
    fewer than two samples gets NaN: no pair, no distance.
    """
    f = as_samples(features, "features").detach().cpu().double()
    y = torch.as_tensor(labels).reshape(-1).cpu()
    if len(y) != len(f):
        raise ValueError(f"Got {len(y)} labels for {len(f)} feature vectors: one label per row.")
    in_range = len(y) == 0 or 0 <= int(y.min()) <= int(y.max()) < n_classes
    if y.dtype.is_floating_point or y.dtype == torch.bool or not in_range:
        raise ValueError(f"labels must be integers in 0..{n_classes - 1}, got {y[:6].tolist()}...")
    out = torch.full((n_classes,), float("nan"), dtype=torch.float64)
    for k in range(n_classes):
        f_k = f[y == k]
        n_k = len(f_k)
        if n_k >= 2:  # the diagonal ||f_i - f_i|| = 0 adds nothing to the sum
            out[k] = torch.cdist(f_k, f_k).sum() / (n_k * (n_k - 1))
    return out
