# ocbench: a reproducible benchmark of deep one-class anomaly detection.
#
#   snakemake --cores 2                        the embedded default (config.yaml), offline
#   snakemake --cores 2 --configfile workflow/experiments/deep_svdd_icml2018.yaml
#   snakemake --report results/report.html     tables and figures as one HTML page
#
# The rules only wire `ocbench` commands to files; docs/architecture.md has the layout.
import os
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")

# The workflow's own library comes first, also when Snakemake runs from another environment.
sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from ocbench.config import load_and_validate  # noqa: E402

# Where envs/ocbench.post-deploy.sh installs ocbench from, for --software-deployment-method conda.
os.environ.update(OCBENCH_SOURCE=str(workflow.basedir))


# A config file given with --configfile replaces the embedded default rather than being
# merged into it: merged, the default's datasets would join every experiment.
if not workflow.overwrite_configfiles:

    configfile: Path(workflow.basedir) / "config.yaml"


# Schema (types, ranges, unknown keys, defaults) and registry checks, before any job.
load_and_validate(config)  # the schema ships with the package (workflow/schemas/ links to it)


report: "workflow/report/workflow.rst"


include: "rules/common.smk"
include: "rules/cluster.smk"
include: "rules/data.smk"
include: "rules/splits.smk"
include: "rules/batches.smk"
include: "rules/report.smk"


rule all:
    input:
        final_outputs(),
    default_target: True
