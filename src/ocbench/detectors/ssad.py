"""Semi-supervised anomaly detection, SSAD (Görnitz et al., JAIR 2013): the convex QP.

Primal, with f(x) = <w, phi(x)>, semi-labels y (+1 known normal, 0 unlabeled, -1 known
anomaly), s_i = -1 for known anomalies and +1 otherwise, l_i = 1 for labelled samples:

    minimise    1/2 ||w||^2 - rho - kappa * m + C * sum_i xi_i
    subject to  s_i f(x_i) >= s_i rho + l_i m - xi_i,   xi_i >= 0,   m >= 0

Unlabeled samples should lie inside the boundary f = rho; labelled normals at least
m further inside, labelled anomalies at least m outside; kappa rewards that margin m.
The dual, solved with ``cvxopt.solvers.qp``:

    maximise    -1/2 sum_ij alpha_i alpha_j s_i s_j k(x_i, x_j)
    subject to  0 <= alpha_i <= C,   sum_i s_i alpha_i = 1,   sum_(labelled) alpha_i >= kappa

with f(x) = sum_i alpha_i s_i k(x_i, x). rho and m are the multipliers of the equality
and of the kappa constraint. Score = rho - f(x): higher is more anomalous and the
boundary is 0.

Differences from the Deep SAD reference (``ssad_convex.py``, from the tilitools
package): its wrapper stores kappa but never passes it on, so kappa = 1 always; here
kappa is used. The reference reads rho off the support vectors with a fixed 1e-9
cut-off; here rho is the solver's multiplier, which the KKT conditions tie to the
margin support vectors (a test checks that), except in the one case where rho is not
unique (kappa = 1 with known normals only, ``offset_is_free``), which takes the
tightest optimal rho. The reference builds the full N×N kernel; training sets above
``max_train_samples`` are subsampled by seed, labelled samples first.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from cvxopt import matrix, solvers, sparse, spmatrix
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.utils.validation import check_is_fitted

from ..errors import OcbenchError
from ..hyperparameters import defaults
from . import params
from .base import Detector, semi_labels
from .shallow import (DEFAULT_GAMMAS, GAMMA_SELECTION_ATTRIBUTES, check_validation_set, flatten, grid,
                      select_gamma, training_subset)

log = logging.getLogger("ocbench.detectors.ssad")

#: dual weights at or below this are not support vectors (the reference's cut-off)
SUPPORT_TOLERANCE = 1e-9
#: test rows per kernel block when scoring, so that a large test set needs little memory
SCORE_CHUNK = 2048
#: largest primal infeasibility accepted from a QP that stopped short of 'optimal'
FEASIBILITY_TOLERANCE = 1e-6


@dataclass(frozen=True)
class DualSolution:
    alpha: np.ndarray   # dual weights, one per training sample
    rho: float          # offset: unlabeled margin support vectors have f(x) = rho
    margin: float       # m: the extra margin of the labelled samples
    status: str         # cvxopt's status ('optimal' or 'unknown')


def sample_signs(semi: np.ndarray) -> np.ndarray:
    """s_i: -1 for known anomalies, +1 for known normals and unlabeled samples."""
    return np.where(semi == -1, -1.0, 1.0)


def max_labelled_weight(n_unlabeled: int, n_normal: int, n_anomaly: int, C: float) -> float:
    """The largest sum of labelled alphas the dual constraints allow (kappa must not exceed it).

    With sums a_u, a_p, a_n of the unlabeled, known-normal and known-anomaly alphas:
    a_u + a_p - a_n = 1 with each sum in [0, C·count]. A larger a_n allows a larger
    a_p, so a_n is taken as large as the unlabeled and normal weights can balance.
    """
    a_n = min(C * n_anomaly, C * (n_unlabeled + n_normal) - 1.0)
    return a_n + min(C * n_normal, 1.0 + a_n)


def check_feasible(semi: np.ndarray, kappa: float, C: float) -> None:
    """Raise unless the dual QP has a solution for these semi-labels, kappa and C."""
    n_anomaly, n_normal = int(np.sum(semi == -1)), int(np.sum(semi == 1))
    n_unlabeled = len(semi) - n_anomaly - n_normal
    if C * (n_unlabeled + n_normal) < 1.0:
        raise OcbenchError(f"C={C} is too small for {n_unlabeled + n_normal} unlabeled and known normal "
                           f"samples: C times their number must be at least 1")
    if n_normal + n_anomaly and kappa > max_labelled_weight(n_unlabeled, n_normal, n_anomaly, C):
        limit = max_labelled_weight(n_unlabeled, n_normal, n_anomaly, C)
        raise OcbenchError(f"kappa={kappa} is infeasible with {n_normal + n_anomaly} labelled samples and C={C}; "
                           f"it must be at most {limit:g}")


def solve_ssad_dual(kernel: np.ndarray, semi: np.ndarray, kappa: float, C: float) -> DualSolution:
    """Solve SSAD's dual QP for a training kernel matrix and semi-labels.

    Without labelled samples the kappa constraint is dropped (it could not hold), and
    the problem is a one-class SVM with box C.
    """
    n = len(semi)
    signs = sample_signs(semi)
    labelled = (semi != 0).astype(np.float64)
    # cvxopt minimises 1/2 a'Pa + q'a subject to Ga <= h, Aa = b
    P = matrix(kernel * np.outer(signs, signs))
    q = matrix(0.0, (n, 1))
    identity = spmatrix(1.0, range(n), range(n))
    rows, bounds = [identity, -identity], [np.full(n, float(C)), np.zeros(n)]
    use_kappa = bool(labelled.any())
    if use_kappa:
        rows.append(matrix(-labelled, (1, n)))       # -sum_labelled alpha <= -kappa
        bounds.append(np.array([-float(kappa)]))
    G, h = sparse(rows), matrix(np.concatenate(bounds))
    A, b = matrix(signs, (1, n)), matrix(1.0)
    solution = solvers.qp(P, q, G, h, A, b, options={"show_progress": False})
    if solution["status"] != "optimal":
        # cvxopt stops at its iteration limit with status 'unknown'; a nearly feasible
        # last iterate is still a usable solution, an infeasible one is not.
        infeasibility = solution["primal infeasibility"]
        if infeasibility is None or infeasibility > FEASIBILITY_TOLERANCE:
            raise OcbenchError(f"the SSAD QP found no feasible solution (cvxopt status {solution['status']!r}, "
                               f"primal infeasibility {infeasibility}); try a larger C or a smaller kappa")
        log.warning("SSAD QP stopped with status %r; using its nearly feasible last iterate", solution["status"])
    # KKT: P a + A'y + G'z = 0. For an unlabeled alpha strictly inside its box this reads
    # f(x_i) + y = 0, so rho = -y; for a labelled one, s_i (f(x_i) - rho) = z_kappa = m.
    rho = -float(solution["y"][0])
    margin = float(solution["z"][2 * n]) if use_kappa else 0.0
    alpha = np.asarray(solution["x"]).ravel()
    if offset_is_free(semi, kappa):
        rho, margin = tightest_offset(kernel @ (alpha * signs), semi, rho + margin)
    return DualSolution(alpha, rho, margin, solution["status"])


def offset_is_free(semi: np.ndarray, kappa: float) -> bool:
    """Whether rho is left undetermined: kappa = 1 with known normals and no known anomalies.

    Then sum_unlabeled alpha + sum_normal alpha = 1 and sum_normal alpha >= 1 give the
    unlabeled samples no weight, and lowering rho while raising m by the same amount
    keeps every constraint and the objective (its change is (kappa - 1)·delta = 0):
    the primal optimum is a half-line, on which the solver stops anywhere.
    """
    return bool(np.any(semi == 1) and not np.any(semi == -1) and abs(kappa - 1.0) < 1e-9)


def tightest_offset(f: np.ndarray, semi: np.ndarray, rho_plus_margin: float) -> tuple[float, float]:
    """(rho, m) at the upper end of the optimal half-line: the limit of kappa -> 1 from below.

    m >= 0 bounds rho by rho + m (fixed by the known normals' margin), and the unlabeled
    samples, which carry no weight and hence no slack, must keep f(x_i) >= rho.
    """
    log.warning("SSAD with kappa = 1 and known normals only gives the unlabeled samples no weight; "
                "kappa < 1 lets them shape the boundary")
    unlabeled = f[semi == 0]
    rho = min(rho_plus_margin, float(unlabeled.min())) if len(unlabeled) else rho_plus_margin
    return rho, rho_plus_margin - rho


def _rbf_kernel(A, B, gamma):
    return rbf_kernel(A, B, gamma=gamma)


@dataclass(frozen=True)
class _Model:
    """One fitted SSAD for one gamma: what scoring needs."""
    gamma: float
    solution: DualSolution
    support_vectors: np.ndarray
    support_coef: np.ndarray     # alpha_i s_i of the support vectors

    def scores(self, X: np.ndarray) -> np.ndarray:
        out = np.empty(len(X))
        for start in range(0, len(X), SCORE_CHUNK):
            block = _rbf_kernel(X[start:start + SCORE_CHUNK], self.support_vectors, self.gamma)
            out[start:start + SCORE_CHUNK] = self.solution.rho - block @ self.support_coef
        return out


_DEFAULT = defaults(params.SSAD)


class SSAD(Detector):
    """Convex SSAD with an RBF kernel; labels are the semi-labels (+1, 0, -1).

    ``fit(X, y, X_val=None, y_val=None)``: gamma is the grid value of highest AUC on the
    labelled validation set (0 normal, 1 anomaly), or ``'scale'`` without one. C bounds
    every dual weight (the reference's Cp = Cu = Cn = 1). ``max_train_samples`` caps the
    QP's size: the kernel is N×N and the solver's work grows as N^3 (3,000 samples take
    a few seconds per gamma and a few hundred MB). ``threshold_`` is 0, the boundary.

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_train_used_,)
        alpha of every training sample used
    train_index_ : ndarray of shape (n_train_used_,)
        the training samples used
    n_train_used_ : int
        how many
    rho_ : float
        the offset
    margin_ : float
        the labelled samples' margin m
    kappa_used_ : float
        kappa, or 0 without labelled samples
    support_vectors_ : ndarray
        the support vectors
    n_support_ : int
        how many
    solver_status_ : str
        cvxopt's status
    """

    uses_labels = True
    uses_validation = True
    hyper_parameters = params.SSAD
    attribute_docs = GAMMA_SELECTION_ATTRIBUTES

    def __init__(self, kappa=_DEFAULT["kappa"], C=_DEFAULT["C"], gammas=_DEFAULT["gammas"],
                 max_train_samples=_DEFAULT["max_train_samples"], seed=0):
        self.kappa = kappa
        self.C = C
        self.gammas = gammas
        self.max_train_samples = max_train_samples
        self.seed = seed

    def fit(self, X, y=None, X_val=None, y_val=None):
        self.check_hyper_parameters()
        gammas = grid(self.gammas, DEFAULT_GAMMAS)
        X_all = flatten(X)
        semi = semi_labels(y, len(X_all))
        validation = check_validation_set(X_val, y_val, X_all.shape[1])
        self.train_index_ = training_subset(semi, self.max_train_samples, self.seed)
        X, semi = X_all[self.train_index_], semi[self.train_index_]
        self.n_train_used_ = len(X)
        self.kappa_used_ = float(self.kappa) if np.any(semi != 0) else 0.0
        check_feasible(semi, self.kappa_used_, float(self.C))
        signs = sample_signs(semi)

        def fit_one(gamma):
            solution = solve_ssad_dual(_rbf_kernel(X, X, gamma), semi, self.kappa_used_, float(self.C))
            support = solution.alpha > SUPPORT_TOLERANCE
            return _Model(float(gamma), solution, X[support], solution.alpha[support] * signs[support])

        model = select_gamma(self, gammas, fit_one, lambda m, x: m.scores(x), X, validation)
        self.model_ = model
        self.dual_coef_ = model.solution.alpha
        self.rho_ = model.solution.rho
        self.margin_ = model.solution.margin
        self.solver_status_ = model.solution.status
        self.support_vectors_ = model.support_vectors
        self.n_support_ = len(model.support_vectors)
        return self.set_training_scores(model.scores(X_all), 0.0)

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self.model_.scores(flatten(X))
