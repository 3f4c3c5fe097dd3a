#!/usr/bin/env bash
# Runs once inside the new conda environment: install ocbench from the workflow's source
# tree (the Snakefile exports OCBENCH_SOURCE), without touching the pinned dependencies.
set -euo pipefail
pip install --quiet --no-deps --editable "${OCBENCH_SOURCE:?run through the ocbench Snakefile, which sets it}"
