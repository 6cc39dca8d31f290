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
# # 00b · Boltzmann machines, contrastive divergence and score-based models
#
# **What this notebook teaches.** Energy-based models $p=e^{-E}/Z$ and why $Z$ is intractable; the
# log-likelihood gradient as data term minus model term; a binary RBM on binarised MNIST trained
# with CD-1 and persistent CD, judged by its *exact* log-likelihood; Gibbs sampling; then the score
# $\nabla\log p$ (where $Z$ drops out), denoising score matching, Langevin and annealed Langevin
# sampling on 2-D data, and Tweedie's formula as the bridge to diffusion.
#
# Langevin steps are written as in Song & Ermon (2019) and in notebook 07:
# $\mathbf x\leftarrow\mathbf x+\frac{\eta}{2}\nabla\log p(\mathbf x)+\sqrt{\eta}\,\mathbf z$.
#
# **Run time.** About 45 s on a laptop CPU; the same with `COURSE_TRAIN=1` (it loads no shipped
# model).

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import torch

from course_utils import get_profile, seed_everything
from course_utils.data import load_mnist, split_of
from course_utils.summary import rbm as R
from course_utils.summary import score_matching as S

P = get_profile()
seed_everything(0)
print(P, "| RBM epochs:", P.rbm_epochs, "| score steps:", P.score_steps)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Energy-based models and the RBM
# $$E(\mathbf v,\mathbf h)=-\mathbf b^\top\mathbf v-\mathbf c^\top\mathbf h-
# \mathbf v^\top W\mathbf h,$$
# $p(\mathbf v,\mathbf h)=e^{-E(\mathbf v,\mathbf h)}/Z$, $Z=\sum_{\mathbf v,\mathbf h}e^{-E}$
# ($2^{D+H}$ terms). Free energy
# $F(\mathbf v)=-\mathbf b^\top\mathbf v-\sum_j\mathrm{softplus}(c_j+(\mathbf v^\top W)_j)$,
# $p(\mathbf v)=e^{-F(\mathbf v)}/Z$. Gradient:
# $$\partial_\theta\log p(\mathbf v)=\mathbb E_{p(\mathbf h|\mathbf v)}[-\partial_\theta E]-
# \mathbb E_{p(\mathbf v,\mathbf h)}[-\partial_\theta E],$$
# because $\partial_\theta\log Z=\mathbb E_p[-\partial_\theta E]$. Check on a tiny RBM by
# enumeration:

# %% slideshow={"slide_type": "fragment"}
tiny = R.RBM(4, 3, seed=0, init_std=0.5).double()
data = torch.tensor([[1, 1, 0, 0], [0, 0, 1, 1.0]], dtype=torch.float64)
exact = R.exact_gradient(tiny, data)
loglik = ((-R.free_energy(tiny, data)).mean()
          - torch.logsumexp(-R.free_energy(tiny, R.all_states(4).double()), 0))
loglik.backward()
assert torch.allclose(exact["W"], tiny.W.grad), ("data term minus model term = autograd gradient "
                                                 "of log p")
print("exact gradient of W:\n", exact["W"])

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · The free energy of an RBM
# Summing the hidden units out of $e^{-E(\mathbf v,\mathbf h)}$ gives the free energy, one number
# per row of `v` (shape $(N, D)$; `W` is $(D, H)$, `b` is $(D,)$, `c` is $(H,)$):
# $$F(\mathbf v)=-\mathbf b^\top\mathbf v-
# \sum_{j=1}^H\mathrm{softplus}\big(c_j+(\mathbf v^\top W)_j\big),
# \qquad \mathrm{softplus}(x)=\log(1+e^x).$$

# %% tags=["exercise"]
import torch
import torch.nn.functional as F


def my_free_energy(v, W, b, c):
    """F(v) for each row of v: (N, D) -> (N,)."""
    ...  # your code here

# %% tags=["solution"]
def my_free_energy(v, W, b, c):
    """F(v) for each row of v: (N, D) -> (N,)."""
    return -(v @ b) - F.softplus(v @ W + c).sum(dim=1)

# %% tags=["check"]
from course_utils.exercises import check_free_energy

check_free_energy(my_free_energy);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. CD-1 vs persistent CD on binarised MNIST
# CD-k starts the negative Gibbs chain at the data and stops after $k$ steps: cheap but **biased**
# (not the gradient of the log-likelihood). PCD keeps its chains between updates. With $H=16$ hidden
# units we can enumerate $2^{16}$ hidden states, so $\log Z$ and the log-likelihood are exact, on
# the training digits and on held-out digits the RBM never sees. Both start from the
# **independent-pixel model**: $W\approx0$ and $b_i=\log\frac{p_i}{1-p_i}$, $p_i$ the fraction of
# digits with pixel $i$ on (Hinton 2010, section 8.1); the hidden units then only have to learn what
# pixel frequencies miss. (Started from $b=0$, PCD-1 at this learning rate stalled there in our
# runs, its hidden units dead.)

# %% slideshow={"slide_type": "subslide"}
v = R.binarize(split_of(load_mnist(n=P.rbm_n_train))[0])
v_held = R.binarize(split_of(load_mnist(train=False))[0])
# W = 0
independent = R.log_likelihood(R.init_visible_bias(R.RBM(784, P.rbm_hidden, init_std=0.0), v), v)
runs = {}
for name, persistent in (("CD-1", False), ("PCD-1", True)):
    rbm = R.init_visible_bias(R.RBM(784, P.rbm_hidden, seed=0), v)
    runs[name] = (rbm, R.train_rbm(rbm, v, P.rbm_epochs, k=1, persistent=persistent,
                                   exact_every_epoch=True, held_out=v_held))
print(f"independent pixels: mean log p(v) {independent:.1f} nats")
for name, (_, h) in runs.items():
    print(f"{name}: exact mean log p(v) train {h['log_likelihood'][-1]:.1f}, held out "
          f"{h['log_likelihood_held_out'][-1]:.1f} nats; reconstruction error "
          f"{h['recon_error'][-1]:.4f}")
assert all(h["log_likelihood"][-1] > h["log_likelihood"][0]
           for _, h in runs.values()), "training raised log p"

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
for (name, (_, h)), colour in zip(runs.items(), ("C0", "C1"), strict=True):
    plt.plot(h["log_likelihood"], colour, label=f"{name}, training digits")
    plt.plot(h["log_likelihood_held_out"], colour + "--", label=f"{name}, held-out digits")
plt.axhline(independent, color="k", ls=":", label="independent pixels (training)")
plt.xlabel("epoch")
plt.ylabel("exact mean log p(v) [nats]")
plt.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "fragment"}
# Both RBMs beat the independent-pixel model and, in this run, PCD-1 ends with the higher likelihood
# (asserted below outside the `smoke` profile, whose two epochs are too short to tell). That is
# what CD-1's biased gradient leads one to expect, but one run from one seed is a ranking, not a
# proof of the bias: the cell after it measures the bias itself. Compare the two reconstruction
# errors printed above with the gap between the likelihoods: the reconstruction error is not the
# objective, only a cheap and weak guide to it (Hinton 2010, *A practical guide to training RBMs*).

# %% slideshow={"slide_type": "fragment"}
ll = {name: h["log_likelihood"][-1] for name, (_, h) in runs.items()}
if P.name != "smoke":
    assert min(ll.values()) > independent, (f"the hidden units should beat independent pixels, "
                                            f"got {ll}")
    assert ll["PCD-1"] > ll["CD-1"], f"PCD should reach the higher likelihood, got {ll}"

# %% [markdown] slideshow={"slide_type": "fragment"}
# **CD-1's bias, measured.** On a tiny RBM (4 visible, 3 hidden units, strong weights so that one
# Gibbs step does not mix) the exact gradient is known (section 1). Averaging the CD-1 estimate
# over 100,000 copies of the data gives its expectation up to Monte Carlo noise, which two seeds
# show; the gap to the exact gradient is the bias.

# %% slideshow={"slide_type": "fragment"}
strong = R.RBM(4, 3, seed=0, init_std=2.0).double()
copies = data.repeat(50_000, 1)  # the two rows of section 1, 100,000 CD-1 chains at once
cd1 = [R.cd_gradient(strong, copies, k=1, generator=torch.Generator().manual_seed(seed))[0]["W"]
       for seed in (0, 1)]
bias = float((cd1[0] - R.exact_gradient(strong, data)["W"]).abs().max())
noise = float((cd1[0] - cd1[1]).abs().max())
print(f"largest |E[CD-1] - exact| over W: {bias:.3f}; Monte Carlo noise (two seeds differ by) "
      f"{noise:.3f}")
assert bias > 10 * noise, "CD-1's expected gradient should differ from the exact one"

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Reconstructions: $\mathbf v\to\mathbf h\sim p(\mathbf h|\mathbf v)\to p(\mathbf v|\mathbf h)$
# Held-out digits (top row) and, below them, the probabilities $p(v_i=1|\mathbf h)$ after one
# sampled hidden state, for each training method. Sixteen binary hidden units can only keep a coarse
# sketch.

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
gen = torch.Generator().manual_seed(0)
rows = {"data": v_held[:10]} | {name: R.gibbs_step(rbm, v_held[:10], gen)[1]
                                for name, (rbm, _) in runs.items()}
fig, ax = plt.subplots(len(rows), 10, figsize=(10, 1.1 * len(rows)))
for r, (name, imgs) in enumerate(rows.items()):
    for i in range(10):
        ax[r, i].imshow(imgs[i].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        ax[r, i].axis("off")
    ax[r, 0].set_title(name, loc="left", fontsize=9)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Free energy of training vs held-out digits
# `history["free_energy"]` is the mean $F(\mathbf v)$ of the training digits after each epoch. On
# its own it says little, because $\log p(\mathbf v)=-F(\mathbf v)-\log Z$ and $Z$ changes at every
# update. The **gap** between held-out and training digits has no $Z$ in it:
# $$\overline{F}_{\text{held out}}-\overline{F}_{\text{train}}=
# \overline{\log p}_{\text{train}}-\overline{\log p}_{\text{held out}}.$$
# A growing gap would mean overfitting (Hinton 2010, section 6).

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
fig, ax = plt.subplots(1, 2, figsize=(10, 3.3))
epochs = range(1, P.rbm_epochs + 1)
for (name, (_, h)), colour in zip(runs.items(), ("C0", "C1"), strict=True):
    ax[0].plot(epochs, h["free_energy"], colour, label=f"{name}, training")
    ax[0].plot(epochs, h["free_energy_held_out"], colour + "--", label=f"{name}, held out")
    gap = torch.tensor(h["free_energy_held_out"]) - torch.tensor(h["free_energy"])
    ax[1].plot(epochs, gap, colour, label=f"{name}: F gap")
    ax[1].plot(epochs, torch.tensor(h["log_likelihood"][1:])
               - torch.tensor(h["log_likelihood_held_out"][1:]),
               colour + "o", ms=4, label=f"{name}: log p gap (exact)")
ax[0].set_title("mean free energy F(v)")
ax[1].set_title("held out minus training [nats]")
ax[1].set_ylim(bottom=0)
for a in ax:
    a.set_xlabel("epoch")
    a.legend(fontsize=8)
plt.show()

# %% slideshow={"slide_type": "fragment"}
for name, (_, h) in runs.items():
    f_gap = h["free_energy_held_out"][-1] - h["free_energy"][-1]
    ll_gap = h["log_likelihood"][-1] - h["log_likelihood_held_out"][-1]
    print(f"{name}: F gap {f_gap:.2f} nats = log p gap {ll_gap:.2f} nats "
          f"({100 * ll_gap / abs(h['log_likelihood'][-1]):.1f} % of |log p|)")
    assert abs(f_gap - ll_gap) < 1e-3, "the free-energy gap is the log-likelihood gap: Z cancels"
    if P.name != "smoke":
        assert ll_gap < 0.05 * abs(h["log_likelihood"][-1]), (f"{name}: held-out digits should "
                                                              "be nearly as likely")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Samples by Gibbs chains
# Eight chains from random pixels, $\mathbf v\to\mathbf h\to\mathbf v\to\dots$ with the PCD-trained
# RBM (we show $p(\mathbf v|\mathbf h)$). Sixteen hidden units give rough digits, and Gibbs chains
# move slowly from one mode (digit shape) to another.

# %% tags=["hide-input"] slideshow={"slide_type": "fragment"}
rbm = runs["PCD-1"][0]
pv, snaps = R.gibbs_chain(rbm, torch.bernoulli(torch.full((8, 784), 0.5)), P.rbm_gibbs_steps,
                          keep_every=P.rbm_gibbs_steps // 4)
fig, ax = plt.subplots(len(snaps), 8, figsize=(8, len(snaps)))
for r, sn in enumerate(snaps):
    for i in range(8):
        ax[r, i].imshow(sn[i].reshape(28, 28), cmap="gray")
        ax[r, i].axis("off")
plt.suptitle("Gibbs chains (rows: later steps)")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · One CD-1 gradient, by hand
# One Gibbs step from the data $\mathbf v_0$ (rows of `v0`), with the randomness given to you as
# uniform numbers `u_h` $(N, H)$ and `u_v` $(N, D)$, so that the answer is exact: a unit is on when
# its uniform number is below its probability.
# 1. $\mathbf p_0=\sigma(\mathbf v_0W+\mathbf c)$, $\ \mathbf h_0=[\,u_h<\mathbf p_0\,]$;
# 2. $\mathbf v_1=[\,u_v<\sigma(\mathbf h_0W^\top+\mathbf b)\,]$,
#    $\ \mathbf p_1=\sigma(\mathbf v_1W+\mathbf c)$;
# 3. data term minus model term, averaged over the $N$ rows:
#    $\Delta W=\frac1N(\mathbf v_0^\top\mathbf p_0-\mathbf v_1^\top\mathbf p_1)$ $(D,H)$,
#    $\Delta\mathbf b=\overline{\mathbf v_0-\mathbf v_1}$,
#    $\Delta\mathbf c=\overline{\mathbf p_0-\mathbf p_1}$.
#
# (`R.cd_gradient` does the same with random draws; training adds `lr` times these to the
# parameters.)

# %% tags=["exercise"]
import torch


def my_cd1_gradient(v0, W, b, c, u_h, u_v):
    """The CD-1 estimate (dW, db, dc) of the log-likelihood gradient."""
    ...  # your code here

# %% tags=["solution"]
def my_cd1_gradient(v0, W, b, c, u_h, u_v):
    """The CD-1 estimate (dW, db, dc) of the log-likelihood gradient."""
    p0 = torch.sigmoid(v0 @ W + c)
    h0 = (u_h < p0).to(v0.dtype)
    v1 = (u_v < torch.sigmoid(h0 @ W.T + b)).to(v0.dtype)
    p1 = torch.sigmoid(v1 @ W + c)
    n = len(v0)
    return (v0.T @ p0 - v1.T @ p1) / n, (v0 - v1).mean(0), (p0 - p1).mean(0)

# %% tags=["check"]
from course_utils.exercises import check_cd1_gradient

check_cd1_gradient(my_cd1_gradient);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Scores: $Z$ drops out
# $\mathbf s(\mathbf x)=\nabla_{\mathbf x}\log p(\mathbf x)=-\nabla_{\mathbf x}E(\mathbf x)$.
# Denoising score matching trains $\mathbf s_\theta(\tilde{\mathbf x},\sigma)$ on
# $\tilde{\mathbf x}=\mathbf x+\sigma\boldsymbol\epsilon$ with
# $\mathbb E\|\sigma\mathbf s_\theta+\boldsymbol\epsilon\|^2$. The noising is **fixed**, not
# learned. Our data: a 3-mode Gaussian mixture whose exact score we know.

# %% slideshow={"slide_type": "subslide"}
params = S.gmm_params(3, 3.0, 0.35, (0.5, 0.3, 0.2))
pts = S.gmm_sample(params, 5_000, torch.Generator().manual_seed(0))
sigmas = S.noise_levels(6.0, 0.05, 10)
net = S.ScoreNet(128)
hist = S.train_score_model(net, pts, sigmas, P.score_steps)
learned = lambda x, s: net(x, torch.tensor(float(s)))  # noqa: E731

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
g = torch.linspace(-5, 5, 20)
grid = torch.stack(torch.meshgrid(g, g, indexing="xy"), -1).reshape(-1, 2)
with torch.no_grad():
    sc = learned(grid, 0.5)
plt.quiver(grid[:, 0], grid[:, 1], sc[:, 0], sc[:, 1])
plt.scatter(pts[:500, 0], pts[:500, 1], s=2, c="r")
plt.title("learned score at sigma=0.5")
plt.show()

# %% [markdown] slideshow={"slide_type": "fragment"}
# How good is it? The relative error
# $\sqrt{\mathbb E\|\mathbf s_\theta-\mathbf s\|^2/\mathbb E\|\mathbf s\|^2}$ where score matching
# trains it, on noisy data $\tilde{\mathbf x}\sim p_\sigma$, and on the whole grid above, whose
# corners the network never sees:

# %% slideshow={"slide_type": "fragment"}
def relative_error(x, sigma):
    with torch.no_grad():
        exact = S.gmm_score(params, x, sigma)
        squared_error = ((learned(x, sigma) - exact) ** 2).sum(1).mean()
        return float((squared_error / (exact**2).sum(1).mean()).sqrt())


noisy = pts + 0.5 * torch.randn(pts.shape, generator=torch.Generator().manual_seed(1))
err_data, err_grid = relative_error(noisy, 0.5), relative_error(grid, 0.5)
print(f"relative error of the learned score at sigma=0.5: {err_data:.3f} on noisy data, "
      f"{err_grid:.3f} on the grid")
if P.name != "smoke":
    assert err_data < 0.15, ("where it is trained, the learned score should be within 15 % of the "
                             f"exact one, got {err_data:.3f}")
    assert err_data < err_grid, ("the score is learned where the noisy data are, not in the empty "
                                 "corners")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Langevin and annealed Langevin
# $\mathbf x\leftarrow\mathbf x+\frac{\eta}{2}\,\mathbf s(\mathbf x)+\sqrt{\eta}\,\mathbf z$,
# $\mathbf z\sim\mathcal N(0,I)$, samples $p$ as $\eta\to0$. On $\mathcal N(\mathbf m,s^2I)$ the
# step is
# $\mathbf x-\mathbf m\leftarrow(1-\frac{\eta}{2s^2})(\mathbf x-\mathbf m)+\sqrt\eta\,\mathbf z$,
# whose stationary variance is $s^2/(1-\eta/(4s^2))$: a bias that grows with $\eta$, and divergence
# for $\eta\ge4s^2$.

# %% slideshow={"slide_type": "fragment"}
m, s2 = 1.0, 0.25
for eta in (0.01, 0.5):
    x = S.langevin(lambda t: -(t - m) / s2, torch.zeros(5_000, 2), eta, 500)
    predicted = s2 / (1 - eta / (4 * s2))
    print(f"eta={eta}: mean {float(x.mean()):.3f} (target {m}), variance "
          f"{float(x.var(0).mean()):.3f} (s^2 = {s2}, predicted {predicted:.3f})")
    assert abs(float(x.mean()) - m) < 0.05, "Langevin finds the mean"
    assert abs(float(x.var(0).mean()) / predicted - 1) < 0.1, ("the variance carries the predicted "
                                                               "step bias")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Annealed Langevin (Song & Ermon 2019, Algorithm 1)
# Run $T$ steps at each $\sigma_1>\dots>\sigma_L$ with the learned
# $\mathbf s_\theta(\cdot,\sigma_i)$ and $\eta_i=\epsilon\,\sigma_i^2/\sigma_L^2$. Stability:
# $-\nabla^2\log p_\sigma\preceq I/\sigma^2$ for any data (noise of variance $\sigma^2$ is in every
# direction), so as above we need $\eta_i<4\sigma_i^2$, i.e. $\epsilon<4\sigma_L^2$ at every level.
# `annealed_langevin` refuses a larger $\epsilon$:

# %% slideshow={"slide_type": "fragment"}
try:
    S.annealed_langevin(learned, torch.zeros(1, 2), sigmas, 1, eps=0.02)
except ValueError as err:
    print(err)

# %% tags=["hide-input"] slideshow={"slide_type": "subslide"}
# default eps = 5e-4
path = S.annealed_langevin(learned, 6 * torch.randn(2_000, 2), sigmas, P.langevin_steps)
fig, ax = plt.subplots(1, 3, figsize=(10, 3.3))
for a, i in zip(ax, (0, len(path) // 2, len(path) - 1), strict=True):
    a.scatter(path[i][:, 0], path[i][:, 1], s=2)
    a.set_title(f"after sigma={float(sigmas[i]):.2f}")
    a.set_xlim(-6, 6)
    a.set_ylim(-6, 6)
plt.show()

# %% slideshow={"slide_type": "fragment"}
frac = (torch.bincount(torch.cdist(path[-1], params["means"]).argmin(1), minlength=3).float()
        / len(path[-1]))
print("fraction per mode:", [round(f, 3) for f in frac.tolist()],
      "target:", [round(w, 3) for w in params["weights"].tolist()])
if P.name != "smoke":
    assert torch.allclose(frac, params["weights"], atol=0.05), ("annealed Langevin should put each "
                                                                "mode's weight on it")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 · One Langevin step
# Write the step used above, for a score function `score` (it maps points to $\nabla\log p$ at
# them), a step size $\eta$ and standard normal noise $\mathbf z$ of the shape of $\mathbf x$:
# $$\mathbf x\leftarrow\mathbf x+\frac{\eta}{2}\,\mathbf s(\mathbf x)+\sqrt{\eta}\,\mathbf z .$$

# %% tags=["exercise"]
import math


def my_langevin_step(x, score, eta, z):
    """One Langevin step from the points x (N, d)."""
    ...  # your code here

# %% tags=["solution"]
def my_langevin_step(x, score, eta, z):
    """One Langevin step from the points x (N, d)."""
    return x + eta / 2 * score(x) + math.sqrt(eta) * z

# %% tags=["check"]
from course_utils.exercises import check_langevin_step

check_langevin_step(my_langevin_step);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Tweedie's formula
# $$\mathbb E[\mathbf x\mid\tilde{\mathbf x}]=
# \tilde{\mathbf x}+\sigma^2\nabla\log p_\sigma(\tilde{\mathbf x})$$
# A score model is a denoiser (this is what diffusion models learn, notebooks 06-07). For one
# Gaussian mode $\mathcal N(\mathbf m,s^2I)$ the posterior mean is
# $\mathbf m+\frac{s^2}{s^2+\sigma^2}(\tilde{\mathbf x}-\mathbf m)$:

# %% slideshow={"slide_type": "fragment"}
one = S.gmm_params(1, 2.0, 0.5)
xn = torch.randn(10, 2)
den = S.tweedie_denoise(lambda y, s: S.gmm_score(one, y, s), xn, 0.8)
assert torch.allclose(den, one["means"][0] + 0.25 / (0.25 + 0.64) * (xn - one["means"][0]),
                      atol=1e-5)
print("Tweedie with the exact score = the posterior mean of x given the noisy point")
