"""The metrics of one run: AUROC, AUPR, the threshold metrics, peak memory, versions.

Anomalies are the positive class throughout (label 1, higher score = more anomalous).
"""
from __future__ import annotations

import platform
import resource
import sys
from importlib import metadata

import numpy as np

from .errors import OcbenchError


def run_metrics(y_true, scores, threshold: float) -> dict:
    """AUROC, AUPR and, at ``threshold`` (predicted anomaly = score > threshold), precision,
    recall and accuracy of one run's test scores.

    ``y_true``: 0 normal, 1 anomaly. AUROC and AUPR are NaN when the test labels hold a
    single class (they are undefined there); precision and recall are 0 when nothing is
    predicted or present, as scikit-learn's ``zero_division=0``.
    """
    # here: a job that computes no metrics (a split, a fetch) never imports scikit-learn
    from sklearn.metrics import (accuracy_score, average_precision_score, precision_score, recall_score,
                                 roc_auc_score)

    y_true = np.asarray(y_true).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if len(y_true) != len(scores):
        raise OcbenchError(f"{len(y_true)} labels but {len(scores)} scores; they must match one to one")
    if len(y_true) == 0:
        raise OcbenchError("no test samples to evaluate")
    bad = set(np.unique(y_true).tolist()) - {0, 1}
    if bad:
        raise OcbenchError(f"test labels must be 0 (normal) or 1 (anomaly), got {sorted(bad)}")
    if not np.all(np.isfinite(scores)):
        raise OcbenchError(f"{int(np.sum(~np.isfinite(scores)))} scores are not finite (NaN or infinite)")
    y_true = y_true.astype(np.int64)
    predicted = (scores > float(threshold)).astype(np.int64)
    both_classes = len(np.unique(y_true)) == 2
    return {
        "auroc": float(roc_auc_score(y_true, scores)) if both_classes else float("nan"),
        "aupr": float(average_precision_score(y_true, scores)) if both_classes else float("nan"),
        "threshold": float(threshold),
        "precision": float(precision_score(y_true, predicted, zero_division=0)),
        "recall": float(recall_score(y_true, predicted, zero_division=0)),
        "accuracy": float(accuracy_score(y_true, predicted)),
        **outlier_accuracies(y_true, predicted),
        "n_test": int(len(y_true)),
        "n_anomalies": int(y_true.sum()),
    }


def outlier_accuracies(y_true: np.ndarray, predicted: np.ndarray) -> dict:
    """The accuracy on the outliers and on the inliers at the threshold, as the multi-class Deep SVDD fork reports.

    ``outlier_accuracy``: the share of the anomalies predicted anomalous (the recall of
    the anomaly class); ``inlier_accuracy``: the share of the normal samples predicted
    normal (the true-negative rate), its counterpart, without which a threshold that
    flags everything would look perfect. NaN where the test set has no sample of that kind.
    """
    def share(kind: int) -> float:
        members = y_true == kind
        return float(np.mean(predicted[members] == kind)) if members.any() else float("nan")

    return {"outlier_accuracy": share(1), "inlier_accuracy": share(0)}


def peak_memory_mb() -> float:
    """The memory the process needed so far, in MiB: its peak resident set size, plus the
    peak CUDA allocation when torch has used a GPU.

    torch is only consulted when something already imported it: a shallow run does not
    pay for importing torch just to learn that it used no GPU.
    """
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in KiB on Linux and in bytes on macOS
    mib = peak / 2**20 if sys.platform == "darwin" else peak / 2**10
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        mib += torch.cuda.max_memory_allocated() / 2**20
    return float(mib)


def versions() -> dict:
    """Versions of Python and of the libraries that shaped the run's numbers."""
    import sklearn  # here: see run_metrics

    def package_version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "unknown"

    out = {"python": platform.python_version(), "ocbench": package_version("ocbench"),
           "numpy": np.__version__, "sklearn": sklearn.__version__}
    for optional in ("torch", "cvxopt"):  # only when the run used them
        module = sys.modules.get(optional)
        if module is not None:
            out[optional] = getattr(module, "__version__", package_version(optional))
    return out
