"""The lecture's two multilayer perceptrons (Raschka et al., ch. 17, "Implementing the networks").

Signatures, defaults and module names are the lecture's, so ``print(model)`` shows what the
slides show. The generator maps noise ``z`` (``z_size`` = 20) to 784 pixels in [-1, 1] (``tanh``);
the discriminator maps 784 pixels to the probability ``d(x)`` that ``x`` is real (``sigmoid``).
"""
from __future__ import annotations

import numbers

from torch import nn

__all__ = ["make_generator_network", "make_discriminator_network", "discriminator_logits"]


def make_generator_network(
    input_size: int = 20,
    num_hidden_layers: int = 1,
    num_hidden_units: int = 100,
    num_output_units: int = 784,
) -> nn.Sequential:
    """Generator g(z): ``num_hidden_layers`` x (Linear, LeakyReLU), then Linear and Tanh."""
    _check_sizes(input_size=input_size, num_hidden_units=num_hidden_units,
                 num_output_units=num_output_units)
    input_size, num_hidden_units = int(input_size), int(num_hidden_units)
    model = nn.Sequential()
    for i in range(num_hidden_layers):
        model.add_module(f"fc_g{i}", nn.Linear(input_size, num_hidden_units))
        model.add_module(f"relu_g{i}", nn.LeakyReLU())
        input_size = num_hidden_units
    model.add_module(f"fc_g{num_hidden_layers}", nn.Linear(input_size, num_output_units))
    model.add_module("tanh_g", nn.Tanh())
    return model


def make_discriminator_network(
    input_size: int,
    num_hidden_layers: int = 1,
    num_hidden_units: int = 100,
    num_output_units: int = 1,
) -> nn.Sequential:
    """Discriminator d(x): ``num_hidden_layers`` x (Linear without bias, LeakyReLU, Dropout 0.5),
    then Linear and Sigmoid. As in the lecture, every dropout layer is called ``dropout``."""
    _check_sizes(input_size=input_size, num_hidden_units=num_hidden_units,
                 num_output_units=num_output_units)
    input_size, num_hidden_units = int(input_size), int(num_hidden_units)
    model = nn.Sequential()
    for i in range(num_hidden_layers):
        model.add_module(f"fc_d{i}", nn.Linear(input_size, num_hidden_units, bias=False))
        model.add_module(f"relu_d{i}", nn.LeakyReLU())
        model.add_module("dropout", nn.Dropout(p=0.5))
        input_size = num_hidden_units
    model.add_module(f"fc_d{num_hidden_layers}", nn.Linear(input_size, num_output_units))
    model.add_module("sigmoid", nn.Sigmoid())
    return model


def discriminator_logits(disc_model: nn.Sequential) -> nn.Module:
    """The discriminator without its final ``Sigmoid``: it returns logits, sharing the weights.

    Training on logits with ``BCEWithLogitsLoss`` is the same loss as Sigmoid + ``BCELoss`` but
    does not overflow when d(x) saturates at 0 or 1.
    """
    if not isinstance(disc_model, nn.Sequential) or not isinstance(disc_model[-1], nn.Sigmoid):
        raise TypeError(
            "Expected a discriminator that ends in nn.Sigmoid (as make_discriminator_network "
            "builds); for a network that already returns logits, use it directly."
        )
    return disc_model[:-1]


def _check_sizes(**sizes: int) -> None:
    # numbers.Integral, not int: the lecture passes ``np.prod(image_size)``, a NumPy integer.
    for name, value in sizes.items():
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
