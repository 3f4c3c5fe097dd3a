# `make run` and `make test` each create the environment first when it is missing.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(abspath $(VENV))/bin
CORES ?= 2
SNAKEMAKE := PATH="$(BIN):$$PATH" $(BIN)/snakemake --cores $(CORES) --profile workflow/profiles/default

.PHONY: venv run report test bench dry-run-papers clean

$(VENV)/.installed: requirements.txt requirements/*.txt pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

venv: $(VENV)/.installed

# The embedded default: mnist5k (offline) and the small tabular sets, tables, figures, HTML report.
run: venv
	$(SNAKEMAKE)
	$(SNAKEMAKE) --report results/report.html

test: venv
	$(PY) -m pytest -q

bench: venv
	$(PY) benchmarks/speed.py --section all

# Offline dry runs of the paper presets: every job is listed, nothing is downloaded.
dry-run-papers: venv
	$(SNAKEMAKE) -n --quiet rules --configfile workflow/experiments/deep_svdd_icml2018.yaml
	$(SNAKEMAKE) -n --quiet rules --configfile workflow/experiments/deep_sad_iclr2020.yaml

clean:
	rm -rf results .snakemake
