"""The GPU path, checked where no GPU is (issue 24): random numbers drawn where the tensors live,
no host round trips inside inner loops, every family honouring its ``device``.

A source scan of ``course_utils`` (``ast``) flags

* ``cpu-generator``: ``torch.Generator()`` with no device: its numbers are drawn on the CPU and must
  be copied to any accelerator the tensors live on;
* ``draw-then-copy``: a random draw made without ``device=`` and moved straight on,
  ``torch.randn(...).to(device)``: drawn on the CPU, copied over;
* ``sync-in-loop``: ``.item()``, or ``float`` / ``int`` / ``bool`` of a tensor reduction, inside an
  inner loop (one that holds no other loop): the host waits for the device at every step;
* ``tqdm-import``: tqdm imported directly instead of from ``course_utils.progress``, which lets the
  package run on a machine with only torch and numpy (``scripts/gpu_check.py``).

``ALLOWED`` lists the places that are right as they are, each with its reason; ``PENDING`` the
places found in files other helpers were changing when this test was written (fix them, then
delete their line: a line that no longer matches anything fails the test too).
"""
from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from course_utils import models
from course_utils.device import seeded_generator
from course_utils.families.base import DIGITS, SPINS
from course_utils.progress import HAS_TQDM, _silent_trange, _SilentBar

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "course_utils"

RANDOM_DRAWS = {"rand", "randn", "randint", "randperm", "bernoulli", "multinomial", "normal",
                "poisson"}
REDUCTIONS = {"detach", "sum", "mean", "min", "max", "all", "any", "norm", "std", "var", "item"}

# (file under course_utils, enclosing function, rule): why it is right as it is.
ALLOWED = {
    ("device.py", "seed_everything", "cpu-generator"):
        "documented to return a CPU generator (the notebooks' seed for CPU-side draws)",
    ("exercises/verdict.py", "generator", "cpu-generator"):
        "exercise checkers build small CPU inputs; they never touch a device",
    ("gan/game.py", "train_toy_gan", "cpu-generator"):
        "notebook 01's 1-D GAN game runs on the CPU by design (scalars, one thread)",
    ("gan/game.py", "_play", "sync-in-loop"):
        "the 1-D game on the CPU: its trace reads two numbers every trace_every steps",
    ("diffusion/toy_data.py", "two_moons", "cpu-generator"):
        "a data set, made on the CPU like MNIST; training moves it to the device once",
    ("summary/rbm.py", "RBM.__init__", "cpu-generator"):
        "the initial weights, drawn once when the RBM is built: the same on every device",
    ("scoring/mmd.py", "mmd_permutation_test", "cpu-generator"):
        "the permutations are built on the CPU, a batch of them at a time, moved once per batch",
    ("scoring/mmd.py", "_kid_subsets", "cpu-generator"):
        "KID's subsets follow torchmetrics' CPU stream (comparable numbers); moved once",
    ("scoring/kernels.py", "median_distance", "cpu-generator"):
        "the median is computed on the CPU (numpy); the subsample is chosen there",
    ("ising/data.py", "_load", "sync-in-loop"):
        "reads the report of a cached data file, CPU tensors, once per temperature",
    ("scoreboard.py", "score_checkpoints", "cpu-generator"):
        "chooses which held-out MNIST digits (a CPU tensor) are scored",
}

# Found in files other helpers were changing (issue 24's report lists them): fix, then delete.
PENDING: dict[tuple[str, str, str], str] = {}


@dataclass(frozen=True)
class Finding:
    path: str
    function: str
    rule: str
    line: int

    @property
    def key(self) -> tuple[str, str, str]:
        return self.path, self.function, self.rule

    def __str__(self) -> str:
        return f"course_utils/{self.path}:{self.line} in {self.function}: {self.rule}"


def _is_torch_call(node: ast.AST, names: set[str]) -> bool:
    """``torch.<name>(...)`` for a name in ``names``."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in names
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch")


def _receiver(node: ast.AST) -> ast.AST:
    """Where a chain of indexing and method calls begins: ``torch.randperm(n)[:k]``, the draw."""
    while True:
        if isinstance(node, ast.Subscript):
            node = node.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and not _is_torch_call(node, RANDOM_DRAWS)):
            node = node.func.value
        else:
            return node


def _is_sync(node: ast.Call) -> bool:
    """``x.item()``, or ``float`` / ``int`` / ``bool`` of a reduction such as ``float(x.sum())``."""
    if isinstance(node.func, ast.Attribute) and node.func.attr == "item" and not node.args:
        return True
    if (isinstance(node.func, ast.Name) and node.func.id in {"float", "int", "bool"}
            and len(node.args) == 1):
        arg = node.args[0]
        return (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute)
                and arg.func.attr in REDUCTIONS)
    return False


LOOPS = (ast.For, ast.While, ast.AsyncFor)


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path, self.scope, self.loops, self.found = path, ["<module>"], [], []

    def _add(self, rule: str, node: ast.AST) -> None:
        function = ".".join(s for s in self.scope if s != "<module>") or "<module>"
        self.found.append(Finding(self.path, function, rule, node.lineno))

    def _scoped(self, node: ast.AST, name: str) -> None:
        self.scope.append(name)
        self.generic_visit(node)
        self.scope.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scoped(node, node.name)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        loops, self.loops = self.loops, []  # a function's body is not inside its caller's loop
        self._scoped(node, node.name)
        self.loops = loops

    visit_AsyncFunctionDef = visit_FunctionDef

    def _loop(self, node: ast.AST) -> None:
        inner = not any(isinstance(n, LOOPS) for n in ast.walk(node) if n is not node)
        self.loops.append(inner)
        self.generic_visit(node)
        self.loops.pop()

    visit_For = visit_While = visit_AsyncFor = _loop

    def visit_Import(self, node: ast.Import) -> None:
        if any(a.name.split(".")[0] == "tqdm" for a in node.names):
            self._add("tqdm-import", node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        from_tqdm = not node.level and (node.module or "").split(".")[0] == "tqdm"
        if from_tqdm and self.path != "progress.py":
            self._add("tqdm-import", node)

    def visit_Call(self, node: ast.Call) -> None:
        if (_is_torch_call(node, {"Generator"}) and not node.args
                and not any(k.arg == "device" for k in node.keywords)):
            self._add("cpu-generator", node)
        if isinstance(node.func, ast.Attribute) and node.func.attr in {"to", "cuda"}:
            draw = _receiver(node.func.value)
            on_device = any(k.arg == "device" for k in getattr(draw, "keywords", []))
            if _is_torch_call(draw, RANDOM_DRAWS) and not on_device:
                self._add("draw-then-copy", node)
        if self.loops and self.loops[-1] and _is_sync(node):
            self._add("sync-in-loop", node)
        self.generic_visit(node)


def scan(source: str, path: str) -> list[Finding]:
    """Every finding of the four rules in ``source`` (a module of course_utils at ``path``)."""
    scanner = _Scanner(path)
    scanner.visit(ast.parse(source))
    return scanner.found


def _package_findings() -> list[Finding]:
    found = []
    for file in sorted(PACKAGE.rglob("*.py")):
        found += scan(file.read_text(), file.relative_to(PACKAGE).as_posix())
    return found


def test_the_package_draws_on_the_device_and_keeps_loops_free_of_host_round_trips():
    found = _package_findings()
    unexplained = [f for f in found if f.key not in ALLOWED and f.key not in PENDING]
    assert not unexplained, (
        "random numbers drawn on the CPU beside device tensors, or the host waiting for the "
        "device inside a loop: draw with seeded_generator(seed, device) and device=..., keep sums "
        "on the device, or add the place to ALLOWED with its reason:\n"
        + "\n".join(map(str, unexplained)))


def test_every_allowed_or_pending_place_still_exists():
    keys = {f.key for f in _package_findings()}
    stale = sorted(k for k in {**ALLOWED, **PENDING} if k not in keys)
    assert not stale, f"these entries match nothing any more (fixed or moved), delete them: {stale}"


PLANTED = '''
import torch
from tqdm.auto import tqdm

def train(data, device, steps):
    gen = torch.Generator().manual_seed(0)
    total = 0.0
    for _ in range(steps):
        idx = torch.randperm(len(data), generator=gen)[:8].to(device)
        noise = torch.randn(8, 2, generator=gen).to(device)
        cast = torch.randn(8, 2, generator=gen, device=device).to(torch.float64)
        loss = (data[idx] + noise).pow(2).mean()
        total += float(loss.detach())
    return total

def fine(data, device, steps, seed):
    gen = torch.Generator(device=device).manual_seed(seed)
    losses = []
    for epoch in range(steps):
        for _ in range(3):
            losses.append(torch.randn(8, generator=gen, device=device).sum())
        print(float(torch.stack(losses).mean()))  # once per epoch: the loop above is the inner one
    return [float(x) for x in torch.stack(losses).tolist()]
'''


def test_the_scan_finds_each_planted_mistake_and_nothing_in_the_fixed_code():
    found = scan(PLANTED, "planted.py")
    assert sorted((f.function, f.rule, f.line) for f in found) == [
        ("<module>", "tqdm-import", 3),
        ("train", "cpu-generator", 6),
        ("train", "draw-then-copy", 9),
        ("train", "draw-then-copy", 10),
        ("train", "sync-in-loop", 13),
    ]


def test_the_silent_progress_bar_does_what_the_package_asks_of_tqdm():
    bar = _SilentBar(range(3), desc="x", disable=False)
    assert list(bar) == [0, 1, 2] and len(bar) == 3
    with _SilentBar(total=5) as counter:
        counter.update()
        counter.set_postfix(loss=1.0)
    assert list(_silent_trange(2, 5, desc="y")) == [2, 3, 4]
    assert isinstance(HAS_TQDM, bool)


BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'tqdm', 'matplotlib', 'mlxtend', 'scipy', 'pandas', 'torchvision',
                                  'PIL', 'jupyter', 'IPython'}:
            raise ImportError(f'{name} is not installed on this machine (blocked by the test)')
sys.meta_path.insert(0, Block())
import runpy
sys.argv = ['scripts/gpu_check.py', '--help']
runpy.run_path('scripts/gpu_check.py', run_name='__main__')
"""


def test_the_gpu_check_imports_with_only_torch_and_numpy():
    done = subprocess.run([sys.executable, "-c", BLOCKER], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1]
    assert "--smallest" in done.stdout


def test_a_cpu_generator_made_for_the_device_draws_the_stream_of_a_plain_one():
    # why the CPU results did not move when the draws went to the tensors' device
    a = torch.randn(5, generator=seeded_generator(3, "cpu"), device="cpu")
    b = torch.randn(5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert seeded_generator(None, "cpu") is None


FAMILIES = sorted(models.FAMILIES)


@pytest.mark.parametrize("name", FAMILIES)
def test_build_puts_every_parameter_and_buffer_on_the_device_it_is_given(name):
    # the meta device holds no data: a family that built on the CPU and forgot to move would fail
    family = models.FAMILIES[name]
    model = family.build(family.tiny(), torch.device("meta"))
    tensors = [*model.parameters(), *model.buffers()]
    assert tensors and {t.device.type for t in tensors} == {"meta"}


@pytest.fixture(scope="module")
def trained_on_cpu():
    out = {}
    for name in FAMILIES:
        family = models.FAMILIES[name]
        out[name] = models.fit(family, family.tiny(), device="cpu", seed=2, progress=False)
    return out


@pytest.mark.parametrize("name", FAMILIES)
def test_sample_honours_the_device_and_its_documented_form(name, trained_on_cpu):
    trained = trained_on_cpu[name]
    family, cpu = trained.family, torch.device("cpu")
    assert {p.device for p in trained.model.parameters()} == {cpu}, "trained where it was asked to"
    x = family.sample(trained.model, 4, cpu, 0, family.sampling("smoke"))
    assert isinstance(x, torch.Tensor) and x.device == cpu and x.dtype == torch.float32
    assert x.dim() == 4 and len(x) == 4 and x.shape[1] == 1 and bool(torch.isfinite(x).all())
    if family.samples in (DIGITS, SPINS):
        assert float(x.min()) >= -1 and float(x.max()) <= 1
    assert {p.device for p in trained.model.parameters()} == {cpu}, "sampling left the model there"
