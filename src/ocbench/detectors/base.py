"""The detector API shared by every method.

scikit-learn's estimator rules (hyper-parameters stored untouched in ``__init__``,
all work in ``fit``, fitted state ending in ``_``, ``check_is_fitted``) and PyOD's
``BaseDetector`` conventions: ``decision_function`` is higher for more anomalous
samples, for every method, ``predict`` gives 1 for anomaly and 0 for normal, and a
fitted detector holds ``decision_scores_`` (the training samples' scores),
``threshold_`` and ``labels_`` (the training samples' predictions), so that it drops
into code written for PyOD.
"""
from __future__ import annotations

import inspect
import textwrap

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..errors import OcbenchError
from ..hyperparameters import Param

# Methods without a boundary of their own flag the top 10 % of training scores,
# the same share as the default nu = 0.1 of the boundary methods.
TRAINING_QUANTILE = 0.9

#: the constructor arguments the workflow sets for every run, as the Parameters sections describe them
WORKFLOW_ARGUMENT_DOCS = {
    "net": ("str or torch.nn.Module", "a net of ocbench.nets.NETS by name (its input shape fixes the samples'), "
                                      "or a module with ``rep_dim``, deep-copied"),
    "device": ("{'cpu', 'cuda', 'auto'}", "where the network trains (auto: CUDA when present)"),
    "seed": ("int", "seeds every random draw of the fit"),
    "autoencoder": ("str, Path, Autoencoder or None", "the pretrained autoencoder (a file written by "
                                                      "AutoencoderDetector.save, or the module) whose encoder "
                                                      "weights the network starts from; None: none"),
}

#: the fitted attributes of every detector, as the Attributes sections describe them (PyOD's names)
COMMON_ATTRIBUTE_DOCS = {
    "decision_scores_": ("ndarray of shape (n_samples,)", "the training samples' scores, decision_function(X) "
                                                          "of the X given to fit"),
    "threshold_": ("float", "predict flags the scores above it"),
    "labels_": ("ndarray of shape (n_samples,)", "the training samples' predictions: 1 anomaly, 0 normal"),
}


def _section(title: str, entries: list[tuple[str, str, str]]) -> str:
    lines = [title, "-" * len(title)]
    for name, kind, doc in entries:
        lines += [f"{name} : {kind}", textwrap.fill(doc, 88, initial_indent="    ", subsequent_indent="    ")]
    return "\n".join(lines)


class Detector(BaseEstimator):
    """Base class: subclasses implement ``fit`` and ``decision_function``.

    ``fit`` ends with ``set_training_scores``, which sets the fitted attributes every
    detector has. A subclass that lists its ``hyper_parameters`` (``Param`` declarations
    by constructor argument) checks them with ``check_hyper_parameters`` and gets a
    numpydoc Parameters section generated from them.
    """

    #: whether ``fit`` uses the semi-labels y (+1 known normal, 0 unlabeled, -1 known anomaly)
    uses_labels = False
    #: the declarations of the constructor's hyper-parameters (``ocbench.detectors.params``)
    hyper_parameters: dict[str, Param] = {}
    #: descriptions of constructor arguments that are neither declared nor the workflow's: name -> (type, text)
    argument_docs: dict[str, tuple[str, str]] = {}
    #: descriptions of fitted attributes that several detectors share (a helper sets them): name -> (type, text)
    attribute_docs: dict[str, tuple[str, str]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__doc__ = _with_numpydoc_sections(cls)

    def fit(self, X, y=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def decision_function(self, X) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, X) -> np.ndarray:
        """1 = anomaly (score above ``threshold_``), 0 = normal."""
        check_is_fitted(self)
        return (self.decision_function(X) > self.threshold_).astype(np.int64)

    def __sklearn_is_fitted__(self) -> bool:
        # scikit-learn's check_is_fitted asks this: fitted once fit has set the threshold
        return hasattr(self, "threshold_")

    def check_hyper_parameters(self) -> None:
        """Raise ``OcbenchError`` (one line) for the first hyper-parameter outside its declaration."""
        for name, param in self.hyper_parameters.items():
            param.check(name, getattr(self, name))

    def threshold_from_training(self, train_scores) -> float:
        """The threshold of a method without a boundary of its own: the 0.9 quantile of the training scores."""
        return float(np.quantile(np.asarray(train_scores, dtype=np.float64), TRAINING_QUANTILE))

    def set_training_scores(self, train_scores, threshold: float | None = None):
        """Set ``decision_scores_``, ``threshold_`` (``threshold_from_training`` unless given) and
        ``labels_`` from the training samples' scores; return the detector (``fit``'s last step)."""
        self.decision_scores_ = np.asarray(train_scores, dtype=np.float64)
        self.threshold_ = self.threshold_from_training(self.decision_scores_) if threshold is None else threshold
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.int64)
        return self


def _with_numpydoc_sections(cls) -> str | None:
    """``cls``'s docstring with a Parameters section generated from its declarations and the
    common fitted attributes added to its Attributes section (numpydoc).

    Generated only when every constructor argument has a description, so a plugin class
    without declarations keeps its docstring as written.
    """
    doc = inspect.cleandoc(cls.__doc__ or "")
    if not cls.__dict__.get("__init__") or "\nParameters\n" in doc:
        return cls.__doc__
    entries = []
    for name, argument in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or argument.kind not in (argument.POSITIONAL_OR_KEYWORD, argument.KEYWORD_ONLY):
            continue
        default = "" if argument.default is argument.empty else f", default={argument.default!r}"
        if name in cls.hyper_parameters:
            param = cls.hyper_parameters[name]
            entries.append((name, param.type_text() + default, param.doc))
        elif name in cls.argument_docs or name in WORKFLOW_ARGUMENT_DOCS:
            kind, text = cls.argument_docs.get(name) or WORKFLOW_ARGUMENT_DOCS[name]
            entries.append((name, kind + default, text))
        else:
            return cls.__doc__
    head, marker, attributes = doc.partition("\nAttributes\n----------\n")
    shared = {**COMMON_ATTRIBUTE_DOCS, **cls.attribute_docs}
    common = _section("Attributes", [(name, *shared[name]) for name in shared])
    attributes = common + ("\n" + attributes.strip() if marker else "")
    return f"{head.rstrip()}\n\n{_section('Parameters', entries)}\n\n{attributes}\n"


def semi_labels(y, n: int) -> np.ndarray:
    """Semi-labels as an int array of length n: all 0 (unlabeled) when y is None."""
    if y is None:
        return np.zeros(n, dtype=np.int64)
    y = np.asarray(y).astype(np.int64).ravel()
    if len(y) != n:
        raise OcbenchError(f"y has {len(y)} labels but X has {n} samples")
    bad = set(np.unique(y)) - {-1, 0, 1}
    if bad:
        raise OcbenchError(f"semi-labels must be +1 (known normal), 0 (unlabeled) or -1 (known anomaly), got {sorted(bad)}")
    return y
