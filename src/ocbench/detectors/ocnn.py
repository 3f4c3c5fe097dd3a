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

``formulation: authors_code`` computes instead what the authors' Keras code
(github.com/raghavchalapathy/oc-nn, src/models/OneClass_SVDD.py at f571305), which
produced their notebooks' numbers, calls OC-NN:

- network: a linear layer of ``hidden`` units without bias (Keras' Dense, Glorot-uniform
  weights) on the pretrained encoder, the encoder trained with it (its layers are added
  to the model and not frozen; lines 1573-1668);
- centre c: the mean of the initial outputs over the training data, every coordinate
  closer to 0 than 0.1 pushed to +-0.1 (``objectives.init_center``);
- loss: (1/nu) * mean(r^2 + sum_j max(0, (y_j - c_j)^2 - r^2)) with r fixed at 0.1
  (``objectives.ocnn_authors_loss``; lines 886-908), no weight penalty;
- score: ||y - c||^2 (lines 2078-2103); ``threshold_`` the (1 - nu) quantile of the
  training scores, so that a share nu of the training data is flagged as in the paper's
  formulation.

Their recipe (Adam, lr 1e-4 dropped to 1e-5 after 51 epochs, 100 epochs, batch 200,
nu = 0.2) is the ``ocnn.yaml`` preset's, not these defaults. docs/method_notes.md says
why the two formulations differ.

Reference behaviour not reproduced (seed 003's Keras code): its hinge is the identity,
its image variant never updates r, and it scores its own training set; ocbench uses
the hinge, updates r after every epoch, and the runs layer scores the test split
(the transductive protocol of a setting scores the training images instead:
docs/settings.md).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
from sklearn.utils.validation import check_is_fitted

from ..errors import OcbenchError
from ..hyperparameters import defaults
from ..nets.ocnn_head import OCNNHead
from ..training import TrainConfig, train_network
from . import params
from .deep import DeepDetector
from .objectives import AUTHORS_OCNN_RADIUS, init_center, ocnn_authors_loss, ocnn_loss, ocnn_offset, squared_distance

_DEFAULT = defaults(params.OCNN)
#: the paper's objective, or what the authors' code computed (module docstring)
FORMULATIONS = ("paper", "authors_code")


class OCNN(DeepDetector):
    """OC-NN on the codes of ``net`` (the pretrained encoder when ``autoencoder`` is given).

    ``formulation``: ``paper`` (the default: the encoder frozen, ``decision_function`` =
    r - y_hat, ``threshold_`` = 0) or ``authors_code`` (the encoder trains with a linear
    layer of ``hidden`` units, ``activation`` unused; ``decision_function`` = ||y - c||^2,
    ``threshold_`` the (1 - nu) quantile of the training scores). Without ``autoencoder``
    the encoder keeps its random initialisation.

    Attributes
    ----------
    network_ : torch.nn.Module
        the encoder (paper: frozen), then the linear layer (authors' code)
    head_ : ocbench.nets.ocnn_head.OCNNHead
        the trained head (paper)
    c_ : torch.Tensor
        the fixed centre (authors' code)
    r_ : float
        the offset r, the nu quantile of the head's training outputs (paper); the fixed 0.1 (authors' code)
    formulation_ : str
        the formulation fitted
    train_losses_ : list of float
        the mean loss of every epoch
    """

    hyper_parameters = params.OCNN

    def __init__(self, net="mnist_lenet", nu=_DEFAULT["nu"], hidden=_DEFAULT["hidden"],
                 activation=_DEFAULT["activation"], formulation=_DEFAULT["formulation"], lr=_DEFAULT["lr"],
                 epochs=_DEFAULT["epochs"],
                 milestones=_DEFAULT["milestones"], batch_size=_DEFAULT["batch_size"], amsgrad=_DEFAULT["amsgrad"],
                 drop_last=_DEFAULT["drop_last"],
                 device="cpu", seed=0, autoencoder=None):
        self.net = net
        self.nu = nu
        self.hidden = hidden
        self.activation = activation
        self.formulation = formulation
        self.lr = lr
        self.epochs = epochs
        self.milestones = milestones
        self.batch_size = batch_size
        self.amsgrad = amsgrad
        self.drop_last = drop_last
        self.device = device
        self.seed = seed
        self.autoencoder = autoencoder

    def train_config(self) -> TrainConfig:
        # weight_decay 0: the paper's loss holds 1/2 ||w||^2 + 1/2 ||V||^2, and the authors'
        # code compiles its model without a regulariser.
        return TrainConfig(lr=self.lr, epochs=self.epochs, milestones=tuple(self.milestones),
                           batch_size=self.batch_size, weight_decay=0.0, amsgrad=self.amsgrad,
                           drop_last=self.drop_last)

    def run_name(self) -> str:
        return f"ocnn[{self.formulation}]"

    def fit(self, X, y=None):
        self.check_hyper_parameters()
        if self.formulation == "authors_code":
            return super().fit(X, y)  # the hooks below, as every deep detector's fit
        config = self.train_config()
        x = self.setup_network(X)
        # The encoder is frozen: its codes are computed once and are the head's only input.
        self.network_.eval().requires_grad_(False)
        codes = self.codes(x)
        self.head_ = OCNNHead(codes.shape[1], self.hidden, self.activation).to(self.device_)
        self.r_ = self._offset(codes)

        def batch_loss(head, zb):
            return ocnn_loss(head(zb), self.r_, self.nu, head.w.weight, head.V.weight)

        def update_offset(epoch):
            self.r_ = self._offset(codes)

        self.train_losses_ = train_network(self.head_, batch_loss, [codes], config, seed=self.seed,
                                           name=self.run_name(), after_epoch=update_offset)
        self.formulation_ = self.formulation
        return self.set_training_scores((self.r_ - self._outputs(codes)).cpu().numpy().astype(np.float64), 0.0)

    # --- the authors' code: the hooks every deep detector's fit runs (DeepDetector.fit)

    def begin_fit(self, X, y):
        if self.formulation != "authors_code":
            raise OcbenchError("OC-NN's paper formulation trains its head on frozen codes; only formulation "
                               "'authors_code' trains through the deep detector's hooks")
        x = self.setup_network(X)
        encoder = self.network_
        code_size = self.codes(x[:1]).shape[1]
        linear = nn.Linear(code_size, self.hidden, bias=False)
        nn.init.xavier_uniform_(linear.weight)  # Keras' Dense draws glorot_uniform; with r fixed the scale matters
        self.network_ = nn.Sequential(encoder, linear).to(self.device_)
        self.c_ = init_center(self.codes(x))  # of the initial outputs, before any step
        self.r_ = AUTHORS_OCNN_RADIUS
        self.formulation_ = self.formulation
        return [x], [self.c_]

    def batch_loss(self, forward, xb, center):
        return ocnn_authors_loss(forward(xb), center, self.nu)

    def end_fit(self, x, state):
        scores = self._distances(x)
        self.set_training_scores(scores, float(np.quantile(scores, 1 - self.nu)))

    def _distances(self, x) -> np.ndarray:
        return squared_distance(self.codes(x), self.c_).cpu().numpy().astype(np.float64)

    # --- the paper's formulation

    @torch.no_grad()
    def _outputs(self, codes: torch.Tensor) -> torch.Tensor:
        return self.head_(codes)

    def _offset(self, codes: torch.Tensor) -> float:
        return ocnn_offset(self._outputs(codes), self.nu)

    def decision_function(self, X):
        check_is_fitted(self)
        if self.formulation_ == "authors_code":
            return self._distances(X)
        y_hat = self._outputs(self.codes(X))
        return (self.r_ - y_hat).cpu().numpy().astype(np.float64)
