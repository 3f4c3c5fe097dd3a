import numpy as np
import pytest
from sklearn.ensemble import IsolationForest as SklearnIsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.exceptions import NotFittedError
from sklearn.svm import OneClassSVM

from ocbench.data.splits import holdout_validation
from ocbench.detectors import METHODS
from ocbench.detectors.shallow import DEFAULT_BANDWIDTHS, DEFAULT_GAMMAS, KDE, OCSVM, IsolationForest, scale_gamma
from ocbench.detectors.ssad import SSAD
from ocbench.errors import OcbenchError


def split_test(x_test, y_test, seed=0, fraction=0.25):
    val_idx, eval_idx = holdout_validation(len(y_test), y_test, fraction, seed)
    return (x_test[val_idx], y_test[val_idx]), (x_test[eval_idx], y_test[eval_idx])


# --------------------------------------------------------------------------- grids

def test_default_grids_are_the_reference_grids():
    assert len(DEFAULT_GAMMAS) == 10 and len(DEFAULT_BANDWIDTHS) == 10
    assert DEFAULT_GAMMAS[0] == pytest.approx(2 ** -7) and DEFAULT_GAMMAS[-1] == pytest.approx(4.0)
    assert DEFAULT_BANDWIDTHS[0] == pytest.approx(2 ** 0.5) and DEFAULT_BANDWIDTHS[-1] == pytest.approx(32.0)
    assert np.allclose(np.diff(np.log2(DEFAULT_GAMMAS)), 1.0)  # one factor 2 per step


# --------------------------------------------------------------------------- holdout

def test_holdout_is_stratified_disjoint_and_complete():
    y = np.r_[np.zeros(90), np.ones(30)].astype(int)
    val, evaluated = holdout_validation(len(y), y, 0.1, seed=3)
    assert np.sum(y[val] == 0) == 9 and np.sum(y[val] == 1) == 3
    assert len(np.intersect1d(val, evaluated)) == 0
    assert np.array_equal(np.sort(np.r_[val, evaluated]), np.arange(len(y)))


def test_holdout_depends_on_the_seed_only():
    y = np.r_[np.zeros(90), np.ones(30)].astype(int)
    first, _ = holdout_validation(len(y), y, 0.1, seed=3)
    again, _ = holdout_validation(len(y), y, 0.1, seed=3)
    other, _ = holdout_validation(len(y), y, 0.1, seed=4)
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_holdout_keeps_a_lone_anomaly_for_the_evaluation():
    y = np.r_[np.zeros(20), np.ones(1)].astype(int)
    val, evaluated = holdout_validation(len(y), y, 0.1, seed=0)
    assert 20 in evaluated and np.all(y[val] == 0) and len(val) == 2


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_holdout_rejects_bad_fractions(fraction):
    with pytest.raises(OcbenchError, match="validation_fraction"):
        holdout_validation(10, np.zeros(10), fraction, 0)


# --------------------------------------------------------------------------- easy problem

@pytest.mark.parametrize("make", [lambda: OCSVM(), lambda: IsolationForest(), lambda: KDE()])
def test_each_detector_separates_an_easy_problem(blobs, make):
    x_train, x_test, y_test = blobs
    detector = make()
    if getattr(detector, "uses_validation", False):
        (x_val, y_val), (x_test, y_test) = split_test(x_test, y_test)
        detector.fit(x_train, None, x_val, y_val)
    else:
        detector.fit(x_train)
    scores = detector.decision_function(x_test)
    assert scores.shape == (len(x_test),)
    assert roc_auc_score(y_test, scores) > 0.9
    predicted = detector.predict(x_test)
    assert predicted[y_test == 1].mean() > 0.9  # the far anomalies are flagged


def test_inputs_of_any_shape_are_flattened(blobs):
    x_train, x_test, _ = blobs
    flat = IsolationForest(seed=1).fit(x_train).decision_function(x_test)
    shaped = IsolationForest(seed=1).fit(x_train.reshape(-1, 1, 2, 5)).decision_function(x_test.reshape(-1, 1, 2, 5))
    assert np.array_equal(flat, shaped)


# --------------------------------------------------------------------------- OC-SVM

def test_ocsvm_picks_the_grid_gamma_of_best_validation_auc(blobs):
    x_train, x_test, y_test = blobs
    (x_val, y_val), _ = split_test(x_test, y_test)
    detector = OCSVM().fit(x_train, None, x_val, y_val)
    # the same AUCs computed directly with scikit-learn
    expected = [roc_auc_score(y_val, -OneClassSVM(nu=0.1, gamma=g).fit(x_train).decision_function(x_val))
                for g in DEFAULT_GAMMAS]
    assert np.allclose(detector.validation_aucs_, expected)
    assert detector.gamma_ == DEFAULT_GAMMAS[int(np.argmax(expected))]
    assert detector.validation_auc_ == max(expected)
    assert detector.gamma_selection_ == "validation AUC"


def test_ocsvm_fits_on_the_training_data_only(blobs):
    # The validation set chooses gamma and nothing else: the fitted SVM is the plain
    # SVM of the training data at that gamma.
    x_train, x_test, y_test = blobs
    (x_val, y_val), (x_eval, _) = split_test(x_test, y_test)
    detector = OCSVM().fit(x_train, None, x_val, y_val)
    plain = OneClassSVM(nu=0.1, gamma=detector.gamma_).fit(x_train)
    assert np.allclose(detector.decision_function(x_eval), -plain.decision_function(x_eval))
    # without a validation set, the threshold is the SVM's own boundary
    unvalidated = OCSVM().fit(x_train)
    assert unvalidated.threshold_ == 0.0 and unvalidated.threshold_source_ == "boundary"
    assert np.array_equal(unvalidated.predict(x_eval),
                          (OneClassSVM(nu=0.1, gamma="scale").fit(x_train).predict(x_eval) == -1).astype(int))


def test_ocsvm_threshold_flags_the_nu_share_of_held_out_normals_where_its_boundary_flags_all():
    # gamma 1 on 10-D standard normal data: the boundary encloses the training points
    # only, and every held-out normal sample falls outside it.
    rng = np.random.default_rng(0)
    x_train, x_val_normal, x_normal = (rng.normal(0.0, 1.0, (n, 10)) for n in (200, 200, 400))
    anomalies = rng.normal(6.0, 1.0, (60, 10))
    x_val, y_val = np.concatenate([x_val_normal, anomalies[:20]]), np.r_[np.zeros(200), np.ones(20)].astype(int)
    detector = OCSVM(nu=0.1, gammas=[1.0]).fit(x_train, None, x_val, y_val)
    assert np.mean(detector.decision_function(x_normal) > 0) == 1.0  # the boundary: all flagged
    assert detector.threshold_source_ == "validation normals"
    assert detector.threshold_ == pytest.approx(np.quantile(detector.decision_function(x_val_normal), 0.9))
    assert 0.04 <= np.mean(detector.predict(x_normal)) <= 0.2  # about nu = 0.1 of new normal data
    assert np.mean(detector.predict(anomalies[20:])) == 1.0


def test_ocsvm_selection_follows_the_validation_set():
    # Two validation sets that disagree: one whose anomalies are far points (a wide
    # kernel ranks them well), one whose anomalies sit in a hole in the middle of a
    # ring of normal data (only a narrow kernel sees the hole).
    rng = np.random.default_rng(0)
    angles = rng.uniform(0, 2 * np.pi, 300)
    ring = np.c_[np.cos(angles), np.sin(angles)] * 3 + rng.normal(0, 0.1, (300, 2))
    normal_val = ring[:40] + rng.normal(0, 0.05, (40, 2))
    far, hole = rng.normal(0, 0.3, (20, 2)) + 12, rng.normal(0, 0.3, (20, 2))
    grid = [2.0 ** -7, 2.0]
    y_val = np.r_[np.zeros(40), np.ones(20)].astype(int)
    wide = OCSVM(gammas=grid).fit(ring[40:], None, np.r_[normal_val, far], y_val)
    narrow = OCSVM(gammas=grid).fit(ring[40:], None, np.r_[normal_val, hole], y_val)
    assert narrow.gamma_ == 2.0
    assert narrow.validation_aucs_[1] > narrow.validation_aucs_[0]
    # both widths rank the far points perfectly: a tie goes to the first grid value
    assert wide.validation_aucs_ == (1.0, 1.0) and wide.gamma_ == 2.0 ** -7
    # and the record says the choice was a tie
    assert (wide.validation_ties_, narrow.validation_ties_) == (2, 1)


def test_ocsvm_without_validation_falls_back_to_scale(blobs):
    x_train, x_test, _ = blobs
    detector = OCSVM().fit(x_train)
    assert detector.gamma_selection_ == "scale (no validation set)"
    assert detector.gamma_ == pytest.approx(1.0 / (10 * x_train.astype(np.float64).var()))
    assert detector.validation_auc_ is None
    one_class = OCSVM().fit(x_train, None, x_test[:5], np.zeros(5, dtype=int))
    assert one_class.gamma_selection_ == "scale (validation set has one class)"


def test_scale_gamma_by_hand():
    # values 0, 2 in 2 features: variance 1 -> 1 / (2 * 1)
    assert scale_gamma(np.array([[0.0, 0.0], [2.0, 2.0]])) == 0.5
    assert scale_gamma(np.ones((3, 2))) == 1.0


@pytest.mark.parametrize("X_val, y_val, match", [
    (np.zeros((4, 10)), None, "both X_val and y_val"),
    (np.zeros((4, 10)), [0, 1, 2, 0], "0 \\(normal\\) or 1"),
    (np.zeros((4, 3)), [0, 1, 1, 0], "3 features"),
    (np.zeros((4, 10)), [0, 1], "2 labels but X_val has 4"),
])
def test_bad_validation_sets_raise(blobs, X_val, y_val, match):
    with pytest.raises(OcbenchError, match=match):
        OCSVM().fit(blobs[0], None, X_val, y_val)


# --------------------------------------------------------------------------- Isolation Forest

def test_isolation_forest_is_seeded(blobs):
    x_train, x_test, _ = blobs
    first = IsolationForest(seed=5).fit(x_train).decision_function(x_test)
    again = IsolationForest(seed=5).fit(x_train).decision_function(x_test)
    other = IsolationForest(seed=6).fit(x_train).decision_function(x_test)
    assert np.array_equal(first, again) and not np.allclose(first, other)


def test_isolation_forest_threshold_is_the_contamination_quantile(blobs):
    x_train, x_test, _ = blobs
    detector = IsolationForest(contamination=0.2, seed=2).fit(x_train)
    assert np.mean(detector.decision_function(x_train) > detector.threshold_) == pytest.approx(0.2, abs=0.01)
    reference = SklearnIsolationForest(n_estimators=100, max_samples=200, contamination=0.2,
                                       random_state=2).fit(x_train)
    assert np.array_equal(detector.predict(x_test), (reference.predict(x_test) == -1).astype(int))


# --------------------------------------------------------------------------- KDE

def test_kde_bandwidth_is_the_grid_value_of_best_cross_validated_likelihood(blobs):
    x_train, _, _ = blobs
    detector = KDE().fit(x_train)
    assert detector.bandwidth_ in DEFAULT_BANDWIDTHS
    assert detector.bandwidth_ == DEFAULT_BANDWIDTHS[int(np.argmax(detector.cv_log_likelihoods_))]
    assert np.mean(detector.decision_function(x_train) > detector.threshold_) == pytest.approx(0.1, abs=0.01)


def test_kde_is_deterministic_with_the_seed(blobs):
    x_train, x_test, _ = blobs
    first = KDE(bandwidths=[0.5, 1.0, 2.0], seed=3).fit(x_train)
    again = KDE(bandwidths=[0.5, 1.0, 2.0], seed=3).fit(x_train)
    assert first.cv_log_likelihoods_ == again.cv_log_likelihoods_
    assert np.array_equal(first.decision_function(x_test), again.decision_function(x_test))


def test_kde_score_is_minus_the_log_density():
    # one training point at 0, bandwidth 1, 1-D: log density at x is -x^2/2 - log(sqrt(2 pi))
    detector = KDE(bandwidths=[1.0], cv_folds=2).fit(np.zeros((2, 1)))
    x = np.array([[0.0], [1.0], [2.0]])
    assert np.allclose(detector.decision_function(x), x[:, 0] ** 2 / 2 + 0.5 * np.log(2 * np.pi))


# --------------------------------------------------------------------------- bad parameters

NOT_AN_ARRAY = object()  # fitting on it would fail: the parameter check must come first


@pytest.mark.parametrize("detector, match", [
    (OCSVM(nu=0.0), "nu"), (OCSVM(nu=1.0), "nu"), (OCSVM(nu=1.5), "nu"),
    (OCSVM(gammas=[]), "gammas"), (OCSVM(gammas=[0.1, -1.0]), "gammas"), (OCSVM(gammas=[float("inf")]), "gammas"),
    (IsolationForest(n_estimators=0), "n_estimators"), (IsolationForest(max_samples=2.5), "max_samples"),
    (IsolationForest(contamination=0.7), "contamination"), (IsolationForest(contamination=0), "contamination"),
    (KDE(bandwidths=[]), "bandwidths"), (KDE(bandwidths=[0.0]), "bandwidths"), (KDE(cv_folds=1), "cv_folds"),
])
def test_bad_parameters_raise_before_fitting(detector, match):
    with pytest.raises(OcbenchError, match=match):
        detector.fit(NOT_AN_ARRAY)


def test_predict_before_fit_raises():
    with pytest.raises(NotFittedError, match="not fitted"):
        OCSVM().predict(np.zeros((2, 3)))


# --------------------------------------------------------------------------- registry

@pytest.mark.parametrize("name, cls, hybrid", [
    ("ocsvm", OCSVM, False), ("isoforest", IsolationForest, False), ("kde", KDE, False), ("ssad", SSAD, False),
    ("ocsvm_hybrid", OCSVM, True), ("isoforest_hybrid", IsolationForest, True), ("kde_hybrid", KDE, True),
    ("ssad_hybrid", SSAD, True),
])
def test_registry_builds_the_shallow_methods(name, cls, hybrid):
    spec = METHODS[name]
    detector = spec.factory({}, net="mnist_lenet", device="cpu", seed=7, autoencoder=None)
    assert type(detector) is cls and spec.detector is cls and detector.seed == 7
    assert spec.hybrid is hybrid and spec.pretrained is hybrid and not spec.deep
    assert not spec.needs_labels  # SSAD without labels is SVDD (the Deep SAD paper's gamma_l = 0)


def test_a_shallow_method_does_not_import_torch():
    # A shallow job pays only for scikit-learn: the registry imports detector modules lazily.
    import subprocess
    import sys

    code = ("import sys, numpy as np; from ocbench.detectors import method_spec; "
            "d = method_spec('isoforest').factory({}, net=None, device='cpu', seed=1, autoencoder=None); "
            "d.fit(np.random.default_rng(0).normal(size=(50, 3))); "
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("make", [lambda cap, seed: OCSVM(max_train_samples=cap, seed=seed),
                                  lambda cap, seed: KDE(bandwidths=[1.0], cv_folds=2, max_train_samples=cap, seed=seed)],
                         ids=["ocsvm", "kde"])
def test_max_train_samples_fits_on_a_seeded_subsample(make, blobs):
    x_train, x_test, _ = blobs
    capped = make(50, 3).fit(x_train)
    assert capped.n_train_used_ == 50
    assert np.array_equal(capped.decision_function(x_test), make(50, 3).fit(x_train).decision_function(x_test))
    assert not np.array_equal(capped.decision_function(x_test), make(50, 4).fit(x_train).decision_function(x_test))
    whole = make(None, 3).fit(x_train)
    assert whole.n_train_used_ == len(x_train)
    assert np.array_equal(whole.decision_function(x_test), make(10_000, 3).fit(x_train).decision_function(x_test))
    with pytest.raises(OcbenchError, match="max_train_samples"):
        make(0, 3).fit(x_train)
