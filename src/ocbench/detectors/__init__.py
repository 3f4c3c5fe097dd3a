"""Detectors and the registry that maps a config method name to how it is built and run.

Every method is one entry in ``METHODS``. ``factory(params, net=, device=, seed=,
autoencoder=)`` returns an unfitted detector (``autoencoder`` is the path of the
shared pretrained autoencoder, or None). Detector classes are named by module and
imported on first use, so a job of a shallow method never imports torch (about two
seconds of every job on a laptop). A ``MethodSpec`` tells the workflow and
``jobs.method_run.run_method`` what the method needs; ``builds`` implies the flags, so a spec
names only what differs (docs/extending.md):

- ``builds``: how the factory calls the detector: ``encoder`` (net, device, seed and the
  pretrained autoencoder; deep and pretrained), ``scratch`` (net, device, seed; deep),
  ``load`` (the pretrained autoencoder itself; fits nothing) or ``shallow`` (seed only;
  hybrids get codes from ``runs``);
- ``deep``: trains a network on ``device`` (a CUDA run declares a GPU); implied by builds;
- ``pretrained``: needs the shared pretrained autoencoder (the pretrain job); implied by
  builds, and by ``hybrid`` for a shallow method;
- ``hybrid``: a shallow method fitted on the pretrained encoder's codes instead of the inputs;
- ``needs_labels``: cannot learn without labelled anomalies (SS-DGM's classifier, the
  supervised classifier); the config check refuses a setting that has none, and the run a
  split that has none. Deep SAD and SSAD use labels when a split has them and reduce to
  Deep SVDD and SVDD without (the Deep SAD paper's gamma_l = 0 column);
- ``fits``: False for a method that only scores with the pretrained autoencoder (CAE);
- ``training``: which ``training`` block of the config gives a method that trains a
  network its settings: ``network`` (the default), ``autoencoder`` (RCAE trains an
  autoencoder), or None to opt out (SS-DGM keeps the settings of its own reference).
  The block's settings and ``init`` are then hyper-parameters of the method without
  being declared, except those named in ``training_opt_out`` (the ones its detector
  does not take);
- ``hyper_parameters``: the names the config may set for the method, each with its
  type, range and default (``params.Param``); the config check refuses any other key, and
  any value out of range, before a job starts. ``ignores``: the detector's arguments this
  method leaves unused (one-class Deep SVDD has no radius, so no ``nu``), ``fixed``: the
  arguments the method name fixes; together with the workflow's own arguments they make
  up the detector's ``__init__`` (a test checks);
- ``detector``: the detector class.

A contradiction between the flags (a shallow method that is deep, a ``load`` method that
fits) is refused when the spec is made, with one line: a plugin's, before any job.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from ..errors import OcbenchError, check_choice
from . import params
from .params import INIT, TRAINING_BLOCKS, Param

#: class name -> module (under ocbench.detectors) that defines it
DETECTOR_MODULES = {
    "AutoencoderDetector": "autoencoder", "DeepSVDD": "deep_svdd", "DeepSAD": "deep_sad", "OCNN": "ocnn",
    "MultiRadiusDeepSVDD": "multi_radius", "RCAE": "rcae", "SSDGM": "ss_dgm", "OCSVM": "shallow",
    "IsolationForest": "shallow", "KDE": "shallow", "SSAD": "ssad", "SupervisedClassifier": "supervised",
}
BUILDS = ("encoder", "scratch", "load", "shallow")
#: class name -> class, of the detectors that plugins add (ocbench.plugins.register_method)
DETECTOR_CLASSES: dict[str, type] = {}

#: what each way of building implies: (deep, pretrained, fits, what it means, for the one-line refusal)
_IMPLIED = {
    "encoder": (True, True, True, "trains a network that starts from the pretrained encoder"),
    "scratch": (True, False, True, "trains a network from scratch, without the pretrained autoencoder"),
    "load": (True, True, False, "scores with the pretrained autoencoder and fits nothing"),
    "shallow": (False, None, True, "fits on the inputs, or a hybrid on the pretrained encoder's codes, "
                                   "and trains no network"),
}
#: ``MethodSpec.training``'s default: the ``network`` block for a method that trains a network
BY_BUILDS = "by builds"


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
    """How the workflow builds and runs one method (the flags are described in the module's docstring).

    ``deep``, ``pretrained`` and ``fits`` follow from ``builds`` (None: as it implies) and
    ``training`` from them; ``hyper_parameters`` is completed with the training block's
    settings. Contradictory flags raise ``OcbenchError``.
    """

    detector_name: str
    builds: str
    deep: bool | None = None
    pretrained: bool | None = None
    hybrid: bool = False
    needs_labels: bool = False
    fits: bool | None = None
    training: str | None = BY_BUILDS
    training_opt_out: tuple[str, ...] = ()
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

    def _refuse(self, text: str):
        raise OcbenchError(f"MethodSpec of detector {self.detector_name!r}: {text}")

    def __post_init__(self):
        check_choice("builds", self.builds, BUILDS)
        deep, pretrained, fits, meaning = _IMPLIED[self.builds]
        if self.builds == "shallow":
            pretrained = self.hybrid
        elif self.hybrid:
            self._refuse(f"builds={self.builds!r} {meaning}, so hybrid=True contradicts it; a hybrid is shallow")
        for flag, implied in (("deep", deep), ("pretrained", pretrained), ("fits", fits)):
            given = getattr(self, flag)
            if given is not None and bool(given) != implied:
                self._refuse(f"builds={self.builds!r} {meaning}, so {flag}={given!r} contradicts it; leave {flag} out")
            object.__setattr__(self, flag, implied)
        self._resolve_training(meaning)
        for name, param in self.hyper_parameters.items():
            if not isinstance(param, Param):
                self._refuse(f"hyper_parameters[{name!r}] must be an ocbench.hyperparameters.Param, "
                             f"got {type(param).__name__}")
        if not self.fits and self.hyper_parameters:
            self._refuse(f"builds={self.builds!r} {meaning}, so it takes no hyper-parameters, got "
                         f"{', '.join(self.hyper_parameters)}")
        for what, names in (("ignores", self.ignores), ("fixed", self.fixed)):
            both = [name for name in names if name in self.hyper_parameters]
            if both:
                self._refuse(f"{', '.join(both)} is both a hyper-parameter and in {what}; it can only be one")

    def _resolve_training(self, meaning: str) -> None:
        """``training`` by builds, then the block's settings (and ``init``) as hyper-parameters."""
        trains = self.deep and self.fits
        if self.training == BY_BUILDS:
            object.__setattr__(self, "training", "network" if trains else None)
        elif self.training is not None:
            check_choice("MethodSpec training block", self.training, TRAINING_BLOCKS)
            if not trains:
                self._refuse(f"builds={self.builds!r} {meaning}, so training={self.training!r} has nothing to "
                             "configure; leave training out")
        if self.training is None:
            if self.training_opt_out:
                self._refuse("training_opt_out names settings of a training block, but training is None: "
                             "the method takes none")
            return
        settings = {**TRAINING_BLOCKS[self.training], **INIT}
        unknown = [name for name in self.training_opt_out if name not in settings]
        if unknown:
            self._refuse(f"training_opt_out names {', '.join(unknown)}, which the {self.training!r} block does not "
                         f"have; allowed: {', '.join(settings)}")
        taken = {name: param for name, param in settings.items()
                 if name not in self.training_opt_out and name not in self.ignores and name not in self.fixed}
        object.__setattr__(self, "hyper_parameters", {**taken, **self.hyper_parameters})


def _declared(declarations: dict[str, Param], ignores=(), fixed=None) -> dict[str, Param]:
    """A detector's declarations that a method exposes: all but those it ignores or fixes."""
    return {name: param for name, param in declarations.items() if name not in ignores and name not in (fixed or {})}


def _deep(detector_name, description, declarations, ignores=(), fixed=None, **flags):
    return MethodSpec(detector_name, "encoder", description=description, ignores=ignores, fixed=fixed or {},
                      hyper_parameters=_declared(declarations, ignores, fixed), **flags)


def _shallow(detector_name, description, declarations, hybrid=False, **flags):
    return MethodSpec(detector_name, "shallow", hybrid=hybrid, description=description,
                      hyper_parameters=dict(declarations), **flags)


#: the arguments of MultiRadiusDeepSVDD that only its FINCH clustering reads
_FINCH = ("clusters", "n_clusters", "max_clusters", "min_cluster_size", "finch_metric", "finch_max_samples")

METHODS: dict[str, MethodSpec] = {
    # The one-class objective has no radius: nu and the radius' warm-up do not apply.
    "deep_svdd_oneclass": _deep("DeepSVDD", "One-class Deep SVDD (Ruff et al. 2018)", params.DEEP_SVDD,
                                fixed={"objective": "one-class"}, ignores=("nu", "warm_up_epochs"),
                                short_name="DSVDD-OC"),
    "deep_svdd_softboundary": _deep("DeepSVDD", "Soft-boundary Deep SVDD (Ruff et al. 2018)", params.DEEP_SVDD,
                                    fixed={"objective": "soft-boundary"}, short_name="DSVDD-SB"),
    "deep_sad": _deep("DeepSAD", "Deep SAD, semi-supervised Deep SVDD (Ruff et al. 2020)", params.DEEP_SAD,
                      short_name="DSAD"),
    # OC-NN's loss holds the weights' penalty (no weight decay); its encoder is the pretrained one, frozen
    "ocnn": _deep("OCNN", "One-class neural network on the frozen encoder, OC-NN (Chalapathy et al. 2018)",
                  params.OCNN, training_opt_out=("weight_decay", "init"), short_name="OC-NN"),
    # What the authors' code computed as OC-NN (detectors/ocnn.py), under a name of its own so
    # that a preset can run it beside the paper's formulation.
    "ocnn_authors_code": _deep("OCNN", "OC-NN as its authors' code computed it: a linear layer on the trained "
                               "encoder, a fixed-radius hinge around a fixed centre", params.OCNN,
                               fixed={"formulation": "authors_code"}, ignores=("activation",),
                               training_opt_out=("weight_decay", "init"), short_name="OC-NN-A"),
    "multi_radius_deep_svdd": _deep("MultiRadiusDeepSVDD", "Multi-radius Deep SVDD: one sphere per FINCH cluster",
                                    params.MULTI_RADIUS, training_opt_out=("init",), short_name="MR-DSVDD"),
    # The multi-radius fork's own code: one sphere per normal class, from the true labels.
    "multi_radius_deep_svdd_labels": _deep(
        "MultiRadiusDeepSVDD", "Multi-radius Deep SVDD: one sphere per normal class (true labels)",
        params.MULTI_RADIUS, fixed={"clusters": "labels"}, ignores=_FINCH, training_opt_out=("init",),
        short_name="MR-DSVDD-L"),
    # CAE only scores with the pretrained autoencoder: training.autoencoder configures it.
    "cae": MethodSpec("AutoencoderDetector", "load",
                      description="Reconstruction error of the pretrained autoencoder (CAE/DCAE)", short_name="CAE"),
    "rcae": _deep("RCAE", "Robust convolutional autoencoder, RCAE (Chalapathy et al. 2017)", params.RCAE,
                  training="autoencoder", training_opt_out=("loss", "init"), short_name="RCAE"),
    # The Deep SAD paper's supervised baseline: Deep SAD's network and start, a binary head.
    "supervised": _deep("SupervisedClassifier", "Supervised classifier: Deep SAD's network, a binary head, "
                        "binary cross-entropy of labelled anomalies against the rest (Ruff et al. 2020)",
                        params.SUPERVISED, needs_labels=True, short_name="Sup"),
    "ss_dgm": MethodSpec("SSDGM", "scratch", needs_labels=True, training=None,
                         description="Semi-supervised deep generative model M2, SS-DGM (Kingma et al. 2014)",
                         hyper_parameters=dict(params.SS_DGM), short_name="SS-DGM"),
    "ocsvm": _shallow("OCSVM", "One-class SVM, RBF kernel (Schölkopf et al. 2001)", params.OCSVM,
                      short_name="OC-SVM"),
    "isoforest": _shallow("IsolationForest", "Isolation Forest (Liu et al. 2008)", params.ISOLATION_FOREST,
                          short_name="IF"),
    "kde": _shallow("KDE", "Gaussian kernel density estimate", params.KDE, short_name="KDE"),
    "ssad": _shallow("SSAD", "Semi-supervised anomaly detection, SSAD (Görnitz et al. 2013)", params.SSAD,
                     short_name="SSAD"),
    "ocsvm_hybrid": _shallow("OCSVM", "OC-SVM on the pretrained autoencoder's codes", params.OCSVM, hybrid=True,
                             short_name="OC-SVM-H"),
    "isoforest_hybrid": _shallow("IsolationForest", "Isolation Forest on the pretrained autoencoder's codes",
                                 params.ISOLATION_FOREST, hybrid=True, short_name="IF-H"),
    "kde_hybrid": _shallow("KDE", "KDE on the pretrained autoencoder's codes", params.KDE, hybrid=True,
                           short_name="KDE-H"),
    "ssad_hybrid": _shallow("SSAD", "SSAD on the pretrained autoencoder's codes", params.SSAD, hybrid=True,
                            short_name="SSAD-H"),
}


def method_spec(name: str) -> MethodSpec:
    check_choice("method", name, METHODS)
    return METHODS[name]
