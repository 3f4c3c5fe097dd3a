"""What a user meets when something goes wrong: each failed job's own reason at the end of the
console, the configuration left as the tables it describes, and a killed run's lock removed
(never a live run's)."""
import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ocbench.errors import OcbenchError
from ocbench.locks import lock_files, remove_stale_lock
from ocbench.outcome import failed_jobs, failed_jobs_text, failed_runs_line, job_reason

from helpers.paths import BIN
from helpers.workflow import PROFILE, snakemake

WINE = {"datadir": "data", "outdir": "results", "seeds": [1], "methods": ["isoforest"],
        "datasets": {"wine": {"settings": ["one_class"]}}}
FMNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

SNAKEMAKE_LOG = """\
[Sat Dec  5 00:19:10 2026]
Error in rule fetch:
    message: None
    jobid: 3
    output: data/raw/fmnist/.fetched
    log: results/logs/fetch/fmnist.log (check log file(s) for error details)
    shell:
        ocbench fetch --dataset fmnist 2> results/logs/fetch/fmnist.log
Error in rule split:
    jobid: 6
    log: a.log, b.log (check log file(s) for error details)
Error in rule all:
    jobid: 0
"""


# --------------------------------------------------------------------------- the failed jobs' reasons

def test_failed_jobs_read_from_snakemakes_log():
    assert failed_jobs(SNAKEMAKE_LOG) == [("fetch", ["results/logs/fetch/fmnist.log"], None),
                                          ("split", ["a.log", "b.log"], None), ("all", [], None)]


def test_a_job_cancelled_in_the_queue_ends_with_the_executors_message(tmp_path):
    """A SLURM job cancelled before it started wrote no log, its own or SLURM's: the reason is the
    SLURM state in the executor's message (the plugin's words, with squeue as status command)."""
    own, slurm = tmp_path / "prepare.log", tmp_path / "slurm_logs" / "41.log"
    snakemake_log = tmp_path / "run.snakemake.log"
    snakemake_log.write_text(f"""\
Error in rule prepare:
    message: SLURM-job '41' failed, SLURM status is: 'CANCELLED'. Detailed failure reason unavailable (status \
command is not 'sacct').For further error details see the cluster/cloud log and the log files of the involved rule(s).
    jobid: 2
    log: {own}, {slurm} (check log file(s) for error details)
""")
    assert failed_jobs_text([snakemake_log]) == (
        f"ocbench: 1 job failed:\n  prepare ({own}, {slurm}):\n    (no log at {own})\n    (no log at {slurm})\n"
        "    SLURM-job '41' failed, SLURM status is: 'CANCELLED'. Detailed failure reason unavailable (status "
        "command is not 'sacct').\n")
    own.write_text("ocbench: error: the job's own reason\n")  # a log that says why: the message adds nothing
    assert failed_jobs_text([snakemake_log]).endswith("    ocbench: error: the job's own reason\n    (no log at "
                                                      f"{slurm})\n")


def test_a_jobs_reason_is_its_error_line_else_its_last_line(tmp_path):
    log = tmp_path / "job.log"
    log.write_text("2026 INFO start\nocbench: error: the first\nTraceback\nocbench: error: the reason\nmore\n")
    assert job_reason(log) == "ocbench: error: the reason"
    log.write_text("INFO start\nKeyError: 'x'\n\n")
    assert job_reason(log) == "KeyError: 'x'"
    log.write_text("")
    assert job_reason(log) == "(its log is empty)"
    assert job_reason(tmp_path / "absent.log") == f"(no log at {tmp_path / 'absent.log'})"


def test_failed_jobs_text_names_rule_log_and_reason(tmp_path):
    (tmp_path / "fetch.log").write_text("ocbench: error: dataset 'fmnist': truncated\n")
    snakemake_log = tmp_path / "run.snakemake.log"
    snakemake_log.write_text(f"Error in rule fetch:\n    log: {tmp_path / 'fetch.log'} (check log file(s) for error "
                             "details)\n")
    assert failed_jobs_text([snakemake_log]) == (
        f"ocbench: 1 job failed:\n  fetch ({tmp_path / 'fetch.log'}):\n"
        "    ocbench: error: dataset 'fmnist': truncated\n")
    assert failed_jobs_text([tmp_path / "absent.log"]) == ""


def test_failed_runs_line_names_the_first_three_and_counts_the_rest():
    failed = [{"run_dir": f"r{i}", "reason": f"why {i}"} for i in range(5)]
    assert failed_runs_line(failed, "results/summary.md") == (
        "5 runs failed: r0 (why 0); r1 (why 1); r2 (why 2), and 2 more (results/summary.md)")
    assert failed_runs_line(failed[:1], "s.md") == "1 run failed: r0 (why 0) (s.md)"


@pytest.mark.workflow
def test_a_failing_job_ends_the_console_and_leaves_configuration_and_tables(tmp_path):
    snakemake(tmp_path, WINE, "--cores", "1")
    results = tmp_path / "results"
    kept = {name: (results / name).read_bytes() for name in ("configuration.yaml", "tables/runs.csv",
                                                              "tables/auroc_summary.csv", "summary.md")}
    # a mirror whose files are there (the config check passes) but truncated: the fetch job fails
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in FMNIST_FILES:
        (mirror / name).write_bytes(gzip.compress(bytes(4000))[:40])
    broken = dict(WINE, datasets={**WINE["datasets"], "fmnist": {"settings": ["one_class"], "normal_classes": [0],
                                                                 "mirror": str(mirror)}})
    result = snakemake(tmp_path, broken, "--cores", "1", check=False)
    assert result.returncode == 1
    tail = result.stderr.rstrip("\n").splitlines()[-3:]
    assert tail[:2] == ["ocbench: 1 job failed:", "  fetch (results/logs/fetch/fmnist.log):"], tail
    assert tail[2].startswith("    ocbench: error: dataset 'fmnist': ") and "train-images-idx3-ubyte" in tail[2], tail
    assert "WorkflowError" not in result.stderr
    # the configuration describes the tables: neither was rewritten by the failed workflow
    assert {name: (results / name).read_bytes() for name in kept} == kept


# --------------------------------------------------------------------------- stale locks

def _lock(workdir: Path) -> Path:
    locks = workdir / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("/some/input\n")
    (locks / "0.output.lock").write_text("/some/output\n")
    return locks


def test_a_lock_with_no_workflow_running_is_removed(tmp_path):
    _lock(tmp_path)
    assert [p.name for p in remove_stale_lock(tmp_path)] == ["0.input.lock", "0.output.lock"]
    assert lock_files(tmp_path) == []
    assert remove_stale_lock(tmp_path) == []  # nothing to do


def test_a_live_runs_lock_is_never_removed(tmp_path):
    _lock(tmp_path)
    # a process that is Snakemake by its command line, working in the folder
    fake = tmp_path / "bin" / "snakemake"
    fake.parent.mkdir()
    fake.write_text("import time\ntime.sleep(60)\n")
    live = subprocess.Popen([sys.executable, str(fake), "--cores", "1"], cwd=tmp_path)
    try:
        time.sleep(0.5)
        with pytest.raises(OcbenchError, match=rf"a workflow is running in .* \(process {live.pid}: .*its lock stays"):
            remove_stale_lock(tmp_path)
        assert len(lock_files(tmp_path)) == 2
        # the same process working elsewhere does not hold this folder
        other = tmp_path / "elsewhere"
        other.mkdir()
        _lock(other)
        assert len(remove_stale_lock(other)) == 2
    finally:
        live.kill()
        live.wait()
    assert len(remove_stale_lock(tmp_path)) == 2


def test_unlock_stale_command_refuses_in_one_line_while_a_run_lives(tmp_path):
    _lock(tmp_path)
    fake = tmp_path / "snakemake"
    fake.write_text("import time\ntime.sleep(60)\n")
    live = subprocess.Popen([sys.executable, str(fake)], cwd=tmp_path)
    try:
        time.sleep(0.5)
        result = subprocess.run([str(BIN / "ocbench"), "unlock-stale", "--directory", str(tmp_path)],
                                capture_output=True, text=True, timeout=60, env=dict(os.environ))
    finally:
        live.kill()
        live.wait()
    assert result.returncode == 2
    assert result.stderr.startswith("ocbench: error: a workflow is running in ") and result.stderr.count("\n") == 1
    assert len(lock_files(tmp_path)) == 2


# --------------------------------------------------------------------------- an unreadable prepared file

@pytest.mark.workflow
def test_deleting_an_unreadable_prepared_file_lets_the_same_command_finish(tmp_path):
    config = dict(WINE, seeds=[1, 2])
    profile = ("--profile", str(PROFILE), "--cores", "1")  # keep-going, as `make run`
    snakemake(tmp_path, config, *profile)
    splits = tmp_path / "results/splits/wine/one_class/0"
    split_bytes = {p.name: p.read_bytes() for p in splits.iterdir()}
    runs = {p: p.read_bytes() for p in (tmp_path / "results/runs").rglob("*") if p.is_file()}
    prepared = tmp_path / "data/prepared/wine.npz"
    time.sleep(0.05)  # a later modification time: the split jobs run again on the damaged file
    prepared.write_bytes(prepared.read_bytes()[:100])

    result = snakemake(tmp_path, config, *profile, check=False)
    assert result.returncode == 1
    advice = result.stderr.strip().splitlines()[-1]
    assert advice.endswith(f"prepared dataset file data/prepared/wine.npz is unreadable (File is not a zip file); "
                           "delete it and run the same command again, which makes it anew"), advice
    assert len(list(splits.iterdir())) < len(split_bytes), list(splits.iterdir())  # a failed split job removed its file

    prepared.unlink()  # the advice
    snakemake(tmp_path, config, *profile)
    assert {p.name: p.read_bytes() for p in splits.iterdir()} == split_bytes
    assert {p: p.read_bytes() for p in runs} == runs  # the runs were not lost (nor refit: same split)
