"""The lecture's MMD code, transcribed, for the benchmark and the agreement test.

Source: the lecture's notebook, which takes it from ``metric.py`` of the GAN-Metrics repository
(Xu et al., 2018, "An empirical study on evaluation metrics of generative adversarial networks",
github.com/xuqiantong/GAN-Metrics). Two changes only, marked ``# changed``:

* the unconditional move to the GPU is replaced by ``.to(device)`` (the original
  fails on machines without CUDA);
* ``compute_score`` still prints, as in the lecture, and also returns the number so that it can
  be compared.

Two differences between the lecture and GAN-Metrics are the lecture's and kept: its ``mmd`` takes
``math.sqrt(max(a, 0))`` where GAN-Metrics takes ``math.sqrt(a)`` (which fails on a negative
round-off), and its ``compute_score`` takes ``(fake, real)`` where GAN-Metrics takes
``(real, fake, ...)`` (and also computes a Wasserstein distance and a k-NN score). In both, the
real set gives ``Mxx``, and so the bandwidth ``scale = Mxx.mean()``.

Kept as in the original as well: ``distance`` computes on the device but copies each n x m matrix
into ``M = torch.zeros(nX, nY)``, a host tensor, so on CUDA the three matrices and their kernels
live in host memory (``benchmarks/mmd.py`` counts device and host memory there).
"""
import math

import torch

# changed: set by the caller instead of moving to the GPU unconditionally
device = torch.device("cpu")


def distance(X, Y, sqrt):
    nX = X.size(0)
    nY = Y.size(0)
    X = X.view(nX, -1).to(device)  # changed: was moved to the GPU unconditionally
    X2 = (X * X).sum(1).resize_(nX, 1)
    Y = Y.view(nY, -1).to(device)  # changed: was moved to the GPU unconditionally
    Y2 = (Y * Y).sum(1).resize_(nY, 1)
    M = torch.zeros(nX, nY)
    M.copy_(X2.expand(nX, nY) + Y2.expand(nY, nX).transpose(0, 1) - 2
            * torch.mm(X, Y.transpose(0, 1)))
    del X, X2, Y, Y2
    if sqrt:
        M = ((M + M.abs()) / 2).sqrt()
    return M


def mmd(Mxx, Mxy, Myy, sigma):
    scale = Mxx.mean()
    Mxx = torch.exp(-Mxx / (scale * 2 * sigma * sigma))
    Mxy = torch.exp(-Mxy / (scale * 2 * sigma * sigma))
    Myy = torch.exp(-Myy / (scale * 2 * sigma * sigma))
    a = Mxx.mean() + Myy.mean() - 2 * Mxy.mean()
    mmd = math.sqrt(max(a, 0))
    return mmd


def compute_score(fake, real, k=1, sigma=1, sqrt=True):
    Mxx = distance(real, real, False)
    Mxy = distance(real, fake, False)
    Myy = distance(fake, fake, False)
    score = mmd(Mxx, Mxy, Myy, sigma)  # changed: kept in a variable to return it
    print(score)
    return score  # changed: the lecture only prints
