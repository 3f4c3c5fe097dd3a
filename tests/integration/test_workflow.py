"""The Snakemake workflow on a tiny config: it runs, a rerun touches only what a change touches (file bytes and
modification times), a failed or killed run loses nothing, and bad configs are refused."""
import csv
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from helpers.paths import BIN, ROOT
from helpers.workflow import PROFILE, TINY, changed_files, copy_of_run, snakemake, snakemake_command, snapshot, \
    workflow_env


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


def changed_config(**changes) -> dict:
    """TINY with changes given as dotted paths: changed_config(**{"training.autoencoder.lr": 2e-4})."""
    config = yaml.safe_load(yaml.safe_dump(TINY))
    for dotted, value in changes.items():
        *parents, key = dotted.split(".")
        node = config
        for parent in parents:
            node = node.setdefault(parent, {})
        node[key] = value
    return config


def run_files(normal: str, method: str) -> list[str]:
    files = ["metrics.json", "params.json", "scores.csv"] + (["model.pt"] if method != "isoforest" else [])
    return [f"results/runs/mnist5k/one_class/{normal}/seed1/{method}/cpu/{name}" for name in files]


def autoencoder_files(normal: str) -> list[str]:
    return [f"results/pretrain/mnist5k/one_class/{normal}/seed1/mnist_lenet/cpu/autoencoder.{suffix}"
            for suffix in ("json", "pt")]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished tiny run (2 classes x 3 methods); each test works on its own copy."""
    workdir = tmp_path_factory.mktemp("finished")
    snakemake(workdir, TINY, "--cores", "2")
    return workdir


@pytest.fixture
def tiny_run(finished, tmp_path):
    return copy_of_run(finished, tmp_path)


@pytest.mark.workflow
def test_tiny_workflow_writes_every_run_and_report(finished):
    results = finished / "results"
    for name in ("tables/runs.csv", "tables/auroc_summary.csv", "tables/auroc_mnist5k_one_class.tex",
                 "summary.md", "figures/auroc.png", "figures/roc/mnist5k/one_class.png"):
        assert (results / name).is_file(), name
    # the ranks table and the critical-difference diagram (two classes: ranks, and no test)
    for name in ("tables/ranks.csv", "tables/ranks_mnist5k_one_class.tex",
                 "figures/critical_difference/mnist5k/one_class.png"):
        assert (results / name).is_file() and (results / name).stat().st_size > 0, name
    with open(results / "tables" / "ranks.csv") as handle:
        ranks = list(csv.DictReader(handle))
    assert sorted(row["label"] for row in ranks) == sorted(TINY["methods"])
    assert all(row["tested"] == "False" and "need at least 5" in row["reason"] for row in ranks)
    assert "## Ranks and significance" in (results / "summary.md").read_text()
    runs_csv = (results / "tables" / "runs.csv").read_text().strip().splitlines()
    assert len(runs_csv) == 1 + 2 * 3  # header, 2 classes x 3 methods
    for normal in ("0", "1"):
        for method in TINY["methods"]:
            assert all((finished / path).is_file() for path in run_files(normal, method))
    # one batch job for the seed: both classes' runs, split by split, in one manifest
    assert sorted(p.relative_to(results / "batches").as_posix() for p in (results / "batches").rglob("*.json")) == [
        "mnist5k/one_class/seed1/cpu.json"]
    manifest = json.loads((results / "batches/mnist5k/one_class/seed1/cpu.json").read_text())
    assert [(run["normal_classes"], run["method"], run["status"]) for run in manifest["runs"]] == [
        ([normal], method, "ok") for normal in (0, 1) for method in TINY["methods"]]
    # one extremes job for the (dataset, setting): a picture per run
    extremes = results / "figures/extremes/mnist5k/one_class"
    pictures = sorted(p.relative_to(extremes).as_posix() for p in extremes.rglob("*.png"))
    assert pictures == sorted(f"{normal}/seed1/{method}/cpu.png" for normal in ("0", "1")
                              for method in TINY["methods"])
    assert (results / "logs").is_dir() and not (results / "benchmarks").exists()
    assert planned_jobs(finished, TINY) == {}  # up to date


@pytest.mark.workflow
def test_the_html_report_of_a_finished_run_has_every_category(tiny_run):
    """`snakemake --report` on the finished tiny run: one self-contained HTML file with the
    tables, the figures, the summary and the configuration, and no job run for it."""
    before = snapshot(tiny_run)
    snakemake(tiny_run, TINY, "--report", "report.html")
    report = (tiny_run / "report.html").read_text(errors="replace")
    for category in ("Configuration", "summary.md", "auroc.png", "configuration.yaml", "ranks.csv",
                     "Critical difference"):
        assert category in report, category
    assert changed_files(before, snapshot(tiny_run)) == []


@pytest.mark.workflow
def test_a_changed_hyper_parameter_rewrites_only_its_runs(tiny_run):
    before = snapshot(tiny_run)
    name, value = isoforest_parameter()
    snakemake(tiny_run, changed_config(**{f"method_params.isoforest.{name}": value}), "--cores", "2")
    assert changed_files(before, snapshot(tiny_run)) == sorted(
        run_files("0", "isoforest") + run_files("1", "isoforest"))


@pytest.mark.workflow
def test_a_dry_run_names_the_changed_keys_and_prints_no_plan(tiny_run):
    """The plan goes through a file: a changed value reruns its plan job and batch job only, the dry
    run names the changed key, and no command or reason prints a plan."""
    name, value = isoforest_parameter()
    changed = changed_config(**{f"method_params.isoforest.{name}": value})
    result = snakemake(tiny_run, changed, "--dry-run")
    console = result.stdout + result.stderr
    assert (f"plan of batch mnist5k one_class seed 1 on cpu: splits[0].runs[2].hyper_parameters.{name}: "
            f"(none) → {value}; splits[1].runs[2].hyper_parameters.{name}: (none) → {value}") in console
    assert "hyper_parameters\"" not in console and '"splits"' not in console
    assert {rule: n for rule, n in planned_jobs(tiny_run, changed).items() if rule in ("plan", "run_batch", "split")} \
        == {"plan": 1, "run_batch": 1}


@pytest.mark.workflow
def test_a_large_dry_run_lists_its_first_jobs_and_counts_them_all(tmp_path):
    config = changed_config(**{"datasets.mnist5k.normal_classes": list(range(10)), "seeds": [1, 2]})
    counts = planned_jobs(tmp_path, config)
    assert counts["split"] == 20

    def listed(console: str) -> int:
        return len(re.findall(r"^(?:\s*Job \d+: |(?:local)?rule \w+:$)", console, re.MULTILINE))

    result = snakemake(tmp_path, config, "--dry-run")
    console = result.stdout + result.stderr
    assert listed(console) == 30 and "the dry run lists its first 30 jobs" in console
    assert re.search(rf"^total\s+{sum(counts.values())}$", console, re.MULTILINE)  # the job stats count them all
    result = snakemake(tmp_path, config, "--dry-run", OCBENCH_LIST_JOBS="all")
    assert listed(result.stdout + result.stderr) == sum(counts.values())


@pytest.mark.workflow
def test_a_changed_autoencoder_rewrites_it_and_the_runs_that_read_it(tiny_run):
    before = snapshot(tiny_run)
    snakemake(tiny_run, changed_config(**{"training.autoencoder.lr": 2e-4}), "--cores", "2")
    expected = [path for normal in ("0", "1") for path in
                autoencoder_files(normal) + run_files(normal, "deep_svdd_oneclass") + run_files(normal, "cae")]
    assert changed_files(before, snapshot(tiny_run)) == sorted(expected)


@pytest.mark.workflow
def test_a_changed_significance_level_reruns_only_the_report(tiny_run):
    plan = planned_jobs(tiny_run, changed_config(**{"statistics.significance_level": 0.1}))
    assert set(plan) - {"all"} == {"configuration", "tables", "ranks", "summary"}, plan


@pytest.mark.workflow
def test_a_new_seed_adds_only_its_jobs(tiny_run):
    plan = planned_jobs(tiny_run, changed_config(seeds=[1, 2]))
    assert plan.get("split") == 2 and plan.get("run_batch") == 1, plan
    assert not {"fetch", "prepare"} & set(plan), plan


@pytest.mark.workflow
def test_a_diverging_rerun_keeps_the_good_results_and_reports_a_dash(tiny_run):
    before = snapshot(tiny_run)
    diverging = changed_config(**{"method_params.deep_svdd_oneclass": {"lr": 1000.0}})
    result = snakemake(tiny_run, diverging, "--cores", "2", check=False)
    # the workflow finishes, then says which runs failed in one last line, and exits 3
    assert result.returncode == 3, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("2 runs failed: results/runs/mnist5k/one_class/0/seed1/deep_svdd_oneclass/cpu (")
    assert "loss diverged" in last and last.endswith("(results/summary.md)")
    failed = [f"results/runs/mnist5k/one_class/{normal}/seed1/deep_svdd_oneclass/cpu/failed.json"
              for normal in ("0", "1")]
    assert changed_files(before, snapshot(tiny_run)) == failed  # the good files are byte for byte the same
    record = json.loads((tiny_run / failed[0]).read_text())
    assert record["status"] == "failed" and "loss diverged" in record["reason"]
    assert record["request"]["hyper_parameters"]["lr"] == 1000.0

    results = tiny_run / "results"
    with open(results / "tables" / "runs.csv") as handle:
        runs_csv = list(csv.DictReader(handle))
    status = {(row["normal"], row["method"]): row["status"] for row in runs_csv}
    assert status == {(normal, method): "failed" if method == "deep_svdd_oneclass" else "ok"
                      for normal in ("0", "1") for method in TINY["methods"]}
    assert all(row["auroc"] == "" for row in runs_csv if row["status"] == "failed")
    table = (results / "tables" / "auroc_mnist5k_one_class.tex").read_text()
    rows = [line for line in table.splitlines() if line.startswith(("0 &", "1 &", "mean &"))]
    assert len(rows) == 3 and all(line.split(" & ")[1] == r"--$^\dagger$" for line in rows), rows
    assert r"$^\dagger$ at least one run of this cell failed" in table
    summary = (results / "summary.md").read_text()
    assert "## Failed runs" in summary and "loss diverged" in summary

    # allow_failed_runs: the same line, and exit status 0
    allowed = dict(diverging, allow_failed_runs=True)
    result = snakemake(tiny_run, allowed, "--cores", "2")
    assert "2 runs failed: " in result.stderr and "allowed by allow_failed_runs" in result.stderr


@pytest.mark.workflow
def test_kill_9_then_the_same_command_finishes_only_the_rest(tmp_path):
    profile = ("--profile", str(PROFILE), "--cores", "1")
    command, env = snakemake_command(tmp_path, TINY, *profile)
    workflow = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
    runs = tmp_path / "results" / "runs"

    def finished_runs():
        # a run directory in place, not a staging folder (.cpu.tmp-...) still being written
        return [p.parent for p in runs.rglob("metrics.json")
                if not any(part.startswith(".") for part in p.relative_to(runs).parts)]

    try:
        deadline = time.monotonic() + 300
        while not finished_runs() and time.monotonic() < deadline and workflow.poll() is None:
            time.sleep(0.02)
        os.killpg(workflow.pid, signal.SIGKILL)  # Snakemake and every job it started, as a crash would
    finally:
        workflow.wait()
    finished = finished_runs()
    assert 1 <= len(finished) < 6, finished
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for d in finished for p in d.iterdir()}

    # a killed run leaves its lock; with no Snakemake process left in the folder it is stale
    assert (tmp_path / ".snakemake" / "locks").is_dir() and any((tmp_path / ".snakemake" / "locks").iterdir())
    unlock = subprocess.run([str(BIN / "ocbench"), "unlock-stale", "--directory", str(tmp_path)],
                            capture_output=True, text=True, env=env, timeout=60)
    assert unlock.returncode == 0 and "removed the lock a killed run left" in unlock.stderr, unlock.stderr
    snakemake(tmp_path, TINY, *profile)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in before} == before
    assert len(finished_runs()) == 6
    assert len((tmp_path / "results/tables/runs.csv").read_text().strip().splitlines()) == 1 + 6
    assert planned_jobs(tmp_path, TINY) == {}


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
    result = subprocess.run([str(BIN / "snakemake"), "--lint"], cwd=ROOT, capture_output=True, text=True,
                            env=workflow_env(), timeout=300)
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


PRESETS = sorted((ROOT / "workflow" / "experiments").glob("*.yaml"))


@pytest.mark.workflow
@pytest.mark.parametrize("preset", PRESETS, ids=lambda path: path.stem)
def test_every_preset_plans_its_jobs_offline(preset, tmp_path):
    """A dry run of each paper preset, on this machine without data or network: every
    dataset is fetched, split, trained, collected and reported. devices becomes [cpu]
    (this machine has no GPU, and a local run with cuda stops at the config check)."""
    config = yaml.safe_load(preset.read_text())
    mirrors = [d["mirror"] for d in config["datasets"].values() if d.get("mirror")]
    missing = [m for m in mirrors if not Path(m).is_dir()]
    if missing:
        pytest.skip(f"the preset reads the mirror {missing[0]}, absent here")
    config["devices"] = ["cpu"]
    counts = planned_jobs(tmp_path, config)
    datasets = set(config["datasets"])
    assert counts.get("fetch", 0) >= len(datasets) - len(mirrors), counts
    assert counts.get("run_batch", 0) >= len(datasets) * len(config["seeds"]), counts
    assert counts.get("collect") == 1 and counts.get("summary") == 1 and counts.get("ranks") == 1, counts
