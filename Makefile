# `make run` and `make test` each create the environment first when it is missing.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(abspath $(VENV))/bin
CORES ?= 2
SNAKEMAKE := PATH="$(BIN):$$PATH" $(BIN)/snakemake --cores $(CORES) --profile workflow/profiles/default

.PHONY: venv run report test bench bench-overhead bench-dag bench-stacked bench-stacked-gpu gpu-wheels gpu-data gpu-carry unlock dry-run-papers clean

# torch 2.14.1 on x86_64 is the CUDA build: the environment takes 6.0 GiB, and 6.1 GiB while
# pip installs it. Refuse at once, rather than fail halfway with "No space left on device".
VENV_GIB := 6.5

$(VENV)/.installed: requirements.txt requirements/*.txt pyproject.toml
	@free=$$(df -Pk . | awk 'NR == 2 { printf "%.1f", $$4 / 1048576 }'); \
	if awk -v free="$$free" -v need=$(VENV_GIB) 'BEGIN { exit !(free < need) }'; then \
	    echo "make venv: $$free GiB free on $$(df -P . | awk 'NR == 2 { print $$6 }');" \
	         "the environment needs $(VENV_GIB) GiB (torch's CUDA build and its libraries)" >&2; \
	    exit 1; \
	fi
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

venv: $(VENV)/.installed

# The embedded default: mnist5k (offline) and the small tabular sets, tables, figures, HTML report.
# A lock that a killed run left is removed first (never a live run's), so the same command
# resumes. Exit 3 is a finished workflow in which runs failed: its report is still written.
run: venv
	$(BIN)/ocbench unlock-stale
	$(SNAKEMAKE); status=$$?; \
	if [ $$status = 0 ] || [ $$status = 3 ]; then $(SNAKEMAKE) --report results/report.html || exit $$?; fi; \
	exit $$status

test: venv
	$(PY) -m pytest -q

bench: venv
	$(PY) benchmarks/speed.py --section all

# The embedded default from empty data/ and results/ (in a temporary folder; yours are left
# alone): wall time, CPU time of the whole process tree, and the share in fit + scoring.
bench-overhead: venv
	$(PY) benchmarks/overhead.py --cores $(CORES)

# What every Snakemake call costs: config parse, workflow parse, dry runs of the presets,
# a no-op rerun of a finished tiny run.
bench-dag: venv
	$(PY) benchmarks/dag.py

# K models trained as one stack against one alone, seconds per model and epoch, and the
# projected one-class Fashion-MNIST table: a small CPU version, and the GPU one.
bench-stacked: venv
	$(PY) benchmarks/stacked.py --device cpu --k 1,3 --n 1200 --epochs 2
bench-stacked-gpu: venv
	$(PY) benchmarks/stacked.py --device cuda --k 1,5,10,20

# What the GPU run (benchmarks/gpu/run.sh, docs/benchmarks.md) carries to a GPU machine
# without Snakemake or internet: the wheels it lacks, for CPython 3.12 on x86-64, in .whl/,
# and Fashion-MNIST (Debian's dataset-fashion-mnist) in datasets/fashion-mnist/; gpu-carry
# makes both and checks that they and the checkout stay under the 64 MiB that travel.
GPU_PLATFORMS := --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
	--platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
FASHION_MNIST ?= /usr/share/datasets/fashion-mnist
gpu-wheels:
	python3 -m pip download --quiet --no-deps --only-binary=:all: $(GPU_PLATFORMS) -d .whl -r benchmarks/gpu/wheels.txt
	python3 -m pip wheel --quiet --no-deps -w .whl -r benchmarks/gpu/wheels-build.txt
	@echo "$$(ls .whl/*.whl | wc -l) wheels in .whl/, $$(du -cb .whl/*.whl | tail -1 | cut -f1) bytes"
gpu-data:
	mkdir -p datasets/fashion-mnist
	cp $(FASHION_MNIST)/*-ubyte.gz datasets/fashion-mnist/
gpu-carry: gpu-wheels gpu-data
	@bytes=$$( (git ls-files -z --cached --others --exclude-standard; printf '%s\0' .whl/*.whl datasets/fashion-mnist/*) \
	    | du -cb --files0-from=- | tail -1 | cut -f1); \
	echo "checkout, .whl/ and datasets/: $$bytes bytes ($$((bytes / 1048576)) MiB of the 64 MiB that travel)"; \
	test $$bytes -le 67108864

# Snakemake's own unlock, which removes the lock whether or not a run holds it
# (`make run` removes a killed run's lock by itself: ocbench unlock-stale).
unlock: venv
	$(SNAKEMAKE) --unlock

# Offline dry runs of the paper presets: the job counts of each, nothing is downloaded.
# LIST_JOBS=all lists every job instead (megabytes for the Deep SAD preset; docs/architecture.md, "Console").
DRY_RUN = $(if $(LIST_JOBS),OCBENCH_LIST_JOBS=$(LIST_JOBS) $(SNAKEMAKE) -n,$(SNAKEMAKE) -n --quiet rules)
dry-run-papers: venv
	$(DRY_RUN) --configfile workflow/experiments/deep_svdd_icml2018.yaml
	$(DRY_RUN) --configfile workflow/experiments/deep_sad_iclr2020.yaml
	$(DRY_RUN) --configfile workflow/experiments/multiclass_ood.yaml
	$(DRY_RUN) --configfile workflow/experiments/multi_radius.yaml
	$(DRY_RUN) --configfile workflow/experiments/ocnn.yaml

clean:
	rm -rf results .snakemake
