"""The SLURM profile's command-line arguments, the resources a dry run prints, and the one-node
test cluster (tests/slurm/start_cluster.sh) that the ``slurm_cluster`` fixture (conftest.py) starts."""
import re
import shutil

from helpers.paths import ROOT

PROFILE = ("--profile", str(ROOT / "workflow" / "profiles" / "slurm"))
START = ROOT / "tests" / "slurm" / "start_cluster.sh"
STOP = ROOT / "tests" / "slurm" / "stop_cluster.sh"


def planned_resources(output: str) -> list[tuple[str, dict, dict]]:
    """(rule, wildcards, resources) of every job a dry run prints (with OCBENCH_JOB_DETAILS, each job's
    full listing instead of its message)."""
    jobs = []
    for block in re.split(r"\n(?=\s*(?:local)?rule \w+:)", output):
        rule = re.match(r"\s*(?:local)?rule (\w+):", block)
        resources = re.search(r"^\s*resources: (.*)$", block, re.M)
        if not rule or not resources:
            continue
        wildcards = re.search(r"^\s*wildcards: (.*)$", block, re.M)
        jobs.append((rule.group(1), _pairs(wildcards.group(1) if wildcards else ""), _pairs(resources.group(1))))
    return jobs


def _pairs(text: str) -> dict:
    return dict(item.split("=", 1) for item in text.split(", ") if "=" in item)


def slurm_missing() -> str | None:
    missing = [tool for tool in ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")
               if shutil.which(tool) is None]
    if missing:
        return f"SLURM is not installed ({', '.join(missing)} missing): apt-get install slurmctld slurmd slurm-client munge"
    return None
