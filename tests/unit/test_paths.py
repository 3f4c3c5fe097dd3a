"""The one layout of the workflow's files: formatting a path and parsing it back give the same keys,
and the report finds runs written where the pattern puts them."""
import json
from pathlib import Path

import pytest

from ocbench import paths
from ocbench.config import Batch, Pretrain, Run

RUNS = [
    Run("mnist5k", "one_class", "3", 1, "deep_svdd_oneclass", "cpu"),
    Run("wine", "semi_supervised.k1", "0", 12, "isoforest", "cpu"),
    Run("mnist", "gamma_l_0.01", "0-1-3", 0, "ocsvm_hybrid", "cuda"),
    Run("satimage-2", "one_class", "0", 2, "kde", "auto"),
]


def test_each_pattern_spelled_out():
    run = RUNS[2]
    assert paths.run_dir("results", run) == "results/runs/mnist/gamma_l_0.01/0-1-3/seed0/ocsvm_hybrid/cuda"
    assert paths.split_file("out", run) == "out/splits/mnist/gamma_l_0.01/0-1-3/seed0.npz"
    assert paths.autoencoder_file("out", Pretrain("mnist", "one_class", "3", 2, "mnist_lenet", "cpu")) == \
        "out/pretrain/mnist/one_class/3/seed2/mnist_lenet/cpu/autoencoder.pt"
    assert paths.manifest_file("out/", Batch("wine", "one_class", 1, "cpu")) == "out/batches/wine/one_class/seed1/cpu.json"
    assert paths.prepared_file("data", "wbc") == "data/prepared/wbc.npz"
    assert paths.under("/abs/data", paths.RAW_DONE) == "/abs/data/raw/{dataset}/.fetched"  # wildcards left open


@pytest.mark.parametrize("run", RUNS, ids=lambda run: run.method)
@pytest.mark.parametrize("outdir", ["results", "/scratch/exp one/results", "."])
def test_formatting_then_parsing_a_run_dir_gives_its_keys(run, outdir):
    directory = paths.run_dir(outdir, run)
    assert paths.parse_run_dir(directory) == vars(run)
    assert paths.parse_run_dir(f"{directory}/{paths.METRICS}") == vars(run)  # a file in it too


@pytest.mark.parametrize("path", [
    "results/runs/mnist5k/one_class/3/1/deep_svdd_oneclass/cpu",  # no 'seed'
    "results/runs/mnist5k/one_class/three/seed1/deep_svdd_oneclass/cpu",  # normal classes are ids
    "results/runs/mnist5k/one_class/3/seed1/deep_svdd_oneclass/tpu",  # not a device
    "results/splits/mnist5k/one_class/3/seed1.npz",
])
def test_other_shapes_are_not_run_dirs(path):
    assert paths.parse_run_dir(path) is None


def test_collect_finds_runs_written_where_the_pattern_puts_them(tmp_path):
    from ocbench.report.collect import collect_runs

    records = []
    for auroc, run in zip([0.5, 0.6, 0.7, 0.8], RUNS):
        directory = Path(paths.run_dir(tmp_path / "results", run))
        directory.mkdir(parents=True)
        # a run made by hand: its metrics.json names no keys, its path does
        (directory / paths.METRICS).write_text(json.dumps({"auroc": auroc, "status": "ok"}))
        records.append(directory / paths.METRICS)
    table = collect_runs(records)
    found = {tuple(row[key] for key in ("dataset", "setting", "normal", "seed", "method", "device")): row["auroc"]
             for _, row in table.iterrows()}
    assert found == {tuple(vars(run).values()): auroc for auroc, run in zip([0.5, 0.6, 0.7, 0.8], RUNS)}

