"""Every checker of ``course_utils.exercises``: it accepts the right answer, names plausible wrong
ones (a sign flip, a missing factor, a transposed shape, ...), says "not yet" for the placeholder,
and never raises, whatever the student's code does. Its reference follows the package's policy
(``course_utils.exercises``): the package's own function (``LIBRARY`` below), or written out in
the checker and checked against numbers computed another way (``INDEPENDENT``)."""
from __future__ import annotations

import math
import statistics

import pytest
import torch
import torch.nn.functional as F
from scipy import optimize, stats
from torch import nn

from course_utils import exercises as E
from course_utils import phi4
from course_utils.diffusion import forward
from course_utils.diffusion.gaussian_path import velocity_from_eps
from course_utils.diffusion.samplers import ddim_step, guided_eps
from course_utils.diffusion.schedules import Schedule
from course_utils.exercises.verdict import EXPECT_ENV, Verdict
from course_utils.flows.coupling import AffineCoupling, checkerboard_mask
from course_utils.flows.paths import linear_path, linear_path_coefficients, target_velocity
from course_utils.flows.solvers import heun_step
from course_utils.gan.dcgan import label_planes as package_label_planes
from course_utils.gan.game import normal_pdf, optimal_discriminator, value_function
from course_utils.gan.losses import gradient_penalty
from course_utils.gan.networks import make_discriminator_network
from course_utils.lattice import effective_sample_size
from course_utils.scoring import class_spread, mmd2
from course_utils.scoring.mmd import permutation_p_value
from course_utils.summary import rbm as R
from course_utils.summary.divergences import kl_diag_normal_standard
from course_utils.summary.divergences import kl_normal as package_kl_normal
from course_utils.summary.score_matching import langevin_step
from course_utils.summary.vae import reparameterize


@pytest.fixture(autouse=True)
def _no_expectation(monkeypatch):
    monkeypatch.delenv(EXPECT_ENV, raising=False)


def placeholder(*args, **kwargs):
    ...


def raises(*args, **kwargs):
    raise ZeroDivisionError("student code went wrong")


# --- right answers (written independently of the checkers' references) --------------------

def label_planes(images, y):
    planes = torch.zeros(len(y), 10, 28, 28)
    planes[torch.arange(len(y)), y] = 1.0
    return torch.cat([images, planes], dim=1)


def label_planes_loop(images, y):  # one sample at a time, with a float one-hot: still right
    out = []
    for image, digit in zip(images, y.tolist(), strict=True):
        planes = [torch.full((1, 28, 28), float(k == digit)) for k in range(10)]
        out.append(torch.cat([image, *planes]))
    return torch.stack(out)


def kl_normal(mu1, s1, mu2, s2):
    return torch.log(torch.as_tensor(s2 / s1)) + (s1**2 + (mu1 - mu2) ** 2) / (2 * s2**2) - 0.5


def kl_normal_math(mu1, s1, mu2, s2):  # floats only: still right
    return math.log(s2 / s1) + (s1**2 + (mu1 - mu2) ** 2) / (2 * s2**2) - 0.5


def kl_vae(mu, logvar):
    return -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(dim=1)


def reparameterise(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * eps


def free_energy(v, W, b, c):
    return -(v @ b) - F.softplus(v @ W + c).sum(dim=1)


def cd1(v0, W, b, c, u_h, u_v):
    ph0 = torch.sigmoid(v0 @ W + c)
    h0 = (u_h < ph0).to(v0.dtype)
    v1 = (u_v < torch.sigmoid(h0 @ W.T + b)).to(v0.dtype)
    ph1 = torch.sigmoid(v1 @ W + c)
    n = len(v0)
    return (v0.T @ ph0 - v1.T @ ph1) / n, (v0 - v1).mean(0), (ph0 - ph1).mean(0)


def langevin(x, score, eta, z):
    return x + eta / 2 * score(x) + math.sqrt(eta) * z


def pdf(x, m, s):
    return torch.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))


def d_star(x, mu_data, s_data, mu_g, s_g):
    return pdf(x, mu_data, s_data) / (pdf(x, mu_data, s_data) + pdf(x, mu_g, s_g))


def value(d, p_data, p_g, x):
    return torch.trapezoid(p_data * torch.log(d) + p_g * torch.log(1 - d), x)


def make_disc(input_size, hidden):
    return nn.Sequential(nn.Linear(input_size, hidden, bias=False), nn.LeakyReLU(), nn.Dropout(0.5),
                         nn.Linear(hidden, hidden, bias=False), nn.LeakyReLU(), nn.Dropout(0.5),
                         nn.Linear(hidden, 1), nn.Sigmoid())


def d_loss(real, fake):
    return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))


def mmd2_u(X, Y, h):
    k = lambda a, b: torch.exp(-torch.cdist(a, b) ** 2 / (2 * h**2))  # noqa: E731
    n, m = len(X), len(Y)
    kxx, kyy = k(X, X), k(Y, Y)
    return ((kxx.sum() - kxx.trace()) / (n * (n - 1)) + (kyy.sum() - kyy.trace()) / (m * (m - 1))
            - 2 * k(X, Y).mean())


def perm_test(X, Y, statistic, perms, plus_one=True, strict=False):
    Z, n = torch.cat([X, Y]), len(X)
    observed = statistic(X, Y)
    null = torch.tensor([statistic(Z[p[:n]], Z[p[n:]]) for p in perms])
    count = int((null > observed).sum() if strict else (null >= observed).sum())
    return (1 + count) / (1 + len(perms)) if plus_one else count / len(perms)


def per_sample(values, x):
    """One value per sample, shaped (N, 1, ...) to multiply x."""
    return values.reshape(-1, *([1] * (x.dim() - 1)))


def column(n):
    """n points 0, ..., 1 as a float64 column."""
    return torch.linspace(0, 1, n, dtype=torch.float64)[:, None]


def q_sample(x0, t, alpha_bars, noise):
    ab = per_sample(alpha_bars[t], x0)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def posterior(x0, xt, t, betas, alpha_bars):
    b = betas[t][:, None]
    a, ap = alpha_bars[t][:, None], alpha_bars[t - 1][:, None]
    mean = ap.sqrt() * b / (1 - a) * x0 + (1 - b).sqrt() * (1 - ap) / (1 - a) * xt
    return mean, (1 - ap) / (1 - a) * b


def ddim(x, eps, a_t, a_s, eta, z):
    x0 = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    sigma = eta * math.sqrt((1 - a_s) / (1 - a_t)) * math.sqrt(1 - a_t / a_s)
    return math.sqrt(a_s) * x0 + math.sqrt(1 - a_s - sigma**2) * eps + sigma * z


def gp(critic, real, fake, eps, create_graph=True, squared=False):
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=create_graph)
    norm = g.pow(2).sum(1) if squared else g.norm(2, dim=1)
    return ((norm - 1) ** 2).mean()


def spread(counts):
    p = counts / counts.sum()
    p = p[p > 0]
    return float(-(p * p.log()).sum() / math.log(len(counts)))


def coupling(z, mask, s, t):
    moved = z * torch.exp(s) + t
    return mask * z + (1 - mask) * moved, ((1 - mask) * s).sum(dim=1)


def coupling_loop(z, mask, s, t):  # one sample and one site at a time: still right
    xs, log_dets = [], []
    for zi, si, ti in zip(z, s, t, strict=True):
        x = [float(zj) if m == 1 else float(zj) * math.exp(float(sj)) + float(tj)
             for zj, m, sj, tj in zip(zi, mask, si, ti, strict=True)]
        xs.append(x)
        log_dets.append(sum(float(sj) for sj, m in zip(si, mask, strict=True) if m == 0))
    return torch.tensor(xs, dtype=torch.float64), torch.tensor(log_dets, dtype=torch.float64)


def path(x0, x1, t):
    t = t.reshape(-1, *([1] * (x0.dim() - 1)))
    return (1 - t) * x0 + t * x1, x1 - x0


def heun(v, x, t, t_next):
    h = t_next - t
    n = len(x)
    k1 = v(x, torch.full((n,), t, dtype=x.dtype))
    k2 = v(x + h * k1, torch.full((n,), t_next, dtype=x.dtype))
    return x + h * (k1 + k2) / 2


def euler(v, x, t, t_next):
    return x + (t_next - t) * v(x, torch.full((len(x),), t, dtype=x.dtype))


# (checker, right answers, {wrong answer: a word its message must contain}, placeholder arguments)
def ising_energy(s, periodic=True):
    """e = -(1/N) sum over bonds s_i s_j, each bond once."""
    if periodic:
        bonds = (s * s.roll(1, dims=1) + s * s.roll(1, dims=2)).sum(dim=(1, 2))
    else:
        bonds = ((s[:, 1:] * s[:, :-1]).sum(dim=(1, 2))
                 + (s[:, :, 1:] * s[:, :, :-1]).sum(dim=(1, 2)))
    return -bonds / s[0].numel()


def binder(m):
    return 1 - (m ** 4).mean() / (3 * (m ** 2).mean() ** 2)


def phi4_action(phi, m2, lam, periodic=True, half=1.0, one_side=False):
    """sum_x [sum_mu phi_x (2 phi_x - phi_{x+mu} - phi_{x-mu}) + m^2 phi_x^2 + lambda phi_x^4]."""
    kinetic = torch.zeros_like(phi)
    for dim in (1, 2):
        if periodic:
            up, down = phi.roll(-1, dim), phi.roll(1, dim)
        else:
            up = torch.cat([phi.narrow(dim, 1, phi.shape[dim] - 1),
                            torch.zeros_like(phi.narrow(dim, 0, 1))], dim)
            down = torch.cat([torch.zeros_like(phi.narrow(dim, 0, 1)),
                              phi.narrow(dim, 0, phi.shape[dim] - 1)], dim)
        kinetic = kinetic + (phi * (phi - up) if one_side else phi * (2 * phi - up - down))
    return (half * kinetic + m2 * phi**2 + lam * phi**4).sum(dim=(1, 2))


def phi4_action_loops(phi, m2, lam):  # one site at a time: still right
    n, L, _ = phi.shape
    out = []
    for k in range(n):
        total = 0.0
        for i in range(L):
            for j in range(L):
                p = float(phi[k, i, j])
                near = (float(phi[k, (i + 1) % L, j]) + float(phi[k, (i - 1) % L, j])
                        + float(phi[k, i, (j + 1) % L]) + float(phi[k, i, (j - 1) % L]))
                total += p * (4 * p - near) + m2 * p * p + lam * p**4
        out.append(total)
    return torch.tensor(out, dtype=torch.float64)


def board_coupling(z, s, t, parity, board=True, sign=1.0):
    i = torch.arange(z.shape[-2])[:, None]
    j = torch.arange(z.shape[-1])[None, :]
    frozen = ((i + j) % 2 == parity) if board else (i % 2 == parity).expand(z.shape[-2:])
    x = torch.where(frozen, z, z * torch.exp(s) + t)
    return x, sign * torch.where(frozen, torch.zeros_like(s), s).sum(dim=(1, 2))


def board_coupling_loop(z, s, t, parity):  # one site at a time: still right
    x, log_det = z.clone(), torch.zeros(len(z), dtype=z.dtype)
    for k in range(len(z)):
        for i in range(z.shape[1]):
            for j in range(z.shape[2]):
                if (i + j) % 2 != parity:
                    x[k, i, j] = z[k, i, j] * math.exp(float(s[k, i, j])) + t[k, i, j]
                    log_det[k] += s[k, i, j]
    return x, log_det


def ess(log_w):
    w = torch.exp(log_w - log_w.max())
    return w.sum() ** 2 / (len(w) * (w**2).sum())


CASES = {
    "kl_normal": (E.check_kl_normal, [kl_normal, kl_normal_math], {
        lambda m1, s1, m2, s2: kl_normal(m2, s2, m1, s1): "swapped",
        lambda m1, s1, m2, s2: kl_normal(m1, s1, m2, s2) + 0.5: "-1/2",
        lambda m1, s1, m2, s2: (2 * torch.log(torch.as_tensor(s2 / s1))
                                + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5): "variances",
        lambda m1, s1, m2, s2: -kl_normal(m1, s1, m2, s2): "sign",
    }),
    "kl_vae": (E.check_kl_vae, [kl_vae], {
        lambda mu, lv: 0.5 * (1 + lv - mu**2 - lv.exp()).sum(dim=1): "sign",
        lambda mu, lv: -(1 + lv - mu**2 - lv.exp()).sum(dim=1): "factor 2",
        lambda mu, lv: -0.5 * (1 + lv - mu**2 - lv.exp()).sum(): "batch",
        lambda mu, lv: -0.5 * (1 + lv - mu**2 - lv.exp()).mean(dim=1): "mean over the latent",
        lambda mu, lv: -0.5 * (1 + lv - mu**2 - lv.exp()): "per latent dimension",
    }),
    "reparameterise": (E.check_reparameterise, [reparameterise], {
        lambda mu, lv, eps: mu + torch.exp(lv) * eps: "variance",
        lambda mu, lv, eps: (mu + torch.exp(0.5 * lv) * eps).detach(): "gradient",
        lambda mu, lv, eps: mu - torch.exp(0.5 * lv) * eps: "off by",
    }),
    "free_energy": (E.check_free_energy, [free_energy], {
        lambda v, W, b, c: -free_energy(v, W, b, c): "-F(v)",
        lambda v, W, b, c: -F.softplus(v @ W + c).sum(dim=1): "-b^T v",
        lambda v, W, b, c: -(v @ b) - F.softplus(v @ W).sum(dim=1): "bias c",
    }),
    "cd1": (E.check_cd1_gradient, [cd1], {
        lambda *a: tuple(-g for g in cd1(*a)): "sign",
        lambda *a: (cd1(*a)[0].T, *cd1(*a)[1:]): "transposed",
        lambda *a: (cd1(*a)[0] * len(a[0]), *cd1(*a)[1:]): "batch size",
        lambda *a: cd1(*a)[:2]: "three tensors",
    }),
    "langevin": (E.check_langevin_step, [langevin], {
        lambda x, s, eta, z: x + eta * s(x) + math.sqrt(eta) * z: "eta / 2",
        lambda x, s, eta, z: x + eta / 2 * s(x) + eta * z: "sqrt(eta)",
        lambda x, s, eta, z: x + eta / 2 * s(x): "noise",
    }),
    "d_star": (E.check_optimal_discriminator, [d_star], {
        lambda x, md, sd, mg, sg: 1 - d_star(x, md, sd, mg, sg): "1 - D*",
        lambda x, md, sd, mg, sg: (lambda a, b: a / (a + b))(
            torch.exp(-0.5 * ((x - md) / sd) ** 2), torch.exp(-0.5 * ((x - mg) / sg) ** 2)):
            "1 / sigma",
        lambda x, md, sd, mg, sg: d_star(x, md, sd, mg, sg)[None]: "shape",
    }),
    "value": (E.check_value_function, [value], {
        lambda d, pd, pg, x: value(1 - d, pd, pg, x): "swapped",
        lambda d, pd, pg, x: (pd * torch.log(d) + pg * torch.log(1 - d)).sum(): "dx",
        lambda d, pd, pg, x: -value(d, pd, pg, x): "sign",
    }),
    "logit_gradients": (E.check_logit_gradients, [(lambda a: -torch.sigmoid(a),
                                                    lambda a: torch.sigmoid(a) - 1)], {
        (lambda a: torch.sigmoid(a) - 1, lambda a: -torch.sigmoid(a)): "non-saturating",
        (lambda a: torch.sigmoid(a), lambda a: torch.sigmoid(a) - 1): "sign",
        (lambda a: -torch.sigmoid(a), lambda a: -1 / torch.sigmoid(a)): "with respect to d",
    }),
    "noise": (E.check_noise, [lambda n, z, g: 2 * torch.rand(n, z, generator=g) - 1], {
        lambda n, z, generator: torch.rand(n, z, generator=generator): "[0, 1)",
        lambda n, z, generator: torch.randn(n, z, generator=generator): "normal",
        lambda n, z, generator: torch.rand(z, n, generator=generator) * 2 - 1: "transposed",
        lambda n, z, generator: torch.rand(n, z) * 2 - 1: "generator",
    }),
    "discriminator": (E.check_discriminator, [make_disc], {
        lambda i, h: nn.Sequential(nn.Linear(i, h), nn.LeakyReLU(), nn.Dropout(0.5),
                                   nn.Linear(h, h), nn.LeakyReLU(), nn.Dropout(0.5),
                                   nn.Linear(h, 1), nn.Sigmoid()): "bias",
        lambda i, h: make_disc(i, h)[:-1]: "Sigmoid",
        lambda i, h: nn.Sequential(nn.Linear(i, h, bias=False), nn.LeakyReLU(), nn.Dropout(0.5),
                                   nn.Linear(h, 1), nn.Sigmoid()): "Linear layers",
        lambda i, h: nn.Sequential(nn.Linear(i, h, bias=False), nn.LeakyReLU(), nn.Dropout(0.2),
                                   nn.Linear(h, h, bias=False), nn.LeakyReLU(), nn.Dropout(0.2),
                                   nn.Linear(h, 1), nn.Sigmoid()): "Dropout",
    }),
    "discriminator_size": (E.check_discriminator_size, [lambda i, L, h: i * h + (L - 1) * h * h
                                                         + h + 1], {
        lambda i, L, h: i * h + (L - 1) * h * h + h + 1 + L * h: "bias for every hidden layer",
        lambda i, L, h: i * h + (L - 1) * h * h + h: "output layer's bias",
        lambda i, L, h: i * h + h + 1: "hidden-to-hidden",
    }),
    "d_loss": (E.check_d_loss, [d_loss], {
        lambda r, f: (F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
                      + F.binary_cross_entropy_with_logits(f, torch.ones_like(f))):
            "fake batch has the wrong label",
        lambda r, f: d_loss(torch.sigmoid(r), torch.sigmoid(f)): "sigmoid is applied twice",
        lambda r, f: d_loss(r, f) / 2: "mean of the two terms",
        lambda r, f: F.binary_cross_entropy_with_logits(r, torch.ones_like(r), reduction="none"):
            "one loss per image",
    }),
    "g_loss": (E.check_g_loss, [lambda f: F.softplus(-f).mean()], {
        lambda f: -F.softplus(f).mean(): "minimax",
        lambda f: F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)): "label 0",
        lambda f: -F.softplus(-f).mean(): "sign",
    }),
    "losses_at_solution": (E.check_losses_at_solution, [(math.log(4), math.log(2))], {
        (math.log(2), math.log(4)): "swapped",
        (math.log(2), math.log(2)): "two",
        (-math.log(4), math.log(2)): "sign",
        "log 4": "pair",
    }),
    "walk": (E.check_noise_walk, [lambda z0, z1, n: (1 - column(n)) * z0 + column(n) * z1], {
        lambda z0, z1, n: column(n) * z0 + (1 - column(n)) * z1: "backwards",
        lambda z0, z1, n: ((1 - column(n)) * z0 + column(n) * z1).T: "transposed",
        lambda z0, z1, n: (1 - torch.arange(n)[:, None] / n) * z0
                          + torch.arange(n)[:, None] / n * z1:
            "short",
    }),
    "d_accuracy": (E.check_d_accuracy, [lambda r, f: ((r > 0.5).double().mean()
                                                      + (f < 0.5).double().mean()) / 2], {
        lambda r, f: torch.cat([r > 0.5, f < 0.5]).double().mean(): "pools",
        lambda r, f: ((r > 0.5).double().mean() + (f > 0.5).double().mean()) / 2: "< 1/2",
        lambda r, f: (r > 0.5).double().mean(): "real digits only",
    }),
    "mmd2": (E.check_mmd2_unbiased, [mmd2_u], {
        lambda X, Y, h: mmd2_u(X, Y, h) + torch.exp(-torch.cdist(X, Y) ** 2 / (2 * h**2)).mean():
            "factor 2",
        lambda X, Y, h: (torch.exp(-torch.cdist(X, X) ** 2 / (2 * h**2)).mean()
                         + torch.exp(-torch.cdist(Y, Y) ** 2 / (2 * h**2)).mean()
                         - 2 * torch.exp(-torch.cdist(X, Y) ** 2 / (2 * h**2)).mean()): "biased",
        lambda X, Y, h: mmd2_u(X, Y, h / math.sqrt(2)): "no 2",
        lambda X, Y, h: -mmd2_u(X, Y, h): "sign",
    }),
    "permutation_test": (E.check_permutation_test, [perm_test], {
        lambda X, Y, s, p: perm_test(X, Y, s, p, plus_one=False): "+1",
        lambda X, Y, s, p: perm_test(X, Y, s, p, strict=True): ">=",
        lambda X, Y, s, p: (s(X, Y), perm_test(X, Y, s, p)): "p-value only",
    }),
    "alpha_bars": (E.check_alpha_bars, [lambda betas: torch.cumprod(1 - betas, 0)], {
        lambda betas: torch.cumprod(betas, 0): "product of the betas",
        lambda betas: 1 - betas: "running product",
        lambda betas: torch.prod(1 - betas): "single number",
    }),
    "forward_step": (E.check_forward_step, [lambda x, beta, noise: math.sqrt(1 - beta) * x
                                            + math.sqrt(beta) * noise], {
        lambda x, beta, noise: (1 - beta) * x + beta * noise: "variances",
        lambda x, beta, noise: x + math.sqrt(beta) * noise: "shrunk",
        lambda x, beta, noise: math.sqrt(1 - beta) * x + beta * noise: "sqrt(beta)",
    }),
    "q_sample": (E.check_q_sample, [q_sample], {
        lambda x0, t, ab, noise: (per_sample(ab[t], x0) * x0
                                  + (1 - per_sample(ab[t], x0)).sqrt() * noise):
            "not abar_t x_0",
        lambda x0, t, ab, noise: (per_sample(ab[t], x0).sqrt() * x0
                                  + (1 - per_sample(ab[t], x0)) * noise):
            "variance",
        lambda x0, t, ab, noise: ab[t].sqrt() * x0 + (1 - ab[t]).sqrt() * noise: "raised",
        lambda x0, t, ab, noise: q_sample(x0, t - 1, ab, noise): "off by one",
    }),
    "posterior": (E.check_posterior, [posterior], {
        lambda x0, xt, t, b, ab: (posterior(x0, xt, t, b, ab)[0], b[t][:, None]): "beta_t",
        lambda x0, xt, t, b, ab: (posterior(xt, x0, t, b, ab)[0], posterior(x0, xt, t, b, ab)[1]):
            "swapped",
        lambda x0, xt, t, b, ab: posterior(x0, xt, t, b, ab)[0]: "two tensors",
    }),
    "ddim": (E.check_ddim_step, [ddim], {
        lambda x, eps, a_t, a_s, eta, z: ddim(x, eps, a_t, a_s, 0.0, z): "noise",
        lambda x, eps, a_t, a_s, eta, z: (
            ddim(x, eps, a_t, a_s, eta, z)
            - math.sqrt(a_s) * (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
            + math.sqrt(a_s) * (x - math.sqrt(1 - a_t) * eps) / a_t): "divides by abar_t",
        lambda x, eps, a_t, a_s, eta, z: -ddim(x, eps, a_t, a_s, eta, z): "sign",
    }),
    "guidance": (E.check_guidance, [lambda u, c, w: u + w * (c - u)], {
        lambda u, c, w: c + w * (c - u): "(w + 1) convention",
        lambda u, c, w: u + w * (u - c): "wrong way round",
        lambda u, c, w: u - w * (c - u): "wrong way round",
    }),
    "coupling_layer": (E.check_coupling_layer, [coupling, coupling_loop], {
        lambda z, m, s, t: coupling(z, 1 - m, s, t): "wrong way round",
        lambda z, m, s, t: (coupling(z, m, s, t)[0], s.sum(dim=1)): "active sites only",
        lambda z, m, s, t: (coupling(z, m, s, t)[0], ((1 - m) * s.exp()).sum(1)): "not of exp(s)",
        lambda z, m, s, t: (coupling(z, m, s, t)[0], ((1 - m) * s).sum()): "one value per input",
        lambda z, m, s, t: (coupling(z, m, s, t)[0], -((1 - m) * s).sum(dim=1)): "inverse map",
        lambda z, m, s, t: (m * z + (1 - m) * (z * s + t), coupling(z, m, s, t)[1]): "exp(s)",
        lambda z, m, s, t: coupling(z, m, s, t)[1]: "two tensors",
    }),
    "linear_path": (E.check_linear_path, [path], {
        lambda x0, x1, t: path(x1, x0, t): "swapped",
        lambda x0, x1, t: (path(x0, x1, t)[0], x0 - x1): "data to the noise",
        lambda x0, x1, t: (path(x0, x1, t)[0], x1): "data x_1",
        lambda x0, x1, t: ((1 - t) * x0 + t * x1, x1 - x0): "broadcasts",
    }),
    "heun_step": (E.check_heun_step, [heun], {
        euler: "euler step",
        lambda v, x, t, tn: x + (tn - t) * (v(x, torch.full((len(x),), t, dtype=x.dtype))
                                            + v(x, torch.full((len(x),), tn, dtype=x.dtype))) / 2:
            "prediction",
        lambda v, x, t, tn: 2 * heun(v, x, t, tn) - x: "averaged",
        lambda v, x, t, tn: heun(v, x, t, tn) * 1.01: "times the right answer",
    }),
    "velocity_from_eps": (E.check_velocity_from_eps, [lambda xt, eps, t: (xt - eps) / t], {
        lambda xt, eps, t: (xt - (1 - t) * eps) / t: "data estimate",
        lambda xt, eps, t: (eps - xt) / t: "from the data to the noise",
        lambda xt, eps, t: (xt - eps) / (1 - t): "swapped",
        lambda xt, eps, t: -eps / (1 - t): "score",
    }),
    "gradient_penalty": (E.check_gradient_penalty, [gp], {
        lambda c, r, f, e: gp(c, r, f, e, create_graph=False): "create_graph",
        lambda c, r, f, e: gp(c, r, f, e, squared=True): "squared norm",
        lambda c, r, f, e: gp(c, f, r, e): "eps multiplies the real batch",
    }),
    "critic_loss": (E.check_critic_loss, [lambda fr, ff, pen, lam: ff.mean() - fr.mean()
                                          + lam * pen], {
        lambda fr, ff, pen, lam: fr.mean() - ff.mean() + lam * pen: "flipped",
        lambda fr, ff, pen, lam: ff.mean() - fr.mean() + pen: "lambda",
        lambda fr, ff, pen, lam: ff - fr + lam * pen: "single number",
    }),
    "label_planes": (E.check_label_planes, [label_planes, label_planes_loop], {
        lambda x, y: torch.cat([label_planes(x, y)[:, 1:], x], dim=1): "image comes first",
        lambda x, y: label_planes(x, (y + 1) % 10): "no shift by one",
        lambda x, y: F.one_hot(y, 10).float(): "expected (6, 11, 28, 28)",
        lambda x, y: label_planes(x, y)[:, 1:]: "the image *and* ten planes",
        lambda x, y: torch.cat([x, F.pad(F.one_hot(y, 10).float()[:, :, None, None],
                                         (0, 27, 0, 27))], dim=1):
            "must be constant",
    }),
    "class_spread": (E.check_class_spread, [spread], {
        lambda c: spread(c) * math.log(10): "divide by log 10",
        lambda c: float(-((c / c.sum()) * (c / c.sum()).log()).sum() / math.log(10)): "NaN",
        lambda c: -spread(c): "minus",
    }),
    "critical_temperature": (E.check_critical_temperature, [2 / math.log(1 + math.sqrt(2)),
                                                          lambda: 2 / math.log(1 + math.sqrt(2))], {
        math.log(1 + math.sqrt(2)) / 2: "critical coupling",
        1 / math.log(1 + math.sqrt(2)): "factor 2",
        2 / math.log10(1 + math.sqrt(2)): "log10",
        2.3: "expected 2.269",
    }),
    "ising_energy": (E.check_ising_energy, [ising_energy], {
        lambda s: 2 * ising_energy(s): "twice",
        lambda s: -ising_energy(s): "sign",
        lambda s: ising_energy(s, periodic=False): "periodic",
        lambda s: ising_energy(s) * s[0].numel(): "total energy",
    }),
    "binder_cumulant": (E.check_binder_cumulant, [binder], {
        lambda m: 1 - binder(m): "1 -",
        lambda m: 1 - (m ** 4).mean() / (m ** 2).mean() ** 2: "the 3",
        lambda m: 1 - (m ** 4).mean() / (3 * m.abs().mean() ** 4): "|m|",
    }),
    "phi4_action": (E.check_phi4_action, [phi4_action, phi4_action_loops], {
        lambda p, m2, lam: phi4_action(p, m2, lam, half=0.5): "1/2",
        lambda p, m2, lam: phi4_action(p, m2, lam, one_side=True): "x - mu",
        lambda p, m2, lam: phi4_action(p, m2, lam, periodic=False): "periodic",
        lambda p, m2, lam: phi4_action(p, m2, lam) - lam * (p**4).sum(dim=(1, 2))
            + lam * (p**2).sum(dim=(1, 2)): "phi^4",
        lambda p, m2, lam: phi4_action(p, m2, lam).sum(): "single number",
    }),
    "checkerboard_coupling": (E.check_checkerboard_coupling, [board_coupling,
                                                              board_coupling_loop], {
        lambda z, s, t, p: board_coupling(z, s, t, 1 - p): "wrong way round",
        lambda z, s, t, p: board_coupling(z, s, t, p, board=False): "stripes",
        lambda z, s, t, p: board_coupling(z, s, t, p, sign=-1.0): "inverse map",
        lambda z, s, t, p: (board_coupling(z, s, t, p)[0], s.sum(dim=(1, 2))): "move only",
        lambda z, s, t, p: board_coupling(z, s, t, p)[0]: "two tensors",
    }),
    "ess": (E.check_ess, [ess, lambda lw: torch.exp(2 * torch.logsumexp(lw, 0)
                                                    - torch.logsumexp(2 * lw, 0)) / len(lw)], {
        lambda lw: torch.exp(lw).sum() ** 2 / (len(lw) * (torch.exp(lw) ** 2).sum()): "underflow",
        lambda lw: ess(lw) * len(lw): "divide by N",
        lambda lw: 1 / ess(lw): "upside down",
        lambda lw: lw.sum() ** 2 / (len(lw) * (lw**2).sum()): "exp(log_w)",
    }),
}


# exercises whose answer is a value, not a function
VALUES = {"losses_at_solution", "critical_temperature"}


def _n_args(answer) -> int:
    """How many answers a checker takes: a tuple of functions is several, a tuple of numbers one."""
    return len(answer) if isinstance(answer, tuple) and not isinstance(answer[0], float) else 1


def _check(checker, answer) -> Verdict:
    several = isinstance(answer, tuple) and not isinstance(answer[0], float)
    return checker(*answer) if several else checker(answer)


@pytest.mark.parametrize("name", sorted(CASES))
def test_checker_accepts_the_right_answers(name, capsys):
    checker, rights, _ = CASES[name]
    for right in rights:
        verdict = _check(checker, right)
        assert verdict.status == E.CORRECT, str(verdict)
        assert verdict.ok and bool(verdict)
        assert capsys.readouterr().out.startswith("correct: ")


@pytest.mark.parametrize("name", sorted(CASES))
def test_checker_rejects_plausible_mistakes(name, capsys):
    checker, _, wrongs = CASES[name]
    assert len(wrongs) >= 2
    for wrong, word in wrongs.items():
        verdict = _check(checker, wrong)
        assert verdict.status == E.WRONG, f"{name}: {verdict}"
        assert word.lower() in verdict.message.lower(), f"{name}: expected {word!r} in: {verdict}"
        assert capsys.readouterr().out.startswith("wrong: ")


@pytest.mark.parametrize("name", sorted(CASES))
def test_checker_says_not_yet_for_the_placeholder(name, capsys):
    checker, rights, _ = CASES[name]
    n_args = _n_args(rights[0])
    blanks = (..., None) if name in VALUES else (..., None, placeholder)
    for blank in blanks:
        verdict = checker(*(blank,) * n_args)
        assert verdict.status == E.NOT_YET, f"{name}: {verdict}"
        assert capsys.readouterr().out.startswith("not yet: ")


@pytest.mark.parametrize("name", sorted(CASES))
def test_checker_never_raises_on_student_errors(name, capsys):
    checker, rights, _ = CASES[name]
    n_args = _n_args(rights[0])
    for bad in (raises, "a string", 42, lambda *a: "not a number",
                lambda *a: torch.full((3, 3), float("nan"))):
        verdict = checker(*([bad] * n_args))
        assert verdict.status in (E.WRONG, E.NOT_YET), f"{name}: {verdict}"
        assert "\n" not in str(verdict)
    verdict = checker(*([raises] * n_args))
    if name != "losses_at_solution":  # a value, not a function
        assert "ZeroDivisionError: student code went wrong" in verdict.message


def test_checks_leave_the_global_random_state_alone():
    state = torch.random.get_rng_state()
    E.check_discriminator(make_disc)  # initialising layers draws from the global generator
    E.check_discriminator_size(lambda i, L, h: i * h + (L - 1) * h * h + h + 1)  # the reference's
    E.check_noise(lambda n, z, g: 2 * torch.rand(n, z) - 1)  # so does ignoring the generator
    assert torch.equal(torch.random.get_rng_state(), state)


def test_expectation_variable_makes_a_mismatch_fail(monkeypatch):
    monkeypatch.setenv(EXPECT_ENV, "correct")
    assert E.check_g_loss(lambda f: F.softplus(-f).mean()).ok
    with pytest.raises(AssertionError, match="not yet"):
        E.check_g_loss(...)
    monkeypatch.setenv(EXPECT_ENV, "not yet")
    E.check_g_loss(placeholder)
    with pytest.raises(AssertionError, match="correct"):
        E.check_g_loss(lambda f: F.softplus(-f).mean())


def test_every_check_is_exported_and_listed():
    listed = [c for checks in E.CHECKS.values() for c in checks]
    exported = {getattr(E, n) for n in E.__all__ if n.startswith("check_")}
    assert set(listed) == exported and len(listed) == len(exported)
    assert all(2 <= len(checks) <= 4 for checks in E.CHECKS.values())
    tested = {CASES[name][0] for name in CASES}
    assert tested == exported, "every checker needs its cases in this file"


# --- the references: the package's function, or checked against independent numbers ------------
# Each answer below is "correct" only if the checker's reference agrees with it to the checker's
# own tolerance. LIBRARY: answers that only call the package's function, with its inputs built
# from the exercise's; the checker calls the same function, so notebook, library and checker
# cannot disagree. INDEPENDENT: for the references the checkers write out (the package has no
# such function), answers computed another way: a brute-force sum, autograd, torch's or SciPy's
# own functions, the definition in other terms.


def _rbm(W, b, c):
    rbm = R.RBM(*W.shape).to(W.dtype).requires_grad_(False)
    for param, value in ((rbm.W, W), (rbm.b, b), (rbm.c, c)):
        param.copy_(value)
    return rbm


def package_cd1(v0, W, b, c, u_h, u_v):
    rbm = _rbm(W, b, c)
    h0 = (u_h < R.hidden_probs(rbm, v0)).to(v0.dtype)
    v1 = (u_v < R.visible_probs(rbm, h0)).to(v0.dtype)
    grad = R.contrastive_gradient(rbm, v0, v1)
    return grad["W"], grad["b"], grad["c"]


def package_size(input_size, layers, hidden):
    with torch.random.fork_rng(devices=[]):
        network = make_discriminator_network(input_size, layers, hidden)
    return sum(p.numel() for p in network.parameters())


def package_p_value(X, Y, statistic, perms):
    Z, n = torch.cat([X, Y]), len(X)
    null = torch.tensor([statistic(Z[p[:n]], Z[p[n:]]) for p in perms])
    return permutation_p_value(statistic(X, Y), null)


def package_q_sample(x0, t, alpha_bars, noise):
    alphas = alpha_bars / torch.cat([torch.ones(1, dtype=alpha_bars.dtype), alpha_bars[:-1]])
    return forward.q_sample(x0, t, Schedule(1 - alphas, alphas, alpha_bars), noise=noise)


class _GivenScaleShift(nn.Module):
    def __init__(self, s, t):
        super().__init__()
        self.s, self.t = s, t

    def forward(self, frozen):
        return torch.cat([self.s, self.t], dim=1)


def package_board_coupling(z, s, t, parity):
    """flows.AffineCoupling on the package's checkerboard mask, its conditioner giving (s, t)."""
    mask = checkerboard_mask(z.shape[-2:], parity)
    layer = AffineCoupling(mask, _GivenScaleShift(s[:, None], t[:, None])).double()
    x, log_det = layer(z[:, None])
    return x[:, 0], log_det


def package_forward_step(x, beta, noise):
    one_step = Schedule.from_betas(torch.tensor([beta], dtype=x.dtype))
    return forward.q_sample(x, torch.zeros(len(x), dtype=torch.long), one_step, noise=noise)


class GivenScaleShift(nn.Module):
    """A coupling's conditioner that returns the exercise's (s, t), whatever it is shown."""

    def __init__(self, s, t):
        super().__init__()
        self.s, self.t = s, t

    def forward(self, frozen):
        return torch.cat([self.s, self.t], dim=1)


def package_coupling(z, mask, s, t):
    return AffineCoupling(mask, GivenScaleShift(s, t)).to(z.dtype)(z)


LIBRARY = {
    "kl_normal": package_kl_normal,
    "kl_vae": kl_diag_normal_standard,
    "reparameterise": reparameterize,
    "free_energy": lambda v, W, b, c: R.free_energy(_rbm(W, b, c), v),
    "cd1": package_cd1,
    "langevin": lambda x, score, eta, z: langevin_step(score, x, eta, z),
    "d_star": lambda x, md, sd, mg, sg: optimal_discriminator(normal_pdf(x, md, sd),
                                                              normal_pdf(x, mg, sg)),
    "value": value_function,
    "discriminator_size": package_size,
    "mmd2": lambda X, Y, h: mmd2(X, Y, bandwidth=h, estimator="unbiased", dtype=torch.float64),
    "permutation_test": package_p_value,
    "alpha_bars": lambda betas: Schedule.from_betas(betas).alpha_bars,
    "forward_step": package_forward_step,
    "q_sample": package_q_sample,
    "posterior": lambda x0, xt, t, b, ab: forward.posterior_mean_variance(x0, xt, t,
                                                                          Schedule(b, 1 - b, ab)),
    "ddim": lambda x, eps, a_t, a_s, eta, z: ddim_step(x, eps, a_t, a_s, eta, z),
    "gradient_penalty": lambda critic, real, fake, eps: gradient_penalty(critic, real, fake,
                                                                         eps=eps),
    "label_planes": package_label_planes,
    "class_spread": class_spread,
    "coupling_layer": package_coupling,
    "linear_path": lambda x0, x1, t: (linear_path(x0, x1, t), target_velocity(x0, x1)),
    "heun_step": heun_step,
    "velocity_from_eps": lambda xt, eps, t: velocity_from_eps(xt, eps,
                                                              *linear_path_coefficients(t)),
    "phi4_action": phi4.action,
    "checkerboard_coupling": package_board_coupling,
    "ess": effective_sample_size,
}


def _autograd(loss):
    """d loss(l) / dl for each logit l, by autograd."""
    def grad(logit):
        logit = logit.detach().clone().requires_grad_(True)
        return torch.autograd.grad(loss(logit).sum(), logit)[0]
    return grad


def two_lecture_blocks(input_size, hidden):
    """The lecture's hidden block (Linear without bias, LeakyReLU, Dropout) twice, then its
    output layer."""
    first = make_discriminator_network(input_size, 1, hidden)
    second = make_discriminator_network(hidden, 1, hidden)
    return nn.Sequential(*first[:3], *second[:3], nn.Linear(hidden, 1), nn.Sigmoid())


def balanced_accuracy(d_real, d_fake):
    """The mean recall of the two classes, read off the confusion matrix (rows: the true class)."""
    truth = torch.cat([torch.ones(len(d_real)), torch.zeros(len(d_fake))]).long()
    said = (torch.cat([d_real, d_fake]) > 0.5).long()
    confusion = torch.bincount(2 * truth + said, minlength=4).reshape(2, 2).double()
    return (confusion.diagonal() / confusion.sum(dim=1)).mean()


class TwoPredictions(nn.Module):
    """A stand-in noise predictor: channel 1 of x when told a label, channel 0 without one."""

    def forward(self, x, t, labels=None):
        told = torch.zeros(len(x), dtype=torch.bool) if labels is None else labels >= 0
        return torch.where(told[:, None, None, None], x[:, 1:], x[:, :1])


def guided_by_the_sampler(eps_u, eps_c, w):
    both, steps = torch.cat([eps_u, eps_c], dim=1), torch.zeros(len(eps_u), dtype=torch.long)
    return guided_eps(TwoPredictions(), both, steps, labels=steps, guidance=w)


def ising_energy_loops(s):
    """Brute force: each site's right and lower neighbour (periodic), one bond at a time."""
    n, L, _ = s.shape
    e = torch.zeros(n, dtype=torch.float64)
    for i in range(L):
        for j in range(L):
            e -= s[:, i, j] * (s[:, (i + 1) % L, j] + s[:, i, (j + 1) % L])
    return e / (L * L)


def binder_from_kurtosis(m):
    """The symmetrised sample (m, -m) has mean 0 and the even moments of m, so
    U4 = 1 - kurtosis / 3 (SciPy's kurtosis, from central moments)."""
    symmetric = torch.cat([m, -m]).numpy()
    return 1 - stats.kurtosis(symmetric, fisher=False, bias=True) / 3


INDEPENDENT = {
    "logit_gradients": (_autograd(lambda logit: F.logsigmoid(-logit)),  # log(1 - sigmoid(logit))
                        _autograd(lambda logit: -F.logsigmoid(logit))),
    "noise": lambda n, z, generator: torch.empty(n, z).uniform_(-1, 1, generator=generator),
    "discriminator": two_lecture_blocks,
    "d_loss": lambda r, f: -(torch.sigmoid(r).log().mean() + (1 - torch.sigmoid(f)).log().mean()),
    "g_loss": lambda f: -torch.sigmoid(f).log().mean(),
    "losses_at_solution": (
        float(F.binary_cross_entropy(torch.tensor(0.5), torch.tensor(1.0))
              + F.binary_cross_entropy(torch.tensor(0.5), torch.tensor(0.0))),
        float(F.binary_cross_entropy(torch.tensor(0.5), torch.tensor(1.0)))),
    "walk": lambda z0, z1, n: torch.lerp(z0, z1, torch.linspace(0, 1, n, dtype=z0.dtype)[:, None]),
    "d_accuracy": balanced_accuracy,
    "critic_loss": lambda fr, ff, pen, lam: (statistics.fmean(ff.reshape(-1).tolist())
                                             - statistics.fmean(fr.reshape(-1).tolist())
                                             + lam * float(pen)),
    "guidance": guided_by_the_sampler,
    "critical_temperature": optimize.brentq(lambda T: math.sinh(2 / T) - 1, 1.0, 4.0, xtol=1e-14),
    "ising_energy": ising_energy_loops,
    "binder_cumulant": binder_from_kurtosis,
}


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_checker_accepts_the_package_function(name):
    verdict = _check(CASES[name][0], LIBRARY[name])
    assert verdict.status == E.CORRECT, str(verdict)


@pytest.mark.parametrize("name", sorted(INDEPENDENT))
def test_written_out_reference_agrees_with_independent_numbers(name):
    verdict = _check(CASES[name][0], INDEPENDENT[name])
    assert verdict.status == E.CORRECT, str(verdict)


def test_every_reference_is_the_package_function_or_checked_independently():
    assert not set(LIBRARY) & set(INDEPENDENT)
    missing = set(CASES) - set(LIBRARY) - set(INDEPENDENT)
    assert not missing, f"add {sorted(missing)} to LIBRARY or INDEPENDENT"
    assert set(LIBRARY) | set(INDEPENDENT) <= set(CASES)
