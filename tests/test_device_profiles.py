import pytest
import torch

from course_utils import get_device, get_profile, seed_everything
from course_utils.profiles import PROFILE_NAMES, SIZES


def test_get_device_prefers_accelerators_then_cpu():
    device = get_device()
    if torch.cuda.is_available():
        assert device.type == "cuda"
    elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        assert device.type == "mps"
    else:
        assert device == torch.device("cpu")


def test_get_device_explicit_and_environment(monkeypatch):
    assert get_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


@pytest.mark.parametrize("bad", ["gpu", "tpu", "cuda:x"])
def test_get_device_rejects_unknown_names(bad):
    with pytest.raises(ValueError, match="device"):
        get_device(bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_get_device_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        get_device("cuda")


def test_seed_everything_makes_runs_repeatable():
    seed_everything(7)
    a = (torch.rand(3), torch.randn(2))
    seed_everything(7)
    b = (torch.rand(3), torch.randn(2))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    with pytest.raises(TypeError):
        seed_everything("7")


def test_profile_from_environment_and_default(monkeypatch):
    assert get_profile().name == "smoke"  # conftest sets COURSE_PROFILE=smoke
    monkeypatch.delenv("COURSE_PROFILE")
    assert get_profile().name == "laptop"
    assert get_profile("FULL").gan_epochs == 100


def test_full_profile_is_the_lecture():
    full = get_profile("full")
    assert full.gan_epochs == 100 and full.gan_n_train is None and full.gan_batch_size == 64
    assert tuple(full.gan_sample_epochs) == (1, 2, 4, 10, 50, 100)


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    with pytest.raises(ValueError, match="smoke, laptop, full"):
        get_profile()
    with pytest.raises(AttributeError, match="no size"):
        _ = get_profile("smoke").no_such_size


def test_every_size_has_one_value_per_profile():
    assert PROFILE_NAMES == ("smoke", "laptop", "full")
    for key, row in SIZES.items():
        assert len(row) == 3, key


def test_cpu_threads_sets_and_restores_torch_threads_even_on_error():
    from course_utils.device import cpu_threads

    before = torch.get_num_threads()
    with cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="inside"):
        with cpu_threads(1):
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    with cpu_threads(None):
        assert torch.get_num_threads() == before
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="positive whole number"):
            with cpu_threads(bad):
                pass
