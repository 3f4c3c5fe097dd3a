"""Ranks from runs: cells averaged over seeds, failed runs left out and counted, the cells every
method has, the methods left out of the all-datasets ranks, the groups the workflow expects, the
files of `ocbench ranks`, the summary's section, and the underlined cells of the AUROC tables."""
import math

import numpy as np
import pandas as pd
import pytest

from ocbench.cli import main
from ocbench.report.collect import RUN_COLUMNS
from ocbench.report.rank_layout import ALL_DATASETS, config_rank_groups, rank_figure_name, rank_groups, rank_table_name
from ocbench.report.ranks import cell_aurocs, rank_all, ranks_frame, ranks_latex, read_ranks
from ocbench.report.summary import summary_markdown
from ocbench.report.tables import latex_tables, seed_marks, summarize

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def runs_frame(aurocs: dict, failed=(), setting="one_class") -> pd.DataFrame:
    """A runs.csv as ``collect`` writes it from {(dataset, normal, seed, method): auroc}; the keys in
    ``failed`` are failed runs (no AUROC)."""
    rows = [{"dataset": dataset, "setting": setting, "base_setting": setting, "known": "", "normal": str(normal),
             "seed": seed, "method": method, "device": "cpu", "auroc": auroc, "status": "ok", "reason": "",
             "anomaly_datasets": ""}
            for (dataset, normal, seed, method), auroc in aurocs.items()]
    rows += [{"dataset": dataset, "setting": setting, "base_setting": setting, "known": "", "normal": str(normal),
              "seed": seed, "method": method, "device": "cpu", "auroc": math.nan, "status": "failed",
              "reason": "loss diverged", "anomaly_datasets": ""} for dataset, normal, seed, method in failed]
    return pd.DataFrame(rows).reindex(columns=RUN_COLUMNS)


def planted_runs(n_classes=8, seeds=(1, 2), dataset="mnist5k") -> dict:
    """deep_svdd_oneclass 0.1 above two noise-only methods on every class and seed."""
    rng = np.random.default_rng(5)
    aurocs = {}
    for normal in range(n_classes):
        for seed in seeds:
            for method, shift in (("deep_svdd_oneclass", 0.1), ("ocsvm", 0.0), ("isoforest", 0.0)):
                aurocs[(dataset, normal, seed, method)] = 0.8 + shift + rng.normal(0, 0.01)
    return aurocs


def test_a_cell_averages_the_good_seeds_and_counts_the_failed_runs():
    runs = runs_frame({("wine", 0, 1, "ocsvm"): 0.8, ("wine", 0, 2, "ocsvm"): 0.9, ("wine", 0, 1, "kde"): 0.7},
                      failed=[("wine", 0, 3, "ocsvm")])
    cells = cell_aurocs(runs).set_index("method")
    assert cells.loc["ocsvm", "auroc"] == pytest.approx(0.85) and cells.loc["ocsvm", "n_failed"] == 1
    assert cells.loc["kde", "auroc"] == pytest.approx(0.7) and cells.loc["kde", "n_failed"] == 0


def test_the_planted_method_is_ranked_first_in_its_own_group():
    [group] = rank_all(runs_frame(planted_runs()))
    frame = ranks_frame([group])
    first = frame.iloc[0]
    assert first["label"] == "deep_svdd_oneclass" and first["average_rank"] == 1.0
    assert first["tested"] and first["rejected"] and first["n_cells"] == 8
    assert not set(first["group"]) & set(frame.iloc[1]["group"] + frame.iloc[2]["group"])
    assert frame.iloc[1]["group"] == frame.iloc[2]["group"]
    caption = ranks_latex(frame, "mnist5k", "one_class")
    assert "Methods that share a letter are not significantly different (Wilcoxon signed-rank tests, " \
           r"Holm-corrected, $\alpha = 0.05$)." in caption
    assert "No difference" not in caption and "can differ" not in caption  # 8 cells: 7 are enough for 3


def test_noise_only_methods_are_one_group_without_a_post_hoc_test():
    aurocs = {key: value - (0.1 if key[3] == "deep_svdd_oneclass" else 0.0) for key, value in planted_runs().items()}
    frame = ranks_frame(rank_all(runs_frame(aurocs)))
    assert frame["tested"].all() and not frame["rejected"].any() and frame["group"].eq("a").all()
    assert "No difference at α = 0.05: no post-hoc test, every method in group a." in \
        summary_markdown(runs_frame(aurocs), ranks=frame, versions={"python": "3"})


def test_a_method_missing_from_some_cells_is_compared_on_the_common_cells():
    aurocs = planted_runs(n_classes=7)
    for seed in (1, 2):  # no ocsvm result on classes 0 and 1: every run of them failed
        del aurocs[("mnist5k", 0, seed, "ocsvm")], aurocs[("mnist5k", 1, seed, "ocsvm")]
    failed = [("mnist5k", normal, seed, "ocsvm") for normal in (0, 1) for seed in (1, 2)]
    frame = ranks_frame(rank_all(runs_frame(aurocs, failed)))
    first = frame.iloc[0]
    assert (first["n_cells"], first["n_cells_total"]) == (5, 7)
    assert dict(zip(frame["label"], frame["n_failed_runs"])) == {"deep_svdd_oneclass": 0, "ocsvm": 4,
                                                                   "isoforest": 0}
    caption = ranks_latex(frame, "mnist5k", "one_class")
    assert "Compared on the 5 of 7 cells where every method has a result." in caption
    assert "4 failed runs left out" in caption
    assert "With 5 cells no pair of the 3 methods can differ significantly after Holm's correction (7 needed)." \
        in caption


def test_too_few_cells_give_ranks_and_the_reason_instead_of_a_test():
    frame = ranks_frame(rank_all(runs_frame(planted_runs(n_classes=2))))
    assert not frame["tested"].any() and frame["group"].eq("").all()
    assert frame.iloc[0]["average_rank"] == 1.0
    text = "\n".join(summary_markdown(runs_frame(planted_runs(n_classes=2)), ranks=frame,
                                      versions={"python": "3"}).splitlines())
    assert "No test: 2 cells where every method has a result; the tests need at least 5." in text


def test_over_all_datasets_a_method_not_run_on_every_dataset_is_left_out_by_name():
    aurocs = {**planted_runs(n_classes=4), **planted_runs(n_classes=3, dataset="fmnist")}
    aurocs.update({("mnist5k", normal, seed, "kde"): 0.5 for normal in range(4) for seed in (1, 2)})
    groups = {(g.scope, g.setting): g for g in rank_all(runs_frame(aurocs))}
    assert list(groups) == [("mnist5k", "one_class"), ("fmnist", "one_class"), (ALL_DATASETS, "one_class")]
    everywhere = groups[(ALL_DATASETS, "one_class")]
    assert everywhere.left_out == ("kde",) and "kde" not in everywhere.labels
    assert everywhere.test.n_cells == 7 and everywhere.test.tested
    assert "kde" in groups[("mnist5k", "one_class")].labels


def test_the_workflow_expects_the_groups_the_command_writes():
    config = {"datasets": {"mnist5k": {"settings": ["one_class"]},
                           "wbc": {"settings": ["one_class", "semi_supervised"]},
                           "wine": {"settings": ["semi_supervised"]}}}
    expected = [("mnist5k", "one_class"), ("wbc", "one_class"), ("wbc", "semi_supervised"),
                ("wine", "semi_supervised"), ("all", "one_class"), ("all", "semi_supervised")]
    assert config_rank_groups(config) == expected
    assert rank_groups([("wine", "one_class")]) == [("wine", "one_class")]  # one dataset: no 'all'
    assert rank_table_name("all", "one_class") == "ranks_all_one_class.tex"
    assert rank_figure_name("wbc", "semi_supervised") == "wbc/semi_supervised.png"


def test_ranks_command_writes_the_tables_and_diagrams_and_the_summary_shows_them(tmp_path):
    aurocs = {**planted_runs(), **planted_runs(n_classes=1, dataset="wine")}
    runs_csv = tmp_path / "runs.csv"
    runs_frame(aurocs).to_csv(runs_csv, index=False)
    tables, figures = tmp_path / "tables", tmp_path / "figures"
    assert main(["ranks", "--runs", str(runs_csv), "--tables-dir", str(tables), "--figures-dir", str(figures),
                 "--posthoc", "nemenyi", "--significance-level", "0.1"]) == 0
    ranks = read_ranks(tables / "ranks.csv")
    assert set(zip(ranks["scope"], ranks["setting"])) == {("mnist5k", "one_class"), ("wine", "one_class"),
                                                          ("all", "one_class")}
    mnist = ranks[ranks["scope"] == "mnist5k"].iloc[0]
    assert mnist["posthoc"] == "nemenyi" and mnist["significance_level"] == 0.1
    assert mnist["critical_difference"] > 0
    pairwise = pd.read_csv(tables / "ranks_pairwise.csv")
    assert set(pairwise["scope"]) == {"mnist5k", "all"} and pairwise["p_value"].between(0, 1).all()
    for scope in ("mnist5k", "wine", "all"):
        latex = (tables / rank_table_name(scope, "one_class")).read_text()
        assert r"\begin{tabular}{lccc}" in latex and "DSVDD-OC" in latex
        assert (figures / rank_figure_name(scope, "one_class")).read_bytes().startswith(PNG_MAGIC)
    assert "critical difference" in (tables / rank_table_name("mnist5k", "one_class")).read_text()

    out = tmp_path / "summary.md"
    assert main(["summary", "--runs", str(runs_csv), "--out", str(out), "--ranks", str(tables / "ranks.csv"),
                 "--rank-figures", str(figures)]) == 0
    text = out.read_text()
    assert "## Ranks and significance" in text and "### all datasets / one_class" in text
    assert "](figures/mnist5k/one_class.png)" in text


def test_ranks_command_refuses_a_bad_level_or_post_hoc_in_one_line(tmp_path, capsys):
    runs_csv = tmp_path / "runs.csv"
    runs_frame(planted_runs()).to_csv(runs_csv, index=False)
    for option, value, message in (("--significance-level", "1", "significance level must lie in (0, 1), got 1.0"),
                                   ("--posthoc", "tukey", "unknown post-hoc test 'tukey'; allowed: "
                                                          "wilcoxon_holm, nemenyi")):
        assert main(["ranks", "--runs", str(runs_csv), "--tables-dir", str(tmp_path), "--figures-dir",
                     str(tmp_path), option, value]) == 2
        assert capsys.readouterr().err.strip().splitlines()[-1] == f"ocbench: error: {message}"
    assert not (tmp_path / "ranks.csv").exists()


# --------------------------------------------------------------------------- marks in the AUROC tables

def test_auroc_tables_underline_what_is_not_significantly_worse_than_the_best():
    aurocs = {}
    for seed, (best, close, worse) in enumerate([(0.90, 0.88, 0.80), (0.92, 0.92, 0.82), (0.91, 0.90, 0.81)], 1):
        aurocs.update({("wine", 0, seed, "deep_svdd_oneclass"): best, ("wine", 0, seed, "ocsvm"): close,
                       ("wine", 0, seed, "isoforest"): worse})
    runs = runs_frame(aurocs)
    marks = seed_marks(runs, 0.05).set_index("method")
    assert list(marks["seed_test"]) == ["", "t-test", "t-test"]
    assert list(marks["not_worse"]) == [False, True, False]
    table = latex_tables(summarize(runs), seed_marks(runs, 0.05))[("wine", "one_class")]
    assert r"\textbf{91.0$\pm$1.0}" in table and r"\underline{90.0$\pm$2.0}" in table
    assert r"\underline{81.0" not in table
    assert r"one-sided paired $t$-test, Holm-corrected across the row's methods, $\alpha = 0.05$" in table


def test_a_failed_run_is_a_dash_and_one_seed_is_no_test():
    runs = runs_frame({("wine", 0, 1, "ocsvm"): 0.9, ("wine", 0, 1, "kde"): 0.8, ("wine", 0, 2, "kde"): 0.85,
                       ("wine", 0, 1, "isoforest"): 0.7}, failed=[("wine", 0, 2, "ocsvm")])
    marks = seed_marks(runs, 0.05).set_index("method")
    # ocsvm failed a run: no test for it, and kde's best against isoforest has one common seed only
    assert not marks["not_worse"].any() and set(marks["seed_test"]) == {""}
    table = latex_tables(summarize(runs), seed_marks(runs, 0.05))[("wine", "one_class")]
    assert "no paired test over seeds" in table and r"\underline" not in table


def test_a_missing_or_foreign_ranks_table_is_refused_by_name(tmp_path):
    from ocbench.errors import OcbenchError

    with pytest.raises(OcbenchError, match="ranks table .*missing.csv does not exist; make it with `ocbench ranks`"):
        read_ranks(tmp_path / "missing.csv")
    foreign = tmp_path / "foreign.csv"
    foreign.write_text("scope,setting\nmnist5k,one_class\n")
    with pytest.raises(OcbenchError, match="lacks the columns method, label, average_rank"):
        read_ranks(foreign)
