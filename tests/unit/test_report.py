"""The report package on small run directories written here: collect, tables, figures, summary, CLI."""
import json
import math
import shutil
import subprocess
import sys
from importlib import metadata

import numpy as np
import pandas as pd
import pytest
import yaml

from ocbench.cli import main
from ocbench.code_version import code_version
from ocbench.data.prepared import save_npz
from ocbench.detectors import METHODS
from ocbench.errors import OcbenchError
from ocbench.report.collect import RUN_COLUMNS, collect_runs, read_runs
from ocbench.report.plots import FAILED_TEXT, auroc_heatmap, extreme_indices, image_grid, plot_auroc, plot_extremes, \
    plot_roc
from ocbench.report.published import EXTRA_KEYS, PUBLISHED_COLUMNS, load_published
from ocbench.report.comparison import compare, compare_all, comparison_named, latex_comparison
from ocbench.report.summary import REPORTED_PACKAGES, configuration_yaml, read_configuration, software_versions, \
    summary_markdown, write_configuration
from ocbench.report.ranks import rank_all, ranks_frame, ranks_latex
from ocbench.report.tables import fit_to_page, latex_table, latex_tables, method_blocks, seed_marks, short_labels, \
    summarize

from helpers.results import N_TEST, PNG_MAGIC, write_run

# Hand-chosen AUROCs: (normal class, method) -> (seed 1, seed 2)
AUROCS = {
    (0, "deep_svdd_oneclass"): (0.90, 0.94),
    (0, "ocsvm"): (0.80, 0.82),
    (1, "deep_svdd_oneclass"): (0.99, 0.99),
    (1, "ocsvm"): (0.995, 0.985),
}


@pytest.fixture
def results(tmp_path):
    """mnist5k, one_class, normal classes 0 and 1, seeds 1 and 2, two methods; metrics paths in config order."""
    paths = []
    for (normal, method), values in AUROCS.items():
        for seed, auroc in zip((1, 2), values):
            paths.append(write_run(tmp_path, "mnist5k", "one_class", [normal], seed, method, auroc) / "metrics.json")
    return tmp_path, paths


@pytest.fixture
def prepared(tmp_path):
    """A tiny prepared image dataset: test image i is filled with the grey level 10·i."""
    x_test = (np.arange(N_TEST, dtype=np.uint8) * 10)[:, None, None, None] * np.ones((1, 1, 8, 8), np.uint8)
    path = tmp_path / "prepared" / "mnist5k.npz"
    save_npz({"x_train": x_test[:5], "y_train": np.zeros(5, np.int64), "x_test": x_test,
              "y_test": np.r_[np.zeros(10), np.ones(10)].astype(np.int64)}, path)
    return path


# --------------------------------------------------------------------------- collect

def test_collect_gives_one_row_per_run_sorted_by_keys(results):
    _, paths = results
    runs = collect_runs(reversed(paths))  # input order must not matter for the keys
    assert list(runs.columns) == RUN_COLUMNS
    assert len(runs) == 8
    assert runs["normal"].tolist() == ["0"] * 4 + ["1"] * 4
    assert runs["seed"].tolist() == [1, 1, 2, 2] * 2
    first = runs.iloc[0]
    assert (first["dataset"], first["setting"], first["device"], first["status"]) == ("mnist5k", "one_class",
                                                                                      "cpu", "ok")
    assert runs.set_index(["normal", "seed", "method"]).loc[("0", 2, "deep_svdd_oneclass"), "auroc"] == 0.94


def test_collect_sorts_classes_as_numbers_and_keeps_method_order(tmp_path):
    paths = [write_run(tmp_path, "cifar10", "one_class", classes, 1, method, 0.7) / "metrics.json"
             for classes, method in [([10], "zeta"), ([2], "alpha"), ([3, 0], "zeta"), ([2], "zeta")]]
    runs = collect_runs(paths)
    assert runs["normal"].tolist() == ["0-3", "2", "2", "10"]
    assert runs["method"].tolist() == ["zeta", "zeta", "alpha", "zeta"]  # zeta was listed first


def test_collect_reads_keys_from_the_path_when_metrics_lack_them(tmp_path):
    path = write_run(tmp_path, "wbc", "one_class", [0], 7, "kde", 0.6, with_keys=False) / "metrics.json"
    row = collect_runs([path]).iloc[0]
    assert (row["dataset"], row["setting"], row["normal"], row["seed"], row["method"], row["device"]) == \
        ("wbc", "one_class", "0", 7, "kde", "cpu")


def test_collect_names_a_corrupt_or_missing_metrics_file(results):
    _, paths = results
    paths[3].write_text('{"auroc": 0.9,')
    with pytest.raises(OcbenchError, match=str(paths[3])):
        collect_runs(paths)
    missing = paths[0].parent / "nowhere.json"
    with pytest.raises(OcbenchError, match="nowhere.json does not exist"):
        collect_runs([missing])


# --------------------------------------------------------------------------- tables

def test_summarize_gives_percent_mean_and_sample_std_over_seeds(results):
    _, paths = results
    summary = summarize(collect_runs(paths)).set_index(["normal", "method"])
    row = summary.loc[("0", "deep_svdd_oneclass")]
    assert row["auroc_mean"] == pytest.approx(92.0)
    assert row["auroc_std"] == pytest.approx(math.sqrt(((90 - 92) ** 2 + (94 - 92) ** 2) / 1))  # ddof=1
    assert row["n_seeds"] == 2
    assert summary.loc[("1", "ocsvm"), "auroc_mean"] == pytest.approx(99.0)
    assert summary.loc[("1", "ocsvm"), "auroc_std"] == pytest.approx(math.sqrt(0.5 ** 2 * 2))


def test_a_method_run_on_two_devices_gets_a_column_per_device(tmp_path):
    paths = [write_run(tmp_path, "mnist", "one_class", [0], 1, method, 0.9, device=device) / "metrics.json"
             for method, device in [("deep_sad", "cpu"), ("deep_sad", "cuda"), ("kde", "cpu")]]
    summary = summarize(collect_runs(paths))
    assert summary["label"].tolist() == ["deep_sad (cpu)", "deep_sad (cuda)", "kde"]
    assert summary["n_seeds"].tolist() == [1, 1, 1] and summary["auroc_std"].isna().all()  # one seed: no std
    assert r"0 & \textbf{90.0} & \textbf{90.0} & \textbf{90.0} \\" in latex_table(summary).splitlines()


def summary_rows(rows):
    return pd.DataFrame([{"dataset": "mnist", "setting": "one_class", "normal": normal, "method": method,
                          "device": "cpu", "label": method, "auroc_mean": mean, "auroc_std": std, "n_seeds": 2}
                         for normal, method, mean, std in rows])


def test_latex_table_bolds_the_best_of_each_row_and_all_ties():
    table = latex_table(summary_rows([
        ("0", "deep_svdd_oneclass", 98.04, 0.5, ), ("0", "ocsvm", 97.0, 1.25), ("0", "kde", 97.96, 0.0),
        ("1", "deep_svdd_oneclass", 90.0, 2.0), ("1", "ocsvm", 95.5, 0.1), ("1", "kde", 80.0, 3.0),
    ]))
    lines = table.splitlines()
    assert r"\toprule" in lines and r"\bottomrule" in lines
    assert r"Normal class & DSVDD-OC & OC-SVM & KDE \\" in lines  # the registry's short names
    # 98.04 and 97.96 both print as 98.0: a tie, both bold
    assert r"0 & \textbf{98.0$\pm$0.5} & 97.0$\pm$1.2 & \textbf{98.0$\pm$0.0} \\" in lines
    assert r"1 & 90.0$\pm$2.0 & \textbf{95.5$\pm$0.1} & 80.0$\pm$3.0 \\" in lines
    # mean over the classes: 94.02, 96.25, 88.98
    assert r"mean & 94.0 & \textbf{96.2} & 89.0 \\" in lines
    assert r"\label{tab:auroc-mnist-one_class}" in lines
    assert "one\\_class" in table and "deep_svdd" not in table.replace(r"\label{tab:auroc-mnist-one_class}", "")


def test_many_methods_are_split_into_blocks_with_the_best_of_the_whole_row_in_bold():
    # seven methods: blocks of four and three (METHODS_PER_BLOCK is six); m6, in the second, is the best
    table = latex_table(summary_rows([("0", f"m{i}", 95.0 if i == 6 else 90.0, 1.0) for i in range(7)]))
    lines = table.splitlines()
    assert r"\begin{tabular}{lcccc}" in lines and lines.count(r"\midrule[\heavyrulewidth]") == 1
    assert r"Normal class & m0 & m1 & m2 & m3 \\" in lines and r"Normal class & m4 & m5 & m6 \\" in lines
    assert r"0 & 90.0$\pm$1.0 & 90.0$\pm$1.0 & 90.0$\pm$1.0 & 90.0$\pm$1.0 \\" in lines  # no bold: m6 is better
    assert r"0 & 90.0$\pm$1.0 & 90.0$\pm$1.0 & \textbf{95.0$\pm$1.0} \\" in lines
    assert r"mean & 90.0 & 90.0 & 90.0 & 90.0 \\" in lines and r"mean & 90.0 & 90.0 & \textbf{95.0} \\" in lines
    assert [(block.start, block.stop) for block in method_blocks(16)] == [(0, 6), (6, 11), (11, 16)]


def test_every_registry_method_has_a_short_unique_name():
    names = [spec.short_name for spec in METHODS.values()]
    assert all(names) and len(set(names)) == len(names) == len(METHODS)
    assert max(map(len, names)) <= 10  # sixteen of them side by side must fit a page
    frame = pd.DataFrame({"method": ["deep_sad", "deep_sad", "my_method"], "device": ["cpu", "cuda", "cpu"],
                          "label": ["deep_sad (cpu)", "deep_sad (cuda)", "my_method"]})
    assert short_labels(frame).tolist() == ["DSAD (cpu)", "DSAD (cuda)", "my_method"]  # unknown: its own name


PDFLATEX = shutil.which("pdflatex")
# The tables need booktabs (Debian's texlive-latex-recommended), which pdflatex alone
# (texlive-latex-base) lacks: the test runs only where both are installed.
LATEX_PACKAGES_MISSING = PDFLATEX is None or shutil.which("kpsewhich") is None or not subprocess.run(
    ["kpsewhich", "booktabs.sty", "graphicx.sty"], capture_output=True, text=True).stdout.count(".sty") == 2


def pdflatex_log(table: str, folder) -> str:
    """The log of pdflatex on ``table`` alone in a minimal article, as a paper would include it."""
    folder.mkdir(parents=True)
    (folder / "doc.tex").write_text("\\documentclass{article}\n\\usepackage{booktabs,graphicx}\n"
                                    "\\begin{document}\n" + table + "\\end{document}\n")
    result = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=folder,
                            capture_output=True, text=True, timeout=120)
    log = (folder / "doc.log").read_text(errors="replace")
    assert result.returncode == 0, log[-3000:]
    return log


def wide_and_tall_runs() -> pd.DataFrame:
    """Every registry method but one (as many as a setting holds) on the ten classes of mnist5k, two
    seeds, one failed run; and a multi-class setting of ten class pairs, one row per (pair, method)."""
    methods = [m for m in METHODS if m != "ss_dgm"]
    rows = []
    for setting, normals, anomalies in [("one_class", [str(c) for c in range(10)], ""),
                                        ("vs_fmnist", [f"{c}-{(c + 1) % 10}" for c in range(10)], "fmnist")]:
        for normal in normals:
            for method in methods:
                for seed in (1, 2):
                    failed = (setting, normal, method, seed) == ("one_class", "3", "kde", 2)
                    rows.append({"dataset": "mnist5k", "setting": setting, "normal": normal, "seed": seed,
                                 "method": method, "device": "cpu", "auroc": math.nan if failed else 0.9123,
                                 "status": "failed" if failed else "ok", "outlier_accuracy": 0.8,
                                 "inlier_accuracy": 0.9, "anomaly_datasets": anomalies})
    return pd.DataFrame(rows)


def without_fit(table: str) -> str:
    return "\n".join(line for line in table.splitlines() if line not in fit_to_page([])) + "\n"


@pytest.mark.skipif(LATEX_PACKAGES_MISSING, reason="pdflatex with booktabs and graphicx is not installed "
                                                  "(apt-get install texlive-latex-recommended)")
def test_every_generated_table_fits_the_page_when_compiled(tmp_path):
    runs = wide_and_tall_runs()
    marks = seed_marks(runs)  # underlined cells and the caption that names their test
    tables = {f"{dataset}_{setting}": text for (dataset, setting), text in latex_tables(summarize(runs), marks).items()}
    rank_frame = ranks_frame(rank_all(runs))
    tables.update({f"ranks_{scope}_{setting}": ranks_latex(rank_frame, scope, setting)
                   for scope, setting in zip(rank_frame["scope"], rank_frame["setting"])})
    comparisons = compare_all(runs)
    assert "deep_svdd_icml2018" in comparisons  # mnist5k's classes against the Deep SVDD paper
    tables.update({name: latex_comparison(comparison_named(name), rows) for name, rows in comparisons.items()})
    assert len(tables) >= 3
    # As written before the fit, the sixteen-method table is wider than the line and the
    # 160-row multi-class table taller than the page: the check below sees both.
    assert "Overfull \\hbox" in pdflatex_log(without_fit(tables["mnist5k_one_class"]), tmp_path / "wide")
    assert "Float too large for page" in pdflatex_log(without_fit(tables["mnist5k_vs_fmnist"]), tmp_path / "tall")
    for name, table in tables.items():
        log = pdflatex_log(table, tmp_path / name)
        assert "Overfull \\hbox" not in log and "Float too large for page" not in log, name


# --------------------------------------------------------------------------- figures

def test_extreme_indices_take_only_the_normal_class_in_score_order():
    scores = pd.DataFrame({"index": [10, 11, 12, 13, 14, 15, 16],
                           "label": [0, 1, 0, 0, 1, 0, 0],
                           "score": [0.5, -9.0, 0.1, 0.9, 9.0, 0.3, 0.7]})
    lowest, highest = extreme_indices(scores, 2)
    assert lowest.tolist() == [12, 15]  # scores 0.1, 0.3; the anomaly at -9.0 is left out
    assert highest.tolist() == [13, 16]  # scores 0.9, 0.7; the anomaly at 9.0 is left out
    lowest, highest = extreme_indices(scores, 10)  # only 5 normal samples
    assert lowest.tolist() == [12, 15, 10, 16, 13] and highest.tolist() == [13, 16, 10, 15, 12]


def test_image_grid_tiles_channels_last_row_by_row():
    images = np.zeros((3, 3, 2, 2), np.uint8)  # three 2×2 RGB images: red, green, blue
    for i in range(3):
        images[i, i] = 200
    grid = image_grid(images, n_columns=2, padding=1)
    assert grid.shape == (1 + 2 * 3, 1 + 2 * 3, 3)
    assert grid[1:3, 1:3].tolist() == [[[200, 0, 0]] * 2] * 2  # red at the top left
    assert grid[1:3, 4:6].tolist() == [[[0, 200, 0]] * 2] * 2  # green beside it
    assert grid[4:6, 1:3].tolist() == [[[0, 0, 200]] * 2] * 2  # blue starts the second row
    assert (grid[4:6, 4:6] == 255).all() and (grid[0] == 255).all()  # empty tile and padding stay white


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 5000


def test_plots_write_png_files(results, prepared, tmp_path):
    root, paths = results
    runs = collect_runs(paths)
    plot_auroc(runs, tmp_path / "auroc.png")
    plot_roc([p.with_name("scores.csv") for p in paths], tmp_path / "roc.png")
    scores = paths[0].with_name("scores.csv")
    plot_extremes(prepared, scores, tmp_path / "extremes.png", n=8)
    for name in ("auroc.png", "roc.png", "extremes.png"):
        assert_png(tmp_path / name)


def test_the_roc_figure_of_a_panel_without_a_finished_run_says_so(tmp_path):
    plot_roc([], tmp_path / "roc.png", panel="wine (polluted)")  # every run of the panel failed
    assert (tmp_path / "roc.png").stat().st_size > 0
    with pytest.raises(OcbenchError, match="no scores.csv files given"):  # called with nothing at all
        plot_roc([], tmp_path / "nothing.png")


def heatmap_cells(figure) -> dict[tuple[str, str, str], str]:
    """The text printed in each heatmap cell: (panel title, method, normal class) -> text."""
    cells = {}
    for axis in figure.axes:
        if not axis.get_title():  # the colour bar
            continue
        methods = [label.get_text() for label in axis.get_yticklabels()]
        normals = [label.get_text() for label in axis.get_xticklabels()]
        for text in axis.texts:
            x, y = text.get_position()
            cells[(axis.get_title(), methods[int(y)], normals[int(x)])] = text.get_text()
    return cells


def test_auroc_heatmap_prints_the_mean_over_seeds_of_each_cell(results, tmp_path):
    _, paths = results
    paths += [write_run(tmp_path, "wbc", "one_class", [0], seed, "kde", auroc, status=status) / "metrics.json"
              for seed, auroc, status in [(1, 0.7, "ok"), (2, float("nan"), "failed")]]
    paths += [write_run(tmp_path, "wbc", "one_class", [0], seed, "isoforest", auroc) / "metrics.json"
              for seed, auroc in [(1, 0.61), (2, 0.64)]]
    figure = auroc_heatmap(collect_runs(paths))
    # AUROCS' means over the two seeds, in percent; wbc's KDE has a failed run: a dash, as in the tables
    assert heatmap_cells(figure) == {
        ("mnist5k / one_class", "DSVDD-OC", "0"): "92.0", ("mnist5k / one_class", "DSVDD-OC", "1"): "99.0",
        ("mnist5k / one_class", "OC-SVM", "0"): "81.0", ("mnist5k / one_class", "OC-SVM", "1"): "99.0",
        ("wbc / one_class", "KDE", "0"): FAILED_TEXT, ("wbc / one_class", "IF", "0"): "62.5"}


def test_plot_extremes_refuses_scores_of_another_dataset(results, prepared, tmp_path):
    _, paths = results
    scores = paths[0].with_name("scores.csv")
    pd.DataFrame({"index": [0, 99], "label": [0, 0], "score": [0.1, 0.2]}).to_csv(scores, index=False)
    with pytest.raises(OcbenchError, match="holds 20 test images"):
        plot_extremes(prepared, scores, tmp_path / "extremes.png")


# --------------------------------------------------------------------------- published and summary

def test_published_tables_load_with_their_keys():
    published = load_published()
    assert list(published.columns) == PUBLISHED_COLUMNS + EXTRA_KEYS
    assert set(published["table"]) == {"deep_sad_iclr2020_labeled_ratio", "deep_svdd_icml2018_oneclass",
                                       "deep_svdd_pytorch_mnist", "multi_radius_mnist", "ocnn_authors_notebooks"}
    icml = published[published["table"] == "deep_svdd_icml2018_oneclass"].set_index(["dataset", "normal"])
    assert icml.loc[("mnist", "0"), "auc_mean"] == 98.0 and math.isnan(icml.loc[("mnist", "0"), "auc_std"])
    assert len(icml) == 20
    pytorch = published[published["table"] == "deep_svdd_pytorch_mnist"]
    assert pytorch["source"].str.startswith("Deep-SVDD-PyTorch").all()  # "same" spelled out
    ocnn = published[published["table"] == "ocnn_authors_notebooks"]
    assert (ocnn.query("dataset == 'gtsrb'")["normal"] == "14").all()  # the stop signs of GTSRB
    assert (ocnn["n_seeds"] == 10).all()  # the count its sources name
    assert published["ratio_known_outlier"].notna().sum() == 54
    assert published["n_normal_classes"].notna().sum() == 10


def test_summary_compares_mnist5k_with_mnist_as_an_indication(results):
    _, paths = results
    runs = collect_runs(paths)
    compared = compare(runs, comparison_named("deep_svdd_icml2018"))
    # deep_svdd_oneclass on classes 0 and 1, each against two published tables; ocsvm has none
    assert len(compared) == 4 and set(compared["method"]) == {"deep_svdd_oneclass"}
    text = summary_markdown(runs)
    assert "- runs: 8 (8 ok, 0 failed)" in text
    assert "| deep_svdd_oneclass | 95.5 | 4 | 8.0 |" in text  # mean of 90, 94, 99, 99
    # class 0: ocbench 92.0 ± 2.8 over 2 seeds; the paper 98.0 over 10 seeds without a std, so ocbench's
    # spread stands for both: 2·2.83·sqrt(1/10 + 1/2) = 4.38
    assert "| mnist5k (vs mnist, indication only) | one_class | 0 | deep_svdd_oneclass | 92.0 ± 2.8 (n=2) " \
           "| 98.0 | -6.0 | 4.4 (our spread for both) | **yes** | Ruff et al. ICML 2018 Table 1 (mean only) |" in text
    # against the PyTorch reference's 97.77 ± 0.51 (seeds not given, so taken as 1): 2·sqrt(0.51² + 8/2) = 4.13
    assert "| 97.77 ± 0.51 | -5.8 | 4.1 (published count unknown) | **yes** |" in text
    assert "seed noise" not in text.split("### Deep SVDD")[1]  # no row of it used that rule
    assert "5,000-digit subset of MNIST" in text
    # a setting with labelled samples is left out once the settings are known
    labelled = {"one_class": {"ratio_known_normal": 0.05, "ratio_known_outlier": 0, "ratio_pollution": 0}}
    assert compare(runs, comparison_named("deep_svdd_icml2018"), settings=labelled).empty


def test_summary_lists_failed_runs(tmp_path):
    path = write_run(tmp_path, "wbc", "one_class", [0], 1, "kde", float("nan"), status="failed")
    text = summary_markdown(collect_runs([path / "metrics.json"]))
    assert "## Failed runs" in text and "| wbc | one_class | 0 | 1 | kde | cpu | failed |" in text
    assert "No run matches a published result" in text


def test_summary_shows_the_resolved_configuration_and_the_versions(results):
    _, paths = results
    config = {"seeds": [1, 2], "methods": ["deep_svdd_oneclass", "ocsvm"],
              "training": {"network": {"lr": 1.0e-4, "milestones": [50]}}, "settings": {"one_class": {}}}
    text = summary_markdown(collect_runs(paths), config=config, versions={"python": "3.11.9", "torch": "2.14.1"})
    section = text[text.index("## Configuration"):]
    assert "| python | `3.11.9` |" in section and "| torch | `2.14.1` |" in section
    block = section[section.index("```yaml\n") + len("```yaml\n"):section.rindex("```")]
    assert yaml.safe_load(block) == config  # the YAML reads back as the configuration it shows
    assert "was not given" in summary_markdown(collect_runs(paths), versions={})


def test_the_reported_configuration_leaves_out_where_the_jobs_ran():
    from ocbench.report.summary import reported_configuration

    config = {"seeds": [1], "cluster": {"cpu_partition": "short"}, "training": {"stack": "auto"}}
    assert reported_configuration(config) == {"seeds": [1], "training": {"stack": "auto"}}
    assert config["cluster"] == {"cpu_partition": "short"}  # the workflow's config is left as it was


def test_a_configuration_that_is_not_a_mapping_is_refused_by_name(tmp_path):
    path = tmp_path / "configuration.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(OcbenchError, match=f"configuration file {path} must hold a mapping, got list"):
        read_configuration(path)
    write_configuration(path, {"seeds": (1, 2)})  # a tuple, as code may build it, reads back as a list
    assert read_configuration(path) == {"seeds": [1, 2]}


def test_versions_are_read_without_importing_torch():
    # Read in a fresh process: the report jobs never pay torch's start-up.
    code = ("import json, sys; from ocbench.report.summary import software_versions; "
            "versions = software_versions('9.99'); print(json.dumps([versions, 'torch' in sys.modules]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    versions, torch_imported = json.loads(result.stdout)
    assert not torch_imported
    expected = {name: metadata.version(name) for name in REPORTED_PACKAGES if name != "snakemake"}
    assert versions == {"python": ".".join(map(str, sys.version_info[:3])), **expected, "snakemake": "9.99",
                        "ocbench code_version": code_version()}
    assert software_versions()["snakemake"] == metadata.version("snakemake")  # read where it is installed


# --------------------------------------------------------------------------- command line

def test_commands_run_end_to_end_with_listing_files(results, prepared, tmp_path):
    root, paths = results
    listing = tmp_path / "metrics.txt"
    listing.write_text("".join(f"{p}\n" for p in paths))
    scores_listing = tmp_path / "scores.txt"
    scores_listing.write_text("".join(f"{p.with_name('scores.csv')}\n" for p in paths))
    out = tmp_path / "out"
    runs_csv = out / "tables" / "runs.csv"

    assert main(["collect", "--out", str(runs_csv), f"@{listing}"]) == 0
    runs = read_runs(runs_csv)
    assert len(runs) == 8 and runs["normal"].tolist()[0] == "0"
    assert main(["tables", "--runs", str(runs_csv), "--outdir", str(out / "tables")]) == 0
    summary = pd.read_csv(out / "tables" / "auroc_summary.csv")
    assert len(summary) == 4 and summary["auroc_mean"].iloc[0] == pytest.approx(92.0)
    assert r"\textbf{" in (out / "tables" / "auroc_mnist5k_one_class.tex").read_text()
    assert main(["plot-auroc", "--runs", str(runs_csv), "--out", str(out / "auroc.png")]) == 0
    assert main(["plot-roc", "--out", str(out / "roc" / "mnist5k" / "one_class.png"), f"@{scores_listing}"]) == 0
    assert main(["plot-extremes", "--prepared", str(prepared), "--scores", str(paths[0].with_name("scores.csv")),
                 "--out", str(out / "extremes.png"), "--n", "32"]) == 0
    # labelled normal samples: no paper's protocol, so no comparison (without the settings, one is drawn)
    config = {"seeds": [1, 2], "settings": {"one_class": {"ratio_known_normal": 0.05, "ratio_known_outlier": 0,
                                                          "ratio_pollution": 0}}}
    write_configuration(out / "configuration.yaml", config)
    assert main(["summary", "--runs", str(runs_csv), "--out", str(out / "summary.md"), "--configuration",
                 str(out / "configuration.yaml"), "--auroc-figure", str(out / "auroc.png"),
                 "--snakemake-version", "9.99"]) == 0
    for figure in ("auroc.png", "roc/mnist5k/one_class.png", "extremes.png"):
        assert_png(out / figure)
    summary = (out / "summary.md").read_text()
    assert summary.startswith("# ocbench results")
    assert "[the AUROC heatmap](auroc.png)" in summary  # relative to the summary
    assert "| snakemake | `9.99` |" in summary and configuration_yaml(config) in summary
    assert "No run matches a published result" in summary  # the configuration's settings were applied
    assert not [p for p in out.rglob(".*") if p.is_file()]  # no temporary file left behind


def test_command_reports_a_corrupt_metrics_file_in_one_line(results, tmp_path, capsys):
    _, paths = results
    paths[1].write_text("not json")
    out = tmp_path / "runs.csv"
    assert main(["collect", "--out", str(out), *map(str, paths)]) == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert message.startswith("ocbench: error: metrics file") and str(paths[1]) in message
    assert not out.exists()
