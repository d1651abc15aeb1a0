# geonb — two commands: `make lab` (set up, then JupyterLab on notebooks/) and `make test` (what CI runs).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.geonb-installed
DATA_STAMP := data/lakes/lakes-synthetic/catalog.geojson
KERNEL_STAMP := $(VENV)/.geonb-kernels
PORT ?= 8888
IP ?= 127.0.0.1
# pytest processes for `make test` (pytest-xdist): the notebooks run in one, the other tests share the rest
TEST_WORKERS ?= 2

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

# Into the environment (not the user's folder): two checkouts on one machine each run their own interpreter.
$(KERNEL_STAMP): Makefile | $(STAMP)
	$(PY) -m geonb kernels install --sys-prefix
	@touch $@

# As root (containers, cloud VMs) JupyterLab refuses to start without --allow-root: pass it, and say so.
# The token is made here so the URL can be printed plainly before the server's own log; a port in use is an
# error (no silent move to another port, which would make the printed URL wrong). LAB_ARGS adds options
# (the test passes --no-browser); LAB_TOKEN fixes the token.
lab: $(STAMP) $(DATA_STAMP) $(KERNEL_STAMP)
	@root_flag=""; \
	if [ "$$(id -u)" = 0 ]; then root_flag="--allow-root"; \
	  echo "geonb: running as root, so JupyterLab is started with --allow-root"; fi; \
	token="$${LAB_TOKEN:-$$($(PY) -c 'import secrets; print(secrets.token_hex(24))')}"; \
	echo "geonb: JupyterLab will be at  http://$(IP):$(PORT)/lab?token=$$token"; \
	echo "geonb: open that URL in a browser (Ctrl-C here stops the server)"; \
	exec $(VENV)/bin/jupyter lab --notebook-dir=notebooks --ip=$(IP) --port=$(PORT) \
	  --ServerApp.port_retries=0 --IdentityProvider.token="$$token" $$root_flag $(LAB_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check geonb tests benchmarks notebooks

pytest: $(STAMP) $(DATA_STAMP) $(KERNEL_STAMP)
	GEONB_PROFILE=quick $(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup

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
