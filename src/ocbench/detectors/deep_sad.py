"""Deep SAD (Ruff et al., ICLR 2020): Deep SVDD that also learns from labelled samples."""
from __future__ import annotations

import numbers

import numpy as np

from ..errors import OcbenchError
from ..training import as_tensor
from .base import semi_labels
from .deep import DeepDetector
from .objectives import deep_sad_loss, init_center, squared_distance


def check_positive(what: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise OcbenchError(f"{what} must be a number > 0, got {value!r}")


class DeepSAD(DeepDetector):
    """Semi-supervised hypersphere: unlabeled and known normal samples are pulled to ``c_``,
    known anomalies pushed away.

    Per-sample loss (``objectives.deep_sad_loss``): d if unlabeled, eta * (d + eps) for a
    known normal (+1), eta / (d + eps) for a known anomaly (-1). With no labelled sample
    it is the one-class Deep SVDD loss. Score: d = ||phi(x) - c||^2.

    ``fit(X, y)``: y are the semi-labels (+1 known normal, 0 unlabeled, -1 known
    anomaly), None for all unlabeled. The centre is the mean code of all training
    samples, labelled anomalies included, as in the reference. ``threshold_`` is the
    0.9 quantile of the training scores.

    ``autoencoder`` (a path written by ``AutoencoderDetector.save`` or an
    ``Autoencoder``) starts the network from the pretrained encoder: a real weight
    transfer, where the reference silently copied nothing. None trains from a random
    initialisation, which is what the reference did in effect.
    """

    uses_labels = True

    def __init__(self, net="mnist_lenet", eta=1.0, eps=1e-6, lr=1e-4, epochs=150, milestones=(50,),
                 batch_size=128, weight_decay=0.5e-6, amsgrad=False, drop_last=False, init="default", device="cpu",
                 seed=0, autoencoder=None):
        self.net = net
        self.eta = eta
        self.eps = eps
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
        return "deep_sad"

    def _begin_fit(self, X, y):
        check_positive("eta", self.eta)
        check_positive("eps", self.eps)
        semi = semi_labels(y, len(X))
        x = self._setup(X)
        semi_t = as_tensor(semi, self.device_).long()
        self.network_.eval()
        self.c_ = init_center(self._codes(x))
        self.n_known_normal_ = int(np.sum(semi == 1))
        self.n_known_anomalies_ = int(np.sum(semi == -1))
        return [x, semi_t], [self.c_]

    def _batch_loss(self, forward, xb, sb, center):
        return deep_sad_loss(squared_distance(forward(xb), center), sb, self.eta, self.eps)

    def _end_fit(self, x, state):
        self.threshold_ = self._threshold_from_training(self._score(x))

    def _score(self, x) -> np.ndarray:
        return squared_distance(self._codes(x), self.c_).cpu().numpy().astype(np.float64)

    def decision_function(self, X) -> np.ndarray:
        self._check_fitted()
        return self._score(X)
