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
# # 04 · Looking at the trained GAN
#
# **What this notebook teaches.** How to read a GAN's training curves, and what the generator
# makes as training goes on: the lecture's two figures, then a walk through the noise space.
#
# **Run time.** About 10 s on a laptop CPU; the same with `COURSE_TRAIN=1` (it loads no shipped
# model).

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import torch

from course_utils import get_device, get_profile, models
from course_utils.data import load_mnist
from course_utils.gan import create_noise
from course_utils.paths import artifacts_dir
from course_utils.plotting import plot_epoch_samples, plot_gan_history, show_images
from course_utils.publish.figures import show_gif, write_samples_gif

P = get_profile()
device = get_device()
checkpoint = artifacts_dir() / P.name / "mlp-gan.pt"
print(P, "| device:", device, "| checkpoint:", checkpoint)

# %% [markdown]
# Load notebook 03's checkpoint if it exists; otherwise train one now with the same settings.

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
if checkpoint.exists():
    gan = models.load(checkpoint, device, family="mlp-gan")
    print(f"loaded {checkpoint}: {len(gan.history['epoch'])} epochs")
else:
    print("no checkpoint from notebook 03 in this profile: training one now")
    config = models.recipe("mlp-gan", P)  # notebook 03's recipe
    gan = models.fit("mlp-gan", config, load_mnist(n=config.n_train), device, seed=1)
    models.save(checkpoint, gan)
(gen_model, disc_model), config, history = gan.model, gan.config, gan.history

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Losses and discriminator outputs
#
# Left, the generator loss $-\log d(g(\mathbf z))$ and half the discriminator loss (the mean of
# its real and fake terms). Right, the mean of $d(\mathbf x)$ on real digits and of
# $d(g(\mathbf z))$ on generated ones. If the game reached its solution $p_g = p_\text{data}$,
# the discriminator could do no better than $d\equiv 1/2$ and both losses would settle at
# $\log 2$ (dotted lines). In practice the curves level off with the discriminator still ahead:
# $d(\mathbf x) > 1/2 > d(g(\mathbf z))$.

# %% slideshow={"slide_type": "subslide"}
plot_gan_history(history)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · The losses at the game's solution
# At the solution $p_g=p_\text{data}$ the best discriminator answers $d\equiv\frac12$. What are then
# $L_D=-\log d(\mathbf x)-\log(1-d(g(\mathbf z)))$ and $L_G=-\log d(g(\mathbf z))$? Give the two
# numbers as a pair (`math.log` is there), and compare with the dotted lines of the left plot, which
# show *half* of $L_D$.

# %% tags=["exercise"]
import math

my_losses_at_solution = ...  # (L_D, L_G)

# %% tags=["solution"]
my_losses_at_solution = (-math.log(0.5) - math.log(1 - 0.5), -math.log(0.5))  # (log 4, log 2)

# %% tags=["check"]
from course_utils.exercises import check_losses_at_solution

check_losses_at_solution(my_losses_at_solution);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Samples from the same noise over the epochs
#
# Each row is one epoch (the lecture shows 1, 2, 4, 10, 50 and 100; the `smoke` and `laptop`
# profiles show what they trained), each column one fixed noise vector $\mathbf z$. Early rows
# are blobs; digit shapes appear within a few epochs and sharpen slowly. The one-hidden-layer
# MLP never gets crisp digits; convolutional generators (DCGAN) do much better.

# %% slideshow={"slide_type": "subslide"}
plot_epoch_samples(history)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same fixed noise as an animation, one frame per kept epoch (the GIF is saved next to the
# checkpoint):

# %%
gif = write_samples_gif(history, artifacts_dir() / P.name / "gan_mlp_samples.gif", n=32)
show_gif(gif, width=480)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. A walk through noise space
#
# The generator is a continuous function of $\mathbf z$, so walking on a straight line from one
# noise vector to another morphs one digit into another. (With uniform noise the line stays
# inside the cube $[-1, 1]^{20}$ the generator was trained on.)

# %% slideshow={"slide_type": "subslide"}
torch.manual_seed(3)
z_start, z_end = create_noise(2, config.z_size, config.mode_z).to(device)
alphas = torch.linspace(0, 1, 10, device=device)[:, None]
with torch.no_grad():
    walk = gen_model.eval()((1 - alphas) * z_start + alphas * z_end).reshape(-1, 28, 28)
show_images(walk.cpu(), nrow=10, title=r"g((1 - a) z0 + a z1), a = 0 ... 1")
plt.show()
assert walk.shape == (10, 28, 28) and torch.isfinite(walk).all()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · A straight walk through noise space
# Write the walk above as a function: `n` points from `z0` to `z1` (both of shape `(z_size,)`), one
# per row, $(1-a)\,\mathbf z_0+a\,\mathbf z_1$ for $a=0,\frac1{n-1},\dots,1$; the result has shape
# `(n, z_size)`.

# %% tags=["exercise"]
import torch


def my_walk(z0, z1, n):
    """n points on the segment from z0 to z1, shape (n, z_size); row 0 is z0, row n - 1 is z1."""
    ...  # your code here

# %% tags=["solution"]
def my_walk(z0, z1, n):
    """n points on the segment from z0 to z1, shape (n, z_size); row 0 is z0, row n - 1 is z1."""
    a = torch.linspace(0, 1, n, dtype=z0.dtype)[:, None]
    return (1 - a) * z0 + a * z1

# %% tags=["check"]
from course_utils.exercises import check_noise_walk

check_noise_walk(my_walk);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. How sure is the discriminator?
#
# The final discriminator's outputs on held-out real digits and on fresh generated ones. The
# overlap of the two histograms is what is left of the game: where they overlap, the
# discriminator cannot tell.

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
held_out = load_mnist(train=False, n=1_000).tensors[0].to(device)
disc_model.eval()
with torch.no_grad():
    d_real = disc_model(held_out.reshape(len(held_out), -1)).squeeze(1).cpu()
    fake = gen_model(create_noise(len(held_out), config.z_size, config.mode_z).to(device))
    d_fake = disc_model(fake).squeeze(1).cpu()
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.hist(d_real, bins=40, range=(0, 1), alpha=0.6, label="held-out real digits")
ax.hist(d_fake, bins=40, range=(0, 1), alpha=0.6, label="generated digits")
ax.set_xlabel("d(x)")
ax.legend()
plt.show()
print(f"mean d on held-out real: {d_real.mean():.3f} | on generated: {d_fake.mean():.3f}")
assert d_real.mean() > d_fake.mean(), "the discriminator should still rate real digits higher"

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 · How often is the discriminator right?
# Call an image "real" when $d>\frac12$. From the outputs `d_real` on real digits and `d_fake` on
# generated ones (1-D tensors, possibly of different lengths), compute the **balanced accuracy**:
# the mean of the accuracy on reals and the accuracy on fakes. (Try it on the histograms above:
# `my_d_accuracy(d_real, d_fake)`.)

# %% tags=["exercise"]
import torch


def my_d_accuracy(d_real, d_fake):
    """(fraction of reals with d > 1/2 + fraction of fakes with d < 1/2) / 2."""
    ...  # your code here

# %% tags=["solution"]
def my_d_accuracy(d_real, d_fake):
    """(fraction of reals with d > 1/2 + fraction of fakes with d < 1/2) / 2."""
    return float(((d_real > 0.5).float().mean() + (d_fake < 0.5).float().mean()) / 2)

# %% tags=["check"]
from course_utils.exercises import check_d_accuracy

check_d_accuracy(my_d_accuracy);
