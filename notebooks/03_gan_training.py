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
# # 03 · Training the GAN on MNIST
#
# **What this notebook teaches.** The lecture's training loop: for every batch, one
# discriminator step (`d_train`) then one generator step (`g_train`), Adam for both, batch 64,
# noise of size 20; the mean losses and discriminator outputs per epoch; and a checkpoint that
# notebooks 04 and 05 (and the command line) reuse.
#
# **Run time.** About 10 s on a laptop CPU with the shipped models; `COURSE_TRAIN=1` (train them
# here): ~40 s.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt

from course_utils import get_device, get_profile, models, seed_everything
from course_utils.data import load_mnist
from course_utils.gan import build_gan, make_optimizers, train_gan
from course_utils.paths import artifacts_dir
from course_utils.plotting import show_images

P = get_profile()
device = get_device()
config = models.recipe("mlp-gan", P)  # the lecture's hyperparameters and this profile's budget
print(P, "| device:", device)
print(config)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The two steps
#
# One iteration of the lecture's loop, in `course_utils.gan`, with $m$ = 64 images per batch:
#
# 1. `d_train`: draw real images $\mathbf x_{1..m}$ and noise $\mathbf z_{1..m}$, and take one
#    Adam step on the discriminator's weights to minimise
#    $L_D = -\frac1m\sum_i \big[\log d(\mathbf x_i) + \log(1 - d(g(\mathbf z_i)))\big]$
#    (gradient *ascent* on the value function $v$);
# 2. `g_train`: draw fresh noise and take one Adam step on the generator's weights to minimise
#    the non-saturating loss $L_G = -\frac1m\sum_i \log d(g(\mathbf z_i))$.
#
# `train_gan` runs this over every batch of every epoch. It keeps the whole data set as one
# tensor on the device and draws shuffled batches with `randperm`, which is ~4x faster on a CPU
# than the lecture's `DataLoader` with per-image transforms (`benchmarks/gan_throughput.py`),
# with the same maths.

# %%
data = load_mnist(n=config.n_train)
print(f"{len(data):,} training images: {data.source}")

# %% slideshow={"slide_type": "subslide"}
# this very run, shipped for the laptop profile (COURSE_TRAIN=1: train here)
from course_utils import pretrained

seed_everything(1)


def train_lecture_gan():
    gan = build_gan(config, device)  # both players in one module: saved, loaded and moved together
    gen_model, disc_model = gan
    g_optimizer, d_optimizer = make_optimizers(gen_model, disc_model)  # Adam, lr 1e-3
    # config.epochs epochs of config.batch_size images, noise of config.z_size from config.mode_z
    history = train_gan(gen_model, disc_model, data, config, device, g_optimizer, d_optimizer)
    return models.wrap(gan, config, history)


trained = pretrained.load_or_train("mlp-gan", train_lecture_gan, device)
gan, history = trained.model, trained.history
gen_model, disc_model = gan
print(f"training took {sum(history['seconds']):.1f} s, {history['images_per_second']:,.0f} "
      "images/s")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · The discriminator loss, on logits
# `d_train` computes $L_D=\mathrm{BCE}(d(\mathbf x),1)+\mathrm{BCE}(d(g(\mathbf z)),0)$ (each BCE a
# mean over the batch) from the discriminator's **logits** $\ell$, $d=\sigma(\ell)$, with
# `F.binary_cross_entropy_with_logits(logits, targets)`. Write it for a batch of real and a batch of
# fake logits (each of shape $(m, 1)$); it returns one number.

# %% tags=["exercise"]
import torch
import torch.nn.functional as F


def my_d_loss(logit_real, logit_fake):
    """L_D from the logits of a real and a fake batch."""
    ...  # your code here

# %% tags=["solution"]
def my_d_loss(logit_real, logit_fake):
    """L_D from the logits of a real and a fake batch."""
    loss_real = F.binary_cross_entropy_with_logits(logit_real, torch.ones_like(logit_real))
    loss_fake = F.binary_cross_entropy_with_logits(logit_fake, torch.zeros_like(logit_fake))
    return loss_real + loss_fake

# %% tags=["check"]
from course_utils.exercises import check_d_loss

check_d_loss(my_d_loss);

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · The non-saturating generator loss, on logits
# `g_train` minimises $L_G=\mathrm{BCE}(d(g(\mathbf z)),1)=-\frac1m\sum_i\log\sigma(\ell_i)$ on the
# logits of a fake batch. Which label, and why is it not the discriminator's?

# %% tags=["exercise"]
import torch
import torch.nn.functional as F


def my_g_loss(logit_fake):
    """The non-saturating L_G from the logits of a fake batch."""
    ...  # your code here

# %% tags=["solution"]
def my_g_loss(logit_fake):
    """The non-saturating L_G from the logits of a fake batch."""
    return F.binary_cross_entropy_with_logits(logit_fake, torch.ones_like(logit_fake))

# %% tags=["check"]
from course_utils.exercises import check_g_loss

check_g_loss(my_g_loss);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What the numbers say
#
# The lecture prints one line per epoch: the mean generator and discriminator losses and the mean
# discriminator outputs on real and generated images.

# %%
for e in range(len(history["epoch"])):
    if history["epoch"][e] in history["sample_epochs"]:
        print(f"Epoch {history['epoch'][e]:03d} | Avg Losses >> G/D {history['g_loss'][e]:.4f}/"
              f"{history['d_loss'][e]:.4f} [D-Real: {history['d_real'][e]:.4f} "
              f"D-Fake: {history['d_fake'][e]:.4f}]")

# %% [markdown]
# A GAN's losses do not fall to zero: each player's loss is the other's gain. What we can check
# is that the discriminator has learned *something*: on average it gives real digits a higher
# probability than generated ones, and neither output is stuck at 0 or 1 (which would mean one
# player had won and the gradients had vanished).

# %%
d_real, d_fake = history["d_real"][-1], history["d_fake"][-1]
print(f"last epoch: mean d(x) = {d_real:.3f} on real digits, mean d(g(z)) = {d_fake:.3f} on "
      "generated ones")
assert d_real > d_fake, "the discriminator should rate real digits higher than generated ones"
assert 0.02 < d_fake < 0.98 and 0.02 < d_real < 0.98, "neither player should have won outright"

# %% slideshow={"slide_type": "subslide"}
last = history["samples"][-1]
show_images(last[:32], nrow=8,
            title=f"generated digits after epoch {history['epoch'][-1]} (fixed noise)")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Save for notebooks 04 and 05
#
# The checkpoint holds both networks' `state_dict`s, the configuration that rebuilds them and the
# whole history (losses and the fixed-noise samples). It is a plain `torch.save` of tensors and
# numbers, so `torch.load(..., weights_only=True)` reads it without running any pickled code.

# %%
checkpoint = artifacts_dir() / P.name / "mlp-gan.pt"
models.save(checkpoint, trained)  # the one checkpoint format of every model
print("saved", checkpoint, f"({checkpoint.stat().st_size / 1e6:.1f} MB)")

# %% [markdown]
# The same training from the command line, e.g. to pretrain before a lecture:
#
# ```
# genlab train gan --epochs 100 --out gan.pt         # this recipe, 100 epochs
# genlab sample gan.pt -n 64 -o samples.npy
# ```
