"""The flow as a sampler of exp(-S): importance weights, ESS, independence Metropolis-Hastings.

A trained flow q is not p. Two exact corrections use its exact log q (Albergo, Kanwar & Shanahan,
PRD 100, 034515, 2019, sec. III; Nicoli et al., PRE 101, 023304, 2020):

* **reweighting**: <O>_p = E_q[w O] / E_q[w] with w = exp(-S) / q, estimated self-normalised
  over independent draws; its cost is measured by ESS/N = (sum w)^2 / (N sum w^2);
* **independence Metropolis-Hastings**: propose independent draws of q and accept with
  min(1, w' / w); the chain samples p exactly, and its acceptance and autocorrelation time
  say how good q is (a perfect flow accepts everything, tau_int = 1/2).

Both corrections are exact only where q covers p. In the broken phase a flow trained by reverse
KL may cover one vacuum only; p is symmetric under phi -> -phi, so the **symmetrised** proposal

    q_sym(phi) = (q(phi) + q(-phi)) / 2                                                       (1)

(draw phi ~ q, flip its sign with probability 1/2; its exact density needs one more pass through
the inverse flow) covers both whenever q covers one (``flow_mcmc(..., symmetrise=True)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..device import seeded_generator
from ..lattice import (
    Estimate,
    MetropolisChain,
    effective_sample_size,
    independence_metropolis,
    symmetrised_log_q,
)
from .flow import Phi4Flow, log_weights, sample_flow
from .observables import chain_tau_int, measure

__all__ = ["FlowMCMC", "flow_mcmc", "sample_symmetrised"]


@dataclass(frozen=True)
class FlowMCMC:
    """Draws of a flow, their weights and the independence-MH chain through them (all on the CPU).

    ``phi`` (n, L, L), ``log_q`` (n,), ``log_w`` (n,) = -S - log q; ``chain``; ``ess`` = ESS/N;
    ``acceptance``; ``tau_int`` of M^2 and |M| along the chain (in proposals).
    """

    phi: torch.Tensor
    log_q: torch.Tensor
    log_w: torch.Tensor
    chain: MetropolisChain
    ess: float
    acceptance: float
    tau_int: dict[str, float]

    def chain_configs(self) -> torch.Tensor:
        """The chain's states (n, L, L): proposal ``index[k]`` at step k (repeated if rejected)."""
        return self.phi[self.chain.index]

    def observables(self, corrected_by: str = "mcmc", n_blocks: int = 50) -> dict[str, Estimate]:
        """``measure`` of the chain (``"mcmc"``), of the reweighted draws (``"reweighting"``) or of
        the raw, biased draws of q (``"none"``)."""
        if corrected_by == "mcmc":
            return measure(self.chain_configs(), n_blocks=n_blocks)
        if corrected_by == "reweighting":
            return measure(self.phi, log_w=self.log_w, n_blocks=n_blocks)
        if corrected_by == "none":
            return measure(self.phi, n_blocks=n_blocks)
        raise ValueError(
            f"corrected_by must be 'mcmc', 'reweighting' or 'none', got {corrected_by!r}"
        )


@torch.no_grad()
def sample_symmetrised(
    model: Phi4Flow, n: int, device: torch.device | str = "cpu", seed: int = 0, chunk: int = 4096
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` draws of q_sym, eq. (1), and their exact log q_sym (float32 fields, float64 log q_sym,
    on the CPU): the draws of ``sample_flow`` (same seed), each negated with probability 1/2.

    For phi ~ q and either sign, log q_sym = log((q(phi) + q(-phi)) / 2)
    (``lattice.symmetrised_log_q``): the flip does not change it, so one inverse pass
    (log q(-phi)) per draw is all it costs.
    """
    phi, log_q = sample_flow(model, n, device, seed, chunk)
    device = torch.device(device)
    mirrored = torch.cat(
        [model.log_prob(-part.to(device)).double().cpu() for part in torch.split(phi, chunk)]
    )
    log_q_sym = symmetrised_log_q(log_q.double(), mirrored)
    signs = seeded_generator(int(seed) + 1_000_003, phi.device)  # not flow_mcmc's MH stream
    flip = torch.rand(len(phi), generator=signs, device=phi.device) < 0.5
    return torch.where(flip[:, None, None], -phi, phi), log_q_sym


def flow_mcmc(
    model: Phi4Flow,
    n: int,
    device: torch.device | str = "cpu",
    seed: int = 0,
    symmetrise: bool = False,
) -> FlowMCMC:
    """``n`` fresh draws of ``model`` (seed ``seed``), their log-weights, ESS, and one chain of
    independence Metropolis-Hastings through them in order. ``symmetrise``: draws of q_sym,
    eq. (1), instead of q (``log_q`` is then log q_sym)."""
    draw = sample_symmetrised if symmetrise else sample_flow
    phi, log_q = draw(model, n, device, seed)
    log_w = log_weights(phi.double(), log_q.double(), model.config.m2, model.config.lam)
    chain = independence_metropolis(log_w, seeded_generator(int(seed) + 1, log_w.device))
    return FlowMCMC(
        phi,
        log_q,
        log_w,
        chain,
        float(effective_sample_size(log_w)),
        chain.acceptance,
        chain_tau_int(phi.double()[chain.index]),
    )
