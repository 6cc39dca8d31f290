"""One honest scoreboard for every model of the course (issue 6).

Every checkpoint is sampled with the same number of images and scored against the same held-out
real digits (``load_mnist(train=False)``, never seen in training) with the same numbers:

* ``mmd2_features`` -- unbiased MMD^2 (the U-statistic, eq. (2) of ``course_utils.scoring.mmd``: 0
  on average for a perfect model) in the 64 features of the project's MNIST classifier,
  Gaussian kernel, median bandwidth;
* ``mmd2_pixels`` -- the same in pixel space (784 values in [-1, 1]);
* ``fd_features`` -- the Frechet distance between Gaussians fitted to the classifier features
  (FID with our classifier in place of Inception v3);
* ``confidence`` -- the classifier's mean largest class probability (real digits: ~0.99);
* ``class_spread`` -- entropy of the predicted-class histogram divided by log 10: 1 when the ten
  digits are equally frequent, 0 when every sample is the same digit (mode collapse);
* ``train_seconds`` (from the checkpoint's history) and ``sample_seconds`` (measured here).

Every checkpoint is loaded and sampled through the registry (``course_utils.models``). Diffusion
models are sampled without a label (the unconditional model, as the GANs and the VAE are) with
DDIM, ``steps`` steps (default 50) and ``eta`` (default 1: for small, briefly trained models the
stochastic sampler draws clearly better digits than the deterministic one, notebook 07).

A reference row, "MNIST train digits", scores real training digits the same way: the best any
model can do with that many samples. Lower is better for the MMDs and the FD, higher for the
confidence and the spread.

``python -m course_utils scoreboard [CKPT ...] [-n 1000] [--out DIR]`` writes
``scoreboard.md``, ``scoreboard.json`` and ``scoreboard.png``.
"""
from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from matplotlib.figure import Figure

from . import models
from .data import MnistFallbackWarning, load_mnist, split_of
from .device import DeviceLike, get_device
from .gan import GANConfig, sample_gan
from .images import to_unit_range
from .scoring import (
    MMDScorer,
    class_spread,
    classifier_features,
    classify_samples,
    frechet_distance,
    mmd2,
    pixel_features,
)

__all__ = ["METRICS", "class_spread", "classifier_monitor", "mmd_monitor", "score_images",
           "score_checkpoints", "format_table", "plot_scoreboard", "plot_class_histograms",
           "write_scoreboard", "model_name", "score_at_budgets", "format_budget_table",
           "plot_budgets"]

# key: (column title, True if higher is better)
METRICS: dict[str, tuple[str, bool]] = {
    "mmd2_features": ("MMD² (classifier features)", False),
    "mmd2_pixels": ("MMD² (pixels)", False),
    "fd_features": ("Fréchet distance (features)", False),
    "confidence": ("classifier confidence", True),
    "class_spread": ("class spread", True),
}
REFERENCE = "MNIST train digits"


def model_name(trained: models.Trained, all_digits: bool = False) -> str:
    """A readable name for a loaded checkpoint, as its family names the way the scoreboard samples
    it (e.g. "DDPM, digits 0-9" for a class-conditional model drawing the digits in turn)."""
    return trained.family.scoreboard_sampling(trained.config, all_digits, None, None)[0]


def _train_seconds(history: dict[str, Any] | None) -> float | None:
    if not history:
        return None
    if "train_seconds" in history:
        return float(history["train_seconds"])
    seconds = history.get("seconds")
    if isinstance(seconds, (int, float)):  # one total (diffusion, VAE)
        return float(seconds)
    if seconds:  # one entry per epoch (GANs)
        return float(sum(seconds))
    return None


def mmd_monitor(scorer: MMDScorer, config: GANConfig, n: int = 500, seed: int = 0):  # noqa: ANN201
    """An ``on_epoch_end`` hook for ``train_gan``: the lecture's MMD score (``scorer.score``, the
    square root of the biased estimate, eq. (3) of ``course_utils.scoring.mmd``, against the
    scorer's fixed reals) of ``n`` samples from the same noise (``seed``) after every epoch, stored
    per epoch as ``history["mmd"]`` (notebook 05 plots it)."""

    def monitor(epoch: int, gen_model: torch.nn.Module) -> dict[str, float]:
        device = next(gen_model.parameters()).device
        return {"mmd": scorer.score(sample_gan(gen_model, n, config.z_size, config.mode_z, device,
                                               seed))}

    return monitor


def classifier_monitor(config: GANConfig, n: int = 500, seed: int = 0):  # noqa: ANN201
    """An ``on_epoch_end`` hook for ``train_gan`` (a GAN family's ``monitor``): the classifier's
    mean confidence and the class spread of ``n`` samples (fixed noise), stored per epoch."""

    def monitor(epoch: int, gen_model: torch.nn.Module) -> dict[str, float]:
        device = next(gen_model.parameters()).device
        images = sample_gan(gen_model, n, config.z_size, config.mode_z, device, seed)
        summary = classify_samples(images, device=device)
        return {"confidence": summary.mean_confidence,
                "class_spread": class_spread(summary.histogram)}

    return monitor


def score_images(fake: torch.Tensor, real: torch.Tensor, real_features: torch.Tensor | None = None,
                 device: DeviceLike = None) -> dict[str, float]:
    """All quality scores of ``fake`` against ``real``; both (N, 1, 28, 28) in [-1, 1]."""
    if real_features is None:
        real_features = classifier_features(real, device=device)
    fake_features = classifier_features(fake, device=device)
    summary = classify_samples(fake, device=device)
    return {
        "mmd2_features": mmd2(real_features, fake_features, bandwidth="median", device=device),
        "mmd2_pixels": mmd2(pixel_features(real), pixel_features(fake), bandwidth="median",
                            device=device),
        "fd_features": frechet_distance(real_features, fake_features),
        "confidence": summary.mean_confidence,
        "class_spread": class_spread(summary.histogram),
        "histogram": [int(c) for c in summary.histogram],
    }


def score_checkpoints(
    paths: Sequence[str | Path],
    n: int = 1000,
    data_root: str | Path | None = None,
    device: DeviceLike = None,
    seed: int = 0,
    steps: int | None = None,
    eta: float = 1.0,
    all_digits: bool = False,
) -> dict[str, Any]:
    """Sample ``n`` images from every checkpoint and score them against ``n`` held-out reals.

    A class-conditional DDPM samples without a label, as the GANs do, unless ``all_digits``: then
    it draws the digits 0-9 in turn from p(x | y) with guidance 1, a sample of p(x) with p(y)
    uniform that uses the labels it was trained with (``sample_ddpm``); its row's name says so.

    Returns ``{"n": n, "real_source": ..., "rows": [...], "samples": {name: images}}``; each row
    holds the model's name, checkpoint path, the ``METRICS``, its class histogram, and the
    training and sampling seconds.
    """
    if not paths:
        raise ValueError("No checkpoints to score: pass checkpoint files (see notebooks 03, 08).")
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"Checkpoint not found: {', '.join(missing)}")
    device = get_device(device)
    test = load_mnist(root=data_root, train=False)
    real, _ = split_of(test)
    if n > len(real):
        raise ValueError(f"n={n} but only {len(real)} held-out real digits are available "
                         f"({test.source})")
    generator = torch.Generator().manual_seed(seed)
    real = real[torch.randperm(len(real), generator=generator)[:n]]
    real_features = classifier_features(real, device=device)
    with warnings.catch_warnings():  # the fallback was already reported for the test split
        warnings.simplefilter("ignore", MnistFallbackWarning)
        train_images, _ = split_of(load_mnist(root=data_root, train=True))
    reference = train_images[torch.randperm(len(train_images), generator=generator)[:n]]
    rows = [{"name": REFERENCE, "checkpoint": None, "train_seconds": None, "sample_seconds": None,
             **score_images(reference, real, real_features, device)}]
    samples = {REFERENCE: reference[:16]}
    for path in paths:
        trained = models.load(path, device)
        if not trained.family.samples.digits:
            raise ValueError(f"{path} holds a {trained.name} model of "
                             f"{trained.family.samples.noun}, not of digits: the scoreboard scores "
                             "digit models")
        name, options = trained.family.scoreboard_sampling(trained.config, all_digits, steps, eta)
        if name in samples:
            name = f"{name} ({Path(path).stem})"
        family, model = trained.family, trained.model
        family.sample(model, 2, device, seed, options)  # warm-up: one-time costs are not sampling
        start = time.perf_counter()
        fake = family.sample(model, n, device, seed, options).detach().float().cpu()
        sample_seconds = time.perf_counter() - start
        rows.append({"name": name, "checkpoint": str(path),
                     "train_seconds": _train_seconds(trained.history),
                     "sample_seconds": sample_seconds,
                     **score_images(fake, real, real_features, device)})
        samples[name] = fake[:16]
    return {"n": n, "real_source": test.source, "rows": rows, "samples": samples}


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and 0 < abs(value) < 1e-3:
        return f"{value:.1e}"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def format_table(board: dict[str, Any]) -> str:
    """The scoreboard as a Markdown table (best value of each quality column in bold)."""
    rows = board["rows"]
    models = [r for r in rows if r["checkpoint"] is not None]
    best = {}
    for key, (_, higher) in METRICS.items():
        values = [r[key] for r in models]
        if len(set(values)) > 1:  # no bold when every model ties
            best[key] = max(values) if higher else min(values)
    head = ["model", *(title for title, _ in METRICS.values()), "train s", "sample s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["name"]]
        for key in METRICS:
            text = _fmt(r[key])
            cells.append(f"**{text}**" if r["checkpoint"] is not None and r[key] == best.get(key)
                         else text)
        cells += [_fmt(r["train_seconds"], 1), _fmt(r["sample_seconds"], 2)]
        lines.append("| " + " | ".join(cells) + " |")
    arrows = ", ".join(f"{title} {'↑' if higher else '↓'}" for title, higher in METRICS.values())
    lines.append("")
    lines.append(f"{board['n']:,} samples per model against {board['n']:,} held-out real digits "
                 f"({board['real_source']}). Better: {arrows}. The first row scores real training "
                 "digits, the floor for this many samples (the classifier was trained on such "
                 "digits, so its confidence there is a little optimistic).")
    return "\n".join(lines)


def plot_scoreboard(board: dict[str, Any]) -> Figure:
    """Bar charts of the quality scores (one panel each) above 16 samples of every model."""
    import matplotlib.pyplot as plt

    rows = board["rows"]
    names = [r["name"] for r in rows]
    n_rows = len(rows)
    fig = plt.figure(figsize=(max(3.2 * len(METRICS), 2.6 * n_rows), 5.0 + 0.3 * n_rows),
                     layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0 + 0.1 * n_rows, 1.0])
    colors = ["0.6"] + [f"C{i}" for i in range(n_rows - 1)]
    for col, (ax, (key, (title, higher))) in enumerate(zip(top.subplots(1, len(METRICS)),
                                                           METRICS.items(), strict=True)):
        ax.barh(range(n_rows), [r[key] for r in rows], color=colors)
        ax.set_yticks(range(n_rows), names if col == 0 else [""] * n_rows)
        ax.invert_yaxis()
        ax.set_title(f"{title} {'↑' if higher else '↓'}", fontsize=10)
    axes = bottom.subplots(1, n_rows, squeeze=False)[0]
    for ax, name in zip(axes, names, strict=True):
        images = board["samples"][name].reshape(-1, 28, 28)[:16]
        tiles = torch.ones(4 * 29 + 1, 4 * 29 + 1)
        for k, image in enumerate(images):
            r, c = divmod(k, 4)
            tiles[1 + 29 * r:29 * (r + 1), 1 + 29 * c:29 * (c + 1)] = to_unit_range(image)
        ax.imshow(tiles.numpy(), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    return fig


def plot_class_histograms(histograms: dict[str, Any]) -> Figure:
    """One bar chart per model: how often the classifier reads each digit in its samples.

    A flat histogram means every digit is generated; missing or dominant bars are mode collapse.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(histograms), figsize=(3.0 * len(histograms), 2.8),
                             sharey=True, squeeze=False, layout="constrained")
    for k, (ax, (name, counts)) in enumerate(zip(axes[0], histograms.items(), strict=True)):
        counts = torch.as_tensor(counts, dtype=torch.float64)
        ax.bar(range(10), (counts / counts.sum()).numpy(), color="0.6" if k == 0 else f"C{k - 1}")
        ax.axhline(0.1, color="k", lw=0.8, ls=":")
        ax.set_xticks(range(10))
        ax.set_title(f"{name}\nspread {class_spread(counts):.3f}", fontsize=9)
        ax.set_xlabel("digit read by the classifier")
    axes[0][0].set_ylabel("fraction of samples")
    return fig


def write_scoreboard(board: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write ``scoreboard.md``, ``scoreboard.json`` and ``scoreboard.png`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"md": out / "scoreboard.md", "json": out / "scoreboard.json",
             "png": out / "scoreboard.png"}
    paths["md"].write_text(format_table(board) + "\n")
    paths["json"].write_text(json.dumps({k: v for k, v in board.items() if k != "samples"},
                                        indent=2) + "\n")
    fig = plot_scoreboard(board)
    fig.savefig(paths["png"], dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return paths


# --- samplers at equal cost (notebook 07b) ------------------------------------------------------

Draw = Callable[[int], "torch.Tensor | tuple[torch.Tensor, int]"]
"""draw(budget) -> images (N, 1, 28, 28) in [-1, 1], or (images, network evaluations used) when
the sampler cannot spend exactly ``budget`` (Heun: two evaluations per step)."""


def score_at_budgets(samplers: Mapping[str, Draw], budgets: Sequence[int], real: torch.Tensor,
                     device: DeviceLike = None) -> list[dict[str, Any]]:
    """Every sampler asked for every budget of network evaluations per sample: its images scored
    against ``real`` (``score_images``: Frechet distance in classifier features, confidence, ...)
    and its wall-clock seconds. One row per (budget, sampler), in that order."""
    real_features = classifier_features(real, device=device)
    rows = []
    for budget in budgets:
        for name, draw in samplers.items():
            start = time.perf_counter()
            drawn = draw(budget)
            images, used = drawn if isinstance(drawn, tuple) else (drawn, budget)
            images = images.detach().float().cpu()  # waits for the device: the time is complete
            seconds = time.perf_counter() - start
            scores = score_images(images.clamp(-1, 1), real, real_features, device)
            rows.append({"sampler": name, "budget": budget, "evaluations": used,
                         "seconds": seconds, "n": len(images), **scores})
    return rows


def format_budget_table(rows: Sequence[dict[str, Any]]) -> str:
    """The rows of ``score_at_budgets`` as a Markdown table (best FD per budget in bold)."""
    budgets = {r["budget"] for r in rows}
    best = {b: min(r["fd_features"] for r in rows if r["budget"] == b) for b in budgets}
    lines = ["| network evaluations | sampler | Fréchet distance ↓ | confidence ↑ | class spread ↑ "
             "| seconds |", "|---|---|---|---|---|---|"]
    for r in rows:
        fd = _fmt(r["fd_features"], 2)
        fd = f"**{fd}**" if r["fd_features"] == best[r["budget"]] else fd
        lines.append(f"| {r['evaluations']} | {r['sampler']} | {fd} | {_fmt(r['confidence'], 3)} | "
                     f"{_fmt(r['class_spread'], 3)} | {_fmt(r['seconds'], 2)} |")
    return "\n".join(lines)


def plot_budgets(rows: Sequence[dict[str, Any]]) -> Figure:
    """Frechet distance, classifier confidence and seconds against network evaluations, one line
    per sampler (logarithmic evaluation axis)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), layout="constrained")
    names = list(dict.fromkeys(r["sampler"] for r in rows))
    for k, name in enumerate(names):
        mine = [r for r in rows if r["sampler"] == name]
        for ax, key in zip(axes, ("fd_features", "confidence", "seconds"), strict=True):
            ax.plot([r["evaluations"] for r in mine], [r[key] for r in mine], "o-", color=f"C{k}",
                    label=name)
    titles = ("Fréchet distance (features) ↓", "classifier confidence ↑", "seconds")
    ticks = sorted({r["evaluations"] for r in rows})
    for ax, title in zip(axes, titles, strict=True):
        ax.set_xscale("log")
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.set_xlabel("network evaluations per sample")
        ax.set_title(title, fontsize=10)
    axes[0].legend(fontsize=8)
    return fig
