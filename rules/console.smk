# A dry run lists every job it would run: a paper preset has ten thousand of them, and the
# listing megabytes. By default a dry run lists the first DRY_RUN_LISTED jobs and then
# only counts them (Snakemake's job stats, printed before and after the listing); the
# environment variable OCBENCH_LIST_JOBS asks for more: a number, or `all`
# (docs/architecture.md, "Console"). Real runs list every job they start.
# OCBENCH_JOB_DETAILS=1 lists each job with its input, output, log, wildcards and
# resources (Snakemake's own listing) instead of its one-line message.
import logging

DRY_RUN_LISTED = 30


class DryRunListing(logging.Filter):
    """Lets through the first `most` jobs of a dry run (their messages, group headers and
    commands), then one line saying how to list them all. Snakemake marks each record with
    its event (snakemake_interface_logger_plugins.common.LogEvent, a string enum)."""

    def __init__(self, most):
        super().__init__()
        self.most, self.listed = most, 0

    def filter(self, record):
        event = getattr(record, "event", None)
        # a group's header ("Group job splits ...") comes before its jobs, a command after its job
        if event not in ("job_info", "group_info", "shellcmd") or not workflow.dryrun:
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

    def filter(self, record):
        if getattr(record, "event", None) == "job_info":
            record.rule_msg = None
        return True


if os.environ.get("OCBENCH_JOB_DETAILS"):
    logging.getLogger("snakemake.logging").addFilter(JobDetails())
_listed = os.environ.get("OCBENCH_LIST_JOBS", str(DRY_RUN_LISTED))
if not (_listed == "all" or _listed.isdigit()):
    sys.exit(f"ocbench: error: OCBENCH_LIST_JOBS={_listed!r} is neither a number of jobs nor 'all'")
if _listed != "all":
    logging.getLogger("snakemake.logging").addFilter(DryRunListing(int(_listed)))
