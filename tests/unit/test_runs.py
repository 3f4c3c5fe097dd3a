"""One job = one function: split, pretrain, run_method and the batch job end to end on a tiny prepared dataset."""
import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ocbench.errors import OcbenchError
from ocbench.files import atomic_path
from ocbench.jobs import method_run
from ocbench.jobs.batch import run_batch as run_split_plan
from ocbench.jobs.batch import run_batches as run_batch_plan
from ocbench.jobs.data_jobs import split as split_job
from ocbench.jobs.plan import BatchPlan, SplitPlan, one_run_plan
from ocbench.jobs.pretraining import pretrain
from ocbench.paths import FAILED_RECORD

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
    split_job("mnist5k", prepared, [0], 1, ONE_CLASS, split)
    return root, prepared, split


@pytest.fixture(scope="module")
def autoencoder(tiny):
    root, prepared, split = tiny
    out = root / "autoencoder.pt"
    pretrain(prepared, split, "gcn_minmax", "mnist_lenet", "cpu", 1, TINY_TRAINING, out)
    return out


def run(tiny, method, params, autoencoder, outdir):
    _, prepared, split = tiny
    return method_run.run_method(*one_run_plan(
        method, prepared=prepared, split=split, preprocessing="gcn_minmax", seed=1, run_dir=outdir, net="mnist_lenet",
        hyper_parameters=params, autoencoder=autoencoder, dataset="mnist5k", setting="one_class",
        normal_classes=[0]))


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
    # scored on the split's evaluation share: 40 test images less the validation share of
    # 10% per label (1 of the 10 normal, 3 of the 30 anomalous)
    assert metrics["n_test"] == 36 and metrics["n_train"] == 20
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
    write_json = method_run.write_json

    def crash_on_params(path, data):
        if path.name == "params.json":
            raise OSError("disk full")
        write_json(path, data)

    monkeypatch.setattr(method_run, "write_json", crash_on_params)
    with pytest.raises(OSError, match="disk full"):
        run(tiny, method, dict(TINY_TRAINING, lr=2e-3), autoencoder, outdir)
    assert {p.name: p.read_bytes() for p in outdir.iterdir()} == before
    assert sorted(p.name for p in outdir.parent.iterdir()) == ["cpu"]  # no staging left behind


def test_a_method_that_needs_labelled_anomalies_refuses_a_split_without_them(tiny, tmp_path):
    from ocbench.detectors import METHODS

    semi = sorted(m for m, spec in METHODS.items() if spec.needs_labels)
    assert semi == ["ss_dgm", "supervised"]
    for method in semi:
        with pytest.raises(OcbenchError, match=f"method '{method}' learns from labelled anomalies but split .* has "
                                               r"none \(no semi-label is -1\)"):
            run(tiny, method, {}, None, tmp_path / method)


def test_atomic_path_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
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


# --------------------------------------------------------------------------- batches

def batch_plan(tiny, root, network=None, isoforest=None):
    """The plan of one split on the CPU, as JSON values: Deep SVDD and CAE (both read the autoencoder) and
    isoforest."""
    _, prepared, split = tiny
    entry = {"net": "mnist_lenet", "uses_autoencoder": True}
    return {
        "dataset": "mnist5k", "setting": "one_class", "normal_classes": [0], "seed": 1, "device": "cpu",
        "prepared": str(prepared), "split": str(split), "split_params": ONE_CLASS, "preprocessing": "gcn_minmax",
        "autoencoder": {"path": str(root / "pretrain" / "autoencoder.pt"), "net": "mnist_lenet",
                        "params": TINY_TRAINING},
        "runs": [
            dict(entry, method="deep_svdd_oneclass", run_dir=str(root / "runs" / "deep_svdd_oneclass" / "cpu"),
                 hyper_parameters=network or dict(TINY_TRAINING)),
            dict(entry, method="cae", run_dir=str(root / "runs" / "cae" / "cpu"), hyper_parameters={}),
            dict(method="isoforest", run_dir=str(root / "runs" / "isoforest" / "cpu"), net=None,
                 uses_autoencoder=False, hyper_parameters=isoforest or {}),
        ],
    }


def run_batch(plan: dict, manifest=None) -> dict:
    """One split's plan, given as JSON values, through the batch job."""
    return run_split_plan(SplitPlan.from_dict(plan), manifest)


def run_batches(job: dict, manifest=None) -> dict:
    """A batch job's plan, given as JSON values, through the batch job."""
    return run_batch_plan(BatchPlan.from_dict(job), manifest)


def snapshot(root):
    """Every file under root: its bytes and its modification time."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_batch_fits_every_run_once_and_a_rerun_touches_nothing(tiny, tmp_path):
    plan = batch_plan(tiny, tmp_path)
    manifest = run_batch(plan, tmp_path / "manifest.json")
    assert [(r["method"], r["status"]) for r in manifest["runs"]] == [
        ("deep_svdd_oneclass", "ok"), ("cae", "ok"), ("isoforest", "ok")]
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest
    for entry in plan["runs"]:
        check_run_directory(Path(entry["run_dir"]), tiny, entry["method"])
    # CAE trains nothing itself; the autoencoder's training time is recorded beside its own
    deep = json.loads((tmp_path / "runs/deep_svdd_oneclass/cpu/metrics.json").read_text())
    cae = json.loads((tmp_path / "runs/cae/cpu/metrics.json").read_text())
    forest = json.loads((tmp_path / "runs/isoforest/cpu/metrics.json").read_text())
    recorded = json.loads((tmp_path / "pretrain/autoencoder.json").read_text())
    assert deep["pretrain_time_s"] == cae["pretrain_time_s"] == recorded["train_time_s"] > 0
    assert deep["pretrain_cpu_s"] == cae["pretrain_cpu_s"] == recorded["train_cpu_s"] > 0
    assert forest["pretrain_time_s"] is None and forest["pretrain_cpu_s"] is None
    assert deep["train_cpu_s"] > 0 and deep["test_cpu_s"] > 0
    params = json.loads((tmp_path / "runs/deep_svdd_oneclass/cpu/params.json").read_text())
    assert params["request"]["split_params"] == ONE_CLASS and params["request"]["autoencoder"]["params"]
    assert params["detector_parameters"]["objective"] == "one-class"  # defaults and fixed values included

    before = snapshot(tmp_path / "runs") | snapshot(tmp_path / "pretrain")
    run_batch(plan, tmp_path / "manifest.json")
    assert snapshot(tmp_path / "runs") | snapshot(tmp_path / "pretrain") == before


def test_a_changed_hyper_parameter_refits_only_its_run(tiny, tmp_path):
    run_batch(batch_plan(tiny, tmp_path))
    before = snapshot(tmp_path)
    run_batch(batch_plan(tiny, tmp_path, isoforest={"n_estimators": 7}))
    after = snapshot(tmp_path)
    changed = sorted(name for name in after if after[name] != before.get(name))
    assert changed == ["runs/isoforest/cpu/metrics.json", "runs/isoforest/cpu/params.json",
                       "runs/isoforest/cpu/scores.csv"]
    params = json.loads((tmp_path / "runs/isoforest/cpu/params.json").read_text())
    assert params["hyper_parameters"] == {"n_estimators": 7}


def test_a_changed_autoencoder_refits_the_runs_that_read_it(tiny, tmp_path):
    run_batch(batch_plan(tiny, tmp_path))
    before = snapshot(tmp_path)
    plan = batch_plan(tiny, tmp_path)
    plan["autoencoder"]["params"] = dict(TINY_TRAINING, lr=2e-3)
    run_batch(plan)
    after = snapshot(tmp_path)
    changed = {name.split("/")[1] for name in after if after[name] != before.get(name)}
    assert changed == {"autoencoder.pt", "autoencoder.json", "deep_svdd_oneclass", "cae"}


def test_a_diverging_run_is_recorded_as_failed_and_keeps_the_good_files(tiny, tmp_path):
    run_batch(batch_plan(tiny, tmp_path))
    before = snapshot(tmp_path / "runs")
    diverging = batch_plan(tiny, tmp_path, network=dict(TINY_TRAINING, lr=1e3))
    manifest = run_batch(diverging)
    assert [r["status"] for r in manifest["runs"]] == ["failed", "ok", "ok"]
    reason = manifest["runs"][0]["reason"]
    assert "loss diverged" in reason and "\n" not in reason
    record = json.loads((tmp_path / "runs/deep_svdd_oneclass/cpu" / FAILED_RECORD).read_text())
    assert record["status"] == "failed" and record["reason"] == reason and record["method"] == "deep_svdd_oneclass"
    after = snapshot(tmp_path / "runs")
    assert {name: value for name, value in after.items() if not name.endswith(FAILED_RECORD)} == before

    # the same failing request is tried again; the working parameters again: nothing to fit
    assert run_batch(diverging)["runs"][0]["status"] == "failed"
    manifest = run_batch(batch_plan(tiny, tmp_path))
    assert [r["status"] for r in manifest["runs"]] == ["ok", "ok", "ok"]
    assert snapshot(tmp_path / "runs") == before  # the stale failure record is gone, the rest untouched


def test_a_failed_autoencoder_fails_only_the_runs_that_read_it(tiny, tmp_path, monkeypatch):
    from ocbench.detectors.autoencoder import AutoencoderDetector

    def out_of_memory(self, *args, **kwargs):
        raise RuntimeError("CUDA out of memory.\nTried to allocate 2.00 GiB")

    monkeypatch.setattr(AutoencoderDetector, "fit", out_of_memory)
    manifest = run_batch(batch_plan(tiny, tmp_path))
    assert [r["status"] for r in manifest["runs"]] == ["failed", "failed", "ok"]
    assert manifest["runs"][0]["reason"] == ("pretraining the shared autoencoder failed: RuntimeError: "
                                             "CUDA out of memory. Tried to allocate 2.00 GiB")
    assert sorted(p.name for p in (tmp_path / "runs/cae/cpu").iterdir()) == [FAILED_RECORD]


def test_an_unreadable_split_fails_every_run_and_keeps_their_files(tiny, tmp_path):
    run_batch(batch_plan(tiny, tmp_path))
    before = snapshot(tmp_path / "runs")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    plan = dict(batch_plan(tiny, tmp_path), split=str(broken))
    manifest = run_batch(plan)
    assert {r["status"] for r in manifest["runs"]} == {"failed"}
    assert all(r["reason"].startswith("loading the split failed:") for r in manifest["runs"])
    after = snapshot(tmp_path / "runs")
    assert {name: value for name, value in after.items() if not name.endswith(FAILED_RECORD)} == before


def test_a_plan_without_a_key_is_refused_with_its_name(tiny, tmp_path):
    plan = batch_plan(tiny, tmp_path)
    del plan["split_params"]
    with pytest.raises(OcbenchError, match="batch plan lacks split_params"):
        run_batch(plan)


def test_a_batch_job_runs_each_split_into_one_manifest_and_a_failed_split_stops_no_other(tiny, tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    first = dict(batch_plan(tiny, tmp_path / "a"), split=str(broken), normal_classes=[1])
    second = batch_plan(tiny, tmp_path / "b")
    manifest = run_batches({"splits": [first, second]}, tmp_path / "manifest.json")
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest
    assert (manifest["dataset"], manifest["setting"], manifest["seed"], manifest["device"]) == (
        "mnist5k", "one_class", 1, "cpu")
    assert [(r["normal_classes"], r["method"], r["status"]) for r in manifest["runs"]] == [
        ([1], "deep_svdd_oneclass", "failed"), ([1], "cae", "failed"), ([1], "isoforest", "failed"),
        ([0], "deep_svdd_oneclass", "ok"), ([0], "cae", "ok"), ([0], "isoforest", "ok")]
    assert [r["run_dir"] for r in manifest["runs"]] == [e["run_dir"] for e in first["runs"] + second["runs"]]
    for entry in second["runs"]:
        check_run_directory(Path(entry["run_dir"]), tiny, entry["method"])

    # the same job again: the good split is untouched, the broken one fails again
    before = snapshot(tmp_path / "b")
    assert run_batches({"splits": [first, second]}) == manifest
    assert snapshot(tmp_path / "b") == before


def test_a_batch_job_checks_every_split_plan_before_it_fits_any(tiny, tmp_path):
    bad = batch_plan(tiny, tmp_path / "b")
    del bad["preprocessing"]
    with pytest.raises(OcbenchError, match="batch plan lacks preprocessing"):
        run_batches({"splits": [batch_plan(tiny, tmp_path / "a"), bad]})
    assert not (tmp_path / "a").exists()
    with pytest.raises(OcbenchError, match=re.escape('must be a JSON object {"splits"')):
        run_batches([batch_plan(tiny, tmp_path / "a")])


def test_a_stacked_batch_job_scores_as_its_runs_trained_alone(tiny, tmp_path):
    """stack: always trains the splits' autoencoders and Deep SVDD runs as stacks of two;
    the scores equal those of the runs trained alone (stack: never) up to float rounding."""
    root, prepared, _ = tiny
    other_split = tmp_path / "split1.npz"
    split_job("mnist5k", prepared, [1], 1, ONE_CLASS, other_split)  # 20 training images, as class 0

    def job(where, stack):
        plans = [batch_plan(tiny, where / "c0"), dict(batch_plan(tiny, where / "c1"), split=str(other_split),
                                                      normal_classes=[1])]
        return run_batches({"splits": plans, "stack": stack}), plans

    stacked, plans = job(tmp_path / "stacked", "always")
    alone, _ = job(tmp_path / "alone", "never")
    assert [r["status"] for r in stacked["runs"]] == [r["status"] for r in alone["runs"]] == ["ok"] * 6
    for s, a in zip(stacked["runs"], alone["runs"]):
        s_metrics = json.loads((Path(s["run_dir"]) / "metrics.json").read_text())
        a_metrics = json.loads((Path(a["run_dir"]) / "metrics.json").read_text())
        assert s_metrics["stack_size"] == (2 if s["method"] == "deep_svdd_oneclass" else 1)
        assert a_metrics["stack_size"] == 1
        s_index, _, s_scores = read_scores(Path(s["run_dir"]) / "scores.csv")
        a_index, _, a_scores = read_scores(Path(a["run_dir"]) / "scores.csv")
        np.testing.assert_array_equal(s_index, a_index)
        np.testing.assert_allclose(s_scores, a_scores, rtol=1e-3, atol=1e-6)
    # the stacked autoencoders were saved with their records, and the rerun touches nothing
    for plan in plans:
        assert json.loads(Path(plan["autoencoder"]["path"]).with_suffix(".json").read_text())["train_time_s"] > 0
    before = snapshot(tmp_path / "stacked")
    assert run_batches({"splits": plans, "stack": "always"}) == stacked
    assert snapshot(tmp_path / "stacked") == before


def test_a_stacked_job_with_an_unreadable_split_records_its_runs_and_fits_the_others(tiny, tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    first = dict(batch_plan(tiny, tmp_path / "a"), split=str(broken), normal_classes=[1])
    second = batch_plan(tiny, tmp_path / "b")
    manifest = run_batches({"splits": [first, second], "stack": "always"})
    assert [(r["normal_classes"], r["status"]) for r in manifest["runs"]] == [([1], "failed")] * 3 + [([0], "ok")] * 3
    for entry in second["runs"]:
        check_run_directory(Path(entry["run_dir"]), tiny, entry["method"])


def test_an_unknown_stack_mode_is_refused(tiny, tmp_path):
    with pytest.raises(OcbenchError, match="stack mode 'sometimes' is not one of auto, always, never"):
        run_batches({"splits": [batch_plan(tiny, tmp_path / "a")], "stack": "sometimes"})
