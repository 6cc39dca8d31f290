"""course_utils: the helper package of the genlab lecture notebooks on deep generative models.

Modules, one job each: ``device`` (device choice, seeds), ``profiles`` (smoke / laptop / full
sizes), ``paths``, ``data`` (MNIST), ``networks`` (the lecture's MLPs), ``gan`` (noise,
``d_train``, ``g_train``, ``train_gan``), ``checkpoints``, ``plotting``, ``cli``.
"""
from .device import get_device, seed_everything
from .profiles import get_profile

__all__ = ["get_device", "seed_everything", "get_profile"]
__version__ = "0.1.0"
