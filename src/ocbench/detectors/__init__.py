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
- ``needs_labels``: cannot learn without labelled anomalies (SS-DGM's classifier, the
  supervised classifier); the config check refuses a setting that has none. Deep SAD and
  SSAD use labels when a split has them and reduce to Deep SVDD and SVDD without (the
  Deep SAD paper's gamma_l = 0 column);
- ``fits``: False for a method that only scores with the pretrained autoencoder (CAE);
- ``training``: which ``training`` block of the config gives a deep method its
  optimiser defaults: ``network``, ``autoencoder`` (RCAE trains an autoencoder), or
  None (SS-DGM keeps the settings of its own reference);
- ``hyper_parameters``: the names the config may set for the method, each with its
  type and range (``params.Param``); the config check refuses any other key, and any
  value out of range, before a job starts. ``ignores``: the detector's arguments this
  method leaves unused (one-class Deep SVDD has no radius, so no ``nu``); together with
  the workflow's own arguments they make up the detector's ``__init__`` (a test checks);
- ``detector``: the detector class;
- ``builds``: how the factory calls it: ``encoder`` (net, device, seed and the
  pretrained autoencoder), ``scratch`` (net, device, seed), ``load`` (the pretrained
  autoencoder itself) or ``shallow`` (seed only; hybrids get codes from ``runs``).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from ..errors import check_choice
from ..nets.reference_init import INITS
from .params import TRAINING, Param, open_unit, positive_int

#: class name -> module (under ocbench.detectors) that defines it
DETECTOR_MODULES = {
    "AutoencoderDetector": "autoencoder", "DeepSVDD": "deep_svdd", "DeepSAD": "deep_sad", "OCNN": "ocnn",
    "MultiRadiusDeepSVDD": "multi_radius", "RCAE": "rcae", "SSDGM": "ss_dgm", "OCSVM": "shallow",
    "IsolationForest": "shallow", "KDE": "shallow", "SSAD": "ssad", "SupervisedClassifier": "supervised",
}
BUILDS = ("encoder", "scratch", "load", "shallow")
#: class name -> class, of the detectors that plugins add (ocbench.plugins.register_method)
DETECTOR_CLASSES: dict[str, type] = {}


def detector_class(name: str):
    if name in DETECTOR_CLASSES:
        return DETECTOR_CLASSES[name]
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
    hyper_parameters: dict[str, Param] = field(default_factory=dict)
    ignores: tuple[str, ...] = ()
    # The column and axis name of the method in LaTeX tables and figures, where the config
    # name is too long for a page (sixteen methods side by side); unique across the registry.
    short_name: str = ""

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


# Hyper-parameters by detector (the choices are the detector modules' own; a test compares).
# Private names: a public OCNN or KDE here would hide the lazily imported detector class
# (`from ocbench.detectors import OCNN`, module __getattr__).
_NU = {"nu": open_unit()}
_WARM_UP = {"warm_up_epochs": Param("int", low=0)}
_GAMMAS = {"gammas": Param("numbers", low=0, low_open=True, nullable=True)}
# where the network's initial weights come from (training.init; nets.reference_init)
_INIT = {"init": Param("choice", choices=INITS)}
_DEEP_SVDD_ONECLASS_PARAMS = {**TRAINING, **_INIT}
_DEEP_SVDD_SOFTBOUNDARY_PARAMS = {**TRAINING, **_INIT, **_NU, **_WARM_UP}
_DEEP_SAD_PARAMS = {**TRAINING, **_INIT, "eta": Param("number", low=0, low_open=True),
            "eps": Param("number", low=0, low_open=True)}
_OCNN_PARAMS = {**{k: v for k, v in TRAINING.items() if k != "weight_decay"}, **_NU,  # its loss holds the weights' penalty
        "hidden": positive_int(), "activation": Param("choice", choices=("sigmoid", "linear"))}
_MULTI_RADIUS_PARAMS = {**TRAINING, **_NU, **_WARM_UP, "clusters": Param("choice", choices=("finch", "labels")),
                "n_clusters": positive_int(nullable=True), "max_clusters": positive_int(),
                "min_cluster_size": positive_int(),
                "finch_metric": Param("choice", choices=("euclidean", "cosine", "cityblock")),
                "finch_max_samples": positive_int()}
_RCAE_PARAMS = {**TRAINING, "lam": Param("number", low=0), "epochs_per_alternation": positive_int()}
_SS_DGM_PARAMS = {**TRAINING, "latent_dim": positive_int(nullable=True), "hidden": Param("ints", low=1, nullable=True),
          "alpha": Param("number", low=0, nullable=True)}
_MAX_TRAIN = {"max_train_samples": positive_int(nullable=True)}
_OCSVM_PARAMS = {**_NU, **_GAMMAS, **_MAX_TRAIN}
_ISOLATION_FOREST_PARAMS = {"n_estimators": positive_int(), "max_samples": positive_int(),
                    "contamination": Param("number", low=0, high=0.5, low_open=True)}
_KDE_PARAMS = {"bandwidths": Param("numbers", low=0, low_open=True, nullable=True), "cv_folds": Param("int", low=2),
               **_MAX_TRAIN}
_SSAD_PARAMS = {"kappa": Param("number", low=0), "C": Param("number", low=0, low_open=True), **_GAMMAS,
        "max_train_samples": positive_int()}


def _deep(detector_name, description, hyper_parameters, **flags):
    return MethodSpec(detector_name, "encoder", deep=True, pretrained=True, description=description,
                      hyper_parameters=hyper_parameters, **flags)


def _shallow(detector_name, description, hyper_parameters, hybrid=False, **flags):
    return MethodSpec(detector_name, "shallow", pretrained=hybrid, hybrid=hybrid, description=description,
                      hyper_parameters=hyper_parameters, **flags)


METHODS: dict[str, MethodSpec] = {
    # The one-class objective has no radius: nu and the radius' warm-up do not apply.
    "deep_svdd_oneclass": _deep("DeepSVDD", "One-class Deep SVDD (Ruff et al. 2018)", _DEEP_SVDD_ONECLASS_PARAMS,
                                fixed={"objective": "one-class"}, ignores=("nu", "warm_up_epochs"),
                                short_name="DSVDD-OC"),
    "deep_svdd_softboundary": _deep("DeepSVDD", "Soft-boundary Deep SVDD (Ruff et al. 2018)",
                                    _DEEP_SVDD_SOFTBOUNDARY_PARAMS, fixed={"objective": "soft-boundary"},
                                    short_name="DSVDD-SB"),
    "deep_sad": _deep("DeepSAD", "Deep SAD, semi-supervised Deep SVDD (Ruff et al. 2020)", _DEEP_SAD_PARAMS,
                      short_name="DSAD"),
    "ocnn": _deep("OCNN", "One-class neural network on the frozen encoder, OC-NN (Chalapathy et al. 2018)", _OCNN_PARAMS,
                 short_name="OC-NN"),
    "multi_radius_deep_svdd": _deep("MultiRadiusDeepSVDD", "Multi-radius Deep SVDD: one sphere per FINCH cluster",
                                    _MULTI_RADIUS_PARAMS, short_name="MR-DSVDD"),
    # The multi-radius fork's own code: one sphere per normal class, from the true labels.
    "multi_radius_deep_svdd_labels": _deep(
        "MultiRadiusDeepSVDD", "Multi-radius Deep SVDD: one sphere per normal class (true labels)",
        {**TRAINING, **_NU, **_WARM_UP}, fixed={"clusters": "labels"},
        ignores=("clusters", "n_clusters", "max_clusters", "min_cluster_size", "finch_metric", "finch_max_samples"),
        short_name="MR-DSVDD-L"),
    # CAE only scores with the pretrained autoencoder: training.autoencoder configures it.
    "cae": MethodSpec("AutoencoderDetector", "load", deep=True, pretrained=True, fits=False,
                      description="Reconstruction error of the pretrained autoencoder (CAE/DCAE)", short_name="CAE"),
    "rcae": _deep("RCAE", "Robust convolutional autoencoder, _RCAE_PARAMS (Chalapathy et al. 2017)", _RCAE_PARAMS,
                  training="autoencoder", short_name="RCAE"),
    # The Deep SAD paper's supervised baseline: Deep SAD's network and start, a binary head.
    "supervised": _deep("SupervisedClassifier", "Supervised classifier: Deep SAD's network, a binary head, "
                        "binary cross-entropy of labelled anomalies against the rest (Ruff et al. 2020)",
                        {**TRAINING, **_INIT}, needs_labels=True, short_name="Sup"),
    "ss_dgm": MethodSpec("SSDGM", "scratch", deep=True, needs_labels=True, training=None,
                         description="Semi-supervised deep generative model M2, SS-DGM (Kingma et al. 2014)",
                         hyper_parameters=_SS_DGM_PARAMS, short_name="SS-DGM"),
    "ocsvm": _shallow("OCSVM", "One-class SVM, RBF kernel (Schölkopf et al. 2001)", _OCSVM_PARAMS,
                      short_name="OC-SVM"),
    "isoforest": _shallow("IsolationForest", "Isolation Forest (Liu et al. 2008)", _ISOLATION_FOREST_PARAMS,
                          short_name="IF"),
    "kde": _shallow("KDE", "Gaussian kernel density estimate", _KDE_PARAMS, short_name="KDE"),
    "ssad": _shallow("SSAD", "Semi-supervised anomaly detection, _SSAD_PARAMS (Görnitz et al. 2013)", _SSAD_PARAMS,
                     short_name="SSAD"),
    "ocsvm_hybrid": _shallow("OCSVM", "OC-SVM on the pretrained autoencoder's codes", _OCSVM_PARAMS, hybrid=True,
                             short_name="OC-SVM-H"),
    "isoforest_hybrid": _shallow("IsolationForest", "Isolation Forest on the pretrained autoencoder's codes",
                                 _ISOLATION_FOREST_PARAMS, hybrid=True, short_name="IF-H"),
    "kde_hybrid": _shallow("KDE", "KDE on the pretrained autoencoder's codes", _KDE_PARAMS, hybrid=True,
                           short_name="KDE-H"),
    "ssad_hybrid": _shallow("SSAD", "SSAD on the pretrained autoencoder's codes", _SSAD_PARAMS, hybrid=True,
                            short_name="SSAD-H"),
}


def method_spec(name: str) -> MethodSpec:
    check_choice("method", name, METHODS)
    return METHODS[name]
