"""Deep SAD (Ruff et al., ICLR 2020): Deep SVDD that also learns from labelled samples."""
from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..hyperparameters import defaults
from ..training import as_tensor
from . import params
from .base import semi_labels
from .deep import DeepDetector
from .objectives import deep_sad_loss, init_center, squared_distance

_DEFAULT = defaults(params.DEEP_SAD)


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

    Attributes
    ----------
    c_ : torch.Tensor of shape (rep_dim,)
        the centre
    n_known_normal_ : int
        training samples labelled +1
    n_known_anomalies_ : int
        training samples labelled -1
    network_ : torch.nn.Module
        the trained network phi
    train_losses_ : list of float
        the mean loss of every epoch
    """

    uses_labels = True
    hyper_parameters = params.DEEP_SAD
    stackable = True

    def __init__(self, net="mnist_lenet", eta=_DEFAULT["eta"], eps=_DEFAULT["eps"], lr=_DEFAULT["lr"],
                 epochs=_DEFAULT["epochs"], milestones=_DEFAULT["milestones"], batch_size=_DEFAULT["batch_size"],
                 weight_decay=_DEFAULT["weight_decay"], amsgrad=_DEFAULT["amsgrad"],
                 drop_last=_DEFAULT["drop_last"], init=_DEFAULT["init"],
                 device="cpu", seed=0, autoencoder=None):
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

    def run_name(self) -> str:
        return "deep_sad"

    def begin_fit(self, X, y):
        self.check_hyper_parameters()
        semi = semi_labels(y, len(X))
        x = self.setup_network(X)
        semi_t = as_tensor(semi, self.device_).long()
        self.network_.eval()
        self.c_ = init_center(self.codes(x))
        self.n_known_normal_ = int(np.sum(semi == 1))
        self.n_known_anomalies_ = int(np.sum(semi == -1))
        return [x, semi_t], [self.c_]

    def batch_loss(self, forward, xb, sb, center):
        return deep_sad_loss(squared_distance(forward(xb), center), sb, self.eta, self.eps)

    def end_fit(self, x, state):
        self.set_training_scores(self._score(x))

    def _score(self, x) -> np.ndarray:
        return squared_distance(self.codes(x), self.c_).cpu().numpy().astype(np.float64)

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self._score(X)
