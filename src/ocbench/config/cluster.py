"""The config's ``cluster`` block against the SLURM cluster the workflow submits to, before any job.

Asked of SLURM's own commands (``sinfo``, ``scontrol``, ``sbatch --test-only``) by the
workflow's ``onstart`` (rules/cluster.smk) when the executor is ``slurm``; each failure
is one ``OcbenchError`` line naming the setting and what to change. Without these, a
refused request shows only when its job is submitted, after the jobs before it ran
(docs/cluster.md, "Before the first job"). Standard library only: the Snakefile imports it.
"""
from __future__ import annotations

import shlex
import shutil
import subprocess

from ..errors import OcbenchError

# sbatch options that name a job or its files, not what it asks for: left out of messages.
_NAMING_OPTIONS = {"--parsable": 0, "--export=ALL": 0, "--job-name": 1, "--output": 1, "--comment": 1}


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def slurm_settings() -> dict[str, str]:
    """``scontrol show config`` as a dict (key -> value string)."""
    out = _run(["scontrol", "show", "config"])
    if out.returncode != 0:
        raise OcbenchError(f"`scontrol show config` failed ({out.stderr.strip()}): is this a SLURM login node?")
    pairs = (line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def seconds(value: str) -> int:
    """A duration of ``scontrol show config`` (``300 sec``, ``1 hour``) in seconds; 0 if unreadable."""
    number, _, unit = value.partition(" ")
    return int(number) * (3600 if unit.startswith("h") else 1) if number.isdigit() else 0


def partitions() -> set[str]:
    return set(_run(["sinfo", "--noheader", "--format=%R"]).stdout.split())


def partition_gres(partition: str) -> list[str]:
    """The generic resources of the partition's nodes, one entry per kind of node
    (``sinfo -p PART -h -o %G``: ``gpu:a100:4(S:0-1)``, ``gpu:2,shard:8``, or ``(null)``)."""
    return sorted(set(_run(["sinfo", "-p", partition, "--noheader", "--format=%G"]).stdout.split()))


def has_gpus(gres: list[str]) -> bool:
    """Whether any node offers a GRES named ``gpu``, the one a job's ``--gpus=1`` asks for."""
    return any(item.split(":", 1)[0] == "gpu" for entry in gres for item in entry.split(","))


def check_commands() -> None:
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        raise OcbenchError("the slurm executor needs SLURM's commands (sinfo, sbatch, squeue) on the PATH")


def check_partitions(config: dict) -> None:
    """The partitions the jobs go to exist, and the GPU partition's nodes have GPUs."""
    existing = partitions()
    uses_gpu = "cuda" in config["devices"]
    wanted = {("cluster.cpu_partition", config["cluster"]["cpu_partition"])}
    if uses_gpu:
        wanted.add(("cluster.gpu_partition", config["cluster"]["gpu_partition"]))
    for key, partition in sorted(wanted):
        if partition and partition not in existing:
            raise OcbenchError(f"{key}: partition '{partition}' does not exist on this cluster "
                               f"(`sinfo -s` lists {', '.join(sorted(existing)) or 'none'}); "
                               f"set it in the config or with --config 'cluster={{{key.split('.')[1]}: NAME}}'")
    if not uses_gpu:
        return
    partition = config["cluster"]["gpu_partition"]
    if not partition:
        raise OcbenchError("cluster.gpu_partition is null but devices has cuda: name the GPU partition (`sinfo -s`)")
    # sbatch refuses a job asking for a GPU where no node has one ("Invalid generic resource"),
    # but only when that job is submitted: after the CPU jobs before it have run.
    gres = partition_gres(partition)
    if not has_gpus(gres):
        raise OcbenchError(f"cluster.gpu_partition: partition '{partition}' has no GPUs "
                           f"(`sinfo -p {partition} -h -o %G` lists {', '.join(gres) or 'no nodes'}), so sbatch "
                           "would refuse every CUDA job: name a partition whose nodes have GPUs "
                           "(`sinfo -o '%P %G'`), or remove cuda from devices")


def check_status_command(status_command: str | None, init_seconds: int) -> None:
    """The executor plugin can learn the jobs' states.

    Without accounting, ``sacct`` reports nothing and the plugin would wait forever;
    ``squeue`` (the profile's slurm-status-command) sees a finished job for MinJobAge
    seconds only, and the plugin falls back to ``sacct`` below three first delays.
    """
    settings = slurm_settings()
    if settings.get("AccountingStorageType", "") not in ("", "accounting_storage/none"):
        return
    if status_command == "sacct":
        raise OcbenchError("this cluster has no accounting (AccountingStorageType=accounting_storage/none), "
                           "so `sacct` cannot report job states: use --slurm-status-command squeue")
    threshold = 3 * init_seconds
    min_job_age = seconds(settings.get("MinJobAge", "0"))
    if min_job_age < threshold:
        raise OcbenchError(f"this cluster has no accounting and keeps finished jobs for MinJobAge={min_job_age} s, "
                           f"less than the {threshold} s that `squeue` status checks need: ask for a higher "
                           "MinJobAge in slurm.conf, or lower --slurm-init-seconds-before-status-checks "
                           f"below {max(min_job_age // 3, 1)}")


def _requested(command: list[str]) -> str:
    """The options of an sbatch command that ask for something (not its names and log file)."""
    kept, skip = [], 0
    for token in command[1:]:
        if skip:
            skip -= 1
        elif token in _NAMING_OPTIONS:
            skip = _NAMING_OPTIONS[token]
        else:
            kept.append(token)
    return shlex.join(kept)


def refusal(stderr: str) -> str:
    """sbatch's reasons, in one line: ``Memory specification can not be satisfied; …``."""
    reasons = []
    for line in stderr.splitlines():
        line = line.strip().removeprefix("sbatch: error: ").removeprefix("allocation failure: ")
        if line and not line.startswith("sbatch: Job "):
            reasons.append(line)
    return "; ".join(reasons) or "no reason given"


def check_requests(commands: dict[str, list[str]]) -> None:
    """Each job kind's sbatch command (as the executor plugin will submit it) through
    ``sbatch --test-only``, which asks the controller without queuing anything.

    It refuses what submission would refuse (memory or time no node or partition offers,
    a GRES no node has, an account or QOS the user may not use), before any job runs:
    a refused job would otherwise fail with no log of its own, after the jobs before it.
    """
    for what, command in commands.items():
        checked = _run([*command, "--test-only", "--wrap", "true"])
        if checked.returncode != 0:
            raise OcbenchError(f"sbatch refuses the {what} jobs ({_requested(command)}): "
                               f"{refusal(checked.stderr)}; their partition, memory and runtime come from the "
                               "config's cluster block or --set-resources (docs/cluster.md), and "
                               "`sinfo -o '%P %c %m %G %l'` lists what each partition's nodes offer")
