"""One job = one function: split, pretrain and run_method end to end on a tiny prepared dataset."""
import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ocbench.errors import OcbenchError

from ocbench import runs

METRIC_KEYS = {"auroc", "aupr", "threshold", "precision", "recall", "accuracy", "train_time_s", "test_time_s",
               "peak_memory_mb", "status", "versions", "dataset", "setting", "normal_classes", "seed", "method",
               "device", "n_train", "n_test"}
ONE_CLASS = {"ratio_known_normal": 0, "ratio_known_outlier": 0, "ratio_pollution": 0,
             "known_outlier_class": None, "n_known_outlier_classes": 0}
TINY_TRAINING = {"lr": 1e-3, "epochs": 1, "milestones": [], "batch_size": 16, "weight_decay": 0.5e-6,
                 "amsgrad": False}


def registered(method):
    from ocbench.detectors import METHODS

    assert method in METHODS, f"method {method} is not registered"
    return method


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A prepared mnist5k-shaped dataset of 60 training and 40 test images, split for class 0."""
    root = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(0)
    y_train, y_test = np.arange(60) % 3, np.arange(40) % 4
    # class c is a bright square at a class-specific place, so a detector can tell them apart
    def images(labels):
        x = rng.integers(0, 40, size=(len(labels), 1, 28, 28), dtype=np.uint8)
        for i, c in enumerate(labels):
            x[i, 0, 4 + 5 * c:10 + 5 * c, 4:24] = 230
        return x
    prepared = root / "prepared.npz"
    np.savez(prepared, x_train=images(y_train), y_train=y_train.astype(np.int64), x_test=images(y_test),
             y_test=y_test.astype(np.int64))
    split = root / "split.npz"
    runs.split("mnist5k", prepared, [0], 1, ONE_CLASS, split)
    return root, prepared, split


@pytest.fixture(scope="module")
def autoencoder(tiny):
    root, prepared, split = tiny
    out = root / "autoencoder.pt"
    runs.pretrain(prepared, split, "gcn_minmax", "mnist_lenet", "cpu", 1, TINY_TRAINING, out)
    return out


def run(tiny, method, params, autoencoder, outdir, **kwargs):
    _, prepared, split = tiny
    return runs.run_method(method, prepared, split, "gcn_minmax", "mnist_lenet", "cpu", 1, params, autoencoder,
                           0.1, outdir, dataset="mnist5k", setting="one_class", normal_classes=[0], **kwargs)


def read_scores(path):
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    return (np.array([int(r["index"]) for r in rows]), np.array([int(r["label"]) for r in rows]),
            np.array([float(r["score"]) for r in rows]))


def check_run_directory(outdir, tiny, method):
    from ocbench.data.splits import load_split

    _, _, split = tiny
    metrics = json.loads((outdir / "metrics.json").read_text())
    assert METRIC_KEYS <= set(metrics)
    assert metrics["status"] == "ok" and metrics["method"] == method and metrics["normal_classes"] == [0]
    assert 0.0 <= metrics["auroc"] <= 1.0
    index, labels, scores = read_scores(outdir / "scores.csv")
    assert len(index) == metrics["n_test"] and np.all(np.isfinite(scores))
    # every score sits beside the label of the very test sample it belongs to
    saved = load_split(split)
    label_of = dict(zip(np.asarray(saved["test_idx"]).tolist(), np.asarray(saved["test_label"]).tolist()))
    assert [label_of[i] for i in index.tolist()] == labels.tolist()
    assert json.loads((outdir / "params.json").read_text())["method"] == method
    assert not [p for p in outdir.parent.iterdir() if p.name.startswith(".")]  # no staging left behind
    return metrics


def test_deep_method_writes_a_complete_run(tiny, autoencoder, tmp_path):
    method = registered("deep_svdd_oneclass")
    outdir = tmp_path / "runs" / method / "cpu"
    params = dict(TINY_TRAINING)
    metrics = run(tiny, method, params, autoencoder, outdir)
    check_run_directory(outdir, tiny, method)
    assert metrics["n_test"] == 40 and metrics["n_train"] == 20
    import torch

    model = torch.load(outdir / "model.pt", weights_only=False)
    assert "network_" in model and "c_" in model and model["params"]["hyper_parameters"] == params


def test_shallow_method_writes_a_complete_run(tiny, tmp_path):
    method = registered("isoforest")
    outdir = tmp_path / "runs" / method / "cpu"
    run(tiny, method, {}, None, outdir)
    check_run_directory(outdir, tiny, method)
    assert not (outdir / "model.pt").exists()


def test_validation_share_is_left_out_of_the_evaluation(tiny, tmp_path):
    method = registered("ocsvm")
    outdir = tmp_path / "runs" / method / "cpu"
    metrics = run(tiny, method, {}, None, outdir)
    check_run_directory(outdir, tiny, method)
    assert metrics["n_validation"] > 0 and metrics["n_test"] + metrics["n_validation"] == 40


def test_cae_scores_with_the_pretrained_autoencoder(tiny, autoencoder, tmp_path):
    method = registered("cae")
    outdir = tmp_path / "runs" / method / "cpu"
    run(tiny, method, {}, autoencoder, outdir)
    check_run_directory(outdir, tiny, method)
    with pytest.raises(OcbenchError, match="needs the pretrained autoencoder"):
        run(tiny, method, {}, None, tmp_path / "other")


def test_a_failed_run_leaves_the_finished_one_untouched(tiny, autoencoder, tmp_path, monkeypatch):
    method = registered("deep_svdd_oneclass")
    outdir = tmp_path / "runs" / method / "cpu"
    run(tiny, method, dict(TINY_TRAINING), autoencoder, outdir)
    before = {p.name: p.read_bytes() for p in outdir.iterdir()}

    with pytest.raises(OcbenchError, match="nu"):  # refused before training
        run(tiny, method, dict(TINY_TRAINING, nu=2.0), autoencoder, outdir)
    assert {p.name: p.read_bytes() for p in outdir.iterdir()} == before

    # a crash while the new files are being written, after scores.csv and metrics.json
    write_json = runs.write_json

    def crash_on_params(path, data):
        if path.name == "params.json":
            raise OSError("disk full")
        write_json(path, data)

    monkeypatch.setattr(runs, "write_json", crash_on_params)
    with pytest.raises(OSError, match="disk full"):
        run(tiny, method, dict(TINY_TRAINING, lr=2e-3), autoencoder, outdir)
    assert {p.name: p.read_bytes() for p in outdir.iterdir()} == before
    assert sorted(p.name for p in outdir.parent.iterdir()) == ["cpu"]  # no staging left behind


def test_semi_supervised_method_refuses_a_split_without_labels(tiny, tmp_path):
    from ocbench.detectors import METHODS

    semi = sorted(m for m, spec in METHODS.items() if spec.needs_labels)
    assert semi == ["ss_dgm"]
    with pytest.raises(OcbenchError, match="no labelled"):
        run(tiny, semi[0], {}, None, tmp_path / "semi")


def test_atomic_path_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with runs.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_cli_prints_one_line_and_exits_2(tiny, tmp_path):
    _, prepared, split = tiny
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, "-m", "ocbench.cli", "run", "--method", "no_such_method", "--prepared", str(prepared),
         "--split", str(split), "--preprocessing", "gcn_minmax", "--seed", "1", "--outdir", str(tmp_path / "x")],
        capture_output=True, text=True, env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("ocbench: error: unknown method 'no_such_method'")
