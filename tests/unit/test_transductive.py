"""The OC-NN authors' transductive protocol: the split's counts (MNIST's 1 % share, CIFAR-10's pooled 6,000
normal images and 500 outliers, on synthetic prepared arrays), its images and preprocessing, the record of
the protocol in each run, the config's one-line refusals, and the OC-NN formulation switch reaching only
OC-NN's runs."""
import json

import numpy as np
import pytest

from ocbench.jobs.data_jobs import split as split_job
from ocbench.jobs.method_run import run_method
from ocbench.jobs.plan import one_run_plan
from ocbench.jobs.uptodate import run_request
from ocbench.config import batch_job_plan, load_and_validate
from ocbench.config import runs as grid_runs
from ocbench.data import load_run_data
from ocbench.data.preprocess import gcn_l2
from ocbench.data.splits import load_split, make_transductive_split, pooled_images, protocol_of
from ocbench.errors import OcbenchError

from helpers.config_checks import fails

NO_LABELS = {"ratio_known_normal": 0, "ratio_known_outlier": 0, "ratio_pollution": 0, "known_outlier_class": None,
             "n_known_outlier_classes": 0}


def prepared(train_sizes, test_sizes, shape=(1, 4, 4)):
    """Synthetic prepared arrays; every image holds its own pooled index (x_train, then x_test) in its first pixel."""
    y_train = np.repeat(np.arange(len(train_sizes)), train_sizes).astype(np.int64)
    y_test = np.repeat(np.arange(len(test_sizes)), test_sizes).astype(np.int64)
    n_train, n = len(y_train), len(y_train) + len(y_test)
    images = np.random.default_rng(0).integers(0, 256, size=(n, *shape), dtype=np.uint8)
    images.reshape(n, -1)[:, 0] = np.arange(n) % 256
    return {"x_train": images[:n_train], "y_train": y_train, "x_test": images[n_train:], "y_test": y_test}


# --------------------------------------------------------------------------- counts

def test_mnist_protocol_every_normal_image_plus_one_percent_anomalies():
    # MNIST's class sizes: 5,923 training and 980 test images of digit 0
    data = prepared([5923, 6742, 5958], [980, 1135, 1032])
    split = make_transductive_split(data, [0], 42, {"contamination": 0.01}, **NO_LABELS)
    info = json.loads(split["info"])
    # 5,923 + 980 = 6,903 normal images; int(0.01 * 6,903) = int(69.03) = 69 anomalies
    assert (info["n_normal_from_train"], info["n_normal_from_test"]) == (5923, 980)
    assert (info["n_test_normal"], info["n_test_anomaly"], info["n_train"]) == (6903, 69, 6972)
    assert info["protocol"] == "transductive" and protocol_of(info) == "transductive"
    # trained on and scored on the same images, every one of them
    np.testing.assert_array_equal(split["train_idx"], split["test_idx"])
    assert len(split["test_evaluation"]) == 6972 and len(split["test_validation"]) == 0
    classes = split["test_class"]
    assert set(classes[split["test_label"] == 1]) <= {1, 2} and set(classes[split["test_label"] == 0]) == {0}
    assert (split["train_semi"] == 0).all()


def test_cifar10_protocol_pools_training_and_test_images():
    # CIFAR-10's sizes: 5,000 training and 1,000 test images per class
    data = prepared([5000] * 10, [1000] * 10, shape=(3, 2, 2))
    split = make_transductive_split(data, [3], 7, {"anomalies": 500, "gcn_classes": [1, 3, 5, 6, 7, 9]},
                                    **NO_LABELS)
    info = json.loads(split["info"])
    assert (info["n_test_normal"], info["n_test_anomaly"]) == (6000, 500)
    assert (info["n_normal_from_train"], info["n_normal_from_test"]) == (5000, 1000)
    assert info["gcn_l2"] and not json.loads(make_transductive_split(
        data, [0], 7, {"anomalies": 500, "gcn_classes": [1, 3, 5, 6, 7, 9]}, **NO_LABELS)["info"])["gcn_l2"]
    # indices point into the training images followed by the test images: 50,000 + 10,000
    pooled = pooled_images(data)
    assert pooled.shape == (60000, 3, 2, 2)
    idx = split["train_idx"]
    np.testing.assert_array_equal(pooled[idx].reshape(len(idx), -1)[:, 0], idx % 256)
    assert (idx >= 50000).sum() == 1000 + (split["test_class"][idx >= 50000] != 3).sum()
    # the 500 outliers come from the nine other classes, of both official sets
    outliers = split["test_class"][split["test_label"] == 1]
    assert 3 not in set(outliers) and len(set(outliers)) == 9


def test_the_draw_is_the_seeds():
    data = prepared([300, 300, 300], [50, 50, 50])
    protocol = {"contamination": 0.05}
    first = make_transductive_split(data, [1], 3, protocol, **NO_LABELS)
    again = make_transductive_split(data, [1], 3, protocol, **NO_LABELS)
    other = make_transductive_split(data, [1], 4, protocol, **NO_LABELS)
    for key in ("train_idx", "test_label", "info"):
        np.testing.assert_array_equal(first[key], again[key])
    assert not np.array_equal(first["train_idx"], other["train_idx"])
    assert json.loads(first["info"])["n_test_anomaly"] == 17  # int(0.05 * 350) = int(17.5)


@pytest.mark.parametrize("protocol, message", [
    ({"contamination": 1.0}, "contamination must lie in [0, 1)"),
    ({"contamination": -0.01}, "contamination must lie in [0, 1)"),
    ({"contamination": 0.01, "anomalies": 5}, "exactly one"),
    ({}, "exactly one"),
    ({"anomalies": 1000}, "asks for 1000 anomalies but the classes outside [0] have 700 images"),
])
def test_bad_protocols_are_refused_in_one_line(protocol, message):
    with pytest.raises(OcbenchError) as err:
        make_transductive_split(prepared([300, 300, 300], [50, 50, 50]), [0], 1, protocol, **NO_LABELS)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_ratio_or_a_tabular_dataset_is_refused():
    with pytest.raises(OcbenchError, match="unsupervised"):
        make_transductive_split(prepared([30, 30], [5, 5]), [0], 1, {"contamination": 0.1},
                                **dict(NO_LABELS, ratio_pollution=0.1))
    with pytest.raises(OcbenchError, match="tabular"):
        make_transductive_split({"x": np.zeros((4, 2)), "y": np.zeros(4)}, [0], 1, {"anomalies": 1})


# --------------------------------------------------------------------------- images and preprocessing

def test_gcn_l2_on_hand_worked_numbers():
    x = np.array([[[[1.0, 3.0]]], [[[2.0, 2.0]]]], dtype=np.float32)
    # centred [-1, 1], L2 norm sqrt(2); a constant image stays 0
    np.testing.assert_allclose(gcn_l2(x)[:, 0, 0], [[-1 / np.sqrt(2), 1 / np.sqrt(2)], [0.0, 0.0]], rtol=1e-6)


@pytest.fixture
def split_files(tmp_path):
    data = prepared([40, 40, 40], [10, 10, 10])
    path = tmp_path / "prepared.npz"
    np.savez(path, **data)

    def make(normal, protocol):
        out = tmp_path / f"split_{normal}.npz"
        split_job("mnist5k", path, [normal], 1, dict(NO_LABELS, transductive=protocol), out)
        return out

    return data, path, make


def test_a_run_trains_and_is_scored_on_the_pooled_images_divided_by_255(split_files):
    data, path, make = split_files
    split_path = make(2, {"anomalies": 4})
    run_data = load_run_data(path, split_path, "unit")
    idx = load_split(split_path)["train_idx"]
    np.testing.assert_array_equal(run_data.x_train, pooled_images(data)[idx].astype(np.float32) / 255)
    np.testing.assert_array_equal(run_data.x_test, run_data.x_train)
    assert run_data.y_test.sum() == 4 and len(run_data.evaluation) == 54


def test_gcn_classes_normalise_only_their_splits(split_files):
    _, path, make = split_files
    normalised = load_run_data(path, make(1, {"anomalies": 4, "gcn_classes": [1]}), "unit").x_train
    plain = load_run_data(path, make(0, {"anomalies": 4, "gcn_classes": [1]}), "unit").x_train
    flat = normalised.reshape(len(normalised), -1)
    np.testing.assert_allclose(flat.mean(axis=1), 0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(flat, axis=1), 1, rtol=1e-5)
    assert plain.min() >= 0 and plain.max() <= 1


def test_each_run_records_its_protocol(split_files, tmp_path):
    _, path, make = split_files
    split_path = make(0, {"contamination": 0.1})
    metrics = run_method(*one_run_plan("isoforest", prepared=path, split=split_path, preprocessing="unit", seed=1,
                                       run_dir=tmp_path / "run", hyper_parameters={"n_estimators": 10},
                                       dataset="mnist5k", setting="authors", normal_classes=[0]))
    # 40 + 10 images of class 0, int(0.1 * 50) = 5 anomalies
    assert metrics["protocol"] == "transductive" and metrics["n_train"] == metrics["n_test"] == 55
    scores = np.loadtxt(tmp_path / "run" / "scores.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(scores[:, 0], load_split(split_path)["train_idx"])  # indices into the pooled images
    # runs.csv and the AUROC tables carry it
    from ocbench.report.collect import collect_runs
    from ocbench.report.tables import latex_table, summarize
    summary = summarize(collect_runs([tmp_path / "run" / "metrics.json"]))
    assert summary["protocol"].tolist() == ["transductive"]
    assert "Transductive (scored on the training images) AUROC" in latex_table(summary)
    # the picture of the extremes reads the pooled images too (indices up to 120 + 30 test images)
    from ocbench.report.plots import plot_extremes
    plot_extremes(path, tmp_path / "run" / "scores.csv", tmp_path / "extremes.png", n=4)
    assert (tmp_path / "extremes.png").stat().st_size > 0


# --------------------------------------------------------------------------- the config

def config(**setting):
    return {"methods": ["ocnn", "ocnn_authors_code", "cae", "deep_svdd_oneclass", "isoforest"],
            "datasets": {"mnist5k": {"normal_classes": [0, 1]}}, "settings": {"authors": setting}}


def test_the_protocol_reaches_the_split_parameters_without_a_validation_share():
    from ocbench.config import split_params

    checked = load_and_validate(config(transductive={"contamination": 0.01}))
    params = split_params(checked, "authors")
    assert params["transductive"] == {"contamination": 0.01, "gcn_classes": []}
    assert "validation_fraction" not in params


@pytest.mark.parametrize("setting, fragments", [
    ({"transductive": {"contamination": 1.0}}, ["settings.authors.transductive.contamination", "1.0",
                                                 "maximum of 1"]),
    ({"transductive": {"contamination": -0.5}}, ["settings.authors.transductive.contamination", "-0.5",
                                                  "minimum of 0"]),
    ({"transductive": {"anomalies": 5, "contamination": 0.1}}, ["transductive", "exactly one"]),
    ({"transductive": {"contamination": 0.01}, "ratio_known_outlier": 0.05, "n_known_outlier_classes": 1},
     ["ratio_known_outlier is 0.05", "transductive protocol is unsupervised"]),
    ({"transductive": {"contamination": 0.01}, "ratio_pollution": 0.1},
     ["ratio_pollution is 0.1", "transductive protocol is unsupervised"]),
    ({"transductive": {"contamination": 0.01}, "anomaly_datasets": ["fmnist"]},
     ["cannot be combined with anomaly_datasets (a multi-dataset setting)"]),
    ({"transductive": {"anomalies": 5, "gcn_classes": [10]}}, ["gcn_classes: class 10 is out of range", "0-9"]),
])
def test_bad_transductive_settings_fail_in_one_line_before_any_job(setting, fragments):
    fails(config(**setting), *fragments)


def test_an_unknown_formulation_fails_in_one_line():
    bad = config(transductive={"contamination": 0.01})
    bad["method_params"] = {"ocnn": {"formulation": "keras"}}
    fails(bad, "method_params.ocnn.formulation", "'keras'", "allowed: one of paper, authors_code")


def test_the_transductive_protocol_is_for_image_datasets():
    bad = config(transductive={"contamination": 0.01})
    bad["datasets"] = {"wine": {}}
    fails(bad, "for image datasets only")


def plan_requests(checked):
    """Every run's request (``jobs.uptodate.run_request``) by (normal, method), from the batch plans of the grid."""
    from ocbench.config import group_runs

    inputs = {"prepared": "p", "split": "s"}
    requests = {}
    for batch_runs in group_runs(grid_runs(checked)).values():
        job = batch_job_plan(checked, batch_runs, prepared="p.npz", split_of=lambda r: f"{r.normal}.npz",
                             run_dir=lambda r: f"{r.normal}/{r.method}", autoencoder_path=lambda p: "ae.pt")
        for plan in job.splits:
            for run in plan.runs:
                requests[(plan.normal_classes[0], run.method)] = run_request(plan, run, inputs)
    return requests


def test_the_formulation_switch_changes_only_ocnn_runs():
    paper = load_and_validate(config(transductive={"contamination": 0.01}))
    switched = config(transductive={"contamination": 0.01})
    switched["method_params"] = {"ocnn": {"formulation": "authors_code"}}
    before, after = plan_requests(paper), plan_requests(load_and_validate(switched))
    assert before.keys() == after.keys() and len(before) == 10
    changed = sorted(key for key in before if before[key] != after[key])
    assert changed == [(0, "ocnn"), (1, "ocnn")]
    assert after[(0, "ocnn")]["hyper_parameters"]["formulation"] == "authors_code"
    assert after[(0, "ocnn_authors_code")]["split_params"]["transductive"] == {"contamination": 0.01,
                                                                               "gcn_classes": []}


def test_the_protocol_is_in_every_request():
    inductive = load_and_validate(config())
    transductive = load_and_validate(config(transductive={"contamination": 0.01}))
    before, after = plan_requests(inductive), plan_requests(transductive)
    assert all(before[key] != after[key] for key in before)


# --------------------------------------------------------------------------- through the workflow

@pytest.mark.workflow
def test_a_tiny_transductive_run_through_the_workflow(tmp_path):
    """mnist5k's digit 0 under the authors' MNIST protocol, both OC-NN formulations and DCAE, one epoch each:
    every run is transductive, scored on its 505 training images, and the comparison with the notebooks
    names the protocol."""
    import pandas as pd

    from helpers.workflow import snakemake

    tiny = {"seeds": [1], "methods": ["ocnn_authors_code", "ocnn", "cae"],
            "training": {"network": {"epochs": 1, "milestones": []}, "autoencoder": {"epochs": 1, "milestones": []}},
            "settings": {"authors": {"transductive": {"contamination": 0.01}}},
            "datasets": {"mnist5k": {"normal_classes": [0], "preprocessing": "unit"}}}
    snakemake(tmp_path, tiny, "--cores", "1")
    runs_csv = pd.read_csv(tmp_path / "results" / "tables" / "runs.csv")
    assert sorted(runs_csv["method"]) == ["cae", "ocnn", "ocnn_authors_code"]
    assert (runs_csv["protocol"] == "transductive").all() and (runs_csv["status"] == "ok").all()
    assert (runs_csv["n_train"] == runs_csv["n_test"]).all()
    compared = pd.read_csv(tmp_path / "results" / "published" / "ocnn.csv")
    assert set(compared["protocol"]) == {"transductive"} and set(compared["published_method"]) == {
        "ocnn_authors_code", "cae"}
    assert "Transductive (scored on the training images)" in (
        tmp_path / "results" / "tables" / "auroc_mnist5k_authors.tex").read_text()
