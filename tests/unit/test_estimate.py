"""The cost model (``ocbench estimate``, docs/cost.md): a tiny config's prediction from a fixed
calibration, worked by hand; stacks on CUDA; the cluster runtime the SLURM profile asks for;
the one-line errors; and the calibration's own timings on small specs."""
import json
import math

import pytest
import yaml

from ocbench.cli import main
from ocbench.config import Batch, load_and_validate
from ocbench.cost import batch_seconds, estimate, format_estimate, runtime_minutes
from ocbench.cost.calibration import Needs, evaluate_law, spec_key
from ocbench.cost.probes import measure
from ocbench.cost.model import CostModel, steps_per_epoch

from helpers.slurm import PROFILE, planned_resources
from helpers.workflow import snakemake

# Two splits of 400 mnist5k digits (normal class 0, and 1), tested on all 1,000 test digits,
# 100 of them held out (validation_fraction 0.1): 900 scored. Deep SVDD: 2 epochs of
# batches of 200; the autoencoder: 3 epochs of batches of 128.
TINY = {
    "datadir": "data", "outdir": "results", "seeds": [1],
    "methods": ["deep_svdd_oneclass", "cae", "isoforest"],
    "training": {"network": {"epochs": 2, "milestones": [], "batch_size": 200},
                 "autoencoder": {"epochs": 3, "milestones": [], "batch_size": 128}},
    "datasets": {"mnist5k": {"normal_classes": [0, 1], "settings": ["one_class"]}},
}


def hand_value(spec: dict):
    """The fixed calibration: round numbers, one per kind of timing."""
    kind = spec["kind"]
    if kind == "start":
        return {"run-batch": 5.0, "light": 1.0, "report": 2.0, "plot": 3.0}[spec["command"]]
    if kind in ("read", "preprocess"):
        return 1e-8  # per byte, per value
    if kind == "step":
        return {("autoencoder", 128): 0.05, ("encoder", 200): 0.02}[spec["module"], spec["batch_size"]]
    if kind == "stacked_step":
        return {("autoencoder", 2): 0.06, ("autoencoder", 8): 0.12, ("encoder", 2): 0.03,
                ("encoder", 8): 0.06}[spec["module"], spec["models"]]
    if kind == "forward":
        return {"autoencoder": 1e-4, "encoder": 5e-5}[spec["module"]]
    if kind == "shallow":
        assert spec["method"] == "isoforest"
        return {"form": "power", "a": 1e-3, "b": 1.0}  # 1 ms per training sample
    if kind == "record":
        return {"form": "linear", "a": 0.01, "b": 1e-5}  # 10 ms a run, 10 µs a score
    if kind == "report":
        return {"roc_curve": 0.5, "roc_panel": 0.125, "extremes_picture": 0.25}[spec["what"]]
    raise AssertionError(f"no hand value for {spec}")


def write_calibration(path, config: dict) -> None:
    """A calibration file holding ``hand_value`` of every timing the config asks for, as the CPU seconds
    of the host's work and three times that as its wall seconds; as the wall seconds of CUDA work (and
    no CPU seconds: the estimate reads a GPU's time off the wall clock)."""
    needs = Needs()
    CostModel(config, needs, auto_device="cuda" if "cuda" in config["devices"] else "cpu").workflow_costs()
    path.parent.mkdir(parents=True, exist_ok=True)

    def times(value, factor):
        if isinstance(value, dict):
            return dict(value, a=value["a"] * factor, b=value["b"] * (factor if value["form"] == "linear" else 1))
        return value * factor

    entries = {key: ({"cpu": 0.0, "wall": hand_value(spec)} if spec.get("device") == "cuda"
                     else {"cpu": hand_value(spec), "wall": times(hand_value(spec), 3)})
               for key, spec in needs.specs.items()}
    path.write_text(json.dumps({"format": 1, "machine": {}, "entries": entries}))


def tiny(tmp_path, **changes) -> dict:
    config = yaml.safe_load(yaml.safe_dump(TINY))
    config.update(changes, datadir=str(tmp_path / "data"))
    return load_and_validate(config)


# Per split, by hand (seconds):
#   data      reading the prepared file, (4,000 + 1,000) x 784 bytes x 1e-8, and preprocessing
#             (400 + 1,000) x 784 values x 1e-8: 0.0392 + 0.010976
#   pretrain  3 epochs x ceil(400 / 128) = 4 batches x 0.05, and the training scores 400 x 1e-4: 0.6 + 0.04
#   Deep SVDD 2 epochs x 2 batches x 0.02, the centre and the training scores 2 x 400 x 5e-5: 0.08 + 0.04;
#             scoring 900 x 5e-5 = 0.045
#   CAE       scoring 900 x 1e-4 = 0.09
#   IF        1e-3 x 400 = 0.4
#   records   3 runs x (0.01 + 900 x 1e-5) = 0.057
SPLIT = 0.0392 + 0.010976 + 0.64 + 0.12 + 0.045 + 0.09 + 0.4 + 0.057
JOB = 5.0 + 2 * SPLIT  # the process start, two splits: 7.804352 s


def test_steps_per_epoch_counts_the_batches_of_the_training_loop():
    from ocbench.training import batches

    for n in (1, 2, 31, 32, 33, 64, 65, 400, 401, 6000):
        for batch_size in (1, 2, 32, 128, 200):
            assert steps_per_epoch(n, batch_size) == len(batches(n, batch_size)), (n, batch_size)
    assert steps_per_epoch(400, 128, drop_last=True) == 3


def test_tiny_config_estimate_is_the_sum_worked_by_hand(tmp_path):
    config = tiny(tmp_path)
    write_calibration(tmp_path / "data" / "calibration" / "cpu.json", config)
    result = estimate(config, "tiny.yaml", measure=False)
    (job,) = [j for j in result.jobs if j.rule == "run_batch"]
    assert job.name == "mnist5k/one_class/seed1/cpu" and job.n_runs == 6
    assert job.parts["start"] == 5.0
    assert job.parts["pretrain"] == pytest.approx(2 * 0.64)
    assert job.parts["fit"] == pytest.approx(2 * (0.12 + 0.4))
    assert job.seconds == pytest.approx(JOB)
    splits = [j for j in result.jobs if j.rule == "split"]
    assert [j.seconds for j in splits] == [pytest.approx(1.0 + 0.0392)] * 2  # a start, the prepared file read
    (roc,) = [j for j in result.jobs if j.rule == "plot_roc"]
    assert roc.seconds == pytest.approx(3.0 + 6 * 0.5 + 3 * 0.125)  # a curve per run, a panel per method
    extremes = [j for j in result.jobs if j.rule == "plot_extremes"]
    # 6 pictures of seed 1, each 0.25 s and a read of the prepared file (3.92e6 bytes x 1e-8)
    assert [j.seconds for j in extremes] == [pytest.approx(3.0 + 6 * (0.25 + 0.0392))]
    text = format_estimate(result)
    assert "longest job: run_batch mnist5k/one_class/seed1/cpu, 7.8 s" in text
    assert "0 GPU-hours" in text
    # the wall seconds the calibration measured (here three times the CPU seconds) on request
    walls = [j for j in estimate(config, measure=False, clock="wall").jobs if j.rule == "run_batch"]
    assert walls[0].seconds == pytest.approx(3 * JOB)


def test_stacks_on_cuda_share_one_stacks_batches(tmp_path):
    """On CUDA the two splits' autoencoders train as one stack of 2, and so do their Deep SVDD runs."""
    config = tiny(tmp_path, devices=["cuda"], methods=["deep_svdd_oneclass"])
    given = tmp_path / "cuda-test-gpu.json"
    write_calibration(given, config)
    result = estimate(config, "tiny.yaml", calibration_file=given, measure=False)
    (job,) = [j for j in result.jobs if j.rule == "run_batch"]
    # per split: 12 autoencoder batches x 0.06 / 2 + 0.04, 4 Deep SVDD batches x 0.03 / 2 + 0.04
    assert job.parts["pretrain"] == pytest.approx(2 * (12 * 0.03 + 0.04))
    assert job.parts["fit"] == pytest.approx(2 * (4 * 0.015 + 0.04))
    assert job.device == "cuda"
    seconds = 5.0 + 2 * (0.0392 + 0.010976 + 0.40 + 0.10 + 0.045 + 0.019)
    assert job.seconds == pytest.approx(seconds)
    assert f"{seconds / 3600:.3g} GPU-hours" in format_estimate(result)


def test_laws_power_linear_and_capped():
    power, line = {"form": "power", "a": 1.0, "b": 2.0}, {"form": "linear", "a": 50.0, "b": 5.0}
    assert evaluate_law(power, 5) == 25 and evaluate_law(line, 4) == 70 and evaluate_law(0.5, 99) == 0.5
    # fitting on at most 10 samples: the power law up to the cap, the line past it
    capped = {"form": "capped", "cap": 10, "below": power, "above": line}
    assert [evaluate_law(capped, n) for n in (5, 10, 20)] == [25, 100, 150]
    # no probe past the cap: the cap's value
    assert evaluate_law(dict(capped, above=None), 20) == 100


def test_cluster_runtime_is_the_prediction_times_the_safety_at_least_the_floor():
    assert runtime_minutes(JOB, 60, 1) == math.ceil(JOB) == 8
    assert runtime_minutes(JOB, 2, 30) == 30
    assert runtime_minutes(3600, 1.5, 30, attempt=2) == 2 * 90


def test_slurm_profile_asks_each_training_job_for_its_predicted_runtime(tmp_path):
    config = yaml.safe_load(yaml.safe_dump(TINY))
    write_calibration(tmp_path / "data" / "calibration" / "cpu.json", load_and_validate(yaml.safe_load(
        yaml.safe_dump(config))))
    # safety 60: the limit in minutes is the predicted seconds, rounded up
    result = snakemake(tmp_path, config, *PROFILE, "--dry-run", "--config",
                       "cluster={train: {runtime_safety: 60, runtime_floor: 1}}", OCBENCH_JOB_DETAILS="1")
    training = [r for rule, _, r in planned_resources(result.stdout + result.stderr) if rule == "run_batch"]
    assert [r["runtime"] for r in training] == ["8"]
    validated = load_and_validate(dict(config, datadir=str(tmp_path / "data")))
    assert batch_seconds(validated) == {Batch("mnist5k", "one_class", 1, "cpu"): pytest.approx(JOB)}
    # without a calibration, a dry run shows the floor (the SLURM executor itself stops: rules/cluster.smk)
    (tmp_path / "data" / "calibration" / "cpu.json").unlink()
    result = snakemake(tmp_path, config, *PROFILE, "--dry-run", OCBENCH_JOB_DETAILS="1")
    assert {r["runtime"] for rule, _, r in planned_resources(result.stdout + result.stderr)
            if rule == "run_batch"} == {"30"}


# --------------------------------------------------------------------------- bad input

def test_invalid_config_gives_the_config_checks_line(tmp_path, capsys):
    bad = yaml.safe_load(yaml.safe_dump(TINY))
    bad["methods"] = ["deep_svdd_oneclass", "no_such_method"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    assert main(["check-config", str(path), "--snakefile", ""]) == 2
    checked = capsys.readouterr().err.strip().splitlines()
    assert main(["estimate", str(path)]) == 2
    estimated = capsys.readouterr().err.strip().splitlines()
    assert estimated == checked and len(estimated) == 1
    assert "no_such_method" in estimated[0]


@pytest.mark.workflow
def test_slurm_executor_without_a_calibration_stops_before_any_job(slurm_cluster, tmp_path):
    result = snakemake(tmp_path, TINY, *PROFILE, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "cluster.train.runtime is estimate, but there is no calibration file (data/calibration/cpu.json)" \
        in output
    assert "Submitted job" not in output and not (tmp_path / "data" / "prepared").exists()


def test_cuda_estimate_without_a_calibration_says_so_in_one_line(tmp_path, capsys, monkeypatch):
    from ocbench.cost import calibration

    monkeypatch.setattr(calibration, "cuda_present", lambda: False)
    monkeypatch.setattr(calibration, "CALIBRATIONS", tmp_path / "none")
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(dict(TINY, datadir=str(tmp_path / "data"))))
    assert main(["estimate", str(path), "--device", "cuda"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ocbench: error: no CUDA calibration: torch sees no GPU here")


# --------------------------------------------------------------------------- the calibration's timings

def test_calibration_times_a_step_a_forward_pass_and_a_shallow_law():
    """Small specs, timed for real: a batch of the wine MLP, its codes, Isolation Forest's law."""
    step, _ = measure({"kind": "step", "net": "wine_mlp", "module": "autoencoder", "batch_size": 32,
                       "device": "cpu"})
    forward, _ = measure({"kind": "forward", "net": "wine_mlp", "module": "encoder", "device": "cpu"})
    for clock in ("cpu", "wall"):
        assert 0 < forward[clock] < step[clock] < 1  # one sample's codes cost less than a batch's training step
    law, probes = measure({"kind": "shallow", "method": "isoforest", "params": {"n_estimators": 10}, "dim": 13,
                           "validation_ratio": 0.0, "test_ratio": 0.7, "labelled_ratio": 0.0}, size=100)
    assert [n for n, _, _ in probes] == [32, 64, 100]  # doubling, the last at the size asked for
    for clock, column in (("wall", 1), ("cpu", 2)):  # the power law passes through the two largest probes
        (n1, t1), (n2, t2) = [(p[0], p[column]) for p in probes[-2:]]
        a, b = law[clock]["a"], law[clock]["b"]
        assert a * n2 ** b == pytest.approx(t2)
        assert b == 0.0 or a * n1 ** b == pytest.approx(t1)
    assert spec_key({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
