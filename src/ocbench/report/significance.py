"""Which differences between methods are real: average ranks, the Friedman test and a post-hoc
test over cells (Demšar 2006; Benavoli, Corani and Mangili 2016), and the paired test over seeds
that marks the methods of a table's row that are not significantly worse than its best.

Plain numbers in, numbers out: ``ranks.py`` turns runs into the matrices these functions take.
A matrix is ``cells × methods`` with higher = better (AUROC); the post-hoc p-values come from
scikit-posthocs, the Holm correction from statsmodels.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import check_choice, check_open_unit

#: the post-hoc tests the config may name (``statistics.posthoc``)
POSTHOC_TESTS = ("wilcoxon_holm", "nemenyi")
#: the post-hoc tests in words, for captions and the summary
POSTHOC_NAMES = {"wilcoxon_holm": "Wilcoxon signed-rank tests, Holm-corrected",
                 "nemenyi": "Nemenyi test"}
#: fewer cells than this, or fewer methods: no test (Demšar's χ² approximation needs a few cells,
#: and with fewer than 5 a Wilcoxon signed-rank test cannot reach p < 0.05 at all: 2/2⁵ > 0.05)
MIN_CELLS = 5
MIN_METHODS = 2
#: from this many seeds a row's methods are compared by the Wilcoxon signed-rank test, below it by
#: the paired t-test: with 5 seeds the smallest one-sided Wilcoxon p-value is 1/2⁵ ≈ 0.031, which
#: Holm's correction over two other methods already lifts to 0.0625, so with fewer seeds the
#: rank test could never mark a difference
WILCOXON_FROM_SEEDS = 6


def check_statistics(significance_level: float, posthoc: str) -> None:
    """Raise ``OcbenchError`` unless 0 < ``significance_level`` < 1 and ``posthoc`` is known."""
    check_open_unit("significance level", significance_level)
    check_choice("post-hoc test", posthoc, POSTHOC_TESTS)


def average_ranks(matrix: np.ndarray) -> np.ndarray:
    """Each method's rank in each cell (1 = the highest value; tied values share the average of
    their ranks), averaged over the cells."""
    return stats.rankdata(-np.asarray(matrix, dtype=float), axis=1, method="average").mean(axis=0)


def friedman(mean_ranks: np.ndarray, n_cells: int) -> tuple[float, float, float, float]:
    """``(χ²_F, its p-value, Iman–Davenport's F_F, its p-value)`` from the average ranks of ``k``
    methods over ``n_cells`` cells (Demšar 2006, section 3.2.2).

    χ²_F = 12 N / (k (k+1)) · (Σ R_j² − k (k+1)² / 4) on k − 1 degrees of freedom, as Demšar writes it:
    without the correction for ties (which divides by a factor ≤ 1, so leaving it out is the
    conservative side). F_F = (N − 1) χ²_F / (N (k − 1) − χ²_F) on (k − 1, (k − 1)(N − 1)) degrees of
    freedom; it is infinite when every cell ranks the methods alike.
    """
    k, n = len(mean_ranks), n_cells
    chi2 = 12.0 * n / (k * (k + 1)) * (float(np.sum(np.square(mean_ranks))) - k * (k + 1) ** 2 / 4.0)
    chi2 = max(chi2, 0.0)  # rounding may leave -1e-15 where every rank is equal
    chi2_p = float(stats.chi2.sf(chi2, k - 1))
    denominator = n * (k - 1) - chi2
    if denominator <= 1e-12 * n * k:
        return chi2, chi2_p, float("inf"), 0.0
    f = (n - 1) * chi2 / denominator
    return chi2, chi2_p, f, float(stats.f.sf(f, k - 1, (k - 1) * (n - 1)))


def nemenyi_critical_difference(n_methods: int, n_cells: int, significance_level: float) -> float:
    """Nemenyi's critical difference of average ranks, q_α · sqrt(k (k+1) / (6 N)), where q_α is the
    studentized range's 1 − α quantile for k groups divided by √2 (Demšar 2006, Table 5a)."""
    k = n_methods
    q = stats.studentized_range.ppf(1.0 - significance_level, k, np.inf) / np.sqrt(2.0)
    return float(q * np.sqrt(k * (k + 1) / (6.0 * n_cells)))


def wilcoxon_holm_min_cells(n_methods: int, significance_level: float) -> int:
    """The fewest cells on which the Wilcoxon–Holm test can find any pair of ``n_methods`` different:
    over N cells the smallest exact two-sided p-value is 2/2^N (one method ahead on every cell), and
    Holm's first step multiplies it by the k (k − 1) / 2 pairs."""
    pairs = n_methods * (n_methods - 1) // 2
    n = 1
    while pairs * 2.0 / 2.0 ** n >= significance_level:
        n += 1
    return n


def posthoc_p_values(matrix: np.ndarray, posthoc: str) -> np.ndarray:
    """The ``k × k`` matrix of pairwise p-values (1 on the diagonal) of the post-hoc test.

    ``wilcoxon_holm``: a two-sided Wilcoxon signed-rank test per pair of methods over the cells,
    zero differences split between the signs as Demšar (2006) does, the p-values Holm-corrected
    over all pairs. ``nemenyi``: the p-value of each difference of average ranks under Nemenyi's
    test (below α exactly where the difference exceeds ``nemenyi_critical_difference``).
    """
    import scikit_posthocs as sp

    matrix = np.asarray(matrix, dtype=float)
    with warnings.catch_warnings():  # scipy warns that exact p-values are impossible with ties
        warnings.simplefilter("ignore", UserWarning)
        if posthoc == "nemenyi":
            p = sp.posthoc_nemenyi_friedman(matrix)
        else:
            p = sp.posthoc_wilcoxon(list(matrix.T), zero_method="zsplit", p_adjust="holm")
    return p.to_numpy(dtype=float)


def letter_groups(p_values: np.ndarray, order: list[int], significance_level: float) -> list[str]:
    """The compact letter display of ``p_values`` (Piepho 2004, scikit-posthocs): methods that share
    a letter are not significantly different. ``order``: the methods best first, so that ``a``
    goes to the group of the best."""
    import pandas as pd
    import scikit_posthocs as sp

    ordered = pd.DataFrame(p_values[np.ix_(order, order)])
    letters = sp.compact_letter_display(ordered, alpha=significance_level)
    return [str(letter).replace(" ", "") for letter in letters.iloc[:len(order)]]


@dataclass(frozen=True)
class RankTest:
    """The ranks of ``k`` methods over ``n_cells`` cells and what the tests say of them.

    ``tested`` is false where a test could not run (``reason`` says why); the average ranks are
    then still given where there is a cell. ``rejected``: the Friedman test (by Iman–Davenport's
    F_F, which Demšar recommends over χ²_F) finds a difference; only then does the post-hoc test
    run. ``p_values``: its pairwise p-values (all 1 where Friedman rejects nothing). ``groups``: the
    letters of each method (``letter_groups``), in the methods' order, empty where nothing was tested.
    """
    average_ranks: np.ndarray
    n_cells: int
    significance_level: float
    posthoc: str
    tested: bool
    reason: str = ""
    chi2: float = float("nan")
    chi2_p: float = float("nan")
    iman_davenport: float = float("nan")
    iman_davenport_p: float = float("nan")
    rejected: bool = False
    critical_difference: float = float("nan")
    p_values: np.ndarray | None = None
    groups: tuple[str, ...] = ()


def compare_methods(matrix: np.ndarray, significance_level: float = 0.05,
                    posthoc: str = "wilcoxon_holm") -> RankTest:
    """Average ranks, the Friedman test and, where it rejects, the post-hoc test of a
    ``cells × methods`` matrix without missing values (higher = better)."""
    check_statistics(significance_level, posthoc)
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or np.isnan(matrix).any():
        raise ValueError("compare_methods takes a cells × methods matrix of the cells where every method "
                         "has a result (no NaN)")
    n, k = matrix.shape
    ranks = average_ranks(matrix) if n and k else np.full(k, np.nan)
    untested = dict(average_ranks=ranks, n_cells=n, significance_level=significance_level, posthoc=posthoc,
                    tested=False)
    if k < MIN_METHODS:
        return RankTest(**untested, reason=f"{k} method{'s' if k != 1 else ''}: nothing to compare")
    if n < MIN_CELLS:
        return RankTest(**untested, reason=f"{n} cell{'s' if n != 1 else ''} where every method has a result; "
                                           f"the tests need at least {MIN_CELLS}")
    chi2, chi2_p, f, f_p = friedman(ranks, n)
    rejected = f_p < significance_level
    p_values = posthoc_p_values(matrix, posthoc) if rejected else np.ones((k, k))
    order = [int(i) for i in np.argsort(ranks, kind="stable")]
    letters = letter_groups(p_values, order, significance_level)
    groups = [""] * k
    for position, method in enumerate(order):
        groups[method] = letters[position]
    cd = nemenyi_critical_difference(k, n, significance_level) if posthoc == "nemenyi" else float("nan")
    return RankTest(ranks, n, significance_level, posthoc, True, chi2=chi2, chi2_p=chi2_p, iman_davenport=f,
                    iman_davenport_p=f_p, rejected=rejected, critical_difference=cd, p_values=p_values,
                    groups=tuple(groups))


# --------------------------------------------------------------------------- one row of a table, over seeds

@dataclass(frozen=True)
class RowMarks:
    """The methods of one table row that are not significantly worse than its best.

    ``best``: the column with the highest mean (None where no column has a value). ``p_values``:
    each other method's Holm-adjusted one-sided p-value against the best (NaN for the best and
    for a method with fewer than two seeds in common with it). ``tests``: the test each method got
    (``wilcoxon``, ``t-test`` or ``""``). ``not_worse``: tested and p ≥ α.
    """
    best: int | None
    p_values: np.ndarray
    tests: tuple[str, ...]
    not_worse: np.ndarray


def paired_one_sided_p(best: np.ndarray, other: np.ndarray) -> tuple[float, str]:
    """The p-value of "``other`` is worse than ``best``" over paired seeds, and the test's name: the
    Wilcoxon signed-rank test from ``WILCOXON_FROM_SEEDS`` pairs, the paired t-test below. Pairs that
    do not differ at all give p = 1 (the tests are undefined there, and nothing is worse)."""
    difference = np.asarray(best, dtype=float) - np.asarray(other, dtype=float)
    if not difference.any():
        return 1.0, "wilcoxon" if len(difference) >= WILCOXON_FROM_SEEDS else "t-test"
    with warnings.catch_warnings():  # constant differences: scipy warns of precision loss
        warnings.simplefilter("ignore", RuntimeWarning)
        if len(difference) >= WILCOXON_FROM_SEEDS:
            p, test = stats.wilcoxon(difference, zero_method="zsplit", alternative="greater").pvalue, "wilcoxon"
        else:
            p, test = stats.ttest_rel(best, other, alternative="greater").pvalue, "t-test"
    return (1.0 if np.isnan(p) else float(p)), test


def row_marks(values: np.ndarray, significance_level: float = 0.05) -> RowMarks:
    """Which methods of a row are not significantly worse than its best over the seeds.

    ``values``: ``seeds × methods`` (NaN where a seed has no result). The best is the method with
    the highest mean; each other method is compared with it on the seeds both have
    (``paired_one_sided_p``), and the p-values are Holm-corrected across the row's methods.
    """
    from statsmodels.stats.multitest import multipletests

    check_open_unit("significance level", significance_level)
    values = np.asarray(values, dtype=float)
    k = values.shape[1]
    p_values, tests = np.full(k, np.nan), [""] * k
    has_value = ~np.isnan(values).all(axis=0)
    if not has_value.any():
        return RowMarks(None, p_values, tuple(tests), np.zeros(k, bool))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        means = np.nanmean(values, axis=0)
    best = int(np.nanargmax(np.where(has_value, means, np.nan)))
    for j in range(k):
        paired = ~np.isnan(values[:, best]) & ~np.isnan(values[:, j])
        if j != best and paired.sum() >= 2:
            p_values[j], tests[j] = paired_one_sided_p(values[paired, best], values[paired, j])
    tested = ~np.isnan(p_values)
    if tested.any():
        p_values[tested] = multipletests(p_values[tested], alpha=significance_level, method="holm")[1]
    return RowMarks(best, p_values, tuple(tests), tested & (p_values >= significance_level))
