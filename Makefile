# geonb — two commands: `make lab` (set up, then JupyterLab on notebooks/) and `make test` (what CI runs).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.geonb-installed
DATA_STAMP := data/lakes/lakes-synthetic/catalog.geojson
KERNEL_STAMP := $(VENV)/.geonb-kernels
PORT ?= 8888

.PHONY: lab test lint pytest data kernels notebooks bench clean setup

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

data: $(DATA_STAMP)

$(DATA_STAMP): | $(STAMP)
	$(PY) -m geonb data generate

kernels: $(KERNEL_STAMP)

$(KERNEL_STAMP): | $(STAMP)
	$(PY) -m geonb kernels install
	@touch $@

lab: $(STAMP) $(DATA_STAMP) $(KERNEL_STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --port=$(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check geonb tests benchmarks notebooks

pytest: $(STAMP) $(DATA_STAMP) $(KERNEL_STAMP)
	GEONB_PROFILE=quick $(VENV)/bin/pytest

test: lint pytest

notebooks: $(STAMP) $(DATA_STAMP) $(KERNEL_STAMP)
	@mkdir -p build/notebooks
	for nb in notebooks/*.ipynb; do \
	  $(VENV)/bin/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=1800 \
	    --ExecutePreprocessor.kernel_name=geonb --output-dir build/notebooks "$$nb" || exit 1; \
	done

bench: $(STAMP) $(DATA_STAMP)
	@mkdir -p build/bench
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) "$$b" || exit 1; done

clean:
	rm -rf build .pytest_cache .ruff_cache .hypothesis
