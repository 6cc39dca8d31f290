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
# # 05 · Scoring samples with the MMD
#
# **What this notebook teaches.** The maximum mean discrepancy (MMD) as a distance between kernel
# mean embeddings; why the lecture's (biased) estimator never reaches 0, and how high its floor
# is; what comparing fakes in [0, 1] with reals in [-1, 1] does to the score; MMD over the
# training epochs of notebook 03's GAN with `MMDScorer`; a permutation test; pixel space vs
# classifier features; and how many samples give a stable number.
#
# **Run time.** About 10 s on a laptop CPU with the shipped models; `COURSE_TRAIN=1` (train them
# here): ~1 min.

# %% slideshow={"slide_type": "skip"}
import math
import warnings

import matplotlib.pyplot as plt
import torch

from course_utils import get_device, get_profile, seed_everything
from course_utils.data import load_mnist, split_of
from course_utils.gan import sample_gan
from course_utils.scoring import (
    MMDScorer,
    classifier_features,
    compute_score,
    mmd2,
    mmd_permutation_test,
    pixel_features,
)

P = get_profile()
device = get_device()
print(P, "| device:", device)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## MMD: the distance between two mean embeddings
#
# A kernel $k(\mathbf x, \mathbf y) = \exp(-\|\mathbf x - \mathbf y\|^2 / (2h^2))$ maps each
# distribution $p$ to its mean embedding $\mu_p = \mathbb E_{\mathbf x\sim p}[k(\mathbf x, \cdot)]$.
# The MMD is the distance between the embeddings:
#
# $$\mathrm{MMD}^2(p, q) = \|\mu_p - \mu_q\|^2
#   = \mathbb E\,k(\mathbf x, \mathbf x') + \mathbb E\,k(\mathbf y, \mathbf y') -
#   2\,\mathbb E\,k(\mathbf x, \mathbf y).$$
#
# For the Gaussian kernel it is 0 exactly when $p = q$. From reals $x_{1..n}$ and fakes
# $y_{1..m}$ the **unbiased** estimator averages $k(x_i, x_j)$ over $i \ne j$ only; the
# **biased** one (the lecture's) also keeps the $n$ diagonal terms $k(x_i, x_i) = 1$, so its
# real-real mean is $\frac1n + \frac{n-1}{n}\,\overline{k}_{xx}$ instead of $\overline{k}_{xx}$,
# and likewise for the fakes. On average that adds
#
# $$\mathbb E\big[\mathrm{MMD}^2_b\big] - \mathrm{MMD}^2
#   = \frac{1 - \mathbb E\,k(\mathbf x, \mathbf x')}{n} +
#   \frac{1 - \mathbb E\,k(\mathbf y, \mathbf y')}{m}.$$

# %% [markdown]
# The reals: the first training digits. The next 1,024 training digits, never among the reals,
# play a *perfect generator*: fakes drawn from the very distribution of the reals.

# %% slideshow={"slide_type": "skip"}
n_real = min(P.gan_n_train or 2_000, 2_000)
train_digits, _ = split_of(load_mnist(n=n_real + 1_024))
real, same_source = train_digits[:n_real], train_digits[n_real:]
held_out, _ = split_of(load_mnist(train=False))
print(f"{n_real} reals, {len(same_source)} more training digits, {len(held_out)} held-out digits")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · The unbiased MMD² in a few lines
# For reals `X` $(n, d)$ and fakes `Y` $(m, d)$ and the Gaussian kernel
# $k(\mathbf x,\mathbf y)=\exp(-\|\mathbf x-\mathbf y\|^2/(2h^2))$,
# $$\mathrm{MMD}^2_u=\frac{1}{n(n-1)}\sum_{i\ne j}k(x_i,x_j)+\frac{1}{m(m-1)}\sum_{i\ne j}k(y_i,y_j)
# -\frac{2}{nm}\sum_{i,j}k(x_i,y_j).$$
# `torch.cdist(A, B)` gives all the distances $\|a_i-b_j\|$; leave out the diagonals $i=j$. Return a
# number.

# %% tags=["exercise"]
import torch


def my_mmd2_unbiased(X, Y, h):
    """The unbiased MMD^2 between the rows of X and of Y, Gaussian kernel of bandwidth h."""
    ...  # your code here

# %% tags=["solution"]
def my_mmd2_unbiased(X, Y, h):
    """The unbiased MMD^2 between the rows of X and of Y, Gaussian kernel of bandwidth h."""
    def k(A, B):
        return torch.exp(-torch.cdist(A, B) ** 2 / (2 * h**2))

    n, m = len(X), len(Y)
    kxx, kyy = k(X, X), k(Y, Y)
    xx = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    yy = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(xx + yy - 2 * k(X, Y).mean())

# %% tags=["check"]
from course_utils.exercises import check_mmd2_unbiased

check_mmd2_unbiased(my_mmd2_unbiased);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The bias: a perfect generator does not score 0
#
# Score 64 of those extra training digits as "fakes". The lecture's score (biased,
# square-rooted) stays well above 0; the unbiased $\mathrm{MMD}^2_u$ fluctuates around 0 as it
# should.

# %% slideshow={"slide_type": "fragment"}
perfect = same_source[:64]
lecture = compute_score(perfect, real)
unbiased = mmd2(real, perfect, bandwidth="mean")  # the lecture's kernel, unbiased estimator
print(f"lecture's score (biased, sqrt): {lecture:.3f}   unbiased MMD^2: {unbiased:+.4f}")
assert lecture > 0.05, "the biased estimator should have a floor well above 0 at 64 samples"
assert abs(unbiased) < 0.02, "the unbiased estimator should be centred on 0 for equal distributions"

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### How high is the floor?
#
# For a perfect generator $\mathrm{MMD}^2 = 0$ and $\mathbb E\,k(\mathbf y, \mathbf y') =
# \mathbb E\,k(\mathbf x, \mathbf x')$, so the expected squared score is
# $(1 - \mathbb E\,k)(\frac1n + \frac1m)$. With many reals the $1/n$ part is small and the floor
# is about $\sqrt{(1 - \mathbb E\,k)/m}$. It is *not* $\sqrt{1/m} = 0.125$: the diagonal adds
# $1/m$, but the $m(m-1)$ off-diagonal pairs are then weighted by $1/m^2$ instead of
# $1/(m(m-1))$, which takes back $\mathbb E\,k/m$. `MMDScorer` has the real-real mean
# $\mathbb E\,k$ of the lecture's kernel cached; we compare the prediction with the root mean
# square of the scores of 16 disjoint batches of 64 perfect fakes.

# %% slideshow={"slide_type": "fragment"}
scorer = MMDScorer(real)  # the lecture's kernel; everything that depends on the reals is cached
Ek = scorer.real_kernel_mean  # E k(x, x') over pairs of distinct reals
predicted = math.sqrt((1 - Ek) * (1 / n_real + 1 / 64))
scores = torch.tensor([scorer.score(batch) for batch in same_source.split(64)])
observed = scores.pow(2).mean().sqrt().item()
print(f"E k = {Ek:.3f}: predicted floor {predicted:.4f}, observed {observed:.4f} "
      f"({len(scores)} batches, spread {scores.std():.4f})")
assert abs(observed - predicted) < 0.1 * predicted, ("the bias formula should predict the floor "
                                                     "within 10%")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The range mistake
#
# The lecture compares generator outputs in [0, 1] with reals normalised to [-1, 1]. The same
# perfect digits, shifted to [0, 1], suddenly look very different (the library warns):

# %% slideshow={"slide_type": "fragment"}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    wrong = compute_score((perfect + 1) / 2, real)
print(f"same digits in [0, 1] vs reals in [-1, 1]: {wrong:.3f} (was {lecture:.3f})")
print("warning:", caught[0].message if caught else None)
assert caught, "scoring [0, 1] fakes against [-1, 1] reals should warn"
assert wrong > 2 * lecture, "the shift of range alone should swamp the score"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## MMD over the training epochs of notebook 03
#
# Notebook 03's GAN (the lecture's MLP, Adam, batch 64, the profile's images and epochs, same
# seed), trained with a callback that `train_gan` calls after every epoch: `mmd_monitor` scores
# 500 fixed-noise samples with the `scorer` of our reals above, and the history keeps the numbers.
# `MMDScorer` caches everything that depends on the reals only, so each call costs one
# $n_\text{real} \times n_\text{fake}$ matrix product: milliseconds, not the lecture's seconds.
# The callback does not change the training (its samples use their own noise): the weights are
# those of notebook 03. The run shipped for the laptop profile recorded this curve when it was
# trained; in the other profiles, or with `COURSE_TRAIN=1`, it is trained here.

# %% slideshow={"slide_type": "fragment"}
from course_utils import models, pretrained
from course_utils.scoreboard import mmd_monitor

# the lecture's hyperparameters and this profile's budget, as in 03
config = models.recipe("mlp-gan", P)
# after every epoch: {"mmd": scorer.score(500 samples)}
score_epoch = mmd_monitor(scorer, config, n=500, seed=0)


def retrain_with_mmd():
    seed_everything(1)
    return models.fit("mlp-gan", config, load_mnist(n=config.n_train), device, seed=1,
                      monitor=score_epoch)


trained = pretrained.load_or_train("mlp-gan", retrain_with_mmd, device)
gen_model, history = trained.model.gen_model, trained.history

# %% [markdown]
# The dashed line is what a perfect generator scores with 500 samples: 500 more training digits.
# The generator's curve can approach it but, with a GAN this small, not reach it.

# %% slideshow={"slide_type": "subslide"}
floor = compute_score(same_source[:500], real)
plt.plot(range(1, len(history["mmd"]) + 1), history["mmd"], marker="o", label="generator")
plt.axhline(floor, color="grey", ls="--", label="500 more real digits (the floor)")
plt.xlabel("epoch")
plt.ylabel("lecture's MMD score (500 samples)")
plt.legend()
plt.show()
assert history["mmd"][-1] > floor, "a GAN this small should not beat real digits"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A permutation test: real held-out digits vs generated ones
#
# Under $H_0: p = q$ the labels "real"/"fake" are exchangeable; shuffling them gives the null
# distribution of $\mathrm{MMD}^2_u$, and $p = (1 + \#\{\text{null} \ge \text{observed}\})/(1 + B)$.

# %% slideshow={"slide_type": "fragment"}
def generated(m, seed):
    """m samples of the trained generator, mapped to the reals' [-1, 1]."""
    return sample_gan(gen_model, m, config.z_size, config.mode_z, device, seed=seed)


fake, B = generated(200, seed=1), 200
t_fake = mmd_permutation_test(held_out[:200], fake, n_permutations=B, seed=0)
t_real = mmd_permutation_test(held_out[:200], held_out[200:400], n_permutations=B, seed=0)
print(f"held-out vs generated: MMD^2_u = {t_fake.statistic:.4f}, p = {t_fake.p_value:.3f}")
print(f"held-out vs held-out:  MMD^2_u = {t_real.statistic:.4f}, p = {t_real.p_value:.3f}")
assert t_fake.p_value < 0.05, "the test should tell generated digits from real ones"
assert t_real.p_value > 0.01, "two batches of real digits should look alike to the test"

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · A permutation test by hand
# `mmd_permutation_test` did this for you. Now you: pool $Z=(X, Y)$ (`torch.cat`); for each of the
# $B$ given permutations `perms[b]` (a row of indices into $Z$) let its first $n$ = `len(X)` points
# play $X$ and the rest $Y$, and compute `statistic(Z_x, Z_y)`; then
# $$p=\frac{1+\#\{b:\ \text{null}_b\ge\text{observed}\}}{1+B},
# \qquad \text{observed}=\texttt{statistic}(X, Y).$$
# The check hands you a cheap statistic (with ties!) and its own permutations, so your p-value is
# exact.

# %% tags=["exercise"]
import torch


def my_permutation_test(X, Y, statistic, perms):
    """The permutation p-value of statistic(X, Y) against the B permutations in perms (B, n + m)."""
    ...  # your code here

# %% tags=["solution"]
def my_permutation_test(X, Y, statistic, perms):
    """The permutation p-value of statistic(X, Y) against the B permutations in perms (B, n + m)."""
    Z, n = torch.cat([X, Y]), len(X)
    observed = statistic(X, Y)
    null = [statistic(Z[p[:n]], Z[p[n:]]) for p in perms]
    return (1 + sum(s >= observed for s in null)) / (1 + len(perms))

# %% tags=["check"]
from course_utils.exercises import check_permutation_test

check_permutation_test(my_permutation_test);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Pixel space vs classifier features
#
# * **Pixels** (784 numbers): the kernel compares images pixel by pixel. The same 7 moved two
#   pixels to the side can be as far from itself as from a 1, and the GAN's grey speckle counts
#   as much as its shapes.
# * **Classifier features** (64 numbers): the penultimate layer of the project's MNIST
#   classifier, trained to name digits despite small shifts, rotations and changes of size. Two
#   7s land close together; a shape that is not quite any digit lands away from all of them.
#
# MMD$^2$ values from two different spaces (and median-heuristic bandwidths) are not on one
# scale, so each is measured against its own permutation null: how many null standard
# deviations the observed $\mathrm{MMD}^2_u$ lies above the null mean.

# %% slideshow={"slide_type": "subslide"}
z_scores = {}
for name, feats in [("pixels", pixel_features), ("classifier", classifier_features)]:
    ref, other, gen = feats(held_out[:300]), feats(held_out[300:600]), feats(fake)
    tests = [mmd_permutation_test(ref, s, n_permutations=B, seed=0) for s in (other, gen)]
    z_scores[name] = [(t.statistic - t.null.mean().item()) / t.null.std().item() for t in tests]
    print(f"{name:10s}  real vs real {tests[0].statistic:+.4f} ({z_scores[name][0]:+5.1f} null sd)"
          f"   real vs generated {tests[1].statistic:+.4f} ({z_scores[name][1]:+5.1f} null sd)")

# %% [markdown]
# Real vs real sits inside the null in both spaces. Both spaces tell these generated digits from
# real ones, but once the generator draws digit-like shapes (every profile but `smoke`, whose
# two epochs give blobs that any space spots) the classifier's space sees the flaws more
# clearly: the remaining differences are in *what* is drawn, not in the grey levels of pixels.

# %% slideshow={"slide_type": "fragment"}
(pix_real, pix_gen), (cls_real, cls_gen) = z_scores["pixels"], z_scores["classifier"]
assert abs(pix_real) < 4 and abs(cls_real) < 4, "real vs real should stay within the null's noise"
assert pix_gen > 4 and cls_gen > 4, "both spaces should tell these generated digits from real ones"
if P.name != "smoke":
    assert cls_gen > pix_gen, "classifier features should separate generated digits more clearly"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How many samples give a stable number?
#
# The spread (standard deviation) of the lecture's score over 10 random draws of $m$ generated
# samples shrinks like $1/\sqrt m$: a slope of $-1/2$ on a log-log plot, which we fit below (with 10
# draws per $m$ the fitted slope scatters by about $\pm0.1$). Its mean drifts down because its floor
# $\sqrt{(1 - \mathbb E\,k)(1/n + 1/m)}$ (dashed: a perfect generator) shrinks with $m$. Compare
# generators only at the same $m$.

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
sizes = [32, 64, 128, 256, 512]
spread = []
for m in sizes:
    values = torch.tensor([scorer.score(generated(m, seed)) for seed in range(10)])
    spread.append((values.mean().item(), values.std().item()))
plt.errorbar(sizes, [s[0] for s in spread], yerr=[s[1] for s in spread], marker="o", capsize=3,
             label="generator: mean and spread of 10 draws")
plt.plot(sizes, [math.sqrt((1 - Ek) * (1 / n_real + 1 / m)) for m in sizes], "k--",
         label="a perfect generator (predicted floor)")
plt.xscale("log")
plt.xticks(sizes, [str(m) for m in sizes])
plt.minorticks_off()
plt.xlabel("generated samples m")
plt.ylabel("lecture's MMD score")
plt.legend()
plt.show()
assert spread[-1][1] < spread[0][1], "more samples should give a steadier number"

# %% slideshow={"slide_type": "fragment"}
import numpy as np

slope = np.polyfit(np.log(sizes), np.log([s[1] for s in spread]), deg=1)[0]  # least squares
print(f"least-squares slope of log(spread) against log(m): {slope:.2f} (1/sqrt(m): -0.5)")
assert -1.0 < slope < -0.2, "the spread should shrink roughly like 1/sqrt(m)"
