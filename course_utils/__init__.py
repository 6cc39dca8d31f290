"""course_utils: the helper package of the genlab lecture notebooks on deep generative models.

The package follows the lecture, one subpackage per part, and data flows one way
(data -> networks -> training -> checkpoints -> scoring, plotting and publishing):

* top level -- ``device`` (device choice, seeds), ``profiles`` (smoke / laptop / full sizes),
  ``paths``, ``data`` (MNIST with its offline fallback), ``images`` (the one range convention:
  [-1, 1], (N, 1, 28, 28)), ``checkpoints`` (the one file format), ``plotting``;
* ``summary`` -- part 1: ``divergences`` (KL, JS), ``vae``, ``rbm``, ``score_matching``;
* ``gan`` -- parts 2-3: the lecture's MLPs, DCGAN (and its conditional version), ``losses``
  (``d_train``, ``g_train``, gradient penalty), ``training`` (``train_gan``), the 1-D ``game``;
* ``scoring`` -- part 4: the lecture's MMD made exact and memory-bounded, kernels, tiling,
  two-sample tests, classifier features and input checks;
* ``diffusion`` -- part 5: schedules, forward process and posterior, samplers (DDPM, DDIM,
  guidance), training, the UNet, toy data;
* ``ising`` -- part 6, a physical system: the 2-D Ising model's exact solution, Monte Carlo,
  observables with error bars, and generative models of its lattices;
* ``exercises`` -- one checker per exercise of the notebooks, with one-line verdicts;
* ``families`` and ``models`` -- one interface for every model family (config, build, train,
  sample, data) and the registry that saves and loads them all;
* ``scoreboard`` -- every model scored the same way; ``pretrained`` -- the shipped checkpoints;
  ``publish`` -- figures, slides, site and the student edition;
* ``cli`` -- the command line (``genlab`` or ``python -m course_utils``), argparse only.

A lower layer never imports a higher one (``tests/test_architecture.py`` checks it).
"""
from .device import get_device, seed_everything
from .profiles import get_profile

__all__ = ["get_device", "seed_everything", "get_profile"]
__version__ = "0.1.0"
