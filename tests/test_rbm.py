"""The binary RBM: exact enumeration on a tiny model checks F(v), log Z and the CD gradient."""
import itertools
import math

import pytest
import torch

from course_utils.summary.rbm import (
    RBM,
    all_states,
    binarize,
    cd_gradient,
    energy,
    exact_gradient,
    free_energy,
    gibbs_chain,
    init_visible_bias,
    log_likelihood,
    log_partition,
    train_rbm,
)


def tiny_rbm(seed=0, n_visible=4, n_hidden=3):
    rbm = RBM(n_visible, n_hidden, seed=seed, init_std=0.5)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        rbm.b.copy_(0.3 * torch.randn(n_visible, generator=gen))
        rbm.c.copy_(0.3 * torch.randn(n_hidden, generator=gen))
    return rbm.double()


DATA = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=torch.float64)


def test_free_energy_and_log_partition_by_brute_force():
    rbm = tiny_rbm()
    vs, hs = all_states(4).double(), all_states(3).double()
    with torch.no_grad():
        pairs = [(v, h) for v, h in itertools.product(vs, hs)]
        e = torch.stack([energy(rbm, v[None], h[None])[0] for v, h in pairs])
        log_z = float(torch.logsumexp(-e, 0))
        assert log_partition(rbm) == pytest.approx(log_z, rel=1e-10)  # enumerates the hidden layer
        for v in vs:  # F(v) = -log sum_h exp(-E(v, h))
            f = -torch.logsumexp(-energy(rbm, v.expand(8, 4), hs), 0)
            assert float(free_energy(rbm, v[None])[0]) == pytest.approx(float(f), rel=1e-10)
        probs = torch.exp(-free_energy(rbm, vs) - log_z)  # p(v) = exp(-F(v)) / Z sums to 1
        assert float(probs.sum()) == pytest.approx(1.0, rel=1e-10)


def test_exact_gradient_is_the_autograd_gradient_of_the_log_likelihood():
    rbm = tiny_rbm()
    grad = exact_gradient(rbm, DATA)
    loglik = ((-free_energy(rbm, DATA)).mean()
              - torch.logsumexp(-free_energy(rbm, all_states(4).double()), 0))
    loglik.backward()
    for name in ("W", "b", "c"):
        assert torch.allclose(grad[name], getattr(rbm, name).grad, atol=1e-10)


def test_one_cd_step_points_uphill():
    """CD-1's estimate (averaged over chains) agrees in sign with the exact gradient on most entries
    and one small step along it raises the exact log-likelihood; CD-k with large k is unbiased."""
    rbm = tiny_rbm()
    exact = exact_gradient(rbm, DATA)
    gen = torch.Generator().manual_seed(0)
    reps = DATA.repeat(5000, 1)  # many chains: the Monte Carlo noise is small
    cd1, _ = cd_gradient(rbm, reps, k=1, generator=gen)
    flat_exact = torch.cat([exact[k].flatten() for k in exact])
    flat_cd = torch.cat([cd1[k].flatten() for k in cd1])
    assert float(flat_exact @ flat_cd) > 0
    large = flat_exact.abs() > 0.05
    assert bool((torch.sign(flat_cd[large]) == torch.sign(flat_exact[large])).all())
    before = log_likelihood(rbm, DATA)
    with torch.no_grad():
        for name in cd1:
            getattr(rbm, name).add_(0.1 * cd1[name])
    assert log_likelihood(rbm, DATA) > before
    rbm = tiny_rbm()
    cd_long, _ = cd_gradient(rbm, reps, k=50, generator=gen)
    for name in exact:
        assert torch.allclose(cd_long[name], exact[name], atol=0.03)


def test_cd_and_pcd_training_raise_the_exact_log_likelihood():
    data = DATA.float().repeat(16, 1)
    for persistent in (False, True):
        rbm = RBM(4, 3, seed=0)
        history = train_rbm(rbm, data, epochs=30, k=1, persistent=persistent, batch_size=16, lr=0.1,
                            exact_every_epoch=True, progress=False)
        assert history["log_likelihood"][-1] > history["log_likelihood"][0] + 0.5
        # the exact best is the data's entropy: 3 distinct patterns with frequencies 1/2, 1/4, 1/4
        assert history["log_likelihood"][-1] < -(0.5 * math.log(2) + 0.5 * math.log(4)) + 1e-6


def test_free_energy_gap_is_the_log_likelihood_gap():
    """log p(v) = -F(v) - log Z: mean F(held out) - mean F(train) = loglik(train) -
    loglik(held out), Z cancels."""
    train, held_out = DATA.float().repeat(8, 1), torch.tensor([[0, 1, 1, 0], [1, 0, 0, 1.0]])
    history = train_rbm(RBM(4, 3, seed=0), train, epochs=5, batch_size=8, lr=0.1,
                        exact_every_epoch=True, held_out=held_out, progress=False)
    assert len(history["free_energy"]) == len(history["free_energy_held_out"]) == 5
    # and epoch 0
    assert len(history["log_likelihood"]) == len(history["log_likelihood_held_out"]) == 6
    f_gap = torch.tensor(history["free_energy_held_out"]) - torch.tensor(history["free_energy"])
    ll_gap = (torch.tensor(history["log_likelihood"][1:])
              - torch.tensor(history["log_likelihood_held_out"][1:]))
    assert torch.allclose(f_gap.double(), ll_gap.double(), atol=1e-4)
    assert float(ll_gap[-1]) > 0  # patterns never seen are less likely than the training patterns


def test_visible_bias_init_with_zero_weights_is_the_independent_pixel_model():
    rbm = init_visible_bias(RBM(4, 3, init_std=0.0).double(), DATA)
    p = DATA.mean(0).clamp(1e-3, 1 - 1e-3)
    independent = float((DATA * p.log() + (1 - DATA) * (1 - p).log()).sum(1).mean())
    assert log_likelihood(rbm, DATA) == pytest.approx(independent, rel=1e-10)


def test_gibbs_chain_samples_the_model():
    rbm = tiny_rbm()
    v0 = torch.zeros(20_000, 4, dtype=torch.float64)
    _, snaps = gibbs_chain(rbm, v0, 60, torch.Generator().manual_seed(1), keep_every=60)
    vs = all_states(4).double()
    p_model = torch.softmax(-free_energy(rbm, vs), 0)
    marginal = (p_model[:, None] * vs).sum(0)  # p(v_i = 1)
    assert torch.allclose(snaps[-1].mean(0), marginal, atol=0.02)


def test_bad_inputs_give_clear_errors():
    rbm = RBM(4, 2)
    with pytest.raises(ValueError, match="binary"):
        cd_gradient(rbm, torch.full((2, 4), 0.5))
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        cd_gradient(rbm, torch.zeros(2, 5))
    with pytest.raises(ValueError, match="k"):
        cd_gradient(rbm, torch.zeros(2, 4), k=0)
    with pytest.raises(ValueError, match="too many"):
        log_partition(RBM(30, 30))
    with pytest.raises(ValueError, match="n_hidden"):
        RBM(4, 0)
    assert binarize(torch.tensor([[[-1.0, 0.5]]])).tolist() == [[0.0, 1.0]]
