"""Deep SVDD (Ruff et al., ICML 2018): one-class and soft-boundary objectives."""
from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ..hyperparameters import defaults
from . import params
from .deep import DeepDetector
from .objectives import init_center, one_class_loss, radii_from_distances, soft_boundary_loss, squared_distance

OBJECTIVES = params.DEEP_SVDD["objective"].choices
_DEFAULT = defaults(params.DEEP_SVDD)


class DeepSVDD(DeepDetector):
    """Map the normal data into a small hypersphere around a fixed centre ``c_``.

    Score: d = ||phi(x) - c||^2 (one-class) or d - R^2 (soft-boundary, so that the
    boundary is at 0). ``threshold_`` is 0 for soft-boundary (the radius) and the
    0.9 quantile of the training scores for one-class.

    Attributes
    ----------
    c_ : torch.Tensor of shape (rep_dim,)
        the centre: the mean initial code, coordinates near 0 pushed to +-0.1
    R_ : float
        the soft-boundary radius (0 for one-class)
    network_ : torch.nn.Module
        the trained network phi
    train_losses_ : list of float
        the mean loss of every epoch
    """

    hyper_parameters = params.DEEP_SVDD
    stackable = True

    def __init__(self, net="mnist_lenet", objective=_DEFAULT["objective"], nu=_DEFAULT["nu"],
                 warm_up_epochs=_DEFAULT["warm_up_epochs"], lr=_DEFAULT["lr"], epochs=_DEFAULT["epochs"],
                 milestones=_DEFAULT["milestones"], batch_size=_DEFAULT["batch_size"],
                 weight_decay=_DEFAULT["weight_decay"], amsgrad=_DEFAULT["amsgrad"],
                 drop_last=_DEFAULT["drop_last"], init=_DEFAULT["init"],
                 device="cpu", seed=0, autoencoder=None):
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

    def run_name(self) -> str:
        return f"deep_svdd[{self.objective}]"

    def begin_fit(self, X, y):
        self.check_hyper_parameters()
        x = self.setup_network(X)
        self.network_.eval()
        self.c_ = init_center(self.codes(x))
        radius = torch.zeros((), dtype=torch.float64, device=x.device)  # R, set from the warm-up's end on
        return [x], [self.c_, radius]

    def batch_loss(self, forward, xb, center, radius):
        dist = squared_distance(forward(xb), center)
        if self.objective == "soft-boundary":
            return soft_boundary_loss(dist, radius, self.nu), dist
        return one_class_loss(dist), dist

    def after_step(self, epoch, dist, state):
        if self.objective == "soft-boundary" and epoch >= self.warm_up_epochs:
            state[1].copy_(radii_from_distances(dist, self.nu))

    def end_fit(self, x, state):
        self.R_ = float(state[1])
        self.set_training_scores(self._score(x), 0.0 if self.objective == "soft-boundary" else None)

    def _score(self, x) -> np.ndarray:
        dist = squared_distance(self.codes(x), self.c_)
        if self.objective == "soft-boundary":
            dist = dist - self.R_ ** 2
        return dist.cpu().numpy().astype(np.float64)

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self._score(X)
