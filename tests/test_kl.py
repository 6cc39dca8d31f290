"""KL and JS divergences: closed forms against Monte Carlo and enumeration
(course_utils.summary.divergences)."""
import math

import pytest
import torch

from course_utils.summary.divergences import (
    fit_gaussian_kl,
    js_discrete,
    kl_diag_normal_standard,
    kl_discrete,
    kl_monte_carlo,
    kl_normal,
    mixture_log_prob,
    mixture_sample,
)


def normal_log_prob(mu, sigma):
    return lambda x: torch.distributions.Normal(mu, sigma).log_prob(x)


@pytest.mark.parametrize("mu1,s1,mu2,s2",
                         [(0.0, 1.0, 1.0, 2.0), (2.0, 0.5, -1.0, 1.5), (0.3, 1.0, 0.3, 1.0)])
def test_closed_form_gaussian_kl_matches_monte_carlo_and_torch(mu1, s1, mu2, s2):
    gen = torch.Generator().manual_seed(0)
    x = mu1 + s1 * torch.randn(200_000, generator=gen, dtype=torch.float64)
    estimate, stderr = kl_monte_carlo(x, normal_log_prob(mu1, s1), normal_log_prob(mu2, s2))
    exact = float(kl_normal(mu1, s1, mu2, s2))
    assert abs(estimate - exact) < 4 * stderr + 1e-9
    reference = torch.distributions.kl_divergence(torch.distributions.Normal(mu1, s1),
                                                  torch.distributions.Normal(mu2, s2))
    assert exact == pytest.approx(float(reference), abs=1e-6)


def test_kl_is_nonnegative_and_asymmetric():
    assert float(kl_normal(0, 1, 0, 1)) == pytest.approx(0.0, abs=1e-12)
    assert float(kl_normal(0, 1, 1, 2)) > 0
    assert float(kl_normal(0, 1, 1, 2)) != pytest.approx(float(kl_normal(1, 2, 0, 1)))
    gen = torch.Generator().manual_seed(0)
    mu1, mu2 = (3 * torch.randn(10_000, generator=gen) for _ in range(2))
    s1, s2 = (torch.exp(torch.randn(10_000, generator=gen)) for _ in range(2))
    forward, reverse = kl_normal(mu1, s1, mu2, s2), kl_normal(mu2, s2, mu1, s1)
    assert float(forward.min()) > 0 and float(reverse.min()) > 0
    assert float((forward - reverse).abs().median()) > 0.1  # asymmetric for a typical pair
    dirichlet = torch.distributions.Dirichlet(torch.ones(5, dtype=torch.float64))
    assert all(kl_discrete(p, q) >= 0 for p,
               q in zip(dirichlet.sample((500,)), dirichlet.sample((500,)), strict=True))


def test_vae_kl_term_is_sum_of_univariate_kls():
    mu = torch.tensor([[0.5, -1.0, 0.0]], dtype=torch.float64)
    logvar = torch.tensor([[0.2, -0.7, 0.0]], dtype=torch.float64)
    by_hand = sum(float(kl_normal(m, math.exp(lv / 2), 0.0, 1.0)) for m,
                  lv in zip(mu[0].tolist(), logvar[0].tolist(), strict=True))
    assert float(kl_diag_normal_standard(mu, logvar)[0]) == pytest.approx(by_hand, rel=1e-12)


def test_discrete_kl_and_js_bounds():
    p = torch.tensor([0.5, 0.5, 0.0])
    q = torch.tensor([0.0, 0.0, 1.0])
    # disjoint supports: the maximum, log 2 nats
    assert js_discrete(p, q) == pytest.approx(math.log(2))
    assert kl_discrete(p, q) == math.inf
    r = torch.tensor([0.2, 0.3, 0.5])
    assert kl_discrete(r, r) == pytest.approx(0.0)
    assert kl_discrete(torch.tensor([0.25, 0.75]), torch.tensor([0.5, 0.5])) == pytest.approx(
        0.25 * math.log(0.5) + 0.75 * math.log(1.5))
    assert 0 < js_discrete(r, torch.tensor([0.6, 0.2, 0.2])) < math.log(2)


def test_forward_kl_matches_moments_and_reverse_kl_picks_a_mode():
    w, m, s = torch.tensor([0.5, 0.5]), torch.tensor([-3.0, 3.0]), torch.tensor([0.7, 0.7])
    grid = torch.linspace(-10, 10, 2001, dtype=torch.float64)
    mu_f, sigma_f = fit_gaussian_kl(lambda x: mixture_log_prob(x, w, m, s), grid, "forward",
                                    steps=800, lr=0.05)
    assert mu_f == pytest.approx(0.0, abs=0.05)
    assert sigma_f == pytest.approx(math.sqrt(0.7**2 + 9), rel=0.02)  # moment matching
    mu_r, sigma_r = fit_gaussian_kl(lambda x: mixture_log_prob(x, w, m, s), grid, "reverse",
                                    steps=800, lr=0.05)
    assert mu_r == pytest.approx(3.0, abs=0.1) and sigma_r == pytest.approx(0.7, rel=0.1)
    x = mixture_sample(10_000, w, m, s, torch.Generator().manual_seed(0))
    assert float(x.mean()) == pytest.approx(0.0, abs=0.1)


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="positive"):
        kl_normal(0, -1, 0, 1)
    with pytest.raises(ValueError, match="sum to 1"):
        kl_discrete(torch.tensor([0.5, 0.6]), torch.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match="forward"):
        fit_gaussian_kl(lambda x: x, torch.linspace(0, 1, 5), "sideways")
    with pytest.raises(ValueError, match="same shape"):
        kl_diag_normal_standard(torch.zeros(2, 3), torch.zeros(2, 2))
