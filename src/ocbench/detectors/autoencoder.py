"""The convolutional autoencoder: pretraining for the deep methods and the CAE baseline."""
from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ..hyperparameters import defaults
from ..nets import build_autoencoder
from ..nets.reference_init import apply_init
from ..training import map_batches, resolve_device, seed_everything
from . import params
from .autoencoder_file import read_autoencoder, write_autoencoder
from .deep import DeepDetector

_DEFAULT = defaults(params.AUTOENCODER)


def reconstruction_error(autoencoder, x: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Per-sample squared error between x and its reconstruction, averaged (``mean``) or
    summed (``sum``) over the sample's entries; the two differ by the factor D = entries
    per sample, so they rank samples alike."""
    err = ((autoencoder(x) - x) ** 2).flatten(1)
    return err.sum(dim=1) if reduction == "sum" else err.mean(dim=1)


def autoencoder_loss(autoencoder, x: torch.Tensor, loss: str) -> torch.Tensor:
    """The training loss of one batch: the per-sample error reduced by ``loss``, averaged over the batch.

    With Adam the two losses train alike except through the weight decay, which Adam
    adds to the gradient: ``mean`` with weight decay w takes the steps of ``sum`` with
    weight decay w * D (up to Adam's epsilon).
    """
    return reconstruction_error(autoencoder, x, loss).mean()


class ReconstructionScorer(DeepDetector):
    """Scores of a detector whose fitted ``autoencoder_`` is the model (CAE, RCAE):
    the per-sample mean squared reconstruction error, whatever the training loss (the
    per-sample sum is D times it, the same ranking); its encoder is the ``network_``."""

    @property
    def network_(self):
        return self.autoencoder_.encoder

    def _score(self, x) -> np.ndarray:
        self.autoencoder_.eval()
        err = map_batches(lambda b: reconstruction_error(self.autoencoder_, b), self.as_input(x))
        return err.cpu().numpy().astype(np.float64)

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self._score(X)


class AutoencoderDetector(ReconstructionScorer):
    """Trains ``build_autoencoder(net)`` on the squared reconstruction error; score = its per-sample mean.

    A fitted instance is what pretraining saves: its ``autoencoder_.encoder`` carries
    the weights that Deep SVDD, Deep SAD and the hybrid baselines start from. One loaded
    with ``load`` has ``threshold_`` but no ``decision_scores_`` or ``labels_`` (the file
    keeps no training scores).

    Attributes
    ----------
    autoencoder_ : ocbench.nets.Autoencoder
        the trained encoder and decoder
    train_losses_ : list of float
        the mean loss of every epoch
    """

    hyper_parameters = params.AUTOENCODER
    argument_docs = {"net": ("str", "a net of ocbench.nets.NETS by name: its encoder and mirror decoder")}
    trained_module = "autoencoder_"
    stackable = True

    def __init__(self, net="mnist_lenet", lr=_DEFAULT["lr"], epochs=_DEFAULT["epochs"],
                 milestones=_DEFAULT["milestones"], batch_size=_DEFAULT["batch_size"],
                 weight_decay=_DEFAULT["weight_decay"], amsgrad=_DEFAULT["amsgrad"],
                 drop_last=_DEFAULT["drop_last"], loss=_DEFAULT["loss"],
                 init=_DEFAULT["init"], device="cpu", seed=0):
        self.net = net
        self.lr = lr
        self.epochs = epochs
        self.milestones = milestones
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.amsgrad = amsgrad
        self.drop_last = drop_last
        self.loss = loss
        self.init = init
        self.device = device
        self.seed = seed

    def run_name(self) -> str:
        return "autoencoder"

    def begin_fit(self, X, y):
        self.check_hyper_parameters()
        seed_everything(self.seed)
        self.device_ = resolve_device(self.device)
        autoencoder = build_autoencoder(self.net)
        apply_init(autoencoder, self.net, self.init, self.seed, "autoencoder")
        self.autoencoder_ = autoencoder.to(self.device_)
        return [self.as_input(X)], []

    def batch_loss(self, forward, xb):
        return autoencoder_loss(forward, xb, self.loss)

    def end_fit(self, x, state):
        self.set_training_scores(self._score(x))

    def save(self, path) -> None:
        check_is_fitted(self)
        write_autoencoder(path, self.get_params(), self.autoencoder_, self.threshold_, self.train_losses_)

    @classmethod
    def load(cls, path, device: str = "cpu") -> "AutoencoderDetector":
        params, autoencoder, threshold, train_losses = read_autoencoder(path)
        detector = cls(**dict(params, device=device))
        detector.device_ = resolve_device(device)
        detector.autoencoder_ = autoencoder.to(detector.device_)
        detector.threshold_ = threshold
        detector.train_losses_ = train_losses
        return detector
