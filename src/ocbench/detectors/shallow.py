"""Shallow baselines of the Deep SAD protocol: OC-SVM, Isolation Forest and KDE.

Every detector takes X of any shape (images N×C×H×W, tabular N×D, encoder codes for
the hybrid variants) and flattens it to N×D. Scores are higher for more anomalous
samples.

Kernel widths of the methods that need labelled data to choose them (OC-SVM here,
SSAD in ``ssad.py``) are picked by AUC on a validation set that the split holds out of
the evaluation (``data.splits.holdout_validation``). The Deep SAD reference took that
set from the test split and then evaluated on the whole test split, validation set
included.
"""
from __future__ import annotations

import logging
import math

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import check_is_fitted

from ..errors import OcbenchError, check_positive_int
from ..hyperparameters import defaults
from . import params
from .base import Detector

log = logging.getLogger("ocbench.detectors.shallow")

#: OC-SVM's and SSAD's grid of RBF widths, gamma in k(x, x') = exp(-gamma ||x - x'||^2)
DEFAULT_GAMMAS = tuple(np.logspace(-7, 2, num=10, base=2))
#: KDE's grid of Gaussian bandwidths
DEFAULT_BANDWIDTHS = tuple(np.logspace(0.5, 5, num=10, base=2))
_OCSVM, _FOREST, _KDE = defaults(params.OCSVM), defaults(params.ISOLATION_FOREST), defaults(params.KDE)

#: the fitted attributes that ``select_gamma`` sets (OC-SVM, SSAD), for their Attributes sections
GAMMA_SELECTION_ATTRIBUTES = {
    "gamma_": ("float", "the kernel width used"),
    "gamma_selection_": ("str", "how gamma was chosen: by validation AUC, or 'scale' and why"),
    "validation_auc_": ("float or None", "the chosen gamma's validation AUC"),
    "validation_aucs_": ("tuple of float", "the validation AUC of every grid value"),
}


# --------------------------------------------------------------------------- inputs

def flatten(X) -> np.ndarray:
    """X as a float64 N×D array: one row per sample, whatever the sample's shape."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 0 or len(X) == 0:
        raise OcbenchError(f"X must hold at least one sample, got an array of shape {X.shape}")
    return X.reshape(len(X), -1)


def grid(values, default: tuple[float, ...]) -> tuple[float, ...]:
    """A gamma or bandwidth grid as floats: ``values`` (which ``check_hyper_parameters`` has checked against
    their declaration: positive finite numbers), or ``default`` where they are None."""
    return tuple(float(v) for v in (default if values is None else values))


def check_validation_set(X_val, y_val, n_features: int):
    """(X_val as N×D, y_val as 0/1 ints), or None when no validation set is given."""
    if X_val is None and y_val is None:
        return None
    if X_val is None or y_val is None:
        raise OcbenchError("a validation set needs both X_val and y_val (0 normal, 1 anomaly); got only one")
    X_val = flatten(X_val)
    y_val = np.asarray(y_val).ravel()
    if len(y_val) != len(X_val):
        raise OcbenchError(f"y_val has {len(y_val)} labels but X_val has {len(X_val)} samples")
    bad = set(np.unique(y_val).tolist()) - {0, 1}
    if bad:
        raise OcbenchError(f"validation labels must be 0 (normal) or 1 (anomaly), got {sorted(bad)}")
    if X_val.shape[1] != n_features:
        raise OcbenchError(f"X_val has {X_val.shape[1]} features per sample but X has {n_features}")
    return X_val, y_val.astype(np.int64)


def scale_gamma(X: np.ndarray) -> float:
    """scikit-learn's ``gamma='scale'``: 1 / (D · Var(X)), the median-style default width."""
    variance = float(X.var())
    return 1.0 / (X.shape[1] * variance) if variance > 0 else 1.0


# --------------------------------------------------------------------------- validation

def select_gamma(detector, gammas, fit_one, score, X_train, validation):
    """Fit one model per gamma and keep the one of highest validation AUC.

    ``fit_one(gamma) -> model`` and ``score(model, X) -> scores`` (higher = more
    anomalous). Without a validation set holding both classes, a single model is fitted
    with ``gamma='scale'``. Sets ``gamma_``, ``gamma_selection_``, ``validation_auc_``
    and ``validation_aucs_`` on ``detector`` and returns the chosen model. Ties go to
    the smaller gamma (the first in the grid), as in the reference.
    """
    if validation is None or len(np.unique(validation[1])) < 2:
        reason = "no validation set" if validation is None else "validation set has one class"
        log.warning("%s: gamma='scale' (%s)", type(detector).__name__, reason)
        detector.gamma_ = scale_gamma(X_train)
        detector.gamma_selection_ = f"scale ({reason})"
        detector.validation_auc_ = None
        detector.validation_aucs_ = ()
        return fit_one(detector.gamma_)

    X_val, y_val = validation
    best_model, best_auc, aucs = None, -math.inf, []
    for gamma in gammas:
        model = fit_one(gamma)
        auc = float(roc_auc_score(y_val, score(model, X_val)))
        aucs.append(auc)
        log.info("%s gamma %.6g: validation AUC %.4f", type(detector).__name__, gamma, auc)
        if auc > best_auc:
            best_model, best_auc, detector.gamma_ = model, auc, float(gamma)
    detector.gamma_selection_ = "validation AUC"
    detector.validation_auc_ = best_auc
    detector.validation_aucs_ = tuple(aucs)
    # How many grid values reached the best AUC: a validation share with one anomaly
    # ties most of the grid, and the first (smallest) gamma then wins by position, not
    # by merit (docs/method_notes.md). Recorded in params.json under "fitted".
    detector.validation_ties_ = sum(auc == best_auc for auc in aucs)
    return best_model


# --------------------------------------------------------------------------- detectors

def training_subset(semi: np.ndarray, max_samples: int, seed: int) -> np.ndarray:
    """Sorted indices of at most ``max_samples`` samples: labelled ones first, by seed."""
    n = len(semi)
    if n <= max_samples:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    labelled = rng.permutation(np.flatnonzero(semi != 0))
    unlabeled = rng.permutation(np.flatnonzero(semi == 0))
    keep = np.concatenate([labelled, unlabeled])[:max_samples]
    return np.sort(keep)


def capped(X: np.ndarray, max_samples, seed: int) -> np.ndarray:
    """``X``, or a subsample of ``max_samples`` rows drawn by ``seed`` where it has more (None: all).

    Kernel methods cost N^2 memory or time: the multi-class setting trains on every
    class of a dataset (60,000 MNIST images), where the papers' baselines subsample.
    """
    if max_samples is None:
        return X
    check_positive_int("max_train_samples", max_samples)
    return X[training_subset(np.zeros(len(X), dtype=np.int64), max_samples, seed)]


class OCSVM(Detector):
    """One-class SVM with an RBF kernel (Schölkopf et al. 2001), scikit-learn's solver.

    ``fit(X, y=None, X_val=None, y_val=None)``: with a labelled validation set (0 normal,
    1 anomaly) gamma is the grid value of highest validation AUC; without one it is
    ``'scale'``. Score = minus scikit-learn's decision function, so the SVM boundary is
    at 0. The fit is deterministic but for the subsample of ``max_train_samples``.

    ``threshold_``: the SVM's own boundary (0) without a validation set. With one, the
    (1 - nu) quantile of the validation set's normal samples' scores: the gamma that
    ranks best on held-out data is often so narrow that the boundary encloses the
    training points only (gamma 2 on mnist5k flags every test sample), so the boundary
    is placed where it flags the share nu of held-out normal data it is meant to.

    Attributes
    ----------
    model_ : sklearn.svm.OneClassSVM
        the fitted SVM
    threshold_source_ : str
        where the threshold comes from: ``boundary`` or ``validation normals``
    n_train_used_ : int
        the training samples the SVM was fitted on
    """

    uses_validation = True
    hyper_parameters = params.OCSVM
    attribute_docs = GAMMA_SELECTION_ATTRIBUTES

    def __init__(self, nu=_OCSVM["nu"], gammas=_OCSVM["gammas"], max_train_samples=_OCSVM["max_train_samples"],
                 seed=0):
        self.nu = nu
        self.gammas = gammas
        self.max_train_samples = max_train_samples
        self.seed = seed

    def fit(self, X, y=None, X_val=None, y_val=None):
        from sklearn.svm import OneClassSVM

        self.check_hyper_parameters()
        gammas = grid(self.gammas, DEFAULT_GAMMAS)
        X_all = flatten(X)
        X = capped(X_all, self.max_train_samples, self.seed)
        self.n_train_used_ = len(X)
        validation = check_validation_set(X_val, y_val, X.shape[1])

        def fit_one(gamma):
            return OneClassSVM(kernel="rbf", nu=self.nu, gamma=gamma).fit(X)

        self.model_ = select_gamma(self, gammas, fit_one, lambda m, x: -m.decision_function(x), X, validation)
        held_out_normal = None if validation is None else validation[0][validation[1] == 0]
        if held_out_normal is not None and len(held_out_normal):
            threshold = float(np.quantile(-self.model_.decision_function(held_out_normal), 1.0 - self.nu))
            self.threshold_source_ = "validation normals"
        else:
            threshold, self.threshold_source_ = 0.0, "boundary"
        return self.set_training_scores(-self.model_.decision_function(X_all), threshold)

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self)
        return -self.model_.decision_function(flatten(X))


class IsolationForest(Detector):
    """Isolation Forest (Liu et al. 2008), scikit-learn's, seeded by ``seed``.

    Score = minus scikit-learn's ``score_samples`` (the mean path-length score).
    ``threshold_`` is the (1 - contamination) quantile of the training scores, which is
    scikit-learn's own offset: ``predict`` agrees with scikit-learn's.

    Attributes
    ----------
    model_ : sklearn.ensemble.IsolationForest
        the fitted forest
    """

    hyper_parameters = params.ISOLATION_FOREST

    def __init__(self, n_estimators=_FOREST["n_estimators"], max_samples=_FOREST["max_samples"],
                 contamination=_FOREST["contamination"], seed=0):
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.contamination = contamination
        self.seed = seed

    def fit(self, X, y=None):
        from sklearn.ensemble import IsolationForest as SklearnIsolationForest

        self.check_hyper_parameters()
        X = flatten(X)
        self.model_ = SklearnIsolationForest(
            n_estimators=self.n_estimators, max_samples=min(self.max_samples, len(X)),
            contamination=self.contamination, random_state=self.seed).fit(X)
        train_scores = -self.model_.score_samples(X)
        return self.set_training_scores(train_scores, float(np.quantile(train_scores, 1.0 - self.contamination)))

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self)
        return -self.model_.score_samples(flatten(X))


class KDE(Detector):
    """Gaussian kernel density estimate; score = minus the log density.

    The bandwidth is the grid value whose held-out log-likelihood (the fold's total,
    averaged over ``cv_folds`` folds of the training data, scikit-learn's
    ``GridSearchCV``) is highest; the folds are shuffled by ``seed`` so that a training
    set ordered by class does not give folds of one kind. ``threshold_`` is the 0.9
    quantile of the scores of the samples the density was fitted on.

    Attributes
    ----------
    model_ : sklearn.neighbors.KernelDensity
        the fitted density
    bandwidth_ : float
        the bandwidth chosen
    cv_log_likelihoods_ : tuple of float
        the cross-validated log-likelihood of every grid value
    n_train_used_ : int
        the training samples the density was fitted on
    """

    hyper_parameters = params.KDE

    def __init__(self, bandwidths=_KDE["bandwidths"], cv_folds=_KDE["cv_folds"],
                 max_train_samples=_KDE["max_train_samples"], seed=0):
        self.bandwidths = bandwidths
        self.cv_folds = cv_folds
        self.max_train_samples = max_train_samples
        self.seed = seed

    def fit(self, X, y=None):
        from sklearn.model_selection import GridSearchCV, KFold
        from sklearn.neighbors import KernelDensity

        self.check_hyper_parameters()
        bandwidths = grid(self.bandwidths, DEFAULT_BANDWIDTHS)
        X_all = flatten(X)
        X = capped(X_all, self.max_train_samples, self.seed)
        self.n_train_used_ = len(X)
        if len(X) < self.cv_folds:
            raise OcbenchError(f"KDE needs at least cv_folds={self.cv_folds} training samples, got {len(X)}")
        folds = KFold(n_splits=self.cv_folds, shuffle=True, random_state=self.seed)
        search = GridSearchCV(KernelDensity(kernel="gaussian"), {"bandwidth": list(bandwidths)}, cv=folds)
        search.fit(X)
        self.model_ = search.best_estimator_
        self.bandwidth_ = float(search.best_params_["bandwidth"])
        self.cv_log_likelihoods_ = tuple(float(v) for v in search.cv_results_["mean_test_score"])
        fitted_scores = -self.model_.score_samples(X)
        train_scores = fitted_scores if len(X) == len(X_all) else -self.model_.score_samples(X_all)
        return self.set_training_scores(train_scores, self.threshold_from_training(fitted_scores))

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self)
        return -self.model_.score_samples(flatten(X))
