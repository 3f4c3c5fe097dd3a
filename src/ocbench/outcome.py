"""How a workflow ends on the console: each failed job's own reason, and the failed runs.

Snakemake reports a failed job as `Error in rule … (check log file(s) for error details)`;
the job's one-line `ocbench: error: …` sits in its log. The Snakefile's `onerror` hook
prints every failed job's rule, log and reason from there, so the console ends with them.
A run that fails (a diverging loss, a solver error) does not fail its job: it is recorded
in its batch manifest and the tables show a dash. The `onsuccess` hook turns those into
one line and a non-zero exit, unless the config allows failed runs.

Only the standard library: the Snakefile imports this before any job.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import NamedTuple

# Snakemake's exit status for a workflow whose jobs all finished but some of its runs failed
# (1 is a failed job or a bad config): `make run` still writes the report for it.
FAILED_RUNS_EXIT = 3
# The error line every ocbench command ends its log with (cli.py prints OcbenchError so).
ERROR_PREFIX = "ocbench: error:"
# (indented: the jobs of a failed group job, which SLURM ran as one job)
_ERROR_IN_RULE = re.compile(r"^\s*Error in rule (\S+?):\s*$")
# A failed group job: its log is the SLURM job's, and Snakemake drops the executor's message
# (the SLURM state) there, so the reason comes from SLURM's own line in that log.
_ERROR_IN_GROUP = re.compile(r"^\s*message: Error in group (\S+)\s*$")
# The executor's message: for a SLURM job, its state ("SLURM-job '12' failed, SLURM status is:
# 'CANCELLED'. … For further error details see …"), the one reason of a job cancelled while it
# still waited in the queue, which never wrote a log
_MESSAGE_LINE = re.compile(r"^\s+message: (.+?)\s*(?:For further error details.*)?$")
_LOG_LINE = re.compile(r"^\s+log: (.+?)(?: \(check log file\(s\) for error details\))?\s*$")
# What SLURM writes into a job's log when it ends it: cancelled, out of time, out of memory
_SLURM_ERROR = re.compile(r"^slurmstepd\S*: error: ")


class FailedJob(NamedTuple):
    """A failed job as Snakemake's log names it: its rule (or ``group NAME``), its log files, and
    the executor's message (a SLURM job's state), where Snakemake gives one."""
    rule: str
    logs: list[str]
    message: str | None = None


def failed_jobs(snakemake_log: str) -> list[FailedJob]:
    """Every `Error in rule` block of a Snakemake log, in its order, and ("group NAME", [its SLURM
    log]) of every failed group job, before the blocks of its jobs."""
    jobs: list[FailedJob] = []
    for line in snakemake_log.splitlines():
        match = _ERROR_IN_RULE.match(line) or _ERROR_IN_GROUP.match(line)
        if match:
            name = match.group(1)
            jobs.append(FailedJob(name if match.re is _ERROR_IN_RULE else f"group {name}", []))
            continue
        match = _MESSAGE_LINE.match(line)
        if match and jobs and jobs[-1].message is None and match.group(1) != "None":
            jobs[-1] = jobs[-1]._replace(message=match.group(1))
            continue
        match = _LOG_LINE.match(line)
        if match and jobs and not jobs[-1].logs:
            jobs[-1].logs.extend(path.strip() for path in match.group(1).split(","))
    return jobs


def job_reason(log_file: str | Path) -> str:
    """The reason a job's log gives: its `ocbench: error:` line, else SLURM's line saying why
    it ended the job (a SLURM job's log), else its last line."""
    path = Path(log_file)
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return f"(no log at {path})"
    errors = [line for line in lines if line.startswith(ERROR_PREFIX)]
    errors = errors or [line for line in lines if _SLURM_ERROR.match(line)]
    if errors:
        return errors[-1]
    return lines[-1] if lines else "(its log is empty)"


def failed_jobs_text(snakemake_logs) -> str:
    """The console's last lines after failed jobs: each rule, its log and its reason."""
    jobs = []
    for log in snakemake_logs:
        try:
            jobs += failed_jobs(Path(log).read_text(errors="replace"))
        except OSError:
            continue
    if not jobs:
        return ""
    count = sum(not job.rule.startswith("group ") for job in jobs) or len(jobs)  # a group is its jobs
    lines = [f"ocbench: {count} job{'s' if count != 1 else ''} failed:"]
    for rule, logs, message in jobs:
        lines.append(f"  {rule}" + (f" ({', '.join(logs)})" if logs else "") + ":")
        reasons = [job_reason(log) for log in logs]
        if message and not rule.startswith("group ") and all(r.startswith("(") for r in reasons):
            reasons.append(message)  # no log says why (a job cancelled in the queue): the executor does
        lines += [f"    {reason}" for reason in reasons] or ["    (the job has no log)"]
    return "\n".join(lines) + "\n"


def exit_with_failed_jobs(snakemake_logs) -> None:
    """Snakefile `onerror`: print each failed job's reason last, then exit 1.

    Exiting here (Snakemake releases its lock on the way out) keeps Snakemake's closing
    `WorkflowError` from printing after the reasons; its log's path is given instead.
    """
    text = failed_jobs_text(snakemake_logs)
    if not text:
        return  # no job named (for example an error of Snakemake's own): its message stands
    logs = [str(log) for log in snakemake_logs]
    sys.stderr.write(f"Complete log: {', '.join(logs)}\n" + text if logs else text)
    sys.exit(1)


def failed_runs(manifests) -> list[dict]:
    """The failed runs recorded in the batch manifests that exist (a missing one ran no job)."""
    failed = []
    for manifest in manifests:
        try:
            runs = json.loads(Path(manifest).read_text())["runs"]
        except (OSError, ValueError, KeyError):
            continue
        failed += [run for run in runs if run.get("status") == "failed"]
    return failed


def failed_runs_line(failed: list[dict], summary: str, shown: int = 3) -> str:
    """`N runs failed: dir (reason), … (summary.md)`, naming the first ``shown`` runs."""
    names = [f"{run['run_dir']} ({run.get('reason') or 'no reason recorded'})" for run in failed[:shown]]
    more = f", and {len(failed) - shown} more" if len(failed) > shown else ""
    plural = "s" if len(failed) != 1 else ""
    return f"{len(failed)} run{plural} failed: {'; '.join(names)}{more} ({summary})"


def exit_on_failed_runs(manifests, summary: str, allowed: bool) -> None:
    """Snakefile `onsuccess`: one line and exit FAILED_RUNS_EXIT where runs failed, unless allowed."""
    failed = failed_runs(manifests)
    if not failed:
        return
    line = failed_runs_line(failed, summary)
    if allowed:
        sys.stderr.write(f"{line}; allowed by allow_failed_runs\n")
        return
    sys.stderr.write(f"{line}\n")
    sys.exit(FAILED_RUNS_EXIT)
