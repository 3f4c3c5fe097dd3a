"""What every deep detector shares: its network, the device, the seed and the pretrained encoder."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from sklearn.utils.validation import check_is_fitted

from ..errors import OcbenchError
from ..nets import Autoencoder, as_net_input, build_network
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
    """Base of the detectors that train a network with the one training loop (``training.train_network``).

    A plugin's deep detector subclasses it and overrides these public hooks
    (docs/extending.md); ``fit`` runs them in this order, and ``fit_stacked`` runs the
    same hooks for K detectors whose networks train as one stack:

    - ``begin_fit(X, y)``: check the hyper-parameters, call ``setup_network(X)`` (seed,
      device, network, pretrained encoder) and compute what the loss needs (a centre);
      return the training tensors and the per-model state tensors;
    - ``batch_loss(forward, *batch, *state)``: one model's loss of one batch (or
      ``(loss, aux)``); ``forward`` is its network;
    - ``after_step(epoch, aux, state)``: after each optimiser step, update ``state`` in place;
    - ``end_fit(x, state)``: the fitted values, ending with ``set_training_scores``.

    ``train_config()`` turns the training arguments into the loop's ``TrainConfig``,
    ``run_name()`` names the fit in the log, ``trained_module`` names the fitted
    attribute the loop trains. A detector whose fit does not fit these phases
    overrides ``fit`` itself (OC-NN, RCAE, multi-radius Deep SVDD).
    """

    #: the fitted attribute that ``batch_loss`` trains (``network_``, or ``autoencoder_`` for an autoencoder)
    trained_module = "network_"
    #: whether K detectors of this class may train as one stack (``fit_stacked``; on CUDA the workflow
    #: stacks them): true only when its fit is these hooks and ``batch_loss`` draws no random numbers,
    #: since a vmapped loss cannot draw them, and a stacked model must end as it would alone
    stackable = False

    def begin_fit(self, X, y) -> tuple[list, list]:
        """Set up the fit; return the training tensors and the per-model state tensors the loss reads."""
        raise NotImplementedError(f"{type(self).__name__} does not define begin_fit; define it or override fit")

    def batch_loss(self, forward, *batch_and_state):
        """One model's loss of one batch: ``forward`` is its network, then the batch's tensors, then its state."""
        raise NotImplementedError(f"{type(self).__name__} does not define batch_loss")

    def after_step(self, epoch: int, aux, state: list) -> None:
        """After each optimiser step (for one model, or K stacked ones at once): update ``state`` in place."""

    def end_fit(self, x, state: list) -> None:
        """After training: fitted values from this model's training tensor ``x`` and final ``state``;
        calls ``set_training_scores``."""
        raise NotImplementedError(f"{type(self).__name__} does not define end_fit")

    def run_name(self) -> str:
        return type(self).__name__

    def fit(self, X, y=None):
        """Train on X (semi-labels y for a detector that ``uses_labels``): the hooks, in order."""
        tensors, state = self.begin_fit(X, y)
        self.train_losses_ = train_network(
            getattr(self, self.trained_module), lambda module, *batch: self.batch_loss(module, *batch, *state),
            tensors, self.train_config(), seed=self.seed, name=self.run_name(),
            after_step=lambda epoch, aux: self.after_step(epoch, aux, state))
        self.end_fit(tensors[0], state)
        return self

    def train_config(self) -> TrainConfig:
        """The training loop's settings, from the detector's training arguments (the one place)."""
        return TrainConfig(lr=self.lr, epochs=self.epochs, milestones=tuple(self.milestones),
                           batch_size=self.batch_size, weight_decay=self.weight_decay,
                           amsgrad=self.amsgrad, drop_last=self.drop_last)

    def setup_network(self, X) -> torch.Tensor:
        """Seed, pick the device, build ``network_`` and move X there once; return X as a tensor.

        The network is a registry name's (initialised as ``init`` says, where the detector
        has one) or a deep copy of the module given, so the argument is never mutated;
        the pretrained encoder's weights are loaded when ``autoencoder`` is given.
        """
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
        return self.as_input(X)

    def as_input(self, X) -> torch.Tensor:
        """X as a float32 tensor on the fitted device, its samples in the net's input shape
        (an N×D or N×H×W array of a registry net's images is reshaped; ``nets.as_net_input``)."""
        return as_tensor(as_net_input(X, self.net) if isinstance(self.net, str) else X, self.device_)

    def transform(self, X) -> np.ndarray:
        """The network's codes phi(X)."""
        check_is_fitted(self)
        return self.codes(X).cpu().numpy()

    def codes(self, X) -> torch.Tensor:
        """The network's codes phi(X), a tensor on the device: in evaluation mode, without gradients, in batches
        (``transform`` is the same as an array, for a fitted detector)."""
        self.network_.eval()
        return map_batches(self.network_, self.as_input(X))


#: the constructor arguments that may differ between the detectors of one stack
_PER_MODEL = ("seed", "autoencoder")


def fit_stacked(detectors: list, Xs: list, ys: list | None = None) -> list:
    """Fit K detectors of one stackable class and one set of hyper-parameters (seed and pretrained
    autoencoder aside) with their networks trained as one stack (``training.train_stacked``).

    The stacking contract: the class declares ``stackable = True`` only when its fit is
    ``DeepDetector``'s hooks and its ``batch_loss`` draws no random numbers (a vmapped
    loss cannot, and each model must end as it would alone); any other is refused.

    Each detector ends as ``fit`` alone would leave it, up to float rounding: its own
    seed's initial weights, batches and centre, its own data ``Xs[k]`` (and semi-labels
    ``ys[k]``). The training sets must have one size. Returns the detectors.
    """
    if not detectors:
        raise OcbenchError("fit_stacked needs at least one detector")
    first = detectors[0]
    kinds = {type(d).__name__ for d in detectors}
    if len(kinds) > 1:
        raise OcbenchError(f"fit_stacked needs detectors of one class, got {', '.join(sorted(kinds))}")
    if not getattr(first, "stackable", False):
        raise OcbenchError(f"{type(first).__name__} is not stackable (its class does not declare stackable = True): "
                           "train its detectors one by one")
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
    begun = [d.begin_fit(X, y) for d, X, y in zip(detectors, Xs, ys)]
    tensors = [torch.stack(parts) for parts in zip(*(b[0] for b in begun))]
    state = [torch.stack(parts) for parts in zip(*(b[1] for b in begun))]
    losses = train_stacked([getattr(d, d.trained_module) for d in detectors], first.batch_loss, tensors,
                           first.train_config(), seeds=[d.seed for d in detectors],
                           names=[f"{d.run_name()} seed {d.seed}" for d in detectors], state=state,
                           after_step=lambda epoch, aux: first.after_step(epoch, aux, state))
    for k, d in enumerate(detectors):
        d.train_losses_ = losses[k]
        d.end_fit(tensors[0][k], [s[k] for s in state])
    return detectors
