"""The GPU path, checked: every model family, the scores and the samplers on an accelerator, then
their speed there against the CPU (issue 24).

    python scripts/gpu_check.py                                   # CUDA, else MPS; else it refuses
    python scripts/gpu_check.py --device cuda --data-root ../data
    python scripts/gpu_check.py --device cpu --smallest           # seconds: what `make test` runs
    make gpu-check ARGS="--device cuda --data-root ../data"

It needs only torch, numpy and this repository: no jupyter, matplotlib, mlxtend or network. The
digits are MNIST from ``--data-root`` (torchvision's layout, ``MNIST/raw/*-ubyte[.gz]``, the
training split or else the test split; default ``$COURSE_DATA`` or ``./data``) or, where there is
none, a synthetic stand-in (three blobs per class, with labels), which the report names: the check
is of the device path, not of the digits.

On the chosen device, for every family in ``course_utils.models.FAMILIES`` (whichever are
registered): ``fit`` its ``tiny`` config (build and a few training steps), sample with its smoke
options, save, load with ``weights_only=True``, sample again with the same seed (the same samples,
within a tolerance), each sampling option once; parameters, loaded models and samples must be on
the device. Then the scores (MMD, its scorer, test and KID, FD, 1-NN and the classifier's
features) on device tensors against the CPU's numbers; the Ising Monte Carlo on the device against
Kaufman's exact energy; the other samplers that take a device (ancestral DDPM, RBM training and
Gibbs chains, Langevin dynamics, score matching, the VAE's test loss, the classifier's training).
On CUDA each check also counts the times the host waited for the device
(``torch.cuda.set_sync_debug_mode``): a count that grows with the number of steps is a host round
trip inside a loop.

Then one laptop-recipe unit of work is timed on the device and on the CPU in the same run (200
DDPM training steps, one DCGAN epoch over 10,000 digits, DDIM-50 sampling of 1,000 digits), with
the speed-ups. ``--smallest`` shrinks every size so that the whole run takes seconds on a CPU.

Every check is reported PASS or FAIL in one table; a failure does not stop the others. Exit status
0 if all passed, 1 if any failed, 2 without an accelerator (and no ``--device``) or with bad
arguments. The tables are printed and written to ``benchmarks/results/gpu_check.md``
(``--smallest``: ``build/gpu-check/gpu_check.md``; ``--out`` to choose).
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import platform
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import TensorDataset

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

try:
    from benchmarks._results import recorded  # noqa: E402
    from course_utils import diffusion, ising, models, scoring  # noqa: E402
    from course_utils.data import DataError, load_mnist  # noqa: E402
    from course_utils.device import get_device, seeded_generator  # noqa: E402
    from course_utils.families.base import DIGITS, SPINS, ExactDensity, Family, field_specs  # noqa: E402
    from course_utils.paths import data_root  # noqa: E402
    from course_utils.scoring.classifier import train_classifier  # noqa: E402
    from course_utils.summary import rbm, score_matching, vae  # noqa: E402
except ImportError as missing:  # a package that course_utils imports is not installed here
    ours = [f.filename for f in traceback.extract_tb(missing.__traceback__)
            if f.filename.startswith(str(ROOT))]
    by = Path(ours[-1]).relative_to(ROOT) if ours else "the repository"
    print(f"gpu_check: {by} imports {missing.name or missing}, which is not installed here; "
          "the check should need only torch and numpy", file=sys.stderr)
    sys.exit(2)

SEED = 0
SAME_SAMPLES = 1e-3  # entries of two samplings with one seed that may differ by more than 1e-3


@dataclass(frozen=True)
class Sizes:
    """How much work each part does: the full check (minutes on a GPU) or ``--smallest``."""

    digits: int  # digits loaded (or made) for everything below
    n_samples: int  # samples per family check
    n_scored: int  # real and fake samples in the score checks
    ising_L: int
    ising_n: int
    ddpm_steps: int  # the timed DDPM training steps (laptop recipe)
    gan_digits: int  # the timed DCGAN epoch runs over this many digits (laptop recipe)
    ddim_n: int  # digits drawn by the timed DDIM sampler


FULL = Sizes(digits=10_000, n_samples=64, n_scored=1_000, ising_L=16, ising_n=1_024,
             ddpm_steps=200, gan_digits=10_000, ddim_n=1_000)
SMALLEST = Sizes(digits=512, n_samples=8, n_scored=128, ising_L=8, ising_n=128, ddpm_steps=2,
                 gan_digits=256, ddim_n=16)


# --- what a check is and how the run reports it --------------------------------------------------


class CheckFailed(AssertionError):
    """A check's expectation did not hold (the message says which)."""


def expect(condition: bool, message: str) -> None:
    """Fail the running check with ``message`` unless ``condition`` (-O cannot remove it)."""
    if not condition:
        raise CheckFailed(message)


class SyncCount:
    """How often the host waited for the device inside a block: CUDA's sync debug mode warns at
    every synchronising call (``.item()``, a copy to the host, a blocking copy to the device) and
    the warnings are counted. Elsewhere nothing is counted (``n`` stays None)."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.n = device, None

    def __enter__(self) -> SyncCount:
        self._catching = None
        if self.device.type == "cuda":
            self._catching = warnings.catch_warnings(record=True)
            self._caught = self._catching.__enter__()
            warnings.simplefilter("always")
            try:
                torch.cuda.set_sync_debug_mode("warn")
            except (RuntimeError, AttributeError):  # a build without it: nothing is counted
                self._catching.__exit__(None, None, None)
                self._catching = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._catching is not None:
            torch.cuda.set_sync_debug_mode("default")
            self._catching.__exit__(*exc)
            self.n = sum("synchroniz" in str(w.message) for w in self._caught)


@dataclass
class Row:
    area: str
    name: str
    passed: bool
    detail: str
    seconds: float


class Report:
    """Runs checks one by one, each to PASS or FAIL with a one-line detail, and prints the table."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def run(self, area: str, name: str, check: Callable[[], str]) -> None:
        start = time.perf_counter()
        try:
            detail, passed = check(), True
        except Exception as err:  # noqa: BLE001 - every failure is reported, the run goes on
            detail, passed = _one_line(err), False
            traceback.print_exc(file=sys.stderr)
        row = Row(area, name, passed, detail, time.perf_counter() - start)
        self.rows.append(row)
        print(f"  {'PASS' if passed else 'FAIL'} {area}: {name} ({row.seconds:.1f} s)",
              file=sys.stderr, flush=True)

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if not r.passed]

    def table(self) -> str:
        lines = ["| area | check | result | detail | seconds |", "| --- | --- | --- | --- | ---: |"]
        lines += [f"| {r.area} | {r.name} | {'PASS' if r.passed else '**FAIL**'} | {r.detail} | "
                  f"{r.seconds:.1f} |" for r in self.rows]
        return "\n".join(lines)


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".replace("|", "/")


def _syncs(*counts: tuple[str, SyncCount]) -> str:
    """'host syncs: train 3, sample 1' (CUDA only)."""
    if any(c.n is None for _, c in counts):
        return ""
    return "; host syncs: " + ", ".join(f"{name} {c.n}" for name, c in counts)


# --- the device and the digits -------------------------------------------------------------------


def choose_device(requested: str | None) -> torch.device | None:
    """``requested`` (a ``ValueError`` if this machine lacks it), else CUDA, else MPS; None on a
    machine with neither: the CPU must be asked for."""
    if requested is not None:
        return get_device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return None


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"{device} ({torch.cuda.get_device_name(index)}, CUDA {torch.version.cuda})"
    if device.type == "mps":
        return f"{device} (Apple MPS)"
    return f"cpu ({platform.processor() or platform.machine()})"


def same_device(tensor: torch.Tensor, device: torch.device) -> bool:
    """Whether ``tensor`` lives on ``device`` ("cuda" and "cuda:0" are the same GPU)."""
    if tensor.device.type != device.type:
        return False
    if device.type != "cuda":
        return True
    index = device.index if device.index is not None else torch.cuda.current_device()
    return tensor.device.index == index


def has_mnist(root: Path, split: str) -> bool:
    """Whether ``root`` holds MNIST's ``split`` ("train" or "t10k") in torchvision's raw layout."""
    raw = root / "MNIST" / "raw"
    names = (f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte")
    return all((raw / name).is_file() or (raw / f"{name}.gz").is_file() for name in names)


def synthetic_digits(n: int, seed: int = SEED) -> TensorDataset:
    """``n`` images (n, 1, 28, 28) in [-1, 1] with labels 0-9 in turn: each class three Gaussian
    blobs (sd 2 pixels) at fixed random places, each image shifted by up to 2 pixels. Not digits:
    they only need the shapes, range and labels of MNIST."""
    g = torch.Generator().manual_seed(seed)  # data are made on the CPU, as MNIST is read there
    labels = torch.arange(n) % 10
    centres = 6 + 16 * torch.rand(10, 3, 2, generator=g)
    shifts = torch.randint(-2, 3, (n, 1, 2), generator=g).float()
    axis = torch.arange(28.0)
    pixels = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), dim=-1)  # (28, 28, 2)
    images = torch.empty(n, 1, 28, 28)
    for a in range(0, n, 1_000):
        c = (centres[labels[a:a + 1_000]] + shifts[a:a + 1_000])[:, :, None, None]  # b,3,1,1,2
        ink = torch.exp(-((pixels - c) ** 2).sum(-1) / 8.0).sum(1).clamp(max=1.0)  # (b, 28, 28)
        images[a:a + 1_000, 0] = 2 * ink - 1
    data = TensorDataset(images, labels)
    data.source = (f"a synthetic stand-in for MNIST ({n:,} images of three blobs per class, "
                   "no real digits)")
    return data


def load_digits(root: str | None, n: int) -> TensorDataset:
    """The first ``n`` MNIST training digits under ``root`` (else its test digits), else the
    synthetic stand-in."""
    folder = Path(root) if root is not None else data_root()
    for split, train in (("train", True), ("t10k", False)):
        if has_mnist(folder, split):
            return load_mnist(folder, train=train, download=False, n=n)
    return synthetic_digits(n)


def first(data: TensorDataset, n: int, start: int = 0) -> TensorDataset:
    part = TensorDataset(*(t[start:start + n] for t in data.tensors))
    part.source = data.source
    return part


# --- every family --------------------------------------------------------------------------------


def check_samples(x: Any, family: Family, n: int, device: torch.device) -> str:
    """The contract's form of ``sample``'s output; returns how it looks."""
    expect(isinstance(x, torch.Tensor), f"sample returned a {type(x).__name__}, not a tensor")
    expect(same_device(x, device) or x.device.type == "cpu",
           f"samples on {x.device}, not {device} or cpu")
    expect(x.dtype == torch.float32, f"samples are {x.dtype}, not float32")
    expect(x.dim() == 4 and len(x) == n and x.shape[1] == 1, f"samples of shape {tuple(x.shape)}")
    expect(bool(torch.isfinite(x).all()), "samples hold NaN or infinity")
    if family.samples in (DIGITS, SPINS):
        expect(float(x.min()) >= -1 and float(x.max()) <= 1, "samples outside [-1, 1]")
    return f"{tuple(x.shape)} on {x.device}"


def check_on_device(model: torch.nn.Module, device: torch.device, when: str) -> None:
    tensors = [*model.parameters(), *model.buffers()]
    elsewhere = sorted({str(t.device) for t in tensors if not same_device(t, device)})
    expect(not elsewhere, f"{when}, tensors of the model are on {', '.join(elsewhere)}")


def compare_samples(a: torch.Tensor, b: torch.Tensor) -> str:
    """Two samplings with one seed agree: at most 0.1 % of the entries differ by more than 1e-3."""
    diff = (a.detach().float().cpu() - b.detach().float().cpu()).abs()
    differing = float((diff > 1e-3).float().mean())
    expect(differing <= SAME_SAMPLES, f"the samples differ ({differing:.1%} of the entries)")
    return f"max abs diff {float(diff.max()):.1e}"


def option_variants(family: Family) -> dict[str, dict[str, Any]]:
    """One variant per sampling option: booleans on, whole numbers 2 (other options at defaults)."""
    variants = {}
    for name, spec in field_specs(family.options_type).items():
        if spec.kind is bool:
            variants[name] = {name: True}
        elif spec.kind is int and spec.choices is None:
            variants[f"{name}=2"] = {name: 2}
    return variants


def check_family(family: Family, device: torch.device, digits: TensorDataset, folder: Path,
                 n: int) -> str:
    """fit the tiny config, sample, save, load (weights_only), sample again, every option once."""
    config = family.tiny()
    data = first(digits, 256) if family.samples.digits else family.data(config, None)
    with SyncCount(device) as train_syncs:
        trained = models.fit(family, config, data, device, seed=1, progress=False)
    check_on_device(trained.model, device, "after training")
    options = family.sampling("smoke")
    with SyncCount(device) as sample_syncs:
        x = family.sample(trained.model, n, device, SEED, options)
    form = check_samples(x, family, n, device)
    check_on_device(trained.model, device, "after sampling")
    loaded = models.load(models.save(folder / f"{family.name}.pt", trained), device)  # weights_only
    check_on_device(loaded.model, device, "after loading")
    same = compare_samples(x, family.sample(loaded.model, n, device, SEED, options))
    notes = [f"samples {form}", f"reloaded: same, {same}"]
    if isinstance(family, ExactDensity):
        _, log_q = family.sample_with_log_q(loaded.model, n, device, SEED, options)
        expect(log_q.shape == (n,) and bool(torch.isfinite(log_q).all()), "log q is not finite")
        notes.append("log q finite")
    notes.append(sample_variants(family, loaded.model, device))
    return "; ".join(notes) + _syncs(("train", train_syncs), ("sample", sample_syncs))


def sample_variants(family: Family, model: torch.nn.Module, device: torch.device) -> str:
    """Each sampling option once; a one-line ``ValueError`` is a documented refusal, no failure."""
    done = []
    for label, given in option_variants(family).items():
        try:
            options = family.options(**given)
            check_samples(family.sample(model, 4, device, SEED, options), family, 4, device)
            done.append(label)
        except ValueError as err:
            done.append(f"{label} refused ({_one_line(err)})")
    return "options: " + (", ".join(done) if done else "none")


# --- scores on device tensors --------------------------------------------------------------------


def close(on_device: float, on_cpu: float, rel: float) -> str:
    expect(math.isfinite(on_device), f"{on_device} on the device")
    expect(abs(on_device - on_cpu) <= rel * max(abs(on_cpu), 1e-6),
           f"{on_device:.6g} on the device, {on_cpu:.6g} on the CPU")
    return f"{on_device:.4g} (CPU {on_cpu:.4g})"


def score_checks(report: Report, device: torch.device, digits: TensorDataset, n: int) -> None:
    images = digits.tensors[0]
    real, fake = images[:n].reshape(n, -1), images[n:2 * n].reshape(n, -1)
    real_d, fake_d = real.to(device), fake.to(device)
    pixel_scores = {
        "compute_score (the lecture's MMD)": lambda r, f: scoring.compute_score(f, r),
        "MMDScorer.score": lambda r, f: scoring.MMDScorer(r).score(f),
        "mmd2, unbiased, median bandwidth": lambda r, f: scoring.mmd2(r, f, bandwidth="median"),
        "mmd_permutation_test (50 permutations)":
            lambda r, f: scoring.mmd_permutation_test(r, f, 50, seed=0).statistic,
        "one_nn_accuracy": lambda r, f: scoring.one_nn_accuracy(r, f).accuracy,
    }
    for name, score in pixel_scores.items():
        report.run("scores", name,
                   lambda s=score: _on_both(s, (real_d, fake_d), (real, fake), 1e-3))

    def features() -> str:
        with SyncCount(device) as syncs:
            f_dev = scoring.classifier_features(real_d, device=device)
        f_cpu = scoring.classifier_features(real, device="cpu")
        scale = float(f_cpu.abs().max())
        gap = float((f_dev - f_cpu).abs().max())
        expect(gap <= 1e-2 * scale, f"features differ by {gap:.3g} (scale {scale:.3g})")
        return (f"{tuple(f_dev.shape)}, max abs diff {gap:.1e} (largest feature {scale:.3g})"
                + _syncs(("features", syncs)))

    report.run("scores", "classifier_features", features)
    size = min(n // 2, 100)
    in_features = {
        "frechet_distance": (lambda r, f: scoring.frechet_distance(r, f), 2e-2),
        "kid": (lambda r, f: scoring.kid(r, f, subsets=10, subset_size=size).mean, 5e-2),
    }
    for name, (score, rel) in in_features.items():
        report.run("scores", f"{name} (classifier features)",
                   lambda s=score, r=rel: _on_both(s, _features(real_d, fake_d, device),
                                                  _features(real, fake, torch.device("cpu")), r))


def _features(real: torch.Tensor, fake: torch.Tensor,
              device: torch.device) -> tuple[torch.Tensor, ...]:
    """The classifier's features of both sets, computed on ``device`` and left there."""
    return tuple(scoring.classifier_features(x, device=device).to(device) for x in (real, fake))


def _on_both(score: Callable, on_device: tuple, on_cpu: tuple, rel: float) -> str:
    return close(float(score(*on_device)), float(score(*on_cpu)), rel)


# --- the other samplers that take a device -------------------------------------------------------


def check_ising_monte_carlo(device: torch.device, L: int, n: int, T: float) -> str:
    """Wolff + Metropolis (below T_SWITCH) or Metropolis on the device; <e> against Kaufman's exact
    finite-lattice energy within 5 standard errors."""
    with SyncCount(device) as syncs:
        configs, report = ising.sample_configurations(L, T, n, seed=1, chains=min(n, 256),
                                                      device=device)
    expect(configs.dtype == torch.int8 and tuple(configs.shape) == (n, L, L),
           f"configs {configs.dtype} {tuple(configs.shape)}")
    expect(bool(((configs == 1) | (configs == -1)).all()), "spins other than +-1")
    e = ising.measure(configs, T)["e"]
    exact = float(ising.energy_per_spin(L, T))
    measured = f"<e> = {e.value:.4f} +- {e.error:.4f}, exact {exact:.4f}"
    expect(abs(e.value - exact) <= 5 * e.error, measured)
    return f"{report['algorithm']}, L={L}, {n} configs: {measured}" + _syncs(("run", syncs))


def check_ancestral_ddpm(device: torch.device) -> str:
    """Algorithm 2 with labels and guidance on the device: the same seed gives the same images."""
    torch.manual_seed(SEED)
    model = diffusion.SmallUNet((8, 16), t_dim=16, num_classes=10).to(device)
    schedule, labels = diffusion.make_schedule(20, "cosine"), torch.arange(6) % 10
    options = dict(seed=3, progress=False, clip=1.0, labels=labels, guidance=2.0)
    with SyncCount(device) as syncs:
        x = diffusion.ddpm_sample(model, (6, 1, 28, 28), schedule, device, **options)
    again = diffusion.ddpm_sample(model, (6, 1, 28, 28), schedule, device, **options)
    expect(same_device(x, device) and bool(torch.isfinite(x).all()), f"x_0 on {x.device}, or NaN")
    return (f"T=20 (cosine), 6 images, guidance 2, same seed twice: {compare_samples(x, again)}"
            + _syncs(("20 steps", syncs)))


def check_rbm(device: torch.device, digits: TensorDataset) -> str:
    """PCD-1 training and a Gibbs chain of notebook 00b's RBM, data and chain on the device."""
    v = rbm.binarize(digits.tensors[0][:256]).to(device)
    machine = rbm.RBM(784, 16).to(device)
    with SyncCount(device) as syncs:
        history = rbm.train_rbm(machine, v, epochs=1, k=1, persistent=True, batch_size=32,
                                progress=False)
    check_on_device(machine, device, "after training")
    expect(all(math.isfinite(x) for x in history["free_energy"]), "the free energy is not finite")
    gen = seeded_generator(SEED, device)
    pv, snapshots = rbm.gibbs_chain(machine, v[:8], 20, generator=gen, keep_every=10)
    expect(same_device(pv, device) and len(snapshots) == 2, f"the chain ended on {pv.device}")
    return "1 epoch of 256 digits, 8 batches; Gibbs chain of 20 sweeps" + _syncs(("train", syncs))


def check_langevin(device: torch.device, n: int) -> str:
    """Unadjusted Langevin on N(0, 1) in 2-D: the stationary variance is 1 / (1 - eta / 4)."""
    eta, steps = 0.2, 200
    gen = seeded_generator(SEED, device)
    x0 = torch.zeros(n, 2, device=device)
    with SyncCount(device) as syncs:
        x = score_matching.langevin(lambda t: -t, x0, eta, steps, generator=gen)
    expect(same_device(x, device), f"particles on {x.device}")
    var, want = float(x.var()), 1 / (1 - eta / 4)
    measured = f"variance {var:.3f} (expected {want:.3f})"
    expect(abs(var - want) < 6 * want * math.sqrt(2 / (2 * n)), measured)  # 6 standard errors
    return f"{n:,} particles, {steps} steps: {measured}" + _syncs(("run", syncs))


def check_score_matching(device: torch.device) -> str:
    """Denoising score matching with data, batches and noise on the device."""
    net = score_matching.ScoreNet(hidden=32).to(device)
    data = torch.randn(512, 2, generator=seeded_generator(SEED, device), device=device)
    with SyncCount(device) as syncs:
        history = score_matching.train_score_model(net, data, score_matching.noise_levels(n=4),
                                                   steps=20, batch_size=64, progress=False,
                                                   threads=None)
    check_on_device(net, device, "after training")
    losses = history["loss"]
    expect(len(losses) == 20 and all(map(math.isfinite, losses)), "the loss is not finite")
    return "20 denoising score matching steps" + _syncs(("train", syncs))


def check_vae_test_loss(device: torch.device, digits: TensorDataset) -> str:
    """-ELBO of held-out digits, eps drawn on the device."""
    model = vae.build_vae(vae.VAEConfig(hidden=32, latent_dim=4), device)
    with SyncCount(device) as syncs:
        loss = vae.evaluate_loss(model, digits.tensors[0][:1_000], device)
    expect(math.isfinite(loss), f"-ELBO {loss}")
    return f"-ELBO of 1,000 digits {loss:.1f} nats (untrained)" + _syncs(("2 batches", syncs))


def check_classifier_training(device: torch.device, digits: TensorDataset) -> str:
    """The scoring classifier's training loop: batches cut and augmented on the device."""
    images, labels = digits.tensors
    with SyncCount(device) as syncs:
        model, history = train_classifier(images[:256], labels[:256], epochs=1, batch_size=64,
                                          device=device, progress=False)
    check_on_device(model, device, "after training")
    expect(math.isfinite(history["loss"][0]), "the loss is not finite")
    return "1 epoch of 256 digits, augmented on the device" + _syncs(("4 steps", syncs))


def sampler_checks(report: Report, device: torch.device, digits: TensorDataset,
                   sizes: Sizes) -> None:
    checks = {
        "Ising Monte Carlo at T = 2 (Wolff + Metropolis)":
            lambda: check_ising_monte_carlo(device, sizes.ising_L, sizes.ising_n, 2.0),
        "Ising Monte Carlo at T = 3 (Metropolis)":
            lambda: check_ising_monte_carlo(device, sizes.ising_L, sizes.ising_n, 3.0),
        "ancestral DDPM sampling (ddpm_sample)": lambda: check_ancestral_ddpm(device),
        "RBM: train_rbm (PCD) and gibbs_chain": lambda: check_rbm(device, digits),
        "Langevin dynamics": lambda: check_langevin(device, 10 * sizes.n_scored),
        "score matching (train_score_model)": lambda: check_score_matching(device),
        "VAE test loss (evaluate_loss)": lambda: check_vae_test_loss(device, digits),
        "MNIST classifier training": lambda: check_classifier_training(device, digits),
    }
    for name, check in checks.items():
        report.run("samplers", name, check)


# --- the timing table ----------------------------------------------------------------------------


def wait_for(device: torch.device) -> None:
    """Let the device finish its queued work, so that a timer sees all of it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def timed(work: Callable[[torch.device], Any], device: torch.device) -> tuple[float, Any]:
    wait_for(device)
    start = time.perf_counter()
    out = work(device)
    wait_for(device)
    return time.perf_counter() - start, out


@dataclass
class Unit:
    """One unit of work, timed after a warm-up (first kernels, memory pools) on each device."""

    name: str
    warm_up: Callable[[torch.device], Any]
    work: Callable[[torch.device], Any]


def timing_units(digits: TensorDataset, sizes: Sizes) -> list[Unit]:
    """The laptop recipe's units of work, for the families registered under these names."""
    units = []
    if "ddpm" in models.FAMILIES:
        units += diffusion_units(models.get("ddpm"), digits, sizes)
    if "dcgan" in models.FAMILIES:
        units.append(gan_unit(models.get("dcgan"), digits, sizes))
    return units


def diffusion_units(ddpm: Family, digits: TensorDataset, sizes: Sizes) -> list[Unit]:
    """``ddpm_steps`` training steps of the laptop recipe, then the laptop's DDIM sampling of
    ``ddim_n`` digits by the model that those steps trained on the same device."""
    recipe = ddpm.recipe("laptop")
    config = dataclasses.replace(recipe, train_steps=sizes.ddpm_steps,
                                 warmup=min(recipe.warmup, sizes.ddpm_steps))
    short = dataclasses.replace(config, train_steps=2, warmup=1)
    options = ddpm.sampling("laptop")
    trained: dict[str, models.Trained] = {}

    def train(device: torch.device) -> None:
        trained[device.type] = models.fit(ddpm, config, digits, device, seed=1, progress=False)

    return [
        Unit(f"DDPM, laptop recipe: {sizes.ddpm_steps} training steps of {config.batch_size} "
             f"(channels {config.channels})",
             lambda d: models.fit(ddpm, short, digits, d, seed=1, progress=False), train),
        Unit(f"DDIM-{options.steps} sampling of {sizes.ddim_n:,} digits (eta {options.eta:g}; the "
             f"DDPM above)",
             lambda d: ddpm.sample(trained[d.type].model, 2, d, SEED, options),
             lambda d: ddpm.sample(trained[d.type].model, sizes.ddim_n, d, SEED, options)),
    ]


def gan_unit(gan: Family, digits: TensorDataset, sizes: Sizes) -> Unit:
    """One epoch of the laptop recipe over ``gan_digits`` digits."""
    config = dataclasses.replace(gan.recipe("laptop"), epochs=1, train_images=None,
                                 sample_epochs=(1,))
    data, two_batches = first(digits, sizes.gan_digits), first(digits, 2 * config.batch_size)
    return Unit(f"DCGAN, laptop recipe: one epoch of {len(data.tensors[0]):,} digits, batch "
                f"{config.batch_size} (n_filters {config.n_filters})",
                lambda d: models.fit(gan, config, two_batches, d, seed=1, progress=False),
                lambda d: models.fit(gan, config, data, d, seed=1, progress=False))


def timing_table(device: torch.device, units: list[Unit], report: Report) -> str:
    """Each unit on the device and then on the CPU (once on a CPU run), as a row of the report
    and of the speed-up table."""
    cpu = torch.device("cpu")
    threads = torch.get_num_threads()
    on_cpu = f"CPU s ({threads} thread{'s' if threads != 1 else ''})"
    if device.type == "cpu":
        header = [f"| unit | {on_cpu} |", "| --- | ---: |"]
    else:
        header = [f"| unit | {device.type} s | {on_cpu} | speed-up |",
                  "| --- | ---: | ---: | ---: |"]
    lines = []
    for unit in units:
        row: dict[str, float] = {}

        def run(unit: Unit = unit, row: dict[str, float] = row) -> str:
            for where in ([device] if device.type == "cpu" else [device, cpu]):
                unit.warm_up(where)
                row[where.type], _ = timed(unit.work, where)
            return ", ".join(f"{k} {v:.2f} s" for k, v in row.items())

        report.run("timing", unit.name, run)
        if device.type == "cpu":
            lines.append(f"| {unit.name} | {_seconds(row.get('cpu'))} |")
        else:
            on_device, on_cpu = row.get(device.type), row.get("cpu")
            speed_up = f"{on_cpu / on_device:.1f}x" if on_device and on_cpu else "-"
            lines.append(f"| {unit.name} | {_seconds(on_device)} | {_seconds(on_cpu)} | "
                         f"{speed_up} |")
    return "\n".join(header + lines)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# --- the run -------------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--device", default=None,
                        help="cuda, cuda:N, mps or cpu (default: cuda, else mps)")
    parser.add_argument("--data-root", default=None,
                        help="folder holding MNIST/raw (default: $COURSE_DATA or ./data; without "
                             "MNIST there: a synthetic stand-in)")
    parser.add_argument("--smallest", action="store_true",
                        help="every size at its smallest: seconds on a CPU (what `make test` runs)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch's CPU threads for the whole run (default: torch's choice; 1 is "
                             "fastest on a busy machine)")
    parser.add_argument("--out", default=None,
                        help="where the tables go (a .md file; default benchmarks/results/"
                             "gpu_check.md, with --smallest build/gpu-check/gpu_check.md)")
    return parser.parse_args(argv)


def run_checks(device: torch.device, digits: TensorDataset, sizes: Sizes) -> tuple[Report, str]:
    report = Report()
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as folder:
        for name, family in models.FAMILIES.items():
            report.run("family", name, lambda f=family: check_family(
                f, device, digits, Path(folder), sizes.n_samples))
    score_checks(report, device, digits, sizes.n_scored)
    sampler_checks(report, device, digits, sizes)
    timing = timing_table(device, timing_units(digits, sizes), report)
    return report, timing


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        device = choose_device(args.device)
    except ValueError as err:
        print(f"gpu_check: {err}", file=sys.stderr)
        return 2
    if device is None:
        print("gpu_check: no GPU here (neither CUDA nor MPS); pass --device cpu to run the "
              "checks on the CPU", file=sys.stderr)
        return 2
    sizes = SMALLEST if args.smallest else FULL
    if args.threads is not None:
        if args.threads < 1:
            print(f"gpu_check: --threads must be a positive whole number, got {args.threads}",
                  file=sys.stderr)
            return 2
        torch.set_num_threads(args.threads)
    folder = "build/gpu-check" if args.smallest else "benchmarks/results"
    out = Path(args.out) if args.out else ROOT / folder / "gpu_check.md"
    started = time.perf_counter()
    try:
        digits = load_digits(args.data_root, sizes.digits)
    except DataError as err:
        print(f"gpu_check: {err}", file=sys.stderr)
        return 2
    print(f"gpu_check on {describe_device(device)}: {len(models.FAMILIES)} families; digits: "
          f"{digits.source}", file=sys.stderr, flush=True)
    report, timing = run_checks(device, digits, sizes)
    with recorded(out.stem, out.parent):
        print(f"Device {describe_device(device)}; torch {torch.__version__}; "
              f"{'smallest sizes' if args.smallest else 'full sizes'}; digits: {digits.source}.\n")
        print(report.table() + "\n")
        print(timing + "\n")
        print(f"{len(report.rows) - len(report.failed)} of {len(report.rows)} checks passed in "
              f"{time.perf_counter() - started:.0f} s.")
    for row in report.failed:
        print(f"FAIL {row.area}: {row.name}: {row.detail}", file=sys.stderr)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
