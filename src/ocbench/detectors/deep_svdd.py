"""Deep SVDD (Ruff et al., ICML 2018): one-class and soft-boundary objectives."""
from __future__ import annotations

import numpy as np
import torch

from ..errors import check_choice, check_open_unit
from .deep import DeepDetector
from .objectives import init_center, one_class_loss, radii_from_distances, soft_boundary_loss, squared_distance

OBJECTIVES = ("one-class", "soft-boundary")


class DeepSVDD(DeepDetector):
    """Map the normal data into a small hypersphere around a fixed centre ``c_``.

    Score: d = ||phi(x) - c||^2 (one-class) or d - R^2 (soft-boundary, so that the
    boundary is at 0). ``threshold_`` is 0 for soft-boundary (the radius) and the
    0.9 quantile of the training scores for one-class.
    """

    def __init__(self, net="mnist_lenet", objective="one-class", nu=0.1, warm_up_epochs=10,
                 lr=1e-4, epochs=150, milestones=(50,), batch_size=200, weight_decay=0.5e-6,
                 amsgrad=False, drop_last=False, init="default", device="cpu", seed=0, autoencoder=None):
        self.net = net
        self.objective = objective
        self.nu = nu
        self.warm_up_epochs = warm_up_epochs
        self.lr = lr
        self.epochs = epochs
        self.milestones = milestones
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.amsgrad = amsgrad
        self.drop_last = drop_last
        self.init = init
        self.device = device
        self.seed = seed
        self.autoencoder = autoencoder

    def fit(self, X, y=None):
        return self._fit_phases(X, y)

    def _run_name(self) -> str:
        return f"deep_svdd[{self.objective}]"

    def _begin_fit(self, X, y):
        check_choice("objective", self.objective, OBJECTIVES)
        check_open_unit("nu", self.nu)
        x = self._setup(X)
        self.network_.eval()
        self.c_ = init_center(self._codes(x))
        radius = torch.zeros((), dtype=torch.float64, device=x.device)  # R, set from the warm-up's end on
        return [x], [self.c_, radius]

    def _batch_loss(self, forward, xb, center, radius):
        dist = squared_distance(forward(xb), center)
        if self.objective == "soft-boundary":
            return soft_boundary_loss(dist, radius, self.nu), dist
        return one_class_loss(dist), dist

    def _after_step(self, epoch, dist, state):
        if self.objective == "soft-boundary" and epoch >= self.warm_up_epochs:
            state[1].copy_(radii_from_distances(dist, self.nu))

    def _end_fit(self, x, state):
        self.R_ = float(state[1])
        self.threshold_ = 0.0 if self.objective == "soft-boundary" else self._threshold_from_training(self._score(x))

    def _score(self, x) -> np.ndarray:
        dist = squared_distance(self._codes(x), self.c_)
        if self.objective == "soft-boundary":
            dist = dist - self.R_ ** 2
        return dist.cpu().numpy().astype(np.float64)

    def decision_function(self, X) -> np.ndarray:
        self._check_fitted()
        return self._score(X)
