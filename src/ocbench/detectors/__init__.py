"""Detectors and the registry that maps a config method name to how it is built and run.

Every method is one entry in ``METHODS``. ``factory(params, net=, device=, seed=,
autoencoder=)`` returns an unfitted detector (``autoencoder`` is the path of the
shared pretrained autoencoder, or None). The flags tell the workflow and
``runs.run_method`` what the method needs:

- ``deep``: trains a network on ``device`` (a CUDA run declares a GPU);
- ``pretrained``: needs the shared pretrained autoencoder (the pretrain job);
- ``hybrid``: fitted on the pretrained encoder's codes instead of the inputs;
- ``needs_labels``: semi-supervised; refuses a split without labelled samples;
- ``fits``: False for a method that only scores with the pretrained autoencoder (CAE);
- ``detector``: the detector class, whose ``__init__`` names the hyper-parameters the
  config may set for the method (the config check rejects any other key).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..errors import check_choice
from .autoencoder import AutoencoderDetector
from .base import Detector
from .deep_svdd import DeepSVDD


@dataclass(frozen=True)
class MethodSpec:
    factory: Callable[..., Detector]
    detector: type[Detector]
    deep: bool = False
    pretrained: bool = False
    hybrid: bool = False
    needs_labels: bool = False
    fits: bool = True
    description: str = ""


def _deep_svdd(objective):
    def factory(params, *, net, device, seed, autoencoder):
        return DeepSVDD(net=net, objective=objective, device=device, seed=seed,
                        autoencoder=autoencoder, **params)
    return factory


def _pretrained_autoencoder(params, *, net, device, seed, autoencoder):
    return AutoencoderDetector.load(autoencoder, device=device)


METHODS: dict[str, MethodSpec] = {
    "deep_svdd_oneclass": MethodSpec(_deep_svdd("one-class"), DeepSVDD, deep=True, pretrained=True,
                                     description="One-class Deep SVDD (Ruff et al. 2018)"),
    "deep_svdd_softboundary": MethodSpec(_deep_svdd("soft-boundary"), DeepSVDD, deep=True, pretrained=True,
                                         description="Soft-boundary Deep SVDD (Ruff et al. 2018)"),
    "cae": MethodSpec(_pretrained_autoencoder, AutoencoderDetector, deep=True, pretrained=True, fits=False,
                      description="Reconstruction error of the pretrained autoencoder (CAE/DCAE)"),
}


def method_spec(name: str) -> MethodSpec:
    check_choice("method", name, METHODS)
    return METHODS[name]
