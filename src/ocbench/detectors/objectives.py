"""The losses, centres and radii of the hypersphere methods, as plain tensor functions.

Kept apart from the detectors so that each formula can be checked on numbers worked
by hand. ``dist`` is always the squared distance d = ||phi(x) - c||^2 per sample.
"""
import torch

CENTER_EPS = 0.1


def init_center(codes: torch.Tensor, eps: float = CENTER_EPS) -> torch.Tensor:
    """Mean of the codes, with every coordinate closer to 0 than eps pushed to +-eps by its sign.

    A coordinate at zero would let the network reach the centre with zero weights.
    Coordinates exactly 0 go to +eps (the reference's sign rule sends them to -eps
    and +eps in two passes, which ends at +eps).
    """
    c = codes.mean(dim=0)
    small_neg = (c.abs() < eps) & (c < 0)
    small_pos = (c.abs() < eps) & (c >= 0)
    c = c.clone()
    c[small_neg] = -eps
    c[small_pos] = eps
    return c


def squared_distance(codes: torch.Tensor, center: torch.Tensor) -> torch.Tensor:
    return ((codes - center) ** 2).sum(dim=1)


def one_class_loss(dist: torch.Tensor) -> torch.Tensor:
    return dist.mean()


def soft_boundary_loss(dist: torch.Tensor, radius: torch.Tensor | float, nu: float) -> torch.Tensor:
    """R^2 + (1/nu) * mean(max(0, d - R^2))."""
    r2 = torch.as_tensor(radius, dtype=dist.dtype, device=dist.device) ** 2
    return r2 + torch.clamp(dist - r2, min=0).mean() / nu


def radius_from_distances(dist: torch.Tensor, nu: float) -> float:
    """The (1 - nu) quantile of sqrt(d): the soft-boundary radius after a step."""
    return float(torch.quantile(dist.detach().double().sqrt(), 1 - nu))


def deep_sad_loss(dist: torch.Tensor, semi: torch.Tensor, eta: float = 1.0, eps: float = 1e-6) -> torch.Tensor:
    """Mean over samples of d if unlabeled, else eta * (d + eps) ** y (y = +1 or -1)."""
    labelled = eta * (dist + eps) ** semi.to(dist.dtype)
    return torch.where(semi == 0, dist, labelled).mean()
