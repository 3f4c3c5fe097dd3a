"""Each preset against its paper: the flag's threshold worked by hand, the Deep SAD averaging over normal
and known classes, a planted disagreement flagged, the output files, and the command."""
import json
import math

import pandas as pd
import pytest

from ocbench.cli import main
from ocbench.report.collect import collect_runs
from ocbench.report.comparison import (COMPARISONS, FLAG_RULES, compare, compare_all, comparison_named,
                                       flag_threshold, flagged_legend, latex_comparison, plot_comparison,
                                       rules_text, write_comparisons)
from ocbench.report.published import check_published, read_published_table

from helpers.results import PNG_MAGIC, write_run

DEEP_SAD_SETTINGS = {"gamma_l_0.05": {"ratio_known_normal": 0, "ratio_known_outlier": 0.05, "ratio_pollution": 0.1,
                                      "known_outlier_class": "all", "n_known_outlier_classes": 1},
                     "one_class": {"ratio_known_normal": 0, "ratio_known_outlier": 0, "ratio_pollution": 0,
                                   "known_outlier_class": None, "n_known_outlier_classes": 0}}
# (normal class, known class) -> deep_sad's AUROC of seeds 1 and 2, and ssad_hybrid's (planted far too low)
DEEP_SAD_CELLS = {(0, 1): (0.96, 0.98), (0, 2): (0.95, 0.97), (1, 0): (0.97, 0.97), (1, 2): (0.96, 0.98)}


def published(text, name="deep_svdd_icml2018_oneclass"):
    return check_published(read_published_table(name, text).assign(ratio_known_outlier=math.nan,
                                                                     n_normal_classes=math.nan))


# --------------------------------------------------------------------------- the flag

def test_seed_noise_worked_by_hand():
    # both stds over seeds, both counts: 2·sqrt(1.0²/10 + 2.0²/4) = 2·sqrt(0.1 + 1.0) = 2.0976
    assert flag_threshold(1.0, 10, 2.0, 4) == (pytest.approx(2.0976, abs=1e-4), "seed noise")


def test_cell_spread_worked_by_hand():
    # the paper's std 2.3 over 90 (normal, known) cells, ours 1.5/sqrt(2) over 2 seeds:
    # 2·sqrt(5.29/90 + 1.125/2) = 2·sqrt(0.05878 + 0.5625) = 2·0.78821 = 1.5764
    assert flag_threshold(2.3, 90, 1.5 / math.sqrt(2), 2, "cells") == (pytest.approx(1.5764, abs=1e-4),
                                                                       "cell spread")


def test_our_spread_stands_for_a_papers_missing_std_worked_by_hand():
    # 10 seeds published without a std, ours 2.0 over 4 seeds: 2·2.0·sqrt(1/10 + 1/4) = 4·sqrt(0.35) = 2.3664
    assert flag_threshold(math.nan, 10, 2.0, 4) == (pytest.approx(2.3664, abs=1e-4), "our spread for both")


def test_a_published_std_without_its_count_is_taken_as_one_run_worked_by_hand():
    # Deep-SVDD-PyTorch's class 1, 99.42 ± 0.06 over an unknown count, once flagged at 2·0.06 = 0.12
    # whatever ocbench's spread; ours 0.10 over 5 seeds: 2·sqrt(0.0036 + 0.01/5) = 2·sqrt(0.0056) = 0.1497
    assert flag_threshold(0.06, math.nan, 0.10, 5) == (pytest.approx(0.1497, abs=1e-4), "published count unknown")


def test_one_seed_of_ours_and_nothing_known_worked_by_hand():
    # one seed of ours (no std): twice the published std
    assert flag_threshold(3.0, 10, math.nan, 1) == (6.0, "published std")
    # neither a published std nor its count: 2 AUROC, even with a spread of ours
    assert flag_threshold(math.nan, math.nan, 2.0, 4) == (2.0, "2 AUROC")
    assert flag_threshold(math.nan, 10, math.nan, 1) == (2.0, "2 AUROC")
    # a threshold of 0 (a deterministic method) never flags a rounding difference
    assert flag_threshold(0.0, math.nan, 0.0, 3) == (0.05, "published count unknown")


def test_every_rule_is_described_and_the_text_names_only_the_rules_given():
    rules = {flag_threshold(*args)[1] for args in [(1.0, 10, 2.0, 4), (2.3, 90, 1.0, 2, "cells"),
                                                   (math.nan, 10, 2.0, 4), (0.06, math.nan, 0.1, 5),
                                                   (3.0, 10, math.nan, 1), (math.nan, math.nan, 2.0, 4)]}
    assert rules == set(FLAG_RULES)
    text = rules_text(["cell spread", "2 AUROC"])
    assert text.startswith("cell spread, 2·sqrt(") and "2 AUROC" in text and "seed noise" not in text


def test_a_planted_disagreement_is_flagged_and_an_agreement_is_not(tmp_path):
    table = ("dataset,normal_class,method,auc_mean,auc_std,n_seeds,source\n"
             "mnist,0,deep_svdd_oneclass,90.0,1.0,10,test\n"
             "mnist,0,kde,90.0,1.0,10,test\n")
    paths = []
    for seed, (svdd, kde) in enumerate([(0.88, 0.80), (0.92, 0.81)], start=1):
        paths.append(write_run(tmp_path, "mnist", "one_class", [0], seed, "deep_svdd_oneclass", svdd) / "metrics.json")
        paths.append(write_run(tmp_path, "mnist", "one_class", [0], seed, "kde", kde) / "metrics.json")
    rows = compare(collect_runs(paths), comparison_named("deep_svdd_icml2018"), DEEP_SAD_SETTINGS,
                   published(table)).set_index("method")
    # Deep SVDD: 90.0 ± 2.83 over 2 seeds; threshold 2·sqrt(1/10 + 8/2) = 4.05 > |0.0|
    svdd = rows.loc["deep_svdd_oneclass"]
    assert svdd["ours_mean"] == pytest.approx(90.0) and svdd["threshold"] == pytest.approx(2 * math.sqrt(4.1))
    assert svdd["flag_rule"] == "seed noise" and not svdd["flagged"]
    # KDE planted at 80.5 ± 0.71: threshold 2·sqrt(1/10 + 0.5/2) = 1.18 < |−9.5|
    kde = rows.loc["kde"]
    assert kde["difference"] == pytest.approx(-9.5) and kde["threshold"] == pytest.approx(2 * math.sqrt(0.35))
    assert kde["flagged"]


# --------------------------------------------------------------------------- Deep SAD

@pytest.fixture
def deep_sad_runs(tmp_path):
    paths = []
    for (normal, known), values in DEEP_SAD_CELLS.items():
        for seed, auroc in zip((1, 2), values):
            for method, value in (("deep_sad", auroc), ("ssad_hybrid", auroc - 0.20)):
                run_dir = write_run(tmp_path, "mnist", f"gamma_l_0.05.k{known}", [normal], seed, method, value)
                paths.append(run_dir / "metrics.json")
    return collect_runs(paths)


def test_runs_csv_carries_the_base_setting_and_the_known_class(deep_sad_runs):
    row = deep_sad_runs[(deep_sad_runs["normal"] == "1") & (deep_sad_runs["setting"] == "gamma_l_0.05.k0")].iloc[0]
    assert (row["base_setting"], row["known"]) == ("gamma_l_0.05", "0")


def test_deep_sad_averages_over_normal_and_known_classes_and_flags_the_planted_method(deep_sad_runs):
    rows = compare(deep_sad_runs, comparison_named("deep_sad_iclr2020"), DEEP_SAD_SETTINGS).set_index("method")
    assert set(rows.index) == {"deep_sad", "ssad_hybrid"} and (rows["ratio_known_outlier"] == 0.05).all()
    # four (normal, known) cells, each the mean of its two seeds: 97, 96, 97, 97 -> 96.75 ± 0.5
    deep_sad = rows.loc["deep_sad"]
    assert deep_sad["ours_n"] == 4 and deep_sad["ours_mean"] == pytest.approx(96.75)
    assert deep_sad["ours_std"] == pytest.approx(0.5)
    # ocbench's noise is over seeds: seed 1's mean over the four cells is 96.0, seed 2's 97.5, std 1.5/sqrt(2)
    assert deep_sad["ours_seeds"] == 2 and deep_sad["ours_seed_std"] == pytest.approx(1.5 / math.sqrt(2))
    # the paper: MNIST, γ_l = 0.05, 96.7 ± 2.3 over its 90 (normal, known) cells:
    # threshold 2·sqrt(2.3²/90 + 1.125/2) = 1.5764 (test_cell_spread_worked_by_hand)
    assert (deep_sad["published_mean"], deep_sad["published_n"], deep_sad["published_over"]) == (96.7, 90, "cells")
    assert deep_sad["threshold"] == pytest.approx(1.5764, abs=1e-4) and deep_sad["flag_rule"] == "cell spread"
    assert not deep_sad["flagged"]
    # SSAD hybrid planted 20 points lower, 76.75, against 97.4 ± 2.0: flagged
    assert rows.loc["ssad_hybrid", "difference"] == pytest.approx(76.75 - 97.4)
    assert rows.loc["ssad_hybrid", "flagged"]


def test_the_supervised_classifier_meets_the_paper_s_column(tmp_path):
    paths = [write_run(tmp_path, "mnist", f"gamma_l_0.05.k{known}", [normal], 1, "supervised", 0.91) / "metrics.json"
             for normal, known in DEEP_SAD_CELLS]
    (row,) = compare(collect_runs(paths), comparison_named("deep_sad_iclr2020"), DEEP_SAD_SETTINGS).to_dict("records")
    # the paper's supervised classifier on MNIST at γ_l = 0.05: 90.3 ± 4.6; one seed of ours: twice its std
    assert (row["method"], row["published_mean"], row["ours_mean"]) == ("supervised", 90.3, pytest.approx(91.0))
    assert row["flag_rule"] == "published std" and row["threshold"] == pytest.approx(9.2)


def test_deep_sad_needs_the_settings_to_know_gamma(deep_sad_runs):
    assert compare(deep_sad_runs, comparison_named("deep_sad_iclr2020")).empty
    # a setting outside the paper's protocol (no pollution) is not compared
    clean = {"gamma_l_0.05": dict(DEEP_SAD_SETTINGS["gamma_l_0.05"], ratio_pollution=0.0)}
    assert compare(deep_sad_runs, comparison_named("deep_sad_iclr2020"), clean).empty


def test_the_ocnn_table_gets_ocbench_s_spread_over_seeds_not_over_its_one_class(tmp_path):
    # GTSRB's stop signs (class 14), three seeds: 60, 64, 68, mean 64, std 4 over 3 seeds; the authors'
    # Deep SVDD 67.09 ± 4.77 over 10 seeds: 2·sqrt(4.77²/10 + 16/3) = 2·sqrt(2.27529 + 5.33333) = 5.5167
    paths = [write_run(tmp_path, "gtsrb", "one_class", [14], seed, "deep_svdd_oneclass", auroc) / "metrics.json"
             for seed, auroc in [(1, 0.60), (2, 0.64), (3, 0.68)]]
    (row,) = compare(collect_runs(paths), comparison_named("ocnn")).to_dict("records")
    assert (row["ours_seeds"], row["ours_seed_std"], row["published_n"]) == (3, pytest.approx(4.0), 10)
    assert row["threshold"] == pytest.approx(5.5167, abs=1e-4) and row["flag_rule"] == "seed noise"
    assert row["difference"] == pytest.approx(-3.09) and not row["flagged"]


def test_the_deep_svdd_paper_gives_ten_seeds_and_ocbench_s_spread_stands_for_its_missing_std(tmp_path):
    # MNIST class 3, seeds 1 and 2 at 90 and 94: mean 92, std 2·sqrt(2) over 2 seeds; the paper's 91.9 over
    # 10 seeds without a std: 2·2.8284·sqrt(1/10 + 1/2) = 4.3818; the PyTorch README's 90.5 ± 1.48 over
    # an unknown count: 2·sqrt(1.48² + 8/2) = 2·sqrt(6.1904) = 4.9761
    paths = [write_run(tmp_path, "mnist", "one_class", [3], seed, "deep_svdd_oneclass", auroc) / "metrics.json"
             for seed, auroc in [(1, 0.90), (2, 0.94)]]
    rows = compare(collect_runs(paths), comparison_named("deep_svdd_icml2018")).set_index("table")
    paper, readme = rows.loc["deep_svdd_icml2018_oneclass"], rows.loc["deep_svdd_pytorch_mnist"]
    assert (paper["published_n"], paper["published_over"], paper["flag_rule"]) == (10, "seeds", "our spread for both")
    assert paper["threshold"] == pytest.approx(4.3818, abs=1e-4)
    assert readme["flag_rule"] == "published count unknown" and readme["threshold"] == pytest.approx(4.9761, abs=1e-4)


def test_captions_and_legends_say_seed_noise_only_where_that_rule_applied(tmp_path):
    paths = [write_run(tmp_path, "mnist", "one_class", [3], seed, "deep_svdd_oneclass", auroc) / "metrics.json"
             for seed, auroc in [(1, 0.60), (2, 0.62)]]  # far below the papers' 91.9 and 90.5: flagged
    comparison = comparison_named("deep_svdd_icml2018")
    rows = compare(collect_runs(paths), comparison)
    assert rows["flagged"].all() and "seed noise" not in set(rows["flag_rule"])
    latex = latex_comparison(comparison, rows)
    assert "seed noise" not in latex and r"our spread for both, $2\sigma_2\sqrt{1/n_1 + 1/n_2}$" in latex
    assert "published count unknown" in latex and "σ" not in latex  # LaTeX math, which pdflatex reads
    assert flagged_legend(rows["flag_rule"]) == "beyond its threshold"
    assert flagged_legend(["seed noise", "seed noise"]) == "beyond seed noise"
    assert flagged_legend(["seed noise", "cell spread"]) == "beyond its threshold"
    plot_comparison(comparison, rows, tmp_path / "figure.png")
    assert (tmp_path / "figure.png").read_bytes().startswith(PNG_MAGIC)


def test_multi_radius_cells_are_the_size_of_the_normal_group(tmp_path):
    paths = [write_run(tmp_path, "mnist", "one_class", group, seed, "multi_radius_deep_svdd", auroc) / "metrics.json"
             for group, seed, auroc in [([0, 1], 1, 0.95), ([0, 1], 2, 0.97), ([2, 3], 1, 0.93), ([2, 3], 2, 0.95)]]
    rows = compare(collect_runs(paths), comparison_named("multi_radius"), DEEP_SAD_SETTINGS)
    assert len(rows) == 1
    row = rows.iloc[0]
    # groups 0-1 (96.0) and 2-3 (94.0): 95.0 ± 1.41 over 2 groups, against the 96.32 of 2 normal classes
    assert row["n_normal_classes"] == 2 and row["ours_n"] == 2 and row["ours_mean"] == pytest.approx(95.0)
    assert row["published_mean"] == 96.32 and row["flag_rule"] == "2 AUROC" and not row["flagged"]


# --------------------------------------------------------------------------- files and command

def test_files_of_each_comparison(deep_sad_runs, tmp_path):
    results = compare_all(deep_sad_runs, DEEP_SAD_SETTINGS)
    assert list(results) == ["deep_sad_iclr2020"]
    written = write_comparisons(results, tmp_path / "published")
    assert sorted(p.name for p in written) == ["deep_sad_iclr2020.csv", "deep_sad_iclr2020.png",
                                                "deep_sad_iclr2020.tex"]
    table = pd.read_csv(tmp_path / "published" / "deep_sad_iclr2020.csv")
    assert {"published_mean", "published_std", "ours_mean", "ours_std", "difference", "flagged"} <= set(table)
    latex = (tmp_path / "published" / "deep_sad_iclr2020.tex").read_text()
    assert r"\toprule" in latex and r"\bottomrule" in latex
    assert r"mnist & 0.05 & SSAD-H & 97.4$\pm$2.0 & 76.8$\pm$0.5 & \textbf{-20.7}$^{*}$ & 1.6 cell spread \\" in latex
    assert r"mnist & 0.05 & DSAD & 96.7$\pm$2.3 & 96.8$\pm$0.5 & +0.0 & 1.6 cell spread \\" in latex
    assert (tmp_path / "published" / "deep_sad_iclr2020.png").read_bytes().startswith(PNG_MAGIC)


def test_latex_names_the_source_table_when_a_comparison_reads_two(tmp_path):
    paths = [write_run(tmp_path, "mnist", "one_class", [3], seed, "deep_svdd_oneclass", 0.9) / "metrics.json"
             for seed in (1, 2)]
    rows = compare(collect_runs(paths), comparison_named("deep_svdd_icml2018"))
    assert sorted(rows["table"]) == ["deep_svdd_icml2018_oneclass", "deep_svdd_pytorch_mnist"]
    assert "Source" in latex_comparison(comparison_named("deep_svdd_icml2018"), rows)


def test_summary_command_writes_the_comparisons(deep_sad_runs, tmp_path):
    import json

    runs_csv = tmp_path / "runs.csv"
    deep_sad_runs.to_csv(runs_csv, index=False)
    out = tmp_path / "out"
    assert main(["summary", "--runs", str(runs_csv), "--out", str(out / "summary.md"),
                 "--settings", json.dumps(DEEP_SAD_SETTINGS), "--comparison-dir", str(out / "published")]) == 0
    text = (out / "summary.md").read_text()
    assert "### Deep SAD (Ruff et al., ICLR 2020)" in text and "2 cells, 1 flagged" in text
    assert "### mnist / gamma_l_0.05" in text  # the mean table averages over the known classes
    assert sorted(p.name for p in (out / "published").iterdir()) == [
        "deep_sad_iclr2020.csv", "deep_sad_iclr2020.png", "deep_sad_iclr2020.tex"]


def test_every_comparison_reads_a_shipped_table():
    from ocbench.report.published import load_published

    tables = set(load_published()["table"])
    for comparison in COMPARISONS:
        assert set(comparison.tables) <= tables, comparison.name


# --------------------------------------------------------------------------- OC-NN: the authors' notebooks

def test_ocnn_authors_code_meets_the_notebooks_and_the_papers_ocnn_stands_beside_it(tmp_path):
    """The shipped notebook numbers of MNIST class 8: the authors' OC-NN 88.55 ± 4.79 over 10 seeds."""
    settings = {"authors": dict(DEEP_SAD_SETTINGS["one_class"], transductive={"contamination": 0.01})}
    paths = []
    for seed, (authors, paper) in enumerate([(0.87, 0.50), (0.89, 0.52)], start=1):
        for method, auroc in (("ocnn_authors_code", authors), ("ocnn", paper)):
            run_dir = write_run(tmp_path, "mnist", "authors", [8], seed, method, auroc)
            metrics = json.loads((run_dir / "metrics.json").read_text())
            (run_dir / "metrics.json").write_text(json.dumps(dict(metrics, protocol="transductive")))
            paths.append(run_dir / "metrics.json")
    runs = collect_runs(paths)
    assert set(runs["protocol"]) == {"transductive"}
    comparison = comparison_named("ocnn")
    rows = compare(runs, comparison, settings).set_index("method")
    assert set(rows["published_method"]) == {"ocnn_authors_code"} and set(rows["protocol"]) == {"transductive"}
    # ours 88.0 ± 1.41 (n=2); threshold 2·sqrt(4.79²/10 + 1.41²/2) = 2·sqrt(2.2944 + 1) = 3.63 > |-0.55|
    authors = rows.loc["ocnn_authors_code"]
    assert authors["difference"] == pytest.approx(-0.55) and authors["threshold"] == pytest.approx(
        2 * math.sqrt(4.79 ** 2 / 10 + 1.0), rel=1e-6)
    assert not authors["flagged"] and authors["label"] == "ocnn_authors_code"
    # the paper's objective, 51.0, against the same published cell
    paper = rows.loc["ocnn"]
    assert paper["difference"] == pytest.approx(-37.55) and paper["flagged"]
    assert paper["label"] == "ocnn vs ocnn_authors_code"
    latex = latex_comparison(comparison, rows.reset_index())
    assert "Protocol" in latex and "The published numbers are transductive" in latex
    assert r"mnist & transductive & 8 & OC-NN-A & 88.55$\pm$4.79 & 88.0$\pm$1.4 & -0.5 & 3.6 seed noise \\" in latex
    # the settings' protocol wins over what the runs recorded; without settings the runs' record is read
    assert set(compare(runs, comparison)["protocol"]) == {"transductive"}


def test_inductive_runs_are_named_so_beside_transductive_numbers(tmp_path):
    paths = [write_run(tmp_path, "mnist", "one_class", [8], seed, "cae", 0.95) / "metrics.json" for seed in (1, 2)]
    rows = compare(collect_runs(paths), comparison_named("ocnn"), DEEP_SAD_SETTINGS)
    assert rows["protocol"].tolist() == ["inductive"] and rows["published_mean"].tolist() == [96.99]
    assert "mnist & inductive & 8 & CAE" in latex_comparison(comparison_named("ocnn"), rows)
    # an inductive comparison of inductive runs keeps its columns
    svdd = [write_run(tmp_path, "mnist", "one_class", [3], 1, "deep_svdd_oneclass", 0.9) / "metrics.json"]
    deep_svdd = compare(collect_runs(svdd), comparison_named("deep_svdd_icml2018"), DEEP_SAD_SETTINGS)
    assert "Protocol" not in latex_comparison(comparison_named("deep_svdd_icml2018"), deep_svdd)
