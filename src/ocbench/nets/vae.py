"""The M2 semi-supervised VAE of Kingma et al. (2014), as the Deep SAD reference builds it.

Plain modules, no training code: a Gaussian encoder q(z|x,y), a Bernoulli decoder
p(x|y,z) and a classifier q(y|x). Unlike the hypersphere networks these layers keep
their biases (the reference's choice; there is no centre to collapse onto here).
The encoder and decoder work on flattened inputs; the classifier sees the input in
its own shape, so an image classifier can be a LeNet encoder.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def _dense_stack(dims: list[int]) -> nn.ModuleList:
    return nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))


class GaussianEncoder(nn.Module):
    """Input -> ReLU hidden layers -> (mu, log_var) of a diagonal Gaussian.

    log_var goes through a softplus, as in the reference, so every posterior variance
    is at least 1; kept to reproduce the reference's model.
    """

    def __init__(self, in_dim: int, hidden: tuple[int, ...], latent_dim: int):
        super().__init__()
        self.hidden = _dense_stack([in_dim, *hidden])
        self.mu = nn.Linear(hidden[-1], latent_dim)
        self.log_var = nn.Linear(hidden[-1], latent_dim)

    def forward(self, x):
        for layer in self.hidden:
            x = F.relu(layer(x))
        return self.mu(x), F.softplus(self.log_var(x))


class BernoulliDecoder(nn.Module):
    """Latent -> ReLU hidden layers -> sigmoid means of independent Bernoullis."""

    def __init__(self, latent_dim: int, hidden: tuple[int, ...], out_dim: int):
        super().__init__()
        self.hidden = _dense_stack([latent_dim, *hidden])
        self.reconstruction = nn.Linear(hidden[-1], out_dim)

    def forward(self, z):
        for layer in self.hidden:
            z = F.relu(layer(z))
        return torch.sigmoid(self.reconstruction(z))


class LabelClassifier(nn.Module):
    """q(y|x) as class probabilities.

    With a ``backbone`` (a network with ``rep_dim``, e.g. a LeNet encoder): backbone ->
    linear -> softmax, the reference's image classifier. Without one: one ReLU hidden
    layer of ``hidden_units`` on the flattened input, the reference's tabular classifier.
    """

    def __init__(self, n_classes: int, backbone: nn.Module | None = None,
                 in_dim: int | None = None, hidden_units: int | None = None):
        super().__init__()
        self.backbone = backbone
        if backbone is None:
            self.dense = nn.Linear(in_dim, hidden_units)
            self.logits = nn.Linear(hidden_units, n_classes)
        else:
            self.logits = nn.Linear(backbone.rep_dim, n_classes)

    def forward(self, x):
        h = self.backbone(x) if self.backbone is not None else F.relu(self.dense(x.flatten(1)))
        return F.softmax(self.logits(h), dim=-1)


class M2Model(nn.Module):
    """Encoder q(z|x,y), decoder p(x|y,z) and classifier q(y|x); y is one-hot."""

    def __init__(self, x_dim: int, latent_dim: int, hidden: tuple[int, ...], classifier: LabelClassifier,
                 n_classes: int = 2):
        super().__init__()
        self.n_classes = n_classes
        self.encoder = GaussianEncoder(x_dim + n_classes, hidden, latent_dim)
        self.decoder = BernoulliDecoder(latent_dim + n_classes, tuple(reversed(hidden)), x_dim)
        self.classifier = classifier
        # The reference's initialisation of every linear layer (the classifier's too).
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x_flat, y_onehot):
        """Reconstruction of x from one reparameterised sample z ~ q(z|x,y), with q's (mu, log_var)."""
        mu, log_var = self.encoder(torch.cat((x_flat, y_onehot), dim=1))
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        return self.decoder(torch.cat((z, y_onehot), dim=1)), mu, log_var

    def classify(self, x):
        return self.classifier(x)
