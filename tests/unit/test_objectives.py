"""The hypersphere formulas on numbers worked by hand."""
import pytest
import torch

from ocbench.detectors.objectives import (init_center, one_class_loss, radius_from_distances,
                                          soft_boundary_loss, squared_distance)


def test_center_is_the_mean_with_small_coordinates_pushed_to_plus_minus_eps():
    codes = torch.tensor([[0.05, 1.0, -0.2, 0.0], [0.03, 3.0, 0.1, 0.0]])
    # mean = [0.04, 2.0, -0.05, 0.0]: 0.04 -> +0.1, -0.05 -> -0.1, 0.0 -> +0.1, 2.0 stays
    assert init_center(codes).tolist() == pytest.approx([0.1, 2.0, -0.1, 0.1])


def test_squared_distance_and_one_class_loss():
    codes = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    center = torch.tensor([1.0, 0.0])
    dist = squared_distance(codes, center)  # [0 + 4, 1 + 0]
    assert dist.tolist() == [4.0, 1.0]
    assert one_class_loss(dist).item() == 2.5


def test_soft_boundary_loss():
    dist = torch.tensor([1.0, 4.0, 9.0])
    # R = 2: R^2 = 4; max(0, d - 4) = [0, 0, 5], mean 5/3; / nu (0.5) = 10/3; total 4 + 10/3
    assert soft_boundary_loss(dist, 2.0, 0.5).item() == pytest.approx(22 / 3)
    # R = 0 reduces to the mean distance over nu
    assert soft_boundary_loss(dist, 0.0, 0.5).item() == pytest.approx(2 * 14 / 3)


def test_radius_is_the_one_minus_nu_quantile_of_the_root_distances():
    dist = torch.tensor([1.0, 4.0, 9.0, 16.0, 25.0])  # sqrt: 1..5
    # 0.75 quantile of [1, 2, 3, 4, 5] by linear interpolation: 1 + 0.75 * 4 = 4
    assert radius_from_distances(dist, 0.25) == pytest.approx(4.0)
