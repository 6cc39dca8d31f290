"""Checks for notebook 00b (Boltzmann machines, contrastive divergence, score-based models).

* ``check_free_energy(my_free_energy)`` -- F(v) = -b^T v - sum_j softplus(c_j + (v^T W)_j), one
  per row;
* ``check_cd1_gradient(my_cd1_gradient)`` -- one CD-1 estimate of the log-likelihood gradient;
* ``check_langevin_step(my_langevin_step)`` -- x + eta/2 * s(x) + sqrt(eta) * z.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F

from ..summary.rbm import RBM, contrastive_gradient, free_energy, hidden_probs, visible_probs
from ..summary.score_matching import langevin_step
from .verdict import StudentError, call, checker, compare, generator

__all__ = ["check_free_energy", "check_cd1_gradient", "check_langevin_step"]


def _rbm_inputs(seed: int, n: int = 7, d: int = 6, h: int = 4):
    gen = generator(seed)
    v = torch.bernoulli(torch.full((n, d), 0.5, dtype=torch.float64), generator=gen)
    W = 0.8 * torch.randn(d, h, generator=gen, dtype=torch.float64)
    b = 0.5 * torch.randn(d, generator=gen, dtype=torch.float64)
    c = 0.5 * torch.randn(h, generator=gen, dtype=torch.float64)
    return gen, v, W, b, c


def _rbm(W: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> RBM:
    """The package's RBM with the exercise's weights and biases (in their dtype)."""
    rbm = RBM(*W.shape).to(W.dtype).requires_grad_(False)
    for param, value in ((rbm.W, W), (rbm.b, b), (rbm.c, c)):
        param.copy_(value)
    return rbm


@checker("the free energy of an RBM")
def check_free_energy(my_free_energy) -> str:
    _, v, W, b, c = _rbm_inputs(3)
    got = call(my_free_energy, v.clone(), W.clone(), b.clone(), c.clone(),
               what="my_free_energy(v, W, b, c)")
    want = free_energy(_rbm(W, b, c), v)
    act = v @ W + c
    mistakes = {
        "the visible term -b^T v is missing": -F.softplus(act).sum(dim=1),
        "the hidden term is missing its bias c: softplus(c_j + (v^T W)_j)":
            -(v @ b) - F.softplus(v @ W).sum(dim=1),
        "summing h out gives log(1 + exp(x)) = softplus(x), not x": -(v @ b) - act.sum(dim=1),
        "summing h out gives softplus(x) = log(1 + exp(x)), not sigmoid(x)":
            -(v @ b) - torch.sigmoid(act).sum(dim=1),
        "this is -F(v) = log of the unnormalised p(v): F has minus signs in front of both terms":
            (v @ b) + F.softplus(act).sum(dim=1),
    }
    compare(got, want, "my_free_energy", mistakes=mistakes)
    return f"matches -b^T v - sum_j softplus(c_j + (v^T W)_j) on {len(v)} random binary vectors"


def _cd1_reference(v0, W, b, c, u_h, u_v):
    """One Gibbs step v0 -> h0 -> v1 with the given uniforms (a unit is on when u < p), and the
    package's CD gradient from it; the intermediate values name the mistakes."""
    rbm = _rbm(W, b, c)
    ph0 = hidden_probs(rbm, v0)
    h0 = (u_h < ph0).to(v0.dtype)
    pv1 = visible_probs(rbm, h0)
    v1 = (u_v < pv1).to(v0.dtype)
    ph1 = hidden_probs(rbm, v1)
    grad = contrastive_gradient(rbm, v0, v1)
    return {"ph0": ph0, "h0": h0, "pv1": pv1, "v1": v1, "ph1": ph1, "n": len(v0), "grad": grad}


@checker("one CD-1 gradient of an RBM")
def check_cd1_gradient(my_cd1_gradient) -> str:
    gen, v0, W, b, c = _rbm_inputs(4)
    u_h = torch.rand(len(v0), W.shape[1], generator=gen, dtype=torch.float64)
    u_v = torch.rand(v0.shape, generator=gen, dtype=torch.float64)
    got = call(my_cd1_gradient, v0.clone(), W.clone(), b.clone(), c.clone(), u_h.clone(),
               u_v.clone(), what="my_cd1_gradient(v0, W, b, c, u_h, u_v)")
    if isinstance(got, Mapping) and {"W", "b", "c"} <= set(got):
        got = (got["W"], got["b"], got["c"])
    if not isinstance(got, Sequence) or isinstance(got, str) or len(got) != 3:
        raise StudentError("my_cd1_gradient should return three tensors (dW, db, dc), got "
                           f"{type(got).__name__}"
                           + (f" of length {len(got)}" if isinstance(got, Sequence) else ""))
    r = _cd1_reference(v0, W, b, c, u_h, u_v)
    v1, ph0, ph1, n, want = r["v1"], r["ph0"], r["ph1"], r["n"], r["grad"]
    want_W = want["W"]
    h1 = (u_h < ph1).to(v0.dtype)  # what a student who samples h1 with the same uniforms would use
    mistakes_W = {
        f"not divided by the batch size: the statistics are means over the {n} rows": want_W * n,
        "the data term uses p(h|v0), not the sample h0": (v0.T @ r["h0"] - v1.T @ ph1) / n,
        "the model term uses p(v1|h0) instead of the sampled v1 (sample v1 with u_v < p)":
            (v0.T @ ph0 - r["pv1"].T @ torch.sigmoid(r["pv1"] @ W + c)) / n,
        "the model term uses a sample of h1; use the probabilities p(h|v1)":
            (v0.T @ ph0 - v1.T @ h1) / n,
        "the model term is the data term again: v1 must come from one Gibbs step v0 -> h0 -> v1":
            0 * want_W,
    }
    compare(got[0], want_W, "dW (the first tensor)", mistakes=mistakes_W)
    compare(got[1], want["b"], "db (the second tensor)",
            mistakes={"db is v0 - v1 averaged over the batch, one number per visible unit":
                      (v0 - v1).sum(0)})
    compare(got[2], want["c"], "dc (the third tensor)",
            mistakes={"dc is p(h|v0) - p(h|v1) averaged over the batch": (ph0 - ph1).sum(0),
                      "dc uses the probabilities p(h|v), not the sample h0":
                      (r["h0"] - ph1).mean(0)})
    return (f"dW, db, dc match CD-1 on a random RBM (D = {W.shape[0]}, H = {W.shape[1]}, {n} data "
            "vectors)")


@checker("one Langevin step")
def check_langevin_step(my_langevin_step) -> str:
    gen = generator(5)
    m, s2, eta = 1.0, 0.25, 0.03
    x = torch.randn(10, 2, generator=gen, dtype=torch.float64)
    z = torch.randn(10, 2, generator=gen, dtype=torch.float64)

    def score(t: torch.Tensor) -> torch.Tensor:
        return -(t - m) / s2

    got = call(my_langevin_step, x.clone(), score, eta, z.clone(),
               what="my_langevin_step(x, score, eta, z)")
    want = langevin_step(score, x, eta, z)
    s = score(x)
    mistakes = {
        "the score term is eta * s(x); the lecture's step has eta / 2 * s(x)":
            x + eta * s + math.sqrt(eta) * z,
        "the noise is scaled by eta; it should be sqrt(eta)": x + eta / 2 * s + eta * z,
        "the noise is scaled by sqrt(eta / 2); it should be sqrt(eta)":
            x + eta / 2 * s + math.sqrt(eta / 2) * z,
        "the step goes down the score: x + eta/2 * s(x) climbs log p, the score points uphill":
            x - eta / 2 * s + math.sqrt(eta) * z,
        "the noise sqrt(eta) * z is missing (that is gradient ascent, not Langevin)":
            x + eta / 2 * s,
    }
    compare(got, want, "my_langevin_step", mistakes=mistakes)
    return "x + eta/2 * s(x) + sqrt(eta) * z on 10 random points"
