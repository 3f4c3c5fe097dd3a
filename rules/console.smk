# A dry run lists every job it would run: a paper preset has ten thousand of them, and the
# listing megabytes. By default a dry run lists the first DRY_RUN_LISTED jobs and then
# only counts them (Snakemake's job stats, printed before and after the listing); the
# environment variable OCBENCH_LIST_JOBS asks for more: a number, or `all`
# (docs/architecture.md, "Console"). Real runs list every job they start.
# OCBENCH_JOB_DETAILS=1 lists each job with its input, output, log, wildcards and
# resources (Snakemake's own listing) instead of its one-line message.
# Snakemake's progress line gains the time left at the pace so far (ocbench.console).
import logging

from snakemake.settings.enums import Quietness

from ocbench.console import DryRunListing, JobDetails, ProgressWithTimeLeft

DRY_RUN_LISTED = 30

logging.getLogger("snakemake.logging").addFilter(ProgressWithTimeLeft(Quietness.PROGRESS))

if os.environ.get("OCBENCH_JOB_DETAILS"):
    logging.getLogger("snakemake.logging").addFilter(JobDetails())
_listed = os.environ.get("OCBENCH_LIST_JOBS", str(DRY_RUN_LISTED))
if not (_listed == "all" or _listed.isdigit()):
    sys.exit(f"ocbench: error: OCBENCH_LIST_JOBS={_listed!r} is neither a number of jobs nor 'all'")
if _listed != "all":
    logging.getLogger("snakemake.logging").addFilter(DryRunListing(int(_listed), lambda: workflow.dryrun))
