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
import numbers

import numpy as np
import torch

from ..errors import OcbenchError, check_positive_int
from ..nets import Autoencoder, build_autoencoder
from ..training import as_tensor, map_batches, resolve_device, seed_everything, train_network
from .autoencoder import ReconstructionScorer
from .deep import load_autoencoder
from .objectives import soft_threshold


def check_lam(lam) -> None:
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real) or not math.isfinite(lam) or lam < 0:
        raise OcbenchError(f"lam must be a finite number >= 0, got {lam!r}")


class RCAE(ReconstructionScorer):
    """Autoencoder trained jointly with a sparse noise matrix; score = reconstruction error.

    ``epochs`` is the total number of autoencoder epochs (one optimiser, one learning
    rate schedule); N is updated after every ``epochs_per_alternation`` epochs and after
    the last one, so there are ceil(epochs / epochs_per_alternation) alternations.
    ``autoencoder`` (a path written by ``AutoencoderDetector.save`` or an
    ``Autoencoder``) initialises all weights from the shared pretrained autoencoder.

    Fitted: ``autoencoder_``, ``noise_`` (N, X's shape), ``noise_sparsity_`` (share of
    exact zeros in N), ``n_alternations_``, ``train_losses_``, ``threshold_`` (0.9
    quantile of the training scores).
    """

    def __init__(self, net="mnist_lenet", lam=0.5, epochs_per_alternation=10, lr=1e-4, epochs=150,
                 milestones=(50,), batch_size=200, weight_decay=0.5e-3, amsgrad=False, drop_last=False, device="cpu",
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
        check_lam(self.lam)
        check_positive_int("epochs_per_alternation", self.epochs_per_alternation)
        config = self._train_config()
        seed_everything(self.seed)
        self.device_ = resolve_device(self.device)
        self.autoencoder_ = self._initial_autoencoder().to(self.device_)
        x = as_tensor(X, self.device_)
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
        self.threshold_ = self._threshold_from_training(self._score(x))
        return self

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
