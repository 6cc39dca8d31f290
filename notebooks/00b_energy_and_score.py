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
# # 00b · Boltzmann machines, contrastive divergence and score-based models
#
# **What this notebook teaches.** Energy-based models $p=e^{-E}/Z$ and why $Z$ is intractable; the
# log-likelihood gradient as data term minus model term; a binary RBM on binarised MNIST trained with
# CD-1 and persistent CD, judged by its *exact* log-likelihood; Gibbs sampling; then the score
# $\nabla\log p$ (where $Z$ drops out), denoising score matching, Langevin and annealed Langevin
# sampling on 2-D data, and Tweedie's formula as the bridge to diffusion.
#
# **Run time.** `smoke`: ~20 s · `laptop` (default): ~1-2 min · `full`: a few minutes (CPU).

# %%
import warnings

import matplotlib.pyplot as plt
import torch

from course_utils import get_profile, seed_everything
from course_utils.data import MnistFallbackWarning, load_mnist, split_of
from course_utils import rbm as R
from course_utils import score as S

warnings.simplefilter("ignore", MnistFallbackWarning)
P = get_profile()
seed_everything(0)
print(P, "| RBM epochs:", P.rbm_epochs, "| score steps:", P.score_steps)

# %% [markdown]
# ## 1. Energy-based models and the RBM
# $E(\mathbf v,\mathbf h)=-\mathbf b^\top\mathbf v-\mathbf c^\top\mathbf h-\mathbf v^\top W\mathbf h$,
# $p(\mathbf v,\mathbf h)=e^{-E(\mathbf v,\mathbf h)}/Z$, $Z=\sum_{\mathbf v,\mathbf h}e^{-E}$ ($2^{D+H}$ terms).
# Free energy $F(\mathbf v)=-\mathbf b^\top\mathbf v-\sum_j\mathrm{softplus}(c_j+(\mathbf v^\top W)_j)$, $p(\mathbf v)=e^{-F(\mathbf v)}/Z$.
# Gradient: $\partial_\theta\log p(\mathbf v)=\mathbb E_{p(\mathbf h|\mathbf v)}[-\partial_\theta E]-\mathbb E_{p(\mathbf v,\mathbf h)}[-\partial_\theta E]$,
# because $\partial_\theta\log Z=\mathbb E_p[-\partial_\theta E]$. Check on a tiny RBM by enumeration:

# %%
tiny = R.RBM(4, 3, seed=0, init_std=0.5).double()
data = torch.tensor([[1, 1, 0, 0], [0, 0, 1, 1.0]], dtype=torch.float64)
exact = R.exact_gradient(tiny, data)
loglik = (-R.free_energy(tiny, data)).mean() - torch.logsumexp(-R.free_energy(tiny, R.all_states(4).double()), 0)
loglik.backward()
assert torch.allclose(exact["W"], tiny.W.grad), "data term minus model term = autograd gradient of log p"
print("exact gradient of W:\n", exact["W"])

# %% [markdown]
# ## 2. CD-1 vs persistent CD on binarised MNIST
# CD-k starts the negative Gibbs chain at the data and stops after $k$ steps: cheap but **biased**
# (not the gradient of the log-likelihood). PCD keeps its chains between updates. With $H=16$ hidden
# units we can enumerate $2^{16}$ hidden states, so $\log Z$ and the log-likelihood are exact.

# %%
v = R.binarize(split_of(load_mnist(n=2_048 if P.name == "smoke" else None))[0])
runs = {}
for name, persistent in (("CD-1", False), ("PCD-1", True)):
    rbm = R.RBM(784, P.rbm_hidden, seed=0)
    runs[name] = (rbm, R.train_rbm(rbm, v, P.rbm_epochs, k=1, persistent=persistent, exact_every_epoch=True))
for name, (_, h) in runs.items():
    plt.plot(h["log_likelihood"], label=name)
plt.xlabel("epoch"); plt.ylabel("exact mean log p(v) [nats]"); plt.legend(); plt.show()
assert all(h["log_likelihood"][-1] > h["log_likelihood"][0] for _, h in runs.values())

# %%
rbm = runs["PCD-1"][0]
pv, snaps = R.gibbs_chain(rbm, torch.bernoulli(torch.full((8, 784), 0.5)), P.rbm_gibbs_steps, keep_every=P.rbm_gibbs_steps // 4)
fig, ax = plt.subplots(len(snaps), 8, figsize=(8, len(snaps)))
for r, sn in enumerate(snaps):
    for i in range(8):
        ax[r, i].imshow(sn[i].reshape(28, 28), cmap="gray"); ax[r, i].axis("off")
plt.suptitle("Gibbs chains (rows: later steps)"); plt.show()

# %% [markdown]
# ## 3. Scores: $Z$ drops out
# $\mathbf s(\mathbf x)=\nabla_{\mathbf x}\log p(\mathbf x)=-\nabla_{\mathbf x}E(\mathbf x)$. Denoising score matching
# trains $\mathbf s_\theta(\tilde{\mathbf x},\sigma)$ on $\tilde{\mathbf x}=\mathbf x+\sigma\boldsymbol\epsilon$ with
# $\mathbb E\|\sigma\mathbf s_\theta+\boldsymbol\epsilon\|^2$. The noising is **fixed**, not learned. Our data: a
# 3-mode Gaussian mixture whose exact score we know.

# %%
params = S.gmm_params(3, 3.0, 0.35, (0.5, 0.3, 0.2))
pts = S.gmm_sample(params, 5_000, torch.Generator().manual_seed(0))
sigmas = S.noise_levels(6.0, 0.05, 10)
net = S.ScoreNet(128)
hist = S.train_score_model(net, pts, sigmas, P.score_steps)
learned = lambda x, s: net(x, torch.tensor(float(s)))  # noqa: E731
g = torch.linspace(-5, 5, 20)
grid = torch.stack(torch.meshgrid(g, g, indexing="xy"), -1).reshape(-1, 2)
with torch.no_grad():
    sc = learned(grid, 0.5)
plt.quiver(grid[:, 0], grid[:, 1], sc[:, 0], sc[:, 1]); plt.scatter(pts[:500, 0], pts[:500, 1], s=2, c="r")
plt.title("learned score at sigma=0.5"); plt.show()
err = ((sc - S.gmm_score(params, grid, 0.5)).norm(dim=1).mean() / S.gmm_score(params, grid, 0.5).norm(dim=1).mean())
print(f"relative error of the learned score: {float(err):.2f}")

# %% [markdown]
# ## 4. Langevin and annealed Langevin
# $\mathbf x\leftarrow\mathbf x+\eta\,\mathbf s(\mathbf x)+\sqrt{2\eta}\,\mathbf z$. Check on a Gaussian (stationary variance
# $s^2/(1-\eta/2s^2)$), then sample the mixture with the learned score, $\eta_i=\epsilon\sigma_i^2/\sigma_L^2$.

# %%
x = S.langevin(lambda t: -(t - 1.0) / 0.25, torch.zeros(5_000, 2), 0.01, 300)
print("Langevin on N(1, 0.5^2): mean", x.mean(0).tolist(), "var", x.var(0).tolist())
assert torch.allclose(x.mean(0), torch.ones(2), atol=0.05) and torch.allclose(x.var(0), torch.full((2,), 0.25 / 0.98), rtol=0.1)

# %%
path = S.annealed_langevin(learned, 6 * torch.randn(2_000, 2), sigmas, P.langevin_steps, eps=5e-4)
fig, ax = plt.subplots(1, 3, figsize=(10, 3.3))
for a, i in zip(ax, (0, len(path) // 2, len(path) - 1)):
    a.scatter(path[i][:, 0], path[i][:, 1], s=2); a.set_title(f"after sigma={float(sigmas[i]):.2f}"); a.set_xlim(-6, 6); a.set_ylim(-6, 6)
plt.show()
frac = torch.bincount(torch.cdist(path[-1], params["means"]).argmin(1), minlength=3).float() / len(path[-1])
print("fraction per mode:", frac.tolist(), "target:", params["weights"].tolist())

# %% [markdown]
# ## 5. Tweedie's formula: $\mathbb E[\mathbf x\mid\tilde{\mathbf x}]=\tilde{\mathbf x}+\sigma^2\nabla\log p_\sigma(\tilde{\mathbf x})$
# A score model is a denoiser (this is what diffusion models learn, notebooks 06-07). For one Gaussian
# mode $\mathcal N(\mathbf m,s^2I)$ the posterior mean is $\mathbf m+\frac{s^2}{s^2+\sigma^2}(\tilde{\mathbf x}-\mathbf m)$:

# %%
one = S.gmm_params(1, 2.0, 0.5)
xn = torch.randn(10, 2)
den = S.tweedie_denoise(lambda y, s: S.gmm_score(one, y, s), xn, 0.8)
assert torch.allclose(den, one["means"][0] + 0.25 / (0.25 + 0.64) * (xn - one["means"][0]), atol=1e-5)
