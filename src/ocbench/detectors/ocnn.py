"""One-class neural network, OC-NN (Chalapathy, Menon and Chawla, 2018; seed 003).

On the codes z of a frozen encoder, a one-hidden-layer head gives a scalar output

    y_hat = <w, g(V z)>

trained on the paper's objective (``objectives.ocnn_loss``)

    1/2 ||w||^2 + 1/2 ||V||_F^2 + (1/nu) * mean(max(0, r - y_hat)) - r

alternating, as the paper does, a gradient epoch on w and V for fixed r with the
closed-form r = the nu quantile of y_hat on the training data (``objectives.ocnn_offset``).
A sample is anomalous when y_hat falls below r: score = r - y_hat, ``threshold_`` = 0,
so about a share nu of the training data scores above the threshold.

g is the sigmoid by default (``activation``: "sigmoid" or "linear", the paper's two
choices). With a linear g the head is a linear function of the code, whose level sets
are hyperplanes, and y_hat is bilinear in (w, V): scaling both by t scales every term
of the objective by t^2, so when the codes lie far enough from the origin (the nu
quantile of their projection above about 1) the objective is unbounded below and r
grows without limit. The sigmoid bounds g. The weights' penalty is part of the
objective, so the optimiser adds no weight decay.

Reference behaviour not reproduced (seed 003's Keras code): its hinge is the identity,
its image variant never updates r, and it scores its own training set; ocbench uses
the hinge, updates r after every epoch, and the runs layer scores the test split.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from ..errors import check_choice, check_open_unit, check_positive_int
from ..training import TrainConfig, train_network
from .deep import DeepDetector
from .objectives import ocnn_loss, ocnn_offset

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "linear": nn.Identity}


class OCNNHead(nn.Module):
    """y_hat = <w, g(V z)>: hidden layer V (no bias), activation g, output weights w (no bias).

    No biases, as in the paper's objective, whose penalty covers w and V only.
    """

    def __init__(self, rep_dim: int, hidden: int, activation: str = "sigmoid"):
        super().__init__()
        self.V = nn.Linear(rep_dim, hidden, bias=False)
        self.g = ACTIVATIONS[activation]()
        self.w = nn.Linear(hidden, 1, bias=False)

    def forward(self, z):
        return self.w(self.g(self.V(z))).squeeze(1)


class OCNN(DeepDetector):
    """OC-NN on the codes of ``net`` (frozen; the pretrained encoder when ``autoencoder`` is given).

    Fitted: ``network_`` (the frozen encoder), ``head_`` (``OCNNHead``), ``r_``,
    ``train_losses_``, ``threshold_`` (0). ``decision_function`` = r - y_hat.
    Without ``autoencoder`` the encoder keeps its random initialisation.
    """

    def __init__(self, net="mnist_lenet", nu=0.1, hidden=32, activation="sigmoid", lr=1e-4, epochs=150,
                 milestones=(50,), batch_size=200, amsgrad=False, drop_last=False, device="cpu", seed=0,
                 autoencoder=None):
        self.net = net
        self.nu = nu
        self.hidden = hidden
        self.activation = activation
        self.lr = lr
        self.epochs = epochs
        self.milestones = milestones
        self.batch_size = batch_size
        self.amsgrad = amsgrad
        self.drop_last = drop_last
        self.device = device
        self.seed = seed
        self.autoencoder = autoencoder

    def _train_config(self) -> TrainConfig:
        # weight_decay 0: 1/2 ||w||^2 + 1/2 ||V||^2 is already in the loss.
        return TrainConfig(lr=self.lr, epochs=self.epochs, milestones=tuple(self.milestones),
                           batch_size=self.batch_size, weight_decay=0.0, amsgrad=self.amsgrad,
                           drop_last=self.drop_last)

    def fit(self, X, y=None):
        check_open_unit("nu", self.nu)
        check_positive_int("hidden", self.hidden)
        check_choice("activation", self.activation, ACTIVATIONS)
        config = self._train_config()
        x = self._setup(X)
        # The encoder is frozen: its codes are computed once and are the head's only input.
        self.network_.eval().requires_grad_(False)
        codes = self._codes(x)
        self.head_ = OCNNHead(codes.shape[1], self.hidden, self.activation).to(self.device_)
        self.r_ = self._offset(codes)

        def batch_loss(head, zb):
            return ocnn_loss(head(zb), self.r_, self.nu, head.w.weight, head.V.weight)

        def update_offset(epoch):
            self.r_ = self._offset(codes)

        self.train_losses_ = train_network(self.head_, batch_loss, [codes], config, seed=self.seed,
                                           name="ocnn", after_epoch=update_offset)
        self.threshold_ = 0.0
        return self

    @torch.no_grad()
    def _outputs(self, codes: torch.Tensor) -> torch.Tensor:
        return self.head_(codes)

    def _offset(self, codes: torch.Tensor) -> float:
        return ocnn_offset(self._outputs(codes), self.nu)

    def decision_function(self, X):
        self._check_fitted()
        y_hat = self._outputs(self._codes(X))
        return (self.r_ - y_hat).cpu().numpy().astype(np.float64)
