"""Typed plans: the JSON form of a batch job's plan (one place), a plan file that lacks a key, and
the changes between two plans named by key (a dry run's rerun reason)."""
import json
import os
import subprocess
import sys

import pytest

from ocbench.config import Run, batch_job_plan, load_and_validate
from ocbench.errors import OcbenchError
from ocbench.jobs.plan import BatchPlan, SplitPlan, plan_digest, read_batch_plan, write_batch_plan
from ocbench.jobs.plan_changes import describe_plan_change, plan_changes


def digits_plan(**method_params) -> BatchPlan:
    """The plan of the mnist5k batch of a small config: two classes, isoforest and kde."""
    config = load_and_validate({"methods": ["isoforest", "kde"], "method_params": method_params,
                                "datasets": {"mnist5k": {"normal_classes": [0, 1]}}})
    runs = [Run("mnist5k", "one_class", normal, 1, method, "cpu") for normal in ("0", "1")
            for method in ("isoforest", "kde")]
    return batch_job_plan(config, runs, prepared="p.npz", split_of=lambda run: f"split{run.normal}.npz",
                          run_dir=lambda run: f"runs/{run.normal}/{run.method}", autoencoder_path=lambda p: "ae.pt")


def test_a_plan_reads_back_from_its_json_as_the_same_plan(tmp_path):
    plan = digits_plan()
    assert [len(split.runs) for split in plan.splits] == [2, 2]
    assert [split.normal_classes for split in plan.splits] == [(0,), (1,)]
    assert BatchPlan.from_dict(json.loads(plan.to_json())) == plan
    write_batch_plan(tmp_path / "plan.json", plan)
    assert read_batch_plan(tmp_path / "plan.json") == plan
    assert plan.to_json() == digits_plan().to_json()  # canonical: the same config, the same text
    assert plan_digest(plan) == plan_digest(digits_plan()) != plan_digest(digits_plan(isoforest={"n_estimators": 7}))


def test_a_plan_without_a_key_or_a_split_is_refused_in_one_line(tmp_path):
    value = json.loads(digits_plan().to_json())
    del value["splits"][1]["runs"][0]["run_dir"]
    with pytest.raises(OcbenchError, match=r"^batch plan run 0 lacks run_dir; it needs method, run_dir, "):
        BatchPlan.from_dict(value)
    del value["splits"][0]["preprocessing"]
    with pytest.raises(OcbenchError, match=r"^batch plan lacks preprocessing; it needs dataset, "):
        SplitPlan.from_dict(value["splits"][0])
    with pytest.raises(OcbenchError, match=r'must be a JSON object \{"splits"'):
        BatchPlan.from_dict({"splits": []})
    (tmp_path / "cut.json").write_text(digits_plan().to_json()[:100])
    with pytest.raises(OcbenchError, match=r"^cannot read the batch plan .*cut.json: "):
        read_batch_plan(tmp_path / "cut.json")


def test_plan_changes_name_each_changed_value_by_its_key():
    old = {"splits": [{"runs": [{"method": "knn", "hyper_parameters": {"k": 5, "p": 2}}]}], "stack": "auto"}
    new = {"splits": [{"runs": [{"method": "knn", "hyper_parameters": {"k": 10, "p": 2}},
                                {"method": "kde", "hyper_parameters": {}}]}], "stack": "never"}
    assert plan_changes(old, new) == [
        "splits[0].runs[0].hyper_parameters.k: 5 → 10",
        'splits[0].runs[1]: (none) → {"hyper_parameters": {}, "method": "kde…',  # cut at 40 characters
        'stack: "auto" → "never"',
    ]
    assert plan_changes(old, json.loads(json.dumps(old))) == []
    assert plan_changes({"lr": 1}, {"lr": 1.0}) == ["lr: 1 → 1.0"]  # another JSON text: a change


def test_a_dry_run_line_says_new_unchanged_or_the_first_changes(tmp_path):
    path = tmp_path / "plan.json"
    assert describe_plan_change(path, digits_plan().as_dict()) == "new"
    write_batch_plan(path, digits_plan())
    assert describe_plan_change(path, digits_plan().as_dict()) == "unchanged"
    # isoforest is the first run of both splits, its n_estimators left to its default so far
    assert describe_plan_change(path, digits_plan(isoforest={"n_estimators": 7}).as_dict()) == (
        "splits[0].runs[0].hyper_parameters.n_estimators: (none) → 7; "
        "splits[1].runs[0].hyper_parameters.n_estimators: (none) → 7")
    changed = digits_plan(isoforest={"n_estimators": 7, "max_samples": 64}).as_dict()
    assert describe_plan_change(path, changed, most=3).endswith(" (and 1 more)")


def test_run_batch_reads_its_plan_from_a_file_and_names_a_bad_one(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-m", "ocbench.cli", "run-batch", "--plan", str(tmp_path / "none.json")],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        f"ocbench: error: cannot read the batch plan {tmp_path / 'none.json'}: ")
