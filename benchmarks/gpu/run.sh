#!/usr/bin/env bash
# The GPU run, one command: bash benchmarks/gpu/run.sh OUTDIR [--tiny] [--budget SECONDS] ...
#
# On a GPU machine that has torch but not Snakemake, the wheels of `make gpu-wheels`, carried
# in .whl/, are installed into /tmp/site ($OCBENCH_GPU_SITE) first (no index, no dependencies
# resolved: the list is complete). Then benchmarks/gpu/run.py runs the steps and leaves at most
# 8 files in OUTDIR (docs/benchmarks.md, "The GPU run"; `python3 benchmarks/gpu/run.py --help`).
# --tiny runs the same steps, tiny, on this machine's CPU and environment.
set -euo pipefail
if [ $# -lt 1 ]; then
    echo "usage: bash benchmarks/gpu/run.sh OUTDIR [--tiny] [--budget SECONDS] [--steps LIST]" >&2
    exit 2
fi
out=$(realpath -m "$1"); shift
cd "$(dirname "$0")/../.."

# The wheels only where Snakemake is missing: a machine that has it (this checkout's development
# environment, for --tiny) keeps its own packages.
if compgen -G ".whl/*.whl" > /dev/null && ! python3 -c "import snakemake" 2> /dev/null; then
    site=${OCBENCH_GPU_SITE:-/tmp/site}
    started=$SECONDS
    python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$site" .whl/*.whl
    echo "installed $(ls .whl/*.whl | wc -l) wheels into $site in $((SECONDS - started)) s"
    export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}" PATH="$site/bin:$PATH"
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
exec python3 benchmarks/gpu/run.py "$out" "$@"
