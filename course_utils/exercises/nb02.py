"""Checks for notebook 02 (the lecture's generator and discriminator).

* ``check_noise(my_noise)`` -- z uniform on [-1, 1), shape (batch_size, z_size), from the given
  generator;
* ``check_discriminator(my_make_discriminator)`` -- two hidden layers: (Linear without bias,
  LeakyReLU, Dropout 0.5) x 2, then Linear and Sigmoid;
* ``check_discriminator_size(my_discriminator_size)`` -- its number of parameters, by formula.
"""
from __future__ import annotations

import torch
from torch import nn

from ..gan.networks import make_discriminator_network
from .verdict import (
    NotYet,
    StudentError,
    as_tensor,
    call,
    checker,
    describe_exception,
    generator,
    is_placeholder,
)

__all__ = ["check_noise", "check_discriminator", "check_discriminator_size"]


@checker("uniform noise for the generator")
def check_noise(my_noise) -> str:
    what = "my_noise(batch_size, z_size, generator)"
    z = as_tensor(call(my_noise, 4000, 20, generator(20), what=what), "my_noise")
    if z.shape != (4000, 20):
        if z.shape == (20, 4000):
            raise AssertionError("my_noise(4000, 20, generator) is transposed: shape (20, 4000), "
                                 "expected (4000, 20)")
        raise AssertionError(f"my_noise(4000, 20, generator) has shape {tuple(z.shape)}, expected "
                             "(4000, 20)")
    lo, hi, mean, var = float(z.min()), float(z.max()), float(z.mean()), float(z.var())
    if lo >= 0 and abs(mean - 0.5) < 0.03:
        raise AssertionError(f"the values lie in [0, 1) (mean {mean:.3f}): torch.rand gives "
                             "[0, 1); map it to [-1, 1) with 2 u - 1")
    if lo < -1 or hi >= 1:
        if abs(var - 1) < 0.1:
            raise AssertionError(f"this looks like standard normal noise (variance {var:.3f}); the "
                                 "lecture's mode_z='uniform' is uniform on [-1, 1)")
        raise AssertionError(f"the values range over [{lo:.3f}, {hi:.3f}], outside [-1, 1)")
    if abs(mean) > 0.03 or abs(var - 1 / 3) > 0.03:
        raise AssertionError(f"mean {mean:.3f} and variance {var:.3f}; uniform noise on [-1, 1) "
                             "has mean 0 and variance 1/3")
    other = as_tensor(call(my_noise, 4000, 20, generator(21), what=what), "my_noise")
    again = as_tensor(call(my_noise, 4000, 20, generator(20), what=what), "my_noise")
    if torch.equal(z, other):
        raise AssertionError("the values look right but do not depend on the generator: pass "
                             "generator=generator to torch.rand, so that a seed reproduces the "
                             "noise")
    if not torch.equal(z, again):
        raise AssertionError("the same generator seed gave different noise: draw every random "
                             "number from the generator passed in")
    return (f"shape (4000, 20), values in [{lo:.3f}, {hi:.3f}], mean {mean:+.4f}, variance "
            f"{var:.4f} (1/3 = 0.3333)")


# The exercise's layers, written out: make_discriminator_network cannot serve as the reference
# here, because (as in the lecture) it names every Dropout "dropout", and nn.Sequential keeps one
# module per name, so with two hidden layers it has a single Dropout, after the first.
_EXPECTED = [nn.Linear, nn.LeakyReLU, nn.Dropout, nn.Linear, nn.LeakyReLU, nn.Dropout, nn.Linear,
             nn.Sigmoid]


def _reference(input_size: int, layers: int, hidden: int) -> nn.Sequential:
    """The package's discriminator (the lecture's), built without touching the global random
    state."""
    with torch.random.fork_rng(devices=[]):
        return make_discriminator_network(input_size, layers, hidden)


def _layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if not list(m.children())]


def _check_one_discriminator(model, input_size: int, hidden: int) -> None:
    what = f"my_make_discriminator({input_size}, {hidden})"
    if not isinstance(model, nn.Module):
        raise StudentError(f"{what} should return a torch.nn.Module (e.g. an nn.Sequential), got "
                           f"{type(model).__name__}")
    layers = _layers(model)
    kinds = [type(m) for m in layers]
    names = ", ".join(k.__name__ for k in kinds) or "no layers"
    linears = [m for m in layers if isinstance(m, nn.Linear)]
    if len(linears) != 3:
        raise AssertionError(f"{what} has {len(linears)} Linear layers ({names}); two hidden "
                             "layers and the output layer make 3")
    sizes = [(m.in_features, m.out_features) for m in linears]
    want_sizes = [(input_size, hidden), (hidden, hidden), (hidden, 1)]
    if sizes != want_sizes:
        raise AssertionError(f"{what}: the Linear layers map {sizes}, expected {want_sizes}")
    if kinds[-1] is not nn.Sigmoid:
        raise AssertionError(f"{what} should end in a Sigmoid (d(x) is a probability); its "
                             f"layers: {names}")
    if any(m.bias is not None for m in linears[:2]):
        raise AssertionError(f"{what}: the hidden Linear layers have a bias; the lecture's have "
                             "none (bias=False; the output layer keeps its bias)")
    if linears[2].bias is None:
        raise AssertionError(f"{what}: the output Linear layer needs its bias")
    dropouts = [m for m in layers if isinstance(m, nn.Dropout)]
    if len(dropouts) != 2 or any(abs(m.p - 0.5) > 1e-12 for m in dropouts):
        raise AssertionError(f"{what}: expected a Dropout(p=0.5) after each hidden activation, "
                             f"found {[m.p for m in dropouts]}")
    if kinds != _EXPECTED:
        raise AssertionError(f"{what}: the layers are in the order {names}; expected "
                             + ", ".join(k.__name__ for k in _EXPECTED))
    x = torch.rand(5, input_size, generator=generator(22)) * 2 - 1
    was_training = model.training
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            model.eval()
            out = model(x)
    except Exception as err:  # noqa: BLE001
        raise StudentError(f"{what} failed on a (5, {input_size}) batch: "
                           f"{describe_exception(err)}") from err
    finally:
        model.train(was_training)
    if not isinstance(out, torch.Tensor) or out.shape != (5, 1):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise AssertionError(f"{what} maps a (5, {input_size}) batch to {shape}, expected (5, 1)")
    if not bool(((out > 0) & (out < 1)).all()):
        raise AssertionError(f"{what}: outputs should be probabilities in (0, 1)")


@checker("a discriminator with two hidden layers")
def check_discriminator(my_make_discriminator) -> str:
    for input_size, hidden in ((784, 100), (30, 12)):
        model = call(my_make_discriminator, input_size, hidden,
                     what=f"my_make_discriminator({input_size}, {hidden})")
        _check_one_discriminator(model, input_size, hidden)
    n = sum(p.numel() for p in model.parameters())
    return ("(Linear without bias, LeakyReLU, Dropout 0.5) x 2, Linear, Sigmoid; (5, 30) -> (5, 1) "
            f"probabilities; {n} parameters for 30 inputs and 12 hidden units")


@checker("the number of parameters of the discriminator")
def check_discriminator_size(my_discriminator_size) -> str:
    cases = ((784, 2, 100), (784, 1, 100), (30, 3, 7), (5, 2, 3))
    for input_size, layers, hidden in cases:
        what = f"my_discriminator_size({input_size}, {layers}, {hidden})"
        got = call(my_discriminator_size, input_size, layers, hidden, what=what)
        if is_placeholder(got):
            raise NotYet(f"{what} is still {got!r}")
        try:
            value = float(got)
        except (TypeError, ValueError) as err:
            raise StudentError(f"{what} should be a number, got {type(got).__name__}") from err
        want = sum(p.numel() for p in _reference(input_size, layers, hidden).parameters())
        if value == want:
            continue
        hints = {want + layers * hidden: "counts a bias for every hidden layer; the lecture's "
                                         "hidden layers have none (bias=False)",
                 want - 1: "misses the output layer's bias (+1)",
                 want - hidden: "misses the output layer's weights (+hidden units)",
                 want - (layers - 1) * hidden * hidden: "misses the hidden-to-hidden weights "
                                                        "((layers - 1) x units^2)",
                 want + hidden: "counts one layer too many or a bias of hidden units too many"}
        hint = hints.get(int(value)) if value == int(value) else None
        raise AssertionError(f"{what} = {got}, but the network has {want} parameters"
                             + (f": it {hint}" if hint else f" (off by {value - want:+g})"))
    return (f"right for all {len(cases)} shapes tried, e.g. {cases[0]}: "
            f"{sum(p.numel() for p in _reference(784, 2, 100).parameters()):,} parameters")
