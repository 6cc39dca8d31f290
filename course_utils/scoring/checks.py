"""Checks on the two sample sets a score compares, with errors that say what to fix.

Every score in ``course_utils.scoring`` takes a set of real samples X (n of them) and a set of
generated samples Y (m of them). Before any arithmetic they go through ``as_samples`` and
``check_pair``, which turn the usual mistakes into a clear ``ValueError`` or warning:

* a tensor that requires grad (a generator's output) is detached, not an autograd crash;
* images of any shape are flattened to vectors, one row per sample: ``(N, ...)`` -> ``(N, d)``;
  a 1-D tensor is N samples of one number;
* NaN or infinite values, sets too small for the estimator, feature sizes that differ;
* value ranges that differ (the lecture compares generated digits in [0, 1] with real digits
  normalised to [-1, 1]): a ``RangeMismatchWarning``, because the score then measures the shift
  of range, not the quality of the digits.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

__all__ = ["RangeMismatchWarning", "as_samples", "check_pair", "check_ranges"]


class RangeMismatchWarning(UserWarning):
    """Real and generated samples live on different value ranges (e.g. [0, 1] vs [-1, 1])."""


def as_samples(x: Any, name: str, min_samples: int = 1, why: str = "") -> torch.Tensor:
    """Return ``x`` as a detached floating ``(N, d)`` tensor, checked for size and finiteness.

    ``x`` may be a tensor or a NumPy array of shape ``(N,)``, ``(N, d)`` or ``(N, C, H, W)``
    (any ``(N, ...)``). ``name`` ("real", "fake", "X", ...) is used in error messages.
    The result stays on ``x``'s device; integer input becomes float32, float64 stays float64.
    """
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise ValueError(
            f"The {name} samples must be a torch.Tensor or a NumPy array of shape (N, ...), "
            f"got {type(x).__name__}."
        )
    x = x.detach()  # a generator's output requires grad: scoring never back-propagates
    if x.ndim == 0:
        raise ValueError(f"The {name} samples are a single number; expected a batch of shape (N, "
                         "...).")
    if x.is_complex():
        raise ValueError(f"The {name} samples are complex numbers; expected real-valued samples.")
    if not x.is_floating_point():
        x = x.float()
    x = x.reshape(len(x), int(np.prod(x.shape[1:]))) if x.ndim > 1 else x.reshape(-1, 1)
    n = len(x)
    if n < min_samples:
        needs = f" ({why})" if why else ""
        raise ValueError(
            f"The {name} set has {n} sample{'s' if n != 1 else ''}, but at least {min_samples} "
            f"are needed{needs}. Pass more samples."
        )
    if x.shape[1] == 0:
        raise ValueError(f"The {name} samples have no features (shape {tuple(x.shape)}).")
    bad = ~torch.isfinite(x)
    if bool(bad.any()):
        rows = int(bad.any(dim=1).sum())
        kinds = " and ".join(k for k,
                             has in (("NaN", torch.isnan(x).any()), ("inf", torch.isinf(x).any()))
                             if bool(has))
        raise ValueError(
            f"The {name} samples contain {kinds} values ({rows} of {n} samples affected). "
            "A diverged generator produces these; drop those samples or retrain, then score again."
        )
    return x


def check_pair(x: torch.Tensor, y: torch.Tensor, x_name: str = "real",
               y_name: str = "fake") -> None:
    """Two sets of ``(N, d)`` samples must have the same number of features ``d``."""
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"The {x_name} samples have {x.shape[1]} features each but the {y_name} samples have "
            f"{y.shape[1]}: both sets must come from the same space (e.g. both 28x28 images, or "
            "both the same classifier's features)."
        )


def value_range(x: torch.Tensor) -> tuple[float, float]:
    """``(min, max)`` of a tensor as Python floats (one device sync)."""
    lo_hi = torch.stack((x.min(), x.max())).tolist()
    return float(lo_hi[0]), float(lo_hi[1])


def check_ranges(
    real_range: tuple[float, float],
    fake_range: tuple[float, float],
    real_name: str = "real",
    fake_name: str = "fake",
    stacklevel: int = 3,
) -> bool:
    """Warn (``RangeMismatchWarning``) when two sets clearly use different value ranges.

    Two patterns are flagged, both measured on ``(min, max)``:

    * a sign mismatch: one set has clearly negative values and the other none at all, as with
      reals in [-1, 1] and fakes in [0, 1] (the lecture's mistake);
    * a scale mismatch: the largest magnitudes differ by more than a factor of 10, as with
      [0, 255] against [0, 1].

    So an untrained generator whose outputs have both signs is not flagged as long as its
    largest magnitude reaches a tenth of the reals' (a tanh output layer usually does); one whose
    outputs all stay below 0.1x the reals' magnitude *is* flagged, as a scale mismatch: its score
    would then measure mostly how small the outputs are. Returns whether it warned.
    """
    (r_lo, r_hi), (f_lo, f_hi) = real_range, fake_range
    r_width, f_width = max(r_hi - r_lo, 1e-12), max(f_hi - f_lo, 1e-12)
    sign_mismatch = (r_lo < -0.25 * r_width and f_lo >= 0) or (f_lo < -0.25 * f_width and r_lo >= 0)
    r_mag, f_mag = max(abs(r_lo), abs(r_hi)), max(abs(f_lo), abs(f_hi))
    scale_mismatch = max(r_mag, f_mag) > 10 * max(min(r_mag, f_mag), 1e-12)
    if sign_mismatch or scale_mismatch:
        warnings.warn(
            f"The {real_name} samples lie in [{r_lo:.3g}, {r_hi:.3g}] but the {fake_name} samples "
            f"in [{f_lo:.3g}, {f_hi:.3g}]: the score will measure this difference of range, not "
            "how good the samples are. Map both to the same range first (e.g. load_mnist gives "
            "[-1, 1]; course_utils.data.to_unit_range maps [-1, 1] to [0, 1]; x * 2 - 1 maps "
            "back).",
            RangeMismatchWarning,
            stacklevel=stacklevel,
        )
        return True
    return False
