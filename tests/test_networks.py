import numpy as np
import pytest
import torch

from course_utils.gan import (
    discriminator_logits,
    make_discriminator_network,
    make_generator_network,
)

# What the lecture's notebook prints for print(gen_model) and print(disc_model).
LECTURE_GENERATOR = """Sequential(
  (fc_g0): Linear(in_features=20, out_features=100, bias=True)
  (relu_g0): LeakyReLU(negative_slope=0.01)
  (fc_g1): Linear(in_features=100, out_features=784, bias=True)
  (tanh_g): Tanh()
)"""
LECTURE_DISCRIMINATOR = """Sequential(
  (fc_d0): Linear(in_features=784, out_features=100, bias=False)
  (relu_d0): LeakyReLU(negative_slope=0.01)
  (dropout): Dropout(p=0.5, inplace=False)
  (fc_d1): Linear(in_features=100, out_features=1, bias=True)
  (sigmoid): Sigmoid()
)"""


def test_print_matches_the_lecture():
    image_size = (28, 28)
    gen = make_generator_network(input_size=20, num_hidden_layers=1, num_hidden_units=100,
                                 num_output_units=np.prod(image_size))
    disc = make_discriminator_network(input_size=np.prod(image_size), num_hidden_layers=1,
                                      num_hidden_units=100)
    assert str(gen) == LECTURE_GENERATOR
    assert str(disc) == LECTURE_DISCRIMINATOR
    assert str(make_generator_network()) == LECTURE_GENERATOR


def test_output_ranges_and_shapes():
    gen, disc = make_generator_network(), make_discriminator_network(784)
    images = gen(torch.randn(16, 20) * 10)
    assert images.shape == (16, 784) and images.abs().max() <= 1
    p = disc(images)
    assert p.shape == (16, 1) and ((p > 0) & (p < 1)).all()


def test_deeper_networks_follow_the_lecture_naming():
    gen = make_generator_network(num_hidden_layers=2)
    assert [name for name, _ in gen.named_children()] == [
        "fc_g0", "relu_g0", "fc_g1", "relu_g1", "fc_g2", "tanh_g"]


def test_logits_share_weights_with_the_discriminator():
    disc = make_discriminator_network(784).eval()
    x = torch.randn(8, 784)
    logits = discriminator_logits(disc)
    assert torch.allclose(torch.sigmoid(logits(x)), disc(x))
    assert logits[0].weight is disc[0].weight
    with pytest.raises(TypeError, match="Sigmoid"):
        discriminator_logits(make_generator_network())


@pytest.mark.parametrize("kwargs",
                         [{"input_size": 0}, {"num_hidden_units": -3}, {"input_size": 2.5}])
def test_bad_sizes_are_clear_errors(kwargs):
    with pytest.raises(ValueError, match="positive integer"):
        make_generator_network(**kwargs)
