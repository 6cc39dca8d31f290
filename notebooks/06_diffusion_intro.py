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
# # 06 · Diffusion models: the forward chain and a 2-D denoiser
#
# This notebook teaches the **forward Markov chain** of a diffusion model, on a 2-D toy set (two
# moons) and on MNIST digits; checks the **closed form** $q(x_t \mid x_0)$ against running the
# chain step by step; and trains a small MLP denoiser that carries noise back onto the data.
#
# **Run time.** About 25 s on a laptop CPU; the same with `COURSE_TRAIN=1` (it loads no shipped
# model).

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import torch
from IPython.display import HTML
from matplotlib import animation

from course_utils.data import load_mnist, split_of
from course_utils.device import cpu_threads, seed_everything
from course_utils.diffusion import ddpm_sample, make_schedule, q_sample, train_diffusion
from course_utils.diffusion.toy_data import standardise, two_moons
from course_utils.diffusion.unet import MLPDenoiser
from course_utils.profiles import get_profile

P = get_profile()
print(P, "| toy training steps:", P.diff_toy_steps, "| T =", P.diff_T)
seed_everything(0)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The forward chain
# A diffusion model fixes a Markov chain that adds a little Gaussian noise at every step,
# $$q(x_t \mid x_{t-1}) = \mathcal N\big(\sqrt{1-\beta_t}\,x_{t-1},\ \beta_t I\big),
# \qquad t = 1,\dots,T,$$
# with a schedule $\beta_1 < \dots < \beta_T$ (linear from $10^{-4}$ to $0.02$, $T = 1000$). With
# $\alpha_t = 1-\beta_t$ and $\bar\alpha_t = \prod_{s\le t}\alpha_s$, composing Gaussians gives the
# **closed form**
# $$q(x_t \mid x_0) = \mathcal N\big(\sqrt{\bar\alpha_t}\,x_0,\ (1-\bar\alpha_t) I\big),
# \qquad x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon .$$
# Since $\bar\alpha_T \approx 0$, $x_T$ is (almost) pure noise $\mathcal N(0, I)$.

# %% tags=["hide-input"]
schedule = make_schedule(P.diff_T, "linear")
cosine = make_schedule(P.diff_T, "cosine")
plt.plot(schedule.alpha_bars, label=r"linear: $\bar\alpha_t$")
plt.plot(cosine.alpha_bars, label=r"cosine: $\bar\alpha_t$")
plt.xlabel("t")
plt.legend()
plt.title("How much signal is left")
plt.show()
assert schedule.alpha_bars[-1] < 1e-3, "x_T should be almost pure noise"

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
# mean 0, std 1: the chain ends at N(0, I)
moons = standardise(two_moons(2_000, noise=0.05, seed=0))
times = [0, 50, 100, 200, 400, 999]
fig, axes = plt.subplots(1, len(times), figsize=(15, 2.6))
for ax, t in zip(axes, times, strict=True):
    xt = q_sample(moons, torch.full((len(moons),), t), schedule)
    ax.scatter(xt[:, 0], xt[:, 1], s=1)
    ax.set_title(f"t = {t}")
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same chain on digits (pixels in $[-1, 1]$): structure fades into noise.

# %% tags=["hide-input"]
digits, _ = split_of(load_mnist(n=8))
fig, axes = plt.subplots(4, len(times), figsize=(10, 7))
for j, t in enumerate(times):
    xt = q_sample(digits[:4], torch.full((4,), t), schedule)
    for i in range(4):
        axes[i, j].imshow(xt[i, 0], cmap="gray", vmin=-1, vmax=1)
        axes[i, j].axis("off")
    axes[0, j].set_title(f"t = {t}")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · How much signal is left: $\bar\alpha_t$
# From the schedule's `betas` (a tensor of length $T$), compute
# $\bar\alpha_t=\prod_{s\le t}(1-\beta_s)$ for every $t$ (a tensor of length $T$; look up
# `torch.cumprod`).

# %% tags=["exercise"]
import torch


def my_alpha_bars(betas):
    """abar_t for t = 1..T from beta_1..beta_T."""
    ...  # your code here

# %% tags=["solution"]
def my_alpha_bars(betas):
    """abar_t for t = 1..T from beta_1..beta_T."""
    return torch.cumprod(1 - betas, dim=0)

# %% tags=["check"]
from course_utils.exercises import check_alpha_bars

check_alpha_bars(my_alpha_bars);

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · One step of the forward chain
# Draw $x_t\sim q(x_t\mid x_{t-1})=\mathcal N(\sqrt{1-\beta_t}\,x_{t-1},\ \beta_t I)$ from the
# standard normal `noise` you are given. ($\beta_t$ is a variance.)

# %% tags=["exercise"]
import math


def my_forward_step(x_prev, beta, noise):
    """x_t from x_{t-1}, the number beta_t and standard normal noise of x's shape."""
    ...  # your code here

# %% tags=["solution"]
def my_forward_step(x_prev, beta, noise):
    """x_t from x_{t-1}, the number beta_t and standard normal noise of x's shape."""
    return math.sqrt(1 - beta) * x_prev + math.sqrt(beta) * noise

# %% tags=["check"]
from course_utils.exercises import check_forward_step

check_forward_step(my_forward_step);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The closed form, checked numerically
# Run the chain step by step from $x_0 = 1.5$ (many copies) and compare mean and variance at
# step $t$ with $\sqrt{\bar\alpha_t}\,x_0$ and $1-\bar\alpha_t$.

# %% slideshow={"slide_type": "fragment"}
x0 = torch.full((100_000, 1), 1.5)
x, t_check = x0.clone(), 300
for i in range(t_check + 1):
    x = schedule.alphas[i].sqrt() * x + schedule.betas[i].sqrt() * torch.randn_like(x)
abar = schedule.alpha_bars[t_check]
print(f"chain:       mean {x.mean():.4f}  var {x.var():.4f}")
print(f"closed form: mean {abar.sqrt() * 1.5:.4f}  var {1 - abar:.4f}")
assert abs(x.mean() - abar.sqrt() * 1.5) < 0.02 and abs(x.var() - (1 - abar)) < 0.02

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 · Sampling $q(x_t\mid x_0)$ in closed form
# Write `q_sample` yourself: $x_t=\sqrt{\bar\alpha_t}\,x_0+\sqrt{1-\bar\alpha_t}\,\varepsilon$ with
# **one time step per sample**: `t` is an integer tensor of shape $(N,)$ indexing `alpha_bars`, `x0`
# has shape $(N, \dots)$ (2-D points or images $(N, 1, 28, 28)$). Reshape `alpha_bars[t]` to
# $(N, 1, \dots)$ so that it broadcasts over each sample.

# %% tags=["exercise"]
import torch


def my_q_sample(x0, t, alpha_bars, noise):
    """x_t ~ q(x_t | x_0), given the standard normal noise of x0's shape."""
    ...  # your code here

# %% tags=["solution"]
def my_q_sample(x0, t, alpha_bars, noise):
    """x_t ~ q(x_t | x_0), given the standard normal noise of x0's shape."""
    abar = alpha_bars[t].reshape(-1, *([1] * (x0.dim() - 1)))
    return abar.sqrt() * x0 + (1 - abar).sqrt() * noise

# %% tags=["check"]
from course_utils.exercises import check_q_sample

check_q_sample(my_q_sample);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learning to reverse the chain
# A network $\varepsilon_\theta(x_t, t)$ learns to predict the noise that was added,
# $$\min_\theta \mathbb E\,\|\varepsilon -
# \varepsilon_\theta(\sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\varepsilon, t)\|^2$$
# (notebook 07 derives why). For 2-D points a small MLP with a sinusoidal embedding of $t$ is
# enough.

# %% tags=["hide-input"]
denoiser = MLPDenoiser(dim=2, hidden=128)
# a network this small trains fastest on one CPU thread (benchmarks/threads.py)
with cpu_threads(1):
    ema, history = train_diffusion(denoiser, moons, schedule, steps=P.diff_toy_steps,
                                   batch_size=256, lr=2e-3, warmup=50, ema_decay=0.995, seed=0)
plt.plot(history["step"], history["loss"])
plt.xlabel("step")
plt.ylabel("loss")
plt.show()
print(f"trained in {history['seconds']:.1f} s")
assert history["loss"][-1] < history["loss"][0], "the loss should go down"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The reverse chain
# Start from $x_T \sim \mathcal N(0, I)$ and step back with the learned
# $p_\theta(x_{t-1}\mid x_t)$ (ancestral sampling): noise flows back onto the two moons.

# %% tags=["hide-input"]
points, chain = ddpm_sample(ema.model, (2_000, 2), schedule, seed=0, return_chain=6)
fig, axes = plt.subplots(1, len(chain), figsize=(15, 2.6))
for ax, (t, xt) in zip(axes, chain, strict=True):
    ax.scatter(xt[:, 0], xt[:, 1], s=1, c="C1")
    ax.set_title(f"t = {t}")
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
plt.show()

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
_, frames = ddpm_sample(ema.model, (1_000, 2), schedule, seed=1, return_chain=25, progress=False)
fig, ax = plt.subplots(figsize=(4, 4))
scatter = ax.scatter(*frames[0][1].T, s=2, c="C1")
ax.set_xlim(-3, 3)
ax.set_ylim(-3, 3)
def show(k):
    scatter.set_offsets(frames[k][1].numpy())
    ax.set_title(f"t = {frames[k][0]}")
    return (scatter,)
anim = animation.FuncAnimation(fig, show, frames=len(frames), interval=150)
plt.close(fig)
HTML(anim.to_jshtml())

# %% [markdown] slideshow={"slide_type": "subslide"}
# Did the reverse chain land on the moons? For each generated point, the distance to the nearest
# training point; the data themselves are about 0.05 / 0.5 = 0.1 thick after standardising.

# %% slideshow={"slide_type": "fragment"}
nearest = torch.cdist(points, moons).min(dim=1).values
print(f"sample mean {points.mean(0).numpy().round(2)}, std {points.std(0).numpy().round(2)} "
      "(data: 0 and 1)")
print(f"median distance to the nearest data point {nearest.median():.3f}; "
      f"{(nearest < 0.2).float().mean():.0%} of the points lie within 0.2 of the data")
assert torch.isfinite(points).all()
if P.name != "smoke":  # 300 smoke steps are too few to fit the moons
    assert nearest.median() < 0.1, "samples should lie on the moons"
    assert (points.std(0) - 1).abs().max() < 0.15, "samples should lie on the moons"
