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
# # 07 · The mathematics of diffusion models, and digits from noise
#
# This notebook teaches the maths the lecture promised (the ELBO of the Markov hierarchical
# latent model, the Gaussian posterior, the noise-prediction loss, Tweedie's formula, score
# matching and Langevin dynamics, the SDE view, DDIM), then trains a small UNet on MNIST, samples
# with DDPM and DDIM, shows the reverse chain and scores the samples with the same numbers as the GAN.
#
# **Run time:** smoke ≈ 20 s, laptop ≈ 10 min on 2 CPU cores, full ≈ 1-2 h on CPU (a GPU is advised).

# %%
import matplotlib.pyplot as plt
import torch

from course_utils.checkpoints import save_checkpoint
from course_utils.data import load_mnist, split_of
from course_utils.device import get_device, seed_everything
from course_utils.diffusion import ddim_sample, ddpm_config, ddpm_sample, load_ddpm, make_schedule, train_diffusion
from course_utils.figures import show_gif, write_frames_gif
from course_utils.paths import artifacts_dir
from course_utils.profiles import get_profile
from course_utils.scoring import classifier_features, classify_samples, frechet_distance, mmd2
from course_utils.unet import build_unet

P = get_profile()
device = get_device()
print(P, "| device", device, "| steps", P.ddpm_train_steps, "| batch", P.ddpm_batch_size, "| channels", P.ddpm_channels)
seed_everything(0)

# %% [markdown]
# ## 1. A Markov hierarchical latent variable model
# Data $x_0$, latents $x_1,\dots,x_T$ of the same size. The **forward** (encoder) chain is fixed,
# $q(x_{1:T}\mid x_0) = \prod_t q(x_t\mid x_{t-1})$ with $q(x_t\mid x_{t-1}) = \mathcal N(\sqrt{\alpha_t}x_{t-1}, \beta_t I)$;
# the **reverse** (decoder) chain is learned, $p_\theta(x_{0:T}) = p(x_T)\prod_t p_\theta(x_{t-1}\mid x_t)$ with
# $p(x_T) = \mathcal N(0, I)$ and $p_\theta(x_{t-1}\mid x_t) = \mathcal N(\mu_\theta(x_t,t), \sigma_t^2 I)$.
#
# As for a VAE, Jensen's inequality gives the evidence lower bound
# $$\log p_\theta(x_0) \ge \mathbb E_{q}\Big[\log \frac{p_\theta(x_{0:T})}{q(x_{1:T}\mid x_0)}\Big].$$
# Writing $q(x_t\mid x_{t-1}) = q(x_t\mid x_{t-1}, x_0)$ (Markov) and using Bayes,
# $q(x_t\mid x_{t-1},x_0) = q(x_{t-1}\mid x_t,x_0)\,q(x_t\mid x_0)/q(x_{t-1}\mid x_0)$, the bound splits into
# $$\underbrace{\mathbb E_{q(x_1|x_0)}\log p_\theta(x_0\mid x_1)}_{\text{reconstruction}}
# - \underbrace{D_{KL}\big(q(x_T\mid x_0)\,\|\,p(x_T)\big)}_{\text{prior matching (no parameters)}}
# - \sum_{t=2}^T \underbrace{\mathbb E_{q(x_t|x_0)} D_{KL}\big(q(x_{t-1}\mid x_t,x_0)\,\|\,p_\theta(x_{t-1}\mid x_t)\big)}_{\text{denoising matching}} .$$

# %% [markdown]
# ## 2. The Gaussian posterior
# Both factors in Bayes' rule are Gaussian, so $q(x_{t-1}\mid x_t,x_0) = \mathcal N(\tilde\mu_t, \tilde\beta_t I)$ with
# $$\tilde\mu_t(x_t,x_0) = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1-\bar\alpha_t}x_0 + \frac{\sqrt{\alpha_t}(1-\bar\alpha_{t-1})}{1-\bar\alpha_t}x_t,
# \qquad \tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\beta_t .$$
# (`posterior_mean_variance`; `tests/test_diffusion.py` checks it against Bayes on a 1-D Gaussian.)
#
# ## 3. Why predicting the noise gives the simple loss
# The KL between two Gaussians with the same variance $\sigma_t^2$ is $\frac{1}{2\sigma_t^2}\|\tilde\mu_t - \mu_\theta\|^2$ + const.
# Substituting $x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon)/\sqrt{\bar\alpha_t}$ into $\tilde\mu_t$ gives
# $\tilde\mu_t = \frac{1}{\sqrt{\alpha_t}}\big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\varepsilon\big)$. Parametrise the
# model the same way with $\varepsilon_\theta(x_t,t)$ in place of $\varepsilon$; each KL term becomes a weighted
# $\|\varepsilon - \varepsilon_\theta\|^2$. Ho et al. drop the weights:
# $$L_{\text{simple}} = \mathbb E_{t,x_0,\varepsilon}\big\|\varepsilon - \varepsilon_\theta(\sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\varepsilon,\ t)\big\|^2 .$$
#
# ## 4. Tweedie's formula, scores and Langevin dynamics
# For $x_t\sim\mathcal N(\sqrt{\bar\alpha_t}x_0,(1-\bar\alpha_t)I)$ Tweedie's formula gives the posterior mean
# $\mathbb E[\sqrt{\bar\alpha_t}x_0\mid x_t] = x_t + (1-\bar\alpha_t)\nabla_{x_t}\log q(x_t)$. Comparing with the
# closed form shows $\nabla_{x_t}\log q(x_t) = -\varepsilon_\theta(x_t,t)/\sqrt{1-\bar\alpha_t}$: **the noise predictor
# is a scaled score**, and $L_{\text{simple}}$ is denoising score matching. Sampling then resembles
# annealed Langevin dynamics, $x \leftarrow x + \frac{\eta}{2}\nabla\log p(x) + \sqrt{\eta}\,z$, run from
# high to low noise.
#
# ## 5. The SDE view (one paragraph)
# As $T\to\infty$ the chain becomes the SDE $dx = -\frac12\beta(t)x\,dt + \sqrt{\beta(t)}\,dw$. Anderson's
# theorem gives its time reversal $dx = [-\frac12\beta(t)x - \beta(t)\nabla_x\log p_t(x)]dt + \sqrt{\beta(t)}\,d\bar w$,
# which only needs the score, i.e. our network. Dropping the noise and halving the score term
# gives the *probability flow ODE* with the same marginals $p_t$: deterministic sampling.
#
# ## 6. DDIM
# DDIM (Song et al. 2021) keeps the marginals $q(x_t\mid x_0)$ but uses a non-Markov forward
# process, so the same trained $\varepsilon_\theta$ can jump over steps. With $\eta=0$:
# $$\hat x_0 = \frac{x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon_\theta(x_t,t)}{\sqrt{\bar\alpha_t}},\qquad
# x_{s} = \sqrt{\bar\alpha_{s}}\,\hat x_0 + \sqrt{1-\bar\alpha_{s}}\,\varepsilon_\theta(x_t,t),\quad s<t,$$
# a discretisation of the probability flow ODE: deterministic, and 50 steps instead of 1000.

# %% [markdown]
# ## 7. Train a UNet on MNIST
# A small UNet (28→14→7 and back, skip connections, GroupNorm, SiLU, sinusoidal time embedding),
# Adam with warm-up, and an **exponential moving average** of the weights for sampling.

# %%
images, labels = split_of(load_mnist(n=P.ddpm_n_train))
schedule = make_schedule(P.diff_T, "linear")
config = ddpm_config(P.diff_T, "linear", P.ddpm_channels)
model = build_unet(config["unet"], device)
print(f"{len(images):,} digits, UNet with {sum(p.numel() for p in model.parameters()):,} parameters")

# %%
ema, history = train_diffusion(model, images, schedule, P.ddpm_train_steps, P.ddpm_batch_size,
                               lr=2e-3, warmup=min(100, P.ddpm_train_steps), ema_decay=0.999, device=device, seed=0,
                               log_every=max(1, P.ddpm_train_steps // 40))
print(f"trained in {history['seconds'] / 60:.1f} min ({history['images_per_second']:.0f} images/s)")
plt.plot(history["step"], history["loss"]); plt.xlabel("step"); plt.ylabel(r"$L_{simple}$"); plt.show()
assert history["loss"][-1] < history["loss"][0], "the loss should decrease"

# %%
path = save_checkpoint(artifacts_dir() / P.name / "ddpm.pt", "ddpm", {"model": model, "ema_model": ema.model}, config, history)
ema_model, schedule, _ = load_ddpm(path, device)  # the same model the CLI and the scoreboard load
print("saved", path)

# %% [markdown]
# ## 8. Sampling: DDIM and the reverse chain
# DDIM with a few dozen steps; then the ancestral DDPM chain on a few digits, shown at several $t$.

# %%
def show_grid(x, title, n=32):
    x = ((x[:n].clamp(-1, 1) + 1) / 2).cpu()
    fig, axes = plt.subplots(4, n // 4, figsize=(n // 4 * 1.1, 4.6))
    for ax, img in zip(axes.flat, x):
        ax.imshow(img[0], cmap="gray", vmin=0, vmax=1); ax.axis("off")
    fig.suptitle(title); plt.show()

samples = ddim_sample(ema_model, (P.ddpm_n_samples, 1, 28, 28), schedule, P.ddpm_ddim_steps, device, seed=0)
show_grid(samples, f"DDIM, {P.ddpm_ddim_steps} steps")

# %%
n_chain = 8 if P.name != "smoke" else 2
x, chain = ddpm_sample(ema_model, (n_chain, 1, 28, 28), schedule, device, seed=1, return_chain=21)
shown = [chain[j] for j in (0, 3, 7, 10, 13, 17, 20)]  # 7 of the 21 snapshots, x_T ... x_0
fig, axes = plt.subplots(n_chain, len(shown), figsize=(len(shown) * 1.2, n_chain * 1.2), squeeze=False)
for j, (t, xt) in enumerate(shown):
    for i in range(n_chain):
        axes[i, j].imshow(xt[i, 0].clamp(-1, 1), cmap="gray", vmin=-1, vmax=1); axes[i, j].axis("off")
    axes[0, j].set_title(f"t = {t}")
plt.suptitle("Ancestral DDPM: the reverse chain"); plt.show()

# %% [markdown]
# The same chain as an animation: all 21 snapshots, noise at $t = T$ turning into digits at $t = 0$
# (saved as `reverse_chain.gif` next to the checkpoint).

# %%
gif = write_frames_gif([xt.clamp(-1, 1) for _, xt in chain], artifacts_dir() / P.name / "reverse_chain.gif",
                       labels=[f"t = {t}" for t, _ in chain], nrow=n_chain, value_range=(-1, 1), duration_ms=250)
show_gif(gif, width=120 * n_chain)

# %% [markdown]
# ## 9. Scores, comparable with the GAN
# The project's MNIST classifier: mean confidence of its prediction on the samples and the class
# histogram; MMD² and Fréchet distance in its 64-D feature space against held-out real digits.

# %%
summary = classify_samples(samples.clamp(-1, 1))
real, _ = split_of(load_mnist(train=False, n=P.ddpm_n_samples))
f_fake, f_real = classifier_features(samples.clamp(-1, 1)), classifier_features(real)
print(f"mean confidence {summary.mean_confidence:.3f}")
print(f"MMD^2 (classifier features) {float(mmd2(f_real, f_fake)):.4f}")
print(f"Frechet distance (classifier features) {float(frechet_distance(f_real, f_fake)):.2f}")
plt.bar(range(10), summary.histogram); plt.xlabel("predicted digit"); plt.show()

# %%
if P.name != "smoke":  # a few seconds of training cannot make digits
    assert summary.mean_confidence >= 0.8, "the classifier should recognise the samples as digits"
assert torch.isfinite(samples).all()
