"""The lecture's four diagrams (drawn by our code) and the sample GIFs."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils.publish.figures import (
    DIAGRAMS,
    image_grid,
    write_figures,
    write_frames_gif,
    write_samples_gif,
)

STALE = "run `make figures` (python -m course_utils figures --out figures)"


def test_the_four_diagrams_build_as_png_and_svg(tmp_path):
    written = write_figures(tmp_path, formats=("png", "svg"))
    assert sorted(DIAGRAMS) == ["discriminator_vs_generator", "gan_networks", "gan_steps",
                                "generative_overview"]
    assert len(written) == 8
    for name in DIAGRAMS:
        with Image.open(tmp_path / f"{name}.png") as png:
            assert png.width > 800 and png.height > 300
            grey = np.asarray(png.convert("L"))
            assert grey.min() < 100, f"{name}.png should contain dark ink (text, arrows)"
        assert (tmp_path / f"{name}.svg").read_text().lstrip().startswith("<?xml")


def test_regenerating_the_figures_gives_identical_files(tmp_path):
    def digests(folder):
        return {p.name: hashlib.md5(p.read_bytes()).hexdigest()
                for p in sorted(folder.glob("*.png"))}

    write_figures(tmp_path / "a")
    write_figures(tmp_path / "b")
    assert digests(tmp_path / "a") == digests(tmp_path / "b"), "no timestamps in the PNGs"


def test_the_committed_figures_are_the_ones_the_code_draws(tmp_path):
    """Two checks. The texts of every diagram (labels, equations, parameter counts) must equal the
    committed manifest's, whatever renders them: a changed label cannot hide. The PNG bytes must
    equal the committed files when this machine renders with the same matplotlib and FreeType as
    the committed ones; other renderers move text by a pixel, so there
    only the texts are compared."""
    committed = Path(__file__).resolve().parents[1] / "figures"
    if not committed.is_dir():
        pytest.skip("no figures/ folder next to the package (installed without the repository)")
    manifest = json.loads((committed / "manifest.json").read_text())
    write_figures(tmp_path)
    fresh = json.loads((tmp_path / "manifest.json").read_text())
    assert sorted(manifest["figures"]) == sorted(DIAGRAMS)
    for name in DIAGRAMS:
        assert fresh["figures"][name]["texts"] == manifest["figures"][name]["texts"], \
            f"the texts of figures/{name}.png changed: {STALE}"
        on_disk = hashlib.sha256((committed / f"{name}.png").read_bytes()).hexdigest()
        assert on_disk == manifest["figures"][name]["png_sha256"], \
            f"figures/{name}.png does not match figures/manifest.json: {STALE}"
    if fresh["rendered_with"] != manifest["rendered_with"]:
        pytest.skip(f"texts match; pixels not compared: figures/ was rendered with "
                    f"{manifest['rendered_with']}, this machine has {fresh['rendered_with']}")
    for name in DIAGRAMS:
        assert fresh["figures"][name]["png_sha256"] == manifest["figures"][name]["png_sha256"], \
            f"figures/{name}.png is out of date: {STALE}"


def test_figure_texts_see_a_changed_label():
    from course_utils.publish.figures import figure_texts, gan_networks

    texts = figure_texts(gan_networks())
    assert any("81,284 parameters" in t for t in texts)  # 20*100 + 100 + 100*784 + 784
    assert any("78,501" in t for t in texts)  # 784*100 + 100*1 + 1 (hidden layer without bias)


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="format"):
        write_figures(tmp_path, formats=("jpg",))


def test_image_grid_maps_minus_one_to_white_and_one_to_black():
    images = torch.stack([-torch.ones(28, 28), torch.ones(28, 28)])  # blank, full ink
    grid = image_grid(images, nrow=2, padding=0, scale=1)
    assert grid.shape == (28, 56) and grid.dtype == np.uint8
    assert (grid[:, :28] == 255).all() and (grid[:, 28:] == 0).all()
    with pytest.raises(ValueError, match="shape"):
        image_grid(torch.zeros(3, 5))


def test_samples_gif_has_one_frame_per_kept_epoch(tmp_path):
    # The layout of course_utils.gan.train_gan: sample_epochs plus a (k, n,
    # 1, 28, 28) tensor in [-1, 1].
    history = {"sample_epochs": [1, 2, 5], "samples": torch.rand(3, 16, 1, 28, 28) * 2 - 1}
    path = write_samples_gif(history, tmp_path / "gan.gif", n=16)
    with Image.open(path) as gif:
        assert gif.n_frames == 3
    # A dict {epoch: images in [-1, 1]} works too.
    path = write_samples_gif({"samples": {10: torch.rand(8, 784) * 2 - 1, 20: torch.zeros(8, 784)}},
                             tmp_path / "dict.gif")
    with Image.open(path) as gif:
        assert gif.n_frames == 2
    with pytest.raises(ValueError, match="samples"):
        write_samples_gif({"g_loss": [1.0]}, tmp_path / "x.gif")


def test_frames_gif_for_a_reverse_chain(tmp_path):
    chain = [torch.randn(4, 1, 28, 28).clamp(-1, 1) * (1 - t / 5) for t in range(6)]
    path = write_frames_gif(chain, tmp_path / "chain.gif", labels=[f"t = {t}" for t in range(6)],
                            value_range=(-1, 1))
    with Image.open(path) as gif:
        assert gif.n_frames == 6
    with pytest.raises(ValueError, match="label"):
        write_frames_gif(chain, tmp_path / "bad.gif", labels=["only one"])
    with pytest.raises(ValueError, match="at least one frame"):
        write_frames_gif([], tmp_path / "empty.gif")


def test_show_gif_inlines_the_animation(tmp_path):
    from course_utils.publish.figures import show_gif

    path = write_frames_gif([torch.zeros(2, 28, 28), torch.ones(2, 28, 28)], tmp_path / "a.gif")
    html = show_gif(path, width=200).data
    assert html.startswith('<img src="data:image/gif;base64,R0lGOD') and 'width="200"' in html
    with pytest.raises(ValueError, match="No GIF"):
        show_gif(tmp_path / "missing.gif")
