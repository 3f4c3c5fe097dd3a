"""Networks by name: plain ``nn.Module`` encoders and autoencoders, no training code here."""
from dataclasses import dataclass
from functools import partial
from typing import Callable

import torch.nn as nn

from ..errors import check_choice
from .lenet import (Cifar10LeNet, Cifar10LeNetDecoder, FmnistLeNet, FmnistLeNetDecoder,
                    MnistLeNet, MnistLeNetDecoder)
from .mlp import MLP, MLPDecoder


@dataclass(frozen=True)
class NetSpec:
    encoder: Callable[[], nn.Module]
    decoder: Callable[[], nn.Module]
    input_shape: tuple[int, ...]  # one sample, without the batch dimension


def _mlp(x_dim: int, hidden: tuple[int, ...], rep_dim: int) -> NetSpec:
    return NetSpec(partial(MLP, x_dim, hidden, rep_dim), partial(MLPDecoder, x_dim, hidden, rep_dim),
                   (x_dim,))


NETS: dict[str, NetSpec] = {
    "mnist_lenet": NetSpec(MnistLeNet, MnistLeNetDecoder, (1, 28, 28)),
    "fmnist_lenet": NetSpec(FmnistLeNet, FmnistLeNetDecoder, (1, 28, 28)),
    "cifar10_lenet": NetSpec(Cifar10LeNet, Cifar10LeNetDecoder, (3, 32, 32)),
    # ODDS sizes from the Deep SAD reference.
    "arrhythmia_mlp": _mlp(274, (128, 64), 32),
    "cardio_mlp": _mlp(21, (32, 16), 8),
    "satellite_mlp": _mlp(36, (32, 16), 8),
    "satimage-2_mlp": _mlp(36, (32, 16), 8),
    "shuttle_mlp": _mlp(9, (32, 16), 8),
    "thyroid_mlp": _mlp(6, (32, 16), 4),
    # Not in the references: the ODDS default block (32, 16) -> 8 for the small sets.
    "wbc_mlp": _mlp(30, (32, 16), 8),
    "wine_mlp": _mlp(13, (32, 16), 8),
}


class Autoencoder(nn.Module):
    """An encoder (the very class a deep detector uses) followed by its mirror decoder.

    Because ``encoder`` is an instance of the detector's network class, handing the
    pretrained weights over is a plain ``load_state_dict`` with every key matching.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, x):
        return self.decoder(self.encoder(x))


def build_network(name: str) -> nn.Module:
    check_choice("net", name, NETS)
    return NETS[name].encoder()


def build_autoencoder(name: str) -> Autoencoder:
    check_choice("net", name, NETS)
    spec = NETS[name]
    return Autoencoder(spec.encoder(), spec.decoder())
