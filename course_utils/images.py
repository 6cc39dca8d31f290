"""One range convention for images, and the two maps that cross it.

Every model, sampler, data loader and score in the package works in the **model range**: float
tensors in [-1, 1] of shape (N, 1, 28, 28), the lecture's ``Normalize(mean=0.5, std=0.5)`` of
``ToTensor()`` and the range of a generator that ends in tanh. Only the edges leave it: pictures
(plotting, GIFs) and the ``.npy`` files of ``python -m course_utils sample``, which hold [0, 1].
"""
from __future__ import annotations

import torch

__all__ = ["to_unit_range", "to_model_range"]


def to_unit_range(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1]: (x + 1) / 2, for pictures and saved samples."""
    return (x + 1) / 2


def to_model_range(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1]: 2 x - 1, e.g. a VAE's Bernoulli means or pixel intensities / 255."""
    return x * 2 - 1
