# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 00 · KL divergence and the variational autoencoder
#
# **What this notebook teaches.** The Kullback-Leibler divergence (definition, non-negativity,
# asymmetry, Gaussian closed form checked by Monte Carlo, forward vs reverse KL), the
# Jensen-Shannon divergence behind GANs, and the VAE: the ELBO, the reparameterisation trick, the
# closed-form KL term, and an MLP VAE trained on MNIST whose samples are scored like the GAN's.
#
# **Run time.** About 20 s on a laptop CPU with the shipped models; `COURSE_TRAIN=1` (train them
# here): ~30 s.

# %% slideshow={"slide_type": "skip"}
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from course_utils import get_profile, models, seed_everything
from course_utils.data import load_mnist, split_of
from course_utils.paths import artifacts_dir
from course_utils.summary import vae as V
from course_utils.summary.divergences import (
    fit_gaussian_kl,
    js_discrete,
    kl_diag_normal_standard,
    kl_discrete,
    kl_monte_carlo,
    kl_normal,
    mixture_log_prob,
)

P = get_profile()
seed_everything(0)
print(P, "| VAE epochs:", P.vae_epochs, "| MC samples:", P.kl_mc_samples)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. KL divergence
# $$\mathrm{KL}(p\,\|\,q)=\mathbb E_{p}\!\left[\log\frac{p(x)}{q(x)}\right]\ \ge 0,$$
# by Jensen: $-\mathrm{KL}=\mathbb E_p[\log q/p]\le\log\mathbb E_p[q/p]=\log 1=0$, with equality
# only for $p=q$. It is **not symmetric**. For two Gaussians
# $$\mathrm{KL}(\mathcal N(\mu_1,\sigma_1^2)\,\|\,\mathcal N(\mu_2,\sigma_2^2))=
# \log\frac{\sigma_2}{\sigma_1}+\frac{\sigma_1^2+(\mu_1-\mu_2)^2}{2\sigma_2^2}-\frac12 .$$

# %% slideshow={"slide_type": "fragment"}
gen = torch.Generator().manual_seed(0)
x = 0.0 + 1.0 * torch.randn(P.kl_mc_samples, generator=gen, dtype=torch.float64)
normal = lambda m, s: (lambda t: torch.distributions.Normal(m, s).log_prob(t))  # noqa: E731
mc, se = kl_monte_carlo(x, normal(0.0, 1.0), normal(1.0, 2.0))
exact = float(kl_normal(0.0, 1.0, 1.0, 2.0))
print(f"closed form {exact:.4f} nats, Monte Carlo {mc:.4f} +- {se:.4f}; reverse KL "
      f"{float(kl_normal(1.0, 2.0, 0.0, 1.0)):.4f}")
assert abs(mc - exact) < 4 * se, "Monte Carlo agrees with the closed form"
assert float(kl_normal(1.0, 2.0, 0.0, 1.0)) != exact, "KL is not symmetric"

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Non-negative and asymmetric, over many random pairs
# 10,000 random pairs of Gaussians $p=\mathcal N(\mu_1,\sigma_1^2)$,
# $q=\mathcal N(\mu_2,\sigma_2^2)$ and 2,000 random pairs of distributions on five points (drawn
# from a flat Dirichlet): every KL is $\ge0$, and $\mathrm{KL}(p\|q)\ne\mathrm{KL}(q\|p)$: the
# points scatter on both sides of the diagonal.

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
mu1, mu2 = 3 * torch.randn(2, 10_000, generator=gen, dtype=torch.float64)
s1, s2 = torch.exp(torch.randn(2, 10_000, generator=gen, dtype=torch.float64))
forward, reverse = kl_normal(mu1, s1, mu2, s2), kl_normal(mu2, s2, mu1, s1)
dirichlet = torch.distributions.Dirichlet(torch.ones(5, dtype=torch.float64))
pairs = zip(dirichlet.sample((2_000,)), dirichlet.sample((2_000,)), strict=True)
discrete = torch.tensor([kl_discrete(p, q) for p, q in pairs])
plt.loglog(forward, reverse, ".", ms=2, alpha=0.3)
plt.loglog([1e-4, 1e4], [1e-4, 1e4], "k--", lw=1)
plt.xlabel("KL(p || q)")
plt.ylabel("KL(q || p)")
plt.title("random pairs of Gaussians")
plt.show()

# %% slideshow={"slide_type": "fragment"}
print(f"smallest KL: Gaussians {float(torch.minimum(forward, reverse).min()):.2e}, discrete "
      f"{float(discrete.min()):.2e}")
print("median |KL(p||q) - KL(q||p)| / KL(p||q): "
      f"{float(((forward - reverse).abs() / forward).median()):.2f}")
assert float(torch.minimum(forward, reverse).min()) >= 0, "KL >= 0 (Jensen)"
assert float(discrete.min()) >= 0, "KL >= 0 (Jensen)"
assert float((forward - reverse).abs().median()) > 0, "KL is not symmetric"

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · The KL of two Gaussians, in closed form
# Write the formula above as a function of the two means and the two **standard deviations**:
# $$\mathrm{KL}(\mathcal N(\mu_1,\sigma_1^2)\,\|\,\mathcal N(\mu_2,\sigma_2^2))=
# \log\frac{\sigma_2}{\sigma_1}+\frac{\sigma_1^2+(\mu_1-\mu_2)^2}{2\sigma_2^2}-\frac12 .$$
# Replace `...` by your code and run the check: it tries your function on its own random pairs of
# Gaussians and says what is wrong, if anything. (With `torch.log` it also works on whole tensors.)

# %% tags=["exercise"]
import torch


def my_kl_normal(mu1, s1, mu2, s2):
    """KL(N(mu1, s1^2) || N(mu2, s2^2)) in nats."""
    ...  # your code here

# %% tags=["solution"]
def my_kl_normal(mu1, s1, mu2, s2):
    """KL(N(mu1, s1^2) || N(mu2, s2^2)) in nats."""
    return torch.log(torch.as_tensor(s2 / s1)) + (s1**2 + (mu1 - mu2) ** 2) / (2 * s2**2) - 0.5

# %% tags=["check"]
from course_utils.exercises import check_kl_normal

check_kl_normal(my_kl_normal);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Forward vs reverse KL: mode covering vs mode seeking
# Fit one Gaussian $q$ to a bimodal $p$. Forward $\mathrm{KL}(p\|q)$ punishes $q$ for missing mass
# of $p$ (its optimum matches the mean and variance of $p$); reverse $\mathrm{KL}(q\|p)$ punishes
# $q$ for mass where $p$ is small, so $q$ picks one mode.

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
w, m, s = torch.tensor([0.5, 0.5]), torch.tensor([-3.0, 3.0]), torch.tensor([0.7, 0.7])
grid = torch.linspace(-10, 10, 2001, dtype=torch.float64)
log_p = lambda t: mixture_log_prob(t, w, m, s)  # noqa: E731
fits = {d: fit_gaussian_kl(log_p, grid, d, steps=800) for d in ("forward", "reverse")}
plt.plot(grid, log_p(grid).exp(), "k", label="target p")
for d, (mu, sd) in fits.items():
    plt.plot(grid, torch.distributions.Normal(mu, sd).log_prob(grid).exp(),
             label=f"{d} KL: mu={mu:.2f}, sigma={sd:.2f}")
plt.legend()
plt.show()
assert abs(fits["forward"][1] - math.sqrt(0.49 + 9)) < 0.2, "forward KL matches the variance of p"
assert abs(abs(fits["reverse"][0]) - 3) < 0.2, "reverse KL sits on one mode"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Jensen-Shannon divergence and the GAN
# $\mathrm{JS}(p\|q)=\tfrac12\mathrm{KL}(p\|m)+\tfrac12\mathrm{KL}(q\|m)$, $m=\tfrac{p+q}2$;
# symmetric and $0\le\mathrm{JS}\le\log 2$ **in nats** (the bound is 1 only with $\log_2$). At the
# optimal discriminator the GAN value is $L(G,D^*)=2\,\mathrm{JS}(p_{data}\|p_g)-2\log 2$ (notebook
# 01).

# %% slideshow={"slide_type": "fragment"}
p_, q_ = torch.tensor([0.5, 0.5, 0.0, 0.0]), torch.tensor([0.0, 0.0, 0.5, 0.5])
print(f"JS of disjoint distributions = {js_discrete(p_, q_):.4f} = log 2 = {math.log(2):.4f}")
assert abs(js_discrete(p_, q_) - math.log(2)) < 1e-12

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The VAE and its ELBO
# For any encoder $q(\mathbf h|\mathbf x)$:
# $$\log p(\mathbf x)=\mathrm{ELBO}(\mathbf x)+
# \mathrm{KL}(q(\mathbf h|\mathbf x)\,\|\,p(\mathbf h|\mathbf x))$$
# with
# $$\mathrm{ELBO}=\mathbb E_q[\log p(\mathbf x|\mathbf h)]-
# \mathrm{KL}(q(\mathbf h|\mathbf x)\,\|\,p(\mathbf h)),$$
# so the ELBO is a lower bound. Reparameterisation:
# $\mathbf h=\boldsymbol\mu+\boldsymbol\sigma\odot\boldsymbol\epsilon$,
# $\boldsymbol\epsilon\sim\mathcal N(0,I)$, so gradients flow through $\mu,\sigma$. The KL term is
# closed form: $-\tfrac12\sum_j(1+\log\sigma_j^2-\mu_j^2-\sigma_j^2)$. Check it against the
# univariate formula:

# %% slideshow={"slide_type": "fragment"}
mu_ = torch.tensor([[0.5, -1.0]], dtype=torch.float64)
logvar_ = torch.tensor([[0.3, -0.2]], dtype=torch.float64)
by_sum = sum(float(kl_normal(a, math.exp(b / 2), 0, 1))
             for a, b in zip(mu_[0].tolist(), logvar_[0].tolist(), strict=True))
assert abs(float(kl_diag_normal_standard(mu_, logvar_)[0]) - by_sum) < 1e-12

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The identity $\log p(x)=\mathrm{ELBO}+\mathrm{KL}(q\,\|\,p(h|x))$, checked in closed form
# A linear-Gaussian latent model: $h\sim\mathcal N(0,1)$, $x\mid h\sim\mathcal N(wh+b,s^2)$. Then
# $p(x)=\mathcal N(x;b,w^2+s^2)$ and, by Bayes,
# $p(h|x)=\mathcal N\big(\tfrac{w(x-b)}{w^2+s^2},\tfrac{s^2}{w^2+s^2}\big)$. For an arbitrary
# Gaussian $q(h)$ we compute the ELBO twice: in closed form (`V.linear_gaussian_elbo`) and by Monte
# Carlo with the reparameterisation $h=\mu_q+\sigma_q\epsilon$, as
# $\mathbb E_q[\log p(x,h)-\log q(h)]$.

# %% slideshow={"slide_type": "fragment"}
x_obs, w_, b_, s_ = 1.3, 0.8, -0.2, 0.5
q_mean, q_std = 0.2, 0.9  # any q will do
log_px = float(V.linear_gaussian_log_evidence(x_obs, w_, b_, s_))
post_mean, post_std = V.linear_gaussian_posterior(x_obs, w_, b_, s_)
elbo = float(V.linear_gaussian_elbo(x_obs, w_, b_, s_, q_mean, q_std))
gap = float(kl_normal(q_mean, q_std, post_mean, post_std))
print(f"log p(x) = {log_px:.6f};  ELBO + KL(q || p(h|x)) = {elbo:.6f} + {gap:.6f} = "
      f"{elbo + gap:.6f}")
assert abs(log_px - (elbo + gap)) < 1e-12, "log p(x) = ELBO + KL(q || p(h|x))"

# %% slideshow={"slide_type": "fragment"}
N = torch.distributions.Normal
# reparameterised
h = q_mean + q_std * torch.randn(P.kl_mc_samples, generator=gen, dtype=torch.float64)
log_joint = (N(w_ * h + b_, s_).log_prob(torch.tensor(x_obs, dtype=torch.float64))
             + N(0.0, 1.0).log_prob(h))
terms = log_joint - N(q_mean, q_std).log_prob(h)  # log p(x, h) - log q(h)
elbo_mc, elbo_se = float(terms.mean()), float(terms.std()) / math.sqrt(len(terms))
print(f"Monte Carlo ELBO {elbo_mc:.4f} +- {elbo_se:.4f} (closed form {elbo:.4f})")
assert abs(elbo_mc - elbo) < 4 * elbo_se, "the Monte Carlo ELBO agrees with the closed form"

# %% [markdown] slideshow={"slide_type": "subslide"}
# Moving $q$'s mean: the ELBO stays below $\log p(x)$, the gap is exactly the KL to the posterior,
# and it closes only at $q=p(h|x)$, where the bound is tight.

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
means = torch.linspace(-2, 2, 201, dtype=torch.float64)
elbos = V.linear_gaussian_elbo(x_obs, w_, b_, s_, means, post_std)
plt.plot(means, elbos, label="ELBO(q), q = N(mean, posterior variance)")
plt.axhline(log_px, color="k", ls="--", label="log p(x)")
plt.axvline(float(post_mean), color="gray", lw=1)
plt.xlabel("mean of q")
plt.ylabel("nats")
plt.legend()
plt.show()
kl_to_posterior = kl_normal(means, post_std, post_mean, post_std)
assert torch.allclose(elbos + kl_to_posterior, torch.full_like(means, log_px),
                      atol=1e-12), "gap = KL"
at_posterior = float(V.linear_gaussian_elbo(x_obs, w_, b_, s_, post_mean, post_std))
assert abs(at_posterior - log_px) < 1e-12, "the bound is tight at q = p(h|x)"

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · The VAE's KL term
# The encoder returns, for each image, a mean $\boldsymbol\mu$ and a **log-variance**
# $\log\boldsymbol\sigma^2$ (`logvar`), both of shape $(N, J)$. Write the KL term of the ELBO, one
# number per image (shape $(N,)$):
# $$\mathrm{KL}\big(\mathcal N(\boldsymbol\mu,\mathrm{diag}\,\boldsymbol\sigma^2)\,\|\,
# \mathcal N(0,I)\big)=-\frac12\sum_{j=1}^J\big(1+\log\sigma_j^2-\mu_j^2-\sigma_j^2\big).$$

# %% tags=["exercise"]
import torch


def my_kl_vae(mu, logvar):
    """KL(N(mu, diag exp(logvar)) || N(0, I)) for each row: (N, J), (N, J) -> (N,)."""
    ...  # your code here

# %% tags=["solution"]
def my_kl_vae(mu, logvar):
    """KL(N(mu, diag exp(logvar)) || N(0, I)) for each row: (N, J), (N, J) -> (N,)."""
    return -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(dim=-1)

# %% tags=["check"]
from course_utils.exercises import check_kl_vae

check_kl_vae(my_kl_vae);

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 · The reparameterisation trick
# Draw $\mathbf h\sim\mathcal N(\boldsymbol\mu,\mathrm{diag}\,\boldsymbol\sigma^2)$ as a
# differentiable function of $\boldsymbol\mu$ and `logvar` $=\log\boldsymbol\sigma^2$, given
# standard normal noise $\boldsymbol\epsilon$:
# $\mathbf h=\boldsymbol\mu+\boldsymbol\sigma\odot\boldsymbol\epsilon$. Which power of
# $e^{\text{logvar}}$ is $\boldsymbol\sigma$? The check also makes sure that gradients flow back to
# `mu` and `logvar`.

# %% tags=["exercise"]
import torch


def my_reparameterise(mu, logvar, eps):
    """h = mu + sigma * eps, with sigma from logvar = log sigma^2; all of shape (N, J)."""
    ...  # your code here

# %% tags=["solution"]
def my_reparameterise(mu, logvar, eps):
    """h = mu + sigma * eps, with sigma from logvar = log sigma^2; all of shape (N, J)."""
    return mu + torch.exp(0.5 * logvar) * eps

# %% tags=["check"]
from course_utils.exercises import check_reparameterise

check_reparameterise(my_reparameterise);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Train an MLP VAE (784-400-20) on MNIST

# %% slideshow={"slide_type": "fragment"}
# 784-400-20, Adam 1e-3, batch 128, the profile's epochs and digits
config = models.recipe("vae", P)
train_x, train_y = split_of(load_mnist(n=config.n_train))
test_x, test_y = split_of(load_mnist(train=False))


def train_the_vae():
    model = V.build_vae(config, "cpu")
    return models.wrap(model, config,
                       V.train_vae(model, train_x, config, "cpu", test_images=test_x))


# a shipped checkpoint if one serves this profile (COURSE_TRAIN=1: train)
from course_utils import pretrained

vae = pretrained.load_or_train("vae", train_the_vae, "cpu")
model, config, history = vae.model, vae.config, vae.history
print(f"-ELBO {history['loss'][-1]:.1f} nats (recon {history['recon'][-1]:.1f} + KL "
      f"{history['kl'][-1]:.1f}); test {history['test_loss'][-1]:.1f}; {config.epochs} epochs, "
      f"{history['train_seconds']:.1f} s")
ckpt = models.save(artifacts_dir() / P.name / "vae.pt", vae)  # one format for every model
assert history["loss"][-1] < history["loss"][0], "training raised the ELBO"

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### What these "nats" are
# The decoder's loss is the Bernoulli cross-entropy (BCE) on **grey** pixels (intensities in
# $[0,1]$, not $0/1$). On such targets $e^{-\mathrm{BCE}(x,\lambda)}=\lambda^x(1-\lambda)^{1-x}$ is
# not a normalised density on $[0,1]$ (the continuous Bernoulli of Loaiza-Ganem & Cunningham 2019
# adds the missing constant), and even a perfect reconstruction pays the pixels' entropy. So the
# numbers above are comparable between runs of this code, **not** a true log-likelihood
# $\log p(\mathbf x)$.

# %% slideshow={"slide_type": "fragment"}
xs, lam = torch.linspace(0, 1, 1001), torch.tensor([[0.1], [0.5], [0.9]])
# the integral of exp(-BCE(x, lambda)) over x in [0, 1]
mass = torch.trapezoid(lam**xs * (1 - lam) ** (1 - xs), xs)
targets = (train_x.reshape(len(train_x), -1) + 1) / 2
floor = float(F.binary_cross_entropy(targets, targets, reduction="none").sum(1).mean())
print("int_0^1 exp(-BCE(x, lambda)) dx for lambda = 0.1, 0.5, 0.9: "
      f"{[round(v, 3) for v in mass.tolist()]} (not 1)")
print(f"BCE of a perfect reconstruction of the training digits: {floor:.1f} nats per image (not 0)")
assert bool((mass < 1).all()) and floor > 0

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots(1, 2, figsize=(9, 3))
ax[0].plot(history["recon"])
ax[0].set_title("reconstruction term -E_q[log p(x|h)]")
ax[0].axhline(floor, color="k", ls="--", label="BCE of a perfect reconstruction")
ax[0].legend()
ax[1].plot(history["kl"])
ax[1].set_title("KL(q(h|x) || p(h))")
for a in ax:
    a.set_xlabel("epoch")
plt.show()

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
recon = V.reconstruct(model, test_x[:8])
samples = V.sample_vae(model, 16, "cpu", seed=0)
fig, ax = plt.subplots(3, 8, figsize=(8, 3))
for i in range(8):
    for row, images in enumerate((test_x, recon, samples)):
        ax[row, i].imshow(images[i, 0], cmap="gray", vmin=-1, vmax=1)
for a in ax.flat:
    a.axis("off")
plt.suptitle("test digits / reconstructions / samples")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### A 2-D latent space
# A second VAE with a 2-D latent space shows where the encoder puts each digit.

# %% slideshow={"slide_type": "fragment"}
config2 = V.vae_config(latent_dim=2, epochs=P.vae_2d_epochs)
model2 = V.build_vae(config2, "cpu")
V.train_vae(model2, train_x, config2, "cpu")
z = V.encode_mean(model2, test_x)
plt.scatter(z[:, 0], z[:, 1], c=test_y, cmap="tab10", s=4)
plt.colorbar(label="digit")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Scores beside the GAN (same numbers as the scoreboard; lower MMD/FD is better)

# %% slideshow={"slide_type": "fragment"}
from course_utils.scoreboard import score_images  # noqa: E402

n = min(P.vae_n_score, len(test_x))
scores = {"VAE": score_images(V.sample_vae(model, n, "cpu", seed=1), test_x[:n], device="cpu")}
gan_path = artifacts_dir() / P.name / "mlp-gan.pt"
if gan_path.is_file():
    fake = models.load(gan_path, "cpu").sample(n, "cpu", seed=1)
    scores["MLP GAN"] = score_images(fake, test_x[:n], device="cpu")
for name, sc in scores.items():
    print(f"{name:8s} MMD2(features) {sc['mmd2_features']:.4f}  FD {sc['fd_features']:.2f}  "
          f"confidence {sc['confidence']:.3f}  class spread {sc['class_spread']:.3f}")
