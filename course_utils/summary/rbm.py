"""A binary restricted Boltzmann machine trained by contrastive divergence (notebook 00b).

Lecture summary section "Boltzmann machines and contrastive optimisation".

* Energy  E(v, h) = -b^T v - c^T h - v^T W h  for v in {0,1}^D, h in {0,1}^H.
* Model   p(v, h) = exp(-E(v, h)) / Z,  Z = sum_{v,h} exp(-E(v, h))  (2^(D+H) terms: intractable).
* Free energy  F(v) = -log sum_h exp(-E(v, h)) = -b^T v - sum_j softplus(c_j + (v^T W)_j),
  so p(v) = exp(-F(v)) / Z.
* Conditionals (no visible-visible or hidden-hidden links):
  p(h_j = 1 | v) = sigmoid(c_j + (v^T W)_j),  p(v_i = 1 | h) = sigmoid(b_i + (W h)_i).
* Log-likelihood gradient, for any parameter theta:
  d log p(v) / d theta = -dF(v)/d theta - d log Z / d theta
                       = E_{p(h|v)}[-dE/d theta] - E_{p(v,h)}[-dE/d theta]
  (data term minus model term; d log Z/d theta = E_p[-dE/d theta]). For W:
  E_data[v p(h|v)^T] - E_model[v h^T].
* CD-k replaces the model expectation by k Gibbs steps started at the data: cheap but biased
  (it does not follow the gradient of the log-likelihood, Carreira-Perpinan & Hinton 2005);
  persistent CD (PCD, Tieleman 2008) keeps the chains running between updates.

For small H, ``log_partition`` enumerates all 2^H hidden states exactly:
log Z = logsumexp_h [c^T h + sum_i softplus(b_i + (W h)_i)].
"""
from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..progress import tqdm

__all__ = [
    "RBM", "energy", "free_energy", "hidden_probs", "visible_probs", "gibbs_step", "gibbs_chain",
    "all_states", "log_partition", "log_likelihood", "exact_gradient", "contrastive_gradient",
    "cd_gradient", "train_rbm", "binarize", "init_visible_bias",
]

MAX_ENUMERATED = 22  # 2^22 states is ~4 million: the most log_partition will enumerate


class RBM(nn.Module):
    """Parameters of a binary RBM: weights W (D, H), visible biases b (D,), hidden biases c (H,)."""

    def __init__(self, n_visible: int, n_hidden: int, seed: int = 0,
                 init_std: float = 0.01) -> None:
        super().__init__()
        for name, value in (("n_visible", n_visible), ("n_hidden", n_hidden)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        gen = torch.Generator().manual_seed(seed)
        self.W = nn.Parameter(init_std * torch.randn(n_visible, n_hidden, generator=gen))
        self.b = nn.Parameter(torch.zeros(n_visible))
        self.c = nn.Parameter(torch.zeros(n_hidden))

    @property
    def n_visible(self) -> int:
        return self.W.shape[0]

    @property
    def n_hidden(self) -> int:
        return self.W.shape[1]


def _check_v(rbm: RBM, v: torch.Tensor) -> torch.Tensor:
    if not isinstance(v, torch.Tensor) or v.ndim != 2 or v.shape[1] != rbm.n_visible:
        shape = tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__
        raise ValueError(f"visible units must be a (N, {rbm.n_visible}) tensor, got {shape}")
    if not bool(((v == 0) | (v == 1)).all()):
        raise ValueError("visible units must be binary (0 or 1); binarize images first, e.g. with "
                         "binarize(images)")
    return v.to(rbm.W.dtype)


@torch.no_grad()
def init_visible_bias(rbm: RBM, v: torch.Tensor, eps: float = 1e-3) -> RBM:
    """Set b_i = log(p_i / (1 - p_i)), p_i the fraction of rows of ``v`` with v_i = 1 (clipped to
    [eps, 1 - eps]).

    Hinton (2010), "A practical guide to training RBMs", section 8.1. With W = 0 the RBM is then
    exactly the independent-pixel model p(v) = prod_i p_i^v_i (1 - p_i)^(1 - v_i) (the hidden units
    only add a constant factor 2^H to every p(v, .), which Z cancels), so training starts from that
    baseline and the hidden units only have to model what the pixel frequencies miss. Returns
    ``rbm`` (changed in place).
    """
    v = _check_v(rbm, v)
    p = v.mean(0).clamp(eps, 1 - eps)
    rbm.b.copy_(torch.log(p / (1 - p)))
    return rbm


def binarize(images: torch.Tensor, threshold: float = 0.0) -> torch.Tensor:
    """Images in [-1, 1], any shape (N, ...) -> (N, pixels) of 0/1 floats (pixel > threshold)."""
    return (images.reshape(len(images), -1) > threshold).float()


def energy(rbm: RBM, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """E(v, h) = -b^T v - c^T h - v^T W h for each row: (N,)."""
    return -(v @ rbm.b) - (h @ rbm.c) - ((v @ rbm.W) * h).sum(dim=1)


def free_energy(rbm: RBM, v: torch.Tensor) -> torch.Tensor:
    """F(v) = -b^T v - sum_j softplus(c_j + (v^T W)_j), so that p(v) = exp(-F(v)) / Z: (N,)."""
    return -(v @ rbm.b) - F.softplus(v @ rbm.W + rbm.c).sum(dim=1)


def hidden_probs(rbm: RBM, v: torch.Tensor) -> torch.Tensor:
    """p(h_j = 1 | v) = sigmoid(c_j + (v^T W)_j): (N, H)."""
    return torch.sigmoid(v @ rbm.W + rbm.c)


def visible_probs(rbm: RBM, h: torch.Tensor) -> torch.Tensor:
    """p(v_i = 1 | h) = sigmoid(b_i + (W h)_i): (N, D)."""
    return torch.sigmoid(h @ rbm.W.T + rbm.b)


@torch.no_grad()
def gibbs_step(rbm: RBM, v: torch.Tensor,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One block-Gibbs sweep v -> h ~ p(h|v) -> v' ~ p(v|h). Returns (v', p(v'=1|h))."""
    h = torch.bernoulli(hidden_probs(rbm, v), generator=generator)
    pv = visible_probs(rbm, h)
    return torch.bernoulli(pv, generator=generator), pv


@torch.no_grad()
def gibbs_chain(rbm: RBM, v0: torch.Tensor, steps: int, generator: torch.Generator | None = None,
                keep_every: int | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Run ``steps`` Gibbs sweeps from ``v0``; returns (final p(v=1|h), snapshots of it every
    ``keep_every``)."""
    v = _check_v(rbm, v0)
    pv = v
    snapshots = []
    for t in range(1, steps + 1):
        v, pv = gibbs_step(rbm, v, generator)
        if keep_every and t % keep_every == 0:
            snapshots.append(pv.clone())
    return pv, snapshots


def all_states(n: int) -> torch.Tensor:
    """All 2^n binary vectors of length n, (2^n, n) floats."""
    if n > MAX_ENUMERATED:
        raise ValueError(f"2^{n} states is too many to enumerate (at most 2^{MAX_ENUMERATED}); "
                         "exact computations need a small RBM")
    bits = torch.arange(n - 1, -1, -1)
    return ((torch.arange(2**n).unsqueeze(1) >> bits) & 1).to(torch.float32)  # row k: k in binary


@torch.no_grad()
def log_partition(rbm: RBM, chunk: int = 1 << 14) -> float:
    """Exact log Z by enumerating the smaller layer (2^H or 2^D states, chunked)."""
    small_hidden = rbm.n_hidden <= rbm.n_visible
    n = rbm.n_hidden if small_hidden else rbm.n_visible
    states = all_states(n).to(rbm.W)
    parts = []
    for s in states.split(chunk):
        # sum over v in closed form: -F_h(h) = c^T h + sum_i softplus(b_i + (W h)_i)
        if small_hidden:
            parts.append(s @ rbm.c + F.softplus(s @ rbm.W.T + rbm.b).sum(dim=1))
        else:
            parts.append(-free_energy(rbm, s))
    return float(torch.logsumexp(torch.cat(parts).double(), dim=0))


@torch.no_grad()
def log_likelihood(rbm: RBM, v: torch.Tensor, log_z: float | None = None) -> float:
    """Mean exact log p(v) = -F(v) - log Z over the rows of ``v`` (nats; needs a small RBM)."""
    v = _check_v(rbm, v)
    log_z = log_partition(rbm) if log_z is None else log_z
    return float((-free_energy(rbm, v)).double().mean() - log_z)


def _statistics(v: torch.Tensor, ph: torch.Tensor) -> dict[str, torch.Tensor]:
    """E[-dE/dtheta] over rows: dW = <v h^T>, db = <v>, dc = <h>."""
    return {"W": v.T @ ph / len(v), "b": v.mean(0), "c": ph.mean(0)}


@torch.no_grad()
def exact_gradient(rbm: RBM, v: torch.Tensor) -> dict[str, torch.Tensor]:
    """d/dtheta of the mean log-likelihood of ``v`` by enumerating all 2^D visible states.

    data term E_data[v p(h|v)^T] minus model term sum_v p(v) v p(h|v)^T (tiny RBMs only).
    """
    v = _check_v(rbm, v)
    states = all_states(rbm.n_visible).to(rbm.W)
    p_model = torch.softmax(-free_energy(rbm, states), dim=0)  # p(v) = exp(-F(v)) / Z
    data = _statistics(v, hidden_probs(rbm, v))
    ph = hidden_probs(rbm, states)
    model = {"W": states.T @ (p_model[:, None] * ph), "b": p_model @ states, "c": p_model @ ph}
    return {k: data[k] - model[k] for k in data}


@torch.no_grad()
def contrastive_gradient(rbm: RBM, v: torch.Tensor, v_neg: torch.Tensor) -> dict[str, torch.Tensor]:
    """The gradient estimate once the negative samples are drawn: data statistics of ``v`` minus
    the same statistics of ``v_neg``, with p(h|v) for the hidden units:
    dW = <v p(h|v)^T>_data - <v p(h|v)^T>_neg,  db = <v>_data - <v>_neg,
    dc = <p(h|v)>_data - <p(h|v)>_neg  (CD-k and PCD differ only in how v_neg is drawn).
    """
    data = _statistics(v, hidden_probs(rbm, v))
    model = _statistics(v_neg, hidden_probs(rbm, v_neg))
    return {key: data[key] - model[key] for key in data}


@torch.no_grad()
def cd_gradient(
    rbm: RBM, v: torch.Tensor, k: int = 1, chain: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """CD-k estimate of the log-likelihood gradient: data statistics minus statistics after k
    Gibbs steps.

    The negative chain starts at the data (CD-k) or, if ``chain`` is given, at those persistent
    particles (PCD-k). Hidden statistics use p(h|v) rather than samples (less variance, same mean).
    Returns (gradient dict for W, b, c; the chain's final visible states).
    """
    v = _check_v(rbm, v)
    _check_k(k)
    return _cd_gradient(rbm, v, k, v if chain is None else _check_v(rbm, chain), generator)


def _check_k(k: int) -> None:
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k (Gibbs steps) must be a positive integer, got {k!r}")


def _cd_gradient(rbm: RBM, v: torch.Tensor, k: int, v_neg: torch.Tensor,
                 generator: torch.Generator | None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """``cd_gradient`` for binary ``v`` and chain start ``v_neg`` that were checked already (the
    check reads the data back to the host: once per training run, not once per batch)."""
    for _ in range(k):
        v_neg, _ = gibbs_step(rbm, v_neg, generator)
    return contrastive_gradient(rbm, v, v_neg), v_neg


def train_rbm(
    rbm: RBM,
    v: torch.Tensor,
    epochs: int,
    k: int = 1,
    persistent: bool = False,
    batch_size: int = 64,
    lr: float = 0.05,
    seed: int = 0,
    exact_every_epoch: bool = False,
    progress: bool = True,
    held_out: torch.Tensor | None = None,
) -> dict[str, Any]:
    """Gradient ascent on the log-likelihood with CD-k (or PCD-k if ``persistent``):
    theta += lr * grad.

    ``v`` (N, D) binary. History, one entry per epoch measured after it: ``recon_error`` (mean
    squared error of the mean-field reconstruction p(v|p(h|v)), a cheap but weak signal),
    ``free_energy`` (mean F(v) of the training data), ``seconds``. With ``held_out`` (M, D) binary
    digits not trained on, also ``free_energy_held_out``: since log p(v) = -F(v) - log Z, the gap
    mean F(held out) - mean F(train) is the log-likelihood gap between the two sets, with Z
    cancelled (Hinton 2010, "A practical guide to training RBMs", section 6: a growing gap means
    overfitting). With ``exact_every_epoch`` (small H only), the exact mean ``log_likelihood``
    (with one more entry, before training) and, with ``held_out``, ``log_likelihood_held_out``
    (same length).
    """
    v = _check_v(rbm, v)  # checked once: the batches and the chain below are binary by construction
    held_out = None if held_out is None else _check_v(rbm, held_out)
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    _check_k(k)
    # The persistent chain and every random number live on the data's device, with the RBM.
    gen = torch.Generator(device=v.device).manual_seed(seed)
    half = torch.full((batch_size, rbm.n_visible), 0.5, device=v.device, dtype=v.dtype)
    chain = torch.bernoulli(half, generator=gen) if persistent else None
    history: dict[str, Any] = {"recon_error": [], "free_energy": [], "log_likelihood": [],
                               "seconds": []}
    if held_out is not None:
        history.update(free_energy_held_out=[], log_likelihood_held_out=[])

    def record_log_likelihoods() -> None:
        log_z = log_partition(rbm)
        history["log_likelihood"].append(log_likelihood(rbm, v, log_z))
        if held_out is not None:
            history["log_likelihood_held_out"].append(log_likelihood(rbm, held_out, log_z))

    if exact_every_epoch:
        record_log_likelihoods()  # before training, epoch 0
    desc = f"{'PCD' if persistent else 'CD'}-{k} epochs"
    for _ in tqdm(range(epochs), desc=desc, disable=not progress):
        start = time.perf_counter()
        error_sum, batches = torch.zeros((), device=v.device), 0
        for idx in torch.randperm(len(v), generator=gen, device=v.device).split(batch_size):
            batch = v[idx]
            v_start = chain[: len(batch)] if persistent else batch  # PCD: the chain; CD: the data
            grad, v_neg = _cd_gradient(rbm, batch, k, v_start, gen)
            if persistent:
                chain[: len(batch)] = v_neg
            with torch.no_grad():
                rbm.W += lr * grad["W"]
                rbm.b += lr * grad["b"]
                rbm.c += lr * grad["c"]
                error_sum += ((visible_probs(rbm, hidden_probs(rbm, batch)) - batch) ** 2).mean()
                batches += 1
        history["seconds"].append(time.perf_counter() - start)
        history["recon_error"].append(float(error_sum) / batches)  # one host sync per epoch
        with torch.no_grad():
            history["free_energy"].append(float(free_energy(rbm, v).mean()))
            if held_out is not None:
                history["free_energy_held_out"].append(float(free_energy(rbm, held_out).mean()))
        if exact_every_epoch:
            record_log_likelihoods()
    return history
