"""The contract every registered model family keeps (``course_utils.models``).

For each family: build its tiny config, train a few steps, save, load with ``weights_only=True``,
sample. The samples have the documented shape and range, the same seed gives the same images, and
the loaded model samples exactly what the trained one did.
"""
from __future__ import annotations

import dataclasses

import pytest
import torch

from course_utils import models
from course_utils.checkpoints import CheckpointError
from course_utils.families.base import FIELDS, Family, NoOptions, field_specs
from course_utils.families.vae import VAEFamily
from course_utils.profiles import PROFILE_NAMES

pytestmark = pytest.mark.filterwarnings("ignore::course_utils.data.MnistFallbackWarning")


@pytest.fixture(scope="module", params=sorted(models.FAMILIES))
def trained(request):
    family = models.FAMILIES[request.param]
    torch.manual_seed(0)
    return models.fit(family.name, family.tiny(), device="cpu", seed=3, progress=False)


def test_the_family_provides_the_interface(trained):
    family = trained.family
    assert isinstance(family, Family)
    assert dataclasses.is_dataclass(trained.config)
    assert isinstance(trained.config, family.config_type)
    assert trained.model.config == trained.config, "a built model carries its config"
    assert isinstance(trained.history, dict) and trained.history, ("train returns a non-empty "
                                                                   "history")
    for name in family.cli_fields:
        assert name in {f.name for f in dataclasses.fields(family.config_type)}
    for profile in PROFILE_NAMES:  # one recipe per profile, a config of the family
        assert isinstance(family.recipe(profile), family.config_type)
        assert isinstance(family.sampling(profile), family.options_type)


def test_save_load_sample(trained, tmp_path):
    path = models.save(tmp_path / f"{trained.name}.pt", trained)
    raw = torch.load(path, weights_only=True)
    assert raw["family"] == trained.name and raw["format"] == 2
    loaded = models.load(path, "cpu")
    assert loaded.family is trained.family and loaded.config == trained.config
    assert not loaded.model.training
    options = {"steps": 3} if "steps" in trained.family.option_names() else {}
    first = loaded.sample(5, "cpu", seed=11, **options)
    again = loaded.sample(5, "cpu", seed=11, **options)
    other = loaded.sample(5, "cpu", seed=12, **options)
    original = trained.sample(5, "cpu", seed=11, **options)
    size = (28, 28) if trained.family.samples.digits else tuple(first.shape[2:])
    assert first.shape == (5, 1, *size) and first.dtype == torch.float32
    assert first.device.type == "cpu"
    if trained.family.samples is not FIELDS:  # a field's values are not bounded
        assert float(first.min()) >= -1.0 and float(first.max()) <= 1.0, ("samples lie in the "
                                                                          "model range [-1, 1]")
    assert torch.equal(first, again), "the same seed gives the same samples"
    assert not torch.equal(first, other), "another seed gives other samples"
    assert torch.allclose(first, original, atol=1e-5), ("the loaded model samples what the "
                                                        "trained one did")


def test_loading_another_family_is_refused(trained, tmp_path):
    path = models.save(tmp_path / "m.pt", trained)
    other = next(name for name in models.FAMILIES if name != trained.name)
    with pytest.raises(CheckpointError, match=f"holds a {trained.name} model, not a {other}"):
        models.load(path, family=other)


def test_unknown_sampling_options_are_named(trained):
    with pytest.raises(ValueError, match="no sampling option colour"):
        trained.sample(2, "cpu", colour="red")


def test_training_leaves_the_global_random_state_alone():
    family = models.FAMILIES["mlp-gan"]
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    models.fit(family.name, family.tiny(), device="cpu", seed=3, progress=False)
    assert torch.equal(torch.rand(3), expected)


def test_the_same_seed_trains_the_same_model():
    runs = [models.fit("mlp-gan", models.FAMILIES["mlp-gan"].tiny(), device="cpu", seed=5,
                       progress=False)
            for _ in range(2)]
    assert runs[0].history["g_loss"] == runs[1].history["g_loss"]
    assert torch.equal(runs[0].sample(4, "cpu"), runs[1].sample(4, "cpu"))


def test_names_and_aliases():
    assert models.get("gan") is models.get("mlp-gan")
    with pytest.raises(ValueError, match="unknown model family 'gam'"):
        models.get("gam")
    assert models.family_of(models.get("dcgan").new_config()) is models.get("dcgan")


@pytest.mark.parametrize("content, message", [
    (b"definitely not a checkpoint", "torch.load cannot read it"),
    (None, "no 'format' and 'family'"),
])
def test_foreign_files_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "foreign.pt"
    if content is None:
        torch.save({"weights": torch.zeros(2)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(CheckpointError) as info:
        models.load(path)
    text = str(info.value)
    assert message in text and str(path) in text
    assert "\n" not in text and "weights_only" not in text


def test_sampling_options_are_checked_against_their_types(trained):
    family = trained.family
    for name, spec in field_specs(family.options_type).items():
        if spec.kind is float:
            with pytest.raises(ValueError, match=f"{name} must be a finite number"):
                family.options(**{name: float("nan")})
        if spec.kind is int:
            with pytest.raises(ValueError, match=f"{name} must be a whole number"):
                family.options(**{name: 2.5})


def test_registration_checks_the_contract():
    class NoName(VAEFamily):
        name = ""

    class Duplicate(VAEFamily):
        pass

    class LooseConfig(VAEFamily):
        name = "loose-vae"

        @dataclasses.dataclass
        class config_type:  # not frozen
            epochs: int = 1

    class WrongField(VAEFamily):
        name = "wrong-vae"
        cli_fields = ("epochs", "colour")

    class WrongRecipe(VAEFamily):
        name = "wrong-recipe"

        def recipe(self, profile=None):
            return {"epochs": 1}

    class UnofferableOption(VAEFamily):
        name = "odd-options"

        @dataclasses.dataclass(frozen=True)
        class options_type:
            palette: dict = dataclasses.field(default_factory=dict)

    for family, message in [(NoName(), "unique name"), (Duplicate(), "unique name"),
                            (LooseConfig(), "frozen dataclass"), (WrongField(), "colour"),
                            (WrongRecipe(), "recipe is a dict"),
                            (UnofferableOption(), "cannot offer"),
                            (object(), "not a course_utils.families.base.Family")]:
        with pytest.raises(TypeError, match=message):
            models.register(family)
    assert "loose-vae" not in models.FAMILIES


def test_a_family_must_implement_the_four_methods():
    class Half(Family):
        name, title, description = "half", "Half", "a family without its methods"
        config_type, options_type = NoOptions, NoOptions

        def recipe(self, profile=None):
            return NoOptions()

        def tiny(self):
            return NoOptions()

    with pytest.raises(TypeError, match="abstract"):
        Half()
