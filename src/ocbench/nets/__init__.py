"""Networks by name: plain ``nn.Module`` encoders and autoencoders, no training code here.

The registry (``NETS``: each net's module, classes and input shape) is plain data, so the
config checks read it without importing torch; the network classes are imported when a
net is built. ``Autoencoder`` is imported on first use too (``from ocbench.nets import
Autoencoder`` keeps working). A plugin adds a net of its own classes with
``ocbench.plugins.register_net`` and ``NetSpec.from_classes`` (docs/extending.md).
"""
from __future__ import annotations

import importlib
import math
import pkgutil
from dataclasses import dataclass

import numpy as np

from ..errors import OcbenchError, check_choice

#: the modules of this package that a NetSpec may name its classes in
NET_MODULES = tuple(sorted(module.name for module in pkgutil.iter_modules(__path__)))


@dataclass(frozen=True)
class NetSpec:
    """One net: ``encoder_class`` and ``decoder_class`` built with ``args``.

    The classes are named in ``ocbench.nets.<module>`` (the package's nets), or are the
    classes themselves (a plugin's: ``NetSpec.from_classes``). The encoder is an
    ``nn.Module`` with ``rep_dim``, the size of its codes; the decoder maps codes back to
    samples of ``input_shape`` (one sample, without the batch dimension).
    """

    module: str
    encoder_class: str | type
    decoder_class: str | type
    input_shape: tuple[int, ...]
    args: tuple = ()

    @classmethod
    def from_classes(cls, encoder: type, decoder: type, input_shape: tuple[int, ...], args: tuple = ()) -> "NetSpec":
        """A net of classes defined outside the package (a plugin's), built as ``encoder(*args)``, ``decoder(*args)``."""
        return cls(encoder.__module__, encoder, decoder, tuple(input_shape), tuple(args))

    def __post_init__(self):
        by_name = [c for c in (self.encoder_class, self.decoder_class) if isinstance(c, str)]
        if by_name:
            check_choice("net module (a module of ocbench.nets; a plugin's classes go through NetSpec.from_classes)",
                         self.module, NET_MODULES)
        for c in (self.encoder_class, self.decoder_class):
            if not isinstance(c, (str, type)):
                raise OcbenchError(f"a NetSpec's encoder and decoder are classes or class names, got {c!r}")
        shape = tuple(self.input_shape)
        if not shape or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape):
            raise OcbenchError(f"a NetSpec's input_shape is one sample's shape, positive integers, got {shape!r}")

    def _build(self, named):
        if isinstance(named, type):
            return named(*self.args)
        module = importlib.import_module(f"{__name__}.{self.module}")
        return getattr(module, named)(*self.args)

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


def as_net_input(X, name: str):
    """X (an array or a tensor) with its samples in net ``name``'s input shape.

    Samples of that shape are kept as they are; an image net also takes them flattened
    (N×D, D = C·H·W in C order) and, with one channel, as N×H×W. Any other shape is
    refused with one line naming the shapes the net takes (an N×H×W×C array is not
    reordered: its pixels would be read in the wrong order).
    """
    check_choice("net", name, NETS)
    expected = tuple(NETS[name].input_shape)
    if not hasattr(X, "shape"):
        X = np.asarray(X)
    sample = tuple(X.shape[1:])
    if sample == expected:
        return X
    flat = (math.prod(expected),)
    one_channel = expected[1:] if len(expected) == 3 and expected[0] == 1 else None
    if sample in (flat, one_channel):
        return X.reshape((X.shape[0], *expected))
    taken = [expected] + ([flat] if len(expected) > 1 else []) + ([one_channel] if one_channel else [])
    shown = ", ".join("N×" + "×".join(map(str, shape)) for shape in taken)
    got = "×".join(map(str, X.shape)) if X.shape else "a scalar"
    raise OcbenchError(f"net {name!r} takes samples of shape {expected}: give X as {shown}; got {got}")


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
