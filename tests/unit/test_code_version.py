"""The code versions in the runs' requests: a run's version covers the modules its method, its net and
its dataset use, so an edit refits the runs that use the edited module and no other; the report does
not count. (tests/integration/test_reruns.py reruns the workflow after such edits and compares the files.)"""
import shutil
from pathlib import Path

import pytest

import ocbench
from ocbench.code_version import (
    JOB_FILES, RUN_MODULES, autoencoder_version, clear_cache, code_version, imported_files, run_version,
    source_version)
from ocbench.detectors import METHODS

PACKAGE = Path(ocbench.__file__).resolve().parent
DEEP = sorted(m for m, spec in METHODS.items() if spec.deep)


@pytest.fixture
def copy(tmp_path):
    """A copy of the package's source, to edit."""
    target = tmp_path / "ocbench"
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__"))
    clear_cache()
    yield target
    clear_cache()


def edit(path: Path) -> None:
    path.write_text(path.read_text() + "\n# an edit\n")


def versions(package: Path) -> dict:
    """Every built-in method's version on an image and a tabular dataset (with the net a run passes),
    and the autoencoders'."""
    found = {}
    for dataset, net in (("mnist5k", "mnist_lenet"), ("wbc", "wbc_mlp")):
        for method, spec in METHODS.items():
            found[method, dataset] = run_version(method, dataset, net if spec.deep or spec.hybrid else None, package)
        found["autoencoder", dataset] = autoencoder_version(dataset, net, package)
    return found


def changed(package: Path) -> set:
    before = versions(PACKAGE)
    now = versions(package)
    return {key for key in before if before[key] != now[key]}


def test_an_edit_to_a_computing_module_changes_the_version_and_a_report_edit_does_not(copy):
    assert source_version(copy) == code_version()

    (copy / "report" / "plots.py").write_text((copy / "report" / "plots.py").read_text() + "\n# a caption\n")
    (copy / "cli.py").write_text((copy / "cli.py").read_text() + "\n# a message\n")
    assert source_version(copy) == code_version()

    detector = copy / "detectors" / "deep_svdd.py"
    detector.write_text(detector.read_text().replace("radius", "radius ", 1))
    assert source_version(copy) != code_version()


def test_an_identical_copy_has_the_same_versions(copy):
    assert changed(copy) == set()


def test_an_edit_to_ocnn_changes_only_the_ocnn_runs(copy):
    edit(copy / "detectors" / "ocnn.py")
    # both OC-NN formulations are the class of detectors/ocnn.py
    assert changed(copy) == {(m, d) for m in ("ocnn", "ocnn_authors_code") for d in ("mnist5k", "wbc")}


def test_an_edit_to_the_training_loop_changes_every_deep_method_and_the_autoencoder(copy):
    edit(copy / "training.py")
    assert {(m, d) for m in DEEP for d in ("mnist5k", "wbc")} | {("autoencoder", "mnist5k"), ("autoencoder", "wbc")} \
        <= changed(copy)


def test_an_edit_to_a_net_changes_only_the_runs_on_that_net(copy):
    edit(copy / "nets" / "lenet.py")
    on_images = {(m, "mnist5k") for m, spec in METHODS.items() if spec.deep or spec.hybrid}
    assert changed(copy) == on_images | {("autoencoder", "mnist5k")}


def test_an_edit_to_the_autoencoder_changes_its_version_and_the_methods_that_build_it(copy):
    edit(copy / "detectors" / "autoencoder.py")
    # CAE scores with it and RCAE builds on it; the runs that read the autoencoder's file get its
    # request (with its version) in theirs (runs.run_request), so they refit too
    assert changed(copy) == {(m, d) for m in ("cae", "rcae") for d in ("mnist5k", "wbc")} | {
        ("autoencoder", "mnist5k"), ("autoencoder", "wbc")}


def test_the_report_the_commands_and_the_config_are_in_no_version(copy):
    for name in ("report/plots.py", "report/summary.py", "cli.py", "config/checks.py", "config/grid.py"):
        edit(copy / name)
    assert changed(copy) == set()


def test_the_job_layer_is_in_every_version(copy):
    for name in JOB_FILES:  # a file that moved must be named again here
        assert (PACKAGE / name).exists(), name
    job = copy / JOB_FILES[0]
    edit(job / "batch.py" if job.is_dir() else job)
    assert changed(copy) == set(versions(PACKAGE))


def test_imports_inside_functions_are_followed():
    # build_autoencoder imports nets/autoencoder.py inside the function (torch stays out of the config parse)
    files = imported_files((PACKAGE / "nets" / "__init__.py",))
    assert PACKAGE / "nets" / "autoencoder.py" in files
    # the registry imports detector modules by name (importlib), so it holds none of them
    registry = imported_files((PACKAGE / "detectors" / "__init__.py",))
    assert PACKAGE / "detectors" / "ocnn.py" not in registry


def test_a_plugin_file_brings_the_ocbench_modules_and_its_own_helpers_that_it_imports(tmp_path):
    (tmp_path / "distances.py").write_text("import numpy\n")
    (tmp_path / "my_plugin.py").write_text("import numpy\nfrom distances import euclidean\n"
                                           "from ocbench.detectors.base import Detector\n")
    files = imported_files((tmp_path / "my_plugin.py",))
    assert tmp_path / "distances.py" in files and PACKAGE / "detectors" / "base.py" in files
    assert PACKAGE / "detectors" / "__init__.py" in files and PACKAGE / "__init__.py" in files  # its packages
    assert not any("numpy" in str(path) for path in files)


def test_the_modules_every_run_calls_exist():
    import importlib.util

    for name in RUN_MODULES:  # a module that moved must be named again in code_version.RUN_MODULES
        assert importlib.util.find_spec(name) is not None, name


def test_a_version_is_worked_out_without_torch_or_scikit_learn():
    import subprocess
    import sys

    script = ("import sys; from ocbench.code_version import run_version, autoencoder_version; "
              "run_version('ocnn', 'mnist5k', 'mnist_lenet'); autoencoder_version('wbc', 'wbc_mlp'); "
              "print(sorted(m for m in ('torch', 'sklearn') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_every_training_job_plan_carries_the_versions_of_its_runs_and_its_autoencoder():
    from ocbench.config import Run, batch_plan, load_and_validate
    from ocbench.jobs.plan import SplitPlan

    small_batches = {"network": {"batch_size": 32}, "autoencoder": {"batch_size": 32}}
    config = load_and_validate({"methods": ["isoforest", "deep_svdd_oneclass"], "training": small_batches,
                                "datasets": {"wine": {}}})
    batch = [Run("wine", "one_class", "0", 1, method, "cpu") for method in ("isoforest", "deep_svdd_oneclass")]
    plan = batch_plan(config, batch, prepared="p.npz", split="s.npz", run_dir=lambda r: "d",
                      autoencoder_path=lambda p: "a")
    assert [run.code for run in plan.runs] == [
        run_version("isoforest", "wine", None), run_version("deep_svdd_oneclass", "wine", "wine_mlp")]
    assert plan.autoencoder.code == autoencoder_version("wine", "wine_mlp")
    assert len({run.code for run in plan.runs} | {plan.autoencoder.code}) == 3
    # the versions travel in the plan file's JSON and back
    assert plan.as_dict()["runs"][1]["code"] == plan.runs[1].code
    assert SplitPlan.from_dict(plan.as_dict()) == plan


@pytest.mark.parametrize("folder", ["a_before_the_package", "z_after_the_package"])
def test_a_plugin_version_does_not_depend_on_where_its_folder_sorts(tmp_path, folder):
    """A run of a plugin method keeps its version when the plugin's folder moves past the package's in
    path order (a rerun in a copied working directory refitted the plugin's runs before)."""
    from ocbench.code_version import _digest

    package = tmp_path / "m_package"
    shutil.copytree(PACKAGE / "detectors", package / "detectors", ignore=shutil.ignore_patterns("__pycache__"))
    plugin = tmp_path / folder / "knn_plugin.py"
    plugin.parent.mkdir()
    plugin.write_text("from ocbench.detectors.base import Detector\n")
    files = [package / "detectors" / "base.py", package / "detectors" / "params.py", plugin]
    reference = tmp_path / "knn_plugin.py"
    reference.write_text(plugin.read_text())
    assert _digest(package, sorted(files)) == _digest(package, [reference, *files[:2]])
