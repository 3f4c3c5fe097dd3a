"""The published tables: every shipped row names a dataset, method and cell ocbench knows, and a table
that does not is refused in one line naming the table and the value."""
import math

import pytest

from ocbench.errors import OcbenchError
from ocbench.report.published import PUBLISHED_ONLY, check_published, load_published, read_published_table

HEADER = "dataset,normal_class,method,auc_mean,auc_std,source\n"


def check(text, name="planted"):
    table = read_published_table(name, text)
    for key in ("ratio_known_outlier", "n_normal_classes"):
        if key not in table:
            table[key] = math.nan
    return check_published(table)


def refused(text, *fragments):
    with pytest.raises(OcbenchError) as err:
        check(text)
    message = str(err.value)
    assert "\n" not in message and message.startswith("published table planted")
    for fragment in fragments:
        assert fragment in message, message


def test_the_shipped_tables_pass_and_name_their_sources():
    published = load_published()
    assert len(published) == 159 and (published["source"].str.len() > 0).all()
    assert not published["source"].str.startswith("same").any()
    # names ocbench does not run are the documented exceptions only
    from ocbench.data.registry import DATASETS
    from ocbench.detectors import METHODS
    assert set(published["dataset"]) - set(DATASETS) <= set(PUBLISHED_ONLY["dataset"])
    assert set(published["method"]) - set(METHODS) <= set(PUBLISHED_ONLY["method"])


def test_a_good_table_passes():
    assert len(check(HEADER + "mnist,3,deep_svdd_oneclass,91.9,,Ruff et al.\nmnist,4,kde,90.0,0.5,same\n")) == 2


def test_an_unknown_dataset_is_one_line():
    refused(HEADER + "fminst,3,deep_svdd_oneclass,91.9,,x\n", "unknown dataset 'fminst'", "allowed:", "fmnist")


def test_an_unknown_method_is_one_line():
    refused(HEADER + "mnist,3,deep_svd,91.9,,x\n", "unknown method 'deep_svd'", "deep_svdd_oneclass")


def test_a_class_the_dataset_does_not_have_is_one_line():
    refused(HEADER + "mnist,10,kde,91.9,,x\n", "normal class '10' is not a class of dataset 'mnist'", "0-9")


def test_an_unknown_setting_column_is_one_line():
    with pytest.raises(OcbenchError, match="published table planted: unknown column 'gamma_p'; allowed:"):
        read_published_table("planted", "dataset,method,gamma_p,auc_mean,source\nmnist,kde,0.1,90,x\n")


def test_a_number_that_is_no_auroc_in_percent_is_one_line():
    refused(HEADER + "mnist,3,kde,0.91,,x\nmnist,4,kde,191,,x\n", "auc_mean 191", "0-100")


def test_a_ratio_and_a_group_size_out_of_range_are_one_line():
    with pytest.raises(OcbenchError, match="ratio_known_outlier 1.5 must lie in"):
        check("dataset,ratio_known_outlier,method,auc_mean,source\nmnist,1.5,deep_sad,90,x\n")
    with pytest.raises(OcbenchError, match="n_normal_classes 10 must be a whole number in 1-9"):
        check("dataset,n_normal_classes,method,auc_mean,source\nmnist,10,deep_svdd_oneclass,90,x\n")


def test_the_notebooks_table_is_read_in_ocbench_names():
    """ocnn_authors_notebooks.csv is the source's file as given: its OC-NN is ocnn_authors_code, its dcae is
    cae, its GTSRB stop signs are gtsrb's class 14, and its seed count comes from the source's "10 seeds"."""
    from pathlib import Path

    import ocbench

    raw = (Path(ocbench.__file__).parent / "published" / "ocnn_authors_notebooks.csv").read_text()
    assert "mnist,8,ocnn,88.55" in raw and "gtsrb_stop_adversarial,,dcae" in raw
    table = load_published().query("table == 'ocnn_authors_notebooks'")
    assert len(table) == 65 and (table["n_seeds"] == 10).all()
    assert table.query("dataset == 'mnist' and normal == '8' and method == 'ocnn_authors_code'")["auc_mean"].item() \
        == 88.55
    gtsrb = table.query("dataset == 'gtsrb'")
    assert sorted(gtsrb["method"]) == ["cae", "deep_svdd_oneclass", "deep_svdd_softboundary", "rcae"]
    assert set(gtsrb["normal"]) == {"14"}
    assert "ocnn" not in set(table["method"])


def test_a_table_with_its_own_seed_count_keeps_it():
    table = read_published_table("planted", "dataset,normal_class,method,auc_mean,auc_std,n_seeds,source\n"
                                            "mnist,3,kde,90.0,1.0,4,x (10 seeds)\nmnist,4,kde,90.0,1.0,,y (7 seeds)\n")
    assert table["n_seeds"].tolist() == [4, 7]


def test_a_count_is_a_whole_number_and_over_seeds_or_cells_not_both():
    with pytest.raises(OcbenchError, match=r"n_cells 0 must be a whole number >= 1 \(or blank: not given\)"):
        check("dataset,method,auc_mean,n_cells,source\nmnist,deep_sad,90,0,x\n")
    with pytest.raises(OcbenchError, match="n_seeds 2.5 must be a whole number"):
        check("dataset,method,auc_mean,n_seeds,source\nmnist,deep_sad,90,2.5,x\n")
    with pytest.raises(OcbenchError, match="both n_seeds and n_cells are given"):
        check("dataset,method,auc_mean,n_seeds,n_cells,source\nmnist,deep_sad,90,10,90,x\n")


def test_the_shipped_counts_follow_each_paper_s_protocol():
    published = load_published()
    paper = published[published["table"] == "deep_svdd_icml2018_oneclass"]
    assert (paper["n_seeds"] == 10).all() and paper["n_cells"].isna().all()
    deep_sad = published[published["table"] == "deep_sad_iclr2020_labeled_ratio"]
    # ten normal classes times the nine others as the known class; no known class at gamma_l = 0
    assert (deep_sad["n_cells"] == deep_sad["ratio_known_outlier"].map(lambda r: 10 if r == 0 else 90)).all()
    assert deep_sad["n_seeds"].isna().all()
