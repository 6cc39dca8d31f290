"""The shipped classifier: sha256 check, and feature extraction (shape, batching, no grad)."""
import shutil

import pytest
import torch

from course_utils.classifier import ClassifierWeightsError, classifier_info, load_classifier, sha256_of
from course_utils.classifier import WEIGHTS_DIR
from course_utils.data import load_mnist, split_of
from course_utils.features import classifier_features, classify_samples, pixel_features


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


def test_classifier_reads_real_digits():
    images, labels = split_of(load_mnist(train=False, n=300))
    summary = classify_samples(images, labels=labels, device="cpu")
    assert summary.accuracy > 0.9
