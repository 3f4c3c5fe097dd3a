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
from ocbench.config import exit_on_config_error, load_and_validate, read_config_file  # noqa: E402
from ocbench.outcome import exit_on_failed_runs, exit_with_failed_jobs  # noqa: E402
from ocbench.plugins import environment_value  # noqa: E402

# Where envs/ocbench.post-deploy.sh installs ocbench from, for --software-deployment-method conda.
os.environ.update(OCBENCH_SOURCE=str(workflow.basedir))


DEFAULT_CONFIG = Path(workflow.basedir) / "config.yaml"
# The files the config came from: a config error is one line naming them and the key
# (exit_on_config_error), not Snakemake's traceback into this file. --config values too.
CONFIG_SOURCES = [*(workflow.overwrite_configfiles or [DEFAULT_CONFIG])] + (
    ["--config"] if workflow.config_settings.config else []
)


# A config file given with --configfile replaces the embedded default rather than being
# merged into it: merged, the default's datasets would join every experiment. (Snakemake
# reads a --configfile itself, before this file, and reports a YAML syntax error in it
# without a line: `ocbench check-config FILE` names the line.)
if not workflow.overwrite_configfiles:
    # A YAML syntax error in the default: its line and column (Snakemake's message has none).
    exit_on_config_error(CONFIG_SOURCES, read_config_file, DEFAULT_CONFIG)

    configfile: DEFAULT_CONFIG


# Schema (types, ranges, unknown keys, defaults) and registry checks, before any job.
# (The schema ships with the package; workflow/schemas/ links to it.)
exit_on_config_error(CONFIG_SOURCES, load_and_validate, config)
# The jobs import the config's plugins too: what they add is known to every ocbench command.
os.environ.update(OCBENCH_PLUGINS=environment_value(config["plugins"]))


report: "workflow/report/workflow.rst"


include: "rules/common.smk"
include: "rules/console.smk"
include: "rules/cluster.smk"
include: "rules/data.smk"
include: "rules/adversarial.smk"
include: "rules/splits.smk"
include: "rules/batches.smk"
include: "rules/report.smk"


rule all:
    input:
        final_outputs(),
    default_target: True


# The console ends with what went wrong: each failed job's own reason (from its log), or
# one line naming the failed runs, with a non-zero exit unless allow_failed_runs is set.
onerror:
    exit_with_failed_jobs(log)


onsuccess:
    exit_on_failed_runs(all_manifests(), f"{OUTDIR}/summary.md", config["allow_failed_runs"])
