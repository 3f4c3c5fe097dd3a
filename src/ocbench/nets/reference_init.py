"""Initial weights drawn exactly as a reference implementation draws them for the same seed.

The PyTorch references (Deep-SVDD-PyTorch, Deep-SAD-PyTorch) call
``torch.manual_seed(seed)`` and then build, on the CPU, first their Deep SVDD / Deep SAD
network and then (for pretraining) their autoencoder. Every convolution, transposed
convolution and linear layer draws its weight from the global generator when it is
constructed (PyTorch's default ``reset_parameters``, Kaiming-uniform); some layers are
drawn a second time with Xavier-uniform right after. Batch norm has no affine
parameters, so it draws nothing. ocbench's default initialisation makes the same kinds
of draws, but not in the same sequence (it builds the autoencoder without building the
network first, and its CIFAR-10 encoder applies Xavier after all its layers), so
"seed 1" was a different start in each code.

With ``init`` set to a reference, ocbench replays that reference's sequence: seeded
with the run's seed, it constructs the reference's layers in the reference's order
(network first, then the autoencoder), applies the same re-draws, and copies each
weight into ocbench's module (a plain copy of the values: the fused decoder keeps
``ConvTranspose2d``'s weight layout, and channels-last only changes the memory order).
The draws run on a forked generator, so the caller's random state is left as it was.

The sequences below were read from the two references' code and are checked against it
by ``benchmarks/fidelity/reference_init_fixture.py``, whose output
(``tests/fixtures/reference_init_seed1.json``) a test compares without the reference.

This module imports torch only when it draws, so the config check can validate
``init`` without it.
"""
from __future__ import annotations

from ..errors import OcbenchError

#: ``default``: ocbench's own draws; a reference name: that reference's draws for the seed;
#: ``reference``: the reference that defines the net (an error where both do, differently)
INITS = ("default", "reference", "deep_svdd", "deep_sad")
REFERENCES = ("deep_svdd", "deep_sad")

# One draw: (ocbench parameter name, layer kind, (in, out), how it is re-drawn right after
# construction: None, or Xavier-uniform with the gain of ``LEAKY`` (the leaky-ReLU gain,
# the CIFAR-10 LeNet's) or ``PLAIN`` (gain 1, the ELU variant's)). Kinds: conv and deconv
# are 5x5 bias-free (transposed) convolutions, linear is bias-free.
LEAKY, PLAIN = "leaky_relu", "linear"  # names for nn.init.calculate_gain
_MNIST_NET = (("conv1", "conv", (1, 8), None), ("conv2", "conv", (8, 4), None),
              ("fc1", "linear", (196, 32), None))
_MNIST_DECODER = (("deconv1", "deconv", (2, 4), None), ("deconv2", "deconv", (4, 8), None),
                  ("deconv3", "deconv", (8, 1), None))
_FMNIST_NET = (("conv1", "conv", (1, 16), None), ("conv2", "conv", (16, 32), None),
               ("fc1", "linear", (1568, 128), None), ("fc2", "linear", (128, 64), None))
_FMNIST_DECODER = (("fc3", "linear", (64, 128), None), ("deconv1", "deconv", (8, 32), None),
                   ("deconv2", "deconv", (32, 16), None), ("deconv3", "deconv", (16, 1), None))
_CIFAR10_NET = (("conv1", "conv", (3, 32), None), ("conv2", "conv", (32, 64), None),
                ("conv3", "conv", (64, 128), None), ("fc1", "linear", (2048, 128), None))
_CIFAR10_DECODER = (("deconv1", "deconv", (8, 128), LEAKY), ("deconv2", "deconv", (128, 64), LEAKY),
                    ("deconv3", "deconv", (64, 32), LEAKY), ("deconv4", "deconv", (32, 3), LEAKY))
# Deep SVDD's CIFAR-10 autoencoder re-draws its encoder's convolutions with Xavier too
# (its Deep SVDD network does not).
_CIFAR10_XAVIER_ENCODER = tuple((key, kind, dims, LEAKY if kind == "conv" else None)
                                for key, kind, dims, _ in _CIFAR10_NET)
# Its ELU variant (cifar10_LeNet_ELU): the same layers; the autoencoder re-draws every
# (de)convolution with xavier_uniform_'s default gain 1, the network re-draws nothing.
_CIFAR10_ELU_ENCODER = tuple((key, kind, dims, PLAIN if kind == "conv" else None) for key, kind, dims, _ in _CIFAR10_NET)
_CIFAR10_ELU_DECODER = tuple((key, kind, dims, PLAIN) for key, kind, dims, _ in _CIFAR10_DECODER)


def _mlp_draws(x_dim: int, hidden: tuple[int, ...], rep_dim: int):
    """The hidden blocks' linear layers in order, then the code (encoder) or output (decoder) layer."""
    def blocks(dims):
        return tuple((f"hidden.{i}.linear", "linear", pair, None) for i, pair in enumerate(zip(dims[:-1], dims[1:])))

    forward, back = [x_dim, *hidden], [rep_dim, *reversed(hidden)]
    return (blocks(forward) + (("code", "linear", (forward[-1], rep_dim), None),),
            blocks(back) + (("output", "linear", (back[-1], x_dim), None),))


_ODDS = {"arrhythmia_mlp": (274, (128, 64), 32), "cardio_mlp": (21, (32, 16), 8),
         "satellite_mlp": (36, (32, 16), 8), "satimage-2_mlp": (36, (32, 16), 8),
         "shuttle_mlp": (9, (32, 16), 8), "thyroid_mlp": (6, (32, 16), 4)}

#: (reference, net) -> (network draws, autoencoder encoder draws, autoencoder decoder draws)
SEQUENCES: dict[tuple[str, str], tuple[tuple, tuple, tuple]] = {
    ("deep_svdd", "mnist_lenet"): (_MNIST_NET, _MNIST_NET, _MNIST_DECODER),
    ("deep_sad", "mnist_lenet"): (_MNIST_NET, _MNIST_NET, _MNIST_DECODER),
    ("deep_sad", "fmnist_lenet"): (_FMNIST_NET, _FMNIST_NET, _FMNIST_DECODER),
    ("deep_svdd", "cifar10_lenet"): (_CIFAR10_NET, _CIFAR10_XAVIER_ENCODER, _CIFAR10_DECODER),
    ("deep_svdd", "cifar10_lenet_elu"): (_CIFAR10_NET, _CIFAR10_ELU_ENCODER, _CIFAR10_ELU_DECODER),
    ("deep_sad", "cifar10_lenet"): (_CIFAR10_NET, _CIFAR10_NET, _CIFAR10_DECODER),
    **{("deep_sad", name): (net, net, decoder)
       for name, (net, decoder) in ((n, _mlp_draws(*args)) for n, args in _ODDS.items())},
}


def reference_of(init: str, net: str) -> str | None:
    """The reference whose draws ``init`` asks for on ``net``; None for ocbench's own.

    One clear ``OcbenchError`` for an unknown ``init``, a net the reference does not
    have, and ``reference`` on a net both references define with different draws.
    """
    if init not in INITS:
        raise OcbenchError(f"unknown init {init!r}; allowed: {', '.join(INITS)}")
    if init == "default":
        return None
    having = [ref for ref in REFERENCES if (ref, net) in SEQUENCES]
    if init == "reference":
        if not having:
            raise OcbenchError(f"init 'reference': net {net!r} is in no reference implementation; "
                               f"nets with a reference: {', '.join(reference_nets())}; or use init 'default'")
        if len(having) > 1 and len({SEQUENCES[(ref, net)] for ref in having}) > 1:
            raise OcbenchError(f"init 'reference': the references initialise net {net!r} differently; "
                               f"name one: {', '.join(having)}")
        return having[0]
    if init not in having:
        raise OcbenchError(f"init {init!r}: that reference has no net {net!r}; "
                           f"its nets: {', '.join(n for r, n in SEQUENCES if r == init)}")
    return init


def reference_nets() -> list[str]:
    return sorted({net for _, net in SEQUENCES})


def _draw(kind: str, dims: tuple[int, int], xavier: str | None):
    """One layer's weight, drawn from the global generator as the reference's constructor draws it."""
    import torch.nn as nn  # here: the registry reads INITS at the config check, without torch

    if kind == "conv":
        layer = nn.Conv2d(*dims, 5, bias=False)
    elif kind == "deconv":
        layer = nn.ConvTranspose2d(*dims, 5, bias=False)
    else:
        layer = nn.Linear(*dims, bias=False)
    if xavier is not None:
        nn.init.xavier_uniform_(layer.weight, gain=nn.init.calculate_gain(xavier))
    return layer.weight.detach()


def reference_weights(net: str, reference: str, seed: int, part: str) -> dict:
    """The weights the reference draws for ``part`` (``network`` or ``autoencoder``), by ocbench key.

    ``network``: seed, draw the network. ``autoencoder``: seed, draw the network (as
    the reference does before it builds the autoencoder), then the autoencoder's
    encoder (keys ``encoder.…``) and decoder (``decoder.…``).
    """
    import torch  # here: see _draw

    if part not in ("network", "autoencoder"):
        raise OcbenchError(f"unknown part {part!r}; allowed: network, autoencoder")
    if (reference, net) not in SEQUENCES:
        raise OcbenchError(f"reference {reference!r} has no net {net!r}")
    network, encoder, decoder = SEQUENCES[(reference, net)]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        drawn_network = {f"{key}.weight": _draw(kind, dims, x) for key, kind, dims, x in network}
        if part == "network":
            return drawn_network
        weights = {f"encoder.{key}.weight": _draw(kind, dims, x) for key, kind, dims, x in encoder}
        weights.update({f"decoder.{key}.weight": _draw(kind, dims, x) for key, kind, dims, x in decoder})
    return weights


def apply_init(module, net: str, init: str, seed: int, part: str) -> None:
    """Overwrite ``module``'s weights with the draws ``init`` asks for (nothing for ``default``).

    Every weight of ``module`` must be drawn: a module with a weight the reference does
    not have (or the other way round) is an error, never a partial initialisation.
    """
    import torch  # here: see _draw

    reference = reference_of(init, net)
    if reference is None:
        return
    weights = reference_weights(net, reference, seed, part)
    own = {name for name, _ in module.named_parameters()}
    if own != set(weights):
        raise OcbenchError(f"init {init!r}: the {part} of net {net!r} has weights {sorted(own ^ set(weights))} "
                           "that the reference's draws do not cover")
    with torch.no_grad():
        for name, value in weights.items():
            module.get_parameter(name).copy_(value)
