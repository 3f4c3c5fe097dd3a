"""Networks by name: plain ``nn.Module`` encoders and autoencoders, no training code here.

The registry (``NETS``: each net's module, classes and input shape) is plain data, so the
config checks read it without importing torch; the network classes are imported when a
net is built. ``Autoencoder`` is imported on first use too (``from ocbench.nets import
Autoencoder`` keeps working).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from ..errors import check_choice


@dataclass(frozen=True)
class NetSpec:
    """One net: ``encoder_class`` and ``decoder_class`` of ``ocbench.nets.<module>``, built with ``args``."""

    module: str
    encoder_class: str
    decoder_class: str
    input_shape: tuple[int, ...]  # one sample, without the batch dimension
    args: tuple = ()

    def _build(self, class_name: str):
        module = importlib.import_module(f"{__name__}.{self.module}")
        return getattr(module, class_name)(*self.args)

    def encoder(self):
        return self._build(self.encoder_class)

    def decoder(self):
        return self._build(self.decoder_class)


def _lenet(prefix: str, input_shape: tuple[int, ...], *args) -> NetSpec:
    return NetSpec("lenet", f"{prefix}LeNet", f"{prefix}LeNetDecoder", input_shape, args)


def _mlp(x_dim: int, hidden: tuple[int, ...], rep_dim: int) -> NetSpec:
    return NetSpec("mlp", "MLP", "MLPDecoder", (x_dim,), (x_dim, hidden, rep_dim))


NETS: dict[str, NetSpec] = {
    "mnist_lenet": _lenet("Mnist", (1, 28, 28)),
    "fmnist_lenet": _lenet("Fmnist", (1, 28, 28)),
    "cifar10_lenet": _lenet("Cifar10", (3, 32, 32)),
    # The Deep SVDD reference's ELU variant, which its paper also reports on CIFAR-10.
    "cifar10_lenet_elu": _lenet("Cifar10", (3, 32, 32), "elu"),
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


def __getattr__(name: str):
    if name == "Autoencoder":
        from .autoencoder import Autoencoder  # here: the registry is read without torch
        return Autoencoder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_network(name: str):
    """The encoder of net ``name`` (an ``nn.Module`` with ``rep_dim``)."""
    check_choice("net", name, NETS)
    return NETS[name].encoder()


def build_autoencoder(name: str):
    """Net ``name``'s encoder and mirror decoder as one ``Autoencoder``."""
    from .autoencoder import Autoencoder  # here: the registry is read without torch

    check_choice("net", name, NETS)
    spec = NETS[name]
    return Autoencoder(spec.encoder(), spec.decoder())
