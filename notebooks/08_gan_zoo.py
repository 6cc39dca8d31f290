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
# # 08 · Beyond the lecture's GAN: DCGAN, WGAN-GP and one scoreboard
#
# **What this notebook teaches.** What makes GANs work better than the lecture's one-hidden-layer
# MLP (Raschka et al., ch. 17, part 2): convolutions (DCGAN), and a critic that estimates the
# Wasserstein distance (WGAN-GP). How to *see and measure* mode collapse with a classifier. Why
# the generator minimises $-\log d(g(\mathbf z))$ and not the value function's
# $\log(1 - d(g(\mathbf z)))$. And one honest scoreboard for every model of the course.
#
# **Run time.** About a minute on a laptop CPU with the shipped models; `COURSE_TRAIN=1` (train them
# here): ~13 min.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import Markdown, display

from course_utils import get_device, get_profile, models
from course_utils.data import load_mnist
from course_utils.gan import build_gan, create_noise, d_train, gan_config, make_optimizers
from course_utils.paths import artifacts_dir
from course_utils.plotting import plot_gan_history, show_images
from course_utils.scoreboard import (
    classifier_monitor,
    format_table,
    plot_class_histograms,
    plot_scoreboard,
    score_checkpoints,
    write_scoreboard,
)

P = get_profile()
device = get_device()
out = artifacts_dir() / P.name
print(P, "| device:", device)

# %% slideshow={"slide_type": "skip"}
# a budget in images seen: the same time with 4,000 or 60,000 digits
dc_config = models.recipe("dcgan", P)
data = load_mnist(n=dc_config.n_train)
epochs = dc_config.epochs_for(len(data))
print(f"{len(data):,} training images ({data.source}); {epochs} epochs = "
      f"{epochs * len(data):,} images seen per model")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. DCGAN: convolutions instead of dense layers
#
# The lecture's generator maps $\mathbf z$ to 784 pixels through one dense layer: it must learn
# separately, for every pixel, what a stroke looks like. A convolution shares one small filter
# over the whole image, so a stroke learned in one place works everywhere. The DCGAN recipe
# (Radford et al., 2016):
#
# * generator: $\mathbf z \in \mathbb R^{100}$ → transposed convolutions that double the size
#   (1 → 4 → 7 → 14 → 28 pixels), batch norm and leaky ReLU between, $\tanh$ at the end;
# * discriminator: the mirror image, strided convolutions that halve the size, one logit;
# * Adam with learning rate $2\cdot10^{-4}$ and $\beta_1 = 0.5$ (less momentum: the target
#   moves, because the other player learns too).
#
# The loss is the lecture's: BCE for $d$, the non-saturating $-\log d(g(\mathbf z))$ for $g$.
# Only the networks change, so `train_gan` runs unchanged (`models.fit("dcgan", ...)` builds the
# networks and the optimizers that the configuration names, then calls it).

# %% slideshow={"slide_type": "skip"}
print(dc_config)

# %% tags=["hide-input"]
# a shipped checkpoint if one serves this profile (COURSE_TRAIN=1: train)
from course_utils import pretrained


def zoo_model(name, config):
    """The shipped checkpoint ``name`` if one serves this profile, else its family trained here with
    ``config`` (the classifier's verdict recorded after every epoch); saved for the scoreboard."""
    trained = pretrained.load_or_train(
        name, lambda: models.fit(name, config, data, device, monitor=classifier_monitor(config)),
        device)
    # the model used here, shipped or trained: the scoreboard's
    models.save(out / f"{name}.pt", trained)
    history = trained.history
    print(f"{trained.family.title} trained in {sum(history['seconds']) / 60:.1f} min, "
          f"{history['images_per_second']:,.0f} images/s, {history['epoch'][-1]} epochs")
    return trained


dcgan = zoo_model("dcgan", dc_config)
dc_history = dcgan.history

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
plot_gan_history(dc_history)
plt.show()
show_images(dc_history["samples"][-1][:32], nrow=8,
            title=f"DCGAN after {dc_history['epoch'][-1]} epochs (fixed noise)")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. WGAN-GP: a critic instead of a judge
#
# At the optimum of the lecture's game the generator minimises
# $2\,\mathrm{JS}(p_\text{data}\,\|\,p_g) - 2\log 2$ (notebook 01). When the two distributions
# barely overlap, as two sets of images in a 784-dimensional space do early in training, the JS
# divergence is stuck at $\log 2$ and its gradient is zero. The Wasserstein-1 ("earth mover's")
# distance keeps a useful gradient: by the Kantorovich-Rubinstein duality
#
# $$W_1(p_\text{data}, p_g) = \sup_{\|f\|_L \le 1}\;
#   \mathbb E_{\mathbf x\sim p_\text{data}}[f(\mathbf x)] -
#   \mathbb E_{\mathbf z}[f(g(\mathbf z))],$$
#
# a supremum over 1-Lipschitz functions $f$, the **critic** (no sigmoid: its output is a score,
# not a probability). Gulrajani et al. (2017) keep $f$ close to 1-Lipschitz with a gradient
# penalty on random points $\hat{\mathbf x} = \epsilon\mathbf x + (1-\epsilon)g(\mathbf z)$.
# Why norm 1 there: the *optimal* critic has gradient norm 1 almost everywhere on the straight
# lines between real and generated points that the optimal transport plan pairs (their
# Proposition 1); random pairs are a cheap stand-in for those lines.
#
# $$L_f = \mathbb E[f(g(\mathbf z))] - \mathbb E[f(\mathbf x)]
#   + \lambda\,\mathbb E\big[(\|\nabla_{\hat{\mathbf x}} f(\hat{\mathbf x})\|_2 - 1)^2\big],
#   \qquad L_g = -\mathbb E[f(g(\mathbf z))],$$
#
# with their $\lambda = 10$ and $n_\text{critic} = 5$ critic steps per generator step. Two choices
# are ours, not the paper's. Adam $(10^{-4}, \beta = (0.5, 0.9))$ is the setting of the authors'
# published MNIST code; the paper's Algorithm 1 uses $\beta_1 = 0$, $\beta_2 = 0.9$. And the critic
# uses instance norm instead of batch norm: the penalty is per sample, so the critic must not mix
# the samples of a batch; the paper recommends layer norm, instance norm is another per-sample
# choice. (The shipped checkpoints were trained with these settings, so they stay.) In
# `course_utils.gan` this is `train_gan(..., loss="wgan-gp", n_critic=5)` and `gradient_penalty`:
# a parameter of the same loop, not a copy of it.

# %% tags=["hide-input"]
wgan = zoo_model("wgan-gp", models.recipe("wgan-gp", P))
wgan_history = wgan.history

# %% [markdown] slideshow={"slide_type": "subslide"}
# The critic's mean scores on real and generated digits, $\mathbb E f(\mathbf x)$ and
# $\mathbb E f(g(\mathbf z))$, are stored where the lecture stores $d(\mathbf x)$ and
# $d(g(\mathbf z))$. Their difference is the critic's estimate of $W_1$: unlike the BCE losses it
# estimates a distance between the two distributions, and Gulrajani et al. found that it falls as
# the samples improve. It is only as good as the critic: in the first epochs the critic is still
# learning, and the estimate can rise before it falls. The plot shows this run's curve beside the
# classifier's verdict; nothing here checks that the two agree.
#
# A fair warning about the budget: both GANs see the same number of training images, but with
# $n_\text{critic} = 5$ the WGAN-GP generator takes one step per five batches, five times fewer
# than the DCGAN's. In a short run that shows (compare the samples and the scoreboard below);
# the WGAN-GP's strengths, a loss that tracks quality and training that rarely diverges, pay
# off in longer runs (the `full` profile).

# %% tags=["hide-input"]
w_estimate = [r - f for r, f in zip(wgan_history["d_real"], wgan_history["d_fake"], strict=True)]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
ax1.plot(wgan_history["epoch"], w_estimate)
ax1.set(xlabel="epoch", ylabel=r"$E f(x) - E f(g(z))$", title="critic's estimate of $W_1$")
ax2.plot(wgan_history["epoch"], wgan_history["confidence"], label="WGAN-GP")
ax2.plot(dc_history["epoch"], dc_history["confidence"], label="DCGAN")
ax2.set(xlabel="epoch", ylabel="mean classifier confidence",
        title="do the samples look like digits?", ylim=(0, 1.02))
ax2.legend()
plt.show()
show_images(wgan_history["samples"][-1][:32], nrow=8,
            title=f"WGAN-GP after {wgan_history['epoch'][-1]} epochs (fixed noise)")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · The gradient penalty
# Given a critic $f$ (a module mapping $(N, d)$ to $(N, 1)$), a real and a fake batch $(N, d)$ and
# the mixing weights `eps` $(N, 1)$, form
# $\hat{\mathbf x}=\epsilon\,\mathbf x+(1-\epsilon)\,g(\mathbf z)$ and return
# $$\mathbb E\big[(\|\nabla_{\hat{\mathbf x}}f(\hat{\mathbf x})\|_2-1)^2\big]$$ (one norm per
# sample). Use `torch.autograd.grad(f(x_hat).sum(), x_hat, create_graph=True)`: why `create_graph`?

# %% tags=["exercise"]
import torch


def my_gradient_penalty(critic, real, fake, eps):
    """The WGAN-GP penalty on the interpolates eps * real + (1 - eps) * fake (a number,
    differentiable)."""
    ...  # your code here

# %% tags=["solution"]
def my_gradient_penalty(critic, real, fake, eps):
    """The WGAN-GP penalty on the interpolates eps * real + (1 - eps) * fake (a number,
    differentiable)."""
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()

# %% tags=["check"]
from course_utils.exercises import check_gradient_penalty

check_gradient_penalty(my_gradient_penalty);

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · The critic's loss
# From the critic's scores on a real and a fake batch, a penalty and its weight $\lambda$, write the
# loss the critic **minimises**,
# $L_f=\mathbb E[f(g(\mathbf z))]-\mathbb E[f(\mathbf x)]+\lambda\cdot\text{penalty}$ (one number).

# %% tags=["exercise"]
def my_critic_loss(f_real, f_fake, penalty, lam):
    """L_f for the critic's scores f_real, f_fake of shape (N, 1)."""
    ...  # your code here

# %% tags=["solution"]
def my_critic_loss(f_real, f_fake, penalty, lam):
    """L_f for the critic's scores f_real, f_fake of shape (N, 1)."""
    return f_fake.mean() - f_real.mean() + lam * penalty

# %% tags=["check"]
from course_utils.exercises import check_critic_loss

check_critic_loss(my_critic_loss);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. A conditional DCGAN: tell both players the digit
#
# A conditional GAN (Mirza & Osindero, 2014) gives both players a label $y$, here the digit. The
# generator draws $g(\mathbf z, y)$ from $[\mathbf z, \text{onehot}(y)]$; the discriminator reads
# the image together with ten constant planes that hold $\text{onehot}(y)$, and judges whether
# $\mathbf x$ is a real digit *of class* $y$. The value function is the lecture's with $y$ added:
#
# $$v = \mathbb E_{(\mathbf x, y)\sim p_\text{data}}[\log d(\mathbf x, y)]
#   + \mathbb E_{\mathbf z\sim p_z,\, y\sim p_\text{data}(y)}[\log(1 - d(g(\mathbf z, y), y))].$$
#
# In code it is `d_train(x, ..., y=y)` and `g_train(..., y=y)` with the real batch's labels, in
# the same `train_gan`; only the networks (`architecture="cdcgan"`) differ from section 1's. Two
# things get easier. A 3 drawn when a 7 was asked for is rejected, so the generator cannot give
# up on a digit: the collapse *onto a few digits* of section 4 is ruled out by construction.
# Collapse *within* a digit is not: the generator may still draw one style of 7 whenever a 7 is
# asked for, and the class spread (section 4) cannot see that, since the digits are asked for in
# turn (below we measure it). And each $p(\mathbf x\mid y)$ is a simpler distribution than the
# mixture of all ten. To sample $p(\mathbf x)$ it draws the digits 0-9 in turn, as the DDPM of
# notebook 07 does.

# %% tags=["hide-input"]
cdcgan = zoo_model("cdcgan", models.recipe("cdcgan", P))
cd_history = cdcgan.history

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
show_images(cdcgan.sample(40, device, seed=0), nrow=10,
            title="conditional DCGAN: the digits 0-9 in turn, one column each")
plt.show()
plt.figure(figsize=(6, 3.5))
for name, history in (("DCGAN", dc_history), ("conditional DCGAN", cd_history),
                      ("WGAN-GP", wgan_history)):
    plt.plot(history["epoch"], history["confidence"], label=name)
plt.xlabel("epoch")
plt.ylabel("mean classifier confidence")
plt.ylim(0, 1.02)
plt.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "fragment"}
# The classifier reads the digit that was asked for: the share of samples of each column that it
# labels $y$ measures how well the generator obeys the label.

# %% slideshow={"slide_type": "fragment"}
from course_utils.scoring import classify_samples

asked = torch.arange(P.zoo_n_score) % 10  # what cdcgan.sample draws: the digits 0-9 in turn
obeyed = classify_samples(cdcgan.sample(len(asked), device, seed=1), labels=asked,
                          device=device).accuracy
print(f"the classifier reads the digit asked for in {obeyed:.1%} of {len(asked)} samples")
if P.name != "smoke":
    assert obeyed > 0.8, "a trained conditional generator should draw the digit it is asked for"

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Variety within a digit.** The mean distance between two samples of the same requested digit $k$,
# in the classifier's 64 features, $d_k = \frac{1}{n_k(n_k-1)}\sum_{i\ne j}\|f_i - f_j\|$
# (`within_class_distance`), against the same for held-out real digits of class $k$: a ratio near 1
# is as varied as real 7s, a ratio near 0 is one style of 7 drawn again and again.

# %% slideshow={"slide_type": "fragment"}
from course_utils.data import split_of
from course_utils.scoring import classifier_features, within_class_distance

real_digits, real_labels = split_of(load_mnist(train=False, n=len(asked)))
d_real = within_class_distance(classifier_features(real_digits, device=device), real_labels)
drawn = cdcgan.sample(len(asked), device, seed=1)  # the digits 0-9 in turn, as in `asked`
ratio = within_class_distance(classifier_features(drawn, device=device), asked) / d_real
plt.figure(figsize=(6, 3))
plt.bar(range(10), ratio)
plt.axhline(1, color="0.6", ls=":", label="as varied as real digits")
plt.gca().set(xticks=range(10), xlabel="requested digit", ylabel="$d_k$ generated / $d_k$ real")
plt.legend()
plt.show()
print("variety within each digit, generated / real:", [round(r, 2) for r in ratio.tolist()])
if P.name != "smoke":  # the smoke run's grey blobs vary far less than real digits do
    assert ratio.min() > 0.5, "no requested digit should have collapsed onto a single style"

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 · Telling the discriminator the digit
# Given images `images` $(N, 1, 28, 28)$ and their digits `y` $(N,)$ (int64), build the conditional
# discriminator's input $(N, 11, 28, 28)$: the image in channel 0, then ten constant planes, plane
# $k$ all ones where $y = k$ and zeros elsewhere (`F.one_hot`, then broadcast over the pixels).

# %% tags=["exercise"]
import torch
import torch.nn.functional as F


def my_label_planes(images, y):
    """[image, onehot(y) as ten 28 x 28 planes]: shape (N, 11, 28, 28)."""
    ...  # your code here

# %% tags=["solution"]
def my_label_planes(images, y):
    """[image, onehot(y) as ten 28 x 28 planes]: shape (N, 11, 28, 28)."""
    planes = F.one_hot(y, 10).to(images.dtype)[:, :, None, None].expand(-1, -1, 28, 28)
    return torch.cat([images, planes], dim=1)

# %% tags=["check"]
from course_utils.exercises import check_label_planes

check_label_planes(my_label_planes);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Mode collapse, seen and measured
#
# A generator can fool the discriminator with a few kinds of digit only: **mode collapse**. The
# discriminator then learns to reject those, the generator hops to others, and the game may never
# settle. Looking at 32 samples hides it; a classifier measures it. The project's small MNIST
# classifier (98.8% on MNIST's test set, `course_utils.scoring.classifier`) reads 500 samples of
# each model (1,000 in the `full` profile); we count how often it sees each digit. Real digits give
# a flat histogram (10% each). The **class spread**, the histogram's entropy divided by $\log 10$,
# is 1 for a flat histogram and 0 when every sample is the same digit. (In the `smoke` profile the
# barely trained generators make grey blobs that the classifier reads, with great confidence, as one
# digit: total collapse, and a reminder that a classifier's confidence alone can be fooled.)

# %% slideshow={"slide_type": "skip"}
mlp_path = out / "mlp-gan.pt"
if mlp_path.exists():  # written by notebook 03 in the same profile
    mlp = models.load(mlp_path, device, family="mlp-gan")
else:  # train it with notebook 03's recipe (and its data)
    mlp = models.fit("mlp-gan", models.recipe("mlp-gan", P), device=device)
    models.save(mlp_path, mlp)
print("the lecture's MLP GAN:", mlp_path)

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
others = [out / name for name in ("vae.pt", "ddpm.pt") if (out / name).exists()]  # notebooks 00, 07
board = score_checkpoints([mlp_path, out / "dcgan.pt", out / "cdcgan.pt", out / "wgan-gp.pt",
                           *others],
                          n=P.zoo_n_score, device=device, all_digits=True)
histograms = {row["name"]: row["histogram"] for row in board["rows"]}
plot_class_histograms(histograms)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Mode collapse is rarely all or nothing: some digits are over-produced, some are rare. The
# spread of every model can also be followed during training (it was recorded after every epoch
# by `classifier_monitor`): dips are the generator hopping between favourite digits.

# %% tags=["hide-input"]
plt.figure(figsize=(6, 3.5))
for name, history in (("DCGAN", dc_history), ("conditional DCGAN", cd_history),
                      ("WGAN-GP", wgan_history)):
    plt.plot(history["epoch"], history["class_spread"], label=name)
plt.axhline(board["rows"][0]["class_spread"], color="0.6", ls=":", label="real digits")
plt.xlabel("epoch")
plt.ylabel("class spread")
plt.legend()
plt.show()

# %% slideshow={"slide_type": "fragment"}
width = max(len(row["name"]) for row in board["rows"])
for row in board["rows"][1:]:
    rare = [d for d, c in enumerate(row["histogram"]) if c < 0.5 * P.zoo_n_score / 10]
    print(f"{row['name']:>{width}}: class spread {row['class_spread']:.3f}; digits at less than "
          f"half their share: {rare or 'none'}")
assert board["rows"][0]["class_spread"] > 0.98, "real digits should cover all ten classes evenly"

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 4 · Mode collapse in one number: the class spread
# From a histogram `counts` of the classes the classifier reads in the samples (a tensor of length
# $K=10$), write the normalised entropy $-\sum_k p_k\log p_k/\log K$ with
# $p=\text{counts}/\sum\text{counts}$: 1 when every class is equally frequent, 0 when only one class
# is left. Empty classes add nothing ($0\log0=0$).

# %% tags=["exercise"]
import math

import torch


def my_class_spread(counts):
    """The entropy of the class histogram divided by log(number of classes)."""
    ...  # your code here

# %% tags=["solution"]
def my_class_spread(counts):
    """The entropy of the class histogram divided by log(number of classes)."""
    p = counts / counts.sum()
    p = p[p > 0]
    return float(-(p * p.log()).sum() / math.log(len(counts)))

# %% tags=["check"]
from course_utils.exercises import check_class_spread

check_class_spread(my_class_spread);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The non-saturating generator loss, measured
#
# The value function asks the generator to *minimise* $\mathbb E\log(1 - d(g(\mathbf z)))$ (the
# "minimax" loss). Early in training the discriminator easily rejects the generator's blobs,
# $d(g(\mathbf z)) \approx 0$, and there $\log(1 - d)$ is flat: with $d = \sigma(l)$ for the
# logit $l$,
#
# $$\frac{\partial}{\partial l}\log(1 - \sigma(l)) = -\sigma(l) \approx 0, \qquad
#   \frac{\partial}{\partial l}\big(-\log\sigma(l)\big) = -(1 - \sigma(l)) \approx -1 .$$
#
# Goodfellow et al. therefore let the generator maximise $\log d(g(\mathbf z))$ instead: same
# fixed point, strong gradients exactly when the generator is bad. We check both claims: the
# gradient that reaches the generator's weights right after a few discriminator steps, and
# two runs of the lecture's MLP GAN that differ only in the generator loss.

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
torch.manual_seed(0)
gen, disc = build_gan(gan_config(), device)  # the lecture's MLPs, untrained
_, d_opt = make_optimizers(gen, disc)
x_real = data.tensors[0][:64].to(device)
for _ in range(50):  # let the discriminator get ahead, as it does in early training
    d_train(x_real, gen, disc, d_opt)
config = gan_config()
# d's logits: drop its Sigmoid
logits = disc[:-1](gen(create_noise(256, config.z_size, config.mode_z, device=device)))
norms = {}
for name, loss in (("minimax  log(1 - d)", -F.softplus(logits).mean()),
                   ("non-saturating  -log d", F.softplus(-logits).mean())):
    grads = torch.autograd.grad(loss, list(gen.parameters()), retain_graph=True)
    norms[name] = torch.sqrt(sum((g ** 2).sum() for g in grads)).item()
    print(f"{name:>24}: gradient norm {norms[name]:.2e}")
print(f"mean d(g(z)) = {torch.sigmoid(logits).mean().item():.4f}")
assert norms["non-saturating  -log d"] > 10 * norms["minimax  log(1 - d)"], ("the minimax loss "
                                                                             "should saturate")

# %% tags=["hide-input"]
runs = {}
for loss in ("bce", "minimax"):
    config = models.recipe("mlp-gan", P, loss=loss, epochs=P.zoo_compare_epochs)
    run = models.fit("mlp-gan", config, device=device, monitor=classifier_monitor(config))
    runs[loss] = (run.model.gen_model, run.history)

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
for loss, label in (("bce", "non-saturating  -log d(g(z))"),
                    ("minimax", "minimax  log(1 - d(g(z)))")):
    history = runs[loss][1]
    ax1.plot(history["epoch"], history["d_fake"], label=label)
    ax2.plot(history["epoch"], history["class_spread"], label=label)
ax1.set(xlabel="epoch", ylabel="mean d(g(z))", title="how often the generator fools d")
ax2.set(xlabel="epoch", ylabel="class spread", title="how many different digits?", ylim=(0, 1.02))
ax1.legend()
plt.show()
for loss in ("bce", "minimax"):
    history = runs[loss][1]
    print(f"{loss:>8}: last epoch d(g(z)) = {history['d_fake'][-1]:.3f}, classifier confidence "
          f"{history['confidence'][-1]:.3f}, class spread {history['class_spread'][-1]:.3f}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Adam divides every step by a running estimate of the gradient's size, which hides part of the
# saturation: a small but consistent gradient still moves the weights. The gap shows mostly at
# the start, while $d(g(\mathbf z))$ is small; plain SGD would show it more starkly.
#
# Read the class spread too. The classifier's confidence can be high while the generator draws
# only a few kinds of digit: the lecture's small MLP GAN, on a few thousand digits, can collapse
# onto a handful of classes with either loss. The non-saturating loss fixes the *gradient*, not
# mode collapse.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The scoreboard
#
# Every model of the course, scored the same way: the same held-out real digits (never seen in
# training), the same number of samples, the same measures (`course_utils.scoreboard`):
# unbiased MMD² in the classifier's 64 features and in pixels, the Fréchet distance in the
# classifier's features (FID with our classifier in place of Inception), the classifier's mean
# confidence, the class spread, and the seconds to train and to sample on this machine. The
# first row scores real training digits: the best any model can do with this many samples. The
# VAE (notebook 00) and the diffusion model (notebook 07) join when their notebooks have run in
# the same profile (section 4 scored them all). Two models were trained with the digits' labels,
# the conditional DCGAN (section 3) and the DDPM: they draw the digits 0-9 in turn, each from
# $p(x\mid y)$ (the DDPM with guidance 1, notebook 07, section 10), which is a sample of $p(x)$,
# so their class spread is even by construction ("digits 0-9" in their names; variety within a
# digit is another matter: section 3). Compare them with
# each other, and the unconditional DCGAN with the MLP GAN and the WGAN-GP; notebook 07 scores the
# DDPM without labels too.

# %% slideshow={"slide_type": "subslide"}
display(Markdown(format_table(board)))

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
plot_scoreboard(board)
plt.show()
print("written:", *write_scoreboard(board, out).values())

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same table and figure from the command line, for any checkpoints:
#
# ```
# python -m course_utils scoreboard build/artifacts/laptop/*.pt -n 1000 --out scoreboard/
# ```
#
# With enough training the convolutional GAN should beat the lecture's MLP on every quality
# measure (the five scores; the seconds are costs, and there the small MLP is cheaper); in the
# `smoke` profile nothing has trained long enough to say.

# %% slideshow={"slide_type": "fragment"}
rows = {row["name"]: row for row in board["rows"]}
dcgan, mlp = rows["DCGAN"], rows["MLP GAN (lecture)"]
better = {"mmd2_features": dcgan["mmd2_features"] < mlp["mmd2_features"],
          "mmd2_pixels": dcgan["mmd2_pixels"] < mlp["mmd2_pixels"],
          "fd_features": dcgan["fd_features"] < mlp["fd_features"],
          "confidence": dcgan["confidence"] > mlp["confidence"],
          "class_spread": dcgan["class_spread"] > mlp["class_spread"]}
print("DCGAN better than the MLP GAN on:", better)
if P.name != "smoke":
    assert all(better.values()), ("the DCGAN should beat the lecture's MLP GAN on every quality "
                                  "score")
