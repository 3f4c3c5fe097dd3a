"""Detectors and the registry that maps a config method name to how it is built and run.

Every method is one entry in ``METHODS``. ``factory(params, net=, device=, seed=,
autoencoder=)`` returns an unfitted detector (``autoencoder`` is the path of the
shared pretrained autoencoder, or None). The flags tell the workflow and
``runs.run_method`` what the method needs:

- ``deep``: trains a network on ``device`` (a CUDA run declares a GPU);
- ``pretrained``: needs the shared pretrained autoencoder (the pretrain job);
- ``hybrid``: fitted on the pretrained encoder's codes instead of the inputs;
- ``needs_labels``: cannot learn without labelled samples (SS-DGM's classifier) and
  refuses a split that has none. Deep SAD and SSAD use labels when a split has them and
  reduce to Deep SVDD and SVDD without (the Deep SAD paper's gamma_l = 0 column);
- ``fits``: False for a method that only scores with the pretrained autoencoder (CAE);
- ``training``: which ``training`` block of the config gives a deep method its
  optimiser defaults: ``network``, ``autoencoder`` (RCAE trains an autoencoder), or
  None (SS-DGM keeps the settings of its own reference);
- ``detector``: the detector class, whose ``__init__`` names the hyper-parameters the
  config may set for the method (the config check rejects any other key).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..errors import check_choice
from .autoencoder import AutoencoderDetector
from .base import Detector
from .deep_sad import DeepSAD
from .deep_svdd import DeepSVDD
from .multi_radius import MultiRadiusDeepSVDD
from .ocnn import OCNN
from .rcae import RCAE
from .shallow import KDE, OCSVM, IsolationForest
from .ssad import SSAD
from .ss_dgm import SSDGM


@dataclass(frozen=True)
class MethodSpec:
    factory: Callable[..., Detector]
    detector: type[Detector]
    deep: bool = False
    pretrained: bool = False
    hybrid: bool = False
    needs_labels: bool = False
    fits: bool = True
    # The config block (training.network or training.autoencoder) whose settings a deep
    # method takes as defaults; None for a method with its own reference settings (SS-DGM).
    training: str | None = "network"
    description: str = ""


def _deep_svdd(objective):
    def factory(params, *, net, device, seed, autoencoder):
        return DeepSVDD(net=net, objective=objective, device=device, seed=seed,
                        autoencoder=autoencoder, **params)
    return factory


def _starts_from_encoder(detector_class):
    """Factory of a detector taking net, device, seed and the pretrained autoencoder (None: random start)."""
    def factory(params, *, net, device, seed, autoencoder):
        return detector_class(net=net, device=device, seed=seed, autoencoder=autoencoder, **params)
    return factory


def _pretrained_autoencoder(params, *, net, device, seed, autoencoder):
    return AutoencoderDetector.load(autoencoder, device=device)


def _rcae(params, *, net, device, seed, autoencoder):
    return RCAE(net=net, device=device, seed=seed, autoencoder=autoencoder, **params)


def _shallow(detector_class):
    """Factory of a shallow detector: only the seed; hybrid variants get codes from the runs layer."""
    def factory(params, *, net, device, seed, autoencoder):
        return detector_class(seed=seed, **params)
    return factory


def _ss_dgm(params, *, net, device, seed, autoencoder):
    # The M2 model trains from scratch: the pretrained autoencoder is not used.
    return SSDGM(net=net, device=device, seed=seed, **params)


METHODS: dict[str, MethodSpec] = {
    "deep_svdd_oneclass": MethodSpec(_deep_svdd("one-class"), DeepSVDD, deep=True, pretrained=True,
                                     description="One-class Deep SVDD (Ruff et al. 2018)"),
    "deep_svdd_softboundary": MethodSpec(_deep_svdd("soft-boundary"), DeepSVDD, deep=True, pretrained=True,
                                         description="Soft-boundary Deep SVDD (Ruff et al. 2018)"),
    "deep_sad": MethodSpec(_starts_from_encoder(DeepSAD), DeepSAD, deep=True, pretrained=True,
                           description="Deep SAD, semi-supervised Deep SVDD (Ruff et al. 2020)"),
    "ocnn": MethodSpec(_starts_from_encoder(OCNN), OCNN, deep=True, pretrained=True,
                       description="One-class neural network on the frozen encoder, OC-NN (Chalapathy et al. 2018)"),
    "multi_radius_deep_svdd": MethodSpec(_starts_from_encoder(MultiRadiusDeepSVDD), MultiRadiusDeepSVDD,
                                         deep=True, pretrained=True,
                                         description="Multi-radius Deep SVDD: one sphere per FINCH cluster"),
    "cae": MethodSpec(_pretrained_autoencoder, AutoencoderDetector, deep=True, pretrained=True, fits=False,
                      description="Reconstruction error of the pretrained autoencoder (CAE/DCAE)"),
    "rcae": MethodSpec(_rcae, RCAE, deep=True, pretrained=True, training="autoencoder",
                       description="Robust convolutional autoencoder, RCAE (Chalapathy et al. 2017)"),
    "ss_dgm": MethodSpec(_ss_dgm, SSDGM, deep=True, needs_labels=True, training=None,
                         description="Semi-supervised deep generative model M2, SS-DGM (Kingma et al. 2014)"),
    "ocsvm": MethodSpec(_shallow(OCSVM), OCSVM, description="One-class SVM, RBF kernel (Schölkopf et al. 2001)"),
    "isoforest": MethodSpec(_shallow(IsolationForest), IsolationForest,
                            description="Isolation Forest (Liu et al. 2008)"),
    "kde": MethodSpec(_shallow(KDE), KDE, description="Gaussian kernel density estimate"),
    "ssad": MethodSpec(_shallow(SSAD), SSAD,
                       description="Semi-supervised anomaly detection, SSAD (Görnitz et al. 2013)"),
    "ocsvm_hybrid": MethodSpec(_shallow(OCSVM), OCSVM, pretrained=True, hybrid=True,
                               description="OC-SVM on the pretrained autoencoder's codes"),
    "isoforest_hybrid": MethodSpec(_shallow(IsolationForest), IsolationForest, pretrained=True, hybrid=True,
                                   description="Isolation Forest on the pretrained autoencoder's codes"),
    "kde_hybrid": MethodSpec(_shallow(KDE), KDE, pretrained=True, hybrid=True,
                             description="KDE on the pretrained autoencoder's codes"),
    "ssad_hybrid": MethodSpec(_shallow(SSAD), SSAD, pretrained=True, hybrid=True,
                              description="SSAD on the pretrained autoencoder's codes"),
}


def method_spec(name: str) -> MethodSpec:
    check_choice("method", name, METHODS)
    return METHODS[name]
