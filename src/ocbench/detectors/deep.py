"""What every deep detector shares: its network, the device, the seed and the pretrained encoder."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from ..errors import OcbenchError
from ..nets import Autoencoder, build_network
from ..nets.reference_init import apply_init
from ..training import TrainConfig, as_tensor, map_batches, resolve_device, seed_everything
from .base import Detector


def load_autoencoder(source) -> tuple[Autoencoder, str | None]:
    """An autoencoder from a module or from a file written by ``AutoencoderDetector.save``."""
    if isinstance(source, Autoencoder):
        return source, None
    if isinstance(source, (str, Path)):
        from .autoencoder import AutoencoderDetector  # late: autoencoder.py imports this module

        detector = AutoencoderDetector.load(source)
        return detector.autoencoder_, detector.net
    raise OcbenchError(f"autoencoder must be an Autoencoder or a path, got {type(source).__name__}")


def transfer_encoder_weights(network: nn.Module, autoencoder: Autoencoder) -> None:
    """Copy every encoder weight and batch-norm running statistic into ``network``.

    The encoder is an instance of the network's own class, so every key must match:
    a strict load fails loudly where the Deep SAD reference silently copied nothing.
    """
    try:
        network.load_state_dict(autoencoder.encoder.state_dict(), strict=True)
    except RuntimeError as err:
        raise OcbenchError(f"the pretrained autoencoder does not fit the network: {err}") from None


class DeepDetector(Detector):
    """Base of the detectors that train a network with ``train_network``.

    Subclasses call ``_setup(X)`` at the start of ``fit``: it seeds, picks the device,
    builds the network (a registry name, initialised as ``init`` says where the
    detector has one, or a module, deep-copied so the parameter is never mutated),
    loads the pretrained encoder when one is given and moves X to the device once.
    """

    def _train_config(self) -> TrainConfig:
        return TrainConfig(lr=self.lr, epochs=self.epochs, milestones=tuple(self.milestones),
                           batch_size=self.batch_size, weight_decay=self.weight_decay,
                           amsgrad=self.amsgrad)

    def _setup(self, X) -> torch.Tensor:
        seed_everything(self.seed)
        self.device_ = resolve_device(self.device)
        if isinstance(self.net, nn.Module):
            network = copy.deepcopy(self.net)
        else:
            network = build_network(self.net)
            # the reference's draws for this seed, where ``init`` names one (nets.reference_init)
            apply_init(network, self.net, getattr(self, "init", "default"), self.seed, "network")
        if self.autoencoder is not None:
            autoencoder, ae_net = load_autoencoder(self.autoencoder)
            if ae_net is not None and not isinstance(self.net, nn.Module) and ae_net != self.net:
                raise OcbenchError(f"the pretrained autoencoder was built for net {ae_net!r}, not {self.net!r}")
            transfer_encoder_weights(network, autoencoder)
        self.network_ = network.to(self.device_)
        return as_tensor(X, self.device_)

    def transform(self, X) -> np.ndarray:
        """The network's codes phi(X)."""
        return self._codes(X).cpu().numpy()

    def _codes(self, X) -> torch.Tensor:
        if not hasattr(self, "network_"):
            raise OcbenchError(f"{type(self).__name__} is not fitted yet; call fit first")
        self.network_.eval()
        return map_batches(self.network_, as_tensor(X, self.device_))
