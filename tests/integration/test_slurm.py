"""The SLURM profile (workflow/profiles/slurm): what each job asks for, read from a dry run
(no SLURM needed), and the tiny config run on a real one-node SLURM cluster
(tests/slurm/start_cluster.sh; skipped, with the reason, where SLURM is not installed)."""
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from helpers.paths import ROOT
from helpers.slurm import PROFILE, planned_resources
from helpers.workflow import TINY, snakemake, snakemake_command

# The test machine's node may be small: every job asks for little (the defaults are sized
# for real data), which also proves that --config replaces single cluster values.
SMALL_JOBS = 'cluster={small: {mem_mb: 300, runtime: 10}, train: {mem_mb: 600, runtime: 30}}'


def with_devices(config: dict, devices: list[str]) -> dict:
    changed = yaml.safe_load(yaml.safe_dump(config))
    changed["devices"] = devices
    return changed


def test_profile_dry_run_sends_cuda_jobs_to_the_gpu_partition(tmp_path):
    config = with_devices(TINY, ["cpu", "cuda"])
    result = snakemake(tmp_path, config, *PROFILE, "--dry-run", "--config", "cluster={cpu_partition: short}",
                       OCBENCH_JOB_DETAILS="1")
    jobs = [(rule, w, r) for rule, w, r in planned_resources(result.stdout + result.stderr) if "slurm_partition" in r]
    training = [(w, r) for _, w, r in jobs if "gpu" in r]  # the rules that declare gpu=gpus train
    # One training job per (dataset, setting, seed, device): its 2 classes on cpu, and on cuda.
    assert sorted(w["device"] for w, _ in training) == ["cpu", "cuda"]
    for wildcards, resources in training:
        cuda = wildcards["device"] == "cuda"
        assert resources["gpu"] == ("1" if cuda else "0"), (wildcards, resources)
        assert resources["slurm_partition"] == ("gpu" if cuda else "short"), (wildcards, resources)
        # runtime: estimate, and no calibration in a fresh folder: the floor (tests/unit/test_estimate.py)
        assert (resources["mem_mb"], resources["runtime"]) == ("8000", "30")
    small = [(rule, r) for rule, _, r in jobs if "gpu" not in r]
    assert {"prepare", "split", "collect", "tables", "plot_extremes", "summary"} <= {rule for rule, _ in small}
    for rule, resources in small:  # the small jobs of a CUDA run too: CPU partition, no GPU
        assert resources["slurm_partition"] == "short", (rule, resources)
        assert (resources["mem_mb"], resources["runtime"]) == ("4000", "10"), (rule, resources)


def test_profile_refuses_a_gpu_on_a_cpu_only_run(tmp_path):
    result = snakemake(tmp_path, TINY, *PROFILE, "--dry-run", "--set-resources", "run_batch:gpu=1", check=False)
    assert result.returncode != 0
    assert "set-resources run_batch:gpu=1 asks for a GPU, but devices is ['cpu']" in result.stdout + result.stderr


def test_cluster_memory_grows_on_a_retried_attempt(tmp_path):
    """mem_mb × memory_growth^(attempt − 1), read from the printed resources of a dry run."""
    config = yaml.safe_load(yaml.safe_dump(TINY))
    config["cluster"] = {"memory_growth": 1.5, "train": {"mem_mb": 1000, "runtime": 5}}
    result = snakemake(tmp_path, config, *PROFILE, "--dry-run", OCBENCH_JOB_DETAILS="1")
    jobs = planned_resources(result.stdout + result.stderr)
    assert {r["mem_mb"] for _, _, r in jobs if "gpu" in r} == {"1000"}
    assert {r["mem_mb"] for rule, _, r in jobs if rule == "split"} == {"4000"}  # the other kind keeps its default
    # The attempt is Snakemake's: the same function with attempt 3 gives 1000 × 1.5².
    namespace = {"config": {"cluster": {"memory_growth": 1.5, "train": {"mem_mb": 1000}}}}
    common = (ROOT / "rules" / "common.smk").read_text()
    exec(common[common.index("def cluster_mem_mb"):common.index("def cluster_runtime")], namespace)
    assert namespace["cluster_mem_mb"]("train")(None, attempt=3) == 2250


def test_a_failed_group_job_ends_the_console_with_slurms_reason(tmp_path):
    """Snakemake's message of a failed group job names the SLURM log but not the SLURM state
    (its executor's message is dropped): the console ends with SLURM's own line from that log."""
    from ocbench.outcome import failed_jobs_text

    slurm_log = tmp_path / "389.log"
    slurm_log.write_text("Building DAG of jobs...\nsrun: forcing job termination\nslurmstepd-vm: error: *** JOB 389 "
                         "ON vm CANCELLED AT 2026-12-05T03:52:28 ***\n    message: Error in group batch\n")
    batch_log = tmp_path / "cpu.log"
    batch_log.write_text("")
    snakemake_log = tmp_path / "run.snakemake.log"
    snakemake_log.write_text(f"""\
[Sat Dec  5 03:52:36 2026]
    message: Error in group batch
    log: {slurm_log} (check log file(s) for error details)
    jobs:
        rule run_batch:
            jobid: 7
            log: {batch_log} (check log file(s) for error details)
    [Sat Dec  5 03:52:36 2026]
    Error in rule run_batch:
        message: None
        log: {batch_log} (check log file(s) for error details)
""")
    assert failed_jobs_text([snakemake_log]) == (
        f"ocbench: 1 job failed:\n  group batch ({slurm_log}):\n"
        "    slurmstepd-vm: error: *** JOB 389 ON vm CANCELLED AT 2026-12-05T03:52:28 ***\n"
        f"  run_batch ({batch_log}):\n    (its log is empty)\n")


def with_methods(config: dict, devices: list[str], methods: list[str]) -> dict:
    changed = with_devices(config, devices)
    changed["methods"] = methods
    changed["method_params"] = {}
    return changed


@pytest.mark.parametrize("devices, methods, alone", [
    (["cpu"], ["deep_svdd_oneclass", "cae", "isoforest"], True),        # every method in the cpu batch
    (["cuda"], ["deep_svdd_oneclass", "cae"], True),                    # every method in the cuda batch
    (["cuda"], ["deep_svdd_oneclass", "cae", "isoforest"], False),      # isoforest runs in the cpu batch
    (["cpu", "cuda"], ["deep_svdd_oneclass", "cae"], False)])
def test_a_batch_makes_its_splits_where_no_other_batch_reads_them(devices, methods, alone):
    from ocbench.config import batches_reading_their_splits_alone, group_runs, load_and_validate, runs

    batches = group_runs(runs(load_and_validate(with_methods(TINY, devices, methods))))
    assert batches_reading_their_splits_alone(batches) == (set(batches) if alone else set())


def test_profile_dry_run_puts_the_splits_in_the_job_of_the_batch_that_alone_reads_them(tmp_path):
    """On the GPU partition with a CUDA-only grid, one minute each on top of the batch's limit;
    where a cuda and a cpu batch read them, in the splits group with the small jobs' limit."""
    def split_jobs(devices, methods):
        result = snakemake(tmp_path, with_methods(TINY, devices, methods), *PROFILE, "--dry-run",
                           OCBENCH_JOB_DETAILS="1")
        output = result.stdout + result.stderr
        groups = re.findall(r"Group job (\w+)", output)
        return groups, [(r["slurm_partition"], r["runtime"]) for rule, _, r in planned_resources(output)
                        if rule == "split"]

    assert split_jobs(["cuda"], ["deep_svdd_oneclass", "cae"]) == (["batch"], [("gpu", "1")] * 2)
    assert split_jobs(["cpu", "cuda"], ["deep_svdd_oneclass", "cae"]) == (["splits"], [("", "10")] * 2)


def test_cluster_block_fills_each_missing_value_and_names_a_bad_one():
    from ocbench.config import load_and_validate
    from ocbench.errors import OcbenchError

    config = yaml.safe_load(yaml.safe_dump(TINY))
    config["cluster"] = {"train": {"mem_mb": "16000"}}  # as `--config 'cluster={train: {mem_mb: 16000}}'` gives it
    load_and_validate(config)
    assert config["cluster"] == {"cpu_partition": None, "gpu_partition": "gpu", "local_prepare": True,
                                 "memory_growth": 2,
                                 "small": {"mem_mb": 4000, "runtime": 10},
                                 "train": {"mem_mb": "16000", "runtime": "estimate", "runtime_safety": 2,
                                           "runtime_floor": 30}}
    config = yaml.safe_load(yaml.safe_dump(TINY))
    config["cluster"] = {"train": {"mem_mb": "16G"}}
    with pytest.raises(OcbenchError, match=r"^config cluster\.train\.mem_mb: '16G' does not match"):
        load_and_validate(config)


# --------------------------------------------------------------------------- the checks, on stub commands

def stub_command(folder: Path, name: str, script: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("#!/bin/sh\n" + script)
    (folder / name).chmod(0o755)


@pytest.fixture
def stub_sinfo(tmp_path, monkeypatch):
    """An `sinfo` whose partitions are cpu and gpu, and whose gpu nodes offer $GRES."""
    stub_command(tmp_path / "bin", "sinfo", 'case "$*" in\n  *%R*) printf "cpu\\ngpu\\n" ;;\n'
                 '  *"-p gpu"*%G*) printf "%s\\n" "$GRES" ;;\n  *) exit 1 ;;\nesac\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    return monkeypatch


@pytest.mark.parametrize("gres, gpus", [("(null)", False), ("mps:100", False), ("gpu:2", True),
                                        ("gpu:a100:4(S:0-1)", True), ("shard:8,gpu:h100:8(S:0-1)", True)])
def test_gpu_partition_needs_a_node_with_a_gpu(stub_sinfo, gres, gpus):
    from ocbench.config import load_and_validate
    from ocbench.config.cluster import check_partitions
    from ocbench.errors import OcbenchError

    stub_sinfo.setenv("GRES", gres)
    config = load_and_validate(with_devices(TINY, ["cpu", "cuda"]))
    if gpus:
        check_partitions(config)
        return
    with pytest.raises(OcbenchError) as refused:
        check_partitions(config)
    assert str(refused.value).startswith(f"cluster.gpu_partition: partition 'gpu' has no GPUs "
                                         f"(`sinfo -p gpu -h -o %G` lists {gres}), so sbatch would refuse")
    check_partitions(load_and_validate(with_devices(TINY, ["cpu"])))  # no CUDA job: no GPU needed


def test_requests_are_checked_by_sbatch_without_queuing_anything(tmp_path, monkeypatch):
    """`sbatch --test-only` answers for each kind of job; its refusal is one line naming the job,
    what it asks for and sbatch's reasons."""
    from ocbench.config.cluster import check_requests
    from ocbench.errors import OcbenchError

    queued = tmp_path / "queued"
    stub_command(tmp_path / "bin", "sbatch", f'case "$*" in *--test-only*) ;; *) touch {queued} ;; esac\n'
                 'case "$*" in *"--mem 600 "*) exit 0 ;; esac\n'
                 'echo "sbatch: error: Memory specification can not be satisfied" >&2\n'
                 'echo "sbatch: error: Batch job submission failed: Requested node configuration is not available" >&2\n'
                 'exit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    naming = ["--parsable", "--job-name", "ocbench-check", "--output", "/dev/null", "--export=ALL",
              "--comment", "ocbench-check"]
    fits = ["sbatch", *naming, "-p", "cpu", "-t", "30", "--mem", "600", "--ntasks=1", "--cpus-per-task=1"]
    too_big = ["sbatch", *naming, "-p", "cpu", "-t", "30", "--mem", "9000000", "--ntasks=1", "--cpus-per-task=1"]
    check_requests({"split": fits})
    with pytest.raises(OcbenchError) as refused:
        check_requests({"split": fits, "run_batch (device cpu)": too_big})
    assert str(refused.value) == (
        "sbatch refuses the run_batch (device cpu) jobs (-p cpu -t 30 --mem 9000000 --ntasks=1 --cpus-per-task=1): "
        "Memory specification can not be satisfied; Batch job submission failed: Requested node configuration is "
        "not available; their partition, memory and runtime come from the config's cluster block or "
        "--set-resources (docs/cluster.md), and `sinfo -o '%P %c %m %G %l'` lists what each partition's nodes offer")
    assert not queued.exists()


def test_account_warning_comes_from_the_plugins_guess_which_no_account_leaves_on(tmp_path, monkeypatch):
    """docs/cluster.md: without an account the executor plugin guesses one with
    `sacct -nu USER -o Account%256 | tail -1` run without a shell, so sacct gets `| tail -1`
    as arguments and fails on `-1`; its `no_account` setting (--slurm-no-account) does not
    stop the guess. Should a plugin release change either, this fails: update the docs."""
    from types import SimpleNamespace

    from snakemake_executor_plugin_slurm import Executor

    arguments = tmp_path / "arguments"
    stub_command(tmp_path / "bin", "sacct", f'echo "$@" > {arguments}\n'
                 'echo "sacct: invalid option -- \'1\'" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    warnings = []
    settings = SimpleNamespace(no_account=True)
    executor = SimpleNamespace(logger=SimpleNamespace(warning=warnings.append), _fallback_account_arg=None,
                               workflow=SimpleNamespace(executor_settings=settings))
    job = SimpleNamespace(resources={})
    assert next(Executor.get_account_arg(executor, job)) == ""  # sbatch without -A
    assert arguments.read_text().split()[-5:] == ["-o", "Account%256", "|", "tail", "-1"]
    assert [" ".join(warning.split()) for warning in warnings] == [
        "No SLURM account given, trying to guess.",
        "No account was given, not able to get a SLURM account via sacct: sacct: invalid option -- '1'",
        "Unable to guess SLURM account. Trying to proceed without."]


# --------------------------------------------------------------------------- a real cluster

def scores(results: Path) -> dict[str, bytes]:
    return {str(path.relative_to(results)): path.read_bytes() for path in sorted(results.glob("runs/**/scores.csv"))}


@pytest.mark.workflow
def test_slurm_profile_runs_the_tiny_config_like_a_local_run(slurm_cluster, tmp_path):
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    local.mkdir(), cluster.mkdir()
    # The local reference runs meanwhile: the SLURM run spends much of its time waiting.
    command, env = snakemake_command(local, TINY, "--cores", "1")
    reference = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    start = time.monotonic()
    result = snakemake(cluster, TINY, *PROFILE, "--config", SMALL_JOBS)
    print(f"\nSLURM run of the tiny config: {time.monotonic() - start:.0f} s (benchmarks/slurm.py compares)")
    output, _ = reference.communicate(timeout=600)
    assert reference.returncode == 0, output[-5000:]

    expected = scores(local / "results")
    assert len(expected) == 2 * len(TINY["methods"])
    assert scores(cluster / "results") == expected
    assert (cluster / "results" / "summary.md").exists()
    assert planned_jobs_left(cluster) == 0
    # One submission: the batch's job, which makes both splits first; fetch, prepare and the
    # report jobs run in Snakemake's own process.
    console = result.stdout + result.stderr
    assert len(re.findall(r"has been submitted with SLURM jobid", console)) == 1, console[-3000:]
    assert "Group job batch" in console
    # the report jobs (collect, tables, ranks, plots, summary) ran here: their files exist, and only the
    # submission above went through sbatch
    assert all((cluster / "results" / name).exists() for name in ("tables/runs.csv", "tables/ranks.csv",
                                                                  "figures/auroc.png"))


def planned_jobs_left(workdir: Path) -> int:
    result = snakemake(workdir, TINY, "--dry-run", "--quiet", "rules")
    return sum(int(n) for n in re.findall(r"^total\s+(\d+)\s*$", result.stdout + result.stderr, re.M))


def test_slurm_profile_stops_at_once_on_a_missing_partition(slurm_cluster, tmp_path):
    result = snakemake(tmp_path, TINY, *PROFILE, "--config", "cluster={cpu_partition: nosuch}", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "cluster.cpu_partition: partition 'nosuch' does not exist on this cluster (`sinfo -s` lists cpu, gpu)" in output
    assert "submitted with SLURM jobid" not in output


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The run failed, with its reason as one `ocbench: error:` line, before any submission."""
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "submitted with SLURM jobid" not in output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("ocbench: error:")]
    assert len(errors) == 1, output[-3000:]
    return errors[0]


def test_slurm_profile_refuses_cuda_on_a_partition_without_gpus(slurm_cluster, tmp_path):
    """The test cluster's node has no GPU: sbatch would refuse the CUDA batch with "Invalid
    generic resource", after the CPU jobs before it had run."""
    result = snakemake(tmp_path, with_devices(TINY, ["cpu", "cuda"]), *PROFILE, check=False)
    assert ("cluster.gpu_partition: partition 'gpu' has no GPUs (`sinfo -p gpu -h -o %G` lists (null)), "
            "so sbatch would refuse every CUDA job") in one_line_error(result)


def test_slurm_profile_refuses_what_sbatch_would_refuse(slurm_cluster, tmp_path):
    """More memory than the node has: sbatch's own verdict (--test-only), before any job, instead
    of a failed job, and its retry, after the jobs before it had run."""
    too_much = 'cluster={train: {mem_mb: 100000000}}'
    result = snakemake(tmp_path, TINY, *PROFILE, "--config", too_much, check=False)
    error = one_line_error(result)
    assert error.startswith("ocbench: error: sbatch refuses the run_batch (device cpu) jobs (")
    assert " --mem 100000000 " in error and "): Requested node configuration is not available;" in error
    assert not (tmp_path / "data" / "prepared").exists()


def slurm_job(workdir: Path, folder: str, state: str, timeout: float = 300) -> str | None:
    """The SLURM id of this workflow's job whose log is under ``folder`` of the SLURM logs
    (``rule_prepare``, ``group_batch_*``) once it is in ``state`` (its log file names both)."""
    logs = workdir / ".snakemake" / "slurm_logs"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = subprocess.run(["squeue", "--noheader", f"--states={state}", "--format=%i"],
                                capture_output=True, text=True).stdout
        for job_id in listed.split():
            if any(logs.glob(f"{folder}/**/{job_id}.log")):
                return job_id
        time.sleep(0.2)
    return None


@pytest.mark.workflow
def test_slurm_job_cancelled_is_not_resubmitted_and_its_logs_exist(slurm_cluster, tmp_path):
    """A scancel is not retried at double memory (retries are for out-of-memory jobs, on
    request), and the logs its error names exist, the SLURM one saying it was cancelled.
    (cluster.local_prepare false: prepare is a SLURM job, the first of the run.)"""
    submitted_prepare = "cluster={small: {mem_mb: 300, runtime: 10}, train: {mem_mb: 600, runtime: 30}, local_prepare: false}"
    command, env = snakemake_command(tmp_path, TINY, *PROFILE, "--config", submitted_prepare)
    run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    job_id = slurm_job(tmp_path, "rule_prepare", "RUNNING")
    assert job_id is not None, "the prepare job did not start"
    raw = {str(path): path.read_bytes() for path in (tmp_path / "data" / "raw").rglob("*") if path.is_file()}
    subprocess.run(["scancel", job_id], check=True)
    output, _ = run.communicate(timeout=300)

    assert run.returncode != 0
    assert "Trying to restart job" not in output
    assert len(re.findall(r"has been submitted with SLURM jobid", output)) == 1
    error = output[output.index("Error in rule prepare:"):]
    logs = re.search(r"^\s+log: (.+?) \(check log file\(s\) for error details\)", error, re.M).group(1).split(", ")
    assert [Path(log).name for log in logs] == ["mnist5k.log", f"{job_id}.log"]
    for log in logs:
        assert (tmp_path / log).exists(), log
    assert "CANCELLED" in (tmp_path / logs[1]).read_text()
    assert raw and {str(path): path.read_bytes() for path in (tmp_path / "data" / "raw").rglob("*")
                    if path.is_file()} == raw


@pytest.mark.workflow
def test_slurm_batch_job_cancelled_ends_the_console_with_slurms_reason(slurm_cluster, tmp_path):
    """The batch's job (a group job: its splits, then the batch) cancelled: not resubmitted, and
    the console ends with SLURM's line from the job's SLURM log, which Snakemake's message of a
    failed group leaves out (it has no SLURM state), then with each of its jobs."""
    command, env = snakemake_command(tmp_path, TINY, *PROFILE, "--config", SMALL_JOBS)
    run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    job_id = slurm_job(tmp_path, "group_batch_*", "RUNNING")
    assert job_id is not None, "the batch's job did not start"
    subprocess.run(["scancel", job_id], check=True)
    output, _ = run.communicate(timeout=300)

    assert run.returncode != 0
    assert "Trying to restart job" not in output
    assert len(re.findall(r"has been submitted with SLURM jobid", output)) == 1
    ending = output[output.index("ocbench: 3 jobs failed:"):].splitlines()
    slurm_log = re.fullmatch(r"  group batch \((.+)\):", ending[1]).group(1)
    assert Path(slurm_log).name == f"{job_id}.log" and Path(slurm_log).exists()
    assert re.fullmatch(rf"    slurmstepd\S*: error: \*\*\* JOB {job_id} ON \S+ CANCELLED AT .*", ending[2]), ending
    assert sorted(line.split(" (")[0].strip() for line in ending[3::2]) == ["run_batch", "split", "split"], ending


def test_slurm_profile_refuses_sacct_without_accounting(slurm_cluster, tmp_path):
    result = snakemake(tmp_path, TINY, *PROFILE, "--slurm-status-command", "sacct", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "this cluster has no accounting" in output and "use --slurm-status-command squeue" in output
    assert "submitted with SLURM jobid" not in output

    # squeue sees a finished job for MinJobAge = 900 s (start_cluster.sh): first checks
    # 400 s after a submission would find none of them.
    result = snakemake(tmp_path, TINY, *PROFILE, "--slurm-init-seconds-before-status-checks", "400", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "keeps finished jobs for MinJobAge=900 s, less than the 1200 s" in output, output[-3000:]
    assert "submitted with SLURM jobid" not in output


# --------------------------------------------------------------------------- local GPUs

ONE_GPU = ROOT / "workflow" / "scripts" / "one_gpu.sh"


def test_one_gpu_gives_concurrent_cuda_jobs_different_gpus(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "CUDA_VISIBLE_DEVICES": "3,5", "OCBENCH_GPU_LOCKS": str(tmp_path / "locks")}
    # Each job writes the GPU it sees, then holds it until the file `go` appears.
    hold = 'echo "$CUDA_VISIBLE_DEVICES" > {name}; while [ ! -e go ]; do sleep 0.05; done'
    jobs = []
    for name in ("a", "b"):
        jobs.append(subprocess.Popen([str(ONE_GPU), "1", "sh", "-c", hold.format(name=name)], cwd=tmp_path, env=env))
        while not (tmp_path / name).exists() and jobs[-1].poll() is None:
            time.sleep(0.05)
    (tmp_path / "go").touch()
    assert [job.wait(timeout=60) for job in jobs] == [0, 0]
    assert sorted((tmp_path / name).read_text().strip() for name in ("a", "b")) == ["3", "5"]

    def seen(gpus: str, visible: str) -> str:
        command = [str(ONE_GPU), gpus, "sh", "-c", 'echo "$CUDA_VISIBLE_DEVICES"']
        return subprocess.run(command, env=dict(env, CUDA_VISIBLE_DEVICES=visible), capture_output=True,
                              text=True, check=True).stdout.strip()

    assert seen("0", "3,5") == "3,5"  # a CPU job is left alone
    assert seen("1", "7") == "7"      # one GPU (as SLURM gives a job): nothing to choose
