"""Every detector's hyper-parameters, declared once: type, range or choices, default and meaning.

Each detector class reads its own declarations here (``Detector.hyper_parameters``): its
constructor defaults, the check at the start of ``fit`` and the Parameters section of its
docstring come from them. Each method of the registry (``ocbench.detectors.METHODS``)
exposes the declarations of its detector that the config may set, and the config check
reads them, without importing torch or scikit-learn, to refuse a name the method does not
take and a value out of range before any job starts. The schema's training blocks are
generated from ``TRAINING_BLOCKS`` (``config.schema``). ``Param`` itself and the
optimiser settings ``TRAINING`` live in ``ocbench.hyperparameters``, which the training
loop reads too.
"""
from __future__ import annotations

from dataclasses import replace

from ..hyperparameters import TRAINING, Param, open_unit, positive_int
from ..nets.reference_init import INITS

__all__ = ["Param", "TRAINING", "INIT", "AUTOENCODER_LOSSES", "AUTOENCODER_TRAINING", "TRAINING_BLOCKS"]


def _without(declarations: dict[str, Param], *names: str) -> dict[str, Param]:
    return {name: param for name, param in declarations.items() if name not in names}


def _default(param: Param, default, doc: str | None = None) -> Param:
    """``param`` with another default (a detector whose reference trains with other settings)."""
    return replace(param, default=default, doc=param.doc if doc is None else doc)


#: where a network's initial weights come from (``training.init``; ``nets.reference_init``)
INIT = {"init": Param("choice", choices=INITS, default="default", doc=(
    "the initial weights of every network and autoencoder: ocbench's own draws (default), or exactly those "
    "the named reference implementation draws for the same seed (deep_svdd, deep_sad; reference: the one "
    "that has the net, an error for cifar10_lenet, which they initialise differently), so that seed N starts "
    "where the reference's seed N does (docs/fidelity.md)"))}

#: how the autoencoder's training loss reduces a sample's squared errors (docs/deviations.md)
AUTOENCODER_LOSSES = ("sum", "mean")

#: the settings of the autoencoder's training (the config's ``training.autoencoder`` block): the
#: optimiser's, with the Deep SVDD reference's stronger weight decay, and the loss
AUTOENCODER_TRAINING: dict[str, Param] = {
    **TRAINING,
    "weight_decay": _default(TRAINING["weight_decay"], 0.5e-3),
    "loss": Param("choice", choices=AUTOENCODER_LOSSES, default="mean", doc=(
        "the squared reconstruction errors of a sample summed over its entries (the Deep SVDD reference) or "
        "averaged (the Deep SAD reference), then averaged over the batch; with weight decay w, mean trains as "
        "sum with w times the entries per sample (docs/deviations.md)")),
}

#: the config's training blocks by name (``MethodSpec.training``): a deep method takes their values
TRAINING_BLOCKS: dict[str, dict[str, Param]] = {"network": TRAINING, "autoencoder": AUTOENCODER_TRAINING}

_NU = open_unit(default=0.1, doc="the share of training samples the boundary may leave outside")
_WARM_UP = Param("int", low=0, default=10, doc="epochs before the soft-boundary radius is first updated")
_GAMMAS = Param("numbers", low=0, low_open=True, nullable=True, default=None, doc=(
    "the grid of RBF kernel widths; the one of highest AUC on the split's validation share is kept "
    "(None: 2^-7 to 2^2, ten values)"))
_MAX_TRAIN = positive_int(nullable=True, default=None, doc=(
    "fit on at most this many training samples drawn by seed, labelled ones first (None: all)"))

# --------------------------------------------------------------------------- deep detectors

AUTOENCODER = {**AUTOENCODER_TRAINING, **INIT}

DEEP_SVDD = {
    **TRAINING, **INIT, "nu": _NU, "warm_up_epochs": _WARM_UP,
    "objective": Param("choice", choices=("one-class", "soft-boundary"), default="one-class", doc=(
        "one-class: the mean distance to the centre; soft-boundary: a radius R with a share nu outside")),
}

DEEP_SAD = {
    **TRAINING, "batch_size": _default(TRAINING["batch_size"], 128), **INIT,
    "eta": Param("number", low=0, low_open=True, default=1.0, doc="the weight of the labelled samples' loss terms"),
    "eps": Param("number", low=0, low_open=True, default=1e-6,
                 doc="keeps a known anomaly's loss eta / (d + eps) finite"),
}

#: the Deep SAD paper's supervised classifier: Deep SAD's network, start and training settings
SUPERVISED = {**TRAINING, "batch_size": _default(TRAINING["batch_size"], 128), **INIT}

OCNN = {
    # its loss holds the weights' penalty, so the optimiser adds no weight decay
    **_without(TRAINING, "weight_decay"),
    "nu": open_unit(default=0.1, doc=(
        "the share of training samples scored above the threshold: r is the nu quantile of the outputs")),
    "hidden": positive_int(default=32, doc="units of the head's hidden layer"),
    "activation": Param("choice", choices=("sigmoid", "linear"), default="sigmoid",
                        doc="the head's activation g: sigmoid (bounded) or linear"),
    "formulation": Param("choice", choices=("paper", "authors_code"), default="paper", doc=(
        "the paper's objective, or what the authors' code computed (detectors/ocnn.py, docs/method_notes.md)")),
}

MULTI_RADIUS = {
    **TRAINING, "nu": _NU, "warm_up_epochs": _WARM_UP,
    "clusters": Param("choice", choices=("finch", "labels"), default="finch", doc=(
        "one sphere per FINCH cluster of the training codes, or per normal class (fit's groups)")),
    "n_clusters": positive_int(nullable=True, default=None, doc=(
        "FINCH's partition with this many clusters (None: the best silhouette of 2 to max_clusters)")),
    "max_clusters": positive_int(default=10, doc="the most clusters a FINCH partition may have"),
    "min_cluster_size": positive_int(default=10, doc=(
        "a smaller cluster merges into the one with the nearest mean code")),
    "finch_metric": Param("choice", choices=("euclidean", "cosine", "cityblock"), default="euclidean",
                          doc="FINCH's distance between codes"),
    "finch_max_samples": positive_int(default=5000, doc=(
        "FINCH clusters a seeded subsample of at most this many codes; the others join the nearest mean")),
}

RCAE = {
    **_without(AUTOENCODER_TRAINING, "loss"),
    "lam": Param("number", low=0, default=0.5, doc="the weight of the noise matrix's L1 penalty"),
    "epochs_per_alternation": positive_int(default=10, doc=(
        "autoencoder epochs between two updates of the noise matrix")),
}

SS_DGM = {
    # the Deep SAD reference's settings for SS-DGM: it does not take the config's training block
    "lr": _default(TRAINING["lr"], 1e-3),
    "epochs": _default(TRAINING["epochs"], 50),
    "milestones": _default(TRAINING["milestones"], ()),
    "batch_size": _default(TRAINING["batch_size"], 128),
    "weight_decay": _default(TRAINING["weight_decay"], 1e-6),
    "amsgrad": TRAINING["amsgrad"],
    "drop_last": TRAINING["drop_last"],
    "latent_dim": positive_int(nullable=True, default=None, doc=(
        "size of the latent code z (None: the reference's size for the net)")),
    "hidden": Param("ints", low=1, nullable=True, default=None, doc=(
        "sizes of the hidden layers (None: the reference's for the net)")),
    "alpha": Param("number", low=0, nullable=True, default=None, doc=(
        "the weight of the classification term (None: 0.1 times unlabeled over labelled samples, the reference's)")),
}

# --------------------------------------------------------------------------- shallow detectors

OCSVM = {
    "nu": open_unit(default=0.1, doc="an upper bound on the share of training outliers, the SVM's nu"),
    "gammas": _GAMMAS, "max_train_samples": _MAX_TRAIN,
}

ISOLATION_FOREST = {
    "n_estimators": positive_int(default=100, doc="trees in the forest"),
    "max_samples": positive_int(default=256, doc="samples drawn to build each tree (at most the training set)"),
    "contamination": Param("number", low=0, high=0.5, low_open=True, default=0.1, doc=(
        "the share of training samples flagged: the threshold is their (1 - contamination) score quantile")),
}

KDE = {
    "bandwidths": Param("numbers", low=0, low_open=True, nullable=True, default=None, doc=(
        "the grid of Gaussian bandwidths; the one of highest cross-validated log-likelihood is kept "
        "(None: 2^0.5 to 2^5, ten values)")),
    "cv_folds": Param("int", low=2, default=5, doc="folds of the bandwidth's cross-validation"),
    "max_train_samples": _MAX_TRAIN,
}

SSAD = {
    "kappa": Param("number", low=0, low_open=True, default=1.0, doc=(
        "the reward of the labelled samples' margin m (the Deep SAD reference always used 1)")),
    "C": Param("number", low=0, low_open=True, default=1.0, doc="the bound of every dual weight"),
    "gammas": _GAMMAS,
    "max_train_samples": positive_int(default=3000, doc=(
        "solve the QP on at most this many training samples drawn by seed, labelled ones first "
        "(its kernel is N x N)")),
}
