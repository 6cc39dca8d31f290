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

# %% [markdown]
# # 00 · KL divergence and the variational autoencoder
#
# **What this notebook teaches.** The Kullback-Leibler divergence (definition, non-negativity,
# asymmetry, Gaussian closed form checked by Monte Carlo, forward vs reverse KL), the
# Jensen-Shannon divergence behind GANs, and the VAE: the ELBO, the reparameterisation trick, the
# closed-form KL term, and an MLP VAE trained on MNIST whose samples are scored like the GAN's.
#
# **Run time.** `smoke`: ~20 s · `laptop` (default): ~1-2 min · `full`: a few minutes (CPU).

# %%
import math
import warnings

import matplotlib.pyplot as plt
import torch

from course_utils import get_profile, seed_everything
from course_utils.data import MnistFallbackWarning, load_mnist, split_of
from course_utils.divergences import (fit_gaussian_kl, js_discrete, kl_diag_normal_standard, kl_monte_carlo,
                                      kl_normal, mixture_log_prob)
from course_utils.paths import artifacts_dir
from course_utils import vae as V

warnings.simplefilter("ignore", MnistFallbackWarning)
P = get_profile()
seed_everything(0)
print(P, "| VAE epochs:", P.vae_epochs, "| MC samples:", P.kl_mc_samples)

# %% [markdown]
# ## 1. KL divergence
# $$\mathrm{KL}(p\,\|\,q)=\mathbb E_{p}\!\left[\log\frac{p(x)}{q(x)}\right]\ \ge 0,$$
# by Jensen: $-\mathrm{KL}=\mathbb E_p[\log q/p]\le\log\mathbb E_p[q/p]=\log 1=0$, with equality
# only for $p=q$. It is **not symmetric**. For two Gaussians
# $$\mathrm{KL}(\mathcal N(\mu_1,\sigma_1^2)\,\|\,\mathcal N(\mu_2,\sigma_2^2))=\log\frac{\sigma_2}{\sigma_1}
# +\frac{\sigma_1^2+(\mu_1-\mu_2)^2}{2\sigma_2^2}-\frac12 .$$

# %%
gen = torch.Generator().manual_seed(0)
x = 0.0 + 1.0 * torch.randn(P.kl_mc_samples, generator=gen, dtype=torch.float64)
normal = lambda m, s: (lambda t: torch.distributions.Normal(m, s).log_prob(t))  # noqa: E731
mc, se = kl_monte_carlo(x, normal(0.0, 1.0), normal(1.0, 2.0))
exact = float(kl_normal(0.0, 1.0, 1.0, 2.0))
print(f"closed form {exact:.4f} nats, Monte Carlo {mc:.4f} +- {se:.4f}; reverse KL {float(kl_normal(1.0, 2.0, 0.0, 1.0)):.4f}")
assert abs(mc - exact) < 4 * se, "Monte Carlo agrees with the closed form"
assert float(kl_normal(1.0, 2.0, 0.0, 1.0)) != exact, "KL is not symmetric"

# %% [markdown]
# ## 2. Forward vs reverse KL: mode covering vs mode seeking
# Fit one Gaussian $q$ to a bimodal $p$. Forward $\mathrm{KL}(p\|q)$ punishes $q$ for missing mass of
# $p$ (its optimum matches the mean and variance of $p$); reverse $\mathrm{KL}(q\|p)$ punishes $q$
# for mass where $p$ is small, so $q$ picks one mode.

# %%
w, m, s = torch.tensor([0.5, 0.5]), torch.tensor([-3.0, 3.0]), torch.tensor([0.7, 0.7])
grid = torch.linspace(-10, 10, 2001, dtype=torch.float64)
log_p = lambda t: mixture_log_prob(t, w, m, s)  # noqa: E731
fits = {d: fit_gaussian_kl(log_p, grid, d, steps=800) for d in ("forward", "reverse")}
plt.plot(grid, log_p(grid).exp(), "k", label="target p")
for d, (mu, sd) in fits.items():
    plt.plot(grid, torch.distributions.Normal(mu, sd).log_prob(grid).exp(), label=f"{d} KL: mu={mu:.2f}, sigma={sd:.2f}")
plt.legend(); plt.show()
assert abs(fits["forward"][1] - math.sqrt(0.49 + 9)) < 0.2, "forward KL matches the variance of p"
assert abs(abs(fits["reverse"][0]) - 3) < 0.2, "reverse KL sits on one mode"

# %% [markdown]
# ## 3. Jensen-Shannon divergence and the GAN
# $\mathrm{JS}(p\|q)=\tfrac12\mathrm{KL}(p\|m)+\tfrac12\mathrm{KL}(q\|m)$, $m=\tfrac{p+q}2$; symmetric and
# $0\le\mathrm{JS}\le\log 2$ **in nats** (the bound is 1 only with $\log_2$). At the optimal
# discriminator the GAN value is $L(G,D^*)=2\,\mathrm{JS}(p_{data}\|p_g)-2\log 2$ (notebook 01).

# %%
p_, q_ = torch.tensor([0.5, 0.5, 0.0, 0.0]), torch.tensor([0.0, 0.0, 0.5, 0.5])
print(f"JS of disjoint distributions = {js_discrete(p_, q_):.4f} = log 2 = {math.log(2):.4f}")
assert abs(js_discrete(p_, q_) - math.log(2)) < 1e-12

# %% [markdown]
# ## 4. The VAE and its ELBO
# For any encoder $q(\mathbf h|\mathbf x)$:
# $\log p(\mathbf x)=\mathrm{ELBO}(\mathbf x)+\mathrm{KL}(q(\mathbf h|\mathbf x)\,\|\,p(\mathbf h|\mathbf x))$ with
# $\mathrm{ELBO}=\mathbb E_q[\log p(\mathbf x|\mathbf h)]-\mathrm{KL}(q(\mathbf h|\mathbf x)\,\|\,p(\mathbf h))$,
# so the ELBO is a lower bound. Reparameterisation: $\mathbf h=\boldsymbol\mu+\boldsymbol\sigma\odot\boldsymbol\epsilon$,
# $\boldsymbol\epsilon\sim\mathcal N(0,I)$, so gradients flow through $\mu,\sigma$. The KL term is closed form:
# $-\tfrac12\sum_j(1+\log\sigma_j^2-\mu_j^2-\sigma_j^2)$. Check it against the univariate formula:

# %%
mu_, logvar_ = torch.tensor([[0.5, -1.0]], dtype=torch.float64), torch.tensor([[0.3, -0.2]], dtype=torch.float64)
by_sum = sum(float(kl_normal(a, math.exp(b / 2), 0, 1)) for a, b in zip(mu_[0].tolist(), logvar_[0].tolist()))
assert abs(float(kl_diag_normal_standard(mu_, logvar_)[0]) - by_sum) < 1e-12

# %% [markdown]
# ## 5. Train an MLP VAE (784-400-20) on MNIST

# %%
train_x, train_y = split_of(load_mnist(n=P.vae_n_train))
test_x, test_y = split_of(load_mnist(train=False))
config = V.vae_config(latent_dim=20)
model = V.build_vae(config, "cpu")
history = V.train_vae(model, train_x, P.vae_epochs, device="cpu", test_images=test_x)
print(f"-ELBO {history['loss'][-1]:.1f} nats (recon {history['recon'][-1]:.1f} + KL {history['kl'][-1]:.1f}); "
      f"test {history['test_loss'][-1]:.1f}; {history['train_seconds']:.1f} s")
ckpt = V.save_vae(artifacts_dir() / P.name / "vae.pt", model, config, history)
assert history["loss"][-1] < history["loss"][0], "training raised the ELBO"

# %%
fig, ax = plt.subplots(1, 2, figsize=(9, 3))
ax[0].plot(history["recon"]); ax[0].set_title("reconstruction term -E_q[log p(x|h)]")
ax[1].plot(history["kl"]); ax[1].set_title("KL(q(h|x) || p(h))")
for a in ax: a.set_xlabel("epoch")
plt.show()

# %%
recon = V.reconstruct(model, test_x[:8])
samples = V.sample_vae(model, 16, "cpu", seed=0)
fig, ax = plt.subplots(3, 8, figsize=(8, 3))
for i in range(8):
    ax[0, i].imshow(test_x[i, 0], cmap="gray"); ax[1, i].imshow(recon[i], cmap="gray"); ax[2, i].imshow(samples[i], cmap="gray")
for a in ax.flat: a.axis("off")
plt.suptitle("test digits / reconstructions / samples"); plt.show()

# %% [markdown]
# A second VAE with a 2-D latent space shows where the encoder puts each digit.

# %%
model2 = V.build_vae(V.vae_config(latent_dim=2), "cpu")
V.train_vae(model2, train_x, P.vae_2d_epochs, device="cpu")
z = V.encode_mean(model2, test_x)
plt.scatter(z[:, 0], z[:, 1], c=test_y, cmap="tab10", s=4); plt.colorbar(label="digit"); plt.show()

# %% [markdown]
# ## 6. Scores beside the GAN (same numbers as the scoreboard; lower MMD/FD is better)

# %%
from course_utils.scoreboard import score_images  # noqa: E402

n = min(P.vae_n_score, len(test_x))
scores = {"VAE": score_images(V.sample_vae(model, n, "cpu", seed=1).unsqueeze(1) * 2 - 1, test_x[:n], device="cpu")}
gan_path = artifacts_dir() / P.name / "gan_mlp.pt"
if gan_path.is_file():
    from course_utils.gan import load_gan, sample_gan
    gen_model, _, gcfg, _ = load_gan(gan_path, "cpu")
    fake = sample_gan(gen_model, n, gcfg["z_size"], gcfg["mode_z"], torch.device("cpu"), 1)
    scores["MLP GAN"] = score_images(fake.unsqueeze(1) * 2 - 1, test_x[:n], device="cpu")
for name, sc in scores.items():
    print(f"{name:8s} MMD2(features) {sc['mmd2_features']:.4f}  FD {sc['fd_features']:.2f}  "
          f"confidence {sc['confidence']:.3f}  class spread {sc['class_spread']:.3f}")
