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
# # 01 · Generative adversarial networks: the game and its solution
#
# **What this notebook teaches.** A GAN is two networks playing a zero-sum game. We write down
# the game's value function, solve the discriminator's half of it exactly, see that the
# generator's half then minimises a Jensen-Shannon divergence, explain why the lecture's code
# trains the generator with a *different* (non-saturating) loss, and see with our own eyes why
# such games are hard to converge. Everything is checked numerically on 1-D Gaussians.
#
# **Run time.** About 20 s on a laptop CPU; the same with `COURSE_TRAIN=1` (it loads no shipped
# model).
#
# Where GANs sit among deep generative models: they are *implicit* models (a sampler, no
# density), trained by a game instead of by maximum likelihood.
#
# ![A taxonomy of deep generative models](../figures/generative_overview.png)

# %% slideshow={"slide_type": "skip"}
import math

import matplotlib.pyplot as plt
import torch

from course_utils import get_profile
from course_utils.gan.game import (
    js_divergence,
    normal_pdf,
    optimal_discriminator,
    simultaneous_gradient_play,
    train_toy_gan,
    value_function,
)

P = get_profile()
print(P, "| toy GAN steps:", P.gan_toy_steps)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Two players
#
# * The **generator** $g(\mathbf z;\theta_g)$ maps noise $\mathbf z\sim p_z$ (uniform or normal,
#   `z_size` = 20 in the lecture) to a sample $\tilde{\mathbf x}$. The samples have a density
#   $p_g$ that nobody writes down: the generator is an *implicit* model.
# * The **discriminator** $d(\mathbf x;\theta_d)\in(0,1)$ is a classifier: the probability that
#   $\mathbf x$ came from the data rather than from the generator.
#
# ![The generator makes fakes; the discriminator judges](../figures/discriminator_vs_generator.png)
#
# ## 2. The zero-sum game and its value function
#
# The discriminator wants $d(\mathbf x)\to 1$ on data and $d(g(\mathbf z))\to 0$ on fakes; the
# generator wants the opposite. One number, the **value function**, measures how well the
# discriminator does:
#
# $$ v(\theta_g,\theta_d) = \mathbb E_{\mathbf x\sim p_\text{data}}\big[\log d(\mathbf x)\big]
#    + \mathbb E_{\mathbf z\sim p_z}\big[\log\big(1-d(g(\mathbf z))\big)\big]. $$
#
# The discriminator maximises it, the generator minimises it (what one player wins, the other
# loses: a zero-sum game). The solution is a saddle point, the **minimax** problem
#
# $$ \min_{\theta_g}\max_{\theta_d} v(\theta_g,\theta_d). $$
#
# Note that $-v$ is exactly the binary cross-entropy of the discriminator with label 1 for data
# and 0 for fakes: training the discriminator is ordinary logistic-regression-style classification.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The optimal discriminator
#
# Write the second expectation over $\mathbf x = g(\mathbf z)\sim p_g$. Then
# $$v = \int \big[p_\text{data}(\mathbf x)\log d(\mathbf x) +
# p_g(\mathbf x)\log(1-d(\mathbf x))\big]\,d\mathbf x,$$
# and for every $\mathbf x$ separately the integrand $a\log d + b\log(1-d)$ is maximised at
# $d = a/(a+b)$. So for a fixed generator
#
# $$ D^*(\mathbf x) = \frac{p_\text{data}(\mathbf x)}{p_\text{data}(\mathbf x) + p_g(\mathbf x)}. $$
#
# Let us check that on a grid, with $p_\text{data}=\mathcal N(0,1)$ and a poor generator
# $p_g=\mathcal N(1.5, 0.7^2)$: no perturbation of $D^*$ should increase $v$.

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
x = torch.linspace(-8, 8, 20_001, dtype=torch.float64)
p_data, p_g = normal_pdf(x, 0.0, 1.0), normal_pdf(x, 1.5, 0.7)
d_star = optimal_discriminator(p_data, p_g)
v_star = value_function(d_star, p_data, p_g, x)

torch.manual_seed(0)
for _ in range(5):
    bump = 0.05 * torch.sin(torch.rand(1) * 5 * x + torch.rand(1) * 6)
    d_other = (d_star + bump).clamp(1e-6, 1 - 1e-6)
    assert value_function(d_other, p_data, p_g, x) < v_star, "D* should maximise v"
print(f"v(g, D*) = {v_star:.6f}; every perturbed discriminator scores lower")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(x, p_data, label=r"$p_\mathrm{data}=\mathcal{N}(0,1)$")
ax.plot(x, p_g, label=r"$p_g=\mathcal{N}(1.5,0.7^2)$")
ax.plot(x, d_star, "k--", label=r"$D^*(x)$")
ax.set_xlim(-4, 5)
ax.set_xlabel("x")
ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Where only the data have mass, $D^*=1$; where only the generator has mass, $D^*=0$; where the
# two densities are equal, $D^* = 1/2$.
#
# ## 4. The generator's problem is a Jensen-Shannon divergence
#
# Put $D^*$ back into $v$ and add and subtract $\log 2$ in each term:
#
# $$ v(\theta_g, D^*) = -\log 4
#   + \mathrm{KL}\Big(p_\text{data}\,\Big\|\,\tfrac{p_\text{data}+p_g}{2}\Big)
#   + \mathrm{KL}\Big(p_g\,\Big\|\,\tfrac{p_\text{data}+p_g}{2}\Big)
#   = -\log 4 + 2\,\mathrm{JS}(p_\text{data}\,\|\,p_g). $$
#
# The Jensen-Shannon divergence is non-negative and zero only when $p_g = p_\text{data}$, so the
# generator's best reply to an optimal discriminator is to reproduce the data distribution. At
# that **solution of the minimax game** $D^*\equiv 1/2$ and $v = -\log 4$. (With natural
# logarithms $0\le \mathrm{JS}\le\log 2$, not 1.)

# %%
js = js_divergence(p_data, p_g, x)
print(f"v(g, D*)            = {v_star:.6f}")
print(f"-log 4 + 2 JS       = {-math.log(4) + 2 * js:.6f}   (JS = {js:.4f} nats, at most log 2 = "
      f"{math.log(2):.4f})")
assert abs(v_star - (-math.log(4) + 2 * js)) < 1e-6

# %% [markdown]
# As the generator moves its mean onto the data, the divergence and the value fall to their
# minimum, $-\log 4$, reached at $p_g = p_\text{data}$:

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
shifts = torch.linspace(-3, 3, 61)
values = [value_function(optimal_discriminator(p_data, q), p_data, q, x)
          for q in (normal_pdf(x, float(m), 1.0) for m in shifts)]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(shifts, values)
ax.axhline(-math.log(4), ls=":", c="grey", label=r"$-\log 4$")
ax.set_xlabel(r"mean of $p_g=\mathcal{N}(\mu,1)$")
ax.set_ylabel(r"$v(g, D^*)$")
ax.legend()
plt.show()
assert abs(min(values) - (-math.log(4))) < 1e-6

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · The optimal discriminator of two Gaussians
# For $p_\text{data}=\mathcal N(\mu_\text{data},s_\text{data}^2)$ and $p_g=\mathcal N(\mu_g,s_g^2)$,
# write $D^*(x)=\dfrac{p_\text{data}(x)}{p_\text{data}(x)+p_g(x)}$ at the points `x` (a tensor),
# with the densities written out:
# $\mathcal N(x;\mu,s^2)=\dfrac{1}{s\sqrt{2\pi}}\,e^{-(x-\mu)^2/(2s^2)}$. Does the factor
# $\frac{1}{s\sqrt{2\pi}}$ cancel?

# %% tags=["exercise"]
import math

import torch


def my_optimal_discriminator(x, mu_data, s_data, mu_g, s_g):
    """D*(x) for two Gaussians, elementwise on the tensor x."""
    ...  # your code here

# %% tags=["solution"]
def my_optimal_discriminator(x, mu_data, s_data, mu_g, s_g):
    """D*(x) for two Gaussians, elementwise on the tensor x."""
    def density(m, s):
        return torch.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))

    return density(mu_data, s_data) / (density(mu_data, s_data) + density(mu_g, s_g))

# %% tags=["check"]
from course_utils.exercises import check_optimal_discriminator

check_optimal_discriminator(my_optimal_discriminator);

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · The value function on a grid, and its value at $D^*$
# On a grid `x` with the densities `p_data`, `p_g` and a discriminator `d` (all tensors of the
# grid's length), integrate with the trapezoidal rule (`torch.trapezoid(values, x)`)
# $$v=\int\big[p_\text{data}(x)\log d(x)+p_g(x)\log\big(1-d(x)\big)\big]\,dx .$$ The check also
# feeds your function $D^*$ and compares the result with
# $-\log 4+2\,\mathrm{JS}(p_\text{data}\,\|\,p_g)$.

# %% tags=["exercise"]
import torch


def my_value_function(d, p_data, p_g, x):
    """v(g, d) by the trapezoidal rule on the grid x; returns a number."""
    ...  # your code here

# %% tags=["solution"]
def my_value_function(d, p_data, p_g, x):
    """v(g, d) by the trapezoidal rule on the grid x; returns a number."""
    return float(torch.trapezoid(p_data * torch.log(d) + p_g * torch.log1p(-d), x))

# %% tags=["check"]
from course_utils.exercises import check_value_function

check_value_function(my_value_function);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The non-saturating generator loss
#
# Goodfellow et al. (2014), in the paper that introduced GANs:
#
# > "In practice, equation 1 may not provide sufficient gradient for G to learn well. Early in
# > learning, when G is poor, D can reject samples with high confidence because they are clearly
# > different from the training data. In this case, log(1 − D(G(z))) saturates. Rather than
# > training G to minimize log(1 − D(G(z))) we can train G to maximize log D(G(z)). This
# > objective function results in the same fixed point of the dynamics of G and D but provides
# > much stronger gradients early in learning."
#
# Write $d = \sigma(\ell)$ with the discriminator's logit $\ell$. The gradients that reach the
# generator through $\ell$ are
#
# $$ \frac{\partial}{\partial \ell}\log(1-\sigma(\ell)) = -\sigma(\ell) = -d,\qquad
#    \frac{\partial}{\partial \ell}\big(-\log\sigma(\ell)\big) = -(1-\sigma(\ell)) = -(1-d). $$
#
# Early in training $d(g(\mathbf z))\approx 0$: the minimax loss gives the generator a gradient
# of size $d\approx 0$, the non-saturating loss one of size $1-d\approx 1$. This is why the
# lecture's `g_train` uses BCE with label 1 on fakes, $L_G = -\log d(g(\mathbf z))$.

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
d = torch.linspace(0.001, 0.999, 500)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
ax1.plot(d, torch.log1p(-d), label=r"minimax: minimise $\log(1-d)$")
ax1.plot(d, -torch.log(d), label=r"non-saturating: minimise $-\log d$")
ax1.set_xlabel(r"$d(g(z))$")
ax1.set_ylabel("generator loss")
ax1.legend()
ax2.plot(d, d, label=r"minimax: $|\partial/\partial\ell| = d$")
ax2.plot(d, 1 - d, label=r"non-saturating: $|\partial/\partial\ell| = 1-d$")
ax2.set_xlabel(r"$d(g(z))$")
ax2.set_ylabel("gradient size w.r.t. the logit")
ax2.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 · The two generator gradients, by hand
# With $d=\sigma(\ell)$, differentiate both generator losses with respect to the logit $\ell$ on
# paper, then write the results as functions of the tensor `logit` (use `torch.sigmoid`): the
# minimax loss $\log(1-\sigma(\ell))$ and the non-saturating loss $-\log\sigma(\ell)$. The check
# compares them with autograd's answer.

# %% tags=["exercise"]
import torch


def my_grad_minimax(logit):
    """d/dl log(1 - sigmoid(l)), elementwise."""
    ...  # your code here


def my_grad_nonsaturating(logit):
    """d/dl (-log sigmoid(l)), elementwise."""
    ...  # your code here

# %% tags=["solution"]
def my_grad_minimax(logit):
    """d/dl log(1 - sigmoid(l)), elementwise."""
    return -torch.sigmoid(logit)


def my_grad_nonsaturating(logit):
    """d/dl (-log sigmoid(l)), elementwise."""
    return -(1 - torch.sigmoid(logit))

# %% tags=["check"]
from course_utils.exercises import check_logit_gradients

check_logit_gradients(my_grad_minimax, my_grad_nonsaturating);

# %% [markdown] slideshow={"slide_type": "subslide"}
# Both losses have the same fixed point, but the game is no longer exactly zero-sum.
#
# ## 6. Why convergence is hard
#
# Training looks for a saddle point with gradient steps, one player at a time. Even the simplest
# game, $\min_x\max_y\, xy$ with its equilibrium at $(0,0)$, defeats plain gradient play:
# simultaneous steps spiral outwards (each multiplies the distance by $\sqrt{1+\eta^2}$),
# alternating steps (as `d_train` then `g_train`) circle forever. Real GANs add mode collapse
# (the generator covers a few modes the discriminator is currently weak on), vanishing gradients
# for a too-good discriminator, and no loss value that tells you how far you are from the
# solution.

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
simultaneous = simultaneous_gradient_play(1.0, 0.0, lr=0.1, steps=300)
alternating = simultaneous_gradient_play(1.0, 0.0, lr=0.1, steps=300, alternating=True)
fig, ax = plt.subplots(figsize=(5, 5))
ax.plot(*simultaneous.T, lw=0.8, label="simultaneous steps")
ax.plot(*alternating.T, lw=0.8, label="alternating steps")
ax.plot(0, 0, "k*", ms=12, label="equilibrium")
ax.set_xlabel("x (minimiser)")
ax.set_ylabel("y (maximiser)")
ax.set_aspect("equal")
ax.legend()
plt.show()
growth = float(simultaneous[-1].norm() / simultaneous[0].norm())
print(f"simultaneous: distance to the equilibrium grew {growth:.2f}x = (1 + 0.1^2)^(300/2) = "
      f"{1.01 ** 150:.2f}")
assert abs(growth - 1.01 ** 150) < 1e-6, "simultaneous play should spiral out at the predicted rate"
assert float(alternating.norm(dim=1).max()) < 1.1, "alternating play should stay on a bounded orbit"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. A GAN on 1-D data
#
# Now the real thing, small enough to watch: the lecture's networks and its `d_train` /
# `g_train` steps (from `course_utils.gan`) learn $p_\text{data} = \mathcal N(0.3, 0.15^2)$.
# We train twice: with the lecture's Adam settings (learning rate $10^{-3}$, $\beta_1 = 0.9$)
# and with the smaller, less momentum-driven settings of DCGAN ($2\cdot10^{-4}$, $\beta_1=0.5$).

# %%
MU, SIGMA = 0.3, 0.15
runs = {
    "Adam(1e-3, beta1=0.9), the lecture's": train_toy_gan(MU, SIGMA, P.gan_toy_steps, lr=1e-3,
                                                          betas=(0.9, 0.999)),
    "Adam(2e-4, beta1=0.5), DCGAN's": train_toy_gan(MU, SIGMA, P.gan_toy_steps, lr=2e-4,
                                                    betas=(0.5, 0.999)),
}

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
fig, (ax_m, ax_s) = plt.subplots(1, 2, figsize=(12, 3.5))
for name, (_, _, trace) in runs.items():
    ax_m.plot(trace["step"], trace["mean"], label=name)
    ax_s.plot(trace["step"], trace["std"], label=name)
ax_m.axhline(MU, c="k", ls=":", label="data")
ax_s.axhline(SIGMA, c="k", ls=":", label="data")
ax_m.set_title("mean of generated samples")
ax_s.set_title("standard deviation of generated samples")
for ax in (ax_m, ax_s):
    ax.set_xlabel("training step")
ax_s.legend()
plt.show()

# %% [markdown]
# The generated distribution wanders: mean and spread chase a moving target set by the
# discriminator. With the lecture's settings it typically oscillates or collapses to a narrow
# spike (the spread drops towards 0: **mode collapse** in one dimension); with the gentler
# settings it settles near the data. Below: the trained generator's histogram, the
# discriminator it faces, and the optimal discriminator $D^*$ for that generator.

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
gen, disc, trace = runs["Adam(2e-4, beta1=0.5), DCGAN's"]
with torch.no_grad():
    fake = gen(torch.randn(50_000, 4)).squeeze()
grid = torch.linspace(-1, 1, 401)
counts = torch.histc(fake, bins=100, min=-1, max=1)
p_g_hat = counts / (counts.sum() * 0.02)  # histogram as a density
centers = torch.linspace(-0.99, 0.99, 100)
with torch.no_grad():
    d_learned = disc(grid[:, None]).squeeze()
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(grid, normal_pdf(grid, MU, SIGMA), label=r"$p_\mathrm{data}$")
ax.stairs(p_g_hat, torch.linspace(-1, 1, 101), label=r"$p_g$ (histogram)")
ax2 = ax.twinx()
ax2.plot(grid, d_learned, "k", label=r"learned $d(x)$")
p_data_c = normal_pdf(centers, MU, SIGMA)
where = (p_data_c + p_g_hat) > 0.1  # D* is 0/0 where neither has mass
ax2.plot(centers[where], optimal_discriminator(p_data_c, p_g_hat)[where], "k:",
         label=r"$D^*$ for this $p_g$")
ax2.set_ylim(0, 1)
ax.legend(loc="upper left")
ax2.legend(loc="upper right")
plt.show()

# %% [markdown]
# A check that training did what the theory says it should: the generated distribution ends
# closer to the data in Jensen-Shannon divergence than where it started. Both JS values compare
# histograms (100 bins on $[-1, 1]$, the range of the generator's tanh) of 50,000 draws: of the
# data, and of the generator before training (the same seed, 0 steps) or after it. Histograms see
# the shape of $p_g$, not only its mean and spread.

# %%
from course_utils.summary.divergences import js_discrete

draws = torch.Generator().manual_seed(1)


def histogram(samples: torch.Tensor) -> torch.Tensor:
    """Bin probabilities of ``samples`` on 100 equal bins of [-1, 1]."""
    counts = torch.histc(samples, bins=100, min=-1, max=1)
    return counts / counts.sum()


def js_to_data(net: torch.nn.Module) -> float:
    """JS between histograms of 50,000 draws of the data and of the generator ``net``."""
    with torch.no_grad():
        fake = net(torch.randn(50_000, 4, generator=draws)).squeeze()
    real = MU + SIGMA * torch.randn(50_000, generator=draws)
    return js_discrete(histogram(real), histogram(fake))


untrained, _, _ = train_toy_gan(MU, SIGMA, 0, lr=2e-4, betas=(0.5, 0.999), progress=False)  # step 0
start, end = js_to_data(untrained), js_to_data(gen)
print(f"JS(data || generator), histograms: {start:.3f} at step 0 -> {end:.3f} "
      f"at step {trace['step'][-1]}")
assert end < start, "the generator should have moved towards the data"

# %% [markdown]
# **Next:** notebook 02 builds the lecture's MNIST generator and discriminator, notebook 03
# trains them, notebook 04 draws the lecture's figures.
