"""Deep SVDD (Ruff et al., ICML 2018): one-class and soft-boundary objectives."""
from __future__ import annotations

import numpy as np

from ..errors import check_choice, check_open_unit
from ..training import train_network
from .deep import DeepDetector
from .objectives import (init_center, one_class_loss, radius_from_distances, soft_boundary_loss,
                         squared_distance)

OBJECTIVES = ("one-class", "soft-boundary")


class DeepSVDD(DeepDetector):
    """Map the normal data into a small hypersphere around a fixed centre ``c_``.

    Score: d = ||phi(x) - c||^2 (one-class) or d - R^2 (soft-boundary, so that the
    boundary is at 0). ``threshold_`` is 0 for soft-boundary (the radius) and the
    0.9 quantile of the training scores for one-class.
    """

    def __init__(self, net="mnist_lenet", objective="one-class", nu=0.1, warm_up_epochs=10,
                 lr=1e-4, epochs=150, milestones=(50,), batch_size=200, weight_decay=0.5e-6,
                 amsgrad=False, init="default", device="cpu", seed=0, autoencoder=None):
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
        self.init = init
        self.device = device
        self.seed = seed
        self.autoencoder = autoencoder

    def fit(self, X, y=None):
        check_choice("objective", self.objective, OBJECTIVES)
        check_open_unit("nu", self.nu)
        config = self._train_config()
        x = self._setup(X)
        self.network_.eval()
        self.c_ = init_center(self._codes(x))
        self.R_ = 0.0
        soft = self.objective == "soft-boundary"

        def batch_loss(network, xb):
            dist = squared_distance(network(xb), self.c_)
            loss = soft_boundary_loss(dist, self.R_, self.nu) if soft else one_class_loss(dist)
            return loss, dist

        def update_radius(epoch, dist):
            if soft and epoch >= self.warm_up_epochs:
                self.R_ = radius_from_distances(dist, self.nu)

        self.train_losses_ = train_network(self.network_, batch_loss, [x], config, seed=self.seed,
                                           name=f"deep_svdd[{self.objective}]", after_step=update_radius)
        train_scores = self._score(x)
        self.threshold_ = 0.0 if soft else self._threshold_from_training(train_scores)
        return self

    def _score(self, x) -> np.ndarray:
        dist = squared_distance(self._codes(x), self.c_)
        if self.objective == "soft-boundary":
            dist = dist - self.R_ ** 2
        return dist.cpu().numpy().astype(np.float64)

    def decision_function(self, X) -> np.ndarray:
        self._check_fitted()
        return self._score(X)
