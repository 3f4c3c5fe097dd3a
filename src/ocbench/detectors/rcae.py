"""Robust convolutional autoencoder, RCAE (Chalapathy, Menon and Chawla, 2017; seed 003).

The objective, for training data X, an autoencoder AE and a noise matrix N of X's shape:

    J(AE, N) = ||X - N - AE(X)||^2 + lam * ||N||_1      (plus weight decay on AE)

N soaks up what the autoencoder should not learn to reproduce: the few corrupted
entries or anomalous samples of the training data. Block-coordinate descent on J:

- AE step: train the autoencoder on input X towards the target X - N (N fixed),
  for ``epochs_per_alternation`` epochs;
- N step: N = soft_threshold(X - AE(X), lam / 2), the exact minimiser over N for the
  fixed autoencoder (``objectives.soft_threshold``).

N starts at 0, so the first AE step is plain autoencoder training. Both steps lower
the same J, and the autoencoder always sees X as input, which is what it sees at
test time, where there is no N. The score is the reconstruction error of AE(x).

Reference behaviour not reproduced (seed 003's Keras code): it fits the autoencoder
on X - N towards X - N once with N = 0 and never uses the N it then computes, so
its RCAE is a plain autoencoder; its lam and weight-decay terms enter the loss as
constants without gradient; and it scores its own training set.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch

from ..errors import OcbenchError
from ..hyperparameters import defaults
from ..nets import Autoencoder, build_autoencoder
from ..training import map_batches, resolve_device, seed_everything, train_network
from . import params
from .autoencoder import ReconstructionScorer
from .deep import load_autoencoder
from .objectives import soft_threshold

_DEFAULT = defaults(params.RCAE)


class RCAE(ReconstructionScorer):
    """Autoencoder trained jointly with a sparse noise matrix; score = reconstruction error.

    ``epochs`` is the total number of autoencoder epochs (one optimiser, one learning
    rate schedule); N is updated after every ``epochs_per_alternation`` epochs and after
    the last one, so there are ceil(epochs / epochs_per_alternation) alternations.
    ``autoencoder`` (a path written by ``AutoencoderDetector.save`` or an
    ``Autoencoder``) initialises all weights from the shared pretrained autoencoder.
    ``threshold_`` is the 0.9 quantile of the training scores.

    Attributes
    ----------
    autoencoder_ : ocbench.nets.Autoencoder
        the trained autoencoder
    noise_ : ndarray of X's shape
        the noise matrix N
    noise_sparsity_ : float
        the share of exact zeros in N
    n_alternations_ : int
        the updates of N
    train_losses_ : list of float
        the mean loss of every epoch
    """

    hyper_parameters = params.RCAE
    argument_docs = {
        "net": ("str or ocbench.nets.Autoencoder", "a net of ocbench.nets.NETS by name (its autoencoder), "
                                                   "or an autoencoder, deep-copied"),
        "autoencoder": ("str, Path, Autoencoder or None", "the pretrained autoencoder whose weights, encoder "
                                                          "and decoder, the autoencoder starts from; None: none"),
    }

    def __init__(self, net="mnist_lenet", lam=_DEFAULT["lam"],
                 epochs_per_alternation=_DEFAULT["epochs_per_alternation"], lr=_DEFAULT["lr"],
                 epochs=_DEFAULT["epochs"], milestones=_DEFAULT["milestones"], batch_size=_DEFAULT["batch_size"],
                 weight_decay=_DEFAULT["weight_decay"], amsgrad=_DEFAULT["amsgrad"],
                 drop_last=_DEFAULT["drop_last"], device="cpu",
                 seed=0, autoencoder=None):
        self.net = net
        self.lam = lam
        self.epochs_per_alternation = epochs_per_alternation
        self.lr = lr
        self.epochs = epochs
        self.milestones = milestones
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.amsgrad = amsgrad
        self.drop_last = drop_last
        self.device = device
        self.seed = seed
        self.autoencoder = autoencoder

    def fit(self, X, y=None):
        self.check_hyper_parameters()
        config = self.train_config()
        seed_everything(self.seed)
        self.device_ = resolve_device(self.device)
        self.autoencoder_ = self._initial_autoencoder().to(self.device_)
        x = self.as_input(X)
        noise = torch.zeros_like(x)  # updated in place: every batch slices the current N
        every = self.epochs_per_alternation

        def batch_loss(autoencoder, xb, nb):
            return ((autoencoder(xb) - (xb - nb)) ** 2).flatten(1).mean(dim=1).mean()

        def noise_step(epoch):
            if (epoch + 1) % every == 0 or epoch + 1 == config.epochs:
                self.autoencoder_.eval()
                noise.copy_(soft_threshold(x - map_batches(self.autoencoder_, x), self.lam / 2))
                self.autoencoder_.train()  # the loop set train mode once, before the first epoch

        self.train_losses_ = train_network(self.autoencoder_, batch_loss, [x, noise], config, seed=self.seed,
                                           name="rcae", after_epoch=noise_step)
        self.n_alternations_ = math.ceil(config.epochs / every)
        self.noise_ = noise.cpu().numpy()
        self.noise_sparsity_ = float(np.mean(self.noise_ == 0))
        return self.set_training_scores(self._score(x))

    def _initial_autoencoder(self) -> Autoencoder:
        """A fresh ``build_autoencoder(net)`` (or a copy of a given one), with the pretrained weights if any."""
        if isinstance(self.net, Autoencoder):
            autoencoder = copy.deepcopy(self.net)
        else:
            autoencoder = build_autoencoder(self.net)
        if self.autoencoder is not None:
            pretrained, pretrained_net = load_autoencoder(self.autoencoder)
            if pretrained_net is not None and isinstance(self.net, str) and pretrained_net != self.net:
                raise OcbenchError(f"the pretrained autoencoder was built for net {pretrained_net!r}, not {self.net!r}")
            try:
                autoencoder.load_state_dict(pretrained.state_dict(), strict=True)
            except RuntimeError as err:
                raise OcbenchError(f"the pretrained autoencoder does not fit net {self.net!r}: {err}") from None
        return autoencoder
