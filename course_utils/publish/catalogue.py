"""The notebooks in lecture order: one table of what each teaches and how long it runs.

``NOTEBOOKS`` is the one place where a notebook's title, what it teaches and its run times are
written. Three things are generated from it and checked against it by ``tests/test_catalogue.py``:

* the **"Run time" paragraph** in the header of each notebook (``write_headers``), e.g.
  "**Run time.** About a minute on a laptop CPU with the shipped models; ``COURSE_TRAIN=1``
  (train them here): ~8 min.";
* the **notebook table of README.md**, between two marker comments (``write_readme_table``);
* the **course site's index** (``course_utils.publish.site.build_site``).

Update them all with ``python scripts/headers.py`` after changing the table (``--check`` only
reports what is stale). An entry whose notebook does not exist yet is skipped everywhere, so a
coming notebook can be listed before it lands.

The times are wall times of ``make run`` (``jupyter nbconvert --execute``, kernel start included)
on a 2-core laptop-class CPU without a GPU: ``laptop_s`` with the checkpoints shipped in
``course_utils/pretrained/``, ``train_s`` with ``COURSE_TRAIN=1`` (every model trained in the
notebook). ``train_s=None`` says that the notebook loads no shipped model, so ``COURSE_TRAIN=1``
changes nothing; ``laptop_s=None`` that it has not been timed yet. For 07b, 09 and 09b
``train_s`` is ``laptop_s`` plus the training seconds of the models it would train, as the
benchmarks measured them on the same machine (``benchmarks/results/``: flows, ising, phi4; the
flow-matching UNet at the DDPM's laptop budget, as notebook 07's), not a ``COURSE_TRAIN=1`` run.
"""
from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Notebook", "NOTEBOOKS", "about", "run_time_paragraph", "existing", "header_with_run_time",
    "write_headers", "readme_table", "write_readme_table",
]


@dataclass(frozen=True)
class Notebook:
    """One notebook of the lecture: ``name`` is its file stem in ``notebooks/``."""

    name: str
    title: str
    teaches: str
    laptop_s: float | None
    train_s: float | None = None


NOTEBOOKS: tuple[Notebook, ...] = (
    Notebook("00_kl_and_vae", "KL divergence and the variational autoencoder",
             "KL divergence (asymmetry, closed form against Monte Carlo, forward vs reverse), "
             "Jensen-Shannon and the GAN optimum; a VAE on MNIST: the ELBO, its two terms, the "
             "reparameterisation trick, samples and a 2-D latent space, scored.",
             laptop_s=22, train_s=30),
    Notebook("00b_energy_and_score", "Boltzmann machines, contrastive divergence and score-based "
             "models",
             "Energy-based models and the partition function; an RBM trained with CD-k and "
             "persistent CD, judged by its exact log-likelihood; the score, denoising score "
             "matching, Langevin dynamics and Tweedie's formula.",
             laptop_s=47),
    Notebook("01_gan_theory", "Generative adversarial networks: the game and its solution",
             "The game and its value function, the optimal discriminator, the link to "
             "Jensen-Shannon, the non-saturating loss and why such games are hard to converge, "
             "on a 1-D GAN.",
             laptop_s=22),
    Notebook("02_gan_networks", "Building the lecture's generator and discriminator",
             "The lecture's two networks, the noise, one forward pass and the first losses.",
             laptop_s=9),
    Notebook("03_gan_training", "Training the GAN on MNIST",
             "The lecture's training loop (`d_train`, `g_train`), its losses per epoch and a "
             "checkpoint that the next notebooks reuse.",
             laptop_s=10, train_s=40),
    Notebook("04_gan_visualization", "Looking at the trained GAN",
             "The lecture's two figures, the samples across training as an animation, a walk in "
             "noise space and the discriminator's verdicts.",
             laptop_s=9),
    Notebook("05_mmd_scoring", "Scoring samples with the MMD",
             "The MMD from kernel mean embeddings, the biased estimator's floor, the lecture's "
             "range mistake, MMD over training, a permutation test, pixels vs classifier features.",
             laptop_s=12, train_s=50),
    Notebook("06_diffusion_intro", "Diffusion models: the forward chain and a 2-D denoiser",
             "The forward chain on 2-D data and on digits, its closed form checked against the "
             "chain, and a 2-D denoiser that runs the chain backwards.",
             laptop_s=24),
    Notebook("07_diffusion_maths_and_mnist", "The mathematics of diffusion models, and digits "
             "from noise",
             "The ELBO of the Markov hierarchy, the posterior, the simple loss, Tweedie, score "
             "matching, the SDE view, DDIM and guidance; a UNet DDPM on MNIST, sampled and scored.",
             laptop_s=62, train_s=480),
    Notebook("07b_flows", "Normalizing flows and flow matching",
             "Normalizing flows (the change of variables, affine coupling layers, exact "
             "likelihood) and flow matching (a velocity field learned by regression, sampled "
             "with an ODE solver or with the DDPM's own step).",
             laptop_s=70, train_s=1011),
    Notebook("08_gan_zoo", "Beyond the lecture's GAN: DCGAN, WGAN-GP and one scoreboard",
             "DCGAN, a conditional DCGAN and WGAN-GP through the same training loop, mode collapse "
             "measured, non-saturating vs minimax loss, and one scoreboard for every model.",
             laptop_s=66, train_s=780),
    Notebook("09_ising", "Generative models of a physical system: the 2-D Ising model",
             "The exact solution checked by enumeration, Monte Carlo and its autocorrelation, and "
             "four generative models (RBM, GAN, DDPM, autoregressive) judged by the physics of "
             "their samples.",
             laptop_s=29, train_s=1079),
    Notebook("09b_lattice_field_theory", "Lattice field theory: phi^4 with flows and HMC",
             "Lattice phi^4 theory sampled by Hybrid Monte Carlo and by a normalizing flow "
             "trained by reverse KL, corrected with Metropolis-Hastings and judged by its "
             "effective sample size.",
             laptop_s=21, train_s=444),
)


def about(seconds: float, short: bool = False) -> str:
    """A duration as a reader wants it: "about 25 s", "about a minute", "about 8 min".

    ``short``: "~25 s", "~1 min", "~8 min".
    """
    if seconds < 50:
        amount = f"{max(5, 5 * round(seconds / 5))} s"
    elif seconds < 90:
        amount = "1 min" if short else "a minute"
    else:
        amount = f"{round(seconds / 60)} min"
    return ("~" if short else "about ") + amount


def run_time_paragraph(entry: Notebook) -> str:
    """The notebook header's "Run time" paragraph for ``entry`` (Markdown, one line)."""
    if entry.laptop_s is None:
        return "**Run time.** Not timed yet."
    laptop = about(entry.laptop_s).capitalize() + " on a laptop CPU"
    if entry.train_s is None:
        return (f"**Run time.** {laptop}; the same with `COURSE_TRAIN=1` (it loads no shipped "
                "model).")
    return (f"**Run time.** {laptop} with the shipped models; `COURSE_TRAIN=1` (train them "
            f"here): {about(entry.train_s, short=True)}.")


def existing(notebooks_dir: str | Path, entries: Iterable[Notebook] = NOTEBOOKS) -> list[Notebook]:
    """The entries whose ``notebooks_dir/<name>.py`` exists, in lecture order."""
    folder = Path(notebooks_dir)
    return [entry for entry in entries if (folder / f"{entry.name}.py").is_file()]


LINE_LENGTH = 100  # the project's (pyproject.toml: [tool.ruff])

# The header's run-time paragraph: "# **Run time** ..." up to the next "#" line or cell marker.
_RUN_TIME = re.compile(r"^# \*\*Run time\b.*?(?=^#[ \t]*$|^# %%|\Z)", re.MULTILINE | re.DOTALL)


def header_with_run_time(source: str, entry: Notebook) -> str:
    """``source`` (a jupytext percent ``.py``) with its first "Run time" paragraph replaced.

    Only that paragraph changes; it must be in the first Markdown cell, after the title.
    """
    first_cell_end = source.find("\n# %%", source.find("# %% [markdown]") + 1)
    match = _RUN_TIME.search(source, 0, first_cell_end if first_cell_end > 0 else len(source))
    if match is None:
        raise ValueError(f"{entry.name}: no paragraph starting with '# **Run time' in the first "
                         "Markdown cell; add one after 'What this notebook teaches'.")
    lines = textwrap.wrap(run_time_paragraph(entry), width=LINE_LENGTH - 2, break_on_hyphens=False)
    paragraph = "".join(f"# {line}\n" for line in lines)
    return source[:match.start()] + paragraph + source[match.end():]


def write_headers(notebooks_dir: str | Path = "notebooks",
                  entries: Sequence[Notebook] = NOTEBOOKS, check: bool = False) -> list[Path]:
    """Rewrite the "Run time" paragraph of every existing notebook from ``entries``.

    Returns the notebooks whose header was (``check=True``: would be) changed.
    """
    changed = []
    for entry in existing(notebooks_dir, entries):
        path = Path(notebooks_dir) / f"{entry.name}.py"
        source = path.read_text(encoding="utf-8")
        updated = header_with_run_time(source, entry)
        if updated != source:
            changed.append(path)
            if not check:
                path.write_text(updated, encoding="utf-8")
    return changed


README_BEGIN = ("<!-- notebooks: generated from course_utils/publish/catalogue.py by "
                "scripts/headers.py -->")
README_END = "<!-- end of notebooks -->"


def readme_table(entries: Sequence[Notebook]) -> str:
    """The README's Markdown table of the notebooks: name, what it teaches, laptop time."""
    rows = ["| notebook | what it teaches | laptop |", "| --- | --- | --- |"]
    for entry in entries:
        time = about(entry.laptop_s, short=True) if entry.laptop_s is not None else "not timed yet"
        link = f"[`{entry.name}`](notebooks/{entry.name}.py)"
        rows.append(f"| {link} | **{entry.title}.** {entry.teaches} | {time} |")
    return "\n".join(rows)


def write_readme_table(readme: str | Path = "README.md", notebooks_dir: str | Path = "notebooks",
                       entries: Sequence[Notebook] = NOTEBOOKS, check: bool = False) -> bool:
    """Replace the table between README_BEGIN and README_END; True if it changed."""
    path = Path(readme)
    text = path.read_text(encoding="utf-8")
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        raise ValueError(f"{path}: the markers {README_BEGIN!r} and {README_END!r} are missing.")
    table = readme_table(existing(notebooks_dir, entries))
    updated = text[:begin + len(README_BEGIN)] + "\n" + table + "\n" + text[end:]
    if updated != text and not check:
        path.write_text(updated, encoding="utf-8")
    return updated != text
