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
# # 07b · Normalizing flows and flow matching
#
# **What this notebook teaches.** Two more ways to turn noise into data, beside the diffusion
# models of notebooks 06 and 07. A **normalizing flow** is one invertible map $x = g(z)$ from a
# Gaussian $z$; the change of variables gives its exact likelihood, so it is trained by maximum
# likelihood (Real-NVP: affine coupling layers). **Flow matching** learns a velocity field instead,
# by plain regression, and samples by solving an ODE from noise to data (Euler, Heun). Then the
# SDE view of notebook 07 is made runnable: the DDPM's noise predictor is a score, sampled by a
# reverse SDE and by the probability-flow ODE, and score, noise and velocity convert into each
# other. Last, DDPM, DDIM and flow matching on MNIST at equal numbers of network evaluations.
#
# **Run time.** About a minute on a laptop CPU with the shipped models; `COURSE_TRAIN=1` (train them
# here): ~17 min.

# %% slideshow={"slide_type": "skip"}
import math

import matplotlib.pyplot as plt
import torch

from course_utils import models, pretrained
from course_utils.data import load_mnist, split_of
from course_utils.device import get_device, seed_everything
from course_utils.diffusion.toy_data import standardise, two_moons
from course_utils.flows import (
    AffineCoupling,
    MLPConditioner,
    fit,
    realnvp_2d,
    standard_normal_log_prob,
)
from course_utils.plotting import plot_density_2d, show_images
from course_utils.profiles import get_profile

P = get_profile()
device = get_device()
generator = seed_everything(0)
print(P, "| device", device, "| 2-D training steps", P.flows_toy_steps,
      "| budgets compared", P.flows_budgets)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The change of variables
# Draw $z$ from a simple density $r(z)$ (here $\mathcal N(0, I)$) and set $x = g(z)$ with $g$
# invertible and differentiable. The probability in a small volume is conserved,
# $p(x)\,|dx| = r(z)\,|dz|$, so
# $$p(x) = r\big(g^{-1}(x)\big)\,\Big|\det \frac{\partial g^{-1}}{\partial x}\Big|, \qquad
# \log p(x) = \log r(z) - \log\Big|\det\frac{\partial g}{\partial z}\Big|,\quad z = g^{-1}(x).$$
# A **normalizing flow** is such a $g$ with parameters: sampling is $g(z)$, the likelihood of data
# is the formula above, and training maximises it. In 1-D with $g(z) = \sinh z$:
# $g^{-1}(x) = \operatorname{asinh} x$, $dg^{-1}/dx = 1/\sqrt{1+x^2}$, so
# $p(x) = \mathcal N(\operatorname{asinh}x; 0, 1)/\sqrt{1+x^2}$. Checked against a histogram of
# $10^6$ draws (each bin within 5 of its standard errors) and the derivative against autograd:

# %%
n_draws, edges = 1_000_000, torch.linspace(-4, 4, 81, dtype=torch.float64)
x = torch.sinh(torch.randn(n_draws, generator=generator, dtype=torch.float64))
width, centres = edges[1] - edges[0], (edges[1:] + edges[:-1]) / 2
histogram = torch.histogram(x, edges).hist / (n_draws * width)  # an estimate of p(x) per bin


def p_formula(x):
    return torch.exp(-torch.asinh(x) ** 2 / 2) / math.sqrt(2 * math.pi) / torch.sqrt(1 + x**2)


p_bins = torch.stack([p_formula(torch.linspace(a, b, 201, dtype=torch.float64)).mean()
                      for a, b in zip(edges[:-1], edges[1:], strict=True)])  # the bin averages
z_score = (histogram - p_bins) / (p_bins / (n_draws * width)).sqrt()
xs = centres.clone().requires_grad_(True)
(slope,) = torch.autograd.grad(torch.asinh(xs).sum(), xs)
print(f"largest deviation: {z_score.abs().max():.2f} standard errors over {len(centres)} bins")
assert z_score.abs().max() < 5 and torch.allclose(slope, 1 / torch.sqrt(1 + centres**2))
plt.bar(centres, histogram, width=float(width), color="0.8", label="histogram of sinh(z)")
plt.plot(centres, p_formula(centres), "C3", label="change of variables")
plt.legend()
plt.xlabel("x")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Affine coupling layers (Real-NVP)
# The determinant of a general $D\times D$ Jacobian costs $O(D^3)$. Dinh et al. (2017) chose maps
# whose Jacobian is **triangular**. A binary mask $m$ splits the coordinates: those with $m=1$ are
# copied ("frozen"), the others are scaled and shifted by networks that see only the frozen ones,
# $$x = m\odot z + (1-m)\odot\big(z\odot e^{s(m\odot z)} + t(m\odot z)\big).$$
# $\partial x_i/\partial z_j = 0$ for a frozen $i \ne j$, and an active $x_i$ depends on itself
# only through $e^{s_i}$, so with the frozen coordinates first the Jacobian is triangular with
# diagonal $1$ (frozen) and $e^{s_i}$ (active):
# $$\log\Big|\det\frac{\partial x}{\partial z}\Big| = \sum_{i:\,m_i = 0} s_i(m\odot z).$$
# The inverse needs no inversion of $s$ or $t$: $m\odot x = m\odot z$, so
# $z = m\odot x + (1-m)\odot(x - t)\odot e^{-s}$. Stacking layers with **alternating masks**
# (in 2-D: $(1,0)$, $(0,1)$, ...) lets every coordinate move; log-determinants add.
# Checked on one layer with random $s$ and $t$ networks: the inverse, and the log-determinant
# against autograd's Jacobian.

# %%
layer = AffineCoupling(torch.tensor([1.0, 0.0]), MLPConditioner(2, 16, 1)).double()
last = layer.conditioner.net[-1]  # zero in a fresh layer (s = t = 0: the identity); drawn here
torch.nn.init.normal_(last.weight, std=0.5, generator=generator)
torch.nn.init.normal_(last.bias, std=0.5, generator=generator)
z = torch.randn(5, 2, generator=generator, dtype=torch.float64)
x, log_det = layer(z)
jacobians = torch.stack([torch.autograd.functional.jacobian(lambda v: layer(v[None])[0][0], v)
                         for v in z])
print("Jacobian of the first point (upper row: the frozen coordinate):\n", jacobians[0].numpy())
assert torch.allclose(layer.inverse(x)[0], z, atol=1e-12)
assert torch.allclose(log_det, torch.linalg.slogdet(jacobians).logabsdet, atol=1e-12)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · One affine coupling layer
# Given `z` of shape $(N, D)$, a `mask` of shape $(D,)$ (1 = frozen) and the scale and shift `s`,
# `t` of shape $(N, D)$ that the networks computed, return `(x, log_det)`: the layer's output and
# $\log|\det \partial x/\partial z|$, one number per row.

# %% tags=["exercise"]
import torch


def my_coupling(z, mask, s, t):
    """x = m z + (1 - m)(z exp(s) + t) and log|det dx/dz| per sample."""
    ...  # your code here

# %% tags=["solution"]
def my_coupling(z, mask, s, t):
    """x = m z + (1 - m)(z exp(s) + t) and log|det dx/dz| per sample."""
    x = mask * z + (1 - mask) * (z * torch.exp(s) + t)
    return x, ((1 - mask) * s).sum(dim=1)

# %% tags=["check"]
from course_utils.exercises import check_coupling_layer

check_coupling_layer(my_coupling);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. A Real-NVP on the two moons: exact log-likelihood
# The 2-D data of notebook 06 (two moons, standardised). Six coupling layers with alternating
# masks, each $s$ and $t$ from one small MLP, trained by maximum likelihood: minimise
# $-\frac1N\sum_n \log p_\theta(x_n)$ (Adam, warm-up, cosine decay, an EMA of the weights:
# `flows.fit`, the loop every flow here uses).

# %%
moons = standardise(two_moons(2_000, noise=0.05, seed=0))  # mean 0, std 1, as in notebook 06
flow = realnvp_2d(n_layers=6, hidden=32)
ema, history = fit(flow, lambda batch, gen: -flow.log_prob(batch[0]).mean(), (moons,),
                   P.flows_toy_steps, batch_size=256, lr=2e-3, warmup=100, ema_decay=0.99,
                   device="cpu", progress=False)
nvp_2d = ema.model.eval()
held_out = standardise(two_moons(2_000, noise=0.05, seed=1))
with torch.no_grad():
    nll = -nvp_2d.log_prob(held_out).mean().item()
gauss_nll = math.log(2 * math.pi) + 1  # N(0, I) fitted to standardised data: log(2 pi) + 1
print(f"held-out negative log-likelihood {nll:.3f} nats per point (a Gaussian: {gauss_nll:.3f})")
assert nll < gauss_nll, "the flow should beat the best Gaussian"

# %% [markdown] slideshow={"slide_type": "subslide"}
# The exact log-likelihood costs one pass through the layers. Checked against brute force: the
# full $2\times2$ Jacobian of $g^{-1}$ by autograd at every point and its determinant, plugged into
# the change of variables (in float64). And a density integrates to one: the sum of $p$ over a
# fine grid of the plotted square.

# %%
points = held_out[:200].double()
nvp_64 = realnvp_2d(n_layers=6, hidden=32).double()
nvp_64.load_state_dict(nvp_2d.state_dict())


def inverse(v):
    """x -> z = g^{-1}(x) for one point."""
    return nvp_64.inverse(v[None])[0][0]


brute = torch.stack([standard_normal_log_prob(inverse(v)[None])[0]
                     + torch.linalg.slogdet(torch.autograd.functional.jacobian(inverse, v))[1]
                     for v in points])
exact = nvp_64.log_prob(points).detach()
grid_x = torch.linspace(-4, 4, 400)
cells = torch.stack(torch.meshgrid(grid_x, grid_x, indexing="xy"), -1).reshape(-1, 2)
with torch.no_grad():
    mass = nvp_2d.log_prob(cells).exp().sum().item() * float(grid_x[1] - grid_x[0]) ** 2
print(f"largest |exact - brute force| {(exact - brute).abs().max():.1e}; "
      f"mass on [-4, 4]^2 {mass:.4f}")
assert torch.allclose(exact, brute, atol=1e-10) and abs(mass - 1) < 0.02

# %%
with torch.no_grad():
    drawn, _ = nvp_2d.sample(2_000, generator=generator)
plot_density_2d(nvp_2d.log_prob, {"data (two moons)": moons, "Real-NVP samples": drawn},
                title="Real-NVP: exact density and samples")
plt.show()

# %% [markdown]
# The flow maps one connected Gaussian blob continuously and invertibly, so it cannot tear it into
# two moons: a thin ridge of density (and of samples) always joins them. More layers make the
# ridge thinner, never absent.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Real-NVP on MNIST: dequantisation and bits per dimension
# A pixel takes one of 256 grey levels $k$. A continuous density fitted to discrete values can
# grow without bound (spikes of vanishing width on the training values). So the flow models the
# **dequantised** pixels $y = (k + u)/256$, $u\sim U[0,1)^D$, which fill the bins of width
# $1/256$. For any density $p$ on $[0,1)^D$ the probability of the bin of $k$ is
# $P(k) = \int_{\text{bin}} p$, and Jensen's inequality gives
# $\log P(k) \ge \mathbb E_u[\log p(y)] - D\log 256$: maximising the likelihood of $y$ maximises
# a bound on that of the digits. The flow works on $\mathbb R^D$, so $y$ is first mapped by
# $z = \operatorname{logit}(\alpha + (1-2\alpha)y)$, one more change of variables
# with a diagonal Jacobian. The number reported is **bits per dimension**,
# $$\text{bpd} = -\frac{\log P(k)}{D\log 2} \le -\frac{\mathbb E_u\log p(y) - D\log 256}{D\log 2},$$
# the length of an ideal code per pixel: a uniform density gives exactly 8 bits. The flow:
# checkerboard couplings (eight in the laptop recipe, printed below) whose $s$ and $t$ come from
# small residual CNNs (`realnvp_image`). Checked first: the uniform
# density's 8 bits, and the logit map's log-determinant against autograd.

# %%
from course_utils.flows import bits_per_dim, build_realnvp, logit_transform, train_realnvp
from course_utils.flows.realnvp_mnist import held_out_bpd, sample_realnvp

assert float(bits_per_dim(torch.zeros(1), 784)) == 8.0  # log p(y) = 0: the uniform density
y = torch.rand(3, 4, generator=generator, dtype=torch.float64).requires_grad_(True)
z_logit, log_det = logit_transform(y, alpha=1e-5)
(dz_dy,) = torch.autograd.grad(z_logit.sum(), y)  # a diagonal Jacobian: the elementwise slopes
assert torch.allclose(log_det, dz_dy.log().sum(dim=1))

# %%
images, labels = split_of(load_mnist())
nvp_config = models.recipe("realnvp", P)
print(nvp_config)


def train_nvp():
    model = build_realnvp(nvp_config, device)
    return models.wrap(model, nvp_config, train_realnvp(model, images, device, seed=0))


nvp = pretrained.load_or_train("realnvp", train_nvp, device)
test_images, _ = split_of(load_mnist(train=False))
held_out_digits = test_images[:P.realnvp_n_bpd]
bpd = held_out_bpd(nvp.model, held_out_digits, device)
print(f"held-out bits per dimension {bpd:.3f} on {len(held_out_digits):,} test digits (uniform: 8)")
assert bpd < 8, "better than the uniform density"
if P.name != "smoke":  # the laptop recipe alone reaches about 1.7
    assert bpd < 2.0

# %%
for temperature in (1.0, 0.7):
    show_images(sample_realnvp(nvp.model, 32, device, seed=1, temperature=temperature), nrow=16,
                title=f"Real-NVP samples, prior temperature {temperature:g}")
    plt.show()

# %% [markdown]
# The likelihood is exact and the held-out bits per dimension are a fair number to compare
# likelihood models with, but the samples show the catch: a small flow puts its mass on images
# that are plausible pixel by pixel (the right grey levels, stroke-like patches) and rarely draws
# a whole digit. Lowering the prior's temperature (sampling $z\sim\mathcal N(0, T^2 I)$ with
# $T<1$) trades variety for smoother images. Diffusion and flow matching give up the exact
# likelihood and draw much better digits from networks of the same size.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Flow matching: a velocity learned by regression
# Instead of one map, let an ODE $\frac{dx}{dt} = v_\theta(x, t)$ carry noise at $t=0$ to data at
# $t=1$ (a *continuous normalizing flow*). The **linear** (optimal-transport, rectified-flow)
# path joins a noise draw $x_0\sim\mathcal N(0,I)$ and a data point $x_1$ by a straight line,
# $$x_t = (1-t)\,x_0 + t\,x_1,\qquad u_t = \frac{dx_t}{dt} = x_1 - x_0 .$$
# The velocity that moves the whole *distribution* of $x_t$ is the average of these straight-line
# velocities through each point, $v(x,t) = \mathbb E[x_1 - x_0\mid x_t = x]$. It is unknown, but
# since the best predictor in mean square is the conditional mean,
# $$\mathbb E\,\|v_\theta(x_t,t) - (x_1 - x_0)\|^2 = \mathbb E\,\|v_\theta(x_t,t) - v(x_t,t)\|^2
# + \text{const},$$
# regressing on the per-pair velocity $x_1 - x_0$ learns $v$ (Lipman et al. 2023, Theorem 2; Liu
# et al. 2023): no likelihood, no simulation during training. Checked by Monte Carlo on 1-D data
# $x_1\sim\mathcal N(\mu, s^2)$, where $v$ is known in closed form
# ($v(x,t) = \mu + \frac{ts^2 - (1-t)}{(1-t)^2 + t^2s^2}(x - t\mu)$): the mean of $x_1 - x_0$ over
# the pairs whose $x_t$ falls in a small bin.

# %%
mu, s, t_fix, n_pairs = 1.5, 0.5, 0.4, 2_000_000
x0 = torch.randn(n_pairs, generator=generator, dtype=torch.float64)
x1 = mu + s * torch.randn(n_pairs, generator=generator, dtype=torch.float64)
xt, u = (1 - t_fix) * x0 + t_fix * x1, x1 - x0
bins = torch.linspace(-1.0, 2.0, 13, dtype=torch.float64)
which = torch.bucketize(xt, bins)
for k in range(1, len(bins), 3):
    inside = which == k
    centre = float(bins[k - 1] + bins[k]) / 2
    v_exact = mu + (t_fix * s**2 - (1 - t_fix)) / ((1 - t_fix) ** 2 + t_fix**2 * s**2) * (
        xt[inside] - t_fix * mu)  # the exact v at every x_t in the bin
    gap = u[inside] - v_exact  # mean 0 if v is the conditional mean of x1 - x0
    print(f"x_t near {centre:+.3f}: mean of x1 - x0 {u[inside].mean():+.4f}, "
          f"of v(x_t, t) {v_exact.mean():+.4f} ({int(inside.sum()):,} pairs)")
    assert abs(gap.mean()) < 5 * gap.std() / math.sqrt(len(gap))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · The linear path and its velocity
# From noise `x0` and data `x1` (same shape, e.g. $(N, 1, 28, 28)$) and one time per sample `t`
# of shape $(N,)$, return `(x_t, u_t)`: the point on the straight line and its velocity.

# %% tags=["exercise"]
def my_linear_path(x0, x1, t):
    """x_t = (1 - t) x_0 + t x_1 and u_t = d x_t / dt."""
    ...  # your code here

# %% tags=["solution"]
def my_linear_path(x0, x1, t):
    """x_t = (1 - t) x_0 + t x_1 and u_t = d x_t / dt."""
    t = t.reshape(-1, *([1] * (x0.dim() - 1)))
    return (1 - t) * x0 + t * x1, x1 - x0

# %% tags=["check"]
from course_utils.exercises import check_linear_path

check_linear_path(my_linear_path);

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Flow matching on the two moons; Euler and Heun
# Sampling solves $dx/dt = v_\theta(x, t)$ from $t=0$ to $1$. **Euler**:
# $x \leftarrow x + h\,v(x,t)$, one network evaluation per step, error $O(h)$. **Heun** (the
# explicit trapezoidal rule): predict $x_E = x + h\,v(x,t)$, then
# $x \leftarrow x + \frac h2\big(v(x,t) + v(x_E, t+h)\big)$: two evaluations per step, error
# $O(h^2)$. The velocity network is notebook 06's MLP denoiser, fed $t$ instead of a step.

# %%
from course_utils.flows import flow_matching_loss, solve_ode, time_grid, velocity_mlp_2d

velocity_net = velocity_mlp_2d()
ema_v, history_v = fit(velocity_net,
                       lambda batch, gen: flow_matching_loss(velocity_net, batch[0], gen),
                       (moons,), P.flows_toy_steps, batch_size=256, lr=2e-3, warmup=100,
                       ema_decay=0.99, device="cpu", progress=False)
v_moons = ema_v.model.eval()
noise_2d = torch.randn(2_000, 2, generator=generator)
with torch.no_grad():
    runs = {f"{solver}, {steps} steps": solve_ode(v_moons, noise_2d, time_grid(0.0, 1.0, steps),
                                                  solver)
            for solver, steps in (("euler", 2), ("euler", 10), ("heun", 5), ("euler", 100))}
plot_density_2d(None, runs, title="flow matching: the same noise, four ODE solutions")
plt.show()

# %% [markdown]
# Most points land on the moons; some stay between them, where the learned velocity has to split
# the noise in two and a small network trained briefly is too smooth to do it sharply. Does the
# solver matter? The error at $t = 1$ against a reference solution (Heun with 100 steps), at equal
# network evaluations: 10 Euler steps against 5 Heun steps.

# %%
with torch.no_grad():
    reference = solve_ode(v_moons, noise_2d, time_grid(0.0, 1.0, 100), "heun")
    errors = {name: (x - reference).norm(dim=1).mean().item() for name, x in runs.items()}
    nearest = torch.cdist(runs["euler, 100 steps"], moons).min(dim=1).values
print({k: round(v, 4) for k, v in errors.items()})
print(f"100 Euler steps: median distance to the nearest data point {nearest.median():.3f}, "
      f"{(nearest < 0.2).float().mean():.0%} of the points within 0.2 of the data")
assert errors["heun, 5 steps"] < errors["euler, 10 steps"] < errors["euler, 2 steps"]
if P.name != "smoke":  # 300 smoke steps do not fit the moons
    assert nearest.median() < 0.1

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 · One Heun step
# `v(x, t)` takes points $(N, D)$ and one time per point, shape $(N,)$; `t`, `t_next` are
# numbers. Return $x$ at `t_next` after one Heun step.

# %% tags=["exercise"]
import torch


def my_heun_step(v, x, t, t_next):
    """x + h/2 (v(x, t) + v(x + h v(x, t), t_next)), h = t_next - t."""
    ...  # your code here

# %% tags=["solution"]
def my_heun_step(v, x, t, t_next):
    """x + h/2 (v(x, t) + v(x + h v(x, t), t_next)), h = t_next - t."""
    h = t_next - t
    slope = v(x, torch.full((len(x),), t, dtype=x.dtype))
    slope_end = v(x + h * slope, torch.full((len(x),), t_next, dtype=x.dtype))
    return x + h / 2 * (slope + slope_end)

# %% tags=["check"]
from course_utils.exercises import check_heun_step

check_heun_step(my_heun_step);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Flow matching on MNIST, with classifier-free guidance
# The **same** class-conditional UNet as the DDPM of notebook 07 (label dropout 10%, the same
# training budget), trained on $x_1 - x_0$ instead of $\varepsilon$. Guidance mixes the velocities
# with and without the label exactly as notebook 07 mixed the noise predictions,
# $\tilde v = v_\theta(x,t) + w\,(v_\theta(x,t,y) - v_\theta(x,t))$: at fixed $(x,t)$ the velocity
# is an affine function of the noise prediction (section 7), so guiding one guides the other.

# %%
from course_utils.flows import build_flow_matching, sample_flow_matching, train_flow_matching
from course_utils.scoring import classify_samples

fm_config = models.recipe("flow-matching", P)


def train_fm():
    fm = build_flow_matching(fm_config, device)
    history = train_flow_matching(fm, images, labels, device, seed=0)
    return models.wrap(fm, fm_config, history)


fm = pretrained.load_or_train("flow-matching", train_fm, device).model

# %%
per_digit = P.ddpm_n_per_digit
wanted = torch.arange(10).repeat_interleave(per_digit)
steps = P.fm_sample_steps  # Euler steps: one network evaluation each
guided = torch.cat([sample_flow_matching(fm, per_digit, device, seed=d, steps=steps,
                                         solver="euler", digit=d, guidance=3.0) for d in range(10)])
show_images(guided.reshape(10, per_digit, 1, 28, 28)[:, :10].reshape(-1, 1, 28, 28),
            nrow=min(per_digit, 10),
            title=f"flow matching, Euler {steps} steps, one row per digit, w = 3")
plt.show()
asked = classify_samples(guided, labels=wanted)
print(f"the classifier reads the requested digit in {asked.accuracy:.1%} of {len(wanted)} samples")
if P.name != "smoke":
    assert asked.accuracy >= 0.9

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The SDE view, made runnable
# Notebook 07 stated it: the DDPM's chain becomes the variance-preserving SDE
# $dx = -\frac12\beta(\tau)x\,d\tau + \sqrt{\beta(\tau)}\,dw$ ($\tau$ from 0, data, to 1, noise),
# with marginals $x_\tau = \alpha_\tau x_0 + \sigma_\tau\varepsilon$,
# $\alpha_\tau^2 = \bar\alpha(\tau)$, $\sigma_\tau^2 = 1-\bar\alpha(\tau)$. Both of these carry
# $\mathcal N(0,I)$ at $\tau=1$ back to the data (Song et al. 2021):
# $$dx = \big[-\tfrac12\beta x - \beta\,\nabla\log p_\tau(x)\big]d\tau + \sqrt\beta\,d\bar w
# \quad\text{(reverse SDE)},$$
# $$\frac{dx}{d\tau} = -\tfrac12\beta\,\big(x + \nabla\log p_\tau(x)\big)
# \quad\text{(probability-flow ODE)}.$$
# The score comes from the trained noise predictor (Tweedie, notebook 07 section 4):
# $\nabla\log p_\tau(x) \approx -\varepsilon_\theta(x,\tau)/\sigma_\tau$. **Euler-Maruyama** solves
# the SDE, $x \leftarrow x + h f(x,\tau) + g(\tau)\sqrt{|h|}\,z$; Euler or Heun the ODE.
#
# **Noise, score, velocity.** Diffusion ($\alpha=\sqrt{\bar\alpha}$, $\sigma=\sqrt{1-\bar\alpha}$)
# and flow matching ($\alpha_t = t$, $\sigma_t = 1-t$, data at $t = 1$) both noise the data along a
# Gaussian path $x_t = \alpha_t x_{\text{data}} + \sigma_t\varepsilon$. Differentiating it, and
# replacing $x_{\text{data}}$ by its estimate $(x_t - \sigma_t\varepsilon)/\alpha_t$:
# $$s = -\frac{\varepsilon}{\sigma_t},\qquad
# v = \dot\alpha_t\,\frac{x_t - \sigma_t\varepsilon}{\alpha_t} + \dot\sigma_t\,\varepsilon,$$
# each an affine function of the others at fixed $(x_t, t)$: a model of one is a model of all
# three. On the linear path $v = (x_t - \varepsilon)/t$, and for the VP path the same formula is
# the probability-flow ODE. Checked on notebook 07's DDPM, then its samplers side by side.

# %%
from course_utils.diffusion import build_ddpm, ddim_sample, train_ddpm
from course_utils.diffusion.sde import eps_field, probability_flow_velocity, score_field, vp_beta

ddpm_config = models.recipe("ddpm", P)


def train_unet():
    ddpm = build_ddpm(ddpm_config, device)
    history = train_ddpm(ddpm, images[:ddpm_config.n_train], labels[:ddpm_config.n_train],
                         device, seed=0)
    return models.wrap(ddpm, ddpm_config, history)


ddpm = pretrained.load_or_train("ddpm", train_unet, device).model
eps_net, schedule = ddpm.ema_model.eval(), ddpm.schedule.to(device)
x_check = torch.randn(4, 1, 28, 28, generator=generator).to(device)
tau = torch.full((4,), 0.3, device=device)
with torch.no_grad():
    eps = eps_field(eps_net, schedule)
    v_path = probability_flow_velocity(eps, schedule)(x_check, tau)  # from eps via v(eps)
    beta = vp_beta(schedule, tau).reshape(-1, 1, 1, 1)
    v_sde = -beta / 2 * (x_check + score_field(eps, schedule)(x_check, tau))  # -beta (x + s) / 2
print(f"largest difference of the two velocities {(v_path - v_sde).abs().max():.1e}")
assert torch.allclose(v_path, v_sde, atol=1e-4)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 4 · A velocity from a noise prediction
# On the linear path $x_t = (1-t)\,\varepsilon + t\,x_1$, write the velocity $v$ from $x_t$, a
# noise prediction `eps` and `t` (shape $(N, 1)$, broadcasting against $x_t$ of shape $(N, D)$).

# %% tags=["exercise"]
def my_velocity_from_eps(x_t, eps, t):
    """The linear path's velocity x_1 - eps, with x_1 estimated from x_t and eps."""
    ...  # your code here

# %% tags=["solution"]
def my_velocity_from_eps(x_t, eps, t):
    """The linear path's velocity x_1 - eps, with x_1 estimated from x_t and eps."""
    x1_hat = (x_t - (1 - t) * eps) / t
    return x1_hat - eps

# %% tags=["check"]
from course_utils.exercises import check_velocity_from_eps

check_velocity_from_eps(my_velocity_from_eps);

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Four samplers, one network
# Notebook 07's DDPM, from the same noise and the digits $0,\dots,9$ in turn: ancestral DDPM
# (DDIM with $\eta = 1$), DDIM with $\eta = 0$, Euler-Maruyama on the reverse SDE and Heun on the
# probability-flow ODE, each with the same number of network evaluations. DDIM ($\eta=0$) and the
# ODE solve the same equation; DDIM's step is exact for a network that predicts the same
# $\varepsilon$ along the step, so it needs fewer steps than a generic solver.

# %%
from course_utils.flows import evaluations, sample_probability_flow, sample_reverse_sde

budget, n_show = P.ddpm_ddim_steps, 20
shape, digits = (n_show, 1, 28, 28), torch.arange(n_show) % 10
x_T = torch.randn(shape, generator=generator)
common = dict(labels=digits, guidance=1.0, clip=1.0, x_T=x_T)
quiet = dict(progress=False)
drawn = {
    "DDPM (eta = 1)": ddim_sample(eps_net, shape, schedule, budget, device, eta=1.0, **common,
                                  **quiet),
    "DDIM (eta = 0)": ddim_sample(eps_net, shape, schedule, budget, device, eta=0.0, **common,
                                  **quiet),
    "reverse SDE, Euler-Maruyama": sample_reverse_sde(eps_net, schedule, shape, budget, device,
                                                      **common),
    "probability flow, Heun": sample_probability_flow(eps_net, schedule, shape, (budget + 1) // 2,
                                                      "heun", device, **common),
}
used = {name: budget for name in drawn} | {
    "probability flow, Heun": evaluations("heun", (budget + 1) // 2, euler_last=True)}
for name, x in drawn.items():
    read = classify_samples(x.clamp(-1, 1).cpu(), labels=digits)
    show_images(x.cpu(), nrow=20, title=f"{name}, {used[name]} evaluations: "
                f"{read.accuracy:.0%} read as asked")
    plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The DDPM's step on the flow-matching path
# The linear path is a Gaussian path too ($\alpha_t = t$, $\sigma_t = 1-t$), so the DDPM's own
# step samples it. The velocity gives $\hat x_1 = x_t + (1-t)\,v$ and
# $\hat\varepsilon = x_t - t\,v$, and the step to a later time $s$ is notebook 07's DDIM step
# written for any Gaussian path:
# $$x_s = \alpha_s\,\hat x_1 + \sqrt{\sigma_s^2 - c^2}\;\hat\varepsilon + c\,z,\qquad
# c = \eta\,\sigma_s\sqrt{1 - \mathrm{SNR}_t/\mathrm{SNR}_s},\quad
# \mathrm{SNR} = \alpha^2/\sigma^2 .$$
# With $\eta = 1$ it draws from the forward chain's posterior given $\hat x_1$: ancestral
# sampling, fresh noise at every step. With $\eta = 0$ it is Euler's step $x_t + (s-t)\,v$
# exactly, checked below on the trained network. The fresh noise lets later steps correct the
# errors of earlier ones instead of carrying them along (Karras et al. 2022, sec. 4); section 8
# measures what that buys each model.

# %%
from course_utils.flows import ancestral_step, euler_step, guided_velocity

v_fm = guided_velocity(fm.ema_model.eval(), torch.arange(4, device=device))
x_t = torch.randn(4, 1, 28, 28, generator=generator).to(device)
with torch.no_grad():
    eta_0 = ancestral_step(v_fm, x_t, 0.4, 0.45, eta=0.0)
    euler = euler_step(v_fm, x_t, 0.4, 0.45)
print(f"largest difference, the eta = 0 step against Euler's: {(eta_0 - euler).abs().max():.1e}")
assert torch.allclose(eta_0, euler, atol=1e-5)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. DDPM, DDIM and flow matching at equal cost
# What a sampler costs is its number of network evaluations per sample. The two networks are the
# same UNet with the same training budget, one trained on $\varepsilon$, one on $x_1-x_0$. Each
# sampler draws the digits $0,\dots,9$ in turn (guidance $w=1$: a sample of $p(x)$, as in notebook
# 07 section 10) with each budget, scored against held-out digits by the scoreboard's numbers
# (Fréchet distance in the classifier's features, lower is better; the classifier's confidence,
# higher is better) and timed. Flow matching with Heun spends two evaluations per step (an odd
# budget: one fewer); flow matching with the DDPM's step ("ancestral", $\eta = 1$) one.
#
# How many digits each run draws depends on the profile (`P.flows_n_score`). With a hundred, the
# Fréchet distance is mostly its small-sample bias, and rows a few units apart are tied. The
# `full` profile draws 1,000, as does `benchmarks/flows.py`. Its latest table is in
# `benchmarks/results/flows.md`. There, at 1,000 digits, flow matching with the DDPM's step at 20
# evaluations beats the DDPM at 50.

# %%
from course_utils.scoreboard import format_budget_table, plot_budgets, score_at_budgets

n_score = P.flows_n_score
in_turn = torch.arange(n_score) % 10
real = test_images[torch.randperm(len(test_images), generator=generator)[:n_score]]


def ddim_at(eta):
    return lambda k: ddim_sample(eps_net, (n_score, 1, 28, 28), schedule, k, device, seed=3,
                                 eta=eta, clip=1.0, labels=in_turn, guidance=1.0, progress=False)


samplers = {
    "DDPM (eta = 1)": ddim_at(1.0),
    "DDIM (eta = 0)": ddim_at(0.0),
    "flow matching, Euler": lambda k: sample_flow_matching(fm, n_score, device, 3, steps=k,
                                                            solver="euler", all_digits=True),
    "flow matching, Heun": lambda k: (sample_flow_matching(fm, n_score, device, 3, steps=k // 2,
                                                           solver="heun", all_digits=True),
                                      evaluations("heun", k // 2)),
    "flow matching, ancestral": lambda k: sample_flow_matching(fm, n_score, device, 3, steps=k,
                                                                solver="ancestral",
                                                                all_digits=True),
}
rows = score_at_budgets(samplers, P.flows_budgets, real, device)
print(format_budget_table(rows))
plot_budgets(rows)
plt.show()

# %%
best = {r["sampler"]: r for r in rows if r["budget"] == max(P.flows_budgets)}
if P.name != "smoke":  # a few seconds of training cannot make digits
    assert all(r["confidence"] > 0.8 for r in best.values()), "every sampler draws digits"
assert all(math.isfinite(r["fd_features"]) for r in rows)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# * A **normalizing flow** is an invertible map with a tractable Jacobian: exact likelihood
#   (checked against brute force), trained by maximum likelihood, bits per dimension on digits
#   (with dequantisation); coupling layers make the determinant a sum.
# * **Flow matching** regresses a network on the straight-line velocity $x_1 - x_0$ and samples by
#   an ODE solver; Heun's second-order steps reach a given accuracy with far fewer evaluations
#   than Euler's.
# * The DDPM's noise predictor is a **score**: it samples by the reverse SDE or by the
#   probability-flow ODE, and noise, score and velocity are affine functions of each other. A
#   diffusion model and a flow-matching model are two parametrisations of the same idea; what
#   differs is the path and the sampler, and the table above shows what that costs.
# * The DDPM's step works on any Gaussian path: on flow matching's, without noise it is Euler's
#   step; with the posterior's noise it is ancestral sampling of the flow-matching model.
