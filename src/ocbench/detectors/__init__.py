"""Detectors and the registry that maps a config method name to how it is built and run.

Every method is one entry in ``METHODS``. ``factory(params, net=, device=, seed=,
autoencoder=)`` returns an unfitted detector (``autoencoder`` is the path of the
shared pretrained autoencoder, or None). Detector classes are named by module and
imported on first use, so a job of a shallow method never imports torch (about two
seconds of every job on a laptop). The flags tell the workflow and
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
  config may set for the method (the config check rejects any other key);
- ``builds``: how the factory calls it: ``encoder`` (net, device, seed and the
  pretrained autoencoder), ``scratch`` (net, device, seed), ``load`` (the pretrained
  autoencoder itself) or ``shallow`` (seed only; hybrids get codes from ``runs``).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from ..errors import check_choice

#: class name -> module (under ocbench.detectors) that defines it
DETECTOR_MODULES = {
    "AutoencoderDetector": "autoencoder", "DeepSVDD": "deep_svdd", "DeepSAD": "deep_sad", "OCNN": "ocnn",
    "MultiRadiusDeepSVDD": "multi_radius", "RCAE": "rcae", "SSDGM": "ss_dgm", "OCSVM": "shallow",
    "IsolationForest": "shallow", "KDE": "shallow", "SSAD": "ssad",
}
BUILDS = ("encoder", "scratch", "load", "shallow")


def detector_class(name: str):
    check_choice("detector class", name, DETECTOR_MODULES)
    module = importlib.import_module(f"{__name__}.{DETECTOR_MODULES[name]}")
    return getattr(module, name)


def __getattr__(name: str):
    # `from ocbench.detectors import DeepSVDD` keeps working, and imports only what it names.
    if name in DETECTOR_MODULES:
        return detector_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class MethodSpec:
    detector_name: str
    builds: str
    deep: bool = False
    pretrained: bool = False
    hybrid: bool = False
    needs_labels: bool = False
    fits: bool = True
    # The config block (training.network or training.autoencoder) whose settings a deep
    # method takes as defaults; None for a method with its own reference settings (SS-DGM).
    training: str | None = "network"
    fixed: dict = field(default_factory=dict)  # constructor arguments the method name fixes
    description: str = ""

    @property
    def detector(self):
        return detector_class(self.detector_name)

    def factory(self, params: dict, *, net, device, seed, autoencoder):
        """An unfitted detector with ``params`` (the config's hyper-parameters)."""
        cls = self.detector
        if self.builds == "encoder":
            return cls(net=net, device=device, seed=seed, autoencoder=autoencoder, **self.fixed, **params)
        if self.builds == "scratch":  # SS-DGM trains from scratch: no pretrained autoencoder
            return cls(net=net, device=device, seed=seed, **self.fixed, **params)
        if self.builds == "load":
            return cls.load(autoencoder, device=device)
        return cls(seed=seed, **self.fixed, **params)

    def __post_init__(self):
        check_choice("builds", self.builds, BUILDS)


def _deep(detector_name, description, **flags):
    return MethodSpec(detector_name, "encoder", deep=True, pretrained=True, description=description, **flags)


def _shallow(detector_name, description, hybrid=False, **flags):
    return MethodSpec(detector_name, "shallow", pretrained=hybrid, hybrid=hybrid, description=description, **flags)


METHODS: dict[str, MethodSpec] = {
    "deep_svdd_oneclass": _deep("DeepSVDD", "One-class Deep SVDD (Ruff et al. 2018)",
                                fixed={"objective": "one-class"}),
    "deep_svdd_softboundary": _deep("DeepSVDD", "Soft-boundary Deep SVDD (Ruff et al. 2018)",
                                    fixed={"objective": "soft-boundary"}),
    "deep_sad": _deep("DeepSAD", "Deep SAD, semi-supervised Deep SVDD (Ruff et al. 2020)"),
    "ocnn": _deep("OCNN", "One-class neural network on the frozen encoder, OC-NN (Chalapathy et al. 2018)"),
    "multi_radius_deep_svdd": _deep("MultiRadiusDeepSVDD", "Multi-radius Deep SVDD: one sphere per FINCH cluster"),
    "cae": MethodSpec("AutoencoderDetector", "load", deep=True, pretrained=True, fits=False,
                      description="Reconstruction error of the pretrained autoencoder (CAE/DCAE)"),
    "rcae": _deep("RCAE", "Robust convolutional autoencoder, RCAE (Chalapathy et al. 2017)", training="autoencoder"),
    "ss_dgm": MethodSpec("SSDGM", "scratch", deep=True, needs_labels=True, training=None,
                         description="Semi-supervised deep generative model M2, SS-DGM (Kingma et al. 2014)"),
    "ocsvm": _shallow("OCSVM", "One-class SVM, RBF kernel (Schölkopf et al. 2001)"),
    "isoforest": _shallow("IsolationForest", "Isolation Forest (Liu et al. 2008)"),
    "kde": _shallow("KDE", "Gaussian kernel density estimate"),
    "ssad": _shallow("SSAD", "Semi-supervised anomaly detection, SSAD (Görnitz et al. 2013)"),
    "ocsvm_hybrid": _shallow("OCSVM", "OC-SVM on the pretrained autoencoder's codes", hybrid=True),
    "isoforest_hybrid": _shallow("IsolationForest", "Isolation Forest on the pretrained autoencoder's codes",
                                 hybrid=True),
    "kde_hybrid": _shallow("KDE", "KDE on the pretrained autoencoder's codes", hybrid=True),
    "ssad_hybrid": _shallow("SSAD", "SSAD on the pretrained autoencoder's codes", hybrid=True),
}


def method_spec(name: str) -> MethodSpec:
    check_choice("method", name, METHODS)
    return METHODS[name]
