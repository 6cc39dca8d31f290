"""within_class_distance: the mean pairwise distance within each class, and what it detects."""
import pytest
import torch

from course_utils.scoring import within_class_distance


def test_mean_pairwise_distance_by_hand():
    features = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    labels = torch.tensor([0, 0, 0, 1, 2])
    d = within_class_distance(features, labels, n_classes=4)
    # class 0: pairs (0,1) 5, (0,2) 0, (1,2) 5, each counted twice over i != j -> 20 / 6
    assert d[0].item() == pytest.approx(10 / 3)
    assert torch.isnan(d[1]) and torch.isnan(d[2]) and torch.isnan(d[3])  # fewer than two samples
    assert d.dtype == torch.float64 and d.shape == (4,)


def test_collapse_within_a_class_shows_although_the_class_histogram_is_even():
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(500) % 10  # every class equally often: a perfect class spread
    varied = torch.randn(500, 64, generator=gen)
    collapsed = varied.clone()
    one_style = varied[labels == 7][0]
    collapsed[labels == 7] = one_style + 0.01 * torch.randn(50, 64, generator=gen)  # one kind of 7
    ratio = within_class_distance(collapsed, labels) / within_class_distance(varied, labels)
    assert ratio[7] < 0.05
    others = torch.arange(10) != 7
    assert torch.allclose(ratio[others], torch.ones(9, dtype=torch.float64))  # the others untouched
    # the expected distance of two N(0, I_64) points is about sqrt(2 * 64)
    mean_distance = within_class_distance(varied, labels).mean().item()
    assert mean_distance == pytest.approx((2 * 64) ** 0.5, rel=0.05)


@pytest.mark.parametrize("labels, match", [
    (torch.tensor([0, 1]), "3 feature vectors"),
    (torch.tensor([0.0, 1.0, 2.0]), "integers"),
    (torch.tensor([0, 1, 10]), "integers in 0..9"),
    (torch.tensor([-1, 0, 1]), "integers in 0..9"),
])
def test_bad_labels_are_clear_errors(labels, match):
    with pytest.raises(ValueError, match=match):
        within_class_distance(torch.zeros(3, 4), labels)
