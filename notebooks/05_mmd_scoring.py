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
# # 05 · Scoring samples with the MMD
#
# **What this notebook teaches.** The maximum mean discrepancy (MMD) as a distance between kernel
# mean embeddings; why the lecture's (biased) estimator never reaches 0; what comparing fakes in
# [0, 1] with reals in [-1, 1] does to the score; MMD over the training epochs of notebook 03 with
# `MMDScorer`; a permutation test; pixel space vs classifier features; and how many samples give a
# stable number.
#
# **Run time** on a 2-core CPU: `smoke` ~20 s · `laptop` (default) ~3 min (trains the MLP GAN of
# notebook 03 with an MMD after every epoch) · `full` ~8 min.

# %%
import matplotlib.pyplot as plt
import torch

from course_utils import get_device, get_profile, seed_everything
from course_utils.data import load_mnist, split_of
from course_utils.gan import build_gan, gan_config, make_optimizers, sample_gan, train_gan
from course_utils.scoring import (MMDScorer, classifier_features, compute_score, mmd2,
                                  mmd_permutation_test, pixel_features)

P = get_profile()
device = get_device()
torch.set_num_threads(min(2, torch.get_num_threads()))
print(P, "| device:", device)

# %% [markdown]
# ## MMD: the distance between two mean embeddings
#
# A kernel $k(\mathbf x, \mathbf y) = \exp(-\|\mathbf x - \mathbf y\|^2 / (2h^2))$ maps each
# distribution $p$ to its mean embedding $\mu_p = \mathbb E_{\mathbf x\sim p}[k(\mathbf x, \cdot)]$.
# The MMD is the distance between the embeddings:
#
# $$\mathrm{MMD}^2(p, q) = \|\mu_p - \mu_q\|^2
#   = \mathbb E\,k(\mathbf x, \mathbf x') + \mathbb E\,k(\mathbf y, \mathbf y') - 2\,\mathbb E\,k(\mathbf x, \mathbf y).$$
#
# For the Gaussian kernel it is 0 exactly when $p = q$. From samples $x_{1..n}$, $y_{1..m}$ the
# **unbiased** estimator averages $k(x_i, x_j)$ over $i \ne j$ only; the **biased** one (the
# lecture's) also includes the diagonal $k(x_i, x_i) = 1$, which adds about $1/n + 1/m$.

# %%
real, _ = split_of(load_mnist(n=P.gan_n_train))
held_out, _ = split_of(load_mnist(train=False))
n_real = min(len(real), 2_000)
real = real[:n_real]
print(f"{n_real} reals, {len(held_out)} held-out images")

# %% [markdown]
# ## The bias: a perfect generator does not score 0
#
# Take 64 *real held-out* digits as the "fakes": a perfect generator. The lecture's score
# (biased, square-rooted) stays well above 0, because the diagonal term $1/m$ with $m = 64$
# dominates; the unbiased $\mathrm{MMD}^2_u$ fluctuates around 0 as it should.

# %%
perfect = held_out[:64]
lecture = compute_score(perfect, real)
unbiased = mmd2(real, perfect, bandwidth="mean")
print(f"lecture's score (biased, sqrt): {lecture:.3f}   unbiased MMD^2: {unbiased:+.4f}")
assert lecture > 0.05, "the biased estimator has a floor well above 0 at 64 samples"
assert abs(unbiased) < 0.02, "the unbiased estimator is centred on 0 for equal distributions"

# %% [markdown]
# ## The range mistake
#
# The lecture compares generator outputs in [0, 1] with reals normalised to [-1, 1]. The same
# perfect digits, shifted to [0, 1], suddenly look very different (the library warns):

# %%
import warnings

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    wrong = compute_score((perfect + 1) / 2, real)
print(f"same digits in [0, 1] vs reals in [-1, 1]: {wrong:.3f} (was {lecture:.3f})")
print("warning:", caught[0].message if caught else None)
assert wrong > 2 * lecture

# %% [markdown]
# ## MMD over the training epochs of notebook 03
#
# We train notebook 03's MLP GAN with the profile's sizes and score 500 fixed-noise samples after
# every epoch. `MMDScorer` caches everything that depends on the reals only, so each call costs
# one $n_\text{real} \times n_\text{fake}$ matrix product.

# %%
scorer = MMDScorer(real)
config = gan_config(z_size=20, mode_z="uniform")


def score_epoch(epoch, gen_model):
    fake = sample_gan(gen_model, 500, config["z_size"], config["mode_z"], device, seed=0) * 2 - 1
    return {"mmd": scorer.score(fake)}


seed_everything(1)
gen_model, disc_model = build_gan(config, device)
g_optimizer, d_optimizer = make_optimizers(gen_model, disc_model)
history = train_gan(gen_model, disc_model, load_mnist(n=P.gan_n_train), num_epochs=P.gan_epochs,
                    batch_size=P.gan_batch_size, z_size=config["z_size"], mode_z=config["mode_z"],
                    device=device, g_optimizer=g_optimizer, d_optimizer=d_optimizer,
                    on_epoch_end=score_epoch)

# %%
floor = compute_score(held_out[:500], real)
plt.plot(range(1, len(history["mmd"]) + 1), history["mmd"], marker="o", label="generator")
plt.axhline(floor, color="grey", ls="--", label="500 real held-out digits (the floor)")
plt.xlabel("epoch"); plt.ylabel("lecture's MMD score"); plt.legend(); plt.show()
assert history["mmd"][-1] > floor, "a GAN this small does not beat real digits"

# %% [markdown]
# ## A permutation test: real held-out digits vs generated ones
#
# Under $H_0: p = q$ the labels "real"/"fake" are exchangeable; shuffling them gives the null
# distribution of $\mathrm{MMD}^2_u$, and $p = (1 + \#\{\text{null} \ge \text{observed}\})/(1 + B)$.

# %%
fake = sample_gan(gen_model, 200, 20, "uniform", device, seed=1) * 2 - 1
B = 200
t_fake = mmd_permutation_test(held_out[:200], fake, n_permutations=B, seed=0)
t_real = mmd_permutation_test(held_out[:200], held_out[200:400], n_permutations=B, seed=0)
print(f"held-out vs generated: MMD^2_u = {t_fake.statistic:.4f}, p = {t_fake.p_value:.3f}")
print(f"held-out vs held-out:  MMD^2_u = {t_real.statistic:.4f}, p = {t_real.p_value:.3f}")
assert t_fake.p_value < 0.05 and t_real.p_value > 0.01

# %% [markdown]
# ## Pixel space vs classifier features
#
# Pixel distances weigh every pixel equally; the penultimate layer (64 features) of the project's
# MNIST classifier measures what matters for digits. We compare the unbiased $\mathrm{MMD}^2$ of
# held-out reals and of the generator in both spaces (median-heuristic bandwidth).

# %%
for name, feats in [("pixels", pixel_features), ("classifier", classifier_features)]:
    ref, other, gen = feats(held_out[:300]), feats(held_out[300:600]), feats(fake)
    print(f"{name:10s}  real vs real {mmd2(ref, other, bandwidth='median'):+.4f}"
          f"   real vs generated {mmd2(ref, gen, bandwidth='median'):+.4f}")

# %% [markdown]
# ## How many samples give a stable number?
#
# The estimator's spread over 5 random draws of $m$ generated samples shrinks like
# $1/\sqrt m$; the biased score also drifts down as its $1/m$ floor shrinks.

# %%
sizes = [32, 64, 128, 256, 512]
spread = []
for m in sizes:
    values = torch.tensor([scorer.score(sample_gan(gen_model, m, 20, "uniform", device, seed=s) * 2 - 1)
                           for s in range(5)])
    spread.append((values.mean().item(), values.std().item()))
plt.errorbar(sizes, [s[0] for s in spread], yerr=[s[1] for s in spread], marker="o", capsize=3)
plt.xscale("log"); plt.xlabel("generated samples m"); plt.ylabel("lecture's MMD score"); plt.show()
assert spread[-1][1] < spread[0][1], "more samples give a steadier number"
