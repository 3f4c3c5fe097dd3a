"""The console filters (ocbench.console) on plain log records: the progress line's time left worked by
hand, the dry-run listing's cut, and the full job listing."""
import logging

import pytest

from ocbench.console import DryRunListing, JobDetails, ProgressWithTimeLeft, duration, percent


def record(event: str, **fields) -> logging.LogRecord:
    rec = logging.LogRecord("snakemake.logging", logging.INFO, __file__, 1, "", (), None)
    rec.event = event
    rec.__dict__.update(fields)
    return rec


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_the_time_left_is_the_pace_so_far_times_the_steps_left():
    clock, marker = Clock(), object()
    progress = ProgressWithTimeLeft(quietness=marker, clock=clock)
    assert progress.filter(record("job_info"))  # the first job starts at 100 s
    clock.now = 130.0
    first = record("progress", done=1, total=10)
    progress.filter(first)
    assert first.msg == "1 of 10 steps (10%) done"  # one step says nothing of the pace yet
    clock.now = 340.0  # 240 s for 4 steps: 60 s a step, 6 steps left: 360 s
    later = record("progress", done=4, total=10)
    progress.filter(later)
    assert later.msg == "4 of 10 steps (40%) done; about 6 min left at the pace so far"
    assert later.event is None and later.quietness is marker  # printed as a line, still hidden by --quiet progress
    clock.now = 100.0 + 3 * 3600  # 10,800 s for 9 steps: 1,200 s for the last one
    nearly = record("progress", done=9, total=10)
    progress.filter(nearly)
    assert nearly.msg.endswith("; about 20 min left at the pace so far")
    done = record("progress", done=10, total=10)
    progress.filter(done)
    assert done.msg == "10 of 10 steps (100%) done"


def test_a_later_job_does_not_move_the_start():
    clock = Clock()
    progress = ProgressWithTimeLeft(clock=clock)
    progress.filter(record("job_info"))
    clock.now = 200.0
    progress.filter(record("job_info"))
    clock.now = 220.0  # 120 s for 2 steps, 2 left: 120 s
    rec = record("progress", done=2, total=4)
    progress.filter(rec)
    assert rec.msg.endswith("; about 2 min left at the pace so far")


@pytest.mark.parametrize("seconds, text", [(0, "under a minute"), (29, "under a minute"), (31, "about 1 min"),
                                           (59 * 60, "about 59 min"), (3600, "about 1 h 00 min"),
                                           (2 * 3600 + 5 * 60, "about 2 h 05 min")])
def test_durations(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize("done, total, text", [(1, 3, "33%"), (1, 1000, "0.1%"), (999, 1000, "99.9%"),
                                               (0, 10, "0%"), (10, 10, "100%")])
def test_percentages_never_read_done_too_early(done, total, text):
    assert percent(done, total) == text


def test_a_dry_run_lists_its_first_jobs_then_says_how_to_list_all():
    listing = DryRunListing(2, lambda: True)
    kept = [listing.filter(record("job_info")) for _ in range(4)]
    assert kept == [True, True, True, False]  # the third record becomes the line that says so
    cut = record("job_info")
    DryRunListing(0, lambda: True).filter(cut)
    assert cut.event is None and "OCBENCH_LIST_JOBS=all" in cut.msg
    real = DryRunListing(0, lambda: False)
    assert all(real.filter(record("job_info")) for _ in range(3))  # a real run lists every job


def test_job_details_drop_the_message():
    rec = record("job_info", rule_msg="split wine")
    JobDetails().filter(rec)
    assert rec.rule_msg is None
