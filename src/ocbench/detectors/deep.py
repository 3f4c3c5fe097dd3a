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
from ..training import TrainConfig, as_tensor, map_batches, resolve_device, seed_everything, train_network, \
    train_stacked
from .autoencoder_file import read_autoencoder
from .base import Detector


def load_autoencoder(source) -> tuple[Autoencoder, str | None]:
    """An autoencoder from a module or from a file written by ``AutoencoderDetector.save``."""
    if isinstance(source, Autoencoder):
        return source, None
    if isinstance(source, (str, Path)):
        params, autoencoder, _, _ = read_autoencoder(source)
        return autoencoder, params["net"]
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

    A detector whose fit is "set up, train with one batch loss, finish" writes it as
    three phases (``_begin_fit``, ``_batch_loss`` with ``_after_step``, ``_end_fit``)
    and inherits ``_fit_phases``, which ``fit`` calls; ``fit_stacked`` runs the same
    phases for K detectors whose networks train as one stack.
    """

    #: the module ``_batch_loss`` trains (``network_``, or ``autoencoder_`` for an autoencoder)
    _trained = "network_"

    def _begin_fit(self, X, y) -> tuple[list, list]:
        """Set up the fit; return the training tensors and the per-model state tensors the loss reads."""
        raise NotImplementedError

    def _batch_loss(self, forward, *batch_and_state):
        """One model's loss of one batch: ``forward`` is its network, then the batch's tensors, then its state."""
        raise NotImplementedError

    def _after_step(self, epoch: int, aux, state: list) -> None:
        """After each optimiser step (for one model, or K stacked ones at once): update ``state`` in place."""

    def _end_fit(self, x, state: list) -> None:
        """After training: fitted values from this model's training tensor ``x`` and final ``state``."""

    def _run_name(self) -> str:
        return type(self).__name__

    def _fit_phases(self, X, y=None):
        tensors, state = self._begin_fit(X, y)
        self.train_losses_ = train_network(
            getattr(self, self._trained), lambda module, *batch: self._batch_loss(module, *batch, *state),
            tensors, self._train_config(), seed=self.seed, name=self._run_name(),
            after_step=lambda epoch, aux: self._after_step(epoch, aux, state))
        self._end_fit(tensors[0], state)
        return self

    def _train_config(self) -> TrainConfig:
        return TrainConfig(lr=self.lr, epochs=self.epochs, milestones=tuple(self.milestones),
                           batch_size=self.batch_size, weight_decay=self.weight_decay,
                           amsgrad=self.amsgrad, drop_last=self.drop_last)

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


#: the constructor arguments that may differ between the detectors of one stack
_PER_MODEL = ("seed", "autoencoder")


def fit_stacked(detectors: list, Xs: list, ys: list | None = None) -> list:
    """Fit K detectors of one class and one set of hyper-parameters (seed and pretrained
    autoencoder aside) with their networks trained as one stack (``training.train_stacked``).

    Each detector ends as ``fit`` alone would leave it, up to float rounding: its own
    seed's initial weights, batches and centre, its own data ``Xs[k]`` (and semi-labels
    ``ys[k]``). The training sets must have one size. Returns the detectors.
    """
    if not detectors:
        raise OcbenchError("fit_stacked needs at least one detector")
    first = detectors[0]
    kinds = {type(d).__name__ for d in detectors}
    if len(kinds) > 1 or not hasattr(first, "_begin_fit"):
        raise OcbenchError(f"fit_stacked needs detectors of one class with fit phases, got {', '.join(sorted(kinds))}")
    shared = {k: v for k, v in first.get_params().items() if k not in _PER_MODEL}
    for d in detectors[1:]:
        other = {k: v for k, v in d.get_params().items() if k not in _PER_MODEL}
        differing = sorted(k for k in shared if shared[k] != other[k])
        if differing:
            raise OcbenchError(f"stacked detectors must share their hyper-parameters; {', '.join(differing)} differ")
    sizes = [len(X) for X in Xs]
    if len(Xs) != len(detectors) or len(set(sizes)) > 1:
        raise OcbenchError(f"stacked detectors need one training set each, all of one size; got sizes {sizes} "
                           f"for {len(detectors)} detectors: train them apart or group equal sizes")
    ys = ys if ys is not None else [None] * len(detectors)
    begun = [d._begin_fit(X, y) for d, X, y in zip(detectors, Xs, ys)]
    tensors = [torch.stack(parts) for parts in zip(*(b[0] for b in begun))]
    state = [torch.stack(parts) for parts in zip(*(b[1] for b in begun))]
    losses = train_stacked([getattr(d, d._trained) for d in detectors], first._batch_loss, tensors,
                           first._train_config(), seeds=[d.seed for d in detectors],
                           names=[f"{d._run_name()} seed {d.seed}" for d in detectors], state=state,
                           after_step=lambda epoch, aux: first._after_step(epoch, aux, state))
    for k, d in enumerate(detectors):
        d.train_losses_ = losses[k]
        d._end_fit(tensors[0][k], [s[k] for s in state])
    return detectors
