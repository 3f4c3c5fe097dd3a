"""The detector API shared by every method.

scikit-learn's estimator rules (hyper-parameters stored untouched in ``__init__``,
all work in ``fit``, fitted state ending in ``_``) and PyOD's score convention:
``decision_function`` is higher for more anomalous samples, for every method, and
``predict`` gives 1 for anomaly and 0 for normal.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from ..errors import OcbenchError

# Methods without a boundary of their own flag the top 10 % of training scores,
# the same share as the default nu = 0.1 of the boundary methods.
TRAINING_QUANTILE = 0.9


class Detector(BaseEstimator):
    """Base class: subclasses implement ``fit`` and ``decision_function`` and set ``threshold_``."""

    #: whether ``fit`` uses the semi-labels y (+1 known normal, 0 unlabeled, -1 known anomaly)
    uses_labels = False

    def fit(self, X, y=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def decision_function(self, X) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, X) -> np.ndarray:
        """1 = anomaly (score above ``threshold_``), 0 = normal."""
        self._check_fitted()
        return (self.decision_function(X) > self.threshold_).astype(np.int64)

    def _check_fitted(self):
        if not hasattr(self, "threshold_"):
            raise OcbenchError(f"{type(self).__name__} is not fitted yet; call fit first")

    def _threshold_from_training(self, train_scores) -> float:
        return float(np.quantile(np.asarray(train_scores, dtype=np.float64), TRAINING_QUANTILE))


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
