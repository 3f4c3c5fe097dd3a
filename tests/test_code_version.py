"""The code version in every run's request: computing modules change it, the report does not."""
import shutil
from pathlib import Path

import ocbench
from ocbench.code_version import code_version, source_version

PACKAGE = Path(ocbench.__file__).resolve().parent


def test_an_edit_to_a_computing_module_changes_the_version_and_a_report_edit_does_not(tmp_path):
    copy = tmp_path / "ocbench"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert source_version(copy) == code_version()

    (copy / "report" / "plots.py").write_text((copy / "report" / "plots.py").read_text() + "\n# a caption\n")
    (copy / "cli.py").write_text((copy / "cli.py").read_text() + "\n# a message\n")
    assert source_version(copy) == code_version()

    detector = copy / "detectors" / "deep_svdd.py"
    detector.write_text(detector.read_text().replace("radius", "radius ", 1))
    assert source_version(copy) != code_version()


def test_every_training_job_plan_carries_it():
    from ocbench.config import Run, batch_plan, load_and_validate

    config = load_and_validate({"methods": ["isoforest"], "datasets": {"wine": {}}})
    run = Run("wine", "one_class", "0", 1, "isoforest", "cpu")
    plan = batch_plan(config, [run], prepared="p.npz", split="s.npz", run_dir=lambda r: "d",
                      autoencoder_path=lambda p: "a")
    assert plan.code == code_version()
