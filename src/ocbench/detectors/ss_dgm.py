"""SS-DGM: the M2 semi-supervised deep generative model (Kingma et al. 2014) as an anomaly detector.

Two classes, y = 0 normal and y = 1 anomaly. Known normals (semi-label +1) are
labelled y = 0, known anomalies (-1) y = 1, and y is marginalised out for the
unlabeled samples (0). The batch loss follows the Deep SAD reference
(``SemiDGM_trainer.py``, ``optim/variational.py``):

    loss = mean_labelled(-ELBO(x, y)) + alpha * mean_labelled(-log q(y|x)) + mean_unlabeled(-U(x))

with ELBO(x, y) = log p(x|y,z) + log p(y) - KL(q(z|x,y) || N(0, I)) (Bernoulli
likelihood, uniform p(y)) and U(x) = sum_y q(y|x) ELBO(x, y) + H(q(y|x)). The score
is the classifier's anomaly probability q(y = 1 | x).

Where ocbench differs from the reference, and why:
- the KL term is the closed form, not the reference's one-sample estimate (same
  expectation, less noise);
- the classifier runs once on the whole batch, not separately on its labelled and
  unlabeled parts (the same outputs for a batch-norm-free classifier; for a LeNet
  classifier, batch norm sees the whole batch);
- a batch with a single labelled sample uses it (the reference skips batches with
  fewer than two labelled samples);
- the learning-rate scheduler steps at the end of the epoch (``train_network``).
"""
from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.utils.validation import check_is_fitted

from ..errors import OcbenchError, check_choice
from ..hyperparameters import defaults
from ..nets import NETS, as_net_input, build_network
from ..nets.vae import LabelClassifier, M2Model
from ..training import TrainConfig, as_tensor, map_batches, resolve_device, seed_everything, train_network
from . import params
from .base import Detector, semi_labels
from .objectives import (bernoulli_log_likelihood, classification_loss, gaussian_kl_to_standard_normal,
                         labelled_elbo, unlabelled_elbo)

N_CLASSES = 2  # 0 normal, 1 anomaly
_DEFAULT = defaults(params.SS_DGM)

MNIST_SIZES = (32, (128, 64))
FMNIST_SIZES = (64, (256, 128))
CIFAR10_SIZES = (128, (512, 256))

# (latent_dim, hidden) of the reference's '<dataset>_DGM_M2' networks, by ocbench net name.
DGM_SIZES = {
    "mnist_lenet": MNIST_SIZES,
    "fmnist_lenet": FMNIST_SIZES,
    "cifar10_lenet": CIFAR10_SIZES,
    "arrhythmia_mlp": (32, (128, 64)),
    "cardio_mlp": (8, (32, 16)),
    "satellite_mlp": (8, (32, 16)),
    "satimage-2_mlp": (8, (32, 16)),
    "shuttle_mlp": (8, (32, 16)),
    "thyroid_mlp": (4, (32, 16)),
    # Not in the reference: the sizes of their MLP nets, as the reference does for ODDS.
    "wbc_mlp": (8, (32, 16)),
    "wine_mlp": (8, (32, 16)),
}

# The Deep SAD reference's weight of the classification term is
# 0.1 * (1 - r_known_normal - r_known_outlier) / (r_known_normal + r_known_outlier),
# i.e. 0.1 * (number unlabeled) / (number labelled).
ALPHA_SCALE = 0.1


def dgm_sizes(net, x_dim: int) -> tuple[int, tuple[int, ...]]:
    """(latent_dim, hidden) for the M2 model.

    By net name where the reference has a DGM for that net (``DGM_SIZES``); otherwise by
    the flattened input dimension: 3072 -> the CIFAR-10 sizes (128, [512, 256]), any
    other (784 included) -> the MNIST sizes (32, [128, 64]).
    """
    if isinstance(net, str) and net in DGM_SIZES:
        return DGM_SIZES[net]
    return CIFAR10_SIZES if x_dim == 3 * 32 * 32 else MNIST_SIZES


def default_alpha(n_labelled: int, n_unlabelled: int) -> float:
    """0.1 * unlabeled / labelled, as the reference; 0.1 when every sample is labelled
    (the formula would give 0 and leave the classifier untrained)."""
    if n_unlabelled == 0:
        return ALPHA_SCALE
    return ALPHA_SCALE * n_unlabelled / n_labelled


class SSDGM(Detector):
    """Semi-supervised M2 VAE; score = q(y = anomaly | x). Needs labelled anomalies.

    ``net``: the classifier. An image net name from the registry (``mnist_lenet`` ...)
    makes it that LeNet encoder plus a linear layer, as the reference; a tabular net
    name (``*_mlp``) or None makes it one ReLU hidden layer of ``hidden[0]`` units on the
    flattened input, as the reference's ODDS classifier; a module with ``rep_dim`` is
    used as the backbone. ``threshold_`` is the 0.9 quantile of the training scores.

    Attributes
    ----------
    model_ : ocbench.nets.vae.M2Model
        the trained model
    latent_dim_ : int
        the latent size used
    hidden_ : tuple of int
        the hidden sizes used
    alpha_ : float
        the classification weight used
    train_losses_ : list of float
        the mean loss of every epoch
    """

    uses_labels = True
    hyper_parameters = params.SS_DGM
    argument_docs = {"net": ("str, torch.nn.Module or None", "the classifier's backbone: an image net of "
                                                             "ocbench.nets.NETS (its input shape fixes the "
                                                             "samples'), a tabular one or None (one hidden "
                                                             "layer), or a module with rep_dim")}

    def __init__(self, net=None, latent_dim=_DEFAULT["latent_dim"], hidden=_DEFAULT["hidden"],
                 alpha=_DEFAULT["alpha"], lr=_DEFAULT["lr"], epochs=_DEFAULT["epochs"],
                 milestones=_DEFAULT["milestones"], batch_size=_DEFAULT["batch_size"],
                 weight_decay=_DEFAULT["weight_decay"], amsgrad=_DEFAULT["amsgrad"],
                 drop_last=_DEFAULT["drop_last"], device="cpu", seed=0):
        self.net = net
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.alpha = alpha
        self.lr = lr
        self.epochs = epochs
        self.milestones = milestones
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.amsgrad = amsgrad
        self.drop_last = drop_last
        self.device = device
        self.seed = seed

    def fit(self, X, y=None):
        X = self._as_input_array(X)
        semi = semi_labels(y, len(X))
        if not (semi == -1).any():
            raise OcbenchError("ss_dgm needs labelled anomalies (ratio_known_outlier > 0); "
                               "the training semi-labels have no -1")
        self.check_hyper_parameters()
        config = TrainConfig(lr=self.lr, epochs=self.epochs, milestones=tuple(self.milestones),
                             batch_size=self.batch_size, weight_decay=self.weight_decay, amsgrad=self.amsgrad,
                             drop_last=self.drop_last)
        x_dim = int(np.prod(X.shape[1:]))
        default_latent, default_hidden = dgm_sizes(self.net, x_dim)
        self.latent_dim_ = int(self.latent_dim if self.latent_dim is not None else default_latent)
        self.hidden_ = tuple(int(h) for h in (self.hidden if self.hidden is not None else default_hidden))
        n_labelled = int((semi != 0).sum())
        self.alpha_ = float(self.alpha) if self.alpha is not None else default_alpha(n_labelled, len(semi) - n_labelled)

        seed_everything(self.seed)
        self.device_ = resolve_device(self.device)
        self.model_ = M2Model(x_dim, self.latent_dim_, self.hidden_, self._classifier(X.shape[1:], x_dim),
                              N_CLASSES).to(self.device_)
        x = as_tensor(X, self.device_)
        s = torch.from_numpy(semi).to(self.device_)
        alpha = self.alpha_

        def batch_loss(model, xb, sb):
            probs = model.classify(xb)
            flat = xb.flatten(1)
            labelled = sb != 0
            loss = flat.new_zeros(())
            if labelled.any():
                onehot = F.one_hot((sb[labelled] == -1).long(), N_CLASSES).to(flat.dtype)
                loss = loss - _elbo(model, flat[labelled], onehot).mean() \
                    + alpha * classification_loss(probs[labelled], onehot)
            unlabelled = ~labelled
            if unlabelled.any():
                u = flat[unlabelled]
                class_elbos = torch.stack([_elbo(model, u, _constant_onehot(u, k)) for k in range(N_CLASSES)], dim=1)
                loss = loss - unlabelled_elbo(class_elbos, probs[unlabelled]).mean()
            return loss

        self.train_losses_ = train_network(self.model_, batch_loss, [x, s], config, seed=self.seed, name="ss_dgm")
        return self.set_training_scores(self._score(x))

    def _as_input_array(self, X):
        """X as an array (or tensor), with an image net's samples in its input shape (``nets.as_net_input``)."""
        X = np.asarray(X) if not isinstance(X, torch.Tensor) else X
        if isinstance(self.net, str) and self.net in NETS and len(NETS[self.net].input_shape) == 3:
            return as_net_input(X, self.net)
        return X

    def _classifier(self, sample_shape, x_dim: int) -> LabelClassifier:
        if isinstance(self.net, nn.Module):
            return LabelClassifier(N_CLASSES, backbone=copy.deepcopy(self.net))
        if self.net is not None:
            check_choice("net", self.net, NETS)
            expected = NETS[self.net].input_shape
            if len(expected) == 3:  # an image net: its LeNet encoder is the backbone
                if tuple(sample_shape) != tuple(expected):
                    raise OcbenchError(f"net {self.net!r} takes samples of shape {expected}, "
                                       f"got {tuple(sample_shape)}")
                return LabelClassifier(N_CLASSES, backbone=build_network(self.net))
        return LabelClassifier(N_CLASSES, in_dim=x_dim, hidden_units=self.hidden_[0])

    def _score(self, x) -> np.ndarray:
        self.model_.eval()
        probs = map_batches(lambda b: self.model_.classify(b)[:, 1], as_tensor(x, self.device_))
        return probs.cpu().numpy().astype(np.float64)

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self._score(self._as_input_array(X))


def _elbo(model: M2Model, x_flat: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
    """-L(x, y) per sample, from one reparameterised sample of z."""
    x_rec, mu, log_var = model(x_flat, onehot)
    return labelled_elbo(bernoulli_log_likelihood(x_rec, x_flat), gaussian_kl_to_standard_normal(mu, log_var),
                         model.n_classes)


def _constant_onehot(x: torch.Tensor, k: int) -> torch.Tensor:
    onehot = x.new_zeros((len(x), N_CLASSES))
    onehot[:, k] = 1
    return onehot
