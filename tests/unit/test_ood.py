"""The multi-class setting: the normal classes of one dataset against the test images of another.

The split on tiny data (anomalies from the other dataset only, every normal class in
training, counts drawn by seed), the conversions of image shapes, the preprocessing
fitted on the normal training data only, the config checks, the outlier accuracy and
its table, the preset's dry run, and mnist5k against Fashion-MNIST through the workflow.
"""
import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ocbench.config import load_and_validate, split_params
from ocbench.data import load_run_data
from ocbench.data.ood import convert_images, make_anomaly_split, needed_conversions
from ocbench.data.prepared import save_npz
from ocbench.data.preprocess import gcn_l1, to_unit
from ocbench.data.splits import load_split, save_split
from ocbench.errors import OcbenchError
from ocbench.metrics import run_metrics
from ocbench.report.tables import latex_tables, summarize

from helpers.config_checks import fails
from helpers.paths import ROOT
from helpers.workflow import snakemake_with_configfile

PRESET = ROOT / "workflow" / "experiments" / "multiclass_ood.yaml"
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def tiny_images(n_classes, per_class_train, per_class_test, shape, seed):
    rng = np.random.default_rng(seed)
    y_train = np.repeat(np.arange(n_classes), per_class_train)
    y_test = np.repeat(np.arange(n_classes), per_class_test)
    return {"x_train": rng.integers(0, 256, (len(y_train),) + shape, dtype=np.uint8), "y_train": y_train,
            "x_test": rng.integers(0, 256, (len(y_test),) + shape, dtype=np.uint8), "y_test": y_test}


@pytest.fixture
def normal_set():
    return tiny_images(3, 5, 4, (1, 6, 6), seed=0)  # 15 training, 12 test images


@pytest.fixture
def other_set():
    return tiny_images(4, 2, 5, (1, 6, 6), seed=1)  # 20 test images


# --------------------------------------------------------------------------- the split

def test_all_classes_normal_anomalies_only_from_the_other_dataset(normal_set, other_set):
    split = make_anomaly_split(normal_set, "digits", [0, 1, 2], 3, {"letters": other_set}, ["letters"])
    np.testing.assert_array_equal(split["train_idx"], np.arange(15))  # every training image: all classes normal
    assert set(split["train_class"]) == {0, 1, 2} and not split["train_semi"].any()
    source, label = split["test_source"], split["test_label"]
    np.testing.assert_array_equal(label, (source > 0).astype(int))  # the anomalies are the other dataset's
    assert (source == 0).sum() == 12 and (source == 1).sum() == 20
    np.testing.assert_array_equal(split["test_idx"][source == 1], np.arange(20))  # all of its test images
    np.testing.assert_array_equal(split["test_class"][source == 1], other_set["y_test"])
    info = json.loads(split["info"])
    assert info["test_sources"] == ["digits", "letters"] and info["anomaly_datasets"] == ["letters"]
    assert info["n_test_from"] == {"digits": 12, "letters": 20}
    assert info["n_test_normal"] == 12 and info["n_test_anomaly"] == 20


def test_a_chosen_list_leaves_the_other_classes_out_of_the_test_set(normal_set, other_set):
    split = make_anomaly_split(normal_set, "digits", [2, 0], 3, {"letters": other_set}, ["letters"])
    assert set(split["train_class"]) == {0, 2} and len(split["train_idx"]) == 10
    normal_rows = split["test_source"] == 0
    assert set(split["test_class"][normal_rows]) == {0, 2} and normal_rows.sum() == 8
    assert (split["test_label"][normal_rows] == 0).all()


def test_anomaly_counts_are_drawn_by_seed(normal_set, other_set):
    third = tiny_images(3, 1, 3, (1, 6, 6), seed=2)  # 9 test images
    anomalies = {"letters": other_set, "shapes": third}

    def drawn(seed):
        split = make_anomaly_split(normal_set, "digits", [0, 1, 2], seed, anomalies, ["letters", "shapes"],
                                   anomalies_per_dataset=6)
        return {s: split["test_idx"][split["test_source"] == s] for s in (1, 2)}

    first = drawn(1)
    assert len(first[1]) == len(first[2]) == 6 and len(set(first[1])) == 6
    assert first[1].max() < 20 and first[2].max() < 9
    assert all(np.array_equal(first[s], drawn(1)[s]) for s in (1, 2))  # reproducible
    assert any(not np.array_equal(first[s], drawn(2)[s]) for s in (1, 2))  # another seed, another draw
    with pytest.raises(OcbenchError, match="anomalies_per_dataset 10 exceeds the 9 test images of 'shapes'"):
        make_anomaly_split(normal_set, "digits", [0], 1, anomalies, ["letters", "shapes"], anomalies_per_dataset=10)


def test_split_refuses_its_own_dataset_and_labels(normal_set, other_set):
    with pytest.raises(OcbenchError, match="anomaly dataset 'mnist' holds the images of the normal dataset 'mnist5k'"):
        make_anomaly_split(normal_set, "mnist5k", [0], 1, {"mnist": other_set}, ["mnist"])
    with pytest.raises(OcbenchError, match="unsupervised"):
        make_anomaly_split(normal_set, "digits", [0], 1, {"letters": other_set}, ["letters"], ratio_pollution=0.1)


# --------------------------------------------------------------------------- conversions

def test_conversions_worked_by_hand():
    assert needed_conversions((1, 28, 28), (3, 32, 32)) == ["gray_to_rgb", "resize"]
    assert needed_conversions((3, 32, 32), (1, 32, 32)) == ["rgb_to_gray"]
    assert needed_conversions((3, 32, 32), (3, 32, 32)) == []
    with pytest.raises(OcbenchError, match="no conversion turns 4-channel images into 3-channel ones"):
        needed_conversions((4, 32, 32), (3, 32, 32))
    gray = np.arange(8, dtype=np.uint8).reshape(2, 1, 2, 2)
    rgb = convert_images(gray, (3, 2, 2), ["gray_to_rgb"])
    assert rgb.shape == (2, 3, 2, 2) and all(np.array_equal(rgb[:, c], gray[:, 0]) for c in range(3))
    red = np.zeros((1, 3, 1, 1), dtype=np.uint8)
    red[0, 0] = 255
    assert convert_images(red, (1, 1, 1), ["rgb_to_gray"])[0, 0, 0, 0] == 76  # round(0.299 * 255) = round(76.2)
    flat = np.full((1, 1, 28, 28), 200, dtype=np.uint8)
    resized = convert_images(flat, (1, 32, 32), ["resize"])
    assert resized.shape == (1, 1, 32, 32) and (resized == 200).all()  # a constant image stays constant
    with pytest.raises(OcbenchError, match="need the conversions gray_to_rgb, resize to become 3×32×32"):
        convert_images(flat, (3, 32, 32), [])


# --------------------------------------------------------------------------- a run's data

def test_run_data_converts_anomalies_and_fits_minmax_on_normal_training_data(tmp_path, normal_set):
    rgb_other = tiny_images(2, 1, 3, (3, 8, 8), seed=5)  # 6 test images
    save_npz(normal_set, tmp_path / "digits.npz")
    save_npz(rgb_other, tmp_path / "photos.npz")
    split = make_anomaly_split(normal_set, "digits", [0, 1, 2], 1, {"photos": rgb_other}, ["photos"],
                               conversions=["rgb_to_gray", "resize"])
    save_split(split, tmp_path / "split.npz")
    assert load_split(tmp_path / "split.npz")["test_source"].tolist() == split["test_source"].tolist()
    data = load_run_data(tmp_path / "digits.npz", tmp_path / "split.npz", "gcn_minmax")
    assert data.x_test.shape == (12 + 6, 1, 6, 6)
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0  # bounds of the normal training data
    train = gcn_l1(to_unit(normal_set["x_train"]))
    low, high = float(train.min()), float(train.max())
    anomalies = gcn_l1(to_unit(convert_images(rgb_other["x_test"], (1, 6, 6), ["rgb_to_gray", "resize"])))
    np.testing.assert_allclose(data.x_test[12:], (anomalies - low) / (high - low), rtol=1e-5, atol=1e-6)
    assert data.split_info["anomaly_datasets"] == ["photos"]
    # The cached preprocessing is made again when the anomaly dataset's prepared file changes.
    save_npz({**rgb_other, "x_test": 255 - rgb_other["x_test"]}, tmp_path / "photos.npz")
    again = load_run_data(tmp_path / "digits.npz", tmp_path / "split.npz", "gcn_minmax")
    np.testing.assert_array_equal(again.x_test[:12], data.x_test[:12])
    assert not np.allclose(again.x_test[12:], data.x_test[12:])


# --------------------------------------------------------------------------- config

def config_with(setting, dataset="mnist5k", normal=("all",), extra_datasets=None):
    config = {"seeds": [1], "methods": ["deep_svdd_oneclass", "isoforest"],
              "settings": {"vs": setting},
              "datasets": {dataset: {"normal_classes": list(normal), "settings": ["vs"]}}}
    config["datasets"].update(extra_datasets or {})
    return config


def test_config_bad_anomaly_datasets():
    fails(config_with({"anomaly_datasets": ["mnist5k"]}), "settings.vs", "'mnist5k' is the normal dataset")
    fails(config_with({"anomaly_datasets": ["mnist"]}), "'mnist' holds the same images as the normal dataset 'mnist5k'")
    fails(config_with({"anomaly_datasets": ["mnist"]}, dataset="cifar10"),
          "settings.vs (dataset 'cifar10').conversions", "anomaly dataset 'mnist' has 1×28×28 images",
          "normal dataset 'cifar10' 3×32×32", "add gray_to_rgb and resize")
    fails(config_with({"anomaly_datasets": ["mnist"], "conversions": ["resize"]}, dataset="cifar10"),
          "add gray_to_rgb to the setting's conversions")
    fails(config_with({"anomaly_datasets": ["imagenet"]}), "unknown dataset 'imagenet'", "allowed: ", "fmnist")
    fails(config_with({"anomaly_datasets": ["wine"]}), "'wine' is a tabular dataset")
    fails(config_with({"anomaly_datasets": ["fmnist"], "anomalies_per_dataset": 10001}),
          "10001 images asked for but the test set of 'fmnist' holds 10000")
    fails(config_with({"anomaly_datasets": ["fmnist"], "ratio_pollution": 0.1}), "ratio_pollution is 0.1")


def test_config_accepts_conversions_and_anomaly_only_datasets(tmp_path):
    for name in ("train_32x32.mat", "test_32x32.mat"):  # the mirror's files, by name (checked before any job)
        (tmp_path / name).write_bytes(b"")
    config = load_and_validate(config_with(
        {"anomaly_datasets": ["mnist", "svhn"], "conversions": ["gray_to_rgb", "resize"]}, dataset="cifar10",
        extra_datasets={"svhn": {"mirror": str(tmp_path), "settings": []}}))
    assert config["datasets"]["cifar10"]["normal_classes"] == [list(range(10))]
    params = split_params(config, "vs")
    assert params["anomaly_datasets"] == ["mnist", "svhn"] and params["conversions"] == ["gray_to_rgb", "resize"]
    plain = load_and_validate({"seeds": [1], "methods": ["isoforest"], "datasets": {"mnist5k": {}}})
    assert "anomaly_datasets" not in split_params(plain, "one_class")  # the other settings' params are unchanged


def test_preset_is_valid():
    config = load_and_validate(yaml.safe_load(PRESET.read_text()))
    assert config["seeds"] == list(range(1, 11))
    pairs = {(d, tuple(config["settings"][s]["anomaly_datasets"])) for d, ds in config["datasets"].items()
             for s in ds["settings"]}
    assert pairs == {("mnist", ("fmnist",)), ("mnist", ("kmnist",)), ("mnist", ("emnist_letters",)),
                     ("cifar10", ("svhn",)), ("cifar10", ("cifar100",))}
    assert set(config["methods"]) == {"deep_svdd_oneclass", "deep_svdd_softboundary", "cae", "ocsvm", "isoforest",
                                      "kde"}
    # parsed without heavy libraries: tests/unit/test_registry.py, every shipped config


# --------------------------------------------------------------------------- outlier accuracy and its table

def test_outlier_accuracy_worked_by_hand():
    metrics = run_metrics([0, 0, 1, 1, 1], [0.1, 0.9, 0.8, 0.2, 0.7], threshold=0.5)
    assert metrics["outlier_accuracy"] == pytest.approx(2 / 3)  # anomalies 0.8 and 0.7 are above the threshold
    assert metrics["inlier_accuracy"] == pytest.approx(1 / 2)  # 0.1 below it, 0.9 above
    assert metrics["outlier_accuracy"] == metrics["recall"]
    assert np.isnan(run_metrics([0, 0], [0.1, 0.2], threshold=0.5)["outlier_accuracy"])


def runs_frame(setting, anomaly_datasets, outlier):
    rows = []
    for seed, (auroc, acc) in enumerate(zip([0.9, 0.8], outlier), start=1):
        rows.append({"dataset": "mnist", "setting": setting, "normal": "0-1-2-3-4-5-6-7-8-9", "seed": seed,
                     "method": "deep_svdd_oneclass", "device": "cpu", "auroc": auroc, "status": "ok",
                     "outlier_accuracy": acc, "inlier_accuracy": 0.9, "anomaly_datasets": anomaly_datasets})
    return pd.DataFrame(rows)


def test_multiclass_table_shows_the_outlier_accuracy():
    summary = summarize(runs_frame("vs_fmnist", "fmnist", [0.5, 0.7]))
    assert summary.loc[0, "outlier_accuracy_mean"] == pytest.approx(60.0)
    assert summary.loc[0, "outlier_accuracy_std"] == pytest.approx(np.std([50.0, 70.0], ddof=1))
    table = latex_tables(summary)[("mnist", "vs_fmnist")]
    assert "Outlier acc." in table and "against the test images of fmnist" in table
    assert r"85.0$\pm$7.1 & 60.0$\pm$14.1 & 90.0$\pm$0.0 \\" in table
    one_class = latex_tables(summarize(runs_frame("one_class", "", [0.5, 0.7])))[("mnist", "one_class")]
    assert "Outlier acc." not in one_class


# --------------------------------------------------------------------------- the workflow

@pytest.mark.workflow
def test_preset_dry_run_offline(tmp_path):
    result = snakemake_with_configfile(tmp_path, PRESET, "--dry-run", "--quiet", "rules")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    counts = {line.split()[0]: int(line.split()[1]) for line in (result.stdout + result.stderr).splitlines()
              if len(line.split()) == 2 and line.split()[1].isdigit()}
    assert counts["fetch"] == counts["prepare"] == 7  # mnist, cifar10 and their five anomaly datasets
    assert counts["split"] == 5 * 10  # five (dataset, setting) pairs, one group, ten seeds
    assert not (tmp_path / "data").exists()


TINY = {
    "seeds": [1],
    "methods": ["deep_svdd_oneclass", "isoforest"],
    "training": {"network": {"epochs": 1, "milestones": [], "batch_size": 64},
                 "autoencoder": {"epochs": 1, "milestones": [], "batch_size": 64}},
    "settings": {"vs_fmnist": {"anomaly_datasets": ["fmnist"], "anomalies_per_dataset": 300}},
    "extremes_seeds": [],
    "datasets": {"mnist5k": {"normal_classes": ["all"], "settings": ["vs_fmnist"]},
                 "fmnist": {"mirror": str(DEBIAN_FASHION_MNIST), "settings": []}},
}


@pytest.mark.workflow
@pytest.mark.skipif(not DEBIAN_FASHION_MNIST.is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed (apt-get install -y dataset-fashion-mnist)")
def test_mnist5k_against_fashion_mnist_end_to_end(tmp_path):
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(copy.deepcopy(TINY)))
    result = snakemake_with_configfile(tmp_path, configfile, "--cores", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    split = load_split(tmp_path / "results/splits/mnist5k/vs_fmnist/0-1-2-3-4-5-6-7-8-9/seed1.npz")
    info = json.loads(split["info"])
    assert info["n_test_from"] == {"mnist5k": 1000, "fmnist": 300} and set(split["train_class"]) == set(range(10))
    np.testing.assert_array_equal(split["test_label"], split["test_source"])
    runs = pd.read_csv(tmp_path / "results/tables/runs.csv")
    assert len(runs) == 2 and (runs["anomaly_datasets"] == "fmnist").all()
    assert runs["outlier_accuracy"].between(0, 1).all() and runs["auroc"].between(0, 1).all()
    table = (tmp_path / "results/tables/auroc_mnist5k_vs_fmnist.tex").read_text()
    assert "Outlier acc." in table


def test_extremes_figure_reads_only_the_normal_rows(tmp_path, normal_set):
    from ocbench.report.plots import plot_extremes

    save_npz(normal_set, tmp_path / "digits.npz")
    scores = pd.DataFrame({"index": [0, 11, 5, 19], "label": [0, 0, 1, 1], "score": [0.1, 0.2, 0.9, 0.8]})
    scores.to_csv(tmp_path / "scores.csv", index=False)  # anomaly rows index another dataset (19 > 11)
    plot_extremes(tmp_path / "digits.npz", tmp_path / "scores.csv", tmp_path / "extremes.png", n=2)
    assert (tmp_path / "extremes.png").stat().st_size > 0
    scores.loc[1, "index"] = 12  # a normal row outside this dataset's 12 test images is still refused
    scores.to_csv(tmp_path / "scores.csv", index=False)
    with pytest.raises(OcbenchError, match="indexes up to 12 but .* holds 12 test images"):
        plot_extremes(tmp_path / "digits.npz", tmp_path / "scores.csv", tmp_path / "extremes.png", n=2)
