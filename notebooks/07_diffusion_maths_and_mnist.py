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
# # 07 · The mathematics of diffusion models, and digits from noise
#
# This notebook teaches the maths the lecture promised (the ELBO of the Markov hierarchical
# latent model, the Gaussian posterior, the noise-prediction loss, Tweedie's formula, score
# matching and Langevin dynamics, the SDE view, DDIM, classifier-free guidance), then trains a
# small UNet on MNIST, samples with DDPM and DDIM, with and without a chosen digit, shows the
# reverse chain and scores the samples with the same numbers as the GAN.
#
# **Run time.** About a minute on a laptop CPU with the shipped models; `COURSE_TRAIN=1` (train them
# here): ~8 min.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import torch

from course_utils import models
from course_utils.data import load_mnist, split_of
from course_utils.device import get_device, seed_everything
from course_utils.diffusion import build_ddpm, ddim_sample, ddpm_sample, train_ddpm
from course_utils.paths import artifacts_dir
from course_utils.plotting import show_images
from course_utils.profiles import get_profile
from course_utils.publish.figures import show_gif, write_frames_gif
from course_utils.scoreboard import score_images
from course_utils.scoring import classify_samples

P = get_profile()
device = get_device()
print(P, "| device", device, "| steps", P.ddpm_train_steps, "| batch", P.ddpm_batch_size,
      "| channels", P.ddpm_channels)
generator = seed_everything(0)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. A Markov hierarchical latent variable model
# Data $x_0$, latents $x_1,\dots,x_T$ of the same size. The **forward** (encoder) chain is fixed,
# $q(x_{1:T}\mid x_0) = \prod_t q(x_t\mid x_{t-1})$ with
# $q(x_t\mid x_{t-1}) = \mathcal N(\sqrt{\alpha_t}x_{t-1}, \beta_t I)$; the **reverse** (decoder)
# chain is learned, $p_\theta(x_{0:T}) = p(x_T)\prod_t p_\theta(x_{t-1}\mid x_t)$ with
# $p(x_T) = \mathcal N(0, I)$ and
# $p_\theta(x_{t-1}\mid x_t) = \mathcal N(\mu_\theta(x_t,t), \sigma_t^2 I)$.
#
# As for a VAE, Jensen's inequality gives the evidence lower bound
# $$\log p_\theta(x_0) \ge
# \mathbb E_{q}\Big[\log \frac{p_\theta(x_{0:T})}{q(x_{1:T}\mid x_0)}\Big].$$
# Writing $q(x_t\mid x_{t-1}) = q(x_t\mid x_{t-1}, x_0)$ (Markov) and using Bayes,
# $q(x_t\mid x_{t-1},x_0) = q(x_{t-1}\mid x_t,x_0)\,q(x_t\mid x_0)/q(x_{t-1}\mid x_0)$, the bound
# splits into
# $$\underbrace{\mathbb E_{q(x_1|x_0)}\log p_\theta(x_0\mid x_1)}_{\text{reconstruction}}
# - \underbrace{D_{KL}\big(q(x_T\mid x_0)\,\|\,p(x_T)\big)}_{\text{prior matching (no parameters)}}
# - \sum_{t=2}^T \underbrace{\mathbb E_{q(x_t|x_0)}
# D_{KL}\big(q(x_{t-1}\mid x_t,x_0)\,\|\,p_\theta(x_{t-1}\mid x_t)\big)
# }_{\text{denoising matching}} .$$

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The Gaussian posterior
# Both factors in Bayes' rule are Gaussian, so
# $q(x_{t-1}\mid x_t,x_0) = \mathcal N(\tilde\mu_t, \tilde\beta_t I)$ with
# $$\tilde\mu_t(x_t,x_0) = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1-\bar\alpha_t}x_0 +
# \frac{\sqrt{\alpha_t}(1-\bar\alpha_{t-1})}{1-\bar\alpha_t}x_t,
# \qquad \tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\beta_t .$$
# (`posterior_mean_variance`; `tests/test_diffusion.py` checks it against Bayes on a 1-D Gaussian.)
#
# ## 3. Why predicting the noise gives the simple loss
# Both variances are **fixed**: $\tilde\beta_t I$ for $q$, $\sigma_t^2 I$ for $p_\theta$ (Ho et al.
# take $\sigma_t^2 = \beta_t$ or $\tilde\beta_t$; the two need not be equal). Only the means carry
# parameters, so the KL, per dimension
# $\log\frac{\sigma_t}{\sqrt{\tilde\beta_t}}
#   + \frac{\tilde\beta_t + (\tilde\mu_t - \mu_\theta)^2}{2\sigma_t^2} - \frac12$,
# is $\frac{1}{2\sigma_t^2}\|\tilde\mu_t - \mu_\theta\|^2$ + a constant.
# Substituting $x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon)/\sqrt{\bar\alpha_t}$ into
# $\tilde\mu_t$ gives
# $$\tilde\mu_t = \frac{1}{\sqrt{\alpha_t}}\big(x_t -
# \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\varepsilon\big).$$
# Parametrise the model the same way with $\varepsilon_\theta(x_t,t)$ in place of $\varepsilon$;
# each KL term becomes a weighted $\|\varepsilon - \varepsilon_\theta\|^2$. Ho et al. drop the
# weights:
# $$L_{\text{simple}} = \mathbb E_{t,x_0,\varepsilon}\big\|\varepsilon -
# \varepsilon_\theta(\sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\varepsilon,\ t)\big\|^2 .$$
#
# ## 4. Tweedie's formula, scores and Langevin dynamics
# For $x_t\sim\mathcal N(\sqrt{\bar\alpha_t}x_0,(1-\bar\alpha_t)I)$ Tweedie's formula gives the
# posterior mean
# $\mathbb E[\sqrt{\bar\alpha_t}x_0\mid x_t] = x_t + (1-\bar\alpha_t)\nabla_{x_t}\log q(x_t)$.
# Comparing with the closed form,
# $\sqrt{\bar\alpha_t}x_0 = x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon$, shows
# $$\nabla_{x_t}\log q(x_t) = -\mathbb E[\varepsilon\mid x_t]/\sqrt{1-\bar\alpha_t} \approx
# -\varepsilon_\theta(x_t,t)/\sqrt{1-\bar\alpha_t}$$
# (the best predictor in mean square *is* the conditional mean): **the noise predictor is a scaled
# score**, and $L_{\text{simple}}$ is denoising score matching. Sampling then resembles annealed
# Langevin dynamics, $x \leftarrow x + \frac{\eta}{2}\nabla\log p(x) + \sqrt{\eta}\,z$, run from
# high to low noise.
#
# ## 5. The SDE view (one paragraph)
# As $T\to\infty$ the chain becomes the SDE $dx = -\frac12\beta(t)x\,dt + \sqrt{\beta(t)}\,dw$.
# Anderson's theorem gives its time reversal
# $dx = [-\frac12\beta(t)x - \beta(t)\nabla_x\log p_t(x)]dt + \sqrt{\beta(t)}\,d\bar w$, which only
# needs the score, i.e. our network. Dropping the noise and halving the score term gives the
# *probability flow ODE* with the same marginals $p_t$: deterministic sampling.
#
# ## 6. DDIM
# DDIM (Song et al. 2021) keeps the marginals $q(x_t\mid x_0)$ but uses a non-Markov forward
# process, so the same trained $\varepsilon_\theta$ can jump over steps $t > s$:
# $$\hat x_0 = \frac{x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon_\theta(x_t,t)}{\sqrt{\bar\alpha_t}},
# \qquad x_{s} = \sqrt{\bar\alpha_{s}}\,\hat x_0 +
# \sqrt{1-\bar\alpha_{s}-\sigma^2}\,\varepsilon_\theta(x_t,t) + \sigma z,
# \qquad \sigma =
# \eta\sqrt{\tfrac{1-\bar\alpha_s}{1-\bar\alpha_t}}\sqrt{1-\tfrac{\bar\alpha_t}{\bar\alpha_s}} .$$
# With $\eta = 0$ the update is deterministic, one discretisation of the probability flow ODE
# (an Euler step in the variables $x/\sqrt{\bar\alpha}$ and $\sqrt{(1-\bar\alpha)/\bar\alpha}$,
# Song et al. section 4.3): the same $x_T$ always gives the same digit, in 50 steps instead of
# 1000. With $\eta = 1$ it adds the
# ancestral sampler's noise back (on all $T$ steps it *is* DDPM).

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · The Gaussian posterior $q(x_{t-1}\mid x_t,x_0)$
# Write $\tilde\mu_t$ and $\tilde\beta_t$ of section 2 for a batch: `x0`, `xt` of shape $(N, d)$,
# one time step per row in `t` $(N,)$ (here always $t\ge1$, so $\bar\alpha_{t-1}$ is
# `alpha_bars[t - 1]`), and the schedule's `betas` and `alpha_bars` (length $T$;
# $\alpha_t=1-\beta_t$). Return `(mean, variance)`; the variance may have shape $(N, 1)$ or
# $(N, d)$.

# %% tags=["exercise"]
import torch


def my_posterior_mean_var(x0, xt, t, betas, alpha_bars):
    """(mu~_t, beta~_t) of q(x_{t-1} | x_t, x_0)."""
    ...  # your code here

# %% tags=["solution"]
def my_posterior_mean_var(x0, xt, t, betas, alpha_bars):
    """(mu~_t, beta~_t) of q(x_{t-1} | x_t, x_0)."""
    beta, abar, abar_prev = betas[t][:, None], alpha_bars[t][:, None], alpha_bars[t - 1][:, None]
    mean = (abar_prev.sqrt() * beta / (1 - abar) * x0
            + (1 - beta).sqrt() * (1 - abar_prev) / (1 - abar) * xt)
    return mean, (1 - abar_prev) / (1 - abar) * beta

# %% tags=["check"]
from course_utils.exercises import check_posterior

check_posterior(my_posterior_mean_var);

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · One DDIM step
# From $x_t$ and the predicted noise $\varepsilon=\varepsilon_\theta(x_t,t)$, step to an earlier
# time $s<t$ with the formulas of section 6: first $\hat x_0$, then $x_s$, with $\sigma$ from $\eta$
# and standard normal noise `z`. `abar_t` and `abar_s` are numbers ($\bar\alpha_s>\bar\alpha_t$:
# more signal at the earlier step).

# %% tags=["exercise"]
import math


def my_ddim_step(x_t, eps, abar_t, abar_s, eta, z):
    """x_s from x_t by one DDIM step (eta = 0: deterministic)."""
    ...  # your code here

# %% tags=["solution"]
def my_ddim_step(x_t, eps, abar_t, abar_s, eta, z):
    """x_s from x_t by one DDIM step (eta = 0: deterministic)."""
    x0_hat = (x_t - math.sqrt(1 - abar_t) * eps) / math.sqrt(abar_t)
    sigma = eta * math.sqrt((1 - abar_s) / (1 - abar_t)) * math.sqrt(1 - abar_t / abar_s)
    return math.sqrt(abar_s) * x0_hat + math.sqrt(1 - abar_s - sigma**2) * eps + sigma * z

# %% tags=["check"]
from course_utils.exercises import check_ddim_step

check_ddim_step(my_ddim_step);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Classifier-free guidance: one network, with and without a label
# Give the network the digit as well, $\varepsilon_\theta(x_t, t, y)$, and replace the label by
# "none" on a random 10% of the training images: the same network then also learns the unconditional
# $\varepsilon_\theta(x_t, t)$. Since
# $\varepsilon_\theta \approx -\sqrt{1-\bar\alpha_t}\,\nabla\log p$ (section 4), and
# $\nabla\log p(x_t\mid y) = \nabla\log p(x_t) + \nabla\log p(y\mid x_t)$, the combination
# $$\tilde\varepsilon = \varepsilon_\theta(x_t,t) +
# w\,\big(\varepsilon_\theta(x_t,t,y) - \varepsilon_\theta(x_t,t)\big)$$
# is (up to the same factor) the score of $p(x_t)\,p(y\mid x_t)^w$: $w = 1$ samples $p(x\mid y)$,
# $w > 1$ pushes towards images that are unmistakably a $y$ (clearer digits, less variety), and the
# label "none" gives the plain unconditional model. No separate classifier is trained, hence the
# name. Ho & Salimans (2022) write the same combination as
# $(1 + w')\,\varepsilon_\theta(x_t,t,y) - w'\,\varepsilon_\theta(x_t,t)$: **their $w'$ is our
# $w - 1$**, so our $w = 1$ is their $w' = 0$ and our $w = 3$ (section 11) is their $w' = 2$.
# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 · Classifier-free guidance
# Combine the network's two predictions, without the label (`eps_uncond`) and with it (`eps_cond`),
# with the guidance weight $w$ as above (ours, not Ho & Salimans' $w' = w - 1$): $w=0$ must give the
# unconditional model, $w=1$ the conditional one.

# %% tags=["exercise"]
def my_guided_eps(eps_uncond, eps_cond, w):
    """The guided noise prediction for guidance weight w."""
    ...  # your code here

# %% tags=["solution"]
def my_guided_eps(eps_uncond, eps_cond, w):
    """The guided noise prediction for guidance weight w."""
    return eps_uncond + w * (eps_cond - eps_uncond)

# %% tags=["check"]
from course_utils.exercises import check_guidance

check_guidance(my_guided_eps);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Train a UNet on MNIST
# A small UNet (28→14→7 and back, skip connections, GroupNorm, SiLU, sinusoidal time embedding,
# a learned embedding of the digit or of "no label"), Adam with warm-up, and an **exponential
# moving average** of the weights for sampling: the EMA averages out the noise of the last
# few hundred steps, which matters a lot in a run this short.

# %%
# T = 1000, linear schedule, label dropout 10 %, the profile's budget
config = models.recipe("ddpm", P)
print(config)
images, labels = split_of(load_mnist(n=config.n_train))
ddpm = build_ddpm(config, device)  # the UNet eps_theta, its EMA copy and the schedule
model, schedule = ddpm.model, ddpm.schedule
print(f"{len(images):,} digits, UNet with {sum(p.numel() for p in model.parameters()):,} "
      "parameters")

# %% tags=["hide-input"]
# a shipped checkpoint if one serves this profile (COURSE_TRAIN=1: train)
from course_utils import pretrained


def train_unet():
    # Algorithm 1 with the config's recipe (train_diffusion), the EMA weights into ddpm.ema_model
    history = train_ddpm(ddpm, images, labels, device, seed=0)
    return models.wrap(ddpm, config, history)


trained = pretrained.load_or_train("ddpm", train_unet, device)
ddpm, config, history = trained.model, trained.config, trained.history
model, schedule = ddpm.model, ddpm.schedule
print(f"trained in {history['seconds'] / 60:.1f} min ({history['images_per_second']:.0f} "
      f"images/s), {config.train_steps:,} steps of {config.batch_size}")
plt.plot(history["step"], history["loss"])
plt.xlabel("step")
plt.ylabel(r"$L_{simple}$")
plt.show()
assert history["loss"][-1] < history["loss"][0], "the loss should decrease"

# %% [markdown]
# The loss flattens early and says little about the samples: judge a diffusion model by its
# samples and their scores, below. Part of $L_\text{simple}$ is a floor no network can go below.
# The best predictor is $\mathbb E[\varepsilon\mid x_t]$ (section 4), and since
# $\varepsilon = (x_t - \sqrt{\bar\alpha_t}x_0)/\sqrt{1-\bar\alpha_t}$, what it leaves is
# $$\operatorname{Var}[\varepsilon\mid x_t]
#   = \frac{\bar\alpha_t}{1-\bar\alpha_t}\operatorname{Var}[x_0\mid x_t] .$$
# It vanishes at small $t$ ($x_t$ shows $x_0$, so the noise is known) and at large $t$
# ($\bar\alpha_t\to0$: $x_t$ is almost $\varepsilon$ itself): the floor lies at intermediate $t$,
# where the digit is being decided, not at large $t$. For pixels $x_0 = \pm1$ (equally likely) it
# can be computed exactly (`optimal_eps_mse`), on the schedule trained above:

# %%
from course_utils.diffusion import optimal_eps_mse

floor = optimal_eps_mse(schedule)  # min of E(eps - eps_theta)^2 per pixel at each t, for x_0 = +-1
plt.plot(floor)
plt.xlabel("t")
plt.ylabel(r"smallest $E\,(\varepsilon - \varepsilon_\theta)^2$, pixels $\pm1$")
plt.show()
T, peak = len(floor), int(floor.argmax())
print(f"floor {floor[10]:.4f} at t = 10, {floor.max():.3f} at t = {peak}, "
      f"{floor[-1]:.5f} at t = {T - 1}")
assert floor[10] < 0.01 and floor[-1] < 0.01 and floor.max() > 0.3, "largest in between"
assert 0.1 * T < peak < 0.9 * T, "the hardest noise to predict is at intermediate t"

# %% slideshow={"slide_type": "skip"}
# the model used here, shipped or trained
path = models.save(artifacts_dir() / P.name / "ddpm.pt", trained)
# the same model the CLI and the scoreboard load
ema_model = models.load(path, device).model.ema_model
print("saved", path)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. Sampling without a label: DDIM, deterministic and stochastic
# The unconditional model ("no label"), as the GANs are: DDIM with 50 steps, $\eta = 0$
# (deterministic: one discretisation of the probability flow ODE) and $\eta = 1$ (with noise), from
# the same $x_T$. The estimate $\hat x_0$ is clipped to the data range $[-1, 1]$ at every step. A
# small, briefly trained model usually draws cleaner strokes with $\eta = 1$: the fresh noise
# corrects the errors of earlier steps instead of carrying them along.

# %% tags=["hide-input"]
n, steps = P.ddpm_n_samples, P.ddpm_ddim_steps
x_T = torch.randn((n, 1, 28, 28), generator=generator)
samples = {eta: ddim_sample(ema_model, (n, 1, 28, 28), schedule, steps, device, x_T=x_T, clip=1.0,
                            eta=eta)
           for eta in (0.0, 1.0)}
for eta, x in samples.items():
    show_images(x[:32].cpu(), nrow=16, title=f"DDIM, {steps} steps, eta = {eta:g}, no label",
                value_range=(-1, 1))
    plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The ancestral DDPM chain (all $T$ steps) on a few digits, shown at several $t$, and as an
# animation of its 21 snapshots, noise at $t = T$ turning into digits at $t = 0$ (saved as
# `reverse_chain.gif` next to the checkpoint).

# %% tags=["hide-input"]
n_chain = 8 if P.name != "smoke" else 2
x, chain = ddpm_sample(ema_model, (n_chain, 1, 28, 28), schedule, device, seed=1, return_chain=21,
                       clip=1.0)
shown = [chain[j] for j in (0, 3, 7, 10, 13, 17, 20)]  # 7 of the 21 snapshots, x_T ... x_0
fig, axes = plt.subplots(n_chain, len(shown), figsize=(len(shown) * 1.2, n_chain * 1.2),
                         squeeze=False)
for j, (t, xt) in enumerate(shown):
    for i in range(n_chain):
        axes[i, j].imshow(xt[i, 0].clamp(-1, 1), cmap="gray", vmin=-1, vmax=1)
        axes[i, j].axis("off")
    axes[0, j].set_title(f"t = {t}")
plt.suptitle("Ancestral DDPM: the reverse chain")
plt.show()

# %%
gif = write_frames_gif([xt.clamp(-1, 1) for _, xt in chain],
                       artifacts_dir() / P.name / "reverse_chain.gif",
                       labels=[f"t = {t}" for t, _ in chain], nrow=n_chain, value_range=(-1, 1),
                       duration_ms=250)
show_gif(gif, width=120 * n_chain)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 10. Scores, comparable with the GAN
# The same numbers as the scoreboard of notebook 08 (`score_images`): MMD² and Fréchet distance in
# the 64 features of the project's MNIST classifier and MMD² in pixels, against held-out real
# digits (lower is better), and the classifier's mean confidence and class spread (higher is
# better). The first row scores real training digits: the floor for this many samples.

# %%
real, _ = split_of(load_mnist(train=False))
real = real[torch.randperm(len(real), generator=generator)[:n]]
reference = images[torch.randperm(len(images), generator=generator)[:n]]
rows = {"real training digits": score_images(reference, real)}
rows.update({f"DDIM-{steps}, eta = {eta:g}, no label": score_images(x.clamp(-1, 1).cpu(), real)
             for eta, x in samples.items()})
print(f"{'':>30} {'MMD2 feat':>10} {'MMD2 pix':>9} {'FD feat':>8} {'confidence':>10} {'spread':>7}")
for name, r in rows.items():
    print(f"{name:>30} {r['mmd2_features']:10.4f} {r['mmd2_pixels']:9.4f} {r['fd_features']:8.2f} "
          f"{r['confidence']:10.3f} {r['class_spread']:7.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The same model, told the digit: $p(x) = \sum_y p(y)\,p(x\mid y)$
# The unlabelled model saw "no label" on only 10% of its training images; the labelled one
# saw the other 90%. Drawing the digits $0, 1, \dots, 9$ in turn, each from $p(x\mid y)$ (guidance
# $w = 1$: no sharpening), is also a sample of $p(x)$, with $p(y)$ uniform (each digit is 9 to 11%
# of MNIST), and it uses the part of the network that was trained most. It costs the same: one
# network evaluation per step. This is how class-conditional diffusion models are usually
# sampled and scored. Of the GANs of notebook 08 only the conditional DCGAN (its section 3) is told
# the digit: compare it with this row, and the other GANs with the rows above.

# %% tags=["hide-input"]
each = ddim_sample(ema_model, (n, 1, 28, 28), schedule, steps, device, x_T=x_T, clip=1.0, eta=1.0,
                   labels=torch.arange(n) % 10, guidance=1.0).clamp(-1, 1).cpu()
show_images(each[:32], nrow=16,
            title=f"DDIM, {steps} steps, eta = 1, the digits 0-9 in turn (w = 1)",
            value_range=(-1, 1))
plt.show()
rows[f"DDIM-{steps}, eta = 1, digits 0-9"] = r = score_images(each, real)
print(f"{'DDIM-' + str(steps) + ', eta = 1, digits 0-9':>30} {r['mmd2_features']:10.4f} "
      f"{r['mmd2_pixels']:9.4f} {r['fd_features']:8.2f} {r['confidence']:10.3f} "
      f"{r['class_spread']:7.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 11. Digits on demand: classifier-free guidance
# The same network, now told which digit to draw: each row asks for one digit, with guidance
# $w = 3$ (section 7; Ho & Salimans' $w' = 2$). The classifier checks that the samples are the
# digits that were asked for.

# %% tags=["hide-input"]
per_digit = P.ddpm_n_per_digit
wanted = torch.arange(10).repeat_interleave(per_digit)
guided = ddim_sample(ema_model, (len(wanted), 1, 28, 28), schedule, steps, device, seed=2, clip=1.0,
                     eta=1.0, labels=wanted, guidance=3.0)
show_images(guided.reshape(10, per_digit, 1, 28, 28)[:, :10].reshape(-1, 1, 28, 28).cpu(),
            nrow=min(per_digit, 10), title="one row per requested digit, w = 3",
            value_range=(-1, 1))
plt.show()
asked = classify_samples(guided.clamp(-1, 1).cpu(), labels=wanted)
print(f"the classifier reads the requested digit in {asked.accuracy:.1%} of {len(wanted)} samples "
      f"(mean confidence {asked.mean_confidence:.3f})")

# %%
unguided = rows[f"DDIM-{steps}, eta = 1, no label"]
each_digit = rows[f"DDIM-{steps}, eta = 1, digits 0-9"]
if P.name != "smoke":  # a few seconds of training cannot make digits
    assert unguided["confidence"] >= 0.8, ("the classifier should recognise the unconditional "
                                           "samples as digits")
    assert each_digit["fd_features"] < unguided["fd_features"], ("the labelled model is the better "
                                                                 "trained one")
    assert asked.accuracy >= 0.9, "guided samples should be the digits that were asked for"
assert all(torch.isfinite(x).all() for x in samples.values())
