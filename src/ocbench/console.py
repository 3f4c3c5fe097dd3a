"""What a workflow run prints: logging filters on Snakemake's log records (rules/console.smk adds them).

Snakemake marks each record with its event (``record.event``, a string enum of
``snakemake_interface_logger_plugins.common.LogEvent``: ``job_info``, ``progress``, …). A
record whose event is set to None is printed as its plain message, which is how these
filters replace a line. Nothing here imports Snakemake: the filters only read and set
record attributes, so they are tested on plain ``logging.LogRecord``s.
"""
from __future__ import annotations

import logging
import time
from typing import Callable


class DryRunListing(logging.Filter):
    """Lets through the first ``most`` jobs of a dry run (their messages, group headers and
    commands), then one line saying how to list them all. ``is_dry_run``: asked per record
    (the workflow knows whether it is a dry run only once it has parsed its arguments)."""

    def __init__(self, most: int, is_dry_run: Callable[[], bool]):
        super().__init__()
        self.most, self.listed, self.is_dry_run = most, 0, is_dry_run

    def filter(self, record: logging.LogRecord) -> bool:
        event = getattr(record, "event", None)
        # a group's header ("Group job splits ...") comes before its jobs, a command after its job
        if event not in ("job_info", "group_info", "shellcmd") or not self.is_dry_run():
            return True
        if event == "job_info":
            self.listed += 1
            if self.listed == self.most + 1:
                record.event, record.msg, record.args = None, (
                    f"... the dry run lists its first {self.most} jobs; the job stats count them all "
                    "(OCBENCH_LIST_JOBS=all lists every job)"), ()
                return True
        if event == "group_info":  # only where a job of the group can still be listed
            return self.listed < self.most
        return self.listed <= self.most


class JobDetails(logging.Filter):
    """Drops a job's message from its record, so that Snakemake lists the job in full."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "event", None) == "job_info":
            record.rule_msg = None
        return True


class ProgressWithTimeLeft(logging.Filter):
    """Adds the time left to Snakemake's progress line: ``12 of 40 steps (30%) done; about 6 min
    left at the pace so far``.

    The time left is the time since the first job started, per finished step, times the
    steps left (the pace so far, as a progress bar gives it). Steps are not alike (a
    split takes a second, a training job minutes), so the figure is rough early in a run
    that starts with its data jobs, and better once the training jobs dominate; no figure
    is given before a second step is done. A dry run starts no job and prints no progress.
    ``quietness``: Snakemake's mark for a progress line, kept on the rewritten record so
    that ``--quiet progress`` still hides it. ``clock``: seconds, monotonic (a test's own).
    """

    def __init__(self, quietness=None, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.quietness, self.clock, self.started = quietness, clock, None

    def filter(self, record: logging.LogRecord) -> bool:
        event = getattr(record, "event", None)
        if event == "job_info" and self.started is None:
            self.started = self.clock()
        elif event == "progress":
            done, total = record.done, record.total
            line = f"{done} of {total} steps ({percent(done, total)}) done"
            if self.started is not None and 2 <= done < total:
                left = (self.clock() - self.started) / done * (total - done)
                line += f"; {duration(left)} left at the pace so far"
            record.event, record.msg, record.args, record.quietness = None, line, (), self.quietness
        return True


def percent(done: int, total: int) -> str:
    """``done`` of ``total`` as a percentage, whole unless that would read 0 % or 100 % too early."""
    share = 100 * done / total if total else 100.0
    whole = f"{share:.0f}"
    if (whole == "0" and done) or (whole == "100" and done < total):
        return f"{share:.1f}%"
    return f"{whole}%"


def duration(seconds: float) -> str:
    """A time left as a person reads it: ``under a minute``, ``about 7 min``, ``about 2 h 05 min``."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60:02d} min"
