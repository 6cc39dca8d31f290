"""The lecture's four diagrams, drawn by our own code, and animated GIFs of samples.

The lecture borrows four figures from a textbook (Raschka et al., *Machine Learning with PyTorch
and Scikit-Learn*, ch. 17) that we may not copy. We redraw their content in our own style with
plain matplotlib boxes and arrows:

* ``generative_overview``: a taxonomy of generative models (explicit versus implicit density;
  VAE, EBM/RBM, autoregressive and flows, GAN, diffusion and score models);
* ``discriminator_vs_generator``: z -> G -> fake, real data and fakes -> D -> real/fake, losses;
* ``gan_steps``: the steps in building a GAN (data, networks, losses, alternate ``d_train`` /
  ``g_train``, monitor, sample);
* ``gan_networks``: the lecture's two multilayer perceptrons layer by layer.

``write_figures(out_dir)`` saves them as PNG (and SVG) and is what ``python -m course_utils
figures`` runs. ``write_samples_gif`` animates the fixed-noise samples of a GAN history across
epochs; ``write_frames_gif`` animates any list of image batches (e.g. a diffusion reverse chain).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.text import Text

from .. import models
from ..diffusion import ddpm_sample
from ..gan import make_discriminator_network, make_generator_network

__all__ = [
    "generative_overview", "discriminator_vs_generator", "gan_steps", "gan_networks", "DIAGRAMS",
    "write_figures", "write_gifs_from", "figure_texts", "render_versions", "image_grid",
    "write_frames_gif", "write_samples_gif", "show_gif",
]

# One palette for every diagram: data is green, the generator blue, the discriminator orange,
# losses red, neutral boxes grey.
COLORS = {
    "data": "#d9f0d3", "gen": "#d6e6f7", "disc": "#fde3c8", "loss": "#f8d0d0",
    "neutral": "#eeeeee", "noise": "#ece2f4", "edge": "#444444",
}


def _canvas(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure whose data coordinates are inches: (0, 0) bottom left, (width, height) top right."""
    fig = Figure(figsize=(width, height), dpi=100)  # not pyplot: nothing pops up in a notebook
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    return fig, ax


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, color: str = "neutral",
         size: float = 10, weight: str = "normal") -> tuple[float, float, float, float]:
    """A rounded box centred at (x, y); returns (left, right, bottom, top) for arrows."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                boxstyle="round,pad=0.02,rounding_size=0.08",
                                fc=COLORS.get(color, color), ec=COLORS["edge"], lw=1.2))
    ax.text(x, y, text, ha="center", va="center", size=size, weight=weight, wrap=False)
    return (x - w / 2, x + w / 2, y - h / 2, y + h / 2)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], text: str = "",
           color: str = "#333333", style: str = "-|>", ls: str = "-", rad: float = 0.0,
           text_offset: tuple[float, float] = (0.0, 0.12), size: float = 9) -> None:
    """An arrow from ``start`` to ``end`` with an optional label near its middle."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, color=color,
                                 lw=1.4, ls=ls, connectionstyle=f"arc3,rad={rad}"))
    if text:
        mx, my = (start[0] + end[0]) / 2 + text_offset[0], (start[1] + end[1]) / 2 + text_offset[1]
        ax.text(mx, my, text, ha="center", va="bottom", size=size, color=color)


def generative_overview() -> Figure:
    """A taxonomy of deep generative models (lecture: "generative models, an overview").

    Explicit-density models write down p_theta(x) (exactly, or a bound on it, or up to a
    normalising constant); implicit models only give a sampler x = g(z). Diffusion models sit
    between: they learn the score grad_x log p_t(x) of noised data and sample by reversing noise.
    """
    fig, ax = _canvas(11.0, 5.4)
    ax.text(5.5, 5.1, "Deep generative models: learn $p_\\theta(\\mathbf{x})\\approx "
            "p_\\mathrm{data}(\\mathbf{x})$, then sample",
            ha="center", size=13, weight="bold")
    root = _box(ax, 5.5, 4.35, 3.6, 0.6, "maximum likelihood or a two-sample game?", "neutral", 10)
    explicit = _box(ax, 2.6, 3.2, 3.9, 0.75, "explicit density\nwe can write "
                    "$p_\\theta(\\mathbf{x})$ (or a bound)", "data", 10)
    implicit = _box(ax, 8.6, 3.2, 3.6, 0.75,
                    "implicit density\nonly a sampler $\\mathbf{x}=g(\\mathbf{z})$", "gen", 10)
    _arrow(ax, (root[0] + 0.4, root[2]), (2.6, explicit[3]))
    _arrow(ax, (root[1] - 0.4, root[2]), (8.6, implicit[3]))
    leaves_explicit = [
        (0.95, "exact\nautoregressive,\nnormalising flows"),
        (2.6, "approximate (ELBO)\nVAE"),
        (4.3, "unnormalised\nEBM, RBM\n$p\\propto e^{-E_\\theta(\\mathbf{x})}$"),
    ]
    for x, text in leaves_explicit:
        leaf = _box(ax, x, 1.75, 1.55, 1.05, text, "data", 9)
        _arrow(ax, (2.6 + (x - 2.6) * 0.3, explicit[2]), (x, leaf[3]))
    gan = _box(ax, 7.65, 1.75, 1.7, 1.05, "GAN\ngenerator vs.\ndiscriminator", "gen", 9.5, "bold")
    score = _box(ax, 9.65, 1.75, 1.8, 1.05, "diffusion and\nscore "
                 "models\n$\\nabla_\\mathbf{x}\\log p_t(\\mathbf{x})$", "gen", 9)
    _arrow(ax, (8.3, implicit[2]), (7.65, gan[3]))
    _arrow(ax, (8.9, implicit[2]), (9.65, score[3]))
    # Diffusion is trained like an explicit model (a bound on the likelihood / score matching).
    _arrow(ax, (4.3, 1.2), (score[0] + 0.2, 1.2), color="#777777", ls="--", rad=0.25, style="<|-|>")
    ax.text(6.6, 0.56, "score matching links EBMs and diffusion", ha="center", va="top", size=9,
            color="#777777")
    ax.text(0.2, 0.1, "green: trained by (a bound on) the likelihood   ·   blue: sample by pushing "
            "noise through a network",
            size=9, color="#555555")
    ax.text(10.8, 0.1, "this course: GANs first, then diffusion, VAEs and EBMs", size=9,
            color="#555555", ha="right")
    return fig


def discriminator_vs_generator() -> Figure:
    """The two players (lecture: "discriminator versus generator").

    z ~ p_z -> G -> fake x~ ; real x and fake x~ -> D -> d(x) in (0, 1). Losses as in the
    lecture's code: L_D = BCE(d(x), 1) + BCE(d(g(z)), 0), L_G = BCE(d(g(z)), 1) (non-saturating).
    """
    fig, ax = _canvas(11.0, 4.6)
    ax.text(5.5, 4.3, "Discriminator versus generator", ha="center", size=13, weight="bold")
    noise = _box(ax, 0.9, 1.3, 1.3, 0.8, "noise\n$\\mathbf{z}\\sim p_z$\n(20 numbers)", "noise",
                 9.5)
    gen = _box(ax, 3.0, 1.3, 1.5, 0.9, "generator\n$G(\\mathbf{z};\\theta_g)$", "gen", 10.5, "bold")
    fake = _box(ax, 5.1, 1.3, 1.3, 0.8, "fake image\n$\\tilde{\\mathbf{x}}=G(\\mathbf{z})$", "gen",
                9.5)
    real = _box(ax, 5.1, 3.2, 1.3, 0.8, "real image\n$\\mathbf{x}\\sim p_\\mathrm{data}$", "data",
                9.5)
    disc = _box(ax, 7.3, 2.25, 1.6, 1.0, "discriminator\n$D(\\cdot;\\theta_d)$", "disc", 10.5,
                "bold")
    out = _box(ax, 9.6, 2.25, 1.9, 0.9, "$D\\in(0,1)$\nprobability \"real\"", "disc", 9.5)
    _arrow(ax, (noise[1], 1.3), (gen[0], 1.3))
    _arrow(ax, (gen[1], 1.3), (fake[0], 1.3))
    _arrow(ax, (fake[1], 1.3), (disc[0], 2.05))
    _arrow(ax, (real[1], 3.2), (disc[0], 2.45))
    _arrow(ax, (disc[1], 2.25), (out[0], 2.25))
    ax.text(9.6, 3.55, "$L_D = -\\log D(\\mathbf{x}) - \\log(1 - D(G(\\mathbf{z})))$\n"
            "D: real $\\to$ 1, fake $\\to$ 0 (maximise $v$)", ha="center", va="center", size=9.5,
            bbox=dict(boxstyle="round", fc=COLORS["loss"], ec=COLORS["edge"]))
    ax.text(9.6, 0.85, "$L_G = -\\log D(G(\\mathbf{z}))$\n"
            "G: make D say 1 on fakes", ha="center", va="center", size=9.5,
            bbox=dict(boxstyle="round", fc=COLORS["loss"], ec=COLORS["edge"]))
    # The generator learns only through the discriminator's judgement of its fakes.
    _arrow(ax, (8.6, 0.85), (gen[1] - 0.3, gen[2]), "gradient of $L_G$ flows back through D into G",
           color="#c0392b", ls="--", rad=-0.25, text_offset=(0.0, -0.75))
    return fig


def gan_steps() -> Figure:
    """The steps in building a GAN (lecture: data, networks, losses, the training loop, samples).

    Steps 4a/4b are the lecture's ``d_train`` and ``g_train``, alternated once per batch.
    """
    fig, ax = _canvas(11.0, 4.2)
    ax.text(5.5, 3.9, "Steps in building a GAN", ha="center", size=13, weight="bold")
    steps = [
        ("1  data", "MNIST scaled\nto $[-1, 1]$", "data"),
        ("2  networks", "G: $\\mathbf{z}\\to$ image\nD: image $\\to$ prob.", "gen"),
        ("3  losses", "BCE for both,\none Adam each", "loss"),
        ("4  train", "alternate per batch\n(see below)", "neutral"),
        ("5  monitor", "losses, $D(\\mathbf{x})$,\n$D(G(\\mathbf{z}))$, samples", "neutral"),
        ("6  sample", "$G(\\mathbf{z})$ for\nnew noise", "gen"),
    ]
    xs = np.linspace(0.95, 10.05, len(steps))
    boxes = []
    for x, (title, body, color) in zip(xs, steps, strict=True):
        boxes.append(_box(ax, x, 2.75, 1.5, 1.05, "", color))
        ax.text(x, 3.05, title, ha="center", va="center", size=10.5, weight="bold")
        ax.text(x, 2.6, body, ha="center", va="center", size=8.8)
    for left, right in zip(boxes, boxes[1:], strict=False):
        _arrow(ax, (left[1], 2.75), (right[0], 2.75))
    d_step = _box(ax, 3.6, 0.9, 3.3, 0.95, "4a  d_train(x)\nreal $\\to$ 1, $G(\\mathbf{z})$ $\\to$ "
                  "0\nupdate $\\theta_d$ only",
                  "disc", 9.5)
    g_step = _box(ax, 7.4, 0.9, 3.3, 0.95,
                  "4b  g_train()\n$D(G(\\mathbf{z}))\\to 1$\nupdate $\\theta_g$ only", "gen", 9.5)
    _arrow(ax, (d_step[1], 1.05), (g_step[0], 1.05), "then")
    _arrow(ax, (g_step[0], 0.7), (d_step[1], 0.7))
    ax.text(5.5, 0.62, "next batch", ha="center", va="top", size=9, color="#333333")
    _arrow(ax, (xs[3], boxes[3][2]), (5.5, 1.45), style="-", ls=":")
    ax.text(5.5, 0.08,
            "one epoch = one pass over the data; the lecture trains 100 epochs with batch 64",
            ha="center", size=9, color="#555555")
    return fig


def gan_networks() -> Figure:
    """The lecture's networks (``course_utils.gan.networks``), one box per layer.

    Generator: z (20) -> Linear(20, 100) -> LeakyReLU -> Linear(100, 784) -> Tanh -> 784 pixels.
    Discriminator: 784 -> Linear(784, 100, bias=False) -> LeakyReLU -> Dropout(0.5)
    -> Linear(100, 1) -> Sigmoid.
    """
    fig, ax = _canvas(11.0, 4.4)
    ax.text(5.5, 4.1, "Implementing the networks: two multilayer perceptrons", ha="center", size=13,
            weight="bold")
    rows = [
        (3.0, "generator", "gen", [
            ("$\\mathbf{z}$\n20", "noise"), ("Linear\n20$\\to$100", "gen"), ("LeakyReLU", "gen"),
            ("Linear\n100$\\to$784", "gen"), ("Tanh", "gen"), ("image\n784 in $[-1,1]$", "data"),
        ]),
        (1.2, "discriminator", "disc", [
            ("image\n784", "data"), ("Linear\n784$\\to$100", "disc"), ("LeakyReLU", "disc"),
            ("Dropout\n$p=0.5$", "disc"), ("Linear\n100$\\to$1", "disc"),
            ("(Sigmoid)\n$D\\in(0,1)$", "disc"),
        ]),
    ]
    for y, name, _color, layers in rows:
        ax.text(0.15, y + 0.62, name, size=11, weight="bold", color="#333333")
        xs = np.linspace(1.0, 10.0, len(layers))
        boxes = [_box(ax, x, y, 1.35, 0.85, text, c, 9.5) for x,
                 (text, c) in zip(xs, layers, strict=True)]
        for left, right in zip(boxes, boxes[1:], strict=False):
            _arrow(ax, (left[1], y), (right[0], y))
    # Counted from the networks themselves, so the caption cannot drift from the code.
    n_gen = sum(p.numel() for p in make_generator_network().parameters())
    n_disc = sum(p.numel() for p in make_discriminator_network(784).parameters())
    ax.text(5.5, 2.15, f"generator: 20·100 + 100 + 100·784 + 784 = {n_gen:,} parameters  ·  "
            f"discriminator: 784·100 + 100·1 + 1 = {n_disc:,} (hidden layer without bias)",
            ha="center", size=9, color="#555555")
    ax.text(5.5, 0.3,
            "the training code drops the final Sigmoid and uses BCE on logits (same loss, "
            "no $\\log 0$); fakes are fed to D as the 784 pixels G produced", ha="center", size=9,
            color="#555555")
    return fig


DIAGRAMS: dict[str, Callable[[], Figure]] = {
    "generative_overview": generative_overview,
    "discriminator_vs_generator": discriminator_vs_generator,
    "gan_steps": gan_steps,
    "gan_networks": gan_networks,
}


def figure_texts(fig: Figure) -> list[str]:
    """Every piece of text a figure shows, in drawing order: what a
    reader sees, whatever the font."""
    return [t.get_text() for t in fig.findobj(Text) if t.get_text().strip()]


def render_versions() -> dict[str, str]:
    """The versions that decide the exact pixels of a PNG (text rendering differs between them)."""
    from matplotlib import ft2font

    return {"matplotlib": matplotlib.__version__, "freetype": ft2font.__freetype_version__}


def write_figures(out_dir: str | Path = "figures", formats: Sequence[str] = ("png",),
                  dpi: int = 110) -> list[Path]:
    """Draw every diagram in ``DIAGRAMS`` and save it as ``out_dir/<name>.<format>``.

    PNG files are written without a timestamp, so regenerating them leaves git clean unless a
    drawing changed. Beside them goes ``manifest.json``: each figure's texts and PNG checksum and
    the versions that rendered it, so a test can tell a stale figure from a new font renderer.
    Returns the written paths (the manifest not included).
    """
    unknown = [f for f in formats if f not in ("png", "svg", "pdf")]
    if unknown:
        raise ValueError(f"Unknown figure format(s) {unknown}; expected some of 'png', 'svg', "
                         "'pdf'.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    manifest: dict[str, Any] = {"rendered_with": render_versions(), "figures": {}}
    with matplotlib.rc_context({"svg.hashsalt": "genlab", "svg.fonttype": "path"}):
        for name, draw in DIAGRAMS.items():
            fig = draw()
            entry: dict[str, Any] = {"texts": figure_texts(fig)}
            for fmt in formats:
                path = out / f"{name}.{fmt}"
                # Fixed metadata so that regenerating the figures does not change the files.
                metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
                fig.savefig(path, dpi=dpi, metadata=metadata)
                written.append(path)
                if fmt == "png":
                    entry["png_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
            manifest["figures"][name] = entry
            plt.close(fig)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return written


def write_gifs_from(artifacts: str | Path, out_dir: str | Path = "figures") -> list[Path]:
    """Redraw the README's animations from the checkpoints that
    ``make run`` leaves in ``artifacts``.

    ``gan_mlp_samples.gif``: the fixed-noise samples of notebook 03's GAN across its epochs (from
    the history in ``mlp-gan.pt``). ``diffusion_reverse_chain.gif``: an ancestral DDPM chain from
    notebook 07's ``ddpm.pt`` (8 images, 21 snapshots, seed 1); a class-conditional model is asked
    for the digits 0 to 7 with guidance weight 3, so the reader sees noise turn into a known digit.
    """
    artifacts, out = Path(artifacts), Path(out_dir)
    written = []
    if (artifacts / "mlp-gan.pt").is_file():
        history = models.load(artifacts / "mlp-gan.pt").history
        written.append(write_samples_gif(history, out / "gan_mlp_samples.gif"))
    if (artifacts / "ddpm.pt").is_file():
        ddpm = models.load(artifacts / "ddpm.pt").model
        digits = torch.arange(8) if ddpm.config.conditional else None
        _, chain = ddpm_sample(ddpm.ema_model, (8, 1, 28, 28), ddpm.schedule, "cpu", seed=1,
                               return_chain=21, clip=1.0, labels=digits,
                               guidance=3.0 if digits is not None else 1.0)
        title = "digits 0-7, guidance 3, " if digits is not None else ""
        written.append(write_frames_gif([x for _, x in chain], out / "diffusion_reverse_chain.gif",
                                        labels=[f"{title}t = {t}" for t, _ in chain], nrow=8,
                                        value_range=(-1, 1), duration_ms=250))
    if not written:
        raise ValueError(f"No mlp-gan.pt or ddpm.pt in {artifacts}: run the notebooks first (make "
                         "run).")
    return written


# --- animations -----------------------------------------------------------------------------

def image_grid(images: Any, nrow: int = 8, value_range: tuple[float, float] = (-1.0, 1.0),
               padding: int = 2, scale: int = 2) -> np.ndarray:
    """Tile a batch of images (N, 28, 28), (N, 1, 28, 28) or (N, 784) into one uint8 array.

    ``value_range`` is the range of the input: the model range (-1, 1) of every sampler and of
    ``history['samples']`` by default (``course_utils.images``). Digits are drawn dark on white,
    like the lecture's figures.
    """
    x = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images, dtype=np.float32)
    if x.ndim == 2 and x.shape[1] == 784:
        x = x.reshape(-1, 28, 28)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 3 or len(x) == 0:
        raise ValueError("Expected a non-empty batch of images of shape (N, H, W), (N, 1, H, W) "
                         f"or (N, 784); got shape {x.shape}.")
    lo, hi = value_range
    x = np.clip((x - lo) / (hi - lo), 0, 1)
    n, h, w = x.shape
    ncol = min(nrow, n)
    nrows = -(-n // ncol)
    grid = np.zeros((nrows * (h + padding) + padding, ncol * (w + padding) + padding), np.float32)
    for i, img in enumerate(x):
        r, c = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        grid[top:top + h, left:left + w] = img
    grid = (255 * (1 - grid)).astype(np.uint8)  # ink is dark
    return np.kron(grid, np.ones((scale, scale), np.uint8)) if scale > 1 else grid


def write_frames_gif(frames: Sequence[Any], path: str | Path, labels: Sequence[str] | None = None,
                     nrow: int = 8, value_range: tuple[float, float] = (-1.0, 1.0),
                     duration_ms: int = 400, last_frame_ms: int = 1500, loop: int = 0) -> Path:
    """Write a list of image batches as an animated GIF, one frame per batch.

    Use it for a diffusion reverse chain ``x_T, ..., x_0`` (each frame a batch in [-1, 1]) or
    any sequence of samples; ``labels`` (e.g. ``"t = 500"``) are written above each frame.
    """
    from PIL import Image, ImageDraw

    if len(frames) == 0:
        raise ValueError("write_frames_gif needs at least one frame (a batch of images).")
    if labels is not None and len(labels) != len(frames):
        raise ValueError(f"Got {len(labels)} labels for {len(frames)} frames; give one label per "
                         "frame.")
    pictures = []
    for i, batch in enumerate(frames):
        grid = image_grid(batch, nrow=nrow, value_range=value_range)
        picture = Image.fromarray(grid).convert("L")
        if labels is not None:
            framed = Image.new("L", (picture.width, picture.height + 16), 255)
            framed.paste(picture, (0, 16))
            ImageDraw.Draw(framed).text((4, 2), str(labels[i]), fill=0)
            picture = framed
        pictures.append(picture)  # mode "L": a 256-grey palette, no dithering
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    durations = [duration_ms] * (len(pictures) - 1) + [last_frame_ms]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=durations, loop=loop,
                     optimize=True)
    return path


def write_samples_gif(history: Mapping[str, Any], path: str | Path, n: int = 32, nrow: int = 8,
                      duration_ms: int = 600) -> Path:
    """Animate a GAN's fixed-noise samples across epochs (the lecture's epoch grid as a movie).

    Accepts the history of ``course_utils.gan.train_gan`` (``sample_epochs`` plus ``samples``, a
    (k, n, 1, 28, 28) tensor in the model range [-1, 1]) or any history whose ``samples`` is a dict
    ``{epoch: images in [-1, 1]}``.
    """
    if "samples" not in history:
        raise ValueError("The history has no 'samples'; train with course_utils.gan.train_gan, "
                         "which keeps the fixed-noise samples of selected epochs.")
    samples = history["samples"]
    if isinstance(samples, Mapping):
        epochs = sorted(samples)
        batches = [samples[e] for e in epochs]
    else:
        if "sample_epochs" not in history:
            raise ValueError("history['samples'] is not a dict {epoch: images}, so the history "
                             "needs 'sample_epochs' saying which epoch each batch belongs to.")
        epochs = list(history["sample_epochs"])
        batches = [samples[i] for i in range(len(epochs))]
    if not epochs:
        raise ValueError("The history kept no samples (empty 'samples').")
    batches = [b[:n] for b in batches]
    return write_frames_gif(batches, path, labels=[f"epoch {e}" for e in epochs], nrow=nrow,
                            duration_ms=duration_ms)


def show_gif(path: str | Path, width: int | None = None) -> Any:
    """Display a GIF in a notebook, inlined as ``<img src="data:image/gif;base64,...">``.

    An HTML output (not an image output) so that JupyterLab, Colab and nbconvert's HTML pages all
    animate it and the page does not depend on the file staying where it is.
    """
    import base64

    from IPython.display import HTML

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"No GIF at {path}; write one first with write_samples_gif or "
                         "write_frames_gif.")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    size = f' width="{width}"' if width else ""
    return HTML(f'<img src="data:image/gif;base64,{data}"{size} alt="{path.name}">')
