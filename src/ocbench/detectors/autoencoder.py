"""The convolutional autoencoder: pretraining for the deep methods and the CAE baseline."""
from __future__ import annotations

import numpy as np
import torch

from ..errors import OcbenchError
from ..nets import Autoencoder, build_autoencoder
from ..training import as_tensor, map_batches, resolve_device, seed_everything, train_network
from .deep import DeepDetector


def reconstruction_error(autoencoder: Autoencoder, x: torch.Tensor) -> torch.Tensor:
    """Per-sample mean squared error between x and its reconstruction."""
    err = (autoencoder(x) - x) ** 2
    return err.flatten(1).mean(dim=1)


class ReconstructionScorer(DeepDetector):
    """Scores of a detector whose fitted ``autoencoder_`` is the model (CAE, RCAE):
    the per-sample reconstruction error; its encoder is the ``network_``."""

    @property
    def network_(self):
        return self.autoencoder_.encoder

    def _score(self, x) -> np.ndarray:
        self.autoencoder_.eval()
        err = map_batches(lambda b: reconstruction_error(self.autoencoder_, b), as_tensor(x, self.device_))
        return err.cpu().numpy().astype(np.float64)

    def decision_function(self, X) -> np.ndarray:
        self._check_fitted()
        return self._score(X)


class AutoencoderDetector(ReconstructionScorer):
    """Trains ``build_autoencoder(net)`` on mean squared error; score = reconstruction error.

    A fitted instance is what pretraining saves: its ``autoencoder_.encoder`` carries
    the weights that Deep SVDD, Deep SAD and the hybrid baselines start from.
    """

    def __init__(self, net="mnist_lenet", lr=1e-4, epochs=150, milestones=(50,), batch_size=200,
                 weight_decay=0.5e-3, amsgrad=False, device="cpu", seed=0):
        self.net = net
        self.lr = lr
        self.epochs = epochs
        self.milestones = milestones
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.amsgrad = amsgrad
        self.device = device
        self.seed = seed

    def fit(self, X, y=None):
        config = self._train_config()
        seed_everything(self.seed)
        self.device_ = resolve_device(self.device)
        self.autoencoder_ = build_autoencoder(self.net).to(self.device_)
        x = as_tensor(X, self.device_)

        def batch_loss(autoencoder, xb):
            return reconstruction_error(autoencoder, xb).mean()

        self.train_losses_ = train_network(self.autoencoder_, batch_loss, [x], config, seed=self.seed,
                                           name="autoencoder")
        self.threshold_ = self._threshold_from_training(self._score(x))
        return self

    def save(self, path) -> None:
        self._check_fitted()
        torch.save({"params": self.get_params(), "state_dict": self.autoencoder_.state_dict(),
                    "threshold": self.threshold_, "train_losses": self.train_losses_}, path)

    @classmethod
    def load(cls, path, device: str = "cpu") -> "AutoencoderDetector":
        try:
            saved = torch.load(path, map_location="cpu", weights_only=False)
            params = dict(saved["params"], device=device)
            detector = cls(**params)
            detector.device_ = resolve_device(device)
            detector.autoencoder_ = build_autoencoder(detector.net)
            detector.autoencoder_.load_state_dict(saved["state_dict"])
        except OcbenchError:
            raise
        except Exception as err:  # a truncated or foreign file: say which one
            raise OcbenchError(f"cannot read the autoencoder file {path}: {err}") from None
        detector.autoencoder_.to(detector.device_).eval()
        detector.threshold_ = saved["threshold"]
        detector.train_losses_ = saved["train_losses"]
        return detector
