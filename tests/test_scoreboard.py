"""The scoreboard of issue 6: class spread, scoring checkpoints side by side, the CLI command."""

import json
import math

import pytest

from course_utils import models
from course_utils.cli import main
from course_utils.gan import gan_config
from course_utils.scoreboard import (
    REFERENCE,
    class_spread,
    classifier_monitor,
    format_table,
    score_checkpoints,
    score_images,
    write_scoreboard,
)

pytestmark = pytest.mark.filterwarnings("ignore::course_utils.data.MnistFallbackWarning")


def test_class_spread_is_normalised_entropy():
    assert class_spread([7] * 10) == pytest.approx(1.0)
    assert class_spread([0, 0, 0, 50, 0, 0, 0, 0, 0, 0]) == 0.0
    assert class_spread([5, 5] + [0] * 8) == pytest.approx(math.log(2) / math.log(10))
    with pytest.raises(ValueError, match="empty"):
        class_spread([0] * 10)


def test_real_digits_score_near_perfect_and_one_repeated_digit_collapses(mnist_digits):
    images, labels = mnist_digits
    a, b = images[:300], images[300:600]
    scores = score_images(a, b)
    assert abs(scores["mmd2_features"]) < 0.01 and abs(scores["mmd2_pixels"]) < 0.01
    assert scores["confidence"] > 0.95 and scores["class_spread"] > 0.95
    # A "generator" that always draws the same digit: total mode collapse.
    one = images[labels == 3][:1].repeat(300, 1, 1, 1)
    collapsed = score_images(one, b)
    assert collapsed["class_spread"] == 0.0
    assert collapsed["mmd2_features"] > 10 * abs(scores["mmd2_features"]) + 0.05
    assert collapsed["fd_features"] > 5 * scores["fd_features"]


@pytest.fixture
def two_checkpoints(tmp_path, mnist_digits):
    x = mnist_digits[0][:256]
    paths = []
    for architecture, name in (("mlp", "gan_mlp.pt"), ("dcgan", "dcgan.pt")):
        config = gan_config(architecture=architecture, n_filters=4, epochs=1)
        trained = models.fit(models.family_of(config), config, x, "cpu", progress=False)
        paths.append(models.save(tmp_path / name, trained))
    return paths


def test_score_checkpoints_and_write(two_checkpoints, tmp_path):
    board = score_checkpoints(two_checkpoints, n=64, device="cpu")
    names = [row["name"] for row in board["rows"]]
    assert names == [REFERENCE, "MLP GAN (lecture)", "DCGAN"]
    for row in board["rows"]:
        assert all(math.isfinite(row[k]) for k in ("mmd2_features", "mmd2_pixels", "fd_features"))
        assert sum(row["histogram"]) == 64
    assert board["rows"][1]["train_seconds"] > 0 and board["rows"][1]["sample_seconds"] >= 0
    table = format_table(board)
    assert "| DCGAN |" in table and "64 samples per model" in table and "**" in table
    written = write_scoreboard(board, tmp_path / "board")
    assert json.loads(written["json"].read_text())["rows"][2]["name"] == "DCGAN"
    assert written["png"].stat().st_size > 10_000


def test_score_checkpoints_rejects_bad_requests(two_checkpoints, tmp_path):
    with pytest.raises(ValueError, match="No checkpoints"):
        score_checkpoints([])
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        score_checkpoints([tmp_path / "nope.pt"])
    with pytest.raises(ValueError, match="only 1000 held-out"):
        score_checkpoints(two_checkpoints, n=5000)


def test_scoreboard_command(two_checkpoints, tmp_path, capsys, monkeypatch):
    assert main(["scoreboard", *map(str, two_checkpoints), "-n", "32", "--out",
                 str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "| MLP GAN (lecture) |" in out and (tmp_path / "o" / "scoreboard.png").exists()
    # Without arguments it scores every checkpoint in the profile's artifacts folder: none here.
    assert main(["scoreboard"]) == 2
    assert "no checkpoints given" in capsys.readouterr().err


def test_classifier_monitor_records_per_epoch(mnist_digits):
    config = gan_config(epochs=2)
    history = models.fit("mlp-gan", config, mnist_digits[0][:128], "cpu", progress=False,
                         monitor=classifier_monitor(config, n=50)).history
    assert len(history["class_spread"]) == 2 and all(0 <= s <= 1 for s in history["class_spread"])
    assert all(0.1 <= c <= 1 for c in history["confidence"])


def test_train_seconds_from_every_history_layout():
    from course_utils.scoreboard import _train_seconds

    assert _train_seconds({"train_seconds": 3, "seconds": [1, 1]}) == 3.0
    assert _train_seconds({"seconds": [1.5, 2.5]}) == 4.0  # per epoch (GAN)
    assert _train_seconds({"seconds": 7.25}) == 7.25  # one total (DDPM)
    assert _train_seconds({}) is None and _train_seconds(None) is None
