"""The Snakemake workflow on a tiny config: it runs, it reruns only what a change touches, it refuses bad configs."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the environment's bin: snakemake and ocbench

TINY = {
    "datadir": "data",
    "outdir": "results",
    "seeds": [1],
    "methods": ["deep_svdd_oneclass", "cae", "isoforest"],
    "training": {"network": {"epochs": 1, "milestones": []},
                 "autoencoder": {"epochs": 1, "milestones": []}},
    "method_params": {"isoforest": {}},
    "datasets": {"mnist5k": {"normal_classes": [0, 1], "settings": ["one_class"]}},
}


def snakemake(workdir: Path, config: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    command = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
               "--configfile", str(configfile), *args]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


def planned_jobs(workdir: Path, config: dict) -> dict[str, int]:
    """Rule name -> number of jobs a dry run would run (from its 'Job stats' table)."""
    result = snakemake(workdir, config, "--dry-run", "--quiet", "rules")
    counts = {}
    for line in (result.stdout + result.stderr).splitlines():
        match = re.fullmatch(r"\s*([A-Za-z_]\w*)\s+(\d+)\s*", line)
        if match and match.group(1) != "total":
            counts[match.group(1)] = int(match.group(2))
    return counts


def isoforest_parameter():
    """A hyper-parameter of isoforest to change, and a second value for it."""
    from ocbench.config import hyper_parameter_names

    assert "n_estimators" in hyper_parameter_names("isoforest")
    return "n_estimators", 7


@pytest.mark.workflow
def test_tiny_workflow_runs_and_reruns_only_what_changed(tmp_path):
    snakemake(tmp_path, TINY, "--cores", "2")
    results = tmp_path / "results"
    assert (results / "tables" / "runs.csv").exists()
    assert (results / "tables" / "auroc_summary.csv").exists()
    assert (results / "tables" / "auroc_mnist5k_one_class.tex").exists()
    assert (results / "summary.md").exists()
    runs_csv = (results / "tables" / "runs.csv").read_text().strip().splitlines()
    assert len(runs_csv) == 1 + 2 * 3  # header, 2 classes x 3 methods
    for normal in ("0", "1"):
        for method in TINY["methods"]:
            assert (results / "runs/mnist5k/one_class" / normal / "seed1" / method / "cpu" / "metrics.json").exists()
    assert (results / "logs").is_dir() and (results / "benchmarks").is_dir()
    assert planned_jobs(tmp_path, TINY) == {}  # up to date

    # One hyper-parameter of one method: only its two runs and the report downstream.
    name, value = isoforest_parameter()
    changed = yaml.safe_load(yaml.safe_dump(TINY))
    changed["method_params"]["isoforest"] = {name: value}
    plan = planned_jobs(tmp_path, changed)
    assert plan.get("baseline") == 2, plan
    assert plan.get("plot_extremes") == 2, plan
    assert not {"fetch", "prepare", "split", "pretrain", "train"} & set(plan), plan
    assert {"collect", "tables", "summary"} <= set(plan), plan

    # The autoencoder's settings: the pretraining and every method that reads it, not isoforest.
    changed = yaml.safe_load(yaml.safe_dump(TINY))
    changed["training"]["autoencoder"]["lr"] = 2e-4
    plan = planned_jobs(tmp_path, changed)
    assert plan.get("pretrain") == 2 and plan.get("train") == 4 and "baseline" not in plan, plan

    # A new seed: only the new seed's jobs (and the report).
    changed = yaml.safe_load(yaml.safe_dump(TINY))
    changed["seeds"] = [1, 2]
    plan = planned_jobs(tmp_path, changed)
    assert plan.get("split") == 2 and plan.get("pretrain") == 2, plan
    assert plan.get("train") == 4 and plan.get("baseline") == 2 and "prepare" not in plan, plan


@pytest.mark.workflow
def test_bad_config_fails_before_any_job(tmp_path):
    bad = yaml.safe_load(yaml.safe_dump(TINY))
    bad["training"]["network"]["epochs"] = 0
    result = snakemake(tmp_path, bad, "--cores", "1", check=False)
    assert result.returncode != 0
    assert "training.network.epochs: 0 is less than the minimum of 1" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "data").exists()

    bad = yaml.safe_load(yaml.safe_dump(TINY))
    bad["datasets"]["mnist5k"]["normal_classes"] = [0, 10]
    result = snakemake(tmp_path, bad, "--cores", "1", check=False)
    assert result.returncode != 0
    assert "class 10 is out of range for dataset 'mnist5k'" in result.stdout + result.stderr


@pytest.mark.workflow
def test_lint_is_clean():
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run([str(BIN / "snakemake"), "--lint"], cwd=ROOT, capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations" in result.stdout + result.stderr, result.stdout + result.stderr


def requirement_pins(lines):
    return dict(re.fullmatch(r"\s*-?\s*([A-Za-z0-9_.-]+)==(\S+)\s*", line).groups()
                for line in lines if re.fullmatch(r"\s*-?\s*[A-Za-z0-9_.-]+==\S+\s*", line))


def test_conda_environment_pins_match_requirements():
    pinned = requirement_pins((ROOT / "requirements" / "library.txt").read_text().splitlines())
    env = yaml.safe_load((ROOT / "envs" / "ocbench.yaml").read_text())
    pip = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert requirement_pins(pip) == pinned
