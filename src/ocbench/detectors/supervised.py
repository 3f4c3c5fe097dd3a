"""The supervised classifier the Deep SAD paper compares with: Deep SAD's network, a binary head,
binary cross-entropy of the labelled anomalies against the normal data."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.utils.validation import check_is_fitted

from ..errors import OcbenchError
from ..hyperparameters import defaults
from ..training import as_tensor, map_batches
from . import params
from .base import semi_labels
from .deep import DeepDetector

_DEFAULT = defaults(params.SUPERVISED)


def anomaly_targets(semi: torch.Tensor) -> torch.Tensor:
    """The classifier's targets: 1 for a labelled anomaly (-1), 0 for every other sample.

    The unlabelled samples count as normal, as they do for Deep SAD (mostly normal, with
    the pollution among them); labelled normals (+1) are normal too.
    """
    return (semi == -1).to(torch.float32)


def supervised_loss(logits: torch.Tensor, semi: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy of the logits against ``anomaly_targets(semi)``."""
    return F.binary_cross_entropy_with_logits(logits, anomaly_targets(semi).to(logits.dtype))


class BinaryHead(nn.Module):
    """A network's codes, then one linear unit: the logit of "anomaly"."""

    def __init__(self, network: nn.Module, rep_dim: int):
        super().__init__()
        self.network = network
        self.head = nn.Linear(rep_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.network(x)).squeeze(1)


class SupervisedClassifier(DeepDetector):
    """Binary classification of the labelled anomalies against the rest of the training data.

    The network is Deep SAD's (a registry name, with ``init`` and the pretrained
    encoder as for Deep SAD), followed by one linear unit (``BinaryHead``, with a bias,
    drawn after the network's weights); trained with the one training loop on the mean
    binary cross-entropy (``supervised_loss``): target 1 for the samples with semi-label
    -1, 0 for the unlabelled and known normal samples. Score: the logit, higher = more
    anomalous (the same ranking as the probability). ``threshold_`` is 0, probability
    1/2: the classifier's own boundary.

    ``fit(X, y)`` needs at least one labelled anomaly in ``y``.

    Attributes
    ----------
    classifier_ : BinaryHead
        the trained network phi and its linear unit
    network_ : torch.nn.Module
        the trained network phi (the classifier's own)
    n_known_anomalies_ : int
        training samples labelled -1
    train_losses_ : list of float
        the mean loss of every epoch
    """

    uses_labels = True
    hyper_parameters = params.SUPERVISED
    trained_module = "classifier_"
    stackable = True  # the fit is the hooks below and the loss draws no random numbers

    def __init__(self, net="mnist_lenet", lr=_DEFAULT["lr"], epochs=_DEFAULT["epochs"],
                 milestones=_DEFAULT["milestones"], batch_size=_DEFAULT["batch_size"],
                 weight_decay=_DEFAULT["weight_decay"], amsgrad=_DEFAULT["amsgrad"],
                 drop_last=_DEFAULT["drop_last"], init=_DEFAULT["init"], device="cpu", seed=0, autoencoder=None):
        self.net = net
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
        return "supervised"

    def begin_fit(self, X, y):
        self.check_hyper_parameters()
        semi = semi_labels(y, len(X))
        if not (semi == -1).any():
            raise OcbenchError("supervised needs labelled anomalies (ratio_known_outlier > 0); "
                               "the training semi-labels have no -1")
        x = self.setup_network(X)
        rep_dim = int(self.codes(x[:1]).shape[1])
        self.classifier_ = BinaryHead(self.network_, rep_dim).to(self.device_)
        self.n_known_anomalies_ = int(np.sum(semi == -1))
        return [x, as_tensor(semi, self.device_).long()], []

    def batch_loss(self, forward, xb, sb):
        return supervised_loss(forward(xb), sb)

    def end_fit(self, x, state):
        self.set_training_scores(self._score(x), threshold=0.0)

    def _score(self, x) -> np.ndarray:
        self.classifier_.eval()
        logits = map_batches(self.classifier_, self.as_input(x))
        return logits.cpu().numpy().astype(np.float64)

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self._score(X)
