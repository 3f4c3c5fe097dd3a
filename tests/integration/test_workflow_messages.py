"""What a user sees when Snakemake stops on a bad config: one line naming the config file and
the key (or the line of a YAML syntax error), no Snakefile line, no traceback."""
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers.paths import BIN, ROOT
from helpers.workflow import workflow_env

pytestmark = pytest.mark.workflow


def dry_run(snakefile: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "snakemake"), "--snakefile", str(snakefile), "--directory", str(workdir),
                           "--dry-run", *args], capture_output=True, text=True, env=workflow_env(), timeout=300)


def test_a_config_error_names_the_file_and_key_in_one_line(tmp_path):
    configfile = tmp_path / "experiment.yaml"
    configfile.write_text(yaml.safe_dump({"seeds": [1], "methods": ["isoforest"],
                                          "method_params": {"isoforest": {"n_estimatorz": 3}},
                                          "datasets": {"wine": {"settings": ["one_class"]}}}))
    result = dry_run(ROOT / "Snakefile", tmp_path, "--configfile", str(configfile))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (f"ocbench: error: {configfile}: config method_params.isoforest: unknown "
                             "hyper-parameter 'n_estimatorz': method 'isoforest' has no hyper-parameter "
                             "'n_estimatorz'; allowed: n_estimators, max_samples, contamination\n")


def test_a_config_value_error_from_the_command_line_names_it_too(tmp_path):
    configfile = tmp_path / "experiment.yaml"
    configfile.write_text(yaml.safe_dump({"seeds": [1], "methods": ["isoforest"],
                                          "datasets": {"wine": {"settings": ["one_class"]}}}))
    result = dry_run(ROOT / "Snakefile", tmp_path, "--configfile", str(configfile), "--config", "validation_fraction=2")
    assert result.returncode == 1
    assert result.stderr.startswith(f"ocbench: error: {configfile} + --config: config validation_fraction: 2 is greater than")
    assert "Traceback" not in result.stderr and "Snakefile" not in result.stderr


def test_a_yaml_syntax_error_in_the_default_config_names_its_line(tmp_path):
    # The embedded default is read by the workflow itself (a --configfile is read by Snakemake
    # before the workflow starts): a copy of the Snakefile beside a broken config.yaml.
    workflow = tmp_path / "workflow"
    workflow.mkdir()
    shutil.copy(ROOT / "Snakefile", workflow / "Snakefile")
    (workflow / "config.yaml").write_text("seeds: [1\nmethods: [ocsvm]\n")
    result = dry_run(workflow / "Snakefile", tmp_path)
    assert result.returncode == 1
    assert result.stderr == (f"ocbench: error: {workflow / 'config.yaml'}: YAML syntax error at line 2, column 8: "
                             "expected ',' or ']', but got ':' (while parsing a flow sequence at line 1, column 8)\n")


def test_cuda_missing_here_names_the_file_and_key(tmp_path):
    from ocbench.config import cuda_missing_reason

    reason = cuda_missing_reason()
    if reason is None:
        pytest.skip("this machine has CUDA: the check passes")
    configfile = tmp_path / "experiment.yaml"
    configfile.write_text(yaml.safe_dump({"seeds": [1], "devices": ["cuda"], "methods": ["isoforest"],
                                          "datasets": {"wine": {"settings": ["one_class"]}}}))
    env = workflow_env()
    # a real run, not a dry one: the check runs where the jobs would start (Snakemake's onstart)
    result = subprocess.run([str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory",
                             str(tmp_path), "--cores", "1", "--configfile", str(configfile)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1
    assert result.stderr.endswith(f"ocbench: error: {configfile}: config devices: 'cuda' is listed but {reason}; "
                                  "use cpu or auto here, or run the workflow on a cluster whose nodes have GPUs\n")
    assert "Traceback" not in result.stderr and not (tmp_path / "data").exists()
