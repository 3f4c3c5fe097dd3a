import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics.pairwise import rbf_kernel

from ocbench.data.splits import holdout_validation
from ocbench.detectors.shallow import DEFAULT_GAMMAS
from ocbench.detectors.ssad import (SSAD, check_feasible, max_labelled_weight, offset_is_free, sample_signs,
                                    solve_ssad_dual, training_subset)
from ocbench.errors import OcbenchError

TOL = 1e-4  # the interior-point solver's accuracy on these small problems


@pytest.fixture
def labelled_problem():
    """150 normal points (15 known normal), 10 known anomalies from a shifted blob, 5-D."""
    rng = np.random.default_rng(1)
    normal = rng.normal(0.0, 1.0, size=(150, 5))
    anomalies = rng.normal(2.5, 1.0, size=(10, 5))
    X = np.r_[normal, anomalies]
    semi = np.zeros(160, dtype=int)
    semi[:15] = 1
    semi[150:] = -1
    return X, semi


def check_kkt(kernel, semi, kappa, C, solution):
    """The dual constraints, and complementary slackness tying rho and m to the alphas."""
    alpha, signs = solution.alpha, sample_signs(semi)
    labelled = semi != 0
    f = kernel @ (alpha * signs)
    assert np.all(alpha >= -TOL) and np.all(alpha <= C + TOL)             # box
    assert np.sum(signs * alpha) == pytest.approx(1.0, abs=TOL)           # equality
    if labelled.any():
        assert np.sum(alpha[labelled]) >= kappa - TOL                     # kappa constraint
    # primal margins: unlabeled s(f - rho) >= -xi, labelled s(f - rho) >= m - xi
    slack = signs * (f - solution.rho) - np.where(labelled, solution.margin, 0.0)
    free = (alpha > 1e-3 * C) & (alpha < C * (1 - 1e-3))
    inactive = alpha < 1e-7
    assert free.any()
    assert np.allclose(slack[free], 0.0, atol=1e-3)        # margin support vectors sit on the margin
    assert np.all(slack[inactive] >= -1e-3)                 # alpha = 0: on the right side
    assert np.all(slack[alpha > C * (1 - 1e-6)] <= 1e-3)    # alpha = C: on the wrong side (xi > 0)


# --------------------------------------------------------------------------- the QP

@pytest.mark.parametrize("kappa, C", [(1.0, 1.0), (0.0, 1.0), (1.0, 0.05), (3.0, 1.0)])
def test_solution_satisfies_the_qp_conditions(labelled_problem, kappa, C):
    X, semi = labelled_problem
    kernel = rbf_kernel(X, gamma=0.1)
    solution = solve_ssad_dual(kernel, semi, kappa, C)
    assert solution.status == "optimal"
    check_kkt(kernel, semi, kappa, C, solution)


def test_without_labels_the_kappa_constraint_is_dropped(labelled_problem):
    X, _ = labelled_problem
    semi = np.zeros(len(X), dtype=int)
    kernel = rbf_kernel(X, gamma=0.1)
    solution = solve_ssad_dual(kernel, semi, 5.0, 0.1)
    assert solution.margin == 0.0
    check_kkt(kernel, semi, 0.0, 0.1, solution)
    detector = SSAD(kappa=5.0, gammas=[0.1]).fit(X)
    assert detector.kappa_used_ == 0.0


def test_kappa_changes_the_solution(labelled_problem):
    X, semi = labelled_problem
    kernel = rbf_kernel(X, gamma=0.1)
    small = solve_ssad_dual(kernel, semi, 0.5, 1.0)
    large = solve_ssad_dual(kernel, semi, 3.0, 1.0)
    assert np.sum(large.alpha[semi != 0]) >= 3.0 - TOL
    assert np.sum(small.alpha[semi != 0]) < 2.0
    assert not np.allclose(small.alpha, large.alpha, atol=1e-3)
    assert large.margin > small.margin   # a larger reward for the margin widens it
    scores = [SSAD(kappa=k, gammas=[0.1]).fit(X, semi).decision_function(X[:20]) for k in (0.5, 3.0)]
    assert not np.allclose(*scores)


def test_kappa_one_with_known_normals_only_fixes_the_free_offset(labelled_problem):
    # kappa = 1 and no known anomalies: the unlabeled samples get no weight and rho is
    # free on a half-line; the tightest end keeps every unlabeled training sample inside.
    X, semi = labelled_problem
    semi = np.where(semi == -1, 0, semi)
    assert offset_is_free(semi, 1.0) and not offset_is_free(semi, 0.5)
    assert not offset_is_free(np.r_[semi, -1], 1.0) and not offset_is_free(np.zeros(5), 1.0)
    kernel = rbf_kernel(X, gamma=0.1)
    solution = solve_ssad_dual(kernel, semi, 1.0, 1.0)
    assert np.sum(solution.alpha[semi == 0]) < TOL
    check_kkt(kernel, semi, 1.0, 1.0, solution)
    f = kernel @ (solution.alpha * sample_signs(semi))
    assert solution.margin >= 0
    assert solution.rho == pytest.approx(min(f[semi == 0].min(), solution.rho + solution.margin))
    # below kappa = 1 the unlabeled samples share the weight
    assert np.sum(solve_ssad_dual(kernel, semi, 0.5, 1.0).alpha[semi == 0]) == pytest.approx(0.5, abs=TOL)


def test_max_labelled_weight_by_hand():
    # 10 unlabeled, 2 known anomalies, C = 1: a_n = min(2, 10 - 1) = 2, a_p = 0 -> 2
    assert max_labelled_weight(10, 0, 2, 1.0) == 2.0
    # 200 unlabeled, 10 + 10 labelled, C = 0.02: a_n = min(0.2, 4.2 - 1) = 0.2,
    # a_p = min(0.2, 1.2) = 0.2 -> 0.4
    assert max_labelled_weight(200, 10, 10, 0.02) == pytest.approx(0.4)
    # 3 known normals only, C = 1: a_u + a_p = 1, so the labelled sum is at most 1
    assert max_labelled_weight(5, 3, 0, 1.0) == 1.0


def test_infeasible_kappa_or_C_raises_before_solving(labelled_problem):
    X, semi = labelled_problem
    with pytest.raises(OcbenchError, match="kappa=1.0 is infeasible"):
        check_feasible(semi, 1.0, 0.02)
    with pytest.raises(OcbenchError, match="C=0.001 is too small"):
        check_feasible(semi, 0.0, 0.001)
    with pytest.raises(OcbenchError, match="infeasible"):
        SSAD(kappa=50.0).fit(X, semi)


# --------------------------------------------------------------------------- the detector

def test_ssad_separates_an_easy_problem(blobs):
    x_train, x_test, y_test = blobs
    semi = np.zeros(len(x_train), dtype=int)
    semi[:20] = 1
    val_idx, eval_idx = holdout_validation(len(y_test), y_test, 0.25, 0)
    detector = SSAD().fit(x_train, semi, x_test[val_idx], y_test[val_idx])
    scores = detector.decision_function(x_test[eval_idx])
    assert roc_auc_score(y_test[eval_idx], scores) > 0.9
    assert detector.threshold_ == 0.0
    assert detector.predict(x_test[eval_idx])[y_test[eval_idx] == 1].mean() > 0.9


def test_gamma_is_chosen_on_the_validation_set(labelled_problem):
    X, semi = labelled_problem
    rng = np.random.default_rng(2)
    x_val = np.r_[rng.normal(0, 1, (20, 5)), rng.normal(2.5, 1, (10, 5))]
    y_val = np.r_[np.zeros(20), np.ones(10)].astype(int)
    detector = SSAD().fit(X, semi, x_val, y_val)
    assert len(detector.validation_aucs_) == len(DEFAULT_GAMMAS)
    assert detector.gamma_ == DEFAULT_GAMMAS[int(np.argmax(detector.validation_aucs_))]
    assert detector.gamma_selection_ == "validation AUC"
    # the AUC recorded for the chosen gamma is the one a fresh fit at that gamma gives
    alone = SSAD(gammas=[detector.gamma_]).fit(X, semi, x_val, y_val)
    assert alone.validation_auc_ == pytest.approx(detector.validation_auc_)
    assert np.allclose(alone.decision_function(X), detector.decision_function(X))
    fallback = SSAD().fit(X, semi)
    assert fallback.gamma_selection_ == "scale (no validation set)"


def test_labelled_anomalies_are_pushed_outside_the_boundary(labelled_problem):
    X, semi = labelled_problem
    unlabeled = np.where(semi == -1, 0, semi)
    with_labels = SSAD(gammas=[0.1]).fit(X, semi)
    without = SSAD(gammas=[0.1]).fit(X, unlabeled)
    known = semi == -1
    # labelled: the known anomalies end outside (score > 0) and score higher than before
    assert np.mean(with_labels.decision_function(X[known]) > 0) >= 0.9
    assert np.mean(with_labels.decision_function(X[known])) > np.mean(without.decision_function(X[known]))
    # and the boundary now excludes new anomalies from the same blob, where without the
    # labels it encloses the (unlabeled) pollution and them with it
    rng = np.random.default_rng(5)
    new_normal, new_anomalies = rng.normal(0, 1, (30, 5)), rng.normal(2.5, 1, (30, 5))
    assert with_labels.predict(new_anomalies).mean() > 0.8
    assert without.predict(new_anomalies).mean() < 0.2
    assert with_labels.predict(new_normal).mean() < 0.2


def test_ssad_is_deterministic_with_the_seed(labelled_problem):
    X, semi = labelled_problem
    first = SSAD(gammas=[0.1], max_train_samples=100, seed=4).fit(X, semi)
    again = SSAD(gammas=[0.1], max_train_samples=100, seed=4).fit(X, semi)
    other = SSAD(gammas=[0.1], max_train_samples=100, seed=5).fit(X, semi)
    assert np.array_equal(first.decision_function(X), again.decision_function(X))
    assert not np.array_equal(first.train_index_, other.train_index_)


def test_large_training_sets_are_subsampled_labelled_first(labelled_problem):
    X, semi = labelled_problem
    detector = SSAD(gammas=[0.1], max_train_samples=60, seed=0).fit(X, semi)
    assert detector.n_train_used_ == 60 and len(detector.dual_coef_) == 60
    kept = semi[detector.train_index_]
    assert np.sum(kept == 1) == 15 and np.sum(kept == -1) == 10   # every labelled sample kept
    # more labelled samples than room: a random share of them, nothing else
    only_labelled = training_subset(semi, 20, seed=0)
    assert len(only_labelled) == 20 and np.all(semi[only_labelled] != 0)
    assert np.array_equal(training_subset(semi, 500, seed=0), np.arange(len(semi)))


def test_images_are_flattened(labelled_problem):
    X, semi = labelled_problem
    X = X[:, :4]
    flat = SSAD(gammas=[0.2]).fit(X, semi).decision_function(X)
    shaped = SSAD(gammas=[0.2]).fit(X.reshape(-1, 1, 2, 2), semi).decision_function(X.reshape(-1, 1, 2, 2))
    assert np.allclose(flat, shaped)


NOT_AN_ARRAY = object()  # fitting on it would fail: the parameter check must come first


@pytest.mark.parametrize("detector, match", [
    (SSAD(kappa=-1.0), "kappa"), (SSAD(kappa=0.0), "kappa must be a number > 0"), (SSAD(kappa=float("nan")), "kappa"), (SSAD(C=0.0), "C must be a number > 0"),
    (SSAD(gammas=[]), "gammas"), (SSAD(gammas=[-0.5]), "gammas"), (SSAD(max_train_samples=0), "max_train_samples"),
])
def test_bad_parameters_raise_before_fitting(detector, match):
    with pytest.raises(OcbenchError, match=match):
        detector.fit(NOT_AN_ARRAY)


def test_bad_semi_labels_raise(labelled_problem):
    X, semi = labelled_problem
    with pytest.raises(OcbenchError, match="semi-labels"):
        SSAD(gammas=[0.1]).fit(X, np.where(semi == -1, 2, semi))
