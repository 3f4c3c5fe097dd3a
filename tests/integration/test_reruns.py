"""A rerun after a code edit refits exactly the runs whose code changed (code_version.run_version): the
workflow runs a tiny config, the code changes (a plugin file, a plugin added, a module of the package
in a copy of the workflow), the same command runs again, and every other run's files are the same
bytes with the same modification time."""
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers.paths import BIN, ROOT
from helpers.plugins import knn_plugin, write_doc_files
from helpers.workflow import copy_of_run, changed_files, snapshot, workflow_env

#: what a copy of the workflow needs to run: its Snakefile, rules, schemas, captions and the library
WORKFLOW_PARTS = ("Snakefile", "rules", "workflow", "envs", "src")

CONFIG = {
    "seeds": [1],
    "plugins": ["knn_plugin.py"],
    "methods": ["deep_svdd_oneclass", "ocnn", "isoforest", "knn"],
    "training": {"network": {"epochs": 1, "milestones": [], "batch_size": 32},
                 "autoencoder": {"epochs": 1, "milestones": [], "batch_size": 32}},
    "datasets": {"wine": {"settings": ["one_class"]}},
}
DEEP = ("deep_svdd_oneclass", "ocnn")


def run_files(method: str, dataset: str = "wine") -> list[str]:
    files = ["metrics.json", "params.json", "scores.csv"] + (["model.pt"] if method in DEEP else [])
    return [f"results/runs/{dataset}/one_class/0/seed1/{method}/cpu/{name}" for name in files]


AUTOENCODER = [f"results/pretrain/wine/one_class/0/seed1/wine_mlp/cpu/autoencoder.{suffix}" for suffix in ("json", "pt")]


def copy_of_the_workflow(folder: Path) -> Path:
    folder.mkdir()
    for part in WORKFLOW_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, folder / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, folder / part)
    return folder


def snakemake(workdir: Path, config: dict, workflow: Path = ROOT) -> None:
    """Run the workflow of ``workflow`` (its Snakefile and, for the jobs, its library) on ``config``."""
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    env = workflow_env(PYTHONPATH=str(workflow / "src"), OMP_NUM_THREADS="1")
    result = subprocess.run([str(BIN / "snakemake"), "--snakefile", str(workflow / "Snakefile"), "--cores", "2",
                             "--directory", str(workdir), "--configfile", str(workdir / "config.yaml")],
                            capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]


def edit(path: Path) -> None:
    path.write_text(path.read_text() + "\n# an edit that computes nothing new\n")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """The tiny config run once (4 runs and their autoencoder on wine); each test works on its own copy."""
    workdir = tmp_path_factory.mktemp("finished")
    knn_plugin(workdir)
    snakemake(workdir, CONFIG)
    return workdir


@pytest.fixture
def rerun(finished, tmp_path):
    return copy_of_run(finished, tmp_path)


@pytest.mark.workflow
def test_an_edit_to_a_plugin_refits_only_its_runs(rerun):
    before = snapshot(rerun)
    edit(rerun / "knn_plugin.py")
    snakemake(rerun, CONFIG)
    assert changed_files(before, snapshot(rerun)) == sorted(run_files("knn"))


@pytest.mark.workflow
def test_adding_a_plugin_refits_nothing_that_existed(rerun):
    """The page's toy plugin adds a method and a dataset: the new runs are made, the old ones stay."""
    before = snapshot(rerun)
    write_doc_files(rerun)
    config = yaml.safe_load(yaml.safe_dump(CONFIG))
    config["plugins"].append("toy_plugin.py")
    config["methods"].append("mean_distance")
    config["datasets"]["two_blobs"] = {"settings": ["one_class"]}
    snakemake(rerun, config)
    after = snapshot(rerun)
    assert set(before) <= set(after) and all(after[name] == before[name] for name in before)
    new = {name.split("/")[2] + "/" + name.split("/")[6] for name in set(after) - set(before) if "/runs/" in name}
    assert new == {"wine/mean_distance"} | {f"two_blobs/{method}" for method in config["methods"]}


@pytest.mark.workflow
def test_an_edit_to_ocnn_refits_only_the_ocnn_runs(rerun, tmp_path):
    workflow = copy_of_the_workflow(tmp_path / "workflow")
    before = snapshot(rerun)
    edit(workflow / "src" / "ocbench" / "detectors" / "ocnn.py")
    snakemake(rerun, CONFIG, workflow)
    assert changed_files(before, snapshot(rerun)) == sorted(run_files("ocnn"))


@pytest.mark.workflow
def test_an_edit_to_the_training_loop_refits_every_deep_method_and_the_autoencoder(rerun, tmp_path):
    workflow = copy_of_the_workflow(tmp_path / "workflow")
    before = snapshot(rerun)
    edit(workflow / "src" / "ocbench" / "training.py")
    snakemake(rerun, CONFIG, workflow)
    # The shallow runs are not held to either answer: today their data loading imports
    # data/adversarial.py, which imports the training loop for its classifier (docs/extending.md).
    assert set(run_files("deep_svdd_oneclass") + run_files("ocnn") + AUTOENCODER) <= set(
        changed_files(before, snapshot(rerun)))
